"""The read path keeps to its contract: the real Searcher and the fake satisfy one Protocol; serving never loads the
index-building code."""
from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

from indexer.pipeline import build_index
from indexer.protocols import SearcherProtocol
from indexer.reader import Searcher
from tests.fake_llm import FakeSearcher

REPO = Path(__file__).resolve().parent.parent
# Modules that turn files into chunks and write generations (pipeline._WRITE_PATH_MODULES minus what both paths
# share: searchtext, tokenize, store's generation format, and metadata/roles, the draft review's vocabulary).
WRITE_PATH = ("indexer.pipeline", "indexer.parse", "indexer.chunk", "indexer.readfile", "indexer.noise",
              "indexer.split", "indexer.headings", "indexer.dedupe", "indexer.textmap", "indexer.overrides")


def _members(proto) -> tuple[list[str], list[str]]:
    """(methods, other attributes) the Protocol declares."""
    names = [n for n in vars(proto) if not n.startswith("_")]
    methods = [n for n in names if inspect.isfunction(vars(proto)[n])]
    return methods, [n for n in names if n not in methods] + list(proto.__annotations__)


def _shape(fn) -> list[tuple]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_fake_and_real_searcher_satisfy_the_protocol_with_the_same_signatures(tiny_cfg, fake_embedder):
    build_index(tiny_cfg, embedder=fake_embedder)
    real = Searcher.open(tiny_cfg, embedder=fake_embedder)
    fake = FakeSearcher()
    methods, attributes = _members(SearcherProtocol)
    assert {"search_batch", "unknown_share", "facets"} <= set(methods) and {"cfg", "gen_dir", "embedder"} <= set(attributes)
    for obj in (real, fake):
        assert isinstance(obj, SearcherProtocol), type(obj).__name__
        for name in methods:
            assert _shape(getattr(type(obj), name)) == _shape(getattr(SearcherProtocol, name)), (type(obj).__name__, name)
        for name in attributes:
            assert hasattr(obj, name), (type(obj).__name__, name)
    assert real.embedder is fake_embedder and fake.embedder is None
    assert 0 <= fake.unknown_share("市统计局 火星探测器") < 1 and real.unknown_share("火星探测器") == 1.0


def test_a_searcher_missing_a_method_is_not_one():
    class Partial(FakeSearcher):
        unknown_share = None  # what a fake that drifted looks like to isinstance

    assert not isinstance(Partial(), SearcherProtocol)


_SERVE = """
import json, pkgutil, importlib, sys
sys.path.insert(0, {repo!r})
import app
from indexer.config import load_config, with_overrides
from indexer.models import Filters
from indexer.reader import Searcher
from tests.fakes import FakeEmbedder
for m in pkgutil.walk_packages(app.__path__, "app."):
    importlib.import_module(m.name)
cfg = with_overrides(load_config(), **json.loads({overrides!r}))
s = Searcher.open(cfg, embedder=FakeEmbedder())
for mode in ("dense", "bm25", "hybrid"):
    assert s.search_batch(["主动公开政府信息", "存在问题"], k=3, mode=mode, filters=Filters(year=(2023,)))[0]
hit = s.search("行政处罚案件")[0]
s.report(hit.chunk.report_id), s.reports(), s.facets(), s.stats(), s.similarity("公开", ["政务公开"])
s.unknown_share("火星探测")
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("indexer", "app")))))
"""


def test_serving_questions_loads_no_index_building_code(tiny_cfg, fake_embedder):
    """A fresh process imports every app module and the reader and answers searches: the write path stays out.
    (Uploads and `python -m app --build` load it when they build, in the child process or on demand.)"""
    build_index(tiny_cfg, embedder=fake_embedder)
    overrides = {"index": {"dir": tiny_cfg.index.dir}, "embedding": {"model": "fake"}}
    out = subprocess.run([sys.executable, "-c", _SERVE.format(repo=str(REPO), overrides=json.dumps(overrides))],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    assert {"indexer.reader", "indexer.stores.faiss_store", "app.answer", "app.review.draft"} <= loaded
    assert loaded.isdisjoint(WRITE_PATH), sorted(loaded & set(WRITE_PATH))


def test_the_review_still_parses_drafts_with_the_report_parser():
    from app.review.draft import parse_draft
    from indexer.config import load_config

    draft = parse_draft("县住建局2024年工作总结\n一、主要做法\n全年办理案件43件。\n二、存在问题\n培训不足。", load_config().parse)
    assert draft.unit == "县住建局" and any(p.role == "存在问题" for p in draft.paragraphs)


def _followed(s, old, seconds: float = 10) -> bool:
    """Ask until the reader answers from a generation other than old (it opens the new one in the background)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        s.reports()
        if s.gen_dir != old:
            return True
        time.sleep(0.05)
    return False


def test_a_reader_follows_a_generation_another_process_switched_to(tiny_cfg, tiny_corpus, fake_embedder):
    """[index] refresh_s: once the check is due, the reader opens the new live generation in the background and then
    answers from it; one whose settings differ is refused and the old one keeps answering."""
    import time

    from indexer.config import with_overrides

    build_index(tiny_cfg, embedder=fake_embedder)
    cfg = with_overrides(tiny_cfg, index={"refresh_s": 0.2})
    s = Searcher.open(cfg, embedder=fake_embedder)
    old = s.gen_dir
    (tiny_corpus / "d_应急局.txt").write_text("县应急局2023年工作总结\n一、主要做法\n全年组织应急演练15次。\n", encoding="utf-8")
    build_index(cfg, embedder=fake_embedder)
    assert s.gen_dir == old and len(s.reports()) == 3  # not before the check is due
    assert _followed(s, old)
    assert len(s.reports()) == 4 and "应急演练" in s.search("应急演练", mode="bm25")[0].chunk.text
    current = s.gen_dir
    build_index(with_overrides(cfg, chunk={"max_chars": 300}), embedder=fake_embedder, force=True)
    time.sleep(0.3)
    assert not _followed(s, current, seconds=1.5)  # another chunking: refused, the held one answers
    assert len(s.reports()) == 4
