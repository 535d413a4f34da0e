"""Metadata corrections from metadata_overrides.toml: applied at build, a change rebuilds, bad files are named."""
import pytest

from indexer.errors import CorpusError
from indexer.overrides import OVERRIDES_FILE, load_overrides
from indexer.pipeline import build_index, walk_corpus
from indexer.reader import Searcher
from tests.fakes import FakeEmbedder


def _title_without_unit(cfg) -> str:
    from indexer.parse import parse_file

    corpus = cfg.path(cfg.corpus.dir)
    reports = [r for p in sorted(corpus.iterdir()) for r in parse_file(p, corpus, cfg)]
    return reports[0].title


def test_override_sets_unit_year_and_level_and_a_change_rebuilds(tiny_cfg):
    corpus = tiny_cfg.path(tiny_cfg.corpus.dir)
    title = _title_without_unit(tiny_cfg)
    emb = FakeEmbedder()
    build_index(tiny_cfg, embedder=emb)
    (corpus / OVERRIDES_FILE).write_text(f'["{title}"]\nunit = "县民政局"\nyear = 2022\n', encoding="utf-8")
    summary = build_index(tiny_cfg, embedder=emb)
    assert not summary.up_to_date  # the corrections are part of what the index was built from
    s = Searcher.open(tiny_cfg, embedder=emb)
    rec = next(r for r in s.reports() if r["title"] == title)
    assert (rec["unit"], rec["year"], rec["level"]) == ("县民政局", 2022, "县")
    assert all(c.unit == "县民政局" and c.year == 2022 for c in s.chunks if c.report_title == title)
    assert build_index(tiny_cfg, embedder=emb).up_to_date
    files, skipped = walk_corpus(corpus, tiny_cfg.corpus.extensions)
    assert OVERRIDES_FILE not in {p.name for p in files} | {name for name, _ in skipped}


@pytest.mark.parametrize("text, words", [
    ('["报告"]\nyear = "二〇二三"\n', "year"),
    ('["报告"]\ncolour = "红"\n', "colour"),
    ('["报告"]\nlevel = "国"\n', "level"),
    ("[报告\n", "格式有误"),
])
def test_bad_override_file_is_named_with_what_is_wrong(tmp_path, text, words):
    (tmp_path / OVERRIDES_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(CorpusError, match=words):
        load_overrides(tmp_path)
