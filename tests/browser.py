"""Headless Chromium through Selenium with Debian's chromedriver (given explicitly: Selenium Manager never downloads)."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def chromium_available() -> bool:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return (Path(CHROMIUM).exists() or shutil.which("chromium") is not None) and Path(CHROMEDRIVER).exists()


class Browser:
    """One headless Chromium page (Chinese locale by default, as our users' browsers) with helpers; a context manager."""

    def __init__(self, profile_dir: Path, width: int = 1440, height: int = 900, lang: str = "zh-CN"):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in FLAGS + [f"--lang={lang}", f"--user-data-dir={profile_dir}", f"--window-size={width},{height}"]:
            opts.add_argument(flag)
        opts.add_experimental_option("prefs", {"intl.accept_languages": lang})
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
        self.resize(width, height)

    def resize(self, width: int, height: int) -> None:
        """The viewport (not the window) to exactly width × height, phone-like below 500 px."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500})

    def js(self, expression: str):
        """Evaluate an expression (promises awaited) and return its JSON value."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            f"Promise.resolve().then(() => ({expression})).then(done, (e) => done({{__error: String(e)}}));")

    def goto(self, url: str) -> None:
        self.driver.get(url)

    def wait_for(self, expression: str, timeout: float = 60, what: str = "") -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.driver.execute_script(f"return !!({expression})"):
                    return
            except Exception:  # noqa: BLE001 - the page may be mid-render; try again
                pass
            time.sleep(0.25)
        raise TimeoutError(f"timed out waiting for {what or expression}")

    def find(self, selector: str, timeout: float = 20):
        from selenium.webdriver.common.by import By

        self.wait_for(f"document.querySelector({json.dumps(selector)})", timeout=timeout, what=selector)
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def type_into(self, selector: str, text: str) -> None:
        el = self.find(selector)
        el.clear()
        el.send_keys(text)

    def click(self, selector: str) -> None:
        el = self.find(selector)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
        el.click()

    def click_text(self, selector: str, text: str) -> None:
        """Click the first element matching selector whose trimmed text is exactly text (tabs, list items)."""
        self.wait_for(f"(() => {{ const b = [...document.querySelectorAll({json.dumps(selector)})]"
                      f".find(e => e.textContent.trim() === {json.dumps(text)}); if (b) b.click(); return !!b; }})()",
                      timeout=20, what=f"{selector} with text {text}")

    def text(self, selector: str) -> str:
        return self.driver.execute_script(
            f"return (document.querySelector({json.dumps(selector)}) || {{}}).innerText || ''")

    def upload(self, selector: str, path: Path) -> None:
        self.find(selector).send_keys(str(path))

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        return path

    def close(self) -> None:
        self.driver.quit()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
