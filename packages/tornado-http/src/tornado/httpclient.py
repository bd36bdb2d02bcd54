"""HTTP client interfaces: non-blocking `AsyncHTTPClient` and blocking `HTTPClient`.

`AsyncHTTPClient` is a `~tornado.util.Configurable` interface whose default
implementation is `tornado.simple_httpclient.SimpleAsyncHTTPClient`; the
libcurl-based `tornado.curl_httpclient.CurlAsyncHTTPClient` can be chosen
with::

    AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")

Typical use::

    async def get_page(url):
        response = await AsyncHTTPClient().fetch(url)
        return response.body

`HTTPRequest` describes a request with all its options, `HTTPResponse` the
result; non-2xx answers raise `HTTPClientError` unless ``raise_error=False``
is given to `AsyncHTTPClient.fetch`.
"""

from __future__ import annotations

import datetime
import functools
import io
import ssl
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, cast

from tornado import version
from tornado.concurrent import (
    Future,
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
)
from tornado.escape import native_str, utf8
from tornado.httputil import HTTPHeaders, format_timestamp, responses
from tornado.ioloop import IOLoop
from tornado.util import Configurable

# The User-Agent the clients send by default.
_DEFAULT_USER_AGENT = f"Tornado/{version}"

__all__ = [
    "AsyncHTTPClient",
    "HTTPClient",
    "HTTPClientError",
    "HTTPError",
    "HTTPRequest",
    "HTTPResponse",
    "main",
]


class HTTPClient:
    """A blocking HTTP client, for scripts and tests.

    It runs its own `~tornado.ioloop.IOLoop` in the calling thread for each
    `fetch`, so it must not be used where an event loop is already running
    (use `AsyncHTTPClient` there)::

        client = HTTPClient()
        try:
            print(client.fetch("http://www.example.com/").body)
        except HTTPError as e:
            print("Error:", e)
        finally:
            client.close()

    ``async_client_class`` (default `AsyncHTTPClient`) and ``kwargs`` are
    used to build the underlying asynchronous client.

    .. versionchanged:: 5.0
       Raises `RuntimeError` when constructed while an event loop runs in
       this thread.
    """

    def __init__(
        self,
        async_client_class: type[AsyncHTTPClient] | None = None,
        **kwargs: Any,
    ) -> None:
        """Create the private loop and the asynchronous client."""
        # Set first, so __del__ works even when the constructor fails.
        self._closed = True
        self._io_loop = IOLoop(make_current=False)
        client_class = async_client_class if async_client_class is not None else AsyncHTTPClient

        async def make_client() -> AsyncHTTPClient:
            # Built inside the loop, so IOLoop.current() is the private one.
            client: AsyncHTTPClient = client_class(**kwargs)
            return client

        self._async_client: AsyncHTTPClient = self._io_loop.run_sync(make_client)
        self._closed = False

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the client and its loop (harmless to call twice)."""
        if not self._closed:
            self._async_client.close()
            self._io_loop.close()
            self._closed = True

    def fetch(self, request: HTTPRequest | str, **kwargs: Any) -> HTTPResponse:
        """Run a request and return its `HTTPResponse`.

        ``request`` is an `HTTPRequest` or a URL; ``kwargs`` build an
        `HTTPRequest` from a URL.  Raises `HTTPError` for a non-2xx answer
        (unless ``raise_error=False``) and the errors of the transport
        (`OSError`, timeouts as `HTTPClientError` with code 599).
        """
        response: HTTPResponse = self._io_loop.run_sync(
            functools.partial(self._async_client.fetch, request, **kwargs)
        )
        return response


class AsyncHTTPClient(Configurable):
    """A non-blocking HTTP client.

    Constructing ``AsyncHTTPClient()`` returns the same instance for every
    call on one `~tornado.ioloop.IOLoop` (a per-loop cache), unless
    ``force_instance=True`` asks for a private one, which must then be
    closed.  Arguments other than ``force_instance`` only matter when an
    instance is actually created, so configure shared clients with
    `configure`::

        AsyncHTTPClient.configure(None, max_clients=100)

    ``defaults`` is a dict of `HTTPRequest` attributes used when a request
    leaves them unset.
    """

    _instance_cache: weakref.WeakKeyDictionary[IOLoop, AsyncHTTPClient] | None

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        """`AsyncHTTPClient` is its own configurable base."""
        return AsyncHTTPClient

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        """`~tornado.simple_httpclient.SimpleAsyncHTTPClient`."""
        from tornado.simple_httpclient import SimpleAsyncHTTPClient

        return SimpleAsyncHTTPClient

    @classmethod
    def _async_clients(cls) -> weakref.WeakKeyDictionary[IOLoop, AsyncHTTPClient]:
        # One cache per class, so AsyncHTTPClient() and an explicitly named
        # implementation do not hand out each other's instances.
        attr_name = "_async_client_dict_" + cls.__name__
        cache: weakref.WeakKeyDictionary[IOLoop, AsyncHTTPClient] | None = cls.__dict__.get(
            attr_name
        )
        if cache is None:
            cache = weakref.WeakKeyDictionary()
            setattr(cls, attr_name, cache)
        return cache

    def __new__(cls, force_instance: bool = False, **kwargs: Any) -> Any:
        """Return the cached instance of the current loop, or build one."""
        io_loop = IOLoop.current()
        instance_cache = None if force_instance else cls._async_clients()
        if instance_cache is not None and io_loop in instance_cache:
            return instance_cache[io_loop]
        instance = super().__new__(cls, **kwargs)
        # Configurable.__new__ may build a subclass with its own cache
        # name; remember which cache holds this instance, to leave it on close.
        instance._instance_cache = instance_cache
        if instance_cache is not None:
            instance_cache[instance.io_loop] = instance
        return instance

    def initialize(self, defaults: dict[str, Any] | None = None) -> None:
        """Set up the client; ``defaults`` override `HTTPRequest`'s defaults."""
        #: The `~tornado.ioloop.IOLoop` this client belongs to (one instance per loop unless ``force_instance``).
        self.io_loop = IOLoop.current()
        self.defaults = dict(HTTPRequest._DEFAULTS)
        if defaults is not None:
            self.defaults.update(defaults)
        self._closed = False

    def close(self) -> None:
        """Free the client's resources.

        Only needed for clients made with ``force_instance=True`` (shared
        instances live as long as their loop).  After closing, `fetch`
        raises `RuntimeError`.
        """
        if self._closed:
            return
        self._closed = True
        if self._instance_cache is not None:
            cached = self._instance_cache.pop(self.io_loop, None)
            # The cache may already hold a newer instance for this loop
            # (made after this one was closed and dropped): leave it.
            if cached is not None and cached is not self:
                self._instance_cache[self.io_loop] = cached

    def fetch(
        self,
        request: HTTPRequest | str,
        raise_error: bool = True,
        **kwargs: Any,
    ) -> Future[HTTPResponse]:
        """Run a request; return a future for its `HTTPResponse`.

        ``request`` is an `HTTPRequest` or a URL string, in which case
        ``kwargs`` are `HTTPRequest` arguments.  With ``raise_error`` (the
        default) a non-2xx response fails the future with `HTTPClientError`
        (its ``response`` attribute holds the response); with
        ``raise_error=False`` the response is returned whatever its code.
        Errors other than a response code (a refused connection, a timeout,
        a malformed response) always fail the future.

        Raises `RuntimeError` on a closed client and `ValueError` when
        ``kwargs`` are given with an `HTTPRequest`.

        .. versionchanged:: 6.0
           The ``callback`` argument is gone; ``raise_error=False`` only
           suppresses errors for non-2xx response codes.
        """
        if self._closed:
            raise RuntimeError("fetch() called on closed AsyncHTTPClient")
        if not isinstance(request, HTTPRequest):
            request = HTTPRequest(url=request, **kwargs)
        elif kwargs:
            raise ValueError("kwargs can't be used if request is an HTTPRequest object")
        # A private copy of the headers: the client adds its own.
        request.headers = HTTPHeaders(request.headers)
        request_proxy = _RequestProxy(request, self.defaults)
        future: Future[HTTPResponse] = Future()

        def handle_response(response: HTTPResponse) -> None:
            if response.error is not None and (raise_error or not response._error_is_response_code):
                future_set_exception_unless_cancelled(future, response.error)
                return
            future_set_result_unless_cancelled(future, response)

        self.fetch_impl(cast(HTTPRequest, request_proxy), handle_response)
        return future

    def fetch_impl(self, request: HTTPRequest, callback: Callable[[HTTPResponse], None]) -> None:
        """Run ``request`` and call ``callback`` with its `HTTPResponse`;
        implementations override this."""
        raise NotImplementedError()

    @classmethod
    def configure(cls, impl: str | type[Configurable] | None, **kwargs: Any) -> None:
        """Choose the implementation built by ``AsyncHTTPClient()`` and the
        keyword arguments it gets (``max_clients``, ``defaults``, ...).

        ``impl`` is a subclass, its dotted name, or None for the default
        (`~tornado.simple_httpclient.SimpleAsyncHTTPClient`)::

            AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")
        """
        super().configure(impl, **kwargs)


class HTTPRequest:
    """One HTTP request for a client to run.

    All arguments but ``url`` are optional; the ones left None take the
    client's defaults (see `AsyncHTTPClient`).

    :arg url: the URL to fetch.
    :arg method: the HTTP method ("GET" by default).
    :arg headers: extra request headers (`~tornado.httputil.HTTPHeaders`
        or a dict).
    :arg body: the request body (`str`, encoded as UTF-8, or `bytes`).
    :arg body_producer: instead of ``body``, a callable that receives a
        ``write`` function and may return an awaitable; it writes the body
        in pieces (set ``Content-Length`` or the body is sent chunked).
    :arg auth_username: user name for HTTP authentication.
    :arg auth_password: password for HTTP authentication.
    :arg auth_mode: ``"basic"`` (the default) or, with curl, ``"digest"``.
    :arg connect_timeout: seconds to establish the connection (20).
    :arg request_timeout: seconds for the whole request (20).
    :arg if_modified_since: a `datetime.datetime` or timestamp sent as
        ``If-Modified-Since``.
    :arg follow_redirects: follow 3xx redirects (True).
    :arg max_redirects: most redirects followed (5).
    :arg user_agent: the ``User-Agent`` header.
    :arg decompress_response: ask for and inflate gzip responses (True).
    :arg use_gzip: old name of ``decompress_response``.
    :arg network_interface: local address to connect from.
    :arg streaming_callback: called with each piece of the body instead of
        collecting it in ``HTTPResponse.body``.
    :arg header_callback: called with each line of the response head
        (status line, header lines, then ``"\\r\\n"``) instead of building
        ``HTTPResponse.headers``.
    :arg prepare_curl_callback: called with the ``pycurl.Curl`` object
        before the request (curl client only).
    :arg proxy_host: HTTP proxy host (curl client only).
    :arg proxy_port: HTTP proxy port.
    :arg proxy_username: proxy user name.
    :arg proxy_password: proxy password.
    :arg proxy_auth_mode: ``"basic"`` or ``"digest"``.
    :arg allow_nonstandard_methods: allow unknown methods and bodies on
        methods that do not expect them (and no body on POST/PUT/PATCH).
    :arg validate_cert: verify the server's TLS certificate (True).
    :arg ca_certs: file of CA certificates to verify with.
    :arg allow_ipv6: use IPv6 when available (True).
    :arg client_key: file of the client's TLS private key.
    :arg client_cert: file of the client's TLS certificate.
    :arg ssl_options: an `ssl.SSLContext` (or dict) for TLS, overriding
        ``validate_cert``, ``ca_certs``, ``client_key`` and ``client_cert``.
    :arg expect_100_continue: send ``Expect: 100-continue`` and the body
        only after the server's ``100 Continue``.
    """

    _headers: HTTPHeaders
    _body: bytes | None

    #: Defaults for the attributes a request leaves None.
    _DEFAULTS: dict[str, Any] = {
        "connect_timeout": 20.0,
        "request_timeout": 20.0,
        "follow_redirects": True,
        "max_redirects": 5,
        "decompress_response": True,
        "proxy_password": "",
        "allow_nonstandard_methods": False,
        "validate_cert": True,
    }

    def __init__(
        self,
        url: str,
        method: str = "GET",
        headers: HTTPHeaders | dict[str, str] | None = None,
        body: bytes | str | None = None,
        auth_username: str | None = None,
        auth_password: str | None = None,
        auth_mode: str | None = None,
        connect_timeout: float | None = None,
        request_timeout: float | None = None,
        if_modified_since: datetime.datetime | float | None = None,
        follow_redirects: bool | None = None,
        max_redirects: int | None = None,
        user_agent: str | None = None,
        use_gzip: bool | None = None,
        network_interface: str | None = None,
        streaming_callback: Callable[[bytes], None] | None = None,
        header_callback: Callable[[str], None] | None = None,
        prepare_curl_callback: Callable[[Any], None] | None = None,
        proxy_host: str | None = None,
        proxy_port: int | None = None,
        proxy_username: str | None = None,
        proxy_password: str | None = None,
        proxy_auth_mode: str | None = None,
        allow_nonstandard_methods: bool | None = None,
        validate_cert: bool | None = None,
        ca_certs: str | None = None,
        allow_ipv6: bool | None = None,
        client_key: str | None = None,
        client_cert: str | None = None,
        body_producer: Callable[[Callable[[bytes], Awaitable[None]]], Awaitable[None] | None]
        | None = None,
        expect_100_continue: bool = False,
        decompress_response: bool | None = None,
        ssl_options: dict[str, Any] | ssl.SSLContext | None = None,
    ) -> None:
        """Describe a request; see the class docstring for the arguments."""
        self.headers = headers
        if if_modified_since:
            self.headers["If-Modified-Since"] = format_timestamp(if_modified_since)
        self.proxy_host = proxy_host
        self.proxy_port = proxy_port
        self.proxy_username = proxy_username
        self.proxy_password = proxy_password
        self.proxy_auth_mode = proxy_auth_mode
        self.url = url
        self.method = method
        self.body = body
        self.body_producer = body_producer
        self.auth_username = auth_username
        self.auth_password = auth_password
        self.auth_mode = auth_mode
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self.decompress_response = (
            decompress_response if decompress_response is not None else use_gzip
        )
        self.network_interface = network_interface
        self.streaming_callback = streaming_callback
        self.header_callback = header_callback
        self.prepare_curl_callback = prepare_curl_callback
        self.allow_nonstandard_methods = allow_nonstandard_methods
        self.validate_cert = validate_cert
        self.ca_certs = ca_certs
        self.allow_ipv6 = allow_ipv6
        self.client_key = client_key
        self.client_cert = client_cert
        self.ssl_options = ssl_options
        self.expect_100_continue = expect_100_continue
        #: `time.time` when the request object was created.
        self.start_time = time.time()
        # A request made to follow a redirect also carries
        # ``original_request``, the request the chain started with.

    @property
    def headers(self) -> HTTPHeaders:
        """The request headers: the `~tornado.httputil.HTTPHeaders` or dict
        given (an empty `~tornado.httputil.HTTPHeaders` for None).

        The mapping is kept as given, so a caller reads back what it set;
        `AsyncHTTPClient.fetch` works on an `~tornado.httputil.HTTPHeaders`
        copy of it.
        """
        return self._headers

    @headers.setter
    def headers(self, value: HTTPHeaders | dict[str, str] | None) -> None:
        # A dict is stored as it is (Tornado's contract: "HTTPHeaders or
        # dict"); every client converts before it reads names case-blind.
        self._headers = HTTPHeaders() if value is None else value  # type: ignore[assignment]

    @property
    def body(self) -> bytes:
        """The request body as bytes (None when there is none; a `str`
        assigned is encoded as UTF-8)."""
        return self._body  # type: ignore[return-value]

    @body.setter
    def body(self, value: bytes | str | None) -> None:
        self._body = utf8(value)


class HTTPResponse:
    """The response to an `HTTPRequest`.

    Attributes:

    * ``request``: the `HTTPRequest` (the original one, when redirects
      were followed).
    * ``code``: the status code (599 for errors without a response).
    * ``reason``: the reason phrase.
    * ``headers``: an `~tornado.httputil.HTTPHeaders`.
    * ``effective_url``: the URL finally fetched, after redirects.
    * ``buffer``: the body as an `io.BytesIO`; ``body`` is its bytes,
      read on first access.
    * ``error``: the exception for a failed request (an `HTTPClientError`
      for non-2xx codes), or None.
    * ``request_time``: seconds from the start of the request to its end.
    * ``start_time``: when the request started (`time.time`).
    * ``time_info``: a dict of timing phases (curl client only).
    """

    error: BaseException | None = None
    _error_is_response_code = False
    request: HTTPRequest

    def __init__(
        self,
        request: HTTPRequest,
        code: int,
        headers: HTTPHeaders | None = None,
        buffer: io.BytesIO | None = None,
        effective_url: str | None = None,
        error: BaseException | None = None,
        request_time: float | None = None,
        time_info: dict[str, float] | None = None,
        reason: str | None = None,
        start_time: float | None = None,
    ) -> None:
        """Build a response; a ``code`` outside 2xx without an ``error``
        gets an `HTTPClientError` as its error."""
        if isinstance(request, _RequestProxy):
            self.request = request.request
        else:
            self.request = request
        self.code = code
        self.reason = reason or responses.get(code, "Unknown")
        self.headers = headers if headers is not None else HTTPHeaders()
        self.buffer = buffer
        self._body: bytes | None = None
        self.effective_url = effective_url if effective_url is not None else request.url
        self._error_is_response_code = False
        if error is None:
            if code < 200 or code >= 300:
                self._error_is_response_code = True
                self.error = HTTPClientError(code, message=self.reason, response=self)
            else:
                self.error = None
        else:
            self.error = error
        self.start_time = start_time
        self.request_time = request_time
        self.time_info = time_info or {}

    @property
    def body(self) -> bytes:
        """The response body (``b""`` when there is none)."""
        if self.buffer is None:
            return b""
        if self._body is None:
            self._body = self.buffer.getvalue()
        return self._body

    def rethrow(self) -> None:
        """Raise ``error`` if the request failed."""
        if self.error:
            raise self.error

    def __repr__(self) -> str:
        args = ",".join(f"{name}={value!r}" for name, value in sorted(self.__dict__.items()))
        return f"{type(self).__name__}({args})"


class HTTPClientError(Exception):
    """A failed HTTP request.

    ``code`` is the HTTP status code, or 599 when there was no response
    (timeouts, closed connections); ``message`` describes it; ``response``
    is the `HTTPResponse` when there was one.  `AsyncHTTPClient.fetch` raises it for
    non-2xx responses (unless ``raise_error=False``).

    .. versionchanged:: 5.1
       Renamed from ``HTTPError``, which remains as an alias.
    """

    def __init__(
        self, code: int, message: str | None = None, response: HTTPResponse | None = None
    ) -> None:
        """Record the code, message (default: the standard reason) and response."""
        self.code = code
        self.message = message or responses.get(code, "Unknown")
        self.response = response
        super().__init__(code, message, response)

    def __str__(self) -> str:
        return f"HTTP {self.code}: {self.message}"

    # Exceptions are stored in futures; a readable repr helps in logs.
    __repr__ = __str__


#: The old name of `HTTPClientError`.
HTTPError = HTTPClientError


class _RequestProxy:
    """An `HTTPRequest` seen through a dict of defaults: attributes the
    request leaves None come from the defaults."""

    def __init__(self, request: HTTPRequest, defaults: dict[str, Any] | None) -> None:
        self.request = request
        self.defaults = defaults

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.request, name)
        if value is not None:
            return value
        if self.defaults is not None:
            return self.defaults.get(name, None)
        return None


def main() -> None:
    """Fetch the URLs given on the command line and print the responses.

    ``python -m tornado.httpclient [--print_headers] [--print_body=false]
    [--follow_redirects=false] [--validate_cert=false] [--proxy_host=H
    --proxy_port=P] URL...``
    """
    from tornado.options import define, options, parse_command_line

    define("print_headers", type=bool, default=False)
    define("print_body", type=bool, default=True)
    define("follow_redirects", type=bool, default=True)
    define("validate_cert", type=bool, default=True)
    define("proxy_host", type=str)
    define("proxy_port", type=int)
    args = parse_command_line()
    client = HTTPClient()
    try:
        for arg in args:
            try:
                response = client.fetch(
                    arg,
                    follow_redirects=options.follow_redirects,
                    validate_cert=options.validate_cert,
                    proxy_host=options.proxy_host,
                    proxy_port=options.proxy_port,
                )
            except HTTPError as e:
                if e.response is None:
                    raise
                response = e.response
            if options.print_headers:
                print(response.headers)
            if options.print_body:
                print(native_str(response.body))
    finally:
        client.close()


if __name__ == "__main__":
    main()
