"""Report metadata from its title and opening text: issuing unit, administrative level, year, topic."""
from __future__ import annotations

import re

_YEAR = re.compile(r"(20\d{2})\s*年度?")
_MASKED_YEAR = re.compile(r"20(?:_+|X+|x+|\*+|某)\s*年度?")
_STOP = re.compile(r"政务公开|信息公开|法治政府|安全生产|定点帮扶|扶贫|帮扶|落实|关于|年度|工作|总结|报告|汇报")
_ORG_AFTER_YEAR = re.compile(r"^((?:XX|[\u4e00-\u9fff]){1,10}?(?:街道|市|县|区|镇|乡))(?=[\u4e00-\u9fff])")
_BARE = {"", "市", "区", "县", "乡", "镇", "街道", "乡镇"}
_LEVELS = ("街道", "镇", "乡", "区", "县", "市")
_SELF_LEVEL = re.compile(r"(?:我|全)(街道|镇|乡|区|县|市)")
TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("政务公开", ("政务公开", "信息公开")),
    ("法治政府建设", ("法治政府", "依法行政")),
    ("普法", ("普法", "法治宣传")),
    ("安全生产", ("安全生产",)),
    ("帮扶", ("扶贫", "帮扶", "乡村振兴")),
    ("民族宗教", ("民宗", "民族", "宗教")),
    ("教育", ("教育",)),
    ("卫生健康", ("卫健", "健康", "卫生")),
    ("生态环境", ("生态环境", "环保", "污染防治")),
)


def title_year(title: str, opening: str = "") -> int | None:
    """Year of the title ("2023年度" → 2023); a masked year (20_年) is unknown; else the opening text's first year."""
    m, masked = _YEAR.search(title), _MASKED_YEAR.search(title)
    if m and (not masked or m.start() < masked.start()):
        return int(m.group(1))
    if masked:
        return None
    m = _YEAR.search(opening[:200])
    return int(m.group(1)) if m else None


def title_unit(title: str, opening: str = "") -> str:
    """Issuing unit: the title before its year, minus report-type words; a bare level word is completed from the text."""
    y = _YEAR.search(title) or _MASKED_YEAR.search(title)
    head = title[: y.start()] if y else title
    stop = _STOP.search(head)
    unit = (head[: stop.start()] if stop else head).strip(" ：:“”\"")
    if not unit and y:
        m = _ORG_AFTER_YEAR.match(title[y.end() :])
        unit = m.group(1) if m else ""
    if unit in _BARE:
        wanted = ("镇", "乡") if unit == "乡镇" else ((unit,) if unit else _LEVELS)
        for m in re.finditer(r"XX(街道|镇|乡|区|县|市)", opening[:400]):
            if m.group(1) in wanted:
                return m.group(0)
    return unit


def unit_level(unit: str, opening: str = "") -> str:
    """Administrative level: the last level word in the unit name, else how the text names itself (我县/全市…)."""
    best, pos = "", -1
    for lv in _LEVELS:
        i = unit.rfind(lv)
        if i > pos:
            best, pos = lv, i
    if best:
        return best
    m = _SELF_LEVEL.search(opening[:500])
    return m.group(1) if m else ""


def topic_of(title: str, unit: str, text: str) -> str:
    """Topic from keywords: the title (unit name removed) first, then the unit name, then a clearly dominant text topic."""
    rest = title.replace(unit, "", 1) if unit else title
    for source in (rest, unit):
        hits = [(min(source.find(k) for k in kws if k in source), name) for name, kws in TOPICS if any(k in source for k in kws)]
        if hits:
            return min(hits)[1]
    counts = sorted(((sum(text.count(k) for k in kws), name) for name, kws in TOPICS), reverse=True)
    (top, name), (second, _) = counts[0], counts[1]
    if top >= 5 and top * 1000 >= 1.5 * max(len(text), 1) and top >= 2 * second:
        return name
    return "综合"


def extract_metadata(title: str, opening: str, search_text: str) -> dict:
    """unit, level, year, topic of one report; opening = first paragraph(s) of the body."""
    unit = title_unit(title, opening)
    return {
        "unit": unit,
        "level": unit_level(unit, opening),
        "year": title_year(title, opening),
        "topic": topic_of(title, unit, search_text),
    }
