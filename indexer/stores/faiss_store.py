"""Default store: one machine, an index directory of generations (chunks, reports, FAISS, bm25s files, manifest)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import Config
from ..errors import IndexDamagedError, IndexMissingError
from ..models import Chunk, Filters, Report
from .base import FILTER_FIELDS, Ranked, text_key
from .faiss_index import search_faiss, tune_faiss_index


class FaissStore:
    """ChunkStore over the live generation of an index directory, loaded into memory (vectors memory-mapped)."""

    def __init__(self, cfg: Config, gen_dir: Path, manifest: dict):
        import bm25s
        import faiss

        from .. import store

        self.location = gen_dir
        self.manifest = manifest
        with store.reading(gen_dir, "chunks.jsonl"):
            self.chunks: list[Chunk] = [Chunk.from_json(r) for r in store.read_jsonl(gen_dir / "chunks.jsonl")]
        with store.reading(gen_dir, "reports.jsonl"):
            self.reports = {r["report_id"]: r for r in store.read_jsonl(gen_dir / "reports.jsonl")}
        with store.reading(gen_dir, "faiss.index"):
            self._faiss = faiss.read_index(str(gen_dir / "faiss.index"))
        tune_faiss_index(self._faiss, cfg.index)
        with store.reading(gen_dir, "embeddings.npy"):
            self._vectors = np.load(gen_dir / "embeddings.npy", mmap_mode="r")
        with store.reading(gen_dir, "bm25"):
            self._bm25 = bm25s.BM25.load(str(gen_dir / "bm25"), show_progress=False, verbosity=0)
        self._vocab = self._bm25.vocab_dict
        # Sizes can match while rows are lost (an old manifest without sizes, an emptied file): counts must agree.
        want = manifest.get("counts", {}).get("chunks")
        for name, n in (("chunks.jsonl", len(self.chunks)), ("faiss.index", self._faiss.ntotal),
                        ("embeddings.npy", len(self._vectors))):
            if want is not None and n != want:
                raise IndexDamagedError(store.damage_message(gen_dir.parent, [(f"{gen_dir.name}/{name}",
                                                                                f"有 {n} 条，清单记录为 {want} 条")]))
        self._columns = {name: np.array([getattr(c, name) for c in self.chunks], dtype=object) for name in FILTER_FIELDS}

    @classmethod
    def open(cls, cfg: Config, index_dir: Path | None = None) -> "FaissStore":
        from .. import store

        root = Path(index_dir) if index_dir else cfg.path(cfg.index.dir)
        gen = store.current_generation(root)
        if gen is None:
            raise IndexMissingError(f"索引不存在: {root}（先运行 python -m indexer build）")
        manifest = store.load_manifest(gen)
        problems = store.verify_generation(gen, manifest)  # sizes only: cheap; checksums in `python -m indexer check`
        if problems:
            raise IndexDamagedError(store.damage_message(root, problems))
        return cls(cfg, gen, manifest)

    def known(self, token: str) -> bool:
        return token in self._vocab

    def _allowed(self, filters: Filters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        mask = np.ones(len(self.chunks), dtype=bool)
        for name in FILTER_FIELDS:
            wanted = getattr(filters, name)
            if wanted:
                mask &= np.isin(self._columns[name], np.array(list(wanted), dtype=object))
        return mask

    def dense_search(self, qvecs: np.ndarray, n: int, filters: Filters | None) -> list[Ranked]:
        mask = self._allowed(filters)
        return search_faiss(self._faiss, qvecs, n, None if mask is None else np.flatnonzero(mask))

    def _bm25_all(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self._vocab]
        if not known:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)[: len(self.chunks)]

    def sparse_search(self, tokens: list[list[str]], n: int, filters: Filters | None) -> list[Ranked]:
        mask = self._allowed(filters)
        out = []
        for toks in tokens:
            scores = self._bm25_all(toks)
            if mask is not None:
                scores = np.where(mask, scores, -np.inf)
            top = np.argsort(-scores, kind="stable")[:n]
            out.append([(int(i), float(scores[i])) for i in top if scores[i] > 0])
        return out

    def dense_scores(self, qvec: np.ndarray, rows: list[int]) -> list[float]:
        return [float(np.dot(self._vectors[i], qvec)) for i in rows]

    def sparse_scores(self, tokens: list[str], rows: list[int]) -> list[float]:
        scores = self._bm25_all(tokens)
        return [float(scores[i]) for i in rows]

    def size_bytes(self) -> int:
        from ..store import dir_size

        return dir_size(self.location)

    def moved(self) -> bool:
        from .. import store

        try:
            return store.current_generation(self.location.parent) != self.location
        except IndexDamagedError:  # reopening reports the damage; the reader keeps this generation meanwhile
            return True


class FaissWriter:
    """StoreWriter into an index directory: a new gen-* directory, then CURRENT switched to it."""

    def __init__(self, cfg: Config, index_root: Path):
        self.cfg = cfg
        self.root = index_root
        self.location = str(index_root)

    def prepare(self) -> list[str]:
        from .. import store

        store.remove_leftovers(self.root)  # a killed build's half-written generation, even when nothing else changes
        try:
            gen = store.current_generation(self.root)
            if gen is None:
                return []
            problems = store.verify_generation(gen, store.load_manifest(gen), full=True)
        except IndexDamagedError as exc:
            return [str(exc).split("。")[0]]
        return [f"{f}: {why}" for f, why in problems]

    def current_manifest(self) -> dict | None:
        from .. import store

        try:
            gen = store.current_generation(self.root)
            return store.load_manifest(gen) if gen is not None else None
        except IndexDamagedError:
            return None

    def previous_vectors(self, fingerprint: dict) -> dict[str, np.ndarray]:
        return self.stored_vectors(fingerprint)

    def stored_vectors(self, fingerprint: dict | None = None) -> dict[str, np.ndarray]:
        """Vectors of the live generation keyed by text_key (only when its settings equal fingerprint, if given);
        {} when there is none or it is damaged."""
        from .. import store

        try:
            gen = store.current_generation(self.root)
            manifest = store.load_manifest(gen) if gen is not None else None
        except IndexDamagedError:
            return {}
        if manifest is None or (fingerprint is not None and manifest.get("settings") != fingerprint):
            return {}
        damaged = {f.rsplit("/", 1)[-1] for f, _ in store.verify_generation(gen, manifest, full=True)}
        if damaged & {"chunks.jsonl", "embeddings.npy"}:
            return {}
        try:
            vectors = np.load(gen / "embeddings.npy")
            rows = store.read_jsonl(gen / "chunks.jsonl")
        except (OSError, ValueError):  # an old generation without checksums may still be damaged
            return {}
        if len(rows) != len(vectors):
            return {}
        return {text_key(r["search_text"]): vectors[i] for i, r in enumerate(rows)}

    def write(self, chunks: list[Chunk], vectors: np.ndarray, reports: list[Report], manifest: dict,
              tokens: list[list[str]]) -> str:
        from .. import store

        return str(store.write_generation(self.root, chunks, vectors, reports, manifest, self.cfg.index, tokens).parent)
