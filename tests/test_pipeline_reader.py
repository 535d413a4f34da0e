"""Build, update and search an index over the tiny corpus with the fake embedder."""
import json
import os

import pytest

from indexer.config import with_overrides
from indexer.errors import CorpusError, IndexMismatchError, IndexMissingError, QueryError
from indexer.models import Filters
from indexer.pipeline import add_files, build_index, safe_filename
from indexer.reader import Searcher
from indexer.store import current_generation


@pytest.fixture
def built(tiny_cfg, fake_embedder):
    summary = build_index(tiny_cfg, embedder=fake_embedder)
    return summary, Searcher.open(tiny_cfg, embedder=fake_embedder)


def test_build_counts_and_chunk_offsets_point_into_source(built, tiny_cfg):
    summary, s = built
    assert summary.reports == 3 and summary.chunks >= 6 and summary.embedded == summary.chunks
    corpus = tiny_cfg.path(tiny_cfg.corpus.dir)
    for c in s.chunks:
        assert c.report_title in c.search_text
        raw = (corpus / c.source_file).read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                source = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        # the passage's first and last characters sit where the offsets say
        assert source[c.char_start] == c.text[0] and source[c.char_end - 1] == c.text[-1]
        assert s.report(c.report_id)["text"][c.start:c.end] == c.text


def test_manifest_and_files_are_plain(built, tiny_cfg):
    gen = current_generation(tiny_cfg.path(tiny_cfg.index.dir))
    names = {p.name for p in gen.iterdir()}
    assert {"chunks.jsonl", "faiss.index", "manifest.json", "bm25", "reports.jsonl"} <= names
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["model"] == "fake-hash-embedder" and manifest["dim"] == 64
    assert "市统计局" in (gen / "chunks.jsonl").read_text(encoding="utf-8")  # ensure_ascii=False


def test_search_modes_find_the_figure(built):
    _, s = built
    for mode in ("bm25", "dense", "hybrid"):
        hits = s.search("全年受理政府信息公开申请多少件", k=3, mode=mode)
        assert hits and hits[0].rank == 1
        if mode != "dense":  # the fake embedder is only roughly semantic
            assert "12件" in hits[0].chunk.text
    assert [h.chunk.chunk_id for h in s.search("执法", k=2)] == [
        h.chunk.chunk_id for h in s.search_batch(["执法"], k=2)[0]]


def test_masked_characters_are_searchable(built):
    _, s = built
    hits = s.search("党员干部宣传统计法", k=1, mode="bm25")
    assert "D员" in hits[0].chunk.text and "XX传" in hits[0].chunk.text


def test_filters_restrict_every_mode(built):
    _, s = built
    for mode in ("bm25", "dense", "hybrid"):
        hits = s.search("存在问题", k=5, mode=mode, filters=Filters(section_role=("存在问题",)))
        assert hits and all(h.chunk.section_role == "存在问题" for h in hits)
    rid = s.chunks[0].report_id
    assert all(h.chunk.report_id == rid for h in s.search("工作", k=5, filters=Filters(report_id=(rid,))))
    assert s.search("工作", filters=Filters(year=(1999,))) == []


def test_bad_queries_raise_clear_errors(built):
    _, s = built
    with pytest.raises(QueryError):
        s.search("   ")
    with pytest.raises(QueryError):
        s.search("x", mode="magic")
    with pytest.raises(QueryError):
        s.report("nope")


def test_rebuild_is_incremental(built, tiny_cfg, fake_embedder):
    again = build_index(tiny_cfg, embedder=fake_embedder)
    assert again.up_to_date and again.embedded == 0
    corpus = tiny_cfg.path(tiny_cfg.corpus.dir)
    (corpus / "c_街道.md").unlink()
    (corpus / "d_新.txt").write_text("某区2023年普法工作总结\n\n一、主要做法\n开展普法宣传活动30场。\n", encoding="utf-8")
    summary = build_index(tiny_cfg, embedder=fake_embedder)
    assert not summary.up_to_date and summary.reports == 3
    assert 0 < summary.embedded < summary.chunks  # only the new report was embedded
    s = Searcher.open(tiny_cfg, embedder=fake_embedder)
    assert all(c.source_file != "c_街道.md" for c in s.chunks)


def test_bad_files_are_skipped_not_fatal(tiny_cfg, fake_embedder):
    corpus = tiny_cfg.path(tiny_cfg.corpus.dir)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (corpus / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    summary = build_index(tiny_cfg, embedder=fake_embedder)
    assert summary.reports == 3
    skipped = dict(summary.skipped)
    assert {"empty.txt", "binary.txt", "broken.docx"} <= set(skipped)
    assert all(reason for reason in skipped.values())


def test_missing_corpus_and_index(tiny_cfg, fake_embedder, tmp_path):
    with pytest.raises(CorpusError):
        build_index(tiny_cfg, corpus_dir=tmp_path / "nowhere", embedder=fake_embedder)
    with pytest.raises(IndexMissingError):
        Searcher.open(tiny_cfg, index_dir=tmp_path / "noindex", embedder=fake_embedder)


def test_index_with_other_settings_is_refused(built, tiny_cfg, fake_embedder):
    other = with_overrides(tiny_cfg, chunk={"max_chars": 300})
    with pytest.raises(IndexMismatchError, match="chunk"):
        Searcher.open(other, embedder=fake_embedder)
    with pytest.raises(IndexMismatchError, match="model"):
        Searcher.open(tiny_cfg)  # configured model "fake" is not the fake embedder's name


def test_crash_mid_build_keeps_previous_index(built, tiny_cfg, fake_embedder, monkeypatch):
    import indexer.store as store

    def boom(*a, **k):
        raise RuntimeError("disk full")

    (tiny_cfg.path(tiny_cfg.corpus.dir) / "d.txt").write_text("县司法局2023年工作总结\n一、成效\n调解纠纷88件。\n", "utf-8")
    monkeypatch.setattr(store, "make_faiss_index", boom)
    with pytest.raises(RuntimeError):
        build_index(tiny_cfg, embedder=fake_embedder)
    s = Searcher.open(tiny_cfg, embedder=fake_embedder)
    assert s.stats()["reports"] == 3


def test_add_files_sanitises_names_and_indexes(built, tiny_cfg, fake_embedder, tmp_path):
    up = tmp_path / "up"
    up.mkdir()
    evil = up / "evil.txt"
    evil.write_text("县应急局2023年安全生产工作总结\n一、工作成效\n开展应急演练15次。\n", encoding="utf-8")
    summary = add_files(tiny_cfg, [evil], embedder=fake_embedder)
    assert summary.reports == 4
    assert safe_filename("../../etc/passwd.txt") == "passwd.txt"
    assert "/" not in safe_filename("a/b\\c.md") and safe_filename("..").endswith("report")
    bad = up / "x.exe"
    bad.write_bytes(b"MZ")
    from indexer.errors import InputFileError

    with pytest.raises(InputFileError):
        add_files(tiny_cfg, [bad], embedder=fake_embedder)
    assert not (tiny_cfg.path(tiny_cfg.corpus.dir) / "x.exe").exists()


def test_same_report_in_two_files_is_indexed_once(tiny_cfg, fake_embedder):
    corpus = tiny_cfg.path(tiny_cfg.corpus.dir)
    (corpus / "copy_of_a.txt").write_bytes((corpus / "a_统计局.txt").read_bytes())
    summary = build_index(tiny_cfg, embedder=fake_embedder)
    assert summary.reports == 3
    assert [t for _, t in summary.duplicates] == ["市统计局2023年政务公开工作总结"]
    s = Searcher.open(tiny_cfg, embedder=fake_embedder)
    rec = [r for r in s.reports() if r["title"].startswith("市统计局")][0]
    assert rec["also_in"]


def test_oversized_file_is_skipped_with_the_limit_named(tiny_cfg, fake_embedder):
    corpus = tiny_cfg.path(tiny_cfg.corpus.dir)
    (corpus / "huge.txt").write_bytes(("很长的报告正文。" * 100_000).encode("utf-8"))  # ~2.4 MB
    small = with_overrides(tiny_cfg, corpus={"max_file_mb": 1})
    summary = build_index(small, embedder=fake_embedder)
    assert summary.reports == 3
    assert "1 MB" in dict(summary.skipped)["huge.txt"]
