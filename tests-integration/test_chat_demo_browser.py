"""The chat demo in a real browser: two tabs, a message typed in one appears
in the other through the long poll.

Uses Debian's chromium (``/usr/bin/chromium``) driven by Playwright's Python
package; nothing is downloaded.  Skipped when either is missing, except in
CI (``CI`` set), which installs both and must run it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAT = ROOT / "demos" / "chat" / "app.py"
CHROMIUM = "/usr/bin/chromium"

if os.environ.get("CI"):
    # In CI a missing browser must fail the run, never pass as a skip.
    from playwright import sync_api

    if shutil.which(CHROMIUM) is None:
        raise RuntimeError(f"CI must provide {CHROMIUM} for the browser test")
else:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright's Python package is not installed"
    )
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed", allow_module_level=True)


@pytest.fixture
def chat_url() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(CHAT), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving on "), line + (proc.stderr.read() if proc.stderr else "")
        yield line.split()[-1]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        assert "Traceback" not in err, err


def test_message_typed_in_one_tab_appears_in_the_other(chat_url: str) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            context = browser.new_context()
            first = context.new_page()
            second = context.new_page()
            errors: list[str] = []
            for page in (first, second):
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.goto(chat_url)
                sync_api.expect(page.locator("#message")).to_be_visible()
            # Let the second tab's long poll be waiting before the first posts.
            with second.expect_request("**/a/message/updates"):
                second.reload()
            first.fill("#message", "hello from tab one <b>")
            first.press("#message", "Enter")
            sync_api.expect(first.locator("#inbox .message")).to_have_text(
                ["hello from tab one <b>"], timeout=15_000
            )
            sync_api.expect(second.locator("#inbox .message")).to_have_text(
                ["hello from tab one <b>"], timeout=15_000
            )
            # The reply travels the other way too.
            second.fill("#message", "and back from tab two")
            second.press("#message", "Enter")
            sync_api.expect(first.locator("#inbox .message")).to_have_text(
                ["hello from tab one <b>", "and back from tab two"], timeout=15_000
            )
            assert errors == []
        finally:
            browser.close()
