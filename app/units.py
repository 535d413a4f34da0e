"""Which of the index's units a question names: full names, abbreviations (人社局 → 市人力资源和社会保障局), places."""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .intent import LEAD_IN

_LEVEL_PREFIX = re.compile(r"^(?:XX|[\u4e00-\u9fff]{0,4}?)(?:省|市|县|区|旗|镇|乡)(?=[\u4e00-\u9fffX]{2})")
# Where a unit mention ends: an organ word, or an administrative place (XX区, XX镇).
_ORGAN = r"(?:分局|局|委员会|委|办公室|办|处|中心|院|所|站|馆|联|队)"
_ORGAN_END = re.compile(r"(?:分局|局|委员会|委|办公室|办|处|中心|院|所|站|馆|联|队|街道|政府|产业城|市|县|区|镇|乡)")
_NOT_UNIT = ("单位", "部门", "哪", "各", "什么", "多少", "问题", "工作", "情况", "政府信息")
MIN_MENTION = 2
_FIELD_WORD = re.compile(r"部门|机关")
_QUESTION_WORD = re.compile(r"是否|有没有|有无|对")
_SUBJECT_FOLLOWS = r"(?=\d|二[〇零]|去年|今年|上一?年|前年|有没有|是否|分别|的|在|和|与|及|、)"
_GENERIC = re.compile(r"^(?:县区|区县|市县|县市(?!场)|乡镇|镇村)")  # 县区统计局: the counties' bureaus, not one unit
# 「管理局」 ends 市应急管理局 and 市数据资源管理局 alike: the tail of 县市场监督管理局 names none of them.
_BARE_ORGAN = re.compile(rf"^(?:管理|服务|事务|工作|监督|监督管理|综合|执法|发展|建设)?{_ORGAN}$")


def strip_level(unit: str) -> str:
    """市统计局 → 统计局; XX县XX镇 → XX镇; a bare place name stays as it is."""
    m = _LEVEL_PREFIX.match(unit)
    return unit[m.end():] if m else unit


def is_abbreviation(short: str, full: str) -> bool:
    """市人社局 abbreviates 市人力资源和社会保障局: same first and last character, the rest in order."""
    if len(short) < 3 or short[0] != full[:1] or short[-1] != full[-1:]:
        return False
    it = iter(full)
    return all(ch in it for ch in short)


def _level_of(name: str) -> str:
    m = re.match(r"^(?:XX)?(省|市|县|区|镇|乡)", name)
    return m.group(1) if m else ""


def _short_organ(name: str) -> str:
    """市卫生健康委员会 → 市卫生健康委, 市国防动员办公室 → 市国防动员办: the organ word as abbreviations end it."""
    for long, short in (("委员会", "委"), ("办公室", "办")):
        if name.endswith(long):
            return name[: -len(long)] + short
    return name


def matches(mention: str, unit: str) -> bool:
    """Does a mention in a question name this unit of the index (市卫生健康委员会 names 市卫健委)?"""
    if not mention or not unit:
        return False
    # 县发改委（粮储局）: named as either (县发展和改革委员会, 粮储局)
    plain = re.sub(r"[（(][^）)]*[）)]$", "", unit)
    if plain != unit and plain and matches(mention, plain):
        return True
    mention, unit = _short_organ(mention), _short_organ(unit)
    if mention == unit or (len(mention) >= 3 and mention in unit) or (len(unit) >= 3 and unit in mention):
        return True
    if mention.removeprefix("XX") == unit.removeprefix("XX"):
        return True
    lm, lu = _level_of(mention), _level_of(unit)
    if lm and lu and lm != lu:
        return False  # 县统计局 is not 市统计局
    sm, su = strip_level(mention), strip_level(unit)
    if len(sm) >= 3 and (sm == su or sm in su or is_abbreviation(sm, su) or is_abbreviation(su, sm)):
        return True
    return is_abbreviation(mention, unit)


def mentions(question: str) -> list[tuple[int, str]]:
    """Unit-shaped phrases of a question with their positions: the text before each organ or place word."""
    out = []
    for m in _ORGAN_END.finditer(question):
        end = m.end()
        start = end
        while start > 0 and re.match(r"[\u4e00-\u9fffX（）()]", question[start - 1]):
            start -= 1
        run = question[start:end]
        if len(run) >= MIN_MENTION:
            out.append((start, run))
    return out


def resolve_units(question: str, known: Iterable[str]) -> tuple[list[list[str]], list[str]]:
    """(groups, unknown): per unit the question names, in order, the index units it may mean; names matching none.

    A group holds several units when the name is ambiguous (数据资源管理局 → 市… and 区…).
    """
    placed, unknown, _ = _resolve(question, known)
    return [g for _, g in placed], unknown


def unit_topics(question: str, known: Iterable[str]) -> dict[str, str]:
    """「A……和B……分别……」: what is asked of each unit named, units taken out — the words after it up to the next unit,
    with what all share (before the first, and from 分别 on). 「区数据局局长和市机关事务管理局的每位局领导分别联系帮扶几户」:
    局长 is asked of the one, 每位局领导 of the other. {} where fewer than two units are named."""
    placed, _, spans = _resolve(question, known)
    if len(placed) < 2:
        return {}
    ends = dict(spans)
    tail = question.find("分别", ends.get(placed[-1][0], 0))
    tail = tail if tail >= 0 else len(question)
    head, rest = question[:placed[0][0]], question[tail:]
    out = {}
    for i, (at, group) in enumerate(placed):
        stop = placed[i + 1][0] if i + 1 < len(placed) else tail
        own = question[ends.get(at, at):stop].strip("和与及、，, ")
        for u in group:
            out.setdefault(u, without_units(f"{head}{own}{rest}", known))
    return out


def without_units(question: str, known: Iterable[str]) -> str:
    """The question with the units it names taken out: what it asks about, whoever reports it."""
    _, _, spans = _resolve(question, known)
    for s, e in sorted(spans, reverse=True):
        question = question[:s] + question[e:]
    return question


def first_mention(text: str, known: Iterable[str]) -> str | None:
    """The first unit a text names, as written there: a known unit by any of its names (人社局), else a unit-shaped
    name the index does not know (县残联); None when it names none (what a follow-up question leans on)."""
    _, _, spans = _resolve(text, known)
    if not spans:
        return None
    s, e = min(spans)
    return text[s:e]


Placed = list[tuple[int, list[str]]]  # where each unit is first named, and the index units it may mean


def _resolve(question: str, known: Iterable[str]) -> tuple[Placed, list[str], list[tuple[int, int]]]:
    # A one-character unit (乡) would be found in every 城乡/乡村: such units are named only through a longer mention.
    # Longest first; ties by name, so an ambiguous name lists its units in the same order on every run.
    known = set(known)
    # …but 「乡政府」 (or 「XX乡」, 「乡里」) names the unit filed as 乡.
    seats = {f"{xx}{u}{seat}": u for u in known if u and len(u) < MIN_MENTION
             for xx in ("", "XX") for seat in ("", "政府", "人民政府", "里") if xx or seat}
    known = sorted({u for u in known if len(u) >= MIN_MENTION}, key=lambda u: (-len(u), u))
    groups: list[list[str]] = []
    spans: list[tuple[int, int]] = []
    # Full names first: the longest known unit written out in the question wins its span.
    for u in (u for u in known if len(u) >= 3):
        for m in re.finditer(re.escape(u), question):
            s, e = m.start(), m.end()
            if _overlaps(s, e, spans):
                continue
            spans.append((s, e))
            # XX masks a place name: 「XX街道」 may be the report filed as 街道.
            groups.append((s, [u, *(v for v in known if v != u and v.removeprefix("XX") == u.removeprefix("XX"))]))
    # 「乡里」 as people say it: no organ word ends it, so it is looked for as it stands.
    for seat in sorted((x for x in seats if x.endswith("里")), key=lambda x: (-len(x), x)):
        for m in re.finditer(re.escape(seat), question):
            if question[m.start() - 1:m.start()] != "城" and not _overlaps(*m.span(), spans):
                spans.append(m.span())
                groups.append((m.start(), [seats[seat]]))
    # 「乡2023年受理了多少件」: a one-character unit that opens the question (or follows 和) and is followed by a year,
    # 的 or 有没有 names that unit; 「乡镇」「乡村」 do not.
    lead = LEAD_IN.match(question)  # 「帮我查一下市公积金中心…」: the name starts after the lead-in
    opening = lead.end() if lead else 0
    for u in set(seats.values()):
        for m in re.finditer(re.escape(u) + _SUBJECT_FOLLOWS, question):
            s = m.start()
            if (s == opening or (s and question[s - 1] in "和与及、")) and not _overlaps(s, m.end(), spans):
                spans.append(m.span())
                groups.append((s, [u]))
    unknown = []
    for start, run in mentions(question):
        end = start + len(run)
        if lead and start < lead.end() < end:
            start, run = lead.end(), question[lead.end():end]
        if any(s2 < end <= e2 for s2, e2 in spans):
            continue  # this organ word belongs to a unit already found
        # 「审计局和粮储局」: the run reaches back over a unit already found; what follows it is a mention of its own.
        cut = max((e2 for s2, e2 in spans if start < e2 <= end), default=start)
        cut += len(question[cut:end]) - len(question[cut:end].lstrip("和与及、"))
        start, run = cut, question[cut:end]
        if len(run) < MIN_MENTION:
            continue
        best: list[str] = []
        best_len = 0
        # The longest tail of the run that names known units: 「请问人社局」 → 人社局.
        for i in range(len(run) - MIN_MENTION + 1):
            tail = run[i:]
            # 「市城市管理局」: its tail 「市管理局」 abbreviates every 市…管理局 in order; a level and a bare organ name none
            if any(w in tail for w in _NOT_UNIT) or _BARE_ORGAN.match(strip_level(tail)):
                continue
            # 「县应急管理局」 is not 市应急管理局 even though its tail 应急管理局 is.
            level = next((ch for ch in reversed(run[:i]) if ch in "省市县区镇乡"), "")
            hits = [u for u in known if matches(tail, u) and not (level and _level_of(u) not in ("", level))]
            hits = hits or ([seats[tail]] if tail in seats else [])
            if hits and len(tail) > best_len:
                best, best_len = hits, len(tail)
        if best:
            spans.append((end - best_len, end))
            groups.append((end - best_len, best))
        else:
            tail = _unit_tail(run)
            if tail:
                unknown.append(tail)
                spans.append((end - len(tail), end))  # 「市公积金中心办理」: the 办 of 办理 is no second name
    # 「林草部门」「审计机关」: a known unit named by its field; never an unknown name (「相关部门」 names nobody).
    for m in _FIELD_WORD.finditer(question):
        if _overlaps(*m.span(), spans):
            continue
        for n in range(min(4, m.start()), 1, -1):  # the longest field before it that names known units
            hits = [u for u in known for organ in "局委办" if matches(question[m.start() - n:m.start()] + organ, u)]
            if hits:
                spans.append((m.start() - n, m.end()))
                groups.append((m.start() - n, list(dict.fromkeys(hits))))
                break
    groups.sort(key=lambda g: g[0])
    out: Placed = []
    for at, g in groups:
        if all(g != g2 for _, g2 in out):
            out.append((at, g))
    return out, unknown, spans


def _overlaps(s: int, e: int, spans: Iterable[tuple[int, int]]) -> bool:
    """Does the span s:e overlap one already taken by a name?"""
    return any(s < e2 and s2 < e for s2, e2 in spans)


def _unit_tail(run: str) -> str | None:
    """A unit-shaped name the index does not know (合肥市蜀山区, 市公积金中心, 县残联), or None for ordinary words.

    Only an organ after a level (县…局) or a place inside a place (…市…区) counts: 政务公开专区 is no unit.
    """
    run = _QUESTION_WORD.split(run)[-1]  # 「市统计局是否对县区统计局…」: no name reaches back over 是否对
    # 社区, 小区, 辖区 are no district: 「在社区里建微型消防站」 names no unit
    m = (re.search(r"(?:XX|[\u4e00-\u9fff]{0,4}?)(?:省|市|县|(?<![社小辖景片校街])区|镇|乡)[\u4e00-\u9fffX]{1,12}?" + _ORGAN + "$",
                   run)
         or re.search(r"[\u4e00-\u9fff]{2,4}(?:省|市|县)[\u4e00-\u9fff]{2,4}(?:市|县|区|镇|乡)$", run)
         or re.search(r"XX(?:街道|镇|乡)$", run))  # a masked place name
    cand = m.group() if m else ""
    if len(cand) < 3 or cand[0] in "全本该各我其每此" or _GENERIC.match(cand) or any(w in cand for w in _NOT_UNIT):
        return None
    return cand


def unit_label(unit: str, title: str) -> str:
    """How an answer names whose text it quotes: 「市统计局（《市统计局2023年…》）」, or the title alone."""
    if unit and title:
        return f"{unit}（《{title}》）"
    return f"《{title}》" if title else (unit or "（未识别单位）")


def flatten(groups: Sequence[Sequence[str]]) -> list[str]:
    out: list[str] = []
    for g in groups:
        out.extend(u for u in g if u not in out)
    return out
