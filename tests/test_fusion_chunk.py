"""Unit tests of the pure parts of fusion and chunking, on hand-written inputs."""
import pytest

from indexer.chunk import merge_small, split_long
from indexer.fusion import rrf, zscore_fuse
from indexer.models import Section


def test_rrf_rewards_agreement_and_respects_weights():
    fused = rrf([[1, 2, 3], [3, 4]], [1.0, 1.0], k=60)
    assert fused[0][0] == 3  # in both lists beats first place in one
    assert [d for d, _ in fused] == [3, 1, 2, 4]
    only_second = rrf([[1], [2]], [0.0, 1.0])
    assert only_second[0][0] == 2


def test_rrf_rejects_mismatched_weights():
    import pytest

    with pytest.raises(ValueError):
        rrf([[1]], [1.0, 2.0])


def test_zscore_fuse_lets_a_clear_lead_beat_a_flat_list():
    dense = [(1, 0.900), (2, 0.899), (3, 0.898), (4, 0.500)]  # 1, 2, 3 all but tied, 4 far below
    bm25 = [(3, 30.0), (1, 2.0), (2, 1.9), (4, 1.8)]  # 3 far ahead: a clear exact-term match
    assert rrf([[d for d, _ in dense], [d for d, _ in bm25]], [1.0, 1.0])[0][0] == 1  # ranks alone: 1 wins
    fused = zscore_fuse([dense, bm25], [0.5, 0.5])
    assert [d for d, _ in fused] == [3, 1, 2, 4]
    assert [d for d, _ in zscore_fuse([dense, bm25], [1.0, 0.0])] == [1, 2, 3, 4]  # weight 0: the other list's order


def test_zscore_fuse_gives_an_absent_id_the_list_floor_and_keeps_first_seen_order_on_ties():
    fused = zscore_fuse([[(1, 0.9), (2, 0.5)], [(3, 10.0), (2, 0.0)]], [1.0, 0.0])
    assert [d for d, _ in fused] == [1, 2, 3]  # 3 is not in the dense list: its lowest z, after 2 (seen first)
    assert [s for _, s in fused] == pytest.approx([1.0, -1.0, -1.0])
    flat = zscore_fuse([[(5, 0.5), (6, 0.5)], []], [0.5, 0.5])  # equal scores and an empty list contribute 0
    assert flat == [(5, 0.0), (6, 0.0)]
    assert zscore_fuse([[], []], [0.5, 0.5]) == []
    with pytest.raises(ValueError):
        zscore_fuse([[(1, 1.0)]], [0.5, 0.5])


def test_split_long_cuts_on_sentence_ends_with_overlap():
    text = "".join(f"第{i}句讲的是一件具体的工作事项。" for i in range(40))
    pieces = split_long(text, 100, 20)
    assert len(pieces) > 3
    for a, b in pieces:
        assert b - a <= 100
        assert text[a:b].endswith("。")
    # consecutive pieces overlap or touch: nothing of the text is lost
    covered = set()
    for a, b in pieces:
        covered.update(range(a, b))
    assert covered == set(range(len(text)))


def test_split_long_keeps_short_text_whole_and_locates_repeats():
    assert split_long("很短。", 100, 10) == [(0, 3)]
    text = "重复的句子。" * 50
    pieces = split_long(text, 60, 12)
    starts = [a for a, _ in pieces]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert all(text[a:b] for a, b in pieces)


def _sec(path, role, start, end):
    return Section(path[-1] if path else "", tuple(path), len(path), role, start, end)


def test_merge_small_joins_bare_heading_with_first_child():
    secs = [
        _sec(["二、工作开展情况"], "做法与成效", 0, 9),
        _sec(["二、工作开展情况", "（一）主动公开"], "做法与成效", 9, 400),
        _sec(["二、工作开展情况", "（二）依申请公开"], "做法与成效", 400, 800),
        _sec(["三、存在问题"], "存在问题", 800, 850),
    ]
    spans = merge_small(secs, min_chars=120, max_chars=600)
    assert [(s.start, s.end) for s in spans] == [(0, 400), (400, 800), (800, 850)]
    assert spans[0].heading_path == ("二、工作开展情况",)
    assert spans[2].role == "存在问题"


def test_merge_small_never_mixes_top_level_sections_or_exceeds_max():
    secs = [_sec(["一、甲"], "做法与成效", 0, 50), _sec(["二、乙"], "存在问题", 50, 100)]
    assert len(merge_small(secs, 120, 600)) == 2
    tiny = [_sec(["一、甲", f"（{i}）"], "做法与成效", i * 100, i * 100 + 100) for i in range(10)]
    spans = merge_small(tiny, 120, 250)
    assert all(s.end - s.start <= 250 for s in spans)
