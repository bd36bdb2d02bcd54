"""The public protocol classes and the client connection's attributes, as
Tornado 6.6 applications use them: subclassing WebSocketProtocol13,
reading ``read_queue``, ``connect_future``, ``parsed``/``key``/``headers``,
and ``close()`` dropping the handler's ``ws_connection``."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tornado import simple_httpclient
from tornado.concurrent import Future
from tornado.httpclient import HTTPRequest
from tornado.queues import Queue
from tornado.websocket import (
    WebSocketClientConnection,
    WebSocketClosedError,
    WebSocketHandler,
    WebSocketProtocol,
    WebSocketProtocol13,
    websocket_connect,
)

from .conftest import Serve


class Echo(WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


def test_protocol_classes_shape() -> None:
    assert issubclass(WebSocketProtocol13, WebSocketProtocol)
    with pytest.raises(TypeError):
        WebSocketProtocol(None)  # type: ignore[abstract]
    assert WebSocketProtocol13.FIN == 0x80
    assert WebSocketProtocol13.RSV_MASK == 0x70
    assert WebSocketProtocol13.OPCODE_MASK == 0x0F
    # RFC 6455 section 1.3's worked example.
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    assert WebSocketProtocol13.compute_accept_value(key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert issubclass(WebSocketClientConnection, simple_httpclient._HTTPConnection)


@pytest.mark.asyncio
async def test_subclassed_protocol_hook_sees_every_frame(serve: Serve) -> None:
    seen: list[tuple[int, Any]] = []

    class Watching(WebSocketProtocol13):
        def _handle_message(self, opcode: int, data: Any) -> Any:
            seen.append((opcode, data))
            return super()._handle_message(opcode, data)

    class Handler(Echo):
        def get_websocket_protocol(self) -> WebSocketProtocol | None:
            protocol = super().get_websocket_protocol()
            assert isinstance(protocol, WebSocketProtocol13)
            return Watching(self, protocol.mask_outgoing, protocol.params)

    port = await serve([("/", Handler)])
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    await ws.write_message("hi")
    assert await ws.read_message() == "hi"
    await ws.write_message(b"\x00", binary=True)
    assert await ws.read_message() == b"\x00"
    ws.close(1000, "done")
    assert await ws.read_message() is None
    assert seen[:2] == [(0x1, "hi"), (0x2, b"\x00")]
    assert seen[2][0] == 0x8
    assert ws.close_code == 1000


@pytest.mark.asyncio
async def test_client_protocol_subclass_and_handler_hooks(serve: Serve) -> None:
    pongs: list[bytes] = []

    class Client(WebSocketClientConnection):
        def on_pong(self, data: bytes) -> None:
            pongs.append(data)

    class Counting(WebSocketProtocol13):
        written = 0

        def write_message(self, message: Any, binary: bool = False) -> Any:
            Counting.written += 1
            return super().write_message(message, binary)

    class Handler(Echo):
        def get_websocket_protocol(self) -> WebSocketProtocol | None:
            protocol = super().get_websocket_protocol()
            assert isinstance(protocol, WebSocketProtocol13)
            return Counting(self, False, protocol.params)

    port = await serve([("/", Handler)])
    ws = Client(HTTPRequest(f"ws://127.0.0.1:{port}/"))
    assert await ws.connect_future is ws
    ws.ping(b"p")
    await ws.write_message("x")
    assert await ws.read_message() == "x"
    assert pongs == [b"p"]
    assert Counting.written == 1
    assert isinstance(ws.protocol, WebSocketProtocol13)
    assert ws.protocol.handler is ws
    assert ws.protocol.mask_outgoing is True
    ws.close()
    assert await ws.read_message() is None


@pytest.mark.asyncio
async def test_read_queue_holds_messages_then_none(serve: Serve) -> None:
    class Three(WebSocketHandler):
        def open(self, *args: str, **kwargs: str) -> None:
            for text in ("a", "b", "c"):
                self.write_message(text)
            self.close(1000)

    port = await serve([("/", Three)])
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    assert isinstance(ws.read_queue, Queue)
    received = [await ws.read_queue.get() for _ in range(4)]
    assert received == ["a", "b", "c", None]
    assert ws.close_code == 1000
    # Later reads keep answering None.
    assert await ws.read_message() is None


@pytest.mark.asyncio
async def test_connect_future_parsed_key_headers(serve: Serve) -> None:
    keys: list[str] = []

    class Handler(Echo):
        def open(self, *args: str, **kwargs: str) -> None:
            keys.append(self.request.headers["Sec-WebSocket-Key"])

    port = await serve([("/path", Handler)])
    ws = WebSocketClientConnection(HTTPRequest(f"ws://127.0.0.1:{port}/path?q=1"))
    assert isinstance(ws.connect_future, Future)
    assert ws.protocol is None
    assert await ws.connect_future is ws
    assert ws.parsed.scheme == "http"
    assert ws.parsed.path == "/path" and ws.parsed.query == "q=1"
    assert ws.parsed_hostname == "127.0.0.1"
    assert isinstance(ws.key, bytes) and len(base64.b64decode(ws.key)) == 16
    assert keys == [ws.key.decode("ascii")]
    assert ws.code == 101
    assert ws.headers is not None
    assert ws.headers["Sec-WebSocket-Accept"] == WebSocketProtocol13.compute_accept_value(ws.key)
    assert ws.headers["Upgrade"].lower() == "websocket"
    assert ws.stream is not None and not ws.stream.closed()
    assert ws.final_callback is None
    ws.close()
    assert ws.protocol is None
    with pytest.raises(WebSocketClosedError):
        ws.write_message("late")
    assert await ws.read_message() is None


@pytest.mark.asyncio
async def test_caller_request_is_left_alone(serve: Serve) -> None:
    port = await serve([("/", Echo)])
    request = HTTPRequest(f"ws://127.0.0.1:{port}/", headers={"X-Test": "1"})
    ws = await websocket_connect(request)
    assert request.url.startswith("ws://")
    assert "Sec-WebSocket-Key" not in request.headers
    assert not hasattr(request, "original_request")
    ws.close()


@pytest.mark.asyncio
async def test_handler_close_drops_ws_connection(serve: Serve) -> None:
    outcome: Future[list[str]] = Future()

    class Closer(WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            self.close(1000, "bye")
            results = [f"ws_connection={self.ws_connection}"]
            for attempt in (lambda: self.write_message("x"), lambda: self.ping(b"")):
                try:
                    attempt()
                except WebSocketClosedError:
                    results.append("closed")
            outcome.set_result(results)

    port = await serve([("/", Closer)])
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    await ws.write_message("close please")
    assert await outcome == ["ws_connection=None", "closed", "closed"]
    assert await ws.read_message() is None
    assert (ws.close_code, ws.close_reason) == (1000, "bye")


@pytest.mark.asyncio
async def test_on_ws_connection_close_carries_code_and_reason(serve: Serve) -> None:
    closed: Future[tuple[Any, Any, Any]] = Future()

    class Handler(Echo):
        def on_ws_connection_close(
            self, close_code: int | None = None, close_reason: str | None = None
        ) -> None:
            super().on_ws_connection_close(close_code, close_reason)
            closed.set_result((close_code, close_reason, self.ws_connection))

    port = await serve([("/", Handler)])
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    ws.close(4000, "client done")
    assert await closed == (4000, "client done", None)


@pytest.mark.asyncio
async def test_read_queue_holds_one_message_as_tornado(serve: Serve) -> None:
    port = await serve([("/", Echo)])
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    assert ws.read_queue.maxsize == 1
    ws.close()


@pytest.mark.asyncio
async def test_client_ping_timeout_defaults_to_interval_and_is_capped(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    port = await serve([("/", Echo)])
    url = f"ws://127.0.0.1:{port}/"
    default = await websocket_connect(url, ping_interval=7)
    capped = await websocket_connect(url, ping_interval=5, ping_timeout=60)
    disabled = await websocket_connect(url, ping_interval=5, ping_timeout=0)
    try:
        assert isinstance(default.protocol, WebSocketProtocol13)
        assert default.protocol.ping_timeout == 7
        with caplog.at_level("WARNING", logger="tornado.general"):
            assert capped.protocol is not None and capped.protocol.ping_timeout == 5
        assert "cannot be longer than the websocket_ping_interval" in caplog.text
        assert disabled.protocol is not None and disabled.protocol.ping_timeout == 0
    finally:
        for ws in (default, capped, disabled):
            ws.close()


@pytest.mark.asyncio
async def test_server_ping_timeout_setting_unset_means_the_interval(serve: Serve) -> None:
    protocols: Queue[WebSocketProtocol13] = Queue()

    class Handler(Echo):
        def open(self, *args: str, **kwargs: str) -> None:
            assert isinstance(self.ws_connection, WebSocketProtocol13)
            protocols.put_nowait(self.ws_connection)

    port = await serve([("/", Handler)], websocket_ping_interval=3)
    ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
    protocol = await protocols.get()
    assert protocol.ping_interval == 3
    assert protocol.ping_timeout == 3
    ws.close()
