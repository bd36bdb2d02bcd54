"""Interoperability with a real peer: the ``websockets`` package as client of
our server and as server for our client, with and without compression."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed

from tornado.websocket import WebSocketHandler, WebSocketProtocol13, websocket_connect

from .conftest import Serve

BIG_TEXT = "ünïcödé and ascii " * 70_000  # about 1.4 MB of UTF-8
BIG_BINARY = bytes(range(256)) * 4096  # 1 MiB


class Echo(WebSocketHandler):
    def get_compression_options(self) -> dict[str, Any] | None:
        return self.settings.get("compress")

    def on_message(self, message: str | bytes) -> None:
        if message == "close please":
            self.close(4000, "as requested")
            return
        if message == "ping please":
            self.ping(b"server-ping")
            return
        self.write_message(message, binary=isinstance(message, bytes))


@pytest.mark.asyncio
@pytest.mark.parametrize("compress", [False, True])
async def test_websockets_client_against_our_server(serve: Serve, compress: bool) -> None:
    port = await serve([("/", Echo)], compress={} if compress else None)
    async with ws_connect(
        f"ws://127.0.0.1:{port}/",
        compression="deflate" if compress else None,
        max_size=None,
    ) as ws:
        negotiated = ws.response.headers.get("Sec-WebSocket-Extensions")
        assert (negotiated is not None) == compress
        await ws.send("hello")
        assert await ws.recv() == "hello"
        await ws.send(b"\x00\x01\x02")
        assert await ws.recv() == b"\x00\x01\x02"
        await ws.send(BIG_TEXT)
        assert await ws.recv() == BIG_TEXT
        await ws.send(BIG_BINARY)
        assert await ws.recv() == BIG_BINARY
        # A message sent in fragments (the websockets API takes an iterable).
        await ws.send(["frag", "men", "ted"])
        assert await ws.recv() == "fragmented"
        await ws.send([b"a" * 70_000, b"b" * 70_000])
        assert await ws.recv() == b"a" * 70_000 + b"b" * 70_000
        pong = await ws.ping(b"client-ping")
        await pong
        # The client closes.
    assert ws.close_code == 1000


@pytest.mark.asyncio
async def test_websockets_client_sees_server_close(serve: Serve) -> None:
    port = await serve([("/", Echo)])
    async with ws_connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.send("close please")
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4000, "as requested")


@pytest.mark.asyncio
async def test_websockets_client_answers_server_ping(serve: Serve) -> None:
    pongs: asyncio.Queue[bytes] = asyncio.Queue()

    class PingRecorder(Echo):
        def on_pong(self, data: bytes) -> None:
            pongs.put_nowait(data)

    port = await serve([("/", PingRecorder)])
    async with ws_connect(f"ws://127.0.0.1:{port}/") as ws:
        await ws.send("ping please")
        assert await pongs.get() == b"server-ping"


async def echo(connection: ServerConnection) -> None:
    async for message in connection:
        if message == "close please":
            await connection.close(4000, "as requested")
            return
        await connection.send(message)


@pytest_asyncio.fixture
async def ws_server_port() -> AsyncIterator[dict[str, int]]:
    async with (
        ws_serve(echo, "127.0.0.1", 0, compression=None, max_size=None) as plain,
        ws_serve(echo, "127.0.0.1", 0, compression="deflate", max_size=None) as deflate,
    ):
        yield {
            "plain": plain.sockets[0].getsockname()[1],
            "deflate": deflate.sockets[0].getsockname()[1],
        }


@pytest.mark.asyncio
@pytest.mark.parametrize("compress", [False, True])
async def test_our_client_against_websockets_server(
    ws_server_port: dict[str, int], compress: bool
) -> None:
    port = ws_server_port["deflate" if compress else "plain"]
    ws = await websocket_connect(
        f"ws://127.0.0.1:{port}/",
        compression_options={} if compress else None,
        max_message_size=16 * 1024 * 1024,
    )
    assert ("Sec-WebSocket-Extensions" in ws.headers) == compress
    assert isinstance(ws.protocol, WebSocketProtocol13) and ws.protocol._engine is not None
    assert ws.protocol._engine.compressed == compress
    await ws.write_message("hello")
    assert await ws.read_message() == "hello"
    await ws.write_message(b"\xff\x00", binary=True)
    assert await ws.read_message() == b"\xff\x00"
    await ws.write_message(BIG_TEXT)
    assert await ws.read_message() == BIG_TEXT
    await ws.write_message(BIG_BINARY, binary=True)
    assert await ws.read_message() == BIG_BINARY
    protocol = ws.protocol._engine
    # A fragmented message with a ping between the fragments.
    frames = protocol.send_fragments([b"x" * 100_000, b"y" * 100_000], binary=True)
    cut = len(frames) // 2
    ws.stream.write(frames[:cut] if not compress else frames)
    if not compress:
        ws.ping(b"between")
        ws.stream.write(frames[cut:])
    assert await ws.read_message() == b"x" * 100_000 + b"y" * 100_000
    ws.close(1000, "bye")
    assert await ws.read_message() is None
    assert ws.close_code == 1000


@pytest.mark.asyncio
async def test_our_client_sees_websockets_server_close(ws_server_port: dict[str, int]) -> None:
    ws = await websocket_connect(f"ws://127.0.0.1:{ws_server_port['plain']}/")
    await ws.write_message("close please")
    assert await ws.read_message() is None
    assert (ws.close_code, ws.close_reason) == (4000, "as requested")


@pytest.mark.asyncio
async def test_our_client_pongs_websockets_server() -> None:
    pong_waiters: asyncio.Queue[float] = asyncio.Queue()

    async def pinger(connection: ServerConnection) -> None:
        waiter = await connection.ping(b"are you there")
        pong_waiters.put_nowait(await waiter)
        await connection.send("done")

    async with ws_serve(pinger, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
        assert await ws.read_message() == "done"
        assert await pong_waiters.get() >= 0
        ws.close()
        assert await ws.read_message() is None
