"""The offline fusion-variant search (eval/fusion_variants.py): variants on hand-written lists and the choice rule."""
from __future__ import annotations

from eval import fusion_variants as fv

DENSE = [(1, 0.900), (2, 0.899), (3, 0.898), (4, 0.500)]
BM25 = [(3, 30.0), (1, 2.0), (2, 1.9), (4, 1.8)]


def test_variants_reorder_hand_written_lists():
    assert fv.v_rrf(1.0, 60)(DENSE, BM25)[0] == 1  # ranks only: dense's first wins the near-tie
    assert fv.v_norm(0.5, "zscore")(DENSE, BM25)[0] == 3  # BM25's clear lead counts
    assert fv.v_norm(0.5, "minmax")(DENSE, BM25)[0] == 3
    assert fv.v_gap_lead(0.5)(DENSE, BM25)[0] == 3  # (30 - 2) / 30 >= 0.5: BM25's top first
    assert fv.v_gap_lead(0.99)(DENSE, BM25)[0] == 1
    assert 4 not in fv.v_dense_cut(0.05)(DENSE, [(3, 1.0)])  # 0.5 is more than 0.05 below the dense top


def test_flags_and_score_follow_the_relevant_rows():
    data = [fv.Lists("a", DENSE, BM25, frozenset({3})), fv.Lists("b", DENSE, BM25, frozenset({4}))]
    flags = fv.flags_of(data, fv.v_norm(0.5, "zscore"))
    assert flags[0][0] and not any(flags[1][:3]) and flags[1][3]
    assert fv.score(flags) == (1.0, 0.5)  # (R@5, R@1)


def test_choose_takes_recall_at_5_then_1_then_the_simpler_family_then_the_middle_of_a_flat_run():
    rows = [{"family": "zscore", "params": {"alpha": 0.5}, "r5": 0.9, "r1": 0.8},
            {"family": "rrf", "params": {"wb": 1.0}, "r5": 0.9, "r1": 0.7},
            {"family": "rrf", "params": {"wb": 1.5}, "r5": 0.8, "r1": 0.9}]
    assert fv.choose(rows)["family"] == "zscore"
    flat = [{"family": f, "params": {"x": x}, "r5": 0.9, "r1": 0.8} for f, x in
            [("minmax", 0.4), ("rrf", 1.0), ("rrf", 1.5), ("rrf", 2.0)]]
    assert fv.choose(flat)["params"] == {"x": 1.5}
