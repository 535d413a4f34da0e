"""Tab 问答: streaming chat with cited sources shown under the conversation, follow-ups through history."""
from __future__ import annotations

from indexer.errors import AssistantError

from ..render import sources_panel
from ..service import parse_filters

FILTER_LABELS = {"unit": "单位", "level": "层级", "year": "年份", "topic": "主题", "section_role": "章节类型"}


def filter_dropdowns(gr, facets: dict, keys=tuple(FILTER_LABELS)) -> list:
    """One multiselect dropdown per facet, empty = no constraint."""
    return [
        gr.Dropdown(choices=[str(v) for v in facets.get(key, []) if v not in (None, "")], value=[], multiselect=True,
                    label=FILTER_LABELS[key], scale=1, min_width=120)
        for key in keys
    ]


def filters_from(keys, values):
    return parse_filters({k: v for k, v in zip(keys, values) if v})


def user_text(question: str) -> str:
    """The user's question shown literally (the answer markdown arrives already escaped by app.answer)."""
    from app.citations import escape_markdown

    return escape_markdown(question or "")


def build(gr, svc, facets: dict):
    """Chat tab; returns nothing the other tabs need."""
    keys = tuple(FILTER_LABELS)
    with gr.Row():
        dropdowns = filter_dropdowns(gr, facets, keys)
    chatbot = gr.Chatbot(label="对话", height=340, elem_id="chatbot", buttons=["copy"], feedback_options=None)
    with gr.Row():
        question = gr.Textbox(placeholder="输入问题，例如：市统计局2023年主动公开了多少条政府信息？", show_label=False,
                              scale=6, elem_id="question", max_length=svc.cfg.app.max_question_chars * 2)
        send = gr.Button("提问", variant="primary", scale=1, elem_id="send")
        clear = gr.Button("新对话", scale=1)
    gr.Markdown("**引用来源**（点击“查看原文”在新页面中打开并定位到该段）")
    panel = gr.HTML(sources_panel([]), elem_id="sources-panel")
    memory = gr.State({"pairs": [], "sources": []})  # (question, answer) pairs and the last sources, per session

    def respond(q, messages, mem, *filter_values):
        mem = mem or {"pairs": [], "sources": []}
        messages = list(messages or []) + [{"role": "user", "content": user_text(q)}]
        state = None
        try:
            for state in svc.stream(q, filters_from(keys, filter_values), history=mem["pairs"],
                                    prev_sources=mem["sources"]):
                reply = {"role": "assistant", "content": state.markdown or "……"}
                yield messages + [reply], sources_panel(state.sources, state.flagged_numbers, state.not_found), mem, ""
        except AssistantError as exc:
            shown = sources_panel(state.sources) if state else sources_panel([])
            yield messages + [{"role": "assistant", "content": f"⚠ {exc}"}], shown, mem, q
            return
        if state is not None:
            mem = {"pairs": mem["pairs"] + [(q.strip(), state.markdown)], "sources": state.sources}
            yield messages + [reply], sources_panel(state.sources, state.flagged_numbers, state.not_found), mem, ""

    outs = [chatbot, panel, memory, question]
    ins = [question, chatbot, memory, *dropdowns]
    send.click(respond, ins, outs, api_visibility="private")
    question.submit(respond, ins, outs, api_visibility="private")
    clear.click(lambda: ([], sources_panel([]), {"pairs": [], "sources": []}, ""), None, outs, api_visibility="private")
