"""Generic evaluation datasets: a corpus (report directory or JSONL documents) and a JSONL file of queries."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import InputFileError

MAX_JSONL_MB = 500


@dataclass(frozen=True)
class Query:
    id: str
    query: str
    answers: tuple[str, ...]  # verbatim strings; empty = the corpus holds no answer
    doc_ids: tuple[str, ...] = ()
    type: str = ""
    units: tuple[str, ...] = ()  # the units the question names (answers_holdout.jsonl), aligned with answers for lists

    @property
    def no_answer(self) -> bool:
        return not self.answers


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    text: str


def read_jsonl(path: str | Path) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line; any unreadable line is an InputFileError naming it."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"找不到文件: {p}")
    if p.stat().st_size > MAX_JSONL_MB * 1024 * 1024:
        raise InputFileError(f"文件过大（超过 {MAX_JSONL_MB} MB）: {p}")
    try:
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise InputFileError(f"文件不是 UTF-8 编码的 JSONL: {p}") from exc
    rows = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{p.name} 第 {no} 行不是合法 JSON: {exc.msg}") from exc
        if not isinstance(obj, dict):
            raise InputFileError(f"{p.name} 第 {no} 行应为 JSON 对象")
        rows.append((no, obj))
    if not rows:
        raise InputFileError(f"文件为空: {p}")
    return rows


def _str_list(value, where: str, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise InputFileError(f"{where} 的 {field} 必须是字符串列表")
    return tuple(str(v) for v in value)


def parse_queries(rows: list[tuple[int, dict]], name: str = "queries") -> list[Query]:
    """Validate query objects {"id","query","answers",["doc_ids"],["type"]}; ids must be unique."""
    out, seen = [], set()
    for no, obj in rows:
        where = f"{name} 第 {no} 行"
        qid, text = obj.get("id"), obj.get("query")
        if not isinstance(qid, (str, int)) or str(qid) == "":
            raise InputFileError(f"{where} 缺少 id")
        if not isinstance(text, str) or not text.strip():
            raise InputFileError(f"{where} 缺少 query 或为空")
        if "answers" not in obj:
            raise InputFileError(f"{where} 缺少 answers（无答案问题请写 []）")
        answers = tuple(a for a in _str_list(obj["answers"], where, "answers") if a.strip())
        qtype = obj.get("type") or ""
        if not isinstance(qtype, str):
            raise InputFileError(f"{where} 的 type 必须是字符串")
        if str(qid) in seen:
            raise InputFileError(f"{where} 的 id 重复: {qid}")
        seen.add(str(qid))
        out.append(Query(str(qid), text.strip(), answers, _str_list(obj.get("doc_ids"), where, "doc_ids"), qtype,
                         _str_list(obj.get("units"), where, "units")))
    return out


def load_queries(path: str | Path) -> list[Query]:
    return parse_queries(read_jsonl(path), Path(path).name)


def parse_docs(rows: list[tuple[int, dict]], name: str = "corpus") -> list[Doc]:
    """Validate corpus objects {"id","title","text"}; a missing title becomes the first line of the text."""
    out, seen = [], set()
    for no, obj in rows:
        where = f"{name} 第 {no} 行"
        did, text, title = obj.get("id"), obj.get("text"), obj.get("title")
        if not isinstance(did, (str, int)) or str(did) == "":
            raise InputFileError(f"{where} 缺少 id")
        if not isinstance(text, str) or not text.strip():
            raise InputFileError(f"{where} 缺少 text 或为空")
        if str(did) in seen:
            raise InputFileError(f"{where} 的 id 重复: {did}")
        seen.add(str(did))
        out.append(Doc(str(did), title if isinstance(title, str) and title.strip() else default_title(text), text))
    return out


def default_title(text: str, limit: int = 40) -> str:
    """The first non-blank line, cut to `limit` characters."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line[:limit]


def load_docs(path: str | Path) -> list[Doc]:
    return parse_docs(read_jsonl(path), Path(path).name)


def docs_to_reports(docs: list[Doc], parse_cfg) -> tuple[list, list[tuple[str, str]]]:
    """Parse JSONL documents into Reports as the indexer parses a file (source_file = doc id); bad ones skipped."""
    from indexer.errors import CorpusError
    from indexer.parse import parse_text

    reports, skipped = [], []
    for d in docs:
        try:
            reports += parse_text(d.text, source_file=d.id, parse_cfg=parse_cfg, title=d.title)
        except InputFileError as exc:
            skipped.append((d.id, str(exc)))
    if not reports:
        raise CorpusError("语料中没有一篇文档能解析出正文")
    return reports, skipped


def corpus_kind(path: str | Path) -> str:
    """'dir' for a directory of report files, 'jsonl' for a JSONL document file."""
    p = Path(path)
    if p.is_dir():
        return "dir"
    if p.is_file() and p.suffix.lower() in (".jsonl", ".json"):
        return "jsonl"
    raise InputFileError(f"语料应为报告目录或 JSONL 文件: {p}")


def hit_doc_ids(source_file: str, also_in=()) -> set[str]:
    """Ids a retrieved passage answers to: its source file (path and bare name) and files holding the same report."""
    ids = set()
    for f in (source_file, *also_in):
        if f:
            ids.add(f)
            ids.add(Path(f).name)
    return ids
