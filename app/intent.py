"""What a question asks for (figure, list, per-unit, yes/no, problems, plans…): every cue list lives here, pure functions."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from indexer.models import Hit

from .citations import MEASURES

_RATE_WORD = re.compile(r"(?:整改|公示|办结|覆盖|完成|入学|满意|回复|增长|达标|执行|结案)率")
_COUNT_RE = re.compile(rf"多少|几(?:{MEASURES})|数量|数目|总数|共计|比例|比率|占比|百分之|金额|{_RATE_WORD.pattern}")
_MENTION_RE = re.compile(r"提到|提及|涉及|说到")  # 「哪些单位提到满意率」 asks who mentions it, not its figure
_ASKED_MEASURE_RE = re.compile(rf"(?:多少|几)({MEASURES})")
# Order matters: 「下一步如何解决存在的问题」 asks for plans. (role, cue in the question, cue of answer sentences)
ROLE_CUES = (
    ("下一步计划", re.compile(r"下一步|下步|计划|打算|思路|安排|将如何|今后|明年|来年"),
     # said of what is to come: 「制定了学习计划」「进一步完善」 also say what was done
     "下一步|下步|明年|来年|今后|将(?:继续|进一步|持续|着力|加强|推进|围绕|重点|不断)|力争"),
    ("存在问题", re.compile(r"问题|不足|短板|差距|薄弱|困难|瓶颈"),
     "问题|不足|不够|有待|薄弱|欠缺|不到位|单一|不及时|滞后|不高|不强|较少|缺乏"),
)
_MEASURE_Q = re.compile(r"做法|措施|举措|如何|怎么|怎样|成效|经验|亮点|成绩|创新")
_PER_UNIT_RE = re.compile(r"哪些(?:单位|部门|报告|地方|区县|街道|局|乡镇)|哪个(?:单位|部门)|哪几个|各(?:单位|部门)")
_LISTING_RE = re.compile(r"哪些|有什么|有何|包括|都有|几个方面")
# 「哪些单位没有收到申请」: a list of what did not happen; its lines must say so (未收到, 0件), not the figures of those
# who did.
_NEGATED_Q = re.compile(r"(?<!有)没有|未|尚未|从未|零")
NEGATED_ANSWER = re.compile(r"未(?!来)|没有|无|零|(?<![\d.])0(?:件|条|个|次|起|宗|人|项)")  # 未来产业城 says nothing
_YESNO_RE = re.compile(r"有没有|有无|是否|是不是|(?:有|开展|建立|实行|设立|举办|制定|出台)[^？?，,。]{0,20}吗[？?]?$")
# How a question may open before it says anything (「请问」「帮我查一下」): never part of a unit's name.
LEAD_IN = re.compile(r"^(?:请问一下|请问|请|我想知道|我想了解|想了解|帮我查一下|帮我查查|帮我查|帮我看看|查一下|问一下|告诉我)[，,\s]*")
# Words that only frame the question: dropped from the search query so they do not pull in unrelated passages.
# 请 only where the question opens with it: inside a word it is 依申请, 聘请, 请示 (「依申 公开」 found no passage).
_FRAME_RE = re.compile(r"请问|^请|帮我|查一下|告诉我|一共|分别|多少|哪些|哪个|哪几个|什么|是否|有没有|有无|是不是|吗|呢|[？?]")
_RELATIVE_YEARS = (("前年", -1), ("去年", 0), ("上一年", 0), ("上年度", 0), ("上年", 0), ("今年", 0), ("本年度", 0),
                   ("本年", 0), ("当年", 0))


@dataclass(frozen=True)
class Intent:
    """The shape of answer a question wants."""

    kind: str  # count | problem | plan | measure | general
    measure: str | None = None  # the measure a count question asks for ("条", "件", "%")
    measures: tuple[str, ...] = ()  # measures the question writes out (多少条…多少件): the answer's figure has one
    role: str | None = None  # the section role that usually holds the answer
    cue: str = ""  # regex of words typical of answer sentences
    per_unit: bool = False  # 「哪些单位」「分别」「各单位」: one line per unit
    listing: bool = False  # 「哪些/有什么」: several sentences
    yesno: bool = False  # 「有没有……」: yes or no first, then the evidence
    negated: bool = False  # 「哪些单位没有……」: the lines must say it did not happen

    @property
    def asks_section(self) -> bool:
        """Asks for a report's 存在问题 or 下一步 (a measure question's 做法与成效 role is every passage's)."""
        return self.kind in ("problem", "plan")


def role_intent(question: str) -> str | None:
    """The section role a question asks about (存在问题 / 下一步计划), or None."""
    for role, cue, _ in ROLE_CUES:
        if cue.search(question):
            return role
    return None


def detect_intent(question: str) -> Intent:
    intent = _detect(question)
    return replace(intent, negated=True) if intent.per_unit and _NEGATED_Q.search(question) else intent


def _detect(question: str) -> Intent:
    yesno = bool(_YESNO_RE.search(question))
    # 「有没有哪个单位……」 asks whether anyone does it: a yes/no judged on evidence by meaning, not a list.
    per_unit = bool(_PER_UNIT_RE.search(question)) and not yesno
    listing = per_unit or bool(_LISTING_RE.search(question))
    # A rate named only as what is mentioned (「提到满意度或满意率」) is no figure asked: 「提升群众满意度」 says it.
    rate_mentioned = _MENTION_RE.search(question) and not _COUNT_RE.search(_RATE_WORD.sub("", question))
    if _COUNT_RE.search(question) and not rate_mentioned and not re.search(r"哪些(?:问题|做法|措施)", question):
        m = _ASKED_MEASURE_RE.search(question)
        measure = m.group(1) if m else None
        if measure is None and re.search(r"率|比例|比率|占比|百分之", question):
            measure = "%"
        if measure is None and re.search(r"金额|多少钱|资金", question):
            measure = "元"
        extreme = "最多|最高|不超过|上限|最大|最低|最少|不低于" if re.search(r"最多|最高|上限|最大|最低|最少", question) else ""
        written = tuple(dict.fromkeys(_ASKED_MEASURE_RE.findall(question)))
        return Intent("count", measure=measure, measures=written, cue=extreme, per_unit=per_unit, yesno=yesno)
    for role, cue, answer_cue in ROLE_CUES:
        if cue.search(question):
            kind = "plan" if role == "下一步计划" else "problem"
            return Intent(kind, role=role, cue=answer_cue, per_unit=per_unit, listing=True, yesno=yesno)
    if _MEASURE_Q.search(question):
        return Intent("measure", role="做法与成效", per_unit=per_unit, listing=True, yesno=yesno)
    return Intent("general", per_unit=per_unit, listing=listing, yesno=yesno)


def relative_year(question: str, anchor: int | None) -> tuple[int | None, str]:
    """(year, word) for 去年/今年/上一年… resolved against the latest report year `anchor`; (None, "") if none.

    Users read last year's reports while drafting this year's: 去年 and the report's own 今年 are the same year.
    """
    if anchor is None:
        return None, ""
    for word, delta in _RELATIVE_YEARS:
        if word in question:
            return anchor + delta, word
    return None, ""


_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0", "Ｏ": "0"}
_CHINESE_YEAR = re.compile(r"二[〇零○Ｏ][一二三四五六七八九〇零○Ｏ]{2}(?=年)")


def years_in(question: str) -> list[str]:
    """The years a question names, written 2022 or 二〇二二年 (both are common in official writing), sorted."""
    chinese = ["".join(_DIGIT[c] for c in y) for y in _CHINESE_YEAR.findall(question)]
    return sorted({*re.findall(r"20\d\d", question), *chinese})


def search_query(question: str) -> str:
    """The question without relative-year and framing words, for retrieval; the question itself if nothing is left."""
    q = question
    for word, _ in _RELATIVE_YEARS:
        q = q.replace(word, "")
    q = _FRAME_RE.sub(" ", q)
    q = re.sub(r"\s+", " ", q).strip()
    return q if len(q) >= 2 else question


def first_unique(hits: Iterable[Hit], n: int, key: str = "chunk_id") -> list[Hit]:
    """The first n hits with distinct chunk.<key> (chunk_id: no repeats; report_id: one passage a report)."""
    out, seen = [], set()
    for h in hits:
        value = getattr(h.chunk, key)
        if value not in seen:
            seen.add(value)
            out.append(h)
    return out[:n]


def merge_role_hits(hits: Sequence[Hit], role_hits: Sequence[Hit], k: int, lead: int = 3) -> list[Hit]:
    """Up to `lead` passages of the asked-for role first, then the unfiltered ranking; renumbered, no repeats."""
    out = first_unique([*role_hits[:lead], *hits, *role_hits[lead:]], k)
    return [replace(h, rank=i) for i, h in enumerate(out, start=1)]
