"""Follow-up rewriting: a pronoun question borrows the unit of the previous question or answer."""
from __future__ import annotations

import pytest

from app.followup import find_entity, is_followup, rewrite_followup

H_STATS = [("市统计局全年主动公开了多少条政府信息？", "全年主动公开政府信息915条[1]。")]


@pytest.mark.parametrize("text, unit", [
    ("市统计局全年主动公开了多少条政府信息？", "市统计局"),
    ("请问县住建局办理了多少件案件", "县住建局"),
    ("XX街道排查了多少处隐患", "XX街道"),
    ("市人力资源和社会保障局2023年政务公开情况", "市人力资源和社会保障局"),
    ("县生态环境分局的问题", "县生态环境分局"),
    ("那存在哪些问题？", None),
    ("政务公开工作中存在的主要问题有哪些", None),
])
def test_find_entity(text, unit):
    assert find_entity(text) == unit


def test_known_units_win_over_the_pattern():
    assert find_entity("宜秀区教体局的做法", ["宜秀区教体局", "教体局"]) == "宜秀区教体局"


def test_pronoun_question_takes_the_unit_of_the_previous_question():
    assert rewrite_followup("那存在哪些问题？", H_STATS) == "市统计局存在哪些问题？"
    assert rewrite_followup("它下一步有什么计划", H_STATS) == "市统计局下一步有什么计划"


def test_question_with_its_own_unit_is_unchanged():
    q = "县住建局存在哪些问题？"
    assert not is_followup(q)
    assert rewrite_followup(q, H_STATS) == q


def test_long_question_without_pronoun_is_unchanged():
    q = "全市各单位在政务公开工作中普遍存在哪些共性问题？"
    assert rewrite_followup(q, H_STATS) == q


def test_no_history_means_no_rewrite():
    assert rewrite_followup("那存在哪些问题？", []) == "那存在哪些问题？"


def test_unit_from_previous_sources_when_the_question_names_none():
    sources = [{"unit": "县税务局", "report_title": "县税务局2023年政务公开工作总结"}]
    got = rewrite_followup("那存在哪些问题？", [("主动公开了多少条信息？", "共公开300条[1]。")], prev_sources=sources)
    assert got == "县税务局存在哪些问题？"


def test_unit_from_previous_answer_text():
    h = [("主动公开了多少条信息？", "县税务局全年主动公开信息300条[1]。")]
    assert rewrite_followup("这个单位存在哪些问题", h) == "县税务局存在哪些问题"


def test_latest_unit_in_history_is_used():
    h = H_STATS + [("县住建局办理了多少件行政处罚案件？", "43件[1]。")]
    assert rewrite_followup("那存在哪些问题？", h) == "县住建局存在哪些问题？"


def test_without_any_unit_the_previous_topic_is_carried():
    got = rewrite_followup("那存在哪些问题？", [("政务公开工作是怎么开展的？", "……")])
    assert got == "政务公开工作是怎么开展的，存在哪些问题？"


def test_same_question_about_another_unit():
    assert rewrite_followup("那县住建局呢？", H_STATS) == "县住建局全年主动公开了多少条政府信息？"
    assert rewrite_followup("县住建局怎么样", H_STATS) == "县住建局全年主动公开了多少条政府信息？"
    long_q = "县住建局全年办理了多少件行政处罚案件？"
    assert rewrite_followup(long_q, H_STATS) == long_q


def test_a_unit_named_by_its_short_form_is_a_new_unit_not_a_follow_up():
    known = ["县税务局", "市人力资源和社会保障局"]
    h = [("县税务局存在哪些问题？", "……[1]。")]
    assert find_entity("那人社局呢？", known) == "人社局"
    assert rewrite_followup("那人社局呢？", h, known) == "人社局存在哪些问题？"


def test_a_question_across_units_never_takes_the_previous_unit():
    h = [("市重点工程处有没有用卡通动漫解读政策？", "有。[1]")]
    assert rewrite_followup("哪些单位开展过在线访谈？", h) == "哪些单位开展过在线访谈？"  # short, but about every unit
    assert not is_followup("哪些单位开展过在线访谈？")
    h = [("市重点工程处有没有用卡通动漫解读政策？", "有。[1]")]
    assert rewrite_followup("那各单位呢？", h, ["市重点工程处"]) == "有没有用卡通动漫解读政策，各单位呢？"  # the topic only
