"""Questions arriving together are embedded together: one model pass for the queries of concurrent requests."""
from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future

import numpy as np

# Queries drained by at most two threads at once where the model allows it: two passes run side by side on the two
# cores (the ONNX session does), which took the p95 of 50 concurrent users from 3.0–3.2 to 2.6–2.8 s on a quiet
# machine; a lone question is unchanged (500 sequential: p95 41 ms either way).
LEADERS = 2
PASS_COST_CHARS = 14  # what one model pass costs beyond its rows, in padded characters (~10 tokens: ~4 ms on 2 cores)


class QueryBatcher:
    """Wraps an embedder. The first caller of encode_queries becomes the leader and embeds whatever queries are
    waiting (its own and those that arrived meanwhile) until none are left, in passes of similar length
    (length_groups); the others just wait for their rows, so concurrent questions do not queue behind one another's
    model passes. A row's vector does not depend on the other rows of its pass (onnxruntime: bitwise the same).

    The last max_cached query vectors are kept: one question searches two to four times (the plain ranking, the
    plan's query, per asked unit, the evidence check), mostly with the same text, and each model pass was ~85% of
    an answer's CPU. The vectors are the model's own, so results are unchanged.
    """

    def __init__(self, inner, max_batch: int = 64, max_cached: int = 1024, max_cached_passages: int = 4096):
        self.inner, self.max_batch, self.max_cached = inner, max_batch, max_cached
        self.max_cached_passages = max_cached_passages  # ~1.5 KB a 384-d vector: ~6 MB
        self.name, self.dim = inner.name, inner.dim
        # A second draining thread only helps a model whose passes can run side by side; one that runs them one at a
        # time (torch) would just get more, smaller passes.
        self.leaders = LEADERS if getattr(inner, "parallel_runs", False) else 1
        self._lock = threading.Lock()
        self._pending: list[tuple[list[str], Future]] = []
        self._leading = 0  # threads draining the queue now, at most self.leaders
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._passages: OrderedDict[str, np.ndarray] = OrderedDict()
        self.passes = 0  # model passes made for queries (how well requests were batched)
        self.ahead: dict[str, np.ndarray] = {}  # replaced whole or added to by one filler thread; read without lock
        self.filler = None  # the app.sentvecs.SentenceFill that fills `ahead`, when the app runs one
        self._busy, self._quiet_since = 0, time.monotonic()

    @contextlib.contextmanager
    def _in_use(self):
        with self._lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy -= 1
                self._quiet_since = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the last question used the model (0 while one does)."""
        with self._lock:
            return 0.0 if self._busy else time.monotonic() - self._quiet_since

    def cached_passages(self, texts) -> dict:
        """The vectors of texts already at hand (ahead or recently embedded), without marking them used."""
        ahead = self.ahead
        with self._lock:
            return {t: ahead[t] if t in ahead else self._passages[t]
                    for t in texts if t in ahead or t in self._passages}

    def encode_passages(self, texts, show_progress: bool = False):
        """Passages here are report sentences the answer layer weighs by meaning (Searcher.similarity); the same
        sentences come back with every question about them, so their vectors are kept like the queries'."""
        texts = list(texts)
        ahead = self.ahead
        with self._in_use():
            with self._lock:
                known = self._known(self._passages, [t for t in texts if t not in ahead])
            known.update((t, ahead[t]) for t in texts if t in ahead)
            todo = list(dict.fromkeys(t for t in texts if t not in known))
            for group in length_groups(todo):
                vectors = self.inner.encode_passages(group, show_progress=show_progress)
                known.update(self._keep(self._passages, self.max_cached_passages, zip(group, vectors)))
        return self._stack(known, texts)

    def encode_queries(self, texts, show_progress: bool = False):
        with self._in_use():
            return self._encode_queries(list(texts))

    def _encode_queries(self, texts: list[str]):
        with self._lock:
            known = self._known(self._cache, texts)
            todo = list(dict.fromkeys(t for t in texts if t not in known))
            if todo:
                mine: Future = Future()
                self._pending.append((todo, mine))
                lead = self._leading < self.leaders
                self._leading += lead
        if todo:
            if lead:
                self._drain()
            known.update(self._keep(self._cache, self.max_cached, zip(todo, mine.result())))
        return self._stack(known, texts)

    @staticmethod
    def _known(cache: OrderedDict, texts: list[str]) -> dict:
        """The cached vectors of texts, each marked as just used (call with the lock held)."""
        known = {t: cache[t] for t in texts if t in cache}
        for t in known:
            cache.move_to_end(t)
        return known

    def _keep(self, cache: OrderedDict, bound: int, fresh) -> dict:
        """Store fresh (text, vector) pairs, dropping the least recently used beyond bound; returns them."""
        fresh = dict(fresh)
        with self._lock:
            cache.update(fresh)
            while len(cache) > bound:
                cache.popitem(last=False)
        return fresh

    def _stack(self, known: dict, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([known[t] for t in texts])

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch:]
                if not batch:
                    self._leading -= 1
                    return
            vectors = {}
            try:
                for group in length_groups(list(dict.fromkeys(t for ts, _ in batch for t in ts))):
                    vectors.update(zip(group, self.inner.encode_queries(group)))
                    self.passes += 1
            except BaseException as exc:  # every waiter gets the error, none hangs
                for _, fut in batch:
                    fut.set_exception(exc)
                continue
            for ts, fut in batch:
                fut.set_result(np.stack([vectors[t] for t in ts]))


def length_groups(texts: list[str], pass_cost: int = PASS_COST_CHARS) -> list[list[str]]:
    """texts in groups of similar length, one model pass each, so that short sentences are not padded to the longest.

    A pass pads every row to its longest, and the rerank's 5–16 sentences run from 10 to 120 characters: one pass
    wasted ~37% of its tokens on padding. Grouping by length (cost of a group: pass_cost + rows × longest, the best
    contiguous split of the sorted lengths) cuts that CPU by ~30%; each sentence's vector is its own either way.
    """
    order = sorted(texts, key=len)
    lengths = [len(t) for t in order]
    best, cut = [0] + [0] * len(order), [0] * (len(order) + 1)
    for j in range(1, len(order) + 1):
        best[j], cut[j] = min((best[i] + pass_cost + (j - i) * lengths[j - 1], i) for i in range(j))
    groups, j = [], len(order)
    while j:
        groups.append(order[cut[j]:j])
        j = cut[j]
    return groups[::-1]
