"""Answer evaluation: answer-string hits, citation precision, flagged numbers, refusals, over the app's answer()."""
from __future__ import annotations

import re
import time
from pathlib import Path

from indexer.config import Config, with_overrides
from indexer.models import UNKNOWN_UNIT

from . import metrics
from .datasets import Query, load_queries
from .report import fmt, fmt_ci, table

_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")


def unescape_markdown(text: str) -> str:
    import html

    return html.unescape(_MD_ESCAPE.sub(r"\1", text or ""))


def citation_checks(markdown: str, sources: list[dict]) -> list[bool]:
    """One flag per (sentence, citation) pair: does the cited passage support the sentence (app's support check)?"""
    from app.citations import MIN_SUPPORT, split_answer, support

    by_n = {int(s["n"]): s for s in sources if "n" in s}
    flags = []
    for sent in split_answer(unescape_markdown(markdown)):
        for n in sent.cites:
            src = by_n.get(n)
            if src is None:
                flags.append(False)  # a marker pointing at no shown source is an unsupported citation
                continue
            # the same context app/answer.py verifies against: title, unit, heading path
            context = " ".join([src.get("report_title") or "", src.get("unit") or "", *(src.get("heading_path") or [])])
            flags.append(support(sent.text, f"{context}\n{src.get('text', '')}") >= MIN_SUPPORT)
    return flags


def closest_lines(markdown: str) -> str:
    """The lines under a refusal's 「……意思最接近的句子」 heading (app.answer.CLOSEST), up to the next blank line."""
    from app.answer import CLOSEST

    blocks = markdown.split("\n\n")
    return "\n".join("\n".join(b.split("\n")[1:]) for b in blocks if CLOSEST in b.split("\n", 1)[0])


def score_answer(q: Query, state, mask_map=()) -> dict:
    """Per-question figures of one AnswerState; a not-found reply's list of related passages is not citing."""
    from app.citations import strip_markers

    plain = strip_markers(unescape_markdown(state.markdown))
    text = metrics.normalise(plain) + "\x00" + metrics.normalise(metrics.apply_map(plain, mask_map))
    answers = [metrics.normalise(a) for a in q.answers]
    checks = [] if state.not_found else citation_checks(state.markdown, list(state.sources))
    row = {"id": q.id, "type": q.type or "-", "no_answer": q.no_answer, "not_found": bool(state.not_found),
           "n_citations": len(checks), "supported_citations": sum(checks),
           "flagged_numbers": list(state.flagged_numbers), "answer": state.markdown[:500]}
    if not q.no_answer:
        row["contains_answer"] = 1.0 if any(a and a in text for a in answers) else 0.0
        row["contains_all"] = 1.0 if all(a in text for a in answers if a) else 0.0
        cited = [metrics.normalise(s.get("text", "")) for s in state.sources if s.get("cited")]
        # what a user can trust: the answer holds the string and a passage it cites holds it too
        row["answer_and_cited"] = 1.0 if any(a and a in text and any(a in c for c in cited) for a in answers) else 0.0
        row["share_of_answers"] = sum(a in text for a in answers if a) / max(1, len([a for a in answers if a]))
    if q.units and not state.not_found:
        # an answer quoting another unit than the one(s) asked: the worst error for these users
        cited_units = {s.get("unit") or UNKNOWN_UNIT for s in state.sources if s.get("cited")}
        row["wrong_unit"] = 1.0 if cited_units - set(q.units) else 0.0
        # …and how much of it: a list of 13 lines with 11 wrong ones is worse than one with a single stray line
        row["wrong_unit_share"] = len(cited_units - set(q.units)) / len(cited_units) if cited_units else 0.0
        # a list's completeness by unit: the answer string checks the line's wording, this whose line it is
        row["unit_share"] = len(cited_units & set(q.units)) / len(set(q.units))
    if not q.no_answer and state.not_found:
        # a refusal's closest sentence, shown unconfirmed: does it hold the answer the user then need not search for?
        near = metrics.normalise(closest_lines(strip_markers(unescape_markdown(state.markdown))))
        row["closest_hint"] = 1.0 if any(a and a in near for a in answers) else 0.0
    # what a user would copy and should not: a no-answer question answered, or an answer without the answer string
    row["answered_wrong"] = 0.0 if state.not_found else (1.0 if q.no_answer else 1.0 - row["contains_answer"])
    return row


def summarise_answers(rows: list[dict]) -> dict:
    """Rates over questions (with bootstrap CIs where the unit is a question)."""
    answerable = [r for r in rows if not r["no_answer"]]
    unanswerable = [r for r in rows if r["no_answer"]]
    cited = [r for r in rows if r["n_citations"]]
    out = {
        "n": len(rows), "n_answerable": len(answerable), "n_no_answer": len(unanswerable),
        "contains_answer": metrics.summarise([r["contains_answer"] for r in answerable]),
        "contains_all_answers": metrics.summarise([r["contains_all"] for r in answerable]),
        "wrong_refusal": metrics.summarise([float(r["not_found"]) for r in answerable]),
        "correct_refusal": metrics.summarise([float(r["not_found"]) for r in unanswerable]),
        "answers_with_flagged_numbers": metrics.summarise([float(bool(r["flagged_numbers"])) for r in rows]),
        # micro average: every citation counts once, whichever answer it is in
        "citation_precision": (sum(r["supported_citations"] for r in cited) / sum(r["n_citations"] for r in cited)
                               if cited else float("nan")),
        "citation_precision_per_answer": metrics.summarise(
            [r["supported_citations"] / r["n_citations"] for r in cited]),
        "citations": sum(r["n_citations"] for r in rows),
        "flagged_numbers": sum(len(r["flagged_numbers"]) for r in rows),
        "per_type": per_type(rows),
    }
    return out


def per_type(rows: list[dict]) -> dict:
    """Per question type: answer and a cited passage hold the string, share of list answers given, wrong-unit rate,
    refusals (right for no-answer types, wrong for the others)."""
    out = {}
    for t in sorted({r["type"] for r in rows}):
        rs = [r for r in rows if r["type"] == t]
        ans = [r for r in rs if not r["no_answer"]]
        wu = [r["wrong_unit"] for r in rs if "wrong_unit" in r]
        wus = [r["wrong_unit_share"] for r in rs if "wrong_unit_share" in r]
        us = [r["unit_share"] for r in ans if "unit_share" in r]
        out[t] = {
            "n": len(rs),
            "answer_and_cited": metrics.summarise([r["answer_and_cited"] for r in ans]) if ans else None,
            "share_of_answers": metrics.summarise([r["share_of_answers"] for r in ans]) if ans else None,
            "wrong_unit": metrics.summarise(wu) if wu else None,
            "wrong_unit_share": metrics.summarise(wus) if wus else None,
            "unit_share": metrics.summarise(us) if us else None,
            "answered_wrong": int(sum(r["answered_wrong"] for r in rs)),
            "refused": sum(r["not_found"] for r in rs),
            "refused_answerable": sum(r["not_found"] for r in ans),
            "refused_hint": int(sum(r.get("closest_hint", 0.0) for r in ans)),
            "n_answerable": len(ans),
            "refused_no_answer": sum(r["not_found"] for r in rs if r["no_answer"]),
            "n_no_answer": len(rs) - len(ans),
        }
    return out


def evaluate_answers(cfg: Config, corpus, queries, backend: str = "extractive", limit: int | None = None,
                     embedder=None, generator=None) -> dict:
    """Run the app's answer() on each question (first `limit`) against a cached index of the corpus."""
    from app.answer import answer
    from indexer.reader import Searcher

    from .retrieval import ensure_index

    qs: list[Query] = queries if isinstance(queries, list) else load_queries(queries)
    if limit:
        qs = qs[:limit]
    cfg = with_overrides(cfg, llm={"backend": backend})
    if generator is None:
        from app.backends import make_generator

        generator = make_generator(cfg.llm)
    if embedder is None:
        from indexer.embed import load_embedder

        embedder = load_embedder(cfg.embedding)
    icfg, index_dir, info = ensure_index(cfg, corpus, embedder)
    searcher = Searcher.open(icfg, index_dir=index_dir, embedder=embedder)
    rows, t0 = [], time.perf_counter()
    for q in qs:
        rows.append(score_answer(q, answer(q.query, searcher, generator, icfg), cfg.parse.mask_map))
    seconds = time.perf_counter() - t0
    return {"summary": summarise_answers(rows), "backend": getattr(generator, "name", backend),
            "seconds": round(seconds, 2), "index": {**info, "dir": str(index_dir)},
            "queries": str(queries) if not isinstance(queries, list) else "(in memory)", "per_query": rows}


def answers_markdown(result: dict) -> str:
    s = result["summary"]
    rows = [
        ["回答包含答案字符串（可回答问题）", fmt_ci(s["contains_answer"])],
        ["回答包含全部答案字符串", fmt_ci(s["contains_all_answers"])],
        ["引用准确率（被引资料支持该句，按引用计）", fmt(s["citation_precision"])],
        ["引用准确率（按回答平均）", fmt_ci(s["citation_precision_per_answer"])],
        ["含被标记数字的回答占比", fmt_ci(s["answers_with_flagged_numbers"])],
        ["无答案问题：正确回答“未找到”", fmt_ci(s["correct_refusal"])],
        ["可回答问题：错误回答“未找到”", fmt_ci(s["wrong_refusal"])],
    ]
    types = []
    for t, m in (s.get("per_type") or {}).items():
        types.append([t, m["n"], fmt(m["answer_and_cited"]["mean"]) if m["answer_and_cited"] else "–",
                      fmt(m["share_of_answers"]["mean"]) if m["share_of_answers"] else "–",
                      fmt(m["wrong_unit"]["mean"]) if m["wrong_unit"] else "–",
                      fmt(m["wrong_unit_share"]["mean"]) if m.get("wrong_unit_share") else "–",
                      fmt(m["unit_share"]["mean"]) if m.get("unit_share") else "–", m.get("answered_wrong", "–"),
                      f"{m['refused_answerable']}/{m['n_answerable']}" if m["n_answerable"] else "–",
                      f"{m.get('refused_hint', 0)}/{m['refused_answerable']}" if m["refused_answerable"] else "–",
                      f"{m['refused_no_answer']}/{m['n_no_answer']}" if m["n_no_answer"] else "–"])
    by_type = ("\n## 按题型\n\n" + table(["题型", "题数", "回答与所引资料均含答案", "答案字符串覆盖率", "错单位率", "错单位占所引单位",
                                            "所问单位覆盖率", "答错（给出但不含答案）", "可答题被拒",
                                            "被拒时所示最接近句子含答案", "无答案题被拒"], types) + "\n") if types else ""
    head = (f"# 回答评测\n\n- 后端: {result['backend']}；问题 {s['n']} 个（可回答 {s['n_answerable']}，无答案 "
            f"{s['n_no_answer']}）；引用 {s['citations']} 处；被标记数字 {s['flagged_numbers']} 个；"
            f"用时 {result['seconds']} 秒\n- 语料: `{result['index'].get('corpus', '')}`\n\n")
    return head + table(["指标", "值 [95% CI]"], rows) + "\n" + by_type


def write_answers_report(result: dict, out_dir: Path) -> str:
    from .report import bar_chart, write_outputs

    s = result["summary"]
    keys = {"contains_answer": "contains_answer", "wrong_refusal": "wrong_refusal",
            "correct_refusal": "correct_refusal", "flagged": "answers_with_flagged_numbers",
            "cite_prec": "citation_precision_per_answer"}
    chart = bar_chart(out_dir / "answers.png", {result["backend"]: {k: s[v] for k, v in keys.items()}}, list(keys),
                      f"answers ({result['backend']}, n={s['n']}, 95% CI)")
    markdown = answers_markdown(result) + f"\n![answers]({chart.name})\n"
    write_outputs(out_dir, "answers", markdown, {k: v for k, v in result.items() if k != "per_query"},
                  result["per_query"])
    return markdown
