"""Pure retrieval metrics: answer-string relevance, recall@k, MRR, nDCG, bootstrap confidence intervals."""
from __future__ import annotations

import math
import re
import unicodedata

import numpy as np

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Compare form of a passage or an answer: NFKC (full-width digits → ASCII) and no whitespace at all."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or ""))


def apply_map(text: str, mapping) -> str:
    """Replace masked forms by their originals (longest first, so 'D支部' wins over 'D'-prefixed shorter keys)."""
    for masked, original in sorted(mapping, key=lambda kv: -len(kv[0])):
        text = text.replace(masked, original)
    return text


def is_relevant(norm_texts: tuple[str, ...] | list[str], norm_answers: list[str]) -> bool:
    """A passage is relevant when any of its normalised texts (display or searchable) holds a normalised answer."""
    return any(a and a in t for a in norm_answers for t in norm_texts)


def first_rank(flags: list[bool]) -> int | None:
    """1-based rank of the first True in a ranked list of relevance flags, None when there is none."""
    for i, f in enumerate(flags):
        if f:
            return i + 1
    return None


def recall_at(flags: list[bool], k: int) -> float:
    """Success@k: 1.0 when any of the first k results is relevant (one gold passage per question)."""
    return 1.0 if any(flags[:k]) else 0.0


def mrr_at(flags: list[bool], k: int) -> float:
    r = first_rank(flags[:k])
    return 1.0 / r if r else 0.0


def ndcg_at(flags: list[bool], k: int, n_relevant: int) -> float:
    """Binary-gain nDCG@k; n_relevant = relevant passages in the whole index (ideal list length, capped at k)."""
    dcg = sum(1.0 / math.log2(i + 2) for i, f in enumerate(flags[:k]) if f)
    ideal_n = min(k, max(n_relevant, sum(1 for f in flags[:k] if f)))
    idcg = sum(1.0 / math.log2(i + 2) for i in range(ideal_n))
    return dcg / idcg if idcg else 0.0


def doc_recall_at(ranked_doc_ids: list[set[str]], gold: set[str], k: int) -> float:
    """1.0 when one of the first k results comes from a gold document; each result may carry several ids."""
    return 1.0 if any(ids & gold for ids in ranked_doc_ids[:k]) else 0.0


def bootstrap_ci(values, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean, with a fixed seed so reports are reproducible."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return (float("nan"), float("nan"))
    if x.size == 1:
        return (float(x[0]), float(x[0]))
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    return float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2))


def summarise(values, seed: int = 0) -> dict:
    """Mean and 95% CI of per-question scores, as the reports print them."""
    x = list(values)
    lo, hi = bootstrap_ci(x, seed=seed)
    return {"mean": float(np.mean(x)) if x else float("nan"), "lo": lo, "hi": hi, "n": len(x)}


def percentile(values, q: float) -> float:
    x = np.asarray(values, dtype=np.float64)
    return float(np.percentile(x, q)) if x.size else float("nan")
