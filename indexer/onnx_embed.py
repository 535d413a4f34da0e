"""Run an exported embedding model on onnxruntime + tokenizers alone (no torch import at serving time)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import ModelUnavailableError
from .onnx_export import MODEL_FILE
from .onnx_tokenizer import UnigramTokenizer, supported


RELEASE_TOKENS = 2_048  # after a call with a batch this large (a build, not a query) the arena is shrunk again


def session_options():
    """No busy-waiting worker threads: they steal the CPU from everything else on a small machine."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


def read_json(path: Path) -> dict:
    """A JSON file; with orjson (installed with Gradio) when present: 0.2 s less of the app's start on the 16 MB
    tokenizer.json, same values."""
    try:
        import orjson
    except ImportError:
        return json.loads(path.read_text(encoding="utf-8"))
    return orjson.loads(path.read_bytes())


class OnnxBackend:
    """Token windows → mean-pooled (un-normalised) vectors with an onnxruntime session; thread-safe to run."""

    def __init__(self, folder: Path, model_path: Path | None = None):
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelUnavailableError(f"无法导入 onnxruntime/tokenizers（{exc}），请先安装依赖。") from exc
        folder = Path(folder)
        settings = json.loads((folder / "embedding.json").read_text(encoding="utf-8"))
        self.max_seq_length = int(settings["max_seq_length"])
        self.dim = int(settings["dim"])
        spec = read_json(folder / "tokenizer.json")
        if supported(spec):  # same ids, ~250 MB less than tokenizers' trie of a 250k-piece vocabulary
            self._tok = UnigramTokenizer(spec)
            self._encode = self._tok.encode_batch
        else:
            self._tok = Tokenizer.from_str(json.dumps(spec))
            self._tok.no_truncation()
            self._tok.no_padding()
            self._encode = lambda texts, special: [
                e.ids for e in self._tok.encode_batch(texts, add_special_tokens=special)]
        del spec
        path = Path(model_path) if model_path else folder / MODEL_FILE
        self.session = ort.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._peak = 0
        self._shrink = ort.RunOptions()
        self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        pad = self._tok.token_to_id("<pad>")
        self.pad_id = pad if pad is not None else 0

    def tokenize(self, texts: list[str], special: bool) -> list[list[int]]:
        return self._encode(texts, special)

    def forward(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        self._peak = max(self._peak, input_ids.size)
        hidden = self.session.run(["last_hidden_state"], feeds)[0]
        # sentence-transformers' mean pooling: masked sum over tokens / number of tokens
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)

    def release(self) -> None:
        """Give the memory arena's free blocks back after large batches (a build), keeping it for the next query.

        The arena makes batches ~25% faster than plain allocation (measured in one alternating run), but would keep
        the largest batch's ≈1 GB for the life of the app; shrinking after every batch costs about half that gain.
        onnxruntime shrinks only at the end of a run, hence the one-token run.
        """
        if self._peak < RELEASE_TOKENS:
            return
        one = np.zeros((1, 1), dtype=np.int64)
        feeds = {"input_ids": one, "attention_mask": np.ones_like(one)}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = one
        self.session.run(["last_hidden_state"], feeds, self._shrink)
        self._peak = 0
