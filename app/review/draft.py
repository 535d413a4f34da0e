"""A draft cut into paragraphs with the indexer's own parse: title, headings, section roles and metadata."""
from __future__ import annotations

from dataclasses import dataclass

from indexer.errors import InputFileError

MAX_DRAFT_CHARS = 30000
MAX_PARAGRAPH_CHARS = 800  # longer lines are cut at sentence ends so each one is a searchable passage


@dataclass(frozen=True)
class Paragraph:
    """One line of the draft (or a piece of a very long one), with the section it sits in."""

    index: int
    text: str
    kind: str  # "title" | "heading" | "body"
    role: str
    heading_path: tuple[str, ...]
    start: int  # span in Draft.text
    end: int


@dataclass(frozen=True)
class Draft:
    """The parsed draft: clean text, metadata the indexer reads from its title, paragraphs."""

    title: str
    text: str
    unit: str
    level: str
    year: int | None
    topic: str
    roles: frozenset[str]  # roles of the draft's own headed sections
    paragraphs: tuple[Paragraph, ...]

    def meta(self) -> dict:
        return {"title": self.title, "unit": self.unit, "level": self.level, "year": self.year, "topic": self.topic}


def _pieces(text: str, start: int, limit: int = MAX_PARAGRAPH_CHARS) -> list[tuple[int, int]]:
    """Spans of a line cut after 。！？； so that no piece is much longer than limit (hard cuts where no sentence ends)."""
    out, a, cut = [], 0, -1
    for i, ch in enumerate(text):
        if ch in "。！？；":
            cut = i + 1
        if i + 1 - a >= limit and cut > a:
            out.append((start + a, start + cut))
            a = cut
        elif i + 1 - a >= 2 * limit:  # one endless sentence: cut it anyway, a search needs a bounded query
            out.append((start + a, start + i + 1))
            a = i + 1
    if a < len(text):
        out.append((start + a, start + len(text)))
    return out


def parse_draft(text: str, parse_cfg) -> Draft:
    """Draft text → Draft; raises InputFileError for empty, binary-looking or oversized text."""
    from indexer.parse import parse_text  # the report parser loads when a draft is reviewed, not to serve questions

    if not isinstance(text, str) or not text.strip():
        raise InputFileError("草稿内容为空，请粘贴或上传报告全文。")
    if len(text) > MAX_DRAFT_CHARS:
        raise InputFileError(f"草稿过长（{len(text)} 字，上限 {MAX_DRAFT_CHARS} 字），请分段审阅。")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reports = parse_text(text, "草稿", parse_cfg)
    if len(reports) != 1:  # a line that looks like another title: treat the whole draft as one report
        first = next((ln.strip() for ln in text.split("\n") if ln.strip()), "草稿")
        reports = parse_text(text, "草稿", parse_cfg, title=first[:60])
    rep = reports[0]
    body = rep.text
    title_end = body.find("\n") if body.startswith(rep.title) else 0
    title_end = len(body) if title_end < 0 else title_end
    sections = [s for s in rep.sections]
    paragraphs: list[Paragraph] = []
    pos = 0
    for line in body.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        stripped = line.strip()
        if not stripped:
            continue
        lead = len(line) - len(line.lstrip())
        start, end = start + lead, start + lead + len(stripped)
        sec = next((s for s in reversed(sections) if s.start <= start), None)
        if end <= title_end:
            kind = "title"
        elif (sec is not None and sec.heading and sec.start == start and len(sec.heading) >= len(stripped) - 1
              and not (stripped.endswith("。") and "，" in stripped)):  # a numbered sentence is body text
            kind = "heading"
        else:
            kind = "body"
        role = sec.role if sec is not None and kind != "title" else "其他"
        path = sec.heading_path if sec is not None and kind != "title" else ()
        for a, b in _pieces(stripped, start) if kind == "body" else [(start, end)]:
            paragraphs.append(Paragraph(len(paragraphs), body[a:b], kind, role, tuple(path), a, b))
    roles = frozenset(s.role for s in sections if s.heading)
    return Draft(rep.title, body, rep.unit, rep.level, rep.year, rep.topic, roles, tuple(paragraphs))
