"""Noise rules: every removal keeps the source map exact and removes only the noise."""
from __future__ import annotations

import pytest

from indexer.noise import clean_text, is_noise_line, page_marker_spans
from indexer.textmap import drop_spans


def _mapped_ok(src: str, cleaned) -> bool:
    return len(cleaned.text) == len(cleaned.offsets) and all(src[o] == c for o, c in zip(cleaned.offsets, cleaned.text))


def test_drop_spans_keeps_offsets():
    text, offs = drop_spans("abcdef", list(range(6)), [(1, 3), (2, 4)])
    assert (text, offs) == ("aef", [0, 4, 5])


def test_paywall_marker_inside_word_removed_word_joined():
    src = "市粮食局2023年普法工作总##paidbegin##结\n正文。\n##paidend##\n"
    c = clean_text(src)
    assert c.text.rstrip("\n") == "市粮食局2023年普法工作总结\n正文。"
    assert _mapped_ok(src, c)


@pytest.mark.parametrize(
    "line",
    [
        "【哒哒素材库】——每天更新材料1000多篇内部高质量素材，有意加入请联系",
        "欢迎加入“哒哒素材库svip会员”，9000万字材料！添加客服：cwk",
        "【哒哒代笔】——原创高质量保障、高度保密，各类代笔（润笔）",
        "上传人:彩** 文档编号:85596554 上传时间:2023-04-12 格式:DOC 页数:14",
        "返回 下载 相关 举报",
        "第2页 / 共14页",
        "政府工作总结.doc_第1页",
        "政府工作总结.doc",
        "点击查看更多>>",
        "资源描述",
        "作者：小六 来源：网友投稿",
        "本文原地址：https://example.com/a.html",
        "ECMS帝国之家，为帝国cms加油！",
        "更多工作总结 请访问 https://example.com/",
        "工信部备案号:黑ICP备15003705号© 2020-2023",
        "本站为文档C TO C交易模式，本站只提供存储空间",
        "展开阅读全文",
        "当前位置:首页 > 教育专区",
    ],
)
def test_noise_lines(line):
    assert is_noise_line(line)


@pytest.mark.parametrize(
    "line",
    ["一、工作开展情况", "全年主动公开政府信息915条，其中统计数据发布126条。", "资金来源主要是财政拨款。", "2023年12月18日"],
)
def test_report_lines_are_not_noise(line):
    assert not is_noise_line(line)


def test_markdown_syntax_removed_and_headings_remembered():
    src = "# 标题页\n\n## 20\\_年度总结\n\n见[政策原文](https://a.cn/x)和<https://a.cn>。\n\n#### >(一)、组织有力\n>(二)严格考核\n"
    c = clean_text(src)
    assert c.text.rstrip("\n") == "标题页\n20_年度总结\n见政策原文和。\n(一)、组织有力\n(二)严格考核"
    assert _mapped_ok(src, c)
    heads = {c.text[i : c.text.index("\n", i) if "\n" in c.text[i:] else None] for i, o in enumerate(c.offsets) if o in c.md_starts}
    assert heads == {"标题页", "20_年度总结", "(一)、组织有力"}


def test_blank_lines_and_indentation_collapse():
    src = "标题\n\n\n　　第一段。  \n\t第二段。\n\n"
    c = clean_text(src)
    assert c.text.rstrip("\n") == "标题\n第一段。\n第二段。"
    assert _mapped_ok(src, c)


FLAT = (
    "文档标题.doc\n\n"
    "1、 某中心2023年度工作总结 (一)领导重视。召开会议,会议\n\n"
    "2、要求全县上下马上行动。 二、强化制度 (一)完善规\n\n"
    "3、章制度。今年以来,出台文件。\n\n"
    "4、、资金等需要公开的事项。\n\n"
    "展开阅读全文\n"
)


def test_page_markers_removed_and_lines_joined():
    c = clean_text(FLAT)
    assert c.flat
    assert c.text.rstrip("\n") == "某中心2023年度工作总结 (一)领导重视。召开会议,会议要求全县上下马上行动。 二、强化制度 (一)完善规章制度。今年以来,出台文件。、资金等需要公开的事项。"
    assert _mapped_ok(FLAT, c)


def test_only_sequential_markers_are_page_numbers():
    text = "1、甲，\n2、乙，\n3、丙，\n5、丁，\n"
    spans = page_marker_spans(text)
    joined, _ = drop_spans(text, list(range(len(text))), spans)
    assert joined == "甲，乙，丙，\n5、丁，\n"


def test_numbered_list_of_sentences_is_not_page_numbers():
    text = "标题\n1、部署拟发相关文件。市教体局拟发要点。\n2、牵头召开相关会议。\n3、联合开展宣传活动。\n"
    c = clean_text(text)
    assert not c.flat and c.text.rstrip("\n") == text.rstrip("\n")


def test_short_numbered_list_is_not_page_numbers():
    c = clean_text("标题\n1、提高质量。\n2、加强培训。\n")
    assert not c.flat and c.text.rstrip("\n") == "标题\n1、提高质量。\n2、加强培训。"
