"""WebSocket (RFC 6455) server handler and client, with permessage-deflate.

`WebSocketHandler` upgrades a request to a bidirectional message channel::

    class EchoHandler(WebSocketHandler):
        def on_message(self, message):
            self.write_message(message)

`websocket_connect` opens a client connection and returns a
`WebSocketClientConnection`.

The protocol itself (frames, masking, the close handshake, compression)
lives in the sans-IO module ``tornado._websocket_proto``; this module only
moves its bytes over an `~tornado.iostream.IOStream`.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import ssl
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from tornado import _websocket_proto as proto
from tornado import httputil, web

# The permessage-deflate pieces the protocol uses, importable from here
# (where Tornado has always kept them) for tests and tools that drive them
# directly.
from tornado._websocket_proto import _DecompressTooLargeError as _DecompressTooLargeError
from tornado._websocket_proto import (
    _PerMessageDeflateCompressor as _PerMessageDeflateCompressor,
)
from tornado._websocket_proto import (
    _PerMessageDeflateDecompressor as _PerMessageDeflateDecompressor,
)
from tornado.concurrent import Future, future_set_result_unless_cancelled
from tornado.escape import json_encode, utf8
from tornado.httpclient import HTTPClientError, HTTPRequest, _RequestProxy
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import app_log, gen_log
from tornado.netutil import Resolver
from tornado.tcpclient import TCPClient

__all__ = [
    "WebSocketClientConnection",
    "WebSocketClosedError",
    "WebSocketError",
    "WebSocketHandler",
    "websocket_connect",
]

_default_max_message_size = proto.DEFAULT_MAX_MESSAGE_SIZE
# How long a closing side waits for the peer's close frame before dropping
# the TCP connection (the peer may be gone or misbehaving).
_CLOSE_TIMEOUT = 5.0
# Client messages not yet read with read_message(); beyond this the reading
# side stops reading the socket (back-pressure instead of unbounded memory).
_CLIENT_QUEUE_LIMIT = 16
_READ_CHUNK = 65536
# Messages handled in a row before the reading loop lets other callbacks
# run (a burst of tiny frames must not monopolise the event loop).
_MESSAGES_PER_TURN = 32


class WebSocketError(Exception):
    """Base class for WebSocket errors."""


class WebSocketClosedError(WebSocketError):
    """Raised by operations on a closed connection.

    .. versionadded:: 3.2
    """


class WebSocketProtocol13:
    """One open WebSocket connection: the RFC 6455 protocol over an `IOStream`.

    This is the object in `WebSocketHandler.ws_connection` (and behind a
    `WebSocketClientConnection`); applications use the handler or client
    methods rather than this class.  It feeds the socket's bytes to the
    sans-IO protocol object (``protocol``), hands the messages to its owner
    (whose callback may return an awaitable: the next message waits for
    it), answers pings, sends keepalive pings and runs the close handshake.
    """

    def __init__(
        self,
        stream: IOStream,
        protocol: proto.WebSocketProtocol,
        *,
        on_message: Callable[[str | bytes], Awaitable[None] | None],
        on_ping: Callable[[bytes], None],
        on_pong: Callable[[bytes], None],
        on_closed: Callable[[], None],
        ping_interval: float | None,
        ping_timeout: float | None,
    ) -> None:
        self.stream = stream
        self.protocol = protocol
        self._on_message = on_message
        self._on_ping = on_ping
        self._on_pong = on_pong
        self._on_closed = on_closed
        self._ping_interval = ping_interval or None
        self._ping_timeout = ping_timeout or None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        # Loop times of the last keepalive ping sent and the last pong received.
        self._last_ping = 0.0
        self._last_pong = 0.0
        # Pong flood control: while one pong is being written, only the data
        # of the most recent further ping is kept (RFC 6455 5.5.3 allows
        # answering just the latest).
        self._pong_in_flight = False
        self._next_pong: bytes | None = None
        self._closed = False
        self.close_code: int | None = None
        self.close_reason: str | None = None
        # Kept so that close() works from code outside the loop (test teardown).
        self._loop = asyncio.get_running_loop()
        stream.set_close_callback(self._finish)

    # -- reading -----------------------------------------------------------

    async def run(self) -> None:
        """Read and dispatch frames until the connection ends."""
        if self._ping_interval:
            self._schedule_ping()
        protocol = self.protocol
        stream = self.stream
        handled = 0
        try:
            while not self._closed:
                data = await stream.read_bytes(_READ_CHUNK, partial=True)
                try:
                    events = protocol.receive_data(data)
                except proto.ProtocolError as e:
                    # A misbehaving peer is routine for a server: debug, not info.
                    gen_log.debug("WebSocket protocol error: %s", e.reason)
                    await self._fail(e.code, e.reason)
                    return
                for event in events:
                    handled += 1
                    if handled % _MESSAGES_PER_TURN == 0:
                        await asyncio.sleep(0)
                        if self._closed:
                            return
                    if isinstance(event, proto.Message):
                        result = self._on_message(event.data)
                        if result is not None:
                            await result
                    elif isinstance(event, proto.Ping):
                        self._answer_ping(event.data)
                        self._on_ping(event.data)
                    elif isinstance(event, proto.Pong):
                        self._last_pong = self._loop.time()
                        self._on_pong(event.data)
                    else:
                        await self._peer_closed(event)
                        return
                    if self._closed:
                        return
        except StreamClosedError:
            pass
        except Exception:
            app_log.error("Uncaught exception in WebSocket message handler", exc_info=True)
            await self._fail(proto.CLOSE_INTERNAL_ERROR, "internal error")
        finally:
            self._finish()

    async def _peer_closed(self, event: proto.CloseReceived) -> None:
        self.close_code = event.code
        self.close_reason = event.reason
        if not self.protocol.close_sent:
            # Echo the peer's code, as RFC 6455 5.5.1 suggests.
            await self._write_and_wait(self.protocol.send_close(event.code))
        # Both close frames are out: the TCP connection has served its purpose.
        self.stream.close()

    async def _fail(self, code: int, reason: str) -> None:
        try:
            await self._write_and_wait(self.protocol.send_close(code, reason))
        finally:
            self.stream.close()

    # -- writing -----------------------------------------------------------

    def _write_frame(self, fin: bool, opcode: int, data: bytes, flags: int = 0) -> Future[None]:
        # Write one ping or pong frame (the frames sent on the protocol's own
        # initiative; messages and close frames are written directly).
        if opcode == proto.OP_PONG:
            return self._write(self.protocol.send_pong(data))
        if opcode == proto.OP_PING:
            return self._write(self.protocol.send_ping(data))
        raise ValueError(f"not a ping or pong opcode: {opcode:#x}")

    def _answer_ping(self, data: bytes) -> None:
        if self._pong_in_flight:
            self._next_pong = data
            return
        try:
            future = self._write_frame(True, proto.OP_PONG, data)
        except WebSocketClosedError:
            return
        self._pong_in_flight = True
        future.add_done_callback(self._pong_written)

    def _pong_written(self, future: Future[None]) -> None:
        if not future.cancelled():
            future.exception()  # retrieved: a closed stream is handled elsewhere
        self._pong_in_flight = False
        data = self._next_pong
        if data is not None and not self._closed:
            self._next_pong = None
            self._answer_ping(data)

    def _write(self, data: bytes) -> Future[None]:
        if self.stream.closed():
            raise WebSocketClosedError()
        try:
            return self.stream.write(data)
        except StreamClosedError:
            raise WebSocketClosedError() from None

    async def _write_and_wait(self, data: bytes) -> None:
        if not data or self.stream.closed():
            return
        try:
            await self.stream.write(data)
        except StreamClosedError:
            pass

    def is_closing(self) -> bool:
        """True once a close frame went either way or the stream closed."""
        return (
            self._closed
            or self.stream.closed()
            or self.protocol.close_sent
            or self.protocol.close_received
        )

    def write_message(self, message: str | bytes, binary: bool) -> Future[None]:
        """Send one message (bytes go as text unless ``binary``)."""
        if self.is_closing():
            raise WebSocketClosedError()
        future = self._write(self.protocol.send_message(message, binary))
        if future.done() and not future.cancelled() and future.exception() is None:
            return future
        return _translate_closed(future)

    def ping(self, data: bytes) -> None:
        """Send a ping frame; raises `WebSocketClosedError` when closing."""
        if self.is_closing():
            raise WebSocketClosedError()
        self._write_frame(True, proto.OP_PING, data)

    def close(self, code: int | None, reason: str | None) -> None:
        """Start the close handshake (or finish it, after the peer's close)."""
        if self.stream.closed():
            return
        if not self.protocol.close_sent:
            frame = self.protocol.send_close(code, reason)
            try:
                self.stream.write(frame)
            except StreamClosedError:
                return
        if self.protocol.close_received:
            self.stream.close()
        elif "close" not in self._timers:
            self._timers["close"] = self._loop.call_later(_CLOSE_TIMEOUT, self.stream.close)

    # -- keepalive ---------------------------------------------------------

    @staticmethod
    def ping_sleep_time(*, last_ping_time: float, interval: float, now: float) -> float:
        """Seconds until the next keepalive ping is due: ``interval`` after
        ``last_ping_time`` (all in seconds of the same clock), never
        negative."""
        return max(0.0, last_ping_time + interval - now)

    def _schedule_ping(self) -> None:
        assert self._ping_interval is not None
        delay = self.ping_sleep_time(
            last_ping_time=self._last_ping or self._loop.time(),
            interval=self._ping_interval,
            now=self._loop.time(),
        )
        self._timers["ping"] = self._loop.call_later(delay, self._send_keepalive_ping)

    def _send_keepalive_ping(self) -> None:
        if self.is_closing():
            return
        sent_at = self._last_ping = self._loop.time()
        try:
            self._write_frame(True, proto.OP_PING, b"")
        except WebSocketClosedError:
            return
        timeout = self._ping_timeout
        if timeout is not None and "pong" not in self._timers:
            self._timers["pong"] = self._loop.call_later(timeout, self._check_pong, sent_at)
        self._schedule_ping()

    def _check_pong(self, sent_at: float) -> None:
        # Each ping must be answered within ping_timeout: one timer at a time,
        # re-armed for the latest ping when that was sent after ``sent_at``.
        self._timers.pop("pong", None)
        if self._closed:
            return
        if self._last_pong < sent_at:
            gen_log.debug("WebSocket ping timed out; closing the connection")
            # A normal close handshake: the peer learns why (and if it is
            # gone altogether, the close timeout drops the connection).
            self.close(proto.CLOSE_NORMAL, "ping timed out")
            return
        latest = self._last_ping
        if latest > sent_at and self._ping_timeout is not None:
            delay = max(0.0, latest + self._ping_timeout - self._loop.time())
            self._timers["pong"] = self._loop.call_later(delay, self._check_pong, latest)

    # -- end ---------------------------------------------------------------

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if not self.stream.closed():
            self.stream.close()
        self._on_closed()


def _translate_closed(future: Future[None]) -> Future[None]:
    # The caller sees WebSocketClosedError, not the stream's own error.
    result: Future[None] = asyncio.get_running_loop().create_future()

    def transfer(done: Future[None]) -> None:
        if result.done():
            return
        if done.cancelled():
            result.cancel()
        elif isinstance(done.exception(), StreamClosedError):
            result.set_exception(WebSocketClosedError())
        elif done.exception() is not None:
            result.set_exception(done.exception())  # type: ignore[arg-type]
        else:
            result.set_result(None)

    future.add_done_callback(transfer)
    return result


def _encode_message(message: str | bytes | dict[str, Any]) -> str | bytes:
    if isinstance(message, dict):
        return json_encode(message)
    if not isinstance(message, str | bytes | bytearray | memoryview):
        raise TypeError(f"unsupported message type {type(message).__name__}")
    if isinstance(message, bytearray | memoryview):
        return bytes(message)
    return message


# -- server --------------------------------------------------------------------

# RequestHandler methods that raise RuntimeError once the connection upgraded.
_HTTP_RESPONSE_METHODS = (
    "write",
    "redirect",
    "set_header",
    "set_cookie",
    "set_status",
    "flush",
    "finish",
)


class WebSocketHandler(web.RequestHandler):
    """A request handler that upgrades its GET request to a WebSocket.

    Override `open`, `on_message` and `on_close`; send with
    `write_message`; end with `close`.  ``open`` and ``on_message`` may be
    coroutines: messages are delivered one at a time, in order, the next
    waiting for an asynchronous ``on_message`` to finish.

    Cross-origin connections are refused unless `check_origin` allows them.
    The application settings ``websocket_ping_interval``,
    ``websocket_ping_timeout`` and ``websocket_max_message_size`` configure
    keepalive pings and the message size limit.
    """

    def __init__(
        self, application: web.Application, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> None:
        """Set up the handler (see `RequestHandler`); the connection opens in `get`."""
        self.ws_connection: WebSocketProtocol13 | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._selected_subprotocol: str | None = None
        self._on_close_called = False
        self.open_args: tuple[str, ...] = ()
        self.open_kwargs: dict[str, str] = {}
        super().__init__(application, request, **kwargs)

    # -- handshake ---------------------------------------------------------

    async def get(self, *args: Any, **kwargs: Any) -> None:
        """Validate the opening handshake, answer 101 and run the connection.

        Answers 400 for a request that is not a WebSocket upgrade (or has a
        missing or malformed ``Sec-WebSocket-Key``), 403 when `check_origin`
        refuses the ``Origin``, and 426 (with ``Sec-WebSocket-Version: 7,
        8, 13``) for an unsupported protocol version.
        """
        self.open_args = args
        self.open_kwargs = kwargs
        headers = self.request.headers
        if headers.get("Upgrade", "").lower() != "websocket":
            self._refuse(400, 'Can "Upgrade" only to "WebSocket".')
            return
        tokens = [t.strip().lower() for t in headers.get("Connection", "").split(",")]
        if "upgrade" not in tokens:
            self._refuse(400, '"Connection" must be "Upgrade".')
            return
        origin = headers.get("Origin") or headers.get("Sec-Websocket-Origin")
        if origin is not None and not self.check_origin(origin):
            self._refuse(403, "Cross origin websockets not allowed")
            return
        if headers.get("Sec-WebSocket-Version") not in ("7", "8", "13"):
            self.set_header("Sec-WebSocket-Version", "7, 8, 13")
            self._refuse(426, "Upgrade Required")
            return
        key = headers.get("Sec-WebSocket-Key", "")
        if not proto.is_valid_client_key(key):
            self._refuse(400, "Missing/Invalid WebSocket headers")
            return

        subprotocol_header = headers.get("Sec-WebSocket-Protocol", "")
        offered = [s.strip() for s in subprotocol_header.split(",") if s.strip()]
        selected = self.select_subprotocol(offered)
        if selected is not None:
            if selected not in offered:
                raise ValueError(f"select_subprotocol returned {selected!r}, not offered")
            self._selected_subprotocol = selected
            self.set_header("Sec-WebSocket-Protocol", selected)
        deflate: proto.DeflateParams | None = None
        compression_options = self.get_compression_options()
        if compression_options is not None:
            accepted = proto.server_accept_deflate(
                headers.get("Sec-WebSocket-Extensions"), compression_options
            )
            if accepted is not None:
                self.set_header("Sec-WebSocket-Extensions", accepted[0])
                deflate = accepted[1]

        self.set_status(101)
        self.set_header("Upgrade", "websocket")
        self.set_header("Connection", "Upgrade")
        self.set_header("Sec-WebSocket-Accept", proto.accept_key(key))
        self.finish()
        stream: IOStream = self.detach()
        self._refuse_http_methods()
        protocol = proto.WebSocketProtocol(
            is_client=False, max_message_size=self.max_message_size, deflate=deflate
        )
        connection = self.ws_connection = WebSocketProtocol13(
            stream,
            protocol,
            on_message=self._dispatch_message,
            on_ping=self._dispatch_ping,
            on_pong=self._dispatch_pong,
            on_closed=self._connection_closed,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
        )
        try:
            result = self.open(*self.open_args, **self.open_kwargs)
            if result is not None:
                await result
        except Exception:
            app_log.error("Uncaught exception in %s open", self.request.path, exc_info=True)
            connection.close(proto.CLOSE_INTERNAL_ERROR, None)
            return
        if connection.stream.closed():
            connection._finish()
            return
        await connection.run()

    def _refuse_http_methods(self) -> None:
        # After the upgrade the HTTP response is gone: the methods that would
        # change it raise RuntimeError instead of corrupting the WebSocket.
        def not_supported(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("HTTP response methods are not available on a WebSocket")

        for name in _HTTP_RESPONSE_METHODS:
            setattr(self, name, not_supported)

    def _refuse(self, status: int, message: str) -> None:
        gen_log.debug("Refused WebSocket request %s: %s", self.request.uri, message)
        self.set_status(status)
        self.finish(message)

    # -- overridable -------------------------------------------------------

    @property
    def ping_interval(self) -> float | None:
        """Seconds between keepalive pings (setting ``websocket_ping_interval``);
        None or 0 disables them."""
        return self.settings.get("websocket_ping_interval", None)

    @property
    def ping_timeout(self) -> float | None:
        """Seconds to wait for a pong before closing (setting
        ``websocket_ping_timeout``); None waits forever."""
        return self.settings.get("websocket_ping_timeout", None)

    @property
    def max_message_size(self) -> int:
        """Largest accepted message in bytes (setting
        ``websocket_max_message_size``, default 10 MiB); bigger messages
        close the connection with code 1009."""
        size: int = self.settings.get("websocket_max_message_size", _default_max_message_size)
        return size

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        """Choose one of the client's ``subprotocols`` (or None for none).

        Called once per handshake, with an empty list when the client
        offered none.  Must return one of them (or None).
        """
        return None

    @property
    def selected_subprotocol(self) -> str | None:
        """The subprotocol chosen by `select_subprotocol`, if any."""
        return self._selected_subprotocol

    def get_compression_options(self) -> dict[str, Any] | None:
        """Return None (the default) to disable permessage-deflate, or a dict
        (possibly empty) to enable it; ``compression_level`` and
        ``mem_level`` keys tune zlib."""
        return None

    def open(self, *args: str, **kwargs: str) -> Awaitable[None] | None:
        """Called when the connection opens, with the URL's path arguments.

        May be a coroutine; no message is delivered before it finishes.
        """

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        """Called with each message (`str` for text, `bytes` for binary).

        May be a coroutine: the next message waits for it.  Raises
        `NotImplementedError` unless overridden.
        """
        raise NotImplementedError

    def on_ping(self, data: bytes) -> None:
        """Called when a ping arrives (the pong is sent automatically)."""

    def on_pong(self, data: bytes) -> None:
        """Called when a pong arrives."""

    def on_close(self) -> None:
        """Called once when the connection has closed; `close_code` and
        `close_reason` hold the peer's close frame, if it sent one."""

    def check_origin(self, origin: str) -> bool:
        """Whether to accept a connection from ``origin`` (the ``Origin``
        header; not called for requests without one, which do not come from
        a browser).  Runs after `prepare`.

        By default: a ``Sec-Fetch-Site: same-origin`` (or ``none``) header
        accepts; an origin accepted by `check_trusted_origin` (the
        ``trusted_origins`` application setting) is accepted; otherwise a
        ``Sec-Fetch-Site`` header refuses, and without one the origin's
        host must equal the request's ``Host``.  Return True to accept any
        origin (beware cross-site WebSocket hijacking).
        """
        site = self.request.headers.get("Sec-Fetch-Site")
        if site is not None and site.lower() in ("same-origin", "none"):
            return True
        if self.check_trusted_origin(origin):
            return True
        if site is not None:
            return False
        try:
            parsed = urlsplit(origin.lower())
        except ValueError:
            return False
        host = self.request.headers.get("Host", "").lower()
        return bool(parsed.netloc) and parsed.netloc == host

    # -- sending -----------------------------------------------------------

    def write_message(
        self, message: str | bytes | dict[str, Any], binary: bool = False
    ) -> Future[None]:
        """Send a message: a text frame (`str` encoded as UTF-8, `bytes`
        sent as they are, a dict as JSON), or a binary frame with
        ``binary=True``.

        Returns a future that resolves once the data is written (await it
        for flow control).  Raises `WebSocketClosedError` if the connection
        is closed or closing.
        """
        connection = self.ws_connection
        if connection is None:
            raise WebSocketClosedError()
        data = _encode_message(message)
        return connection.write_message(data, binary)

    def ping(self, data: str | bytes = b"") -> None:
        """Send a ping with ``data`` (at most 125 bytes).

        Raises `WebSocketClosedError` on a closed connection and
        `ValueError` for data that is too long.
        """
        if self.ws_connection is None:
            raise WebSocketClosedError()
        self.ws_connection.ping(utf8(data))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the close handshake with ``code`` and ``reason``.

        The connection is dropped if the peer does not answer within a few
        seconds.  Does nothing on a connection that is already closed.
        """
        if self.ws_connection is not None:
            self.ws_connection.close(code, reason)

    def set_nodelay(self, value: bool) -> None:
        """Set TCP_NODELAY on the connection (send small messages at once).

        Call it in `open`.
        """
        connection = self.ws_connection
        if connection is not None:
            connection.stream.set_nodelay(value)

    def get_websocket_protocol(self) -> proto.WebSocketProtocol | None:
        """The sans-IO protocol object of the open connection, if any."""
        return self.ws_connection.protocol if self.ws_connection is not None else None

    # -- internals ---------------------------------------------------------

    def _dispatch_message(self, message: str | bytes) -> Awaitable[None] | None:
        result = self.on_message(message)
        return result if result is not None and inspect.isawaitable(result) else None

    def _dispatch_ping(self, data: bytes) -> None:
        self.on_ping(data)

    def _dispatch_pong(self, data: bytes) -> None:
        self.on_pong(data)

    def _connection_closed(self) -> None:
        connection = self.ws_connection
        if connection is not None:
            self.close_code = connection.close_code
            self.close_reason = connection.close_reason
        if not self._on_close_called:
            self._on_close_called = True
            try:
                self.on_close()
            except Exception:
                app_log.error("Uncaught exception in on_close", exc_info=True)

    def on_connection_close(self) -> None:
        """The HTTP connection closed before the upgrade: `on_close` runs."""
        if self.ws_connection is None:
            self._connection_closed()
        super().on_connection_close()

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        """Send an HTTP error before the upgrade; after it, drop the connection."""
        if self.ws_connection is None:
            super().send_error(status_code, **kwargs)
        else:
            self.ws_connection.stream.close()


# -- client --------------------------------------------------------------------


def _ssl_options(request: Any) -> ssl.SSLContext | dict[str, Any]:
    if request.ssl_options is not None:
        options: ssl.SSLContext | dict[str, Any] = request.ssl_options
        return options
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=request.ca_certs)
    if not request.validate_cert:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if request.client_cert is not None:
        context.load_cert_chain(request.client_cert, request.client_key)
    return context


class WebSocketClientConnection:
    """A client WebSocket connection; create it with `websocket_connect`."""

    def __init__(
        self,
        request: HTTPRequest,
        on_message_callback: Callable[[str | bytes | None], None] | None = None,
        compression_options: dict[str, Any] | None = None,
        ping_interval: float | None = None,
        ping_timeout: float | None = None,
        max_message_size: int = _default_max_message_size,
        subprotocols: list[str] | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        """Record the options; `websocket_connect` runs the handshake."""
        self.request = request
        self._on_message_callback = on_message_callback
        self._compression_options = compression_options
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._max_message_size = max_message_size
        self._subprotocols = list(subprotocols or [])
        self._resolver = resolver
        self._selected_subprotocol: str | None = None
        self.headers = httputil.HTTPHeaders()
        self.ws_connection: WebSocketProtocol13 | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._messages: collections.deque[str | bytes | None] = collections.deque()
        self._readers: collections.deque[Future[str | bytes | None]] = collections.deque()
        self._space: Future[None] | None = None
        self._done = False
        self._run_task: asyncio.Task[None] | None = None

    async def _connect(self) -> WebSocketClientConnection:
        request: Any = _RequestProxy(self.request, HTTPRequest._DEFAULTS)
        parts = urlsplit(request.url)
        scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        if scheme not in ("http", "https"):
            raise ValueError(f"unsupported WebSocket URL scheme {parts.scheme!r}")
        netloc = parts.netloc.rpartition("@")[2]
        host, port = httputil.split_host_and_port(netloc)
        if port is None:
            port = 443 if scheme == "https" else 80
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        tcp_client = TCPClient(resolver=self._resolver)
        try:
            stream = await tcp_client.connect(
                host,
                port,
                ssl_options=_ssl_options(request) if scheme == "https" else None,
                timeout=request.connect_timeout or None,
            )
        except TimeoutError:
            raise HTTPClientError(599, "Timeout while connecting") from None
        finally:
            tcp_client.close()
        try:
            if request.request_timeout:
                async with asyncio.timeout(request.request_timeout):
                    await self._handshake(stream, request, parts.path, parts.query, netloc)
            else:
                await self._handshake(stream, request, parts.path, parts.query, netloc)
        except TimeoutError:
            stream.close()
            raise HTTPClientError(599, "Timeout during WebSocket handshake") from None
        except BaseException:
            stream.close()
            raise
        return self

    async def _handshake(
        self, stream: IOStream, request: Any, path: str, query: str, netloc: str
    ) -> None:
        key = proto.make_client_key()
        headers = httputil.HTTPHeaders(request.headers)
        headers.setdefault("Host", netloc)
        headers["Upgrade"] = "websocket"
        headers["Connection"] = "Upgrade"
        headers["Sec-WebSocket-Key"] = key
        headers["Sec-WebSocket-Version"] = "13"
        if self._subprotocols:
            headers["Sec-WebSocket-Protocol"] = ",".join(self._subprotocols)
        if self._compression_options is not None:
            headers["Sec-WebSocket-Extensions"] = proto.client_offer()
        target = (path or "/") + (f"?{query}" if query else "")
        lines = [f"GET {target} HTTP/1.1"]
        for name, value in headers.get_all():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"invalid header {name!r}")
            lines.append(f"{name}: {value}")
        stream.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        try:
            head = await stream.read_until_regex(b"\r?\n\r?\n", max_bytes=65536)
        except StreamClosedError:
            raise HTTPClientError(599, "Connection closed during WebSocket handshake") from None
        text = head.decode("latin-1")
        first, _, rest = text.partition("\n")
        try:
            start_line = httputil.parse_response_start_line(first.rstrip("\r"))
            self.headers = response_headers = httputil.HTTPHeaders.parse(rest)
        except httputil.HTTPInputError as e:
            raise WebSocketError(f"malformed handshake response: {e}") from None
        if 200 <= start_line.code < 300:
            # The server answered, but as a plain HTTP resource.
            raise WebSocketError(f"non-WebSocket response: {start_line.code}")
        if start_line.code != 101:
            raise HTTPClientError(start_line.code, start_line.reason or None)
        if response_headers.get("Upgrade", "").lower() != "websocket":
            raise WebSocketError("handshake response lacks Upgrade: websocket")
        if response_headers.get("Sec-WebSocket-Accept") != proto.accept_key(key):
            raise WebSocketError("invalid Sec-WebSocket-Accept")
        selected = response_headers.get("Sec-WebSocket-Protocol")
        if selected is not None and selected not in self._subprotocols:
            raise WebSocketError(f"server chose a subprotocol we did not offer: {selected!r}")
        self._selected_subprotocol = selected
        extensions = response_headers.get("Sec-WebSocket-Extensions")
        if extensions and self._compression_options is None:
            raise WebSocketError("server enabled an extension we did not offer")
        try:
            deflate = proto.client_accept_deflate(extensions, self._compression_options)
        except proto.HandshakeError as e:
            raise WebSocketError(str(e)) from None
        protocol = proto.WebSocketProtocol(
            is_client=True, max_message_size=self._max_message_size, deflate=deflate
        )
        self.ws_connection = WebSocketProtocol13(
            stream,
            protocol,
            on_message=self._deliver,
            on_ping=self.on_ping,
            on_pong=self.on_pong,
            on_closed=self._connection_closed,
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_timeout,
        )
        self._run_task = asyncio.get_running_loop().create_task(self.ws_connection.run())

    # -- messages in -------------------------------------------------------

    def _deliver(self, message: str | bytes | None) -> Awaitable[None] | None:
        if self._on_message_callback is not None:
            self._on_message_callback(message)
            return None
        if self._readers:
            future_set_result_unless_cancelled(self._readers.popleft(), message)
            return None
        self._messages.append(message)
        if message is not None and len(self._messages) >= _CLIENT_QUEUE_LIMIT:
            # Stop reading the socket until the application catches up.
            self._space = asyncio.get_running_loop().create_future()
            return self._space
        return None

    def read_message(
        self, callback: Callable[[Future[str | bytes | None]], None] | None = None
    ) -> Future[str | bytes | None]:
        """Return a future for the next message (`str` or `bytes`), or None
        once the connection has closed.

        ``callback``, if given, is called with the future when it resolves.
        """
        # IOLoop.current() rather than the running loop: callback-style code
        # calls this before the loop runs.
        future: Future[str | bytes | None] = IOLoop.current().asyncio_loop.create_future()
        if self._messages:
            message = self._messages.popleft()
            if message is None:
                # Keep answering None to every later read.
                self._messages.appendleft(None)
            future.set_result(message)
            space = self._space
            if space is not None and len(self._messages) < _CLIENT_QUEUE_LIMIT:
                self._space = None
                future_set_result_unless_cancelled(space, None)
        elif self._done:
            future.set_result(None)
        else:
            self._readers.append(future)
        if callback is not None:
            IOLoop.current().add_future(future, callback)
        return future

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        """Called with each message when no ``on_message_callback`` was given;
        the default queues it for `read_message`."""
        return self._deliver(message)

    def on_ping(self, data: bytes) -> None:
        """Called when a ping arrives (the pong is sent automatically)."""

    def on_pong(self, data: bytes) -> None:
        """Called when a pong arrives."""

    def _connection_closed(self) -> None:
        connection = self.ws_connection
        if connection is not None:
            self.close_code = connection.close_code
            self.close_reason = connection.close_reason
        self._done = True
        space = self._space
        if space is not None:
            self._space = None
            future_set_result_unless_cancelled(space, None)
        if self._on_message_callback is not None:
            self._on_message_callback(None)
            return
        while self._readers:
            future_set_result_unless_cancelled(self._readers.popleft(), None)
        self._messages.append(None)

    # -- messages out ------------------------------------------------------

    def write_message(
        self, message: str | bytes | dict[str, Any], binary: bool = False
    ) -> Future[None]:
        """Send a message (as `WebSocketHandler.write_message`); raises
        `WebSocketClosedError` once the connection is closed or closing."""
        if self.ws_connection is None:
            raise WebSocketClosedError()
        data = _encode_message(message)
        return self.ws_connection.write_message(data, binary)

    def ping(self, data: str | bytes = b"") -> None:
        """Send a ping (at most 125 bytes of data); raises
        `WebSocketClosedError` on a closed connection."""
        if self.ws_connection is None:
            raise WebSocketClosedError()
        self.ws_connection.ping(utf8(data))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the close handshake; `read_message` returns None once it is
        done.  Does nothing on a closed connection."""
        if self.ws_connection is not None:
            self.ws_connection.close(code, reason)

    @property
    def selected_subprotocol(self) -> str | None:
        """The subprotocol the server selected, if any."""
        return self._selected_subprotocol

    @property
    def stream(self) -> IOStream:
        """The connection's `~tornado.iostream.IOStream` (there once
        `websocket_connect` has resolved; `RuntimeError` before)."""
        if self.ws_connection is None:
            raise RuntimeError("the WebSocket is not connected yet")
        return self.ws_connection.stream

    @property
    def protocol(self) -> proto.WebSocketProtocol | None:
        """The sans-IO protocol object of the connection."""
        return self.ws_connection.protocol if self.ws_connection is not None else None


def websocket_connect(
    url: str | HTTPRequest,
    callback: Callable[[Future[WebSocketClientConnection]], None] | None = None,
    connect_timeout: float | None = None,
    on_message_callback: Callable[[str | bytes | None], None] | None = None,
    compression_options: dict[str, Any] | None = None,
    ping_interval: float | None = None,
    ping_timeout: float | None = None,
    max_message_size: int = _default_max_message_size,
    subprotocols: list[str] | None = None,
    resolver: Resolver | None = None,
) -> Future[WebSocketClientConnection]:
    """Open a WebSocket connection to ``url`` (``ws://`` or ``wss://``, or an
    `~tornado.httpclient.HTTPRequest` carrying headers and TLS options).

    Returns a future resolving to a `WebSocketClientConnection`.  Messages
    are read with `~WebSocketClientConnection.read_message`, or passed to
    ``on_message_callback`` (None marks the close).  ``compression_options``
    (a dict, possibly empty) offers permessage-deflate.

    The future fails with `~tornado.httpclient.HTTPClientError` when the
    server answers with an error or redirect status (or on timeouts, code
    599), with `WebSocketError` for a successful (2xx) answer that is not an
    upgrade and for an invalid handshake answer, and with
    `OSError` / `~tornado.iostream.StreamClosedError` when the connection
    cannot be made.
    """
    if isinstance(url, HTTPRequest):
        request = url
        if connect_timeout is not None:
            request.connect_timeout = connect_timeout
    else:
        request = HTTPRequest(url, connect_timeout=connect_timeout)
    connection = WebSocketClientConnection(
        request,
        on_message_callback=on_message_callback,
        compression_options=compression_options,
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        max_message_size=max_message_size,
        subprotocols=subprotocols,
        resolver=resolver,
    )
    future: Future[WebSocketClientConnection] = asyncio.ensure_future(connection._connect())
    if callback is not None:
        IOLoop.current().add_future(future, callback)
    return future
