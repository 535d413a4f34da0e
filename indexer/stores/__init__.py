"""Chunk stores behind one interface (base.py): FAISS + bm25s files by default, Milvus when configured."""
from __future__ import annotations

from pathlib import Path

STORES = ("faiss", "milvus")


def open_store(cfg, index_dir: Path | None = None):
    """The ChunkStore of the configured kind ([index] store); index_dir only matters for FAISS."""
    if cfg.index.store == "milvus":
        from .milvus_store import MilvusStore

        return MilvusStore.open(cfg)
    from .faiss_store import FaissStore

    return FaissStore.open(cfg, index_dir)


def open_writer(cfg, index_root: Path):
    """The StoreWriter of the configured kind; index_root also holds the build lock for either kind."""
    if cfg.index.store == "milvus":
        from .milvus_store import MilvusWriter

        return MilvusWriter(cfg)
    from .faiss_store import FaissWriter

    return FaissWriter(cfg, index_root)
