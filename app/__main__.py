"""python -m app: open (or first build) the index and serve the web app on localhost."""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

from indexer.errors import AssistantError, IndexMissingError


def parse_users(spec: str) -> list[tuple[str, str]]:
    """"name:pw,name2:pw2" → [(name, pw), …]; an entry without ':' or with an empty part is an error."""
    users = []
    for item in filter(None, (s.strip() for s in (spec or "").split(","))):
        name, sep, pw = item.partition(":")
        if not sep or not name or not pw:
            raise AssistantError(f"登录用户格式应为 用户名:密码，收到：{item.split(':')[0]}:…")
        users.append((name, pw))
    return users


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m app", description="政府工作报告助手 Web 界面（默认只监听本机）")
    p.add_argument("--host", help="监听地址（默认 config.toml [app] host，即 127.0.0.1）")
    p.add_argument("--port", type=int, help="端口（默认 config.toml [app] port）")
    p.add_argument("--index", type=Path, help="索引目录（默认 config.toml [index] dir）")
    p.add_argument("--config", type=Path, help="配置文件（默认仓库中的 config.toml）")
    p.add_argument("--backend", choices=["extractive", "endpoint", "local", "auto"], help="回答后端")
    p.add_argument("--auth", help="登录用户 name:pw[,name2:pw2]（也可用环境变量 APP_USERS 或 [app] users）")
    p.add_argument("--no-build", action="store_true", help="索引不存在时不自动构建，直接报错")
    return p.parse_args(argv)


def print_progress(stage: str, done: int, total: int) -> None:
    print(f"\r{stage}: {done}/{total}", end="\n" if done >= total else "", flush=True)


def open_searcher(cfg, index_dir, build: bool):
    """Open the index, building it from the configured corpus first when it is missing and build is allowed."""
    from indexer.reader import Searcher

    try:
        return Searcher.open(cfg, index_dir=index_dir)
    except IndexMissingError:
        if not build:
            raise
    from indexer.pipeline import build_index

    print("索引不存在，正在构建……")
    summary = build_index(cfg, index_dir=index_dir, progress=print_progress)
    print("\n".join(summary.lines()))
    return Searcher.open(cfg, index_dir=index_dir)


def load_embedder_in_background(searcher) -> threading.Thread:
    """Load the query embedder (and warm the search path) while the UI starts, so the first question does not wait."""
    def load():
        t0 = time.perf_counter()
        print("向量模型加载中……", flush=True)
        try:
            # The reader's own lazy loader: a question arriving meanwhile waits for it, the model never loads twice.
            searcher._get_embedder()
            searcher.search("政务公开", k=1)  # and the word segmenter's dictionary, loaded on the first search
        except Exception as exc:  # noqa: BLE001  the first dense search reports it again, as a message
            print(f"向量模型加载失败：{exc}", file=sys.stderr, flush=True)
        else:
            print(f"向量模型已就绪（{time.perf_counter() - t0:.1f} 秒）", flush=True)

    thread = threading.Thread(target=load, name="load-embedder", daemon=True)
    thread.start()
    return thread


def main(argv=None) -> int:
    from indexer.config import load_config, with_overrides

    args = parse_args(argv)
    try:
        cfg = load_config(args.config)
        if args.backend:
            cfg = with_overrides(cfg, llm={"backend": args.backend})
        users = parse_users(args.auth or os.environ.get("APP_USERS") or cfg.app.users)
        searcher = open_searcher(cfg, args.index, build=not args.no_build)
        load_embedder_in_background(searcher)
        from app.answer import make_generator

        from .ui import build_app, launch_kwargs

        demo = build_app(searcher, make_generator(cfg.llm), cfg, index_dir=args.index)
    except AssistantError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    kwargs = launch_kwargs(cfg, args.host, args.port, users)
    print(f"打开 http://{kwargs['server_name']}:{kwargs['server_port']}/ （Ctrl+C 退出）", flush=True)
    demo.launch(**kwargs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
