"""Pieces both directions of the ASGI bridge share: the ASGI types, the
error for a message that arrives out of order, and an in-order sender.

ASGI 3 (HTTP and WebSocket spec 2.5, lifespan 2.0): an application is
``async def app(scope, receive, send)``; messages are dicts with a
``"type"``.  Private to tornado-asgi.
"""

from __future__ import annotations

import asyncio
import collections
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from tornado import httputil
from tornado.iostream import StreamClosedError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Headers about one hop of the connection: the ASGI server (or our HTTP/1
#: connection) frames the message itself and writes its own.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te"}
)


class ASGIMessageError(RuntimeError):
    """An ASGI message of the wrong type or in the wrong order."""


def unexpected(message: Message, expected: str) -> ASGIMessageError:
    """The error for ``message`` arriving where ``expected`` was due."""
    return ASGIMessageError(f"unexpected ASGI message {message.get('type')!r}: expected {expected}")


def encode_headers(pairs: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Header pairs as ASGI wants them: lower-case names, latin-1 bytes,
    hop-by-hop headers left to the server."""
    out = []
    for name, value in pairs:
        lower = name.lower()
        if lower not in HOP_BY_HOP:
            out.append((lower.encode("latin-1"), value.encode("latin-1")))
    return out


def done_future(exc: BaseException | None = None) -> asyncio.Future[None]:
    """A future that is already resolved (with ``exc`` if given, marked as
    retrieved so that an unawaited write future does not log)."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
        future.exception()
    return future


class SendPump:
    """Sends ASGI messages in order on behalf of synchronous callers.

    Tornado's connection methods return futures and must not block, while
    ASGI's ``send`` is a coroutine: `put` queues a message and returns a
    future for it, one task sends the queue in order.  A final empty body
    message right behind a body chunk is merged into it, so that
    ``RequestHandler.finish`` costs one message, not two.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._queue: collections.deque[tuple[Message | None, asyncio.Future[None]]] = (
            collections.deque()
        )
        self._task: asyncio.Task[None] | None = None
        self.closed = False

    def put(self, message: Message | None) -> asyncio.Future[None]:
        """Queue ``message`` (None: only wait for the ones before it)."""
        if self.closed:
            return done_future(StreamClosedError())
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue.append((message, future))
        if self._task is None:
            self._task = loop.create_task(self._run())
        return future

    def close(self) -> None:
        """Drop what is queued (the peer went away); later puts fail."""
        self.closed = True
        while self._queue:
            _, future = self._queue.popleft()
            if not future.done():
                future.set_exception(StreamClosedError())
                future.exception()

    async def drain(self) -> None:
        """Wait until everything queued so far has been sent."""
        while self._task is not None:
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        queue = self._queue
        try:
            while queue:
                message, future = queue.popleft()
                waiters = [future]
                if message is not None and message.get("type") == "http.response.body":
                    while queue and message.get("more_body"):
                        following, next_future = queue[0]
                        if following is None:
                            queue.popleft()
                            waiters.append(next_future)
                        elif following.get("type") == "http.response.body":
                            queue.popleft()
                            waiters.append(next_future)
                            message = {
                                "type": "http.response.body",
                                "body": message.get("body", b"") + following.get("body", b""),
                                "more_body": following.get("more_body", False),
                            }
                        else:
                            break
                if message is not None:
                    try:
                        await self._send(message)
                    except Exception as e:
                        for waiter in waiters:
                            if not waiter.done():
                                waiter.set_exception(StreamClosedError(real_error=e))
                                waiter.exception()
                        self.close()
                        return
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._task = None


class ScopeContext:
    """What `~tornado.httputil.HTTPServerRequest` reads from
    ``connection.context``: the peer's address and the scheme."""

    __slots__ = ("address", "protocol", "remote_ip")

    def __init__(self, scope: Scope) -> None:
        client = scope.get("client")
        self.remote_ip: str | None = client[0] if client else None
        self.address = tuple(client) if client else None
        scheme = scope.get("scheme") or ("ws" if scope["type"] == "websocket" else "http")
        # A WebSocket scope says ws/wss; Tornado's protocol is http/https.
        self.protocol: str = {"ws": "http", "wss": "https"}.get(scheme, scheme)

    def __str__(self) -> str:
        return self.remote_ip or "ASGI client"


def request_from_scope(
    scope: Scope,
) -> tuple[httputil.RequestStartLine, httputil.HTTPHeaders]:
    """The start line and headers of the request an ASGI scope describes.

    The request's path is the scope's path with ``root_path`` removed, so
    the application's routes are written relative to where it is mounted.
    """
    headers = httputil.HTTPHeaders()
    for name, value in scope.get("headers", ()):
        headers.add(name.decode("latin-1"), value.decode("latin-1"))
    if "Host" not in headers:
        server = scope.get("server")
        if server:
            host, port = server[0], server[1]
            headers["Host"] = host if port is None else f"{host}:{port}"
    path: str = scope.get("path") or "/"
    root_path: str = scope.get("root_path") or ""
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :] or "/"
    raw_path = scope.get("raw_path")
    target = None
    if raw_path:
        raw = raw_path.decode("latin-1")
        if root_path and raw.startswith(root_path):
            raw = raw[len(root_path) :] or "/"
        # Keep the raw bytes (escapes such as %2F survive) when they are
        # the same path; a server that rewrote the path gets it quoted.
        if urllib.parse.unquote(raw) == path:
            target = raw
    if target is None:
        target = urllib.parse.quote(path, safe="/:@!$&'()*+,;=-._~")
    query: bytes = scope.get("query_string") or b""
    if query:
        target += "?" + query.decode("latin-1")
    version = scope.get("http_version", "1.1")
    method = scope.get("method", "GET")
    return httputil.RequestStartLine(method, target, f"HTTP/{version}"), headers
