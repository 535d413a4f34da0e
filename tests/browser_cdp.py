"""A tiny Chrome DevTools Protocol client: start headless Chromium, type, click, wait, screenshot."""
from __future__ import annotations

import base64
import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
         "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         "--remote-allow-origins=*", "--lang=zh-CN"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One headless Chromium with one page, driven over CDP; use as a context manager."""

    def __init__(self, profile_dir: Path, width: int = 1280, height: int = 1000):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--remote-debugging-port={self.port}", f"--user-data-dir={profile_dir}",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ws, self._id, self._stack = None, 0, contextlib.ExitStack()
        try:
            self._connect()
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                      mobile=False)
        except Exception:
            self.close()
            raise

    def _connect(self, timeout: float = 30) -> None:
        from websockets.sync.client import connect

        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=2) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("Chromium did not start its DevTools endpoint")
            time.sleep(0.3)
        self.ws = self._stack.enter_context(
            connect(pages[0]["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024, open_timeout=10))

    def call(self, method: str, **params) -> dict:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"JS error: {r['exceptionDetails']}")
        return r.get("result", {}).get("value")

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def wait_for(self, expression: str, timeout: float = 60, what: str = "") -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.js(f"!!({expression})"):
                    return
            except RuntimeError:
                pass
            time.sleep(0.25)
        raise TimeoutError(f"timed out waiting for {what or expression}")

    def type_into(self, selector: str, text: str) -> None:
        """Focus an element and insert text as if typed (Svelte sees the input events)."""
        self.wait_for(f"document.querySelector({json.dumps(selector)})", timeout=20, what=selector)
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", text=text)

    def click(self, selector: str) -> None:
        # Gradio may still be mounting a component right after the page loads.
        self.wait_for(f"document.querySelector({json.dumps(selector)})", timeout=20, what=selector)
        self.js(f"document.querySelector({json.dumps(selector)}).click()")

    def click_text(self, selector: str, text: str) -> None:
        """Click the first element matching selector whose text is exactly text (e.g. a tab button)."""
        self.wait_for(f"(() => {{ const b = [...document.querySelectorAll({json.dumps(selector)})]"
                      f".find(e => e.textContent.trim() === {json.dumps(text)}); if (b) b.click(); return !!b; }})()",
                      timeout=20, what=f"{selector} with text {text}")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self._stack.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None
