"""What kind of section a question asks about, and how to put such passages first: pure functions."""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Sequence

from indexer.models import Hit

# Order matters: 「下一步如何解决存在的问题」 asks for plans.
_ROLE_CUES = (
    ("下一步计划", re.compile(r"下一步|下步|计划|打算|思路|安排|将如何|今后|明年|2024年")),
    ("存在问题", re.compile(r"问题|不足|短板|差距|薄弱|困难")),
)


def role_intent(question: str) -> str | None:
    """The section role a question asks about (存在问题 / 下一步计划), or None."""
    for role, cue in _ROLE_CUES:
        if cue.search(question):
            return role
    return None


def merge_role_hits(hits: Sequence[Hit], role_hits: Sequence[Hit], k: int, lead: int = 3) -> list[Hit]:
    """Up to `lead` passages of the asked-for role first, then the unfiltered ranking; renumbered, no repeats."""
    out, seen = [], set()
    for h in [*role_hits[:lead], *hits, *role_hits[lead:]]:
        if h.chunk.chunk_id not in seen:
            seen.add(h.chunk.chunk_id)
            out.append(h)
    return [replace(h, rank=i) for i, h in enumerate(out[:k], start=1)]
