"""Reciprocal rank fusion of ranked lists: pure functions."""
from __future__ import annotations


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
