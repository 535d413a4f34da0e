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
- ``AnswerState.sources``: Hit.to_json() plus "n" (the [n] of the markdown), "cited" (bool), "highlights"
  ([[start, end], ...] spans of that source's "text" that support the answer; empty until done) and "planted"
  (spans of sentences addressed to the assistant: shown, never quoted).
- ``AnswerState.markdown``: report and model text escaped (no HTML, headings or links get through), [n] markers
  kept, every statement under 「**单位（《报告》）**：」 (app.compose), and a ⚠ line naming any figure found in no cited
  passage (also in ``flagged_numbers``). Not found: 「资料中未找到……」 or, for a named unit, 「《…》中未找到……」, followed by
  the closest passages (of other units, labelled so).

The flow: plan the question (units named, year, shape: app.units, app.intent) → retrieve per asked unit → decide
"not found" on evidence in that unit's own text (score gates only for questions naming no unit) → back-end →
citation check → drop planted or unasked-unit sentences → labelled layout.
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
from .backends.extractive import LIST_UNITS
from .evidence import Candidate, Signals, closest, evidence
from .citations import (MIN_BIGRAMS, MIN_SUPPORT, NOT_FOUND_PREFIX, bigrams, escape_markdown, join_sentences,
                        sentence_spans, split_answer, strip_markers, support, verify)
from .compose import join_lines, labelled_markdown
from .followup import known_units, rewrite_followup
from .intent import Intent, detect_intent, first_unique, merge_role_hits, relative_year, search_query, years_in
from .rarity import idf
from .notfound import NOT_FOUND_TEXT, Thresholds, is_not_found, question_features
from .safety import is_planted, planted_spans
from .units import flatten, resolve_units, unit_label, without_units

__all__ = ["AnswerState", "Generator", "answer", "answer_stream", "make_generator", "validate_question"]

RELATED_SHOWN = 3
LIST_PASSAGES = 12  # a 「哪些单位」 question reads the best passage of this many reports, or more where they answer
LIST_POOL = 150  # …found among this many passages of the whole corpus
LIST_READ = 3  # the best passages of each of those reports that are read for its line (2 missed 2 lines of 36)
LIST_EVIDENCE = LIST_UNITS  # at most this many reports whose passage holds an answering sentence: all get a line
CLOSEST = "意思最接近的句子"  # heads a refusal's unconfirmed closest sentences (eval reads them: eval.answers)
YES_BY_MEANING = "有（资料的说法与问题用词不同，请核对原文）。"  # a 「有」 resting on meaning alone (evidence.by_meaning)
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
        planted = planted_spans(hit.chunk.text, sentence_spans(hit.chunk.text))
        d["planted"] = [list(x) for x in planted]  # sentences that address the assistant: shown, never quoted
        out.append(d)
    return out


def related_markdown(hits: Sequence[Hit], heading: str = "可能相关的资料：", start: int = 1) -> str:
    """The closest passages, for an answer the corpus does not hold; numbered from start (the sources' [n])."""
    if not hits:
        return ""
    lines = ["", "", heading]
    for n, hit in enumerate(hits[:RELATED_SHOWN], start):
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


@dataclass(frozen=True)
class Plan:
    """How a question is read: what to search, which units and year it asks about, what shape of answer it wants."""

    question: str
    query: str  # framing and relative-year words dropped
    intent: Intent
    groups: tuple[tuple[str, ...], ...]  # per unit the question names, the index units it may mean
    unknown: tuple[str, ...]  # unit-shaped names the index does not know
    year: int | None = None
    year_word: str = ""  # 去年/今年… as written, when the year was resolved from it
    years: tuple[int, ...] = ()  # the years of the named units' reports (of all reports when none is named)


def make_plan(question: str, searcher, units: Sequence[str]) -> Plan:
    groups, unknown = resolve_units(question, units)
    named = flatten(groups)
    years = sorted({int(r["year"]) for r in searcher.reports() if r.get("year") and (not named or r.get("unit") in named)})
    explicit = years_in(question)
    year, word = (int(explicit[0]), "") if len(explicit) == 1 else relative_year(question, years[-1] if years else None)
    return Plan(question, search_query(question), detect_intent(question), tuple(tuple(g) for g in groups),
                tuple(unknown), year, word, tuple(years))


def retrieve(plan: Plan, searcher, cfg: Config,
             filters: Filters | None) -> tuple[list[Hit], list[list[Hit]], int | None]:
    """(passages, per asked unit its passages, reports answering): that unit's own sections when the question names
    units; for a 「哪些单位」 list, how many reports' passages hold an answering sentence (None for other questions)."""
    base = filters or Filters()
    if plan.year and not base.year:
        base = dataclasses.replace(base, year=(plan.year,))
    k = cfg.search.k
    role = plan.intent.role if plan.intent.asks_section else None
    if plan.groups and not base.unit:
        per = k if len(plan.groups) == 1 else max(2, -(-k // len(plan.groups)))
        groups = []
        for g in plan.groups:
            f = dataclasses.replace(base, unit=g)
            hits = searcher.search(plan.query, k=per, filters=f)
            reports = [r["report_id"] for r in searcher.reports(f)]
            if len(reports) > 1 and plan.intent.kind == "count":
                # Two reports of one unit may each give the figure: read the best passages of every report.
                each = [searcher.search(plan.query, k=2, filters=dataclasses.replace(f, report_id=(r,)))
                        for r in reports]
                hits = first_unique([h for x in (*(x[:1] for x in each), hits, *(x[1:] for x in each)) for h in x],
                                    per + len(reports))
            if role and not base.section_role:
                hits = merge_role_hits(hits, searcher.search(plan.query, k=per, filters=dataclasses.replace(
                    f, section_role=(role,))), per)
            groups.append(hits)
        return _renumber([h for g in groups for h in g]), groups, None
    if role and not base.section_role:
        base = dataclasses.replace(base, section_role=(role,))
    if plan.intent.per_unit:
        pool = searcher.search(plan.query, k=LIST_POOL, filters=base)
        passages, answering = list_passages(plan.question, pool, signals_for(searcher))
        return _renumber(passages), [], answering
    return _renumber(searcher.search(plan.query, k=k, filters=base)), [], None


def signals_for(searcher, similarity=None) -> Signals:
    """What the evidence check knows of this index: word rarity, its mask map, and (for one question) meaning."""
    return Signals(similarity, idf(searcher), searcher.embedded_text)


def list_passages(question: str, hits: Sequence[Hit], signals: Signals | None = None) -> tuple[list[Hit], int]:
    """For 「哪些单位」: one passage a report, the reports whose passages hold an answering sentence first (in ranking
    order, up to LIST_EVIDENCE), then the best of the rest up to LIST_PASSAGES; and how many answer. A list is only
    as complete as the reports it reads, so every report found in the pool is checked, not only the first few."""
    by_report: dict[str, list[Hit]] = {}
    for h in hits:
        if len(by_report.setdefault(h.chunk.report_id, [])) < LIST_READ:
            by_report[h.chunk.report_id].append(h)
    answering, rest = [], []
    for report_hits in by_report.values():
        found = evidence(question, report_hits, (), signals)
        if found is not None and len(answering) < LIST_EVIDENCE:
            answering.append(report_hits[found.n - 1])
        else:
            rest.append(report_hits[0])
    return answering + rest[:max(0, LIST_PASSAGES - len(answering))], len(answering)


def _closest_markdown(hits: Sequence[Hit], near: Sequence[Candidate], heading: str, numbered: bool = True) -> str:
    """The closest sentence of each passage under a heading that says it is unconfirmed; cited [1].. in order, or by
    the candidate's own passage number where the passages are already numbered (numbered=False)."""
    if not near:
        return ""
    lines = [f"- {escape_markdown(unit_label(h.chunk.unit, h.chunk.report_title))}：{escape_markdown(c.text)}"
             f"[{i if numbered else c.n}]" for i, (h, c) in enumerate(zip(hits, near), 1)]
    return f"\n\n{heading}（未见明确表述，请核对原文，勿直接引用）：\n" + "\n".join(lines)


def _renumber(hits: Sequence[Hit]) -> list[Hit]:
    return [dataclasses.replace(h, rank=i) for i, h in enumerate(hits, start=1)]


def _notes(plan: Plan) -> list[str]:
    notes = []
    if plan.year_word and plan.year:
        notes.append(f"（“{plan.year_word}”按资料中最近的报告年份理解为{plan.year}年。）")
    if plan.unknown and plan.groups:
        notes.append(_unknown_note(plan))
    return notes


def _unknown_note(plan: Plan) -> str:
    """「资料中没有“市公积金中心”的报告。」 for the unit-shaped names the index does not know, or ""."""
    return "资料中没有" + "、".join(f"“{u}”" for u in dict.fromkeys(plan.unknown)) + "的报告。" if plan.unknown else ""


def _year_note(plan: Plan) -> str:
    """「资料中没有县住建局2022年的报告（只有2023年的）。」 when the year asked is none of the reports' years, or ""."""
    if plan.year is None or not plan.years or plan.year in plan.years:
        return ""
    whose = "、".join(u for g in plan.groups for u in g[:1])
    held = "、".join(f"{y}年" for y in plan.years)
    return f"资料中没有{whose}{plan.year}年的报告（只有{held}的）。"


def _why_not(plan: Plan) -> list[str]:
    """What the corpus lacks of the question's unit or year, said before a refusal: 「资料中没有……的报告」."""
    return [n for n in (_unknown_note(plan), _year_note(plan)) if n]


def _missing_label(group: Sequence[str], searcher) -> str:
    """「县住建局（《…》、《…》）」: the asked unit and every report of it that was searched."""
    titles = [r["title"] for r in searcher.reports(Filters(unit=tuple(group)))]
    unit = "、".join(group)
    return f"{unit}（{'、'.join(f'《{t}》' for t in titles)}）" if titles else unit


def _run(q, searcher, generator, cfg, filters, history, thresholds, prev_sources) -> Iterator[AnswerState]:
    t0 = time.monotonic()
    units = known_units(searcher)
    rewritten = rewrite_followup(q, history, units, prev_sources)
    plan = make_plan(rewritten, searcher, units)
    # The not-found gates were calibrated on the plain ranking, so they judge it.
    plain = list(searcher.search(rewritten, k=cfg.search.k, filters=filters))
    feats = question_features(searcher, rewritten, plain, units)
    # A question naming a known unit is judged on that unit's own text below (evidence), not on global scores.
    # So is a 「哪些单位」 list: each of its lines must answer in its own report's words (list_passages).
    by_evidence = bool(plan.groups) or plan.intent.per_unit
    found = (not (thresholds.refuse_mismatch and feats.mismatch)) if by_evidence else not is_not_found(feats, thresholds)
    hits, groups, answering = retrieve(plan, searcher, cfg, filters) if found else (plain, [], None)
    missing: list[str] = []
    topic = without_units(rewritten, units)

    seen: dict[str, float] = {}

    def similarity(texts):
        # The evidence check and the back-end weigh the same sentences: each is embedded once a question.
        todo = list(dict.fromkeys(t for t in texts if t not in seen))
        if todo:
            seen.update(zip(todo, searcher.similarity(topic, todo)))
        return [seen[t] for t in texts]

    signals = signals_for(searcher, similarity)

    said: list[Candidate | None] = []  # the evidence each answer rests on
    if found and groups:
        # Evidence, not scores: does the asked unit's own text hold a sentence that answers the question?
        kept = []
        for g_units, g_hits in zip(plan.groups, groups):
            said.append(evidence(rewritten, g_hits, flatten(plan.groups), signals))
            if said[-1] is None:
                missing.append(_missing_label(g_units, searcher))
            else:
                kept.extend(g_hits)
        hits = _renumber(kept)
    else:
        if found and plan.intent.yesno:
            said.append(evidence(rewritten, hits, (), signals))
            found = said[-1] is not None  # 「有没有……」 is answered 「有」 only on a sentence that says so
        if found and plan.intent.per_unit and not answering:
            found = False  # no report's own words answer: a list of neighbouring sentences would mislead
    first = time.monotonic() - t0

    def state(markdown, sources, done=False, not_found=False, flagged=()):
        timings = {"first_source_s": round(first, 4)}
        if done:
            timings["total_s"] = round(time.monotonic() - t0, 4)
        return AnswerState(q, rewritten, markdown, sources, not_found, list(flagged), done, timings, generator.name)

    def refused(said: str) -> str:
        # A question in other words than the reports' often has its sentence among these passages: the closest one is
        # shown, said to be unconfirmed, so the user need not read every passage. Not for a list (one line is no list),
        # nor a figure (one unit's figure shown for a question about none would be copied), nor where the unit or year
        # asked has no report (the closest would be another unit's or year's).
        skip = plan.intent.per_unit or plan.intent.kind == "count" or _why_not(plan)
        near = None if skip or not hits else closest(rewritten, hits, (), signals)
        shown = _closest_markdown([hits[near.n - 1]], [near], f"资料中{CLOSEST}", numbered=False) if near else ""
        return said + shown + related_markdown(hits)

    if found and groups and not hits:
        # The asked unit's own closest sentence first, said to be unconfirmed; then other units', labelled so.
        pairs = [(g, closest(rewritten, g, flatten(plan.groups), signals)) for g in groups if g]
        own, near = [g[c.n - 1] for g, c in pairs if c], [c for _, c in pairs if c]
        others = [h for h in plain if h.chunk.unit not in flatten(plan.groups)][:RELATED_SHOWN]
        text = join_lines([*_notes(plan), *(f"{escape_markdown(m)}中未找到与该问题直接相关的内容。" for m in missing)])
        text += _closest_markdown(own, near, f"所问单位报告中{CLOSEST}")
        yield state(text + related_markdown(others, "其他单位的相关资料（不是所问单位，仅供参考）：", start=len(own) + 1),
                    _sources([*own, *others]), done=True, not_found=True)
        return
    if not found:
        lead = "".join(escape_markdown(n) + "\n\n" for n in _why_not(plan))
        yield state(lead + refused(NOT_FOUND_TEXT), _sources(hits), done=True, not_found=True)
        return
    sources = _sources(hits)
    yield state("", sources)
    raw = ""
    for raw in generator.stream(rewritten, hits, history, signals=signals):
        yield state(join_sentences(split_answer(raw)), sources)
    if not raw.strip() or raw.strip().startswith(NOT_FOUND_PREFIX):
        said = escape_markdown(strip_markers(raw).strip()) if raw.strip() else NOT_FOUND_TEXT
        yield state(refused(said), sources, done=True, not_found=True)
        return
    v = verify(raw, [h.chunk.text for h in hits], [_context(h) for h in hits])
    sentences = keep_asked(v.sentences, hits, flatten(plan.groups))
    if not sentences:
        yield state(refused(NOT_FOUND_TEXT), sources, done=True, not_found=True)
        return
    flagged = [x for x in v.flagged_numbers if any(x in s.text for s in sentences)]
    # 「有」 on meaning alone says so: the report's words differ from the question's, and the user checks them
    by_meaning = bool(said) and all(e.by_meaning for e in said if e is not None)
    lead = (YES_BY_MEANING if by_meaning else "有。") if plan.intent.yesno else ""
    markdown = labelled_markdown(sentences, hits, _notes(plan), missing, lead, flagged)
    cited = sorted({n for s in sentences for n in s.cites})
    yield state(markdown, _sources(hits, v.highlights, cited), done=True, flagged=flagged)


def keep_asked(sentences, hits: Sequence[Hit], asked: Sequence[str]) -> list:
    """Sentences an answer may show: none quoting planted instructions, none citing only units not asked about, and
    none that no passage supports (a model's bare list of unit names, or a claim of its own)."""
    planted = [h.chunk.text[a:b] for h in hits for a, b in planted_spans(h.chunk.text, sentence_spans(h.chunk.text))]
    out = []
    for s in sentences:
        if not s.cites and len(bigrams(s.text)) >= MIN_BIGRAMS and not s.text.startswith(NOT_FOUND_PREFIX):
            continue
        if is_planted(s.text) or any(support(s.text, p) >= MIN_SUPPORT for p in planted):
            continue
        if asked and s.cites and not any(hits[n - 1].chunk.unit in asked for n in s.cites if 0 < n <= len(hits)):
            continue
        out.append(s)
    return out


def answer(question: str, searcher, generator: Generator, cfg: Config, filters: Filters | None = None,
           history: Sequence[tuple[str, str]] = (), thresholds: Thresholds | None = None,
           prev_sources: Sequence[dict] = ()) -> AnswerState:
    """The final state of answer_stream."""
    last = None
    for last in answer_stream(question, searcher, generator, cfg, filters, history, thresholds, prev_sources):
        pass
    return last
