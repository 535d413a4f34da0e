"""The app's stable functions (/ask, /similar, /report) over a Searcher, independent of the UI layout."""
from __future__ import annotations

import threading
from dataclasses import fields

from indexer.errors import AssistantError, QueryError
from indexer.models import Filters

from .similar import match_sentences

FILTER_KEYS = tuple(f.name for f in fields(Filters))


def parse_filters(raw) -> Filters | None:
    """A dict like {"unit": "市统计局", "year": [2023]} (values: one or a list; empty = no constraint) → Filters."""
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise QueryError("筛选条件必须是字典，例如 {\"unit\": [\"市统计局\"]}")
    unknown = set(raw) - set(FILTER_KEYS)
    if unknown:
        raise QueryError(f"未知的筛选项：{'、'.join(sorted(unknown))}；可用：{'、'.join(FILTER_KEYS)}")
    values = {}
    for key, value in raw.items():
        items = value if isinstance(value, (list, tuple)) else [value]
        items = [v for v in items if v not in (None, "")]
        try:
            values[key] = tuple(int(v) for v in items) if key == "year" else tuple(str(v) for v in items)
        except (TypeError, ValueError) as exc:
            raise QueryError(f"年份必须是整数：{items}") from exc
    f = Filters(**values)
    return None if f.is_empty() else f


class Service:
    """Holds the current Searcher (swapped after an upload) and the answer generator."""

    def __init__(self, searcher, generator, cfg, index_dir=None, embedder=None, corpus_dir=None):
        self.searcher, self.generator, self.cfg = searcher, generator, cfg
        # Reuse the searcher's loaded model so reopening after an upload does not load it again.
        self.embedder = embedder if embedder is not None else getattr(searcher, "_embedder", None)
        self.index_dir, self.corpus_dir = index_dir, corpus_dir
        self.lock = threading.Lock()  # uploads are serialised; searches read self.searcher without locking

    def stream(self, question: str, filters=None, history=(), prev_sources=()):
        """AnswerState updates (app.answer validates the question and raises QueryError for bad input)."""
        from app.answer import answer_stream

        return answer_stream(question, self.searcher, self.generator, self.cfg, filters=filters,
                             history=tuple(history), prev_sources=tuple(prev_sources))

    def ask(self, question: str, filters: dict | None = None) -> tuple[str, list[dict]]:
        """Answer markdown and cited sources; bad input gives a Chinese message and no sources."""
        try:
            state = None
            for state in self.stream(question, parse_filters(filters)):
                pass
        except AssistantError as exc:
            return f"⚠ {exc}", []
        return (state.markdown, list(state.sources)) if state else ("未能生成回答。", [])

    def similar(self, text: str, filters: dict | None = None, k: int = 3) -> list[dict]:
        """Per sentence of text: the k closest passages with the spans they share."""
        if not isinstance(text, str) or not text.strip():
            raise QueryError("请粘贴一句或一段文字。")
        if len(text) > 20 * self.cfg.app.max_question_chars:
            raise QueryError(f"文字太长，请控制在 {20 * self.cfg.app.max_question_chars} 字以内。")
        return match_sentences(self.searcher, text, k=max(1, min(int(k), 10)), filters=parse_filters(filters))

    def review(self, text: str, mode: str = "bm25") -> dict:
        """The review of a whole draft (app.review): paragraphs with matches and copies, missing parts, figures."""
        from app.review import review_text

        return review_text(self.searcher, text, mode=mode)

    def report(self, report_id: str) -> tuple[str, list[dict], str]:
        """Title, heading tree (sections with spans) and text of one report."""
        r = self.searcher.report((report_id or "").strip())
        return r["title"], list(r["sections"]), r["text"]

    def reopen(self) -> None:
        """Open the index again after files were added."""
        from indexer.reader import Searcher

        self.searcher = Searcher.open(self.cfg, index_dir=self.index_dir, embedder=self.embedder)
