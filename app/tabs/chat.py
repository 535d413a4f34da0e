"""Tab 问答: streaming chat with clickable [n] citations, saved conversations, export, feedback and regenerate."""
# No `from __future__ import annotations`: Gradio reads the gr.Request / LikeData hints of the handlers at runtime.
from indexer.errors import AssistantError

from ..conversations import Turn, default_title
from ..render import CITE_PANEL_JS, cite_panel, esc, message_markdown, parse_spans, sources_panel
from ..service import parse_filters

FILTER_LABELS = {"unit": "单位", "level": "层级", "year": "年份", "topic": "主题", "section_role": "章节类型"}
NEW = {"id": None, "turns": []}  # the state of a conversation not yet saved
WAIT_SEARCH = "正在检索资料……"
WAIT_MODEL = "正在加载检索模型并检索资料（首次约需 20 秒）……"
WAIT_ANSWER = "正在生成回答……"
# Once an answer is complete the chat shows its first line, not its last: the chat follows a streaming answer to its
# end, and on a phone a long answer's opening (「有（……请核对原文）。」, 「……中未找到」) was then above the fold. Done
# once the chat has stopped growing (it draws the last update a little after the event ends, and would scroll to the
# end again), checked every 150 ms for at most 4 s.
TO_ANSWER_START = """() => {
  const box = () => {
    const bots = document.querySelectorAll('#chatbot .message.bot');
    const last = bots[bots.length - 1];
    let el = last && last.parentElement;
    while (el && el !== document.body && !(el.scrollHeight > el.clientHeight + 1 &&
           /(auto|scroll)/.test(getComputedStyle(el).overflowY))) el = el.parentElement;
    return last && el && el !== document.body ? [el, last] : null;
  };
  let height = -1, steady = 0, tries = 0;
  const tick = () => {
    const found = box();
    const h = found ? found[0].scrollHeight : 0;
    steady = h === height ? steady + 1 : 0;
    height = h;
    if (steady < 3 && ++tries < 27) return setTimeout(tick, 150);
    if (found) found[0].scrollTop += found[1].getBoundingClientRect().top - found[0].getBoundingClientRect().top - 8;
  };
  setTimeout(tick, 150);
}"""


def filter_dropdowns(gr, facets: dict, keys=tuple(FILTER_LABELS)) -> list:
    """One multiselect dropdown per facet, empty = no constraint."""
    return [
        gr.Dropdown(choices=[str(v) for v in facets.get(key, []) if v not in (None, "")], value=[], multiselect=True,
                    label=FILTER_LABELS[key], scale=1, min_width=120, elem_classes=[f"filter-{key}"])
        for key in keys
    ]


def refreshed_filters(gr, facets: dict, pairs) -> list:
    """New choices for (key, dropdown) pairs after the index changed (a new unit or year appears), values kept."""
    return [gr.Dropdown(choices=[str(v) for v in facets.get(key, []) if v not in (None, "")]) for key, _ in pairs]


def filters_from(keys, values):
    return parse_filters({k: v for k, v in zip(keys, values) if v})


def user_text(question: str) -> str:
    """The user's question shown literally (the answer markdown arrives already escaped by app.answer)."""
    from app.citations import escape_markdown

    return escape_markdown(question or "")


def messages_of(turns: list[dict]) -> list[dict]:
    """Chatbot messages of saved turns: each answer keeps its clickable citations and its list of sources."""
    out = []
    for t in turns:
        out += [{"role": "user", "content": user_text(t["question"])},
                {"role": "assistant", "content": message_markdown(t["answer"], t["sources"])}]
    return out


def last_panel(turns: list[dict]) -> str:
    t = turns[-1] if turns else None
    return sources_panel(t["sources"], t.get("flagged") or (), t.get("not_found")) if t else sources_panel([])


def owner_of(request) -> str:
    return (getattr(request, "username", None) or "") if request is not None else ""


def citation_panel(gr, svc):
    """The side panel (sheet on phones) that [n] links and 查看原文 open, on every tab; placed outside the tabs."""

    def cite_html(args) -> str:
        """Server function of the panel: [report id, chunk id, label, hl] → the panel HTML (Gradio passes one value)."""
        report_id, chunk_id, label, hl = ((list(args) + [""] * 4)[:4] if isinstance(args, (list, tuple))
                                          else ("", "", "", ""))
        try:
            report = svc.searcher.report(str(report_id or "").strip())
        except AssistantError as exc:
            return f'<div class="cite-box"><button class="cite-close">关闭 ✕</button><div class="warn">⚠ {esc(exc)}</div></div>'
        return cite_panel(report, str(chunk_id or ""), str(label or "")[:12], parse_spans(str(hl or "")))

    return gr.HTML("", elem_id="cite-panel", js_on_load=CITE_PANEL_JS, server_functions=[cite_html])


def build(gr, svc, facets: dict, store, demo, model_ready=None) -> list:
    """Chat tab with the conversation list; registers its own page-load restore on demo; returns (key, filter) pairs."""
    from .. import export

    keys = tuple(FILTER_LABELS)
    current = gr.BrowserState(None, storage_key="gov-report-conversation")  # which conversation this browser had open
    conv = gr.State(dict(NEW))
    with gr.Row(elem_id="chat-row"):
        with gr.Column(scale=1, min_width=230, elem_id="conv-col"):
            new_btn = gr.Button("＋ 新对话", elem_id="new-chat")
            conv_list = gr.Radio(choices=[], label="对话记录", elem_id="conv-list")
            with gr.Accordion("重命名 · 删除 · 导出", open=False, elem_id="manage-acc"):
                rename_box = gr.Textbox(label="对话名称", elem_id="rename-box", max_length=60)
                with gr.Row():
                    rename_btn = gr.Button("重命名", size="sm", elem_id="rename-btn")
                    delete_btn = gr.Button("删除此对话", size="sm", variant="stop", elem_id="delete-btn")
                scope = gr.Dropdown(choices=[("整个对话", "all")], value="all", label="导出范围", elem_id="export-scope")
                with gr.Row():
                    md_btn = gr.Button("Markdown", size="sm", elem_id="export-md")
                    docx_btn = gr.Button("Word", size="sm", elem_id="export-docx")
                fb_btn = gr.Button("导出反馈（评测题 JSONL）", size="sm", elem_id="export-feedback")
                export_file = gr.File(label="下载", elem_id="export-file", interactive=False)
        with gr.Column(scale=4):
            with gr.Accordion("筛选条件（可选）", open=False, elem_id="filter-acc"):
                with gr.Row():
                    dropdowns = filter_dropdowns(gr, facets, keys)
            chatbot = gr.Chatbot(label="对话", show_label=False, height=480, elem_id="chatbot", buttons=["copy"],
                                 feedback_options=("Like", "Dislike"),
                                 placeholder="请输入问题，回答中的 [n] 可点击查看原文出处。")
            with gr.Row():
                question = gr.Textbox(placeholder="输入问题，例如：市统计局2023年主动公开了多少条政府信息？",
                                      show_label=False, scale=6, elem_id="question",
                                      max_length=svc.cfg.app.max_question_chars * 2)
                send = gr.Button("提问", variant="primary", scale=1, min_width=80, elem_id="send")
            gr.Markdown("**最近回答的引用来源**（点击 [n] 或“查看原文”在侧栏中查看出处）")
            panel = gr.HTML(sources_panel([]), elem_id="sources-panel")

    def listing(owner, selected=None):
        items = [(f"{s.title}（{s.turns}问）", s.id) for s in store.list(owner)]
        return gr.Radio(choices=items, value=selected if any(v == selected for _, v in items) else None)

    def chat_value(turns):
        """Messages plus the 👍/👎 already given, so a reopened conversation shows them."""
        marks = [{"up": "Like", "down": "Dislike"}.get(t.get("feedback")) for t in turns]
        return gr.Chatbot(value=messages_of(turns), feedback_value=marks)

    def scope_choices(turns):
        items = [("整个对话", "all")] + [(f"第{i + 1}问：{default_title(t['question'])}", str(i))
                                        for i, t in enumerate(turns)]
        return gr.Dropdown(choices=items, value="all")

    def run_turn(q, state, filter_values, owner, at=None):
        """Echo the question at once, stream the answer, save the finished turn; yields the chat outputs."""
        turns = list(state["turns"])[:at] if at is not None else list(state["turns"])
        shown = messages_of(turns) + [{"role": "user", "content": user_text(q)}]
        wait = WAIT_SEARCH if model_ready is None or model_ready.is_set() else WAIT_MODEL
        yield (shown + [{"role": "assistant", "content": wait}], gr.skip(), state, "", gr.skip(), gr.skip(),
               gr.skip())
        final = None
        try:
            for final in svc.stream(q, filters_from(keys, filter_values),
                                    history=[(t["question"], t["answer"]) for t in turns],
                                    prev_sources=turns[-1]["sources"] if turns else ()):
                text = message_markdown(final.markdown, final.sources) or WAIT_ANSWER
                yield (shown + [{"role": "assistant", "content": text}],
                       sources_panel(final.sources, final.flagged_numbers, final.not_found), state, "",
                       gr.skip(), gr.skip(), gr.skip())
        except AssistantError as exc:
            yield (shown + [{"role": "assistant", "content": f"⚠ {esc(exc)}"}], gr.skip(), state, q,
                   gr.skip(), gr.skip(), gr.skip())
            return
        if final is None:
            return
        turn = Turn(q, final.markdown, list(final.sources), list(final.flagged_numbers), bool(final.not_found))
        cid = state["id"] if store.owns(owner, state["id"]) else store.create(owner, default_title(q))
        store.add_turn(cid, turn, at)
        new_state = {"id": cid, "turns": turns + [turn.to_dict()]}
        yield (chat_value(new_state["turns"]), last_panel(new_state["turns"]), new_state, "",
               listing(owner, cid), cid, scope_choices(new_state["turns"]))

    outs = [chatbot, panel, conv, question, conv_list, current, scope]

    def respond(request: gr.Request, q, state, *filter_values):
        q = (q or "").strip()
        if not q:  # an empty send changes nothing
            yield tuple(gr.skip() for _ in outs)
            return
        yield from run_turn(q, state or dict(NEW), filter_values, owner_of(request))

    def regenerate(request: gr.Request, retry: gr.RetryData, state, *filter_values):
        idx = retry.index if isinstance(retry.index, int) else retry.index[0]
        turns = (state or NEW)["turns"]
        at = min(idx // 2, len(turns) - 1)
        if at < 0:
            yield tuple(gr.skip() for _ in outs)
            return
        yield from run_turn(turns[at]["question"], state, filter_values, owner_of(request), at=at)

    def feedback(state, data: gr.LikeData, request: gr.Request):
        idx = data.index if isinstance(data.index, int) else data.index[0]
        turns = (state or NEW)["turns"]
        at = idx // 2
        if not state or not state["id"] or at >= len(turns) or not store.owns(owner_of(request), state["id"]):
            return state
        value = {True: "up", False: "down"}.get(data.liked)
        store.set_feedback(state["id"], at, value)
        turns = [dict(t, feedback=value) if i == at else t for i, t in enumerate(turns)]
        return {"id": state["id"], "turns": turns}

    def open_conv(cid, request: gr.Request):
        owner = owner_of(request)
        if not store.owns(owner, cid):
            return fresh(request)
        turns = [t.to_dict() for t in store.turns(cid)]
        return (chat_value(turns), last_panel(turns), {"id": cid, "turns": turns}, listing(owner, cid), cid,
                scope_choices(turns), store.title(cid))

    def fresh(request: gr.Request):
        return [], sources_panel([]), dict(NEW), listing(owner_of(request)), None, scope_choices([]), ""

    def rename(cid, title, request: gr.Request):
        owner = owner_of(request)
        if store.owns(owner, cid):
            store.rename(cid, title)
        return listing(owner, cid)

    def delete(cid, request: gr.Request):
        if not store.owns(owner_of(request), cid):  # nothing chosen, or the confirmation was cancelled
            return tuple(gr.skip() for _ in full)
        store.delete(cid)
        return fresh(request)

    def do_export(state, which, fmt):
        turns = [Turn.from_dict(t) for t in (state or NEW)["turns"]]
        if not turns:
            raise gr.Error("当前对话还没有回答可导出。")
        title = store.title(state["id"]) or default_title(turns[0].question)
        if which not in (None, "", "all"):
            i = int(which)
            turns, title = turns[i:i + 1], f"{title}（第{i + 1}问）"
        return str(export.write(title, turns, fmt))

    def do_feedback_export(request: gr.Request):
        from ..feedback import write_jsonl

        return str(write_jsonl(store.rated(owner_of(request))))

    ins = [question, conv, *dropdowns]
    for trigger in (send.click, question.submit):
        trigger(respond, ins, outs, api_visibility="private", show_progress="hidden").then(None, js=TO_ANSWER_START)
    chatbot.retry(regenerate, [conv, *dropdowns], outs, api_visibility="private",
                  show_progress="hidden").then(None, js=TO_ANSWER_START)
    chatbot.like(feedback, conv, conv, api_visibility="private")
    full = [chatbot, panel, conv, conv_list, current, scope, rename_box]  # never the question being typed
    new_btn.click(fresh, None, full, api_visibility="private")
    chatbot.clear(fresh, None, full, api_visibility="private")
    conv_list.input(open_conv, conv_list, full, api_visibility="private")
    rename_btn.click(rename, [conv_list, rename_box], conv_list, api_visibility="private")
    delete_btn.click(delete, conv_list, full, api_visibility="private",
                     js="(c) => (c && confirm('确定删除这个对话吗？删除后无法恢复。')) ? c : null")
    md_btn.click(lambda s, w: do_export(s, w, "md"), [conv, scope], export_file, api_visibility="private")
    docx_btn.click(lambda s, w: do_export(s, w, "docx"), [conv, scope], export_file, api_visibility="private")
    fb_btn.click(do_feedback_export, None, export_file, api_visibility="private")
    def restore(cid, request: gr.Request):
        return open_conv(cid, request) if cid else fresh(request)

    demo.load(restore, current, full, api_visibility="private")
    return list(zip(keys, dropdowns))
