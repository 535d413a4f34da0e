"""Fault drill, eval and checkout: runs on other data never overwrite the committed results; .venv/ is ignored."""
import subprocess

import eval.__main__ as cli
from tests.test_eval_cli import QUERIES, write_jsonl


def test_retrieval_on_other_data_writes_elsewhere_unless_asked(tmp_path, tiny_corpus, tiny_cfg, fake_embedder,
                                                              monkeypatch, capsys):
    committed, scratch = tmp_path / "results", tmp_path / "results" / "tmp"
    monkeypatch.setattr(cli, "DEFAULT_OUT", committed)
    monkeypatch.setattr(cli, "OTHER_OUT", scratch)
    monkeypatch.setattr(cli, "_config", lambda args: tiny_cfg)
    queries = write_jsonl(tmp_path / "q.jsonl", QUERIES)
    argv = ["retrieval", "--corpus", str(tiny_corpus), "--queries", str(queries), "--json"]
    assert cli.main(argv, embedder=fake_embedder) == 0
    assert (scratch / "retrieval.json").is_file()
    assert not [p for p in committed.glob("*") if p.is_file()]  # nothing beside tmp/
    assert "--out" in capsys.readouterr().err
    chosen = tmp_path / "chosen"
    assert cli.main(argv + ["--out", str(chosen)], embedder=fake_embedder) == 0
    assert (chosen / "retrieval.json").is_file()


def test_own_data_still_writes_the_committed_results():
    args = cli.build_parser().parse_args(["retrieval", "--corpus", str(cli.REPO / "data" / "reports"), "--queries",
                                          str(cli.REPO / "eval" / "data" / "questions.jsonl")])
    assert cli._out(args) == cli.DEFAULT_OUT


def test_venv_in_the_checkout_is_ignored():
    root = cli.REPO
    done = subprocess.run(["git", "-C", str(root), "check-ignore", "-q", ".venv/bin/python"])
    assert done.returncode == 0
