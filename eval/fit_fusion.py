"""Fit the hybrid fusion weights on our question set: python -m eval.fit_fusion [--weights 1,1.5,2,3].

Prints hybrid R@1/R@5/MRR for each BM25 weight (dense weight 1) and the best one by R@5, then R@1. The external sets
are never used here: run `python -m eval retrieval --config …` on them with the chosen weight to report it held out.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def fit(cfg, corpus: Path, queries: Path, weights: list[float]) -> list[dict]:
    from indexer.config import with_overrides
    from indexer.embed import load_embedder
    from indexer.reader import Searcher

    from .datasets import load_queries
    from .metrics import summarise
    from .retrieval import ensure_index, score_query

    qs = [q for q in load_queries(queries) if not q.no_answer]
    embedder = load_embedder(cfg.embedding)
    icfg, index_dir, _ = ensure_index(cfg, corpus, embedder)
    rows = []
    for w in weights:
        wcfg = with_overrides(icfg, search={"fusion": "rrf", "bm25_weight": w, "dense_weight": 1.0})
        searcher = Searcher.open(wcfg, index_dir=index_dir, embedder=embedder)
        hits = searcher.search_batch([q.query for q in qs], k=10, mode="hybrid")
        scored = [score_query(q, h, 1, 10, lambda c: c.report_id, cfg.parse.mask_map) for q, h in zip(qs, hits)]
        rows.append({"bm25_weight": w, **{m: summarise([r[m] for r in scored])["mean"]
                                          for m in ("recall@1", "recall@5", "mrr@10")}})
    return rows


def main(argv=None) -> int:
    from indexer.config import load_config

    p = argparse.ArgumentParser(prog="python -m eval.fit_fusion", description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path("data/reports"))
    p.add_argument("--queries", type=Path, default=Path("eval/data/questions.jsonl"))
    p.add_argument("--weights", default="0.5,1,1.5,2,3")
    args = p.parse_args(argv)
    rows = fit(load_config(), args.corpus, args.queries, [float(x) for x in args.weights.split(",")])
    for r in rows:
        print(f"bm25_weight {r['bm25_weight']:<4}  R@1 {r['recall@1']:.3f}  R@5 {r['recall@5']:.3f}  MRR {r['mrr@10']:.3f}")
    best = max(rows, key=lambda r: (round(r["recall@5"], 6), round(r["recall@1"], 6), -abs(r["bm25_weight"] - 1)))
    print(f"best on this set: bm25_weight = {best['bm25_weight']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
