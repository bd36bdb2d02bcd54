"""Handler and client behaviours matched to Tornado 6.6: origin rules,
subprotocol selection, handshake errors, text/binary choice, the response
methods after the upgrade, ping timeouts and flood control."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from tornado import _websocket_proto as proto
from tornado.concurrent import Future
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.iostream import IOStream
from tornado.web import RequestHandler
from tornado.websocket import (
    WebSocketError,
    WebSocketHandler,
    WebSocketProtocol13,
    websocket_connect,
)

from .conftest import Serve


class Echo(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


class TrustSubdomains(Echo):
    def check_trusted_origin(self, origin: str) -> bool:
        return origin.endswith(".example.com") and "evil" not in origin


async def echo_once(port: int, path: str, headers: dict[str, str]) -> None:
    request = HTTPRequest(f"ws://127.0.0.1:{port}{path}", headers=headers)
    ws = await websocket_connect(request)
    await ws.write_message("ping?")
    assert await ws.read_message() == "ping?"
    ws.close()


async def refused(port: int, path: str, headers: dict[str, str]) -> None:
    request = HTTPRequest(f"ws://127.0.0.1:{port}{path}", headers=headers)
    with pytest.raises(HTTPClientError) as info:
        await websocket_connect(request)
    assert info.value.code == 403


@pytest.mark.asyncio
async def test_origin_rules(serve: Serve) -> None:
    port = await serve(
        [("/", Echo), ("/subdomains", TrustSubdomains)],
        trusted_origins=["https://trusted.example.com"],
    )
    # The trusted_origins setting, with or without Sec-Fetch-Site.
    await echo_once(port, "/", {"Origin": "https://trusted.example.com"})
    await echo_once(
        port, "/", {"Origin": "https://trusted.example.com", "Sec-Fetch-Site": "cross-site"}
    )
    # Sec-Fetch-Site decides before the Origin/Host comparison.
    await echo_once(
        port, "/", {"Origin": "https://behind.proxy.example", "Sec-Fetch-Site": "same-origin"}
    )
    await refused(port, "/", {"Origin": "https://sub.example.com", "Sec-Fetch-Site": "same-site"})
    await refused(port, "/", {"Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "cross-site"})
    await refused(port, "/", {"Origin": "https://trusted.example.com.evil"})
    # Same host without Sec-Fetch-Site, and no Origin at all.
    await echo_once(port, "/", {"Origin": f"http://127.0.0.1:{port}"})
    await echo_once(port, "/", {})
    # check_trusted_origin is the hook for patterns.
    await echo_once(
        port, "/subdomains", {"Origin": "https://sub.example.com", "Sec-Fetch-Site": "same-site"}
    )
    await refused(
        port, "/subdomains", {"Origin": "https://evil.example.com", "Sec-Fetch-Site": "cross-site"}
    )


@pytest.mark.asyncio
async def test_select_subprotocol_called_with_empty_list(serve: Serve) -> None:
    offers: list[list[str]] = []

    class Sub(Echo):
        def select_subprotocol(self, subprotocols: list[str]) -> str | None:
            offers.append(list(subprotocols))
            return None

        def open(self, *args: str, **kwargs: str) -> None:
            self.write_message(f"selected={self.selected_subprotocol}")

    port = await serve([("/", Sub)])
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    assert ws.selected_subprotocol is None
    assert await ws.read_message() == "selected=None"
    assert offers == [[]]
    ws.close()


class Plain(RequestHandler):
    def get(self) -> None:
        self.write("just a page")


class Moved(RequestHandler):
    def get(self) -> None:
        self.redirect("/")


@pytest.mark.asyncio
async def test_non_upgrade_answers(serve: Serve) -> None:
    port = await serve([("/", Echo), ("/plain", Plain), ("/moved", Moved)])
    with pytest.raises(WebSocketError) as info:
        await websocket_connect(f"ws://127.0.0.1:{port}/plain")
    assert not isinstance(info.value, HTTPClientError)
    with pytest.raises(HTTPClientError) as http_info:
        await websocket_connect(f"ws://127.0.0.1:{port}/moved")
    assert http_info.value.code == 302


@pytest.mark.asyncio
async def test_bytes_are_text_unless_binary(serve: Serve) -> None:
    class Kinds(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            self.write_message(type(message).__name__)
            self.write_message(b"as text")
            self.write_message("as binary", binary=True)

    port = await serve([("/", Kinds)])
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    await ws.write_message(b"bytes")
    assert await ws.read_message() == "str"
    assert await ws.read_message() == "as text"
    assert await ws.read_message() == b"as binary"
    await ws.write_message(b"bytes", binary=True)
    assert await ws.read_message() == "bytes"
    ws.close()


@pytest.mark.asyncio
async def test_response_methods_raise_after_upgrade(serve: Serve) -> None:
    class Strict(WebSocketHandler):
        def open(self, *args: str, **kwargs: str) -> None:
            calls: list[Any] = [
                lambda: self.write("x"),
                lambda: self.redirect("/elsewhere"),
                lambda: self.set_header("X-Late", "1"),
                lambda: self.set_cookie("late", "1"),
                lambda: self.set_status(503),
                lambda: self.flush(),
                lambda: self.finish(),
            ]
            refused = 0
            for call in calls:
                try:
                    call()
                except RuntimeError:
                    refused += 1
            self.write_message(f"refused {refused}")

    port = await serve([("/", Strict)])
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    assert await ws.read_message() == "refused 7"
    ws.close()


@pytest.mark.asyncio
async def test_client_stream_attribute(serve: Serve) -> None:
    port = await serve([("/", Echo)])
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    assert isinstance(ws.stream, IOStream)
    ws.write_message("unsent, probably")
    ws.stream.close()
    assert await ws.read_message() is None
    ws.close()  # harmless on a closed connection


@pytest.mark.asyncio
async def test_ping_timeout_closes_with_1000() -> None:
    # A peer that completes the handshake and then never answers pings.
    frames: asyncio.Future[tuple[int | None, str | None]] = (
        asyncio.get_running_loop().create_future()
    )

    async def silent_peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        key = next(
            line.split(":", 1)[1].strip()
            for line in head.split("\r\n")
            if line.lower().startswith("sec-websocket-key:")
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
            + proto.accept_key(key).encode()
            + b"\r\n\r\n"
        )
        protocol = proto.WebSocketProtocol(is_client=False)
        while not frames.done():
            data = await reader.read(4096)
            if not data:
                break
            for event in protocol.receive_data(data):
                if isinstance(event, proto.CloseReceived):
                    frames.set_result((event.code, event.reason))
                    writer.write(protocol.send_close(event.code))
        writer.close()

    server = await asyncio.start_server(silent_peer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        ws = await websocket_connect(
            f"ws://127.0.0.1:{port}/", ping_interval=0.01, ping_timeout=0.01
        )
        assert await frames == (1000, "ping timed out")
        assert await ws.read_message() is None
        assert ws.close_code == 1000
    finally:
        server.close()
        await server.wait_closed()


def test_ping_sleep_time() -> None:
    assert WebSocketProtocol13.ping_sleep_time(last_ping_time=100.0, interval=10, now=106.0) == 4
    assert WebSocketProtocol13.ping_sleep_time(last_ping_time=100.0, interval=10, now=115.0) == 0


@pytest.mark.asyncio
async def test_pongs_answer_only_the_latest_ping_while_one_is_pending(serve: Serve) -> None:
    handlers: Future[WebSocketHandler] = Future()
    pings: list[bytes] = []

    class Watch(Echo):
        def open(self, *args: str, **kwargs: str) -> None:
            handlers.set_result(self)

        def on_ping(self, data: bytes) -> None:
            pings.append(data)
            if len(pings) == 3:
                self.write_message("three pings")

    port = await serve([("/", Watch)])
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    handler = await handlers
    connection = handler.ws_connection
    assert connection is not None
    written: list[bytes] = []
    pending: list[Future[None]] = []

    def write_frame(fin: bool, opcode: int, data: bytes, flags: int = 0) -> Future[None]:
        written.append(data)
        pending.append(Future())
        return pending[-1]

    connection._write_frame = write_frame  # type: ignore[method-assign]
    for data in (b"1", b"2", b"3"):
        ws.ping(data)
    assert await ws.read_message() == "three pings"
    assert written == [b"1"]
    pending[0].set_result(None)
    await asyncio.sleep(0)
    assert written == [b"1", b"3"]
    pending[1].set_result(None)
    await asyncio.sleep(0)
    assert written == [b"1", b"3"]
    ws.close()


@pytest.mark.asyncio
async def test_burst_of_small_messages_lets_the_loop_run(serve: Serve) -> None:
    count = 2000
    received: list[str | bytes] = []
    opened: Future[None] = Future()

    class Count(WebSocketHandler):
        def open(self, *args: str, **kwargs: str) -> None:
            opened.set_result(None)

        def on_message(self, message: str | bytes) -> None:
            received.append(message)

    port = await serve([("/", Count)])
    stream = IOStream(socket.socket())
    await stream.connect(("127.0.0.1", port))
    # One-byte binary frames with an all-zero mask, sent with the handshake.
    frames = b"\x82\x81\x00\x00\x00\x00x" * count
    stream.write(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" + frames
    )
    await opened
    turns = 0
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def tick() -> None:
        nonlocal turns
        if len(received) >= count:
            done.set_result(None)
            return
        turns += 1
        asyncio.get_running_loop().call_soon(tick)

    tick()
    await done
    assert turns > 10
    stream.close()
