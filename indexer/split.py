"""Find where each report of a file starts: by the table of contents of a compilation, else by title lines."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .textmap import line_spans

_TOC_LINE = re.compile(r"^(\S.*?)(?:\t+\s*|\s*[.…·]{3,}\s*|\s{2,})(\d{1,4})$")
_TITLE = re.compile(r"[^\s，,。；;：:、！？!?（）()《》“”\"<>.．]{2,48}?(?:工作总结|总结|工作报告|报告|工作汇报)")
_TOC_SKIP = re.compile(r"^目\s*录$|汇编")
MIN_BODY = 200  # a "title" followed by less text than this is a page heading or a cover, not a report
MIN_TOC_LINES = 3


@dataclass(frozen=True)
class ReportSpan:
    """One report inside the cleaned file text: [start, end); its title line is [start, title_end)."""

    title: str
    start: int
    title_end: int
    end: int


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s)


def toc_titles(text: str) -> tuple[list[str], int]:
    """Titles listed in the first table of contents (lines ending in a tab and a page number), and where it ends."""
    lines = line_spans(text)
    run: list[tuple[str, int]] = []
    for start, end, end_nl in lines:
        m = _TOC_LINE.match(text[start:end])
        if m:
            run.append((m.group(1).strip(), end_nl))
            continue
        if len(run) >= MIN_TOC_LINES:
            break
        run = []
        if start > len(text) * 0.4:
            break
    if len(run) < MIN_TOC_LINES:
        return [], 0
    return [t for t, _ in run if not _TOC_SKIP.search(t)], run[-1][1]


def split_by_toc(text: str) -> list[ReportSpan]:
    """Reports of a compilation: each ToC title found again as a line after the ToC, in order."""
    titles, cursor = toc_titles(text)
    if not titles:
        return []
    lines = [ln for ln in line_spans(text) if ln[0] >= cursor]
    starts: list[tuple[str, int, int]] = []
    i = 0
    for title in titles:
        want = _norm(title)
        for j in range(i, len(lines)):
            s, e, _ = lines[j]
            if _norm(text[s:e]) == want:
                starts.append((title, s, e))
                i = j + 1
                break
    ends = [s for _, s, _ in starts[1:]] + [len(text)]
    return [ReportSpan(t, s, te, end) for (t, s, te), end in zip(starts, ends)]


def title_candidates(text: str, flat: bool) -> list[tuple[int, int]]:
    """Spans of title-like phrases: a whole line, or in flattened text a phrase between spaces."""
    out = []
    for start, end, _ in line_spans(text):
        if flat:
            for tok in re.finditer(r"\S+", text[start:end]):
                if _TITLE.fullmatch(tok.group()):
                    out.append((start + tok.start(), start + tok.end()))
        else:
            m = _TITLE.fullmatch(text, start, end)
            if m:
                out.append(m.span())
    return out


def _short_title(title: str, others: list[str]) -> str:
    """"A及B" names two reports when B is another title of the file: this one is A."""
    if "及" in title:
        head, _, tail = title.partition("及")
        if any(_norm(tail) == _norm(o) for o in others) and head:
            return head
    return title


def split_by_titles(text: str, flat: bool) -> list[ReportSpan]:
    """Reports of an ordinary file: title phrases followed by enough text; leading short ones are page chrome."""
    cands = title_candidates(text, flat)
    if not cands:
        return []
    body = [
        len(text[e : (cands[i + 1][0] if i + 1 < len(cands) else len(text))].strip()) for i, (_, e) in enumerate(cands)
    ]
    first = 0
    while first < len(cands) - 1 and body[first] < MIN_BODY:
        first += 1
    kept = [first] + [i for i in range(first + 1, len(cands)) if body[i] >= MIN_BODY]
    titles = [text[cands[i][0] : cands[i][1]] for i in kept]
    spans = []
    for n, i in enumerate(kept):
        s, e = cands[i]
        start = 0 if (n == 0 and first == 0) else s
        end = cands[kept[n + 1]][0] if n + 1 < len(kept) else len(text)
        title = _short_title(titles[n], titles[:n] + titles[n + 1 :])
        prefix = text[start:s].strip()
        if prefix and len(prefix) <= 20 and "\n" not in prefix and not re.search(r"[，。；：,;:]", prefix):
            title = prefix + title  # a title broken over two lines: unit name, then "2023年…总结"
        spans.append(ReportSpan(title, start, e, end))
    return spans


def split_reports(text: str, flat: bool) -> list[ReportSpan]:
    """All reports of one cleaned file; a file with no recognisable title is one report titled by its first line."""
    spans = split_by_toc(text) or split_by_titles(text, flat)
    if spans:
        return spans
    first = text.split("\n", 1)[0].strip()
    if first and len(first) <= 50 and not re.search(r"[。；;]", first):
        return [ReportSpan(first, 0, len(text.split("\n", 1)[0]), len(text))]
    return [ReportSpan("", 0, 0, len(text))]
