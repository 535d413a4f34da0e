"""The one index reader: opens an index directory and answers searches; app/ and eval/ use only this."""
from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import numpy as np

from .config import Config
from .errors import IndexDamagedError, IndexMismatchError, IndexMissingError, QueryError
from .models import Chunk, Filters, Hit
from .store import (current_generation, damage_message, dir_size, load_manifest, read_jsonl, reading,
                    tune_faiss_index, verify_generation)

MODES = ("hybrid", "dense", "bm25")
MAX_QUERY_CHARS = 2000


class Searcher:
    """Read-only view of one index generation; safe to share between threads.

    .search_batch(queries, k, mode, filters) -> list[list[Hit]]; .search(q) is search_batch([q])[0].
    .report(report_id) -> dict with text, sections and chunk spans; .reports(filters); .facets(); .stats().
    """

    def __init__(self, cfg: Config, gen_dir: Path, manifest: dict, embedder=None):
        import bm25s
        import faiss

        self.cfg = cfg
        self.gen_dir = gen_dir
        self.manifest = manifest
        with reading(gen_dir, "chunks.jsonl"):
            self.chunks: list[Chunk] = [Chunk.from_json(r) for r in read_jsonl(gen_dir / "chunks.jsonl")]
        self._by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        with reading(gen_dir, "reports.jsonl"):
            self._reports = {r["report_id"]: r for r in read_jsonl(gen_dir / "reports.jsonl")}
        with reading(gen_dir, "faiss.index"):
            self._faiss = faiss.read_index(str(gen_dir / "faiss.index"))
        tune_faiss_index(self._faiss, cfg.index)
        with reading(gen_dir, "embeddings.npy"):
            self._vectors = np.load(gen_dir / "embeddings.npy", mmap_mode="r")
        with reading(gen_dir, "bm25"):
            self._bm25 = bm25s.BM25.load(str(gen_dir / "bm25"), show_progress=False, verbosity=0)
        self._vocab = self._bm25.vocab_dict
        # Sizes can match while rows are lost (an old manifest without sizes, an emptied file): counts must agree.
        want = manifest.get("counts", {}).get("chunks")
        for name, n in (("chunks.jsonl", len(self.chunks)), ("faiss.index", self._faiss.ntotal),
                        ("embeddings.npy", len(self._vectors))):
            if want is not None and n != want:
                raise IndexDamagedError(damage_message(gen_dir.parent, [(f"{gen_dir.name}/{name}",
                                                                          f"有 {n} 条，清单记录为 {want} 条")]))
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._facets: dict | None = None
        self._spans: dict[str, list[dict]] | None = None
        self._columns = {name: np.array([getattr(c, name) for c in self.chunks], dtype=object)
                         for name in ("unit", "level", "year", "topic", "section_role", "report_id")}

    @classmethod
    def open(cls, cfg: Config, index_dir: Path | None = None, embedder=None) -> "Searcher":
        from .pipeline import settings_fingerprint

        root = Path(index_dir) if index_dir else cfg.path(cfg.index.dir)
        gen = current_generation(root)
        if gen is None:
            raise IndexMissingError(f"索引不存在: {root}（先运行 python -m indexer build）")
        manifest = load_manifest(gen)
        problems = verify_generation(gen, manifest)  # sizes only: cheap; checksums in `python -m indexer check`
        if problems:
            raise IndexDamagedError(damage_message(root, problems))
        have = manifest.get("settings", {})
        model = embedder.name if embedder is not None else cfg.embedding.model
        want = settings_fingerprint(cfg, model, have.get("chunk", {}).get("chunker", "section"))
        diffs = [k for k in want if have.get(k) != want[k]]
        if diffs:
            detail = "；".join(f"{k}: 索引为 {have.get(k)!r}，配置为 {want[k]!r}" for k in diffs)
            raise IndexMismatchError(f"索引 {root} 与当前配置不一致（{detail}）。请重新构建: python -m indexer build")
        if embedder is not None and int(embedder.dim) != int(manifest["dim"]):
            raise IndexMismatchError(f"索引向量维度为 {manifest['dim']}，模型维度为 {embedder.dim}，请重新构建索引")
        return cls(cfg, gen, manifest, embedder)

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
    def _mask(self, filters: Filters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        mask = np.ones(len(self.chunks), dtype=bool)
        for name in ("unit", "level", "year", "topic", "section_role", "report_id"):
            wanted = getattr(filters, name)
            if wanted:
                mask &= np.isin(self._columns[name], np.array(list(wanted), dtype=object))
        return mask

    def _dense(self, qvecs: np.ndarray, n: int, mask: np.ndarray | None) -> list[list[tuple[int, float]]]:
        import faiss

        if not len(self.chunks) or n <= 0:
            return [[] for _ in range(len(qvecs))]
        params = None
        if mask is not None:
            ids = np.flatnonzero(mask).astype(np.int64)
            if not len(ids):
                return [[] for _ in range(len(qvecs))]
            sel = faiss.IDSelectorBatch(ids)
            if hasattr(self._faiss, "nprobe"):  # IVF refuses the generic parameter type
                params = faiss.SearchParametersIVF(sel=sel, nprobe=self._faiss.nprobe)
            else:
                params = faiss.SearchParameters(sel=sel)
            n = min(n, len(ids))
        scores, idx = self._faiss.search(np.ascontiguousarray(qvecs, dtype=np.float32), min(n, len(self.chunks)),
                                         params=params)
        return [[(int(i), float(s)) for i, s in zip(row_i, row_s) if i >= 0] for row_i, row_s in zip(idx, scores)]

    def _bm25_scores(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self._vocab]
        if not known:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)[: len(self.chunks)]

    def search_batch(self, queries: list[str], k: int | None = None, mode: str | None = None,
                     filters: Filters | None = None) -> list[list[Hit]]:
        from .parse import searchable
        from .tokenize import tokenize_batch
        from .fusion import rrf

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
        mask = self._mask(filters)
        n_cand = max(k, self.cfg.search.candidates)

        dense_lists: list[list[tuple[int, float]]] = [[] for _ in texts]
        qvecs = None
        if mode in ("dense", "hybrid") and texts:
            qvecs = self._get_embedder().encode_queries(texts)
            dense_lists = self._dense(qvecs, n_cand if mode == "hybrid" else k, mask)
        bm25_all: list[np.ndarray | None] = [None] * len(texts)
        bm25_lists: list[list[tuple[int, float]]] = [[] for _ in texts]
        if mode in ("bm25", "hybrid"):
            for qi, toks in enumerate(tokenize_batch(texts)):
                scores = self._bm25_scores(toks)
                if mask is not None:
                    scores = np.where(mask, scores, -np.inf)
                bm25_all[qi] = scores
                top = np.argsort(-scores, kind="stable")[: (n_cand if mode == "hybrid" else k)]
                bm25_lists[qi] = [(int(i), float(scores[i])) for i in top if scores[i] > 0]

        results = []
        for qi in range(len(texts)):
            dense = dict(dense_lists[qi])
            if mode == "dense":
                ranked = dense_lists[qi]
            elif mode == "bm25":
                ranked = bm25_lists[qi]
            else:
                ranked = rrf([[i for i, _ in dense_lists[qi]], [i for i, _ in bm25_lists[qi]]],
                             [self.cfg.search.dense_weight, self.cfg.search.bm25_weight], self.cfg.search.rrf_k)
            hits = []
            for rank, (i, score) in enumerate(ranked[:k], start=1):
                d = dense.get(i)
                if d is None and qvecs is not None:
                    d = float(np.dot(self._vectors[i], qvecs[qi]))  # fused from BM25 alone: cosine still useful
                b = bm25_all[qi][i] if bm25_all[qi] is not None else None
                hits.append(Hit(rank, float(score), self.chunks[i], d, None if b is None else float(b)))
            results.append(hits)
        return results

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]:
        return self.search_batch([query], k, mode, filters)[0]

    def similarity(self, query: str, texts: list[str]) -> list[float]:
        """Cosine of the query with each text embedded as a passage (sentences the answer layer weighs as evidence)."""
        from .parse import searchable

        if not texts:
            return []
        emb = self._get_embedder()
        q = emb.encode_queries([searchable(query, self.cfg.parse.mask_map)])[0]
        p = emb.encode_passages([searchable(t, self.cfg.parse.mask_map) for t in texts])
        return [float(x) for x in np.asarray(p, dtype=np.float32) @ np.asarray(q, dtype=np.float32)]

    def unknown_share(self, query: str) -> float:
        """Share of the query's words (two characters or more) that occur in no chunk of the index."""
        from .parse import searchable
        from .tokenize import tokenize

        words = [t for t in tokenize(searchable(query, self.cfg.parse.mask_map)) if len(t) > 1]
        return sum(t not in self._vocab for t in words) / len(words) if words else 0.0

    # -- browsing ----------------------------------------------------------------------------------------------
    def chunk(self, chunk_id: str) -> Chunk:
        if chunk_id not in self._by_id:
            raise QueryError(f"未找到文本块: {chunk_id}")
        return self.chunks[self._by_id[chunk_id]]

    def report(self, report_id: str) -> dict:
        rec = self._reports.get(report_id)
        if rec is None:
            raise QueryError(f"未找到报告: {report_id}")
        if self._spans is None:  # grouped once, not scanned over every chunk per opened report
            spans: dict[str, list[dict]] = {}
            for c in self.chunks:
                spans.setdefault(c.report_id, []).append({"chunk_id": c.chunk_id, "start": c.start, "end": c.end})
            self._spans = spans
        return {**rec, "chunks": [dict(x) for x in self._spans.get(report_id, [])]}

    def reports(self, filters: Filters | None = None) -> list[dict]:
        out = []
        for rec in self._reports.values():
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
        if self._facets is None:  # asked on every question (unit names for follow-ups): compute once
            def values(name):
                return sorted({v for v in self._columns[name] if v not in (None, "")}, key=str)

            self._facets = {name: values(name) for name in ("unit", "level", "year", "topic", "section_role")}
        return {k: list(v) for k, v in self._facets.items()}

    def stats(self) -> dict:
        return {
            "reports": len(self._reports),
            "chunks": len(self.chunks),
            "sections": self.manifest.get("counts", {}).get("sections"),
            "model": self.manifest["settings"]["model"],
            "dim": self.manifest["dim"],
            "faiss_type": self.manifest.get("faiss_type"),
            "index_bytes": dir_size(self.gen_dir),
            "index_dir": str(self.gen_dir.parent),
            "built_at": self.manifest.get("built_at"),
            "per_unit": dict(Counter(r["unit"] or "（未识别）" for r in self._reports.values()).most_common()),
            "per_topic": dict(Counter(r["topic"] for r in self._reports.values()).most_common()),
            "per_role": dict(Counter(c.section_role for c in self.chunks).most_common()),
            "skipped": self.manifest.get("skipped", []),
        }
