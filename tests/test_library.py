"""Knowledge-base operations on the tiny corpus: list files, delete one, re-index one, refuse paths outside it."""
import pytest

from app.library import delete_file, file_rows, reindex_file
from app.service import Service
from indexer.errors import InputFileError


@pytest.fixture
def svc(tmp_path):
    from indexer.config import load_config, with_overrides
    from indexer.pipeline import build_index
    from indexer.reader import Searcher
    from tests.app_server import write_corpus
    from tests.fakes import FakeEmbedder

    corpus = write_corpus(tmp_path / "reports")
    (corpus / "a_copy.txt").write_bytes((corpus / "a_统计局.txt").read_bytes())
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    cfg = with_overrides(load_config(), corpus={"dir": str(corpus)}, index={"dir": str(tmp_path / "index")},
                         embedding={"model": "fake", "cache_dir": str(tmp_path / "cache")})
    emb = FakeEmbedder()
    build_index(cfg, embedder=emb)
    return Service(Searcher.open(cfg, embedder=emb), None, cfg, embedder=emb)


def test_file_rows_show_reports_metadata_duplicates_and_skips(svc):
    rows = {r.name: r for r in file_rows(svc.searcher)}
    assert {"a_统计局.txt", "a_copy.txt", "b_住建局.txt", "c_街道.md", "d_evil.txt", "empty.txt"} <= set(rows)
    assert rows["b_住建局.txt"].reports[0][1:] == ("县住建局", 2023) and rows["b_住建局.txt"].missing == 0
    assert rows["empty.txt"].skipped and not rows["empty.txt"].reports
    dup = rows["a_统计局.txt"].duplicates + rows["a_copy.txt"].duplicates
    assert "a_copy.txt" in dup or "a_统计局.txt" in dup


def test_delete_one_file_leaves_the_others(svc):
    before = len(svc.searcher.reports())
    delete_file(svc, "b_住建局.txt")
    assert len(svc.searcher.reports()) == before - 1
    assert "b_住建局.txt" not in {r.name for r in file_rows(svc.searcher)}
    assert not (svc.cfg.path(svc.cfg.corpus.dir) / "b_住建局.txt").exists()
    with pytest.raises(InputFileError):
        delete_file(svc, "../index/CURRENT")
    with pytest.raises(InputFileError):
        delete_file(svc, "b_住建局.txt")


def test_reindex_one_file_embeds_only_its_chunks(svc):
    summary = reindex_file(svc, "c_街道.md")
    n_chunks = sum(1 for c in svc.searcher.chunks if c.report_id in
                   {r["report_id"] for r in svc.searcher.reports() if r["source_file"] == "c_街道.md"})
    assert summary.embedded == n_chunks > 0 and summary.reused > 0
    assert "c_街道.md" in {r.name for r in file_rows(svc.searcher)}


def test_upload_summary_names_only_the_added_files_in_plain_words():
    from indexer.pipeline import BuildSummary

    from app.tabs.upload import summary_text

    s = BuildSummary(3, 5, 9, 20, 2, 18, 1.0, "/srv/index", per_file=(("a.txt", 2), ("新_1.txt", 1), ("b.txt", 2)),
                     skipped=(("坏.pdf", "无法读取"),), duplicates=(("新_1.txt", "某报告"),))
    text = summary_text(s, ("新.txt",))
    assert text.startswith("已添加 1 个文件。") and "知识库现有 5 份报告" in text and "新_1.txt：识别出 1 份报告" in text
    assert "a.txt" not in text and "/srv" not in text and "文本块" not in text and "复用" not in text
    assert "未收录 坏.pdf：无法读取" in text and "《某报告》与已有报告相同" in text
