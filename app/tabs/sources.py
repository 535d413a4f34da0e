"""Tab 原文: browse reports by unit/year/topic and read one with its heading tree, scrolled to a passage."""
from __future__ import annotations

from indexer.errors import AssistantError

from ..render import APP_JS, esc, heading_tree, passage_spans, report_body
from .chat import filter_dropdowns

KEYS = ("unit", "year", "topic")


def report_choices(svc, values=()) -> list[tuple[str, str]]:
    """(label, report_id) for every report passing the browse filters."""
    from ..service import parse_filters

    reports = svc.searcher.reports(parse_filters(dict(zip(KEYS, values))))
    return [(f"{r['title']}（{r.get('unit') or '未知单位'}，{r.get('year') or '年份不详'}）", r["report_id"]) for r in reports]


def render_report(svc, report_id: str | None, chunk_id: str | None = None, spans=()) -> tuple[str, str, str]:
    """Title line, heading tree and body HTML; the passage chunk_id (if any) is marked and anchored, and within it
    the spans (of the passage's own text) that support an answer."""
    if not report_id:
        return "请选择一份报告。", "", ""
    try:
        r = svc.searcher.report(report_id)
    except AssistantError as exc:
        return f"⚠ {esc(exc)}", "", ""
    target = next(((c["start"], c["end"]) for c in r.get("chunks", []) if c["chunk_id"] == chunk_id), None)
    # The raw file name is a storage detail (shown on the knowledge-base page), not a heading for readers.
    year = f"{r['year']}年" if r.get("year") else "年份不详"
    meta = " · ".join(esc(x) for x in (r.get("unit") or "未知单位", year, r.get("topic")) if x)
    title = f"<h3>《{esc(r['title'])}》</h3><div class='src-meta'>{meta}</div>"
    body = report_body(r["text"], r["sections"], target, support=passage_spans(target, spans))
    return title, heading_tree(r["sections"]), body


def build(gr, svc, facets: dict):
    """Returns (picker, title, tree, body, filters) so the page-load handler can open ?report=…&chunk=…."""
    with gr.Row():
        dropdowns = filter_dropdowns(gr, facets, KEYS)
    # No preselected value: the picker and the page always name the same report (or none).
    picker = gr.Dropdown(choices=report_choices(svc), value=None, label="报告", elem_id="report-picker")
    title = gr.HTML("请选择一份报告。", elem_id="report-title")
    with gr.Row(elem_id="report-row"):
        with gr.Column(scale=1, min_width=200):
            tree = gr.HTML("", elem_id="report-tree", js_on_load=APP_JS)
        with gr.Column(scale=3):
            body = gr.HTML("", elem_id="report-body")

    def refilter(*values):
        return (gr.Dropdown(choices=report_choices(svc, values), value=None), *render_report(svc, None))

    for d in dropdowns:
        d.input(refilter, dropdowns, [picker, title, tree, body], api_visibility="private")
    picker.input(lambda rid: render_report(svc, rid), picker, [title, tree, body], api_visibility="private")
    return picker, title, tree, body, list(zip(KEYS, dropdowns))
