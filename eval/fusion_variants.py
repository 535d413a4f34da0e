"""Fusion variants simulated offline on the dense and BM25 lists, chosen on our set: python -m eval.fusion_variants.

Each set's dense and BM25 candidate lists (top `[search] candidates`, with scores, exactly those the reader fuses)
are gathered once; every variant re-ranks them in memory and is scored by the first ten rows' relevance, as
`python -m eval retrieval` scores them. The variant is picked on our set alone (R@5, then R@1, ties to the simpler
family and to the middle of a flat run of parameters); the --external sets only report it, next to dense, BM25 and
the current RRF, with bootstrap intervals and paired differences.
"""
from __future__ import annotations

import argparse
import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Lists:
    qid: str
    dense: list[tuple[int, float]]  # (row, cosine), best first
    bm25: list[tuple[int, float]]   # (row, BM25 score), best first
    relevant: frozenset[int]        # rows of either list that hold an answer


def gather(searcher, queries, mask_map, n: int) -> list[Lists]:
    """Both candidate lists of every answerable query (one embedding batch) and which of their rows are relevant."""
    from indexer.searchtext import searchable
    from indexer.tokenize import tokenize_batch

    from . import metrics
    from .retrieval import relevance_texts

    qs = [q for q in queries if not q.no_answer]
    texts = [searchable(q.query.strip(), searcher.cfg.parse.mask_map) for q in qs]
    store = searcher.store
    dense = store.dense_search(searcher._get_embedder().encode_queries(texts), n, None)
    bm25 = store.sparse_search(tokenize_batch(texts), n, None)
    cache: dict[int, tuple[str, ...]] = {}
    out = []
    for qi, q in enumerate(qs):
        answers = [metrics.normalise(a) for a in q.answers]
        rows = {r for r, _ in dense[qi]} | {r for r, _ in bm25[qi]}
        for r in rows - cache.keys():
            cache[r] = relevance_texts(searcher.chunks[r], mask_map)
        rel = frozenset(r for r in rows if metrics.is_relevant(cache[r], answers))
        out.append(Lists(q.id, [(int(r), float(s)) for r, s in dense[qi]],
                         [(int(r), float(s)) for r, s in bm25[qi]], rel))
    return out


# -- variants: (dense list, bm25 list) -> rows, best first ----------------------------------------------------------
def v_rrf(wb: float, k: int):
    from indexer.fusion import rrf

    return lambda d, b: [i for i, _ in rrf([[i for i, _ in d], [i for i, _ in b]], [1.0, wb], k)]


def v_gap_lead(tau: float, wb: float = 1.5, k: int = 60):
    """BM25's top row first when its score clearly exceeds the second's ((s1 - s2) / s1 >= tau), then RRF."""
    base = v_rrf(wb, k)

    def fuse(d, b):
        rows = base(d, b)
        if len(b) >= 2 and b[0][1] > 0 and (b[0][1] - b[1][1]) / b[0][1] >= tau:
            rows = [b[0][0]] + [r for r in rows if r != b[0][0]]
        return rows
    return fuse


def v_gap_weight(gamma: float, wb: float = 1.5, k: int = 60):
    """BM25 weight grows with its normalised top gap: wb * (1 + gamma * (s1 - s2) / s1)."""
    from indexer.fusion import rrf

    def fuse(d, b):
        gap = (b[0][1] - b[1][1]) / b[0][1] if len(b) >= 2 and b[0][1] > 0 else 0.0
        return [i for i, _ in rrf([[i for i, _ in d], [i for i, _ in b]], [1.0, wb * (1 + gamma * gap)], k)]
    return fuse


def _minmax(lst) -> dict[int, float]:
    s = np.array([x for _, x in lst], dtype=np.float64)
    if s.size == 0:
        return {}
    z = (s - s.min()) / (s.max() - s.min()) if s.max() > s.min() else np.ones_like(s)
    return {r: float(v) for (r, _), v in zip(lst, z)}


def v_norm(alpha: float, how: str):
    """Convex combination alpha * BM25 + (1 - alpha) * dense of per-list normalised scores; absent = list minimum."""
    from indexer.fusion import zscore_fuse

    if how == "zscore":
        return lambda d, b: [r for r, _ in zscore_fuse([d, b], [1 - alpha, alpha])]

    def fuse(d, b):
        nd, nb = _minmax(d), _minmax(b)
        lo_d, lo_b = min(nd.values(), default=0.0), min(nb.values(), default=0.0)
        order = {r: i for i, r in enumerate([r for r, _ in d] + [r for r, _ in b])}
        rows = nd.keys() | nb.keys()
        score = {r: alpha * nb.get(r, lo_b) + (1 - alpha) * nd.get(r, lo_d) for r in rows}
        return sorted(rows, key=lambda r: (-score[r], order[r]))
    return fuse


def v_dense_cut(delta: float, wb: float = 1.5, k: int = 60):
    """RRF after dropping dense candidates more than delta (cosine) below the dense top."""
    base = v_rrf(wb, k)
    return lambda d, b: base([x for x in d if x[1] >= d[0][1] - delta] if d else d, b)


FAMILIES = ("rrf", "dense_cut", "gap_lead", "gap_weight", "minmax", "zscore")  # simplest first


def grid() -> list[tuple[str, dict, object]]:
    g = [("rrf", {"wb": wb, "k": k}, v_rrf(wb, k)) for k in (10, 20, 30, 60, 100)
         for wb in (0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0)]
    g += [("dense_cut", {"delta": x}, v_dense_cut(x)) for x in (0.01, 0.02, 0.03, 0.05, 0.08)]
    g += [("gap_lead", {"tau": x}, v_gap_lead(x)) for x in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)]
    g += [("gap_weight", {"gamma": x}, v_gap_weight(x)) for x in (0.5, 1.0, 2.0, 4.0, 8.0)]
    g += [(how, {"alpha": a}, v_norm(a, how)) for how in ("minmax", "zscore")
          for a in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]
    return g


def flags_of(data: list[Lists], fuse) -> list[list[bool]]:
    return [[r in d.relevant for r in fuse(d.dense, d.bm25)[:10]] for d in data]


def score(flags: list[list[bool]]) -> tuple[float, float]:
    from . import metrics

    return (float(np.mean([metrics.recall_at(f, 5) for f in flags])),
            float(np.mean([metrics.recall_at(f, 1) for f in flags])))


def choose(rows: list[dict]) -> dict:
    """Best (R@5, R@1); ties to the simpler family, then to the row whose grid neighbours score the same (flat)."""
    top = max((r["r5"], r["r1"]) for r in rows)
    best = [r for r in rows if (r["r5"], r["r1"]) == top]
    fam = min((FAMILIES.index(r["family"]) for r in best))
    best = [r for r in best if FAMILIES.index(r["family"]) == fam]
    return best[len(best) // 2]


def load_set(cfg, embedder, corpus: Path, queries: Path, cache: Path | None) -> list[Lists]:
    from .datasets import load_queries
    from .fit_rerank import open_set

    if cache is not None and cache.is_file():
        return [Lists(*t) for t in pickle.loads(cache.read_bytes())]
    searcher, _ = open_set(cfg, corpus, None, embedder)
    data = gather(searcher, load_queries(queries), cfg.parse.mask_map, cfg.search.candidates)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps([(d.qid, d.dense, d.bm25, d.relevant) for d in data]))
    return data


def report(data: list[Lists], modes: dict) -> dict:
    from .fit_rerank import paired, summarise_flags

    m = {name: summarise_flags(flags_of(data, f)) for name, f in modes.items()}
    diffs = {f"chosen − {o}": paired(m["chosen"], m[o]) for o in ("bm25", "dense", "rrf_current")}
    strip = lambda x: {k: {kk: vv for kk, vv in v.items() if kk != "per_q"} for k, v in x.items()}  # noqa: E731
    return {"n": len(data), "modes": {k: strip(v) for k, v in m.items()}, "paired": diffs}


def main(argv=None) -> int:
    from indexer.config import load_config
    from indexer.embed import load_embedder

    p = argparse.ArgumentParser(prog="python -m eval.fusion_variants", description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path("data/reports"))
    p.add_argument("--queries", type=Path, default=Path("eval/data/questions.jsonl"))
    p.add_argument("--external", action="append", default=[], help="name=corpus.jsonl,queries.jsonl: scored once")
    p.add_argument("--cache", type=Path, default=None, help="folder for the gathered lists (pickles), to re-run fast")
    p.add_argument("--out", type=Path, default=Path("eval/results/fusion_variants.json"))
    args = p.parse_args(argv)
    cfg = load_config()
    embedder = load_embedder(cfg.embedding)
    pk = (lambda name: args.cache / f"{name}.pkl") if args.cache else (lambda name: None)
    ours = load_set(cfg, embedder, args.corpus, args.queries, pk("ours"))
    rows = []
    for family, params, fuse in grid():
        r5, r1 = score(flags_of(ours, fuse))
        rows.append({"family": family, "params": params, "r5": r5, "r1": r1, "fuse": fuse})
        print(f"{family:<10} {json.dumps(params):<28} R@1 {r1:.3f}  R@5 {r5:.3f}")
    best = choose(rows)
    print(f"chosen on our set: {best['family']} {json.dumps(best['params'])}")
    s = cfg.search
    modes = {"dense": lambda d, b: [r for r, _ in d], "bm25": lambda d, b: [r for r, _ in b],
             "rrf_current": v_rrf(s.bm25_weight / s.dense_weight, s.rrf_k), "chosen": best["fuse"]}
    out = {"grid_ours": [{k: v for k, v in r.items() if k != "fuse"} for r in rows],
           "chosen": {"family": best["family"], "params": best["params"]}, "sets": {"ours": report(ours, modes)}}
    for spec in args.external:
        name, files = spec.split("=", 1)
        corpus, queries = (Path(x).expanduser() for x in files.split(",")[:2])
        out["sets"][name] = report(load_set(cfg, embedder, corpus, queries, pk(name)), modes)
    for name, res in out["sets"].items():
        for mode, m in res["modes"].items():
            r1, r5 = m["recall@1"], m["recall@5"]
            print(f"{name:<14} {mode:<12} R@1 {r1['mean']:.3f} [{r1['lo']:.3f}, {r1['hi']:.3f}]"
                  f"  R@5 {r5['mean']:.3f} [{r5['lo']:.3f}, {r5['hi']:.3f}]")
        for other, d in res["paired"].items():
            print(f"{name:<14} {other:<22} R@1 {d['recall@1']['mean']:+.3f} [{d['recall@1']['lo']:+.3f}, "
                  f"{d['recall@1']['hi']:+.3f}]  R@5 {d['recall@5']['mean']:+.3f} [{d['recall@5']['lo']:+.3f}, "
                  f"{d['recall@5']['hi']:+.3f}]")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
