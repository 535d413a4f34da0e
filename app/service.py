"""The app's stable functions (/ask, /similar, /report, /upload) over a Searcher, independent of the UI layout."""
from __future__ import annotations

import pickle
import threading
from dataclasses import fields
from pathlib import Path

from indexer.errors import AssistantError, CorpusError, InputFileError, QueryError
from indexer.models import Filters

from .similar import match_sentences

FILTER_KEYS = tuple(f.name for f in fields(Filters))
MAX_SIMILAR_K = 10


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _year(value) -> int:
    """2023 or "2023"; 2023.7, True and "去年" are errors (int() would silently turn them into 2023 and 1)."""
    if _is_int(value):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise QueryError(f"年份必须是整数，例如 2023，收到：{value!r}")


def parse_filters(raw) -> Filters | None:
    """A dict like {"unit": "市统计局", "year": [2023]} (values: one or a list; empty = no constraint) → Filters."""
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise QueryError("筛选条件必须是字典，例如 {\"unit\": [\"市统计局\"]}")
    unknown = set(raw) - set(FILTER_KEYS)
    if unknown:
        raise QueryError(f"未知的筛选项：{'、'.join(sorted(map(str, unknown)))}；可用：{'、'.join(FILTER_KEYS)}")
    values = {}
    for key, value in raw.items():
        items = value if isinstance(value, (list, tuple)) else [value]
        items = [v for v in items if v not in (None, "")]
        if key == "year":
            values[key] = tuple(_year(v) for v in items)
            continue
        bad = [v for v in items if not isinstance(v, str)]
        if bad:
            raise QueryError(f"筛选项 {key} 的值必须是文字，收到：{bad[0]!r}")
        values[key] = tuple(items)
    f = Filters(**values)
    return None if f.is_empty() else f


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise QueryError(f"{what}必须是文字，收到：{type(value).__name__} {value!r}"[:120])
    return value


class Service:
    """Holds the current Searcher (swapped after an upload's background rebuild) and the answer generator."""

    def __init__(self, searcher, generator, cfg, index_dir=None, embedder=None, corpus_dir=None):
        self.searcher, self.generator, self.cfg = searcher, generator, cfg
        # Reuse the searcher's loaded model so reopening after an upload does not load it again.
        self.embedder = embedder if embedder is not None else searcher.embedder
        self.index_dir, self.corpus_dir = index_dir, corpus_dir
        self.lock = threading.Lock()  # uploads are serialised; searches read self.searcher without locking

    def stream(self, question: str, filters=None, history=(), prev_sources=()):
        """AnswerState updates (app.answer validates the question and raises QueryError for bad input)."""
        from app.answer import answer_stream

        return answer_stream(_text(question, "问题"), self.searcher, self.generator, self.cfg, filters=filters,
                             history=tuple(history), prev_sources=tuple(prev_sources))

    def ask(self, question: str, filters: dict | None = None) -> tuple[str, list[dict]]:
        """Answer markdown and cited sources; bad input raises AssistantError (the API turns it into an error)."""
        state = None
        for state in self.stream(question, parse_filters(filters)):
            pass
        return (state.markdown, list(state.sources)) if state else ("未能生成回答。", [])

    def similar(self, text: str, filters: dict | None = None, k: int = 3) -> list[dict]:
        """Per sentence of text: the k closest passages with the spans they share."""
        if not isinstance(text, str) or not text.strip():
            raise QueryError("请粘贴一句或一段文字。")
        if len(text) > 20 * self.cfg.app.max_question_chars:
            raise QueryError(f"文字太长，请控制在 {20 * self.cfg.app.max_question_chars} 字以内。")
        if not _is_int(k):
            raise QueryError(f"k 必须是 1 到 {MAX_SIMILAR_K} 之间的整数，收到：{k!r}")
        return match_sentences(self.searcher, text, k=max(1, min(k, MAX_SIMILAR_K)), filters=parse_filters(filters))

    def review(self, text: str, mode: str = "bm25") -> dict:
        """The review of a whole draft (app.review): paragraphs with matches and copies, missing parts, figures."""
        from app.review import review_text

        return review_text(self.searcher, text, mode=mode)

    def report(self, report_id: str) -> tuple[str, list[dict], str]:
        """Title, heading tree (sections with spans) and text of one report."""
        r = self.searcher.report(_text(report_id, "报告编号").strip())
        return r["title"], list(r["sections"]), r["text"]

    # -- uploads ---------------------------------------------------------------------------------------------
    def corpus_root(self) -> Path:
        """The corpus the served index was built from (its manifest), so an upload adds to exactly that."""
        recorded = self.searcher.manifest.get("corpus")
        if recorded:
            return Path(recorded)
        return Path(self.corpus_dir) if self.corpus_dir else self.cfg.path(self.cfg.corpus.dir)

    def _check_nothing_lost(self, root: Path) -> None:
        """A rebuild from root must keep every file of the served index: refuse when root lacks any of them."""
        missing = [f for f in self.searcher.manifest.get("files", {}) if not (root / f).is_file()]
        if missing:
            raise CorpusError(f"当前索引中的 {len(missing)} 个文件（如 {missing[0]}）不在语料目录 {root} 中，"
                              "上传会使它们从索引中消失，已拒绝。请用 python -m app --corpus 指定建索引时的语料目录")

    def upload(self, files, progress=None) -> str:
        """Check and copy report files into the served index's corpus, rebuild it in a separate lower-priority
        process while questions are answered from the old generation, then swap; a Chinese status text."""
        import tempfile

        from app.tabs.upload import stage_files, summary_text  # the UI's checks and wording, so both paths agree
        from indexer.pipeline import copy_into_corpus

        if not files:
            raise InputFileError("请先选择要上传的报告文件。")
        cfg = self.cfg
        with self.lock, tempfile.TemporaryDirectory(prefix="upload-") as tmp:
            root = self.corpus_root()
            self._check_nothing_lost(root)
            staged = stage_files(files, Path(tmp), cfg.corpus.extensions, cfg.app.max_upload_mb)
            copied = copy_into_corpus(cfg, staged, root)
            try:
                summary = self._rebuild(root, progress)
            except BaseException:
                for p in copied:  # the index did not take them: leave the corpus as the index describes it
                    p.unlink(missing_ok=True)
                raise
            self.reopen()
        return summary_text(summary, tuple(p.name for p in staged))  # plain words, no server paths

    def _rebuild(self, corpus_root: Path, progress=None):
        import multiprocessing as mp
        import queue

        from indexer.pipeline import build_in_child

        try:
            embedder = pickle.loads(pickle.dumps(self.embedder)) if self.embedder is not None else None
        except Exception:  # a loaded model cannot cross processes: the child loads its own from the config
            embedder = None
        ctx = mp.get_context("spawn")  # no fork: the parent's threads and model must not be copied half-way
        events = ctx.Queue()
        proc = ctx.Process(target=build_in_child, args=(self.cfg, corpus_root, self.index_dir, embedder, events),
                           daemon=True, name="index-rebuild")
        proc.start()
        try:
            while True:
                try:
                    event = events.get(timeout=0.5)
                except queue.Empty:
                    if not proc.is_alive():
                        raise AssistantError(f"后台重建索引的进程意外退出（退出码 {proc.exitcode}），原索引未改变")
                    continue
                if event[0] == "progress":
                    if progress:
                        progress(*event[1:])
                elif event[0] == "done":
                    return event[1]
                else:
                    _, kind, message, domain = event
                    raise AssistantError(message if domain else f"后台重建索引失败（{kind}: {message}），原索引未改变")
        finally:
            proc.join(timeout=30)

    def reopen(self) -> None:
        """Open the index again after files were added; searches in flight finish on the old generation."""
        from indexer.reader import Searcher

        self.searcher = Searcher.open(self.cfg, index_dir=self.index_dir, embedder=self.embedder)
        filler = getattr(self.embedder, "filler", None)  # app.sentvecs: the new generation's sentences next
        if filler is not None:
            filler.watch(self.searcher)

