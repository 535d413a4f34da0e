"""The word-embedding table read by row instead of mapped: same outputs as the plain model, made once, plain fallback."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from indexer import onnx_embed
from indexer.onnx_embed import OnnxBackend, WordRows, rows_model, split_word_table

VOCAB, DIM = 40, 8


def _tiny_model(folder: Path, table_read_twice: bool = False) -> Path:
    """input_ids → Gather(word table) → MatMul → × mask, with the weights in an external data file, as exported;
    table_read_twice adds a second reader of the table (a layout the split must leave alone)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models

    rng = np.random.default_rng(0)
    table = numpy_helper.from_array(rng.standard_normal((VOCAB, DIM)).astype(np.float32), "word_table")
    weight = numpy_helper.from_array(rng.standard_normal((DIM, DIM)).astype(np.float32), "w")
    nodes = [helper.make_node("Shape", ["input_ids"], ["shape"]),
             helper.make_node("Gather", ["word_table", "input_ids"], ["emb"]),
             helper.make_node("MatMul", ["emb", "w"], ["proj"]),
             helper.make_node("Cast", ["attention_mask"], ["maskf"], to=TensorProto.FLOAT),
             helper.make_node("Unsqueeze", ["maskf", "axes"], ["mask3"]),
             helper.make_node("Mul", ["proj", "mask3"], ["last_hidden_state"])]
    if table_read_twice:
        nodes += [helper.make_node("ReduceSum", ["word_table"], ["table_sum"], keepdims=0)]
    axes = numpy_helper.from_array(np.array([2], dtype=np.int64), "axes")
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["b", "s"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["b", "s", DIM]),
         *([helper.make_tensor_value_info("table_sum", TensorProto.FLOAT, [DIM])] if table_read_twice else [])],
        [table, weight, axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(folder / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.onnx.data", size_threshold=100)  # axes stays inline
    Tokenizer(models.WordLevel({f"t{i}": i for i in range(VOCAB)}, unk_token="t1")).save(
        str(folder / "tokenizer.json"))
    (folder / "embedding.json").write_text(json.dumps({"max_seq_length": 16, "dim": DIM}), encoding="utf-8")
    return folder / "model.onnx"


def _plain_run(model: Path, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})[0]


def test_backend_with_the_table_read_by_row_gives_the_plain_models_outputs(tmp_path):
    model = _tiny_model(tmp_path / "m")
    rng = np.random.default_rng(1)
    ids = rng.integers(0, VOCAB, (3, 7)).astype(np.int64)
    ids[0, :3] = [VOCAB - 1, 0, VOCAB - 1]  # both ends of the table, and repeats
    mask = np.ones_like(ids)
    mask[2, 4:] = 0
    backend = OnnxBackend(tmp_path / "m")
    assert backend._rows is not None and backend._rows_input == "word_table"
    assert "word_table" in {i.name for i in backend.session.get_inputs()}
    hidden = backend.session.run(["last_hidden_state"], backend._feeds(ids, mask))[0]
    assert np.array_equal(hidden, _plain_run(model, ids, mask))
    backend.release()  # the one-token shrink run goes through the same feeds


def test_split_model_is_made_once_and_named_by_the_models_hash(tmp_path):
    model = _tiny_model(tmp_path / "m")
    first = rows_model(model)
    assert first is not None
    path, table = first
    assert table == {"input": "word_table", "file": "model.onnx.data", "offset": table["offset"], "rows": VOCAB,
                     "dim": DIM}
    stamp = path.stat().st_mtime_ns
    assert rows_model(model) == first and path.stat().st_mtime_ns == stamp
    _tiny_model(tmp_path / "m", table_read_twice=True)  # a re-export with another graph gets its own decision
    assert rows_model(model) is None


def test_a_table_with_another_reader_is_left_in_the_model(tmp_path):
    model = _tiny_model(tmp_path / "m", table_read_twice=True)
    assert split_word_table(model, tmp_path / "out.onnx") is None
    assert not (tmp_path / "out.onnx").exists()
    backend = OnnxBackend(tmp_path / "m")
    assert backend._rows is None
    ids = np.array([[3, 4, 5]], dtype=np.int64)
    assert np.array_equal(backend.session.run(["last_hidden_state"], backend._feeds(ids, np.ones_like(ids)))[0],
                          _plain_run(model, ids, np.ones_like(ids)))


def test_an_unwritable_cache_runs_the_plain_model(tmp_path, monkeypatch):
    _tiny_model(tmp_path / "m")

    def refuse(*_):
        raise PermissionError("read-only")

    monkeypatch.setattr(onnx_embed, "write_atomic", refuse)
    assert OnnxBackend(tmp_path / "m")._rows is None


def test_word_rows_reads_the_tables_bytes_and_refuses_ids_outside_it(tmp_path):
    table = np.arange(5 * 3, dtype=np.float32).reshape(5, 3)
    (tmp_path / "data").write_bytes(b"x" * 12 + table.tobytes())
    rows = WordRows(tmp_path / "data", 12, 5, 3)
    assert np.array_equal(rows.take(np.array([0, 2, 4])), table[[0, 2, 4]])
    with pytest.raises(ValueError):
        rows.take(np.array([1, 5]))
