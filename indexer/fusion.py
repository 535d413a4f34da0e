"""Fusion of ranked lists (reciprocal rank, or weighted z-scores of each list's scores): pure functions."""
from __future__ import annotations

import math


def rrf(rankings: list[list[int]], weights: list[float], k: int = 60) -> list[tuple[int, float]]:
    """Fuse ranked id lists; an id absent from a list gets nothing from it. Ties keep first-list order."""
    if len(rankings) != len(weights):
        raise ValueError("one weight per ranking")
    scores: dict[int, float] = {}
    first_seen: dict[int, tuple[int, int]] = {}
    for li, (ranking, w) in enumerate(zip(rankings, weights)):
        for rank, doc in enumerate(ranking):
            scores[doc] = scores.get(doc, 0.0) + w / (k + rank + 1)
            first_seen.setdefault(doc, (rank, li))
    return sorted(scores.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))


def zscore_fuse(lists: list[list[tuple[int, float]]], weights: list[float]) -> list[tuple[int, float]]:
    """Weighted sum of each list's z-scored scores ((s - mean) / std over that list's candidates).

    Unlike rank fusion, how far a list's top stands above its other candidates counts: a clear exact-term BM25 match
    is not outvoted by a flat dense list. An id absent from a list scores that list's lowest z (it fell below the
    list's cut); a list whose scores are all equal contributes 0. Ties keep first-seen order (list, then rank).
    """
    if len(lists) != len(weights):
        raise ValueError("one weight per list")
    zs: list[dict[int, float]] = []
    order: dict[int, int] = {}
    for lst in lists:
        vals = [s for _, s in lst]
        mean = sum(vals) / len(vals) if vals else 0.0
        std = math.sqrt(sum((s - mean) ** 2 for s in vals) / len(vals)) if vals else 0.0
        zs.append({doc: (s - mean) / std if std > 0 else 0.0 for doc, s in lst})
        for doc, _ in lst:
            order.setdefault(doc, len(order))
    floors = [min(z.values(), default=0.0) for z in zs]
    scores = {doc: sum(w * z.get(doc, lo) for z, w, lo in zip(zs, weights, floors)) for doc in order}
    return sorted(scores.items(), key=lambda kv: (-kv[1], order[kv[0]]))
