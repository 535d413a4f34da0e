"""Performance: index build throughput and memory, query latency, synthetic large-corpus search, quantised embedding."""
from __future__ import annotations

import math
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from indexer.config import Config

from . import metrics
from .report import fmt, line_chart, table, write_outputs

DIM = 384
N_QUERIES = 100
DEFAULT_QUESTIONS = Path(__file__).resolve().parent / "data" / "questions.jsonl"


def rss_mb() -> float:
    """Current resident memory of this process (Linux /proc), MB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KB


def latency_ms(fn, items) -> dict:
    """p50/p95/mean of fn(item) over items, milliseconds."""
    times = []
    for it in items:
        t0 = time.perf_counter()
        fn(it)
        times.append((time.perf_counter() - t0) * 1000)
    return {"p50_ms": metrics.percentile(times, 50), "p95_ms": metrics.percentile(times, 95),
            "mean_ms": float(np.mean(times)) if times else float("nan"), "n": len(times)}


# ---------- synthetic data ----------

def synthetic_vectors(n: int, dim: int = DIM, n_clusters: int = 1000, seed: int = 0, batch: int = 100_000):
    """Unit vectors around random cluster centres (real embeddings are clustered, not uniform), made in batches."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_clusters, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, batch):
        m = min(batch, n - s)
        noise = rng.standard_normal((m, dim), dtype=np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        v = 0.6 * centres[rng.integers(0, n_clusters, m)] + 0.8 * noise
        out[s : s + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def synthetic_queries(vectors: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    """Noisy copies of random corpus vectors: each query has a true nearest neighbour."""
    rng = np.random.default_rng(seed)
    base = vectors[rng.integers(0, len(vectors), n)]
    q = base + 0.5 * rng.standard_normal(base.shape, dtype=np.float32) / math.sqrt(vectors.shape[1])
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


_CJK = "政务公开信息工作建设管理服务发展推进加强落实制度机制平台群众企业经济社会安全生产环境教育卫生健康文化法治执法监督检查整改培训宣传组织领导党员干部基层社区街道乡镇项目资金预算统计数据网站平台民生就业养老医疗住房交通农业农村"


def synthetic_vocab(size: int, seed: int = 2) -> list[str]:
    """Two-character 'words' over common report characters, as generated Chinese text for BM25."""
    rng = np.random.default_rng(seed)
    chars = np.array(list(_CJK))
    words = {"".join(rng.choice(chars, 2)) for _ in range(size * 3)}
    return sorted(words)[:size]


def synthetic_bm25(n: int, doc_len: int = 60, vocab_size: int = 3000, seed: int = 3, batch: int = 100_000):
    """A bm25s index over n generated documents (Zipf word frequencies, pre-tokenised: tokenising is not timed)."""
    import bm25s
    from bm25s.tokenization import Tokenized

    vocab = synthetic_vocab(vocab_size)
    rng = np.random.default_rng(seed)
    ids: list[list[int]] = []
    for s in range(0, n, batch):
        m = min(batch, n - s)
        ids += (np.minimum(rng.zipf(1.3, size=(m, doc_len)), len(vocab)) - 1).tolist()
    model = bm25s.BM25()
    model.index(Tokenized(ids=ids, vocab={w: i for i, w in enumerate(vocab)}), show_progress=False)
    del ids
    return model, vocab


def bm25_bytes(model) -> int:
    """Bytes of the sparse score matrix bm25s searches (data, indices, indptr)."""
    return sum(getattr(v, "nbytes", 0) for v in getattr(model, "scores", {}).values())


def recall_vs_exact(exact_ids: np.ndarray, approx_ids: np.ndarray, k: int = 10) -> float:
    """Share of the exact top-k that the approximate search also returns (averaged over queries)."""
    hits = [len(set(e[:k]) & set(a[:k])) / k for e, a in zip(exact_ids, approx_ids)]
    return float(np.mean(hits)) if hits else float("nan")


def estimate_hnsw_seconds(measured_n: int, measured_s: float, n: int) -> float:
    """HNSW insertion costs about log n per point."""
    return measured_s * (n / measured_n) * (math.log(n) / math.log(measured_n))


def bench_synthetic(n: int, cfg: Config, hnsw_max: int, n_queries: int = N_QUERIES, hnsw_seconds=None) -> dict:
    """Exact vs approximate FAISS (and BM25) on n synthetic chunks: build time, memory, latency, recall@10."""
    import faiss

    t0 = time.perf_counter()
    x = synthetic_vectors(n)
    q = synthetic_queries(x, n_queries)
    out = {"n": n, "generate_s": round(time.perf_counter() - t0, 2), "indexes": {}}

    def measure(name, make):
        t = time.perf_counter()
        index = make()
        build = time.perf_counter() - t
        # the serialised size is the index's own memory; RSS deltas are blurred by memory freed earlier
        row = {"build_s": round(build, 2), "memory_mb": round(faiss.serialize_index(index).nbytes / 2**20, 1)}
        row.update(latency_ms(lambda v: index.search(v[None, :], 10), q))
        _, ids = index.search(q, 10)
        return index, row, ids

    def product_index(kind):
        # The same constructors and query-time settings the indexer uses, so the bench measures the product.
        from dataclasses import replace as _replace

        from indexer.store import make_faiss_index, tune_faiss_index

        index_cfg = _replace(cfg.index, faiss_type=kind)
        index = make_faiss_index(x, index_cfg)
        tune_faiss_index(index, index_cfg)
        return index

    exact, row, exact_ids = measure("flat", lambda: product_index("flat"))
    out["indexes"]["flat"] = {**row, "recall@10_vs_exact": 1.0}
    del exact

    if n <= hnsw_max:
        index, row, ids = measure("hnsw", lambda: product_index("hnsw"))
        out["indexes"]["hnsw"] = {**row, "recall@10_vs_exact": recall_vs_exact(exact_ids, ids),
                                  "ef_search": cfg.index.hnsw_ef_search}
        del index
    elif hnsw_seconds:
        out["indexes"]["hnsw"] = {"skipped": f"n > --hnsw-max {hnsw_max}",
                                  "estimated_build_s": round(estimate_hnsw_seconds(*hnsw_seconds, n))}

    index, row, ids = measure("ivf", lambda: product_index("ivf"))
    out["indexes"]["ivf"] = {**row, "recall@10_vs_exact": recall_vs_exact(exact_ids, ids)}
    del index, x

    t = time.perf_counter()
    model, vocab = synthetic_bm25(n)
    row = {"build_s": round(time.perf_counter() - t, 2), "memory_mb": round(bm25_bytes(model) / 2**20, 1)}
    from bm25s.tokenization import Tokenized

    rng = np.random.default_rng(5)
    word_ids = [rng.integers(0, 200, 4).tolist() for _ in range(n_queries)]
    vmap = {w: i for i, w in enumerate(vocab)}
    row.update(latency_ms(lambda t_ids: model.retrieve(Tokenized(ids=[t_ids], vocab=vmap), k=10,
                                                       show_progress=False), word_ids))
    out["indexes"]["bm25"] = row
    return out


# ---------- sample corpus ----------

def bench_build(cfg: Config, corpus: Path, embedder) -> dict:
    """Full build into a temporary index (peak memory via tracemalloc and ru_maxrss), then a no-change rebuild."""
    import tracemalloc

    from indexer.config import with_overrides
    from indexer.pipeline import build_index

    from indexer.tokenize import tokenize_batch

    import bm25s  # noqa: F401  one-time imports and jieba's dictionary load are not build throughput
    import faiss  # noqa: F401

    tokenize_batch(["预热分词词典"])
    tmp = Path(tempfile.mkdtemp(prefix="eval-bench-"))
    icfg = with_overrides(cfg, index={"dir": str(tmp)}, corpus={"dir": str(corpus)})
    rss0 = rss_mb()
    tracemalloc.start()
    t0 = time.perf_counter()
    summary = build_index(icfg, corpus_dir=corpus, index_dir=tmp, embedder=embedder)
    seconds = time.perf_counter() - t0
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t1 = time.perf_counter()
    again = build_index(icfg, corpus_dir=corpus, index_dir=tmp, embedder=embedder)
    rebuild = time.perf_counter() - t1
    return {"chunks": summary.chunks, "reports": summary.reports, "build_s": round(seconds, 2),
            "chunks_per_s": round(summary.chunks / seconds, 1) if seconds else None,
            "python_peak_mb": round(py_peak / 2**20, 1), "rss_growth_mb": round(rss_mb() - rss0, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1), "rebuild_unchanged_s": round(rebuild, 3),
            "rebuild_up_to_date": bool(getattr(again, "up_to_date", False)), "index_dir": str(tmp)}


def bench_latency(cfg: Config, index_dir: Path, embedder, questions: list[str]) -> dict:
    from indexer.config import with_overrides
    from indexer.reader import Searcher

    searcher = Searcher.open(with_overrides(cfg, index={"dir": str(index_dir)}), index_dir=index_dir,
                             embedder=embedder)
    searcher.search(questions[0], mode="hybrid")  # first call pays for lazy loading
    return {mode: latency_ms(lambda qq: searcher.search(qq, mode=mode), questions) for mode in ("dense", "bm25",
                                                                                                 "hybrid")}


# ---------- embedding runtimes: torch fp32, ONNX fp32, ONNX O3 (default), ONNX int8 ----------

RUNTIME_PARTS = ("runtime", "quant")  # "quant" is the old name of this part


def runtime_variants(emb_cfg, tmp: Path) -> dict:
    """The app's Embedder (same windowing and prefixes) over each runtime; each has its own name (own eval index)."""
    import threading
    from dataclasses import replace

    from indexer.embed import Embedder, load_embedder
    from indexer.onnx_embed import OnnxBackend
    from indexer.onnx_export import MODEL_FILE, export_plain, onnx_folder

    o3 = load_embedder(replace(emb_cfg, runtime="onnx", profile="fp32"))
    out = {"torch-fp32": load_embedder(replace(emb_cfg, runtime="torch", profile="fp32"))}
    # A plain export without graph fusions shows what the optimiser adds; the product never uses it.
    st_folder = _st_folder(emb_cfg)
    plain = tmp / MODEL_FILE
    export_plain(st_folder, plain)
    out["onnx-fp32"] = Embedder(emb_cfg, OnnxBackend(onnx_folder(st_folder, emb_cfg.cache_path, "fp32"), plain),
                                threading.Lock())
    out["onnx-o3"] = o3
    out["onnx-int8"] = load_embedder(replace(emb_cfg, runtime="onnx", profile="int8"))
    for name, emb in out.items():
        emb.name = f"{emb_cfg.model}@{name}"
    return out


def _st_folder(emb_cfg) -> Path:
    from indexer.embed import _model_source

    return Path(_model_source(emb_cfg, None))


def overlap_at_k(a: np.ndarray, b: np.ndarray, k: int = 10) -> tuple[float, float]:
    """Mean share of b's top-k rows (by score) that a's top-k also has, and the share with the same top-1."""
    ta, tb = np.argsort(-a, axis=1)[:, :k], np.argsort(-b, axis=1)[:, :k]
    shared = [len(set(x) & set(y)) / k for x, y in zip(ta, tb)]
    return float(np.mean(shared)), float(np.mean(ta[:, 0] == tb[:, 0]))


def bench_runtimes(cfg: Config, corpus: Path, questions: list[str], qfile: Path | None, passages: list[str],
                   rounds: int = 2) -> dict:
    """Side by side in one run, alternating variant by variant: passages/s, single-query latency, rankings, recall.

    Also a plain sentence-transformers encode of the bare texts (truncated at 512 tokens, no prefix), the
    reference a build should not be slower than.
    """
    from indexer.store import current_generation

    from .retrieval import evaluate_retrieval

    with tempfile.TemporaryDirectory(prefix="bench-onnx-") as tmp:
        variants = runtime_variants(cfg.embedding, Path(tmp))
        st_model = variants["torch-fp32"].backend.model
        encoders = {name: emb.encode_passages for name, emb in variants.items()}
        encoders["torch-st-encode-bare"] = lambda texts: st_model.encode(texts, batch_size=cfg.embedding.batch_size)
        for enc in encoders.values():
            enc(passages[:4])  # warm-up: first-run allocations are not throughput
        seconds = {name: 0.0 for name in encoders}
        for _ in range(rounds):
            for name, enc in encoders.items():
                t0 = time.perf_counter()
                enc(passages)
                seconds[name] += time.perf_counter() - t0
        times = {name: [] for name in variants}
        for q in questions:
            for name, emb in variants.items():
                t0 = time.perf_counter()
                emb.encode_query(q)
                times[name].append((time.perf_counter() - t0) * 1000)
        out = {name: {"passages_per_s": round(rounds * len(passages) / seconds[name], 2)} for name in encoders}
        for name, ts in times.items():
            out[name].update({"query_p50_ms": round(metrics.percentile(ts, 50), 1),
                              "query_p95_ms": round(metrics.percentile(ts, 95), 1)})
        if qfile is None:
            return out
        qvecs, pvecs = {}, {}
        for name, emb in variants.items():
            res = evaluate_retrieval(cfg, corpus, qfile, k=10, modes=("dense", "hybrid"), embedder=emb)
            for mode in ("dense", "hybrid"):
                overall = res["modes"][mode]["overall"]
                out[name].update({f"{mode}_{m}": overall[m]["mean"] for m in ("recall@1", "recall@5", "mrr@10")})
            pvecs[name] = np.load(current_generation(Path(res["index"]["dir"])) / "embeddings.npy")
            qvecs[name] = emb.encode_queries(questions)
        ref = qvecs["torch-fp32"] @ pvecs["torch-fp32"].T
        for name in variants:
            overlap, top1 = overlap_at_k(qvecs[name] @ pvecs[name].T, ref)
            out[name].update({"overlap@10_vs_torch": round(overlap, 3), "same_top1_vs_torch": round(top1, 3),
                              "min_cosine_vs_torch": round(float(np.min(np.sum(
                                  pvecs[name] * pvecs["torch-fp32"], axis=1))), 6)})
    return out


# ---------- cold build and app start, in fresh processes ----------

def proc_rss_mb(pid: int) -> dict:
    """VmRSS and its anonymous / file-backed parts (mapped model pages are shared and reclaimable), MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def proc_mapped_mb(pid: int, suffixes: tuple[str, ...] = (".onnx", ".onnx.data")) -> float:
    """Resident MB of the process's mappings of files ending in suffixes (the model's weights), from smaps."""
    total, current = 0, False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if head and "-" in head[0] and not head[0].endswith(":"):  # a mapping's header line: range perms … path
            current = len(head) == 6 and head[5].endswith(suffixes)
        elif current and head and head[0] == "Rss:":
            total += int(head[1])
    return round(total / 1024, 1)


def proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used: a start-up cost that a busy machine does not inflate."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_cold_build(config_path, corpus: Path) -> dict:
    """`python -m indexer build --force` into an empty directory: imports, model load, parse, embed, write."""
    import subprocess
    import sys

    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        cmd = [sys.executable, "-m", "indexer", *(["--config", str(config_path)] if config_path else []), "build",
               "--corpus", str(corpus), "--index", tmp, "--force"]
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
        seconds = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        return {"error": done.stderr[-500:]}
    cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    return {"cold_build_s": round(seconds, 1), "cold_build_cpu_s": round(cpu, 1)}


def bench_app(config_path, index_dir: Path, questions: list[str], n_questions: int = 200,
              timeout_s: float = 180, app_dir: Path | None = None) -> dict:
    """Seconds from `python -m app` to the first answered /ask; RSS once answering and after n_questions more.

    The asks go through eval.load's plain HTTP client (Gradio's REST API, one session), so client start-up is not
    counted as the app's; app_dir runs another checkout's app (before/after on the same machine)."""
    import asyncio
    import os
    import socket
    import subprocess
    import sys

    import httpx

    from .load import ask_http

    app_dir = Path(app_dir or Path(__file__).resolve().parent.parent)
    with socket.socket() as sock:  # a free port
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "app", "--no-build", "--backend", "extractive", "--port", str(port),
           "--index", str(index_dir), *(["--config", str(config_path)] if config_path else [])]
    url = f"http://127.0.0.1:{port}"

    async def first_answer(client) -> str | None:
        while True:
            if proc.poll() is not None or time.perf_counter() - t0 > timeout_s:
                return f"app did not answer within {timeout_s:.0f} s (exit {proc.poll()})"
            _, err = await ask_http((client, "bench"), questions[0])
            if not (err or "").startswith(("ConnectError", "RemoteProtocolError")):  # else: not listening yet
                return err
            await asyncio.sleep(0.1)

    async def run(client) -> dict:
        err = await first_answer(client)
        if err:
            return {"error": err}
        first = time.perf_counter() - t0
        first_cpu = proc_cpu_s(proc.pid)
        await asyncio.sleep(2)  # let the background warm-up finish: "idle" is the ready app
        idle = proc_rss_mb(proc.pid)
        t1 = time.perf_counter()
        errors = 0
        for i in range(n_questions):
            errors += (await ask_http((client, "bench"), questions[i % len(questions)]))[1] is not None
        per_q = (time.perf_counter() - t1) / n_questions
        after = {**proc_rss_mb(proc.pid), "model_file": proc_mapped_mb(proc.pid)}
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
        return {"first_answer_s": round(first, 2), "app_cpu_s_at_first_answer": round(first_cpu, 2),
                "rss_idle_mb": idle, f"rss_after_{n_questions}_mb": after, "ask_mean_s": round(per_q, 3),
                "ask_errors": errors, "torch_loaded": "libtorch" in maps,
                "loadavg_1m": round(os.getloadavg()[0], 2)}

    async def main() -> dict:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            return await run(client)

    env = {**os.environ, "PYTHONPATH": str(app_dir), "GRADIO_ANALYTICS_ENABLED": "False", "APP_USERS": ""}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return asyncio.run(main())
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ---------- orchestration ----------

def _questions(qfile: Path | None) -> list[str]:
    from .datasets import load_queries

    return [q.query for q in load_queries(qfile)] if qfile else ["市统计局主动公开了多少条政府信息？"] * 20


def _sample_passages(index_dir: Path, n: int = 256) -> list[str]:
    from indexer.store import current_generation, read_jsonl

    gen = current_generation(index_dir)
    rows = read_jsonl(gen / "chunks.jsonl") if gen else []
    return [r["search_text"] for r in rows[:n]]


def run_bench(cfg: Config, out_dir: Path, corpus=None, queries=None, sizes=(), parts=("build", "latency"),
              embedder=None, hnsw_max: int = 1_000_000, config_path=None, n_passages: int = 96,
              n_latency: int = 60, app_dir=None) -> tuple[dict, str]:
    """Run the selected parts; writes bench.md/json and charts into out_dir; returns (figures, markdown)."""
    corpus = Path(corpus) if corpus else cfg.path(cfg.corpus.dir)
    qfile = Path(queries) if queries else (DEFAULT_QUESTIONS if DEFAULT_QUESTIONS.is_file() else None)
    result: dict = {"sizes": list(sizes), "parts": list(parts)}
    md = ["# 性能基准", ""]
    if {"build", "latency"} & set(parts):
        if embedder is None:
            from indexer.embed import load_embedder

            t0 = time.perf_counter()
            embedder = load_embedder(cfg.embedding)
            result["model_load_s"] = round(time.perf_counter() - t0, 2)
        b = bench_build(cfg, corpus, embedder)
        result["build"] = b
        md += ["## 样例语料建索引", "", table(["指标", "值"], [[k, fmt(v) if isinstance(v, float) else v]
                                                       for k, v in b.items() if k != "index_dir"]), ""]
        if "latency" in parts:
            qs = _questions(qfile)
            lat = bench_latency(cfg, Path(b["index_dir"]), embedder, qs)
            result["latency"] = lat
            md += ["## 单次查询延迟（样例语料）", "", table(["模式", "p50 ms", "p95 ms", "n"],
                                                 [[m, fmt(v["p50_ms"], 1), fmt(v["p95_ms"], 1), v["n"]]
                                                  for m, v in lat.items()]), ""]
        import shutil

        shutil.rmtree(b["index_dir"], ignore_errors=True)
    if "synthetic" in parts and sizes:
        syn, measured = [], None
        for n in sorted(sizes):
            r = bench_synthetic(n, cfg, hnsw_max, hnsw_seconds=measured)
            if "build_s" in r["indexes"].get("hnsw", {}):
                measured = (n, r["indexes"]["hnsw"]["build_s"])
            syn.append(r)
        result["synthetic"] = syn
        rows = [[r["n"], name, v.get("build_s", f"≈{v.get('estimated_build_s', '–')}（未建）"), v.get("memory_mb", "–"),
                 fmt(v.get("p50_ms"), 2), fmt(v.get("p95_ms"), 2), fmt(v.get("recall@10_vs_exact"))]
                for r in syn for name, v in r["indexes"].items()]
        names = ["flat", "hnsw", "ivf", "bm25"]
        series = {nm: [r["indexes"].get(nm, {}).get("p50_ms", float("nan")) for r in syn] for nm in names}
        chart = line_chart(out_dir / "bench_synthetic_latency.png", [r["n"] for r in syn], series, "chunks",
                           "p50 latency (ms)", "single-query latency, synthetic corpus", logx=True)
        md += ["## 合成语料（384 维聚类单位向量 + 生成的中文词 BM25）", "",
               table(["文本块", "索引", "构建 s", "内存 MB", "p50 ms", "p95 ms", "recall@10 vs 精确"], rows), "",
               f"![latency]({chart.name})", ""]
    if set(RUNTIME_PARTS) & set(parts):
        from .retrieval import ensure_index

        _, idx_dir, _ = ensure_index(cfg, corpus, embedder)
        qs = _questions(qfile)
        rt = bench_runtimes(cfg, corpus, qs[:n_latency], qfile, _sample_passages(idx_dir, n_passages))
        result["runtimes"] = rt
        cols = ["passages_per_s", "query_p50_ms", "query_p95_ms", "overlap@10_vs_torch", "same_top1_vs_torch",
                "min_cosine_vs_torch", "dense_recall@5", "hybrid_recall@5", "hybrid_recall@1"]
        md += [f"## 嵌入运行时（{n_passages} 个样例文本块 × 2 轮、{min(n_latency, len(qs))} 个单条查询，各变体交替运行）", "",
               table(["变体", *cols], [[n, *[fmt(v.get(c)) if isinstance(v.get(c), float) else v.get(c, "–")
                                           for c in cols]] for n, v in rt.items()]), "",
               "int8 的召回代价即上表 dense/hybrid 与 onnx-o3 之差；torch-st-encode-bare 是不加前缀、"
               "截断到 512 词元的裸文本编码（参照）。", ""]
    if {"start", "app"} & set(parts):  # "app": the app's start and memory only, without the cold build
        cold = bench_cold_build(config_path, corpus) if "start" in parts else {}
        from .retrieval import ensure_index

        _, idx_dir, _ = ensure_index(cfg, corpus, embedder)
        app = bench_app(config_path, idx_dir, _questions(qfile), app_dir=app_dir)
        result["start"] = {**cold, **app}
        md += ["## 冷启动（新进程）", "", table(["指标", "值"], [[k, v] for k, v in result["start"].items()]), ""]
    markdown = "\n".join(md)
    write_outputs(out_dir, "bench", markdown, result)
    return result, markdown
