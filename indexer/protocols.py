"""What app/ and eval/ may ask of a searcher: indexer.reader.Searcher and the tests' fake both satisfy it."""
from __future__ import annotations

from pathlib import PurePath
from typing import Protocol, runtime_checkable

from .config import Config
from .models import Chunk, Filters, Hit


@runtime_checkable
class SearcherProtocol(Protocol):
    """A read-only view of one index generation; tests/test_protocols.py fails when a side drifts from it."""

    cfg: Config
    manifest: dict  # how the index was built (settings, corpus, files, counts)
    chunks: list[Chunk]

    @property
    def gen_dir(self) -> PurePath:
        """Where the live generation is: messages and cache keys."""

    @property
    def embedder(self):
        """The query model once loaded (None before): reused to reopen after an upload."""

    def search_batch(self, queries: list[str], k: int | None = None, mode: str | None = None,
                     filters: Filters | None = None) -> list[list[Hit]]: ...

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None) -> list[Hit]: ...

    def similarity(self, query: str, texts: list[str]) -> list[float]:
        """Cosine-like closeness of the query to each text."""

    def embedded_text(self, text: str) -> str:
        """text as this index searches and embeds it (masked forms mapped back)."""

    def unknown_share(self, query: str) -> float:
        """Share of the query's words (two characters or more) that occur in no chunk."""

    def report(self, report_id: str) -> dict:
        """Metadata, text, sections and chunk spans of one report; QueryError when unknown."""

    def reports(self, filters: Filters | None = None) -> list[dict]:
        """Report metadata (no text) passing the filters, by title."""

    def facets(self) -> dict:
        """Sorted values of unit, level, year, topic and section_role."""

    def stats(self) -> dict:
        """Counts and settings for status lines."""
