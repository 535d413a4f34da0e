"""Every configured FAISS type builds, searches and honours filters through the reader."""
import pytest

from indexer.config import with_overrides
from indexer.models import Filters
from indexer.pipeline import build_index
from indexer.reader import Searcher


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_index_types_search_and_filter(tiny_cfg, fake_embedder, kind):
    cfg = with_overrides(tiny_cfg, index={"faiss_type": kind})
    build_index(cfg, embedder=fake_embedder)
    s = Searcher.open(cfg, embedder=fake_embedder)
    hits = s.search("主动公开政府信息", k=3, mode="dense")
    assert len(hits) == 3
    only = s.search("主动公开政府信息", k=3, mode="dense", filters=Filters(section_role=("存在问题",)))
    assert only and all(h.chunk.section_role == "存在问题" for h in only)
    assert s.stats()["faiss_type"] == kind


def test_unknown_faiss_type_is_a_config_error(tiny_cfg, fake_embedder):
    from indexer.errors import ConfigError

    with pytest.raises(ConfigError):
        build_index(with_overrides(tiny_cfg, index={"faiss_type": "annoy"}), embedder=fake_embedder)
