"""The text that is searched: masked forms mapped back, the same for chunks at build time and for questions."""
from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=8)
def _mask_regex(pairs: tuple[tuple[str, str], ...]) -> tuple[re.Pattern | None, dict[str, str]]:
    mapping = dict(pairs)
    keys = sorted(mapping, key=len, reverse=True)  # longest first: 全面从严治D before D的
    return (re.compile("|".join(map(re.escape, keys))) if keys else None), mapping


def searchable(text: str, mask_map) -> str:
    """Text with masked forms mapped back (D员 → 党员, XX传 → 宣传); mask_map is a dict or (masked, plain) pairs."""
    pairs = tuple(mask_map.items()) if isinstance(mask_map, dict) else tuple(tuple(p) for p in mask_map)
    rx, mapping = _mask_regex(pairs)
    return rx.sub(lambda m: mapping[m.group(0)], text) if rx else text
