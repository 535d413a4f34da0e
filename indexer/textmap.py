"""Text with a source map: every kept character remembers its index in the decoded source file."""
from __future__ import annotations

from typing import Iterable


def drop_spans(text: str, offsets: list[int], spans: Iterable[tuple[int, int]]) -> tuple[str, list[int]]:
    """Remove the characters inside spans (overlaps allowed); surviving characters keep their source offsets."""
    keep = bytearray(b"\x01") * len(text)
    for start, end in spans:
        if end > start:
            keep[max(start, 0) : min(end, len(text))] = b"\x00" * (min(end, len(text)) - max(start, 0))
    new_text = "".join(c for c, k in zip(text, keep) if k)
    new_offsets = [o for o, k in zip(offsets, keep) if k]
    return new_text, new_offsets


def line_spans(text: str) -> list[tuple[int, int, int]]:
    """(start, end_without_newline, end_with_newline) of every line."""
    out, pos = [], 0
    while pos < len(text):
        nl = text.find("\n", pos)
        if nl < 0:
            out.append((pos, len(text), len(text)))
            break
        out.append((pos, nl, nl + 1))
        pos = nl + 1
    return out
