"""HTML of a review for the 「报告审阅」 tab; every piece of draft or report text is escaped (app.render helpers)."""
from __future__ import annotations

from app.render import esc, highlight, merge_spans, report_link, trail

CSS = """<style>
.rv-card {border:1px solid #d0d7de; border-radius:8px; padding:8px 12px; margin:8px 0; background:#fff;}
.rv-h {font-weight:700; font-size:1.05em; margin:14px 0 4px;}
.rv-badges span {display:inline-block; border-radius:10px; padding:1px 8px; margin:2px 4px 2px 0; font-size:0.9em; background:#eef2f7;}
.rv-badges span.bad {background:#fde8e8; color:#9b1c1c;} .rv-badges span.ok {background:#e6f4ea; color:#1e6b34;}
.rv-meta {color:#57606a; font-size:0.9em;}
.rv-text {white-space:pre-wrap; line-height:1.7;}
.rv-ex {border-left:3px solid #d0d7de; padding:2px 8px; margin:4px 0 4px 4px; line-height:1.6;}
.rv-par {border-left:4px solid #d0d7de; padding:4px 10px; margin:6px 0;}
.rv-par.copied {border-left-color:#e11d48;} .rv-par.boiler {border-left-color:#a16207;} .rv-par.same {border-left-color:#2563eb;}
.rv-par.heading {font-weight:700; border-left-color:transparent;}
.rv-tag {display:inline-block; font-size:0.8em; border:1px solid #8c959f; border-radius:4px; padding:0 5px; margin-right:6px; color:#57606a;}
.rv-flag {font-size:0.9em; margin:4px 0; padding:4px 8px; border-radius:6px;}
.rv-flag.copied {background:#fff1f2;} .rv-flag.boiler {background:#fefce8;} .rv-flag.same {background:#eff6ff;}
.rv-figs {overflow-x:auto;} .rv-figs table {border-collapse:collapse; width:100%; min-width:520px;}
.rv-figs td, .rv-figs th {border:1px solid #d0d7de; padding:4px 6px; vertical-align:top; font-size:0.92em;}
.rv-up {color:#1e6b34;} .rv-down {color:#9b1c1c;} .rv-warn {color:#9a3412;}
details.rv-m summary {cursor:pointer; color:#0969da; font-size:0.92em;}
@media (max-width: 640px) {  /* phones: one figure per block instead of a table wider than the screen */
  .rv-figs table, .rv-figs tr, .rv-figs td {display:block; min-width:0; width:auto;}
  .rv-figs tr:first-child {display:none;} .rv-figs tr {border-top:2px solid #d0d7de; margin-top:6px;}
  .rv-figs table, .rv-figs td {border:none !important; padding:2px 0 !important;}
}
</style>"""

KIND_NAMES = {"section": "缺少章节", "item": "同类报告常见、草稿未提及", "figure": "同类报告常给出数字、草稿未给"}


def _example(ex: dict) -> str:
    link = report_link(ex["report_id"], ex.get("chunk_id"))
    return (f'<div class="rv-ex"><div class="rv-meta">{trail(ex["report_title"], ex.get("heading_path"))}'
            f' <a href="{esc(link)}" target="_blank">原文 ↗</a></div>'
            f'<div class="rv-text">{highlight(ex["text"], ex.get("highlight"))}</div></div>')


def missing_html(missing: list[dict]) -> str:
    if not missing:
        return '<div class="rv-meta">与同类报告相比，未发现缺少的章节或常见事项。</div>'
    parts = []
    for m in missing:
        head = f'{KIND_NAMES[m["kind"]]}：<b>{esc(m["name"])}</b>'
        stat = f'同类报告 {esc(m["peers_with"])}/{esc(m["peers_total"])} 份有'
        if m["kind"] == "figure":
            stat = f'{esc(round(100 * m["figure_share"]))}% 的同类报告给出了数字'
        extra = ""
        if m.get("headings"):
            extra += '<div class="rv-meta">常见标题：' + "、".join(f"“{esc(h)}”" for h in m["headings"]) + "</div>"
        if m.get("note"):
            extra += f'<div class="rv-meta rv-warn">{esc(m["note"])}</div>'
        parts.append(f'<div class="rv-card"><div>{head} <span class="rv-meta">（{stat}）</span></div>{extra}'
                     + "".join(_example(e) for e in m["examples"]) + "</div>")
    return "".join(parts)


def _copy_flag(p: dict) -> str:
    c, b = p.get("copied_from"), p.get("boilerplate")
    if b:
        return (f'<div class="rv-flag boiler">套话：与 {esc(b["units"])} 个单位的报告基本相同（如《{esc(b["report_title"])}》，'
                f'重合 {int(100 * b["overlap"])}%），属通用表述，可酌情精简。</div>')
    if not c:
        return ""
    who = "本单位往年报告" if c["kind"] == "same_unit" else "其他单位报告"
    cls = "same" if c["kind"] == "same_unit" else "copied"
    also = f'（另见 {len(c["also"])} 份）' if c.get("also") else ""
    return (f'<div class="rv-flag {cls}">与{who}《{esc(c["report_title"])}》重合 {int(100 * c["overlap"])}%{also}'
            f' <a href="{esc(report_link(c["report_id"], c.get("chunk_id")))}" target="_blank">原文 ↗</a>'
            f'<div class="rv-text">{highlight(c["source_text"], c.get("shared"))}</div></div>')


def copied_html(paragraphs: list[dict]) -> str:
    flagged = [p for p in paragraphs if p.get("copied_from") or p.get("boilerplate")]
    if not flagged:
        return '<div class="rv-meta">未发现与其他报告大段重复的段落。</div>'
    return "".join(f'<div class="rv-card"><div class="rv-text">{esc(p["text"])}</div>{_copy_flag(p)}</div>' for p in flagged)


def _change_cls(change: str) -> str:
    return "rv-up" if change.startswith("+") and not change.startswith("+0") else ("rv-down" if change.startswith("-") else "")


def figures_html(figures: list[dict], earlier: list[dict]) -> str:
    if not figures:
        return '<div class="rv-meta">草稿中没有带单位的数字。</div>'
    note = ("对照本单位往年报告：" + "、".join(f"《{esc(r['title'])}》" for r in earlier)) if earlier else \
        "语料中没有本单位往年的报告，无法对照往年数字。"
    rows = []
    for f in figures:
        cells = []
        for e in [f.get("earlier")] + list(f.get("earlier_others") or []):
            if e:
                cells.append(f'<div><b>{esc(e["year"])}年 {esc(e["text"])}</b> <span class="{_change_cls(e["change"])}">'
                             f'{esc(e["change"])}</span><div class="rv-meta">{esc(e["context"])}</div>'
                             f'<div class="rv-meta">《{esc(e["report_title"])}》</div></div>')
        if len(cells) > 1:
            cells.insert(0, '<div class="rv-warn">⚠ 本单位同年有多份报告给出不同数字，请核对</div>')
        label = f'<div class="rv-meta">{esc(f["label"])}</div>' if f["label"] else ""
        rows.append(f'<tr><td><b>{esc(f["text"])}</b>{label}</td><td>{highlight(f["context"], _span_in(f))}</td>'
                    f'<td>{"".join(cells) or "<span class=rv-meta>—</span>"}</td></tr>')
    return (f'<div class="rv-meta">{note}</div><div class="rv-figs"><table><tr><th>数字</th><th>草稿上下文</th>'
            f'<th>往年同项</th></tr>{"".join(rows)}</table></div>')


def _span_in(f: dict) -> list[tuple[int, int]]:
    i = f["context"].find(f["text"])
    return [(i, i + len(f["text"]))] if i >= 0 else []


def paragraphs_html(paragraphs: list[dict]) -> str:
    parts = []
    for p in paragraphs:
        if p["kind"] != "body":
            parts.append(f'<div class="rv-par heading">{esc(p["text"])}</div>')
            continue
        c, b = p.get("copied_from"), p.get("boilerplate")
        cls = "boiler" if b else ("same" if c and c["kind"] == "same_unit" else ("copied" if c else ""))
        matches = "".join(
            f'<div class="sim-card"><button class="copy-btn" data-text="{esc(m["text"])}">复制</button>'
            f'<div class="src-meta">【{esc(m.get("section_role") or "其他")}】 {trail(m["report_title"], m["heading_path"])}'
            f' · 重合 {round(100 * m["similarity"])}% <a href="{esc(report_link(m["report_id"], m["chunk_id"]))}"'
            f' target="_blank">原文 ↗</a></div><div class="sim-text">{excerpt(m["text"], m.get("shared"))}</div></div>'
            for m in p["matches"])
        details = (f'<details class="rv-m"><summary>可借鉴的表述（{len(p["matches"])}）</summary>{matches}</details>'
                   if p["matches"] else "")
        parts.append(f'<div class="rv-par {cls}"><span class="rv-tag">{esc(p["role"])}</span>'
                     f'<span class="rv-text">{esc(p["text"])}</span>{_copy_flag(p)}{details}</div>')
    return "".join(parts)


def review_html(review: dict) -> str:
    d, s = review["draft"], review["summary"]

    def badge(text, bad):
        return f'<span class="{"bad" if bad else "ok"}">{esc(text)}</span>'

    badges = "".join([
        badge(f'缺少章节 {len(s["missing_sections"])}', s["missing_sections"]),
        badge(f'未提及常见事项 {len(s["missing_items"]) + len(s["missing_figures"])}',
              s["missing_items"] or s["missing_figures"]),
        badge(f'疑似抄袭 {s["copied"]} 段', s["copied"]),
        badge(f'套话 {s["boilerplate"]} 段', s["boilerplate"]),
        badge(f'与本单位往年重复 {s["same_unit_repeats"]} 段', s["same_unit_repeats"]),
        badge(f'数字 {s["figures"]} 个，可对照往年 {s["figures_compared"]} 个', False),
    ])
    meta = " · ".join(esc(x) for x in (d["unit"] or "（未识别单位）", d["level"] and f'{d["level"]}级',
                                       d["year"] and f'{d["year"]}年', d["topic"], f'{d["chars"]} 字') if x)
    return (CSS + f'<div class="rv-card"><div class="rv-h" style="margin-top:0">《{esc(d["title"])}》</div>'
            f'<div class="rv-meta">{meta}；对照{esc(review["basis"])}</div><div class="rv-badges">{badges}</div></div>'
            f'<div class="rv-h">一、结构与常见事项</div>{missing_html(review["missing"])}'
            f'<div class="rv-h">二、重复与套话</div>{copied_html(review["paragraphs"])}'
            f'<div class="rv-h">三、数字核对</div>{figures_html(review["figures"], review["earlier_reports"])}'
            f'<div class="rv-h">四、逐段审阅与可借鉴表述</div>{paragraphs_html(review["paragraphs"])}')


def best_window(passage: str, spans, width: int = 220) -> tuple[int, int]:
    """The window of `width` characters of passage that holds most marked characters (a long passage shown briefly)."""
    if len(passage) <= width or not spans:
        return 0, min(len(passage), width)
    best, best_start = -1, 0
    for start, _ in spans:
        lo = max(0, min(start - 20, len(passage) - width))
        covered = sum(max(0, min(e, lo + width) - max(s, lo)) for s, e in spans)
        if covered > best:
            best, best_start = covered, lo
    return best_start, best_start + width


def excerpt(text: str, spans, width: int = 220) -> str:
    """The part of a long passage holding most shared characters, marked, with … where it was cut."""
    spans = merge_spans(spans or (), len(text))
    a, b = best_window(text, spans, width)
    inner = highlight(text[a:b], [(s - a, e - a) for s, e in spans if e > a and s < b])
    return ("…" if a > 0 else "") + inner + ("…" if b < len(text) else "")
