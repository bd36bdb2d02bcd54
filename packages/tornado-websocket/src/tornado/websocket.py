"""WebSocket (RFC 6455) server handler and client, with permessage-deflate.

`WebSocketHandler` upgrades a request to a bidirectional message channel::

    class EchoHandler(WebSocketHandler):
        def on_message(self, message):
            self.write_message(message)

`websocket_connect` opens a client connection and returns a
`WebSocketClientConnection`.

The protocol itself (frames, masking, the close handshake, compression)
lives in the sans-IO module ``tornado._websocket_proto``; `WebSocketProtocol13`
moves its bytes over an `~tornado.iostream.IOStream` and calls back into its
handler (the `WebSocketHandler`, or the `WebSocketClientConnection`).  The
client's opening handshake is an HTTP request of the HTTP client
(`WebSocketClientConnection` is a ``tornado.simple_httpclient`` connection,
a documented-internal interface of tornado-http).
"""

from __future__ import annotations

import abc
import asyncio
import copy
import functools
import inspect
import logging
import sys
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlsplit

from tornado import _websocket_proto as proto
from tornado import httpserver, httputil, simple_httpclient, web

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
from tornado.concurrent import (
    Future,
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
)
from tornado.escape import json_encode, utf8
from tornado.httpclient import HTTPRequest, HTTPResponse
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import app_log, gen_log
from tornado.netutil import Resolver
from tornado.queues import Queue
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
# Client messages not yet read with read_message(): one, as Tornado's
# read_queue holds; beyond it the reading side stops reading the socket
# (back-pressure instead of unbounded memory).
_CLIENT_QUEUE_LIMIT = 1
_READ_CHUNK = 65536
# Messages handled in a row before the reading loop lets other callbacks
# run (a burst of tiny frames must not monopolise the event loop).
_MESSAGES_PER_TURN = 32

#: Logs through ``tornado.general`` once per distinct (level, message,
#: arguments): for notes about a configuration that every connection of an
#: application would otherwise repeat.
de_dupe_gen_log = functools.lru_cache(gen_log.log)


class WebSocketError(Exception):
    """Base class for WebSocket errors."""


class WebSocketClosedError(WebSocketError):
    """Raised by operations on a closed connection.

    .. versionadded:: 3.2
    """


class _WebSocketParams:
    """The per-connection options a `WebSocketProtocol13` runs with."""

    def __init__(
        self,
        ping_interval: float | None = None,
        ping_timeout: float | None = None,
        max_message_size: int = _default_max_message_size,
        compression_options: dict[str, Any] | None = None,
    ) -> None:
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_message_size = max_message_size
        self.compression_options = compression_options


class WebSocketProtocol(abc.ABC):
    """The base class of WebSocket protocol implementations.

    ``handler`` is the object the protocol serves: the `WebSocketHandler`
    on a server, the `WebSocketClientConnection` on a client.  The protocol
    calls its ``on_message``, ``on_ping``, ``on_pong``,
    ``on_ws_connection_close`` and ``log_exception`` methods.
    """

    def __init__(self, handler: Any) -> None:
        """Serve ``handler``; `stream` is set once the handshake is done."""
        self.handler = handler
        #: The connection's `~tornado.iostream.IOStream`.
        self.stream: IOStream | None = None
        # True once the peer's close frame arrived / once ours was sent (the
        # names come from the server's point of view).
        #: True once the peer's close frame arrived.
        self.client_terminated = False
        #: True once this side sent its close frame.
        self.server_terminated = False

    def on_connection_close(self) -> None:
        """The underlying connection closed: drop it."""
        self._abort()

    def _abort(self) -> None:
        # Give up on the connection at once, without a close handshake.
        self.client_terminated = True
        self.server_terminated = True
        if self.stream is not None:
            self.stream.close()
        self.close()

    @abc.abstractmethod
    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start (or finish) the close handshake."""
        raise NotImplementedError()

    @abc.abstractmethod
    def is_closing(self) -> bool:
        """True once the connection is closing or closed."""
        raise NotImplementedError()

    @abc.abstractmethod
    async def accept_connection(self, handler: WebSocketHandler) -> None:
        """Answer a server-side opening handshake and run the connection."""
        raise NotImplementedError()

    @abc.abstractmethod
    def write_message(
        self, message: str | bytes | dict[str, Any], binary: bool = False
    ) -> Future[None]:
        """Send one message; see `WebSocketHandler.write_message`."""
        raise NotImplementedError()

    @property
    @abc.abstractmethod
    def selected_subprotocol(self) -> str | None:
        """The subprotocol in use, if any."""
        raise NotImplementedError()

    @abc.abstractmethod
    def write_ping(self, data: bytes) -> None:
        """Send a ping frame carrying ``data``."""
        raise NotImplementedError()

    @abc.abstractmethod
    def _process_server_headers(self, key: bytes | str, headers: httputil.HTTPHeaders) -> None:
        raise NotImplementedError()

    @abc.abstractmethod
    def start_pinging(self) -> None:
        """Start the keepalive pings (when a ping interval is set)."""
        raise NotImplementedError()

    @abc.abstractmethod
    async def _receive_frame_loop(self) -> None:
        raise NotImplementedError()

    @abc.abstractmethod
    def set_nodelay(self, x: bool) -> None:
        """Set TCP_NODELAY on the connection's stream."""
        raise NotImplementedError()


class WebSocketProtocol13(WebSocketProtocol):
    """RFC 6455 (version 13, also answering versions 7 and 8).

    Created by `WebSocketHandler.get_websocket_protocol` (server,
    ``mask_outgoing=False``) or `WebSocketClientConnection.get_websocket_protocol`
    (client, ``mask_outgoing=True``); ``params`` carries the ping and size
    settings.  Override a method in a subclass and return it from
    ``get_websocket_protocol`` to change how connections behave.

    The framing itself is the sans-IO ``tornado._websocket_proto``; this
    class moves its bytes over the `IOStream`, hands messages to the
    handler (whose ``on_message`` may return an awaitable: the next message
    waits for it), answers pings, sends keepalive pings and runs the close
    handshake.
    """

    # Bits of a frame's first byte (RFC 6455 section 5.2).
    FIN = 0x80
    RSV1 = 0x40
    RSV2 = 0x20
    RSV3 = 0x10
    RSV_MASK = RSV1 | RSV2 | RSV3
    OPCODE_MASK = 0x0F

    stream: IOStream | None

    def __init__(self, handler: Any, mask_outgoing: bool, params: _WebSocketParams) -> None:
        """Serve ``handler``; ``mask_outgoing`` is True on a client."""
        super().__init__(handler)
        #: Whether frames sent are masked (True on the client side, as RFC 6455 requires).
        self.mask_outgoing = mask_outgoing
        self.params = params
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._selected_subprotocol: str | None = None
        # The sans-IO protocol, made when the handshake has chosen the
        # extensions.
        self._engine: proto.WebSocketProtocol | None = None
        self._timers: dict[str, asyncio.TimerHandle] = {}
        # Loop times of the last keepalive ping sent and the last pong received.
        self._last_ping = 0.0
        self._last_pong = 0.0
        # Pong flood control: while one pong is being written, only the data
        # of the most recent further ping is kept (RFC 6455 5.5.3 allows
        # answering just the latest).
        self._pong_in_flight = False
        self._next_pong: bytes | None = None
        self._finished = False
        # Forgets this WebSocket at HTTPServer (set once it is accepted).
        self._unregister_drain: Callable[[], None] = _no_drain
        # The loop the connection runs on (set when it starts), so that
        # close() also works from code outside it (test teardown).
        self._loop: asyncio.AbstractEventLoop = IOLoop.current().asyncio_loop
        # The extension parameters a client's handshake agreed on.
        self._client_deflate: proto.DeflateParams | None = None

    # -- statistics (payload and wire bytes each way) ----------------------

    @property
    def _message_bytes_in(self) -> int:
        return self._engine._message_bytes_in if self._engine is not None else 0

    @property
    def _message_bytes_out(self) -> int:
        return self._engine._message_bytes_out if self._engine is not None else 0

    @property
    def _wire_bytes_in(self) -> int:
        return self._engine._wire_bytes_in if self._engine is not None else 0

    @property
    def _wire_bytes_out(self) -> int:
        return self._engine._wire_bytes_out if self._engine is not None else 0

    # -- handshake ---------------------------------------------------------

    @property
    def selected_subprotocol(self) -> str | None:
        """The subprotocol the handshake chose, if any."""
        return self._selected_subprotocol

    @selected_subprotocol.setter
    def selected_subprotocol(self, value: str | None) -> None:
        self._selected_subprotocol = value

    @staticmethod
    def compute_accept_value(key: str | bytes) -> str:
        """The ``Sec-WebSocket-Accept`` value answering the client's
        ``Sec-WebSocket-Key`` ``key`` (RFC 6455 section 4.2.2)."""
        return proto.accept_key(key)

    async def accept_connection(self, handler: WebSocketHandler) -> None:
        """Answer the opening handshake of ``handler``'s request (101, or
        400 for a missing or malformed ``Sec-WebSocket-Key``), call its
        ``open`` and read messages until the connection ends."""
        headers = handler.request.headers
        key = headers.get("Sec-WebSocket-Key", "")
        if not proto.is_valid_client_key(key):
            handler.ws_connection = None
            handler._refuse(400, "Missing/Invalid WebSocket headers")
            return
        subprotocol_header = headers.get("Sec-WebSocket-Protocol", "")
        offered = [s.strip() for s in subprotocol_header.split(",") if s.strip()]
        selected = handler.select_subprotocol(offered)
        if selected is not None:
            if selected not in offered:
                raise ValueError(f"select_subprotocol returned {selected!r}, not offered")
            self.selected_subprotocol = selected
            handler.set_header("Sec-WebSocket-Protocol", selected)
        deflate: proto.DeflateParams | None = None
        if self.params.compression_options is not None:
            accepted = proto.server_accept_deflate(
                headers.get("Sec-WebSocket-Extensions"), self.params.compression_options
            )
            if accepted is not None:
                handler.set_header("Sec-WebSocket-Extensions", accepted[0])
                deflate = accepted[1]
        handler.set_status(101)
        handler.set_header("Upgrade", "websocket")
        handler.set_header("Connection", "Upgrade")
        handler.set_header("Sec-WebSocket-Accept", self.compute_accept_value(key))
        handler.finish()
        # Before detach (which ends the HTTP server's hold on the stream):
        # HTTPServer.drain then closes this WebSocket with 1001.
        self._unregister_drain = httpserver._register_detached(
            handler.request.connection, functools.partial(self._going_away, handler)
        )
        self.stream = handler.detach()
        handler._refuse_http_methods()
        self._start(deflate)
        try:
            result = handler.open(*handler.open_args, **handler.open_kwargs)
            if result is not None:
                await result
        except Exception:
            handler.log_exception(*sys.exc_info())
            self._fail_soon(proto.CLOSE_INTERNAL_ERROR)
        if self.stream.closed():
            self._finish()
            return
        await self._receive_frame_loop()

    def _start(self, deflate: proto.DeflateParams | None) -> None:
        assert self.stream is not None
        self._loop = asyncio.get_running_loop()
        self._engine = proto.WebSocketProtocol(
            is_client=self.mask_outgoing,
            max_message_size=self.params.max_message_size,
            deflate=deflate,
        )
        self.stream.set_close_callback(self._finish)
        self.start_pinging()

    def _process_server_headers(self, key: bytes | str, headers: httputil.HTTPHeaders) -> None:
        """Check a server's 101 answer to our ``key``; raises `WebSocketError`."""
        if headers.get("Upgrade", "").lower() != "websocket":
            raise WebSocketError("handshake response lacks Upgrade: websocket")
        if headers.get("Sec-WebSocket-Accept") != self.compute_accept_value(key):
            raise WebSocketError("invalid Sec-WebSocket-Accept")
        selected = headers.get("Sec-WebSocket-Protocol")
        offered = getattr(self.handler, "_subprotocols", [])
        if selected is not None and selected not in offered:
            raise WebSocketError(f"server chose a subprotocol we did not offer: {selected!r}")
        self.selected_subprotocol = selected
        extensions = headers.get("Sec-WebSocket-Extensions")
        if extensions and self.params.compression_options is None:
            raise WebSocketError("server enabled an extension we did not offer")
        try:
            self._client_deflate = proto.client_accept_deflate(
                extensions, self.params.compression_options
            )
        except proto.HandshakeError as e:
            raise WebSocketError(str(e)) from None

    # -- reading -----------------------------------------------------------

    async def _receive_frame_loop(self) -> None:
        # Read and dispatch frames until the connection ends.
        engine = self._engine
        stream = self.stream
        assert engine is not None and stream is not None
        handled = 0
        try:
            while not self._finished:
                data = await stream.read_bytes(_READ_CHUNK, partial=True)
                try:
                    events = engine.receive_data(data)
                except proto.ProtocolError as e:
                    # A misbehaving peer is routine for a server: debug, not info.
                    gen_log.debug("WebSocket protocol error: %s", e.reason)
                    await self._fail(e.code, e.reason)
                    return
                for event in events:
                    handled += 1
                    if handled % _MESSAGES_PER_TURN == 0:
                        await asyncio.sleep(0)
                        if self._finished:
                            return
                    if isinstance(event, proto.Message):
                        opcode = proto.OP_TEXT if isinstance(event.data, str) else proto.OP_BINARY
                        result = self._handle_message(opcode, event.data)
                    elif isinstance(event, proto.Ping):
                        result = self._handle_message(proto.OP_PING, event.data)
                    elif isinstance(event, proto.Pong):
                        result = self._handle_message(proto.OP_PONG, event.data)
                    else:
                        payload = proto.encode_close_payload(event.code, event.reason)
                        result = self._handle_message(proto.OP_CLOSE, payload)
                    if result is not None:
                        await result
                    if self._finished or self.client_terminated:
                        return
        except StreamClosedError:
            pass
        except Exception:
            self.handler.log_exception(*sys.exc_info())
            await self._fail(proto.CLOSE_INTERNAL_ERROR, "internal error")
        finally:
            self._finish()

    def _handle_message(self, opcode: int, data: str | bytes) -> Awaitable[None] | None:
        # One complete message or control frame, handed to the handler.  A
        # single place, so that a subclass (or a test) can observe or drop
        # frames.  Text arrives as str, everything else as bytes.
        handler = self.handler
        if opcode in (proto.OP_TEXT, proto.OP_BINARY):
            result = handler.on_message(data)
            if result is not None and inspect.isawaitable(result):
                return cast(Awaitable[None], result)
            return None
        assert isinstance(data, bytes)
        if opcode == proto.OP_PING:
            self._answer_ping(data)
            handler.on_ping(data)
        elif opcode == proto.OP_PONG:
            self._last_pong = self._loop_time()
            handler.on_pong(data)
        elif opcode == proto.OP_CLOSE:
            self.client_terminated = True
            self.close_code, self.close_reason = proto.parse_close_payload(data)
            return self._peer_closed()
        return None

    async def _peer_closed(self) -> None:
        engine = self._engine
        assert engine is not None and self.stream is not None
        if not engine.close_sent:
            # Echo the peer's code, as RFC 6455 5.5.1 suggests.
            self.server_terminated = True
            await self._write_and_wait(engine.send_close(self.close_code))
        # Both close frames are out: the TCP connection has served its purpose.
        self.stream.close()

    async def _fail(self, code: int, reason: str) -> None:
        assert self._engine is not None and self.stream is not None
        self.server_terminated = True
        try:
            await self._write_and_wait(self._engine.send_close(code, reason))
        finally:
            self.stream.close()

    def _fail_soon(self, code: int) -> None:
        # close() without waiting for the peer: after a failure in open().
        self.close(code)

    # -- writing -----------------------------------------------------------

    def _write_frame(self, fin: bool, opcode: int, data: bytes, flags: int = 0) -> Future[None]:
        # Write one ping or pong frame (the frames sent on the protocol's own
        # initiative; messages and close frames are written directly).
        assert self._engine is not None
        if opcode == proto.OP_PONG:
            return self._write(self._engine.send_pong(data))
        if opcode == proto.OP_PING:
            return self._write(self._engine.send_ping(data))
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
        if data is not None and not self._finished:
            self._next_pong = None
            self._answer_ping(data)

    def _write(self, data: bytes) -> Future[None]:
        if self.stream is None or self.stream.closed():
            raise WebSocketClosedError()
        try:
            return self.stream.write(data)
        except StreamClosedError:
            raise WebSocketClosedError() from None

    async def _write_and_wait(self, data: bytes) -> None:
        if not data or self.stream is None or self.stream.closed():
            return
        try:
            await self.stream.write(data)
        except StreamClosedError:
            pass

    def is_closing(self) -> bool:
        """True once a close frame went either way or the stream closed."""
        return (
            self._finished
            or self.stream is None
            or self.stream.closed()
            or self.client_terminated
            or self.server_terminated
        )

    def write_message(
        self, message: str | bytes | dict[str, Any], binary: bool = False
    ) -> Future[None]:
        """Send one message (see `WebSocketHandler.write_message`); raises
        `WebSocketClosedError` once the connection is closing."""
        if self.is_closing() or self._engine is None:
            raise WebSocketClosedError()
        data = _encode_message(message)
        future = self._write(self._engine.send_message(data, binary))
        if future.done() and not future.cancelled() and future.exception() is None:
            return future
        return _translate_closed(future)

    def write_ping(self, data: bytes) -> None:
        """Send a ping frame; raises `WebSocketClosedError` when closing
        and `ValueError` for more than 125 bytes."""
        if self.is_closing():
            raise WebSocketClosedError()
        self._write_frame(True, proto.OP_PING, data)

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the close handshake (or finish it, after the peer's close).

        The connection is dropped if the peer does not answer within a few
        seconds.
        """
        stream = self.stream
        if stream is None or stream.closed():
            return
        engine = self._engine
        if engine is not None and not engine.close_sent:
            self.server_terminated = True
            frame = engine.send_close(code, reason)
            try:
                stream.write(frame)
            except StreamClosedError:
                return
        if self.client_terminated or engine is None:
            stream.close()
        elif "close" not in self._timers:
            self._timers["close"] = self._loop.call_later(_CLOSE_TIMEOUT, stream.close)

    def set_nodelay(self, x: bool) -> None:
        """Set TCP_NODELAY on the stream (small messages go out at once)."""
        if self.stream is not None:
            self.stream.set_nodelay(x)

    # -- keepalive ---------------------------------------------------------

    @property
    def ping_interval(self) -> float:
        """Seconds between keepalive pings (0: none)."""
        return self.params.ping_interval or 0

    @property
    def ping_timeout(self) -> float:
        """Seconds to wait for a pong before closing the connection (0: no limit).

        Defaults to `ping_interval`, and is capped there (with a warning
        logged once): a pong must come back before the next ping is due.
        """
        timeout = self.params.ping_timeout
        interval = self.ping_interval
        if timeout is None:
            return interval
        if interval and timeout > interval:
            de_dupe_gen_log(
                logging.WARNING,
                f"The websocket_ping_timeout ({timeout}) cannot be longer than the "
                f"websocket_ping_interval ({interval}); using {interval}",
            )
            return interval
        return timeout

    @staticmethod
    def ping_sleep_time(*, last_ping_time: float, interval: float, now: float) -> float:
        """Seconds until the next keepalive ping is due: ``interval`` after
        ``last_ping_time`` (all in seconds of the same clock), never
        negative."""
        return max(0.0, last_ping_time + interval - now)

    def start_pinging(self) -> None:
        """Schedule the keepalive pings when `ping_interval` is set."""
        if self.ping_interval > 0:
            self._schedule_ping()

    def _loop_time(self) -> float:
        return self._loop.time()

    def _schedule_ping(self) -> None:
        now = self._loop_time()
        delay = self.ping_sleep_time(
            last_ping_time=self._last_ping or now, interval=self.ping_interval, now=now
        )
        self._timers["ping"] = self._loop.call_later(delay, self.periodic_ping)

    def periodic_ping(self) -> None:
        """Send one keepalive ping and schedule the next; close the
        connection when the previous ping went unanswered for
        `ping_timeout` seconds."""
        self._timers.pop("ping", None)
        if self.is_closing():
            return
        sent_at = self._last_ping = self._loop_time()
        try:
            self._write_frame(True, proto.OP_PING, b"")
        except WebSocketClosedError:
            return
        timeout = self.ping_timeout
        if timeout and "pong" not in self._timers:
            self._timers["pong"] = self._loop.call_later(timeout, self._check_pong, sent_at)
        self._schedule_ping()

    def _check_pong(self, sent_at: float) -> None:
        # Each ping must be answered within ping_timeout: one timer at a time,
        # re-armed for the latest ping when that was sent after ``sent_at``.
        self._timers.pop("pong", None)
        if self._finished:
            return
        if self._last_pong < sent_at:
            gen_log.debug("WebSocket ping timed out; closing the connection")
            # A normal close handshake: the peer learns why (and if it is
            # gone altogether, the close timeout drops the connection).
            self.close(proto.CLOSE_NORMAL, "ping timed out")
            return
        latest = self._last_ping
        timeout = self.ping_timeout
        if latest > sent_at and timeout:
            delay = max(0.0, latest + timeout - self._loop_time())
            self._timers["pong"] = self._loop.call_later(delay, self._check_pong, latest)

    # -- end ---------------------------------------------------------------

    @staticmethod
    def _going_away(handler: WebSocketHandler) -> None:
        # The server is draining (HTTPServer.drain).
        handler.close(proto.CLOSE_GOING_AWAY, "server shutting down")

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        self._unregister_drain()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self.stream is not None and not self.stream.closed():
            self.stream.close()
        try:
            self.handler.on_ws_connection_close(self.close_code, self.close_reason)
        except Exception:
            app_log.error("Uncaught exception closing a WebSocket", exc_info=True)


def _no_drain() -> None:
    pass


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
        self.ws_connection: WebSocketProtocol | None = None
        self.close_code: int | None = None
        self.close_reason: str | None = None
        # The protocol of this request, kept after close() drops ws_connection.
        self._protocol: WebSocketProtocol | None = None
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
        connection = self.ws_connection = self._protocol = self.get_websocket_protocol()
        if connection is None:
            self.set_header("Sec-WebSocket-Version", "7, 8, 13")
            self._refuse(426, "Upgrade Required")
            return
        try:
            await connection.accept_connection(self)
        except Exception:
            if connection.stream is None:
                self.ws_connection = None
                raise  # still plain HTTP: an error response can go out
            # After the upgrade no HTTP error can be sent: drop the connection.
            self.log_exception(*sys.exc_info())
            connection._abort()

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
        ``websocket_ping_timeout``).

        None (the default) means "equal to `ping_interval`"; 0 disables the
        timeout; a value longer than the interval is capped to it (since
        6.5, as Tornado documents).
        """
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
        protocol = self._protocol
        return protocol.selected_subprotocol if protocol is not None else None

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
        self.ws_connection.write_ping(utf8(data))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the close handshake with ``code`` and ``reason``.

        The connection is dropped if the peer does not answer within a few
        seconds.  Does nothing on a connection that is already closed.
        """
        connection = self.ws_connection
        if connection is not None:
            connection.close(code, reason)
            # From now on write_message and ping raise WebSocketClosedError.
            self.ws_connection = None

    def set_nodelay(self, value: bool) -> None:
        """Set TCP_NODELAY on the connection (send small messages at once).

        Call it in `open`.
        """
        connection = self.ws_connection
        if connection is not None:
            connection.set_nodelay(value)

    def get_websocket_protocol(self) -> WebSocketProtocol | None:
        """The protocol object for this request's ``Sec-WebSocket-Version``
        (a `WebSocketProtocol13` for versions 7, 8 and 13; None otherwise,
        which answers 426).  Override to use a subclass."""
        if self.request.headers.get("Sec-WebSocket-Version") not in ("7", "8", "13"):
            return None
        params = _WebSocketParams(
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            max_message_size=self.max_message_size,
            compression_options=self.get_compression_options(),
        )
        return WebSocketProtocol13(self, False, params)

    # -- called by the protocol --------------------------------------------

    def on_ws_connection_close(
        self, close_code: int | None = None, close_reason: str | None = None
    ) -> None:
        """Called by the protocol once the WebSocket has closed, with the
        code and reason of the peer's close frame (if any); records them in
        `close_code` and `close_reason` and runs `on_connection_close`.

        .. versionadded:: 6.4
        """
        self.close_code = close_code
        self.close_reason = close_reason
        self.on_connection_close()

    def on_connection_close(self) -> None:
        """The connection closed (before or after the upgrade): drop the
        protocol and call `on_close`, once."""
        connection = self.ws_connection
        if connection is not None:
            self.ws_connection = None
            connection.on_connection_close()
        if not self._on_close_called:
            self._on_close_called = True
            try:
                self.on_close()
            except Exception:
                app_log.error("Uncaught exception in on_close", exc_info=True)
        super().on_connection_close()


# -- client --------------------------------------------------------------------


class WebSocketClientConnection(simple_httpclient._HTTPConnection):
    """A client WebSocket connection; create it with `websocket_connect`.

    The opening handshake is an HTTP request run by the HTTP client's
    connection machinery (this class is one of its connections); once the
    server answers 101, the stream is handed to the `protocol`.
    """

    protocol: WebSocketProtocol | None = None

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
        """Start the opening handshake of ``request`` (a ``ws://`` or
        ``wss://`` URL); `connect_future` resolves once it is done."""
        #: Resolves to this connection once the handshake succeeded.
        self.connect_future: Future[WebSocketClientConnection] = Future()
        #: Incoming messages not read yet (None once the connection closed).
        self.read_queue: Queue[str | bytes | None] = Queue(_CLIENT_QUEUE_LIMIT)
        #: The ``Sec-WebSocket-Key`` of the handshake.
        self.key = proto.make_client_key().encode("ascii")
        #: The protocol options (ping interval and timeout, largest message, compression).
        self.params = _WebSocketParams(
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            max_message_size=max_message_size,
            compression_options=compression_options,
        )
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self._on_message_callback = on_message_callback
        self._subprotocols = list(subprotocols or [])
        self._closed = False
        self._last_protocol: WebSocketProtocol | None = None
        # The caller's request is left as it is; the handshake runs on a copy.
        request = copy.copy(request)
        request.headers = httputil.HTTPHeaders(request.headers)
        scheme, sep, rest = request.url.partition(":")
        request.url = {"ws": "http", "wss": "https"}.get(scheme.lower(), scheme) + sep + rest
        request.headers.update(
            {
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": self.key.decode("ascii"),
                "Sec-WebSocket-Version": "13",
            }
        )
        if self._subprotocols:
            request.headers["Sec-WebSocket-Protocol"] = ",".join(self._subprotocols)
        if compression_options is not None:
            request.headers["Sec-WebSocket-Extensions"] = proto.client_offer()
        # A redirect answers the handshake (as an HTTPClientError); the
        # response body is not wanted.
        request.follow_redirects = False
        request.decompress_response = False
        #: The `~tornado.tcpclient.TCPClient` that opens the connection.
        self.tcp_client = TCPClient(resolver=resolver)
        super().__init__(
            None,
            request,
            lambda: None,
            self._on_http_response,
            104857600,
            self.tcp_client,
            65536,
            104857600,
        )

    def __del__(self) -> None:
        # Garbage collected while open (its loop is gone, or the caller
        # dropped it): release the socket quietly.
        protocol = self.protocol
        stream = protocol.stream if protocol is not None else None
        if stream is not None and not stream.closed():
            try:
                stream.close()
            except Exception:
                pass

    # -- the handshake, as an HTTP response ----------------------------------

    def _on_http_response(self, response: HTTPResponse) -> None:
        # The HTTP exchange ended without an upgrade.
        if not self.connect_future.done():
            if response.error:
                self.connect_future.set_exception(response.error)
            else:
                self.connect_future.set_exception(
                    WebSocketError(f"non-WebSocket response: {response.code}")
                )

    async def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> None:
        """Take the connection over on a 101 answer (any other answer is an
        ordinary HTTP response, which fails `connect_future`)."""
        assert isinstance(start_line, httputil.ResponseStartLine)
        if start_line.code != 101:
            await super().headers_received(start_line, headers)
            return
        self._remove_timeout()
        self.code = start_line.code
        self.reason = start_line.reason
        self.headers = headers
        protocol = self.get_websocket_protocol()
        try:
            protocol._process_server_headers(self.key, headers)
        except WebSocketError as e:
            self.final_callback = None
            future_set_exception_unless_cancelled(self.connect_future, e)
            assert self.connection is not None
            self.connection.close()
            return
        self.protocol = self._last_protocol = protocol
        assert self.connection is not None
        protocol.stream = self.connection.detach()
        self.final_callback = None
        if isinstance(protocol, WebSocketProtocol13):
            protocol._start(protocol._client_deflate)
        else:
            protocol.start_pinging()
        self.io_loop.add_future(
            asyncio.ensure_future(protocol._receive_frame_loop()), lambda f: f.result()
        )
        future_set_result_unless_cancelled(self.connect_future, self)

    def finish(self) -> None:
        """The HTTP response ended: deliver it (a failed handshake)."""
        if self.code == 101:
            return  # a 101 whose upgrade was refused: connect_future failed already
        super().finish()

    def on_connection_close(self) -> None:
        """The connection closed: mark the end of the messages (None in
        `read_queue`).

        A pending handshake is failed by the HTTP exchange itself, whose
        response (delivered to `_on_http_response`, perhaps already on its
        way) carries the error `~tornado.httpclient.AsyncHTTPClient.fetch` would raise: an
        `~tornado.httpclient.HTTPClientError` of code 599 for a closed
        connection or an invalid response such as a malformed status line.
        """
        if not self._closed:
            self._closed = True
            self._on_message(None)
        self.tcp_client.close()
        super().on_connection_close()

    def on_ws_connection_close(
        self, close_code: int | None = None, close_reason: str | None = None
    ) -> None:
        """Called by the protocol once the WebSocket closed, with the peer's
        close code and reason (if any)."""
        self.close_code = close_code
        self.close_reason = close_reason
        self.on_connection_close()

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Log an exception raised by a message callback."""
        assert typ is not None and value is not None
        app_log.error("Uncaught exception %s", value, exc_info=(typ, value, tb))

    def get_websocket_protocol(self) -> WebSocketProtocol:
        """The protocol object for the connection (a masking
        `WebSocketProtocol13`); override to use a subclass."""
        return WebSocketProtocol13(self, mask_outgoing=True, params=self.params)

    # -- messages in -------------------------------------------------------

    def _on_message(self, message: str | bytes | None) -> Awaitable[None] | None:
        if self._on_message_callback is not None:
            self._on_message_callback(message)
            return None
        # A full queue makes the reading side wait (back-pressure).
        return self.read_queue.put(message)

    def read_message(
        self, callback: Callable[[Future[str | bytes | None]], None] | None = None
    ) -> Awaitable[str | bytes | None]:
        """Return a future for the next message (`str` or `bytes`), or None
        once the connection has closed.

        ``callback``, if given, is called with the future when it resolves.
        """
        awaitable: Awaitable[str | bytes | None]
        if self._closed and self.read_queue.empty():
            # Every read after the end answers None.
            done: Future[str | bytes | None] = Future()
            done.set_result(None)
            awaitable = done
        else:
            awaitable = self.read_queue.get()
        if callback is not None:
            self.io_loop.add_future(asyncio.ensure_future(awaitable), callback)
        return awaitable

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        """Called with each message; by default it goes to
        ``on_message_callback`` or into `read_queue` (for `read_message`)."""
        return self._on_message(message)

    def on_ping(self, data: bytes) -> None:
        """Called when a ping arrives (the pong is sent automatically)."""

    def on_pong(self, data: bytes) -> None:
        """Called when a pong arrives."""

    # -- messages out ------------------------------------------------------

    def write_message(
        self, message: str | bytes | dict[str, Any], binary: bool = False
    ) -> Future[None]:
        """Send a message (as `WebSocketHandler.write_message`); raises
        `WebSocketClosedError` once the connection is closed or closing."""
        if self.protocol is None:
            raise WebSocketClosedError("Client connection has been closed")
        return self.protocol.write_message(_encode_message(message), binary)

    def ping(self, data: str | bytes = b"") -> None:
        """Send a ping (at most 125 bytes of data); raises
        `WebSocketClosedError` on a closed connection."""
        if self.protocol is None:
            raise WebSocketClosedError()
        self.protocol.write_ping(utf8(data))

    def close(self, code: int | None = None, reason: str | None = None) -> None:
        """Start the close handshake; `read_message` returns None once it is
        done.  Does nothing on a closed connection."""
        protocol = self.protocol
        if protocol is not None:
            protocol.close(code, reason)
            self.protocol = None

    @property
    def selected_subprotocol(self) -> str | None:
        """The subprotocol the server selected, if any."""
        protocol = self._last_protocol
        return protocol.selected_subprotocol if protocol is not None else None


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
    server answers with an error or redirect status, or with code 599 (as
    `~tornado.httpclient.AsyncHTTPClient.fetch` would) on timeouts, an
    invalid response (a malformed status line is judged by the same rule
    as the HTTP clients') or a connection closed before the answer; with
    `WebSocketError` for a successful (2xx) answer that is not an upgrade
    and for an invalid handshake answer; and with `OSError` when the
    connection cannot be made.
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
    if callback is not None:
        IOLoop.current().add_future(connection.connect_future, callback)
    return connection.connect_future
