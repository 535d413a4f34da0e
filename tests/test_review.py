"""Draft review (app.review) on the tiny corpus and on the sample corpus with the fake embedder (BM25 review mode)."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from indexer.errors import InputFileError, QueryError

ROOT = Path(__file__).resolve().parent.parent
DRAFTS = ROOT / "eval/data/drafts"

DRAFT_NO_PROBLEMS = """县民政局2024年政务公开工作总结

一、工作开展情况
全年主动公开政府信息915条，其中统计数据发布126条。通过门户网站、政务新媒体等渠道及时发布统计信息。
全年召开专题会议9次，研究部署政务公开工作。
二、下一步工作计划
继续加强队伍建设，丰富政策解读形式。
"""


def open_searcher(cfg, emb):
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    build_index(cfg, embedder=emb)
    return Searcher.open(cfg, embedder=emb)


@pytest.fixture
def tiny(tiny_cfg, fake_embedder):
    return open_searcher(tiny_cfg, fake_embedder)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The shipped sample corpus indexed with the fake embedder: BM25 and every review check work on it unchanged."""
    from indexer.config import load_config, with_overrides
    from tests.fakes import FakeEmbedder

    root = tmp_path_factory.mktemp("review-sample")
    cfg = with_overrides(load_config(), index={"dir": str(root / "index")},
                         embedding={"model": "fake", "cache_dir": str(root / "cache")})
    return open_searcher(cfg, FakeEmbedder())


def review(searcher, text, mode="bm25"):
    from app.review import review_text

    return review_text(searcher, text, mode=mode)


# ---------- the draft ----------

def test_draft_paragraphs_get_kind_role_and_metadata(tiny_cfg):
    from app.review.draft import parse_draft
    from tests.conftest import REPORT_A

    d = parse_draft(REPORT_A.replace("2023", "2024"), tiny_cfg.parse)
    assert (d.unit, d.year, d.topic, d.level) == ("市统计局", 2024, "政务公开", "市")
    assert d.roles == {"做法与成效", "存在问题", "下一步计划"}
    kinds = {p.text: (p.kind, p.role) for p in d.paragraphs}
    assert kinds["市统计局2024年政务公开工作总结"][0] == "title"
    assert kinds["二、存在问题"] == ("heading", "存在问题")
    assert kinds["一是公开内容不够全面，部分栏目更新不及时；二是政策解读形式较为单一。"] == ("body", "存在问题")
    assert kinds["2.丰富解读形式，推动政策解读多样化。"][0] == "body"  # a numbered sentence, not a heading
    assert all(d.text[p.start:p.end] == p.text for p in d.paragraphs)


@pytest.mark.parametrize("text", ["", "   \n ", None])
def test_empty_draft_is_a_clear_error(tiny_cfg, text):
    from app.review.draft import parse_draft

    with pytest.raises(InputFileError, match="为空"):
        parse_draft(text, tiny_cfg.parse)


def test_huge_draft_is_refused_not_cut(tiny_cfg):
    from app.review.draft import MAX_DRAFT_CHARS, parse_draft

    with pytest.raises(InputFileError, match="过长"):
        parse_draft("测" * (MAX_DRAFT_CHARS + 1), tiny_cfg.parse)


def test_long_line_is_cut_at_sentence_ends(tiny_cfg):
    from app.review.draft import MAX_PARAGRAPH_CHARS, parse_draft

    line = "全年开展专项检查工作，共计检查企业多家。" * 100
    d = parse_draft("县应急局2024年安全生产工作总结\n" + line, tiny_cfg.parse)
    body = [p for p in d.paragraphs if p.kind == "body"]
    assert len(body) > 1 and "".join(p.text for p in body) == line
    assert all(p.text.endswith("。") and len(p.text) <= MAX_PARAGRAPH_CHARS + 30 for p in body)
    endless = "全年开展专项检查工作共计检查企业多家" * 300  # no sentence end at all
    d = parse_draft("县应急局2024年安全生产工作总结\n" + endless, tiny_cfg.parse)
    body = [p for p in d.paragraphs if p.kind == "body"]
    assert "".join(p.text for p in body) == endless and max(len(p.text) for p in body) <= 2 * MAX_PARAGRAPH_CHARS


def test_unknown_mode_is_an_error(tiny):
    with pytest.raises(QueryError, match="审阅模式"):
        review(tiny, DRAFT_NO_PROBLEMS, mode="fast")


# ---------- structure, copies, figures on the tiny corpus ----------

def test_missing_section_comes_with_peer_headings_and_passages(tiny):
    r = review(tiny, DRAFT_NO_PROBLEMS)
    sections = [m for m in r["missing"] if m["kind"] == "section"]
    assert [m["name"] for m in sections] == ["存在问题"]
    m = sections[0]
    assert m["peers_with"] == m["peers_total"] == 3 and "全部报告" in r["basis"]
    assert {"存在问题", "存在的不足"} <= set(m["headings"])
    assert len(m["examples"]) >= 2 and all(e["section_role"] == "存在问题" for e in m["examples"])
    assert len({e["report_id"] for e in m["examples"]}) == len(m["examples"])


def test_paragraph_copied_from_another_unit_names_its_source(tiny):
    r = review(tiny, DRAFT_NO_PROBLEMS)
    copied = [p for p in r["paragraphs"] if p["copied_from"]]
    assert len(copied) == 1 and copied[0]["text"].startswith("全年主动公开政府信息915条")
    c = copied[0]["copied_from"]
    assert c["kind"] == "copied" and c["unit"] == "市统计局" and c["overlap"] >= 0.9
    assert "915条" in c["source_text"] and c["shared"]
    assert r["summary"]["copied"] == 1 and not any(p["boilerplate"] for p in r["paragraphs"])


def test_same_units_earlier_text_is_a_repeat_not_a_copy(tiny):
    from tests.conftest import REPORT_A

    r = review(tiny, REPORT_A.replace("2023", "2024"))
    flagged = [p["copied_from"] for p in r["paragraphs"] if p["copied_from"]]
    assert flagged and all(c["kind"] == "same_unit" for c in flagged)
    assert r["summary"]["copied"] == 0 and r["summary"]["same_unit_repeats"] == len(flagged)


def test_figures_sit_beside_the_units_earlier_figure(tiny):
    text = ("市统计局2024年政务公开工作总结\n一、工作开展情况\n全年主动公开政府信息980条，"
            "全年召开专题会议9次。\n二、存在问题\n解读形式单一。\n")
    r = review(tiny, text)
    figs = {f["text"]: f for f in r["figures"]}
    assert set(figs) == {"980条", "9次"}  # the year 2024年 is not a figure
    e = figs["980条"]["earlier"]
    assert (e["year"], e["text"], e["change"]) == (2023, "915条", "+65，+7.1%")
    assert "915条" in e["context"]
    assert figs["9次"]["earlier"] is None  # no figure of that kind in the unit's 2023 report: nothing invented
    assert r["earlier_reports"][0]["year"] == 2023
    para = next(p for p in r["paragraphs"] if "980条" in p["text"])
    assert [r["figures"][i]["text"] for i in para["figures"]] == ["980条", "9次"]


def test_unit_without_earlier_report_gets_no_comparison(tiny):
    r = review(tiny, DRAFT_NO_PROBLEMS)
    assert r["earlier_reports"] == [] and all(f["earlier"] is None for f in r["figures"])


def test_matches_come_from_other_units_with_shared_spans(tiny):
    from tests.conftest import REPORT_A

    r = review(tiny, REPORT_A.replace("2023", "2024"), mode="hybrid")
    for p in r["paragraphs"]:
        for m in p["matches"]:
            assert m["unit"] != "市统计局"
            assert 0 <= m["similarity"] <= 1 and {"report_title", "year", "heading_path", "text"} <= set(m)
            assert all(m["text"][a:b] for a, b in m["shared"])
    assert any(p["matches"] for p in r["paragraphs"])


def test_boilerplate_shared_by_many_units_is_not_called_copying(tmp_path, fake_embedder):
    from indexer.config import load_config, with_overrides

    common = "坚持以人民为中心的发展思想，全面落实政府信息公开条例各项要求，持续推进决策执行管理服务结果公开，不断提升政务公开质量和实效。"
    corpus = tmp_path / "reports"
    corpus.mkdir()
    for i, unit in enumerate(["市林业局", "县水务局", "区商务局", "县文旅局"]):
        (corpus / f"{i}.txt").write_text(f"{unit}2023年政务公开工作总结\n一、工作情况\n{common}\n本单位全年发布信息{100 + i}条。\n"
                                         f"二、存在问题\n{unit}栏目更新不够及时。\n", encoding="utf-8")
    cfg = with_overrides(load_config(), corpus={"dir": str(corpus)}, index={"dir": str(tmp_path / "index")},
                         embedding={"model": "fake", "cache_dir": str(tmp_path / "cache")})
    s = open_searcher(cfg, fake_embedder)
    r = review(s, f"县民政局2024年政务公开工作总结\n一、工作情况\n{common}\n二、存在问题\n人员不足。\n")
    p = next(p for p in r["paragraphs"] if p["text"] == common)
    assert p["copied_from"] is None and p["boilerplate"]["units"] == 4
    assert r["summary"]["boilerplate"] == 1 and r["summary"]["copied"] == 0


# ---------- learned items ----------

def _peer(i, text, topic):
    from app.review.peers import PeerReport, terms_of

    return PeerReport(f"r{i}", f"t{i}", f"单位{i}", "市", 2023, topic, frozenset(), (), text, terms_of(text))


def test_items_are_wordings_most_peers_use_and_others_do_not():
    from app.review.peers import learn_items

    peers = [_peer(i, f"开通政务新媒体账号{i + 2}个，全年开展政策解读。加强组织领导。", "政务公开") for i in range(4)]
    peers += [_peer(9, "加强组织领导，完善制度。", "政务公开"), _peer(8, "政务新媒体发布信息。", "政务公开")]
    others = [_peer(20 + i, "加强组织领导，开展安全检查。", "安全生产") for i in range(4)]
    items = {i.term: i for i in learn_items(peers, others, "政务公开")}
    assert "政务新媒体" in items and items["政务新媒体"].share == pytest.approx(5 / 6, abs=1e-3)
    assert items["政务新媒体"].figure_share == pytest.approx(4 / 6, abs=1e-3)
    assert "组织领导" not in items  # as common in other topics: not an item of this one
    assert learn_items(peers[:4], others, "政务公开") == ()  # too few peers to learn from


# ---------- the four team drafts on the sample corpus ----------

def test_team_drafts_on_the_sample_corpus(sample):
    read = {n: (DRAFTS / f"{n}.txt").read_text(encoding="utf-8") for n in ("complete", "no_problems", "copied", "figures")}
    complete = review(sample, read["complete"])
    assert complete["summary"]["missing_sections"] == [] and complete["summary"]["copied"] == 0
    assert "同主题（政务公开）" in complete["basis"]

    no_problems = review(sample, read["no_problems"])
    assert no_problems["summary"]["missing_sections"] == ["存在问题"]

    copied = review(sample, read["copied"])
    src = [p["copied_from"] for p in copied["paragraphs"] if p["copied_from"]]
    assert len(src) == 1 and src[0]["unit"] == "市应急管理局" and src[0]["overlap"] > 0.9

    figures = review(sample, read["figures"])
    pairs = {f["text"]: f["earlier"]["text"] for f in figures["figures"] if f["earlier"]}
    assert pairs["640条"] == "597条" and pairs["168条"] == "153条" and pairs["85件"] == "77件"
    both = next(f for f in figures["figures"] if f["text"] == "15件")
    assert {both["earlier"]["text"]} | {o["text"] for o in both["earlier_others"]} == {"4件", "12件"}


# ---------- export, HTML, upload ----------

def test_docx_export_has_the_draft_comments_and_a_review_table(tiny):
    import docx

    r = review(tiny, DRAFT_NO_PROBLEMS)
    from app.review.export import review_docx

    doc = docx.Document(io.BytesIO(review_docx(r)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "全年召开专题会议9次，研究部署政务公开工作。" in text
    comments = [c.text for c in doc.comments]
    assert any("市统计局" in c and "重合" in c for c in comments)
    assert any("缺少章节“存在问题”" in c for c in comments)
    table = doc.tables[-1]
    assert table.rows[0].cells[1].text == "意见" and len(table.rows) > 2


def test_review_html_escapes_draft_text(tiny):
    from app.review.html import review_html

    r = review(tiny, "县测试局2024年工作总结\n一、工作情况\n<script>alert(1)</script>开展检查<img src=x onerror=alert(2)>27次。\n")
    html = review_html(r)
    assert "<script>alert" not in html and "<img src=x" not in html and "&lt;script&gt;" in html


def test_uploaded_drafts_are_read_by_the_indexer_reader(tmp_path):
    import docx

    from app.tabs.review import read_draft

    gbk = tmp_path / "草稿.txt"
    gbk.write_bytes(DRAFT_NO_PROBLEMS.encode("gb18030"))
    assert read_draft(str(gbk), 20).startswith("县民政局2024年")
    d = docx.Document()
    for line in DRAFT_NO_PROBLEMS.splitlines():
        d.add_paragraph(line)
    d.save(tmp_path / "草稿.docx")
    assert "全年召开专题会议9次" in read_draft(str(tmp_path / "草稿.docx"), 20)
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(InputFileError, match="草稿仅支持"):
        read_draft(str(tmp_path / "x.pdf"), 20)
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InputFileError):
        read_draft(str(tmp_path / "bin.txt"), 20)
