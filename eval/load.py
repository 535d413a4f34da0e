"""Load run against the app on 127.0.0.1 only: N concurrent users (one gradio_client each), then M sequential asks,
optionally asks during an /upload rebuild; prints errors, p50, p95 and the server's RSS before/after.

python3 -m eval.load --index DIR [--users 50] [--sequential 500] [--upload FILE] [--app-dir DIR]
The server is started here (python -m app --no-build --backend extractive) and stopped at the end; every phase is
bounded in count and time.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HOST = "127.0.0.1"  # never anything else: this is a load generator
QUESTIONS = Path(__file__).resolve().parent / "data" / "questions.jsonl"
REQUEST_TIMEOUT = 60.0


def _questions() -> list[str]:
    rows = [json.loads(x) for x in QUESTIONS.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r["query"] for r in rows if r.get("type") != "no_answer"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the rebuild child counts while it runs)."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        kids = [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def start_server(index: Path, app_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "app", "--host", HOST, "--port", str(port), "--index", str(index),
           "--backend", "extractive", "--no-build"]
    env = {**os.environ, "PYTHONPATH": str(app_dir), "GRADIO_ANALYTICS_ENABLED": "False", "APP_USERS": ""}
    proc = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://{HOST}:{port}/"
    deadline = time.time() + 180
    import httpx

    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"服务未能启动，见 {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("服务 180 秒内未就绪")


def _ask(client, question: str) -> tuple[float, str | None]:
    t = time.perf_counter()
    try:
        job = client.submit(question, api_name="/ask")
        markdown, _ = job.result(timeout=REQUEST_TIMEOUT)
        err = None if markdown else "空回答"
    except Exception as exc:  # counted, not raised: the run reports errors
        err = f"{type(exc).__name__}: {str(exc)[:80]}"
    return time.perf_counter() - t, err


def summary(name: str, results: list[tuple[float, str | None]], wall: float) -> dict:
    lat = sorted(t for t, _ in results)
    errors = [e for _, e in results if e]
    q = statistics.quantiles(lat, n=20) if len(lat) >= 2 else lat * 19
    return {"phase": name, "n": len(results), "errors": len(errors), "p50_s": round(statistics.median(lat), 3),
            "p95_s": round(q[18], 3), "max_s": round(lat[-1], 3), "wall_s": round(wall, 1),
            "first_errors": sorted(set(errors))[:3]}


def concurrent_users(url: str, users: int, questions: list[str]) -> dict:
    from gradio_client import Client

    with ThreadPoolExecutor(max_workers=10) as pool:  # set-up is not what is measured: bounded, not timed
        t = time.perf_counter()
        clients = list(pool.map(lambda _: Client(url, verbose=False), range(users)))
        setup = time.perf_counter() - t
    barrier = threading.Barrier(users)

    def user(i):
        barrier.wait(timeout=120)
        return _ask(clients[i], questions[i % len(questions)])

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        results = list(pool.map(user, range(users)))
    out = summary(f"{users} 个用户同时提问（各自的客户端）", results, time.perf_counter() - t)
    out["client_setup_s"] = round(setup, 1)
    return out


def sequential(url: str, n: int, questions: list[str], deadline_s: float, name: str) -> dict:
    from gradio_client import Client

    client = Client(url, verbose=False)
    results, t0 = [], time.perf_counter()
    for i in range(n):
        if time.perf_counter() - t0 > deadline_s:
            break
        results.append(_ask(client, questions[i % len(questions)]))
    return summary(name, results, time.perf_counter() - t0)


def during_upload(url: str, upload: Path, questions: list[str]) -> dict:
    """Sequential asks while /upload rebuilds the index (at most 300 asks / until the upload returns)."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    outcome = {}

    def do_upload():
        t = time.perf_counter()
        try:
            outcome["status"] = Client(url, verbose=False).predict([handle_file(str(upload))], api_name="/upload")
        except Exception as exc:
            outcome["status"] = f"错误: {exc}"
        outcome["seconds"] = round(time.perf_counter() - t, 1)

    th = threading.Thread(target=do_upload)
    th.start()
    results, t0 = [], time.perf_counter()
    while th.is_alive() and len(results) < 300:
        results.append(_ask(client, questions[len(results) % len(questions)]))
    th.join(timeout=600)
    out = summary("上传重建期间顺序提问", results or [(0.0, "无")], time.perf_counter() - t0)
    out["upload_s"] = outcome.get("seconds")
    out["upload_status"] = " / ".join(str(outcome.get("status", "")).splitlines()[:4:2])[:200]
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.load", description="本机压力测试（只连 127.0.0.1）")
    p.add_argument("--index", type=Path, required=True, help="已建好的索引目录（真实模型）")
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--sequential", type=int, default=500)
    p.add_argument("--upload", type=Path, help="再测：上传此文件时的提问延迟（文件会加入该索引的语料目录）")
    p.add_argument("--app-dir", type=Path, default=Path(__file__).resolve().parent.parent,
                   help="被测代码的目录（默认本仓库；可指向旧版本做对比）")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if not 1 <= args.users <= 100 or not 1 <= args.sequential <= 2000:
        raise SystemExit("用户数限 1–100，顺序请求限 1–2000")
    questions = _questions()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"load-server-{os.getpid()}.log"
    proc, url = start_server(args.index.resolve(), args.app_dir.resolve(), log)
    phases = []
    try:
        from gradio_client import Client

        Client(url, verbose=False).predict(questions[0], api_name="/ask")  # warm-up: model loaded, caches filled
        rss_before = rss_mb(proc.pid)
        phases.append(concurrent_users(url, args.users, questions))
        phases.append(sequential(url, args.sequential, questions, 600, f"{args.sequential} 次顺序提问（一个客户端）"))
        if args.upload:
            phases.append(during_upload(url, args.upload, questions))
        rss_after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    result = {"url": url, "cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2),
              "rss_mb_before": round(rss_before, 1), "rss_mb_after": round(rss_after, 1), "phases": phases}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"服务 {url}（{result['cpus']} 核，结束时 1 分钟负载 {result['loadavg_1m']}：机器与他人共用，数字有噪声）")
    print("| 阶段 | 请求 | 错误 | p50 (s) | p95 (s) | 最长 (s) | 总用时 (s) |")
    print("|---|---|---|---|---|---|---|")
    for ph in phases:
        print(f"| {ph['phase']} | {ph['n']} | {ph['errors']} | {ph['p50_s']} | {ph['p95_s']} | {ph['max_s']} | "
              f"{ph['wall_s']} |")
    for ph in phases:
        for key in ("client_setup_s", "upload_s", "upload_status", "first_errors"):
            if ph.get(key):
                print(f"  {ph['phase']} {key}: {ph[key]}")
    print(f"服务进程 RSS：开始 {result['rss_mb_before']} MB，结束 {result['rss_mb_after']} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
