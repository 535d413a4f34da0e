"""Chunk stage: one chunk per section where it fits, long sections split on sentence ends, tiny ones merged."""
from __future__ import annotations

from dataclasses import dataclass

from .config import ChunkConfig
from .headings import trim_span
from .models import Chunk, Report, Section

PATH_SEP = " › "
_SENTENCE_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "，", ""]


@dataclass(frozen=True)
class Span:
    """A run of report text that becomes one chunk, before it is dressed with metadata."""

    start: int
    end: int
    heading_path: tuple[str, ...]
    role: str


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    out = []
    for parts in zip(*paths):
        if all(p == parts[0] for p in parts):
            out.append(parts[0])
        else:
            break
    return tuple(out)


def _group_role(sections: list[Section]) -> str:
    weight: dict[str, int] = {}
    for s in sections:
        weight[s.role] = weight.get(s.role, 0) + (s.end - s.start)
    return max(weight, key=weight.get)


def merge_small(sections: list[Section], min_chars: int, max_chars: int) -> list[Span]:
    """Group consecutive sections under one top-level heading while the group is tiny.

    A heading with no body of its own ("二、工作开展情况" right before "（一）…") is tiny and so joins
    its first child, which keeps the parent heading in the chunk's text.
    """
    spans: list[Span] = []
    group: list[Section] = []

    def flush():
        if group:
            paths = [s.heading_path for s in group]
            path = paths[0] if len(group) == 1 else _common_prefix(paths) or paths[0][:1]
            spans.append(Span(group[0].start, group[-1].end, path, _group_role(group)))
            group.clear()

    for s in sections:
        if s.end <= s.start:
            continue
        if group:
            size = group[-1].end - group[0].start
            same_top = group[0].heading_path[:1] == s.heading_path[:1]
            same_role = group[-1].role == s.role or size < min_chars // 2
            if same_top and same_role and size < min_chars and s.end - group[0].start <= max_chars:
                group.append(s)
                continue
            flush()
        group.append(s)
    flush()
    return spans


def split_long(text: str, max_chars: int, overlap: int) -> list[tuple[int, int]]:
    """Split text on Chinese sentence ends into (start, end) pieces of at most ~max_chars with overlap."""
    if len(text) <= max_chars:
        return [(0, len(text))]
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=max_chars,
        chunk_overlap=overlap,
        separators=_SENTENCE_SEPARATORS,
        keep_separator="end",
        strip_whitespace=False,
    )
    pieces, cursor = [], 0
    for piece in splitter.split_text(text):
        if not piece.strip():
            continue
        # A piece starts at most `overlap` characters before the previous one ended (langchain's own rule);
        # searching from there keeps repeated sentences from matching an earlier copy.
        at = text.find(piece, max(0, cursor - overlap))
        if at < 0:
            raise AssertionError("splitter returned text that is not in its input")
        pieces.append((at, at + len(piece)))
        cursor = at + len(piece)
    return pieces


def chunk_report(report: Report, cfg: ChunkConfig, mask_map) -> list[Chunk]:
    """Turn one parsed report into its chunks (display text, searchable text with title path, spans)."""
    from .parse import searchable

    sections = list(report.sections) or [Section("", (), 0, "其他", 0, len(report.text))]
    chunks: list[Chunk] = []
    for span in merge_small(sections, cfg.min_chars, cfg.max_chars):
        body = report.text[span.start : span.end]
        for a, b in split_long(body, cfg.max_chars, cfg.overlap_chars):
            start, end = trim_span(report.text, span.start + a, span.start + b)
            if end <= start:
                continue
            text = report.text[start:end]
            label = PATH_SEP.join((report.title, *span.heading_path))
            char_start, char_end = report.source_span(start, end)
            chunks.append(
                Chunk(
                    chunk_id=f"{report.report_id}-{len(chunks):04d}",
                    report_id=report.report_id,
                    report_title=report.title,
                    heading_path=span.heading_path,
                    section_role=span.role,
                    text=text,
                    search_text=searchable(f"{label}\n{text}", mask_map),
                    start=start,
                    end=end,
                    char_start=char_start,
                    char_end=char_end,
                    source_file=report.source_file,
                    unit=report.unit,
                    level=report.level,
                    year=report.year,
                    topic=report.topic,
                )
            )
    return chunks


def chunk_reports(reports: list[Report], cfg: ChunkConfig, mask_map) -> list[Chunk]:
    return [c for r in reports for c in chunk_report(r, cfg, mask_map)]
