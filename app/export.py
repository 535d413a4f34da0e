"""Export a conversation or one answer with its citations: Markdown, or Word (.docx) with a source list per answer."""
from __future__ import annotations

import html
import re
import tempfile
import time
from pathlib import Path

from .render import plain_trail

_ESCAPED = re.compile(r"\\([\\`*_\[\]#|~])")
PASSAGE_CHARS = 160


def plain(markdown: str) -> str:
    """Answer markdown (escaped by app.answer) back to the text a reader sees."""
    return html.unescape(_ESCAPED.sub(r"\1", markdown or ""))


def cited_sources(turn) -> tuple[str, list[dict]]:
    """The heading of the source list and its sources: the cited ones, else (not found) the closest passages."""
    cited = [s for s in turn.sources if s.get("cited")]
    return ("引用来源", cited) if cited else ("可能相关的资料", list(turn.sources))


def short(text: str, n: int = PASSAGE_CHARS) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[:n] + "……"


def stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M")


def to_markdown(title: str, turns) -> str:
    from app.citations import escape_markdown

    out = [f"# {escape_markdown(title)}", "", f"导出时间：{stamp()} · 政府工作报告助手（引用请以原文为准）", ""]
    for t in turns:
        out += [f"## 问：{escape_markdown(t.question)}", "", t.answer, ""]
        if t.flagged:
            out += [f"> ⚠ 以下数字未在引用来源中找到，请核对：{escape_markdown('、'.join(map(str, t.flagged)))}", ""]
        heading, sources = cited_sources(t)
        if sources:
            out += [f"**{heading}**", ""]
            for s in sources:
                out += [f"- \\[{s.get('n', '')}\\] {escape_markdown(plain_trail(s))}",
                        f"  > {escape_markdown(short(s.get('text', '')))}"]
            out.append("")
    return "\n".join(out)


def to_docx(title: str, turns, path: Path) -> Path:
    """A Word file: the question as a heading, the answer with its [n], then the numbered sources."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    doc = Document()
    # Word's default template names no East Asian font; 宋体 is what these documents are set in.
    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3"):
        doc.styles[name].element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    doc.add_heading(title, level=1)
    note = doc.add_paragraph(f"导出时间：{stamp()} · 政府工作报告助手（引用请以原文为准）")
    note.runs[0].font.size = Pt(9)
    for t in turns:
        doc.add_heading(f"问：{t.question}", level=2)
        for para in plain(t.answer).split("\n"):
            if para.strip():
                doc.add_paragraph(para.strip())
        if t.flagged:
            run = doc.add_paragraph().add_run("⚠ 以下数字未在引用来源中找到，请核对：" + "、".join(map(str, t.flagged)))
            run.font.color.rgb = RGBColor(0x9A, 0x34, 0x12)
        heading, sources = cited_sources(t)
        if sources:
            doc.add_heading(heading, level=3)
            for s in sources:
                p = doc.add_paragraph()
                p.add_run(f"[{s.get('n', '')}] {plain_trail(s)}").bold = True
                quote = doc.add_paragraph(short(s.get("text", "")))
                quote.paragraph_format.left_indent = Pt(18)
                quote.runs[0].font.size = Pt(9)
    doc.save(path)
    return path


def write(title: str, turns, fmt: str, dest: Path | None = None) -> Path:
    """Write the export into dest (a fresh temporary directory by default) under a file name made from the title."""
    from indexer.pipeline import safe_filename

    dest = Path(dest or tempfile.mkdtemp(prefix="export-"))
    path = dest / safe_filename(f"{title[:40]}.{'docx' if fmt == 'docx' else 'md'}")
    if fmt == "docx":
        return to_docx(title, turns, path)
    path.write_text(to_markdown(title, turns), encoding="utf-8")
    return path
