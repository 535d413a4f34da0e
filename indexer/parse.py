"""Parse stage entry points: file → decoded text → clean reports with sections, metadata and a source map."""
from __future__ import annotations

import sys
from pathlib import Path

from .dedupe import dedupe, text_hash
from .errors import InputFileError
from .headings import build_sections, find_headings
from .metadata import extract_metadata
from .models import Report
from .noise import Cleaned, clean_text
from .readfile import read_source
from .searchtext import searchable
from .split import ReportSpan, split_reports

MIN_HANZI = 10  # fewer Chinese characters than a report's title: not a report

__all__ = ["read_source", "parse_text", "parse_file", "searchable", "dedupe"]


def _report(cleaned: Cleaned, span: ReportSpan, source_file: str, parse_cfg, title: str) -> Report | None:
    start, end = span.start, span.end
    while start < end and cleaned.text[start].isspace():
        start += 1
    while end > start and cleaned.text[end - 1].isspace():
        end -= 1
    text, offsets = cleaned.text[start:end], cleaned.offsets[start:end]
    if not text.strip():
        return None
    body_start = min(max(span.title_end - start, 0), len(text))  # a title-only span ends inside trimmed space
    md_lines = frozenset(i for i, o in enumerate(offsets) if o in cleaned.md_starts and (i == 0 or text[i - 1] == "\n"))
    search = searchable(text, getattr(parse_cfg, "mask_map", ()))
    joins = frozenset(i for i in range(1, len(offsets)) if cleaned.flat and offsets[i] - offsets[i - 1] > 1)
    headings = find_headings(text, body_start, cleaned.flat, md_lines, joins)
    opening_end = min(headings[0].start if headings else len(text), body_start + 500)
    if not text[body_start:opening_end].strip():  # no preamble: the first section's text introduces the report
        opening_end = min(len(text), body_start + 300)
    meta = extract_metadata(title, text[body_start:opening_end], search)
    digest = text_hash(text)
    return Report(
        report_id=digest[:12],
        title=title,
        source_file=source_file,
        text=text,
        offsets=tuple(offsets),
        sections=build_sections(text, headings, body_start, meta["year"]),
        content_hash=digest,
        **meta,
    )


def parse_text(text: str, source_file: str, parse_cfg, title: str | None = None) -> list[Report]:
    """One decoded file → its reports (a compilation gives several); title= forces one report with that title."""
    cleaned = clean_text(text)
    if title is not None:
        spans = [ReportSpan(title, 0, 0, len(cleaned.text))]
    else:
        spans = split_reports(cleaned.text, cleaned.flat)
    stem = Path(source_file).stem
    reports = [r for sp in spans if (r := _report(cleaned, sp, source_file, parse_cfg, sp.title or stem))]
    if not reports:
        raise InputFileError(f"{source_file} 去除网页杂讯后没有可用的报告正文")
    return reports


def parse_file(path, corpus_root, cfg) -> list[Report]:
    """read_source + parse_text; source_file is the path relative to corpus_root (or the file name)."""
    path = Path(path)
    try:
        rel = path.resolve().relative_to(Path(corpus_root).resolve()).as_posix()
    except ValueError:
        rel = path.name
    text = read_source(path, int(cfg.corpus.max_file_mb * 1024 * 1024))
    hanzi = sum(1 for c in text if "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf")
    if hanzi < MIN_HANZI:  # random bytes that decode as ASCII/Latin noise were indexed as tiny "reports"
        raise InputFileError(f"{rel} 只有 {hanzi} 个汉字，不像一篇中文报告（乱码或非文本内容？），未收录")
    return parse_text(text, rel, cfg.parse)


def describe(reports: list[Report], width: int = 60) -> str:
    """Readable outline of parsed reports: metadata, then the heading tree with roles."""
    out = []
    for n, r in enumerate(reports, 1):
        out.append(f"[{n}] {r.title}")
        out.append(f"    id={r.report_id} 单位={r.unit or '-'} 级别={r.level or '-'} 年份={r.year} 主题={r.topic} "
                   f"字数={len(r.text)} 源={r.source_file}:{r.offsets[0]}-{r.offsets[-1] + 1}")
        for s in r.sections:
            head = s.heading or "（前言）"
            head = head if len(head) <= width else head[:width] + "…"
            out.append(f"    {'  ' * max(s.level - 1, 0)}{'L%d' % s.level} [{s.role}] {head} ({s.end - s.start}字)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """python -m indexer.parse FILE…: print each file's reports, metadata and heading tree."""
    from .config import load_config
    from .errors import AssistantError

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("用法: python -m indexer.parse 文件 [文件…]", file=sys.stderr)
        return 2
    try:
        cfg = load_config()
    except AssistantError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 1
    status = 0
    for arg in args:
        p = Path(arg)
        try:
            reports = parse_file(p, p.parent, cfg)
        except AssistantError as exc:
            print(f"错误: {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"== {p.name}: {len(reports)} 篇报告")
        print(describe(reports))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
