"""Question → retrieval → streamed answer with code-checked citations: the API the chat tab is built on.

Public API (used by the UI):

- ``make_generator(llm_cfg) -> Generator``: backend "extractive" | "endpoint" | "local" | "auto" (auto = local when
  llama-cpp-python and the verified model load here, else extractive). Raises ConfigError / ModelUnavailableError.
- ``Generator``: ``.name``; ``.stream(question, passages: list[Hit], history) -> Iterator[str]`` yielding the growing
  raw answer text with [n] markers (n = 1-based index into passages).
- ``answer_stream(question, searcher, generator, cfg, filters=None, history=(), thresholds=None, prev_sources=())
  -> Iterator[AnswerState]``.  Validation happens at call time, before the first state: an empty question or one
  longer than cfg.app.max_question_chars raises ``QueryError`` with a Chinese message (the UI shows str(exc)).
  The first state already carries ``sources`` (markdown "" and done=False, or the not-found answer with done=True);
  then one state per streamed piece (markdown escaped but citations not yet checked); the last state (done=True)
  has checked citations, highlights and flagged numbers. Back-end failures raise ``GenerationError`` from the
  iterator (after the sources state). ``history`` = (user question, assistant answer) pairs, oldest first;
  ``prev_sources`` = the previous AnswerState.sources (helps rewrite 「那存在哪些问题？」).
- ``answer(...)`` = the last state of answer_stream.
- ``AnswerState.sources``: Hit.to_json() plus "n" (the [n] of the markdown), "cited" (bool) and "highlights"
  ([[start, end], ...] spans of that source's "text" that support the answer; empty until done).
- ``AnswerState.markdown``: report and model text escaped (no HTML, headings or links get through), [n] markers
  kept; when not found, 「资料中未找到与该问题直接相关的内容。」 followed by the closest passages as 可能相关的资料.
  Numbers of the answer found in no cited passage are only in ``flagged_numbers`` (the UI warns about them).
"""
from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from indexer.config import Config
from indexer.errors import QueryError
from indexer.models import Filters, Hit

from .backends import Generator, make_generator
from .citations import NOT_FOUND_PREFIX, escape_markdown, join_sentences, split_answer, strip_markers, verify
from .followup import find_entity, known_units, rewrite_followup
from .intent import merge_role_hits, role_intent
from .notfound import NOT_FOUND_TEXT, Thresholds, is_not_found, question_features

__all__ = ["AnswerState", "Generator", "answer", "answer_stream", "make_generator", "validate_question"]

RELATED_SHOWN = 3
SNIPPET_CHARS = 80
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class AnswerState:
    """One snapshot of an answer being produced; the UI re-renders each."""

    question: str
    rewritten_query: str
    markdown: str
    sources: list[dict]
    not_found: bool = False
    flagged_numbers: list[str] = field(default_factory=list)
    done: bool = False
    timings: dict = field(default_factory=dict)  # {"first_source_s", "total_s"}
    backend: str = ""


def validate_question(question: str | None, max_chars: int) -> str:
    """The cleaned question, or QueryError with a message for the user."""
    if question is not None and not isinstance(question, str):
        raise QueryError("问题必须是文字。")
    q = _CONTROL.sub("", question or "").strip()
    if not q:
        raise QueryError("请输入要查询的问题。")
    if len(q) > max_chars:
        raise QueryError(f"问题过长（{len(q)} 字），请精简到 {max_chars} 字以内。")
    return q


def _context(hit: Hit) -> str:
    c = hit.chunk
    return " ".join([c.report_title, c.unit, *c.heading_path])


def _sources(hits: Sequence[Hit], highlights: dict | None = None, cited: Sequence[int] = ()) -> list[dict]:
    out = []
    for n, hit in enumerate(hits, 1):
        d = hit.to_json()
        d["n"] = n
        d["cited"] = n in cited
        d["highlights"] = (highlights or {}).get(n, [])
        out.append(d)
    return out


def related_markdown(hits: Sequence[Hit]) -> str:
    """The closest passages, for an answer the corpus does not hold."""
    if not hits:
        return ""
    lines = ["", "", "可能相关的资料："]
    for n, hit in enumerate(hits[:RELATED_SHOWN], 1):
        c = hit.chunk
        where = " › ".join(x for x in (c.report_title, *c.heading_path) if x)
        text = re.sub(r"\s+", " ", c.text).strip()
        snippet = text[:SNIPPET_CHARS] + ("……" if len(text) > SNIPPET_CHARS else "")
        lines.append(f"- [{n}] {escape_markdown(where)}：{escape_markdown(snippet)}")
    return "\n".join(lines)


def answer_stream(
    question: str,
    searcher,
    generator: Generator,
    cfg: Config,
    filters: Filters | None = None,
    history: Sequence[tuple[str, str]] = (),
    thresholds: Thresholds | None = None,
    prev_sources: Sequence[dict] = (),
) -> Iterator[AnswerState]:
    """Validate now, then stream AnswerStates (see the module docstring)."""
    q = validate_question(question, cfg.app.max_question_chars)
    history = [(str(t[0] or ""), str(t[1] or "")) for t in history or () if isinstance(t, (tuple, list)) and len(t) >= 2]
    if thresholds is None:
        thresholds = cfg.answer
    return _run(q, searcher, generator, cfg, filters, history, thresholds, prev_sources)


def _run(q, searcher, generator, cfg, filters, history, thresholds, prev_sources) -> Iterator[AnswerState]:
    t0 = time.monotonic()
    units = known_units(searcher)
    rewritten = rewrite_followup(q, history, units, prev_sources)
    hits = list(searcher.search(rewritten, k=cfg.search.k, filters=filters))
    # The not-found gates were calibrated on the plain ranking, so they judge it, not the role-merged one.
    found = not is_not_found(question_features(searcher, rewritten, hits, units), thresholds)
    role = role_intent(rewritten)
    if found and role and not (filters and filters.section_role):
        # 「市统计局存在哪些问题」 wants that unit's 存在问题 sections even where other sections score higher.
        unit = find_entity(rewritten, units)
        role_filters = dataclasses.replace(filters or Filters(), section_role=(role,))
        if unit in units and not (filters and filters.unit):
            role_filters = dataclasses.replace(role_filters, unit=(unit,))
        hits = merge_role_hits(hits, searcher.search(rewritten, k=cfg.search.k, filters=role_filters), cfg.search.k)
    first = time.monotonic() - t0

    def state(markdown, sources, done=False, not_found=False, flagged=()):
        timings = {"first_source_s": round(first, 4)}
        if done:
            timings["total_s"] = round(time.monotonic() - t0, 4)
        return AnswerState(q, rewritten, markdown, sources, not_found, list(flagged), done, timings, generator.name)

    if not found:
        yield state(NOT_FOUND_TEXT + related_markdown(hits), _sources(hits), done=True, not_found=True)
        return
    sources = _sources(hits)
    yield state("", sources)
    raw = ""
    for raw in generator.stream(rewritten, hits, history):
        yield state(join_sentences(split_answer(raw)), sources)
    if not raw.strip():
        yield state(NOT_FOUND_TEXT + related_markdown(hits), sources, done=True, not_found=True)
        return
    if raw.strip().startswith(NOT_FOUND_PREFIX):
        yield state(escape_markdown(strip_markers(raw).strip()) + related_markdown(hits), sources, done=True,
                    not_found=True)
        return
    v = verify(raw, [h.chunk.text for h in hits], [_context(h) for h in hits])
    yield state(v.markdown(), _sources(hits, v.highlights, v.cited), done=True, flagged=v.flagged_numbers)


def answer(question: str, searcher, generator: Generator, cfg: Config, filters: Filters | None = None,
           history: Sequence[tuple[str, str]] = (), thresholds: Thresholds | None = None,
           prev_sources: Sequence[dict] = ()) -> AnswerState:
    """The final state of answer_stream."""
    last = None
    for last in answer_stream(question, searcher, generator, cfg, filters, history, thresholds, prev_sources):
        pass
    return last
