"""Shared by the app tests: build the tiny corpus (plus a hostile report) with the fake embedder and serve the app."""
from __future__ import annotations

import contextlib
import socket
from pathlib import Path

from tests.conftest import REPORT_A, REPORT_B, REPORT_C

REPORT_EVIL = """XX区测试局2023年工作总结

一、工作情况
本局全年开展<script>alert("xss")</script>专项检查27次，<img src=x onerror=alert(1)>整改问题9个。
二、存在问题
部分检查记录不够规范。
"""


def write_corpus(d: Path) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "a_统计局.txt").write_text(REPORT_A, encoding="utf-8")
    (d / "b_住建局.txt").write_text(REPORT_B, encoding="gb18030")
    (d / "c_街道.md").write_text(REPORT_C, encoding="utf-8-sig")
    (d / "d_evil.txt").write_text(REPORT_EVIL, encoding="utf-8")
    return d


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_app(root: Path, auth=None, backend: str = "extractive"):
    """Yield (url, demo) of the real app over the real Searcher; closed afterwards."""
    from app.answer import make_generator
    from app.ui import build_app, launch_kwargs
    from indexer.config import load_config, with_overrides
    from indexer.pipeline import build_index
    from indexer.reader import Searcher
    from tests.fakes import FakeEmbedder

    cfg = with_overrides(load_config(), corpus={"dir": str(write_corpus(root / "reports"))},
                         index={"dir": str(root / "index")}, llm={"backend": backend},
                         embedding={"model": "fake", "cache_dir": str(root / "cache")})
    emb = FakeEmbedder()
    build_index(cfg, embedder=emb)
    demo = build_app(Searcher.open(cfg, embedder=emb), make_generator(cfg.llm), cfg, embedder=emb)
    kwargs = launch_kwargs(cfg, "127.0.0.1", free_port(), auth)
    _, url, _ = demo.launch(**kwargs, prevent_thread_lock=True, quiet=True)
    try:
        yield url, demo
    finally:
        demo.close()
