"""Section roles from heading wording and report metadata from titles and opening text."""
from __future__ import annotations

import pytest

from indexer.metadata import extract_metadata, title_unit, title_year, topic_of, unit_level
from indexer.roles import assign_roles, heading_roles


@pytest.mark.parametrize(
    "heading,level,role",
    [
        ("二、存在问题", 1, "存在问题"),
        ("三、存在的不足", 1, "存在问题"),
        ("二、问题与短板", 1, "存在问题"),
        ("三、下一步工作计划", 1, "下一步计划"),
        ("三、下步打算", 1, "下一步计划"),
        ("六、下步工作谋划", 1, "下一步计划"),
        ("二、2024年工作计划", 1, "下一步计划"),
        ("三、2024年政务公开工作安排", 1, "下一步计划"),
        ("一、主要做法和成效", 1, "做法与成效"),
        ("一、2023年工作开展情况", 1, "做法与成效"),
        ("二、特色亮点", 1, "做法与成效"),
        ("2.改进措施", 3, "下一步计划"),
    ],
)
def test_heading_roles(heading, level, role):
    assert heading_roles(heading, level, 2023)[0] == role


@pytest.mark.parametrize(
    "heading,level",
    [
        ("（三）创新工作思路，做好审计整改“下半篇文章”", 2),
        ("(一)工作靠前谋划", 2),
        ("1、制定工作计划，常态化开展监测工作", 3),
        ("一是制定年度帮扶计划", 5),
        ("三是主动公开，做好问题整改", 5),
        ("二是积极解决村民实际困难", 5),
        ("（四）突出生态环境问题整改工作", 2),
    ],
)
def test_topic_headings_do_not_claim_problem_or_plan(heading, level):
    assert not set(heading_roles(heading, level, 2023)) & {"存在问题", "下一步计划"}


def test_children_inherit_unless_their_heading_says_otherwise():
    heads = [("一、工作开展情况", 1), ("（一）加强领导", 2), ("一是成立小组", 5), ("二、存在问题", 1), ("一是不够及时", 5),
             ("三、不断提高办学质量", 1)]
    assert assign_roles(heads, 2023) == ["做法与成效", "做法与成效", "做法与成效", "存在问题", "存在问题", "做法与成效"]


def test_combined_heading_without_text_takes_roles_from_children():
    heads = [("二、存在问题及下一步打算", 1), ("（一）存在问题", 2), ("一是不及时", 5), ("（二）下一步工作计划", 2), ("一是加强培训", 5)]
    roles = assign_roles(heads, 2023, has_body=[False, False, True, False, True])
    assert roles == ["存在问题", "存在问题", "存在问题", "下一步计划", "下一步计划"]


def test_combined_heading_with_text_keeps_first_role_and_unnamed_children_get_the_last():
    heads = [("三、存在问题及下一步工作", 1), ("一是加强学习培训", 5), ("二是加强宣传", 5)]
    assert assign_roles(heads, 2023, has_body=[True, True, True]) == ["存在问题", "下一步计划", "下一步计划"]


@pytest.mark.parametrize(
    "title,opening,unit,level",
    [
        ("市统计局2023年政务公开工作总结", "", "市统计局", "市"),
        ("县住建局2023年度法治政府建设工作总结", "", "县住建局", "县"),
        ("XX县XX镇2023年政务公开总结", "", "XX县XX镇", "镇"),
        ("区数据资源管理局2023年扶贫工作总结", "", "区数据资源管理局", "区"),
        ("市卫健委政务公开2023年工作总结", "", "市卫健委", "市"),
        ("2023年XX市特殊教育工作总结", "", "XX市", "市"),
        ("街道2023年度政务公开工作总结", "2023年，XX街道根据区委部署", "XX街道", "街道"),
        ("乡镇20_年度政务公开总结", "现将XX镇20_年政务公开工作总结如下", "XX镇", "镇"),
        ("乡2023年政务公开工作总结", "今年以来，我乡始终把政务公开当作大事", "乡", "乡"),
        ("政府政务服务中心2023年度工作总结", "2023年,县政府加强领导,全县政务公开", "政府政务服务中心", "县"),
        ("2023年重点工作总结", "全年完成任务", "", ""),
    ],
)
def test_unit_and_level(title, opening, unit, level):
    u = title_unit(title, opening)
    assert (u, unit_level(u, opening)) == (unit, level)


@pytest.mark.parametrize(
    "title,opening,year",
    [
        ("市统计局2023年政务公开工作总结", "", 2023),
        ("县司法局2023年度政务公开工作总结", "", 2023),
        ("乡镇20_年度政务公开总结", "2023年，对照文件", None),
        ("XX局政务公开工作总结", "2022年，我局认真贯彻", 2022),
        ("XX局工作总结", "我局认真贯彻", None),
    ],
)
def test_year(title, opening, year):
    assert title_year(title, opening) == year


@pytest.mark.parametrize(
    "title,unit,text,topic",
    [
        ("市统计局2023年政务公开工作总结", "市统计局", "", "政务公开"),
        ("市水利局2023年法治政府建设工作总结", "市水利局", "", "法治政府建设"),
        ("市粮食局2023年落实“谁执法谁普法”责任清单工作总结", "市粮食局", "", "普法"),
        ("市退役军人事务局2023年安全生产工作总结", "市退役军人事务局", "", "安全生产"),
        ("区数据局2023年扶贫工作总结", "区数据局", "", "帮扶"),
        ("2023年XX市特殊教育工作总结", "XX市", "", "教育"),
        ("市民宗局2023年工作总结", "市民宗局", "", "民族宗教"),
        ("某中心2023年度工作总结", "某中心", "政务公开" * 10 + "其他内容" * 20, "政务公开"),
        ("市审计局2023年工作总结", "市审计局", "审计项目" * 50 + "安全生产", "综合"),
    ],
)
def test_topic(title, unit, text, topic):
    assert topic_of(title, unit, text) == topic


def test_extract_metadata_bundle():
    meta = extract_metadata("县税务局2023年政务公开工作总结", "2023年，XX县税务局深入推进政务公开", "")
    assert meta == {"unit": "县税务局", "level": "县", "year": 2023, "topic": "政务公开"}
