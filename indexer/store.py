"""Store stage: write an index generation atomically (chunks, vectors, FAISS, BM25, manifest) and find the current one."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from .config import IndexConfig
from .errors import ConfigError
from .models import Chunk, Report

FORMAT_VERSION = 1
CURRENT = "CURRENT"


def make_faiss_index(vectors: np.ndarray, cfg: IndexConfig):
    """Build the FAISS index named in config over L2-normalised vectors (inner product = cosine)."""
    import faiss

    n, dim = vectors.shape
    kind = cfg.faiss_type.lower()
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
    elif kind == "ivf":
        # Too few points per list makes k-means meaningless; shrink nlist on small corpora.
        nlist = max(1, min(cfg.ivf_nlist, n // 39))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        if n:
            # k-means needs a few dozen points per list, not the whole corpus: train on a fixed sample.
            sample = vectors[np.random.default_rng(0).choice(n, min(n, nlist * 64), replace=False)]
            index.train(np.ascontiguousarray(sample, dtype=np.float32))
        index.nprobe = min(cfg.ivf_nprobe, nlist)
    else:
        raise ConfigError(f"[index] faiss_type 只能是 flat、hnsw 或 ivf，而不是 {cfg.faiss_type!r}")
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def tune_faiss_index(index, cfg: IndexConfig) -> None:
    """Query-time knobs that FAISS does not persist."""
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = cfg.hnsw_ef_search
    if hasattr(index, "nprobe"):
        index.nprobe = min(cfg.ivf_nprobe, getattr(index, "nlist", cfg.ivf_nprobe))


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
    pointer = index_root / CURRENT
    if not pointer.is_file():
        return None
    gen = index_root / pointer.read_text(encoding="utf-8").strip()
    return gen if (gen / "manifest.json").is_file() else None


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
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
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
