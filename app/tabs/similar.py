"""Tab 相似表述: paste text, see for each sentence the closest passages with shared characters and a copy button."""
from __future__ import annotations

from indexer.errors import AssistantError

from ..render import COPY_JS, esc, similar_panel
from .chat import filter_dropdowns

KEYS = ("section_role", "topic", "level")


def build(gr, svc, facets: dict):
    text = gr.Textbox(lines=5, label="粘贴一句或一段文字", elem_id="similar-input",
                      placeholder="例如：全年主动公开政府信息900多条，政策解读形式还比较单一。")
    with gr.Row():
        dropdowns = filter_dropdowns(gr, facets, KEYS)
        k = gr.Slider(1, 10, value=3, step=1, label="每句显示条数", scale=1)
    go = gr.Button("查找相似表述", variant="primary", elem_id="similar-go")
    out = gr.HTML(similar_panel([]), js_on_load=COPY_JS, elem_id="similar-out")

    def run(t, kk, *values):
        try:
            return similar_panel(svc.similar(t, dict(zip(KEYS, values)), k=int(kk)))
        except AssistantError as exc:
            return f'<div class="warn">⚠ {esc(exc)}</div>'

    go.click(run, [text, k, *dropdowns], out, api_visibility="private")
    text.submit(run, [text, k, *dropdowns], out, api_visibility="private")
    return list(zip(KEYS, dropdowns))
