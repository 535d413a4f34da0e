"""FAISS store vs Milvus store: retrieval parity on a question set, and a synthetic build/latency/recall bench."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from indexer.config import Config, load_config, with_overrides

from .bench import latency_ms, rss_mb, synthetic_queries, synthetic_vectors

REPO = Path(__file__).resolve().parent.parent


def milvus_cfg(cfg: Config, uri: str, collection: str) -> Config:
    return with_overrides(cfg, index={"store": "milvus"}, milvus={"uri": uri, "collection": collection})


class ReusingEmbedder:
    """The configured model behind a memo: passages whose text an earlier FAISS index already embedded take its
    vector, each query is embedded once for every store and mode (the parity runs compare stores, not models)."""

    def __init__(self, embedder, vectors_from: Path | None = None):
        from indexer.stores.base import text_key

        self._emb, self.name, self.dim = embedder, embedder.name, embedder.dim
        self._key = text_key
        self._passages: dict[str, np.ndarray] = {}
        self._queries: dict[str, np.ndarray] = {}
        self.reused = 0
        if vectors_from is not None:
            from indexer.stores.faiss_store import FaissWriter

            self._passages = FaissWriter(None, Path(vectors_from)).stored_vectors()

    def _memo(self, texts, memo: dict, encode, key) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if key(t) not in memo))
        if todo:
            memo.update(zip(map(key, todo), encode(todo)))
        self.reused += len(texts) - len(todo) if memo is self._passages else 0
        return np.stack([memo[key(t)] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_passages(self, texts, show_progress: bool = False) -> np.ndarray:
        return self._memo(list(texts), self._passages, self._emb.encode_passages, self._key)

    def encode_queries(self, texts, show_progress: bool = False) -> np.ndarray:
        return self._memo(list(texts), self._queries, self._emb.encode_queries, str)


def parity(cfg: Config, corpus: Path, queries: Path, uri: str, k: int = 10, modes=("dense", "bm25", "hybrid"),
           vectors_from: Path | None = None) -> dict:
    """The same corpus and questions through the FAISS store and the Milvus store at uri: every mode's metrics;
    vectors_from = an earlier FAISS index of the corpus whose passage vectors are reused instead of re-embedded."""
    from indexer.embed import load_embedder
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    from .datasets import load_queries
    from .retrieval import ensure_index, evaluate_searcher

    embedder = ReusingEmbedder(load_embedder(cfg.embedding), vectors_from)
    qs = load_queries(queries)
    # Reused vectors: an index of its own, so `python -m eval retrieval` never takes it for one it embedded itself.
    fcfg, index_dir, _ = ensure_index(cfg, corpus, embedder, variant="store-parity" if vectors_from else "")
    faiss_result = evaluate_searcher(Searcher.open(fcfg, index_dir=index_dir, embedder=embedder), qs, k, modes,
                                     cfg.parse.mask_map)
    mcfg = milvus_cfg(fcfg, uri, "eval_parity")
    t0 = time.perf_counter()
    if corpus.is_dir():
        build_index(mcfg, corpus_dir=corpus, embedder=embedder)
    else:
        from .datasets import docs_to_reports, load_docs

        build_index(mcfg, embedder=embedder, reports=docs_to_reports(load_docs(corpus), mcfg.parse)[0])
    build_s = time.perf_counter() - t0
    milvus_result = evaluate_searcher(Searcher.open(mcfg, embedder=embedder), qs, k, modes, cfg.parse.mask_map)
    rows = {}
    for mode in modes:
        f, m = faiss_result["modes"][mode], milvus_result["modes"][mode]
        rows[mode] = {key: {"faiss": _value(f["overall"][key]), "milvus": _value(m["overall"][key])}
                      for key in f["overall"] if key.startswith(("recall@", "mrr"))}
        rows[mode]["search_seconds"] = {"faiss": f["search_seconds"], "milvus": m["search_seconds"]}
        firsts = [[r["first_rank"] for r in x["per_query"][mode]] for x in (faiss_result, milvus_result)]
        rows[mode]["queries_first_relevant_rank_differs"] = sum(a != b for a, b in zip(*firsts))
    return {"corpus": str(corpus), "queries": str(queries), "uri": uri, "k": k, "passages_reused": embedder.reused,
            "n_answerable": faiss_result["n_answerable"], "milvus_build_seconds": round(build_s, 2), "modes": rows}


def _value(x):
    return x["mean"] if isinstance(x, dict) and "mean" in x else x


def bench(n: int, uri: str, n_queries: int = 100, dim: int = 384, k: int = 10, faiss_type: str = "flat") -> dict:
    """n synthetic chunks through both stores' writers and readers: build time, memory, p50/p95 with and without a
    filter, recall@k of the dense search against exact search over the filtered rows."""
    from indexer.models import Chunk, Filters
    from indexer.stores.faiss_store import FaissStore, FaissWriter
    from indexer.stores.milvus_store import MilvusStore, MilvusWriter

    from .bench import synthetic_vocab

    cfg = with_overrides(load_config(), index={"faiss_type": faiss_type})
    vectors = synthetic_vectors(n, dim)
    queries = synthetic_queries(vectors, n_queries)
    rng = np.random.default_rng(4)
    vocab = synthetic_vocab(3000)
    units = [f"单位{i:03d}" for i in range(200)]
    unit_of = rng.integers(0, len(units), n)
    tokens = [[vocab[j] for j in rng.zipf(1.3, 40) % len(vocab)] for _ in range(n)]
    chunks = [Chunk(f"c{i}", f"r{i // 20}", "t", (), "工作成效", "", "", 0, 0, 0, 0, "f", units[unit_of[i]], "市级",
                    2023, "综合") for i in range(n)]
    manifest = {"settings": {}, "dim": dim, "counts": {"chunks": n, "reports": 0, "sections": 0}}
    flt = Filters(unit=(units[0], units[1]))
    allowed = np.flatnonzero(np.isin(unit_of, [0, 1]))
    exact_all = np.argsort(-(queries @ vectors.T), axis=1)[:, :k]
    exact_flt = allowed[np.argsort(-(queries @ vectors[allowed].T), axis=1)[:, :k]]
    qtokens = [[vocab[j] for j in rng.zipf(1.3, 4) % len(vocab)] for _ in range(n_queries)]
    out = {"n": n, "dim": dim, "index": faiss_type, "queries": n_queries, "k": k, "filter_share": round(len(allowed) / n, 4), "stores": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("faiss", "milvus"):
            rss0 = rss_mb()
            t0 = time.perf_counter()
            if kind == "faiss":
                c = with_overrides(cfg, index={"dir": tmp})
                FaissWriter(c, Path(tmp)).write(chunks, vectors, [], manifest, tokens)
                build_s = time.perf_counter() - t0
                store = FaissStore.open(c, Path(tmp))
            else:
                c = milvus_cfg(cfg, uri if uri.startswith("http") else str(Path(tmp) / "m.db"), f"bench_{n}")
                MilvusWriter(c).write(chunks, vectors, [], manifest, tokens)
                build_s = time.perf_counter() - t0
                store = MilvusStore.open(c)
            row = {"build_s": round(build_s, 2), "rss_delta_mb": round(rss_mb() - rss0, 1)}
            for name, filters, exact in (("nofilter", None, exact_all), ("filter", flt, exact_flt)):
                got = [store.dense_search(q[None, :], k, filters)[0] for q in queries]
                row[f"recall@{k}_{name}"] = round(float(np.mean([len({i for i, _ in g} & set(e.tolist())) / k
                                                               for g, e in zip(got, exact)])), 4)
                row[f"dense_{name}"] = latency_ms(lambda q: store.dense_search(q[None, :], k, filters), queries)
                row[f"bm25_{name}"] = latency_ms(lambda t: store.sparse_search([t], k, filters), qtokens)
            out["stores"][kind] = row
            del store
    return out


def bench_dense(n: int, uri: str, n_queries: int = 100, dim: int = 384, k: int = 10) -> dict:
    """Dense search only, straight through pymilvus (the app's store needs sparse vectors, Milvus >= 2.4): for an
    old server such as PyPI milvus==2.3.5 standalone. Build time, p50/p95 with and without a 1 % filter, recall@k."""
    from pymilvus import DataType, MilvusClient

    vectors = synthetic_vectors(n, dim)
    queries = synthetic_queries(vectors, n_queries)
    unit_of = np.random.default_rng(4).integers(0, 200, n)
    allowed = np.flatnonzero(np.isin(unit_of, [0, 1]))
    exact = {"nofilter": np.argsort(-(queries @ vectors.T), axis=1)[:, :k],
             "filter": allowed[np.argsort(-(queries @ vectors[allowed].T), axis=1)[:, :k]]}
    client = MilvusClient(uri=uri)
    name = f"bench_dense_{n}"
    if client.has_collection(name):
        client.drop_collection(name)
    t0 = time.perf_counter()
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("unit", DataType.INT64)
    params = client.prepare_index_params()
    params.add_index("dense", index_type="FLAT", metric_type="IP")
    client.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")
    for s in range(0, n, 5000):
        client.insert(name, [{"id": i, "dense": vectors[i].tolist(), "unit": int(unit_of[i])}
                             for i in range(s, min(n, s + 5000))])
    client.flush(name)
    client.load_collection(name)
    row = {"build_s": round(time.perf_counter() - t0, 2)}
    for label, expr in (("nofilter", ""), ("filter", "unit in [0, 1]")):
        def one(q, expr=expr):
            return client.search(name, data=[q.tolist()], anns_field="dense", limit=k, filter=expr,
                                 search_params={"metric_type": "IP"}, consistency_level="Strong")[0]
        got = [[int(h["id"]) for h in one(q)] for q in queries]
        row[f"recall@{k}_{label}"] = round(float(np.mean([len(set(g) & set(e.tolist())) / k
                                                          for g, e in zip(got, exact[label])])), 4)
        row[f"dense_{label}"] = latency_ms(one, queries)
    client.drop_collection(name)
    return {"n": n, "dim": dim, "queries": n_queries, "k": k, "uri": uri, "filter_share": round(len(allowed) / n, 4),
            "server": client.get_server_version(), "dense": row}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.bench_stores", description="FAISS 与 Milvus 存储对比")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("parity", help="同一问题集经两种存储的检索指标")
    a.add_argument("--config")
    a.add_argument("--corpus", type=Path, default=REPO / "data" / "reports")
    a.add_argument("--queries", type=Path, default=REPO / "eval" / "data" / "questions.jsonl")
    a.add_argument("--uri", required=True, help="Milvus Lite 路径或 http://127.0.0.1:端口")
    a.add_argument("--k", type=int, default=10)
    a.add_argument("--vectors-from", type=Path, help="复用此 FAISS 索引目录中相同文本的向量（不重新嵌入）")
    b = sub.add_parser("bench", help="合成数据：构建时间、内存、延迟、召回")
    b.add_argument("--n", type=int, default=100_000)
    b.add_argument("--uri", default="", help="Milvus 服务地址；默认在临时目录中用嵌入式 Milvus Lite")
    b.add_argument("--queries", type=int, default=100)
    b.add_argument("--index", choices=["flat", "hnsw", "ivf"], default="flat", help="[index] faiss_type（两种存储相同）")
    c = sub.add_parser("dense", help="合成数据，只比稠密检索（如 milvus==2.3.5 独立服务，无稀疏向量）")
    c.add_argument("--n", type=int, default=100_000)
    c.add_argument("--uri", required=True, help="Milvus 服务地址")
    c.add_argument("--queries", type=int, default=100)
    for s in (a, b, c):
        s.add_argument("--out", type=Path, help="结果 JSON 文件")
    args = p.parse_args(argv)
    if args.cmd == "parity":
        result = parity(load_config(args.config), args.corpus, args.queries, args.uri, args.k,
                        vectors_from=args.vectors_from)
    elif args.cmd == "dense":
        result = bench_dense(args.n, args.uri, args.queries)
    else:
        result = bench(args.n, args.uri, args.queries, faiss_type=args.index)
    text = json.dumps(result, ensure_ascii=False, indent=1, default=float)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
