"""Test doubles for the answer layer: a scripted Generator and a tiny in-memory Searcher over hand-made Hits."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import PurePath

from app.citations import bigrams
from indexer.config import Config, load_config
from indexer.errors import QueryError
from indexer.models import Chunk, Filters, Hit
from indexer.searchtext import searchable


class ScriptedLLM:
    """Yields a fixed answer in pieces, like a streaming model; records what it was asked."""

    name = "fake-llm"

    def __init__(self, text: str, pieces: int = 3, fail_with: Exception | None = None):
        self.text, self.pieces, self.fail_with = text, pieces, fail_with
        self.calls: list[tuple[str, list[Hit], list]] = []

    def stream(self, question: str, passages: list[Hit], history: Sequence[tuple[str, str]] = (),
               signals=None) -> Iterator[str]:
        self.calls.append((question, list(passages), list(history)))
        step = max(1, len(self.text) // self.pieces)
        for end in range(step, len(self.text) + step, step):
            yield self.text[: min(end, len(self.text))]
            if self.fail_with is not None:
                raise self.fail_with


def make_chunk(report_id: str, title: str, unit: str, heading: str, role: str, text: str, i: int = 0) -> Chunk:
    return Chunk(
        chunk_id=f"{report_id}-{i}", report_id=report_id, report_title=title, heading_path=(heading,),
        section_role=role, text=text, search_text=f"{title} {heading}\n{text}", start=0, end=len(text),
        char_start=0, char_end=len(text), source_file=f"{report_id}.txt", unit=unit, level=unit[:1], year=2023,
        topic="政务公开",
    )


STATS = ("r-stats", "市统计局2023年政务公开工作总结", "市统计局")
HOUSING = ("r-housing", "县住建局2023年度法治政府建设工作总结", "县住建局")
STREET = ("r-street", "XX街道2023年安全生产工作总结", "XX街道")

CHUNKS = [
    make_chunk(*STATS, "一、工作开展情况", "做法与成效",
               "（一）主动公开情况\n全年主动公开政府信息915条，其中统计数据发布126条。通过门户网站、政务新媒体等渠道及时发布统计信息。\n"
               "（二）依申请公开情况\n全年共受理政府信息公开申请12件，均在法定期限内办结，未发生行政复议和行政诉讼。", 0),
    make_chunk(*STATS, "二、存在问题", "存在问题",
               "一是公开内容不够全面，部分栏目更新不及时；二是政策解读形式较为单一。", 1),
    make_chunk(*STATS, "三、下一步工作计划", "下一步计划",
               "1.加强队伍建设，组织业务培训，提升工作人员能力。\n2.丰富解读形式，推动政策解读多样化。", 2),
    make_chunk(*HOUSING, "一、主要做法和成效", "做法与成效",
               "县住建局成立法治政府建设领导小组，局长任组长，全年召开专题会议6次。"
               "全年办理行政处罚案件43件，罚没款共计85万元，行政执法公示率达到100%。", 0),
    make_chunk(*HOUSING, "二、存在的不足", "存在问题", "执法人员专业能力有待提升，普法宣传覆盖面不够广。", 1),
    make_chunk(*STREET, "一、基本情况", "做法与成效", "街道共排查企业安全隐患217处，已整改210处，整改率96.8%。", 0),
    make_chunk(*STREET, "二、存在问题", "存在问题", "部分小微企业主体责任落实不到位，安全投入不足。", 1),
]


def hits_for(chunks: Sequence[Chunk]) -> list[Hit]:
    """Hits in the given order, with plausible scores."""
    return [Hit(rank=i, score=1.0 / (60 + i), chunk=c, dense_score=0.9 - 0.05 * i, bm25_score=10.0 - i)
            for i, c in enumerate(chunks, 1)]


class FakeSearcher:
    """Ranks CHUNKS by character-bigram overlap with the query; honours k and Filters like the real Searcher
    (indexer.protocols.SearcherProtocol; tests/test_protocols.py checks that it keeps to it)."""

    gen_dir = PurePath("fake-index")
    embedder = None  # no query model: similarity is bigram overlap

    def __init__(self, chunks: Sequence[Chunk] = CHUNKS, cfg: Config | None = None):
        self.chunks = list(chunks)
        self.cfg = cfg if cfg is not None else load_config()
        self.queries: list[str] = []
        files = sorted({c.source_file for c in self.chunks})
        self.manifest = {"settings": {"model": "fake"}, "dim": 0, "files": {f: "" for f in files},
                         "counts": {"reports": len({c.report_id for c in self.chunks}), "chunks": len(self.chunks)}}

    def embedded_text(self, text: str) -> str:
        """text with the config's masked forms mapped back, as the real Searcher gives it."""
        return searchable(text, self.cfg.parse.mask_map)

    def unknown_share(self, query: str) -> float:
        """Share of the query's words (two characters or more) found in no chunk's text."""
        from indexer.tokenize import tokenize

        words = [t for t in tokenize(query) if len(t) > 1]
        return sum(not any(w in c.search_text for c in self.chunks) for w in words) / len(words) if words else 0.0

    def report(self, report_id: str) -> dict:
        """The report's chunks joined by newlines; chunk spans point into that text."""
        mine = [c for c in self.chunks if c.report_id == report_id]
        if not mine:
            raise QueryError(f"未找到报告: {report_id}")
        spans, pos = [], 0
        for x in mine:
            spans.append({"chunk_id": x.chunk_id, "start": pos, "end": pos + len(x.text)})
            pos += len(x.text) + 1
        c = mine[0]
        return {"report_id": report_id, "title": c.report_title, "unit": c.unit, "level": c.level, "year": c.year,
                "topic": c.topic, "source_file": c.source_file, "text": "\n".join(x.text for x in mine),
                "sections": [], "also_in": [], "chunks": spans}

    def stats(self) -> dict:
        return {"reports": self.manifest["counts"]["reports"], "chunks": len(self.chunks), "model": "fake",
                "store": "fake", "index_dir": str(self.gen_dir), "skipped": []}

    def facets(self) -> dict:
        return {"unit": sorted({c.unit for c in self.chunks})}

    def reports(self, filters: Filters | None = None) -> list[dict]:
        out = {}
        for c in self.chunks:
            if filters is None or ((not filters.unit or c.unit in filters.unit)
                                   and (not filters.year or c.year in filters.year)):
                out[c.report_id] = {"report_id": c.report_id, "title": c.report_title, "unit": c.unit, "year": c.year}
        return sorted(out.values(), key=lambda r: r["title"])

    def search(self, query: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None):
        self.queries.append(query)
        qb = bigrams(query)
        scored = []
        for c in self.chunks:
            if filters is not None and not filters.accepts(c):
                continue
            overlap = len(qb & bigrams(c.search_text)) / max(1, len(qb))
            if overlap > 0:
                scored.append((overlap, c))
        scored.sort(key=lambda x: -x[0])
        return [Hit(rank=i, score=s, chunk=c, dense_score=s, bm25_score=10 * s)
                for i, (s, c) in enumerate(scored[: k or 5], 1)]

    def similarity(self, query: str, texts: list[str]) -> list[float]:
        """Share of the query's bigrams in each text: a stand-in for the embedding cosine."""
        qb = bigrams(query)
        return [len(qb & bigrams(t)) / max(1, len(qb)) for t in texts]

    def search_batch(self, queries: list[str], k: int | None = None, mode: str | None = None,
                     filters: Filters | None = None) -> list[list[Hit]]:
        return [self.search(q, k=k, mode=mode, filters=filters) for q in queries]
