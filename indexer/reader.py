"""The one index reader: opens an index directory and answers searches; app/ and eval/ use only this."""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from pathlib import Path, PurePath

import numpy as np

from .config import Config
from .errors import AssistantError, IndexMismatchError, QueryError
from .manifest import settings_fingerprint
from .models import UNKNOWN_UNIT, Chunk, Filters, Hit
from .searchtext import searchable
from .stores.base import ChunkStore

MODES = ("hybrid", "dense", "bm25")
MAX_QUERY_CHARS = 2000
log = logging.getLogger(__name__)


def _open_checked(cfg: Config, index_dir: Path | None, embedder) -> ChunkStore:
    """The live generation's store, refused when it was built with other settings than cfg (or another dimension)."""
    from .stores import open_store

    store = open_store(cfg, index_dir)
    root = store.location.parent
    manifest = store.manifest
    have = manifest.get("settings", {})
    model = embedder.name if embedder is not None else cfg.embedding.model
    want = settings_fingerprint(cfg, model, have.get("chunk", {}).get("chunker", "section"))
    diffs = [k for k in want if have.get(k) != want[k]]
    if diffs:
        detail = "；".join(f"{k}: 索引为 {have.get(k)!r}，配置为 {want[k]!r}" for k in diffs)
        raise IndexMismatchError(f"索引 {root} 与当前配置不一致（{detail}）。请重新构建: python -m indexer build")
    if embedder is not None and int(embedder.dim) != int(manifest["dim"]):
        raise IndexMismatchError(f"索引向量维度为 {manifest['dim']}，模型维度为 {embedder.dim}，请重新构建索引")
    return store


class _View:
    """One generation as the reader holds it: the store, its rows, and what is derived from them once."""

    def __init__(self, store: ChunkStore):
        self.store = store
        self.chunks: list[Chunk] = store.chunks
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.reports = store.reports
        self.facets: dict | None = None
        self.spans: dict[str, list[dict]] | None = None


class Searcher:
    """Read-only view of the live index generation; safe to share between threads (indexer.protocols).

    .search_batch(queries, k, mode, filters) -> list[list[Hit]]; .search(q) is search_batch([q])[0].
    .report(report_id) -> dict with text, sections and chunk spans; .reports(filters); .facets(); .stats().
    Every [index] refresh_s seconds a background check asks whether another process switched the live generation (a
    build, another replica's upload) and opens the new one; calls answer from it from then on, each from one generation.
    """

    def __init__(self, cfg: Config, store: ChunkStore, embedder=None, index_dir: Path | None = None):
        self.cfg = cfg
        self._index_dir = index_dir
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._follow_lock = threading.Lock()
        self._view = _View(store)
        self._next_check = time.monotonic() + cfg.index.refresh_s

    @property
    def store(self) -> ChunkStore:
        return self._view.store

    @property
    def manifest(self) -> dict:
        return self._view.store.manifest

    @property
    def chunks(self) -> list[Chunk]:
        return self._view.chunks

    @property
    def embedder(self):
        """The query model once loaded (None before): the app reuses it to reopen after an upload."""
        return self._embedder

    @property
    def gen_dir(self) -> PurePath:
        """Where the live generation is (a directory, or milvus URI/collection): messages and cache keys."""
        return self._view.store.location

    @classmethod
    def open(cls, cfg: Config, index_dir: Path | None = None, embedder=None) -> "Searcher":
        return cls(cfg, _open_checked(cfg, index_dir, embedder), embedder, index_dir)

    def _fresh(self) -> _View:
        """The view to answer from. When the check is due, one background thread asks the store whether the live
        generation moved and opens the new one (a large one takes a while); calls answer from the held view meanwhile."""
        refresh = self.cfg.index.refresh_s
        if refresh > 0 and time.monotonic() >= self._next_check and self._follow_lock.acquire(blocking=False):
            self._next_check = time.monotonic() + refresh
            threading.Thread(target=self._follow, name="index-follow", daemon=True).start()
        return self._view

    def _follow(self) -> None:
        try:
            if self._view.store.moved():
                self._view = _View(_open_checked(self.cfg, self._index_dir, self._embedder))
        except AssistantError as exc:  # unreachable, damaged or another config: keep answering from this one
            log.warning("检查或打开新的索引版本失败（%s），仍使用 %s", exc, self._view.store.location)
        finally:
            self._next_check = time.monotonic() + self.cfg.index.refresh_s
            self._follow_lock.release()

    # -- embedding ---------------------------------------------------------------------------------------------
    def _get_embedder(self):
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    from .embed import load_embedder

                    emb = load_embedder(self.cfg.embedding)
                    if int(emb.dim) != int(self.manifest["dim"]):
                        raise IndexMismatchError(
                            f"索引向量维度为 {self.manifest['dim']}，模型维度为 {emb.dim}，请重新构建索引")
                    self._embedder = emb
        return self._embedder

    # -- search ------------------------------------------------------------------------------------------------
    def search_batch(self, queries: list[str], k: int | None = None, mode: str | None = None,
                     filters: Filters | None = None) -> list[list[Hit]]:
        from .tokenize import tokenize_batch
        from .fusion import rrf, zscore_fuse

        k = int(k or self.cfg.search.k)
        mode = mode or self.cfg.search.mode
        if mode not in MODES:
            raise QueryError(f"未知检索模式 {mode!r}（可选: {', '.join(MODES)}）")
        if k < 1:
            raise QueryError("k 必须为正整数")
        for q in queries:
            if not isinstance(q, str) or not q.strip():
                raise QueryError("查询内容为空")
            if len(q) > MAX_QUERY_CHARS:
                raise QueryError(f"查询过长（{len(q)} 字，上限 {MAX_QUERY_CHARS} 字）")
        texts = [searchable(q.strip(), self.cfg.parse.mask_map) for q in queries]
        view = self._fresh()
        store = view.store
        n_cand = max(k, self.cfg.search.candidates)
        n = n_cand if mode == "hybrid" else k
        none: list[list[tuple[int, float]]] = [[] for _ in texts]

        dense_lists, bm25_lists, qvecs, tokens = none, none, None, None
        if mode in ("dense", "hybrid") and texts:
            qvecs = self._get_embedder().encode_queries(texts)
            dense_lists = store.dense_search(qvecs, n, filters)
        if mode in ("bm25", "hybrid"):
            tokens = tokenize_batch(texts)
            bm25_lists = store.sparse_search(tokens, n, filters)

        results = []
        for qi in range(len(texts)):
            if mode == "dense":
                ranked = dense_lists[qi]
            elif mode == "bm25":
                ranked = bm25_lists[qi]
            elif self.cfg.search.fusion == "zscore":
                share = self.cfg.search.bm25_share
                ranked = zscore_fuse([dense_lists[qi], bm25_lists[qi]], [1 - share, share])
            else:
                ranked = rrf([[i for i, _ in dense_lists[qi]], [i for i, _ in bm25_lists[qi]]],
                             [self.cfg.search.dense_weight, self.cfg.search.bm25_weight], self.cfg.search.rrf_k)
            ranked = ranked[:k]
            rows = [i for i, _ in ranked]
            dense = dict(dense_lists[qi])
            if qvecs is not None:  # fused from BM25 alone: cosine still useful
                missing = [i for i in rows if i not in dense]
                dense.update(zip(missing, store.dense_scores(qvecs[qi], missing)))
            bm25 = dict(zip(rows, store.sparse_scores(tokens[qi], rows))) if tokens is not None else {}
            results.append([Hit(rank, float(score), view.chunks[i], dense.get(i), bm25.get(i))
                            for rank, (i, score) in enumerate(ranked, start=1)])
        return results

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        return self.search_batch([query], k, mode, filters)[0]

    def similarity(self, query: str, texts: list[str]) -> list[float]:
        """Cosine of the query with each text embedded as a passage (sentences the answer layer weighs as evidence)."""
        if not texts:
            return []
        emb = self._get_embedder()
        q = emb.encode_queries([self.embedded_text(query)])[0]
        p = emb.encode_passages([self.embedded_text(t) for t in texts])
        return [float(x) for x in np.asarray(p, dtype=np.float32) @ np.asarray(q, dtype=np.float32)]

    def embedded_text(self, text: str) -> str:
        """What similarity gives the model for text (masked forms mapped back): the key of a vector kept for it."""
        return searchable(text, self.cfg.parse.mask_map)

    def unknown_share(self, query: str) -> float:
        """Share of the query's words (two characters or more) that occur in no chunk of the index."""
        from .tokenize import tokenize

        words = [t for t in tokenize(searchable(query, self.cfg.parse.mask_map)) if len(t) > 1]
        store = self._fresh().store
        return sum(not store.known(t) for t in words) / len(words) if words else 0.0

    # -- browsing ----------------------------------------------------------------------------------------------
    def chunk(self, chunk_id: str) -> Chunk:
        view = self._fresh()
        if chunk_id not in view.by_id:
            raise QueryError(f"未找到文本块: {chunk_id}")
        return view.chunks[view.by_id[chunk_id]]

    def report(self, report_id: str) -> dict:
        view = self._fresh()
        rec = view.reports.get(report_id)
        if rec is None:
            raise QueryError(f"未找到报告: {report_id}")
        if view.spans is None:  # grouped once, not scanned over every chunk per opened report
            spans: dict[str, list[dict]] = {}
            for c in view.chunks:
                spans.setdefault(c.report_id, []).append({"chunk_id": c.chunk_id, "start": c.start, "end": c.end})
            view.spans = spans
        return {**rec, "chunks": [dict(x) for x in view.spans.get(report_id, [])]}

    def reports(self, filters: Filters | None = None) -> list[dict]:
        out = []
        for rec in self._fresh().reports.values():
            meta = {k: v for k, v in rec.items() if k not in ("text", "sections")}
            if filters is not None:
                if ((filters.unit and rec["unit"] not in filters.unit) or (filters.level and rec["level"] not in filters.level)
                        or (filters.year and rec["year"] not in filters.year)
                        or (filters.topic and rec["topic"] not in filters.topic)
                        or (filters.report_id and rec["report_id"] not in filters.report_id)):
                    continue
            meta["chars"] = len(rec["text"])
            out.append(meta)
        return sorted(out, key=lambda r: r["title"])

    def facets(self) -> dict:
        view = self._fresh()
        if view.facets is None:  # asked on every question (unit names for follow-ups): compute once
            def values(name):
                return sorted({getattr(c, name) for c in view.chunks} - {None, ""}, key=str)

            view.facets = {name: values(name) for name in ("unit", "level", "year", "topic", "section_role")}
        return {k: list(v) for k, v in view.facets.items()}

    def stats(self) -> dict:
        view = self._fresh()
        manifest = view.store.manifest
        return {
            "reports": len(view.reports),
            "chunks": len(view.chunks),
            "sections": manifest.get("counts", {}).get("sections"),
            "model": manifest["settings"]["model"],
            "dim": manifest["dim"],
            "faiss_type": manifest.get("faiss_type"),
            "index_bytes": view.store.size_bytes(),
            "index_dir": str(view.store.location.parent),
            "store": self.cfg.index.store,
            "built_at": manifest.get("built_at"),
            "per_unit": dict(Counter(r["unit"] or UNKNOWN_UNIT for r in view.reports.values()).most_common()),
            "per_topic": dict(Counter(r["topic"] for r in view.reports.values()).most_common()),
            "per_role": dict(Counter(c.section_role for c in view.chunks).most_common()),
            "skipped": manifest.get("skipped", []),
        }
