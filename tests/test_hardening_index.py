"""Fault drill, index side: damaged generation files, a bad CURRENT, leftovers of a killed build, corpus walking."""
import json
import os
import shutil

import pytest

from indexer.__main__ import main as indexer_main
from indexer.errors import AssistantError
from indexer.pipeline import build_index
from indexer.reader import Searcher
from indexer.readfile import decode_bytes
from indexer.store import current_generation


@pytest.fixture
def index_root(tiny_cfg, fake_embedder):
    build_index(tiny_cfg, embedder=fake_embedder)
    return tiny_cfg.path(tiny_cfg.index.dir)


def _garble(p):
    p.write_bytes(os.urandom(p.stat().st_size))


def _truncate(p):
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _empty(p):
    p.write_bytes(b"")


def _cut_lines(p):
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    p.write_text("".join(lines[:-2]), encoding="utf-8")


DAMAGE = [
    ("faiss.index", _garble), ("faiss.index", _truncate), ("faiss.index", _empty),
    ("embeddings.npy", _truncate), ("chunks.jsonl", _cut_lines), ("chunks.jsonl", _empty),
    ("reports.jsonl", _truncate), ("bm25", shutil.rmtree),
]


@pytest.mark.parametrize("name,damage", DAMAGE, ids=[f"{n}-{d.__name__}" for n, d in DAMAGE])
def test_damaged_file_is_named_and_the_next_build_repairs_it(index_root, tiny_cfg, fake_embedder, name, damage):
    gen = current_generation(index_root)
    damage(gen / name)
    with pytest.raises(AssistantError) as e:
        Searcher.open(tiny_cfg, embedder=fake_embedder)
    assert name in str(e.value) and "python -m indexer build" in str(e.value)
    summary = build_index(tiny_cfg, embedder=fake_embedder)
    assert not summary.up_to_date and summary.repaired and name in summary.repaired[0]
    if name not in ("chunks.jsonl", "embeddings.npy"):
        assert summary.embedded == 0  # the intact vectors were reused
    s = Searcher.open(tiny_cfg, embedder=fake_embedder)
    assert len(s.chunks) == summary.chunks > 0 and "12件" in s.search("依申请公开 受理 多少件", k=1)[0].chunk.text


def test_same_size_garbling_is_found_by_check_and_by_build(index_root, tiny_cfg, fake_embedder, capsys):
    assert indexer_main(["check", "--index", str(index_root), "--no-open"]) == 0
    gen = current_generation(index_root)
    data = bytearray((gen / "reports.jsonl").read_bytes())
    data[10] = ord("x") if data[10] != ord("x") else ord("y")
    (gen / "reports.jsonl").write_bytes(bytes(data))
    capsys.readouterr()
    assert indexer_main(["check", "--index", str(index_root), "--no-open"]) == 2
    err = capsys.readouterr().err
    assert "reports.jsonl" in err and "校验和" in err and "python -m indexer build" in err
    assert build_index(tiny_cfg, embedder=fake_embedder).repaired
    assert indexer_main(["check", "--index", str(index_root), "--no-open"]) == 0


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage\x81", b"", b"gen-20990101-000000-1-000001",
                                     b"../../elsewhere/gen-20230101-000000-1-000001", b"/etc"])
def test_bad_current_is_refused_and_rebuilt(index_root, tiny_cfg, fake_embedder, tmp_path, content):
    elsewhere = tmp_path / "elsewhere" / "gen-20230101-000000-1-000001"
    shutil.copytree(current_generation(index_root), elsewhere)  # a valid generation outside the index dir
    (index_root / "CURRENT").write_bytes(content)
    with pytest.raises(AssistantError, match="CURRENT|manifest"):
        Searcher.open(tiny_cfg, embedder=fake_embedder)
    for force in (True, False):
        assert build_index(tiny_cfg, embedder=fake_embedder, force=force).chunks > 0
        assert Searcher.open(tiny_cfg, embedder=fake_embedder).stats()["reports"] == 3
        (index_root / "CURRENT").write_bytes(content)


def test_cli_names_the_damaged_file_instead_of_an_invalid_argument(index_root, capsys):
    _truncate(current_generation(index_root) / "embeddings.npy")
    assert indexer_main(["search", "--index", str(index_root), "依申请公开", "--mode", "bm25"]) == 2
    err = capsys.readouterr().err
    assert "embeddings.npy" in err and "参数无效" not in err and "Traceback" not in err


def test_leftovers_of_a_killed_build_go_even_when_up_to_date(index_root, tiny_cfg, fake_embedder):
    (index_root / ".tmp-gen-20230101-000000-1-000001" / "bm25").mkdir(parents=True)
    (index_root / ".CURRENT.tmp").write_text("gen-x", encoding="utf-8")
    assert build_index(tiny_cfg, embedder=fake_embedder).up_to_date
    assert not any(p.name.startswith(".tmp-gen-") or p.name == ".CURRENT.tmp" for p in index_root.iterdir())


def test_manifest_records_corpus_and_every_file(index_root, tiny_cfg):
    manifest = json.loads((current_generation(index_root) / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["corpus"] == str(tiny_cfg.path(tiny_cfg.corpus.dir).resolve())
    files = manifest["generation_files"]
    assert {"chunks.jsonl", "reports.jsonl", "embeddings.npy", "faiss.index"} <= set(files)
    assert any(f.startswith("bm25/") for f in files) and all(len(r["sha256"]) == 64 for r in files.values())


def test_corpus_walk_never_leaves_the_corpus_and_names_every_skipped_entry(tiny_cfg, fake_embedder, tmp_path):
    corpus = tiny_cfg.path(tiny_cfg.corpus.dir)
    secret = tmp_path / "outside.txt"
    secret.write_text("机密单位2023年工作总结\n一、情况\n机密数字4242条。\n", encoding="utf-8")
    (corpus / "link_out.txt").symlink_to(secret)
    (corpus / "loop.txt").symlink_to(corpus / "loop.txt")
    (corpus / "dangling.md").symlink_to(tmp_path / "nowhere.md")
    (corpus / "folder.txt").mkdir()
    (corpus / "folder.txt" / "inner.txt").write_text((corpus / "a_统计局.txt").read_text(encoding="utf-8")
                                                     .replace("915", "916"), encoding="utf-8")
    (corpus / "..name.txt").write_text("隐藏", encoding="utf-8")
    (corpus / "notes.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (corpus / "linkdir").symlink_to(tmp_path, target_is_directory=True)
    (corpus / "inside_link.txt").symlink_to(corpus / "c_街道.md")
    summary = build_index(tiny_cfg, embedder=fake_embedder)
    skipped = dict(summary.skipped)
    for entry, reason in [("link_out.txt", "之外"), ("loop.txt", "循环"), ("dangling.md", "不存在"),
                          ("folder.txt", "文件夹"), ("..name.txt", "隐藏"), ("notes.doc", "不支持"),
                          ("linkdir", "链接")]:
        assert reason in skipped.get(entry, ""), (entry, skipped)
    s = Searcher.open(tiny_cfg, embedder=fake_embedder)
    assert not any("4242" in c.text for c in s.chunks)
    assert "folder.txt/inner.txt" in {c.source_file for c in s.chunks}


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_text_not_binary(codec):
    text = "市统计局2023年政务公开工作总结\n一、主动公开情况\n全年主动公开政府信息915条。\n"
    assert decode_bytes(text.encode(codec), "x.txt") == text
