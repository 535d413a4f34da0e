"""Local back-end loading code: part joining with size/sha256 checks, refusal of unverified files, fake llama_cpp."""
from __future__ import annotations

import hashlib
import sys
import types

import pytest

from app.backends import local as local_mod
from app.backends import make_generator
from app.backends.extractive import ExtractiveGenerator
from app.backends.local import LocalGenerator, ensure_model_file, join_parts
from indexer.config import LLMConfig
from indexer.errors import ConfigError, GenerationError, ModelUnavailableError
from tests.fake_llm import CHUNKS, hits_for


@pytest.fixture
def parts(tmp_path):
    paths = []
    for i, data in enumerate([b"GGUF" + b"a" * 100, b"b" * 77, b"c" * 3]):
        p = tmp_path / f"part{i}"
        p.write_bytes(data)
        paths.append(p)
    whole = b"".join(p.read_bytes() for p in paths)
    return paths, len(whole), hashlib.sha256(whole).hexdigest()


def test_join_parts_verifies_and_writes_atomically(parts, tmp_path):
    paths, size, sha = parts
    dest = join_parts(paths, tmp_path / "cache" / "m.gguf", size, sha)
    assert dest.read_bytes().startswith(b"GGUF") and dest.stat().st_size == size
    assert [p.name for p in dest.parent.iterdir() if p.name.endswith(".tmp")] == []
    assert local_mod.file_sha256(dest) == sha


@pytest.mark.parametrize("bad", ["size", "sha"])
def test_join_parts_rejects_a_wrong_file_and_leaves_nothing(parts, tmp_path, bad):
    paths, size, sha = parts
    dest = tmp_path / "cache" / "m.gguf"
    with pytest.raises(ModelUnavailableError, match="大小" if bad == "size" else "校验失败"):
        join_parts(paths, dest, size + 1 if bad == "size" else size, sha if bad == "size" else "0" * 64)
    assert list(dest.parent.iterdir()) == []


def test_unpinned_sha256_refuses_to_load(tmp_path):
    with pytest.raises(ModelUnavailableError, match="sha256"):
        ensure_model_file(tmp_path, sha256=None)


def test_corrupt_cached_file_is_rebuilt_from_parts(parts, tmp_path, monkeypatch):
    paths, size, sha = parts
    monkeypatch.setattr(local_mod, "part_paths", lambda count=22: paths)
    cached = tmp_path / local_mod.MODEL_FILE
    cached.write_bytes(b"x" * size)
    assert ensure_model_file(tmp_path, size=size, sha256=sha).read_bytes() == b"".join(p.read_bytes() for p in paths)


def test_missing_parts_raise_model_unavailable(monkeypatch):
    monkeypatch.setattr(local_mod, "PART_DIST", "no-such-package-for-tests-part{}")
    with pytest.raises(ModelUnavailableError, match="未安装"):
        local_mod.part_paths(2)


def test_missing_llama_cpp_is_model_unavailable_and_auto_falls_back(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(ModelUnavailableError, match="llama-cpp-python"):
        LocalGenerator(LLMConfig(backend="local"))
    with pytest.raises(ModelUnavailableError):
        make_generator(LLMConfig(backend="local"))
    assert isinstance(make_generator(LLMConfig(backend="auto")), ExtractiveGenerator)


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError):
        make_generator(LLMConfig(backend="gpt"))


class FakeLlama:
    def __init__(self, model_path, n_ctx, n_threads, verbose):
        if not model_path.endswith(".gguf"):
            raise ValueError("Failed to load model from file")
        self.kwargs = {"n_ctx": n_ctx, "n_threads": n_threads}
        self.messages = None

    def create_chat_completion(self, messages, stream, temperature, max_tokens):
        self.messages = messages
        yield {"choices": [{"delta": {"role": "assistant"}}]}
        for piece in ["全年主动公开", "915条[1]。"]:
            yield {"choices": [{"delta": {"content": piece}}]}


def test_local_generator_streams_with_a_fake_llama(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=FakeLlama))
    g = LocalGenerator(LLMConfig(backend="local"), model_path=tmp_path / "m.gguf")
    assert g.llm.kwargs == {"n_ctx": 4096, "n_threads": 2}
    assert list(g.stream("问题", hits_for(CHUNKS[:1]), [])) == ["全年主动公开", "全年主动公开915条[1]。"]
    assert "<资料>" in g.llm.messages[-1]["content"]
    with pytest.raises(ModelUnavailableError, match="加载失败"):
        LocalGenerator(LLMConfig(backend="local"), model_path=tmp_path / "broken.bin")


def test_local_generator_with_nothing_generated_raises(monkeypatch, tmp_path):
    class Mute(FakeLlama):
        def create_chat_completion(self, **kw):
            return iter([])

    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=Mute))
    g = LocalGenerator(LLMConfig(backend="local"), model_path=tmp_path / "m.gguf")
    with pytest.raises(GenerationError):
        list(g.stream("问题", hits_for(CHUNKS[:1]), []))


def test_weight_repacking_is_disabled_while_loading(monkeypatch, tmp_path):
    class Params:
        use_extra_bufts = True

    seen = []
    low = types.SimpleNamespace(llama_model_default_params=Params)

    class Recording(FakeLlama):
        def __init__(self, *a, **kw):
            seen.append(low.llama_model_default_params().use_extra_bufts)
            super().__init__(*a, **kw)

    fake = types.SimpleNamespace(Llama=Recording, llama=types.SimpleNamespace(llama_cpp=low))
    monkeypatch.setitem(sys.modules, "llama_cpp", fake)
    LocalGenerator(LLMConfig(backend="local"), model_path=tmp_path / "m.gguf")
    assert seen == [False]
    assert low.llama_model_default_params is Params and Params().use_extra_bufts is True
