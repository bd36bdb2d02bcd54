"""The TCP echo demo end to end, in the workspace and from tornado-iostream's wheels alone."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tools.venvs import Venv

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demos" / "tcpecho"


def start_server(python: str) -> tuple[subprocess.Popen[str], int]:
    """Start the demo server on a free port; return the process and the port."""
    proc = subprocess.Popen(
        [python, str(DEMO / "server.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise AssertionError(line + err)
    return proc, int(line.rsplit(":", 1)[1])


def stop_server(proc: subprocess.Popen[str]) -> str:
    """Stop the server as Ctrl-C would; return its stderr."""
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    return err


@pytest.fixture
def echo_port() -> Iterator[int]:
    proc, port = start_server(sys.executable)
    try:
        yield port
    finally:
        assert "Traceback" not in stop_server(proc)


def test_client_prints_echoes(echo_port: int) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(DEMO / "client.py"),
            "--port",
            str(echo_port),
            "hello",
            "wörld",
            "--count",
            "100",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["hello", "wörld", "100 lines echoed"]


def test_thousand_concurrent_clients(echo_port: int) -> None:
    async def one(i: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", echo_port)
        try:
            writer.write(b"client %d\n" % i)
            return await reader.readline()
        finally:
            writer.close()
            await writer.wait_closed()

    async def main() -> list[bytes]:
        # A guard against hangs, not a measurement.
        return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(1000))), 60)

    assert asyncio.run(main()) == [b"client %d\n" % i for i in range(1000)]


def test_overlong_line_closes_only_that_connection(echo_port: int) -> None:
    async def main() -> tuple[bytes, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", echo_port)
        writer.write(b"x" * (200 * 1024))
        # The server hangs up instead of buffering; with our bytes unread on
        # its side, the kernel may turn the close into a reset.
        try:
            closed = await reader.read()
        except ConnectionResetError:
            closed = b""
        writer.close()
        reader2, writer2 = await asyncio.open_connection("127.0.0.1", echo_port)
        writer2.write(b"fine\n")
        reply = await reader2.readline()
        writer2.close()
        return closed, reply

    closed, reply = asyncio.run(main())
    assert closed == b"" and reply == b"fine\n"


@pytest.mark.integration
def test_demo_runs_from_iostream_wheels_alone(make_venv: Callable[[], Venv]) -> None:
    venv = make_venv()
    venv.install("tornado-iostream")
    installed = set(venv.installed())
    assert {"tornado-iostream", "tornado-ioloop", "tornado-core"} <= installed
    assert not installed & {"tornado-http", "tornado-web", "tornado"}
    out = venv.run(
        "try:\n"
        "    import tornado.httpserver\n"
        "except ModuleNotFoundError as e:\n"
        "    print('missing', e.name)\n"
    )
    assert out.strip() == "missing tornado.httpserver"
    proc, port = start_server(str(venv.python))
    try:
        result = subprocess.run(
            [str(venv.python), str(DEMO / "client.py"), "--port", str(port), "isolated"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "isolated"
    finally:
        stop_server(proc)
