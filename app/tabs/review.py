"""Tab 报告审阅: paste or upload a whole draft; see gaps, copies, figures and wording to reuse; download a .docx."""
from __future__ import annotations

import tempfile
from pathlib import Path

from indexer.errors import AssistantError, InputFileError

from ..render import COPY_JS, esc

DRAFT_TYPES = (".txt", ".md", ".docx")
EMPTY = '<div class="src-meta">粘贴或上传一份报告草稿（.txt / .md / .docx），点击“开始审阅”。</div>'


def read_draft(path: str, max_mb: float) -> str:
    """Text of an uploaded draft through the indexer's own reader (encodings, .docx, size and binary checks)."""
    from indexer.readfile import read_source

    p = Path(path)
    if p.suffix.lower() not in DRAFT_TYPES:
        raise InputFileError(f"{p.name}：草稿仅支持 {'、'.join(DRAFT_TYPES)}")
    return read_source(p, int(max_mb * 1024 * 1024))


def save_docx(review: dict) -> str:
    """The exported review in a fresh temporary file (Gradio serves it for download)."""
    from app.review.export import review_docx

    name = "".join(ch for ch in review["draft"]["title"] if ch.isalnum())[:40] or "草稿"
    out = Path(tempfile.mkdtemp(prefix="review-")) / f"审阅意见_{name}.docx"
    out.write_bytes(review_docx(review))
    return str(out)


def build(gr, svc):
    import threading

    from app.review.peers import profile_for

    # Learn the corpus's structure in the background so the first review does not wait for it.
    threading.Thread(target=profile_for, args=(svc.searcher,), daemon=True).start()
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(lines=10, max_lines=20, label="报告草稿全文", elem_id="review-input",
                              placeholder="例如：市民政局2024年政务公开工作总结\n一、工作开展情况\n……")
        with gr.Column(scale=1, min_width=240):
            upload = gr.File(file_count="single", file_types=list(DRAFT_TYPES), type="filepath",
                             label="或上传草稿", elem_id="review-file")
            semantic = gr.Checkbox(value=False, label="语义检索可借鉴表述（较慢）", elem_id="review-semantic")
            go = gr.Button("开始审阅", variant="primary", elem_id="review-go")
            download = gr.File(label="导出审阅意见（.docx，含批注）", interactive=False, elem_id="review-docx")
    out = gr.HTML(EMPTY, js_on_load=COPY_JS, elem_id="review-out")

    def load(path):
        if not path:
            return gr.Textbox()
        try:
            return read_draft(path, svc.cfg.app.max_upload_mb)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return gr.Textbox()

    def run(t, sem):
        from app.review.html import review_html

        try:
            review = svc.review(t, mode="hybrid" if sem else "bm25")
        except AssistantError as exc:
            return f'<div class="warn">⚠ {esc(exc)}</div>', None
        return review_html(review), save_docx(review)

    upload.change(load, upload, text, api_visibility="private")
    go.click(run, [text, semantic], [out, download], api_visibility="private")
