"""Similar wording: split pasted text into sentences, find the closest passages, mark the characters they share."""
from __future__ import annotations

import re
from difflib import SequenceMatcher

# A sentence ends at one of these marks (kept with the sentence); closing quotes/brackets stay attached.
_SENTENCE_END = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[”’」』）)]*|\n|$)")


def split_sentences(text: str, min_chars: int = 2) -> list[str]:
    """Split Chinese text into sentences at 。！？； (and line breaks); drop fragments shorter than min_chars."""
    out = []
    for m in _SENTENCE_END.finditer(text or ""):
        s = m.group(0).strip()
        if len(s.rstrip("。！？；!?;”’」』）)")) >= min_chars:
            out.append(s)
    return out


def shared_spans(query: str, passage: str, min_len: int = 2) -> list[tuple[int, int]]:
    """Spans of `passage` made of runs of at least min_len characters that also appear, in order, in `query`."""
    if not query or not passage:
        return []
    sm = SequenceMatcher(None, query, passage, autojunk=False)
    return [(b.b, b.b + b.size) for b in sm.get_matching_blocks() if b.size >= min_len]


def best_window(passage: str, spans: list[tuple[int, int]], width: int = 160) -> tuple[int, int]:
    """The window of `width` characters of passage that holds most shared characters (to show a long passage briefly)."""
    if len(passage) <= width or not spans:
        return 0, min(len(passage), width)
    best, best_start = -1, 0
    for start, _ in spans:
        lo = max(0, min(start - 20, len(passage) - width))
        covered = sum(max(0, min(e, lo + width) - max(s, lo)) for s, e in spans)
        if covered > best:
            best, best_start = covered, lo
    return best_start, best_start + width


def shared_ratio(sentence: str, spans: list[tuple[int, int]]) -> float:
    """Share of the sentence's characters found in the passage (0..1)."""
    return round(sum(e - s for s, e in spans) / max(1, len(sentence)), 3)


def match_sentences(searcher, text: str, k: int = 3, filters=None, max_sentences: int = 50) -> list[dict]:
    """For each sentence of text: its closest passages with shared spans — one search_batch call for all sentences."""
    sentences = split_sentences(text)[:max_sentences]
    if not sentences:
        return []
    hit_lists = searcher.search_batch(sentences, k=k, filters=filters)
    results = []
    for sentence, hits in zip(sentences, hit_lists):
        matches = []
        for hit in hits:
            d = hit.to_json()
            spans = shared_spans(sentence, d["text"])
            d["shared"] = [list(s) for s in spans]
            d["shared_ratio"] = shared_ratio(sentence, spans)
            matches.append(d)
        results.append({"sentence": sentence, "matches": matches})
    return results
