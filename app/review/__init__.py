"""Review a whole draft report against the corpus: missing sections and items, copied text, figures, wording to reuse."""
from __future__ import annotations

from indexer.errors import QueryError
from indexer.reader import MAX_QUERY_CHARS

from .copied import copy_check
from .draft import Draft, parse_draft
from .figures import earlier_reports, find_figures, match_earlier
from .peers import profile_for
from .structure import missing_items, missing_sections
from .wording import CANDIDATES, rank_matches

MODES = ("bm25", "hybrid")
DEFAULT_MODE = "bm25"
MIN_SEARCH_CHARS = 8  # shorter body lines ("特此报告。") are not worth a search


def review_text(searcher, text: str, mode: str = DEFAULT_MODE) -> dict:
    """The whole review of one draft as JSON-ready data; bad input raises an AssistantError with a Chinese message.

    mode: "bm25" (default) finds wording by shared words, in well under a second; "hybrid" adds the embedding model,
    which costs about 0.2 s per paragraph on two busy cores. Copy checks always use BM25: verbatim text is lexical.
    """
    if mode not in MODES:
        raise QueryError(f"未知审阅模式 {mode!r}（可选: {'、'.join(MODES)}）")
    draft = parse_draft(text, searcher.cfg.parse)
    profile = profile_for(searcher)
    peers, basis = profile.peers(draft.topic)
    searched = [p for p in draft.paragraphs if p.kind == "body" and len(p.text) >= MIN_SEARCH_CHARS]
    queries = [p.text[:MAX_QUERY_CHARS] for p in searched]
    lexical = searcher.search_batch(queries, k=CANDIDATES, mode="bm25") if queries else []
    wording = searcher.search_batch(queries, k=CANDIDATES, mode="hybrid") if queries and mode == "hybrid" else lexical
    copy_hits = {p.index: hits for p, hits in zip(searched, lexical)}
    hits_of = {p.index: hits for p, hits in zip(searched, wording)}
    texts: dict[str, str] = {}
    figs = find_figures(draft.text)
    earlier = earlier_reports(searcher, draft.unit, draft.year)
    match_earlier(figs, searcher, earlier)
    paragraphs = []
    for p in draft.paragraphs:
        hits = hits_of.get(p.index, [])
        check = copy_check(searcher, p.text, copy_hits[p.index], draft.unit, texts) if hits else None
        paragraphs.append({
            "index": p.index, "text": p.text, "start": p.start, "end": p.end, "kind": p.kind, "role": p.role, "heading_path": list(p.heading_path),
            "matches": rank_matches(p, hits, draft) if hits else [],
            "copied_from": None if check is None or check["kind"] == "boilerplate" else check,
            "boilerplate": check if check is not None and check["kind"] == "boilerplate" else None,
            "figures": [i for i, f in enumerate(figs) if p.start <= f["start"] < p.end],
        })
    for f in figs:
        f["paragraph"] = next((p.index for p in draft.paragraphs if p.start <= f["start"] < p.end), None)
    missing = missing_sections(searcher, draft, peers, basis) + missing_items(profile, searcher, draft, peers)
    return {
        "draft": {**draft.meta(), "chars": len(draft.text), "roles": sorted(draft.roles)},
        "basis": basis,
        "mode": mode,
        "earlier_reports": [{k: r[k] for k in ("report_id", "title", "year")} for r in earlier],
        "paragraphs": paragraphs,
        "missing": missing,
        "figures": figs,
        "summary": summarize(paragraphs, missing, figs),
    }


def summarize(paragraphs: list[dict], missing: list[dict], figs: list[dict]) -> dict:
    return {
        "missing_sections": [m["name"] for m in missing if m["kind"] == "section"],
        "missing_items": [m["name"] for m in missing if m["kind"] == "item"],
        "missing_figures": [m["name"] for m in missing if m["kind"] == "figure"],
        "copied": sum(1 for p in paragraphs if p["copied_from"] and p["copied_from"]["kind"] == "copied"),
        "same_unit_repeats": sum(1 for p in paragraphs if p["copied_from"] and p["copied_from"]["kind"] == "same_unit"),
        "boilerplate": sum(1 for p in paragraphs if p["boilerplate"]),
        "figures": len(figs),
        "figures_compared": sum(1 for f in figs if f.get("earlier")),
    }


__all__ = ["review_text", "Draft", "parse_draft"]
