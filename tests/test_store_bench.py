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
