"""Run an exported embedding model on onnxruntime + tokenizers alone (no torch import at serving time)."""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from .cachefile import write_atomic
from .errors import ModelUnavailableError
from .onnx_export import MODEL_FILE
from .onnx_tokenizer import cached_unigram


RELEASE_TOKENS = 2_048  # after a call with a batch this large (a build, not a query) the arena is shrunk again
log = logging.getLogger(__name__)


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


class WordRows:
    """The word-embedding table of a model, read row by row from its data file (pread) instead of memory-mapped.

    onnxruntime maps the external data file; each new token id then faulted in the pages around its 1.5 KB row
    (~116 KB a token, measured), so the app's RSS grew by ~120 MB of a 384 MB table over 200 questions. A run needs
    only the rows of its tokens: read here, they leave nothing mapped, and the values are the same bytes.
    """

    def __init__(self, path: Path, offset: int, rows: int, dim: int):
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - held for the backend's life, closed with it
        self.offset, self.rows, self.dim = int(offset), int(rows), int(dim)
        self._row_bytes = 4 * self.dim

    def take(self, ids: np.ndarray) -> np.ndarray:
        """float32 rows of the given ids (sorted, unique), as a (len(ids), dim) array."""
        if ids.size and (ids[0] < 0 or ids[-1] >= self.rows):
            raise ValueError(f"token id outside the vocabulary of {self.rows} rows")
        fd, n, base = self._file.fileno(), self._row_bytes, self.offset
        data = b"".join([os.pread(fd, n, base + int(i) * n) for i in ids])
        if len(data) != n * len(ids):
            raise ModelUnavailableError(f"向量模型数据文件 {self._file.name} 不完整，请删除其所在目录后重新导出。")
        return np.frombuffer(data, dtype="<f4").astype(np.float32, copy=False).reshape(len(ids), self.dim)


def split_word_table(model_path: Path, out_path: Path) -> dict | None:
    """Write model_path's graph with its word-embedding table as an input of the same name (the other weights keep
    pointing at the same data file); returns where the table lies, or None when the graph is not the plain layout:
    one Gather of a float [rows, dim] external initializer by input_ids, whose only other reader is a Shape."""
    import onnx

    model = onnx.load(str(model_path), load_external_data=False)
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    readers = [n for n in graph.node if "input_ids" in n.input]
    gathers = [n for n in readers if n.op_type == "Gather" and n.domain in ("", "ai.onnx") and len(n.input) == 2
               and n.input[1] == "input_ids" and n.input[0] in inits
               and all(a.name != "axis" or a.i == 0 for a in n.attribute)]
    if len(gathers) != 1 or any(n.op_type != "Shape" for n in readers if n is not gathers[0]):
        return None
    table = inits[gathers[0].input[0]]
    ext = {e.key: e.value for e in table.external_data}
    if (table.data_type != onnx.TensorProto.FLOAT or len(table.dims) != 2
            or table.data_location != onnx.TensorProto.EXTERNAL or not ext.get("location")
            or sum(table.name in n.input for n in graph.node) != 1
            or any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                   for n in graph.node for a in n.attribute)):
        return None
    rows, dim = (int(d) for d in table.dims)
    if int(ext.get("length", 4 * rows * dim)) != 4 * rows * dim:
        return None
    graph.initializer.remove(table)
    graph.input.append(onnx.helper.make_tensor_value_info(table.name, onnx.TensorProto.FLOAT, ["rows", dim]))
    write_atomic(out_path, model.SerializeToString())
    return {"input": table.name, "file": ext["location"], "offset": int(ext.get("offset", 0)), "rows": rows,
            "dim": dim}



def rows_model(model_path: Path) -> tuple[Path, dict] | None:
    """(model without its word table, where the table lies), made once next to model_path and named by its hash, or
    None (a layout split_word_table does not handle, or a cache it cannot write: the model is then run as it is)."""
    model_path = Path(model_path)
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()[:16]
    out = model_path.with_name(f"{model_path.stem}.rows-{digest}.onnx")
    note = out.with_suffix(".json")  # written last: its presence means the split model is complete
    try:
        table = json.loads(note.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        try:
            table = split_word_table(model_path, out)
            write_atomic(note, json.dumps(table).encode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - any failure leaves the plain model, which gives the same vectors
            log.warning("未能拆分向量模型的词表（%s），按原模型运行", exc)
            return None
    if not table or not out.is_file():
        return None
    return out, table


class OnnxBackend:
    """Token windows → mean-pooled (un-normalised) vectors with an onnxruntime session; thread-safe to run."""

    parallel_runs = True  # InferenceSession.run may be called from several threads at once

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
        unigram = cached_unigram(folder / "tokenizer.json", read_json)
        if unigram is not None:  # same ids, ~250 MB less than tokenizers' trie of a 250k-piece vocabulary
            self._tok = unigram
            self._encode = self._tok.encode_batch
        else:
            spec = read_json(folder / "tokenizer.json")
            self._tok = Tokenizer.from_str(json.dumps(spec))
            self._tok.no_truncation()
            self._tok.no_padding()
            self._encode = lambda texts, special: [
                e.ids for e in self._tok.encode_batch(texts, add_special_tokens=special)]
            del spec
        path = Path(model_path) if model_path else folder / MODEL_FILE
        split = rows_model(path)
        self._rows, self._rows_input = None, None
        if split is not None:
            path, table = split
            self._rows = WordRows(path.parent / table["file"], table["offset"], table["rows"], table["dim"])
            self._rows_input = table["input"]
        self.session = ort.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._peak = 0
        self._shrink = ort.RunOptions()
        self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        pad = self._tok.token_to_id("<pad>")
        self.pad_id = pad if pad is not None else 0

    def tokenize(self, texts: list[str], special: bool) -> list[list[int]]:
        return self._encode(texts, special)

    def _feeds(self, input_ids: np.ndarray, mask: np.ndarray) -> dict:
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        if self._rows is not None:  # the batch's own rows of the word table, ids renumbered into them
            ids, inverse = np.unique(input_ids, return_inverse=True)
            feeds["input_ids"] = inverse.reshape(input_ids.shape).astype(np.int64, copy=False)
            feeds[self._rows_input] = self._rows.take(ids)
        return feeds

    def forward(self, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self._peak = max(self._peak, input_ids.size)
        hidden = self.session.run(["last_hidden_state"], self._feeds(input_ids, mask))[0]
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
        self.session.run(["last_hidden_state"], self._feeds(one, np.ones_like(one)), self._shrink)
        self._peak = 0
