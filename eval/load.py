"""Load run against the app on 127.0.0.1 only: N concurrent users, then M sequential asks, optionally asks during an
/upload rebuild; prints errors, p50, p95, the server's RSS before/after and CPU used by server and generator.

python3 -m eval.load --index DIR [--users 50] [--sequential 500] [--client http|gradio] [--upload FILE] [--app-dir DIR]
python3 -m eval.load --index DIR --profile   # no server: cProfile of /ask's Service.ask over our question set
python3 -m eval.load --index DIR --same-answers QUERIES…   # no server: /ask identical with sentence vectors ahead?
The server is started here (python -m app --no-build --backend extractive) and stopped at the end; every phase is
bounded in count and time. `--client http` (default): one asyncio process, one httpx client (own connection pool and
cookie jar, own Gradio session) per user, speaking Gradio's REST API (POST /gradio_api/call/ask, then its event
stream) — light enough that the numbers show the server. `--client gradio`: one gradio_client.Client per user in
threads, as a browser-like client would be (heavier: on 2 cores it competes with the server for CPU).
The phases start once the app says its report sentences' vectors are ready (app.sentvecs), as it serves from then on.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HOST = "127.0.0.1"  # never anything else: this is a load generator
QUESTIONS = Path(__file__).resolve().parent / "data" / "questions.jsonl"
REQUEST_TIMEOUT = 60.0
SENTENCES_READY = "句子向量已就绪"  # app.sentvecs.READY_LOG (not imported: the app under test may be another checkout)
SENTENCES_WAIT_S = 180.0


def _questions(path: Path = QUESTIONS, answerable_only: bool = True) -> list[str]:
    """The queries of a question file (by default only those the corpus answers)."""
    rows = [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r["query"] for r in rows if not answerable_only or r.get("type") != "no_answer"]


def _free_port(port: int = 0) -> int:
    with socket.socket() as s:
        s.bind((HOST, port))
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


def start_server(index: Path, app_dir: Path, log: Path, users: str = "", port: int = 0) -> tuple[subprocess.Popen, str]:
    port = _free_port(port)
    cmd = [sys.executable, "-m", "app", "--host", HOST, "--port", str(port), "--index", str(index),
           "--backend", "extractive", "--no-build"]
    env = {**os.environ, "PYTHONPATH": str(app_dir), "GRADIO_ANALYTICS_ENABLED": "False", "APP_USERS": users}
    proc = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://{HOST}:{port}/"
    deadline = time.time() + 180
    import httpx

    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"服务未能启动，见 {log}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:  # 200, or the login page's redirect
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("服务 180 秒内未就绪")


def wait_for_sentences(app_dir: Path, log: Path, timeout_s: float) -> str:
    """Until the app under test says its report sentences' vectors are ready (app.sentvecs: read from their file, or
    embedded between questions on a generation's first start, ~15–30 CPU-s here), so the phases measure the app as it
    serves from then on; the log line, "没有" for a version without them, or "未就绪" after timeout_s."""
    if not (app_dir / "app" / "sentvecs.py").is_file():
        return "没有（此版本不预先计算）"
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if SENTENCES_READY in line:
                return line.split(SENTENCES_READY, 1)[1].lstrip("：").strip()
        time.sleep(0.5)
    return f"{timeout_s:.0f} 秒内未就绪"


def _cpu_s(pid: int | None = None) -> float:
    """CPU seconds (user + system) of a process; this one when pid is None."""
    if pid is None:
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF)
        return ru.ru_utime + ru.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------- light client: Gradio's REST API over httpx, one asyncio process ----------

async def ask_http(user, question: str, filters: dict | None = None) -> tuple[float, str | None]:
    """One /ask through POST /gradio_api/call/ask + its event stream: (seconds, error or None).

    user is (httpx client, session hash): one Gradio session per user, as a browser tab or gradio_client has
    (without it every call would be a new session, which a real user is not)."""
    client, session = user
    t = time.perf_counter()
    try:
        r = await client.post("/gradio_api/call/ask", json={"data": [question, filters], "session_hash": session})
        r.raise_for_status()
        event, data = None, None
        async with client.stream("GET", f"/gradio_api/call/ask/{r.json()['event_id']}") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = line[5:].strip()
                    break
        if event == "complete":
            markdown = json.loads(data)[0]
            err = None if markdown else "空回答"
        else:
            err = f"{event}: {(data or '')[:80]}"
    except Exception as exc:  # counted, not raised: the run reports errors
        err = f"{type(exc).__name__}: {str(exc)[:80]}"
    return time.perf_counter() - t, err


def _http_client(url: str):
    import httpx

    return httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT, limits=httpx.Limits(max_connections=4))


async def _open_session(url: str, auth: tuple[str, str] | None):
    """A new user: own client and cookie jar; logs in when the app asks for it."""
    client = _http_client(url)
    if auth:
        r = await client.post("/login", data={"username": auth[0], "password": auth[1]})
        if r.status_code >= 400:
            raise SystemExit(f"登录失败（{r.status_code}）")
    (await client.get("/")).raise_for_status()
    return client, uuid.uuid4().hex


async def _http_concurrent(url: str, users: int, questions: list[str], auth,
                           pid: int | None = None) -> tuple[list, float, float, float | None]:
    """(results, wall s, set-up s, server CPU s during the asks only — not the users' page loads — when pid given)."""
    t = time.perf_counter()
    clients = []
    for _ in range(users):  # set-up is not what is measured: one after another, not timed
        clients.append(await _open_session(url, auth))
    setup = time.perf_counter() - t
    cpu0 = _cpu_s(pid) if pid else None
    t = time.perf_counter()
    try:
        results = await asyncio.gather(*(ask_http(c, questions[i % len(questions)]) for i, c in enumerate(clients)))
    finally:
        wall = time.perf_counter() - t
        await asyncio.gather(*(c.aclose() for c, _ in clients))
    return results, wall, setup, (round(_cpu_s(pid) - cpu0, 1) if pid else None)


async def _http_sequential(url: str, n: int, questions: list[str], deadline_s: float, auth) -> tuple[list, float]:
    user = await _open_session(url, auth)
    results, t0 = [], time.perf_counter()
    try:
        for i in range(n):
            if time.perf_counter() - t0 > deadline_s:
                break
            results.append(await ask_http(user, questions[i % len(questions)]))
    finally:
        await user[0].aclose()
    return results, time.perf_counter() - t0


# ---------- gradio_client (one Client per user, threads) ----------

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
    q = statistics.quantiles(lat, n=20, method="inclusive") if len(lat) >= 2 else lat * 19
    return {"phase": name, "n": len(results), "errors": len(errors), "p50_s": round(statistics.median(lat), 3),
            "p95_s": round(q[18], 3), "max_s": round(lat[-1], 3), "wall_s": round(wall, 1),
            "first_errors": sorted(set(errors))[:3]}


def concurrent_users(url: str, users: int, questions: list[str], mode: str = "http", auth=None,
                     pid: int | None = None) -> dict:
    if mode == "http":
        results, wall, setup, cpu = asyncio.run(_http_concurrent(url, users, questions, auth, pid))
        out = summary(f"{users} 个用户同时提问（各自的 httpx 客户端与会话）", results, wall)
        out["client_setup_s"] = round(setup, 1)
        if cpu is not None:
            out["server_cpu_s"] = cpu
        return out
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


def sequential(url: str, n: int, questions: list[str], deadline_s: float, name: str, mode: str = "http",
               auth=None) -> dict:
    if mode == "http":
        results, wall = asyncio.run(_http_sequential(url, n, questions, deadline_s, auth))
        return summary(name, results, wall)
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


def measured(phase, pid: int, run) -> dict:
    """Run one phase; add the 1-minute load average at its start, and CPU seconds of server and generator."""
    load, server0, own0 = os.getloadavg()[0], _cpu_s(pid), _cpu_s()
    out = run()
    out.setdefault("server_cpu_s", round(_cpu_s(pid) - server0, 1))  # a phase may count only its timed part
    out.update({"loadavg_1m_at_start": round(load, 2), "generator_cpu_s": round(_cpu_s() - own0, 1)})
    phase.append(out)
    return out


def profile_asks(make_service, questions: list[str], top: int = 20) -> str:
    """Service.ask (what /ask runs) over the questions in this process, each time on a fresh service (no vectors
    cached): once timed (CPU per question, query-model passes), once under cProfile (top functions by cumulative CPU
    time; the profiler itself roughly doubles it, so its totals are not the timed ones)."""
    import cProfile
    import io
    import pstats

    def run(svc) -> None:
        for q in questions:
            try:
                svc.ask(q)
            except Exception:  # noqa: BLE001 - a refused question still costs what it costs
                pass

    svc = make_service()
    passes0, cpu0 = getattr(svc.searcher.embedder, "passes", 0), _cpu_s()  # app.querybatch counts its passes
    run(svc)
    cpu, passes = _cpu_s() - cpu0, getattr(svc.searcher.embedder, "passes", 0) - passes0
    # CPU time, not wall time: the machine is shared, and onnxruntime's threads count as the work they are
    prof, svc = cProfile.Profile(time.process_time), make_service()
    prof.enable()
    run(svc)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    return (f"{len(questions)} 个问题（首次提问）：CPU {cpu:.2f} s，每题 {1000 * cpu / max(1, len(questions)):.0f} ms；"
            f"查询向量模型调用 {passes} 次。cProfile（CPU 时间，含分析器自身开销）：\n" + out.getvalue())


def _profile_service(index: Path):
    """The app's own service over index, as `python -m app` builds it, warmed up like it, with its report sentences'
    vectors (app.sentvecs, from their file once made); the query caches fresh."""
    from app.__main__ import fill_sentences_ahead, open_searcher
    from app.answer import make_generator
    from app.service import Service
    from indexer.config import load_config, with_overrides

    cfg = with_overrides(load_config(), llm={"backend": "extractive"})
    searcher = open_searcher(cfg, index, build=False)  # a new query cache each time (the model is loaded once)
    searcher.search("政府信息公开", k=1)  # the app's warm-up: model loaded, first pass made
    fill = fill_sentences_ahead(cfg, searcher, start_s=0)  # no start to spare here
    if fill is not None:
        fill.done.wait(SENTENCES_WAIT_S)
        fill.stop()
    return Service(searcher, make_generator(cfg.llm), cfg, index_dir=index)


def same_answers(index: Path, query_files: list[Path]) -> dict:
    """/ask (Service.ask) over every question of query_files on a fresh service without and then with the report
    sentences' vectors embedded ahead (app.sentvecs): both must give the same markdown and sources."""
    from app.__main__ import open_searcher
    from app.answer import make_generator
    from app.service import Service
    from indexer.config import load_config, with_overrides

    questions = [q for f in query_files for q in _questions(f, answerable_only=False)]

    def answers(svc) -> tuple[list, float]:
        out, cpu0 = [], _cpu_s()
        for q in questions:
            try:
                out.append(json.dumps(svc.ask(q), ensure_ascii=False, sort_keys=True, default=str))
            except Exception as exc:  # noqa: BLE001 - an error must be the same error both times
                out.append(repr(exc))
        return out, _cpu_s() - cpu0

    cfg = with_overrides(load_config(), llm={"backend": "extractive"})
    plain = Service(open_searcher(cfg, index, build=False), make_generator(cfg.llm), cfg, index_dir=index)
    without, cpu_without = answers(plain)
    ahead = _profile_service(index)
    with_ahead, cpu_with = answers(ahead)
    differ = [q for q, a, b in zip(questions, without, with_ahead) if a != b]
    return {"questions": len(questions), "differ": differ, "cpu_without_s": round(cpu_without, 2),
            "cpu_with_s": round(cpu_with, 2), "sentences_ahead": len(getattr(ahead.searcher.embedder, "ahead", {}))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.load", description="本机压力测试（只连 127.0.0.1）")
    p.add_argument("--index", type=Path, required=True, help="已建好的索引目录（真实模型）")
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--sequential", type=int, default=500)
    p.add_argument("--client", choices=["http", "gradio"], default="http",
                   help="http：单进程 asyncio + 每用户一个 httpx 客户端（默认，轻量）；gradio：每用户一个 gradio_client")
    p.add_argument("--auth", help="以登录用户 name:pw 启动服务，每个用户各自登录（只用于 http 客户端）")
    p.add_argument("--upload", type=Path, help="再测：上传此文件时的提问延迟（文件会加入该索引的语料目录）")
    p.add_argument("--app-dir", type=Path, default=Path(__file__).resolve().parent.parent,
                   help="被测代码的目录（默认本仓库；可指向旧版本做对比）")
    p.add_argument("--port", type=int, default=0, help="服务端口（默认任一空闲端口）")
    p.add_argument("--json", action="store_true")
    p.add_argument("--profile", action="store_true", help="不启动服务：在本进程内用 cProfile 跑一遍问题集的 /ask")
    p.add_argument("--same-answers", nargs="+", type=Path, metavar="QUERIES",
                   help="不启动服务：这些问题集的 /ask 在预先计算句子向量前后是否逐字相同")
    args = p.parse_args(argv)
    if args.same_answers:
        out = same_answers(args.index.resolve(), args.same_answers)
        print(json.dumps(out, ensure_ascii=False))
        return 1 if out["differ"] else 0
    if args.profile:
        print(profile_asks(lambda: _profile_service(args.index.resolve()), _questions(answerable_only=False)))
        return 0
    if not 1 <= args.users <= 100 or not 1 <= args.sequential <= 2000:
        raise SystemExit("用户数限 1–100，顺序请求限 1–2000")
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    if auth and args.client != "http":
        raise SystemExit("--auth 只用于 --client http")
    questions = _questions()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"load-server-{os.getpid()}.log"
    proc, url = start_server(args.index.resolve(), args.app_dir.resolve(), log, args.auth or "", args.port)
    phases = []
    try:
        sentences = wait_for_sentences(args.app_dir.resolve(), log, SENTENCES_WAIT_S)
        asyncio.run(_http_sequential(url, 1, questions, 60, auth))  # warm-up: model loaded, caches filled
        rss_before = rss_mb(proc.pid)
        measured(phases, proc.pid, lambda: concurrent_users(url, args.users, questions, args.client, auth, proc.pid))
        measured(phases, proc.pid, lambda: sequential(url, args.sequential, questions, 600,
                                                      f"{args.sequential} 次顺序提问（一个客户端）", args.client, auth))
        if args.upload:
            measured(phases, proc.pid, lambda: during_upload(url, args.upload, questions))
        rss_after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    result = {"url": url, "client": args.client, "cpus": os.cpu_count(), "loadavg_1m": round(os.getloadavg()[0], 2),
              "rss_mb_before": round(rss_before, 1), "rss_mb_after": round(rss_after, 1),
              "sentence_vectors": sentences, "phases": phases}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(f"服务 {url}，客户端 {args.client}（{result['cpus']} 核，机器与他人共用，数字有噪声）")
    print("| 阶段 | 请求 | 错误 | p50 (s) | p95 (s) | 最长 (s) | 总用时 (s) | 开始时负载 | 服务 CPU s | 压测端 CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for ph in phases:
        print(f"| {ph['phase']} | {ph['n']} | {ph['errors']} | {ph['p50_s']} | {ph['p95_s']} | {ph['max_s']} | "
              f"{ph['wall_s']} | {ph['loadavg_1m_at_start']} | {ph['server_cpu_s']} | {ph['generator_cpu_s']} |")
    for ph in phases:
        for key in ("client_setup_s", "upload_s", "upload_status", "first_errors"):
            if ph.get(key):
                print(f"  {ph['phase']} {key}: {ph[key]}")
    print(f"句子向量（app.sentvecs）：{sentences}")
    print(f"服务进程 RSS：开始 {result['rss_mb_before']} MB，结束 {result['rss_mb_after']} MB；"
          f"结束时 1 分钟负载 {result['loadavg_1m']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
