"""Headless Chromium against the served app: ask, follow up, similar wording, open a cited passage, upload; screenshots."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.browser_cdp import Browser, chromium_available

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="/usr/bin/chromium is not installed")]

NEW_REPORT = """市民政局2023年政务公开工作总结

一、工作开展情况
全年主动公开政府信息588条，办理低保审批公示34期。
二、存在问题
信息公开栏目分类不够清晰。
"""


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
    with Browser(tmp_path_factory.mktemp("chromium-profile"), width=1280, height=1000) as b:
        yield b


def text_of(b: Browser, selector: str) -> str:
    return b.js(f"(document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''")


def ask(b: Browser, question: str, n_answers: int) -> tuple[float, float]:
    """Type a question, click send; seconds until the first source card and until the answer is final."""
    b.type_into("#question textarea", question)
    t0 = time.perf_counter()
    b.click("#send")
    b.wait_for(f"document.querySelectorAll('#chatbot .bot, #chatbot [data-testid=bot]').length >= {n_answers}"
               " && document.querySelector('#sources-panel .src-card')", what="first source")
    first = time.perf_counter() - t0
    b.wait_for("document.querySelector('#question textarea').value === ''", what="answer done")
    return first, time.perf_counter() - t0


def test_chat_similar_viewer_upload(app, browser, shots, tmp_path):
    url, demo = app
    b = browser
    b.goto(url + "/")
    b.wait_for("document.querySelector('#question textarea') && document.querySelector('#send')", what="app loaded")

    first, total = ask(b, "市统计局2023年全年主动公开政府信息多少条？", 1)
    print(f"browser chat: first source {first:.2f}s, answer done {total:.2f}s")
    assert "915" in text_of(b, "#chatbot") and "915" in text_of(b, "#sources-panel")
    b.screenshot(shots / "1_chat.png")

    ask(b, "那存在哪些问题？", 2)
    assert "存在问题" in text_of(b, "#sources-panel") or "不够全面" in text_of(b, "#chatbot")
    b.screenshot(shots / "2_chat_followup.png")

    b.click_text("button[role=tab]", "相似表述")
    b.wait_for("document.querySelector('#similar-input textarea')", what="similar tab")
    b.type_into("#similar-input textarea", "今年主动公开政府信息共900多条。政策解读的形式比较单一。")
    b.click("#similar-go")
    b.wait_for("document.querySelectorAll('#similar-out .sim-card').length >= 2", what="similar results")
    out = text_of(b, "#similar-out")
    assert "统计局" in out and "复制" in out and "存在问题" in out
    assert b.js("document.querySelectorAll('#similar-out mark').length") > 0
    b.call("Browser.grantPermissions", origin=url, permissions=["clipboardReadWrite", "clipboardSanitizedWrite"])
    b.click("#similar-out .copy-btn")
    b.wait_for("document.querySelector('#similar-out .copy-btn').innerText === '已复制'", what="copied")
    copied = b.js("navigator.clipboard.readText()")
    assert "全年主动公开政府信息915条" in copied  # the whole passage, also when the card shows an excerpt
    b.screenshot(shots / "3_similar.png")

    # Open the passage the first answer cited, as its 查看原文 link does.
    b.click_text("button[role=tab]", "问答")
    href = b.js("document.querySelector('#sources-panel .src-card a').getAttribute('href')")
    assert href.startswith("?report=") and "&chunk=" in href
    b.goto(url + "/" + href)
    b.wait_for("document.getElementById('passage-target')", what="viewer target")
    time.sleep(1.0)  # the scroll runs after the HTML update
    marked = b.js("[...document.querySelectorAll('#report-body mark.target')].map(e => e.innerText).join('')")
    assert marked.strip() and marked.strip() in text_of(b, "#report-body")
    rect = b.js("(() => { const r = document.getElementById('passage-target').getBoundingClientRect();"
                " return [r.top, window.innerHeight]; })()")
    assert 0 <= rect[0] <= rect[1], rect
    assert "原文" == b.js("document.querySelector('button[role=tab][aria-selected=true]').innerText.trim()")
    b.screenshot(shots / "4_viewer.png")

    svc = demo.service
    evil = next(r["report_id"] for r in svc.searcher.reports() if "测试局" in r["title"])
    chunk = svc.searcher.report(evil)["chunks"][-1]["chunk_id"]
    b.goto(f"{url}/?report={evil}&chunk={chunk}")
    b.wait_for("document.getElementById('passage-target')", what="hostile report")
    assert b.js("document.querySelectorAll('#report-body script, #report-body img').length") == 0
    assert '<script>alert("xss")</script>' in text_of(b, "#report-body")
    b.screenshot(shots / "5_viewer_script_escaped.png")

    b.goto(url + "/")
    b.wait_for("document.querySelector('#question textarea')", what="app reloaded")
    ask(b, "XX区测试局全年开展专项检查多少次？", 1)
    assert "27" in text_of(b, "#chatbot") and '<script>alert("xss")</script>' in text_of(b, "#sources-panel")
    assert b.js("document.querySelectorAll('#chatbot script, #chatbot img, #sources-panel script, "
                "#sources-panel img').length") == 0
    b.screenshot(shots / "5b_chat_script_escaped.png")

    b.click_text("button[role=tab]", "上传与状态")
    new_file = tmp_path / "市民政局 总结.txt"
    new_file.write_text(NEW_REPORT, encoding="utf-8")
    doc = b.call("DOM.getDocument")
    node = b.call("DOM.querySelector", nodeId=doc["root"]["nodeId"], selector="#upload-files input[type=file]")
    b.call("DOM.setFileInputFiles", nodeId=node["nodeId"], files=[str(new_file)])
    b.wait_for("document.querySelector('#upload-files').innerText.includes('市民政局')", what="file attached")
    b.click("#upload-go")
    b.wait_for("document.querySelector('#upload-result').innerText.includes('已添加')", timeout=120, what="indexed")
    assert "5 份报告" in text_of(b, "#index-status")
    b.wait_for("document.querySelector('#status-line').innerText.includes('5 份报告')", what="header refreshed")
    assert "/tmp" not in text_of(b, "#upload-result")
    assert any("民政局" in r["title"] for r in svc.searcher.reports())
    b.screenshot(shots / "6_upload.png")
