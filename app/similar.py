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


def shared_ratio(sentence: str, spans: list[tuple[int, int]]) -> float:
    """Share of the sentence's characters found in the passage (0..1)."""
    return round(sum(e - s for s, e in spans) / max(1, len(sentence)), 3)


def sentence_spans(text: str, min_chars: int = 2) -> list[tuple[int, int]]:
    """(start, end) of each sentence of text, whitespace trimmed, split as split_sentences does."""
    out = []
    for m in _SENTENCE_END.finditer(text or ""):
        raw = m.group(0)
        a = m.start() + len(raw) - len(raw.lstrip())
        b = m.end() - (len(raw) - len(raw.rstrip()))
        if len(text[a:b].rstrip("。！？；!?;”’」』）)")) >= min_chars:
            out.append((a, b))
    return out


def similarity(a: str, b: str) -> float:
    """Character similarity of two sentences, 0..1 (2·matched / total length): one number to rank by and to show."""
    if not a or not b:
        return 0.0
    return round(SequenceMatcher(None, a, b, autojunk=False).ratio(), 3)


def best_sentence(draft: str, passage: str) -> tuple[int, int, float]:
    """The sentence of passage closest to the draft sentence: (start, end, similarity); the first one on ties."""
    spans = sentence_spans(passage) or [(0, len(passage))]
    scored = [(a, b, similarity(draft, passage[a:b])) for a, b in spans]
    return max(scored, key=lambda x: x[2])


def differing_spans(draft: str, sentence: str) -> list[tuple[int, int]]:
    """Spans of sentence whose wording is not in the draft: what the user would change if adopting it."""
    same = shared_spans(draft, sentence, min_len=2)
    out, pos = [], 0
    for a, b in same:
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b)
    if pos < len(sentence):
        out.append((pos, len(sentence)))
    return [(a, b) for a, b in out if sentence[a:b].strip("，、。；：！？,.;:!? ")]


def match_sentences(searcher, text: str, k: int = 3, filters=None, max_sentences: int = 50,
                    candidates: int = 4) -> list[dict]:
    """For each sentence of text: the k passages whose closest sentence is most alike, best first.

    One search_batch call fetches k·candidates passages per sentence; they are re-ranked by the similarity of their
    closest sentence to the draft sentence, the same figure the page shows, so rank and percentage always agree and
    a passage sharing only a slogan with the draft no longer beats one worded like it.
    """
    sentences = split_sentences(text)[:max_sentences]
    if not sentences:
        return []
    hit_lists = searcher.search_batch(sentences, k=k * candidates, filters=filters)
    results = []
    for sentence, hits in zip(sentences, hit_lists):
        matches, seen = [], set()
        for hit in hits:
            d = hit.to_json()
            a, b, score = best_sentence(sentence, d["text"])
            matched = d["text"][a:b]
            if matched in seen:
                continue
            seen.add(matched)
            spans = shared_spans(sentence, d["text"])
            d.update(shared=[list(x) for x in spans], shared_ratio=shared_ratio(sentence, spans),
                     matched_sentence=matched, matched_span=[a, b], similarity=score,
                     differs=[list(x) for x in differing_spans(sentence, matched)])
            matches.append(d)
        matches.sort(key=lambda m: -m["similarity"])
        results.append({"sentence": sentence, "matches": matches[:k]})
    return results
