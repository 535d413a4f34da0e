"""The Gradio app: four tabs plus the fixed API endpoints /ask, /similar, /report and /upload."""
# No `from __future__ import annotations`: Gradio reads the real gr.Request / API type hints at runtime.
import os
import threading

from .login import login_guard
from .render import CSS, SCROLL_JS, parse_spans, status_line
from .service import Service

DEFAULT_CONCURRENCY = 16  # searches are fast and thread-safe; concurrent questions share one model pass
# (app.querybatch): with 16 at once the passes are fuller than with 8 (50 users: p95 ~6% lower, 3 alternating runs)
WARMUP_QUERY = "政府信息公开"


def start_warmup(svc) -> threading.Event:
    """Load the embedding model in the background at start, so the first question does not wait for it."""
    ready = threading.Event()

    def run():
        try:
            svc.searcher.search(WARMUP_QUERY, k=1)
        except Exception:  # noqa: BLE001 - the first real question reports the error in Chinese
            pass
        finally:
            ready.set()

    threading.Thread(target=run, name="model-warmup", daemon=True).start()
    return ready


def header_line(svc, ready: threading.Event) -> str:
    return status_line(svc.searcher.stats()) + ("　·　模型已就绪" if ready.is_set() else "　·　模型加载中……")


def build_app(searcher, generator, cfg, index_dir=None, embedder=None, corpus_dir=None,
              concurrency: int = DEFAULT_CONCURRENCY, conversations_db=None):
    """Build (not launch) the Blocks app over an open Searcher and an answer generator."""
    import gradio as gr

    from .conversations import ConversationStore, db_path
    from .tabs import chat, similar, sources, upload
    from .tabs import review as review_tab

    svc = Service(searcher, generator, cfg, index_dir=index_dir, embedder=embedder, corpus_dir=corpus_dir)
    store = ConversationStore(conversations_db or db_path(cfg, index_dir))
    ready = start_warmup(svc)
    facets = searcher.facets()
    with gr.Blocks(title="政府工作报告助手") as demo:
        gr.Markdown("## 政府工作报告助手 · 检索、问答与相似表述（离线）", elem_id="app-title")
        header = gr.Markdown(header_line(svc, ready), elem_id="status-line")
        timer = gr.Timer(1.5)
        timer.tick(lambda: (header_line(svc, ready), gr.Timer(active=not ready.is_set())), None, [header, timer],
                   api_visibility="private", show_progress="hidden")
        # Tabs in display order: a new tab is one more `with gr.Tab(label, id=…)` block here.
        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("问答", id="chat"):
                filters = chat.build(gr, svc, facets, store, demo, ready)
            with gr.Tab("相似表述", id="similar"):
                filters += similar.build(gr, svc, facets)
            with gr.Tab("报告审阅", id="review"):
                review_tab.build(gr, svc)
            with gr.Tab("原文", id="source"):
                picker, title, tree, body, more = sources.build(gr, svc, facets)
                filters += more
            with gr.Tab("知识库", id="upload"):
                changed = upload.build(gr, svc)
        chat.citation_panel(gr, svc)
        dropdowns = [d for _, d in filters]

        def after_change():
            """A new unit or year appears in every filter and the picker; the header counts again."""
            return (header_line(svc, ready), gr.Dropdown(choices=sources.report_choices(svc), value=None),
                    *chat.refreshed_filters(gr, svc.searcher.facets(), filters))

        for event in changed:
            event.then(after_change, None, [header, picker, *dropdowns], api_visibility="private")
        demo.load(lambda: (header_line(svc, ready), *chat.refreshed_filters(gr, svc.searcher.facets(), filters)),
                  None, [header, *dropdowns], api_visibility="private")

        def on_load(request: gr.Request):
            params = dict(request.query_params) if request else {}
            rid, cid = params.get("report"), params.get("chunk")
            if not rid:
                return gr.Tabs(), gr.Dropdown(), gr.HTML(), gr.HTML(), gr.HTML()
            t, tr, b = sources.render_report(svc, rid, cid, parse_spans(params.get("hl", "")))
            return gr.Tabs(selected="source"), gr.Dropdown(value=rid), t, tr, b

        demo.load(on_load, None, [tabs, picker, title, tree, body], api_visibility="private").then(
            None, None, None, js=SCROLL_JS, api_visibility="private")
        register_api(gr, svc)
    # Gradio rebuilds a pandas summary of up to 10,000 past events after every event: O(events) per request, so
    # latency and memory grew over a long run. Keep 1,000 events and summarise every 100.
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100")
    # Gradio wraps every event in matplotlib.get_backend()/use("agg"); with the backend unset, the first event
    # imported pyplot (0.5 s, 30 MB) in the middle of the first questions. The app draws no plots.
    os.environ.setdefault("MPLBACKEND", "agg")
    cache_block_signatures()
    demo.queue(default_concurrency_limit=concurrency)
    demo.service = svc  # lets callers and tests reach the live searcher
    demo.conversations = store
    return demo


def cache_block_signatures() -> None:
    """Gradio builds every block's config for each new session (a new user's or client's first call): each of the
    app's ~110 blocks asks inspect.signature for its class's __init__, ~70% of the 14 ms a session cost, on the
    server's event loop. A class's signature does not change while the app runs: gradio.blocks gets it cached per
    callable (3.8 ms a session, same configs)."""
    import functools
    import inspect
    import types

    import gradio.blocks as blocks

    if getattr(blocks, "inspect", None) is not inspect:  # done already, or a Gradio that no longer uses it
        return
    cached = functools.lru_cache(maxsize=1024)(inspect.signature)

    def signature(obj, *args, **kwargs):
        if args or kwargs:
            return inspect.signature(obj, *args, **kwargs)
        try:
            return cached(obj)
        except TypeError:  # an unhashable callable (or none at all: then inspect raises it again)
            return inspect.signature(obj)

    blocks.inspect = types.SimpleNamespace(**{**vars(inspect), "signature": signature})


def register_api(gr, svc) -> None:
    """Small typed non-streaming endpoints, stable whatever the UI layout; every error reaches the client as an
    error (gr.Error with a Chinese message), logged as one line; an unexpected one is logged with its traceback."""
    import logging

    from gradio.data_classes import FileData

    from indexer.errors import AssistantError

    log = logging.getLogger("app")

    def guarded(name, fn, *args):
        try:
            return fn(*args)
        except AssistantError as exc:
            log.info("%s: %s", name, str(exc).replace("\n", " "))
            raise gr.Error(str(exc), print_exception=False) from exc
        except Exception as exc:
            log.exception("%s: 内部错误", name)
            raise gr.Error("服务器内部错误，已记录日志；请稍后再试或联系管理员。", print_exception=False) from exc

    def ask(question: str, filters: dict | None = None) -> tuple[str, list[dict]]:
        """Answer a question: [answer markdown with [n] citations, cited sources (hit fields + n + highlights)]."""
        return guarded("/ask", svc.ask, question, filters)

    def similar(text: str, filters: dict | None = None, k: int = 3) -> list[dict]:
        """For each sentence of text: {sentence, matches: [hit fields + shared spans + shared_ratio]}."""
        return guarded("/similar", svc.similar, text, filters, k)

    def report(report_id: str) -> tuple[str, list[dict], str]:
        """One report: [title, heading tree (sections with spans), text]."""
        return guarded("/report", svc.report, report_id)

    def upload(files: list[FileData]) -> str:
        """Add report files (gradio_client.handle_file each) to the index: a Chinese status text."""
        return guarded("/upload", lambda: svc.upload(uploaded_paths(files)))

    gr.api(ask, api_name="ask")
    gr.api(similar, api_name="similar")
    gr.api(report, api_name="report")
    gr.api(upload, api_name="upload", concurrency_limit=1, concurrency_id="upload")

    def review(text: str, mode: str = "bm25") -> dict:
        """Review a whole draft: {draft, paragraphs [text, role, matches, copied_from, …], missing, figures, summary}."""
        return guarded("/review", svc.review, text, mode)

    gr.api(review, api_name="review")


def uploaded_paths(files) -> list:
    """Files a client uploaded through Gradio (each {"path", "orig_name"}), only from Gradio's upload folder."""
    from types import SimpleNamespace

    from gradio.utils import get_upload_folder, is_in_or_equal

    from indexer.errors import InputFileError

    if not isinstance(files, list):
        raise InputFileError("files 必须是文件列表（每个用 gradio_client.handle_file(路径) 给出）")
    out = []
    for f in files:
        path = f.get("path") if isinstance(f, dict) else None
        if not isinstance(path, str) or not is_in_or_equal(path, get_upload_folder()):
            raise InputFileError("只接受通过上传得到的文件（gradio_client.handle_file(路径)），不接受服务器上的路径")
        out.append(SimpleNamespace(name=path, orig_name=f.get("orig_name") or path))
    return out


def launch_kwargs(cfg, host=None, port=None, auth=None) -> dict:
    """Arguments for demo.launch(): bind address, upload limit, CSS, optional login."""
    return {
        "server_name": host or cfg.app.host,
        "server_port": port or cfg.app.port,
        "max_file_size": f"{cfg.app.max_upload_mb}mb",
        "css": CSS,
        "auth": login_guard(auth) if auth else None,
        "auth_message": "请输入用户名和密码",
        "footer_links": ["api"],
        "show_error": True,
    }
