"""searchable() mask mapping and dedupe(): exact duplicates kept once, near-duplicates linked both ways."""
from __future__ import annotations

from dataclasses import replace

import pytest

from indexer.config import ParseConfig, load_config
from indexer.dedupe import candidate_pairs, jaccard, shingles
from indexer.parse import dedupe, parse_text, searchable

CFG = ParseConfig()
BASE = (
    "市统计局2023年政务公开工作总结\n一、工作开展情况\n全年主动公开政府信息915条，其中统计数据发布126条。"
    "通过门户网站、政务新媒体等渠道及时发布统计信息，创新开展图解、视频等多种形式的政策解读，全年发布解读材料38篇。"
    "二、存在问题\n一是公开内容不够全面，部分栏目更新不及时；二是政策解读形式较为单一。\n"
    "三、下一步工作计划\n加强队伍建设，组织业务培训，提升工作人员能力，推动政策解读多样化。\n"
)


def _one(text, name):
    (r,) = parse_text(text, name, CFG)
    return r


@pytest.mark.parametrize(
    "text,expected",
    [
        ("D员干部带头XX传统计法", "党员干部带头宣传统计法"),
        ("全面从严治D，落实D的二十大精神", "全面从严治党，落实党的二十大精神"),
        ("局D组书记主持D支部会议", "局党组书记主持党支部会议"),
        ("XX市XX区", "XX市XX区"),
    ],
)
def test_searchable_maps_masked_forms(text, expected):
    assert searchable(text, load_config().parse.mask_map) == expected


def test_searchable_longest_first_and_dict_input():
    assert searchable("D支部", {"D": "X", "D支部": "党支部"}) == "党支部"
    assert searchable("D员", ()) == "D员"


def test_exact_duplicate_in_two_files_kept_once():
    a, b = _one(BASE, "a.txt"), _one(BASE, "sub/b.txt")
    assert a.report_id == b.report_id and a.content_hash == b.content_hash and len(a.report_id) == 12
    out = dedupe([a, b], 0.8)
    assert len(out) == 1 and out[0].source_file == "a.txt" and out[0].also_in == ("sub/b.txt",)


def test_whitespace_only_difference_is_an_exact_duplicate():
    a, b = _one(BASE, "a.txt"), _one(BASE.replace("\n", "\n\n  "), "b.txt")
    assert len(dedupe([a, b], 0.8)) == 1


def test_near_duplicates_linked_both_ways():
    a = _one(BASE, "a.txt")
    b = _one(BASE.replace("915条", "916条").replace("38篇", "40篇"), "b.txt")
    c = _one("县住建局2023年安全生产工作总结\n一、基本情况\n排查企业安全隐患217处，已整改210处，整改率96.8%。" * 3, "c.txt")
    assert a.report_id != b.report_id
    out = {r.source_file: r for r in dedupe([a, b, c], 0.8)}
    assert out["a.txt"].near_duplicates == (b.report_id,)
    assert out["b.txt"].near_duplicates == (a.report_id,)
    assert out["c.txt"].near_duplicates == ()


def test_threshold_is_respected():
    a = _one(BASE, "a.txt")
    b = _one(BASE[: len(BASE) // 2] + "完全不同的后半部分内容，讲述安全生产检查和隐患整改的具体做法与成效。" * 3, "b.txt")
    j = jaccard(shingles(a.text), shingles(b.text))
    assert 0 < j < 0.8
    assert all(not r.near_duplicates for r in dedupe([a, b], 0.8))
    assert all(r.near_duplicates for r in dedupe([a, b], j - 0.01))


def test_lsh_path_finds_the_same_pairs():
    texts = [BASE + f"附注{i}：" + "不同内容" * i for i in range(6)] + ["完全无关的文本，讲述森林防火。" * 10]
    sets = [shingles(t) for t in texts]
    exact = {(i, j) for i, j in candidate_pairs(sets, exact_up_to=100) if jaccard(sets[i], sets[j]) >= 0.8}
    lsh = {(i, j) for i, j in candidate_pairs(sets, exact_up_to=0) if jaccard(sets[i], sets[j]) >= 0.8}
    assert exact and lsh == exact


def test_same_report_twice_in_one_file_is_not_listed_in_also_in():
    a = _one(BASE, "a.txt")
    out = dedupe([a, replace(a)], 0.8)
    assert len(out) == 1 and out[0].also_in == ()
