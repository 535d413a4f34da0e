"""Detect headings at every level (一、 （一） 1. （1） 一是 第一部分 #) and cut a report into sections."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .models import Section
from .roles import assign_roles

_CN = "[一二三四五六七八九十]{1,3}"
_CN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", 1)}
# (level, pattern at the start of a line / of a flattened block); group 1 is the number
_PATTERNS = [
    (1, re.compile(rf"第({_CN})(?:部分|章)[、，,：:.．\s]*")),
    (1, re.compile(rf"({_CN})[、．](?![一二三四五六七八九十][、．])\s*")),
    (2, re.compile(rf"[（(]({_CN})[）)][、，,.．]?\s*")),
    (4, re.compile(r"[（(](\d{1,2})[）)][、，,.．]?\s*")),
    (3, re.compile(r"(\d{1,2})[.．、](?![\d.．、])\s*")),
]
_LEAD = re.compile(rf"({_CN})(?:是|要)(?=\S)")  # 一是…二是… paragraphs, level 5
_NEXT = re.compile(r"(?:下一步|下步)(?=[，,])")  # a paragraph opening "下一步，…" states plans
_STOPS = "。；;：:！？!?\n"
MAX_HEADING = 40


@dataclass(frozen=True)
class Heading:
    start: int
    end: int
    level: int
    number: int | None
    text: str


def cn_number(s: str) -> int:
    """一 → 1, 十 → 10, 十二 → 12, 二十三 → 23."""
    if "十" not in s:
        return _CN_DIGITS.get(s, 0)
    tens, _, ones = s.partition("十")
    return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)


def _number(s: str) -> int:
    return int(s) if s.isdigit() else cn_number(s)


def phrase_end(text: str, body: int, flat: bool, commas: bool) -> int:
    """End of a heading phrase: first stop punctuation (a space too in flattened text), cut if too long."""
    stops = _STOPS + ("，," if commas else "")
    i = body
    while i < len(text) and text[i] not in stops and not (flat and text[i].isspace()):
        i += 1
    if i - body > MAX_HEADING:
        cut = re.search(r"[，,、]", text[body + 4 : i])
        i = body + 4 + cut.start() if cut and cut.start() + 4 <= MAX_HEADING else body + MAX_HEADING
    return i


def _candidates(text: str, body_start: int, flat: bool, joins: frozenset[int]) -> list[tuple[int, bool]]:
    """Positions where a heading may start, and whether each opens a line; joins = where page numbers were cut out."""
    out = [(body_start, body_start == 0 or text[body_start - 1] == "\n")]
    for i in range(body_start, len(text) - 1):
        if text[i] == "\n" or (flat and (text[i].isspace() or i + 1 in joins)):
            out.append((i + 1, text[i] == "\n"))
    return out


def _match(text: str, pos: int, line_start: bool, flat: bool, md: bool) -> tuple[int, int | None, int] | None:
    """(level, number, end of marker) of a heading starting at pos, or None."""
    for level, rx in _PATTERNS:
        m = rx.match(text, pos)
        if m:
            return level, _number(m.group(1)), m.end()
    if line_start:
        m = _LEAD.match(text, pos)
        if m:
            return 5, cn_number(m.group(1)), pos
        if _NEXT.match(text, pos):
            return 5, None, pos
    if md:
        return 1, None, pos
    return None


def find_headings(
    text: str,
    body_start: int = 0,
    flat: bool = False,
    md_lines: frozenset[int] = frozenset(),
    joins: frozenset[int] = frozenset(),
) -> list[Heading]:
    """Headings of one report's text, in order; numbered ones must continue their level's sequence.

    flat: page-scraped text where headings sit inline after a space (or where a page number was cut out: joins);
    md_lines: starts of lines that were markdown headings.
    """
    found: list[Heading] = []
    last: dict[int, int] = {}
    for pos, line_start in _candidates(text, body_start, flat, joins):
        hit = _match(text, pos, line_start, flat, pos in md_lines)
        if not hit:
            continue
        level, num, body = hit
        end = phrase_end(text, body, flat, commas=level == 5)
        if len(text[body:end].strip()) < 2 or text[body:end][:1] in "，,、。；;：:)）":
            continue
        if num is not None:
            prev = last.get(level)
            if prev is not None and num != 1 and not prev < num <= prev + 2:
                continue
            last[level] = num
        for deeper in [lv for lv in last if lv > level]:
            del last[deeper]
        found.append(Heading(pos, end, level, num, text[pos:end].strip()))
    return found


def build_sections(text: str, headings: list[Heading], body_start: int, report_year: int | None) -> tuple[Section, ...]:
    """Sections: an optional preamble (level 0, role 其他) then one per heading up to the next heading."""
    sections: list[Section] = []
    first = headings[0].start if headings else len(text)
    if text[body_start:first].strip():
        s, e = trim_span(text, body_start, first)
        sections.append(Section("", (), 0, "其他", s, e))
    bounds = [h.start for h in headings[1:]] + [len(text)]
    has_body = [bool(text[h.end : b].strip(" \n。：:；;")) for h, b in zip(headings, bounds)]
    roles = assign_roles([(h.text, h.level) for h in headings], report_year, has_body)
    stack: list[Heading] = []
    for i, h in enumerate(headings):
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        nxt = headings[i + 1].start if i + 1 < len(headings) else len(text)
        s, e = trim_span(text, h.start, nxt)
        sections.append(Section(h.text, tuple(x.text for x in stack), h.level, roles[i], s, e))
    return tuple(sections)


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span so it neither starts nor ends with white space."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
