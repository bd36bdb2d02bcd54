"""The WebSocket chat demo end to end: two clients in one room, real sockets.

The in-process tests import demos/websocket_chat/app.py and serve it on
127.0.0.1; one test starts the demo as a user does (a subprocess).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest
import pytest_asyncio

from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.websocket import websocket_connect

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demos" / "websocket_chat" / "app.py"


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("websocket_chat_demo_app", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest_asyncio.fixture(params=["httpserver", "uvicorn"])
async def chat_port(request: pytest.FixtureRequest) -> AsyncIterator[int]:
    """The demo on our HTTPServer, or through `tornado.asgi.ASGIAdapter`
    under a real uvicorn server in the same loop."""
    if request.param == "httpserver":
        server = HTTPServer(load_demo().make_app())
        server.listen(0, "127.0.0.1")
        port: int = next(iter(server._sockets.values())).getsockname()[1]
        yield port
        server.stop()
        await server.close_all_connections()
        return
    uvicorn = pytest.importorskip("uvicorn")
    from tornado.asgi import ASGIAdapter
    from tornado.netutil import bind_sockets

    sockets = bind_sockets(0, "127.0.0.1")
    config = uvicorn.Config(
        ASGIAdapter(load_demo().make_app()), log_level="warning", lifespan="off"
    )
    asgi_server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(asgi_server.serve(sockets=sockets))
    while not asgi_server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0)  # lets the server start; not a timed wait
    yield sockets[0].getsockname()[1]
    asgi_server.should_exit = True
    await task
    for sock in sockets:
        sock.close()


@pytest.mark.asyncio
async def test_page_serves_the_client(chat_port: int) -> None:
    client = AsyncHTTPClient(force_instance=True)
    try:
        page = await client.fetch(f"http://127.0.0.1:{chat_port}/")
        script_path = re.search(r'src="([^"]+chat\.js[^"]*)"', page.body.decode())
        assert script_path is not None
        script = await client.fetch(f"http://127.0.0.1:{chat_port}{script_path.group(1)}")
        assert b"/chatsocket" in script.body
    finally:
        client.close()


@pytest.mark.asyncio
async def test_two_clients_chat(chat_port: int) -> None:
    url = f"ws://127.0.0.1:{chat_port}/chatsocket"
    alice = await websocket_connect(url, compression_options={})
    bob = await websocket_connect(url)
    await alice.write_message(json.dumps({"body": "hi <bob>"}))
    for client in (alice, bob):
        message = json.loads(await client.read_message() or "")
        assert message["body"] == "hi <bob>"
        assert message["html"] == "hi &lt;bob&gt;"
    await bob.write_message(json.dumps({"body": "hello alice"}))
    assert json.loads(await alice.read_message() or "")["body"] == "hello alice"
    assert json.loads(await bob.read_message() or "")["body"] == "hello alice"

    # A newcomer gets the history; a departed member no longer receives.
    bob.close()
    assert await bob.read_message() is None
    carol = await websocket_connect(url)
    history = [json.loads(await carol.read_message() or "")["body"] for _ in range(2)]
    assert history == ["hi <bob>", "hello alice"]
    await carol.write_message(json.dumps({"body": "after bob"}))
    assert json.loads(await alice.read_message() or "")["body"] == "after bob"
    assert json.loads(await carol.read_message() or "")["body"] == "after bob"
    alice.close()
    carol.close()
    assert await alice.read_message() is None
    assert await carol.read_message() is None


@pytest.mark.asyncio
async def test_malformed_message_closes_1003(chat_port: int) -> None:
    ws = await websocket_connect(f"ws://127.0.0.1:{chat_port}/chatsocket")
    await ws.write_message("not json")
    assert await ws.read_message() is None
    assert ws.close_code == 1003


@pytest.mark.asyncio
async def test_demo_runs_as_a_script() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(DEMO), f"--port={port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        # The demo logs its address once it listens.
        for line in process.stdout:
            if "websocket chat on" in line:
                break
        else:
            pytest.fail("the demo exited before listening")
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/chatsocket")
        await ws.write_message(json.dumps({"body": "from a script"}))
        assert json.loads(await ws.read_message() or "")["body"] == "from a script"
        ws.close()
        assert await ws.read_message() is None
    finally:
        process.terminate()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
