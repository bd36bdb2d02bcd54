"""The default `~tornado.httpclient.AsyncHTTPClient`, written in Python on
`tornado.iostream` and `tornado.http1connection`.

One connection per request (``Connection: close``), at most ``max_clients``
at once (the others wait in a queue), HTTP and HTTPS, redirects, gzip,
``Expect: 100-continue``, streaming bodies both ways.  Proxies are not
supported (use `tornado.curl_httpclient` for them).

Redirects: 301, 302, 303, 307 and 308 are followed up to
``max_redirects`` times.  A 303 turns any method but HEAD into GET, and
301/302 turn POST into GET (as browsers do), dropping the body and its
headers.  A redirect to another origin (scheme, host or port) drops the
``Authorization`` and ``Cookie`` headers and the credentials, so they never
leak to a host they were not meant for.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import copy
import functools
import inspect
import io
import re
import socket
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

from tornado import httputil
from tornado.http1connection import HTTP1Connection, HTTP1ConnectionParameters
from tornado.httpclient import (
    _DEFAULT_USER_AGENT,
    AsyncHTTPClient,
    HTTPClientError,
    HTTPRequest,
    HTTPResponse,
    _RequestProxy,
)
from tornado.httputil import HTTPHeaders, HTTPInputError, RequestStartLine, ResponseStartLine
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.log import gen_log
from tornado.netutil import OverrideResolver, Resolver, _client_ssl_defaults, is_valid_ip
from tornado.tcpclient import TCPClient

__all__ = ["HTTPStreamClosedError", "HTTPTimeoutError", "SimpleAsyncHTTPClient"]


class HTTPTimeoutError(HTTPClientError):
    """A request timed out (code 599).  The message names the phase:
    ``"Timeout while resolving <host>"``, ``"Timeout while connecting"``,
    ``"Timeout during TLS handshake with <host>:<port>"``, ``"Timeout
    during request"`` or ``"Timeout in request queue"``.

    .. versionadded:: 5.1
    """

    def __init__(self, message: str) -> None:
        """Record ``message`` with code 599."""
        super().__init__(599, message=message)

    def __str__(self) -> str:
        return self.message or "Timeout"


class HTTPStreamClosedError(HTTPClientError):
    """The connection closed before the response was complete (code 599).

    .. versionadded:: 5.1
    """

    def __init__(self, message: str) -> None:
        """Record ``message`` with code 599."""
        super().__init__(599, message=message)

    def __str__(self) -> str:
        return self.message or "Stream closed"


_Callback = Callable[[HTTPResponse], None]


class SimpleAsyncHTTPClient(AsyncHTTPClient):
    """Non-blocking HTTP client with no external dependencies.

    :arg max_clients: most requests in flight at once; the others wait in
        a queue (their ``connect_timeout``/``request_timeout`` runs while
        they wait: "Timeout in request queue").
    :arg hostname_mapping: a dict of host names (or ``(host, port)``
        pairs) to replacements, applied before resolution (see
        `tornado.netutil.OverrideResolver`).
    :arg max_buffer_size: most bytes buffered per connection (100 MiB).
    :arg resolver: the `tornado.netutil.Resolver` to use (not closed by
        `close`); by default a private one.
    :arg defaults: defaults for `~tornado.httpclient.HTTPRequest` attributes.
    :arg max_header_size: largest response head (64 KiB).
    :arg max_body_size: largest response body (``max_buffer_size``);
        larger responses fail with an `HTTPClientError`.
    """

    def initialize(  # type: ignore[override]
        self,
        max_clients: int = 10,
        hostname_mapping: dict[Any, Any] | None = None,
        max_buffer_size: int = 104857600,
        resolver: Resolver | None = None,
        defaults: dict[str, Any] | None = None,
        max_header_size: int | None = None,
        max_body_size: int | None = None,
    ) -> None:
        """Set the client up; see the class docstring."""
        super().initialize(defaults=defaults)
        self.max_clients = max_clients
        #: The waiting requests as ``(key, request, callback)``, in arrival order.
        self.queue: collections.deque[tuple[object, HTTPRequest, _Callback]] = collections.deque()
        #: Requests being fetched now, by key (at most ``max_clients``).
        self.active: dict[object, tuple[HTTPRequest, _Callback]] = {}
        #: Requests queued for a free slot, with their timeout handles, by key.
        self.waiting: dict[object, tuple[HTTPRequest, _Callback, object | None]] = {}
        self.max_buffer_size = max_buffer_size
        self.max_header_size = max_header_size
        self.max_body_size = max_body_size
        if resolver is not None:
            self.resolver = resolver
            #: Whether the client made its resolver (and so closes it on `close`).
            self.own_resolver = False
        else:
            self.resolver = Resolver()
            self.own_resolver = True
        if hostname_mapping is not None:
            self.resolver = OverrideResolver(resolver=self.resolver, mapping=hostname_mapping)
        #: The `~tornado.tcpclient.TCPClient` that opens connections.
        self.tcp_client = TCPClient(resolver=self.resolver)

    def close(self) -> None:
        """Close the client and the resolver it created."""
        super().close()
        if self.own_resolver:
            self.resolver.close()
        self.tcp_client.close()

    def fetch_impl(self, request: HTTPRequest, callback: _Callback) -> None:
        """Queue ``request``; start it when fewer than ``max_clients`` run."""
        key = object()
        self.queue.append((key, request, callback))
        timeout_handle = None
        if len(self.active) >= self.max_clients:
            timeout = _first_timeout(request.connect_timeout, request.request_timeout)
            if timeout:
                timeout_handle = self.io_loop.add_timeout(
                    self.io_loop.time() + timeout,
                    functools.partial(self._on_timeout, key, "in request queue"),
                )
        self.waiting[key] = (request, callback, timeout_handle)
        self._process_queue()
        if self.queue:
            gen_log.debug(
                "max_clients limit reached, request queued. %d active, %d queued requests.",
                len(self.active),
                len(self.queue),
            )

    def _process_queue(self) -> None:
        while self.queue and len(self.active) < self.max_clients:
            key, request, callback = self.queue.popleft()
            if key not in self.waiting:
                continue  # timed out while queued
            self._remove_timeout(key)
            self.active[key] = (request, callback)
            release_callback = functools.partial(self._release_fetch, key)
            self._handle_request(request, release_callback, callback)

    def _connection_class(self) -> type[_HTTPConnection]:
        return _HTTPConnection

    def _handle_request(
        self, request: HTTPRequest, release_callback: Callable[[], None], final_callback: _Callback
    ) -> None:
        # The connection runs on its own: its constructor starts it.
        self._connection_class()(
            self,
            request,
            release_callback,
            final_callback,
            self.max_buffer_size,
            self.tcp_client,
            self.max_header_size,
            self.max_body_size,
        )

    def _release_fetch(self, key: object) -> None:
        del self.active[key]
        self._process_queue()

    def _remove_timeout(self, key: object) -> None:
        entry = self.waiting.pop(key, None)
        if entry is not None and entry[2] is not None:
            self.io_loop.remove_timeout(entry[2])

    def _on_timeout(self, key: object, info: str | None = None) -> None:
        request, callback, _ = self.waiting.pop(key)
        self.queue.remove((key, request, callback))
        message = f"Timeout {info}" if info else "Timeout"
        response = HTTPResponse(
            request,
            599,
            error=HTTPTimeoutError(message),
            request_time=time.time() - request.start_time,
        )
        self.io_loop.add_callback(callback, response)


class _ResolvedAddresses(Resolver):
    """Answers every lookup with addresses found already: lets a request
    resolve on its own (timing the lookup apart) and still hand the
    connection attempts to `TCPClient`."""

    def initialize(self, addresses: list[tuple[int, Any]]) -> None:
        """Answer with ``addresses``."""
        self._addresses = addresses

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        """Return the addresses given to `initialize`."""
        return self._addresses


def _first_timeout(*timeouts: float | None) -> float | None:
    """The smallest of the given timeouts that are set (non-zero)."""
    chosen = [t for t in timeouts if t]
    return min(chosen) if chosen else None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


class _HTTPConnection(httputil.HTTPMessageDelegate):
    """Runs one request of a `SimpleAsyncHTTPClient` on its own connection.

    Documented-internal: `tornado.websocket.WebSocketClientConnection`
    subclasses it (see this distribution's README), so its constructor
    arguments, its public attributes and the delegate methods
    (`headers_received`, `data_received`, `finish`, `on_connection_close`)
    are an interface.  ``client`` may be None (a connection of no client:
    no redirects); a plain `HTTPRequest` gets `HTTPRequest`'s defaults.
    The constructor starts the request (`run`) on the current IOLoop.
    """

    _SUPPORTED_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"))

    def __init__(
        self,
        client: SimpleAsyncHTTPClient | None,
        request: HTTPRequest,
        release_callback: Callable[[], None],
        final_callback: _Callback,
        max_buffer_size: int,
        tcp_client: TCPClient,
        max_header_size: int | None,
        max_body_size: int | None,
    ) -> None:
        #: The `~tornado.ioloop.IOLoop` the exchange runs on.
        self.io_loop = client.io_loop if client is not None else IOLoop.current()
        #: `IOLoop.time <tornado.ioloop.IOLoop.time>` when the exchange started.
        self.start_time = self.io_loop.time()
        #: `time.time` when the exchange started.
        self.start_wall_time = time.time()
        #: The client that started the exchange, or None (a WebSocket connection has none).
        self.client = client
        if not isinstance(request, _RequestProxy):
            request = cast(HTTPRequest, _RequestProxy(request, HTTPRequest._DEFAULTS))
        #: The `~tornado.httpclient.HTTPRequest` being sent.
        self.request = request
        #: Called once when the exchange ends, to free the client's slot; None after that.
        self.release_callback: Callable[[], None] | None = release_callback
        #: Called once with the `~tornado.httpclient.HTTPResponse`; None after that.
        self.final_callback: _Callback | None = final_callback
        #: The stream's buffer limit, in bytes.
        self.max_buffer_size = max_buffer_size
        #: The `~tornado.tcpclient.TCPClient` that opens the connection.
        self.tcp_client = tcp_client
        #: The largest response head accepted, in bytes.
        self.max_header_size = max_header_size
        #: The largest response body accepted, in bytes.
        self.max_body_size = max_body_size
        #: The response's status code once its head has arrived, else None.
        self.code: int | None = None
        #: The response's reason phrase once its head has arrived, else None.
        self.reason: str | None = None
        #: The response's `~tornado.httputil.HTTPHeaders` once its head has arrived, else None.
        self.headers: HTTPHeaders | None = None
        #: The body chunks received so far (without a ``streaming_callback``).
        self.chunks: list[bytes] = []
        self._timeout: object | None = None
        #: The connection's `~tornado.iostream.IOStream` once connected, else None.
        self.stream: IOStream | None = None
        #: The `~tornado.http1connection.HTTP1Connection` over `stream`, once connected.
        self.connection: HTTP1Connection | None = None
        # What a connect timeout interrupts, for its message.
        self._connect_phase = "while connecting"
        self._handshake_guard: socket.socket | None = None
        # run() reports its own failures through the callback; anything
        # that still escapes is logged by add_future.
        self.io_loop.add_future(asyncio.ensure_future(self.run()), lambda future: future.result())

    async def run(self) -> None:
        """Connect, send the request and read the response."""
        try:
            request = self.request
            #: The request URL split by `urllib.parse.urlsplit`.
            parsed = self.parsed = urlsplit(request.url)
            if parsed.scheme not in ("http", "https"):
                raise ValueError(f"Unsupported url scheme: {request.url}")
            # The netloc may carry user:password@ credentials.
            netloc = parsed.netloc.rpartition("@")[2]
            host, port = httputil.split_host_and_port(netloc)
            if port is None:
                port = 443 if parsed.scheme == "https" else 80
            if re.fullmatch(r"\[.*\]", host):
                host = host[1:-1]  # an IPv6 literal
            #: The host to connect to, without brackets around an IPv6 address.
            self.parsed_hostname = host
            family = socket.AF_UNSPEC if request.allow_ipv6 is not False else socket.AF_INET
            if request.network_interface is not None and not is_valid_ip(request.network_interface):
                # Checked before connecting: binding to a host name would
                # otherwise fail as an obscure lookup error.
                raise ValueError(
                    f"network_interface must be an IP address: {request.network_interface!r}"
                )
            timeout = _first_timeout(request.connect_timeout, request.request_timeout)
            if timeout:
                self._timeout = self.io_loop.add_timeout(
                    self.start_time + timeout, self._on_connect_timeout
                )
            stream = await self._connect(host, port, family, parsed.scheme, timeout)
            if stream is None:
                return  # timed out: the response went out already
            self.stream = stream
            stream.set_close_callback(self.on_connection_close)
            self._remove_timeout()
            if request.request_timeout:
                self._timeout = self.io_loop.add_timeout(
                    self.start_time + request.request_timeout,
                    functools.partial(self._on_timeout, "during request"),
                )
            self._check_request(request)
            headers = self._prepare_headers(request, parsed.netloc)
            path = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
            self.connection = self._create_connection(stream)
            self.connection.write_headers(
                RequestStartLine(request.method, path, "HTTP/1.1"), headers
            )
            if request.expect_100_continue:
                # The body goes out when the 100 Continue arrives.
                await self.connection.read_response(self)
            else:
                await self._write_body(True)
        except Exception:
            if not self._handle_exception(*sys.exc_info()):
                raise

    async def _connect(
        self, host: str, port: int, family: socket.AddressFamily, scheme: str, timeout: float | None
    ) -> IOStream | None:
        """Resolve, connect and (for https) run the TLS handshake, one
        phase after the other so that a timeout can name the phase it
        interrupted.  Returns None when the connect timeout passed."""
        ssl_options = self._get_ssl_options(scheme)
        self._connect_phase = f"while resolving {host}"
        addresses = await self.tcp_client.resolver.resolve(host, port, family)
        if self.final_callback is None:
            return None
        self._connect_phase = "while connecting"
        # The addresses found are raced as TCPClient does (happy eyeballs);
        # the same deadline closes connection attempts that outlive it.
        tcp_client = TCPClient(resolver=_ResolvedAddresses(addresses))
        stream = await tcp_client.connect(
            host,
            port,
            af=family,
            max_buffer_size=self.max_buffer_size,
            source_ip=self.request.network_interface,
            timeout=self.start_time + timeout - self.io_loop.time() if timeout else None,
        )
        if self.final_callback is None:
            stream.close()
            return None
        if ssl_options is None:
            return stream
        self._connect_phase = f"during TLS handshake with {host}:{port}"
        # The TLS stream taking the socket over is out of reach until its
        # handshake completes; a duplicate of the socket lets a timeout
        # shut the connection down meanwhile (a silent peer would otherwise
        # keep it open forever).
        self._handshake_guard = stream.socket.dup()
        try:
            tls_stream = await stream.start_tls(
                False, ssl_options=ssl_options, server_hostname=host
            )
        finally:
            self._handshake_guard.close()
            self._handshake_guard = None
        if self.final_callback is None:
            tls_stream.close()
            return None
        return tls_stream

    def _on_connect_timeout(self) -> None:
        guard = self._handshake_guard
        if guard is not None:
            try:
                guard.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the connection is gone already
        self._on_timeout(self._connect_phase)

    def _check_request(self, request: HTTPRequest) -> None:
        if request.method not in self._SUPPORTED_METHODS and not request.allow_nonstandard_methods:
            raise KeyError(f"unknown method {request.method}")
        for option in ("proxy_host", "proxy_port", "proxy_username", "proxy_auth_mode"):
            if getattr(request, option, None):
                raise NotImplementedError(f"{option} not supported")
        if not request.allow_nonstandard_methods:
            body_expected = request.method in ("POST", "PATCH", "PUT")
            body_present = request.body is not None or request.body_producer is not None
            if body_expected != body_present:
                raise ValueError(
                    "Body must {}be None for method {} (unless allow_nonstandard_methods "
                    "is true)".format("not " if body_expected else "", request.method)
                )

    def _prepare_headers(self, request: HTTPRequest, netloc: str) -> HTTPHeaders:
        headers = request.headers
        if "Connection" not in headers:
            headers["Connection"] = "close"
        if "Host" not in headers:
            headers["Host"] = netloc.rpartition("@")[2]
        username: str | None
        password: str | None
        if "@" in netloc:
            parts = urlsplit(request.url)
            username, password = parts.username, parts.password or ""
        elif request.auth_username is not None:
            username, password = request.auth_username, request.auth_password or ""
        else:
            username = password = None
        if username is not None:
            assert password is not None
            if request.auth_mode not in (None, "basic"):
                raise ValueError(f"unsupported auth_mode {request.auth_mode}")
            credentials = httputil.encode_username_password(username, password)
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
        if request.user_agent:
            headers["User-Agent"] = request.user_agent
        elif "User-Agent" not in headers:
            headers["User-Agent"] = _DEFAULT_USER_AGENT
        if request.expect_100_continue:
            headers["Expect"] = "100-continue"
        if request.body is not None:
            headers["Content-Length"] = str(len(request.body))
        if request.method == "POST" and "Content-Type" not in headers:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if request.decompress_response:
            headers["Accept-Encoding"] = "gzip"
        return headers

    def _get_ssl_options(self, scheme: str) -> ssl.SSLContext | dict[str, Any] | None:
        if scheme != "https":
            return None
        request = self.request
        if request.ssl_options is not None:
            return request.ssl_options
        if (
            request.validate_cert
            and request.ca_certs is None
            and request.client_cert is None
            and request.client_key is None
        ):
            # The shared default context: building one loads the CA store.
            return _client_ssl_defaults()
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=request.ca_certs)
        if not request.validate_cert:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if request.client_cert is not None:
            context.load_cert_chain(request.client_cert, request.client_key)
        return context

    def _create_connection(self, stream: IOStream) -> HTTP1Connection:
        stream.set_nodelay(True)
        params = HTTP1ConnectionParameters(
            no_keep_alive=True,
            max_header_size=self.max_header_size,
            max_body_size=self.max_body_size,
            decompress=bool(self.request.decompress_response),
        )
        # No context: malformed responses are logged "from None", as
        # Tornado's client does.
        return HTTP1Connection(stream, True, params, None)

    async def _write_body(self, start_read: bool) -> None:
        connection = self.connection
        assert connection is not None
        request = self.request
        if request.body is not None:
            connection.write(request.body)
        elif request.body_producer is not None:
            result = request.body_producer(connection.write)
            if result is not None:
                await result
        connection.finish()
        if start_read:
            if self.stream is not None:
                # From here on the read reports a lost connection itself; a
                # close noticed while the delegate is busy (an awaited
                # streaming_callback) must not fail a response whose bytes
                # are all buffered already.
                self.stream.set_close_callback(None)
            try:
                await connection.read_response(self)
            except StreamClosedError:
                if not self._handle_exception(*sys.exc_info()):
                    raise

    def _remove_timeout(self) -> None:
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None

    def _on_timeout(self, info: str | None = None) -> None:
        self._timeout = None
        message = f"Timeout {info}" if info else "Timeout"
        if self.final_callback is not None:
            error = HTTPTimeoutError(message)
            self._handle_exception(HTTPTimeoutError, error, None)

    def _release(self) -> None:
        callback = self.release_callback
        if callback is not None:
            self.release_callback = None
            callback()

    def _run_callback(self, response: HTTPResponse) -> None:
        self._release()
        callback = self.final_callback
        if callback is not None:
            self.final_callback = None
            self.io_loop.add_callback(callback, response)

    def _handle_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if self.final_callback is None:
            # The response went out already (a timeout, say); what follows
            # is the connection, or the attempt to make one, being torn down
            # (a TLS handshake cut short fails with an SSLError, an OSError).
            return isinstance(value, StreamClosedError | OSError)
        self._remove_timeout()
        if isinstance(value, StreamClosedError):
            value = (
                value.real_error
                if value.real_error is not None
                else HTTPStreamClosedError("Stream closed")
            )
        elif isinstance(value, HTTPInputError):
            value = HTTPClientError(599, message=f"Invalid HTTP response: {value}")
        self._run_callback(
            HTTPResponse(
                self.request,
                599,
                error=value,
                request_time=self.io_loop.time() - self.start_time,
                start_time=self.start_wall_time,
            )
        )
        if self.stream is not None:
            self.stream.close()
        return True

    def on_connection_close(self) -> None:
        """Fail the request if the connection closes before its end."""
        if self.final_callback is not None:
            stream = self.stream
            error: BaseException = HTTPStreamClosedError("Connection closed")
            if stream is not None and stream.error is not None:
                error = stream.error
            self._handle_exception(type(error), error, None)

    async def headers_received(
        self,
        first_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
    ) -> None:
        """Record the status and headers (or send the body on 100 Continue)."""
        assert isinstance(first_line, ResponseStartLine)
        if self.request.expect_100_continue and first_line.code == 100:
            await self._write_body(False)
            return
        if first_line.code < 200:
            return  # other interim responses are skipped
        self.code = first_line.code
        self.reason = first_line.reason
        self.headers = headers
        if self._should_follow_redirect():
            return
        callback = self.request.header_callback
        if callback is not None:
            # The head line by line, as curl reports it.
            callback("{} {} {}\r\n".format(*first_line))
            for name, value in headers.get_all():
                callback(f"{name}: {value}\r\n")
            callback("\r\n")

    def _should_follow_redirect(self) -> bool:
        request = self.request
        if not request.follow_redirects:
            return False
        return (
            self.code in (301, 302, 303, 307, 308)
            and (request.max_redirects or 0) > 0
            and self.client is not None
            and self.headers is not None
            and self.headers.get("Location") is not None
        )

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        """Collect (or stream to ``streaming_callback``) a piece of the body.

        A ``streaming_callback`` that returns an awaitable (a coroutine
        function) is awaited before the next piece is read.
        """
        if self._should_follow_redirect():
            return None  # the body of a redirect is not wanted
        if self.request.streaming_callback is not None:
            result = self.request.streaming_callback(chunk)
            if inspect.isawaitable(result):
                return cast(Awaitable[None], result)
            return None
        self.chunks.append(chunk)
        return None

    def finish(self) -> None:
        """Deliver the response, or follow the redirect it asks for."""
        assert self.code is not None
        self._remove_timeout()
        request = self.request
        # Set on the request a redirect made (see _follow_redirect).
        original_request = getattr(request, "original_request", None) or request
        if isinstance(original_request, _RequestProxy):
            original_request = original_request.request
        if self._should_follow_redirect():
            self._follow_redirect(original_request)
            return
        buffer = io.BytesIO() if request.streaming_callback else io.BytesIO(b"".join(self.chunks))
        response = HTTPResponse(
            original_request,
            self.code,
            reason=self.reason,
            headers=self.headers,
            request_time=self.io_loop.time() - self.start_time,
            start_time=self.start_wall_time,
            buffer=buffer,
            effective_url=request.url,
        )
        self._run_callback(response)
        self._on_end_request()

    def _follow_redirect(self, original_request: HTTPRequest) -> None:
        assert self.headers is not None and self.code is not None
        proxy = self.request
        assert isinstance(proxy, _RequestProxy)
        new_request = copy.copy(proxy.request)
        # A private copy: the new request's headers change below.
        new_request.headers = HTTPHeaders(proxy.request.headers)
        new_request.url = urljoin(proxy.url, self.headers["Location"])
        new_request.max_redirects = (proxy.max_redirects or 0) - 1
        del new_request.headers["Host"]
        method = proxy.method
        if (self.code == 303 and method != "HEAD") or (
            self.code in (301, 302) and method == "POST"
        ):
            # RFC 9110 15.4: 303 means "GET the result"; user agents turn
            # POST into GET on 301/302 too.
            new_request.method = "GET"
            new_request.body = None
            new_request.body_producer = None
            for name in ("Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding"):
                new_request.headers.pop(name, None)
        if _origin(new_request.url) != _origin(proxy.url):
            # Credentials are for the origin they were given for only.
            for name in ("Authorization", "Cookie"):
                new_request.headers.pop(name, None)
            new_request.auth_username = None
            new_request.auth_password = None
        new_request.original_request = original_request  # type: ignore[attr-defined]
        final_callback = self.final_callback
        assert final_callback is not None
        self.final_callback = None
        self._release()
        assert self.client is not None
        future = self.client.fetch(new_request, raise_error=False)
        future.add_done_callback(lambda f: self._redirect_done(f, final_callback))
        self._on_end_request()

    def _redirect_done(self, future: Any, final_callback: _Callback) -> None:
        error = future.exception()
        if error is not None:
            response = HTTPResponse(
                self.request,
                599,
                error=error,
                request_time=self.io_loop.time() - self.start_time,
                start_time=self.start_wall_time,
            )
        else:
            response = future.result()
        final_callback(response)

    def _on_end_request(self) -> None:
        if self.stream is not None:
            self.stream.close()
