"""The one Chinese tokenizer for BM25 (jieba search mode), used at index and at query time."""
from __future__ import annotations

import logging
import re
import threading
import unicodedata

TOKENIZER_NAME = "jieba-0.42.1-search-v1"

_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
# Function words that carry no retrieval signal in report prose; kept short on purpose.
_STOP = frozenset("的 了 和 与 及 等 在 是 对 为 将 把 被 并 或 也 就 都 而 其 之 以 于 中 上 下 个 有 我 我们 各 该 这 那 哪些 什么 如何 怎么 多少 吗 呢 了吗".split())
_lock = threading.Lock()
_ready = False


def loaded_jieba():
    """jieba with its default dictionary loaded once (from indexer.jiebadict's faster cache): every jieba user calls
    this, so whichever comes first pays the one load."""
    global _ready
    import jieba

    if not _ready:
        with _lock:
            if not _ready:
                from .jiebadict import initialize

                jieba.setLogLevel(logging.WARNING)
                initialize(jieba.dt, jieba)
                _ready = True
    return jieba


def normalise(text: str) -> str:
    """Full-width to half-width and lower case, so 2023 and ２０２３ are one token."""
    return unicodedata.normalize("NFKC", text).lower()


def tokenize_batch(texts: list[str]) -> list[list[str]]:
    jieba = loaded_jieba()
    out = []
    for text in texts:
        toks = []
        for tok in jieba.cut_for_search(normalise(text)):
            tok = tok.strip()
            if tok and _WORD.search(tok) and tok not in _STOP:
                toks.append(tok)
        out.append(toks)
    return out


def tokenize(text: str) -> list[str]:
    return tokenize_batch([text])[0]
