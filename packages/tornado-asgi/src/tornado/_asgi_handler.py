"""`ASGIHandler`: any ASGI application inside a Tornado `~tornado.web.Application`.

Strategy: the handler is the ASGI server for one request.  It streams the
request body (it is a `~tornado.web.stream_request_body` handler) into
the application's ``receive`` as ``http.request`` messages and turns what
the application sends into its own response calls (``set_status`` /
``add_header`` / ``write`` + ``flush`` / ``finish``).  A WebSocket upgrade
becomes a ``websocket`` scope run through our WebSocket machinery (the
handler is a `~tornado.websocket.WebSocketHandler`): ``websocket.accept``
answers the handshake, messages go both ways.  The application's lifespan
runs once per Tornado ``Application`` (`_Lifespan`).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import urllib.parse
import weakref
from typing import Any

from tornado import httputil
from tornado._asgi_common import ASGIApp, ASGIMessageError, Message, Scope, unexpected
from tornado.iostream import StreamClosedError
from tornado.web import Application, stream_request_body
from tornado.websocket import WebSocketClosedError, WebSocketHandler

app_log = logging.getLogger("tornado.application")

_ASGI_VERSION = {"version": "3.0", "spec_version": "2.5"}
#: Request bodies queued for the application before ``data_received``
#: waits for it to read (flow control).
_INBOX_LIMIT = 4
_DISCONNECT: Message = {"type": "http.disconnect"}


class _Inbox:
    """The application's ``receive``: messages in order, a bounded backlog,
    and a last message repeated forever once the peer is gone."""

    def __init__(self) -> None:
        self._items: collections.deque[Message] = collections.deque()
        self._ready = asyncio.Event()
        self._space: asyncio.Future[None] | None = None
        self._final: Message | None = None

    def put(self, message: Message) -> asyncio.Future[None] | None:
        """Queue ``message``; returns a future to wait on when the backlog is full."""
        if self._final is not None:
            return None  # the app is done listening
        self._items.append(message)
        self._ready.set()
        if len(self._items) < _INBOX_LIMIT:
            return None
        if self._space is None or self._space.done():
            self._space = asyncio.get_running_loop().create_future()
        return self._space

    def end(self, message: Message) -> None:
        """After what is queued, answer every ``receive`` with ``message``."""
        if self._final is None:
            self._final = message
            self._ready.set()
        if self._space is not None and not self._space.done():
            self._space.set_result(None)

    async def receive(self) -> Message:
        """The ASGI ``receive`` callable."""
        while not self._items:
            if self._final is not None:
                return self._final
            self._ready.clear()
            await self._ready.wait()
        message = self._items.popleft()
        space = self._space
        if space is not None and len(self._items) < _INBOX_LIMIT and not space.done():
            space.set_result(None)
        return message


class _Lifespan:
    """One ASGI application's lifespan inside one Tornado Application."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.supported = True
        self._inbox = _Inbox()
        self._started: asyncio.Future[None] | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    def startup(self) -> asyncio.Future[None]:
        """Start the lifespan (once); resolves when the app has started.
        Raises `RuntimeError` with the app's message on ``startup.failed``."""
        if self._started is None:
            loop = asyncio.get_running_loop()
            self._started = loop.create_future()
            self._stopped = loop.create_future()
            self._task = loop.create_task(self._run())
            self._inbox.put({"type": "lifespan.startup"})
        return self._started

    async def shutdown(self) -> None:
        """Ask the app to shut down and wait for it (if it started)."""
        if self._started is None or self._stopped is None or not self.supported:
            return
        try:
            await self._started
        except RuntimeError:
            return
        self._inbox.put({"type": "lifespan.shutdown"})
        await self._stopped

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": _ASGI_VERSION, "state": self.state}
        try:
            await self.app(scope, self._inbox.receive, self._send)
        except Exception:
            if self._started is not None and not self._started.done():
                # Apps that do not speak lifespan raise on its scope: they
                # run without one, as under uvicorn's "auto" mode.
                self.supported = False
                app_log.debug("ASGI app does not support lifespan", exc_info=True)
                self._started.set_result(None)
            else:
                app_log.error("Exception in ASGI lifespan", exc_info=True)
        finally:
            for future in (self._started, self._stopped):
                if future is not None and not future.done():
                    future.set_result(None)

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        started, stopped = self._started, self._stopped
        assert started is not None and stopped is not None
        if kind == "lifespan.startup.complete" and not started.done():
            started.set_result(None)
        elif kind == "lifespan.startup.failed" and not started.done():
            error = RuntimeError(f"ASGI lifespan startup failed: {message.get('message', '')}")
            started.set_exception(error)
            started.exception()  # retrieved here; every request re-raises it
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            if kind == "lifespan.shutdown.failed":
                app_log.error("ASGI lifespan shutdown failed: %s", message.get("message", ""))
            if not stopped.done():
                stopped.set_result(None)
        else:
            raise unexpected(message, "a lifespan.startup.* or lifespan.shutdown.* answer")


_lifespans: weakref.WeakKeyDictionary[Application, dict[int, _Lifespan]] = (
    weakref.WeakKeyDictionary()
)


def lifespan_for(application: Application, app: ASGIApp) -> _Lifespan:
    """The lifespan of ``app`` inside ``application`` (created on first use)."""
    per_app = _lifespans.setdefault(application, {})
    lifespan = per_app.get(id(app))
    if lifespan is None or lifespan.app is not app:
        lifespan = per_app[id(app)] = _Lifespan(app)
    return lifespan


async def shutdown_lifespans(application: Application) -> None:
    """Run the lifespan shutdown of every ASGI application `ASGIHandler`
    started inside ``application``.

    Call it when the Tornado application stops (`serve` does); each
    application's ``lifespan.startup`` ran before its first request.

    .. versionadded:: 7.0
    """
    for lifespan in list(_lifespans.pop(application, {}).values()):
        await lifespan.shutdown()


@stream_request_body
class ASGIHandler(WebSocketHandler):
    """Serve an ASGI application from inside a Tornado `~tornado.web.Application`.

    ``(r"/api/(.*)", ASGIHandler, {"app": asgi_app})`` hands every request
    that matches to ``asgi_app`` (Starlette, FastAPI, Django...):

    - HTTP, streaming both ways: the body reaches the app as
      ``http.request`` chunks while it is still arriving, each
      ``http.response.body`` with ``more_body`` is flushed to the client,
      and a client that goes away is announced as ``http.disconnect``.
    - WebSocket upgrades run as ``websocket`` scopes over
      `~tornado.websocket.WebSocketHandler`: the app's ``websocket.accept``
      (with its subprotocol and headers) answers the handshake, a
      ``websocket.close`` before accept answers 403, text and binary
      messages and close codes go both ways.  The app decides about
      origins (`check_origin` accepts all).
    - ``root_path`` is the ``root_path`` keyword argument if given; else, when
      the route captures groups, the part of the path before the last group
      (``/api`` for ``/api/users`` under ``r"/api(/.*)"``); else empty.
      The scope's ``path`` is the full path, as ASGI 2.5 servers give it.
    - The app's lifespan runs once per Tornado ``Application``: startup
      before its first request (a failed startup answers 500), shutdown from
      `shutdown_lifespans` (`serve` calls it).  ``lifespan=False`` skips it.
    - An exception in the app before its response started answers 500
      (Tornado's error page, no traceback unless ``debug``); after it
      started, the connection is closed.  A message out of order raises
      `ASGIMessageError` inside the app's ``send``, naming the message.

    Tornado's xsrf check and Etag computation are off for these routes:
    the app's responses are its own.

    .. versionadded:: 7.0
    """

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS")

    def initialize(self, app: ASGIApp, root_path: str | None = None, lifespan: bool = True) -> None:
        """Keyword arguments of the route: ``app`` (the ASGI application),
        ``root_path`` and ``lifespan`` (see the class docstring)."""
        self.asgi_app = app
        self._root_path_option = root_path
        self._lifespan_on = lifespan
        self._inbox = _Inbox()
        self._app_task: asyncio.Task[None] | None = None
        self._response_state = "start"  # start -> body -> done (or closed)
        self._body_received = False
        self._body_started = False
        self._ws_accepted: asyncio.Future[Message | None] | None = None
        self._ws_open: asyncio.Future[None] | None = None

    # -- Tornado-side settings that belong to the app -------------------

    def check_xsrf_cookie(self) -> None:
        """No xsrf check: the ASGI app protects its own forms."""

    def compute_etag(self) -> str | None:
        """No Etag: the ASGI app sets its own caching headers."""
        return None

    def check_origin(self, origin: str) -> bool:
        """Accept every origin: the ASGI app decides (it can close)."""
        return True

    # -- scope -------------------------------------------------------------

    def _root_path(self) -> str:
        if self._root_path_option is not None:
            return self._root_path_option
        path = urllib.parse.unquote(self.request.path)
        if self.path_args:
            rest = self.path_args[-1]
            if path.endswith(rest):
                return path[: len(path) - len(rest)]
        return ""

    def _scope(self, kind: str, state: dict[str, Any] | None) -> Scope:
        request = self.request
        context = getattr(request.connection, "context", None)
        address = getattr(context, "address", None)
        client_port = address[1] if isinstance(address, tuple) and len(address) >= 2 else 0
        host, port = httputil.split_host_and_port(request.host)
        secure = request.protocol == "https"
        if port is None:
            port = 443 if secure else 80
        version = request.version[5:] if request.version.startswith("HTTP/") else "1.1"
        scope: Scope = {
            "type": kind,
            "asgi": _ASGI_VERSION,
            "http_version": version,
            "path": urllib.parse.unquote(request.path),
            "raw_path": request.path.encode("latin-1"),
            "query_string": request.query.encode("latin-1"),
            "root_path": self._root_path(),
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in request.headers.get_all()
            ],
            "client": (request.remote_ip, client_port) if request.remote_ip else None,
            "server": (host, port),
        }
        if kind == "http":
            scope["method"] = request.method
            scope["scheme"] = request.protocol
        else:
            scope["scheme"] = "wss" if secure else "ws"
            offered = request.headers.get("Sec-WebSocket-Protocol", "")
            scope["subprotocols"] = [p.strip() for p in offered.split(",") if p.strip()]
            scope["extensions"] = {"websocket.http.response": {}}
        if state is not None:
            scope["state"] = dict(state)  # each request gets a shallow copy
        return scope

    async def _lifespan_state(self) -> dict[str, Any] | None:
        if not self._lifespan_on:
            return None
        lifespan = lifespan_for(self.application, self.asgi_app)
        await lifespan.startup()
        return lifespan.state if lifespan.supported else None

    # -- HTTP --------------------------------------------------------------

    async def prepare(self) -> None:
        """Start the app for a plain HTTP request (the body streams in)."""
        if self.request.headers.get("Upgrade", "").lower() == "websocket":
            return  # a WebSocket: the app starts in get()
        state = await self._lifespan_state()
        self._app_task = asyncio.get_running_loop().create_task(
            self._run_app(self._scope("http", state), self._send_http)
        )

    def data_received(self, chunk: bytes) -> asyncio.Future[None] | None:
        """Hand a piece of the body to the app (waits when it lags behind)."""
        return self._inbox.put({"type": "http.request", "body": chunk, "more_body": True})

    async def _respond(self) -> None:
        # The verb method runs once the connection has read the whole body.
        self._body_received = True
        self._inbox.put({"type": "http.request", "body": b"", "more_body": False})
        assert self._app_task is not None
        await asyncio.shield(self._app_task)

    async def get(self, *args: Any, **kwargs: Any) -> None:
        """A WebSocket upgrade or a plain GET."""
        if self._app_task is None:
            await self._websocket(*args, **kwargs)
        else:
            await self._respond()

    async def head(self, *args: Any) -> None:
        """Passed to the app."""
        await self._respond()

    async def post(self, *args: Any) -> None:
        """Passed to the app."""
        await self._respond()

    async def put(self, *args: Any) -> None:
        """Passed to the app."""
        await self._respond()

    async def patch(self, *args: Any) -> None:
        """Passed to the app."""
        await self._respond()

    async def delete(self, *args: Any) -> None:
        """Passed to the app."""
        await self._respond()

    async def options(self, *args: Any) -> None:
        """Passed to the app."""
        await self._respond()

    def on_connection_close(self) -> None:
        """The client went away: the app hears ``http.disconnect`` (or,
        for a WebSocket, ``websocket.disconnect`` with the close code)."""
        if self._ws_open is not None:
            code = self.close_code if self.close_code is not None else 1005
            self._inbox.end(
                {"type": "websocket.disconnect", "code": code, "reason": self.close_reason or ""}
            )
        else:
            self._inbox.end(_DISCONNECT)
        super().on_connection_close()

    async def _run_app(self, scope: Scope, send: Any) -> None:
        try:
            await self.asgi_app(scope, self._inbox.receive, send)
        except Exception as e:
            if isinstance(e, StreamClosedError) or self._response_state == "closed":
                return  # the client left; the app noticed through send()
            self._app_failed()
            return
        if scope["type"] == "http" and self._response_state != "done":
            app_log.error("ASGI app returned without finishing its response: %s", self.request.uri)
            self._app_failed()

    def _end_response(self) -> asyncio.Future[None]:
        self._response_state = "done"
        self._inbox.end(_DISCONNECT)
        if self._body_received:
            return self.finish()
        # Finishing before the connection has read the request body (even
        # an empty one) makes it close the connection: send what there is
        # now; Tornado finishes the response after the verb method.
        return self.flush()

    def _app_failed(self) -> None:
        state = self._response_state
        self._response_state = "closed"
        nothing_sent = state == "start" or (state == "body" and not self._body_started)
        if nothing_sent and not self._finished:
            app_log.error("Exception in ASGI app %s", self.request.uri, exc_info=True)
            self.send_error(500)
        elif state != "done":
            app_log.error("Exception in ASGI app after its response started", exc_info=True)
            self._close_connection()
        self._inbox.end(_DISCONNECT)

    def _close_connection(self) -> None:
        close = getattr(self.request.connection, "close", None)
        if close is not None:
            close()

    def _start_response(self, message: Message) -> None:
        status = message["status"]
        self.set_status(status, httputil.responses.get(status, "Unknown"))
        self.clear_header("Content-Type")  # Tornado's default, not the app's
        for name, value in message.get("headers", ()):
            text = name.decode("latin-1")
            if text.lower() not in ("connection", "transfer-encoding", "keep-alive"):
                self.add_header(text, value.decode("latin-1"))

    async def _send_http(self, message: Message) -> None:
        kind = message["type"]
        state = self._response_state
        if state == "closed" or self.request.connection is None:
            raise StreamClosedError()
        if kind == "http.response.start":
            if state != "start":
                raise unexpected(message, "'http.response.body'")
            self._start_response(message)
            self._response_state = "body"
        elif kind == "http.response.body":
            if state != "body":
                expected = "'http.response.start'" if state == "start" else "nothing"
                raise unexpected(message, expected)
            self._body_started = True
            body = message.get("body", b"")
            if body:
                self.write(body)
            if message.get("more_body", False):
                await self.flush()
            else:
                await self._end_response()
        else:
            raise unexpected(message, "'http.response.start' or 'http.response.body'")

    # -- WebSocket ---------------------------------------------------------

    async def _websocket(self, *args: Any, **kwargs: Any) -> None:
        loop = asyncio.get_running_loop()
        try:
            state = await self._lifespan_state()
        except RuntimeError:
            app_log.error("ASGI lifespan startup failed", exc_info=True)
            self.send_error(500)
            return
        self._ws_accepted = loop.create_future()
        self._ws_open = loop.create_future()
        self._inbox.put({"type": "websocket.connect"})
        self._app_task = loop.create_task(self._run_ws_app(self._scope("websocket", state)))
        accept = await self._ws_accepted
        if accept is None:
            return  # refused (the answer went out) or the app failed
        for name, value in accept.get("headers", ()):
            self.add_header(name.decode("latin-1"), value.decode("latin-1"))
        await super().get(*args, **kwargs)
        await asyncio.shield(self._app_task)

    async def _run_ws_app(self, scope: Scope) -> None:
        try:
            await self.asgi_app(scope, self._inbox.receive, self._send_ws)
        except Exception:
            app_log.error("Exception in ASGI app %s", self.request.uri, exc_info=True)
            assert self._ws_accepted is not None and self._ws_open is not None
            if not self._ws_accepted.done():
                self._ws_accepted.set_result(None)
                if self._response_state == "start":
                    self.send_error(500)
                else:
                    self._close_connection()
            elif self.ws_connection is not None:
                self.close(1011)
            return
        assert self._ws_accepted is not None
        if not self._ws_accepted.done():
            # Returned without accepting: refused.
            self._ws_accepted.set_result(None)
            if not self._finished:
                self._refuse_upgrade()
        elif self.ws_connection is not None:
            self.close(1000)

    def _refuse_upgrade(self) -> None:
        # The app closed before accepting: 403, as ASGI servers answer.
        self.set_status(403)
        self.finish()

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        """The subprotocol the app's ``websocket.accept`` named."""
        assert self._ws_accepted is not None
        accept = self._ws_accepted.result()
        return accept.get("subprotocol") if accept else None

    def open(self, *args: str, **kwargs: str) -> None:
        """The handshake is out: release the app's ``websocket.accept``."""
        assert self._ws_open is not None
        if not self._ws_open.done():
            self._ws_open.set_result(None)

    def on_message(self, message: str | bytes) -> None:
        """A message from the client, for the app's ``receive``."""
        if isinstance(message, str):
            self._inbox.put({"type": "websocket.receive", "text": message})
        else:
            self._inbox.put({"type": "websocket.receive", "bytes": message})

    async def _send_ws(self, message: Message) -> None:
        kind = message["type"]
        accepted, opened = self._ws_accepted, self._ws_open
        assert accepted is not None and opened is not None
        if not accepted.done():
            if kind == "websocket.accept":
                accepted.set_result(message)
                await opened
            elif kind == "websocket.close":
                accepted.set_result(None)
                self._refuse_upgrade()
            elif kind == "websocket.http.response.start":
                self._start_response(message)
                self._response_state = "body"
                accepted.set_result(None)
            else:
                raise unexpected(message, "'websocket.accept' or 'websocket.close'")
            return
        if self._response_state == "body":
            if kind != "websocket.http.response.body":
                raise unexpected(message, "'websocket.http.response.body'")
            self.write(message.get("body", b""))
            if message.get("more_body", False):
                await self.flush()
            else:
                self._response_state = "done"
                await self.finish()
            return
        if self.ws_connection is None:
            raise StreamClosedError()
        if kind == "websocket.send":
            text = message.get("text")
            try:
                if text is not None:
                    await self.write_message(text)
                else:
                    await self.write_message(message.get("bytes") or b"", binary=True)
            except WebSocketClosedError as e:
                raise StreamClosedError() from e
        elif kind == "websocket.close":
            self.close(message.get("code", 1000), message.get("reason") or None)
        elif kind == "websocket.accept":
            raise ASGIMessageError("websocket.accept sent twice")
        else:
            raise unexpected(message, "'websocket.send' or 'websocket.close'")
