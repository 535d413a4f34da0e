"""Pure evaluation functions on hand-written rankings: relevance, recall, MRR, nDCG, bootstrap, chunk lookup."""
from __future__ import annotations

import math

import pytest

from eval import metrics
from eval.datasets import parse_docs, parse_queries
from eval.retrieval import ChunkTexts, aggregate, cutoffs
from indexer.errors import InputFileError


def test_normalise_drops_whitespace_and_folds_full_width():
    assert metrics.normalise(" 全年 主动公开\n９１５条 ") == "全年主动公开915条"


def test_relevance_uses_display_or_search_text():
    answers = [metrics.normalise("党员干部")]
    assert metrics.is_relevant(("D员干部带头", "党员干部带头"), answers)
    assert not metrics.is_relevant(("D员干部带头",), answers)
    assert not metrics.is_relevant(("任何文本",), [""])


def test_recall_mrr_ndcg_on_hand_ranks():
    flags = [False, True, False, True]
    assert metrics.first_rank(flags) == 2
    assert metrics.recall_at(flags, 1) == 0.0
    assert metrics.recall_at(flags, 2) == 1.0
    assert metrics.mrr_at(flags, 10) == 0.5
    assert metrics.mrr_at(flags, 1) == 0.0
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3)
    assert metrics.ndcg_at(flags, 10, n_relevant=2) == pytest.approx(dcg / idcg)
    # three relevant chunks exist in the index, only two were retrieved: the ideal list is longer
    idcg3 = idcg + 1 / math.log2(4)
    assert metrics.ndcg_at(flags, 10, n_relevant=3) == pytest.approx(dcg / idcg3)
    assert metrics.ndcg_at([True], 10, n_relevant=1) == 1.0
    assert metrics.ndcg_at([False, False], 10, n_relevant=0) == 0.0


def test_doc_recall_counts_any_gold_id():
    ranked = [{"a.txt"}, {"b", "b_twin"}]
    assert metrics.doc_recall_at(ranked, {"b_twin"}, 2) == 1.0
    assert metrics.doc_recall_at(ranked, {"b_twin"}, 1) == 0.0


def test_bootstrap_ci_is_reproducible_and_brackets_the_mean():
    values = [1, 0, 1, 1, 0, 1, 0, 1, 1, 1]
    lo, hi = metrics.bootstrap_ci(values, seed=0)
    assert (lo, hi) == metrics.bootstrap_ci(values, seed=0)
    assert lo < 0.7 < hi and 0 <= lo and hi <= 1
    assert metrics.bootstrap_ci([1, 1, 1]) == (1.0, 1.0)
    assert all(math.isnan(x) for x in metrics.bootstrap_ci([]))


def test_chunk_texts_finds_every_chunk_containing_an_answer():
    idx = ChunkTexts([("全年公开915条", "全年公开915条"), ("无关", "无关"), ("共915条", "")])
    assert idx.containing(["915条"]) == {0, 2}
    assert idx.containing(["无关", "不存在"]) == {1}
    assert idx.containing([""]) == set()
    # an answer must not match across the boundary of two chunks
    assert idx.containing(["条无"]) == set()


def test_aggregate_groups_by_type_and_skips_missing_keys():
    rows = [{"type": "fact", "recall@1": 1.0}, {"type": "fact", "recall@1": 0.0, "doc_recall@1": 1.0},
            {"type": "list", "recall@1": 1.0}]
    agg = aggregate(rows, ["recall@1", "doc_recall@1"])
    assert agg["overall"]["recall@1"]["mean"] == pytest.approx(2 / 3)
    assert agg["overall"]["doc_recall@1"]["n"] == 1
    assert agg["by_type"]["fact"]["n"] == 2 and "doc_recall@1" not in agg["by_type"]["list"]
    assert cutoffs(10) == [1, 5, 10] and cutoffs(3) == [1, 3]


def test_query_and_doc_validation_errors_name_the_line():
    good = parse_queries([(1, {"id": 1, "query": " 问 ", "answers": ["答"], "doc_ids": ["d"]}),
                          (2, {"id": "n", "query": "无答案", "answers": []})])
    assert good[0].id == "1" and good[0].query == "问" and not good[0].no_answer and good[1].no_answer
    with pytest.raises(InputFileError, match="第 3 行"):
        parse_queries([(3, {"id": "x", "query": "问"})])
    with pytest.raises(InputFileError, match="重复"):
        parse_queries([(1, {"id": "x", "query": "a", "answers": []}), (2, {"id": "x", "query": "b", "answers": []})])
    with pytest.raises(InputFileError, match="answers"):
        parse_queries([(1, {"id": "x", "query": "a", "answers": "答"})])
    docs = parse_docs([(1, {"id": "d1", "text": "\n标题行\n正文"})])
    assert docs[0].title == "标题行"
    with pytest.raises(InputFileError, match="text"):
        parse_docs([(1, {"id": "d1", "text": "  "})])
