"""The review as a .docx: the draft's paragraphs with Word comments (copies, figures, wording to reuse, gaps)."""
from __future__ import annotations

import io

AUTHOR = "报告审阅"
MAX_MATCH_CHARS = 120


def _cut(text: str, n: int = MAX_MATCH_CHARS) -> str:
    return text if len(text) <= n else text[:n] + "…"


def _copy_note(p: dict) -> str | None:
    c, b = p.get("copied_from"), p.get("boilerplate")
    if b:
        return f"套话：与 {b['units']} 个单位的报告基本相同（如《{b['report_title']}》，重合 {int(100 * b['overlap'])}%）。"
    if c:
        who = "本单位往年报告" if c["kind"] == "same_unit" else "其他单位报告"
        return f"与{who}《{c['report_title']}》重合 {int(100 * c['overlap'])}%：{_cut(c['source_text'])}"
    return None


def _figure_note(f: dict) -> str:
    found = [e for e in [f.get("earlier")] + list(f.get("earlier_others") or []) if e]
    if not found:
        return ""
    lines = [f"{e['year']}年《{e['report_title']}》：{e['text']}（{e['change'] or '—'}）“{_cut(e['context'], 80)}”" for e in found]
    warn = "本单位同年多份报告数字不同，请核对。" if len(found) > 1 else ""
    return f"往年同项 {f['text']} ← " + "；".join(lines) + warn


def _missing_note(m: dict) -> str:
    ex = m["examples"][0] if m["examples"] else None
    what = {"section": "缺少章节", "item": "未提及同类报告常见事项", "figure": "未给出同类报告常给的数字"}[m["kind"]]
    head = f"{what}“{m['name']}”（同类报告 {m['peers_with']}/{m['peers_total']} 份有）"
    if m.get("headings"):
        head += "；常见标题：" + "、".join(m["headings"][:3])
    return head + (f"。例：《{ex['report_title']}》“{_cut(ex['text'], 80)}”" if ex else "")


def _runs_for(par, text: str, cuts: list[tuple[int, int]]):
    """Write text into par as runs cut at the given spans; returns {span: run}."""
    pos, runs = 0, {}
    for a, b in sorted(cuts):
        if a < pos:
            continue
        if a > pos:
            par.add_run(text[pos:a])
        runs[(a, b)] = par.add_run(text[a:b])
        pos = b
    if pos < len(text) or not runs:
        par.add_run(text[pos:])
    return runs


def review_docx(review: dict) -> bytes:
    """Bytes of a .docx holding the draft with the review as comments, plus a summary at the top."""
    import docx

    doc = docx.Document()
    d, s = review["draft"], review["summary"]
    doc.add_heading(f"审阅意见：《{d['title']}》", level=1)
    doc.add_paragraph(f"单位：{d['unit'] or '未识别'}　年份：{d['year'] or '未识别'}　主题：{d['topic']}　对照：{review['basis']}")
    doc.add_paragraph(f"缺少章节 {len(s['missing_sections'])}，未提及常见事项 {len(s['missing_items']) + len(s['missing_figures'])}，"
                      f"疑似抄袭 {s['copied']} 段，套话 {s['boilerplate']} 段，与本单位往年重复 {s['same_unit_repeats']} 段，"
                      f"数字 {s['figures']} 个（可对照往年 {s['figures_compared']} 个）。具体意见见批注。")
    gaps = doc.add_paragraph()
    gap_run = gaps.add_run("结构与常见事项：" + ("；".join(m["name"] for m in review["missing"]) or "未发现缺项"))
    for m in review["missing"]:
        doc.add_comment(gap_run, _missing_note(m), author=AUTHOR, initials="审")
    doc.add_paragraph("—— 以下为草稿原文 ——")
    figs = review["figures"]
    rows: list[tuple[str, str]] = [(f"缺项：{m['name']}", _missing_note(m)) for m in review["missing"]]
    for p in review["paragraphs"]:
        par = doc.add_paragraph()
        if p["kind"] != "body":
            par.add_run(p["text"]).bold = True
            continue
        spans = []  # figures with an earlier-year value get a comment on the figure itself
        for i in p["figures"]:
            f = figs[i]
            a = f["start"] - p["start"]
            if f.get("earlier") and p["text"][a:a + len(f["text"])] == f["text"]:
                spans.append((a, a + len(f["text"]), i))
        runs = _runs_for(par, p["text"], [(a, b) for a, b, _ in spans])
        whole = par.runs
        notes = []
        note = _copy_note(p)
        if note:
            doc.add_comment(whole, note, author=AUTHOR, initials="审")
            notes.append(note)
        for a, b, i in spans:
            doc.add_comment(runs[(a, b)], _figure_note(figs[i]), author=AUTHOR, initials="审")
            notes.append(_figure_note(figs[i]))
        if p["matches"] and not note:
            m = p["matches"][0]
            tip = f"可借鉴：《{m['report_title']}》（{m['section_role']}，重合 {round(100 * m['similarity'])}%）“{_cut(m['text'])}”"
            doc.add_comment(whole, tip, author=AUTHOR, initials="审")
            notes.append(tip)
        if notes:
            rows.append((f"第{p['index'] + 1}段：{_cut(p['text'], 40)}", "\n".join(notes)))
    # The same remarks as a table: readable where a viewer or converter does not show Word comments.
    doc.add_heading("审阅表", level=2)
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "段落", "意见"
    for where, what in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = where, what
    from docx.shared import Cm

    table.autofit = False
    for col, width in zip(table.columns, (Cm(4.5), Cm(11.5))):  # LibreOffice reads the grid, Word the cells
        col.width = width
        for cell in col.cells:
            cell.width = width
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
