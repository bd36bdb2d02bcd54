"""The client side of HTTP/2: `HTTP2AsyncHTTPClient` and its connections.

Strategy: one `_ClientConnection` per origin (scheme, host, port and TLS
settings) carries every concurrent request to it as a stream, up to the
server's SETTINGS_MAX_CONCURRENT_STREAMS; further requests wait for a free
stream.  Over TLS the protocol is negotiated by ALPN; an origin that does
not choose ``h2`` is remembered as HTTP/1.1 and its requests go to a
`~tornado.simple_httpclient.SimpleAsyncHTTPClient` from then on.  Cleartext
``http://`` URLs use HTTP/1.1 unless the client was configured with
``prior_knowledge=True``.

Redirects are followed here (each hop on whichever connection suits its
origin); a request refused before the server touched it (REFUSED_STREAM, or
above a GOAWAY's last stream id) is retried once on a new connection.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import io
import ssl
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

import tornado
from tornado import gen
from tornado._http2_common import CANCEL, CONNECTION_SPECIFIC_HEADERS, REFUSED_STREAM
from tornado.httpclient import AsyncHTTPClient, HTTPRequest, HTTPResponse
from tornado.httputil import HTTPHeaders, encode_username_password
from tornado.iostream import IOStream, StreamClosedError
from tornado.simple_httpclient import (
    HTTPStreamClosedError,
    HTTPTimeoutError,
    SimpleAsyncHTTPClient,
)
from tornado.tcpclient import TCPClient

_USER_AGENT = f"Tornado/{tornado.version}"

#: The `HTTPRequest` constructor arguments (but ``if_modified_since``, which
#: the request keeps as its header), read through the defaults proxy
#: `AsyncHTTPClient.fetch` gives ``fetch_impl`` to rebuild a plain request
#: (for a redirect, or for the HTTP/1.1 client).
_REQUEST_FIELDS = (
    "method", "headers", "body", "auth_username", "auth_password", "auth_mode",
    "connect_timeout", "request_timeout", "follow_redirects",
    "max_redirects", "user_agent", "decompress_response", "network_interface",
    "streaming_callback", "header_callback", "prepare_curl_callback", "proxy_host",
    "proxy_port", "proxy_username", "proxy_password", "proxy_auth_mode",
    "allow_nonstandard_methods", "validate_cert", "ca_certs", "allow_ipv6",
    "client_key", "client_cert", "body_producer", "expect_100_continue", "ssl_options",
)  # fmt: skip

_REDIRECT_CODES = (301, 302, 303, 307, 308)

#: Receive windows the client offers: per stream and for the connection.
_STREAM_WINDOW = 1 << 20
_CONNECTION_WINDOW = 4 << 20

_tasks: set[asyncio.Future[Any]] = set()


def _spawn(awaitable: Awaitable[Any]) -> None:
    task = gen.convert_yielded(awaitable)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


class _Retry(Exception):
    """The server refused the stream before processing it: safe to resend."""


def _rebuild(request: Any, **changes: Any) -> HTTPRequest:
    """A plain `HTTPRequest` with every field of ``request`` (an
    `HTTPRequest` or the defaults proxy), some of them changed."""
    fields = {name: getattr(request, name) for name in _REQUEST_FIELDS}
    fields["headers"] = HTTPHeaders(fields["headers"])
    fields.update(changes)
    url = fields.pop("url", request.url)
    return HTTPRequest(url, **fields)


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


class _ClientStream:
    """One request/response exchange on a `_ClientConnection`."""

    def __init__(self, request: Any, stream_id: int, conn: _ClientConnection) -> None:
        self.request = request
        self.stream_id = stream_id
        self.conn = conn
        self.code: int | None = None
        self.headers = HTTPHeaders()
        self.chunks: list[bytes] = []
        self.size = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.inflater: Any = None
        self.max_body_size = conn.max_body_size
        # Deliveries to a streaming_callback that returned an awaitable.
        self._pending: asyncio.Future[None] | None = None

    def on_headers(self, fields: list[tuple[bytes, bytes]]) -> None:
        for name, value in fields:
            if name == b":status":
                self.code = int(value)
            elif name[:1] != b":":
                self.headers.add(name.decode("latin-1"), value.decode("latin-1"))
        if (
            self.request.decompress_response
            and self.headers.get("Content-Encoding", "").lower() == "gzip"
        ):
            self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            self.headers.add("X-Consumed-Content-Encoding", self.headers["Content-Encoding"])
            del self.headers["Content-Encoding"]
        if self._following_redirect():
            return
        callback = self.request.header_callback
        if callback is not None:
            assert self.code is not None
            callback(f"HTTP/2.0 {self.code} {_reason(self.code)}\r\n")
            for header, text in self.headers.get_all():
                callback(f"{header}: {text}\r\n")
            callback("\r\n")

    def _following_redirect(self) -> bool:
        request = self.request
        return bool(
            request.follow_redirects
            and self.code in _REDIRECT_CODES
            and (request.max_redirects or 0) > 0
            and "Location" in self.headers
        )

    def on_data(self, data: bytes, flow_length: int) -> None:
        if self.inflater is not None:
            data = self.inflater.decompress(data)
        self.size += len(data)
        if self.max_body_size is not None and self.size > self.max_body_size:
            self.fail(HTTPStreamClosedError("Response body too large"))
            self.conn.reset(self.stream_id, CANCEL)
            return
        callback = self.request.streaming_callback
        if callback is None or self._following_redirect():
            if not self._following_redirect():
                self.chunks.append(data)
            self.conn.acknowledge(self.stream_id, flow_length)
            return
        if self._pending is not None:
            # Keep order: this piece goes after the one being awaited.
            previous = self._pending
            self._pending = gen.convert_yielded(self._deliver_after(previous, data, flow_length))
            return
        result = callback(data) if data else None
        if result is not None and inspect.isawaitable(result):
            self._pending = gen.convert_yielded(self._ack_after(result, flow_length))
        else:
            self.conn.acknowledge(self.stream_id, flow_length)

    async def _ack_after(self, awaitable: Awaitable[Any], flow_length: int) -> None:
        await awaitable
        self.conn.acknowledge(self.stream_id, flow_length)

    async def _deliver_after(
        self, previous: Awaitable[None], data: bytes, flow_length: int
    ) -> None:
        await previous
        result = self.request.streaming_callback(data) if data else None
        if result is not None and inspect.isawaitable(result):
            await result
        self.conn.acknowledge(self.stream_id, flow_length)

    def on_end(self) -> None:
        if self.inflater is not None:
            tail = self.inflater.flush()
            if tail:
                self.on_data(tail, 0)
        if self._pending is not None:
            pending = self._pending

            def finished(f: asyncio.Future[None]) -> None:
                if f.exception() is not None:
                    self.fail(f.exception())  # type: ignore[arg-type]
                elif not self.done.done():
                    self.done.set_result(None)

            pending.add_done_callback(finished)
        elif not self.done.done():
            self.done.set_result(None)

    def fail(self, error: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(error)
            self.done.exception()


class _ClientConnection:
    """One HTTP/2 connection to an origin."""

    def __init__(self, stream: IOStream, max_body_size: int | None) -> None:
        self.stream = stream
        self.max_body_size = max_body_size
        config = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.h2 = h2.connection.H2Connection(config=config)
        self.h2.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                h2.settings.SettingCodes.ENABLE_PUSH: 0,
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 1 << 16,
            },
        )
        self.streams: dict[int, _ClientStream] = {}
        self.usable = True
        self.closed = False
        self._window = asyncio.Event()
        self._slot_waiters: list[asyncio.Future[None]] = []
        self._flush_scheduled = False
        self._settings_received = False

    def start(self) -> None:
        h2conn = self.h2
        h2conn.initiate_connection()
        h2conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: _STREAM_WINDOW})
        h2conn.increment_flow_control_window(_CONNECTION_WINDOW - 65535)
        self.flush()
        _spawn(self._read_loop())

    # -- output -------------------------------------------------------------------

    def flush(self) -> None:
        self._flush_scheduled = False
        data = self.h2.data_to_send()
        if data and not self.stream.closed():
            fut = self.stream.write(data)
            fut.add_done_callback(lambda f: f.cancelled() or f.exception())

    def schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def acknowledge(self, stream_id: int, flow_length: int) -> None:
        if self.closed or not flow_length:
            return
        try:
            self.h2.acknowledge_received_data(flow_length, stream_id)
        except h2.exceptions.ProtocolError:
            return
        self.schedule_flush()

    def reset(self, stream_id: int, code: int) -> None:
        try:
            self.h2.reset_stream(stream_id, code)
        except h2.exceptions.ProtocolError:
            pass
        self.streams.pop(stream_id, None)
        self._wake_slot()
        self.schedule_flush()

    async def send_data(self, stream_id: int, data: bytes, end: bool) -> None:
        """Send ``data`` within the server's windows, waiting for them."""
        view = memoryview(data)
        h2conn = self.h2
        while True:
            if self.closed:
                raise HTTPStreamClosedError("Connection closed")
            if stream_id not in self.streams:
                raise HTTPStreamClosedError("Stream closed")
            window = min(
                h2conn.local_flow_control_window(stream_id), h2conn.max_outbound_frame_size
            )
            if not view:
                if end:
                    h2conn.end_stream(stream_id)
                    self.flush()
                return
            if window <= 0:
                self._window.clear()
                self.flush()
                await self._window.wait()
                continue
            piece = view[:window]
            view = view[window:]
            h2conn.send_data(stream_id, piece.tobytes(), end_stream=end and not view)
            if end and not view:
                self.flush()
                return
            if len(view) == 0:
                self.flush()
                return

    # -- streams --------------------------------------------------------------------

    def has_slot(self) -> bool:
        limit = self.h2.remote_settings.max_concurrent_streams
        if not self._settings_received:
            # Until the server's SETTINGS arrive its limit is unknown; 100
            # is the smallest RFC 9113 recommends a server to allow.
            limit = min(limit, 100)
        return len(self.streams) < limit

    async def wait_for_slot(self) -> None:
        while self.usable and not self.has_slot():
            waiter = asyncio.get_running_loop().create_future()
            self._slot_waiters.append(waiter)
            await waiter

    def _wake_slot(self) -> None:
        waiters, self._slot_waiters = self._slot_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def open_stream(
        self, request: Any, fields: list[tuple[bytes, bytes]], end: bool
    ) -> _ClientStream:
        h2conn = self.h2
        stream_id = h2conn.get_next_available_stream_id()
        stream = _ClientStream(request, stream_id, self)
        self.streams[stream_id] = stream
        h2conn.send_headers(stream_id, fields, end_stream=end)
        self.schedule_flush()
        return stream

    def finish_stream(self, stream: _ClientStream) -> None:
        if self.streams.get(stream.stream_id) is stream:
            del self.streams[stream.stream_id]
        self._wake_slot()
        if not self.usable and not self.streams:
            self.close()

    # -- input ------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        h2conn = self.h2
        try:
            while True:
                data = await self.stream.read_bytes(65536, partial=True)
                try:
                    events = h2conn.receive_data(data)
                except h2.exceptions.ProtocolError as e:
                    self.flush()
                    self._lost(HTTPStreamClosedError(f"HTTP/2 protocol error: {e}"))
                    return
                for event in events:
                    self._on_event(event)
                self.flush()
        except StreamClosedError:
            pass
        finally:
            self._lost(HTTPStreamClosedError("Connection closed"))

    def _on_event(self, event: h2.events.Event) -> None:
        streams = self.streams
        if isinstance(event, h2.events.ResponseReceived):
            stream = streams.get(event.stream_id or 0)
            if stream is not None:
                stream.on_headers(event.headers or [])
        elif isinstance(event, h2.events.DataReceived):
            stream = streams.get(event.stream_id or 0)
            if stream is not None:
                stream.on_data(event.data or b"", event.flow_controlled_length or 0)
            else:
                self.acknowledge(event.stream_id or 0, event.flow_controlled_length or 0)
        elif isinstance(event, h2.events.StreamEnded):
            stream = streams.get(event.stream_id or 0)
            if stream is not None:
                stream.on_end()
        elif isinstance(event, h2.events.StreamReset):
            stream = streams.pop(event.stream_id or 0, None)
            if stream is not None:
                if event.error_code == REFUSED_STREAM:
                    stream.fail(_Retry())
                elif stream.code is not None and event.error_code == 0:
                    # RST_STREAM(NO_ERROR) after a complete response head:
                    # the server does not want the rest of our body.
                    stream.on_end()
                else:
                    stream.fail(
                        HTTPStreamClosedError(f"Stream reset by the server ({event.error_code})")
                    )
                self._wake_slot()
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            if isinstance(event, h2.events.RemoteSettingsChanged):
                self._settings_received = True
            self._window.set()
            self._wake_slot()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.usable = False
            last = event.last_stream_id or 0
            for stream_id, stream in list(streams.items()):
                if stream_id > last:
                    del streams[stream_id]
                    stream.fail(_Retry())
            if event.error_code:
                self._lost(
                    HTTPStreamClosedError(f"Connection closed by the server ({event.error_code})")
                )
            elif not streams:
                self.close()
            self._wake_slot()

    def _lost(self, error: BaseException) -> None:
        self.usable = False
        self.closed = True
        streams = list(self.streams.values())
        self.streams.clear()
        for stream in streams:
            stream.fail(error)
        self._window.set()
        self._wake_slot()
        if not self.stream.closed():
            self.stream.close()

    def close(self) -> None:
        """Close the connection (GOAWAY, then the socket)."""
        if self.closed:
            return
        self.usable = False
        try:
            self.h2.close_connection()
        except h2.exceptions.ProtocolError:
            pass
        self.flush()
        self._lost(HTTPStreamClosedError("Connection closed"))


def _reason(code: int) -> str:
    from tornado.httputil import responses

    return responses.get(code, "Unknown")


class HTTP2AsyncHTTPClient(AsyncHTTPClient):
    """An `~tornado.httpclient.AsyncHTTPClient` that speaks HTTP/2.

    Concurrent requests to one origin share one connection (as many at once
    as the server's SETTINGS_MAX_CONCURRENT_STREAMS allows).  Over TLS
    ALPN offers ``h2`` and ``http/1.1``; an origin that picks HTTP/1.1 (or
    offers no ALPN) gets its requests through a
    `~tornado.simple_httpclient.SimpleAsyncHTTPClient`.  Cleartext
    ``http://`` URLs use HTTP/1.1 unless ``prior_knowledge=True``.  Use it
    with::

        AsyncHTTPClient.configure("tornado.http2.HTTP2AsyncHTTPClient")

    Options: ``defaults`` (as for every client), ``prior_knowledge``,
    ``max_body_size`` (largest response body; default 100 MiB),
    ``resolver`` and ``hostname_mapping`` (also given to the HTTP/1.1
    client), ``max_clients`` (HTTP/1.1 only).  Every `HTTPRequest` option
    that has a meaning on HTTP/2 works: timeouts, ``streaming_callback``
    (an awaitable it returns holds the server back by flow control),
    ``header_callback``, ``body_producer``, ``decompress_response``,
    redirects, basic auth, ``validate_cert``/``ca_certs``/``client_cert``/
    ``client_key``/``ssl_options``.  Proxies are refused
    (`NotImplementedError`) as by the simple client.
    """

    def initialize(
        self,
        defaults: dict[str, Any] | None = None,
        prior_knowledge: bool = False,
        max_body_size: int | None = None,
        max_clients: int = 10,
        resolver: Any = None,
        hostname_mapping: dict[str, str] | None = None,
    ) -> None:
        """Set the client up; see the class docstring for the options."""
        super().initialize(defaults)
        self.prior_knowledge = prior_knowledge
        self.max_body_size = max_body_size if max_body_size is not None else 100 * 1024 * 1024
        self._tcp_client = TCPClient(resolver=resolver)
        self._hostname_mapping = hostname_mapping or {}
        self._http1 = SimpleAsyncHTTPClient(
            force_instance=True,
            defaults=defaults,
            max_clients=max_clients,
            resolver=resolver,
            hostname_mapping=hostname_mapping,
            max_body_size=max_body_size,
        )
        self._connections: dict[tuple[Any, ...], _ClientConnection] = {}
        self._connecting: dict[tuple[Any, ...], asyncio.Future[_ClientConnection | None]] = {}
        self._http1_origins: set[tuple[Any, ...]] = set()

    def close(self) -> None:
        """Close every connection and the HTTP/1.1 client."""
        for connection in list(self._connections.values()):
            connection.close()
        self._connections.clear()
        self._http1.close()
        super().close()

    def fetch_impl(self, request: HTTPRequest, callback: Callable[[HTTPResponse], None]) -> None:
        """Run ``request`` (following redirects) and call ``callback``."""
        _spawn(self._run(request, callback))

    async def _run(self, request: HTTPRequest, callback: Callable[[HTTPResponse], None]) -> None:
        start_wall = time.time()
        start = time.monotonic()
        try:
            response = await self._fetch(request, start_wall, start)
        except Exception as e:
            response = HTTPResponse(
                request, 599, error=e, request_time=time.monotonic() - start, start_time=start_wall
            )
        callback(response)

    async def _fetch(self, original: Any, start_wall: float, start: float) -> HTTPResponse:
        request: Any = original
        while True:  # one turn per redirect; max_redirects bounds it
            if request.proxy_host or request.proxy_port or request.proxy_username:
                raise NotImplementedError("proxies are not supported")
            key = self._key(request)
            stream = None
            if key not in self._http1_origins and (key[0] == "https" or self.prior_knowledge):
                try:
                    # wait_for cancels the exchange, which resets its stream.
                    stream = await asyncio.wait_for(
                        self._exchange(request, key), request.request_timeout or None
                    )
                except TimeoutError:
                    raise HTTPTimeoutError("Timeout during request") from None
            if stream is None:
                # Cleartext without prior knowledge, or an origin whose ALPN
                # chose HTTP/1.1: the HTTP/1.1 client does the rest.
                response: HTTPResponse = await self._http1.fetch(
                    _rebuild(request), raise_error=False
                )
                return response
            assert stream.code is not None
            if stream._following_redirect():
                request = self._redirected(request, stream.code, stream.headers["Location"])
                continue
            buffer = (
                io.BytesIO() if request.streaming_callback else io.BytesIO(b"".join(stream.chunks))
            )
            return HTTPResponse(
                original,
                stream.code,
                headers=stream.headers,
                buffer=buffer,
                effective_url=request.url,
                request_time=time.monotonic() - start,
                start_time=start_wall,
            )

    def _key(self, request: Any) -> tuple[Any, ...]:
        scheme, host, port = _origin(request.url)
        if scheme not in ("http", "https"):
            raise ValueError(f"unsupported URL scheme {scheme!r}")
        if scheme == "http":
            return (scheme, host, port)
        return (
            scheme, host, port, request.validate_cert, request.ca_certs,
            request.client_cert, request.client_key, id(request.ssl_options),
        )  # fmt: skip

    def _redirected(self, request: Any, code: int, location: str) -> HTTPRequest:
        url = urljoin(request.url, location)
        changes: dict[str, Any] = {"url": url, "max_redirects": (request.max_redirects or 0) - 1}
        headers = HTTPHeaders(request.headers)
        headers.pop("Host", None)
        if (code == 303 and request.method != "HEAD") or (
            code in (301, 302) and request.method == "POST"
        ):
            changes.update(method="GET", body=None, body_producer=None)
            for name in ("Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding"):
                headers.pop(name, None)
        if _origin(url) != _origin(request.url):
            for name in ("Authorization", "Cookie"):
                headers.pop(name, None)
            changes.update(auth_username=None, auth_password=None)
        changes["headers"] = headers
        return _rebuild(request, **changes)

    async def _exchange(self, request: Any, key: tuple[Any, ...]) -> _ClientStream | None:
        """Send ``request`` on the origin's connection; wait for its end.
        None when the origin turned out to speak HTTP/1.1 only."""
        for attempt in range(2):
            connection = await self._connection(request, key)
            if connection is None:
                return None
            await connection.wait_for_slot()
            if not connection.usable:
                continue
            try:
                return await self._send(connection, request)
            except _Retry:
                if attempt:
                    raise HTTPStreamClosedError("Stream refused by the server") from None
        raise HTTPStreamClosedError("Connection closed")

    async def _connection(self, request: Any, key: tuple[Any, ...]) -> _ClientConnection | None:
        connection = self._connections.get(key)
        if connection is not None and connection.usable:
            return connection
        pending = self._connecting.get(key)
        if pending is not None:
            # Shielded: a waiter that times out must not cancel the others' connect.
            return await asyncio.shield(pending)
        future: asyncio.Future[_ClientConnection | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._connecting[key] = future
        try:
            result = await self._connect(request, key)
        except BaseException as e:
            if isinstance(e, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(e)
                future.exception()
            raise
        else:
            future.set_result(result)
        finally:
            del self._connecting[key]
        return result

    async def _connect(self, request: Any, key: tuple[Any, ...]) -> _ClientConnection | None:
        scheme, host, port = key[:3]
        host = self._hostname_mapping.get(host, host)
        ssl_options = self._ssl_context(request) if scheme == "https" else None
        try:
            stream = await self._tcp_client.connect(
                host,
                port,
                ssl_options=ssl_options,
                timeout=request.connect_timeout or None,
                source_ip=request.network_interface,
            )
        except gen.TimeoutError:
            raise HTTPTimeoutError("Timeout while connecting") from None
        if ssl_options is not None and stream.socket.selected_alpn_protocol() != "h2":  # type: ignore[attr-defined]
            stream.close()
            self._http1_origins.add(key)
            return None
        stream.set_nodelay(True)
        connection = _ClientConnection(stream, self.max_body_size)
        connection.start()
        self._connections[key] = connection
        return connection

    def _ssl_context(self, request: Any) -> ssl.SSLContext:
        options = request.ssl_options
        if isinstance(options, ssl.SSLContext):
            context = options
        else:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=request.ca_certs)
            if not request.validate_cert:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            if request.client_cert is not None:
                context.load_cert_chain(request.client_cert, request.client_key)
            if isinstance(options, dict):
                if "certfile" in options:
                    context.load_cert_chain(options["certfile"], options.get("keyfile"))
                if "ciphers" in options:
                    context.set_ciphers(options["ciphers"])
        context.set_alpn_protocols(["h2", "http/1.1"])
        return context

    def _request_fields(self, request: Any) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
        parts = urlsplit(request.url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = HTTPHeaders(request.headers)
        authority = headers.pop("Host", None) or parts.netloc.rpartition("@")[2]
        username = password = None
        if parts.username is not None:
            username, password = parts.username, parts.password or ""
        elif request.auth_username is not None:
            username, password = request.auth_username, request.auth_password or ""
        if username is not None:
            if request.auth_mode not in (None, "basic"):
                raise ValueError(f"unsupported auth_mode {request.auth_mode}")
            credentials = encode_username_password(username, password or "")
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
        if request.user_agent:
            headers["User-Agent"] = request.user_agent
        elif "User-Agent" not in headers:
            headers["User-Agent"] = _USER_AGENT
        body = request.body
        method = request.method
        if not request.allow_nonstandard_methods:
            body_expected = method in ("POST", "PATCH", "PUT")
            body_present = body is not None or request.body_producer is not None
            if body_expected != body_present:
                raise ValueError(
                    f"Body must {'not ' if body_expected else ''}be None for method {method} "
                    "(unless allow_nonstandard_methods is true)"
                )
        if body is not None:
            headers["Content-Length"] = str(len(body))
        if method == "POST" and "Content-Type" not in headers:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if request.decompress_response:
            headers["Accept-Encoding"] = "gzip"
        fields = [
            (b":method", method.encode("ascii")),
            (b":scheme", parts.scheme.lower().encode("ascii")),
            (b":authority", authority.encode("latin-1")),
            (b":path", path.encode("latin-1")),
        ]
        for name, value in headers.get_all():
            lname = name.lower().encode("latin-1")
            if lname in CONNECTION_SPECIFIC_HEADERS or lname == b"te":
                continue
            fields.append((lname, value.encode("latin-1")))
        return fields, body

    async def _send(self, connection: _ClientConnection, request: Any) -> _ClientStream:
        fields, body = self._request_fields(request)
        producer = request.body_producer
        end = not body and producer is None
        stream = connection.open_stream(request, fields, end)
        try:
            if body:
                await connection.send_data(stream.stream_id, body, end=True)
            elif producer is not None:

                async def write(chunk: bytes) -> None:
                    await connection.send_data(stream.stream_id, chunk, end=False)

                def writer(chunk: bytes) -> asyncio.Future[None]:
                    return gen.convert_yielded(write(chunk))

                result = producer(writer)
                if result is not None:
                    await result
                await connection.send_data(stream.stream_id, b"", end=True)
            await stream.done
        except BaseException:
            if stream.stream_id in connection.streams:
                connection.reset(stream.stream_id, CANCEL)
            raise
        finally:
            connection.finish_stream(stream)
        return stream
