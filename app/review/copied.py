"""Paragraphs that repeat another unit's report nearly verbatim; wording shared by many units is boilerplate."""
from __future__ import annotations

from app.similar import shared_ratio, shared_spans

COPY_SHARE = 0.6  # share of a paragraph's characters inside long runs also found in one other report
RUN_CHARS = 8  # runs shorter than this are common phrasing, not copying
MIN_CHARS = 30  # shorter paragraphs are too short to call copied
BOILERPLATE_UNITS = 3  # the same wording in reports of this many units is boilerplate (套话), not copying
MARGIN = 200  # chars around a matched passage, so a paragraph spanning two passages is still compared whole


def _window(searcher, chunk, texts: dict[str, str], width: int) -> tuple[str, int]:
    if chunk.report_id not in texts:
        texts[chunk.report_id] = searcher.report(chunk.report_id)["text"]
    text = texts[chunk.report_id]
    a = max(0, chunk.start - MARGIN - width // 2)
    return text[a: min(len(text), chunk.end + MARGIN + width // 2)], a


def copy_check(searcher, paragraph: str, hits, draft_unit: str, texts: dict[str, str]) -> dict | None:
    """{"kind": copied|same_unit|boilerplate, …} for a paragraph found nearly verbatim among its hits, else None."""
    if len(paragraph) < MIN_CHARS:
        return None
    found: dict[str, dict] = {}  # one entry per report, the best-overlapping window
    for hit in hits:
        c = hit.chunk
        window, offset = _window(searcher, c, texts, len(paragraph))
        spans = shared_spans(paragraph, window, min_len=RUN_CHARS)
        ratio = shared_ratio(paragraph, spans)
        if ratio < COPY_SHARE or (c.report_id in found and found[c.report_id]["overlap"] >= ratio):
            continue
        lo, hi = (spans[0][0], spans[-1][1]) if spans else (0, 0)
        found[c.report_id] = {"report_id": c.report_id, "report_title": c.report_title, "unit": c.unit,
                              "year": c.year, "chunk_id": c.chunk_id, "overlap": ratio,
                              "source_text": window[lo:hi], "shared": [[s - lo, e - lo] for s, e in spans]}
    if not found:
        return None
    units = {f["unit"] or f["report_id"] for f in found.values()}
    ranked = sorted(found.values(), key=lambda f: -f["overlap"])
    others = [f for f in ranked if not (draft_unit and f["unit"] == draft_unit)]
    if len(units - {draft_unit}) >= BOILERPLATE_UNITS:
        return {"kind": "boilerplate", "units": len(units), **others[0], "also": [f["report_title"] for f in others[1:]]}
    if others:
        return {"kind": "copied", **others[0], "also": [f["report_title"] for f in others[1:]]}
    return {"kind": "same_unit", **ranked[0], "also": []}
