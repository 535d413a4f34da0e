"""FAISS index kinds (flat, HNSW, IVF) in one place: build, query-time knobs, filtered search."""
from __future__ import annotations

import numpy as np

from ..config import IndexConfig
from ..errors import ConfigError


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


def search_faiss(index, qvecs: np.ndarray, n: int, allowed: np.ndarray | None) -> list[list[tuple[int, float]]]:
    """Top n (row, score) per query; allowed = row ids passing the filters (None: every row)."""
    import faiss

    total = index.ntotal
    if not total or n <= 0 or (allowed is not None and not len(allowed)):
        return [[] for _ in range(len(qvecs))]
    params = None
    if allowed is not None:
        sel = faiss.IDSelectorBatch(allowed.astype(np.int64))
        if hasattr(index, "nprobe"):  # IVF refuses the generic parameter type
            params = faiss.SearchParametersIVF(sel=sel, nprobe=index.nprobe)
        else:
            params = faiss.SearchParameters(sel=sel)
        n = min(n, len(allowed))
    scores, idx = index.search(np.ascontiguousarray(qvecs, dtype=np.float32), min(n, total), params=params)
    return [[(int(i), float(s)) for i, s in zip(row_i, row_s) if i >= 0] for row_i, row_s in zip(idx, scores)]
