"""The one store interface: the build path writes a generation through a StoreWriter, the reader reads a ChunkStore."""
from __future__ import annotations

from pathlib import PurePath
from typing import Protocol, runtime_checkable

import numpy as np

from ..models import Chunk, Filters, Report

FILTER_FIELDS = ("unit", "level", "year", "topic", "section_role", "report_id")
Ranked = list[tuple[int, float]]  # (row in ChunkStore.chunks, score), best first


@runtime_checkable
class ChunkStore(Protocol):
    """One live generation, read-only: chunk rows, report records, dense and sparse (BM25) search with filters."""

    manifest: dict
    location: PurePath  # where it lives (a generation directory, or milvus URI/collection): messages, cache keys
    chunks: list[Chunk]
    reports: dict[str, dict]

    def known(self, token: str) -> bool:
        """Whether a BM25 token occurs in some chunk."""

    def dense_search(self, qvecs: np.ndarray, n: int, filters: Filters | None) -> list[Ranked]:
        """Top n rows by inner product with each L2-normalised query vector, among rows passing filters."""

    def sparse_search(self, tokens: list[list[str]], n: int, filters: Filters | None) -> list[Ranked]:
        """Top n rows by BM25 score (> 0 only) for each tokenised query, among rows passing filters."""

    def dense_scores(self, qvec: np.ndarray, rows: list[int]) -> list[float]:
        """Exact inner product of one query vector with the given rows."""

    def sparse_scores(self, tokens: list[str], rows: list[int]) -> list[float]:
        """Exact BM25 score of one tokenised query for the given rows."""

    def size_bytes(self) -> int: ...

    def moved(self) -> bool:
        """Whether the live generation is no longer this one (another process switched it); cheap, asked every
        [index] refresh_s seconds."""


@runtime_checkable
class StoreWriter(Protocol):
    """Writes whole generations; a reader keeps answering from the previous one until the switch."""

    location: str

    def prepare(self) -> list[str]:
        """Remove what a killed build left; return the damage found in the live generation ([] when intact/absent)."""

    def current_manifest(self) -> dict | None:
        """Manifest of the live generation, None when there is none."""

    def previous_vectors(self, fingerprint: dict) -> dict[str, np.ndarray]:
        """Vectors of the live generation keyed by text_key(search_text), when its settings equal fingerprint."""

    def write(self, chunks: list[Chunk], vectors: np.ndarray, reports: list[Report], manifest: dict,
              tokens: list[list[str]]) -> str:
        """Write a complete generation, then make it live; returns where it is (for the build summary)."""


def text_key(text: str) -> str:
    """Key under which a chunk's vector is reused: the hash of the text that was embedded."""
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()
