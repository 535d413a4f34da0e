"""Command line: python -m indexer build | search | stats | check."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .config import load_config, with_store_args
from .errors import AssistantError
from .models import Filters


def _progress_bar():
    """A tqdm bar per stage, written to stderr so --json output stays clean."""
    from tqdm import tqdm

    bars = {}

    def update(stage: str, done: int, total: int):
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="项", file=sys.stderr, leave=False)
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def _filters(args) -> Filters:
    def split(v):
        return tuple(x for x in (v or "").split(",") if x)

    return Filters(unit=split(args.unit), level=split(args.level), year=tuple(int(y) for y in split(args.year)),
                   topic=split(args.topic), section_role=split(args.role), report_id=split(args.report))


def cmd_build(cfg, args) -> int:
    from .pipeline import build_index

    summary = build_index(cfg, args.corpus, args.index, progress=_progress_bar(), force=args.force)
    print("\n".join(summary.lines()))
    return 0


def _read_queries(path: Path) -> list[dict]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"{path} 第 {n} 行不是合法 JSON: {exc}") from exc
        if not isinstance(row, dict) or not isinstance(row.get("query"), str):
            raise AssistantError(f"{path} 第 {n} 行缺少字符串字段 query")
        rows.append({"id": row.get("id", n), "query": row["query"]})
    return rows


def cmd_search(cfg, args) -> int:
    from .reader import Searcher

    searcher = Searcher.open(cfg, args.index)
    if args.queries:
        rows = _read_queries(Path(args.queries))
        results = searcher.search_batch([r["query"] for r in rows], args.k, args.mode, _filters(args))
        for row, hits in zip(rows, results):
            print(json.dumps({"id": row["id"], "query": row["query"], "hits": [h.to_json() for h in hits]},
                             ensure_ascii=False))
        return 0
    if not args.query:
        raise AssistantError("请给出查询文本，或用 --queries FILE.jsonl")
    t = time.perf_counter()
    hits = searcher.search(" ".join(args.query), args.k, args.mode, _filters(args))
    ms = (time.perf_counter() - t) * 1000
    if args.json:
        print(json.dumps({"query": " ".join(args.query), "hits": [h.to_json() for h in hits]}, ensure_ascii=False))
        return 0
    print(f"{len(hits)} 条结果（{args.mode or cfg.search.mode}，{ms:.0f} ms）")
    for h in hits:
        c = h.chunk
        path = " › ".join((f"《{c.report_title}》", *c.heading_path))
        print(f"\n[{h.rank}] {h.score:.4f}  {path}\n    {c.unit or '-'} | {c.year or '-'} | {c.section_role} | "
              f"{c.source_file}:{c.char_start}-{c.char_end}")
        text = c.text.replace("\n", " ")
        print("    " + (text[:160] + "…" if len(text) > 160 else text))
    return 0


def cmd_stats(cfg, args) -> int:
    from .reader import Searcher

    stats = Searcher.open(cfg, args.index).stats()
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
        return 0
    print(f"报告 {stats['reports']} 篇，章节 {stats['sections']} 个，文本块 {stats['chunks']} 个")
    kind = "Milvus" if stats.get("store") == "milvus" else "FAISS"
    print(f"模型 {stats['model']}（{stats['dim']} 维），{kind} {stats['faiss_type']}，索引 {stats['index_bytes'] / 1e6:.1f} MB")
    print(f"构建于 {stats['built_at']}，目录 {stats['index_dir']}")
    for title, key in (("按单位", "per_unit"), ("按主题", "per_topic"), ("按章节类型", "per_role")):
        print(f"{title}: " + "，".join(f"{k} {v}" for k, v in stats[key].items()))
    for f, why in stats["skipped"]:
        print(f"跳过 {f}: {why}")
    return 0


def cmd_check(cfg, args) -> int:
    """Full check of the live generation: every file's size and checksum, then open it as the app would."""
    from .errors import IndexDamagedError, IndexMissingError
    from .reader import Searcher
    from .store import current_generation, damage_message, load_manifest, verify_generation

    if cfg.index.store == "milvus":  # no files here: opening checks the manifest, records and row counts
        stats = Searcher.open(cfg).stats()
        print(f"索引完好: {stats['index_dir']}（{stats['chunks']} 个文本块，行数与清单一致）")
        return 0
    root = Path(args.index) if args.index else cfg.path(cfg.index.dir)
    gen = current_generation(root)
    if gen is None:
        raise IndexMissingError(f"索引不存在: {root}（先运行 python -m indexer build）")
    manifest = load_manifest(gen)
    problems = verify_generation(gen, manifest, full=True)
    if problems:
        raise IndexDamagedError(damage_message(root, problems))
    stats = Searcher.open(cfg, root).stats() if args.open else None
    n = len(manifest.get("generation_files", {}))
    print(f"索引完好: {gen}（{n} 个文件大小与校验和一致" + (f"，{stats['chunks']} 个文本块可检索）" if stats else "）"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer", description="构建与检索政府工作报告索引")
    parser.add_argument("--config", help="配置文件（默认为仓库中的 config.toml）")
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="解析语料并构建（增量）索引")
    b.add_argument("--corpus", type=Path, help="报告文件目录（默认取配置 [corpus] dir）")
    b.add_argument("--index", type=Path, help="索引目录（默认取配置 [index] dir）")
    b.add_argument("--force", action="store_true", help="全部重新嵌入")

    s = sub.add_parser("search", help="检索")
    s.add_argument("query", nargs="*")
    s.add_argument("--index", type=Path)
    s.add_argument("-k", type=int, default=None)
    s.add_argument("--mode", choices=["hybrid", "dense", "bm25"])
    s.add_argument("--json", action="store_true")
    s.add_argument("--queries", help="JSONL 文件，每行 {\"id\", \"query\"}；每行输出一条 JSON")
    for name in ("unit", "level", "year", "topic", "role", "report"):
        s.add_argument(f"--{name}", help="过滤条件，多个值用逗号分隔")

    st = sub.add_parser("stats", help="索引统计")
    st.add_argument("--index", type=Path)
    st.add_argument("--json", action="store_true")

    c = sub.add_parser("check", help="完整检查索引文件（大小、校验和）是否损坏")
    c.add_argument("--index", type=Path)
    c.add_argument("--no-open", dest="open", action="store_false", help="只校验文件，不加载索引")

    for p in (b, s, st):
        p.add_argument("--store", choices=["faiss", "milvus"], help="索引存储（默认取配置 [index] store）")
        p.add_argument("--milvus-uri", help="Milvus 地址：Milvus Lite 路径或 http://主机:端口（默认取配置 [milvus] uri）")

    args = parser.parse_args(argv)
    try:
        cfg = with_store_args(load_config(args.config), getattr(args, "store", None), getattr(args, "milvus_uri", None))
        commands = {"build": cmd_build, "search": cmd_search, "stats": cmd_stats, "check": cmd_check}
        return commands[args.command](cfg, args)
    except AssistantError as exc:
        print(f"错误: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"错误: 参数无效（{exc}）", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
