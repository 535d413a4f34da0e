"""Benchmark converters to the generic format (corpus.jsonl + queries.jsonl), written outside the repo."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from indexer.errors import InputFileError

from .datasets import default_title, read_jsonl


def answer_type(answer: str) -> str:
    """Length bucket of an answer: long answers are the ones a chunk boundary can cut."""
    n = len(answer)
    return "short" if n <= 20 else "medium" if n <= 80 else "long"


def ncp_records(corpus_rows: list[dict], query_rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """ncp_policies → generic docs and queries; documents with identical text make each other's ids gold too."""
    by_text: dict[str, list[str]] = defaultdict(list)
    docs = []
    for r in corpus_rows:
        did, text = str(r.get("docid", "")), r.get("text")
        if not did or not isinstance(text, str) or not text.strip():
            raise InputFileError(f"ncp 语料记录缺少 docid 或 text: {str(r)[:80]}")
        by_text[text.strip()].append(did)
        docs.append({"id": did, "title": default_title(text), "text": text})
    twins = {did: ids for ids in by_text.values() for did in ids}
    queries = []
    for r in query_rows:
        qid, question, did, answer = (r.get(f) for f in ("qid", "question", "docid", "answer"))
        if not qid or not isinstance(question, str) or not isinstance(answer, str):
            raise InputFileError(f"ncp 问题记录缺少 qid/question/answer: {str(r)[:80]}")
        queries.append({"id": str(qid), "query": question, "answers": [answer] if answer.strip() else [],
                        "doc_ids": sorted(set(twins.get(str(did), [str(did)]))), "type": answer_type(answer)})
    return docs, queries


def cmrc_records(squad: dict) -> tuple[list[dict], list[dict]]:
    """SQuAD-format CMRC2018 → one document per context (title = article title) and its questions."""
    if not isinstance(squad, dict) or not isinstance(squad.get("data"), list):
        raise InputFileError("CMRC2018 文件不是 SQuAD 格式（缺少 data 列表）")
    docs, queries = [], []
    for article in squad["data"]:
        for para in article.get("paragraphs", []):
            pid = str(para["id"])
            docs.append({"id": pid, "title": article.get("title") or default_title(para["context"]),
                         "text": para["context"]})
            for qa in para.get("qas", []):
                answers = list(dict.fromkeys(a["text"] for a in qa.get("answers", []) if a.get("text", "").strip()))
                queries.append({"id": str(qa["id"]), "query": qa["question"], "answers": answers,
                                "doc_ids": [pid], "type": "cmrc2018"})
    return docs, queries


def distractor_docs(path: Path) -> list[dict]:
    """Documents to add as distractors: raw ncp {docid,text} rows or converted {id,title,text} rows."""
    docs = []
    for _, r in read_jsonl(path):
        did = str(r.get("id") or r.get("docid") or "")
        text = r.get("text")
        if not did or not isinstance(text, str) or not text.strip():
            continue
        docs.append({"id": did, "title": r.get("title") or default_title(text), "text": text})
    return docs


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def convert(name: str, src: Path, out: Path, distractors: Path | None = None) -> dict:
    """Write out/corpus.jsonl and out/queries.jsonl; returns counts. Refuses to write inside the repository."""
    from indexer.config import REPO_ROOT

    out = Path(out).expanduser().resolve()
    if out == REPO_ROOT or REPO_ROOT in out.parents:
        raise InputFileError(f"基准数据不得写入项目仓库，请把 --out 指向仓库之外: {out}")
    src = Path(src).expanduser()
    if name == "ncp":
        docs, queries = ncp_records([r for _, r in read_jsonl(src / "derived_corpus.jsonl")],
                                    [r for _, r in read_jsonl(src / "derived_queries.jsonl")])
    elif name == "cmrc2018":
        path = src if src.is_file() else src / "cmrc2018_dev_squad.json"
        if not path.is_file():
            raise InputFileError(f"找不到 CMRC2018 文件: {path}")
        try:
            squad = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputFileError(f"CMRC2018 文件无法读取: {exc}") from exc
        docs, queries = cmrc_records(squad)
    else:
        raise InputFileError(f"未知的基准: {name}（可选 ncp、cmrc2018）")
    n_distractors = 0
    if distractors:
        own = {d["id"] for d in docs}
        extra = [d for d in distractor_docs(Path(distractors)) if d["id"] not in own]
        docs += extra
        n_distractors = len(extra)
    write_jsonl(out / "corpus.jsonl", docs)
    write_jsonl(out / "queries.jsonl", queries)
    return {"docs": len(docs), "distractors": n_distractors, "queries": len(queries),
            "corpus": str(out / "corpus.jsonl"), "queries_file": str(out / "queries.jsonl")}
