"""Retrieval evaluation: build (or reuse) a cached index for a dataset, search every query, score per mode."""
from __future__ import annotations

import bisect
import hashlib
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable

from indexer.config import Config, with_overrides
from indexer.errors import CorpusError

from . import metrics
from .datasets import Query, corpus_kind, docs_to_reports, hit_doc_ids, load_docs, load_queries

MODES = ("dense", "bm25", "hybrid")
BUILT_MARKER = "eval-built.json"


def corpus_fingerprint(corpus: Path, extensions) -> str:
    """Hash of every file that the indexer would read (or of the JSONL file)."""
    h = hashlib.sha1()
    if corpus.is_dir():
        exts = {e.lower() for e in extensions}
        for p in sorted(corpus.rglob("*")):
            if p.is_file() and p.suffix.lower() in exts and not p.name.startswith("."):
                h.update(str(p.relative_to(corpus)).encode("utf-8") + b"\0" + p.read_bytes() + b"\0")
    else:
        h.update(corpus.read_bytes())
    return h.hexdigest()


# Read-path modules: editing them cannot change what a build writes, so they do not cost a re-embed.
READ_PATH_MODULES = frozenset({"__main__.py", "errors.py", "fusion.py", "protocols.py", "reader.py"})


def _indexer_code_hash() -> str:
    """Chunking or parsing code changes invalidate cached evaluation indexes too."""
    import indexer

    h = hashlib.sha1()
    for p in sorted(Path(indexer.__file__).parent.glob("*.py")):
        if p.name not in READ_PATH_MODULES:
            h.update(p.read_bytes())
    return h.hexdigest()


def index_key(cfg: Config, corpus: Path, embedder_name: str, variant: str = "") -> str:
    relevant = {
        "corpus": corpus_fingerprint(corpus, cfg.corpus.extensions),
        "parse": [list(cfg.parse.mask_map), cfg.parse.near_duplicate_threshold],
        "chunk": [cfg.chunk.max_chars, cfg.chunk.overlap_chars, cfg.chunk.min_chars],
        "embedding": [embedder_name, cfg.embedding.query_prefix, cfg.embedding.passage_prefix,
                      cfg.embedding.runtime, cfg.embedding.profile],
        "index": [cfg.index.faiss_type, cfg.index.hnsw_m, cfg.index.ivf_nlist],
        "variant": variant,
        "code": _indexer_code_hash(),
    }
    return hashlib.sha1(json.dumps(relevant, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def ensure_index(cfg: Config, corpus: str | Path, embedder=None, chunker: Callable | None = None,
                 variant: str = "", progress=None) -> tuple[Config, Path, dict]:
    """Index of `corpus` in cfg.embedding.cache_path/eval-index/<hash>, built once; returns (cfg, dir, info)."""
    from indexer.pipeline import build_index

    corpus = Path(corpus).expanduser().resolve()
    kind = corpus_kind(corpus)
    name = embedder.name if embedder is not None else cfg.embedding.model
    index_dir = cfg.embedding.cache_path / "eval-index" / index_key(cfg, corpus, name, variant)
    icfg = with_overrides(cfg, index={"dir": str(index_dir)},
                          **({"corpus": {"dir": str(corpus)}} if kind == "dir" else {}))
    marker = index_dir / BUILT_MARKER
    if marker.is_file():
        info = json.loads(marker.read_text(encoding="utf-8"))
        return icfg, index_dir, {**info, "reused": True}
    t0 = time.perf_counter()
    extra = {"chunker": chunker, "chunker_name": variant or "baseline"} if chunker else {}
    doc_skipped = []
    if kind == "dir":
        summary = build_index(icfg, corpus_dir=corpus, index_dir=index_dir, embedder=embedder, progress=progress,
                              **extra)
    else:
        reports, doc_skipped = docs_to_reports(load_docs(corpus), icfg.parse)
        summary = build_index(icfg, index_dir=index_dir, embedder=embedder, reports=reports, progress=progress, **extra)
    if not summary.chunks:
        raise CorpusError(f"语料中没有可检索的文本块: {corpus}")
    info = {"corpus": str(corpus), "reports": summary.reports, "chunks": summary.chunks,
            "build_seconds": round(time.perf_counter() - t0, 2),
            "skipped": [list(s) for s in (*doc_skipped, *summary.skipped)],
            "duplicates": [list(d) for d in summary.duplicates]}
    marker.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    return icfg, index_dir, {**info, "reused": False}


class ChunkTexts:
    """All chunks' normalised texts in one string, so 'which chunks contain this answer' is a few str.find calls."""

    SEP = "\x00"

    def __init__(self, texts_per_chunk: list[tuple[str, ...]]):
        parts, self.starts, pos = [], [], 0
        for i, texts in enumerate(texts_per_chunk):
            for t in texts:
                self.starts.append((pos, i))
                parts.append(t)
                pos += len(t) + 1
        self.blob = self.SEP.join(parts)
        self._pos = [s for s, _ in self.starts]

    def containing(self, norm_answers: list[str]) -> set[int]:
        """Indexes of chunks whose (display or searchable) normalised text holds any of the answers."""
        found = set()
        for a in norm_answers:
            if not a:
                continue
            at = self.blob.find(a)
            while at >= 0:
                found.add(self.starts[bisect.bisect_right(self._pos, at) - 1][1])
                at = self.blob.find(a, at + 1)
        return found


def relevance_texts(chunk, mask_map=()) -> tuple[str, ...]:
    """Normalised forms an answer may match: display text, searchable text, display text with masks mapped."""
    texts = (metrics.normalise(chunk.text), metrics.normalise(chunk.search_text))
    return texts + (metrics.normalise(metrics.apply_map(chunk.text, mask_map)),) if mask_map else texts


def score_query(q: Query, hits, n_relevant: int, k: int, doc_ids_of: Callable, mask_map=()) -> dict:
    """Per-question figures for one ranked list of Hits."""
    answers = [metrics.normalise(a) for a in q.answers]
    flags = [metrics.is_relevant(relevance_texts(h.chunk, mask_map), answers) for h in hits[:k]]
    row = {"id": q.id, "type": q.type or "-", "first_rank": metrics.first_rank(flags), "n_relevant": n_relevant}
    for c in cutoffs(k):
        row[f"recall@{c}"] = metrics.recall_at(flags, c)
    row[f"mrr@{k}"] = metrics.mrr_at(flags, k)
    row[f"ndcg@{k}"] = metrics.ndcg_at(flags, k, n_relevant)
    if q.doc_ids:
        docs = [doc_ids_of(h.chunk) for h in hits[:k]]
        gold = set(q.doc_ids)
        for c in cutoffs(k):
            row[f"doc_recall@{c}"] = metrics.doc_recall_at(docs, gold, c)
    row["top"] = [h.chunk.chunk_id for h in hits[:3]]
    return row


def cutoffs(k: int) -> list[int]:
    return sorted({c for c in (1, 5, 10) if c <= k} | {k})


def aggregate(rows: list[dict], keys: list[str]) -> dict:
    """Mean and bootstrap CI of each metric over the rows that have it, overall and per question type."""
    def block(rs):
        out = {"n": len(rs)}
        for key in keys:
            vals = [r[key] for r in rs if key in r]
            if vals:
                out[key] = metrics.summarise(vals)
        return out

    by_type = defaultdict(list)
    for r in rows:
        by_type[r["type"]].append(r)
    return {"overall": block(rows), "by_type": {t: block(rs) for t, rs in sorted(by_type.items())}}


def metric_keys(k: int) -> list[str]:
    return ([f"recall@{c}" for c in cutoffs(k)] + [f"mrr@{k}", f"ndcg@{k}"]
            + [f"doc_recall@{c}" for c in cutoffs(k)])


def _doc_ids_resolver(searcher):
    """chunk → ids of the documents it stands for (a deduplicated report stands for every file holding it)."""
    cache: dict[str, set[str]] = {}

    def resolve(chunk):
        if chunk.report_id not in cache:
            also = ()
            try:
                also = tuple(searcher.report(chunk.report_id).get("also_in") or ())
            except Exception:  # the reader may not expose also_in; the source file alone still identifies the doc
                pass
            cache[chunk.report_id] = hit_doc_ids(chunk.source_file, also)
        return cache[chunk.report_id] | hit_doc_ids(chunk.source_file)

    return resolve


def evaluate_searcher(searcher, queries: list[Query], k: int = 10, modes=MODES, mask_map=()) -> dict:
    """Search every answerable query once per mode (one batch each) and score the results.

    mask_map: also match answers against the display text with masks mapped, so an index built without the
    mapping (ablation) is judged by the same relevance as one built with it.
    """
    answerable = [q for q in queries if not q.no_answer]
    chunk_index = ChunkTexts([relevance_texts(c, mask_map) for c in searcher.chunks])
    n_rel = [len(chunk_index.containing([metrics.normalise(a) for a in q.answers])) for q in answerable]
    resolve = _doc_ids_resolver(searcher)
    keys = metric_keys(k)
    result = {"k": k, "n_queries": len(queries), "n_no_answer": len(queries) - len(answerable),
              "n_answerable": len(answerable), "n_answer_in_no_chunk": sum(1 for n in n_rel if n == 0),
              "n_with_doc_ids": sum(1 for q in answerable if q.doc_ids), "modes": {}, "per_query": {}}
    for mode in modes:
        t0 = time.perf_counter()
        ranked = searcher.search_batch([q.query for q in answerable], k=k, mode=mode) if answerable else []
        seconds = time.perf_counter() - t0
        rows = [score_query(q, hits, n, k, resolve, mask_map) for q, hits, n in zip(answerable, ranked, n_rel)]
        result["modes"][mode] = {**aggregate(rows, keys), "search_seconds": round(seconds, 3)}
        result["per_query"][mode] = rows
    return result


def evaluate_retrieval(cfg: Config, corpus: str | Path, queries: str | Path | list[Query], k: int = 10,
                       modes=MODES, embedder=None, chunker: Callable | None = None, variant: str = "",
                       progress=None, mask_map=None) -> dict:
    """The `python -m eval retrieval` library entry: dataset in, figures out (embedder injectable for tests)."""
    from indexer.reader import Searcher

    qs = queries if isinstance(queries, list) else load_queries(queries)
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        from indexer.errors import QueryError

        raise QueryError(f"未知的检索模式: {', '.join(unknown)}（可选 {', '.join(MODES)}）")
    if embedder is None and any(m != "bm25" for m in modes):
        from indexer.embed import load_embedder

        embedder = load_embedder(cfg.embedding)  # one load shared by the build and every search
    icfg, index_dir, info = ensure_index(cfg, corpus, embedder, chunker, variant, progress)
    searcher = Searcher.open(icfg, index_dir=index_dir, embedder=embedder)
    result = evaluate_searcher(searcher, qs, k, modes, cfg.parse.mask_map if mask_map is None else mask_map)
    result["index"] = {**info, "dir": str(index_dir), "embedder": getattr(embedder, "name", cfg.embedding.model)}
    result["queries"] = str(queries) if not isinstance(queries, list) else "(in memory)"
    return result
