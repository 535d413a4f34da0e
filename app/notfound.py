"""Decide from retrieval scores whether the corpus answers a question, with thresholds calibrated on labelled questions."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace

from indexer.config import AnswerConfig
from indexer.models import Hit

from .citations import content_tokens
from .followup import known_units
from .intent import years_in
from .units import resolve_units

NOT_FOUND_TEXT = "资料中未找到与该问题直接相关的内容。"
COVERAGE_TOP = 3  # passages whose text counts for query-term coverage


@dataclass(frozen=True)
class Features:
    """What retrieval tells about one question; None = that signal is not available (e.g. bm25-only search)."""

    top_score: float | None  # hybrid (or the search mode's) score of the first hit
    top_dense: float | None  # best dense cosine among the hits
    top_bm25: float | None  # best BM25 score among the hits
    coverage: float  # best share of the question's content terms found in one of the top passages
    unknown: float = 0.0  # share of the question's words that occur nowhere in the corpus (合肥市, 公积金 …)
    mismatch: bool = False  # the question names a unit or year that neither the index nor the top passages know


# The gates are the [answer] section of config.toml: one dataclass, so config and calibration cannot drift apart.
Thresholds = AnswerConfig


def features(question: str, hits: Sequence[Hit], unknown: float = 0.0, mismatch: bool = False) -> Features:
    """Features of a question's hits (best first); unknown and mismatch come from the searcher (question_features)."""
    if not hits:
        return Features(None, None, None, 0.0, unknown, mismatch)
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
        unknown,
        mismatch,
    )


def names_missing(question: str, hits: Sequence[Hit], units: Sequence[str]) -> bool:
    """True when the question names a year in no top passage, or only units that no index unit matches."""
    text = "".join(f"{h.chunk.report_title}{h.chunk.text}{h.chunk.year or ''}" for h in hits)
    if any(y not in text for y in years_in(question)):
        return True
    groups, unknown = resolve_units(question, units)
    return bool(unknown) and not groups and not any(u in text for u in unknown)


def question_features(searcher, question: str, hits: Sequence[Hit], units: Sequence[str]) -> Features:
    """features() with the signals only the searcher can give (its vocabulary; units = followup.known_units)."""
    return features(question, hits, float(searcher.unknown_share(question)), names_missing(question, hits, units))


def labelled_rows(searcher, questions: Iterable[dict], k: int = 5) -> list[tuple[Features, bool]]:
    """(features, answerable) for eval questions {"query" or "question", "type"}; type "no_answer" = not answerable."""
    items = [(str(q.get("query") or q.get("question") or "").strip(), q) for q in questions]
    items = [(text, q) for text, q in items if text]
    hits = searcher.search_batch([text for text, _ in items], k=k) if items else []
    units = known_units(searcher)
    return [(question_features(searcher, text, h, units), q.get("type") != "no_answer")
            for (text, q), h in zip(items, hits)]


def is_answerable(f: Features, t: Thresholds = Thresholds()) -> bool:
    gates = (
        (f.top_score, t.min_score),
        (f.top_dense, t.min_dense),
        (f.top_bm25, t.min_bm25),
        (f.coverage, t.min_coverage),
    )
    if f.top_score is None and f.top_dense is None and f.top_bm25 is None:
        return False  # no hits at all
    if t.refuse_mismatch and f.mismatch:
        return False
    return f.unknown <= t.max_unknown and all(value is None or value >= threshold for value, threshold in gates)


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


def _objective(m: dict, min_answerable: float) -> tuple:
    """Refusing an answerable question costs more than answering an unanswerable one: first keep at least
    min_answerable of the answerable questions, then catch as many no-answer questions as possible."""
    kept = m["answerable_kept"] / m["answerable"] if m["answerable"] else 1.0
    caught = m["no_answer_caught"] / m["no_answer"] if m["no_answer"] else 1.0
    return (kept >= min_answerable, caught + kept if kept >= min_answerable else kept)


def calibrate(scored_questions: Iterable[tuple[Features, bool]], rounds: int = 3,
              min_answerable: float = 0.9) -> Thresholds:
    """Pick thresholds on (features, answerable) rows: keep >= min_answerable answerable, catch most no-answers.

    Coordinate ascent over each gate's candidate values; on ties the more permissive value wins, so a
    no-answer question is only refused when the data shows a gate separating it.
    """
    rows = list(scored_questions)
    if not rows:
        return Thresholds()
    attr = {"min_score": "top_score", "min_dense": "top_dense", "min_bm25": "top_bm25", "min_coverage": "coverage"}
    cands = {name: sorted(set(_candidates(getattr(f, a) for f, _ in rows))) for name, a in attr.items()}
    unknown = sorted({f.unknown for f, _ in rows})
    # For an upper bound the permissive end is high: try from 1.0 down.
    cands["max_unknown"] = [1.0] + sorted({(a + b) / 2 for a, b in zip(unknown, unknown[1:])}, reverse=True)
    cands["refuse_mismatch"] = [False, True]
    best = replace(Thresholds(), min_coverage=0.0)
    best_score = _objective(evaluate(rows, best), min_answerable)
    for _ in range(rounds):
        improved = False
        for gate in fields(Thresholds):
            for value in cands[gate.name]:
                trial = replace(best, **{gate.name: value})
                score = _objective(evaluate(rows, trial), min_answerable)
                if score > best_score:
                    best, best_score, improved = trial, score, True
        if not improved:
            break
    return best
