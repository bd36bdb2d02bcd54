"""`ASGIAdapter`: a Tornado `~tornado.web.Application` as an ASGI application.

Strategy: the adapter plays the part our HTTP/1 connection plays for
`~tornado.httpserver.HTTPServer`.  For each ``http`` scope it builds the
start line and headers, asks the application for a message delegate
(`~tornado.httputil.HTTPServerConnectionDelegate.start_request`) and feeds
it the ``http.request`` chunks as they come; the delegate answers through a
`~tornado.httputil.HTTPConnection` of ours whose ``write_headers`` /
``write`` / ``finish`` become ``http.response.start`` / ``http.response.body``
messages.  Only public interfaces of tornado.web and tornado.httputil are
used, so any ASGI server (uvicorn, hypercorn, daphne...) can run any
Tornado application.  WebSocket scopes are in `tornado._asgi_ws`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from tornado import httputil
from tornado._asgi_common import (
    ASGIMessageError,
    Receive,
    Scope,
    ScopeContext,
    Send,
    SendPump,
    encode_headers,
    request_from_scope,
    unexpected,
)
from tornado._asgi_ws import serve_websocket
from tornado.iostream import StreamClosedError
from tornado.web import Application

app_log = logging.getLogger("tornado.application")

Hook = Callable[[], Awaitable[None] | None]

#: The largest request body read before answering 413, as HTTPServer's
#: ``max_body_size`` default.
DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024


class _ASGIResponder(httputil.HTTPConnection):
    """The connection a Tornado handler writes its response to: every call
    becomes an ASGI message, sent in order."""

    def __init__(self, pump: SendPump, context: ScopeContext) -> None:
        self.context = context
        self._pump = pump
        self._close_callback: Callable[[], None] | None = None
        self.started = False
        self.finished = False
        #: Resolves once the last message went out or the client left.
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` when the client goes away (``http.disconnect``)."""
        self._close_callback = callback

    def write_headers(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
        chunk: bytes | None = None,
    ) -> asyncio.Future[None]:
        """Send ``http.response.start`` (and ``chunk`` as a first body part)."""
        assert isinstance(start_line, httputil.ResponseStartLine)
        if self.started:
            raise RuntimeError("write_headers called twice")
        self.started = True
        future = self._pump.put(
            {
                "type": "http.response.start",
                "status": start_line.code,
                "headers": encode_headers(headers.get_all()),
            }
        )
        if chunk:
            return self.write(chunk)
        return future

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        """Send a body part (``more_body=True``)."""
        if self.finished:
            raise RuntimeError("write() after finish()")
        if not chunk:
            return self._pump.put(None)
        return self._pump.put({"type": "http.response.body", "body": chunk, "more_body": True})

    def finish(self) -> None:
        """Send the final ``http.response.body``."""
        if self.finished:
            raise RuntimeError("finish() called twice")
        self.finished = True
        future = self._pump.put({"type": "http.response.body", "body": b"", "more_body": False})
        future.add_done_callback(self._sent)

    def _sent(self, future: asyncio.Future[None]) -> None:
        if not self.done.done():
            self.done.set_result(None)

    def client_gone(self, delegate: httputil.HTTPMessageDelegate) -> None:
        """The client left: tell the handler (once), drop queued output."""
        if self.done.done():
            return
        self.done.set_result(None)
        self._pump.close()
        callback, self._close_callback = self._close_callback, None
        if callback is not None:
            callback()
        delegate.on_connection_close()


async def _send_plain(send: Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(text)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text, "more_body": False})


class ASGIAdapter:
    """Serve a Tornado `~tornado.web.Application` to an ASGI server.

    ``ASGIAdapter(application)`` is an ASGI 3 application: run it with
    ``uvicorn module:asgi_app``, hypercorn, daphne or any ASGI server.

    - ``http`` scopes run the application's handlers unchanged: ``flush()``
      sends ``http.response.body`` with ``more_body=True``; handlers
      decorated with `~tornado.web.stream_request_body` get the
      ``http.request`` chunks as they arrive; ``http.disconnect`` reaches
      ``on_connection_close``.  The scope's ``client``, ``scheme`` and
      ``server`` give ``request.remote_ip``, ``request.protocol`` and (with
      no ``Host`` header) ``request.host``; the path is routed with
      ``root_path`` removed.  A body over ``max_body_size`` bytes is
      answered with 413.
    - ``websocket`` scopes run `~tornado.websocket.WebSocketHandler`
      subclasses (see `tornado._asgi_ws`).
    - ``lifespan``: the callables in ``on_startup`` run (in order; each may
      be a coroutine function) on ``lifespan.startup`` and those in
      ``on_shutdown`` on ``lifespan.shutdown``; a hook that raises answers
      ``lifespan.startup.failed`` (or ``shutdown.failed``) with the error's
      text.

    .. versionadded:: 7.0
    """

    def __init__(
        self,
        application: Application,
        *,
        on_startup: Iterable[Hook] = (),
        on_shutdown: Iterable[Hook] = (),
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.application = application
        self.on_startup: list[Hook] = list(on_startup)
        self.on_shutdown: list[Hook] = list(on_shutdown)
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI 3 entry point."""
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await serve_websocket(self.application, scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            raise ValueError(f"ASGIAdapter cannot serve an ASGI scope of type {kind!r}")

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start_line, headers = request_from_scope(scope)
        pump = SendPump(send)
        responder = _ASGIResponder(pump, ScopeContext(scope))
        delegate = self.application.start_request(self, responder)
        try:
            result = delegate.headers_received(start_line, headers)
            if result is not None:
                await result
            received = 0
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "http.disconnect":
                    responder.client_gone(delegate)
                    return
                if kind != "http.request":
                    raise unexpected(message, "'http.request' or 'http.disconnect'")
                body: bytes = message.get("body", b"")
                if body and not responder.done.done():
                    received += len(body)
                    if received > self.max_body_size:
                        await self._refuse_body(responder, pump, send, delegate)
                        return
                    result = delegate.data_received(body)
                    if result is not None:
                        await result
                if not message.get("more_body", False):
                    break
            delegate.finish()
            watcher = asyncio.get_running_loop().create_task(
                self._watch_disconnect(receive, responder, delegate)
            )
            try:
                await responder.done
            finally:
                watcher.cancel()
            await pump.drain()
        except StreamClosedError:
            return  # the server refused a message: the client is gone
        except ASGIMessageError:
            # The server broke the protocol: the handler hears of a closed
            # connection and the server of its mistake.
            responder.client_gone(delegate)
            raise
        except Exception:
            if responder.started:
                raise  # the server closes the connection mid-response
            app_log.error("Uncaught exception serving %s", start_line.path, exc_info=True)
            pump.close()
            await _send_plain(send, 500, b"Internal Server Error")

    async def _refuse_body(
        self,
        responder: _ASGIResponder,
        pump: SendPump,
        send: Send,
        delegate: httputil.HTTPMessageDelegate,
    ) -> None:
        started = responder.started
        responder.client_gone(delegate)
        await pump.drain()
        if not started:
            await _send_plain(send, 413, b"Payload Too Large")

    @staticmethod
    async def _watch_disconnect(
        receive: Receive, responder: _ASGIResponder, delegate: httputil.HTTPMessageDelegate
    ) -> None:
        while not responder.done.done():
            message = await receive()
            if message["type"] == "http.disconnect":
                responder.client_gone(delegate)
                return

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "lifespan.startup":
                phase, hooks = "startup", self.on_startup
            elif kind == "lifespan.shutdown":
                phase, hooks = "shutdown", self.on_shutdown
            else:
                raise unexpected(message, "'lifespan.startup' or 'lifespan.shutdown'")
            try:
                await _run_hooks(hooks)
            except Exception as e:
                app_log.error("Exception in ASGI lifespan %s hook", phase, exc_info=True)
                await send({"type": f"lifespan.{phase}.failed", "message": repr(e)})
                if phase == "startup":
                    return
            else:
                await send({"type": f"lifespan.{phase}.complete"})
            if phase == "shutdown":
                return


async def _run_hooks(hooks: Iterable[Hook]) -> None:
    for hook in hooks:
        result: Any = hook()
        if inspect.isawaitable(result):
            await result
