"""The demos start as users start them and answer real requests on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def hello_url() -> Iterator[str]:
    """Start demos/hello/app.py on a free port; yield its base URL; stop it."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "demos/hello/app.py"), "--port", "0"],
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
        proc.communicate(timeout=10)


def test_hello_demo_renders_escaped_greeting(hello_url: str) -> None:
    with urllib.request.urlopen(hello_url + "?name=%3Cb%3EAda%3C/b%3E", timeout=10) as resp:
        body = resp.read().decode()
        assert resp.status == 200
        assert resp.headers["Content-Type"].lower() == "text/html; charset=utf-8"
    assert "<h1>Hello, &lt;b&gt;Ada&lt;/b&gt;!</h1>" in body
    assert "<title>Hello, &lt;b&gt;Ada&lt;/b&gt;</title>" in body
    assert 'href="/?name=you+%26+me"' in body


def test_hello_demo_plain_hello_world(hello_url: str) -> None:
    with urllib.request.urlopen(hello_url + "plain", timeout=10) as resp:
        assert resp.status == 200
        assert resp.read() == b"Hello, world"
        assert resp.headers["Server"].startswith("TornadoServer/")


def test_hello_demo_unknown_path_is_404(hello_url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(hello_url + "nope", timeout=10)
    assert info.value.code == 404
    info.value.close()
