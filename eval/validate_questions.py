"""Check a question set (eval/data/questions.jsonl, answers_holdout.jsonl) against the sample corpus: fields, types, answers."""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from indexer.errors import CorpusError, InputFileError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = REPO_ROOT / "eval" / "data" / "questions.jsonl"
DEFAULT_CORPUS = REPO_ROOT / "data" / "reports"

TYPES = ("fact", "paraphrase", "multi", "masked", "draft", "no_answer")
# The answer-evaluation kinds of eval/data/answers_holdout.jsonl; each question also names its `units`.
UNIT_TYPES = ("unit_fact", "respectively", "list", "yesno", "unit_negative", "paraphrase_plus")
# The 存在问题 / 下一步 kinds of eval/data/answers_roles.jsonl; they name their `units` too, but are kept out of
# UNIT_TYPES so the per-type minimums of the holdout sets do not require them.
ROLE_TYPES = ("problem", "plan", "role_negative")
ALL_TYPES = TYPES + UNIT_TYPES + ROLE_TYPES
# Types whose answers must be [] (yesno with expect "no" too); their report_title may be empty.
NEGATIVE_TYPES = ("no_answer", "unit_negative", "role_negative")
# One answer string per unit, in the order of `units`.
ALIGNED_TYPES = ("respectively", "list")
FIELDS = {"id": str, "query": str, "answers": list, "type": str, "report_title": str, "note": str}
MIN_ANSWER, MAX_ANSWER = 6, 40
MAX_OCCURRENCES = 3
# Noise that a chunk boundary or the parser may drop, so an answer containing it could never be matched reliably.
FORBIDDEN_IN_ANSWER = ("\n", "\r", "##paid", "\\_", "哒哒")
# The masked forms the corpus uses for 党 and 宣.
MASK_MARKERS = ("D", "XX")
UNMASKED_CHARS = ("党", "宣")
PARAPHRASE_OVERLAP_WARN = 0.5
CORPUS_SUFFIXES = (".txt", ".md")
MAX_CORPUS_FILE_BYTES = 50 * 1024 * 1024


def decode_bytes(data: bytes, name: str = "<bytes>") -> str:
    """Decode one corpus file: UTF-8 (with or without BOM) first, else the best charset_normalizer guess."""
    if not data:
        raise InputFileError(f"文件为空：{name}")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(f"文件看起来是二进制文件：{name}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise InputFileError(f"无法识别文件编码：{name}") from None
        text = str(best)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_corpus(corpus_dir: Path) -> dict[str, str]:
    """Read every .txt/.md file of a corpus directory into {file name: decoded text}."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"语料目录不存在：{corpus_dir}")
    texts = {}
    for path in sorted(corpus_dir.iterdir()):
        if path.suffix.lower() not in CORPUS_SUFFIXES or not path.is_file():
            continue
        if path.stat().st_size > MAX_CORPUS_FILE_BYTES:
            raise InputFileError(f"文件过大：{path.name}")
        texts[path.name] = decode_bytes(path.read_bytes(), path.name)
    if not texts:
        raise CorpusError(f"语料目录中没有可读的 .txt/.md 文件：{corpus_dir}")
    return texts


def parse_lines(lines: Iterable[str]) -> tuple[list[dict], list[str]]:
    """Parse JSONL lines into question dicts; blank lines are skipped, bad lines become errors."""
    questions, errors = [], []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"第{lineno}行：不是合法的 JSON（{exc.msg}）")
            continue
        if not isinstance(obj, dict):
            errors.append(f"第{lineno}行：应为 JSON 对象")
            continue
        questions.append(obj)
    return questions, errors


def count_occurrences(answers: Iterable[str], corpus_texts: Mapping[str, str]) -> dict[str, int]:
    """How many times each answer string occurs over all corpus texts (overlapping matches counted)."""
    counts = {}
    for ans in answers:
        if ans in counts:
            continue
        total = 0
        for text in corpus_texts.values():
            start = text.find(ans)
            while start != -1:
                total += 1
                start = text.find(ans, start + 1)
        counts[ans] = total
    return counts


def bigram_overlap(query: str, answer: str) -> float:
    """Share of the answer's character bigrams that also occur in the query (0 = no shared wording)."""
    grams = {answer[i:i + 2] for i in range(len(answer) - 1)}
    if not grams:
        return 0.0
    return sum(1 for g in grams if g in query) / len(grams)


def _field_errors(q: Mapping, label: str) -> list[str]:
    errors = []
    for name, kind in FIELDS.items():
        if name not in q:
            errors.append(f"{label}：缺少字段 {name}")
        elif not isinstance(q[name], kind):
            errors.append(f"{label}：字段 {name} 类型应为 {kind.__name__}")
    return errors


def _unit_errors(q: Mapping, label: str) -> list[str]:
    qtype, units, answers = q["type"], q.get("units"), q["answers"]
    if qtype not in UNIT_TYPES + ROLE_TYPES:
        return []
    if not isinstance(units, list) or not units or not all(isinstance(u, str) and u.strip() for u in units):
        return [f"{label}：{qtype} 题需要非空的 units 列表（单位名字符串）"]
    errors = []
    if qtype in ALIGNED_TYPES:
        if len(units) != len(answers):
            errors.append(f"{label}：{qtype} 题的 units 与 answers 须一一对应（{len(units)} ≠ {len(answers)}）")
        if len(answers) < 2:
            errors.append(f"{label}：{qtype} 题至少需要两个答案")
    if qtype == "yesno":
        expect = q.get("expect")
        if expect not in ("yes", "no"):
            errors.append(f"{label}：yesno 题的 expect 须为 \"yes\" 或 \"no\"")
        elif expect == "no" and answers:
            errors.append(f"{label}：expect 为 no 的 yesno 题 answers 必须为 []")
    return errors


def _answer_errors(q: Mapping, label: str, corpus_texts: Mapping[str, str]) -> list[str]:
    errors = []
    qtype, answers = q["type"], q["answers"]
    if qtype in NEGATIVE_TYPES or (qtype == "yesno" and q.get("expect") == "no"):
        if answers:
            errors.append(f"{label}：{qtype} 题的 answers 必须为 []")
        return errors
    if not answers:
        errors.append(f"{label}：{qtype} 题至少需要一个答案")
    if qtype == "multi" and len(answers) < 2:
        errors.append(f"{label}：multi 题至少需要两个答案")
    if not q["report_title"].strip():
        errors.append(f"{label}：report_title 不能为空")
    if len(set(answers)) != len(answers):
        errors.append(f"{label}：answers 中有重复项")
    for ans in answers:
        if not isinstance(ans, str):
            errors.append(f"{label}：答案必须是字符串：{ans!r}")
            continue
        if not MIN_ANSWER <= len(ans) <= MAX_ANSWER:
            errors.append(f"{label}：答案长度 {len(ans)} 不在 {MIN_ANSWER}–{MAX_ANSWER} 之间：{ans}")
        bad = [m for m in FORBIDDEN_IN_ANSWER if m in ans]
        if bad:
            errors.append(f"{label}：答案含有噪声或换行 {bad!r}：{ans}")
        if not any(ans in text for text in corpus_texts.values()):
            errors.append(f"{label}：答案在语料中找不到：{ans}")
    if qtype == "masked":
        if not any(c in q["query"] for c in UNMASKED_CHARS):
            errors.append(f"{label}：masked 题的问题应使用“党/宣”原字")
        if not all(isinstance(a, str) and any(m in a for m in MASK_MARKERS) for a in answers):
            errors.append(f"{label}：masked 题的每个答案都应含遮蔽形式（D 或 XX）")
    return errors


def validate(questions: list[Mapping], corpus_texts: Mapping[str, str]) -> list[str]:
    """Return every error of a question set against the corpus texts ({name: text}); [] means valid."""
    if not corpus_texts:
        return ["语料为空，无法核对答案"]
    errors, seen = [], set()
    for i, q in enumerate(questions, 1):
        label = f"第{i}题({q.get('id', '?')})" if isinstance(q, Mapping) else f"第{i}题"
        if not isinstance(q, Mapping):
            errors.append(f"{label}：应为 JSON 对象")
            continue
        field_errors = _field_errors(q, label)
        errors.extend(field_errors)
        if isinstance(q.get("id"), str):
            if q["id"] in seen:
                errors.append(f"{label}：id 重复：{q['id']}")
            seen.add(q["id"])
        if field_errors:
            continue
        if not q["query"].strip():
            errors.append(f"{label}：query 不能为空")
        if q["type"] not in ALL_TYPES:
            errors.append(f"{label}：未知题型 {q['type']!r}（可选：{', '.join(ALL_TYPES)}）")
            continue
        errors.extend(_unit_errors(q, label))
        errors.extend(_answer_errors(q, label, corpus_texts))
    return errors


def warnings(questions: list[Mapping], corpus_texts: Mapping[str, str]) -> list[str]:
    """Non-fatal findings: answers occurring more than MAX_OCCURRENCES times, paraphrases that copy the passage."""
    found = []
    for q in questions:
        answers = [a for a in q.get("answers") or [] if isinstance(a, str)]
        for ans, n in count_occurrences(answers, corpus_texts).items():
            if n > MAX_OCCURRENCES:
                found.append(f"{q.get('id')}：答案出现 {n} 次，区分度低：{ans}")
        if q.get("type") in ("paraphrase", "paraphrase_plus"):
            for ans in answers:
                overlap = bigram_overlap(q.get("query", ""), ans)
                if overlap > PARAPHRASE_OVERLAP_WARN:
                    found.append(f"{q.get('id')}：改写题与原文用字重合 {overlap:.0%}：{ans}")
    return found


def summary(questions: list[Mapping], corpus_texts: Mapping[str, str]) -> dict:
    """Per-type counts and the occurrence histogram of answer strings, for the CLI report."""
    types = Counter(q.get("type") for q in questions if isinstance(q, Mapping))
    answers = [a for q in questions if isinstance(q, Mapping) for a in q.get("answers") or [] if isinstance(a, str)]
    occ = count_occurrences(answers, corpus_texts)
    return {"types": dict(types), "answers": len(answers), "occurrences": dict(Counter(occ.values()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.validate_questions", description="校验评测问题集")
    parser.add_argument("file", nargs="?", default=str(DEFAULT_QUESTIONS), help="问题集 JSONL 文件")
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="语料目录（.txt/.md）")
    args = parser.parse_args(argv)
    try:
        corpus = load_corpus(Path(args.corpus))
        raw = Path(args.file).read_bytes()
    except (CorpusError, InputFileError, OSError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    try:
        lines = raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        print(f"错误：问题集不是 UTF-8 编码：{args.file}", file=sys.stderr)
        return 2
    questions, errors = parse_lines(lines)
    errors += validate(questions, corpus)
    stats = summary(questions, corpus)
    print(f"问题数：{len(questions)}；答案串：{stats['answers']}")
    for qtype in ALL_TYPES:
        if qtype in TYPES or stats["types"].get(qtype):
            print(f"  {qtype:<{max(11, len(qtype) + 1)}}{stats['types'].get(qtype, 0)}")
    occ = ", ".join(f"出现{n}次: {c}" for n, c in sorted(stats["occurrences"].items()))
    print(f"答案在语料中的出现次数分布：{occ}")
    for w in warnings(questions, corpus):
        print(f"警告：{w}")
    sys.stdout.flush()
    for e in errors:
        print(f"错误：{e}", file=sys.stderr)
    if errors:
        print(f"校验失败：{len(errors)} 个错误", file=sys.stderr)
        return 1
    print("校验通过")
    return 0


if __name__ == "__main__":
    sys.exit(main())
