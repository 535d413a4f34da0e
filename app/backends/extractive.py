"""Offline deterministic back-end: quotes the passage sentences that best answer the question and cites each."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from indexer.models import Hit

from ..citations import bigrams
from ..evidence import (MIN_SCORE, TOPIC_WINDOW, Candidate, Signals, answers, candidates, evidence, has_figure,
                        on_role)
from ..intent import Intent, detect_intent
from ..notfound import NOT_FOUND_TEXT
from ..units import flatten, resolve_units

MAX_CHARS = 300  # whole answer (a list question gets LIST_CHARS)
LIST_CHARS = 1600
LIST_UNITS = 16  # units listed at most in a 「哪些单位」 answer (app.answer reads this many reports with evidence)
PER_REPORT = 2  # sentences a report's line quotes at most, each answering and not alike: a unit often says the thing
# asked twice (a measure, then its result), and the second is as much the answer as the first. A figure's line keeps
# one: a second figure of the same report would be another count (「5家放射源企业」 beside 「91家加油站点」).


def _similar(a: str, b: str) -> bool:
    ba, bb = bigrams(a), bigrams(b)
    return bool(ba and bb) and len(ba & bb) / min(len(ba), len(bb)) >= 0.7


def select(intent: Intent, cands: Sequence[Candidate], per_unit: bool = False) -> list[Candidate]:
    """The sentences of the answer: the best one, then others close to it, within the length budget.

    per_unit (「哪些单位」「分别」): the best PER_REPORT answering sentences of each report (one for a figure), one
    line per report.
    """
    cands = on_role(intent, cands)
    if intent.asks_section:
        cands = [c for c in cands if answers(intent, c)]  # 「存在哪些问题」: its problems only, never its measures
    elif (intent.kind == "count" or intent.yesno) and any(answers(intent, c) for c in cands[:TOPIC_WINDOW]):
        # A figure (or a 「有」) that names what was asked beats a better-scoring sentence about something else.
        cands = [c for c in cands if answers(intent, c)]
    if not cands or cands[0].score < MIN_SCORE:
        return []
    best = cands[0].score
    per_unit = per_unit or intent.per_unit
    each = 1 if intent.kind == "count" else PER_REPORT  # sentences of one report in its line
    budget = LIST_CHARS if per_unit else MAX_CHARS
    if per_unit:
        # Each line answers in its own report's words (answers() below), not next to the best line: a report that
        # echoes more of the question (「总结」 in 市审计局's 「年度工作总结」 for 「总结提到审计」) set a floor under others'.
        limit, floor = LIST_UNITS, 0.0
    elif intent.kind == "count":
        limit, floor = 2, 0.8 * best
    elif intent.listing:
        limit, floor = 4, 0.6 * best
    else:
        limit, floor = 3, 0.7 * best
    chosen: list[Candidate] = []
    used = 0
    for cand in cands:
        if len(chosen) >= limit or cand.score < max(floor, MIN_SCORE):
            break
        if per_unit and sum(c.report == cand.report for c in chosen) >= each:
            continue
        if per_unit and not answers(intent, cand):
            continue
        if intent.kind == "count" and chosen and not has_figure(f"{cand.text}{cand.follow}", None):
            continue  # a second sentence of a figure answer must hold a figure too
        # Alike sentences of one report repeat each other; of two reports they may disagree, and both are shown.
        if any(_similar(t, x) for c in chosen if not per_unit or c.report == cand.report
               for x in (c.text, c.follow) for t in (cand.text, cand.follow) if t and x):
            continue
        if chosen and used + len(cand.text) + len(cand.follow) > budget:
            continue
        chosen.append(cand)
        used += len(cand.text) + len(cand.follow)
    if intent.kind != "count" or per_unit:
        # Listed points read best grouped by report and in the report's own order.
        first = {}
        for c in chosen:
            first.setdefault(c.report, len(first))
        chosen.sort(key=lambda c: (first[c.report], c.n, c.position))
    return chosen


def compose(chosen: Sequence[Candidate]) -> list[str]:
    """One line per sentence, each ending with its [n] (app.answer labels each report's lines with its unit)."""
    out = []
    for c in chosen:
        out.append(f"{c.text.rstrip('。；;，,：: ')}[{c.n}]。")
        if c.follow:
            out.append(f"{c.follow.rstrip('。；;，,：: ')}[{c.n}]。")
    return out


class ExtractiveGenerator:
    """Deterministic, offline, no model: quotes the best-matching sentences of the passages."""

    name = "extractive"

    def stream(self, question: str, passages: list[Hit], history: Sequence[tuple[str, str]] = (),
               signals: Signals | None = None) -> Iterator[str]:
        intent = detect_intent(question)
        named = flatten(resolve_units(question, {h.chunk.unit for h in passages})[0])
        # Two reports of one unit may give different figures: each report's own figure, under its own title.
        reports = {h.chunk.report_id for h in passages if h.chunk.unit in named}
        per_unit = intent.per_unit or len(named) > 1 or (intent.kind == "count" and len(reports) > 1)
        # One line per report: each report's best sentence on its own merits, not reranked against other reports'.
        signals = signals or Signals()
        if per_unit:
            signals = replace(signals, similarity=None)
        intent, cands = candidates(question, passages, (), signals)
        chosen = select(intent, cands, per_unit=per_unit)
        if not chosen and intent.yesno and named:
            # 「市重点工程处有没有用动画……讲政策」: no sentence says it in the question's words, one stands out in meaning
            found = evidence(question, passages, named, signals)
            chosen = [found] if found else []
        sentences = compose(chosen)
        if not sentences:
            yield NOT_FOUND_TEXT
            return
        text = ""
        for s in sentences:
            text += s
            yield text
