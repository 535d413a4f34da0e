"""Parser fuzz run (hypothesis): random bytes and mutated sample reports; each file is indexed or skipped with a reason.

python3 -m eval.fuzz [--examples 300] [--seed 0]  → counts per outcome; exits 1 on the first crash (shrunk example).
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from indexer.config import load_config
from indexer.errors import InputFileError

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "reports"
EXTENSIONS = (".txt", ".md", ".docx", ".pdf")


def _samples() -> list[bytes]:
    return [p.read_bytes() for p in sorted(SAMPLES.glob("*.txt"))]


@st.composite
def mutated_sample(draw) -> bytes:
    """A window of a shipped report, re-encoded, then cut, flipped, spliced with junk or repeated."""
    data = draw(st.sampled_from(_samples()))
    start = draw(st.integers(0, max(0, len(data) - 1)))
    data = data[start:start + draw(st.integers(1, 20_000))]
    encoding = draw(st.sampled_from(["keep", "gb18030", "utf-16", "utf-16-le", "utf-8-sig"]))
    if encoding != "keep":
        data = data.decode("utf-8", "ignore").encode(encoding, "ignore")
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "repeat", "nul"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data = data[:pos] + bytes([data[pos] ^ draw(st.integers(1, 255))]) + data[pos + 1:]
        elif op == "cut":
            data = data[:pos]
        elif op == "insert":
            data = data[:pos] + draw(st.binary(max_size=64)) + data[pos:]
        elif op == "repeat":
            data = data[:pos] + data[pos:pos + 200] * draw(st.integers(2, 50)) + data[pos:]
        elif op == "nul":
            data = data[:pos] + b"\x00" + data[pos:]
    return data


def any_file(kinds: bool = False):
    """(bytes, extension): random bytes, zip/PDF-looking bytes, or a mutated sample, under any supported name;
    with kinds=True, (kind, bytes, extension)."""
    content = st.one_of(
        st.binary(max_size=4096).map(lambda b: ("random", b)),
        st.binary(max_size=2048).map(lambda b: ("zip-like", b"PK\x03\x04" + b)),
        st.binary(max_size=2048).map(lambda b: ("pdf-like", b"%PDF-1.4\n" + b)),
        mutated_sample().map(lambda b: ("mutated sample", b)),
    )
    both = st.tuples(content, st.sampled_from(EXTENSIONS))
    return both.map(lambda c: (c[0][0], c[0][1], c[1]) if kinds else (c[0][1], c[1]))


def classify(data: bytes, ext: str, folder: Path, cfg) -> str:
    """'indexed' or 'skipped: <reason kind>'; anything else (a crash) propagates."""
    from indexer.chunk import chunk_reports
    from indexer.parse import parse_file

    path = folder / f"f{ext}"
    path.write_bytes(data)
    try:
        reports = parse_file(path, folder, cfg)
    except InputFileError as exc:
        reason = str(exc).replace(path.name, "").strip(" ：:")
        assert reason, "a skip must say why"
        return "skipped: " + re.sub(r"\d+(\.\d+)?", "N", reason)[:18]
    assert reports and all(r.text.strip() for r in reports), "an indexed file must yield reports with text"
    chunks = chunk_reports(reports, cfg.chunk, cfg.parse.mask_map)
    return "indexed" if chunks else "indexed: no chunk"


def run(examples: int, seed: int) -> Counter:
    import logging

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings on broken PDFs are expected here
    cfg = load_config()
    counts: Counter = Counter()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        folder = Path(tmp)

        @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(HealthCheck))
        @given(any_file(kinds=True))
        def one(case):
            kind, data, ext = case
            counts[(kind, classify(data, ext, folder, cfg))] += 1

        from hypothesis import seed as hseed

        hseed(seed)(one)()
    return counts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.fuzz", description="解析器模糊测试（随机字节与变异样例）")
    p.add_argument("--examples", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    t = time.perf_counter()
    try:
        counts = run(args.examples, args.seed)
    except Exception as exc:  # hypothesis re-raises the shrunk failing example
        print(f"崩溃: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    total = sum(counts.values())
    indexed = sum(n for (_, outcome), n in counts.items() if outcome.startswith("indexed"))
    print(f"{total} 个样例，{time.perf_counter() - t:.1f} 秒，无崩溃；收录 {indexed} 个，其余跳过并说明原因：")
    for (kind, outcome), n in sorted(counts.items()):
        print(f"  {n:5d}  {kind:15s} {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
