"""Learned rerank of the fused candidates, fitted on our set and checked held out: python -m eval.fit_rerank.

For each question the top `candidates` chunks of the weighted RRF list get a few features (dense cosine, BM25 score
over the list's best, both reciprocal ranks, share of the query's words in the chunk, unit/year named and matched,
a figure in the chunk when the question asks 多少/几) and a logistic regression ranks the chunks holding an answer
first. Our set is scored by k-fold cross-validation (folds over questions); the model fitted on all of it is then
applied ONCE to each --external set, never tuned there. Compared with dense, BM25 and RRF at the given weights, all
computed from the same candidate lists the reader would fuse.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURES = ("dense", "bm25_rel", "dense_rr", "bm25_rr", "coverage", "unit_match", "unit_miss", "year_match",
            "year_miss", "figure")
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_ASKS_FIGURE = re.compile(r"多少|几")
_FIGURE = re.compile(r"\d")


@dataclass(frozen=True)
class QuestionData:
    qid: str
    rows: list[int]        # candidate chunk rows in fused (RRF) order
    X: np.ndarray          # len(rows) × len(FEATURES)
    y: np.ndarray          # 1 when the chunk holds one of the answers
    dense_rank: list[int]  # rows of the dense list, in order
    bm25_rank: list[int]


def features(query: str, tokens: list[str], rows: list[int], chunks, dense: dict, bm25: dict,
             dense_order: list[int], bm25_order: list[int], known_units, rrf_k: int = 60) -> np.ndarray:
    """One row of FEATURES per candidate; scores missing from a list are the exact scores (dense, bm25 dicts)."""
    from app.units import flatten, resolve_units
    from indexer.tokenize import normalise

    words = sorted({t for t in tokens if len(t) > 1}) or sorted(set(tokens))
    groups, _ = resolve_units(query, known_units)
    units = set(flatten(groups))
    years = {int(y) for y in _YEAR.findall(query)}
    asks_figure = bool(_ASKS_FIGURE.search(query))
    dpos = {r: i for i, r in enumerate(dense_order)}
    bpos = {r: i for i, r in enumerate(bm25_order)}
    top_bm25 = max([bm25.get(r, 0.0) for r in rows] + [1e-9])
    out = np.zeros((len(rows), len(FEATURES)), dtype=np.float64)
    for j, r in enumerate(rows):
        c = chunks[r]
        text = normalise(c.search_text)
        out[j] = (
            dense.get(r, 0.0),
            bm25.get(r, 0.0) / top_bm25,
            rrf_k / (rrf_k + dpos[r] + 1) if r in dpos else 0.0,
            rrf_k / (rrf_k + bpos[r] + 1) if r in bpos else 0.0,
            sum(w in text for w in words) / len(words) if words else 0.0,
            float(bool(units) and c.unit in units),
            float(bool(units) and c.unit not in units),
            float(bool(years) and c.year in years),
            float(bool(years) and c.year is not None and c.year not in years),
            float(asks_figure and bool(_FIGURE.search(c.text))),
        )
    return out


def collect(searcher, queries, mask_map, dense_weight: float, bm25_weight: float, rrf_k: int,
            n: int) -> list[QuestionData]:
    """Candidate lists, features and relevance labels of every answerable query (one embedding batch)."""
    from indexer.fusion import rrf
    from indexer.parse import searchable
    from indexer.tokenize import tokenize_batch

    from . import metrics
    from .retrieval import relevance_texts

    qs = [q for q in queries if not q.no_answer]
    texts = [searchable(q.query.strip(), searcher.cfg.parse.mask_map) for q in qs]
    store = searcher.store
    qvecs = searcher._get_embedder().encode_queries(texts)
    dense_lists = store.dense_search(qvecs, n, None)
    tokens = tokenize_batch(texts)
    bm25_lists = store.sparse_search(tokens, n, None)
    known = [u for u in searcher.facets()["unit"] if u]
    rel_cache: dict[int, tuple[str, ...]] = {}
    out = []
    for qi, q in enumerate(qs):
        dorder = [i for i, _ in dense_lists[qi]]
        border = [i for i, _ in bm25_lists[qi]]
        rows = [i for i, _ in rrf([dorder, border], [dense_weight, bm25_weight], rrf_k)][:n]
        dense = dict(dense_lists[qi])
        miss = [r for r in rows if r not in dense]
        dense.update(zip(miss, store.dense_scores(qvecs[qi], miss)))
        bm25 = dict(zip(rows, store.sparse_scores(tokens[qi], rows)))
        X = features(q.query, tokens[qi], rows, searcher.chunks, dense, bm25, dorder, border, known, rrf_k)
        answers = [metrics.normalise(a) for a in q.answers]
        for r in set(rows) | set(dorder) | set(border):
            if r not in rel_cache:
                rel_cache[r] = relevance_texts(searcher.chunks[r], mask_map)
        y = np.array([metrics.is_relevant(rel_cache[r], answers) for r in rows], dtype=np.float64)
        out.append(QuestionData(q.id, rows, X, y, dorder, border))
    return out


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton steps on standardised features; weights in raw units + bias."""
    mu, sd = X.mean(axis=0), X.std(axis=0)
    sd[sd == 0] = 1.0
    Z = np.hstack([(X - mu) / sd, np.ones((len(X), 1))])
    w = np.zeros(Z.shape[1])
    reg = np.full(Z.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(Z @ w)))
        grad = Z.T @ (p - y) + reg * w
        H = (Z * (p * (1 - p))[:, None]).T @ Z + np.diag(reg) + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(H, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    raw = w[:-1] / sd
    return np.append(raw, w[-1] - float(raw @ mu))


def rerank_order(X: np.ndarray, weights: np.ndarray) -> list[int]:
    """Candidate positions by model score, ties kept in fused order."""
    s = X @ weights[:-1] + weights[-1]
    return sorted(range(len(s)), key=lambda j: (-s[j], j))


def _flags_of(order_rows: list[int], d: QuestionData) -> list[bool]:
    rel = {r for r, y in zip(d.rows, d.y) if y}
    return [r in rel for r in order_rows]


def mode_flags(data: list[QuestionData], mode: str, relevant_outside=None, weights=None, rrf_weights=None,
               rrf_k: int = 60) -> list[list[bool]]:
    """Per question, relevance flags of the ranked list of one mode."""
    from indexer.fusion import rrf

    out = []
    for d in data:
        if mode == "dense":
            rows = d.dense_rank
        elif mode == "bm25":
            rows = d.bm25_rank
        elif mode == "rrf":
            rows = [i for i, _ in rrf([d.dense_rank, d.bm25_rank], list(rrf_weights), rrf_k)]
        else:
            rows = [d.rows[j] for j in rerank_order(d.X, weights)]
        out.append([bool(relevant_outside[d.qid](r)) for r in rows[:10]])
    return out


def summarise_flags(flags: list[list[bool]]) -> dict:
    from . import metrics

    return {f"recall@{c}": {**metrics.summarise(v := [metrics.recall_at(f, c) for f in flags]), "per_q": v}
            for c in (1, 5)}


def paired(a: dict, b: dict) -> dict:
    """Mean and bootstrap 95% CI of the per-question difference a − b (same questions, same resamples)."""
    from . import metrics

    out = {}
    for key in ("recall@1", "recall@5"):
        d = np.asarray(a[key]["per_q"]) - np.asarray(b[key]["per_q"])
        lo, hi = metrics.bootstrap_ci(d)
        out[key] = {"mean": float(d.mean()), "lo": lo, "hi": hi}
    return out


def crossval_fusion(data: list[QuestionData], rel, folds: int, grid=(0.5, 1.0, 1.5, 2.0, 3.0), seed: int = 0,
                    rrf_k: int = 60) -> list[list[bool]]:
    """RRF with its BM25 weight chosen on the other folds (by R@5, then R@1): the fair twin of the rerank's CV."""
    from . import metrics

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data))
    flags: dict[int, list[bool]] = {}
    per_w = {w: mode_flags(data, "rrf", rel, rrf_weights=(1.0, w), rrf_k=rrf_k) for w in grid}
    for f in range(folds):
        test = set(order[f::folds].tolist())
        train = [i for i in range(len(data)) if i not in test]

        def score(w):
            fl = [per_w[w][i] for i in train]
            return (sum(metrics.recall_at(x, 5) for x in fl), sum(metrics.recall_at(x, 1) for x in fl), -abs(w - 1))

        best = max(grid, key=score)
        for i in test:
            flags[i] = per_w[best][i]
    return [flags[i] for i in range(len(data))]


def crossval(data: list[QuestionData], folds: int, l2: float, seed: int = 0) -> dict[str, np.ndarray]:
    """Weights fitted without each question's fold, per question id."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data))
    per_q = {}
    for f in range(folds):
        test = set(order[f::folds].tolist())
        train = [d for i, d in enumerate(data) if i not in test]
        w = fit_logistic(np.vstack([d.X for d in train]), np.concatenate([d.y for d in train]), l2)
        for i in test:
            per_q[data[i].qid] = w
    return per_q


def open_set(cfg, corpus: Path, index_dir: Path | None, embedder):
    from indexer.config import with_overrides
    from indexer.reader import Searcher

    from .retrieval import ensure_index

    if index_dir is None:
        icfg, index_dir, _ = ensure_index(cfg, corpus, embedder)
        return Searcher.open(icfg, index_dir=index_dir, embedder=embedder), index_dir
    # An index an earlier eval run built (older indexer code, or the torch runtime before the manifest recorded it:
    # same model, cosine >= 0.99999): opened as it is, without the settings check, and never rebuilt.
    from indexer.stores import open_store

    icfg = with_overrides(cfg, index={"dir": str(index_dir)})
    return Searcher(icfg, open_store(icfg, index_dir), embedder), index_dir


def relevance_lookup(searcher, data, queries, mask_map):
    """qid → (row → holds an answer), for rows outside the fused candidates too (dense/BM25 lists)."""
    from . import metrics
    from .retrieval import relevance_texts

    by_id = {q.id: [metrics.normalise(a) for a in q.answers] for q in queries}
    cache: dict[int, tuple[str, ...]] = {}

    def texts(r):
        if r not in cache:
            cache[r] = relevance_texts(searcher.chunks[r], mask_map)
        return cache[r]

    return {d.qid: (lambda r, a=by_id[d.qid]: metrics.is_relevant(texts(r), a)) for d in data}


def evaluate(name, searcher, data, queries, mask_map, per_q_weights, rrf_sets, rrf_k) -> dict:
    rel = relevance_lookup(searcher, data, queries, mask_map)
    out = {"n": len(data), "modes": {}}
    out["modes"]["dense"] = summarise_flags(mode_flags(data, "dense", rel))
    out["modes"]["bm25"] = summarise_flags(mode_flags(data, "bm25", rel))
    for w in rrf_sets:
        out["modes"][f"hybrid_rrf_{w[1]:g}"] = summarise_flags(mode_flags(data, "rrf", rel, rrf_weights=w,
                                                                          rrf_k=rrf_k))
    flags = []
    for d in data:
        flags += mode_flags([d], "rerank", rel, weights=per_q_weights(d.qid))
    out["modes"]["rerank"] = summarise_flags(flags)
    if name == "ours":
        out["modes"]["hybrid_rrf_cv"] = summarise_flags(crossval_fusion(data, rel, 5, rrf_k=rrf_k))
    m = out["modes"]
    best_single = max(("dense", "bm25"), key=lambda k: (m[k]["recall@5"]["mean"], m[k]["recall@1"]["mean"]))
    default = f"hybrid_rrf_{rrf_sets[-1][1]:g}"
    out["rerank_minus"] = {best_single: paired(m["rerank"], m[best_single]), default: paired(m["rerank"], m[default])}
    out["candidate_recall"] = float(np.mean([d.y.any() for d in data]))
    return out


def main(argv=None) -> int:
    from indexer.config import load_config
    from indexer.embed import load_embedder

    from .datasets import load_queries

    p = argparse.ArgumentParser(prog="python -m eval.fit_rerank", description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path("data/reports"))
    p.add_argument("--queries", type=Path, default=Path("eval/data/questions.jsonl"))
    p.add_argument("--external", action="append", default=[],
                   help="name=corpus.jsonl,queries.jsonl[,index_dir]: held-out set, scored once")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--l2", type=float, default=1.0)
    p.add_argument("--out", type=Path, default=Path("eval/results/rerank.json"))
    args = p.parse_args(argv)

    cfg = load_config()
    s = cfg.search
    rrf_sets = [(1.0, 1.0), (s.dense_weight, s.bm25_weight)] if s.bm25_weight != 1.0 else [(1.0, 1.0)]
    embedder = load_embedder(cfg.embedding)
    mask_map = cfg.parse.mask_map
    t0 = time.perf_counter()
    searcher, index_dir = open_set(cfg, args.corpus, None, embedder)
    qs = load_queries(args.queries)
    data = collect(searcher, qs, mask_map, s.dense_weight, s.bm25_weight, s.rrf_k, s.candidates)
    cv = crossval(data, args.folds, args.l2)
    report = {"features": list(FEATURES), "l2": args.l2, "folds": args.folds, "candidates": s.candidates,
              "fused_with": [s.dense_weight, s.bm25_weight, s.rrf_k], "sets": {}}
    report["sets"]["ours_cv"] = {**evaluate("ours", searcher, data, qs, mask_map, cv.get, rrf_sets, s.rrf_k),
                                 "index": str(index_dir)}
    final = fit_logistic(np.vstack([d.X for d in data]), np.concatenate([d.y for d in data]), args.l2)
    report["weights"] = {f: float(w) for f, w in zip((*FEATURES, "bias"), final)}
    report["sets"]["ours_cv"]["seconds"] = round(time.perf_counter() - t0, 1)
    _print("ours (cv)", report["sets"]["ours_cv"])
    print("weights:", json.dumps(report["weights"], ensure_ascii=False))
    for spec in args.external:
        t0 = time.perf_counter()
        name, files = spec.split("=", 1)
        parts = files.split(",")
        corpus, queries = Path(parts[0]).expanduser(), Path(parts[1]).expanduser()
        idx = Path(parts[2]).expanduser() if len(parts) > 2 else None
        ext, ext_dir = open_set(cfg, corpus, idx, embedder)
        eqs = load_queries(queries)
        edata = collect(ext, eqs, mask_map, s.dense_weight, s.bm25_weight, s.rrf_k, s.candidates)
        report["sets"][name] = {**evaluate(name, ext, edata, eqs, mask_map, lambda _q: final, rrf_sets, s.rrf_k),
                                "index": str(ext_dir), "seconds": round(time.perf_counter() - t0, 1)}
        _print(name, report["sets"][name])
        _write(report, args.out)
    _write(report, args.out)
    return 0


def _write(report: dict, out: Path) -> None:
    """JSON (per-question flags dropped: re-run to get them) and a Markdown table next to it."""
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "per_q"}
        return x

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(strip(report), ensure_ascii=False, indent=1), encoding="utf-8")
    lines = ["# Learned rerank of the fused candidates (`python -m eval.fit_rerank`)", "",
             f"Features: {', '.join(report['features'])}; logistic regression, l2 {report['l2']}, fitted on our set "
             f"({report['folds']}-fold CV there), then applied once to each held-out set. Candidates: top "
             f"{report['candidates']} of RRF (dense, BM25, k) = {report['fused_with']}.", "",
             "| set | mode | R@1 | R@5 |", "|---|---|---|---|"]
    for name, res in report["sets"].items():
        for i, (mode, m) in enumerate(res["modes"].items()):
            r1, r5 = m["recall@1"], m["recall@5"]
            lines.append(f"| {name if i == 0 else ''} | {mode} | {r1['mean']:.3f} [{r1['lo']:.3f}–{r1['hi']:.3f}] "
                         f"| {r5['mean']:.3f} [{r5['lo']:.3f}–{r5['hi']:.3f}] |")
        for other, d in res["rerank_minus"].items():
            r1, r5 = d["recall@1"], d["recall@5"]
            lines.append(f"| | rerank − {other} (paired) | {r1['mean']:+.3f} [{r1['lo']:+.3f}–{r1['hi']:+.3f}] "
                         f"| {r5['mean']:+.3f} [{r5['lo']:+.3f}–{r5['hi']:+.3f}] |")
    lines += ["", "Weights (raw feature units): " + ", ".join(f"{k} {v:+.3f}" for k, v in report["weights"].items())]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _print(name: str, res: dict) -> None:
    print(f"== {name} (n={res['n']}, answer among candidates {res['candidate_recall']:.3f})")
    for mode, m in res["modes"].items():
        r1, r5 = m["recall@1"], m["recall@5"]
        print(f"  {mode:<16} R@1 {r1['mean']:.3f} [{r1['lo']:.3f}, {r1['hi']:.3f}]"
              f"  R@5 {r5['mean']:.3f} [{r5['lo']:.3f}, {r5['hi']:.3f}]")
    for other, d in res["rerank_minus"].items():
        r1, r5 = d["recall@1"], d["recall@5"]
        print(f"  rerank − {other:<7} R@1 {r1['mean']:+.3f} [{r1['lo']:+.3f}, {r1['hi']:+.3f}]"
              f"  R@5 {r5['mean']:+.3f} [{r5['lo']:+.3f}, {r5['hi']:+.3f}]  (paired bootstrap)")


if __name__ == "__main__":
    raise SystemExit(main())
