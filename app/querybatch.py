"""Questions arriving together are embedded together: one model pass for the queries of concurrent requests."""
from __future__ import annotations

import threading
from concurrent.futures import Future


class QueryBatcher:
    """Wraps an embedder. The first caller of encode_queries becomes the leader and embeds, in one pass each,
    whatever queries are waiting (its own and those that arrived meanwhile) until none are left; the others just
    wait for their rows. Embedding one query costs nearly as much as embedding eight, so concurrent questions no
    longer queue behind one another's model passes. Passages go straight to the wrapped embedder."""

    def __init__(self, inner, max_batch: int = 64):
        self.inner, self.max_batch = inner, max_batch
        self.name, self.dim = inner.name, inner.dim
        self._lock = threading.Lock()
        self._pending: list[tuple[list[str], Future]] = []
        self._leading = False
        self.passes = 0  # model passes made for queries (how well requests were batched)

    def encode_passages(self, texts, show_progress: bool = False):
        return self.inner.encode_passages(texts, show_progress=show_progress)

    def encode_queries(self, texts, show_progress: bool = False):
        mine: Future = Future()
        with self._lock:
            self._pending.append((list(texts), mine))
            lead = not self._leading
            self._leading = True
        if lead:
            self._drain()
        return mine.result()

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
                if not batch:
                    self._leading = False
                    return
            texts = [t for ts, _ in batch for t in ts]
            try:
                vectors = self.inner.encode_queries(texts)
                self.passes += 1
            except BaseException as exc:  # every waiter gets the error, none hangs
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            start = 0
            for ts, fut in batch:
                fut.set_result(vectors[start:start + len(ts)])
                start += len(ts)
