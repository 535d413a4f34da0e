"""Sections and recurring items that peers of the draft's kind have and the draft lacks, each with peer passages."""
from __future__ import annotations

import re
from collections import Counter

from indexer.searchtext import searchable

from .peers import FIGURE_AFTER, MEASURED, Profile

ROLE_SHARE = 0.5  # a section role is expected when at least this share of peers has one
CHECKED_ROLES = ("做法与成效", "存在问题", "下一步计划")
MAX_MISSING_ITEMS = 8
EXAMPLES = 3
MIN_EXAMPLE_CHARS = 20  # a passage holding little more than its heading is no example
# Generous on the draft's side: a heading ("依申请公开情况") may give its figure a sentence or two later.
_NEAR_FIGURE = r"[\s\S]{0,150}?" + MEASURED
ITEM_SHARE_SHOWN = 0.5  # only wordings at least half the peers use are worth asking the drafter about
_INLINE = {
    "存在问题": re.compile(r"存在[^。；\n]{0,30}?(?:问题|不足|短板|差距)|有待(?:提高|提升|加强|完善)|不够(?:完善|全面|及时|规范)"),
    "下一步计划": re.compile(r"下一步|下步|明年|今后"),
}


def _example(chunk, span: tuple[int, int] | None = None, width: int = 160) -> dict:
    text = chunk.text
    a, b = (0, min(len(text), width)) if span is None else (max(0, span[0] - width // 3), min(len(text), span[0] + width))
    hl = [[span[0] - a, span[1] - a]] if span else []
    return {"report_id": chunk.report_id, "chunk_id": chunk.chunk_id, "report_title": chunk.report_title,
            "unit": chunk.unit, "year": chunk.year, "heading_path": list(chunk.heading_path),
            "section_role": chunk.section_role, "text": ("…" if a else "") + text[a:b] + ("…" if b < len(text) else ""),
            "highlight": [[s + (1 if a else 0), e + (1 if a else 0)] for s, e in hl]}


def _pick(chunks, peers_order: dict[str, int], want, limit: int = EXAMPLES) -> list:
    """Up to `limit` chunks that satisfy want(chunk), from distinct peer reports, the closest peers first."""
    out, seen = [], set()
    for c in sorted((c for c in chunks if c.report_id in peers_order), key=lambda c: (peers_order[c.report_id], c.start)):
        if c.report_id in seen:
            continue
        hit = want(c)
        if hit is not None and hit is not False:
            out.append((c, hit))
            seen.add(c.report_id)
            if len(out) >= limit:
                break
    return out


def _order(peers, draft) -> dict[str, int]:
    """Peers ranked for examples: those of the draft's level (市/县/…) first, then by title, so the choice is stable."""
    ranked = sorted(peers, key=lambda r: (r.level != draft.level, r.title))
    return {r.report_id: i for i, r in enumerate(ranked)}


def missing_sections(searcher, draft, peers, basis: str) -> list[dict]:
    """Section roles most peers have (存在问题, 下一步计划 …) that the draft has no heading for."""
    order = _order(peers, draft)
    out = []
    for role in CHECKED_ROLES:
        have = [r for r in peers if role in r.roles]
        share = len(have) / max(1, len(peers))
        if share < ROLE_SHARE or role in draft.roles:
            continue
        heads = Counter(h for r in have for ro, lvl, h in r.headings if ro == role and lvl <= 2 and h)
        examples = _pick(searcher.chunks, order, lambda c: c.section_role == role and len(c.text) >= MIN_EXAMPLE_CHARS)
        rx = _INLINE.get(role)
        inline = rx.search(draft.text) if rx else None
        note = (f"正文中有零星提及（“{draft.text[max(0, inline.start() - 8):inline.end() + 8].strip()}”），但没有独立成节。"
                if inline else "")
        out.append({"kind": "section", "name": role, "share": round(share, 3), "peers_with": len(have),
                    "peers_total": len(peers), "basis": basis,
                    "headings": [h for h, _ in heads.most_common(5)], "note": note,
                    "examples": [_example(c) for c, _ in examples]})
    return out


def missing_items(profile: Profile, searcher, draft, peers) -> list[dict]:
    """Recurring wordings of the draft's topic it never uses, and figures peers give with a wording it has none for."""
    items = profile.items(draft.topic)
    if not items:
        return []
    text = searchable(draft.text, searcher.cfg.parse.mask_map)
    order = _order(peers, draft)
    mask = searcher.cfg.parse.mask_map
    out = []
    for item in items:
        if item.term in text:
            if item.figure_share >= 0.3 and not re.search(re.escape(item.term) + _NEAR_FIGURE, text):
                kind, want = "figure", re.compile(re.escape(item.term) + FIGURE_AFTER)
            else:
                continue
        elif item.share >= ITEM_SHARE_SHOWN:
            kind, want = "item", re.compile(re.escape(item.term))
        else:
            continue

        def find(c, rx=want):
            m = rx.search(searchable(c.text, mask))
            return (m.start(), m.end()) if m else None

        examples = _pick(searcher.chunks, order, find)
        out.append({"kind": kind, "name": item.term, "share": item.share, "figure_share": item.figure_share,
                    "peers_with": round(item.share * len(peers)), "peers_total": len(peers),
                    "note": (f"同类报告中 {round(100 * item.figure_share)}% 给出了“{item.term}”的具体数字，草稿中没有。"
                             if kind == "figure" else ""),
                    "examples": [_example(c, span) for c, span in examples]})
    out.sort(key=lambda d: (d["kind"] != "figure", -d["share"]))
    return out[:MAX_MISSING_ITEMS]



