"""Heading detection at every level, its false-positive guards, and section building."""
from __future__ import annotations

import pytest

from indexer.headings import build_sections, cn_number, find_headings


def _heads(text, **kw):
    return [(h.level, h.text) for h in find_headings(text, **kw)]


@pytest.mark.parametrize(
    "line,level,heading",
    [
        ("一、工作开展情况", 1, "一、工作开展情况"),
        ("第一部分 主要工作", 1, "第一部分 主要工作"),
        ("第一章　总体情况", 1, "第一章　总体情况"),
        ("（一）主动公开情况。全年公开915条。", 2, "（一）主动公开情况"),
        ("(一)、组织有力，精准落实", 2, "(一)、组织有力，精准落实"),
        ("(二）着力推进重点领域公开。正文", 2, "(二）着力推进重点领域公开"),
        ("1.细化公开内容。提高公开质量。", 3, "1.细化公开内容"),
        ("1、政务公开内容不全面。在公开政务信息时", 3, "1、政务公开内容不全面"),
        ("1．加强培训", 3, "1．加强培训"),
        ("（1）加强学习。", 4, "（1）加强学习"),
        ("一是加强组织领导，坚持统一部署。", 5, "一是加强组织领导"),
        ("一要加强制度化建设。严格审查", 5, "一要加强制度化建设"),
        ("（四）基层政务公开：", 2, "（四）基层政务公开"),
    ],
)
def test_each_heading_form(line, level, heading):
    assert _heads(line + "\n正文内容。") == [(level, heading)]


@pytest.mark.parametrize(
    "line",
    [
        "3.5万元用于设备采购。",
        "2023年1月，我局召开会议。",
        "1-12月主动公开信息19条。",
        "12月2日下午，召开全县会议。",
        "全年完成两项任务：一是加强领导；二是完善制度。",
        "按照《条例》（一）项规定公开。",
        "2019年6月，市政府办印发方案。",
        "一方面，政策解读形式单一。",
    ],
)
def test_not_headings(line):
    assert _heads(line) == []


def test_long_heading_phrase_is_cut_at_a_comma():
    line = "五、我街道持续完善政府信息公开保密审查机制并全面开展各类专项检查工作，按照相关保密要求对预公开信息进行审查。"
    (level, text), = _heads(line)
    assert level == 1 and text == "五、我街道持续完善政府信息公开保密审查机制并全面开展各类专项检查工作"


def test_numbering_must_continue_its_sequence():
    text = "一、甲项工作\n二、乙项工作\n七、这不是标题而是正文的一部分\n三、丙项工作\n"
    assert [t for _, t in _heads(text)] == ["一、甲项工作", "二、乙项工作", "三、丙项工作"]


def test_sublevel_numbering_restarts_under_new_parent():
    text = "一、甲项\n（一）子甲\n（二）子乙\n二、乙项\n（一）子丙\n"
    assert [t for _, t in _heads(text)] == ["一、甲项", "（一）子甲", "（二）子乙", "二、乙项", "（一）子丙"]


def test_next_step_paragraph_is_a_level5_heading():
    assert _heads("下一步，我局将继续加强培训。") == [(5, "下一步")]


def test_flat_text_inline_headings():
    text = "总结 (一)领导重视。开会8次。 二、强化制度建立,标准推动 (一)完善制度。今年以来。 1. 坚持标准性文件、规划方案同步公开。 2.根据要求开展解读。"
    assert _heads(text, flat=True, body_start=2) == [
        (2, "(一)领导重视"),
        (1, "二、强化制度建立,标准推动"),
        (2, "(一)完善制度"),
        (3, "1. 坚持标准性文件、规划方案同步公开"),
        (3, "2.根据要求开展解读"),
    ]


def test_flat_mode_off_ignores_inline_markers():
    assert _heads("总结 二、强化制度建立 (一)完善制度。", body_start=2) == []


def test_markdown_heading_without_number_is_level1():
    text = "概述\n正文。"
    assert _heads(text, md_lines=frozenset({0})) == [(1, "概述")]


def test_sections_paths_spans_and_preamble():
    text = "某局2023年工作总结\n前言一段。\n一、主要做法\n（一）强化领导\n内容甲。\n二、存在问题\n一是不够。\n三、下一步打算\n加强。"
    body = text.index("\n") + 1
    secs = build_sections(text, find_headings(text, body), body, 2023)
    assert [(s.heading_path, s.level, s.role) for s in secs] == [
        ((), 0, "其他"),
        (("一、主要做法",), 1, "做法与成效"),
        (("一、主要做法", "（一）强化领导"), 2, "做法与成效"),
        (("二、存在问题",), 1, "存在问题"),
        (("二、存在问题", "一是不够"), 5, "存在问题"),
        (("三、下一步打算",), 1, "下一步计划"),
    ]
    assert text[secs[0].start : secs[0].end] == "前言一段。"
    assert text[secs[2].start : secs[2].end] == "（一）强化领导\n内容甲。"
    assert all(text[s.start : s.start + len(s.heading)] == s.heading for s in secs)


@pytest.mark.parametrize("s,n", [("一", 1), ("九", 9), ("十", 10), ("十一", 11), ("十四", 14), ("二十", 20), ("二十三", 23)])
def test_cn_number(s, n):
    assert cn_number(s) == n


def test_heading_right_after_a_removed_page_number():
    text = "总结 正文会议。(一)推动决策公开。仔细贯彻。"
    at = text.index("(")
    assert _heads(text, flat=True, body_start=2, joins=frozenset({at})) == [(2, "(一)推动决策公开")]
    assert _heads(text, flat=True, body_start=2) == []
