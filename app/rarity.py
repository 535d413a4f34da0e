"""How telling a word is in this index: inverse document frequency over the chunk texts, computed on demand."""
from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from functools import lru_cache

_BY_SEARCHER: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def idf(searcher) -> Callable[[str], float]:
    """token → log((N+1)/(1+df)), df = chunks whose text holds the token (as the evidence check reads it: a substring).

    「政务公开」 is in most chunks and says little; 「AB岗」 or 「新闻发布会」 decide whether a sentence is about the question.
    One function per searcher: a rebuilt index gets its own counts.
    """
    f = _BY_SEARCHER.get(searcher)
    if f is None:
        texts = [searcher.embedded_text(c.text) for c in searcher.chunks]  # as the evidence reads them

        @lru_cache(maxsize=8192)
        def f(token: str) -> float:
            return math.log((len(texts) + 1) / (1 + sum(token in t for t in texts)))

        _BY_SEARCHER[searcher] = f
    return f
