"""Frozen records passed between the stages: SourceDoc → Report/Section → Chunk → Hit."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

ROLES = ("做法与成效", "存在问题", "下一步计划", "其他")
LEVELS = ("市", "区", "县", "乡", "镇", "街道", "")
UNKNOWN_UNIT = "（未识别）"  # how a report without a recognised unit is named in stats and question sets


@dataclass(frozen=True)
class Section:
    """One heading and the text under it (up to the next heading), in the report's clean text."""

    heading: str  # the heading line itself, e.g. "二、存在问题"; "" for text before the first heading
    heading_path: tuple[str, ...]  # headings from the top level down to this one, without the report title
    level: int  # 0 = preamble, 1 = 一、/第一部分/#, 2 = （一）, 3 = 1. / 1、, 4 = （1）, 5 = 一是…
    role: str  # one of ROLES, from this heading or the nearest ancestor that has a role
    start: int  # span of the section body (heading included) in Report.text
    end: int


@dataclass(frozen=True)
class Report:
    """One report: its clean display text, where every character comes from in the source file."""

    report_id: str  # stable: hash of the normalised text
    title: str
    source_file: str  # path relative to the corpus directory
    text: str  # clean display text: noise removed, original characters (D员 kept)
    offsets: tuple[int, ...]  # offsets[i] = index in the decoded source file of text[i]
    sections: tuple[Section, ...]
    unit: str = ""  # issuing unit, e.g. 市统计局
    level: str = ""  # one of LEVELS
    year: int | None = None
    topic: str = "综合"
    content_hash: str = ""
    near_duplicates: tuple[str, ...] = ()  # report_ids of near-duplicates
    also_in: tuple[str, ...] = ()  # other source files holding the same report

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of self.text to the span of the source file it came from."""
        if end <= start:
            s = self.offsets[start] if start < len(self.offsets) else (self.offsets[-1] + 1 if self.offsets else 0)
            return s, s
        return self.offsets[start], self.offsets[end - 1] + 1


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a section or a part of one."""

    chunk_id: str
    report_id: str
    report_title: str
    heading_path: tuple[str, ...]
    section_role: str
    text: str  # display text of the passage (original characters)
    search_text: str  # masked characters mapped (D员 → 党员); what BM25 and the embedder see, with title path
    start: int  # span in Report.text
    end: int
    char_start: int  # span in the decoded source file
    char_end: int
    source_file: str
    unit: str = ""
    level: str = ""
    year: int | None = None
    topic: str = ""

    def to_json(self) -> dict:
        d = asdict(self)
        d["heading_path"] = list(self.heading_path)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Chunk":
        return cls(**{**d, "heading_path": tuple(d["heading_path"])})


@dataclass(frozen=True)
class Hit:
    """One search result."""

    rank: int
    score: float
    chunk: Chunk
    dense_score: float | None = None
    bm25_score: float | None = None

    def to_json(self) -> dict:
        c = self.chunk
        return {
            "rank": self.rank,
            "score": round(float(self.score), 6),
            "chunk_id": c.chunk_id,
            "report_id": c.report_id,
            "text": c.text,
            "report_title": c.report_title,
            "unit": c.unit,
            "level": c.level,
            "year": c.year,
            "topic": c.topic,
            "heading_path": list(c.heading_path),
            "section_role": c.section_role,
            "source_file": c.source_file,
            "char_start": c.char_start,
            "char_end": c.char_end,
            "start": c.start,
            "end": c.end,
            "dense_score": None if self.dense_score is None else round(float(self.dense_score), 6),
            "bm25_score": None if self.bm25_score is None else round(float(self.bm25_score), 6),
        }


@dataclass(frozen=True)
class Filters:
    """Search filters; an empty tuple means no constraint on that field."""

    unit: tuple[str, ...] = ()
    level: tuple[str, ...] = ()
    year: tuple[int, ...] = ()
    topic: tuple[str, ...] = ()
    section_role: tuple[str, ...] = ()
    report_id: tuple[str, ...] = ()

    def accepts(self, c: Chunk) -> bool:
        return (
            (not self.unit or c.unit in self.unit)
            and (not self.level or c.level in self.level)
            and (not self.year or c.year in self.year)
            and (not self.topic or c.topic in self.topic)
            and (not self.section_role or c.section_role in self.section_role)
            and (not self.report_id or c.report_id in self.report_id)
        )

    def is_empty(self) -> bool:
        return not any((self.unit, self.level, self.year, self.topic, self.section_role, self.report_id))
