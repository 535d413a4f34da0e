"""Calibrate the not-found thresholds on labelled questions, with a cross-validated estimate of how well they hold."""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from indexer.config import load_config
from indexer.errors import AssistantError


def cross_validate(rows, folds: int = 2, seed: int = 0) -> dict:
    """Calibrate on all folds but one, score the held-out fold; summed confusion counts over folds."""
    from app.notfound import calibrate, evaluate

    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    totals = {"answerable_kept": 0, "answerable": 0, "no_answer_caught": 0, "no_answer": 0}
    for f in range(folds):
        test = [rows[i] for i in order[f::folds]]
        train = [rows[i] for j, i in enumerate(order) if j % folds != f]
        got = evaluate(test, calibrate(train))
        for key in totals:
            totals[key] += got[key]
    return totals


def main(argv=None) -> int:
    from app.notfound import calibrate, evaluate, labelled_rows
    from indexer.reader import Searcher

    p = argparse.ArgumentParser(prog="python -m eval.calibrate", description="校准“资料中未找到”判定阈值")
    p.add_argument("--queries", default="eval/data/questions.jsonl")
    p.add_argument("--index", type=Path)
    p.add_argument("--config")
    p.add_argument("-k", type=int, default=5)
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config)
        questions = [json.loads(l) for l in Path(args.queries).read_text(encoding="utf-8").splitlines() if l.strip()]
        rows = labelled_rows(Searcher.open(cfg, args.index), questions, k=args.k)
    except AssistantError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2
    t = calibrate(rows)
    print("[answer]")
    for name in ("min_score", "min_dense", "min_bm25", "min_coverage", "max_unknown"):
        print(f"{name} = {getattr(t, name):.4f}")
    print(f"refuse_mismatch = {'true' if t.refuse_mismatch else 'false'}")
    print("# on the calibration set itself:", json.dumps(evaluate(rows, t), ensure_ascii=False))
    print("# 2-fold cross-validated (held-out):", json.dumps(cross_validate(rows), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
