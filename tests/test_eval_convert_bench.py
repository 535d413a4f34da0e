"""Benchmark converters, the baseline chunker, citation checks and the synthetic benchmark at tiny sizes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from eval.convert import cmrc_records, convert, ncp_records
from indexer.errors import InputFileError


def test_ncp_duplicates_make_both_ids_gold():
    corpus = [{"docid": "a", "text": "关于疫情期间税收支持政策的通知\n正文一"},
              {"docid": "b", "text": "关于疫情期间税收支持政策的通知\n正文一"},
              {"docid": "c", "text": "另一份文件" * 20}]
    queries = [{"qid": "q1", "question": "税收支持？", "docid": "b", "answer": "正文一"},
               {"qid": "q2", "question": "另一份？", "docid": "c", "answer": "另一份文件" * 5}]
    docs, qs = ncp_records(corpus, queries)
    assert [d["id"] for d in docs] == ["a", "b", "c"]
    assert docs[0]["title"] == "关于疫情期间税收支持政策的通知" and len(docs[2]["title"]) == 40
    assert qs[0]["doc_ids"] == ["a", "b"] and qs[1]["doc_ids"] == ["c"]
    assert qs[0]["answers"] == ["正文一"] and qs[0]["type"] == "short" and qs[1]["type"] == "medium"


def test_cmrc_contexts_become_documents_with_unique_answers():
    squad = {"data": [{"title": "战国无双3", "paragraphs": [{"id": "P0", "context": "《战国无双3》是光荣开发的。", "qas": [
        {"id": "Q0", "question": "谁开发的？", "answers": [{"text": "光荣"}, {"text": "光荣"}, {"text": " "}]}]}]}]}
    docs, qs = cmrc_records(squad)
    assert docs == [{"id": "P0", "title": "战国无双3", "text": "《战国无双3》是光荣开发的。"}]
    assert qs == [{"id": "Q0", "query": "谁开发的？", "answers": ["光荣"], "doc_ids": ["P0"], "type": "cmrc2018"}]
    with pytest.raises(InputFileError):
        cmrc_records({"version": "v1"})


def test_convert_writes_outside_the_repo_only(tmp_path):
    src = tmp_path / "ncp"
    src.mkdir()
    (src / "derived_corpus.jsonl").write_text(json.dumps({"docid": "a", "text": "正文"}, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    (src / "derived_queries.jsonl").write_text(
        json.dumps({"qid": "1", "question": "问", "docid": "a", "answer": "正文"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    counts = convert("ncp", src, tmp_path / "out")
    assert counts["docs"] == 1 and counts["queries"] == 1
    assert json.loads((tmp_path / "out" / "corpus.jsonl").read_text(encoding="utf-8"))["id"] == "a"
    from indexer.config import REPO_ROOT

    with pytest.raises(InputFileError, match="仓库"):
        convert("ncp", src, REPO_ROOT / "eval" / "results" / "ncp")


def test_baseline_chunks_are_plain_spans_of_the_report():
    from eval.ablation import baseline_chunks
    from indexer.parse import parse_text, searchable
    from tests.conftest import REPORT_A

    report = parse_text(REPORT_A * 3, source_file="a.txt", parse_cfg=_parse_cfg(), title="市统计局")[0]
    mask = (("D员", "党员"),)
    chunks = baseline_chunks([report], mask, size=200, overlap=20)
    assert len(chunks) > 2
    for c in chunks:
        assert c.text == report.text[c.start : c.end] and len(c.text) <= 200
        assert c.heading_path == () and c.search_text == searchable(c.text, mask)  # no title path prepended
    assert any("党员" in c.search_text and "D员" in c.text for c in chunks)


def _parse_cfg():
    from indexer.config import load_config

    return load_config().parse


def test_citation_checks_use_the_support_of_the_cited_passage():
    from eval.answers import citation_checks

    sources = [{"n": 1, "text": "全年主动公开政府信息915条，其中统计数据发布126条。", "report_title": "市统计局"},
               {"n": 2, "text": "街道共排查企业安全隐患217处。", "report_title": "XX街道"}]
    md = "全年主动公开政府信息915条[1]。街道共排查企业安全隐患217处[1]。另有一句[3]。"
    assert citation_checks(md, sources) == [True, False, False]


def test_recall_vs_exact_and_synthetic_indexes_at_tiny_size(tiny_cfg):
    from eval.bench import bench_synthetic, recall_vs_exact, synthetic_vectors

    assert recall_vs_exact(np.array([[1, 2, 3]]), np.array([[3, 9, 1]]), k=3) == pytest.approx(2 / 3)
    x = synthetic_vectors(500, dim=16)
    assert x.shape == (500, 16) and np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    res = bench_synthetic(3000, tiny_cfg, hnsw_max=3000, n_queries=20)
    idx = res["indexes"]
    assert idx["flat"]["recall@10_vs_exact"] == 1.0
    assert 0.5 < idx["hnsw"]["recall@10_vs_exact"] <= 1.0
    assert 0.0 < idx["ivf"]["recall@10_vs_exact"] <= 1.0
    assert idx["bm25"]["p50_ms"] > 0
    res = bench_synthetic(2000, tiny_cfg, hnsw_max=1000, n_queries=5, hnsw_seconds=(1000, 1.0))
    assert "skipped" in res["indexes"]["hnsw"] and res["indexes"]["hnsw"]["estimated_build_s"] >= 2


def test_bench_orchestration_on_the_tiny_corpus(tmp_path, tiny_cfg, tiny_corpus, fake_embedder):
    from eval.bench import run_bench

    qfile = tmp_path / "q.jsonl"
    qfile.write_text(json.dumps({"id": "1", "query": "罚没款多少", "answers": ["85万元"]}, ensure_ascii=False),
                     encoding="utf-8")
    result, md = run_bench(tiny_cfg, tmp_path / "out", corpus=tiny_corpus, queries=qfile, sizes=[1500, 800],
                           parts=("build", "latency", "synthetic"), embedder=fake_embedder, hnsw_max=1000)
    assert result["build"]["chunks"] > 0 and result["build"]["rebuild_up_to_date"] is True
    assert result["build"]["rebuild_unchanged_s"] < result["build"]["build_s"]
    assert set(result["latency"]) == {"dense", "bm25", "hybrid"}
    assert [r["n"] for r in result["synthetic"]] == [800, 1500]
    assert "estimated_build_s" in result["synthetic"][1]["indexes"]["hnsw"]
    assert (tmp_path / "out" / "bench.md").is_file() and (tmp_path / "out" / "bench_synthetic_latency.png").is_file()
    assert "合成语料" in md


def test_answer_scoring_maps_masks_and_ignores_not_found_listings():
    from types import SimpleNamespace

    from eval.answers import score_answer
    from eval.datasets import Query

    q = Query("1", "党员干部做了什么", ("党员干部带头宣传统计法",))
    src = [{"n": 1, "text": "D员干部带头XX传统计法。"}]
    state = SimpleNamespace(markdown="D员干部带头XX传统计法\\[1\\]。", sources=src, not_found=False,
                            flagged_numbers=[])
    row = score_answer(q, state, mask_map=(("D员", "党员"), ("XX传", "宣传")))
    assert row["contains_answer"] == 1.0
    assert score_answer(q, state)["contains_answer"] == 0.0
    refusal = SimpleNamespace(markdown="资料中未找到。\n- [1] 相关资料", sources=src, not_found=True,
                              flagged_numbers=["38篇"])
    row = score_answer(Query("2", "无", ()), refusal)
    assert row["n_citations"] == 0 and row["not_found"] and "contains_answer" not in row


def test_without_prefixes_copies_the_embedder():
    from types import SimpleNamespace

    from eval.ablation import without_prefixes

    emb = SimpleNamespace(name="m", query_prefix="query: ", passage_prefix="passage: ")
    bare = without_prefixes(emb)
    assert (bare.query_prefix, bare.passage_prefix, bare.name) == ("", "", "m")
    assert emb.query_prefix == "query: "


def test_mapped_model_pages_are_counted_from_smaps(tmp_path):
    import mmap
    import os

    from eval.bench import proc_mapped_mb

    path = tmp_path / "x.onnx.data"
    path.write_bytes(b"\1" * (8 << 20))
    before = proc_mapped_mb(os.getpid())
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:
        assert sum(m[i] for i in range(0, len(m), 4096)) == 2048  # every page touched: 8 MB resident
        assert proc_mapped_mb(os.getpid()) - before >= 7.9
        assert proc_mapped_mb(os.getpid(), (".nothing",)) == 0


def test_a_report_without_a_unit_is_the_unknown_unit_a_question_set_names():
    from types import SimpleNamespace

    from eval.answers import score_answer
    from eval.datasets import Query

    state = SimpleNamespace(markdown="院前心肺复苏已成功19例\\[1\\]。", not_found=False, flagged_numbers=[],
                            sources=[{"n": 1, "text": "院前心肺复苏已成功19例。", "unit": "", "cited": True}])
    asked_unknown = Query("1", "重点工作总结里心肺复苏成功多少例", ("成功19例",), units=("（未识别）",))
    assert score_answer(asked_unknown, state)["wrong_unit"] == 0.0
    asked_other = Query("2", "市卫健委心肺复苏成功多少例", ("成功19例",), units=("市卫健委",))
    assert score_answer(asked_other, state)["wrong_unit"] == 1.0


def test_a_refusal_is_credited_only_for_the_closest_sentence_it_shows_not_its_related_passages():
    from types import SimpleNamespace

    from eval.answers import score_answer
    from eval.datasets import Query

    q = Query("1", "有没有地方给新发现的丙肝患者全部治疗", ("新增患者100%治疗",))
    shown = SimpleNamespace(not_found=True, flagged_numbers=[], sources=[], markdown=(
        "资料中未找到与该问题直接相关的内容。\n\n资料中意思最接近的句子（未见明确表述，请核对原文，勿直接引用）：\n"
        "- 《2023年重点工作总结》：年底实现新增患者100%治疗[2]\n\n可能相关的资料：\n- [1] 其他"))
    assert score_answer(q, shown)["closest_hint"] == 1.0
    listed = SimpleNamespace(not_found=True, flagged_numbers=[], sources=[], markdown=(
        "资料中未找到与该问题直接相关的内容。\n\n资料中意思最接近的句子（未见明确表述，请核对原文，勿直接引用）：\n"
        "- 《2023年重点工作总结》：加强丙肝患者全流程服务[2]\n\n可能相关的资料：\n- [2] 年底实现新增患者100%治疗"))
    row = score_answer(q, listed)
    assert row["closest_hint"] == 0.0 and row["contains_answer"] == 1.0  # in a related passage, not the sentence shown
    answered = SimpleNamespace(not_found=False, flagged_numbers=[], sources=[], markdown="新增患者100%治疗[1]。")
    assert "closest_hint" not in score_answer(q, answered)
