"""HTTPServer.drain and WebSockets, with real clients on 127.0.0.1: an
open WebSocket is closed with 1001 (going away), one whose peer never
answers is cut at the deadline, and a closed one is not waited for."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from tornado.httpserver import DrainResult, HTTPServer
from tornado.web import Application
from tornado.websocket import WebSocketHandler, websocket_connect


class Echo(WebSocketHandler):
    """Echoes messages and records that it was closed."""

    closed_handlers: list[Echo] = []
    one_closed: asyncio.Event

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message)

    def on_close(self) -> None:
        self.closed_handlers.append(self)
        self.one_closed.set()


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[HTTPServer, int]]:
    """An application with a WebSocket echo at ``/ws`` on a free port."""
    Echo.closed_handlers = []
    Echo.one_closed = asyncio.Event()
    server = HTTPServer(Application([("/ws", Echo)]))
    server.listen(0, "127.0.0.1")
    port: int = next(iter(server._sockets.values())).getsockname()[1]
    yield server, port
    server.stop()
    await server.close_all_connections()


async def refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


@pytest.mark.asyncio
async def test_open_websocket_sees_going_away(server: tuple[HTTPServer, int]) -> None:
    http_server, port = server
    client = await websocket_connect(f"ws://127.0.0.1:{port}/ws")
    await client.write_message("hi")
    assert await client.read_message() == "hi"
    drain = asyncio.ensure_future(http_server.drain(None))
    # The server's close frame ends the message stream.
    assert await client.read_message() is None
    assert client.close_code == 1001
    assert await refused(port)
    assert await drain == DrainResult(finished=1, cut=0)
    assert len(Echo.closed_handlers) == 1


@pytest.mark.asyncio
async def test_websocket_closed_before_the_drain_is_forgotten(
    server: tuple[HTTPServer, int],
) -> None:
    http_server, port = server
    client = await websocket_connect(f"ws://127.0.0.1:{port}/ws")
    await client.write_message("hi")
    assert await client.read_message() == "hi"
    client.close(1000)
    await Echo.one_closed.wait()
    assert not http_server._detached
    assert await http_server.drain(None) == DrainResult(finished=0, cut=0)


@pytest.mark.asyncio
async def test_silent_peer_is_cut_at_the_deadline(server: tuple[HTTPServer, int]) -> None:
    http_server, port = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16))
    writer.write(
        b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + key + b"\r\n\r\n"
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    assert b"close" not in head.lower().split(b"connection:")[1].split(b"\r\n")[0]
    # This peer reads the close frame but never answers it.
    result = await http_server.drain(0.2)
    assert result == DrainResult(finished=0, cut=1)
    frame = await reader.readexactly(2)
    assert frame[0] == 0x88
    payload = await reader.readexactly(frame[1])
    assert int.from_bytes(payload[:2], "big") == 1001
    assert await reader.read() == b""
    writer.close()


@pytest.mark.asyncio
async def test_several_websockets_all_go_away(
    server: tuple[HTTPServer, int],
) -> None:
    http_server, port = server
    clients: list[Any] = [await websocket_connect(f"ws://127.0.0.1:{port}/ws") for _ in range(3)]
    result = await http_server.drain(None)
    assert result == DrainResult(finished=3, cut=0)
    for client in clients:
        assert await client.read_message() is None
        assert client.close_code == 1001


class SlowUpgrade(Echo):
    """Holds the upgrade request in ``prepare`` until the test lets it go."""

    reached: asyncio.Event
    release: asyncio.Event

    async def prepare(self) -> None:
        self.reached.set()
        await self.release.wait()


@pytest.mark.asyncio
async def test_upgrade_in_flight_is_accepted_then_goes_away() -> None:
    SlowUpgrade.closed_handlers = []
    SlowUpgrade.one_closed = asyncio.Event()
    SlowUpgrade.reached = asyncio.Event()
    SlowUpgrade.release = asyncio.Event()
    http_server = HTTPServer(Application([("/slow", SlowUpgrade)]))
    http_server.listen(0, "127.0.0.1")
    port: int = next(iter(http_server._sockets.values())).getsockname()[1]
    try:
        connecting = asyncio.ensure_future(websocket_connect(f"ws://127.0.0.1:{port}/slow"))
        await SlowUpgrade.reached.wait()
        drain = asyncio.ensure_future(http_server.drain(None))
        # One turn of the loop: the drain's synchronous part runs.
        await asyncio.sleep(0)
        assert await refused(port)
        SlowUpgrade.release.set()
        # The handshake completes (its 101 keeps Connection: Upgrade) ...
        client = await connecting
        # ... and the new WebSocket is told at once that the server goes away.
        assert await client.read_message() is None
        assert client.close_code == 1001
        assert await drain == DrainResult(finished=1, cut=0)
    finally:
        http_server.stop()
        await http_server.close_all_connections()
