"""Headless Chromium (Selenium) against the served app: citations, conversations, export, similar, viewer, upload."""
from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path

import pytest

from tests.browser import Browser, chromium_available

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="chromium, chromedriver or selenium missing")]

NEW_REPORT = """市民政局2023年政务公开工作总结

一、工作开展情况
全年主动公开政府信息588条，办理低保审批公示34期。
二、存在问题
信息公开栏目分类不够清晰。
"""
DESKTOP, PHONE = (1440, 900), (390, 844)
ANSWERS = "#chatbot .message.bot"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    d = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path_factory.mktemp("screenshots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from tests.app_server import served_app

    with served_app(tmp_path_factory.mktemp("browser-app")) as (url, demo):
        yield url.rstrip("/"), demo


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with Browser(tmp_path_factory.mktemp("chromium-profile"), *DESKTOP) as b:
        yield b


def snap(b: Browser, shots: Path, name: str, phone: bool = True) -> None:
    """Screenshot at 1440×900 and (unless phone=False) at 390×844, then back to the desktop size."""
    b.screenshot(shots / f"{name}-1440.png")
    if phone:
        b.resize(*PHONE)
        time.sleep(0.6)
        b.screenshot(shots / f"{name}-390.png")
        b.resize(*DESKTOP)
        time.sleep(0.3)


def answers(b: Browser) -> int:
    return b.driver.execute_script(f"return document.querySelectorAll({json.dumps(ANSWERS)}).length")


def ask(b: Browser, question: str) -> float:
    """Type a question and send it; the question is echoed at once; seconds until the answer is saved."""
    n = answers(b)
    b.type_into("#question textarea", question)
    t0 = time.perf_counter()
    b.click("#send")
    b.wait_for(f"document.querySelector('#chatbot').innerText.includes({json.dumps(question[:8])})", timeout=5,
               what="question echoed")
    b.wait_for(f"document.querySelectorAll({json.dumps(ANSWERS)}).length > {n}"
               " && !/正在(检索|生成|加载)/.test(document.querySelector('#chatbot').innerText)", what="answer done")
    b.wait_for("[...document.querySelectorAll('#conv-list label')].some(l => l.querySelector('input:checked'))",
               what="conversation saved")
    return time.perf_counter() - t0


def open_app(b: Browser, url: str) -> None:
    b.goto(url + "/")
    b.wait_for("document.querySelector('#question textarea') && document.querySelector('#send')", what="app loaded")
    b.wait_for("window.__govCite", what="side panel ready")


def new_chat(b: Browser) -> None:
    b.click("#new-chat")
    b.wait_for(f"document.querySelectorAll({json.dumps(ANSWERS)}).length === 0", what="chat emptied")


def first_source_unit(b: Browser) -> str:
    return b.driver.execute_script("const m = document.querySelector('#sources-panel .src-card .src-meta');"
                                   " return m ? m.innerText : '';")


def test_click_citation_opens_passage_in_side_panel(app, browser, shots):
    url, _ = app
    b = browser
    open_app(b, url)
    snap(b, shots, "chat-empty")
    took = ask(b, "市统计局2023年全年主动公开政府信息多少条？")
    print(f"browser chat: answer saved after {took:.2f}s")
    assert "915" in b.text("#chatbot") and "来源：" in b.text("#chatbot")
    snap(b, shots, "chat-answer")
    b.click("#chatbot a[href*='report=']")
    b.wait_for("document.querySelector('#cite-panel mark.target')", what="passage highlighted")
    time.sleep(0.3)
    marked = b.driver.execute_script(
        "return [...document.querySelectorAll('#cite-panel mark.target')].map(e => e.innerText).join('')")
    assert "全年主动公开政府信息915条" in marked
    support = b.driver.execute_script(
        "return [...document.querySelectorAll('#cite-panel .support')].map(e => e.innerText).join('')")
    assert "915" in support and len(support) < len(marked)  # the supporting words, inside the passage
    assert "一、工作开展情况" in b.text("#cite-panel .cite-head")  # the heading path of the passage
    assert b.driver.current_url.rstrip("/") == url  # still in the chat, no navigation
    top = b.driver.execute_script("const r = document.getElementById('cite-passage-target')"
                                  ".getBoundingClientRect(); return [r.top, window.innerHeight];")
    assert 0 <= top[0] <= top[1], top
    snap(b, shots, "citation-panel")
    b.click("#cite-panel .cite-close")
    b.wait_for("!document.querySelector('#cite-panel .cite-box')", what="panel closed")


def test_heading_tree_click_on_a_citation_page_stays_on_the_report(app, browser, shots):
    url, demo = app
    b = browser
    rep = next(r for r in demo.service.searcher.reports() if "统计局" in r["title"])
    chunk = demo.service.searcher.report(rep["report_id"])["chunks"][0]["chunk_id"]
    b.goto(f"{url}/?report={rep['report_id']}&chunk={chunk}&hl=0-4")
    b.wait_for("document.getElementById('passage-target')", what="viewer target")
    passage = demo.service.searcher.chunk(chunk).text
    assert b.driver.execute_script("return [...document.querySelectorAll('#report-body .support')]"
                                   ".map(e => e.innerText).join('')") == passage[:4]
    assert rep["title"] in b.text("#report-title") and "a_统计局" not in b.text("#report-title")
    assert rep["report_id"] in b.driver.execute_script(
        "return document.querySelector('#report-picker input').value") or rep["title"][:6] in b.driver.execute_script(
        "return document.querySelector('#report-picker input').value")
    b.driver.execute_script("[...document.querySelectorAll('#report-tree .tree a')]"
                            ".find(a => a.innerText.includes('下一步')).click()")
    time.sleep(0.8)
    assert f"report={rep['report_id']}" in b.driver.current_url
    assert "原文" == b.driver.execute_script(
        "return document.querySelector('button[role=tab][aria-selected=true]').innerText.trim()")
    assert rep["title"] in b.text("#report-title")
    target = b.driver.execute_script(
        "const a = [...document.querySelectorAll('#report-tree .tree a')].find(a => a.innerText.includes('下一步'));"
        " const r = document.getElementById(a.getAttribute('href').slice(1)).getBoundingClientRect();"
        " return [r.top, window.innerHeight];")
    assert 0 <= target[0] <= target[1], target
    snap(b, shots, "source-tree-click")


def test_new_conversation_clears_memory(app, browser, shots):
    url, _ = app
    b = browser
    open_app(b, url)
    new_chat(b)
    ask(b, "县住建局全年办理行政处罚案件多少件？")
    ask(b, "那它存在哪些不足？")
    assert "县住建局" in first_source_unit(b)  # the follow-up used the conversation
    b.driver.find_element("css selector", "#send").click()  # an empty send changes nothing
    time.sleep(0.8)
    assert answers(b) == 2
    new_chat(b)
    assert "暂无来源" in b.text("#sources-panel")
    ask(b, "那它存在哪些不足？")
    assert "县住建局" not in first_source_unit(b)  # memory gone: no unit carried over
    assert answers(b) == 1
    snap(b, shots, "new-conversation")
    # The chat's own trash button is a new conversation too: sources and memory go with the messages.
    ask(b, "县住建局全年办理行政处罚案件多少件？")
    b.driver.execute_script("[...document.querySelectorAll('#chatbot button')].find(x => x.title === '清空对话').click()")
    b.wait_for(f"document.querySelectorAll({json.dumps(ANSWERS)}).length === 0", what="chat cleared")
    b.wait_for("document.querySelector('#sources-panel').innerText.includes('暂无来源')", what="sources cleared")
    ask(b, "那它存在哪些不足？")
    assert "县住建局" not in first_source_unit(b)


def test_export_word_opens_in_python_docx_with_citations(app, browser, shots, tmp_path):
    from docx import Document

    url, _ = app
    b = browser
    open_app(b, url)
    new_chat(b)
    ask(b, "市统计局2023年全年主动公开政府信息多少条？")
    b.click("#manage-acc .label-wrap")
    b.click("#export-docx")
    b.wait_for("document.querySelector('#export-file a[href]')", what="export link")
    href = b.driver.execute_script("return document.querySelector('#export-file a[href]').href")
    path = tmp_path / "export.docx"
    with urllib.request.urlopen(href, timeout=20) as r:
        path.write_bytes(r.read())
    text = "\n".join(p.text for p in Document(path).paragraphs)
    assert "问：市统计局2023年全年主动公开政府信息多少条？" in text
    assert "915" in text and "[1] 《市统计局2023年政务公开工作总结》 › 一、工作开展情况" in text
    if shots:
        (shots / "export.docx").write_bytes(path.read_bytes())
    snap(b, shots, "export", phone=False)


def test_conversation_kept_across_app_restart(tmp_path, shots):
    from tests.app_server import served_app

    root = tmp_path / "app"
    with Browser(tmp_path / "profile", *DESKTOP) as b:
        with served_app(root) as (url, _):
            open_app(b, url.rstrip("/"))
            ask(b, "XX街道共排查企业安全隐患多少处？")
            b.driver.refresh()  # a reload reopens the conversation this browser had open
            b.wait_for("document.querySelector('#chatbot') && document.querySelector('#chatbot').innerText.includes('217')",
                       what="conversation after reload")
            b.click("#manage-acc .label-wrap")
            b.type_into("#rename-box textarea, #rename-box input", "街道隐患排查")
            b.click("#rename-btn")
            b.wait_for("document.querySelector('#conv-list').innerText.includes('街道隐患排查')", what="renamed")
        with served_app(root) as (url, _):  # a new process would open the same SQLite file next to the index
            open_app(b, url.rstrip("/"))
            b.wait_for("document.querySelector('#conv-list').innerText.includes('街道隐患排查')", what="list after restart")
            snap(b, shots, "conversations-after-restart")
            b.click_text("#conv-list label span", "街道隐患排查（1问）")
            b.wait_for("document.querySelector('#chatbot').innerText.includes('217')", what="conversation reopened")
            assert "XX街道" in b.text("#sources-panel")
            b.click("#chatbot a[href*='report=']")
            b.wait_for("document.querySelector('#cite-panel mark.target')", what="old citation still opens")
            b.click("#cite-panel .cite-close")
            b.click("#manage-acc .label-wrap")
            b.click("#delete-btn")
            b.driver.switch_to.alert.dismiss()  # cancelled: nothing happens
            time.sleep(0.8)
            assert "街道隐患排查" in b.text("#conv-list") and "217" in b.text("#chatbot")
            b.click("#delete-btn")
            b.driver.switch_to.alert.accept()
            b.wait_for("!document.querySelector('#conv-list').innerText.includes('街道隐患排查')", what="deleted")
            assert answers(b) == 0


def test_similar_viewer_escaping_upload(app, browser, shots, tmp_path):
    url, demo = app
    b = browser
    open_app(b, url)
    b.click_text("button[role=tab]", "相似表述")
    b.type_into("#similar-input textarea", "今年主动公开政府信息共900多条。政策解读的形式比较单一。")
    b.click("#similar-go")
    b.wait_for("document.querySelectorAll('#similar-out .sim-card').length >= 2", what="similar results")
    out = b.text("#similar-out")
    assert "统计局" in out and "复制" in out and "2023年" in out
    b.driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": url, "permissions": [
        "clipboardReadWrite", "clipboardSanitizedWrite"]})
    b.click("#similar-out .copy-btn")
    b.wait_for("document.querySelector('#similar-out .copy-btn').innerText === '已复制'", what="copied")
    copied = b.js("navigator.clipboard.readText()")
    assert copied.startswith("全年主动公开政府信息915条") and "统计数据发布126条。" in copied and "通过门户" not in copied
    snap(b, shots, "similar")

    svc = demo.service
    evil = next(r["report_id"] for r in svc.searcher.reports() if "测试局" in r["title"])
    chunk = svc.searcher.report(evil)["chunks"][-1]["chunk_id"]
    b.goto(f"{url}/?report={evil}&chunk={chunk}")
    b.wait_for("document.getElementById('passage-target')", what="hostile report")
    assert b.driver.execute_script("return document.querySelectorAll('#report-body script, #report-body img').length") == 0
    assert '<script>alert("xss")</script>' in b.text("#report-body")
    snap(b, shots, "source")

    open_app(b, url)
    new_chat(b)
    ask(b, "XX区测试局全年开展专项检查多少次？")
    assert "27" in b.text("#chatbot") and '<script>alert("xss")</script>' in b.text("#sources-panel")
    assert b.driver.execute_script("return document.querySelectorAll('#chatbot script, #chatbot img, "
                                   "#sources-panel script, #sources-panel img').length") == 0

    b.click_text("button[role=tab]", "知识库")
    assert "d_evil.txt" in b.text("#kb-table")
    new_file = tmp_path / "市民政局 总结.txt"
    new_file.write_text(NEW_REPORT, encoding="utf-8")
    b.upload("#upload-files input[type=file]", new_file)
    b.wait_for("document.querySelector('#upload-files').innerText.includes('市民政局')", what="file attached")
    b.click("#upload-go")
    b.wait_for("document.querySelector('#upload-result').innerText.includes('已添加')", timeout=120, what="indexed")
    b.wait_for("document.querySelector('#index-status').innerText.includes('5 份报告')", what="status refreshed")
    b.wait_for("document.querySelector('#status-line').innerText.includes('5 份报告')", what="header refreshed")
    b.wait_for("document.querySelector('#kb-table').innerText.includes('市民政局')", what="file listed")
    result = b.text("#upload-result")
    assert "/tmp" not in result and "文本块" not in result and "复用" not in result and "识别出 1 份报告" in result
    assert any("民政局" in r["title"] for r in svc.searcher.reports())
    snap(b, shots, "knowledge-base")
    b.click_text("button[role=tab]", "问答")
    b.click("#filter-acc .label-wrap")
    b.click("#chat-row .filter-unit input")
    b.wait_for("[...document.querySelectorAll('[role=option]')].some(li => li.innerText.includes('市民政局'))",
               what="new unit in the 单位 filter")


# Words allowed in the UI: names of formats and of the API, not interface language.
ALLOWED_LATIN = r"API|Markdown|Word|JSONL|MB|txt|md|docx|pdf|XX"
# Report text, file names and the model name are content, not interface.
CONTENT = "style, script, svg, .kb-table, .src-card, .sim-card, .report-text, #index-status, .message-content, .prose"


def test_no_english_interface_text_even_in_an_english_browser(app, tmp_path, shots):
    url, _ = app
    with Browser(tmp_path / "profile-en", *DESKTOP, lang="en-US") as b:
        open_app(b, url)
        ask(b, "市统计局2023年全年主动公开政府信息多少条？")
        found = []
        for tab in ("问答", "相似表述", "原文", "知识库"):
            b.click_text("button[role=tab]", tab)
            time.sleep(0.8)
            found += b.driver.execute_script(
                f"const CONTENT = {json.dumps(CONTENT)}; const out = []; const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT); let n;"
                " while ((n = w.nextNode())) { const p = n.parentElement; const t = n.nodeValue.trim();"
                "  if (t && p.offsetParent !== null && !p.closest(CONTENT)) out.push(t); }"
                " for (const e of document.querySelectorAll('[title], [placeholder]')) {"
                "  if (e.offsetParent !== null) out.push(e.getAttribute('title') || e.getAttribute('placeholder')); }"
                " return out;")
        import re

        english = sorted({t for t in found if re.search(r"[A-Za-z]{3,}", re.sub(ALLOWED_LATIN, "", t))})
        assert english == [], english
        b.screenshot(shots / "english-browser-1440.png")


def test_feedback_is_stored_and_regenerate_replaces_the_answer(app, browser):
    url, demo = app
    b = browser
    open_app(b, url)
    new_chat(b)
    ask(b, "县住建局全年办理行政处罚案件多少件？")
    store = demo.conversations
    cid = b.driver.execute_script("return document.querySelector('#conv-list input:checked').value")
    b.driver.execute_script("[...document.querySelectorAll('#chatbot button')].find(x => x.title === '赞').click()")
    deadline = time.time() + 10
    while time.time() < deadline and store.turns(cid)[0].feedback != "up":
        time.sleep(0.2)
    assert store.turns(cid)[0].feedback == "up"
    assert [r[0] for r in store.rated("")].count(cid) == 1
    b.click("#manage-acc .label-wrap")
    b.click("#export-feedback")
    b.wait_for("document.querySelector('#export-file a[href]') && document.querySelector('#export-file')"
               ".innerText.includes('feedback')", what="feedback file")
    href = b.driver.execute_script("return document.querySelector('#export-file a[href]').href")
    with urllib.request.urlopen(href, timeout=20) as r:
        rows = [json.loads(line) for line in r.read().decode("utf-8").splitlines()]
    mine = [x for x in rows if x["query"] == "县住建局全年办理行政处罚案件多少件？"]
    assert mine and mine[0]["type"] == "fact" and "👍" in mine[0]["note"]
    assert any("43件" in a for a in mine[0]["answers"])
    b.driver.execute_script("[...document.querySelectorAll('#chatbot button')].find(x => x.title === '重试').click()")
    b.wait_for("document.querySelectorAll('#chatbot .message.bot').length === 1 && "
               "!/正在(检索|生成|加载)/.test(document.querySelector('#chatbot').innerText)"
               " && document.querySelector('#chatbot').innerText.includes('43')", what="regenerated")
    time.sleep(0.5)
    turns = store.turns(cid)
    assert len(turns) == 1 and "43" in turns[0].answer and turns[0].feedback is None  # a new answer, not yet rated


def test_on_a_phone_a_finished_answer_is_shown_from_its_first_line(app, tmp_path, shots):
    """The chat follows a streaming answer to its end; once it is done, a long answer is shown from its opening."""
    url, _ = app
    with Browser(tmp_path / "phone-profile", *PHONE) as b:
        open_app(b, url)
        ask(b, "县住建局有没有召开新闻发布会？")
        top = ("const bots = document.querySelectorAll('#chatbot .message.bot'); const last = bots[bots.length - 1];"
               "let box = last.parentElement; while (box && box !== document.body && !(box.scrollHeight > "
               "box.clientHeight + 1 && /(auto|scroll)/.test(getComputedStyle(box).overflowY))) box = box.parentElement;"
               "return [last.getBoundingClientRect().height, box.clientHeight,"
               " last.getBoundingClientRect().top - box.getBoundingClientRect().top];")
        b.wait_for(f"(v => v >= 0 && v < 40)((() => {{ {top} }})()[2])", timeout=6, what="answer shown from its start")
        height, box, offset = b.driver.execute_script(top)
        assert height > box  # taller than the chat: shown from the end, its opening would be out of sight
        assert 0 <= offset < 40
        b.screenshot(shots / "answer-start-390.png")
