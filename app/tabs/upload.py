"""Tab 知识库: upload report files, list what each file gave the index, delete or re-index one file."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from indexer.errors import AssistantError, InputFileError

from ..render import esc, status_detail

def safe_name(name: str) -> str:
    """A harmless single file name for an upload (the indexer's rule, so both sides agree)."""
    from indexer.pipeline import safe_filename

    return safe_filename(str(name))


def check_upload(src: Path, name: str, allowed: tuple[str, ...], max_mb: float) -> None:
    """InputFileError for an upload of a wrong type, empty or too large (name = its sanitised name)."""
    if Path(name).suffix.lower() not in allowed:
        raise InputFileError(f"{name}：不支持的文件类型，仅支持 {'、'.join(allowed)}")
    size = src.stat().st_size
    if size == 0:
        raise InputFileError(f"{name}：文件为空")
    if size > max_mb * 1024 * 1024:
        raise InputFileError(f"{name}：文件超过 {max_mb:g} MB 上限")


def stage_files(files, dest: Path, allowed, max_mb: float) -> list[Path]:
    """Check every upload first, then copy them into dest under sanitised unique names."""
    named = [(Path(getattr(f, "name", f)), safe_name(getattr(f, "orig_name", None) or Path(getattr(f, "name", f)).name))
             for f in files]
    for src, name in named:
        check_upload(src, name, tuple(allowed), max_mb)
    dest.mkdir(parents=True, exist_ok=True)
    staged = []
    for src, name in named:
        target = dest / name
        if target.exists():
            target = dest / f"{target.stem}_{uuid.uuid4().hex[:6]}{target.suffix}"
        shutil.copyfile(src, target)
        staged.append(target)
    return staged


def progress_adapter(progress):
    """A callback for the indexer that accepts (fraction, desc) or (done, total, desc) and drives gr.Progress."""
    def report(*args, **kwargs):
        desc = kwargs.get("desc") or next((a for a in args if isinstance(a, str)), None)
        nums = [a for a in args if isinstance(a, (int, float)) and not isinstance(a, bool)]
        frac = nums[0] / nums[1] if len(nums) >= 2 and nums[1] else (nums[0] if nums else None)
        progress(frac, desc=desc)
    return report


def summary_text(summary, added: tuple[str, ...] = ()) -> str:
    """A build summary in the words of the people using the page (no chunks, vectors or server paths)."""
    lines = [f"已添加 {len(added)} 个文件。" if added else "已完成。"]
    if getattr(summary, "reports", None) is not None:
        lines.append(f"知识库现有 {summary.reports} 份报告。")
    for name, n in getattr(summary, "per_file", ()) or ():
        if any(name == a or name.startswith(Path(a).stem + "_") for a in added):  # _1, _2: a clashing name
            lines.append(f"- {esc(name)}：识别出 {n} 份报告")
    for name, title in getattr(summary, "duplicates", ()) or ():
        lines.append(f"- 《{esc(title)}》与已有报告相同，只保留一份（{esc(name)}）")
    for name, why in getattr(summary, "skipped", ()) or ():
        lines.append(f"- ⚠ 未收录 {esc(name)}：{esc(why)}")
    return "\n".join(lines)


def add_uploads(svc, files, progress) -> str:
    """Service.upload (checks, copy, background rebuild, swap) shown as Markdown with every line escaped."""
    return esc(svc.upload(files, progress=progress_adapter(progress)))


def files_table(rows) -> str:
    """The knowledge base as an HTML table; missing unit/year and skipped files stand out."""
    if not rows:
        return '<div class="src-meta">知识库中还没有文件。</div>'
    head = "<tr><th>文件</th><th>报告</th><th>单位 · 年份</th><th>状态</th></tr>"
    body = []
    for row in rows:
        meta = "<br>".join(
            f"《{esc(t)}》 {esc(u) if u else '<span class=miss>⚠ 未知单位</span>'} · "
            f"{esc(f'{y}年') if y else '<span class=miss>⚠ 年份不详</span>'}" for t, u, y in row.reports)
        if row.skipped:
            status = f'<span class="miss">未收录：{esc(row.skipped)}</span>'
        else:
            status = "已收录" + (f"；{row.missing} 份缺单位或年份" if row.missing else "")
        if row.duplicates:
            status += "<br>与 " + "、".join(esc(d) for d in row.duplicates) + " 有相同或相近报告"
        body.append(f"<tr><td><b>{esc(row.name)}</b></td><td><span class=kb-l>报告 </span>{len(row.reports)}</td>"
                    f"<td>{meta or '—'}</td><td>{status}</td></tr>")
    return f'<table class="kb-table">{head}{"".join(body)}</table>'


def build(gr, svc):
    """Knowledge-base tab: upload, the list of files, delete or re-index one; returns the event after any change."""
    from ..library import delete_file, file_rows, reindex_file

    exts = "、".join(svc.cfg.corpus.extensions)
    status = gr.Markdown(status_detail(svc.searcher.stats()), elem_id="index-status")
    with gr.Row(equal_height=False):
        # No file_types: the browser's own type error is English; the server checks types with a Chinese message.
        files = gr.File(file_count="multiple", label=f"选择报告文件（{exts}，单个不超过 {svc.cfg.app.max_upload_mb:g} MB）",
                        type="filepath", elem_id="upload-files", scale=3)
        with gr.Column(scale=2, min_width=220):
            go = gr.Button("添加到知识库", variant="primary", elem_id="upload-go")
            result = gr.Markdown("选择文件后点击“添加到知识库”，进度显示在这里。", elem_id="upload-result", min_height=90)
    gr.Markdown("### 知识库文件")
    table = gr.HTML(files_table(file_rows(svc.searcher)), elem_id="kb-table")
    gr.Markdown("缺单位或年份的报告无法按单位、年份筛选到。修正方法：在语料文件夹中的 `metadata_overrides.toml` 里按报告标题"
                "写明单位和年份（例如 `[\"乡镇20_年度政务公开总结\"]` 下一行 `unit = \"XX镇\"`、一行 `year = 2023`），"
                "然后对该文件点“重新解析并索引”；同一份报告出现在多个文件中时只收录一次。", elem_classes=["src-meta"])
    with gr.Row():
        chosen = gr.Dropdown(choices=[r.name for r in file_rows(svc.searcher)], value=None, label="选择一个文件",
                             elem_id="kb-file", scale=3)
        reindex = gr.Button("重新解析并索引", scale=1, elem_id="kb-reindex")
        remove = gr.Button("从知识库删除", variant="stop", scale=1, elem_id="kb-delete")

    def refresh():
        rows = file_rows(svc.searcher)
        return status_detail(svc.searcher.stats()), files_table(rows), gr.Dropdown(choices=[r.name for r in rows],
                                                                                  value=None)

    def run(fs, progress=gr.Progress()):
        try:
            return add_uploads(svc, fs, progress)
        except AssistantError as exc:
            return f"⚠ {esc(exc)}"

    def act(fn, name, done, progress=gr.Progress()):
        if not name:
            return "未执行：没有选择文件，或已取消。"
        try:
            summary = fn(svc, name, progress=progress_adapter(progress))
        except AssistantError as exc:
            return f"⚠ {esc(exc)}"
        return f"{done}：{esc(name)}。知识库现有 {summary.reports} 份报告。"

    outs = [status, table, chosen]
    # Progress is drawn on the result line under the button only; the status and the table refresh afterwards.
    up = go.click(run, files, result, api_visibility="private", concurrency_limit=1).then(
        refresh, None, outs, api_visibility="private")
    gone = remove.click(lambda n, p=gr.Progress(): act(delete_file, n, "已删除", p), chosen, result,
                        js="(n) => (n && confirm('确定从知识库删除 ' + n + ' 吗？此操作会删除该文件。')) ? n : null",
                        api_visibility="private", concurrency_limit=1).then(refresh, None, outs,
                                                                             api_visibility="private")
    again = reindex.click(lambda n, p=gr.Progress(): act(reindex_file, n, "已重新索引", p), chosen, result,
                          api_visibility="private", concurrency_limit=1).then(refresh, None, outs,
                                                                               api_visibility="private")
    return up, gone, again
