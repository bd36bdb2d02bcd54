"""A non-blocking, single-threaded HTTP/1.x server.

`HTTPServer` is a `~tornado.tcpserver.TCPServer` that speaks HTTP: it
accepts connections, parses requests with `tornado.http1connection` and
hands them to an application, either a
`~tornado.httputil.HTTPServerConnectionDelegate` (such as
``tornado.web.Application``) or a plain callable taking an
`~tornado.httputil.HTTPServerRequest`::

    from tornado.httputil import HTTPHeaders, ResponseStartLine

    def handle(request):
        body = b"Hello world\\n"
        request.connection.write_headers(
            ResponseStartLine("HTTP/1.1", 200, "OK"),
            HTTPHeaders({"Content-Length": str(len(body))}),
            body,
        )
        request.connection.finish()

    server = HTTPServer(handle)
    server.listen(8888)

Behind a reverse proxy, ``xheaders=True`` takes the client address and
scheme from ``X-Real-Ip``/``X-Forwarded-For`` and
``X-Scheme``/``X-Forwarded-Proto``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from tornado.http1connection import HTTP1ConnectionParameters, HTTP1ServerConnection
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.iostream import IOStream, SSLIOStream
from tornado.log import app_log
from tornado.netutil import is_valid_ip
from tornado.tcpserver import TCPServer
from tornado.util import Configurable

__all__ = ["DrainResult", "HTTPServer"]

#: The request class under its pre-4.0 name, for older code.
HTTPRequest = HTTPServerRequest


class DrainResult(NamedTuple):
    """What `HTTPServer.drain` did with the work it found under way.

    ``finished``: requests (their connections) and WebSockets that ended
    before the deadline.  ``cut``: those still open at the deadline, which
    were closed.  Idle keep-alive connections, closed at once, count in
    neither.
    """

    finished: int
    cut: int


class _Detached:
    """A connection this server served whose stream was handed over (a
    WebSocket): what `HTTPServer.drain` tells to go away, and closes at the
    deadline."""

    __slots__ = ("going_away", "server", "stream")

    def __init__(self, server: HTTPServer, stream: IOStream, going_away: Callable[[], None]):
        self.server = server
        self.stream = stream
        self.going_away = going_away

    def unregister(self) -> None:
        self.server._forget_detached(self)


def _register_detached(request_conn: object, going_away: Callable[[], None]) -> Callable[[], None]:
    """Tell the `HTTPServer` serving ``request_conn`` (an `HTTP1Connection`)
    about a stream about to be detached from it, so that `HTTPServer.drain`
    reaches it: ``going_away()`` is called when a drain starts (a WebSocket
    sends its close frame, code 1001), and the stream is closed at the
    drain's deadline.  Call it before ``detach()``.

    Returns the function to call once the stream has closed.  A connection
    not served by an `HTTPServer` (HTTP/2, a test double) gets a function
    that does nothing.  A documented internal, used by tornado-websocket.
    """
    server_conn = getattr(request_conn, "_server", None)
    server = getattr(server_conn, "_delegate", None)
    stream = getattr(request_conn, "stream", None)
    if not isinstance(server, HTTPServer) or not isinstance(stream, IOStream):
        return _nothing
    entry = _Detached(server, stream, going_away)
    server._detached.add(entry)
    if server._drain_state is not None:
        # Accepted while draining (an upgrade that was in flight): it goes
        # away as soon as it is open.
        asyncio.get_running_loop().call_soon(server._tell_going_away, entry)
    return entry.unregister


def _nothing() -> None:
    pass


class _DrainState:
    """The counters of one drain."""

    __slots__ = ("cutting", "done", "finished")

    def __init__(self) -> None:
        self.finished = 0
        self.cutting = False
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()


#: The header timeout used when ``idle_connection_timeout`` is not given:
#: an idle keep-alive connection is closed after an hour, as in Tornado.
_DEFAULT_IDLE_TIMEOUT = 3600.0


class HTTPServer(TCPServer, Configurable, HTTPServerConnectionDelegate):
    """A non-blocking HTTP/1.x server.

    ``request_callback`` is an `~tornado.httputil.HTTPServerConnectionDelegate`
    (``tornado.web.Application`` is one) or a callable that receives each
    complete `~tornado.httputil.HTTPServerRequest` (with its ``body`` read
    and form arguments parsed) and answers through ``request.connection``.

    Options:

    ``no_keep_alive``
        Close every connection after one request.
    ``xheaders``
        Trust ``X-Real-Ip`` / ``X-Forwarded-For`` for ``remote_ip`` and
        ``X-Scheme`` / ``X-Forwarded-Proto`` for ``protocol`` (only valid
        IP addresses and ``http``/``https`` are taken).  Set it only behind
        a proxy that sets these headers.
    ``trusted_downstream``
        Addresses of proxies to skip, from the right, in
        ``X-Forwarded-For``.
    ``ssl_options``
        An `ssl.SSLContext` (or a dict of its settings, see
        `tornado.netutil.ssl_options_to_context`) to serve HTTPS.
    ``protocol``
        Force ``request.protocol`` (e.g. ``"https"`` behind a TLS
        terminator without ``xheaders``).
    ``decompress_request``
        Inflate ``Content-Encoding: gzip`` request bodies (bounded by
        ``max_body_size``: a decompression bomb gets 413).
    ``chunk_size``
        Largest body piece given to ``data_received`` and read from the
        socket at once.
    ``max_header_size``
        Largest request head (default 64 KiB); larger heads get 431.
    ``idle_connection_timeout``
        Seconds a connection may wait for (the whole of) a request head;
        this closes idle keep-alive connections and clients that send
        their headers too slowly.  Default one hour.
    ``body_timeout``
        Seconds to receive a whole request body (default no limit).
    ``max_body_size``
        Largest request body (default ``max_buffer_size``); larger bodies
        get 413.
    ``max_buffer_size``
        Most bytes the stream buffers (default 100 MiB).

    Start it with ``listen`` (or ``bind``/``start``, or ``add_sockets``)
    as any `~tornado.tcpserver.TCPServer`.  To shut down, `drain` lets the
    work under way finish (within a deadline); `close_all_connections`
    closes everything at once.

    .. versionchanged:: 4.0
       Added ``decompress_request``, ``chunk_size``, ``max_header_size``,
       ``idle_connection_timeout``, ``body_timeout``, ``max_body_size``.
    .. versionchanged:: 4.5
       Added ``trusted_downstream``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Do nothing: `Configurable` calls `initialize` with the
        constructor arguments (and the defaults given to ``configure``)."""

    def initialize(
        self,
        request_callback: HTTPServerConnectionDelegate | Callable[[HTTPServerRequest], None],
        no_keep_alive: bool = False,
        xheaders: bool = False,
        ssl_options: dict[str, Any] | ssl.SSLContext | None = None,
        protocol: str | None = None,
        decompress_request: bool = False,
        chunk_size: int | None = None,
        max_header_size: int | None = None,
        idle_connection_timeout: float | None = None,
        body_timeout: float | None = None,
        max_body_size: int | None = None,
        max_buffer_size: int | None = None,
        trusted_downstream: list[str] | None = None,
    ) -> None:
        """Set the server up; see the class docstring for the options.
        Raises `ValueError` for unusable ``ssl_options``."""
        self.request_callback = request_callback
        self.xheaders = xheaders
        self.protocol = protocol
        #: The `~tornado.http1connection.HTTP1ConnectionParameters` built from
        #: the options, used for every connection.
        self.conn_params = HTTP1ConnectionParameters(
            decompress=decompress_request,
            chunk_size=chunk_size,
            max_header_size=max_header_size,
            header_timeout=idle_connection_timeout or _DEFAULT_IDLE_TIMEOUT,
            max_body_size=max_body_size,
            body_timeout=body_timeout,
            no_keep_alive=no_keep_alive,
        )
        TCPServer.__init__(
            self,
            ssl_options=ssl_options,
            max_buffer_size=max_buffer_size,
            read_chunk_size=chunk_size,
        )
        self._connections: set[HTTP1ServerConnection] = set()
        # Streams handed over to WebSockets (see _register_detached).
        self._detached: set[_Detached] = set()
        self._drain_state: _DrainState | None = None
        self.trusted_downstream = frozenset(trusted_downstream or ())
        # Decided once: plain callables get the adapter that buffers the body.
        self._delegate_is_application = isinstance(request_callback, HTTPServerConnectionDelegate)

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        """`HTTPServer` is its own configurable base."""
        return HTTPServer

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        """`HTTPServer` is its own default implementation."""
        return HTTPServer

    async def close_all_connections(self) -> None:
        """Close every open connection and wait for their request loops to end.

        Meant for shutdown and tests, after ``stop()`` has stopped
        accepting new connections::

            server.stop()
            await server.close_all_connections()
        """
        while self._connections:
            connection = next(iter(self._connections))
            # close() ends the request loop, whose on_close removes it.
            await connection.close()
            self._connections.discard(connection)

    async def drain(self, timeout: float | None) -> DrainResult:
        """Shut down gracefully, in at most ``timeout`` seconds (None: no limit).

        - New connections are refused at once: the listening sockets are
          closed (`~tornado.tcpserver.TCPServer.stop`).
        - Idle keep-alive connections are closed at once.
        - Requests under way run to their end; their responses say
          ``Connection: close`` (unless their head was out already) and the
          connection closes after them.  No further request is served.
        - WebSockets accepted through this server are sent a close frame
          with code 1001 (going away).
        - At the deadline whatever is still open (slow responses,
          long-polls, WebSockets whose peer did not answer) is closed.

        Returns a `DrainResult`: how many requests and WebSockets finished
        before the deadline, and how many were cut.  A server drains once:
        a second call raises `RuntimeError`.  See the package README for
        the SIGTERM recipe.
        """
        if self._drain_state is not None:
            raise RuntimeError("HTTPServer.drain() may be called only once")
        state = self._drain_state = _DrainState()
        self.stop()
        for connection in list(self._connections):
            connection._drain()
        for entry in list(self._detached):
            self._tell_going_away(entry)
        self._check_drained()
        if not state.done.done():
            try:
                await asyncio.wait_for(asyncio.shield(state.done), timeout)
            except TimeoutError:
                pass
        state.cutting = True
        cut = len(self._connections) + len(self._detached)
        for entry in list(self._detached):
            entry.stream.close()
        self._detached.clear()
        await self.close_all_connections()
        return DrainResult(state.finished, cut)

    def _tell_going_away(self, entry: _Detached) -> None:
        if entry not in self._detached:
            return
        try:
            entry.going_away()
        except Exception:
            app_log.error("Uncaught exception telling a connection to go away", exc_info=True)
            entry.stream.close()

    def _forget_detached(self, entry: _Detached) -> None:
        if entry not in self._detached:
            return
        self._detached.discard(entry)
        state = self._drain_state
        if state is not None and not state.cutting:
            state.finished += 1
            self._check_drained()

    def _check_drained(self) -> None:
        state = self._drain_state
        if (
            state is not None
            and not self._connections
            and not self._detached
            and not state.done.done()
        ):
            state.done.set_result(None)

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        """Serve HTTP on a newly accepted connection."""
        context = _HTTPRequestContext(stream, address, self.protocol, self.trusted_downstream)
        connection = HTTP1ServerConnection(stream, self.conn_params, context)
        self._connections.add(connection)
        connection.start_serving(self)

    def start_request(
        self, server_conn: object, request_conn: HTTPConnection
    ) -> HTTPMessageDelegate:
        """Return the delegate for a new request (from the application, or an
        adapter around a plain callable; wrapped for ``xheaders``)."""
        delegate: HTTPMessageDelegate
        if self._delegate_is_application:
            application = self.request_callback
            assert isinstance(application, HTTPServerConnectionDelegate)
            delegate = application.start_request(server_conn, request_conn)
        else:
            delegate = _CallableAdapter(self.request_callback, request_conn)  # type: ignore[arg-type]
        if self.xheaders:
            delegate = _ProxyAdapter(delegate, request_conn)
        return delegate

    def on_close(self, server_conn: object) -> None:
        """Forget a connection that has closed."""
        if (
            not isinstance(server_conn, HTTP1ServerConnection)
            or server_conn not in self._connections
        ):
            return
        self._connections.discard(server_conn)
        state = self._drain_state
        if state is not None and not state.cutting:
            # A request that ran to its end while draining (idle
            # connections and WebSocket upgrades are not requests finished).
            if not (server_conn._drained_idle or server_conn._handed_over):
                state.finished += 1
            self._check_drained()


class _CallableAdapter(HTTPMessageDelegate):
    """Collects a request's body and calls a plain request callback."""

    __slots__ = ("_chunks", "connection", "request", "request_callback")

    def __init__(
        self,
        request_callback: Callable[[HTTPServerRequest], Any],
        request_conn: HTTPConnection,
    ) -> None:
        self.connection = request_conn
        self.request_callback = request_callback
        self.request: HTTPServerRequest | None = None
        self._chunks: list[bytes] = []

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> Awaitable[None] | None:
        assert isinstance(start_line, RequestStartLine)
        # Raises HTTPInputError (a 400 answer) for too many query arguments.
        self.request = HTTPServerRequest(
            connection=self.connection,
            start_line=start_line,
            headers=headers,
        )
        return None

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        self._chunks.append(chunk)
        return None

    def finish(self) -> None:
        request = self.request
        assert request is not None
        if self._chunks:
            request.body = b"".join(self._chunks)
            # Raises HTTPInputError (a 400 answer) for a malformed form body.
            request._parse_body()
        self.request_callback(request)

    def on_connection_close(self) -> None:
        self._chunks = []


class _ProxyAdapter(HTTPMessageDelegate):
    """Applies ``xheaders`` to the connection context for one request."""

    def __init__(self, delegate: HTTPMessageDelegate, request_conn: HTTPConnection) -> None:
        self.connection = request_conn
        self.delegate = delegate

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> Awaitable[None] | None:
        context = getattr(self.connection, "context", None)
        if isinstance(context, _HTTPRequestContext):
            context._apply_xheaders(headers)
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()
        self._cleanup()

    def on_connection_close(self) -> None:
        self.delegate.on_connection_close()
        self._cleanup()

    def _cleanup(self) -> None:
        # Each request on a keep-alive connection starts from the real peer.
        context = getattr(self.connection, "context", None)
        if isinstance(context, _HTTPRequestContext):
            context._unapply_xheaders()


def _proxied_address(
    headers: HTTPHeaders, remote_ip: str, protocol: str, trusted_downstream: frozenset[str]
) -> tuple[str, str]:
    """The client's address and scheme as ``xheaders`` reads them from proxy
    headers (``X-Forwarded-For`` past the trusted proxies, ``X-Real-Ip``,
    ``X-Scheme``/``X-Forwarded-Proto``), or ``remote_ip`` and ``protocol``
    where they say nothing valid.  A documented internal: tornado-http2
    applies the same rule per stream."""
    forwarded_for = headers.get("X-Forwarded-For")
    ip = remote_ip
    if forwarded_for:
        # The rightmost address not of a trusted proxy is the client.
        for candidate in reversed(forwarded_for.split(",")):
            ip = candidate.strip()
            if ip not in trusted_downstream:
                break
    ip = headers.get("X-Real-Ip", ip)
    if not is_valid_ip(ip):
        ip = remote_ip
    scheme = headers.get("X-Scheme") or headers.get("X-Forwarded-Proto")
    if scheme:
        # Several proxies may each have appended one: the last is ours.
        scheme = scheme.split(",")[-1].strip()
        if scheme in ("http", "https"):
            protocol = scheme
    return ip, protocol


class _HTTPRequestContext:
    """What a request learns about its connection: the peer's address and
    the scheme, possibly overridden by ``xheaders``."""

    def __init__(
        self,
        stream: IOStream,
        address: Any,
        protocol: str | None,
        trusted_downstream: frozenset[str] = frozenset(),
    ) -> None:
        self.address = address
        # Unix sockets report no (host, port) address.
        if stream.socket is not None and stream.socket.family in (
            socket.AF_INET,
            socket.AF_INET6,
        ):
            self.remote_ip: str = address[0]
        else:
            self.remote_ip = "0.0.0.0"
        if protocol:
            self.protocol = protocol
        elif isinstance(stream, SSLIOStream):
            self.protocol = "https"
        else:
            self.protocol = "http"
        self._orig_remote_ip = self.remote_ip
        self._orig_protocol = self.protocol
        self.trusted_downstream = trusted_downstream

    def __str__(self) -> str:
        if isinstance(self.address, tuple) and self.address:
            return str(self.address[0])
        return str(self.address)

    def _apply_xheaders(self, headers: HTTPHeaders) -> None:
        """Take ``remote_ip`` and ``protocol`` from proxy headers."""
        self.remote_ip, self.protocol = _proxied_address(
            headers, self.remote_ip, self.protocol, self.trusted_downstream
        )

    def _unapply_xheaders(self) -> None:
        self.remote_ip = self._orig_remote_ip
        self.protocol = self._orig_protocol
