"""The HTTP path of `serve`: ASGI ``http`` scopes straight on our HTTP/1
connection, without a `~tornado.web.RequestHandler` in between.

Strategy: `_ASGIServerDelegate` is the `~tornado.httputil.HTTPServerConnectionDelegate`
of the `~tornado.httpserver.HTTPServer`; for each request it hands the
connection's events to an `_HTTPCycle` that runs the ASGI app: body
chunks become ``http.request`` messages as they arrive (the connection
waits while the app lags behind), ``http.response.start`` is held until
the first body part so that headers and body leave in one write (and a
one-message response gets a ``Content-Length`` instead of chunked coding),
a closed connection becomes ``http.disconnect``.  A WebSocket upgrade is
handed to the `~tornado.web.Application` with `ASGIHandler`, which runs
the ``websocket`` scope over our WebSocket machinery.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.parse
from collections.abc import Awaitable

from tornado import httputil
from tornado._asgi_common import ASGIApp, ASGIMessageError, Message, Scope, unexpected
from tornado._asgi_handler import _ASGI_VERSION, _DISCONNECT, _Inbox, _Lifespan
from tornado.iostream import StreamClosedError
from tornado.web import Application

app_log = logging.getLogger("tornado.application")

_ERROR_BODY = b"Internal Server Error"
_SKIPPED_RESPONSE_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding"})


class _ASGIServerDelegate(httputil.HTTPServerConnectionDelegate):
    """Starts an `_HTTPCycle` per request (WebSocket upgrades go to
    ``application``)."""

    def __init__(
        self,
        app: ASGIApp,
        application: Application,
        root_path: str,
        lifespan: _Lifespan | None,
    ) -> None:
        self.app = app
        self.application = application
        self.root_path = root_path
        self.lifespan = lifespan

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        """A delegate for one request on ``request_conn``."""
        return _HTTPCycle(self, server_conn, request_conn)

    def on_close(self, server_conn: object) -> None:
        """Nothing is kept per connection."""


class _HTTPCycle(httputil.HTTPMessageDelegate):
    """One request/response exchange between the connection and the app."""

    def __init__(
        self,
        server: _ASGIServerDelegate,
        server_conn: object,
        connection: httputil.HTTPConnection,
    ) -> None:
        self.server = server
        self.server_conn = server_conn
        self.connection = connection
        self.inbox = _Inbox()
        self.forward: httputil.HTTPMessageDelegate | None = None
        self.state = "start"  # start -> body -> done, or closed
        self.status = 200
        self.headers: httputil.HTTPHeaders | None = None
        self.body_read = False
        self.finish_pending = False
        self.task: asyncio.Task[None] | None = None

    # -- the connection's events ----------------------------------------

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Awaitable[None] | None:
        assert isinstance(start_line, httputil.RequestStartLine)
        if headers.get("Upgrade", "").lower() == "websocket":
            self.forward = self.server.application.start_request(self.server_conn, self.connection)
            return self.forward.headers_received(start_line, headers)
        scope = self._scope(start_line, headers)
        # After the body is read, a closed connection is only reported to
        # the close callback (the message delegate hears of it while reading).
        set_close_callback = getattr(self.connection, "set_close_callback", None)
        if set_close_callback is not None:
            set_close_callback(self.on_connection_close)
        self.task = asyncio.get_running_loop().create_task(self._run(scope))
        return None

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self.forward is not None:
            return self.forward.data_received(chunk)
        return self.inbox.put({"type": "http.request", "body": chunk, "more_body": True})

    def finish(self) -> None:
        if self.forward is not None:
            self.forward.finish()
            return
        self.body_read = True
        self.inbox.put({"type": "http.request", "body": b"", "more_body": False})
        if self.finish_pending:
            self.finish_pending = False
            self.connection.finish()

    def on_connection_close(self) -> None:
        if self.forward is not None:
            self.forward.on_connection_close()
            return
        if self.state != "done":
            self.state = "closed"
        self.inbox.end(_DISCONNECT)

    # -- the app ----------------------------------------------------------

    def _scope(self, start_line: httputil.RequestStartLine, headers: httputil.HTTPHeaders) -> Scope:
        context = getattr(self.connection, "context", None)
        remote_ip = getattr(context, "remote_ip", None)
        address = getattr(context, "address", None)
        protocol = getattr(context, "protocol", "http")
        port = address[1] if isinstance(address, tuple) and len(address) >= 2 else 0
        path, _, query = start_line.path.partition("?")
        host, server_port = httputil.split_host_and_port(headers.get("Host", "127.0.0.1"))
        if server_port is None:
            server_port = 443 if protocol == "https" else 80
        version = start_line.version
        scope: Scope = {
            "type": "http",
            "asgi": _ASGI_VERSION,
            "http_version": version[5:] if version.startswith("HTTP/") else "1.1",
            "method": start_line.method,
            "scheme": protocol,
            "path": urllib.parse.unquote(path),
            "raw_path": path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": self.server.root_path,
            "headers": [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in headers.get_all()
            ],
            "client": (remote_ip, port) if remote_ip else None,
            "server": (host, server_port),
        }
        lifespan = self.server.lifespan
        if lifespan is not None and lifespan.supported:
            scope["state"] = dict(lifespan.state)
        return scope

    async def _run(self, scope: Scope) -> None:
        try:
            await self.server.app(scope, self.inbox.receive, self.send)
        except Exception:
            if self.state == "closed":
                return  # the client left; the app noticed through send()
            app_log.error("Exception in ASGI app %s", scope["path"], exc_info=True)
            self._fail()
            return
        if self.state in ("start", "body"):
            app_log.error("ASGI app returned without finishing its response: %s", scope["path"])
            self._fail()

    def _fail(self) -> None:
        state, self.state = self.state, "closed"
        self.inbox.end(_DISCONNECT)
        # http.response.start is held until the first body part: until
        # then a 500 can still go out.
        if state == "start" or (state == "body" and self.headers is not None):
            headers = httputil.HTTPHeaders(
                {"Content-Type": "text/plain; charset=utf-8", "Content-Length": "21"}
            )
            self.connection.write_headers(
                httputil.ResponseStartLine("HTTP/1.1", 500, "Internal Server Error"),
                headers,
                _ERROR_BODY,
            )
            self._end()
        elif state == "body":
            # The response started: the only way to signal the failure.
            close = getattr(self.connection, "close", None)
            if close is not None:
                close()

    def _end(self) -> None:
        if self.body_read:
            self.connection.finish()
        else:
            # Finishing before the connection read the request body (even an
            # empty one) would make it drop the connection; finish() does it.
            self.finish_pending = True

    async def send(self, message: Message) -> None:
        """The ASGI ``send`` of this request."""
        kind = message["type"]
        state = self.state
        if state == "closed":
            raise StreamClosedError()
        if kind == "http.response.start":
            if state != "start":
                raise unexpected(message, "'http.response.body'")
            self.status = message["status"]
            start_headers = httputil.HTTPHeaders()
            for name, value in message.get("headers", ()):
                text = name.decode("latin-1")
                if text.lower() not in _SKIPPED_RESPONSE_HEADERS:
                    start_headers.add(text, value.decode("latin-1"))
            self.headers = start_headers
            self.state = "body"
            return
        if kind != "http.response.body":
            raise unexpected(message, "'http.response.start' or 'http.response.body'")
        if state != "body":
            raise unexpected(message, "'http.response.start'" if state == "start" else "nothing")
        body: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        headers = self.headers
        if headers is not None:
            self.headers = None
            status = self.status
            # One message is the whole body: a length, not chunked coding.
            if not more and "Content-Length" not in headers and _has_body(status):
                headers["Content-Length"] = str(len(body))
            start_line = httputil.ResponseStartLine(
                "HTTP/1.1", self.status, httputil.responses.get(self.status, "Unknown")
            )
            future = self.connection.write_headers(start_line, headers, body or None)
        elif body:
            future = self.connection.write(body)
        else:
            future = None
        if not more:
            self.state = "done"
            self.inbox.end(_DISCONNECT)
            set_close_callback = getattr(self.connection, "set_close_callback", None)
            if set_close_callback is not None:
                set_close_callback(None)
            self._end()
        if future is not None:
            try:
                await future
            except StreamClosedError:
                if more:
                    raise
            except Exception as e:
                raise ASGIMessageError(f"the response could not be written: {e}") from e


def _has_body(status: int) -> bool:
    return status >= 200 and status not in (204, 304)


def server_delegate(
    app: ASGIApp, application: Application, root_path: str, lifespan: _Lifespan | None
) -> httputil.HTTPServerConnectionDelegate:
    """The delegate `serve` gives its `~tornado.httpserver.HTTPServer`."""
    return _ASGIServerDelegate(app, application, root_path, lifespan)
