"""Fault drill, load: concurrent questions share model passes; Gradio's per-event analytics stay bounded."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tests.fakes import FakeEmbedder


class SlowModel(FakeEmbedder):
    """A model pass costs the same for one text or many (as a transformer's does for short queries)."""

    def __init__(self):
        super().__init__()
        self.calls = 0
        self.lock = threading.Lock()

    def encode_queries(self, texts, show_progress=False):
        with self.lock:  # the real embedder serialises its passes too
            self.calls += 1
            time.sleep(0.05)
            return super().encode_queries(texts)


def test_concurrent_questions_share_model_passes_and_get_their_own_rows():
    from app.querybatch import QueryBatcher

    model = SlowModel()
    batcher = QueryBatcher(model)
    questions = [f"第{i}个问题：主动公开了多少条？" for i in range(40)]
    t = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda q: batcher.encode_queries([q]), questions))
    elapsed = time.perf_counter() - t
    want = FakeEmbedder().encode_queries(questions)
    assert all(np.allclose(g[0], w) for g, w in zip(got, want))
    assert model.calls <= 10 and batcher.passes == model.calls  # unbatched: 40 passes, 2 s
    print(f"40 concurrent questions: {model.calls} model passes, {elapsed:.2f}s")


def test_a_failed_pass_reaches_every_waiter_and_the_next_call_works():
    class Broken(FakeEmbedder):
        fail = True

        def encode_queries(self, texts, show_progress=False):
            if self.fail:
                time.sleep(0.05)
                raise RuntimeError("model gone")
            return super().encode_queries(texts)

    from app.querybatch import QueryBatcher

    inner = Broken()
    batcher = QueryBatcher(inner)
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(batcher.encode_queries, ["问"]) for _ in range(8)]
        errors = [f.exception(timeout=10) for f in futures]
    assert all(isinstance(e, RuntimeError) for e in errors)
    inner.fail = False
    assert batcher.encode_queries(["问"]).shape == (1, inner.dim)


def test_gradio_keeps_a_bounded_event_history(tiny_cfg, fake_embedder, monkeypatch):
    from app.answer import make_generator
    from app.ui import build_app
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    monkeypatch.delenv("GRADIO_ANALYTICS_MAX_EVENTS", raising=False)
    monkeypatch.delenv("GRADIO_ANALYTICS_CACHE_FREQUENCY", raising=False)
    build_index(tiny_cfg, embedder=fake_embedder)
    demo = build_app(Searcher.open(tiny_cfg, embedder=fake_embedder), make_generator(tiny_cfg.llm), tiny_cfg)
    # every event used to rebuild a pandas table of up to 10,000 past events
    assert demo._queue.ANALYTICS_MAX_EVENTS <= 1000 and demo._queue.ANAYLTICS_CACHE_FREQUENCY >= 100


class Counting(FakeEmbedder):
    """Counts the texts that reach the model, queries and passages alike."""

    texts = 0

    def _one(self, text):
        self.texts += 1
        return super()._one(text)


def test_repeated_query_texts_reuse_their_vectors_within_a_bound():
    from app.querybatch import QueryBatcher

    inner = Counting()
    batcher = QueryBatcher(inner, max_cached=2)
    want = FakeEmbedder().encode_queries(["甲问题", "乙问题", "丙问题"])
    got = batcher.encode_queries(["甲问题", "乙问题", "甲问题"])  # a repeat inside one call is embedded once
    assert inner.texts == 2 and np.allclose(got, want[[0, 1, 0]])
    assert np.allclose(batcher.encode_queries(["乙问题"]), want[[1]]) and inner.texts == 2  # cached: no model pass
    batcher.encode_queries(["丙问题"])  # evicts the least recently used (甲)
    assert inner.texts == 3 and len(batcher._cache) == 2
    batcher.encode_queries(["甲问题"])
    assert inner.texts == 4
    assert batcher.encode_queries([]).shape == (0, inner.dim)


def test_repeated_passage_texts_reuse_their_vectors_within_a_bound():
    from app.querybatch import QueryBatcher

    inner = Counting()
    batcher = QueryBatcher(inner, max_cached_passages=2)
    want = FakeEmbedder().encode_passages(["甲句", "乙句", "丙句"])
    assert np.allclose(batcher.encode_passages(["甲句", "乙句", "甲句"]), want[[0, 1, 0]]) and inner.texts == 2
    assert np.allclose(batcher.encode_passages(["乙句"]), want[[1]]) and inner.texts == 2
    batcher.encode_passages(["丙句"])
    batcher.encode_passages(["甲句"])  # evicted by 丙句: embedded again
    assert inner.texts == 4 and len(batcher._passages) == 2
    assert batcher.encode_passages([]).shape == (0, inner.dim)


@pytest.mark.parametrize("auth", [None, ("张三", "pw-123")])
def test_light_load_client_asks_as_separate_users(tmp_path, auth):
    """eval.load's httpx client: one session per user through Gradio's REST API, errors counted, not raised."""
    import asyncio

    from eval import load
    from tests.app_server import served_app

    with served_app(tmp_path, auth=[auth] if auth else None) as (url, demo):
        results, wall, _, _ = asyncio.run(load._http_concurrent(url, 3, ["统计局主动公开了多少条信息？"], auth))
        assert [e for _, e in results] == [None, None, None] and wall > 0
        bad, _ = asyncio.run(load._http_sequential(url, 2, [""], 30, auth))  # an empty question is an API error
        assert all(e and e.startswith("error") for _, e in bad)
        sessions = set(demo.state_holder.session_data)
        assert len(sessions) == 4  # three concurrent users and the sequential one (two asks): a session each


def test_texts_of_very_different_length_get_their_own_model_pass():
    from app.querybatch import length_groups

    short, long = [f"短句{i}" for i in range(4)], [f"{i}" + "很长的一句话" * 15 for i in range(3)]
    groups = length_groups([long[0], *short, *long[1:]])
    assert sorted(t for g in groups for t in g) == sorted(short + long)  # each text once
    assert sorted(map(sorted, groups)) == sorted([sorted(short), sorted(long)])
    assert length_groups(["一句话", "一句话。"]) == [["一句话", "一句话。"]]  # alike lengths: one pass
    assert length_groups([]) == []


def test_passages_of_mixed_length_are_embedded_in_passes_of_their_length():
    from app.querybatch import QueryBatcher

    class Recording(FakeEmbedder):
        passes: list = []

        def encode_passages(self, texts, show_progress=False):
            self.passes.append(list(texts))
            return super().encode_passages(texts)

    texts = ["短句", "很长的一句话" * 15, "短句二"]
    inner = Recording()
    got = QueryBatcher(inner).encode_passages(texts)
    assert np.allclose(got, FakeEmbedder().encode_passages(texts))  # rows in the caller's order
    assert sorted(map(len, inner.passes)) == [1, 2]


def test_new_sessions_get_the_same_block_configs_with_signatures_cached(tiny_cfg, fake_embedder, monkeypatch):
    import inspect

    import gradio.blocks
    from gradio.state_holder import SessionState

    from app.answer import make_generator
    from app.ui import build_app
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    build_index(tiny_cfg, embedder=fake_embedder)
    demo = build_app(Searcher.open(tiny_cfg, embedder=fake_embedder), make_generator(tiny_cfg.llm), tiny_cfg)
    fast = gradio.blocks.inspect
    assert fast is not inspect and fast.signature(SessionState.__init__) is fast.signature(SessionState.__init__)
    assert fast.signature(SessionState.__init__) == inspect.signature(SessionState.__init__)
    assert fast.isclass(SessionState) and fast.signature(len) == inspect.signature(len)
    cached = SessionState(demo).config_values
    monkeypatch.setattr(gradio.blocks, "inspect", inspect)  # Gradio as shipped
    assert SessionState(demo).config_values == cached and len(cached) > 50


def test_the_profile_mode_runs_the_asks_of_the_api_and_counts_their_cpu(tiny_cfg, fake_embedder):
    from app.answer import make_generator
    from app.querybatch import QueryBatcher
    from app.service import Service
    from eval import load
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    build_index(tiny_cfg, embedder=fake_embedder)
    batchers = []

    def service():
        batchers.append(QueryBatcher(fake_embedder))
        return Service(Searcher.open(tiny_cfg, embedder=batchers[-1]), make_generator(tiny_cfg.llm), tiny_cfg)

    report = load.profile_asks(service, ["统计局主动公开了多少条信息？", ""], top=5)
    assert report.startswith("2 个问题") and "service.py" in report and "(ask)" in report
    assert len(batchers) == 2 and batchers[0].passes == batchers[1].passes >= 1  # fresh caches both times
    assert f"查询向量模型调用 {batchers[0].passes} 次" in report


class Overlap:
    """Counts how many model passes run at the same moment (each takes 50 ms)."""

    def __init__(self):
        self.lock, self.now, self.most = threading.Lock(), 0, 0

    def one_pass(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.05)
        with self.lock:
            self.now -= 1


def test_at_most_two_query_passes_run_at_once():
    from app.querybatch import LEADERS, QueryBatcher

    class Overlapping(FakeEmbedder):
        """A model whose passes may run side by side (an onnxruntime session)."""

        parallel_runs = True

        def __init__(self):
            super().__init__()
            self.overlap = Overlap()

        def encode_queries(self, texts, show_progress=False):
            self.overlap.one_pass()
            return super().encode_queries(texts)

    model = Overlapping()
    batcher = QueryBatcher(model)
    questions = [f"第{i}个问题" for i in range(24)]
    with ThreadPoolExecutor(12) as pool:
        got = list(pool.map(lambda q: batcher.encode_queries([q]), questions))
    want = FakeEmbedder().encode_queries(questions)
    assert all(np.allclose(g[0], w) for g, w in zip(got, want))
    assert model.overlap.most == LEADERS == 2


@pytest.mark.parametrize("parallel", [True, False])
def test_the_embedder_runs_passes_side_by_side_only_where_the_backend_allows(tiny_cfg, parallel):
    from indexer.embed import Embedder

    class Backend:
        parallel_runs = parallel
        pad_id, max_seq_length, dim = 0, 16, 4

        def __init__(self):
            self.overlap = Overlap()

        def tokenize(self, texts, special):
            return [[1, 5, 2] if special else [5] for _ in texts]

        def forward(self, ids, mask):
            self.overlap.one_pass()
            return np.ones((len(ids), self.dim), dtype=np.float32)

    backend = Backend()
    model = Embedder(tiny_cfg.embedding, backend, threading.Lock())
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda t: model.encode_queries([t]), ["甲", "乙", "丙", "丁"]))
    assert backend.overlap.most == (4 if parallel else 1)
