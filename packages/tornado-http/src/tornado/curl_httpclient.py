"""An `~tornado.httpclient.AsyncHTTPClient` built on libcurl (through pycurl).

Install the optional extra to use it (``pip install tornado-http[curl]``)
and choose it once at start-up::

    AsyncHTTPClient.configure("tornado.curl_httpclient.CurlAsyncHTTPClient")

Importing this module without pycurl raises `ImportError`.

Compared with `~tornado.simple_httpclient.SimpleAsyncHTTPClient` it
supports HTTP proxies (``proxy_host``, ``proxy_port``, ``proxy_username``,
``proxy_password``, ``proxy_auth_mode``), digest authentication, choosing
the local interface by name, ``prepare_curl_callback`` and keep-alive
connection reuse; `~tornado.httpclient.HTTPResponse.time_info` holds
libcurl's timings.  ``body_producer`` and ``ssl_options`` are not
supported (requests using them fail with `ValueError`).

libcurl runs inside the `~tornado.ioloop.IOLoop`: its sockets are watched
with `~tornado.ioloop.IOLoop.add_handler` and its timers scheduled with
`~tornado.ioloop.IOLoop.add_timeout`, so no threads are involved.
"""

from __future__ import annotations

import collections
import functools
import inspect
import io
import logging
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pycurl  # type: ignore[import-untyped]

from tornado import gen
from tornado._abnf import ABNF
from tornado.escape import native_str, utf8
from tornado.httpclient import (
    AsyncHTTPClient,
    HTTPClientError,
    HTTPRequest,
    HTTPResponse,
)
from tornado.httputil import HTTPHeaders, HTTPInputError, _parse_client_status_line
from tornado.ioloop import IOLoop
from tornado.log import app_log, gen_log

__all__ = ["CurlAsyncHTTPClient", "CurlError"]

#: The logger of this module; libcurl's verbose output goes here at DEBUG level.
curl_log = logging.getLogger("tornado.curl_httpclient")

_Callback = Callable[[HTTPResponse], None]

# The limit on a response body when the client is given none (as
# SimpleAsyncHTTPClient's): a response that has to be held in memory, or a
# small compressed one that inflates enormously, cannot exhaust it.
_DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024

#: A compiled regex (`bytes`) matching a CR or an LF: no request header line
#: handed to libcurl may contain one (header injection).
CR_OR_LF_RE = ABNF.cr_or_lf

# The User-Agent sent when a request names none (what upstream sends).
_CURL_USER_AGENT = "Mozilla/5.0 (compatible; pycurl)"

# Methods libcurl knows as such; every other one goes out as CURLOPT_CUSTOMREQUEST.
_METHOD_OPTIONS: dict[str, int] = {
    "GET": pycurl.HTTPGET,
    "POST": pycurl.POST,
    "PUT": pycurl.UPLOAD,
    "HEAD": pycurl.NOBODY,
}
# Standard methods that need CURLOPT_CUSTOMREQUEST.
_CUSTOM_METHODS = frozenset(("DELETE", "OPTIONS", "PATCH"))

# The IOLoop event mask wanted for each of libcurl's poll requests.
_POLL_EVENTS: dict[int, int] = {
    pycurl.POLL_NONE: IOLoop.NONE,
    pycurl.POLL_IN: IOLoop.READ,
    pycurl.POLL_OUT: IOLoop.WRITE,
    pycurl.POLL_INOUT: IOLoop.READ | IOLoop.WRITE,
}


class CurlError(HTTPClientError):
    """A request that libcurl could not complete (code 599).

    ``errno`` is libcurl's error number (a ``CURLE_*`` value, e.g. 7 for a
    refused connection, 28 for a timeout) and ``message`` libcurl's
    description of the failure.
    """

    def __init__(self, errno: int, message: str) -> None:
        """Record libcurl's error number and message, with code 599."""
        super().__init__(599, message)
        self.errno = errno


class _Transfer:
    """The state of one request while a curl handle runs it."""

    def __init__(
        self,
        request: HTTPRequest,
        callback: _Callback,
        queue_start_time: float,
        start_time: float,
        start_ioloop_time: float,
    ) -> None:
        self.request = request
        self.callback = callback
        self.queue_start_time = queue_start_time
        self.start_time = start_time
        self.start_ioloop_time = start_ioloop_time
        self.headers = HTTPHeaders()
        self.reason: str | None = None
        # Whether libcurl handed over the first status line yet.
        self.status_line_seen = False
        self.buffer: io.BytesIO | None = None
        # An error raised by one of our callbacks inside libcurl; it aborts
        # the transfer and becomes the response's error.
        self.callback_error: BaseException | None = None
        self.streaming: _CurlStreamingBuffer | None = None
        self.body_too_large = False


class _CurlStreamingBuffer:
    """Hands a streamed response body from libcurl to a ``streaming_callback``
    on the IOLoop, with flow control.

    libcurl's WRITEFUNCTION (`write`) only queues the data and schedules
    `flush`; once ``max_buffer_size`` bytes wait for the callback the
    transfer is paused (libcurl keeps the refused chunk and delivers it
    again on resume), and `flush` resumes it after delivering the queue.
    A body growing past the client's ``max_body_size`` (if it has one) is
    refused with a short write, which fails the transfer; ``body_too_large``
    then says why.
    """

    #: Bytes queued for the callback before the transfer is paused.
    max_buffer_size = 1024 * 1024

    def __init__(self, client: Any, curl: Any, callback: Callable[[bytes], None]) -> None:
        """Buffer for ``curl``'s transfer on behalf of ``client`` (which
        provides ``io_loop``, ``_set_timeout``, ``handle_callback_exception``
        and maybe ``max_body_size``)."""
        self._client = client
        self._curl = curl
        self._callback = callback
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._received = 0
        self._flush_scheduled = False
        self.paused = False
        self.body_too_large = False

    def write(self, chunk: bytes) -> int:
        """libcurl's WRITEFUNCTION: queue ``chunk``; return its length, or
        ``pycurl.WRITEFUNC_PAUSE`` when the queue is full, or 0 when the
        body would exceed ``max_body_size``."""
        max_body_size = getattr(self._client, "max_body_size", None)
        if max_body_size is not None and self._received + len(chunk) > max_body_size:
            self.body_too_large = True
            return 0
        if self._buffered >= self.max_buffer_size:
            self.paused = True
            return int(pycurl.WRITEFUNC_PAUSE)
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        self._received += len(chunk)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._client.io_loop.add_callback(self.flush)
        return len(chunk)

    def flush(self) -> None:
        """Deliver the queued chunks to the callback (logging its
        exceptions), then resume a paused transfer."""
        self._flush_scheduled = False
        while self._chunks:
            chunk = self._chunks.popleft()
            self._buffered -= len(chunk)
            try:
                self._callback(chunk)
            except Exception:
                self._client.handle_callback_exception(self._callback)
        if self.paused:
            self.paused = False
            try:
                self._curl.pause(pycurl.PAUSE_CONT)
            except pycurl.error:
                # The transfer failed while paused; its completion reports it.
                return
            # Older libcurl versions do not wake an unpaused transfer up.
            self._client._set_timeout(0)


class CurlAsyncHTTPClient(AsyncHTTPClient):
    """A non-blocking HTTP client driven by libcurl's multi interface.

    :arg max_clients: most requests in flight at once (one curl handle
        each); further requests wait in a queue until a handle is free.
    :arg defaults: defaults for `~tornado.httpclient.HTTPRequest`
        attributes left unset.
    :arg max_body_size: the largest response body accepted, in bytes
        (after decompression, with or without ``streaming_callback``);
        None (the default) means 100 MiB.  A larger body fails the
        request with a `CurlError` that says so; when it was the default
        limit (one the application did not choose) the refusal is also
        logged to ``tornado.general`` at INFO level.

    A ``streaming_callback`` must be a plain function: libcurl hands data
    over from inside its own call, where a coroutine cannot be awaited, so
    a coroutine function is refused with `TypeError`.

    All can be given to `~tornado.httpclient.AsyncHTTPClient.configure`
    or, with ``force_instance=True``, to the constructor.
    """

    def initialize(  # type: ignore[override]
        self,
        max_clients: int = 10,
        defaults: dict[str, Any] | None = None,
        max_body_size: int = 104857600,
    ) -> None:
        """Create the multi handle and ``max_clients`` curl handles;
        responses with bodies over ``max_body_size`` bytes (after
        decompression; 100 MiB by default, None counts as the default)
        fail with a `CurlError`."""
        super().initialize(defaults=defaults)
        if max_body_size is None:
            max_body_size = _DEFAULT_MAX_BODY_SIZE
        # At the default limit the application may not know of it: say so
        # in the log when a response is refused.
        self._default_body_limit = max_body_size == _DEFAULT_MAX_BODY_SIZE
        self.max_body_size = max_body_size
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_TIMERFUNCTION, self._set_timeout)
        self._multi.setopt(pycurl.M_SOCKETFUNCTION, self._handle_socket)
        self._curls: list[Any] = [pycurl.Curl() for _ in range(max_clients)]
        self._free_list: list[Any] = list(self._curls)
        self._requests: collections.deque[tuple[HTTPRequest, _Callback, float]] = (
            collections.deque()
        )
        self._transfers: dict[Any, _Transfer] = {}
        # File descriptors libcurl asked us to watch, with their events.
        self._fds: dict[int, int] = {}
        self._timeout: object | None = None

    def handle_callback_exception(self, callback: Callable[..., Any]) -> None:
        """Called, inside the ``except`` block, when a callback this client
        runs for the application (a ``streaming_callback``) raises: logs the
        exception with its traceback to ``tornado.application``.  Override
        it to handle such errors otherwise."""
        app_log.error("Exception in callback %r", callback, exc_info=True)

    def close(self) -> None:
        """Close every curl handle and the multi handle.

        Requests still queued or running are abandoned: their futures never
        resolve.
        """
        if self._closed:
            return
        super().close()
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None
        for curl in self._curls:
            curl.close()
        self._multi.close()
        # Closing may not report every socket as removed: stop watching them.
        for fd in self._fds:
            self.io_loop.remove_handler(fd)
        self._fds.clear()
        self._transfers.clear()
        self._requests.clear()
        self._free_list.clear()

    def fetch_impl(self, request: HTTPRequest, callback: _Callback) -> None:
        """Queue ``request`` and start it as soon as a curl handle is free.

        Raises `TypeError` for a coroutine function as ``streaming_callback``.
        """
        streaming_callback = request.streaming_callback
        if streaming_callback is not None and (
            gen.is_coroutine_function(streaming_callback)
            or inspect.iscoroutinefunction(streaming_callback)
        ):
            raise TypeError(
                "curl_httpclient cannot await a coroutine streaming_callback; "
                "use a plain function (or SimpleAsyncHTTPClient)"
            )
        self._requests.append((request, callback, self.io_loop.time()))
        self._process_queue()

    # -- libcurl's multi callbacks -------------------------------------

    def _handle_socket(self, event: int, fd: int, multi: Any, data: Any) -> None:
        """libcurl's socket callback: watch ``fd`` for the events it wants."""
        if self._closed:
            return
        if event == pycurl.POLL_REMOVE:
            if fd in self._fds:
                self.io_loop.remove_handler(fd)
                del self._fds[fd]
            return
        events = _POLL_EVENTS[event]
        if fd in self._fds:
            if self._fds[fd] != events:
                self.io_loop.update_handler(fd, events)
        else:
            self.io_loop.add_handler(fd, self._handle_events, events)
        self._fds[fd] = events

    def _set_timeout(self, msecs: int) -> None:
        """libcurl's timer callback: run it after ``msecs`` (-1: cancel).

        libcurl must not be re-entered from its callbacks, so even a zero
        timeout goes through the IOLoop.
        """
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None
        if msecs >= 0 and not self._closed:
            self._timeout = self.io_loop.add_timeout(
                self.io_loop.time() + msecs / 1000.0, self._handle_timeout
            )

    def _handle_events(self, fd: int, events: int) -> None:
        """Tell libcurl that ``fd`` is ready, then collect finished transfers."""
        if self._closed:
            return
        action = 0
        if events & IOLoop.READ:
            action |= pycurl.CSELECT_IN
        if events & IOLoop.WRITE:
            action |= pycurl.CSELECT_OUT
        if events & IOLoop.ERROR:
            action |= pycurl.CSELECT_ERR
        self._socket_action(fd, action)
        self._finish_pending_requests()

    def _handle_timeout(self) -> None:
        """Let libcurl act on its timer, then collect finished transfers."""
        self._timeout = None
        if self._closed:
            return
        self._socket_action(pycurl.SOCKET_TIMEOUT, 0)
        self._finish_pending_requests()
        # libcurl may still want to be called back without having asked
        # through the timer callback (nothing changed from its point of view).
        if self._timeout is None and not self._closed:
            new_timeout = self._multi.timeout()
            if new_timeout >= 0:
                self._set_timeout(new_timeout)

    def _socket_action(self, fd: int, action: int) -> None:
        while True:
            try:
                self._multi.socket_action(fd, action)
            except pycurl.error as e:
                if e.args[0] == pycurl.E_CALL_MULTI_PERFORM:
                    continue  # only very old libcurl versions ask for this
                raise
            return

    # -- queue and completion --------------------------------------------

    def _process_queue(self) -> None:
        """Start queued requests while curl handles are free."""
        while self._free_list and self._requests and not self._closed:
            curl = self._free_list.pop()
            request, callback, queue_start_time = self._requests.popleft()
            transfer = _Transfer(
                request, callback, queue_start_time, time.time(), self.io_loop.time()
            )
            try:
                self._curl_setup_request(curl, request, transfer)
                self._multi.add_handle(curl)
            except Exception as e:
                # Report setup errors through the callback: when called
                # from a finished transfer there is no caller to raise to.
                curl.reset()
                self._free_list.append(curl)
                response = HTTPResponse(
                    request,
                    599,
                    error=e,
                    request_time=self.io_loop.time() - transfer.start_ioloop_time,
                    start_time=transfer.start_time,
                )
                self.io_loop.add_callback(callback, response)
                continue
            self._transfers[curl] = transfer

    def _finish_pending_requests(self) -> None:
        """Report every transfer libcurl says is done, then refill the pool."""
        while not self._closed:
            num_queued, ok_list, err_list = self._multi.info_read()
            for curl in ok_list:
                self._finish(curl)
            for curl, errnum, errmsg in err_list:
                self._finish(curl, errnum, errmsg)
            if num_queued == 0:
                break
        self._process_queue()

    def _finish(self, curl: Any, curl_error: int = 0, curl_message: str | None = None) -> None:
        transfer = self._transfers.pop(curl)
        self._multi.remove_handle(curl)
        request = transfer.request
        buffer = transfer.buffer
        error: BaseException | None = None
        effective_url: str | None
        streaming = transfer.streaming
        if transfer.callback_error is not None:
            error = transfer.callback_error
        elif transfer.body_too_large or (streaming is not None and streaming.body_too_large):
            error = self._body_too_large(transfer)
        elif curl_error:
            error = CurlError(curl_error, curl_message or f"curl error {curl_error}")
        if error is not None:
            code = 599
            effective_url = None
            if buffer is not None:
                buffer.close()
                buffer = None
        else:
            code = curl.getinfo(pycurl.RESPONSE_CODE)
            effective_url = curl.getinfo(pycurl.EFFECTIVE_URL)
            if buffer is not None:
                buffer.seek(0)
        # The phases of the request in seconds, as libcurl measured them
        # (each from the start of the transfer), plus the time spent queued.
        time_info = {
            "queue": transfer.start_ioloop_time - transfer.queue_start_time,
            "namelookup": curl.getinfo(pycurl.NAMELOOKUP_TIME),
            "connect": curl.getinfo(pycurl.CONNECT_TIME),
            "appconnect": curl.getinfo(pycurl.APPCONNECT_TIME),
            "pretransfer": curl.getinfo(pycurl.PRETRANSFER_TIME),
            "starttransfer": curl.getinfo(pycurl.STARTTRANSFER_TIME),
            "total": curl.getinfo(pycurl.TOTAL_TIME),
            "redirect": curl.getinfo(pycurl.REDIRECT_TIME),
        }
        # Drop the references the handle holds to this request's callbacks.
        curl.reset()
        self._free_list.append(curl)
        response = HTTPResponse(
            request=request,
            code=code,
            headers=transfer.headers,
            buffer=buffer,
            effective_url=effective_url,
            error=error,
            reason=transfer.reason,
            request_time=self.io_loop.time() - transfer.start_ioloop_time,
            start_time=transfer.start_time,
            time_info=time_info,
        )
        # Scheduled rather than called, so it runs after the streaming and
        # header callbacks this transfer already scheduled.
        self.io_loop.add_callback(transfer.callback, response)

    def _body_too_large(self, transfer: _Transfer) -> CurlError:
        request = transfer.request
        # libcurl inflates what it was asked to accept: the limit was then
        # crossed by the inflated body (a compressed response may be tiny).
        if request.decompress_response and "Content-Encoding" in transfer.headers:
            reason = "decompressed body too large"
        else:
            reason = "body too large"
        if self._default_body_limit:
            # The application set no limit and may not know of this one.
            gen_log.info(
                "Refused the response from %s: %s (more than the default max_body_size, %d bytes)",
                request.url,
                reason,
                self.max_body_size,
            )
        return CurlError(
            pycurl.E_WRITE_ERROR, f"{reason}: more than max_body_size ({self.max_body_size} bytes)"
        )

    # -- request setup -----------------------------------------------------

    def _curl_setup_request(self, curl: Any, request: HTTPRequest, transfer: _Transfer) -> None:
        """Set every option of ``curl`` for ``request``; raise `ValueError`
        (or `KeyError` for an unknown method) for requests curl cannot run."""
        if request.body_producer is not None:
            raise ValueError("body_producer is not supported by curl_httpclient")
        if request.ssl_options is not None:
            raise ValueError("ssl_options is not supported by curl_httpclient")
        curl.reset()
        curl.setopt(pycurl.URL, utf8(request.url))
        # Only HTTP(S), also when following redirects.
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.NOSIGNAL, 1)
        curl.setopt(pycurl.HTTPHEADER, self._header_lines(request))
        curl.setopt(
            pycurl.HEADERFUNCTION,
            functools.partial(self._curl_header_callback, transfer, request.header_callback),
        )
        if request.streaming_callback is not None:
            transfer.streaming = _CurlStreamingBuffer(self, curl, request.streaming_callback)
            curl.setopt(pycurl.WRITEFUNCTION, transfer.streaming.write)
        else:
            buffer = transfer.buffer = io.BytesIO()
            max_body_size = self.max_body_size

            def write_function(chunk: bytes) -> int:
                if buffer.tell() + len(chunk) > max_body_size:
                    # A short write makes libcurl fail the transfer.
                    transfer.body_too_large = True
                    return 0
                return buffer.write(chunk)

            curl.setopt(pycurl.WRITEFUNCTION, write_function)
        curl.setopt(pycurl.FOLLOWLOCATION, bool(request.follow_redirects))
        if request.max_redirects is not None:
            curl.setopt(pycurl.MAXREDIRS, request.max_redirects)
        if request.connect_timeout:
            curl.setopt(pycurl.CONNECTTIMEOUT_MS, int(1000 * request.connect_timeout))
        if request.request_timeout:
            curl.setopt(pycurl.TIMEOUT_MS, int(1000 * request.request_timeout))
        curl.setopt(pycurl.USERAGENT, utf8(request.user_agent or _CURL_USER_AGENT))
        if request.decompress_response:
            curl.setopt(pycurl.ACCEPT_ENCODING, "gzip,deflate")
        if request.network_interface:
            curl.setopt(pycurl.INTERFACE, request.network_interface)
        self._setup_proxy(curl, request)
        self._setup_tls(curl, request)
        curl.setopt(
            pycurl.IPRESOLVE,
            pycurl.IPRESOLVE_V4 if request.allow_ipv6 is False else pycurl.IPRESOLVE_WHATEVER,
        )
        self._setup_method_and_body(curl, request)
        if request.auth_username is not None:
            if request.auth_mode in (None, "basic"):
                curl.setopt(pycurl.HTTPAUTH, pycurl.HTTPAUTH_BASIC)
            elif request.auth_mode == "digest":
                curl.setopt(pycurl.HTTPAUTH, pycurl.HTTPAUTH_DIGEST)
            else:
                raise ValueError(f"Unsupported auth_mode {request.auth_mode}")
            # RFC 7617: credentials are sent in NFC.
            curl.setopt(pycurl.USERNAME, utf8(_nfc(request.auth_username)))
            curl.setopt(pycurl.PASSWORD, utf8(_nfc(request.auth_password or "")))
            curl_log.debug(
                "%s %s (username: %r)", request.method, request.url, request.auth_username
            )
        else:
            curl_log.debug("%s %s", request.method, request.url)
        if curl_log.isEnabledFor(logging.DEBUG):
            curl.setopt(pycurl.VERBOSE, 1)
            curl.setopt(pycurl.DEBUGFUNCTION, _curl_debug)
        if request.prepare_curl_callback is not None:
            request.prepare_curl_callback(curl)

    @staticmethod
    def _header_lines(request: HTTPRequest) -> list[bytes]:
        """The request's headers as libcurl takes them (latin-1 encoded lines)."""
        lines: list[bytes] = []
        names = set()
        for name, value in request.headers.get_all():
            # "Name:" would remove the header; "Name;" sends it empty.
            line = (f"{name}: {value}" if value else f"{name};").encode("latin-1")
            # A CR or LF would let a value inject headers of its own.
            if CR_OR_LF_RE.search(line) or b"\0" in line:
                raise ValueError(f"Invalid header {name!r}: {value!r}")
            names.add(name.lower())
            lines.append(line)
        if "expect" not in names:
            # libcurl adds "Expect: 100-continue" to large uploads on its own;
            # send it only when the request asks for it.
            lines.append(b"Expect: 100-continue" if request.expect_100_continue else b"Expect:")
        if "pragma" not in names:
            # Older libcurl adds "Pragma: no-cache" when going through a proxy.
            lines.append(b"Pragma:")
        return lines

    @staticmethod
    def _setup_proxy(curl: Any, request: HTTPRequest) -> None:
        if request.proxy_host and request.proxy_port:
            curl.setopt(pycurl.PROXY, request.proxy_host)
            curl.setopt(pycurl.PROXYPORT, request.proxy_port)
            if request.proxy_username:
                if request.proxy_auth_mode in (None, "basic"):
                    curl.setopt(pycurl.PROXYAUTH, pycurl.HTTPAUTH_BASIC)
                elif request.proxy_auth_mode == "digest":
                    curl.setopt(pycurl.PROXYAUTH, pycurl.HTTPAUTH_DIGEST)
                else:
                    raise ValueError(f"Unsupported proxy_auth_mode {request.proxy_auth_mode}")
                curl.setopt(pycurl.PROXYUSERNAME, utf8(request.proxy_username))
                curl.setopt(pycurl.PROXYPASSWORD, utf8(request.proxy_password or ""))
        else:
            # An empty proxy also stops libcurl from reading http_proxy and
            # friends from the environment: only proxy_host names a proxy.
            curl.setopt(pycurl.PROXY, "")

    @staticmethod
    def _setup_tls(curl: Any, request: HTTPRequest) -> None:
        if request.validate_cert:
            curl.setopt(pycurl.SSL_VERIFYPEER, 1)
            curl.setopt(pycurl.SSL_VERIFYHOST, 2)
        else:
            curl.setopt(pycurl.SSL_VERIFYPEER, 0)
            curl.setopt(pycurl.SSL_VERIFYHOST, 0)
        if request.ca_certs is not None:
            curl.setopt(pycurl.CAINFO, request.ca_certs)
        if request.client_cert is not None:
            curl.setopt(pycurl.SSLCERT, request.client_cert)
        if request.client_key is not None:
            curl.setopt(pycurl.SSLKEY, request.client_key)

    @staticmethod
    def _setup_method_and_body(curl: Any, request: HTTPRequest) -> None:
        method = request.method
        if method in _METHOD_OPTIONS:
            curl.setopt(_METHOD_OPTIONS[method], True)
        elif request.allow_nonstandard_methods or method in _CUSTOM_METHODS:
            curl.setopt(pycurl.CUSTOMREQUEST, method)
        else:
            raise KeyError(f"unknown method {method}")
        body_expected = method in ("POST", "PATCH", "PUT")
        body_present = request.body is not None
        if not request.allow_nonstandard_methods and body_expected != body_present:
            raise ValueError(
                "Body must {}be None for method {} (unless allow_nonstandard_methods "
                "is true)".format("not " if body_expected else "", method)
            )
        if not (body_expected or body_present):
            return
        if method == "GET":
            # CURLOPT_HTTPGET cannot carry a body.
            raise ValueError("Body must be None for GET request")
        body = utf8(request.body or b"")
        request_buffer = io.BytesIO(body)

        def seek_function(offset: int, origin: int) -> int:
            # libcurl rewinds the body to send it again (redirects, auth).
            request_buffer.seek(offset, origin)
            return int(pycurl.SEEKFUNC_OK)

        curl.setopt(pycurl.READFUNCTION, request_buffer.read)
        curl.setopt(pycurl.SEEKFUNCTION, seek_function)
        if method == "POST":
            curl.setopt(pycurl.POSTFIELDSIZE, len(body))
        else:
            curl.setopt(pycurl.UPLOAD, True)
            curl.setopt(pycurl.INFILESIZE, len(body))
            if method != "PUT":
                # CURLOPT_UPLOAD means PUT: name the method again.
                curl.setopt(pycurl.CUSTOMREQUEST, method)

    def _curl_header_callback(
        self,
        transfer: _Transfer,
        header_callback: Callable[[str], None] | None,
        header_line_bytes: bytes,
    ) -> int | None:
        """Collect one line of a response head (libcurl's HEADERFUNCTION)."""
        header_line = header_line_bytes.decode("latin-1")
        if header_callback is not None:
            self.io_loop.add_callback(header_callback, header_line)
        stripped = header_line.rstrip("\r\n")
        # The first line, and a line starting with "HTTP/" (which no field
        # name can: "/" is not a tchar), is a status line: of a new response
        # after a 1xx, a followed redirect or a proxy's CONNECT answer.
        if not transfer.status_line_seen or header_line[:5].upper() == "HTTP/":
            transfer.status_line_seen = True
            transfer.headers = HTTPHeaders()
            return self._status_line_received(transfer, stripped)
        if not stripped:
            return None
        try:
            transfer.headers.parse_line(header_line)
        except HTTPInputError as e:
            transfer.callback_error = CurlError(
                pycurl.E_WRITE_ERROR, f"Invalid response header line: {e}"
            )
            return 0  # anything but the line's length aborts the transfer
        return None

    @staticmethod
    def _status_line_received(transfer: _Transfer, line: str) -> int | None:
        """Check a status line libcurl accepted against our clients' one
        rule; abort the transfer (return 0) if it breaks it."""
        if ABNF.libcurl_h2_status_line.fullmatch(line):
            transfer.reason = None  # HTTP/2 and HTTP/3 have no reason phrase
            return None
        try:
            transfer.reason = _parse_client_status_line(line).reason
        except HTTPInputError as e:
            # libcurl reads more than our clients do ("HTTP/1.1 200OK",
            # controls in the reason...): refused here as simple_httpclient
            # refuses it, with the errno libcurl gives the lines it refuses.
            transfer.callback_error = CurlError(
                pycurl.E_UNSUPPORTED_PROTOCOL, f"Invalid HTTP response: {e}"
            )
            return 0  # anything but the line's length aborts the transfer
        return None


def _nfc(text: str | bytes) -> str | bytes:
    """``text`` normalised to NFC (bytes are left alone)."""
    return unicodedata.normalize("NFC", text) if isinstance(text, str) else text


def _curl_debug(debug_type: int, debug_msg: bytes) -> None:
    """Log libcurl's verbose output (DEBUGFUNCTION) to ``curl_log``."""
    prefixes = ("I", "<", ">", "<", ">")
    if debug_type == 0:
        curl_log.debug("%s", native_str(debug_msg.decode("latin-1")).strip())
    elif debug_type in (1, 2):
        for line in debug_msg.decode("latin-1").splitlines():
            curl_log.debug("%s %s", prefixes[debug_type], line)
    elif debug_type == 4:
        curl_log.debug("%s %r", prefixes[debug_type], debug_msg)
