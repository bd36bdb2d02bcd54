"""WebSocket handlers under real ASGI servers through `ASGIAdapter`,
driven by the ``websockets`` client, against our own server's behaviour."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tornado.asgi import ASGIAdapter
from tornado.web import Application
from tornado.websocket import WebSocketHandler

from .apps_tornado import make_app
from .conftest import ServeTornado, ServeUvicorn, StartProcess

SERVERS = ["uvicorn", "hypercorn", "daphne", "gunicorn"]


async def conversation(url: str) -> list[object]:
    """What a client sees in one scripted WebSocket session."""
    seen: list[object] = []
    async with ws_connect(url, subprotocols=["other", "chat"], max_size=None) as ws:  # type: ignore[list-item]
        seen.append(ws.subprotocol)
        seen.append(ws.response.headers.get("X-Room"))
        seen.append(json.loads(await ws.recv()))
        await ws.send("hello")
        seen.append(await ws.recv())
        await ws.send(b"\x00\x01binary")
        seen.append(await ws.recv())
        big = "é" * 200_000
        await ws.send(big)
        seen.append(await ws.recv() == big)
        await ws.send("close please")
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        seen.append((closed.value.rcvd.code, closed.value.rcvd.reason))
    return seen


@pytest.mark.asyncio
@pytest.mark.parametrize("server", SERVERS)
async def test_websocket_session_equals_our_server(
    server: str, start_process: StartProcess, serve_tornado: ServeTornado
) -> None:
    theirs = start_process(server, "apps_tornado:asgi_app", probe="/hello")
    ours = await serve_tornado(make_app())
    seen = await conversation(theirs.replace("http", "ws") + "/ws")
    expected = await conversation(ours.replace("http", "ws") + "/ws")
    assert expected == [
        "chat",
        "lobby",
        {"open": "/ws"},
        "hello",
        b"\x00\x01binary",
        True,
        (4001, "as requested"),
    ]
    if server == "daphne":
        # daphne 4 drops the headers of websocket.accept (ASGI spec 2.1)
        # and the reason of websocket.close (spec 2.3).
        expected[1] = None
        expected[-1] = (4001, "")
    assert seen == expected


@pytest.mark.asyncio
@pytest.mark.parametrize("server", SERVERS)
async def test_refused_origin_is_not_accepted(server: str, start_process: StartProcess) -> None:
    base = start_process(server, "apps_tornado:asgi_app", probe="/hello")
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(base.replace("http", "ws") + "/ws", origin="http://evil.test"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403


class Recorder(WebSocketHandler):
    def open(self) -> None:
        self.ping(b"are you there")

    def on_pong(self, data: bytes) -> None:
        self.write_message("pong " + data.decode())

    def on_close(self) -> None:
        closes.append((self.close_code, self.close_reason))
        closed.set()


closes: list[tuple[int | None, str | None]] = []
closed = asyncio.Event()


@pytest.mark.asyncio
async def test_client_close_code_reaches_handler(serve_uvicorn: ServeUvicorn) -> None:
    closes.clear()
    closed.clear()
    base = await serve_uvicorn(ASGIAdapter(Application([("/rec", Recorder)])))
    async with ws_connect(base.replace("http", "ws") + "/rec") as ws:
        # A ping from the handler is answered (locally: ASGI has no pings).
        assert await ws.recv() == "pong are you there"
        await ws.close(4321, "bye")
    assert ws.close_code == 4321
    await closed.wait()
    assert closes == [(4321, "bye")]
