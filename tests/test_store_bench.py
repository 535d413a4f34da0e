"""eval.bench_stores on a small synthetic corpus: both stores built through the store interface, exact recall."""
import pytest

pytest.importorskip("milvus_lite", reason="the store bench needs the milvus extra: pip install -e '.[milvus]'")


def test_store_bench_measures_both_stores_with_exact_recall():
    from eval.bench_stores import bench

    out = bench(600, "", n_queries=5, dim=16, k=5)
    assert set(out["stores"]) == {"faiss", "milvus"} and 0 < out["filter_share"] < 0.05
    for row in out["stores"].values():
        assert row["recall@5_nofilter"] == 1.0 and row["recall@5_filter"] == 1.0  # FLAT: exact in both engines
        assert row["dense_filter"]["n"] == 5 and row["bm25_nofilter"]["p50_ms"] > 0


def test_dense_only_bench_runs_straight_through_pymilvus(tmp_path):
    from eval.bench_stores import bench_dense

    out = bench_dense(600, str(tmp_path / "m.db"), n_queries=5, dim=16, k=5)
    row = out["dense"]
    assert row["recall@5_nofilter"] == 1.0 and row["recall@5_filter"] == 1.0 and 0 < out["filter_share"] < 0.05
    assert row["dense_filter"]["n"] == 5 and out["server"]


def test_parity_embedder_reuses_stored_vectors_and_embeds_each_question_once(tiny_cfg, fake_embedder):
    from eval.bench_stores import ReusingEmbedder
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    build_index(tiny_cfg, embedder=fake_embedder)
    chunks = Searcher.open(tiny_cfg, embedder=fake_embedder).chunks
    calls = []

    class Counting(type(fake_embedder)):
        def encode_passages(self, texts, show_progress=False):
            calls.append(len(texts))
            return super().encode_passages(texts)

    emb = ReusingEmbedder(Counting(), tiny_cfg.path(tiny_cfg.index.dir))
    texts = [c.search_text for c in chunks]
    assert (emb.encode_passages(texts) == fake_embedder.encode_passages(texts)).all()
    assert emb.reused == len(texts) and calls == []  # every vector came from the index
    emb.encode_queries(["主动公开", "主动公开"])
    emb.encode_queries(["主动公开"])
    assert calls == [1]  # FakeEmbedder encodes queries via encode_passages: one new text, once
    assert emb.encode_passages(["新的文字"]).shape == (1, fake_embedder.dim) and calls == [1, 1]
