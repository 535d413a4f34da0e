"""Not-found decision: features from hits, the threshold rule, and calibration on labelled rows."""
from __future__ import annotations

from app.notfound import (Features, Thresholds, calibrate, evaluate, features, is_answerable, is_not_found,
                          labelled_rows)
from tests.fake_llm import CHUNKS, FakeSearcher, hits_for


def test_features_measure_query_term_coverage_in_top_passages():
    hits = hits_for(CHUNKS[:3])
    f = features("市统计局全年主动公开了多少条政府信息？", hits)
    assert f.coverage == 1.0
    assert f.top_score == hits[0].score and f.top_dense == max(h.dense_score for h in hits)
    g = features("市统计局的财政预算执行情况如何？", hits)
    assert g.coverage < 0.5


def test_no_hits_is_not_found():
    f = features("任何问题", [])
    assert f.coverage == 0.0 and is_not_found(f)


def test_default_rule_uses_coverage_and_ignores_missing_signals():
    assert is_answerable(Features(0.03, None, None, 0.8))
    assert not is_answerable(Features(0.03, 0.9, 12.0, 0.2), Thresholds(min_coverage=0.5))
    strict = Thresholds(min_dense=0.8)
    assert not is_answerable(Features(0.03, 0.7, 12.0, 1.0), strict)
    assert is_answerable(Features(0.03, None, 12.0, 1.0), strict)


def _rows():
    # Answerable questions: high dense cosine and coverage; no-answer ones overlap on coverage but not on dense.
    pos = [(Features(0.03, 0.86 + i * 0.01, 8.0 + i, 0.6 + i * 0.05), True) for i in range(6)]
    neg = [(Features(0.03, 0.70 + i * 0.02, 5.0 + i, 0.5 + i * 0.1), False) for i in range(5)]
    return pos + neg


def test_calibrate_finds_a_separating_threshold():
    rows = _rows()
    t = calibrate(rows)
    assert evaluate(rows, t)["balanced_accuracy"] == 1.0
    assert 0.78 < t.min_dense <= 0.86
    assert all(is_answerable(f, t) == y for f, y in rows)


def test_calibrate_prefers_permissive_thresholds_on_ties():
    rows = [(Features(0.03, 0.9, 9.0, 1.0), True), (Features(0.01, 0.9, 9.0, 1.0), False)]
    t = calibrate(rows)
    assert t.min_dense == 0.0 and t.min_bm25 == 0.0 and t.min_coverage == 0.0
    assert 0.01 < t.min_score <= 0.03


def test_calibrate_on_nothing_returns_defaults():
    assert calibrate([]) == Thresholds()


def test_labelled_rows_then_calibrate_separates_the_fake_corpus():
    questions = [
        {"question": "市统计局全年主动公开了多少条政府信息？", "type": "fact"},
        {"question": "县住建局办理了多少件行政处罚案件？", "type": "fact"},
        {"question": "XX街道安全隐患整改率是多少？", "type": "fact"},
        {"question": "市统计局的财政预算执行情况如何？", "type": "no_answer"},
        {"question": "县住建局的棚户区改造投资是多少？", "type": "no_answer"},
        {"question": "   ", "type": "fact"},
    ]
    rows = labelled_rows(FakeSearcher(), questions, k=3)
    assert [y for _, y in rows] == [True, True, True, False, False]
    t = calibrate(rows)
    assert evaluate(rows, t)["balanced_accuracy"] == 1.0
