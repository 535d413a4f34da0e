"""Wording to reuse: per paragraph, the closest passages of other units, same role and topic preferred.

similarity = share of the paragraph's characters found, in order, in the passage (app.similar's shared spans).
"""
from __future__ import annotations

from app.similar import shared_ratio, shared_spans

CANDIDATES = 10  # passages searched per paragraph; also the copy check's candidates
SHOWN = 3


def rank_matches(paragraph, hits, draft, shown: int = SHOWN) -> list[dict]:
    """Hits of other units, those of the paragraph's role and the draft's topic first, each with shared spans."""
    others = [h for h in hits if not (draft.unit and h.chunk.unit == draft.unit)]
    ranked = sorted(others, key=lambda h: ((h.chunk.section_role != paragraph.role) + (h.chunk.topic != draft.topic),
                                           h.rank))
    out = []
    for h in ranked[:shown]:
        c = h.chunk
        spans = shared_spans(paragraph.text, c.text)
        out.append({"report_id": c.report_id, "chunk_id": c.chunk_id, "report_title": c.report_title,
                    "unit": c.unit, "year": c.year, "heading_path": list(c.heading_path),
                    "section_role": c.section_role, "topic": c.topic, "text": c.text,
                    "similarity": shared_ratio(paragraph.text, spans), "score": round(float(h.score), 4),
                    "dense_score": None if h.dense_score is None else round(float(h.dense_score), 4),
                    "shared": [list(s) for s in spans]})
    return out
