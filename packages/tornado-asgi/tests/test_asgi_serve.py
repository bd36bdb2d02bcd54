"""Our server as an ASGI server: Starlette under ``python -m tornado.asgi``
(a real process, driven by httpx and the websockets client) and under
`tornado.asgi.serve` in the test's loop."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from tornado.asgi import serve

from .conftest import HERE, StartProcess, eventually, listening_socket


@pytest.mark.asyncio
async def test_starlette_under_python_m_tornado_asgi(start_process: StartProcess) -> None:
    base = start_process("tornado", "apps_starlette:app")
    async with httpx.AsyncClient(base_url=base) as client:
        home = await client.get("/")
        assert (home.status_code, home.text) == (200, "starlette home")
        item = (await client.get("/items/3?q=y")).json()
        assert item["id"] == 3 and item["path"] == "/items/3" and item["root_path"] == ""
        assert (await client.get("/state")).text == "hello from lifespan"
        async with client.stream("GET", "/stream") as response:
            body = b"".join([c async for c in response.aiter_raw()])
        assert body == b"chunk 0\nchunk 1\nchunk 2\n"
        payload = os.urandom(300_000)
        answer = (await client.post("/upload", content=payload)).json()
        assert answer["sha256"] == hashlib.sha256(payload).hexdigest()
        failed = await client.get("/fail")
        assert failed.status_code == 500 and b"boom" not in failed.content
    async with ws_connect(base.replace("http", "ws") + "/ws", subprotocols=["chat"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "chat"
        assert ws.response.headers["X-Room"] == "lobby"
        assert await ws.recv() == "welcome /ws"
        await ws.send("round trip")
        assert await ws.recv() == "round trip"
        await ws.send("bye")
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4002


@pytest.mark.asyncio
async def test_root_path_option(start_process: StartProcess) -> None:
    base = start_process("tornado", "apps_starlette:app", "--root-path", "/mnt")
    async with httpx.AsyncClient(base_url=base) as client:
        item = (await client.get("/mnt/items/4")).json()
    assert item["root_path"] == "/mnt" and item["path"] == "/mnt/items/4"


def test_workers_share_the_socket_and_stop_together() -> None:
    sock = listening_socket()
    port = sock.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=HERE)
    command = [sys.executable, "-m", "tornado.asgi", "apps_pid:app", "--fd", str(sock.fileno())]
    proc = subprocess.Popen(
        [*command, "--workers", "2", "--log-level", "warning"],
        pass_fds=[sock.fileno()],
        env=env,
        cwd=HERE,
    )
    sock.close()
    try:
        from .conftest import wait_until_serving

        wait_until_serving(f"http://127.0.0.1:{port}/", proc)
        pids = {int(httpx.get(f"http://127.0.0.1:{port}/").text) for _ in range(20)}
        assert pids and proc.pid not in pids
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_failed_lifespan_startup_exits(tmp_path: Any) -> None:
    (tmp_path / "broken_app.py").write_text(
        "async def app(scope, receive, send):\n"
        "    assert scope['type'] == 'lifespan'\n"
        "    await receive()\n"
        "    await send({'type': 'lifespan.startup.failed', 'message': 'no database'})\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "tornado.asgi", "broken_app:app", "--port", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3
    assert "no database" in result.stderr


def test_malformed_target_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tornado.asgi", "no_colon_here"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "module:attribute" in result.stderr


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise ValueError("http only")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"raw")]})
    await send({"type": "http.response.body", "body": b"raw asgi"})


@pytest.mark.asyncio
async def test_serve_in_process_until_cancelled() -> None:
    sock = listening_socket()
    sock.setblocking(False)
    port = sock.getsockname()[1]
    task = asyncio.get_running_loop().create_task(serve(hello, sockets=[sock]))
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"http://127.0.0.1:{port}/anything")
    assert (answer.status_code, answer.text, answer.headers["x-app"]) == (200, "raw asgi", "raw")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    sock.close()


def test_keep_alive_connection_serves_many_requests(start_process: StartProcess) -> None:
    # An app that answers before the connection has read the (empty) body
    # must not make our HTTP/1 connection close: every request of a
    # keep-alive connection gets its answer on it.
    base = start_process("tornado", "apps_pid:app")
    with httpx.Client(base_url=base) as client:
        sockets = set()
        for _ in range(100):
            answer = client.get("/", extensions={"trace": None})
            assert answer.status_code == 200
            sockets.add(id(answer.extensions["network_stream"]))
        assert len(sockets) == 1  # one connection carried all of them


seen: list[str] = []


async def misbehaving(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Each path does one thing wrong (or right) for the serve() HTTP path."""
    if scope["type"] != "http":
        raise ValueError("http only")
    path = scope["path"]
    if path == "/early-body":
        try:
            await send({"type": "http.response.body", "body": b"too early"})
        except Exception as e:
            seen.append(str(e))
            raise
    elif path == "/silent":
        return  # no response at all
    elif path == "/half":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        return  # started, no body: nothing was written yet
    elif path == "/broken":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("failed mid-response")
    elif path == "/no-content":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/endless":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"tick", "more_body": True})
        message = await receive()
        while message["type"] == "http.request":
            message = await receive()
        seen.append(message["type"])
        try:
            await send({"type": "http.response.body", "body": b"late", "more_body": True})
        except OSError:
            seen.append("send raised OSError")


@pytest.mark.asyncio
async def test_serve_http_path_edge_cases() -> None:
    seen.clear()
    sock = listening_socket()
    sock.setblocking(False)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    task = asyncio.get_running_loop().create_task(serve(misbehaving, sockets=[sock]))
    async with httpx.AsyncClient(base_url=base) as client:
        early = await client.get("/early-body")
        assert (early.status_code, early.text) == (500, "Internal Server Error")
        assert seen == [
            "unexpected ASGI message 'http.response.body': expected 'http.response.start'"
        ]
        assert (await client.get("/silent")).status_code == 500
        assert (await client.get("/half")).status_code == 500
        # Failed after the response started: the connection is dropped.
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/broken")
        empty = await client.get("/no-content")
        assert empty.status_code == 204 and "content-length" not in empty.headers
        async with client.stream("GET", "/endless") as response:
            assert await response.aiter_raw().__anext__() == b"tick"
    await eventually(lambda: len(seen) >= 3, "the app saw the disconnect")
    assert seen[1:] == ["http.disconnect", "send raised OSError"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_reload_serves_the_changed_module(tmp_path: Any) -> None:
    source = (
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n"
        "        return\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b'VERSION'})\n"
    )
    module = tmp_path / "reloading_app.py"
    module.write_text(source.replace("VERSION", "first"))
    sock = listening_socket()
    port = sock.getsockname()[1]
    sock.close()  # --reload re-executes the command: it must bind by port
    command = [sys.executable, "-m", "tornado.asgi", "reloading_app:app", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--reload", "--no-lifespan", "--log-level", "warning"],
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        from .conftest import STARTUP_DEADLINE, wait_until_serving

        wait_until_serving(url, proc)
        assert httpx.get(url).text == "first"
        module.write_text(source.replace("VERSION", "second"))
        deadline = time.monotonic() + STARTUP_DEADLINE
        bump = 0
        while True:  # polls until the re-executed server answers anew
            # The watcher takes its first look at the files some time after
            # the start: move the mtime on until it has seen one change.
            bump += 1
            mtime = module.stat().st_mtime + bump
            os.utime(module, (mtime, mtime))
            try:
                if httpx.get(url, timeout=1.0).text == "second":
                    break
            except httpx.TransportError:
                pass  # between the exec and the new bind
            assert time.monotonic() < deadline and proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
