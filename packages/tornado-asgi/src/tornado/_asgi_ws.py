"""WebSocket scopes for `ASGIAdapter`: a `~tornado.websocket.WebSocketHandler`
talking through ASGI ``websocket.*`` messages.

Strategy: an ASGI server has already parsed the opening handshake and
deals in whole messages, while ``WebSocketHandler`` answers the handshake
itself (a 101 response) and then runs its protocol over the stream that
``detach()`` hands it.  So the handler gets a synthesised upgrade request
and a connection of ours: its 101 becomes ``websocket.accept`` (with the
chosen subprotocol and extra headers), a refusal becomes
``websocket.close`` (or, where the server offers the
``websocket.http.response`` extension, the refusal's own response), and
``detach()`` returns a `_MessageStream` that quacks like an
`~tornado.iostream.IOStream`: messages received are fed to the protocol as
frames, frames the protocol writes go out as messages.  Only public
interfaces of tornado.websocket and tornado.httputil are used.

What the bridge cannot carry: pings.  The ASGI server keeps the
connection alive itself; a ping the handler sends is answered locally
with a pong, so ``websocket_ping_interval`` / ``websocket_ping_timeout``
never close a healthy connection (nor detect a dead one: the server
does).  Compression is the server's too: ``permessage-deflate`` is never
negotiated by the handler.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from typing import Any

from tornado import httputil
from tornado._asgi_common import (
    Receive,
    Scope,
    ScopeContext,
    Send,
    SendPump,
    done_future,
    encode_headers,
    request_from_scope,
    unexpected,
)
from tornado.iostream import StreamClosedError
from tornado.web import Application

_TEXT, _BINARY, _CLOSE, _PING, _PONG, _CONTINUATION = 1, 2, 8, 9, 10, 0
#: No status code was present / the connection dropped (RFC 6455 7.4.1):
#: they never appear in a close frame.
_NO_STATUS = frozenset({1005, 1006})
#: Headers of the handler's 101 that the ASGI server writes itself.
_HANDSHAKE_HEADERS = frozenset(
    {
        "upgrade",
        "connection",
        "sec-websocket-accept",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
        "content-length",
        "content-type",
        "transfer-encoding",
    }
)
# Clients mask their frames; a zero key is a valid mask that leaves the
# payload as it is, so feeding a message to the protocol costs no XOR.
_ZERO_MASK = b"\x00\x00\x00\x00"


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """One masked, final frame, as a client would send it."""
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return head + _ZERO_MASK + payload


def _close_payload(code: int | None, reason: str) -> bytes:
    if code is None or code in _NO_STATUS:
        return b""
    return struct.pack("!H", code) + reason.encode("utf-8")


class _MessageStream:
    """The stream a `~tornado.websocket.WebSocketProtocol13` runs over:
    ASGI messages in, frames out, with the `~tornado.iostream.IOStream`
    methods the protocol uses."""

    def __init__(self, receive: Receive, pump: SendPump) -> None:
        self._receive = receive
        self._pump = pump
        self._buffer = bytearray()
        self._eof = False
        self._readable: asyncio.Event = asyncio.Event()
        self._closed = False
        self._close_callback: Callable[[], None] | None = None
        self._outgoing = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_opcode = _TEXT
        self._peer_gone = False
        self._close_sent = False
        #: Resolves when the stream is closed and the last message is out.
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.get_running_loop().create_task(self._read_messages())

    # -- messages in ----------------------------------------------------

    def _feed(self, data: bytes) -> None:
        self._buffer += data
        self._readable.set()

    async def _read_messages(self) -> None:
        try:
            while True:
                message = await self._receive()
                kind = message["type"]
                if kind == "websocket.receive":
                    text = message.get("text")
                    if text is not None:
                        self._feed(_client_frame(_TEXT, text.encode("utf-8")))
                    else:
                        self._feed(_client_frame(_BINARY, message.get("bytes") or b""))
                elif kind == "websocket.disconnect":
                    self._peer_gone = True
                    code = message.get("code", 1005)
                    if code != 1006:  # a dropped connection sends no close frame
                        reason = message.get("reason") or ""
                        self._feed(_client_frame(_CLOSE, _close_payload(code, reason)))
                    self._eof = True
                    self._readable.set()
                    return
                else:
                    raise unexpected(message, "'websocket.receive' or 'websocket.disconnect'")
        except asyncio.CancelledError:
            raise
        except Exception:
            self._eof = True
            self._readable.set()
            raise

    async def read_bytes(self, num_bytes: int, partial: bool = False) -> bytes:
        """Up to ``num_bytes`` bytes of received frames (``partial`` reads
        only; the protocol reads no other way)."""
        while not self._buffer:
            if self._eof or self._closed:
                raise StreamClosedError()
            self._readable.clear()
            await self._readable.wait()
        data = bytes(self._buffer[:num_bytes])
        del self._buffer[:num_bytes]
        return data

    # -- frames out -----------------------------------------------------

    def write(self, data: bytes) -> asyncio.Future[None]:
        """Take frames the protocol wrote; send the messages they carry."""
        if self._closed:
            return done_future(StreamClosedError())
        self._outgoing += data
        future: asyncio.Future[None] | None = None
        for message in self._parse_outgoing():
            future = self._send(message)
        return future if future is not None else self._pump.put(None)

    def _send(self, message: dict[str, Any]) -> asyncio.Future[None]:
        if self._peer_gone:
            return done_future()  # nobody to tell; the close is already done
        return self._pump.put(message)

    def _parse_outgoing(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        buf = self._outgoing
        while len(buf) >= 2:
            first, second = buf[0], buf[1]
            length = second & 0x7F
            offset = 2
            if length == 126:
                if len(buf) < 4:
                    break
                length = struct.unpack_from("!H", buf, 2)[0]
                offset = 4
            elif length == 127:
                if len(buf) < 10:
                    break
                length = struct.unpack_from("!Q", buf, 2)[0]
                offset = 10
            # The server side never masks (RFC 6455 5.1).
            if len(buf) < offset + length:
                break
            payload = bytes(buf[offset : offset + length])
            del buf[: offset + length]
            fin, opcode = bool(first & 0x80), first & 0x0F
            if opcode in (_TEXT, _BINARY, _CONTINUATION):
                if opcode != _CONTINUATION:
                    self._fragment_opcode = opcode
                self._fragments.append(payload)
                if fin:
                    whole = b"".join(self._fragments)
                    self._fragments = []
                    if self._fragment_opcode == _TEXT:
                        messages.append({"type": "websocket.send", "text": whole.decode("utf-8")})
                    else:
                        messages.append({"type": "websocket.send", "bytes": whole})
            elif opcode == _CLOSE:
                messages.append(self._close_message(payload))
            elif opcode == _PING:
                # The ASGI server does the real keepalive: answer locally.
                self._feed(_client_frame(_PONG, payload))
        return messages

    def _close_message(self, payload: bytes) -> dict[str, Any]:
        code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1000
        reason = payload[2:].decode("utf-8", "replace")
        self._close_sent = True
        if not self._peer_gone:
            # The ASGI server finishes the close handshake with the client;
            # the protocol waits for the peer's close frame: echo ours.
            self._feed(_client_frame(_CLOSE, payload))
        return {"type": "websocket.close", "code": code, "reason": reason}

    # -- the rest of the IOStream surface the protocol uses ---------------

    def closed(self) -> bool:
        """True once `close` was called."""
        return self._closed

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` (soon) when the stream closes."""
        self._close_callback = callback

    def set_nodelay(self, value: bool) -> None:
        """Nothing to do: the ASGI server owns the socket."""

    def close(self, exc_info: Any = False) -> None:
        """End the WebSocket: tell the server if no close went out yet."""
        if self._closed:
            return
        self._closed = True
        self._readable.set()
        if not self._close_sent and not self._peer_gone:
            self._close_sent = True
            self._pump.put({"type": "websocket.close", "code": 1006 if exc_info else 1000})
        self._reader.cancel()
        callback, self._close_callback = self._close_callback, None
        loop = asyncio.get_running_loop()
        if callback is not None:
            loop.call_soon(callback)
        self._drain_task = loop.create_task(self._drained())

    async def _drained(self) -> None:
        await self._pump.drain()
        if not self.done.done():
            self.done.set_result(None)


class _HandshakeConnection(httputil.HTTPConnection):
    """The connection the handler answers the opening handshake on."""

    def __init__(self, scope: Scope, receive: Receive, pump: SendPump) -> None:
        self.context = ScopeContext(scope)
        self._scope = scope
        self._receive = receive
        self._pump = pump
        self._status = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self.stream: _MessageStream | None = None
        #: Resolves when the handler answered: accepted (detached) or
        #: refused (the refusal is out).
        self.answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Unused: before the upgrade nothing can close under the handler."""

    def write_headers(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
        chunk: bytes | None = None,
    ) -> asyncio.Future[None]:
        """The 101 accepts; any other status refuses (sent at `finish`)."""
        assert isinstance(start_line, httputil.ResponseStartLine)
        self._status = start_line.code
        if start_line.code == 101:
            extra = [(n, v) for n, v in headers.get_all() if n.lower() not in _HANDSHAKE_HEADERS]
            return self._pump.put(
                {
                    "type": "websocket.accept",
                    "subprotocol": headers.get("Sec-WebSocket-Protocol"),
                    "headers": encode_headers(extra),
                }
            )
        self._headers = encode_headers(headers.get_all())
        if chunk:
            self._body.append(chunk)
        return done_future()

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        """Body of a refusal, sent at `finish`."""
        self._body.append(chunk)
        return done_future()

    def finish(self) -> None:
        """Send a refusal (a 101 has nothing more to send)."""
        if self._status == 101:
            return
        if "websocket.http.response" in (self._scope.get("extensions") or {}):
            self._pump.put(
                {
                    "type": "websocket.http.response.start",
                    "status": self._status,
                    "headers": self._headers,
                }
            )
            self._pump.put({"type": "websocket.http.response.body", "body": b"".join(self._body)})
        else:
            self._pump.put({"type": "websocket.close", "code": 1008})
        future = self._pump.put(None)
        future.add_done_callback(self._answer)

    def _answer(self, future: object = None) -> None:
        if not self.answered.done():
            self.answered.set_result(None)

    def detach(self) -> _MessageStream:
        """The stream the WebSocket protocol runs over once accepted."""
        self.stream = _MessageStream(self._receive, self._pump)
        self._answer()
        return self.stream


def _upgrade_request(
    scope: Scope,
) -> tuple[httputil.RequestStartLine, httputil.HTTPHeaders]:
    start_line, headers = request_from_scope(scope)
    # The handler checks the handshake headers; the ASGI server already
    # did, and may not pass them all on.
    headers["Upgrade"] = "websocket"
    headers["Connection"] = "Upgrade"
    headers["Sec-WebSocket-Version"] = "13"
    if "Sec-WebSocket-Key" not in headers:
        headers["Sec-WebSocket-Key"] = base64.b64encode(os.urandom(16)).decode()
    headers.pop("Sec-WebSocket-Extensions", None)  # compression is the server's
    subprotocols = scope.get("subprotocols") or []
    if subprotocols:
        headers["Sec-WebSocket-Protocol"] = ", ".join(subprotocols)
    return httputil.RequestStartLine("GET", start_line.path, "HTTP/1.1"), headers


async def serve_websocket(
    application: Application, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run ``application``'s handler for a ``websocket`` scope until the
    WebSocket is closed."""
    message = await receive()
    if message["type"] != "websocket.connect":
        raise unexpected(message, "'websocket.connect'")
    pump = SendPump(send)
    connection = _HandshakeConnection(scope, receive, pump)
    start_line, headers = _upgrade_request(scope)
    delegate = application.start_request(None, connection)
    result = delegate.headers_received(start_line, headers)
    if result is not None:
        await result
    delegate.finish()
    await connection.answered
    if connection.stream is not None:
        await connection.stream.done
    await pump.drain()
