"""Ablation on one question set: chunking, retrieval mode, masked-character mapping, e5 prefixes."""
from __future__ import annotations

from pathlib import Path

from indexer.config import Config, with_overrides
from indexer.models import Chunk, Report

from .datasets import load_queries
from .report import bar_chart, fmt_ci, table, write_outputs
from .retrieval import MODES, evaluate_retrieval

BASELINE_CHARS = 500
VARIANTS = ("default", "baseline_chunker", "no_mask", "no_prefix")
DESCRIPTIONS = {
    "default": "按章节分块 + 标题路径，遮蔽字映射，e5 前缀",
    "baseline_chunker": f"RecursiveCharacterTextSplitter {BASELINE_CHARS} 字，无标题",
    "no_mask": "不做遮蔽字映射（D员 保持原样）",
    "no_prefix": "e5 的 query:/passage: 前缀关闭",
}


def char_spans(text: str, pieces: list[str], overlap: int) -> list[tuple[int, int]]:
    """Where each splitter piece sits in text; a piece starts at most `overlap` before the previous one ended."""
    spans, cursor = [], 0
    for piece in pieces:
        at = text.find(piece, max(0, cursor - overlap))
        if at < 0:
            at = text.find(piece)
        if at < 0:
            raise ValueError("splitter returned text that is not in its input")
        spans.append((at, at + len(piece)))
        cursor = at + len(piece)
    return spans


def baseline_chunks(reports: list[Report], mask_map, size: int = BASELINE_CHARS, overlap: int = 80) -> list[Chunk]:
    """The naive baseline: fixed-size recursive character splitting of the whole text, no section or title."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from indexer.parse import searchable

    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap)
    chunks = []
    for r in reports:
        pieces = [p for p in splitter.split_text(r.text) if p.strip()]
        for i, (start, end) in enumerate(char_spans(r.text, pieces, overlap)):
            cs, ce = r.source_span(start, end)
            chunks.append(Chunk(
                chunk_id=f"{r.report_id}-b{i:04d}", report_id=r.report_id, report_title=r.title, heading_path=(),
                section_role="其他", text=r.text[start:end], search_text=searchable(r.text[start:end], mask_map),
                start=start, end=end, char_start=cs, char_end=ce, source_file=r.source_file, unit=r.unit,
                level=r.level, year=r.year, topic=r.topic))
    return chunks


def without_prefixes(embedder):
    """A copy of the embedder that sends texts without the e5 "query: "/"passage: " prefixes (same model)."""
    import copy

    e = copy.copy(embedder)
    for attr in ("query_prefix", "passage_prefix"):
        if hasattr(e, attr):
            setattr(e, attr, "")
    return e


def variant_setup(cfg: Config, name: str):
    """(config, chunker or None) of one ablation variant."""
    if name == "default":
        return cfg, None
    if name == "baseline_chunker":
        return cfg, lambda reports: baseline_chunks(reports, cfg.parse.mask_map, overlap=cfg.chunk.overlap_chars)
    if name == "no_mask":
        return with_overrides(cfg, parse={"mask_map": ()}), None
    if name == "no_prefix":
        return with_overrides(cfg, embedding={"query_prefix": "", "passage_prefix": ""}), None
    from indexer.errors import ConfigError

    raise ConfigError(f"未知的消融变体: {name}（可选 {', '.join(VARIANTS)}）")


def run_ablation(cfg: Config, corpus, queries, out_dir: Path, k: int = 10, embedder=None, only=None):
    """Every variant × every mode on the same questions; writes ablation.md/json/png and returns (figures, md)."""
    qs = load_queries(queries)
    if embedder is None:
        from indexer.embed import load_embedder

        embedder = load_embedder(cfg.embedding)
    names = list(only) if only else list(VARIANTS)
    figures = {}
    for name in names:
        vcfg, chunker = variant_setup(cfg, name)
        # no_prefix changes nothing for BM25, so its bm25 row would only repeat the default one
        modes = tuple(m for m in MODES if not (name == "no_prefix" and m == "bm25"))
        emb = without_prefixes(embedder) if name == "no_prefix" else embedder
        res = evaluate_retrieval(vcfg, corpus, qs, k=k, modes=modes, embedder=emb, chunker=chunker,
                                 variant=name if chunker else "", mask_map=cfg.parse.mask_map)
        for mode, block in res["modes"].items():
            figures[f"{name}/{mode}"] = {"variant": name, "mode": mode, "chunks": res["index"]["chunks"],
                                         **block["overall"]}
        figures.setdefault("_meta", {"n_answerable": res["n_answerable"], "n_no_answer": res["n_no_answer"],
                                     "k": k, "corpus": str(corpus), "queries": str(queries)})
    meta = figures.pop("_meta")
    keys = [f"recall@1", f"recall@{min(5, k)}", f"recall@{k}", f"mrr@{k}", f"ndcg@{k}"]
    keys = list(dict.fromkeys(keys))
    rows = [[label, f["chunks"], *[fmt_ci(f.get(c)) for c in keys]] for label, f in figures.items()]
    chart = bar_chart(out_dir / "ablation.png", figures, keys, f"ablation (n={meta['n_answerable']}, 95% CI)")
    md = [f"# 消融实验\n", f"- 语料 `{meta['corpus']}`，问题 `{meta['queries']}`：可回答 {meta['n_answerable']} 个"
          f"（无答案 {meta['n_no_answer']} 个不计），所有变体同一组问题、同一相关性判定（含遮蔽字映射后的文本）"]
    md += [f"- `{n}`: {DESCRIPTIONS[n]}" for n in names]
    md += ["", table(["变体/模式", "文本块", *keys], rows), "", f"![ablation]({chart.name})", ""]
    markdown = "\n".join(md)
    write_outputs(out_dir, "ablation", markdown, {"meta": meta, "rows": figures})
    return {"meta": meta, "rows": figures}, markdown
