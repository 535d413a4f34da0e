"""Every figure of the draft with its context and, where the same unit has an earlier report, that year's figure."""
from __future__ import annotations

import re

from app.citations import MEASURES, bigrams, numbers, sentence_spans
from indexer.models import Filters

MIN_LABEL_MATCH = 0.35  # bigram overlap of the words before two figures for them to count as the same measure
_DATES = ("年", "月", "日", "天", "小时")
# "520余条": the shared number pattern stops at 余/多, so the measure after it is picked up here.
_ROUGH = re.compile(rf"(?:余|多)(?:万元|亿元|万|亿)?(?:{MEASURES})")
_LABEL_CUT = re.compile(r"[，,。；;：:、\n（）()]")
_FILLER = re.compile(r"^(?:其中|全年|今年以来|截至目前|累计|共计|共|均|已|达到|达|为|约|近|超过|超)+|(?:均|共计|共|累计|达到|达|为|约|近|超过|超)+$")


def _measure(written: str) -> str:
    return re.sub(r"^[\d,.\s]+", "", written)


def find_figures(text: str) -> list[dict]:
    """Figures with a measure word (条, 件, %, 万元 …; dates and bare numbers skipped): position, label, sentence."""
    out, cursor = [], 0
    sentences = sentence_spans(text)
    for written, core in numbers(text):
        start = text.find(written, cursor)
        if start < 0:
            continue
        rough = _ROUGH.match(text, start + len(written)) if not _measure(written) else None
        if rough:
            written, core = written + rough.group(), core + rough.group()[0]
        end = cursor = start + len(written)
        measure = _measure(written).lstrip("余多")  # "余条" compares with "条"; the value stays approximate
        if not measure or measure in _DATES or (start > 0 and text[start - 1] in "第"):
            continue
        head = text[max(0, start - 24):start]
        cut = max((m.end() for m in _LABEL_CUT.finditer(head)), default=0)
        label = _FILLER.sub("", head[cut:].strip())
        s, e = next(((a, b) for a, b in sentences if a <= start < b), (start, end))
        out.append({"text": written, "value": core, "measure": measure, "start": start, "end": end,
                    "label": label, "context": text[s:e]})
    return out


def _change(old: str, new: str) -> str:
    """"+43，+7.2%" when both are plain numbers of the same scale, else ""."""
    try:
        a, b = float(old.rstrip("%")), float(new.rstrip("%"))
    except ValueError:
        return ""
    if old.endswith("%") != new.endswith("%"):
        return ""
    diff = b - a
    txt = f"{diff:+g}" + ("个百分点" if new.endswith("%") else "")
    if a and not new.endswith("%"):
        txt += f"，{100 * diff / a:+.1f}%"
    return txt


def earlier_reports(searcher, unit: str, year: int | None) -> list[dict]:
    """The same unit's reports of earlier years, latest first (none when the draft's unit or year is unknown)."""
    if not unit or year is None:
        return []
    reps = [r for r in searcher.reports(Filters(unit=(unit,))) if r.get("year") and r["year"] < year]
    return sorted(reps, key=lambda r: (-r["year"], r["title"]))


def match_earlier(figs: list[dict], searcher, earlier: list[dict]) -> None:
    """Set fig["earlier"] to the best figure of the same measure and similar label in an earlier report (or None)."""
    pool = []
    for rep in earlier:
        text = searcher.report(rep["report_id"])["text"]
        for f in find_figures(text):
            pool.append((rep, f, bigrams(f["label"])))
    for fig in figs:
        mine, found = bigrams(fig["label"]), {}
        for rep, f, theirs in pool:
            if f["measure"] != fig["measure"] or not mine or not theirs:
                continue
            score = len(mine & theirs) / len(mine | theirs)
            if score >= MIN_LABEL_MATCH and len(mine & theirs) >= 2 and score > found.get(rep["report_id"], (0,))[0]:
                found[rep["report_id"]] = (score, rep, f)
        ranked = sorted(found.values(), key=lambda x: (-x[1]["year"], -x[0]))
        fig["earlier"] = _earlier(ranked[0], fig) if ranked else None
        # Another report of the same unit and year giving a different figure: show it, never pick one silently.
        fig["earlier_others"] = [_earlier(x, fig) for x in ranked[1:] if x[1]["year"] == ranked[0][1]["year"]]


def _earlier(found: tuple, fig: dict) -> dict:
    score, rep, f = found
    return {"year": rep["year"], "report_id": rep["report_id"], "report_title": rep["title"], "text": f["text"],
            "value": f["value"], "label": f["label"], "context": f["context"], "label_match": round(score, 3),
            "change": _change(f["value"], fig["value"])}
