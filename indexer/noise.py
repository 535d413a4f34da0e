"""Remove noise from a decoded file: paywall markers, site chrome, adverts, markdown syntax, scraped page numbers."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .textmap import drop_spans, line_spans

WS = " \t\u3000\xa0\u200b\ufeff\r"

# Inline noise: only the marker goes, the word it interrupts stays whole ("工作总##paidbegin##结").
_PAYWALL = re.compile(r"##paid(?:begin|end)##")
_MD_ESCAPE = re.compile(r"\\(?=[_*\[\]()#>`\-.!{}+|~])")
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
_AUTOLINK = re.compile(r"<https?://[^>\s]*>")
_EMPHASIS = re.compile(r"\*\*|__(?=\S)")

_ADVERT = re.compile(r"素材库|代笔|欢迎加入.{0,30}会员|添加客服|有意加入|公众号[:：].{0,10}哒哒")
_CHROME = re.compile(
    r"^(?:上传人|文档编号|上传时间|资源描述|展开阅读全文|相关资源|相关搜索|相关推荐|当前位置|本站|作者[:：]|来源[:：]"
    r"|本文原地址|原文地址|点击查看更多|返回\s*下载|下载文档|阅读全文|上一篇|下一篇|分享到|收藏本文)"
    r"|ICP备|ECMS|第\s*\d+\s*页\s*/\s*共\s*\d+\s*页|_第\d+页$|\.(?:docx?|pdf|txt|wps)$|由会员分享|可在线阅读"
    r"|更多.{0,30}请访问|文章生成PDF|版权所有|©|^https?://\S+$"
)
_MD_HEADING = re.compile(r"#{1,6}[ \t]*(?:>[ \t]*)?")
_QUOTE = re.compile(r">[ \t]*")
_SENTENCE_END = set("。；;！!？?：:")
_PAGE_MARK = re.compile(r"(\d{1,4})、[ \t\u3000]*")


@dataclass(frozen=True)
class Cleaned:
    """The file's text with noise removed; md_starts holds source offsets of lines that were markdown headings."""

    text: str
    offsets: tuple[int, ...]
    md_starts: frozenset[int]
    flat: bool  # page-scraped text whose lines were joined after removing page numbers


def inline_noise_spans(text: str) -> list[tuple[int, int]]:
    """Spans of paywall markers, markdown escapes/links/emphasis; link text is kept."""
    spans = [m.span() for rx in (_PAYWALL, _MD_ESCAPE, _MD_IMAGE, _AUTOLINK, _EMPHASIS) for m in rx.finditer(text)]
    spans += [(i, i + 1) for i, c in enumerate(text) if c == "\r"]
    for m in _MD_LINK.finditer(text):
        spans += [(m.start(), m.start() + 1), (m.end(1), m.end())]
    return spans


def is_noise_line(line: str) -> bool:
    """True for a whole line of advertising or site chrome."""
    s = line.strip(WS)
    return bool(_ADVERT.search(s) or _CHROME.search(s))


def line_noise_spans(text: str) -> tuple[list[tuple[int, int]], list[int]]:
    """Spans to drop line by line (noise lines, blank lines, indentation, markdown prefixes) and md heading starts."""
    spans, md_starts = [], []
    for start, end, end_nl in line_spans(text):
        line = text[start:end]
        if not line.strip(WS) or is_noise_line(line):
            spans.append((start, end_nl))
            continue
        lead = len(line) - len(line.lstrip(WS))
        m = _MD_HEADING.match(line, lead) or _QUOTE.match(line, lead)
        if m:
            is_heading = m.re is _MD_HEADING
            lead = m.end()
            lead += len(line[lead:]) - len(line[lead:].lstrip(WS))
            if is_heading:
                md_starts.append(start + lead)
        trail = len(line) - len(line.rstrip(WS))
        spans += [(start, start + lead), (end - trail, end)]
    return spans, md_starts


def page_marker_spans(text: str, min_run: int = 3) -> list[tuple[int, int]]:
    """Spans of sequential page numbers `1、` `2、` … opening consecutive lines, plus the line breaks they interrupt.

    Only a run 1, 2, 3, … of at least min_run lines, most of them cutting a sentence, counts, so an ordinary
    `1、` list (items ending in 。) is left alone.
    """
    lines = line_spans(text)
    runs: list[list[tuple[int, int, int]]] = []  # each: (line index, marker start, marker end)
    run: list[tuple[int, int, int]] = []
    for i, (start, _, _) in enumerate(lines):
        m = _PAGE_MARK.match(text, start)
        if m and run and int(m.group(1)) == len(run) + 1 and run[-1][0] == i - 1:
            run.append((i, m.start(), m.end()))
            continue
        if len(run) >= min_run:
            runs.append(run)
        run = [(i, m.start(), m.end())] if m and m.group(1) == "1" else []
    if len(run) >= min_run:
        runs.append(run)
    spans = []
    for run in runs:
        # A page break cuts sentences: most pages end mid-sentence, whereas list items end with 。
        cut = sum(1 for i, _, _ in run[1:] if text[lines[i - 1][1] - 1 : lines[i - 1][1]] not in _SENTENCE_END)
        if cut * 2 < len(run) - 1:
            continue
        spans += [(s, e) for _, s, e in run]
        spans += [(lines[i - 1][1], lines[i][0]) for i, _, _ in run[1:]]  # join: the newline before each later page
    return spans


def clean_text(text: str) -> Cleaned:
    """Apply every noise rule; the result maps back to `text` through offsets."""
    offsets = list(range(len(text)))
    t, o = drop_spans(text, offsets, inline_noise_spans(text))
    spans, md_local = line_noise_spans(t)
    md_starts = frozenset(o[i] for i in md_local if i < len(o))
    t, o = drop_spans(t, o, spans)
    pages = page_marker_spans(t)
    if pages:
        t, o = drop_spans(t, o, pages)
    return Cleaned(t, tuple(o), md_starts, bool(pages))
