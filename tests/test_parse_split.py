"""Splitting files into reports: compilations by their table of contents, other files by title phrases."""
from __future__ import annotations

from indexer.config import ParseConfig
from indexer.parse import parse_text
from indexer.split import split_reports, toc_titles

CFG = ParseConfig(mask_map=(("D员", "党员"),))
BODY = "全年主动公开政府信息915条，其中统计数据发布126条，依申请公开12件，均按期办结。" * 6

COMPILATION = f"""
2023年工作总结汇编（3篇）

目录

2023年工作总结汇编（3篇）\t1
目录\t1
市统计局2023年政务公开工作总结\t3
县司法局2023年度政务公开工作总结\t5
镇2023年度政务公开工作总结\t8


市统计局2023年政务公开工作总结

一、工作开展情况
{BODY}

县司法局2023年度政务公开工作总##paidbegin##结
一、总体情况
{BODY}
二、存在问题
一是不够及时。

镇2023年度政务公开工作总结
2023年，XX镇切实加强政务公开工作。
{BODY}
【哒哒素材库】——每天更新材料1000多篇
##paidend##
"""


def test_toc_titles_skip_cover_and_toc_entries():
    titles, _ = toc_titles(COMPILATION.strip())
    assert titles == ["市统计局2023年政务公开工作总结", "县司法局2023年度政务公开工作总结", "镇2023年度政务公开工作总结"]


def test_compilation_is_split_into_its_reports_without_cover_or_toc():
    reports = parse_text(COMPILATION, "c.txt", CFG)
    assert [r.title for r in reports] == ["市统计局2023年政务公开工作总结", "县司法局2023年度政务公开工作总结", "镇2023年度政务公开工作总结"]
    assert reports[0].text.startswith("市统计局2023年政务公开工作总结\n一、工作开展情况")
    assert reports[1].text.startswith("县司法局2023年度政务公开工作总结\n")  # paywall marker gone, word whole
    assert all("目录" not in r.text and "汇编" not in r.text and "素材库" not in r.text for r in reports)
    assert reports[2].unit == "XX镇" and reports[2].level == "镇"
    assert [s.role for s in reports[1].sections] == ["做法与成效", "存在问题", "存在问题"]


def test_one_report_file_is_one_report():
    text = f"县住建局2023年度法治政府建设工作总结\n一、主要做法\n{BODY}\n二、存在的不足\n能力不足。\n"
    reports = parse_text(text, "b.txt", CFG)
    assert len(reports) == 1 and reports[0].title == "县住建局2023年度法治政府建设工作总结"


def test_file_without_title_uses_its_name():
    reports = parse_text(f"{BODY}\n一、主要做法\n{BODY}", "dir/无题报告.txt", CFG)
    assert len(reports) == 1 and reports[0].title == "无题报告"


def test_forced_title_gives_one_report():
    text = f"甲局2023年工作总结\n{BODY}\n乙局2023年工作总结\n{BODY}"
    reports = parse_text(text, "bench.jsonl", CFG, title="基准文档")
    assert len(reports) == 1 and reports[0].title == "基准文档" and reports[0].sections[0].start == 0


def test_two_titled_reports_in_one_plain_file():
    text = f"甲局2023年工作总结\n{BODY}\n乙局2023年工作总结\n{BODY}"
    assert [r.title for r in parse_text(text, "x.txt", CFG)] == ["甲局2023年工作总结", "乙局2023年工作总结"]


def test_markdown_page_title_chrome_dropped_and_last_title_kept():
    text = f"# 2023年度政务公开总结\n\n## 20\\_年度政务公开总结\n\n下面是整理的范文，欢迎参考。\n\n### >乡镇20\\_年度政务公开总结\n\n现将XX镇20\\_年工作总结如下：\n#### >一、工作推进落实情况\n{BODY}\n"
    (r,) = parse_text(text, "m.md", CFG)
    assert r.title == "乡镇20_年度政务公开总结" and r.year is None and r.unit == "XX镇"
    assert "欢迎参考" not in r.text and "\\_" not in r.text
    assert r.sections[-1].heading == "一、工作推进落实情况"


def test_title_split_over_two_lines_is_joined():
    (r,) = parse_text(f"XX市统计局\n2023年政务公开工作总结\n{BODY}", "t.txt", CFG)
    assert r.title == "XX市统计局2023年政务公开工作总结" and r.unit == "XX市统计局"


FLAT = (
    "1、 甲中心2023年度工作总结及2023年政务公开工作总结 (一)领导高度重视。" + BODY + "会议\n\n"
    "2、要求全县行动。 二、强化制度建立 (一)完善规章制度。" + BODY + "全年\n\n"
    "3、仍有不足。 2023年政务公开工作总结 2023年,全县政务公开工作的总体要求是:加强。 一、着力推动公开 " + BODY + "推\n\n"
    "4、进公开。 (一)推动决策公开。" + BODY + "\n"
)


def test_flattened_scrape_is_split_at_the_inline_title():
    reports = parse_text(FLAT, "s.txt", CFG)
    assert [r.title for r in reports] == ["甲中心2023年度工作总结", "2023年政务公开工作总结"]
    assert "会议要求全县行动" in reports[0].text and "推进公开。 (一)推动决策公开" in reports[1].text
    assert [s.heading for s in reports[0].sections] == ["(一)领导高度重视", "二、强化制度建立", "(一)完善规章制度"]
    assert [s.heading for s in reports[1].sections] == ["", "一、着力推动公开", "(一)推动决策公开"]


def test_split_reports_never_empty():
    assert len(split_reports("只有一行正文，没有标题。", False)) == 1


def test_text_that_is_only_noise_is_an_input_error():
    import pytest

    from indexer.errors import InputFileError

    for text in ("", "\n\n", "【哒哒素材库】——每天更新\n##paidend##\n返回 下载 相关 举报\n"):
        with pytest.raises(InputFileError, match="没有可用的报告正文"):
            parse_text(text, "n.txt", CFG)
