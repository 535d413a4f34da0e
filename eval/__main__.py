"""Command line of the evaluation framework: retrieval, convert, answers, ablation, bench."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from indexer.errors import AssistantError

from .report import DEFAULT_OUT

REPO = Path(__file__).resolve().parent.parent
OWN_DATA = {"corpus": REPO / "data" / "reports", "queries": REPO / "eval" / "data" / "questions.jsonl"}
OTHER_OUT = DEFAULT_OUT / "tmp"  # git-ignored: a run on other data never overwrites the committed results


def _out(args) -> Path:
    """--out when given; else eval/results/ for our own set and eval/results/tmp/ for any other data."""
    if args.out:
        return Path(args.out)
    given = {k: getattr(args, k, None) for k in OWN_DATA}
    if all(v is None or Path(v).resolve() == OWN_DATA[k] for k, v in given.items()):
        return DEFAULT_OUT
    print(f"其他数据集的结果写到 {OTHER_OUT}（要写入 {DEFAULT_OUT} 请加 --out）", file=sys.stderr)
    return OTHER_OUT


def _config(args):
    from indexer.config import load_config

    return load_config(args.config)


_last_progress: dict = {}


def _progress(stage: str, done: int, total: int) -> None:
    """Build progress on stderr at every tenth of a stage, so stdout stays the report (or the JSON object)."""
    tenth = done * 10 // total if total else 10
    if _last_progress.get(stage) != tenth:
        _last_progress[stage] = tenth
        print(f"  {stage} {done}/{total}", file=sys.stderr, flush=True)


def _modes(text: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in text.split(",") if m.strip())


def cmd_retrieval(args, embedder=None) -> int:
    from .retrieval import evaluate_retrieval, metric_keys
    from .report import retrieval_outputs

    cfg = _config(args)
    result = evaluate_retrieval(cfg, args.corpus, args.queries, k=args.k, modes=_modes(args.modes), embedder=embedder,
                                progress=_progress)
    stem = Path(args.name).name or "retrieval"  # a file name, never a path
    markdown = retrieval_outputs(result, _out(args), metric_keys(args.k), stem=stem)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "per_query"}, ensure_ascii=False))
    else:
        print(markdown)
    return 0


def cmd_convert(args) -> int:
    from .convert import convert

    out = args.out or _config(args).embedding.cache_path / "benchmarks" / args.name
    counts = convert(args.name, Path(args.src), Path(out), Path(args.distractors) if args.distractors else None)
    print(f"已转换 {args.name}: 文档 {counts['docs']} 篇（其中干扰文档 {counts['distractors']} 篇），问题 {counts['queries']} 个")
    print(f"  --corpus {counts['corpus']} --queries {counts['queries_file']}")
    return 0


def cmd_answers(args, embedder=None) -> int:
    from .answers import evaluate_answers, write_answers_report

    cfg = _config(args)
    result = evaluate_answers(cfg, args.corpus, args.queries, backend=args.backend, limit=args.limit,
                              embedder=embedder)
    markdown = write_answers_report(result, _out(args))
    print(json.dumps({k: v for k, v in result.items() if k != "per_query"}, ensure_ascii=False) if args.json
          else markdown)
    return 0


def cmd_ablation(args, embedder=None) -> int:
    from .ablation import run_ablation

    cfg = _config(args)
    result, markdown = run_ablation(cfg, args.corpus, args.queries, _out(args), k=args.k, embedder=embedder,
                                    only=_modes(args.variants) if args.variants else None)
    print(json.dumps(result, ensure_ascii=False) if args.json else markdown)
    return 0


def cmd_bench(args, embedder=None) -> int:
    from .bench import run_bench

    cfg = _config(args)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()] if args.sizes else []
    result, markdown = run_bench(cfg, _out(args), corpus=args.corpus, queries=args.queries, sizes=sizes,
                                 parts=_modes(args.parts), embedder=embedder, hnsw_max=args.hnsw_max,
                                 config_path=args.config, app_dir=args.app_dir)
    print(json.dumps(result, ensure_ascii=False) if args.json else markdown)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m eval", description="报告助手评测：检索、回答、消融、性能")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp, dataset=True):
        sp.add_argument("--config", help="配置文件（默认仓库的 config.toml）")
        sp.add_argument("--out", help="报告与图表输出目录（默认：本项目的数据集写 eval/results/，其他数据集写 "
                                      "eval/results/tmp/，不覆盖已提交的结果）")
        sp.add_argument("--json", action="store_true", help="以一个 JSON 对象输出结果")
        if dataset:
            sp.add_argument("--corpus", required=True, help="报告目录，或 {id,title,text} 的 JSONL 文件")
            sp.add_argument("--queries", required=True, help="{id,query,answers,doc_ids,type} 的 JSONL 文件")

    r = sub.add_parser("retrieval", help="检索指标：Recall@k、MRR、nDCG（含置信区间）")
    common(r)
    r.add_argument("--k", type=int, default=10)
    r.add_argument("--modes", default="dense,bm25,hybrid")
    r.add_argument("--name", default="retrieval", help="输出文件名前缀（默认 retrieval）")
    r.set_defaults(func=cmd_retrieval)

    c = sub.add_parser("convert", help="把基准数据集转换为通用格式（写到仓库之外）")
    c.add_argument("name", choices=["ncp", "cmrc2018"])
    c.add_argument("--src", required=True)
    c.add_argument("--out", help="输出目录（默认 缓存目录/benchmarks/名称）")
    c.add_argument("--distractors", help="作为干扰文档加入的 ncp 语料 JSONL")
    c.add_argument("--config")
    c.set_defaults(func=cmd_convert)

    a = sub.add_parser("answers", help="回答质量：答案命中、引用准确率、数字标记、拒答")
    common(a)
    a.add_argument("--backend", choices=["extractive", "endpoint", "local"], default="extractive")
    a.add_argument("--limit", type=int, default=None)
    a.set_defaults(func=cmd_answers)

    b = sub.add_parser("ablation", help="消融：分块方式、检索模式、遮蔽字映射、e5 前缀")
    common(b)
    b.add_argument("--k", type=int, default=10)
    b.add_argument("--variants", default="", help="只跑这些变体（逗号分隔）: default,baseline_chunker,no_mask,no_prefix")
    b.set_defaults(func=cmd_ablation)

    s = sub.add_parser("bench", help="性能：建索引吞吐与内存、查询延迟、大规模合成检索、模型量化")
    common(s, dataset=False)
    s.add_argument("--corpus", default=None, help="样例语料（默认 config 的 corpus.dir）")
    s.add_argument("--queries", default=None, help="延迟测试用问题（默认 eval/data/questions.jsonl）")
    s.add_argument("--sizes", default="100000,1000000", help="合成语料规模（文本块数），逗号分隔")
    s.add_argument("--hnsw-max", type=int, default=1_000_000,
                   help="超过此规模不建 HNSW（构建最慢，1M 约 4–8 分钟），只给估计值")
    s.add_argument("--parts", default="build,latency,synthetic,runtime,start",
                   help="要跑的部分（runtime：各嵌入运行时对比；start：冷建索引、应用首答时间与内存；"
                        "app：只测应用首答时间与内存）")
    s.add_argument("--app-dir", type=Path, default=None, help="app 部分测这个目录里的代码（默认本仓库；用于前后对比）")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv=None, embedder=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.func is cmd_convert:
            return cmd_convert(args)
        return args.func(args, embedder=embedder)
    except AssistantError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
