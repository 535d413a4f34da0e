"""Store stage: write an index generation atomically (chunks, vectors, FAISS, BM25, manifest) and find the current one."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .config import IndexConfig
from .errors import IndexDamagedError
from .manifest import FORMAT_VERSION
from .models import Chunk, Report
from .stores.faiss_index import make_faiss_index, tune_faiss_index  # noqa: F401  (tune: old import path)

CURRENT = "CURRENT"
GEN_NAME = re.compile(r"gen-[0-9A-Za-z_-]{1,100}")  # CURRENT may name nothing else: no path, no "..", no "/"


def report_record(report: Report) -> dict:
    """What the reader needs of a report: metadata, display text and section spans (no char offsets)."""
    return {
        "report_id": report.report_id,
        "title": report.title,
        "source_file": report.source_file,
        "unit": report.unit,
        "level": report.level,
        "year": report.year,
        "topic": report.topic,
        "content_hash": report.content_hash,
        "near_duplicates": list(report.near_duplicates),
        "also_in": list(report.also_in),
        "text": report.text,
        "sections": [
            {"heading": s.heading, "heading_path": list(s.heading_path), "level": s.level, "role": s.role,
             "start": s.start, "end": s.end}
            for s in report.sections
        ],
    }


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def current_generation(index_root: Path) -> Path | None:
    """The live generation named by CURRENT; None when there is no index; IndexDamagedError when CURRENT is unusable."""
    pointer = index_root / CURRENT
    if not pointer.is_file():
        return None
    try:
        name = pointer.read_bytes().decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        name = None
    if not name or not GEN_NAME.fullmatch(name):
        raise IndexDamagedError(damage_message(index_root, [(CURRENT, "内容不是本索引目录中的版本名")]))
    gen = index_root / name
    if not (gen / "manifest.json").is_file():
        raise IndexDamagedError(damage_message(index_root, [(f"{name}/manifest.json", "文件缺失")]))
    return gen


def damage_message(index_root: Path, problems: list[tuple[str, str]]) -> str:
    """One message for a damaged index: which files, what is wrong, and the command that repairs it."""
    where = "；".join(f"{f}: {why}" for f, why in problems[:5]) + ("；……" if len(problems) > 5 else "")
    return (f"索引已损坏（{index_root} 中 {where}）。请运行 python -m indexer build --index {index_root} 重建"
            f"（完整检查: python -m indexer check --index {index_root}）")


def load_manifest(gen: Path) -> dict:
    """manifest.json of a generation; IndexDamagedError when it is not a JSON object."""
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexDamagedError(damage_message(gen.parent, [(f"{gen.name}/manifest.json", f"无法读取（{exc}）")])) from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("settings"), dict) or "dim" not in manifest:
        raise IndexDamagedError(damage_message(gen.parent, [(f"{gen.name}/manifest.json", "内容不完整")]))
    return manifest


@contextmanager
def reading(gen: Path, name: str):
    """Turn any failure while loading one generation file into IndexDamagedError naming that file."""
    try:
        yield
    except IndexDamagedError:
        raise
    except Exception as exc:  # faiss, numpy, json and bm25s each raise their own kinds on a damaged file
        detail = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
        raise IndexDamagedError(damage_message(gen.parent, [(f"{gen.name}/{name}", f"无法读取（{detail}）")])) from exc


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_records(gen: Path) -> dict[str, dict]:
    """Size and sha256 of every file of a generation except the manifest, keyed by relative path."""
    return {p.relative_to(gen).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)}
            for p in sorted(gen.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def verify_generation(gen: Path, manifest: dict, full: bool = False) -> list[tuple[str, str]]:
    """(file, problem) for each damaged file: sizes always (cheap), checksums too when full."""
    records = manifest.get("generation_files")
    if not isinstance(records, dict):
        return [("manifest.json", "没有文件校验信息（旧版索引）")] if full else []
    problems = []
    for rel, rec in records.items():
        path = gen / rel
        label = f"{gen.name}/{rel}"
        if not path.is_file():
            problems.append((label, "文件缺失"))
        elif path.stat().st_size != rec.get("size"):
            problems.append((label, f"大小为 {path.stat().st_size} 字节，应为 {rec.get('size')} 字节（被截断或改动）"))
        elif full and _sha256(path) != rec.get("sha256"):
            problems.append((label, "校验和不符（内容被改动）"))
    return problems


def remove_leftovers(index_root: Path) -> list[str]:
    """Delete what a killed build left behind (.tmp-gen-*, .CURRENT.tmp); call only under the build lock."""
    if not index_root.is_dir():
        return []
    gone = []
    for p in index_root.iterdir():
        if p.name.startswith(".tmp-gen-") or p.name == f".{CURRENT}.tmp":
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
            gone.append(p.name)
    return gone


def write_generation(
    index_root: Path,
    chunks: list[Chunk],
    vectors: np.ndarray,
    reports: list[Report],
    manifest: dict,
    index_cfg: IndexConfig,
    tokens: list[list[str]],
) -> Path:
    """Write a complete new generation, then switch CURRENT to it; a crash before the switch changes nothing."""
    import bm25s

    index_root.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    tmp = index_root / f".tmp-{name}"
    tmp.mkdir()
    _write_jsonl(tmp / "chunks.jsonl", (c.to_json() for c in chunks))
    _write_jsonl(tmp / "reports.jsonl", (report_record(r) for r in reports))
    np.save(tmp / "embeddings.npy", vectors.astype(np.float32))

    import faiss

    faiss.write_index(make_faiss_index(vectors, index_cfg), str(tmp / "faiss.index"))
    retriever = bm25s.BM25()
    # bm25s needs at least one token per document to build its matrix.
    retriever.index([t or ["<empty>"] for t in tokens] or [["<empty>"]], show_progress=False)
    retriever.save(str(tmp / "bm25"), show_progress=False)
    manifest = {**manifest, "format_version": FORMAT_VERSION, "generation": name,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "generation_files": file_records(tmp)}
    (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")

    final = index_root / name
    os.replace(tmp, final)
    pointer_tmp = index_root / f".{CURRENT}.tmp"
    pointer_tmp.write_text(name, encoding="utf-8")
    os.replace(pointer_tmp, index_root / CURRENT)
    _remove_old(index_root, keep=name)
    return final


def _remove_old(index_root: Path, keep: str) -> None:
    for p in index_root.iterdir():
        if p.is_dir() and p.name != keep and (p.name.startswith("gen-") or p.name.startswith(".tmp-gen-")):
            shutil.rmtree(p, ignore_errors=True)


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
