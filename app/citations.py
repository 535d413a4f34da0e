"""Check an answer's [n] citations against the passages by code: fix, remove or add them, flag unsupported numbers."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from indexer.tokenize import loaded_jieba

MIN_SUPPORT = 0.4  # share of a sentence's character bigrams found in the passage to keep a citation
STRONG_SUPPORT = 0.6  # an uncited sentence gets a citation only above this
MIN_BIGRAMS = 4  # shorter sentences ("综上：") are left alone: too short to judge
NOT_FOUND_PREFIX = "资料中未找到"

MARKER_RE = re.compile(r"\s*(?:\[(\d+(?:\s*[,，、]\s*\d+)*)\]|【(\d+(?:\s*[,，、]\s*\d+)*)】)")
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;]+[”」』）)]*|\n|$)")
_SENTENCE_END = "。！？!?；;"
# The measure words of counted figures, each before any word it starts (人次 before 人): one list for the question's
# 多少X (app.intent), the figures of answers and sources (here) and the draft review's figures (app.review).
MEASURES = "个百分点|万元|亿元|元|条|件|起|宗|场次|次|人次|个|人|篇|项|家|所|处|户|场|名|份|天|期|批|吨|亩|台|套|本|座"
_NUMBER_RE = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(%|％|‰|万亿|万|亿|千)?(?:余|多)?"
    rf"({MEASURES}|小时|年|月|日|公里|平方米|万)?"
)
_ENUMERATOR_RE = re.compile(r"(?m)^\s*\d+[.、）)](?!\d)")
_CJK_OR_ALNUM = re.compile(r"[\u4e00-\u9fffA-Za-z0-9%]")
_STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 有 哪些 什么 多少 几 吗 呢 么 请问 如何 怎么 怎样 哪 哪个 为 对 把 被 就 都 也 还 "
    "中 上 下 其 该 这 那 这个 那个 它 他们 我 我们 你 您 年 情况 方面 相关 一下 告诉 介绍 一个 主要 具体 "
    "开展 进行 工作 哪里 何 是否 有没有 没有 时候 时间 能 可以 会 要 呢 啊 吧 了解 关于".split()
)


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer: its text without markers, the passages it cites, what follows it (newlines)."""

    text: str
    cites: tuple[int, ...]
    tail: str = ""


@dataclass(frozen=True)
class Verification:
    """An answer after checking: corrected sentences, flagged numbers, highlight spans per cited passage."""

    sentences: tuple[AnswerSentence, ...]
    flagged_numbers: tuple[str, ...]
    highlights: dict[int, list[list[int]]]  # n -> [[start, end], ...] in that passage's text
    changes: tuple[tuple[str, int, tuple[int, ...], tuple[int, ...]], ...] = field(default=())  # (kind, i, old, new)

    @property
    def cited(self) -> list[int]:
        return sorted({n for s in self.sentences for n in s.cites})

    def text(self) -> str:
        return join_sentences(self.sentences, escape=False)

    def markdown(self) -> str:
        return join_sentences(self.sentences, escape=True)


# ---------- text units ----------

def strip_markers(text: str) -> str:
    return MARKER_RE.sub("", text)


@lru_cache(maxsize=128)  # verify() compares every answer sentence with every passage: each passage's set, once
def bigrams(text: str) -> frozenset[str]:
    """Character bigrams over the CJK/alphanumeric characters only (punctuation and markers ignored)."""
    chars = _CJK_OR_ALNUM.findall(strip_markers(text))
    return frozenset(chars[i] + chars[i + 1] for i in range(len(chars) - 1))


def cut(text: str) -> list[str]:
    """The words of text as the tokenizer cuts them, none left out (content_tokens keeps those that carry meaning)."""
    return loaded_jieba().lcut(strip_markers(text))


def content_tokens(text: str) -> list[str]:
    """jieba tokens that carry meaning: no punctuation, no stopwords, no single non-digit characters."""
    out = []
    for tok in cut(text):
        tok = tok.strip()
        if not tok or tok in _STOPWORDS or not _CJK_OR_ALNUM.search(tok):
            continue
        if len(tok) == 1 and not tok.isdigit():
            continue
        out.append(tok)
    return out


def numbers(text: str) -> list[tuple[str, str]]:
    """(as written, normalised core) for each figure in text; citation markers and list enumerators skipped."""
    text = _ENUMERATOR_RE.sub(lambda m: " " * len(m.group()), strip_markers(text))
    out = []
    for m in _NUMBER_RE.finditer(text):
        whole, frac, scale, unit = m.group(1), m.group(2) or "", m.group(3) or "", m.group(4) or ""
        scale = {"％": "%"}.get(scale, scale)
        if unit == "万" and not scale:
            scale, unit = "万", ""
        core = whole.replace(",", "") + frac + scale
        out.append((m.group().strip(), core))
    return out


def number_cores(text: str) -> frozenset[str]:
    return frozenset(core for _, core in numbers(text))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of a passage (split on 。！？； and newlines), surrounding whitespace excluded."""
    spans = []
    for m in _SENTENCE_RE.finditer(text):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


# ---------- answer sentences ----------

def _parse_cites(group: str) -> list[int]:
    return [int(x) for x in re.split(r"\s*[,，、]\s*", group) if x]


def split_answer(answer: str) -> list[AnswerSentence]:
    """Split an answer into sentences with their [n] markers; markers right after a sentence's end belong to it."""
    pieces: list[list] = []  # [raw text, tail]
    for m in _SENTENCE_RE.finditer(answer):
        raw = m.group()
        if not raw:
            continue
        lead = MARKER_RE.match(raw)
        if lead and pieces:
            pieces[-1][0] += lead.group()
            raw = raw[lead.end():]
        body = raw.rstrip("\n")
        tail = raw[len(body):]
        if body.strip():
            pieces.append([body, tail])
        elif pieces:
            pieces[-1][1] += raw
    out = []
    for raw, tail in pieces:
        cites: list[int] = []
        for m in MARKER_RE.finditer(raw):
            for n in _parse_cites(m.group(1) or m.group(2)):
                if n not in cites:
                    cites.append(n)
        out.append(AnswerSentence(strip_markers(raw).strip(), tuple(cites), tail))
    return out


def escape_markdown(text: str) -> str:
    """Make report or model text render literally (no headings, links, HTML, emphasis)."""
    text = re.sub(r"([\\`*_\[\]#|~])", r"\\\1", text.replace("**", ""))
    # Entities rather than backslashes for angle brackets: every Markdown renderer shows them as text, none as HTML.
    return text.replace("<", "&lt;").replace(">", "&gt;")


def join_sentences(sentences, escape: bool = True) -> str:
    parts = []
    for s in sentences:
        body = s.text
        cut = len(body)
        # The marker goes before the full stop but after a closing quote: never inside 「“……”」 a user copies.
        while cut > 0 and body[cut - 1] in _SENTENCE_END:
            cut -= 1
        core, punct = body[:cut], body[cut:]
        if escape:
            core, punct = escape_markdown(core), escape_markdown(punct)
        parts.append(core + "".join(f"[{n}]" for n in s.cites) + punct + s.tail)
    return "".join(parts).strip()


# ---------- support ----------

def support(sentence: str, passage: str) -> float:
    """Share of the sentence's bigrams found in the passage, halved when the passage has none of its figures."""
    sb = bigrams(sentence)
    if not sb:
        return 0.0
    score = len(sb & bigrams(passage)) / len(sb)
    nums = number_cores(sentence)
    if nums and not (nums & number_cores(passage)):
        score *= 0.5
    return score


def _judge(sentence: AnswerSentence, texts: list[str]) -> tuple[tuple[int, ...], float]:
    """Citations the sentence should carry (1-based) and the support of the best passage."""
    scores = [support(sentence.text, t) for t in texts]
    if not scores:
        return (), 0.0
    best = max(range(len(scores)), key=lambda i: scores[i])
    valid = [n for n in sentence.cites if 1 <= n <= len(texts)]
    keep = [n for n in valid if scores[n - 1] >= MIN_SUPPORT]
    if not keep and len(valid) > 1:
        # A sentence joining two passages is supported by their union, each contributing part of it.
        sb = bigrams(sentence.text)
        union = frozenset().union(*(bigrams(texts[n - 1]) for n in valid))
        if sb and len(sb & union) / len(sb) >= MIN_SUPPORT:
            keep = [n for n in valid if scores[n - 1] >= MIN_SUPPORT / 2]
            if len(keep) < 2:
                keep = []
    if keep:
        return tuple(keep), scores[best]
    threshold = MIN_SUPPORT if sentence.cites else STRONG_SUPPORT
    return ((best + 1,) if scores[best] >= threshold else ()), scores[best]


def highlight_spans(sentence: str, passage_text: str, min_overlap: float = 0.5) -> list[tuple[int, int]]:
    """Sentences of the passage that share most of their (or the answer sentence's) bigrams with it."""
    sb = bigrams(sentence)
    if not sb:
        return []
    scored = []
    for s, e in sentence_spans(passage_text):
        pb = bigrams(passage_text[s:e])
        if len(pb) < 2:
            continue
        common = len(sb & pb)
        # A short passage line (a heading) fully inside the sentence is not evidence for it.
        denom = min(len(sb), len(pb)) if len(pb) >= 8 else len(sb)
        scored.append((common / denom, s, e))
    if not scored:
        return []
    top = max(sc for sc, _, _ in scored)
    return [(s, e) for sc, s, e in scored if sc >= min_overlap or (sc == top and sc >= 0.3)]


def _merge(spans: list[tuple[int, int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def verify(answer: str, passages: list[str], contexts: list[str] | None = None) -> Verification:
    """Check every sentence's citations against the passages (texts, 1-based by position).

    contexts[i] (title, heading path) counts as support for passage i but is never highlighted.
    """
    contexts = contexts or [""] * len(passages)
    texts = [f"{c}\n{p}" for c, p in zip(contexts, passages)]
    sentences, changes, flagged = [], [], []
    spans: dict[int, list[tuple[int, int]]] = {}
    for i, sent in enumerate(split_answer(answer)):
        if sent.text.startswith(NOT_FOUND_PREFIX):
            sentences.append(AnswerSentence(sent.text, (), sent.tail))
            continue
        if len(bigrams(sent.text)) < MIN_BIGRAMS:
            cites = tuple(n for n in sent.cites if 1 <= n <= len(passages))
        else:
            cites, _ = _judge(sent, texts)
        if cites != sent.cites:
            kind = "added" if not sent.cites else "removed" if not cites else "fixed"
            changes.append((kind, i, sent.cites, cites))
        sentences.append(AnswerSentence(sent.text, cites, sent.tail))
        cited_nums = frozenset().union(*(number_cores(texts[n - 1]) for n in cites)) if cites else frozenset()
        for shown, core in numbers(sent.text):
            if core not in cited_nums and shown not in flagged:
                flagged.append(shown)
        for n in cites:
            spans.setdefault(n, []).extend(highlight_spans(sent.text, passages[n - 1]))
    highlights = {n: _merge(v) for n, v in spans.items()}
    return Verification(tuple(sentences), tuple(flagged), highlights, tuple(changes))
