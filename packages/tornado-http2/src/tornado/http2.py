"""HTTP/2 for Tornado, on the `h2 <https://python-hyper.org/projects/h2/>`_ library.

`HTTP2Server` is an `~tornado.httpserver.HTTPServer` that speaks HTTP/2
to the clients that choose it and HTTP/1.1 to the others, on one port:

- over TLS the client chooses by ALPN (``h2`` or ``http/1.1``);
- in cleartext a client that starts with the HTTP/2 connection preface
  ("prior knowledge", ``curl --http2-prior-knowledge``) gets HTTP/2, any
  other gets HTTP/1.1.

Every HTTP/2 stream reaches the application through the same
`~tornado.httputil.HTTPServerConnectionDelegate` /
`~tornado.httputil.HTTPMessageDelegate` interface as an HTTP/1 request,
with an `~tornado.httputil.HTTPConnection` of its own, so a
``tornado.web.Application`` runs unchanged::

    from tornado.http2 import HTTP2Server

    server = HTTP2Server(app, ssl_options=ssl_ctx)
    server.listen(8443)

``request.version`` is ``"HTTP/2.0"`` on HTTP/2 streams.

`HTTP2AsyncHTTPClient` is an `~tornado.httpclient.AsyncHTTPClient` that
multiplexes concurrent requests to one origin over one HTTP/2 connection
and falls back to HTTP/1.1 where the server does not offer ``h2``::

    AsyncHTTPClient.configure("tornado.http2.HTTP2AsyncHTTPClient")

This module is the public facade; the machinery is in the private
``tornado._http2_*`` modules.

.. versionadded:: 7.0
   (of these micro-packages; upstream Tornado has no HTTP/2 support)
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

from tornado._http2_client import HTTP2AsyncHTTPClient
from tornado._http2_common import INADEQUATE_SECURITY, PREFACE
from tornado._http2_server import _ServerConnection, _ServerParams, _spawn
from tornado.httpserver import HTTPServer
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.netutil import ssl_options_to_context

__all__ = ["HTTP2AsyncHTTPClient", "HTTP2Server"]

#: Ciphers allowed for HTTP/2 over TLS 1.2 (RFC 9113 section 9.2.2 and
#: appendix A: ephemeral key exchange and an AEAD cipher only).  TLS 1.3
#: suites all qualify and are configured separately by OpenSSL.
_H2_TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20"

#: The first bytes of the preface that no HTTP/1 method starts with
#: ("PRI" is not a method any client sends; "PROPFIND" shares "PR").
_PREFACE_DECIDES = len(b"PRI")


class HTTP2Server(HTTPServer):
    """An `~tornado.httpserver.HTTPServer` that also speaks HTTP/2.

    Takes every `~tornado.httpserver.HTTPServer` option with its meaning
    (``xheaders``, ``ssl_options``, ``decompress_request``,
    ``max_header_size``, ``idle_connection_timeout``, ``body_timeout``,
    ``max_body_size``, ...; ``no_keep_alive`` applies to HTTP/1 only), and:

    ``max_concurrent_streams``
        Streams a client may have open at once (SETTINGS, default 100).
    ``initial_window_size``
        Flow-control window of each request body (default 256 KiB): the
        most a client can send on a stream ahead of the handler.
    ``connection_window_size``
        Flow-control window of the whole connection (default 1 MiB).
    ``flow_control_timeout``
        Seconds a response may wait for the client to open its window
        before the connection is closed (GOAWAY ENHANCE_YOUR_CALM),
        default 60.
    ``shutdown_timeout``
        Seconds `close_all_connections` lets HTTP/2 streams in progress
        finish after its GOAWAY, default 30.
    ``h2c_upgrade``
        Also accept ``Upgrade: h2c`` on cleartext HTTP/1.1 requests without
        a body (RFC 7540 section 3.2; RFC 9113 deprecates it), default off
        so that HTTP/1 requests pay nothing for it.

    ``max_header_size`` becomes SETTINGS_MAX_HEADER_LIST_SIZE (default
    64 KiB), checked on the decoded header list.  With ``ssl_options``
    the server offers ALPN ``h2`` and ``http/1.1``; a dict of options is
    made a context with TLS 1.2 as the floor and RFC 9113's ciphers, an
    `ssl.SSLContext` given as is gets the ALPN list set on it.
    """

    def initialize(
        self,
        request_callback: Any,
        *args: Any,
        max_concurrent_streams: int = 100,
        initial_window_size: int = 256 * 1024,
        connection_window_size: int = 1024 * 1024,
        flow_control_timeout: float = 60.0,
        shutdown_timeout: float = 30.0,
        h2c_upgrade: bool = False,
        **kwargs: Any,
    ) -> None:
        """Set the server up; see the class docstring for the options."""
        arguments = list(args)
        # ssl_options is HTTPServer.initialize's fourth parameter.
        if len(arguments) >= 3:
            arguments[2] = _h2_ssl_context(arguments[2])
        elif kwargs.get("ssl_options") is not None:
            kwargs["ssl_options"] = _h2_ssl_context(kwargs["ssl_options"])
        super().initialize(request_callback, *arguments, **kwargs)
        conn_params = self.conn_params
        self._h2_params = _ServerParams(
            delegate=request_callback,
            xheaders=self.xheaders,
            trusted_downstream=self.trusted_downstream,
            protocol=self.protocol,
            decompress=conn_params.decompress,
            max_body_size=conn_params.max_body_size,
            body_timeout=conn_params.body_timeout,
            idle_timeout=conn_params.header_timeout,
            read_chunk_size=conn_params.chunk_size,
            max_concurrent_streams=max_concurrent_streams,
            max_header_list_size=conn_params.max_header_size,
            initial_window_size=initial_window_size,
            connection_window_size=connection_window_size,
            flow_control_timeout=flow_control_timeout,
        )
        self._shutdown_timeout = shutdown_timeout
        self._h2c_upgrade = h2c_upgrade
        self._h2_connections: set[_ServerConnection] = set()

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        """Choose the protocol of a new connection: ALPN on TLS, the
        connection preface in cleartext; HTTP/1.1 goes to
        `~tornado.httpserver.HTTPServer.handle_stream`."""
        if isinstance(stream, SSLIOStream):
            _spawn(self._negotiate(stream, address))
        else:
            _PrefaceSniffer(self, stream, address).start()

    async def _negotiate(self, stream: SSLIOStream, address: Any) -> None:
        try:
            await stream.wait_for_handshake()
        except (StreamClosedError, ssl.SSLError, OSError):
            return
        if stream.socket.selected_alpn_protocol() == "h2":
            version = stream.socket.version()
            refuse = INADEQUATE_SECURITY if version in ("SSLv3", "TLSv1", "TLSv1.1") else None
            self._serve_h2(stream, address, refuse)
        else:
            super().handle_stream(stream, address)

    def start_request(
        self, server_conn: object, request_conn: HTTPConnection
    ) -> HTTPMessageDelegate:
        """The delegate for an HTTP/1 request (HTTP/2 streams do not come
        here); with ``h2c_upgrade`` it watches for ``Upgrade: h2c``."""
        delegate = super().start_request(server_conn, request_conn)
        if self._h2c_upgrade:
            return _UpgradeWatcher(self, delegate, request_conn)
        return delegate

    def _serve_h2(
        self,
        stream: IOStream,
        address: Any,
        refuse_with: int | None = None,
        upgrade: tuple[RequestStartLine, HTTPHeaders] | None = None,
    ) -> None:
        connection = _ServerConnection(self, stream, address, self._h2_params, refuse_with, upgrade)
        self._h2_connections.add(connection)
        connection.start()

    def _serve_h1(self, stream: IOStream, address: Any) -> None:
        super().handle_stream(stream, address)

    def _h2_connection_closed(self, connection: _ServerConnection) -> None:
        self._h2_connections.discard(connection)

    async def close_all_connections(self) -> None:
        """Close every connection: HTTP/2 ones get GOAWAY and up to
        ``shutdown_timeout`` seconds for the streams they carry to finish;
        HTTP/1 ones close as `~tornado.httpserver.HTTPServer` closes them."""
        while self._h2_connections:
            connection = next(iter(self._h2_connections))
            await connection.close(self._shutdown_timeout)
            self._h2_connections.discard(connection)
        await super().close_all_connections()


def _h2_ssl_context(options: dict[str, Any] | ssl.SSLContext) -> ssl.SSLContext:
    """A server context that offers ALPN ``h2`` and ``http/1.1``."""
    if isinstance(options, ssl.SSLContext):
        context = options
    else:
        context = ssl_options_to_context(options, server_side=True)
        if context.minimum_version < ssl.TLSVersion.TLSv1_2:
            context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(_H2_TLS12_CIPHERS)
        # RFC 9113 9.2.1: no TLS compression, no renegotiation.
        context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


class _PrefaceSniffer:
    """Looks at a cleartext connection's first bytes without taking them.

    The public `~tornado.iostream.IOStream` API has no way to put bytes
    back once read, so the bytes are peeked at (``MSG_PEEK`` on the
    stream's socket) while the socket is watched through
    `~tornado.ioloop.IOLoop.add_handler`; the stream itself has read
    nothing when it is handed to HTTP/1 or HTTP/2.  The handler is removed
    before the stream is handed on, as the stream registers its own.
    """

    def __init__(self, server: HTTP2Server, stream: IOStream, address: Any) -> None:
        self.server = server
        self.stream = stream
        self.address = address
        self.io_loop = IOLoop.current()
        self.fd = stream.socket.fileno()
        self.timer: object | None = None
        self.retry: object | None = None

    def start(self) -> None:
        self.io_loop.add_handler(self.fd, self._readable, IOLoop.READ)
        self.timer = self.io_loop.call_later(self.server._h2_params.idle_timeout, self._timeout)

    def _stop(self) -> None:
        self.io_loop.remove_handler(self.fd)
        if self.timer is not None:
            self.io_loop.remove_timeout(self.timer)
            self.timer = None

    def _timeout(self) -> None:
        self.timer = None
        self._stop()
        self.stream.close()

    def _readable(self, fd: Any, events: int) -> None:
        try:
            head = self.stream.socket.recv(len(PREFACE), socket.MSG_PEEK)
        except BlockingIOError:
            return
        except OSError:
            head = b""
        if not head:
            self._stop()
            self.stream.close()
            return
        if PREFACE.startswith(head) and len(head) < _PREFACE_DECIDES:
            # "P" or "PR": could still be POST/PUT/PATCH/PROPFIND.  Peeking
            # again at once would spin (the socket stays readable), so look
            # again shortly; real clients send the preface in one piece.
            self.io_loop.remove_handler(self.fd)
            if self.retry is None:
                self.retry = self.io_loop.call_later(0.01, self._again)
            return
        self._stop()
        if head[:_PREFACE_DECIDES] == PREFACE[:_PREFACE_DECIDES]:
            self.server._serve_h2(self.stream, self.address)
        else:
            self.server._serve_h1(self.stream, self.address)

    def _again(self) -> None:
        self.retry = None
        if self.stream.closed():
            self._stop()
            return
        self.io_loop.add_handler(self.fd, self._readable, IOLoop.READ)


#: Request fields that belong to the HTTP/1.1 hop of an h2c upgrade.
_UPGRADE_HOP_FIELDS = (
    "Connection", "Upgrade", "HTTP2-Settings", "Keep-Alive", "Proxy-Connection",
    "Transfer-Encoding", "TE",
)  # fmt: skip


class _UpgradeWatcher(HTTPMessageDelegate):
    """Wraps an HTTP/1 request's delegate: a bodiless cleartext request
    with ``Upgrade: h2c`` and ``HTTP2-Settings`` is answered 101 and the
    connection continues as HTTP/2 (the request becomes stream 1); any
    other request passes through untouched."""

    def __init__(
        self, server: HTTP2Server, delegate: HTTPMessageDelegate, connection: HTTPConnection
    ) -> None:
        self.server = server
        self.delegate = delegate
        self.connection = connection
        self.upgraded = False
        self.request: tuple[RequestStartLine, HTTPHeaders] = (
            RequestStartLine("", "", ""),
            HTTPHeaders(),
        )

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> Any:
        if isinstance(start_line, RequestStartLine) and self._wants_h2c(start_line, headers):
            # Switched in finish(), once the HTTP/1 machine is done with the
            # (empty) body, as a WebSocket handshake does.
            self.upgraded = True
            self.request = (start_line, headers)
            return None
        return self.delegate.headers_received(start_line, headers)

    def _wants_h2c(self, start_line: RequestStartLine, headers: HTTPHeaders) -> bool:
        if start_line.version != "HTTP/1.1" or "HTTP2-Settings" not in headers:
            return False
        if "h2c" not in (t.strip().lower() for t in headers.get("Upgrade", "").split(",")):
            return False
        if isinstance(getattr(self.connection, "stream", None), SSLIOStream):
            return False  # h2c is for cleartext; TLS negotiates by ALPN
        # A request with a body would have to be read whole first: not offered.
        return "Transfer-Encoding" not in headers and headers.get("Content-Length", "0") == "0"

    def _upgrade(self, start_line: RequestStartLine, headers: HTTPHeaders) -> None:
        connection = self.connection
        connection.write_headers(
            ResponseStartLine("HTTP/1.1", 101, "Switching Protocols"),
            HTTPHeaders({"Connection": "Upgrade", "Upgrade": "h2c"}),
        )
        connection.finish()
        stream: IOStream = connection.detach()  # type: ignore[attr-defined]
        settings = headers.get("HTTP2-Settings", "")
        request_headers = HTTPHeaders(headers)
        for name in _UPGRADE_HOP_FIELDS:
            request_headers.pop(name, None)
        # The h2 connection reads the settings back from this header.
        request_headers["HTTP2-Settings"] = settings
        try:
            address = stream.socket.getpeername()
        except OSError:
            stream.close()
            return
        self.server._serve_h2(
            stream,
            address,
            upgrade=(
                RequestStartLine(start_line.method, start_line.path, "HTTP/2.0"),
                request_headers,
            ),
        )

    def data_received(self, chunk: bytes) -> Any:
        if not self.upgraded:
            return self.delegate.data_received(chunk)
        return None

    def finish(self) -> None:
        if self.upgraded:
            self._upgrade(*self.request)
        else:
            self.delegate.finish()

    def on_connection_close(self) -> None:
        if not self.upgraded:
            self.delegate.on_connection_close()
