"""The eval CLI end to end on the tiny corpus with the FakeEmbedder: retrieval, JSONL corpora, ablation, errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import eval.__main__ as cli
from eval.retrieval import evaluate_retrieval

QUERIES = [
    {"id": "q1", "query": "市统计局全年主动公开政府信息多少条", "answers": ["主动公开政府信息915条"],
     "doc_ids": ["a_统计局.txt"], "type": "fact"},
    {"id": "q2", "query": "县住建局全年办理行政处罚案件多少件", "answers": ["办理行政处罚案件43件"],
     "doc_ids": ["b_住建局.txt"], "type": "fact"},
    {"id": "q3", "query": "街道排查企业安全隐患整改率", "answers": ["整改率96.8%"], "type": "rate"},
    # the report writes D员/XX传: the answer in plain characters must still count as found
    {"id": "q4", "query": "党员干部带头宣传统计法", "answers": ["党员干部带头宣传统计法"], "type": "masked"},
    {"id": "q5", "query": "火星基地建设进度", "answers": []},
]


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def queries_file(tmp_path):
    return write_jsonl(tmp_path / "queries.jsonl", QUERIES)


@pytest.fixture
def use_cfg(monkeypatch, tiny_cfg):
    monkeypatch.setattr(cli, "_config", lambda args: tiny_cfg)
    return tiny_cfg


def test_retrieval_cli_json_and_report(tmp_path, tiny_corpus, queries_file, use_cfg, fake_embedder, capsys):
    out = tmp_path / "out"
    argv = ["retrieval", "--corpus", str(tiny_corpus), "--queries", str(queries_file), "--out", str(out), "--json"]
    assert cli.main(argv, embedder=fake_embedder) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_no_answer"] == 1 and result["n_answerable"] == 4 and result["n_with_doc_ids"] == 2
    assert result["n_answer_in_no_chunk"] == 0
    bm25 = result["modes"]["bm25"]["overall"]
    assert bm25["recall@10"]["mean"] == 1.0  # every answer is in the tiny corpus and BM25 finds its words
    assert bm25["doc_recall@10"]["n"] == 2
    assert set(result["modes"]) == {"dense", "bm25", "hybrid"}
    assert set(result["modes"]["hybrid"]["by_type"]) == {"fact", "rate", "masked"}
    for m in result["modes"].values():
        s = m["overall"]["mrr@10"]
        assert s["lo"] <= s["mean"] <= s["hi"]
    assert {"retrieval.md", "retrieval.json", "retrieval.png", "retrieval_per_query.jsonl"} <= {
        p.name for p in out.iterdir()}
    assert (out / "retrieval.png").read_bytes()[:4] == b"\x89PNG"
    rows = [json.loads(x) for x in (out / "retrieval_per_query.jsonl").read_text(encoding="utf-8").splitlines()]
    masked = [r for r in rows if r["id"] == "q4" and r["mode"] == "bm25"][0]
    assert masked["first_rank"] is not None

    # second run reuses the cached index and prints the markdown table
    assert cli.main(argv[:-1], embedder=fake_embedder) == 0
    text = capsys.readouterr().out
    assert "| bm25 |" in text and "无答案问题 1 个" in text
    again = json.loads((out / "retrieval.json").read_text(encoding="utf-8"))
    assert again["index"]["reused"] is True


def test_jsonl_corpus_counts_either_duplicate_id_as_gold(tmp_path, tiny_cfg, fake_embedder):
    from tests.conftest import REPORT_A, REPORT_B

    corpus = write_jsonl(tmp_path / "corpus.jsonl", [
        {"id": "d1", "title": "市统计局2023年政务公开工作总结", "text": REPORT_A},
        {"id": "d1_copy", "title": "市统计局2023年政务公开工作总结", "text": REPORT_A},
        {"id": "d2", "title": "县住建局2023年度法治政府建设工作总结", "text": REPORT_B},
    ])
    qs = write_jsonl(tmp_path / "q.jsonl", [
        {"id": "1", "query": "全年主动公开政府信息多少条", "answers": ["915条"], "doc_ids": ["d1_copy"]},  # dedupe drops the copy
        {"id": "2", "query": "罚没款共计多少", "answers": ["85万元"], "doc_ids": ["d2"]},
        {"id": "3", "query": "罚没款共计多少", "answers": ["85万元"], "doc_ids": ["d1"]},  # wrong gold doc
    ])
    res = evaluate_retrieval(tiny_cfg, corpus, qs, k=5, modes=("bm25",), embedder=fake_embedder)
    rows = {r["id"]: r for r in res["per_query"]["bm25"]}
    assert rows["1"]["doc_recall@5"] == 1.0 and rows["2"]["doc_recall@5"] == 1.0
    assert rows["3"]["doc_recall@5"] == 0.0 and rows["3"]["recall@5"] == 1.0
    assert res["index"]["reports"] == 2  # the duplicate text was indexed once


def test_bad_queries_file_gives_a_chinese_message(tmp_path, tiny_corpus, use_cfg, fake_embedder, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "query": "问"}\nnot json\n', encoding="utf-8")
    argv = ["retrieval", "--corpus", str(tiny_corpus), "--queries", str(bad), "--out", str(tmp_path / "o")]
    assert cli.main(argv, embedder=fake_embedder) == 2
    assert "第 2 行不是合法 JSON" in capsys.readouterr().err
    bad.write_text('{"id": "1", "query": "问"}\n', encoding="utf-8")
    assert cli.main(argv, embedder=fake_embedder) == 2
    assert "第 1 行 缺少 answers" in capsys.readouterr().err
    bad.write_bytes(b"\xff\xfe\x00garbage")
    assert cli.main(argv, embedder=fake_embedder) == 2
    assert "UTF-8" in capsys.readouterr().err
    argv[2] = str(tmp_path / "missing")
    assert cli.main(argv, embedder=fake_embedder) == 2


def test_ablation_runs_every_variant_on_the_same_questions(tmp_path, tiny_corpus, queries_file, use_cfg,
                                                           fake_embedder, capsys):
    out = tmp_path / "abl"
    argv = ["ablation", "--corpus", str(tiny_corpus), "--queries", str(queries_file), "--out", str(out), "--json"]
    assert cli.main(argv, embedder=fake_embedder) == 0
    result = json.loads(capsys.readouterr().out)
    rows = result["rows"]
    assert {"default/hybrid", "default/dense", "default/bm25", "baseline_chunker/hybrid", "no_mask/bm25",
            "no_prefix/dense"} <= set(rows)
    assert "no_prefix/bm25" not in rows
    assert all(r["recall@1"]["n"] == 4 for r in rows.values())
    assert (out / "ablation.md").is_file() and (out / "ablation.png").is_file()


def test_answers_cli_with_the_extractive_backend(tmp_path, tiny_corpus, queries_file, use_cfg, fake_embedder,
                                                 capsys):
    out = tmp_path / "ans"
    argv = ["answers", "--corpus", str(tiny_corpus), "--queries", str(queries_file), "--out", str(out), "--json",
            "--backend", "extractive"]
    assert cli.main(argv, embedder=fake_embedder) == 0
    s = json.loads(capsys.readouterr().out)["summary"]
    assert s["n_answerable"] == 4 and s["n_no_answer"] == 1
    # the extractive back-end quotes passages, so found answers and supported citations are expected
    assert s["contains_answer"]["mean"] > 0 and 0 < s["citation_precision"] <= 1
    assert 0 <= s["correct_refusal"]["mean"] <= 1 and s["wrong_refusal"]["n"] == 4
    rows = [json.loads(x) for x in (out / "answers_per_query.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in rows} == {"q1", "q2", "q3", "q4", "q5"}
    assert all(r["n_citations"] == 0 for r in rows if r["not_found"])
    assert (out / "answers.md").is_file() and (out / "answers.png").is_file()
    argv += ["--limit", "2"]
    assert cli.main(argv, embedder=fake_embedder) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["n"] == 2
