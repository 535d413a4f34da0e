"""python -m app.review.bench: time reviews of a ≥5,000-character draft built from the team's drafts (prints numbers)."""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

DRAFTS = Path(__file__).resolve().parents[2] / "eval/data/drafts"
NAMES = ("complete", "no_problems", "copied", "figures")


def bench_draft(min_chars: int = 5000) -> str:
    """complete.txt, then the bodies of the other drafts, to the first line end after min_chars."""
    head = (DRAFTS / "complete.txt").read_text(encoding="utf-8")
    bodies = [(DRAFTS / f"{n}.txt").read_text(encoding="utf-8").split("\n", 1)[1] for n in NAMES]
    text, i = head, 1
    while len(text) < min_chars:
        text += "\n" + bodies[i % len(bodies)]
        i += 1
    cut = text.find("\n", min_chars)
    return text if cut < 0 else text[:cut]


def main(argv=None) -> int:
    from indexer.config import load_config
    from indexer.reader import Searcher

    from . import review_text
    from .peers import profile_for

    p = argparse.ArgumentParser(prog="python -m app.review.bench")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--chars", type=int, default=5000)
    p.add_argument("--mode", choices=["bm25", "hybrid"], default="bm25")
    args = p.parse_args(argv)
    searcher = Searcher.open(load_config())
    text = bench_draft(args.chars)
    t = time.perf_counter()
    profile_for(searcher)
    print(f"corpus profile (once per index): {time.perf_counter() - t:.2f} s")
    if args.mode == "hybrid":
        t = time.perf_counter()
        searcher.search("模型预热")
        print(f"model load (once per process): {time.perf_counter() - t:.2f} s")
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        r = review_text(searcher, text, mode=args.mode)
        times.append(time.perf_counter() - t)
    body = sum(1 for x in r["paragraphs"] if x["kind"] == "body")
    print(f"draft {len(text)} chars, {len(r['paragraphs'])} paragraphs ({body} searched), mode {args.mode}: "
          f"median {statistics.median(times):.2f} s, max {max(times):.2f} s over {args.runs} runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
