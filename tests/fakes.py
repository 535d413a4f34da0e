"""Deterministic stand-ins for the embedding model and the LLM, for fast tests."""
from __future__ import annotations

import hashlib

import numpy as np


class FakeEmbedder:
    """Hashes character unigrams and bigrams into a fixed-size unit vector: similar texts get similar vectors."""

    name = "fake-hash-embedder"

    def __init__(self, dim: int = 64):
        self.dim = dim

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        for g in grams:
            h = int.from_bytes(hashlib.md5(g.encode("utf-8")).digest()[:4], "little")
            v[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def encode_passages(self, texts, show_progress: bool = False) -> np.ndarray:
        return np.stack([self._one(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_queries(self, texts, show_progress: bool = False) -> np.ndarray:
        return self.encode_passages(texts)
