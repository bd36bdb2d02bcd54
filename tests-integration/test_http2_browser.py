"""A headless Chromium (Debian's, through Playwright) loads the demos over
HTTP/2 from HTTP2Server with TLS (certificates made at test time): the hello
page and the chat room, whose long poll and posts share the h2 connection."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

ROOT = Path(__file__).resolve().parents[1]
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

#: Serves a demo's make_app() on HTTP2Server over TLS; prints its port.
RUNNER = textwrap.dedent(
    """
    import asyncio, importlib.util, sys
    from tornado.http2 import HTTP2Server
    from tornado.netutil import bind_sockets

    spec = importlib.util.spec_from_file_location("demo", sys.argv[1])
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)

    async def main():
        sockets = bind_sockets(0, "127.0.0.1")
        server = HTTP2Server(demo.make_app(), ssl_options={"certfile": sys.argv[2], "keyfile": sys.argv[3]})
        server.add_sockets(sockets)
        print("port", sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


def _serve_demo(name: str, tmp_path: Path) -> Iterator[str]:
    cert = trustme.CA().issue_cert("localhost", "127.0.0.1")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    app = ROOT / "demos" / name / "app.py"
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(app), str(certfile), str(keyfile)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("port "), line + (proc.stderr.read() if proc.stderr else "")
        yield f"https://localhost:{line.split()[1]}"
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        assert "Traceback" not in err, err


@pytest.fixture
def hello_url(tmp_path: Path) -> Iterator[str]:
    yield from _serve_demo("hello", tmp_path)


@pytest.fixture
def chat_url(tmp_path: Path) -> Iterator[str]:
    yield from _serve_demo("chat", tmp_path)


def _browser(playwright: object) -> object:
    return playwright.chromium.launch(  # type: ignore[attr-defined]
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


NEXT_HOP = "performance.getEntriesByType('navigation')[0].nextHopProtocol"


def test_hello_page_loads_over_h2(hello_url: str) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            page = browser.new_context(ignore_https_errors=True).new_page()  # type: ignore[attr-defined]
            response = page.goto(hello_url + "/?name=chromium")
            assert response is not None and response.status == 200
            assert page.evaluate(NEXT_HOP) == "h2"
            assert "chromium" in page.content()
        finally:
            browser.close()  # type: ignore[attr-defined]


def test_chat_over_h2_between_two_tabs(chat_url: str) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            context = browser.new_context(ignore_https_errors=True)  # type: ignore[attr-defined]
            first = context.new_page()
            second = context.new_page()
            errors: list[str] = []
            for page in (first, second):
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.goto(chat_url)
                sync_api.expect(page.locator("#message")).to_be_visible()
                assert page.evaluate(NEXT_HOP) == "h2"
            with second.expect_request("**/a/message/updates"):
                second.reload()
            first.fill("#message", "hello over h2")
            first.press("#message", "Enter")
            sync_api.expect(first.locator("#inbox .message")).to_have_text(
                ["hello over h2"], timeout=15_000
            )
            sync_api.expect(second.locator("#inbox .message")).to_have_text(
                ["hello over h2"], timeout=15_000
            )
            assert errors == []
        finally:
            browser.close()  # type: ignore[attr-defined]
