"""Decide from retrieval scores whether the corpus answers a question, with thresholds calibrated on labelled questions."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace

from indexer.models import Hit

from .citations import content_tokens

NOT_FOUND_TEXT = "资料中未找到与该问题直接相关的内容。"
COVERAGE_TOP = 3  # passages whose text counts for query-term coverage


@dataclass(frozen=True)
class Features:
    """What retrieval tells about one question; None = that signal is not available (e.g. bm25-only search)."""

    top_score: float | None  # hybrid (or the search mode's) score of the first hit
    top_dense: float | None  # best dense cosine among the hits
    top_bm25: float | None  # best BM25 score among the hits
    coverage: float  # best share of the question's content terms found in one of the top passages


@dataclass(frozen=True)
class Thresholds:
    """A question is answerable when every available feature reaches its threshold (0 disables a gate)."""

    min_score: float = 0.0
    min_dense: float = 0.0
    min_bm25: float = 0.0
    min_coverage: float = 0.5


def features(question: str, hits: Sequence[Hit]) -> Features:
    """Features of a question's hits (best first)."""
    if not hits:
        return Features(None, None, None, 0.0)
    dense = [h.dense_score for h in hits if h.dense_score is not None]
    bm25 = [h.bm25_score for h in hits if h.bm25_score is not None]
    terms = set(content_tokens(question))
    coverage = 1.0
    if terms:
        coverage = max(
            sum(t in f"{h.chunk.report_title}\n{h.chunk.search_text}\n{h.chunk.text}" for t in terms) / len(terms)
            for h in hits[:COVERAGE_TOP]
        )
    return Features(
        float(hits[0].score),
        max(dense) if dense else None,
        max(bm25) if bm25 else None,
        coverage,
    )


def labelled_rows(searcher, questions: Iterable[dict], k: int = 5) -> list[tuple[Features, bool]]:
    """(features, answerable) for eval questions {"question", "type"}; type "no_answer" means not answerable."""
    items = [q for q in questions if str(q.get("question", "")).strip()]
    hits = searcher.search_batch([q["question"] for q in items], k=k) if items else []
    return [(features(q["question"], h), q.get("type") != "no_answer") for q, h in zip(items, hits)]


def is_answerable(f: Features, t: Thresholds = Thresholds()) -> bool:
    gates = (
        (f.top_score, t.min_score),
        (f.top_dense, t.min_dense),
        (f.top_bm25, t.min_bm25),
        (f.coverage, t.min_coverage),
    )
    if f.top_score is None and f.top_dense is None and f.top_bm25 is None:
        return False  # no hits at all
    return all(value is None or value >= threshold for value, threshold in gates)


def is_not_found(f: Features, t: Thresholds = Thresholds()) -> bool:
    return not is_answerable(f, t)


def evaluate(rows: Sequence[tuple[Features, bool]], t: Thresholds) -> dict:
    """Confusion counts and balanced accuracy of thresholds on (features, answerable) rows."""
    tp = sum(1 for f, y in rows if y and is_answerable(f, t))
    tn = sum(1 for f, y in rows if not y and not is_answerable(f, t))
    pos = sum(1 for _, y in rows if y)
    neg = len(rows) - pos
    recall_pos = tp / pos if pos else 1.0
    recall_neg = tn / neg if neg else 1.0
    return {
        "answerable_kept": tp, "answerable": pos, "no_answer_caught": tn, "no_answer": neg,
        "balanced_accuracy": (recall_pos + recall_neg) / 2,
    }


def _candidates(values: Iterable[float | None]) -> list[float]:
    vals = sorted({float(v) for v in values if v is not None})
    # Midpoints between observed values generalise better than the observed values themselves.
    return [0.0] + [(a + b) / 2 for a, b in zip(vals, vals[1:])] + vals[:1]


def calibrate(scored_questions: Iterable[tuple[Features, bool]], rounds: int = 3) -> Thresholds:
    """Pick thresholds maximising balanced accuracy on (features, answerable) rows.

    Coordinate ascent over each gate's candidate values; on ties the lower (more permissive) value wins, so a
    no-answer question is only refused when the data shows a gate separating it.
    """
    rows = list(scored_questions)
    if not rows:
        return Thresholds()
    attr = {"min_score": "top_score", "min_dense": "top_dense", "min_bm25": "top_bm25", "min_coverage": "coverage"}
    cands = {name: sorted(set(_candidates(getattr(f, a) for f, _ in rows))) for name, a in attr.items()}
    best = replace(Thresholds(), min_coverage=0.0)
    best_score = evaluate(rows, best)["balanced_accuracy"]
    for _ in range(rounds):
        improved = False
        for gate in fields(Thresholds):
            for value in cands[gate.name]:
                trial = replace(best, **{gate.name: value})
                score = evaluate(rows, trial)["balanced_accuracy"]
                if score > best_score + 1e-12:
                    best, best_score, improved = trial, score, True
        if not improved:
            break
    return best
