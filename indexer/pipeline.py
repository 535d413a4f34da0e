"""Build or update an index from a corpus: parse → chunk → embed → store, incrementally."""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .config import Config
from .errors import CorpusError, InputFileError
from .manifest import settings_fingerprint
from .models import Chunk, Report
from .overrides import OVERRIDES_FILE, apply_overrides, load_overrides
from .stores import open_writer
from .stores.base import text_key as _text_key

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class BuildSummary:
    files: int
    reports: int
    sections: int
    chunks: int
    embedded: int
    reused: int
    seconds: float
    index_dir: str
    up_to_date: bool = False
    skipped: tuple[tuple[str, str], ...] = ()
    duplicates: tuple[tuple[str, str], ...] = ()  # (source_file, title) of reports dropped as exact duplicates
    per_file: tuple[tuple[str, int], ...] = ()
    repaired: tuple[str, ...] = ()  # damage found in the previous index (and mended by this build)

    def lines(self) -> list[str]:
        """Human-readable summary for the CLI and the upload tab."""
        if self.up_to_date:
            head = f"索引已是最新：{self.files} 个文件未变化（{self.seconds:.2f} 秒）"
            return [head] + [f"  跳过 {f}: {why}" for f, why in self.skipped]
        out = [f"发现索引损坏并已重建: {why}" for why in self.repaired] + [
            f"文件 {self.files} 个，报告 {self.reports} 篇，章节 {self.sections} 个，文本块 {self.chunks} 个",
            f"新嵌入 {self.embedded} 块，复用 {self.reused} 块，用时 {self.seconds:.1f} 秒"
            + (f"（{self.embedded / self.seconds:.1f} 块/秒）" if self.embedded and self.seconds else ""),
        ]
        out += [f"  {f}: {n} 篇报告" for f, n in self.per_file]
        out += [f"  重复报告只收录一次: {t}（{f}）" for f, t in self.duplicates]
        out += [f"  跳过 {f}: {why}" for f, why in self.skipped]
        out.append(f"索引目录: {self.index_dir}")
        return out


_WRITE_PATH_MODULES = ("parse", "readfile", "noise", "split", "headings", "roles", "metadata", "dedupe", "textmap",
                       "searchtext", "chunk", "tokenize", "store", "pipeline")


def code_fingerprint() -> str:
    """Hash of the write-path code: a parser or chunker change makes the next build re-parse (vectors still reused)."""
    h = hashlib.sha1()
    here = Path(__file__).resolve().parent
    for name in _WRITE_PATH_MODULES:
        path = here / f"{name}.py"
        if path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


def walk_corpus(corpus_dir: Path, extensions) -> tuple[list[Path], list[tuple[str, str]]]:
    """Report files under corpus_dir, and (entry, reason) for every entry left out: links never lead outside it."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"语料目录不存在: {corpus_dir}")
    root = corpus_dir.resolve()
    exts = {e.lower() for e in extensions}
    files, skipped = [], []

    def unreadable(exc: OSError):
        skipped.append((_rel(Path(exc.filename or root), root), f"无法读取文件夹（{exc.strerror or exc}）"))

    for here, dirs, names in os.walk(root, onerror=unreadable):  # followlinks=False: a linked folder is not entered
        base = Path(here)
        for d in sorted(dirs):
            p = base / d
            why = ("是指向文件夹的链接，不跟随" if p.is_symlink() else "隐藏文件夹（名称以 . 开头）" if d.startswith(".")
                   else "是文件夹，不是报告文件（其中的文件照常收录）" if Path(d).suffix.lower() in exts else None)
            if why:
                skipped.append((_rel(p, root), why))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (base / d).is_symlink())
        for name in sorted(names):
            p = base / name
            if base == root and name == OVERRIDES_FILE:
                continue  # corrections of metadata (indexer.overrides), not a report
            why = _skip_reason(p, root, exts)
            if why:
                skipped.append((_rel(p, root), why))
            else:
                files.append(p)
    return sorted(files), sorted(skipped)


def _rel(p: Path, root: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(p)


def _skip_reason(p: Path, root: Path, exts: set[str]) -> str | None:
    if p.name.startswith("."):
        return "隐藏文件（名称以 . 开头）"
    if p.suffix.lower() not in exts:
        return f"不支持的文件类型（支持 {'、'.join(sorted(exts))}）"
    if p.is_symlink():
        try:
            target = p.resolve(strict=True)
        except (OSError, RuntimeError):
            return "链接无法解析（目标不存在或循环链接）"
        if not target.is_relative_to(root):
            return "链接指向语料目录之外，不收录"
        p = target
    if not p.is_file():
        return "不是普通文件"
    return None


def _file_hashes(files: list[Path], root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest() for p in files}


def parse_corpus(files: list[Path], root: Path, cfg: Config, progress: Progress | None = None):
    """Parse every file; one bad file is recorded as skipped and never stops the others."""
    from .parse import parse_file

    reports, skipped, per_file = [], [], []
    for i, path in enumerate(files):
        rel = str(path.relative_to(root))
        try:
            found = parse_file(path, root, cfg)
        except InputFileError as exc:
            skipped.append((rel, str(exc)))
            found = []
        except Exception as exc:  # a parser bug on one file must not lose the rest of the corpus
            skipped.append((rel, f"解析失败（{type(exc).__name__}: {exc}）"))
            found = []
        else:
            if not found:
                skipped.append((rel, "未识别出报告正文"))
        reports.extend(found)
        per_file.append((rel, len(found)))
        if progress:
            progress("解析", i + 1, len(files))
    return reports, skipped, per_file


def embed_chunks(chunks: list[Chunk], embedder, previous: dict[str, np.ndarray], batch_size: int,
                 progress: Progress | None = None) -> tuple[np.ndarray, int]:
    """Vectors for every chunk, reusing previous ones for unchanged text; returns (vectors, newly embedded)."""
    keys = [_text_key(c.search_text) for c in chunks]
    todo = [i for i, k in enumerate(keys) if k not in previous]
    vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    for i, k in enumerate(keys):
        if k in previous:
            vectors[i] = previous[k]
    step = max(1, batch_size * 4)
    for s in range(0, len(todo), step):
        batch = todo[s : s + step]
        vectors[batch] = embedder.encode_passages([chunks[i].search_text for i in batch])
        if progress:
            progress("嵌入", min(s + step, len(todo)), len(todo))
    return vectors, len(todo)


@dataclass(frozen=True)
class _Reused:
    """Stands in for the model when every chunk's vector comes from the previous generation."""

    name: str
    dim: int

    def encode_passages(self, texts, show_progress: bool = False):
        raise AssertionError("nothing should be embedded when every vector is reused")


@contextmanager
def _build_lock(index_root: Path):
    index_root.mkdir(parents=True, exist_ok=True)
    with open(index_root / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # one writer at a time; readers never take it
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_index(cfg: Config, corpus_dir: Path | None = None, index_dir: Path | None = None, embedder=None,
                reports: list[Report] | None = None, progress: Progress | None = None,
                chunker: Callable[[list[Report]], list[Chunk]] | None = None, chunker_name: str = "section",
                force: bool = False) -> BuildSummary:
    """Build the index for a corpus directory (or for already-parsed reports); unchanged chunks are not re-embedded."""
    from .chunk import chunk_reports
    from .parse import dedupe
    from .tokenize import tokenize_batch

    t0 = time.perf_counter()
    index_root = Path(index_dir) if index_dir else cfg.path(cfg.index.dir)
    corpus_root = (Path(corpus_dir) if corpus_dir else cfg.path(cfg.corpus.dir)).absolute()
    model_name = embedder.name if embedder is not None else cfg.embedding.model
    fingerprint = settings_fingerprint(cfg, model_name, chunker_name)

    with _build_lock(index_root):
        writer = open_writer(cfg, index_root)
        damage = writer.prepare()
        skipped, per_file, hashes = [], [], {}
        if reports is None:
            files, skipped = walk_corpus(corpus_root, cfg.corpus.extensions)
            limit = int(cfg.corpus.max_file_mb * 1024 * 1024)
            too_big = [p for p in files if p.stat().st_size > limit]
            skipped += [(str(p.relative_to(corpus_root)), f"文件超过 {cfg.corpus.max_file_mb:g} MB 上限") for p in too_big]
            files = [p for p in files if p not in too_big]
            hashes = _file_hashes(files, corpus_root)
            if (corpus_root / OVERRIDES_FILE).is_file():  # a corrected unit or year is a change to rebuild for
                hashes[OVERRIDES_FILE] = hashlib.sha1((corpus_root / OVERRIDES_FILE).read_bytes()).hexdigest()
            old = None if damage else writer.current_manifest()
            if old is not None and not force:
                if (old.get("settings") == fingerprint and old.get("corpus") == str(corpus_root.resolve()) and old.get("files") == hashes
                        and old.get("code") == code_fingerprint()
                        and old.get("skipped_files") == [list(s) for s in skipped]):
                    return BuildSummary(len(files), old["counts"]["reports"], old["counts"]["sections"],
                                        old["counts"]["chunks"], 0, old["counts"]["chunks"],
                                        time.perf_counter() - t0, writer.location, up_to_date=True,
                                        skipped=tuple(map(tuple, old.get("skipped", []))))
            if not files and not skipped:
                raise CorpusError(f"语料目录中没有可读的报告文件（支持 {', '.join(cfg.corpus.extensions)}）: {corpus_root}")
            size_skipped = list(skipped)
            parsed, parse_skipped, per_file = parse_corpus(files, corpus_root, cfg, progress)
            parsed = apply_overrides(parsed, load_overrides(corpus_root))
            skipped += parse_skipped
        else:
            parsed, size_skipped = list(reports), []
        unique = dedupe(parsed, cfg.parse.near_duplicate_threshold)
        kept = {(r.source_file, r.report_id) for r in unique}
        kept_ids = {r.report_id for r in unique}
        duplicates = [(r.source_file, r.title) for r in parsed
                      if (r.source_file, r.report_id) not in kept and r.report_id in kept_ids]
        chunks = chunker(unique) if chunker else chunk_reports(unique, cfg.chunk, cfg.parse.mask_map)
        previous = {} if force else writer.previous_vectors(fingerprint)
        if embedder is None and (not previous or any(_text_key(c.search_text) not in previous for c in chunks)):
            from .embed import load_embedder

            embedder = load_embedder(cfg.embedding)
        if embedder is None:  # every vector is reused: no need to load the model at all
            embedder = _Reused(cfg.embedding.model, len(next(iter(previous.values()))))
        vectors, embedded = embed_chunks(chunks, embedder, previous, cfg.embedding.batch_size, progress)
        if progress:
            progress("写入索引", 0, 1)
        tokens = tokenize_batch([c.search_text for c in chunks])
        n_sections = sum(len(r.sections) for r in unique)
        manifest = {
            "settings": fingerprint,
            "code": code_fingerprint(),
            "dim": int(embedder.dim),
            "faiss_type": cfg.index.faiss_type,
            "corpus": str(corpus_root.resolve()) if reports is None else None,
            "files": hashes,
            "skipped_files": [list(s) for s in size_skipped],
            "skipped": [list(s) for s in skipped],
            "counts": {"files": len(per_file), "reports": len(unique), "sections": n_sections, "chunks": len(chunks)},
        }
        location = writer.write(chunks, vectors, unique, manifest, tokens)
        if progress:
            progress("写入索引", 1, 1)
    return BuildSummary(len(per_file), len(unique), n_sections, len(chunks), embedded, len(chunks) - embedded,
                        time.perf_counter() - t0, location, skipped=tuple(skipped),
                        duplicates=tuple(duplicates), per_file=tuple(per_file), repaired=tuple(damage))


_SAFE = re.compile(r"[^\w\u4e00-\u9fff.（）()\-]+")


def safe_filename(name: str) -> str:
    """A user-given file name reduced to one harmless path component."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = _SAFE.sub("_", stem).strip("._") or "report"
    return f"{stem[:80]}{suffix}"


def copy_into_corpus(cfg: Config, paths: list[Path], corpus_root: Path) -> list[Path]:
    """Copy report files into the corpus under sanitised names, after every one passed the reader's checks."""
    from .parse import read_source

    corpus_root.mkdir(parents=True, exist_ok=True)
    limit = int(min(cfg.corpus.max_file_mb, cfg.app.max_upload_mb) * 1024 * 1024)
    for path in paths:
        path = Path(path)
        if path.suffix.lower() not in cfg.corpus.extensions:
            raise InputFileError(f"{path.name}: 不支持的文件类型（支持 {', '.join(cfg.corpus.extensions)}）")
        read_source(path, limit)  # raises a clear InputFileError before anything is copied
    copied = []
    for path in paths:
        path = Path(path)
        target = corpus_root / safe_filename(path.name)
        n = 1
        while target.exists() and target.read_bytes() != path.read_bytes():
            target = corpus_root / f"{target.stem}_{n}{target.suffix}"
            n += 1
        if not target.exists():
            shutil.copyfile(path, target)
            copied.append(target)
    return copied


def add_files(cfg: Config, paths: list[Path], corpus_dir: Path | None = None, index_dir: Path | None = None,
              embedder=None, progress: Progress | None = None) -> BuildSummary:
    """Copy uploaded files into the corpus (validated first; names sanitised) and update the index."""
    corpus_root = (Path(corpus_dir) if corpus_dir else cfg.path(cfg.corpus.dir)).absolute()
    copy_into_corpus(cfg, paths, corpus_root)
    return build_index(cfg, corpus_root, index_dir, embedder, progress=progress)


def build_in_child(cfg: Config, corpus_dir: Path, index_dir: Path | None, embedder, events) -> None:
    """Entry of a separate, lower-priority build process (app uploads): progress and the outcome go to events."""
    os.nice(10)  # questions served by the parent keep the CPU; the build takes what is left
    try:
        summary = build_index(cfg, corpus_dir, index_dir, embedder,
                              progress=lambda stage, done, total: events.put(("progress", stage, done, total)))
    except Exception as exc:  # the parent turns it into a message; the old generation stays served
        from .errors import AssistantError

        events.put(("error", type(exc).__name__, str(exc), isinstance(exc, AssistantError)))
    else:
        events.put(("done", summary))
