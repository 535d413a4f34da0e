"""Offline deterministic back-end: picks the passage sentences that best answer the question and cites each."""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from indexer.models import Hit

from ..citations import bigrams, content_tokens, numbers, sentence_spans
from ..followup import find_entity
from ..notfound import NOT_FOUND_TEXT

MAX_CHARS = 300  # whole answer
MAX_SENTENCE = 120  # longer sentences are cut to the clauses around the best match
MIN_SCORE = 0.25  # below this the best sentence does not answer the question
TOPIC_WINDOW = 8  # an on-topic sentence among this many best ones restricts the answer to on-topic sentences
LEAD_IN_NOVELTY = 0.45  # below this share of new bigrams a sentence only restates the question
OTHER_UNIT_PENALTY = 0.5  # the question names a unit and the passage is from another one
_UNITS = "个百分点|万元|亿元|元|条|件|次|人次|个|人|篇|项|家|所|处|户|场|名|份|天|期|批|吨|亩"
_COUNT_RE = re.compile(rf"多少|几(?:{_UNITS})|数量|数目|总数|共计|比例|比率|占比|百分之|金额|(?:整改|公示|办结|覆盖|完成|入学|满意|回复|增长|达标|执行|结案)率")
_ASKED_UNIT_RE = re.compile(rf"(?:多少|几)({_UNITS})")
_ENUM_START = re.compile(r"^(?:[一二三四五六七八九十]+[、.]|（[一二三四五六七八九十\d]+）|\d+[.、]|第[一二三四五六七八九十]+部分)")
_CUES = {
    "problem": ("问题|不足|短板|困难|薄弱|差距|瓶颈", "存在问题", "问题|不足|不够|有待|薄弱|欠缺|不到位|单一|不及时|滞后|不高|不强|较少|缺乏"),
    "plan": ("下一步|计划|打算|安排|明年|今后|将来|2024", "下一步计划", "将|继续|持续|进一步|计划|力争|推动"),
    "measure": ("做法|措施|举措|如何|怎么|怎样|成效|经验|亮点|成绩", "做法与成效", ""),
}
_PER_REPORT_RE = re.compile(r"哪些(?:单位|部门|报告|地方|区县|街道|局)|哪个(?:单位|部门)|各(?:单位|部门)")


@dataclass(frozen=True)
class Intent:
    kind: str  # count | problem | plan | measure | general
    unit: str | None = None  # the unit a count question asks for ("条", "件", "%")
    role: str | None = None  # the section role that usually holds the answer
    cue: str = ""  # regex of words typical of answer sentences
    per_report: bool = False  # "哪些单位…": one sentence per report
    listing: bool = False  # "哪些/有什么": several sentences


def detect_intent(question: str) -> Intent:
    per_report = bool(_PER_REPORT_RE.search(question))
    listing = per_report or bool(re.search(r"哪些|有什么|有何|包括|都有|几个方面", question))
    if _COUNT_RE.search(question) and not re.search(r"哪些(?:问题|做法|措施)", question):
        m = _ASKED_UNIT_RE.search(question)
        unit = m.group(1) if m else None
        if unit is None and re.search(r"率|比例|比率|占比|百分之", question):
            unit = "%"
        if unit is None and re.search(r"金额|多少钱|资金", question):
            unit = "元"
        extreme = "最多|最高|不超过|上限|最大|最低|最少|不低于" if re.search(r"最多|最高|上限|最大|最低|最少", question) else ""
        return Intent("count", unit=unit, cue=extreme, per_report=per_report, listing=False)
    for kind, (ask, role, cue) in _CUES.items():
        if re.search(ask, question):
            return Intent(kind, role=role, cue=cue, per_report=per_report, listing=True)
    return Intent("general", per_report=per_report, listing=listing)


@dataclass(frozen=True)
class Candidate:
    n: int  # 1-based passage number
    text: str
    score: float
    report: str
    position: int = 0  # offset in the passage, to keep the report's order when listing
    in_role: bool = False  # from the section the intent points at (存在问题, 下一步计划…)
    cued: bool = False  # worded like the answers of the intent (不足, 有待…)
    follow: str = ""  # the next sentence, kept when this one only restates the question or ends with a colon


def _weight(token: str) -> float:
    return float(min(len(token), 4))


def _coverage(tokens: Sequence[str], text: str) -> float:
    total = sum(_weight(t) for t in tokens)
    return sum(_weight(t) for t in tokens if t in text) / total if total else 0.0


def _has_unit(text: str, unit: str | None) -> bool:
    found = numbers(text)
    if unit is None:
        return any(not shown.endswith(("年", "月", "日")) for shown, _ in found)
    if unit == "%":
        return any(core.endswith("%") or shown.endswith("个百分点") for shown, core in found)
    if unit == "元":
        return any(shown.endswith("元") for shown, _ in found)
    return any(shown.endswith(unit) for shown, _ in found)


def score_sentence(sentence: str, context: str, q_tokens: Sequence[str], q_bigrams: frozenset, intent: Intent,
                   role: str) -> float:
    """How well one passage sentence answers the question; context = report title and headings of its passage."""
    lex = 0.6 * _coverage(q_tokens, sentence)
    if q_bigrams:
        lex += 0.4 * len(q_bigrams & bigrams(sentence)) / len(q_bigrams)
    score = lex + 0.3 * _coverage(q_tokens, context)
    if intent.kind == "count":
        score += 0.6 if _has_unit(sentence, intent.unit) else (0.15 if _has_unit(sentence, None) else -0.3)
    if intent.role and role == intent.role:
        score += 0.45
    if intent.cue and re.search(intent.cue, sentence):
        score += 0.15
    return score


def _trim(sentence: str, q_tokens: Sequence[str], intent: Intent) -> str:
    """A long sentence cut down to the run of clauses around the best-matching one."""
    if len(sentence) <= MAX_SENTENCE:
        return sentence
    clauses = [m.group() for m in re.finditer(r"[^，,：:]*[，,：:]?", sentence) if m.group()]
    def clause_score(c: str) -> float:
        bonus = 0.5 if intent.kind == "count" and _has_unit(c, intent.unit) else 0.0
        return _coverage(q_tokens, c) + bonus
    best = max(range(len(clauses)), key=lambda i: clause_score(clauses[i]))
    lo, hi = best, best + 1
    while True:
        grown = False
        for lo2, hi2 in ((lo, hi + 1), (lo - 1, hi)):
            if 0 <= lo2 and hi2 <= len(clauses) and len("".join(clauses[lo2:hi2])) <= MAX_SENTENCE:
                lo, hi, grown = lo2, hi2, True
                break
        if not grown:
            break
    return "".join(clauses[lo:hi]).strip()


def candidates(question: str, passages: Sequence[Hit]) -> tuple[Intent, list[Candidate]]:
    """Every usable sentence of the passages, scored, best first."""
    intent = detect_intent(question)
    q_tokens = content_tokens(question)
    q_bigrams = bigrams(question)
    entity = find_entity(question, {h.chunk.unit for h in passages})
    if entity and not any(entity in f"{h.chunk.unit} {h.chunk.report_title}" for h in passages):
        entity = None  # no passage is from that unit: the retriever's choice stands
    out = []
    for n, hit in enumerate(passages, 1):
        c = hit.chunk
        context = " ".join([c.report_title, c.unit, *c.heading_path])
        other_unit = bool(entity) and entity not in f"{c.unit} {c.report_title}"
        text = c.text
        usable = [(s, text[s:e]) for s, e in sentence_spans(text)]
        usable = [(s, sent) for s, sent in usable if len(bigrams(sent)) >= 6 and not _is_heading(sent)]
        for i, (s, sent) in enumerate(usable):
            follow = ""
            if i + 1 < len(usable) and _leads_in(sent, q_bigrams):
                follow = _trim(usable[i + 1][1], q_tokens, intent)
            score = score_sentence(sent, context, q_tokens, q_bigrams, intent, c.section_role)
            score += 0.1 / n  # the retriever's ranking breaks ties
            if other_unit:
                score -= OTHER_UNIT_PENALTY
            in_role = intent.role is not None and c.section_role == intent.role
            cued = bool(intent.cue and re.search(intent.cue, sent))
            out.append(Candidate(n, _trim(sent, q_tokens, intent), score, c.report_id, s, in_role, cued, follow))
    out.sort(key=lambda cand: (-cand.score, cand.n))
    return intent, out


def _leads_in(sentence: str, q_bigrams: frozenset) -> bool:
    """A sentence that introduces its answer: ends with a colon, or mostly repeats the question."""
    if sentence.rstrip()[-1:] in "：:":
        return True
    sb = bigrams(sentence)
    return bool(sb) and len(sb - q_bigrams) / len(sb) < LEAD_IN_NOVELTY


def _is_heading(sentence: str) -> bool:
    """A heading line: no closing punctuation, and numbered or short."""
    if _ENUM_START.match(sentence) and len(sentence) <= 20 and not re.search(r"[，,；;]", sentence):
        return True  # 「一、强化组织保障。」 is a heading even with its full stop
    return sentence[-1] not in "。；;！？!?" and (bool(_ENUM_START.match(sentence)) or len(sentence) <= 16)


def _similar(a: str, b: str) -> bool:
    ba, bb = bigrams(a), bigrams(b)
    return bool(ba and bb) and len(ba & bb) / min(len(ba), len(bb)) >= 0.7


def select(intent: Intent, cands: Sequence[Candidate]) -> list[Candidate]:
    """The sentences of the answer: the best one, then others close to it, within the length budget."""
    if not cands or cands[0].score < MIN_SCORE:
        return []
    if intent.role:
        # "存在哪些问题": once problem sentences are at hand, achievements are noise.
        for attr in ("in_role", "cued"):
            if any(getattr(c, attr) for c in cands[:TOPIC_WINDOW]):
                cands = [c for c in cands if getattr(c, attr)]
                break
        if not cands:
            return []
    best = cands[0].score
    if intent.kind == "count":
        limit, floor = 2, 0.8 * best
    elif intent.listing or intent.per_report:
        limit, floor = 5 if intent.per_report else 4, 0.6 * best
    else:
        limit, floor = 3, 0.7 * best
    chosen: list[Candidate] = []
    used = 0
    for cand in cands:
        if len(chosen) >= limit or cand.score < max(floor, MIN_SCORE):
            break
        if intent.per_report and any(c.report == cand.report for c in chosen):
            continue
        if any(_similar(t, x) for c in chosen for x in (c.text, c.follow) for t in (cand.text, cand.follow) if t and x):
            continue
        if chosen and used + len(cand.text) + len(cand.follow) > MAX_CHARS:
            continue
        chosen.append(cand)
        used += len(cand.text) + len(cand.follow)
    if intent.kind != "count":
        # Listed points read best grouped by report and in the report's own order.
        first = {}
        for c in chosen:
            first.setdefault(c.report, len(first))
        chosen.sort(key=lambda c: (first[c.report], c.n, c.position))
    return chosen


def compose(chosen: Sequence[Candidate], passages: Sequence[Hit]) -> list[str]:
    """One line per sentence, each ending with its [n]; names the unit when sentences come from several reports."""
    several = len({c.report for c in chosen}) > 1
    out, named = [], set()
    for c in chosen:
        body = c.text.rstrip("。；;，,：: ")
        if several and c.report not in named:
            named.add(c.report)
            chunk = passages[c.n - 1].chunk
            who = chunk.unit or chunk.report_title
            if who and who not in body:
                body = f"{who}：{body}"
        out.append(f"{body}[{c.n}]。")
        if c.follow:
            out.append(f"{c.follow.rstrip('。；;，,：: ')}[{c.n}]。")
    return out


class ExtractiveGenerator:
    """Deterministic, offline, no model: quotes the best-matching sentences of the passages."""

    name = "extractive"

    def stream(self, question: str, passages: list[Hit], history: Sequence[tuple[str, str]] = ()) -> Iterator[str]:
        intent, cands = candidates(question, passages)
        sentences = compose(select(intent, cands), passages)
        if not sentences:
            yield NOT_FOUND_TEXT
            return
        text = ""
        for s in sentences:
            text += s
            yield text
