"""The Milvus store against real Milvus Lite (embedded, and a server on 127.0.0.1): same hits as the FAISS store."""
from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("pymilvus", reason="Milvus store tests need the milvus extra: pip install -e '.[milvus]'")
pytest.importorskip("milvus_lite", reason="Milvus store tests need the milvus extra: pip install -e '.[milvus]'")

from indexer.config import with_overrides  # noqa: E402
from indexer.errors import IndexDamagedError, IndexMismatchError, IndexMissingError, StoreUnavailableError  # noqa: E402
from indexer.models import Filters  # noqa: E402
from indexer.pipeline import build_index  # noqa: E402
from indexer.reader import Searcher  # noqa: E402
from tests.fakes import FakeEmbedder  # noqa: E402

QUERIES = ["主动公开政府信息", "存在问题和不足", "安全隐患排查整改", "行政处罚案件 罚没款", "政策解读形式", "火星探测"]
FILTERS = [None, Filters(section_role=("存在问题",)), Filters(unit=("县住建局",), year=(2023,)),
           Filters(topic=("政务公开",), level=("市级",)), Filters(unit=('县"住建局\\',))]


class NoTieEmbedder(FakeEmbedder):
    """FakeEmbedder plus a tiny text-seeded jitter: its integer counts give equal cosines, and two engines may order
    equal scores differently; without ties any difference in order is a real difference."""

    def _one(self, text: str) -> np.ndarray:
        v = super()._one(text)
        rng = np.random.default_rng(int.from_bytes(hashlib.md5(text.encode("utf-8")).digest()[:8], "little"))
        v = v + rng.normal(0, 1e-3, self.dim).astype(np.float32)
        return v / np.linalg.norm(v)


@pytest.fixture
def emb():
    return NoTieEmbedder()


def milvus(cfg, uri, **milvus):
    return with_overrides(cfg, index={"store": "milvus"}, milvus={"uri": str(uri), **milvus})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lite_server(tmp_path_factory):
    """A Milvus Lite gRPC server on loopback, started for these tests and stopped after."""
    port = _free_port()
    data = tmp_path_factory.mktemp("milvus-server")
    log = (data / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data / "db"),
                             "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Milvus Lite server did not start: {(data / 'server.log').read_text()[-2000:]}")
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _rows(hits):
    return [(h.chunk.chunk_id, round(h.score, 4), None if h.dense_score is None else round(h.dense_score, 4),
             None if h.bm25_score is None else round(h.bm25_score, 3)) for h in hits]


def assert_same_results(a: Searcher, b: Searcher, k: int = 5):
    compared = 0
    for mode in ("hybrid", "dense", "bm25"):
        for flt in FILTERS:
            want = a.search_batch(QUERIES, k=k, mode=mode, filters=flt)
            got = b.search_batch(QUERIES, k=k, mode=mode, filters=flt)
            for q, w, g in zip(QUERIES, want, got):
                assert _rows(g) == _rows(w), (q, mode, flt)
                compared += len(w)
    assert compared > 100  # the comparison saw real hits, not only empty lists


def test_embedded_lite_gives_the_faiss_results(tiny_cfg, emb, tmp_path):
    build_index(tiny_cfg, embedder=emb)
    mcfg = milvus(tiny_cfg, tmp_path / "milvus.db")
    summary = build_index(mcfg, embedder=emb)
    assert summary.chunks > 5 and "milvus.db" in summary.index_dir
    f, m = Searcher.open(tiny_cfg, embedder=emb), Searcher.open(mcfg, embedder=emb)
    assert_same_results(f, m)
    assert m.facets() == f.facets()
    assert m.reports() == f.reports()
    some = f.chunks[3]
    assert m.chunk(some.chunk_id) == some and m.report(some.report_id) == f.report(some.report_id)
    assert m.unknown_share("主动公开 火星 探测器") == f.unknown_share("主动公开 火星 探测器") > 0
    from indexer.stores.base import ChunkStore, StoreWriter
    from indexer.stores.faiss_store import FaissWriter
    from indexer.stores.milvus_store import MilvusWriter

    assert isinstance(f.store, ChunkStore) and isinstance(m.store, ChunkStore)
    assert isinstance(FaissWriter(tiny_cfg, tmp_path), StoreWriter) and isinstance(MilvusWriter(mcfg), StoreWriter)
    stats = m.stats()
    assert stats["store"] == "milvus" and stats["chunks"] == len(f.chunks) and stats["reports"] == 3


def test_lite_server_on_loopback_gives_the_faiss_results(tiny_cfg, emb, lite_server):
    build_index(tiny_cfg, embedder=emb)
    mcfg = milvus(tiny_cfg, lite_server, collection="parity")
    build_index(mcfg, embedder=emb)
    assert_same_results(Searcher.open(tiny_cfg, embedder=emb), Searcher.open(mcfg, embedder=emb))


_REPLICA = """
import json, sys
sys.path.insert(0, {repo!r})
from indexer.config import load_config, with_overrides
from indexer.reader import Searcher
from tests.fakes import FakeEmbedder
s = Searcher.open(with_overrides(load_config(), **json.loads({overrides!r})), embedder=FakeEmbedder())
print("ready", flush=True)
for line in sys.stdin:
    hits = s.search(line.strip(), k=3, mode="bm25")
    print(json.dumps({{"gen": str(s.gen_dir), "reports": len(s.reports()), "titles": [h.chunk.report_title for h in hits]}},
                     ensure_ascii=False), flush=True)
"""
NEW_REPORT = "县应急局2023年应急管理工作总结\n一、主要做法\n全年组织综合应急演练15次，培训救援队员320人次。\n二、存在问题\n基层应急物资储备不足。\n"


def _ask(proc, query: str) -> dict:
    proc.stdin.write(query + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def test_replicas_over_one_server_answer_from_the_new_generation(tiny_cfg, tiny_corpus, lite_server):
    """Two reader processes over one Milvus Lite server; a writer builds a new generation (alias switch); both
    answer from it within [index] refresh_s, without being told (with refresh_s = 0 they stay on the old one)."""
    from pathlib import Path

    emb = FakeEmbedder()
    mcfg = milvus(tiny_cfg, lite_server, collection="replicas")
    build_index(mcfg, embedder=emb)
    overrides = {"index": {"store": "milvus", "dir": tiny_cfg.index.dir, "refresh_s": 0.5},
                 "milvus": {"uri": lite_server, "collection": "replicas"}, "embedding": {"model": "fake"}}
    script = _REPLICA.format(repo=str(Path(__file__).resolve().parent.parent), overrides=json.dumps(overrides))
    replicas = [subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True, encoding="utf-8") for _ in range(2)]
    try:
        assert [p.stdout.readline().strip() for p in replicas] == ["ready", "ready"]
        before = [_ask(p, "应急演练 救援队员") for p in replicas]
        assert len({b["gen"] for b in before}) == 1 and all(b["reports"] == 3 for b in before)
        assert not any("应急" in t for b in before for t in b["titles"])
        (tiny_corpus / "d_应急局.txt").write_text(NEW_REPORT, encoding="utf-8")
        build_index(mcfg, embedder=emb)  # the one writer: a new collection, then the alias switched
        deadline, after = time.monotonic() + 30, before
        while time.monotonic() < deadline and any(a["gen"] == before[0]["gen"] for a in after):
            time.sleep(0.3)
            after = [_ask(p, "应急演练 救援队员") for p in replicas]
        assert all(a["gen"] != before[0]["gen"] and a["reports"] == 4 for a in after), after
        assert all(a["titles"][0] == "县应急局2023年应急管理工作总结" for a in after)
    finally:
        for p in replicas:
            p.stdin.close()
            p.wait(30)


def test_searches_return_ids_only_and_go_in_bounded_batches(tiny_cfg, emb, tmp_path, monkeypatch):
    """Many questions at once (an evaluation) stay below gRPC's message limit: each request carries a bounded
    number of queries, and hits carry no vectors or fields (Milvus Lite returns them all for output_fields=[])."""
    from indexer.stores import milvus_store

    build_index(tiny_cfg, embedder=emb)
    mcfg = milvus(tiny_cfg, tmp_path / "milvus.db")
    build_index(mcfg, embedder=emb)
    m = Searcher.open(mcfg, embedder=emb)
    client, seen = m.store._client, []
    real_search = client.search

    def spy(*a, **kw):
        res = real_search(*a, **kw)
        seen.append((len(kw["data"]), {key for hits in res for h in hits for key in h.get("entity", {})}))
        return res

    monkeypatch.setattr(client, "search", spy)
    monkeypatch.setattr(milvus_store, "SEARCH_QUERIES", 2)
    assert_same_results(Searcher.open(tiny_cfg, embedder=emb), m)
    assert seen and max(n for n, _ in seen) == 2 and set().union(*(keys for _, keys in seen)) <= {"id"}


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_index_kinds_search_and_filter(tiny_cfg, emb, tmp_path, kind):
    cfg = milvus(with_overrides(tiny_cfg, index={"faiss_type": kind}), tmp_path / "milvus.db")
    build_index(cfg, embedder=emb)
    s = Searcher.open(cfg, embedder=emb)
    assert len(s.search("主动公开政府信息", k=3, mode="dense")) == 3
    only = s.search("主动公开政府信息", k=3, mode="dense", filters=Filters(section_role=("存在问题",)))
    assert only and all(h.chunk.section_role == "存在问题" for h in only)


def test_incremental_build_reuses_vectors_and_drops_removed_files(tiny_cfg, emb, tmp_path):
    cfg = milvus(tiny_cfg, tmp_path / "milvus.db")
    first = build_index(cfg, embedder=emb)
    corpus = tiny_cfg.path(tiny_cfg.corpus.dir)
    (corpus / "d.txt").write_text("县司法局2023年工作总结\n一、成效\n全年调解纠纷88件，调解成功率98%。\n", "utf-8")
    (corpus / "c_街道.md").unlink()
    second = build_index(cfg, embedder=emb)
    s = Searcher.open(cfg, embedder=emb)
    assert 0 < second.embedded < second.chunks and second.reused == second.chunks - second.embedded
    assert second.reused < first.chunks  # the removed report's chunks were not carried over
    assert {r["unit"] for r in s.reports()} == {"市统计局", "县住建局", "县司法局"}
    assert not s.search("安全隐患排查整改", k=5, mode="bm25", filters=Filters(unit=("XX街道",)))
    assert s.search("调解纠纷", k=1, mode="bm25")[0].chunk.unit == "县司法局"
    assert len(s.chunks) == second.chunks == s.stats()["chunks"]
    assert build_index(cfg, embedder=emb).up_to_date


def test_alias_switches_only_to_a_complete_collection(tiny_cfg, emb, tmp_path, monkeypatch):
    from indexer.stores import milvus_store
    from pymilvus import MilvusClient

    cfg = milvus(tiny_cfg, tmp_path / "milvus.db")
    build_index(cfg, embedder=emb)
    before = Searcher.open(cfg, embedder=emb)
    live = before.gen_dir.name
    (tiny_cfg.path(tiny_cfg.corpus.dir) / "d.txt").write_text("县司法局2023年工作总结\n一、成效\n调解纠纷88件。\n", "utf-8")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(milvus_store, "write_docs", boom)  # rows inserted, records never written
    with pytest.raises(StoreUnavailableError, match="disk full"):
        build_index(cfg, embedder=emb)
    monkeypatch.undo()
    after = Searcher.open(cfg, embedder=emb)
    assert after.gen_dir.name == live and after.stats()["reports"] == 3
    client = milvus_store.connect(cfg)
    assert len([n for n in client.list_collections() if not n.endswith("_docs")]) == 2  # the half-built one is left
    build_index(cfg, embedder=emb)
    third = build_index(with_overrides(cfg, chunk={"max_chars": 500}), embedder=emb)
    names = sorted(n for n in client.list_collections() if not n.endswith("_docs"))
    assert third.chunks and len(names) == 2  # live and the one before it; the half-built one was dropped
    assert live not in names and isinstance(client, MilvusClient)


def test_manifest_mismatch_and_missing_collection_are_refused(tiny_cfg, emb, tmp_path):
    cfg = milvus(tiny_cfg, tmp_path / "milvus.db")
    with pytest.raises(IndexMissingError, match="没有集合"):
        Searcher.open(cfg, embedder=emb)
    build_index(cfg, embedder=emb)
    with pytest.raises(IndexMismatchError, match="chunk"):
        Searcher.open(with_overrides(cfg, chunk={"max_chars": 300}), embedder=emb)
    with pytest.raises(IndexMismatchError, match="维度"):
        Searcher.open(cfg, embedder=type("Wide", (NoTieEmbedder,), {"name": emb.name})(dim=32))


def test_lost_rows_are_damage_not_results(tiny_cfg, emb, tmp_path):
    from indexer.stores import milvus_store

    cfg = milvus(tiny_cfg, tmp_path / "milvus.db")
    build_index(cfg, embedder=emb)
    s = Searcher.open(cfg, embedder=emb)
    name, n = s.gen_dir.name, s.stats()["chunks"]
    client = milvus_store.connect(cfg)
    client.delete(name, filter="id in [0, 1]")
    client.flush(name)
    if int(client.get_collection_stats(name)["row_count"]) == n:
        pytest.skip("this Milvus counts deleted rows until compaction")
    with pytest.raises(IndexDamagedError):
        Searcher.open(cfg, embedder=emb)
    assert build_index(cfg, embedder=emb).repaired


def test_unreachable_milvus_is_one_chinese_message(tiny_cfg, emb, capsys):
    from indexer.__main__ import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: refused at once, and never the network
        cfg = milvus(tiny_cfg, f"http://127.0.0.1:{port}", timeout_s=3)
        with pytest.raises(StoreUnavailableError, match="无法连接 Milvus"):
            Searcher.open(cfg, embedder=emb)
        assert main(["stats", "--milvus-uri", f"http://127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误: 无法连接 Milvus") and "Traceback" not in err and len(err.strip().splitlines()) == 1



def test_released_collections_are_loaded_on_open(tiny_cfg, emb, tmp_path):
    from indexer.stores import milvus_store

    cfg = milvus(tiny_cfg, tmp_path / "milvus.db")
    build_index(cfg, embedder=emb)
    name = Searcher.open(cfg, embedder=emb).gen_dir.name
    client = milvus_store.connect(cfg)
    for n in (name, f"{name}_docs"):  # as after a restart of Milvus, or a new process on a Milvus Lite file
        client.release_collection(n)
    assert Searcher.open(cfg, embedder=emb).search("主动公开政府信息", k=2)
    assert build_index(cfg, embedder=emb).up_to_date


def test_embedded_lite_held_by_another_process_is_one_message(tiny_cfg, tmp_path):
    from indexer.stores import milvus_store

    db = tmp_path / "held.db"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pymilvus import MilvusClient; "
                               f"MilvusClient({str(db)!r}); print('open', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreUnavailableError, match="只允许一个进程"):
            milvus_store.connect(milvus(tiny_cfg, db))
    finally:
        holder.kill()
        holder.wait()


def test_cli_builds_searches_and_checks_through_milvus(tiny_cfg, tmp_path, capsys, monkeypatch):
    from indexer.__main__ import main

    uri = str(tmp_path / "cli.db")
    conf = tmp_path / "config.toml"
    conf.write_text(f'[corpus]\ndir = "{tiny_cfg.corpus.dir}"\n[index]\ndir = "{tmp_path / "index"}"\n'
                    f'[embedding]\nmodel = "fake"\n', encoding="utf-8")
    monkeypatch.setattr("indexer.embed.load_embedder", lambda cfg: NoTieEmbedder())
    assert main(["--config", str(conf), "build", "--milvus-uri", uri]) == 0
    assert not (tmp_path / "index" / "CURRENT").exists()  # nothing went to the FAISS directory
    assert main(["--config", str(conf), "search", "行政处罚案件", "--json", "-k", "2", "--store", "milvus",
                 "--milvus-uri", uri]) == 0
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(out)["hits"][0]["unit"] == "县住建局"
    assert main(["--config", str(conf), "stats", "--milvus-uri", uri]) == 0
    assert "Milvus flat" in capsys.readouterr().out
    conf.write_text(conf.read_text(encoding="utf-8").replace("[index]\n", '[index]\nstore = "milvus"\n')
                    + f'[milvus]\nuri = "{uri}"\n', encoding="utf-8")
    assert main(["--config", str(conf), "check"]) == 0
    assert "索引完好" in capsys.readouterr().out
