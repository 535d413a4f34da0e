"""What an index records about how it was built (format, model, chunking, tokenizer): written by builds, checked on open."""
from __future__ import annotations

import hashlib
import json

from .config import Config

FORMAT_VERSION = 1


def settings_fingerprint(cfg: Config, embedder_name: str, chunker: str) -> dict:
    """Everything that changes the stored chunks or vectors; the reader refuses an index whose copy differs."""
    return {
        "format_version": FORMAT_VERSION,
        "model": embedder_name,
        "embedding": _model_identity(cfg, embedder_name),
        "query_prefix": cfg.embedding.query_prefix,
        "passage_prefix": cfg.embedding.passage_prefix,
        "chunk": {"max_chars": cfg.chunk.max_chars, "overlap_chars": cfg.chunk.overlap_chars,
                  "min_chars": cfg.chunk.min_chars, "chunker": chunker},
        "mask_map": hashlib.sha1(json.dumps(cfg.parse.mask_map, ensure_ascii=False).encode()).hexdigest()[:12],
        "tokenizer": _tokenizer_name(),
    }


def _model_identity(cfg: Config, embedder_name: str) -> dict | None:
    """Runtime, profile and weights sha256 of the configured model; None for an injected embedder of another name."""
    if embedder_name != cfg.embedding.model:
        return None
    from .embed import model_identity

    return model_identity(cfg.embedding)


def _tokenizer_name() -> str:
    from .tokenize import TOKENIZER_NAME

    return TOKENIZER_NAME
