"""Report output: markdown tables for stdout and files, PNG bar charts (matplotlib, Agg) into the results folder."""
from __future__ import annotations

import json
import math
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def fmt(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def fmt_ci(s: dict | None) -> str:
    """'0.812 [0.776–0.845]' from a metrics.summarise() block."""
    if not s:
        return "–"
    return f"{fmt(s['mean'])} [{fmt(s['lo'])}–{fmt(s['hi'])}]"


def table(header: list[str], rows: list[list]) -> str:
    """A GitHub markdown table; cells are str()-ed, pipes escaped."""
    def cell(v):
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _present(blocks: list[dict], keys: list[str]) -> list[str]:
    return [k for k in keys if any(k in b for b in blocks)]


def retrieval_markdown(result: dict, keys: list[str], title: str = "检索评测") -> str:
    modes = result["modes"]
    cols = _present([m["overall"] for m in modes.values()], keys)
    idx = result.get("index", {})
    out = [f"# {title}", "",
           f"- 语料: `{idx.get('corpus', '')}`（报告 {idx.get('reports', '?')} 篇，文本块 {idx.get('chunks', '?')} 个，"
           f"嵌入模型 {idx.get('embedder', '?')}）",
           f"- 问题: `{result.get('queries', '')}` 共 {result['n_queries']} 个；参与检索指标 {result['n_answerable']} 个，"
           f"无答案问题 {result['n_no_answer']} 个（不计入检索指标）",
           f"- 答案不在任何文本块中（被切分或解析改写）: {result['n_answer_in_no_chunk']} 个；"
           f"带 doc_ids 的问题: {result['n_with_doc_ids']} 个",
           "- 相关性：文本块（显示文本或检索文本，去空白、NFKC 后）包含任一答案字符串；括号内为 95% bootstrap 置信区间", ""]
    out.append(table(["mode", *cols, "秒"], [[m, *[fmt_ci(b["overall"].get(c)) for c in cols], b["search_seconds"]]
                                             for m, b in modes.items()]))
    for m, b in modes.items():
        types = b["by_type"]
        if len(types) <= 1:
            continue
        tcols = _present(list(types.values()), keys)
        out += ["", f"## 按问题类型（{m}）", ""]
        out.append(table(["type", "n", *tcols], [[t, tb["n"], *[fmt(tb.get(c, {}).get("mean")) for c in tcols]]
                                                 for t, tb in types.items()]))
    return "\n".join(out) + "\n"


def bar_chart(path: Path, groups: dict[str, dict[str, dict]], metrics: list[str], title: str) -> Path:
    """Grouped bars: one group per metric, one bar per series (mode or variant), CI as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    series = list(groups)
    x = np.arange(len(metrics))
    width = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(metrics) + 2) + (3 if len(series) > 4 else 0), 4))
    colours = plt.get_cmap("tab20" if len(series) > 10 else "tab10").colors
    for i, name in enumerate(series):
        means = [groups[name].get(m, {}).get("mean", 0.0) for m in metrics]
        lo = [max(0.0, mu - groups[name].get(m, {}).get("lo", mu)) for m, mu in zip(metrics, means)]
        hi = [max(0.0, groups[name].get(m, {}).get("hi", mu) - mu) for m, mu in zip(metrics, means)]
        ax.bar(x + i * width - 0.4 + width / 2, means, width, yerr=[lo, hi], capsize=3, label=name,
               color=colours[i % len(colours)])
    ax.set_xticks(x)
    ax.set_xticklabels(metrics)
    ax.set_ylim(0, 1.05)
    ax.set_title(title)
    # many series: the legend goes beside the plot so it never hides a bar
    ax.legend(fontsize=8, **({"loc": "upper left", "bbox_to_anchor": (1.0, 1.0)} if len(series) > 4 else {}))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def line_chart(path: Path, xs: list, series: dict[str, list], xlabel: str, ylabel: str, title: str,
               logx: bool = False) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, ys in series.items():
        ax.plot(xs, ys, marker="o", label=name)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_outputs(out_dir: Path, stem: str, markdown: str, data: dict | None = None,
                  per_query: list[dict] | None = None) -> list[Path]:
    """stem.md (+ stem.json with the figures, + stem_per_query.jsonl) in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / f"{stem}.md"]
    written[0].write_text(markdown, encoding="utf-8")
    if data is not None:
        written.append(out_dir / f"{stem}.json")
        written[-1].write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    if per_query:
        written.append(out_dir / f"{stem}_per_query.jsonl")
        with written[-1].open("w", encoding="utf-8") as f:
            for row in per_query:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return written


def retrieval_outputs(result: dict, out_dir: Path, keys: list[str], stem: str = "retrieval",
                      title: str = "检索评测") -> str:
    """Write the retrieval report (markdown, JSON, per-question JSONL, chart) and return the markdown."""
    modes = result["modes"]
    chart_keys = [k for k in _present([m["overall"] for m in modes.values()], keys)]
    chart = bar_chart(out_dir / f"{stem}.png", {m: b["overall"] for m, b in modes.items()}, chart_keys,
                      f"{stem} (n={result['n_answerable']}, 95% CI)")
    markdown = retrieval_markdown(result, keys, title) + f"\n![{stem}]({chart.name})\n"
    per_query = [{"mode": m, **row} for m, rows in result.get("per_query", {}).items() for row in rows]
    write_outputs(out_dir, stem, markdown, {k: v for k, v in result.items() if k != "per_query"}, per_query)
    return markdown
