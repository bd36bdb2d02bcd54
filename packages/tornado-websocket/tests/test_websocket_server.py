"""WebSocketHandler and websocket_connect against each other over real sockets."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from typing import Any

import pytest

from tornado import _websocket_proto as proto
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.iostream import IOStream
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketClosedError,
    WebSocketHandler,
    WebSocketProtocol13,
    websocket_connect,
)

from .conftest import Serve


class Echo(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


class Closed:
    """Records on_close of handlers, so tests can wait for it."""

    def __init__(self) -> None:
        self.future: asyncio.Future[tuple[int | None, str | None]] = (
            asyncio.get_running_loop().create_future()
        )


class Recording(WebSocketHandler):
    def initialize(self, closed: Closed) -> None:
        self.closed = closed

    def on_message(self, message: str | bytes) -> None:
        if message == "close-me":
            self.close(4001, "asked")
        else:
            self.write_message(message, binary=isinstance(message, bytes))

    def on_close(self) -> None:
        if not self.closed.future.done():
            self.closed.future.set_result((self.close_code, self.close_reason))


async def connect(port: int, path: str = "/", **kwargs: Any) -> WebSocketClientConnection:
    return await websocket_connect(f"ws://127.0.0.1:{port}{path}", **kwargs)


async def raw_request(port: int, head: str) -> bytes:
    """Send a raw request head; return the response head."""
    stream = IOStream(socket.socket())
    await stream.connect(("127.0.0.1", port))
    try:
        await stream.write(head.encode("latin-1"))
        return await stream.read_until(b"\r\n\r\n")
    finally:
        stream.close()


KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def upgrade_head(port: int, **overrides: str | None) -> str:
    headers: dict[str, str | None] = {
        "Host": f"127.0.0.1:{port}",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
    }
    headers.update(overrides)
    lines = ["GET / HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items() if v is not None]
    return "\r\n".join(lines) + "\r\n\r\n"


@pytest.mark.asyncio
async def test_echo_text_binary_and_json(serve: Serve) -> None:
    port = await serve([("/", Echo)])
    ws = await connect(port)
    await ws.write_message("héllo")
    assert await ws.read_message() == "héllo"
    await ws.write_message(b"\x00\xff", binary=True)
    assert await ws.read_message() == b"\x00\xff"
    await ws.write_message({"a": 1})
    assert await ws.read_message() == '{"a": 1}'
    await ws.write_message("as binary", binary=True)
    assert await ws.read_message() == b"as binary"
    ws.close()
    assert await ws.read_message() is None
    assert await ws.read_message() is None


@pytest.mark.asyncio
async def test_handshake_response_headers(serve: Serve) -> None:
    port = await serve([("/", Echo)])
    response = await raw_request(port, upgrade_head(port))
    head, _, _ = response.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 101 Switching Protocols"
    assert "Sec-Websocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in lines
    assert "Upgrade: websocket" in lines
    assert "Connection: Upgrade" in lines
    assert not any(line.startswith("Content-Length") for line in lines)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"Upgrade": None}, 400),
        ({"Upgrade": "h2c"}, 400),
        ({"Connection": "keep-alive"}, 400),
        ({"Sec-WebSocket-Key": None}, 400),
        ({"Sec-WebSocket-Key": "short"}, 400),
        ({"Sec-WebSocket-Version": None}, 426),
        ({"Sec-WebSocket-Version": "12"}, 426),
        ({"Origin": "http://evil.example"}, 403),
    ],
)
async def test_handshake_errors(
    serve: Serve, overrides: dict[str, str | None], status: int
) -> None:
    port = await serve([("/", Echo)])
    head = upgrade_head(port, **overrides)
    stream = IOStream(socket.socket())
    await stream.connect(("127.0.0.1", port))
    try:
        await stream.write(head.encode())
        first = await stream.read_until(b"\r\n\r\n")
    finally:
        stream.close()
    assert first.startswith(f"HTTP/1.1 {status} ".encode())
    if status == 426:
        assert b"Sec-Websocket-Version: 7, 8, 13" in first


@pytest.mark.asyncio
async def test_same_origin_accepted_and_check_origin_override(serve: Serve) -> None:
    class AnyOrigin(Echo):
        def check_origin(self, origin: str) -> bool:
            return True

    port = await serve([("/", Echo), ("/any", AnyOrigin)])
    same = HTTPRequest(f"ws://127.0.0.1:{port}/", headers={"Origin": f"http://127.0.0.1:{port}"})
    ws = await websocket_connect(same)
    ws.close()
    other = HTTPRequest(f"ws://127.0.0.1:{port}/any", headers={"Origin": "http://elsewhere"})
    ws = await websocket_connect(other)
    ws.close()
    refused = HTTPRequest(f"ws://127.0.0.1:{port}/", headers={"Origin": "http://elsewhere"})
    with pytest.raises(HTTPClientError) as info:
        await websocket_connect(refused)
    assert info.value.code == 403


@pytest.mark.asyncio
async def test_not_found_raises_http_error(serve: Serve) -> None:
    port = await serve([("/", Echo)])
    with pytest.raises(HTTPClientError) as info:
        await connect(port, "/missing")
    assert info.value.code == 404


@pytest.mark.asyncio
async def test_open_with_path_args_and_async_open(serve: Serve) -> None:
    class PathArgs(WebSocketHandler):
        async def open(self, *args: str, **kwargs: str) -> None:
            await asyncio.sleep(0)
            self.write_message(f"{args}{kwargs}")

        def on_message(self, message: str | bytes) -> None:
            self.write_message(f"after open: {message!r}")

    port = await serve([(r"/pos/(\w+)", PathArgs), (r"/kw/(?P<name>\w+)", PathArgs)])
    ws = await connect(port, "/pos/abc")
    await ws.write_message("x")
    assert await ws.read_message() == "('abc',){}"
    assert await ws.read_message() == "after open: 'x'"
    ws.close()
    ws = await connect(port, "/kw/def")
    assert await ws.read_message() == "(){'name': 'def'}"
    ws.close()


@pytest.mark.asyncio
async def test_async_on_message_keeps_order(serve: Serve) -> None:
    class Slow(WebSocketHandler):
        async def on_message(self, message: str | bytes) -> None:
            # Yield several times: a later message must still wait for this one.
            for _ in range(5):
                await asyncio.sleep(0)
            await self.write_message(message)

    port = await serve([("/", Slow)])
    ws = await connect(port)
    for i in range(20):
        ws.write_message(str(i))
    assert [await ws.read_message() for _ in range(20)] == [str(i) for i in range(20)]
    ws.close()


@pytest.mark.asyncio
async def test_server_initiated_close(serve: Serve) -> None:
    closed = Closed()
    port = await serve([("/", Recording, {"closed": closed})])
    ws = await connect(port)
    await ws.write_message("close-me")
    assert await ws.read_message() is None
    assert (ws.close_code, ws.close_reason) == (4001, "asked")
    # The server heard our echo of its close frame.
    assert await closed.future == (4001, "")


@pytest.mark.asyncio
async def test_client_initiated_close_with_code_and_reason(serve: Serve) -> None:
    closed = Closed()
    port = await serve([("/", Recording, {"closed": closed})])
    ws = await connect(port)
    ws.close(1001, "going ✈")
    assert await closed.future == (1001, "going ✈")
    assert await ws.read_message() is None
    assert ws.close_code == 1001


@pytest.mark.asyncio
async def test_write_after_close_raises(serve: Serve) -> None:
    closed = Closed()

    class Holder(Recording):
        def open(self, *args: str, **kwargs: str) -> None:
            holder.append(self)

    holder: list[WebSocketHandler] = []
    port = await serve([("/", Holder, {"closed": closed})])
    ws = await connect(port)
    ws.close()
    await closed.future
    with pytest.raises(WebSocketClosedError):
        holder[0].write_message("late")
    with pytest.raises(WebSocketClosedError):
        holder[0].ping(b"late")
    assert await ws.read_message() is None
    with pytest.raises(WebSocketClosedError):
        ws.write_message("late")


@pytest.mark.asyncio
async def test_ping_pong_both_ways(serve: Serve) -> None:
    events: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()

    class Pinger(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            self.ping(b"from-server")

        def on_ping(self, data: bytes) -> None:
            events.put_nowait(("server-ping", data))

        def on_pong(self, data: bytes) -> None:
            events.put_nowait(("server-pong", data))
            self.write_message("got pong")

    port = await serve([("/", Pinger)])
    ws = await connect(port)
    ws.ping("from-client")
    assert await events.get() == ("server-ping", b"from-client")
    await ws.write_message("ping me")
    assert await events.get() == ("server-pong", b"from-server")
    assert await ws.read_message() == "got pong"
    with pytest.raises(ValueError):
        ws.ping(b"x" * 126)
    ws.close()


@pytest.mark.asyncio
async def test_keepalive_pings_from_settings(serve: Serve) -> None:
    pongs: asyncio.Queue[bytes] = asyncio.Queue()

    class Keepalive(Echo):
        def on_pong(self, data: bytes) -> None:
            pongs.put_nowait(data)

    port = await serve([("/", Keepalive)], websocket_ping_interval=0.01)
    ws = await connect(port)
    # Two keepalive round trips prove the timer re-arms itself.
    assert await pongs.get() == b""
    assert await pongs.get() == b""
    ws.close()


@pytest.mark.asyncio
async def test_ping_timeout_closes_silent_peer(serve: Serve) -> None:
    closed = Closed()
    port = await serve(
        [("/", Recording, {"closed": closed})],
        websocket_ping_interval=0.01,
        websocket_ping_timeout=0.01,
    )
    # A raw peer that completes the handshake and then never answers.
    stream = IOStream(socket.socket())
    await stream.connect(("127.0.0.1", port))
    await stream.write(upgrade_head(port).encode())
    await stream.read_until(b"\r\n\r\n")
    assert await closed.future == (None, None)
    stream.close()


@pytest.mark.asyncio
async def test_client_ping_timeout(serve: Serve) -> None:
    # Our server answers pings; a client ping timeout needs a silent server,
    # so point the client at a raw socket server that only does the handshake.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    loop = asyncio.get_running_loop()

    async def fake_server() -> socket.socket:
        conn, _ = await loop.sock_accept(listener)
        data = b""
        while b"\r\n\r\n" not in data:
            data += await loop.sock_recv(conn, 4096)
        key = next(
            line.split(b":", 1)[1].strip()
            for line in data.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key")
        )
        answer = (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {proto.accept_key(key)}\r\n\r\n"
        )
        await loop.sock_sendall(conn, answer.encode())
        return conn

    server_task = asyncio.ensure_future(fake_server())
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/", ping_interval=0.01, ping_timeout=0.01)
    conn = await server_task
    try:
        assert await ws.read_message() is None
    finally:
        conn.close()
        listener.close()


@pytest.mark.asyncio
async def test_max_message_size_closes_1009(serve: Serve) -> None:
    closed = Closed()
    port = await serve([("/", Recording, {"closed": closed})], websocket_max_message_size=1024)
    ws = await connect(port)
    await ws.write_message(b"x" * 1024, binary=True)
    assert await ws.read_message() == b"x" * 1024
    await ws.write_message(b"x" * 1025, binary=True)
    assert await ws.read_message() is None
    assert ws.close_code == 1009


@pytest.mark.asyncio
async def test_client_max_message_size(serve: Serve) -> None:
    closed = Closed()
    port = await serve([("/", Recording, {"closed": closed})])
    ws = await connect(port, max_message_size=100)
    await ws.write_message("x" * 101)
    assert await ws.read_message() is None
    # The client refused the echo with 1009 and dropped the connection.
    assert (await closed.future)[0] == 1009


async def raw_client(port: int) -> IOStream:
    stream = IOStream(socket.socket())
    await stream.connect(("127.0.0.1", port))
    await stream.write(upgrade_head(port).encode())
    head = await stream.read_until(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    return stream


async def close_frame_from(stream: IOStream) -> tuple[int, bytes]:
    """Read until the server's close frame; return its code and reason."""
    protocol = proto.WebSocketProtocol(is_client=True)
    while True:
        data = await stream.read_bytes(4096, partial=True)
        for event in protocol.receive_data(data):
            if isinstance(event, proto.CloseReceived):
                assert event.code is not None
                return event.code, (event.reason or "").encode()


MASK = b"\x00\x00\x00\x00"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (proto.encode_frame(1, b"unmasked"), 1002),
        (proto.encode_frame(1, b"\xff\xfe", mask=MASK), 1007),
        (proto.encode_frame(3, b"", mask=MASK), 1002),
        (bytes([0xC1, 0x80]) + MASK, 1002),
        (proto.encode_frame(0, b"orphan", mask=MASK), 1002),
        (proto.encode_frame(9, b"x", fin=False, mask=MASK), 1002),
        (proto.encode_frame(8, b"\x03", mask=MASK), 1002),
        (proto.encode_frame(8, struct.pack("!H", 1005), mask=MASK), 1002),
    ],
)
async def test_protocol_errors_close_with_code(serve: Serve, frame: bytes, code: int) -> None:
    closed = Closed()
    port = await serve([("/", Recording, {"closed": closed})])
    stream = await raw_client(port)
    try:
        await stream.write(frame)
        assert (await close_frame_from(stream))[0] == code
        await closed.future
    finally:
        stream.close()


@pytest.mark.asyncio
async def test_fragmented_message_from_raw_client(serve: Serve) -> None:
    port = await serve([("/", Echo)])
    stream = await raw_client(port)
    client = proto.WebSocketProtocol(is_client=True)
    try:
        await stream.write(
            proto.encode_frame(1, b"frag", fin=False, mask=MASK)
            + client.send_ping(b"between")
            + proto.encode_frame(0, b"mented", mask=MASK)
        )
        events: list[proto.Event] = []
        while not any(isinstance(e, proto.Message) for e in events):
            events += client.receive_data(await stream.read_bytes(4096, partial=True))
        assert isinstance(events[0], proto.Pong) and events[0].data == b"between"
        assert isinstance(events[1], proto.Message) and events[1].data == "fragmented"
    finally:
        stream.close()


@pytest.mark.asyncio
async def test_subprotocol_selection(serve: Serve) -> None:
    class Sub(Echo):
        def select_subprotocol(self, subprotocols: list[str]) -> str | None:
            return "chat" if "chat" in subprotocols else None

        def open(self, *args: str, **kwargs: str) -> None:
            self.write_message(str(self.selected_subprotocol))

    port = await serve([("/", Sub)])
    ws = await connect(port, subprotocols=["superchat", "chat"])
    assert ws.selected_subprotocol == "chat"
    assert await ws.read_message() == "chat"
    ws.close()
    ws = await connect(port, subprotocols=["other"])
    assert ws.selected_subprotocol is None
    assert await ws.read_message() == "None"
    ws.close()


class Compressed(Echo):
    def get_compression_options(self) -> dict[str, Any]:
        return {"compression_level": 6, "mem_level": 5}

    def open(self, *args: str, **kwargs: str) -> None:
        protocol = self.ws_connection
        assert isinstance(protocol, WebSocketProtocol13) and protocol._engine is not None
        self.write_message(f"compressed={protocol._engine.compressed}")


@pytest.mark.asyncio
async def test_compression_negotiated_and_echoed(serve: Serve) -> None:
    port = await serve([("/", Compressed)])
    ws = await connect(port, compression_options={})
    assert ws.headers["Sec-WebSocket-Extensions"] == "permessage-deflate"
    assert await ws.read_message() == "compressed=True"
    big = "compress me " * 100_000
    await ws.write_message(big)
    assert await ws.read_message() == big
    await ws.write_message(big.encode(), binary=True)
    assert await ws.read_message() == big.encode()
    ws.close()


@pytest.mark.asyncio
async def test_compression_off_when_either_side_declines(serve: Serve) -> None:
    port = await serve([("/c", Compressed), ("/", Echo)])
    ws = await connect(port, "/c")
    assert await ws.read_message() == "compressed=False"
    ws.close()
    ws = await connect(port, "/", compression_options={})
    assert "Sec-WebSocket-Extensions" not in ws.headers
    await ws.write_message("plain")
    assert await ws.read_message() == "plain"
    ws.close()


@pytest.mark.asyncio
async def test_compression_bomb_closed_1009(serve: Serve) -> None:
    closed = Closed()

    class CompressedRecording(Recording):
        def get_compression_options(self) -> dict[str, Any]:
            return {}

    port = await serve(
        [("/", CompressedRecording, {"closed": closed})], websocket_max_message_size=65536
    )
    ws = await connect(port, compression_options={})
    # 50 MB of zeros: about 50 KB on the wire, under the limit before inflation.
    await ws.write_message(b"\x00" * (50 * 1024 * 1024), binary=True)
    assert await ws.read_message() is None
    assert ws.close_code == 1009
    await closed.future


@pytest.mark.asyncio
async def test_on_message_callback(serve: Serve) -> None:
    port = await serve([("/", Echo)])
    received: asyncio.Queue[str | bytes | None] = asyncio.Queue()
    ws = await connect(port, on_message_callback=received.put_nowait)
    await ws.write_message("cb")
    assert await received.get() == "cb"
    ws.close()
    assert await received.get() is None


@pytest.mark.asyncio
async def test_many_pipelined_messages_with_backpressure(serve: Serve) -> None:
    port = await serve([("/", Echo)])
    ws = await connect(port)
    for i in range(2000):
        ws.write_message(str(i))
    # The client queue is bounded; reading slowly must still see every message in order.
    assert [await ws.read_message() for _ in range(2000)] == [str(i) for i in range(2000)]
    ws.close()


@pytest.mark.asyncio
async def test_exception_in_on_message_closes_1011(serve: Serve) -> None:
    class Broken(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            raise RuntimeError("boom")

    port = await serve([("/", Broken)])
    ws = await connect(port)
    await ws.write_message("x")
    assert await ws.read_message() is None
    assert ws.close_code == 1011


@pytest.mark.asyncio
async def test_set_nodelay(serve: Serve) -> None:
    class NoDelay(Echo):
        def open(self, *args: str, **kwargs: str) -> None:
            self.set_nodelay(True)

    port = await serve([("/", NoDelay)])
    ws = await connect(port)
    await ws.write_message("fast")
    assert await ws.read_message() == "fast"
    ws.close()


@pytest.mark.asyncio
async def test_wss_with_trustme(
    serve: Serve, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    port = await serve([("/", Echo)], ssl_options=server_context)
    request = HTTPRequest(f"wss://localhost:{port}/", ssl_options=client_context)
    ws = await websocket_connect(request)
    await ws.write_message("secure")
    assert await ws.read_message() == "secure"
    ws.close()
    assert await ws.read_message() is None


@pytest.mark.asyncio
async def test_wss_untrusted_certificate_fails(
    serve: Serve, server_context: ssl.SSLContext
) -> None:
    port = await serve([("/", Echo)], ssl_options=server_context)
    with pytest.raises((ssl.SSLError, OSError)):
        await websocket_connect(f"wss://localhost:{port}/")


@pytest.mark.asyncio
async def test_connect_refused() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(OSError):
        await websocket_connect(f"ws://127.0.0.1:{port}/")


@pytest.mark.asyncio
async def test_bad_scheme() -> None:
    with pytest.raises(ValueError):
        await websocket_connect("ftp://127.0.0.1/")
