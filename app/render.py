"""HTML rendering of sources, matches and reports; every piece of report text is escaped here."""
from __future__ import annotations

import html
import json
import re
from urllib.parse import urlencode

MAX_SPANS = 20  # supporting-word spans carried in a citation link

CSS = """
.src-card, .sim-card {border:1px solid #d0d7de; border-radius:8px; padding:8px 12px; margin:6px 0; background:#fff;}
.src-head {font-weight:600;} .src-meta {color:#57606a; font-size:0.9em;}
.src-text, .sim-text {white-space:pre-wrap; line-height:1.7; margin-top:4px;}
mark {background:#ffe58f; padding:0 1px;} mark.diff {background:#d6f5e3; color:#0b4f2e;}
.kb-table {border-collapse:collapse; width:100%; font-size:0.92em;}
.kb-table th, .kb-table td {border:1px solid #d0d7de; padding:4px 8px; text-align:left; vertical-align:top;}
.kb-table th {background:#f6f8fa;} .miss {color:#9a3412; font-weight:600;} .kb-l {display:none;}
.warn {color:#9a3412; background:#fff7ed; border:1px solid #fdba74; border-radius:6px; padding:4px 8px; margin:6px 0;}
.sim-sentence {font-weight:600; margin-top:12px;}
.copy-btn {float:right; font-size:0.85em; cursor:pointer; border:1px solid #8c959f; border-radius:4px; background:#f6f8fa; padding:1px 8px;}
.report-text {white-space:pre-wrap; line-height:1.8; max-height:70vh; overflow-y:auto; padding:8px;}
.report-text a {padding:0 !important; margin:0 !important;}
.report-text .h {font-weight:700;} .report-text mark.target {background:#fff1b8;}
.report-text .support {background:#ffc53d; font-weight:600;}
.tree a {text-decoration:none;} .tree div {margin:2px 0;}
.cite-box {position:fixed; top:0; right:0; width:min(46vw, 640px); height:100vh; z-index:1000; background:#fff;
  box-shadow:-4px 0 16px rgba(0,0,0,.18); display:flex; flex-direction:column; padding:12px 16px; box-sizing:border-box;}
.cite-head {border-bottom:1px solid #d0d7de; padding-bottom:8px;}
.cite-body {overflow-y:auto; flex:1; min-height:0;} .cite-body .report-text {max-height:none;}
.cite-close {float:right; cursor:pointer; border:1px solid #8c959f; border-radius:4px; background:#f6f8fa; padding:2px 10px;}
.msg-sources {font-size:0.9em; color:#57606a;}
#sources-panel {max-height:420px; overflow-y:auto;}
@media (max-width: 768px) {
  .cite-box {top:auto; bottom:0; width:100vw; height:72vh; border-radius:14px 14px 0 0;
    box-shadow:0 -4px 16px rgba(0,0,0,.22);}
  #conv-list .wrap {flex-wrap:nowrap !important; overflow-x:auto;}
  #conv-list label {flex:0 0 auto; max-width:72vw; white-space:nowrap; overflow:hidden; text-overflow:ellipsis;}
  #chatbot {height:42vh !important; max-height:42vh !important;}
  #app-title {display:none;}
  .kb-table tr:has(th) {display:none !important;} .kb-table tr {display:block; border:1px solid #d0d7de; margin:6px 0;}
  .kb-table td {display:block; border:none;} .kb-l {display:inline; color:#57606a;}
  #report-row {flex-direction:column-reverse !important;}
  #report-tree {max-height:30vh; overflow-y:auto;}
}
"""

# Event delegation because gr.HTML re-renders its content: one listener serves every copy button.
COPY_JS = (
    "element.addEventListener('click', (e) => { const b = e.target.closest('.copy-btn'); if (!b) return;"
    " const t = b.dataset.text; const done = () => { b.textContent = '已复制'; };"
    " if (navigator.clipboard) { navigator.clipboard.writeText(t).then(done); } else {"
    " const a = document.createElement('textarea'); a.value = t; document.body.appendChild(a); a.select();"
    " document.execCommand('copy'); a.remove(); done(); } });"
)

# Gradio's built-in English strings seen in the app, with the Chinese shown instead (whatever the browser language).
GRADIO_ZH = {
    "Copy message": "复制", "Copied message": "已复制", "Copy": "复制", "Copied!": "已复制", "Copied": "已复制",
    "Use via API": "通过 API 使用", "Use via API or MCP": "通过 API 使用", "Clear": "清空对话", "Retry": "重新生成",
    "Undo": "撤销", "Like": "有用", "Dislike": "没用", "Drop File Here": "将文件拖放到此处", "- or -": "或",
    "Click to Upload": "点击上传", "Upload": "上传", "Uploading...": "正在上传……", "Loading...": "正在加载……",
    "processing": "处理中", "Error": "错误", "Close": "关闭", "Download": "下载", "Remove": "移除",
    "Built with Gradio": "基于 Gradio", "Settings": "设置", "Stop Recording": "停止录制", "Share": "分享",
    "Chatbot": "对话", "Dropdown": "下拉框", "File": "文件", "Textbox": "文本框", "More tabs": "更多标签页",
    "Click to upload or drop files": "点击上传或拖放文件", "File upload": "文件上传", "chatbot conversation": "对话",
    "Gradio footer navigation": "页脚导航", "common.complete": "完成",
}

# Installed once per page (from any component that needs it): heading-tree links scroll inside the page instead of
# navigating (Gradio's <base> would turn "#sec-3" into "/#sec-3" and drop ?report=…), and citation links in the chat
# or on source cards open the side panel instead of a new tab.
APP_JS = """
if (!window.__govReady) { window.__govReady = true;
  // Gradio's own strings follow the browser language, and a few have no zh-CN entry: translate what is left.
  const ZH = %s;
  const skip = (n) => n.parentElement && n.parentElement.closest('.prose, .message-content, .report-text, .src-card, '
                                                                  + '.sim-card, textarea, input, .cite-box');
  const fix = (root) => {
    if (!root || root.nodeType !== 1) return;
    for (const el of [root, ...root.querySelectorAll('[title], [aria-label], [placeholder]')]) {
      for (const at of ['title', 'aria-label', 'placeholder']) {
        const v = el.getAttribute && el.getAttribute(at); if (v && ZH[v.trim()]) el.setAttribute(at, ZH[v.trim()]);
      }
    }
    const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT); let n;
    while ((n = w.nextNode())) { const t = n.nodeValue.trim(); if (t && ZH[t] && !skip(n)) n.nodeValue = ZH[t]; }
  };
  fix(document.body);
  new MutationObserver((ms) => { for (const m of ms) {
    if (m.type === 'attributes') fix(m.target);
    else if (m.type === 'characterData') fix(m.target.parentElement);
    else m.addedNodes.forEach((x) => fix(x.nodeType === 1 ? x : x.parentElement));
  } }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                               attributeFilter: ['title', 'aria-label', 'placeholder']});
  document.addEventListener('click', (e) => {
    const a = e.target.closest ? e.target.closest('a') : null; if (!a) return;
    const href = a.getAttribute('href') || '';
    if (a.closest('.tree') && href.startsWith('#')) {
      e.preventDefault(); e.stopPropagation();
      const el = document.getElementById(href.slice(1));
      if (el) el.scrollIntoView({block: 'start'});
      return;
    }
    if (href.startsWith('?report=') && (a.closest('#chatbot') || a.classList.contains('cite-link')) && window.__govCite) {
      e.preventDefault(); e.stopPropagation();
      const q = new URLSearchParams(href.slice(1));
      window.__govCite(q.get('report') || '', q.get('chunk') || '', a.textContent || '', q.get('hl') || '');
    }
  }, true);
}
""" % json.dumps(GRADIO_ZH, ensure_ascii=False)

# The side panel: asks the server for the report (server function cite_html) and scrolls to the passage.
CITE_PANEL_JS = APP_JS + """
window.__govCite = async (rid, cid, label, hl) => {
  props.value = '<div class="cite-box"><div class="src-meta">正在打开原文……</div></div>';
  props.value = await server.cite_html([rid, cid, label, hl]);
  setTimeout(() => { const t = document.getElementById('cite-passage-target');
    const box = element.querySelector('.cite-body');  // scroll the panel only, never the chat behind it
    if (t && box) box.scrollTop += t.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 3;
  }, 80);
};
element.addEventListener('click', (e) => { if (e.target.closest('.cite-close')) props.value = ''; });
"""

SCROLL_JS = (
    "() => { setTimeout(() => { const el = document.getElementById('passage-target');"
    " if (el) el.scrollIntoView({block: 'center'}); }, 400); }"
)


def esc(text) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape("" if text is None else str(text), quote=True)


def merge_spans(spans, length: int) -> list[tuple[int, int]]:
    """Clamp spans to [0, length], drop empty ones and merge overlaps, sorted."""
    clean = sorted((max(0, int(s)), min(length, int(e))) for s, e in spans or [])
    out: list[tuple[int, int]] = []
    for s, e in clean:
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def highlight(text: str, spans, css_class: str = "") -> str:
    """Escaped text with <mark> around the given character spans."""
    text = text or ""
    cls = f' class="{esc(css_class)}"' if css_class else ""
    parts, pos = [], 0
    for s, e in merge_spans(spans, len(text)):
        parts += [esc(text[pos:s]), f"<mark{cls}>", esc(text[s:e]), "</mark>"]
        pos = e
    parts.append(esc(text[pos:]))
    return "".join(parts)


def trail(title: str, heading_path) -> str:
    """《报告》 › 二、… › （一）… as escaped text."""
    return " › ".join([f"《{esc(title)}》"] + [esc(h) for h in heading_path or []])


def report_link(report_id: str, chunk_id: str | None = None, spans=()) -> str:
    """?report=…&chunk=…[&hl=a-b,c-d]: hl = spans of the passage's own text to mark more strongly (supporting words)."""
    query = {"report": report_id} | ({"chunk": chunk_id} if chunk_id else {})
    hl = ",".join(f"{int(a)}-{int(b)}" for a, b in list(spans or [])[:MAX_SPANS] if int(b) > int(a) >= 0)
    return "?" + urlencode(query | ({"hl": hl} if hl else {}))


def source_link(src: dict) -> str:
    """The link of a cited source: its passage, with the words that support the answer."""
    return report_link(src.get("report_id", ""), src.get("chunk_id"), src.get("highlights"))


def parse_spans(hl: str) -> list[tuple[int, int]]:
    """'3-10,20-25' (from a link) → [(3, 10), (20, 25)]; anything malformed is ignored."""
    return [(int(a), int(b)) for a, b in re.findall(r"(\d{1,7})-(\d{1,7})", hl or "")][:MAX_SPANS]


def meta_line(src: dict) -> str:
    bits = [src.get("unit"), f"{src['year']}年" if src.get("year") else "", src.get("section_role")]
    return " · ".join(esc(b) for b in bits if b)


def source_card(src: dict) -> str:
    """One cited source: number, heading trail, unit/year/role, passage with supporting words marked, link to 原文."""
    link = source_link(src)
    n = src.get("n", src.get("rank", ""))
    return (
        f'<div class="src-card"><div class="src-head">[{esc(n)}] {trail(src.get("report_title", ""), src.get("heading_path"))}'
        f' <a class="cite-link" href="{esc(link)}" target="_blank">查看原文</a></div>'
        f'<div class="src-meta">{meta_line(src)}</div>{planted_warning(src)}'
        f'<div class="src-text">{highlight(src.get("text", ""), src.get("highlights"))}</div></div>'
    )


def planted_warning(src: dict) -> str:
    """A passage holding sentences addressed to the assistant (忽略之前的指令…): shown as data, never quoted."""
    text = src.get("text", "")
    quoted = "；".join(f"「{esc(text[a:b])}」" for a, b in src.get("planted") or ())
    if not quoted:
        return ""
    return f'<div class="warn planted">⚠ 此段含有针对问答助手的指令式文字，仅作资料显示，不作为回答引用：{quoted}</div>'



_CITE = re.compile(r"(?<!\\)\[(\d{1,3})\]")


def linkify_citations(markdown: str, sources: list[dict]) -> str:
    """[n] markers of an answer as Markdown links to their passage (APP_JS opens them in the side panel)."""
    by_n = {str(s.get("n")): s for s in sources or [] if s.get("n") is not None}

    def link(m):
        src = by_n.get(m.group(1))
        if not src:
            return m.group(0)
        return f"[\\[{m.group(1)}\\]]({source_link(src)})"

    return _CITE.sub(link, markdown or "")


def message_markdown(answer: str, sources: list[dict]) -> str:
    """An answer as shown in the chat: clickable [n] and the cited reports listed under it (the answer itself
    already names each figure's unit and warns about figures in no cited passage)."""
    from app.citations import escape_markdown

    parts = [linkify_citations(answer, sources)]
    cited = [s for s in sources or [] if s.get("cited") and s.get("n") is not None]
    if cited:
        rows = [f"[\\[{s['n']}\\] {escape_markdown(plain_trail(s))}]({source_link(s)})"
                for s in cited]
        parts.append("来源：" + "　".join(rows))
    return "\n\n".join(parts)


def plain_trail(src: dict) -> str:
    """《报告》 › 二、… as plain text (for exports and Markdown; not escaped)."""
    bits = [f"《{src.get('report_title', '')}》", *(src.get("heading_path") or [])]
    where = " › ".join(b for b in bits if b)
    extra = "，".join(str(x) for x in (src.get("unit"), f"{src['year']}年" if src.get("year") else "") if x)
    return where + (f"（{extra}）" if extra else "")


def cite_panel(report: dict, chunk_id: str | None, label: str = "", spans=()) -> str:
    """The side panel: heading path of the passage, then its report scrolled to it, passage highlighted (and within
    it the spans of its own text that support the answer, more strongly)."""
    chunk = next((c for c in report.get("chunks", []) if c["chunk_id"] == chunk_id), None)
    target = (chunk["start"], chunk["end"]) if chunk else None
    support = passage_spans(target, spans)
    path = section_path(report.get("sections", []), target[0] if target else -1)
    meta = " · ".join(esc(x) for x in (report.get("unit"), f"{report['year']}年" if report.get("year") else "") if x)
    link = report_link(report.get("report_id", ""), chunk_id)
    return (
        '<div class="cite-box" id="cite-box"><div class="cite-head"><button class="cite-close">关闭 ✕</button>'
        f'<div class="src-head">{esc(label)} {trail(report.get("title", ""), path)}</div>'
        f'<div class="src-meta">{meta} <a href="{esc(link)}" target="_blank">在新页面打开 ↗</a></div></div>'
        f'<div class="cite-body">{report_body(report.get("text", ""), report.get("sections", []), target, "cite-", support)}</div></div>'
    )


def passage_spans(target: tuple[int, int] | None, spans) -> list[tuple[int, int]]:
    """Spans given relative to a passage → positions in its report, kept inside the passage."""
    return [(target[0] + a, min(target[1], target[0] + b)) for a, b in spans or ()] if target else []


def section_path(sections: list[dict], pos: int) -> list[str]:
    """Heading path of the innermost section containing character pos."""
    inside = [s for s in sections if s["start"] <= pos < s.get("end", s["start"])]
    return list(max(inside, key=lambda s: s.get("level", 0)).get("heading_path") or []) if inside else []


def sources_panel(sources: list[dict], flagged_numbers=(), not_found: bool = False) -> str:
    """Sources under an answer: cited ones first, the other retrieved passages folded; flagged numbers warned."""
    parts = []
    if flagged_numbers:
        nums = "、".join(esc(x) for x in flagged_numbers)
        parts.append(f'<div class="warn">⚠ 以下数字未在引用来源中找到，请核对：{nums}</div>')
    if not_found:
        parts.append('<div class="warn">未在已索引的报告中找到直接相关的内容，以下为最接近的段落。</div>')
    cited = [s for s in sources if s.get("cited", True)]
    if not cited or not_found:
        cited = list(sources)
    others = [s for s in sources if s not in cited]
    parts += [source_card(s) for s in cited]
    if others:
        parts.append(f"<details><summary>其他检索结果（{len(others)}）</summary>"
                     + "".join(source_card(s) for s in others) + "</details>")
    return "".join(parts) or '<div class="src-meta">（暂无来源）</div>'


def similar_panel(results: list[dict]) -> str:
    """Per pasted sentence: the closest sentences of the reports, best first, with what differs from the draft marked."""
    if not results:
        return '<div class="src-meta">请粘贴一句或一段文字（按 。！？； 分句）。</div>'
    parts = ['<div class="src-meta">每句下按相似度从高到低列出报告中的原句；<mark class="diff">标色</mark>的是与您的句子'
             '不同的措辞，“复制”只复制这一句。</div>']
    for i, r in enumerate(results, 1):
        parts.append(f'<div class="sim-sentence">{i}. {esc(r["sentence"])}</div>')
        if not r["matches"]:
            parts.append('<div class="src-meta">未找到相似表述。</div>')
        for m in r["matches"]:
            link = report_link(m["report_id"], m["chunk_id"], [m["matched_span"]] if m.get("matched_span") else ())
            sentence = m.get("matched_sentence") or m.get("text", "")
            year = f"{m['year']}年" if m.get("year") else "年份不详"
            where = " · ".join(esc(x) for x in (m.get("unit") or "未知单位", year, m.get("section_role") or "其他"))
            pct = round(100 * m.get("similarity", m.get("shared_ratio", 0)))
            parts.append(
                f'<div class="sim-card"><button class="copy-btn" data-text="{esc(sentence)}">复制</button>'
                f'<div class="src-meta"><b>相似 {pct}%</b> · {where}</div>'
                f'<div class="sim-text">{highlight(sentence, m.get("differs") or [], "diff")}</div>'
                f'<div class="src-meta">{trail(m.get("report_title", ""), m.get("heading_path"))}'
                f' <a class="cite-link" href="{esc(link)}" target="_blank">查看原文</a></div></div>'
            )
    return "".join(parts)


def heading_tree(sections: list[dict], prefix: str = "") -> str:
    """Indented heading list linking to the anchors of report_body (APP_JS scrolls to them in place)."""
    rows = [
        f'<div style="margin-left:{max(0, s["level"] - 1) * 1.2}em"><a href="#{prefix}sec-{i}">{esc(s["heading"])}</a></div>'
        for i, s in enumerate(sections) if s.get("heading")
    ]
    return '<div class="tree">' + "".join(rows) + "</div>"


def report_body(text: str, sections: list[dict], target: tuple[int, int] | None = None, prefix: str = "",
                support=()) -> str:
    """Report text with bold headings, an anchor per section and the target passage marked (id {prefix}passage-target);
    support = spans of text marked more strongly inside it."""
    n = len(text)
    heading = [False] * n
    anchors: dict[int, list[str]] = {}
    for i, s in enumerate(sections):
        start = max(0, min(n, s["start"]))
        anchors.setdefault(start, []).append(f'<a id="{prefix}sec-{i}"></a>')
        for j in range(start, min(n, start + len(s.get("heading") or ""))):
            heading[j] = True
    t0, t1 = target if target else (-1, -1)
    if target:
        anchors.setdefault(max(0, min(n, t0)), []).append(f'<a id="{prefix}passage-target"></a>')
    parts = []
    # Cut the text wherever the styling changes or an anchor sits, so no tags overlap.
    support = merge_spans(support, n)
    cuts = sorted({0, n, *anchors, *(p for p in (t0, t1) if 0 <= p <= n), *(p for span in support for p in span)}
                  | {j for j in range(1, n) if heading[j] != heading[j - 1]})
    for a, b in zip(cuts, cuts[1:] + [None]):
        parts += anchors.get(a, [])
        if b is None or b <= a:
            continue
        seg = esc(text[a:b])
        if heading[a]:
            seg = f'<span class="h">{seg}</span>'
        if any(x <= a < y for x, y in support):
            seg = f'<span class="support">{seg}</span>'
        if t0 <= a < t1:
            seg = f'<mark class="target">{seg}</mark>'
        parts.append(seg)
    return '<div class="report-text">' + "".join(parts) + "</div>"


def local_time(stamp: str) -> str:
    """'2026-11-29T12:02:18+0000' → '2026-11-29 20:02' in the server's time zone; anything else unchanged."""
    from datetime import datetime

    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(stamp)


def status_line(stats: dict) -> str:
    """Index status in one line of escaped text."""
    return (f"已收录 {esc(stats.get('reports', 0))} 份报告（{esc(stats.get('chunks', 0))} 个段落）"
            + (f"，更新于 {esc(local_time(stats['built_at']))}" if stats.get("built_at") else ""))


def status_detail(stats: dict) -> str:
    """The status line plus report counts per unit and per topic (escaped)."""
    def counts(d):
        return "、".join(f"{esc(k)} {esc(v)}" for k, v in (d or {}).items()) or "无"

    return (status_line(stats) + f"，检索模型 {esc(stats.get('model', '?'))}"
            + f"<details><summary>按单位、主题统计</summary>按单位：{counts(stats.get('per_unit'))}"
            + f"<br>按主题：{counts(stats.get('per_topic'))}</details>")
