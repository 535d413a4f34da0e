"""Lay out a checked answer for the reader: every statement under the unit and report it quotes, lists one line a unit."""
from __future__ import annotations

from collections.abc import Sequence

from indexer.models import Hit

from .citations import AnswerSentence, escape_markdown, join_sentences
from .units import unit_label


def label_of(hit: Hit) -> str:
    c = hit.chunk
    return unit_label(c.unit, c.report_title)


def group_by_report(sentences: Sequence[AnswerSentence], hits: Sequence[Hit]) -> list[tuple[str, list[AnswerSentence]]]:
    """(report_id, sentences) in order of first appearance; an uncited sentence stays with the one before it."""
    groups: list[tuple[str, list[AnswerSentence]]] = []
    for s in sentences:
        rid = hits[s.cites[0] - 1].chunk.report_id if s.cites and 0 < s.cites[0] <= len(hits) else None
        if rid is None and groups:
            groups[-1][1].append(s)
            continue
        for g_rid, g in groups:
            if g_rid == rid:
                g.append(s)
                break
        else:
            groups.append((rid or "", [s]))
    return groups


def _plain(s: AnswerSentence) -> AnswerSentence:
    return AnswerSentence(s.text, s.cites, "")


def labelled_markdown(sentences: Sequence[AnswerSentence], hits: Sequence[Hit], notes: Sequence[str] = (),
                      missing: Sequence[str] = (), lead: str = "", flagged: Sequence[str] = ()) -> str:
    """The answer as the user reads it.

    One report: 「**单位（《报告》）**：句子[1]。」 (several points as bullets under it); several reports: one bullet
    per report. `missing`: labels of asked units whose reports hold no answer. `lead`: a first line such as 「有。」.
    `notes`: how the question was read (relative years, unknown units). `flagged`: figures in no cited passage.
    """
    by_id = {h.chunk.report_id: h for h in hits}
    groups = group_by_report(sentences, hits)
    lines: list[str] = [escape_markdown(n) for n in notes]
    if lead:
        lines.append(escape_markdown(lead))
    several = len(groups) + len(missing) > 1
    for rid, sents in groups:
        label = escape_markdown(label_of(by_id[rid])) if rid in by_id else ""
        body = [join_sentences([_plain(s)]) for s in sents]
        if several:
            lines.append(f"- **{label}**：{''.join(body)}" if label else f"- {''.join(body)}")
        elif len(body) > 1:
            lines.append(f"**{label}**：" if label else "")
            lines.extend(f"- {b}" for b in body)
        else:
            lines.append(f"**{label}**：{body[0]}" if label else body[0])
    for label in missing:
        prefix = "- " if several else ""
        lines.append(f"{prefix}**{escape_markdown(label)}**：报告中未找到与该问题直接相关的内容。")
    if flagged:
        lines.append("⚠ 以下数字未在所引资料中找到，请勿直接引用：" + "、".join(escape_markdown(x) for x in flagged))
    return join_lines(lines)


def join_lines(lines: Sequence[str]) -> str:
    """Paragraphs apart, list items together (Markdown)."""
    out = ""
    for line in (x for x in lines if x):
        out += ("\n" if line.startswith("- ") else "\n\n") + line if out else line
    return out
