"""The served app over the real index: /ask, /similar, /report through gradio_client, concurrency, escaping, login."""
from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

gradio_client = pytest.importorskip("gradio_client")

from app.render import similar_panel  # noqa: E402
from app.tabs.sources import render_report  # noqa: E402
from tests.app_server import served_app  # noqa: E402

QUESTIONS = [  # (question, figure the answer and its cited passage must contain)
    ("市统计局2023年全年主动公开政府信息多少条？", "915"),
    ("县住建局全年办理行政处罚案件多少件？", "43"),
    ("XX街道共排查企业安全隐患多少处？", "217"),
]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with served_app(tmp_path_factory.mktemp("app")) as (url, demo):
        yield url, demo


@pytest.fixture(scope="module")
def client(app_url):
    return gradio_client.Client(app_url[0], verbose=False)


def cited_passages(markdown: str, sources: list[dict]) -> list[str]:
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", markdown)}
    return [s["text"] for s in sources if s["n"] in numbers]


def check_answer(markdown: str, sources: list[dict], figure: str) -> None:
    assert figure in markdown, markdown
    assert any(figure in t for t in cited_passages(markdown, sources)), (markdown, sources)


def test_endpoints_are_named(client):
    names = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert {"/ask", "/similar", "/report"} <= names


@pytest.mark.parametrize("question,figure", QUESTIONS)
def test_ask_answers_with_the_figure_and_a_citation_holding_it(client, question, figure):
    markdown, sources = client.predict(question, api_name="/ask")
    check_answer(markdown, sources, figure)
    s = sources[0]
    assert {"chunk_id", "report_id", "report_title", "heading_path", "section_role", "text", "n", "highlights"} <= set(s)


def test_ask_filters_restrict_sources(client, app_url):
    svc = app_url[1].service
    unit = next(r["unit"] for r in svc.searcher.reports() if "住建" in r["title"])
    markdown, sources = client.predict("全年主动公开政府信息多少条？", {"unit": [unit]}, api_name="/ask")
    assert sources and all(s["unit"] == unit for s in sources)
    assert "915" not in markdown


@pytest.mark.parametrize("question,message", [("", "请输入"), ("   ", "请输入"), ("问" * 501, "过长")])
def test_ask_bad_question_gets_a_clear_message(client, question, message):
    with pytest.raises(Exception, match=message):  # an error is an error to an API client, as on /similar
        client.predict(question, api_name="/ask")


def test_ask_unknown_filter_is_explained(client):
    with pytest.raises(Exception, match="未知的筛选项"):
        client.predict("主动公开多少条？", {"colour": "red"}, api_name="/ask")


def test_similar_finds_the_source_of_reworded_sentences(client):
    text = "今年我们主动公开了政府信息共915条，其中统计数据126条。执法人员的专业能力仍然有待提升！"
    result = client.predict(text, api_name="/similar")
    assert [r["sentence"][:4] for r in result] == ["今年我们", "执法人员"]
    top_a, top_b = result[0]["matches"][0], result[1]["matches"][0]
    assert "统计局" in top_a["report_title"] and "915" in top_a["text"]
    assert "住建局" in top_b["report_title"] and "执法人员专业能力有待提升" in top_b["text"]
    shared = "".join(top_b["text"][s:e] for s, e in top_b["shared"])
    assert "专业能力" in shared and top_b["shared_ratio"] > 0.5


def test_similar_filters_by_section_role(client):
    result = client.predict("公开内容不够全面，栏目更新不及时。", {"section_role": ["下一步计划"]}, api_name="/similar")
    assert result[0]["matches"] and all(m["section_role"] == "下一步计划" for m in result[0]["matches"])


def test_similar_empty_text_is_an_error(client):
    with pytest.raises(Exception, match="请粘贴"):
        client.predict("  ", api_name="/similar")


def test_report_returns_title_tree_and_text(client, app_url):
    rid = next(r["report_id"] for r in app_url[1].service.searcher.reports() if "统计局" in r["title"])
    title, tree, text = client.predict(rid, api_name="/report")
    assert "统计局" in title and "915" in text
    headings = [s["heading"] for s in tree]
    assert "二、存在问题" in headings and all(text[s["start"]:s["end"]].startswith(s["heading"]) for s in tree)
    with pytest.raises(Exception, match="未找到报告"):
        client.predict("no-such-report", api_name="/report")


def test_report_with_script_is_escaped_everywhere(client, app_url):
    svc = app_url[1].service
    rid = next(r["report_id"] for r in svc.searcher.reports() if "测试局" in r["title"])
    title, tree, text = client.predict(rid, api_name="/report")
    assert "<script>" in text  # the API returns data; every HTML view escapes it
    chunk = next(c for c in svc.searcher.report(rid)["chunks"] if "script" in text[c["start"]:c["end"]])
    _, tree_html, body = render_report(svc, rid, chunk["chunk_id"])
    assert "<script" not in body and "<img" not in body and "&lt;script&gt;" in body and 'id="passage-target"' in body
    html = similar_panel(client.predict("全年开展专项检查27次。", api_name="/similar"))
    assert "测试局" in html and "<script" not in html and "<img" not in html
    markdown, sources = client.predict("测试局全年开展专项检查多少次？", api_name="/ask")
    assert "<script>" not in markdown and "27" in markdown


def test_twenty_concurrent_asks_all_answer_correctly(client):
    jobs = [QUESTIONS[i % len(QUESTIONS)] for i in range(20)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(client.predict, q, api_name="/ask") for q, _ in jobs]
        results = [f.result(timeout=120) for f in futures]
    elapsed = time.perf_counter() - t0
    for (q, figure), (markdown, sources) in zip(jobs, results):
        check_answer(markdown, sources, figure)
    print(f"20 concurrent /ask: {elapsed:.2f}s")


def test_login_required_when_users_are_set(tmp_path):
    with served_app(tmp_path, auth=[("reviewer", "s3cret")]) as (url, _):
        with pytest.raises(Exception):
            gradio_client.Client(url, verbose=False)
        c = gradio_client.Client(url, auth=("reviewer", "s3cret"), verbose=False)
        markdown, sources = c.predict(*QUESTIONS[0][:1], api_name="/ask")
        check_answer(markdown, sources, QUESTIONS[0][1])
