"""Rewrite a follow-up question (「那存在哪些问题？」) into a standalone query naming the unit or report it is about."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .intent import LEAD_IN, detect_intent
from .units import first_mention, without_units

FOLLOWUP_STARTS = ("那么", "那", "这个", "这些", "这", "它们", "它的", "它", "该", "其", "他们的", "他们", "此外", "另外", "还有")
SHORT_QUESTION = 12  # characters; a question this short with no entity of its own leans on the previous one


def known_units(searcher) -> list[str]:
    """The unit names the searcher's index knows."""
    return [str(u) for u in searcher.facets().get("unit", []) if u]


def _clean(question: str) -> str:
    return LEAD_IN.sub("", question.strip())


def find_entity(text: str, known_units: Iterable[str] = ()) -> str | None:
    """The unit a text is about, as written there (app.units.first_mention), else None."""
    return first_mention(_clean(text), known_units)


def is_followup(question: str, known_units: Iterable[str] = ()) -> bool:
    """True when the question has no unit of its own and starts with a pronoun or is very short."""
    q = _clean(question)
    if find_entity(q, known_units):
        return False
    if q.startswith(FOLLOWUP_STARTS):
        return True
    # 「哪些单位开展过在线访谈？」 is short but asks across units: it leans on no earlier one
    return len(re.sub(r"[？?。！!\s]", "", q)) <= SHORT_QUESTION and not detect_intent(q).per_unit


def _strip_pronoun(question: str) -> str:
    q = _clean(question)
    for p in FOLLOWUP_STARTS:
        if q.startswith(p):
            q = q[len(p):].lstrip("，, ")
            break
    for p in ("个单位", "家单位", "单位", "个报告", "份报告", "报告", "个局", "局"):
        if q.startswith(p):
            q = q[len(p):].lstrip("，, ")
            break
    return q


def _swap_unit(question: str, previous: str, known_units: Sequence[str]) -> str | None:
    """「那县住建局呢？」 after a question about another unit: the previous question asked about the new unit."""
    q = re.sub(r"[？?。！!\s]", "", _strip_pronoun(question))
    entity = find_entity(q, known_units)
    if not entity or len(q) > len(entity) + 4:
        return None
    rest = q.replace(entity, "", 1)
    if rest not in ("", "呢", "的呢", "怎么样", "如何", "又如何", "的情况"):
        return None
    old = find_entity(previous, known_units)
    if not old or old == entity:
        return None
    return _clean(previous).replace(old, entity, 1)


def rewrite_followup(
    question: str,
    history: Sequence[tuple[str, str]] = (),
    known_units: Iterable[str] = (),
    prev_sources: Sequence[dict] = (),
) -> str:
    """A standalone query for question given the chat so far.

    history: (user question, assistant answer) pairs, oldest first. prev_sources: source dicts of the previous
    answer (AnswerState.sources), used when neither question names a unit. Unchanged when no rewrite is needed.
    """
    question = question.strip()
    known_units = [u for u in known_units if u]
    if not history:
        return question
    swapped = _swap_unit(question, history[-1][0], known_units)
    if swapped:
        return swapped
    if not is_followup(question, known_units):
        return question
    entity = None
    across = detect_intent(question).per_unit  # 「那各单位呢？」 carries the topic along, never one unit
    for prev_q, prev_a in ([] if across else reversed(history)):
        entity = find_entity(prev_q, known_units)
        if entity:
            break
        if prev_sources:
            top = prev_sources[0]
            entity = top.get("unit") or top.get("report_title")
            if entity:
                break
        entity = find_entity(prev_a or "", known_units)
        if entity:
            break
    rest = _strip_pronoun(question)
    if entity:
        return f"{entity}{rest}" if rest else entity
    # No unit anywhere: carry the previous question's topic along.
    prev = re.sub(r"[？?。！!]+$", "", _clean(history[-1][0]))
    if across:
        prev = without_units(prev, known_units)
    return f"{prev}，{rest}" if rest else prev
