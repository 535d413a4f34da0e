"""The learned rerank experiment (eval/fit_rerank.py): features, fit, order and the candidate lists it scores."""
from __future__ import annotations

import numpy as np
import pytest

from eval import fit_rerank as fr
from indexer.models import Chunk


def _chunk(i: int, text: str, unit: str, year: int | None) -> Chunk:
    return Chunk(f"c{i}", f"r{i}", "t", (), "body", text, text, 0, len(text), 0, len(text), f"f{i}.txt",
                 unit=unit, year=year)


def _col(name: str) -> int:
    return fr.FEATURES.index(name)


def test_features_of_hand_written_candidates():
    chunks = [_chunk(0, "市统计局2023年发文53个", "市统计局", 2023),
              _chunk(1, "水利工程建设稳步推进", "市水利局", 2022)]
    query = "市统计局2023年发文多少个？"
    X = fr.features(query, ["统计局", "发文", "2023"], [0, 1], chunks, dense={0: 0.9, 1: 0.5},
                    bm25={0: 8.0, 1: 2.0}, dense_order=[1], bm25_order=[0, 1], known_units=["市统计局", "市水利局"])
    assert X.shape == (2, len(fr.FEATURES))
    assert X[0, _col("dense")] == pytest.approx(0.9)
    assert X[:, _col("bm25_rel")].tolist() == pytest.approx([1.0, 0.25])
    assert X[:, _col("dense_rr")].tolist() == pytest.approx([0.0, 60 / 61])  # chunk 0 absent from the dense list
    assert X[:, _col("bm25_rr")].tolist() == pytest.approx([60 / 61, 60 / 62])
    assert X[:, _col("coverage")].tolist() == pytest.approx([1.0, 0.0])
    assert X[:, _col("unit_match")].tolist() == [1.0, 0.0]
    assert X[:, _col("unit_miss")].tolist() == [0.0, 1.0]
    assert X[:, _col("year_match")].tolist() == [1.0, 0.0]
    assert X[:, _col("year_miss")].tolist() == [0.0, 1.0]
    assert X[:, _col("figure")].tolist() == [1.0, 0.0]


def test_question_without_unit_year_or_figure_sets_none_of_those():
    chunks = [_chunk(0, "共发文53个", "市统计局", 2023)]
    X = fr.features("怎样推进政务公开", ["推进", "政务", "公开"], [0], chunks, {0: 0.8}, {0: 0.0}, [0], [],
                    known_units=["市统计局"])
    for name in ("unit_match", "unit_miss", "year_match", "year_miss", "figure"):
        assert X[0, _col(name)] == 0.0
    assert X[0, _col("bm25_rel")] == 0.0  # no BM25 score at all: no division by zero


def test_logistic_fit_ranks_the_separating_feature_first():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = (X[:, 1] > 0.5).astype(float)
    w = fr.fit_logistic(X, y, l2=0.1)
    assert w[1] > abs(w[0]) and w[1] > abs(w[2])
    order = fr.rerank_order(X, w)
    top = order[: int(y.sum())]
    assert y[top].mean() > 0.9


def test_rerank_order_keeps_fused_order_on_ties():
    X = np.zeros((4, 2))
    assert fr.rerank_order(X, np.array([1.0, 1.0, 0.0])) == [0, 1, 2, 3]
    X[2, 0] = 1.0
    assert fr.rerank_order(X, np.array([1.0, 1.0, 0.0]))[0] == 2


def test_crossval_never_fits_a_question_on_itself():
    data = [fr.QuestionData(f"q{i}", [0, 1], np.array([[1.0, 0.0], [0.0, 1.0]]) + i * 1e-3,
                            np.array([1.0, 0.0]), [0, 1], [1, 0]) for i in range(10)]
    per_q = fr.crossval(data, folds=5, l2=1.0)
    assert set(per_q) == {d.qid for d in data}
    # five folds, five distinct models, each shared by exactly two questions
    keys = [tuple(np.round(w, 9)) for w in per_q.values()]
    assert sorted(keys.count(k) for k in set(keys)) == [2] * 5


def test_paired_difference_of_modes():
    a = {"recall@1": {"per_q": [1, 1, 0, 1]}, "recall@5": {"per_q": [1, 1, 1, 1]}}
    b = {"recall@1": {"per_q": [1, 0, 0, 1]}, "recall@5": {"per_q": [1, 1, 1, 1]}}
    d = fr.paired(a, b)
    assert d["recall@1"]["mean"] == pytest.approx(0.25)
    assert d["recall@5"] == {"mean": 0.0, "lo": 0.0, "hi": 0.0}


def test_collect_labels_candidates_of_a_tiny_index(tiny_cfg, fake_embedder):
    from eval.datasets import Query
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    build_index(tiny_cfg, embedder=fake_embedder)
    searcher = Searcher.open(tiny_cfg, embedder=fake_embedder)
    q = Query(id="t1", query="街道排查企业安全隐患多少处？", answers=("排查企业安全隐患217处",))
    [d] = fr.collect(searcher, [q], tiny_cfg.parse.mask_map, 1.0, 1.5, 60, 50)
    assert d.X.shape == (len(d.rows), len(fr.FEATURES))
    holds = ["217处" in searcher.chunks[r].text for r in d.rows]
    assert d.y.astype(bool).tolist() == holds and any(holds)
