"""python -m app: open (or first build) the index and serve the web app on localhost."""
from __future__ import annotations

import argparse
import logging
import os
import sys
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
    p.add_argument("--corpus", type=Path, help="报告目录：索引不存在时从它构建，上传的文件也加入它（默认为索引记录的语料目录）")
    p.add_argument("--config", type=Path, help="配置文件（默认仓库中的 config.toml）")
    p.add_argument("--backend", choices=["extractive", "endpoint", "local", "auto"], help="回答后端")
    p.add_argument("--auth", help="登录用户 name:pw[,name2:pw2]（也可用环境变量 APP_USERS 或 [app] users）")
    p.add_argument("--store", choices=["faiss", "milvus"], help="索引存储（默认 config.toml [index] store）")
    p.add_argument("--milvus-uri", help="Milvus 地址：Milvus Lite 路径或 http://主机:端口（默认 config.toml [milvus] uri）")
    p.add_argument("--no-build", action="store_true", help="索引不存在时不自动构建，直接报错")
    return p.parse_args(argv)


def print_progress(stage: str, done: int, total: int) -> None:
    print(f"\r{stage}: {done}/{total}", end="\n" if done >= total else "", flush=True)


def open_searcher(cfg, index_dir, build: bool, corpus_dir=None, embedder=None):
    """Open the index, building it from the corpus first when it is missing and build is allowed; an index built
    from another corpus than --corpus is refused (an upload would otherwise rebuild it from the wrong files)."""
    from indexer.reader import Searcher

    try:
        embedder = embedder or _query_batcher(cfg)
        searcher = Searcher.open(cfg, index_dir=index_dir, embedder=embedder)
    except IndexMissingError:
        if not build:
            raise
    else:
        recorded = searcher.manifest.get("corpus")
        if corpus_dir is not None and recorded and Path(recorded) != Path(corpus_dir).resolve():
            raise AssistantError(f"索引 {searcher.gen_dir.parent} 由语料 {recorded} 构建，与 --corpus {corpus_dir} 不同。"
                                 f"请去掉 --corpus，或先运行 python -m indexer build --corpus {corpus_dir} "
                                 f"--index {searcher.gen_dir.parent}")
        return searcher
    from indexer.pipeline import build_index

    print("索引不存在，正在构建……")
    summary = build_index(cfg, corpus_dir=corpus_dir, index_dir=index_dir, embedder=embedder, progress=print_progress)
    print("\n".join(summary.lines()))
    return Searcher.open(cfg, index_dir=index_dir, embedder=embedder)


def _query_batcher(cfg):
    """The configured model, loaded once at start, with concurrent questions embedded together."""
    from indexer.embed import load_embedder

    from .querybatch import QueryBatcher

    return QueryBatcher(load_embedder(cfg.embedding))


class _NoStubWriter:
    """An import hook that lets gradio.component_meta load normally, then turns its create_or_modify_pyi into a no-op.

    Importing Gradio 6 re-reads and AST-parses the source of each of its ~80 component classes to write or refresh
    their type stubs (.pyi files for editors): ~1.2 of the ~2.8 CPU-s of the import, on the path to the first
    answer, for nothing the app uses. Only the stub writing is skipped; when a Gradio version lacks the function,
    setting the name changes nothing.
    """

    name = "gradio.component_meta"

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader

        class Loader(type(loader)):
            def exec_module(self, module):
                loader.exec_module(module)
                module.create_or_modify_pyi = lambda *args, **kwargs: None

        spec.loader = Loader(loader.name, loader.path)
        return spec


def lighten_gradio_import() -> None:
    """Before Gradio is imported in this process: no type-stub writing (above), and no IPython, which Gradio imports
    when installed (~0.2 CPU-s) only to offer notebook magics and inline display; a served app runs in no notebook."""
    if "gradio" in sys.modules:
        return
    sys.modules.setdefault("IPython", None)  # a None entry makes `import IPython` fail as if it were not installed
    if not any(isinstance(f, _NoStubWriter) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoStubWriter())


def main(argv=None) -> int:
    from indexer.config import load_config, with_overrides, with_store_args

    args = parse_args(argv)
    lighten_gradio_import()
    # One line per handled user error (app.ui.register_api); tracebacks only for real faults.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        cfg = with_store_args(load_config(args.config), args.store, args.milvus_uri)
        if args.backend:
            cfg = with_overrides(cfg, llm={"backend": args.backend})
        users = parse_users(args.auth or os.environ.get("APP_USERS") or cfg.app.users)
        searcher = open_searcher(cfg, args.index, build=not args.no_build, corpus_dir=args.corpus)
        from app.answer import make_generator

        from .ui import build_app, launch_kwargs

        demo = build_app(searcher, make_generator(cfg.llm), cfg, index_dir=args.index, corpus_dir=args.corpus)
    except AssistantError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    kwargs = launch_kwargs(cfg, args.host, args.port, users)
    print(f"打开 http://{kwargs['server_name']}:{kwargs['server_port']}/ （Ctrl+C 退出）", flush=True)
    demo.launch(**kwargs, prevent_thread_lock=True)
    fill_sentences_ahead(cfg, searcher)  # only once serving: it must not slow the start
    demo.block_thread()
    return 0


def fill_sentences_ahead(cfg, searcher, start_s: float | None = None):
    """The vectors of every report sentence, from their cache file or embedded between questions (app.sentvecs),
    so a question's evidence rerank finds them made; kept next to the model, one file per index generation."""
    from .sentvecs import START_S, fill_ahead

    return fill_ahead(searcher.embedder, searcher, cfg.embedding.cache_path / "sentences",
                      START_S if start_s is None else start_s)


if __name__ == "__main__":
    sys.exit(main())
