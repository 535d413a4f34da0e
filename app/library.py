"""The knowledge base as files: what each file gave the index, and adding, deleting or re-indexing one file."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import InputFileError


@dataclass(frozen=True)
class FileRow:
    """One corpus file: its reports (title, unit, year), why it was skipped, which reports it shares with others."""

    name: str
    reports: tuple[tuple[str, str, int | None], ...]  # (title, unit or "", year or None)
    skipped: str = ""
    duplicates: tuple[str, ...] = ()  # other files holding the same or a near-identical report

    @property
    def missing(self) -> int:
        """Reports whose unit or year was not recognised (filters and answers cannot name them)."""
        return sum(1 for _, unit, year in self.reports if not unit or not year)


def corpus_root(svc) -> Path:
    return Path(svc.corpus_dir) if svc.corpus_dir else svc.cfg.path(svc.cfg.corpus.dir)


def file_rows(searcher) -> list[FileRow]:
    """Every file the index knows (indexed or skipped), from its manifest and reports; sorted by name."""
    reports = searcher.reports()
    by_id = {r["report_id"]: r for r in reports}
    per_file: dict[str, list[dict]] = {}
    for r in reports:
        per_file.setdefault(r.get("source_file") or "", []).append(r)
    skipped = {str(f): str(why) for f, why in searcher.stats().get("skipped", [])}
    names = set(searcher.manifest.get("files", {})) | set(per_file) | set(skipped)
    rows = []
    for name in sorted(n for n in names if n):
        mine = per_file.get(name, [])
        dups = set()
        for r in mine:
            dups |= {str(f) for f in r.get("also_in") or []}
            dups |= {by_id[x].get("source_file", "") for x in r.get("near_duplicates") or [] if x in by_id}
        rows.append(FileRow(name, tuple((r["title"], r.get("unit") or "", r.get("year")) for r in mine),
                            skipped.get(name, ""), tuple(sorted(d for d in dups if d and d != name))))
    return rows


def _file_in_corpus(svc, name: str) -> Path:
    """The corpus file `name` as listed by file_rows; anything else (other paths, ..) is refused."""
    root = corpus_root(svc).resolve()
    if name not in {row.name for row in file_rows(svc.searcher)}:
        raise InputFileError(f"知识库中没有文件：{name}")
    path = (root / name).resolve()
    if root not in path.parents or not path.is_file():
        raise InputFileError(f"知识库中没有文件：{name}")
    return path


def _rebuild(svc, progress=None):
    from indexer.pipeline import build_index

    summary = build_index(svc.cfg, corpus_root(svc), svc.index_dir, svc.embedder, progress=progress)
    svc.reopen()
    return summary


def delete_file(svc, name: str, progress=None):
    """Remove one file from the corpus and the index (other files' vectors are reused, nothing re-embedded)."""
    with svc.lock:
        _file_in_corpus(svc, name).unlink()
        return _rebuild(svc, progress)


def reindex_file(svc, name: str, progress=None):
    """Parse and embed one file again: index without it, then with it (only its chunks are embedded anew)."""
    with svc.lock:
        path = _file_in_corpus(svc, name)
        with tempfile.TemporaryDirectory(prefix="reindex-") as tmp:
            kept = Path(tmp) / path.name
            shutil.move(path, kept)
            try:
                _rebuild(svc, progress)
            finally:
                shutil.move(kept, path)
        return _rebuild(svc, progress)
