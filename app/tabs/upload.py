"""Tab 上传: add report files to the index with a progress bar; file names are sanitised, never trusted as paths."""
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


def add_uploads(svc, files, progress) -> str:
    """Service.upload (checks, copy, background rebuild, swap) shown as Markdown with every line escaped."""
    return esc(svc.upload(files, progress=progress_adapter(progress)))


def build(gr, svc):
    """Upload tab; returns the upload event so the app can refresh other tabs after it."""
    status = gr.Markdown(status_detail(svc.searcher.stats()), elem_id="index-status")
    files = gr.File(file_count="multiple", file_types=list(svc.cfg.corpus.extensions), label="选择报告文件",
                    type="filepath", elem_id="upload-files")
    gr.Markdown(f"支持 {'、'.join(svc.cfg.corpus.extensions)}，单个文件不超过 {svc.cfg.app.max_upload_mb:g} MB；"
                "添加后立即可检索。")
    go = gr.Button("添加到索引", variant="primary", elem_id="upload-go")
    result = gr.Markdown("", elem_id="upload-result")

    def run(fs, progress=gr.Progress()):
        try:
            msg = add_uploads(svc, fs, progress)
        except AssistantError as exc:
            msg = f"⚠ {esc(exc)}"
        return msg, status_detail(svc.searcher.stats())

    return go.click(run, files, [result, status], api_visibility="private", concurrency_limit=1)
