"""Exact duplicates (same report in two files) kept once; near-duplicates linked both ways."""
from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import numpy as np

from .models import Report

_N = 5
_PERMS = 100
_BANDS = 20  # 20 bands × 5 rows: pairs at Jaccard 0.8 collide with probability > 0.999
EXACT_PAIRS_UP_TO = 300


def normalise(text: str) -> str:
    """Text compared for identity: whitespace and punctuation dropped, ASCII letters lower-cased."""
    return re.sub(r"[\s\W_]+", "", text).lower()


def text_hash(text: str) -> str:
    return hashlib.sha1(normalise(text).encode("utf-8")).hexdigest()


def shingles(text: str, n: int = _N) -> set[str]:
    t = normalise(text)
    return {t[i : i + n] for i in range(max(len(t) - n + 1, 1))} if t else set()


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _minhash(sh: set[str], seeds: np.ndarray) -> np.ndarray:
    ids = np.array([int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "little") for s in sh], dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = (ids[None, :] ^ seeds[:, None]) * np.uint64(0x9E3779B97F4A7C15)
        mixed ^= mixed >> np.uint64(31)
    return mixed.min(axis=1)


def candidate_pairs(sets: list[set[str]], exact_up_to: int = EXACT_PAIRS_UP_TO) -> set[tuple[int, int]]:
    """Pairs worth an exact Jaccard check: all of them for small inputs, else MinHash LSH band collisions."""
    n = len(sets)
    if n <= exact_up_to:
        return {(i, j) for i in range(n) for j in range(i + 1, n)}
    seeds = np.random.default_rng(1234).integers(0, 2**63, size=_PERMS, dtype=np.uint64)
    sigs = [_minhash(s, seeds) if s else None for s in sets]
    rows = _PERMS // _BANDS
    pairs: set[tuple[int, int]] = set()
    for b in range(_BANDS):
        buckets: dict[bytes, list[int]] = {}
        for i, sig in enumerate(sigs):
            if sig is not None:
                buckets.setdefault(sig[b * rows : (b + 1) * rows].tobytes(), []).append(i)
        for members in buckets.values():
            pairs.update((x, y) for k, x in enumerate(members) for y in members[k + 1 :])
    return pairs


def dedupe(reports: list[Report], threshold: float, exact_up_to: int = EXACT_PAIRS_UP_TO) -> list[Report]:
    """Keep the first of each exact duplicate (others' files in also_in); link pairs with 5-gram Jaccard >= threshold."""
    kept: list[Report] = []
    by_hash: dict[str, int] = {}
    also: list[list[str]] = []
    for r in reports:
        h = r.content_hash or text_hash(r.text)
        if h in by_hash:
            k = by_hash[h]
            if r.source_file != kept[k].source_file and r.source_file not in also[k]:
                also[k].append(r.source_file)
            continue
        by_hash[h] = len(kept)
        kept.append(r)
        also.append(list(r.also_in))
    sets = [shingles(r.text) for r in kept]
    near: list[set[str]] = [set(r.near_duplicates) for r in kept]
    for i, j in sorted(candidate_pairs(sets, exact_up_to)):
        if jaccard(sets[i], sets[j]) >= threshold:
            near[i].add(kept[j].report_id)
            near[j].add(kept[i].report_id)
    out = []
    for r, a, nd in zip(kept, also, near):
        changed = tuple(a) != r.also_in or tuple(sorted(nd)) != r.near_duplicates
        out.append(replace(r, also_in=tuple(a), near_duplicates=tuple(sorted(nd))) if changed else r)
    return out  # unchanged reports are the very objects passed in
