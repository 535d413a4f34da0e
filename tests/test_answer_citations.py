"""Citation checking: sentence splitting, wrong citations fixed, unsupported ones removed, invented numbers flagged."""
from __future__ import annotations

from app.citations import escape_markdown, highlight_spans, numbers, sentence_spans, split_answer, support, verify

P1 = "全年主动公开政府信息915条，其中统计数据发布126条。全年共受理政府信息公开申请12件，均在法定期限内办结。"
P2 = "一是公开内容不够全面，部分栏目更新不及时；二是政策解读形式较为单一。"
P3 = "街道共排查企业安全隐患217处，已整改210处，整改率96.8%。"


def test_split_answer_attaches_markers_before_and_after_punctuation():
    sents = split_answer("全年主动公开915条[1]。受理申请12件。[2]\n\n问题有二【1，3】；其二是形式单一。")
    assert [s.cites for s in sents] == [(1,), (2,), (1, 3), ()]
    assert sents[0].text == "全年主动公开915条。"
    assert sents[1].tail == "\n\n"


def test_numbers_normalise_units_and_skip_markers_and_enumerators():
    found = numbers("1.共计3.5万元，占97％，达1,200人[2]")
    assert [core for _, core in found] == ["3.5万", "97%", "1200"]
    assert found[0][0] == "3.5万元"


def test_correct_citation_is_kept_and_highlighted():
    v = verify("全年主动公开政府信息915条[1]。", [P1, P2])
    assert v.sentences[0].cites == (1,)
    assert v.flagged_numbers == ()
    (s, e), = v.highlights[1]
    assert P1[s:e].startswith("全年主动公开政府信息915条")
    assert "受理" not in P1[s:e]


def test_wrong_citation_is_moved_to_the_supporting_passage():
    v = verify("部分栏目更新不及时，政策解读形式较为单一[1]。", [P1, P2])
    assert v.sentences[0].cites == (2,)
    assert v.changes[0][0] == "fixed"
    assert 1 not in v.highlights and 2 in v.highlights


def test_unsupported_sentence_loses_its_citation():
    v = verify("该局还建成了全省领先的大数据智能分析平台[1]。", [P1, P2])
    assert v.sentences[0].cites == ()
    assert v.changes[0][0] == "removed"
    assert v.highlights == {}


def test_out_of_range_citation_is_dropped_or_replaced():
    v = verify("街道共排查企业安全隐患217处[7]。", [P1, P3])
    assert v.sentences[0].cites == (2,)


def test_fabricated_number_is_flagged_even_when_the_wording_matches():
    v = verify("全年主动公开政府信息951条[1]。", [P1])
    assert "951条" in v.flagged_numbers
    assert "915条" not in v.flagged_numbers


def test_number_from_an_uncited_passage_is_flagged():
    v = verify("整改率96.8%，公开915条[1]。", [P1, P3])
    assert "96.8%" in v.flagged_numbers or v.sentences[0].cites != (1,)


def test_uncited_sentence_gets_a_citation_only_when_support_is_strong():
    v = verify("整改率96.8%。这是我们的总体评价。", [P1, P3])
    assert v.sentences[0].cites == (2,)
    assert v.sentences[1].cites == ()
    assert v.changes[0][0] == "added"


def test_sentence_combining_two_passages_keeps_both_citations():
    v = verify("全年主动公开政府信息915条，街道共排查企业安全隐患217处[1][2]。", [P1, P3])
    assert v.sentences[0].cites == (1, 2)
    assert v.flagged_numbers == ()


def test_not_found_sentence_is_left_alone():
    v = verify("资料中未找到该局2024年的预算数据。", [P1])
    assert v.sentences[0].cites == () and v.flagged_numbers == ()


def test_context_counts_as_support_for_the_unit_name():
    v = verify("市统计局全年主动公开政府信息915条[1]。", [P1], ["市统计局2023年政务公开工作总结"])
    assert v.sentences[0].cites == (1,) and v.flagged_numbers == ()


def test_markdown_escapes_report_text_but_keeps_markers():
    v = verify("全年主动公开<script>政府信息</script>915条**其中**[1]。", [P1])
    md = v.markdown()
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "**" not in md
    assert md.endswith("[1]。")
    assert escape_markdown("## 标题 [链接](x)") == "\\#\\# 标题 \\[链接\\](x)"


def test_support_halves_when_the_number_differs():
    assert support("全年主动公开政府信息915条。", P1) > 0.9
    assert support("全年主动公开政府信息999条。", P1) < 0.6


def test_sentence_spans_and_highlights_skip_headings():
    text = "（一）主动公开情况\n全年主动公开政府信息915条。"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["（一）主动公开情况", "全年主动公开政府信息915条。"]
    spans = highlight_spans("主动公开情况：全年主动公开政府信息915条", text)
    assert [text[s:e] for s, e in spans] == ["全年主动公开政府信息915条。"]


def test_marker_never_lands_inside_a_quote():
    from app.citations import join_sentences, split_answer

    out = join_sentences(split_answer("开展“强D建办实事促发展”[1]。"))
    assert "”[1]。" in out and "[1]”" not in out
    assert join_sentences(split_answer("全年公开309条[2]。")) == "全年公开309条[2]。"
