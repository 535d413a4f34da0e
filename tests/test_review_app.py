"""The /review API through gradio_client and the 报告审阅 tab in headless Chromium, over the tiny corpus."""
from __future__ import annotations

import pytest

from tests.test_review import DRAFT_NO_PROBLEMS

gradio_client = pytest.importorskip("gradio_client")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from tests.app_server import served_app

    with served_app(tmp_path_factory.mktemp("review-app")) as (url, demo):
        yield url.rstrip("/"), demo


def test_review_endpoint_returns_the_issue_fields(app):
    client = gradio_client.Client(app[0], verbose=False)
    assert "/review" in client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    r = client.predict(DRAFT_NO_PROBLEMS, api_name="/review")
    body = [p for p in r["paragraphs"] if p["kind"] == "body"]
    assert body and all({"text", "role", "matches", "copied_from"} <= set(p) for p in body)
    assert any(p["copied_from"] and p["copied_from"]["report_title"].startswith("市统计局") for p in body)
    assert [m["name"] for m in r["missing"] if m["kind"] == "section"] == ["存在问题"]
    assert {f["text"] for f in r["figures"]} == {"915条", "126条", "9次"}
    m = next(m for p in body for m in p["matches"])
    assert {"report_title", "unit", "year", "heading_path", "text", "similarity"} <= set(m)


def test_review_endpoint_explains_bad_input(app):
    client = gradio_client.Client(app[0], verbose=False)
    with pytest.raises(Exception, match="为空"):
        client.predict("  ", api_name="/review")


@pytest.mark.browser
def test_review_tab_shows_the_review_and_offers_the_docx(app, tmp_path):
    from tests.browser import Browser, chromium_available

    if not chromium_available():
        pytest.skip("/usr/bin/chromium is not installed")
    with Browser(tmp_path / "profile", width=1440, height=900) as b:
        b.goto(app[0] + "/")
        b.click_text("button[role=tab]", "报告审阅")
        draft = tmp_path / "草稿.txt"
        draft.write_bytes(DRAFT_NO_PROBLEMS.encode("gb18030"))  # an upload in GBK is decoded by the indexer's reader
        b.upload("#review-file input[type=file]", draft)
        b.wait_for("document.querySelector('#review-input textarea').value.startsWith('县民政局2024年')",
                   what="uploaded draft in the text box")
        b.click("#review-go")
        b.wait_for("document.querySelector('#review-out .rv-card')", what="review shown")
        out = b.js("document.querySelector('#review-out').innerText")
        assert "缺少章节：存在问题" in out and "与其他单位报告《市统计局2023年政务公开工作总结》重合" in out
        b.wait_for("document.querySelector('#review-docx a')", what="docx offered")
        assert ".docx" in b.js("document.querySelector('#review-docx').innerText")
