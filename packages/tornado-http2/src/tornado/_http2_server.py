"""The server side of HTTP/2: one connection, many streams, each an `HTTPConnection`.

Strategy: h2 is the sans-IO machine (framing, HPACK, stream states, flow
control windows).  `_ServerConnection` is the thin adapter around it: one
read loop feeds socket bytes to h2 and turns h2's events into calls on each
stream's `HTTPMessageDelegate`; every write an application makes is queued
on its stream and framed by `_ServerConnection._flush`, which runs once per
batch of received bytes or once per loop iteration (``call_soon``), so all
the responses finished in one iteration leave in one socket write.

Flow control both ways:

- request bodies: a chunk is acknowledged to h2 (which opens the peer's
  window again) only once the delegate's ``data_received`` has returned, or
  the awaitable it returned has resolved.  The peer can therefore never have
  more than one stream window (``initial_window_size``) of unconsumed body
  buffered on a stream, nor more than the connection window on the
  connection;
- responses: `_ServerStream.write` queues its chunk and returns a future that
  resolves once the last byte of that chunk has been framed (within the
  peer's window) and handed to the socket, so ``await self.flush()`` waits
  for the window as it waits for the socket on HTTP/1.

Defences (a peer that trips one gets GOAWAY and loses this connection only):

- ``max_concurrent_streams`` (SETTINGS, enforced by h2), header list size
  (SETTINGS_MAX_HEADER_LIST_SIZE, enforced by h2's HPACK decoder on the
  inflated size, which is what defeats HPACK bombs) and at most 64
  CONTINUATION frames per header block (h2's frame buffer);
- token budgets for streams the peer resets before their response ends
  (rapid reset, CVE-2023-44487) and for frames that cost work but carry
  nothing (PING, SETTINGS, PRIORITY, empty DATA, unknown frames): a burst
  far beyond a real client's empties them and earns ENHANCE_YOUR_CALM;
- the read loop stops reading while more than `_OUTPUT_HIGH_WATER` bytes of
  our output wait on the socket, so a peer that floods PINGs or SETTINGS
  without reading our acknowledgements is throttled by TCP, not buffered;
- a response blocked by a zero flow-control window for
  ``flow_control_timeout`` seconds ends the connection with
  ENHANCE_YOUR_CALM (a peer that never opens its window holds the
  handler, its buffers and the stream slot forever otherwise).
"""

from __future__ import annotations

import asyncio
import socket
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from tornado import gen
from tornado._http2_common import (
    CANCEL,
    ENHANCE_YOUR_CALM,
    INTERNAL_ERROR,
    NO_ERROR,
    REFUSED_STREAM,
    Budget,
    goaway_frame,
    response_header_list,
)
from tornado.httpserver import _proxied_address
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    HTTPOutputError,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.log import app_log, gen_log

if TYPE_CHECKING:
    from tornado.http2 import HTTP2Server

#: Stop reading from the peer while this many bytes of ours wait on the socket.
_OUTPUT_HIGH_WATER = 1 << 20

#: After our GOAWAY, how long and how much we keep reading (and dropping)
#: before the socket closes.
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 4 << 20

#: Events that cost a little work and carry no request.
_CONTROL_EVENTS = (
    h2.events.PriorityUpdated,
    h2.events.UnknownFrameReceived,
    h2.events.TrailersReceived,
)

#: Most of a request body read and dropped after its response is complete.
_DISCARD_LIMIT = 1 << 20

#: Rapid-reset budget: streams the peer may reset before their response
#: ends, in a burst, and per second after it.
_RESET_BURST = 200
_RESET_PER_SECOND = 100.0

#: Budget for frames that make us work without carrying a request.
_CONTROL_BURST = 1000
_CONTROL_PER_SECOND = 100.0

#: Tasks started here (body delivery, closing writes): held until done, as
#: the event loop keeps only weak references to tasks.
_tasks: set[asyncio.Future[Any]] = set()


def _spawn(awaitable: Awaitable[Any]) -> None:
    task = gen.convert_yielded(awaitable)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def _done_future() -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_result(None)
    return future


def _failed_future() -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_exception(StreamClosedError())
    # Nobody may wait for it (``finish`` ignores its flush): not "never retrieved".
    future.exception()
    return future


class _ServerParams:
    """What every connection of one `HTTP2Server` needs, gathered once."""

    __slots__ = (
        "body_timeout",
        "connection_window_size",
        "decompress",
        "delegate",
        "flow_control_timeout",
        "idle_timeout",
        "initial_window_size",
        "max_body_size",
        "max_concurrent_streams",
        "max_header_list_size",
        "protocol",
        "read_chunk_size",
        "trusted_downstream",
        "xheaders",
    )

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    delegate: HTTPServerConnectionDelegate | Callable[[HTTPServerRequest], Any]
    xheaders: bool
    trusted_downstream: frozenset[str]
    protocol: str | None
    decompress: bool
    max_body_size: int | None
    body_timeout: float | None
    idle_timeout: float
    read_chunk_size: int
    max_concurrent_streams: int
    max_header_list_size: int
    initial_window_size: int
    connection_window_size: int
    flow_control_timeout: float


class _RequestContext:
    """What one request knows of its connection (``request.remote_ip`` and
    ``request.protocol`` are read from it), per stream so that ``xheaders``
    of concurrent streams cannot mix."""

    __slots__ = ("address", "protocol", "remote_ip")

    def __init__(self, address: Any, remote_ip: str, protocol: str) -> None:
        self.address = address
        self.remote_ip = remote_ip
        self.protocol = protocol

    def __str__(self) -> str:
        if isinstance(self.address, tuple) and self.address:
            return str(self.address[0])
        return str(self.address)

    def apply_xheaders(self, headers: HTTPHeaders, trusted: frozenset[str]) -> None:
        """Take the client address and scheme from proxy headers, as
        `~tornado.httpserver.HTTPServer` does with ``xheaders``."""
        self.remote_ip, self.protocol = _proxied_address(
            headers, self.remote_ip, self.protocol, trusted
        )


class _CallableDelegate(HTTPMessageDelegate):
    """Buffers a request and hands it to a plain request callback."""

    def __init__(
        self, callback: Callable[[HTTPServerRequest], Any], connection: _ServerStream
    ) -> None:
        self.callback = callback
        self.connection = connection
        self.request: HTTPServerRequest | None = None
        self.chunks: list[bytes] = []

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> None:
        assert isinstance(start_line, RequestStartLine)
        self.request = HTTPServerRequest(
            connection=self.connection,
            start_line=start_line,
            headers=headers,
            server_connection=self.connection.server_connection,
        )

    def data_received(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def finish(self) -> None:
        request = self.request
        assert request is not None
        if self.chunks:
            request.body = b"".join(self.chunks)
            self.chunks = []
            # HTTPServerRequest's body parsing is reached through the public
            # helper, as a plain callback would do it itself.
            from tornado.httputil import parse_body_arguments

            parse_body_arguments(
                request.headers.get("Content-Type", ""),
                request.body,
                request.body_arguments,
                request.files,
                request.headers,
            )
            for name, values in request.body_arguments.items():
                request.arguments.setdefault(name, []).extend(values)
        self.callback(request)

    def on_connection_close(self) -> None:
        self.chunks = []


class _GzipDelegate(HTTPMessageDelegate):
    """Inflates a ``Content-Encoding: gzip`` request body (``decompress_request``).

    The inflated size is bounded by the stream's ``max_body_size``: a
    decompression bomb is answered 413 like any oversized body.
    """

    def __init__(self, delegate: HTTPMessageDelegate, stream: _ServerStream) -> None:
        self.delegate = delegate
        self.stream = stream
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.inflated = 0

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> Awaitable[None] | None:
        # The application sees the body as it will receive it: inflated.
        headers.add("X-Consumed-Content-Encoding", headers["Content-Encoding"])
        del headers["Content-Encoding"]
        if "Content-Length" in headers:
            del headers["Content-Length"]
        return self.delegate.headers_received(start_line, headers)

    async def _deliver(self, chunk: bytes) -> None:
        while chunk:
            piece = self.inflater.decompress(chunk, self.stream.chunk_size)
            chunk = self.inflater.unconsumed_tail
            if piece:
                self.inflated += len(piece)
                if self.inflated > self.stream.max_body_size:
                    raise HTTPInputError("inflated request body too large")
                result = self.delegate.data_received(piece)
                if result is not None:
                    await result

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self._deliver(chunk)

    def finish(self) -> None:
        tail = self.inflater.flush()
        if tail:
            self.inflated += len(tail)
            if self.inflated > self.stream.max_body_size:
                raise HTTPInputError("inflated request body too large")
            result = self.delegate.data_received(tail)
            if result is not None:
                _spawn(self._finish_after(result))
                return
        self.delegate.finish()

    async def _finish_after(self, pending: Awaitable[None]) -> None:
        await pending
        self.delegate.finish()

    def on_connection_close(self) -> None:
        self.delegate.on_connection_close()


class _ServerStream(HTTPConnection):
    """One HTTP/2 stream as the `HTTPConnection` of one request.

    ``context`` carries the peer address and scheme (``xheaders`` applied),
    ``stream`` is the connection's `IOStream` (for
    ``request.get_ssl_certificate``).
    """

    def __init__(self, conn: _ServerConnection, stream_id: int, method: str) -> None:
        self.conn = conn
        self.stream_id = stream_id
        self.stream = conn.stream
        self.server_connection = conn
        base = conn.context
        self.context = _RequestContext(base.address, base.remote_ip, base.protocol)
        self.method = method
        self.delegate: HTTPMessageDelegate | None = None
        self.chunk_size = conn.params.read_chunk_size
        self.max_body_size = conn.params.max_body_size or conn.stream.max_buffer_size
        self._body_timeout = conn.params.body_timeout
        self._body_timer: object | None = None
        self._close_callback: Callable[[], None] | None = None
        # Inbound: chunks the delegate has not taken yet, with their
        # flow-controlled sizes (acknowledged once taken).
        self._inbox: deque[tuple[bytes, int]] = deque()
        self._in_busy = False
        self._in_ended = False
        self._in_done = False
        self._declared_length: int | None = None
        # Set once the response is out before the request body ended: how
        # much more of it is read and thrown away before RST_STREAM.
        self._discard_left: int | None = None
        self._received = 0
        # Outbound.
        self._headers: list[tuple[bytes, bytes]] | None = None
        self._started = False
        self._chunks: deque[tuple[memoryview, asyncio.Future[None] | None]] = deque()
        self._no_body = False
        self._expected: int | None = None
        self._written = 0
        self._finished = False
        self._end_sent = False
        self._queued = False
        self.closed = False

    # -- HTTPConnection ------------------------------------------------------

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` if the stream is reset or the connection is lost
        before the response ends."""
        self._close_callback = callback

    def set_body_timeout(self, timeout: float) -> None:
        """Override ``body_timeout`` for this request's body (seconds)."""
        self._body_timeout = timeout
        self._arm_body_timer()

    def set_max_body_size(self, max_body_size: int) -> None:
        """Override ``max_body_size`` for this request's body (bytes)."""
        self.max_body_size = max_body_size
        if self._declared_length is not None and self._declared_length > max_body_size:
            self._refuse_body()

    def write_headers(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
        chunk: bytes | None = None,
    ) -> asyncio.Future[None]:
        """Queue the response's HEADERS (and ``chunk`` as its first DATA).

        Connection-specific fields (``Connection``, ``Keep-Alive``,
        ``Transfer-Encoding``, ...) are dropped, as RFC 9113 requires; the
        start line's version and reason are not sent (HTTP/2 has neither).
        """
        assert isinstance(start_line, ResponseStartLine)
        if self.closed:
            # Reset by the client (or the connection went): the handler may
            # still finish its response; it goes nowhere.
            self._started = True
            return _failed_future()
        if self._started:
            raise HTTPOutputError("write_headers() called twice")
        code = start_line.code
        self._started = True
        self._headers = response_header_list(code, headers)
        self._no_body = self.method == "HEAD" or code in (204, 304) or code < 200
        length = headers.get("Content-Length")
        if length is not None and not self._no_body:
            try:
                self._expected = int(length)
            except ValueError:
                raise HTTPOutputError(f"invalid Content-Length {length!r}") from None
        self.conn._queue_output(self)
        if chunk:
            return self.write(chunk)
        future = asyncio.get_running_loop().create_future()
        self._chunks.append((memoryview(b""), future))
        return future

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        """Queue a piece of the body; the future resolves when it has been
        framed within the peer's window and handed to the socket.

        Raises `~tornado.httputil.HTTPOutputError` past the
        ``Content-Length``, or before `write_headers` (HTTP/2 has no raw
        HTTP/1 responses).
        """
        if self.closed:
            return _failed_future()
        if not self._started:
            raise HTTPOutputError("write() called before write_headers() on HTTP/2")
        if self._no_body:
            return _done_future()
        self._written += len(chunk)
        if self._expected is not None and self._written > self._expected:
            self.conn._reset_stream(self, INTERNAL_ERROR)
            raise HTTPOutputError("Tried to write more data than Content-Length")
        future = asyncio.get_running_loop().create_future()
        self._chunks.append((memoryview(chunk), future))
        self.conn._queue_output(self)
        return future

    def finish(self) -> None:
        """End the response (END_STREAM after the queued data).

        Raises `~tornado.httputil.HTTPOutputError` when fewer bytes than the
        ``Content-Length`` were written.
        """
        if self.closed:
            self._finished = True
            self._close_callback = None
            return
        if not self._started:
            raise HTTPOutputError("finish() called before write_headers()")
        if self._finished:
            return
        self._finished = True
        self._close_callback = None
        if self._expected is not None and self._written < self._expected:
            self.conn._reset_stream(self, INTERNAL_ERROR)
            raise HTTPOutputError(
                f"Tried to write {self._expected - self._written} bytes less than Content-Length"
            )
        self.conn._queue_output(self)

    # -- inbound, driven by the connection ----------------------------------

    def _start(
        self, delegate: HTTPMessageDelegate, start_line: RequestStartLine, headers: HTTPHeaders
    ) -> None:
        self.delegate = delegate
        length = headers.get("Content-Length")
        if length is not None and length.isdigit():
            self._declared_length = int(length)
        self._arm_body_timer()
        expect = headers.get("Expect", "").lower() == "100-continue"
        try:
            result = delegate.headers_received(start_line, headers)
        except Exception as e:
            self._delegate_failed(e)
            return
        if result is not None:
            self._in_busy = True
            _spawn(self._drain(result))
        elif expect:
            self._continue()
        elif self._declared_length is not None and self._declared_length > self.max_body_size:
            self._refuse_body()

    def _continue(self) -> None:
        """Answer ``Expect: 100-continue`` once the application is ready."""
        if not self._started and not self._in_ended and not self.closed:
            self.conn._send_informational(self, 100)

    def _on_data(self, data: bytes, flow_length: int) -> None:
        if self.closed or self._in_done:
            self.conn._acknowledge(self.stream_id, flow_length)
            if self._discard_left is not None:
                self._discard_left -= flow_length
                if self._discard_left < 0:
                    self.conn._maybe_done(self)
            return
        self._received += len(data)
        if self._received > self.max_body_size:
            self.conn._acknowledge(self.stream_id, flow_length)
            self._refuse_body()
            return
        if self._in_busy:
            self._inbox.append((data, flow_length))
            return
        delegate = self.delegate
        assert delegate is not None
        try:
            result = delegate.data_received(data) if data else None
        except Exception as e:
            self._delegate_failed(e)
            return
        if result is not None:
            self._in_busy = True
            self._inbox.append((b"", flow_length))
            _spawn(self._drain(result))
        else:
            self.conn._acknowledge(self.stream_id, flow_length)

    def _on_end(self) -> None:
        self._in_ended = True
        if not self._in_busy:
            self._finish_delegate()

    async def _drain(self, pending: Awaitable[None]) -> None:
        """Deliver queued body chunks one by one, waiting on each awaitable
        the delegate returns before opening the window for more."""
        delegate = self.delegate
        assert delegate is not None
        conn = self.conn
        try:
            await pending
            if self._declared_length is not None and self._declared_length > self.max_body_size:
                self._refuse_body()
                return
            if not self._in_ended and not self._inbox:
                self._continue()
            while self._inbox and not self.closed and not self._in_done:
                data, flow_length = self._inbox.popleft()
                if data:
                    result = delegate.data_received(data)
                    if result is not None:
                        await result
                conn._acknowledge(self.stream_id, flow_length)
        except Exception as e:
            self._delegate_failed(e)
            return
        finally:
            self._in_busy = False
        if self.closed or self._in_done:
            return
        if self._in_ended:
            self._finish_delegate()

    def _finish_delegate(self) -> None:
        if self._in_done:
            return
        self._in_done = True
        self._cancel_body_timer()
        delegate = self.delegate
        assert delegate is not None
        try:
            delegate.finish()
        except Exception as e:
            self._delegate_failed(e)

    def _delegate_failed(self, error: BaseException) -> None:
        self._in_done = True
        self._cancel_body_timer()
        if isinstance(error, HTTPInputError):
            gen_log.info("Malformed HTTP/2 request from %s: %s", self.context, error)
            code = 413 if "too large" in str(error) else 400
            self._answer_error(code)
        else:
            app_log.error("Uncaught exception in HTTP/2 stream %d", self.stream_id, exc_info=error)
            self._answer_error(500)

    def _answer_error(self, code: int) -> None:
        """Answer with a bare status when nothing was sent yet, else reset."""
        if self.closed:
            return
        if self._started:
            self.conn._reset_stream(self, INTERNAL_ERROR if code >= 500 else CANCEL)
            self._lost()
            return
        self._started = True
        self._headers = [(b":status", str(code).encode()), (b"content-length", b"0")]
        self._no_body = True
        self._finished = True
        self.conn._queue_output(self)

    def _refuse_body(self) -> None:
        """The body is over ``max_body_size``: 413 if nothing was answered,
        then RST_STREAM, and the delegate hears the request will not end."""
        if self._in_done or self.closed:
            return
        self._in_done = True
        self._cancel_body_timer()
        gen_log.info("HTTP/2 request body from %s over max_body_size", self.context)
        self._answer_error(413)
        self._notify_close()

    def _notify_close(self) -> None:
        delegate = self.delegate
        if delegate is not None:
            try:
                delegate.on_connection_close()
            except Exception:
                app_log.error("Exception in on_connection_close", exc_info=True)
        callback = self._close_callback
        self._close_callback = None
        if callback is not None:
            try:
                callback()
            except Exception:
                app_log.error("Exception in close callback", exc_info=True)

    def _lost(self) -> None:
        """The peer reset the stream, or the connection is gone."""
        if self.closed:
            return
        self.closed = True
        self._cancel_body_timer()
        for _chunk, future in self._chunks:
            if future is not None and not future.done():
                future.set_exception(StreamClosedError())
                future.exception()
        self._chunks.clear()
        self._inbox.clear()
        if not self._in_done or not self._end_sent:
            self._in_done = True
            self._notify_close()
        self.delegate = None

    # -- timers ---------------------------------------------------------------

    def _arm_body_timer(self) -> None:
        self._cancel_body_timer()
        if self._body_timeout and not self._in_ended and not self._in_done:
            self._body_timer = self.conn.io_loop.call_later(
                self._body_timeout, self._body_timed_out
            )

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self.conn.io_loop.remove_timeout(self._body_timer)
            self._body_timer = None

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self._in_ended or self._in_done or self.closed:
            return
        gen_log.info("HTTP/2 request body from %s timed out", self.context)
        self.conn._reset_stream(self, CANCEL)
        self._lost()

    # -- outbound, driven by the connection -----------------------------------

    def _pump(self, h2conn: h2.connection.H2Connection, done: list[asyncio.Future[None]]) -> bool:
        """Frame what the windows allow.  Returns True while data waits for
        window; futures of fully framed chunks are added to ``done``."""
        sid = self.stream_id
        chunks = self._chunks
        headers = self._headers
        if headers is not None:
            self._headers = None
            end = self._finished and not any(len(c) for c, _ in chunks)
            if self._no_body:
                end = self._finished
            h2conn.send_headers(sid, headers, end_stream=end)
            if end:
                self._end_sent = True
                for _chunk, future in chunks:
                    if future is not None:
                        done.append(future)
                chunks.clear()
                return False
        while chunks:
            chunk, future = chunks[0]
            size = len(chunk)
            while size:
                window = h2conn.local_flow_control_window(sid)
                if window <= 0:
                    if chunk is not chunks[0][0]:
                        chunks[0] = (chunk, future)
                    return True
                piece = min(window, h2conn.max_outbound_frame_size, size)
                last = piece == size and len(chunks) == 1 and self._finished
                h2conn.send_data(sid, chunk[:piece], end_stream=last)
                if last:
                    self._end_sent = True
                chunk = chunk[piece:]
                size -= piece
            chunks.popleft()
            if future is not None:
                done.append(future)
        if self._finished and not self._end_sent:
            h2conn.end_stream(sid)
            self._end_sent = True
        return False


class _ServerConnection:
    """An HTTP/2 connection on the server side: h2's machine and the streams."""

    def __init__(
        self,
        server: HTTP2Server,
        stream: IOStream,
        address: Any,
        params: _ServerParams,
        refuse_with: int | None = None,
        upgrade: tuple[RequestStartLine, HTTPHeaders] | None = None,
    ) -> None:
        self.server = server
        self.stream = stream
        self.address = address
        self.params = params
        self.io_loop = IOLoop.current()
        if stream.socket is not None and stream.socket.family in (socket.AF_INET, socket.AF_INET6):
            remote_ip = address[0]
        else:
            remote_ip = "0.0.0.0"
        if params.protocol:
            protocol = params.protocol
        else:
            protocol = "https" if isinstance(stream, SSLIOStream) else "http"
        self.context = _RequestContext(address, remote_ip, protocol)
        config = h2.config.H2Configuration(
            client_side=False,
            header_encoding=None,
            validate_inbound_headers=True,
            normalize_inbound_headers=True,
            # Our response fields are built by response_header_list (lower
            # case, no connection-specific names) from HTTPHeaders, which
            # already refuses CR/LF/NUL in values: h2's second pass over
            # them would cost a third of the time of a small response.
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
        )
        self.h2 = h2.connection.H2Connection(config=config)
        # Initial values are in force at once (no wait for the peer's ACK):
        # fine for limits a client learns before it can hit them.
        self.h2.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: params.max_concurrent_streams,
                h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: params.max_header_list_size,
            },
        )
        self.h2.decoder.max_header_list_size = params.max_header_list_size
        self.streams: dict[int, _ServerStream] = {}
        self._sending: dict[_ServerStream, None] = {}
        self._flush_scheduled = False
        self._done_futures: list[asyncio.Future[None]] = []
        self._last_write: asyncio.Future[None] | None = None
        self._unsent = 0
        self._stall_timer: object | None = None
        self._idle_timer: object | None = None
        self._linger_timer: object | None = None
        self._resets = Budget(_RESET_BURST, _RESET_PER_SECOND)
        self._control = Budget(_CONTROL_BURST, _CONTROL_PER_SECOND)
        self._refuse_with = refuse_with
        self._upgrade = upgrade
        # Graceful shutdown: streams above this id are refused.
        self._draining_after: int | None = None
        self._drained: asyncio.Future[None] | None = None
        self._closed = False
        self._serving: asyncio.Future[None] | None = None

    # -- the read loop ---------------------------------------------------------

    def start(self) -> None:
        """Start serving (the read loop runs until the connection ends)."""
        self._serving = gen.convert_yielded(self._serve())

    async def _serve(self) -> None:
        h2conn = self.h2
        try:
            if self._upgrade is not None:
                # Carried here by the upgrade watcher; not for the application.
                settings = self._upgrade[1].pop("HTTP2-Settings", "")
                h2conn.initiate_upgrade_connection(settings.encode("ascii"))
            else:
                h2conn.initiate_connection()
            if self.params.initial_window_size != 65535:
                # Not an initial value: the peer may send by the default
                # window until it has seen (and ACKed) this one.
                h2conn.update_settings(
                    {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: self.params.initial_window_size}
                )
            extra = self.params.connection_window_size - 65535
            if extra > 0:
                h2conn.increment_flow_control_window(extra)
            if self._refuse_with is not None:
                # E.g. TLS below 1.2 negotiated h2 (RFC 9113 9.2).
                self._abort(self._refuse_with, "h2 negotiated below TLS 1.2")
            elif self._upgrade is not None:
                # RFC 7540 3.2: the HTTP/1.1 request that asked for h2c is
                # stream 1, half closed; its answer goes out over HTTP/2.
                start_line, headers = self._upgrade
                self._upgrade = None
                self._dispatch(1, start_line.method, start_line.path, headers)
                if 1 in self.streams:
                    self.streams[1]._on_end()
                self._flush()
            else:
                self._flush()
                self._arm_idle_timer()
            read_size = self.params.read_chunk_size
            stream = self.stream
            lingered = 0
            while True:
                last = self._last_write
                if self._unsent > _OUTPUT_HIGH_WATER and last is not None and not last.done():
                    await last
                data = await stream.read_bytes(read_size, partial=True)
                if self._closed:
                    # After our GOAWAY: read and drop what the peer still
                    # sends, so that closing with unread bytes (a TCP RST)
                    # does not destroy the GOAWAY before the peer reads it.
                    lingered += len(data)
                    if lingered > _LINGER_BYTES:
                        return
                    continue
                try:
                    events = h2conn.receive_data(data)
                except h2.exceptions.ProtocolError as e:
                    gen_log.info("HTTP/2 protocol error from %s: %s", self.context, e)
                    # h2 has queued a GOAWAY with the error's code.
                    self._say_goodbye()
                    continue
                self._handle_events(events)
                if not self._closed:
                    self._flush()
        except StreamClosedError:
            pass
        except Exception:
            app_log.error("Uncaught exception in HTTP/2 connection", exc_info=True)
        finally:
            self._connection_lost()

    def _handle_events(self, events: list[h2.events.Event]) -> None:
        streams = self.streams
        for event in events:
            kind = type(event)
            if kind is h2.events.DataReceived:
                assert isinstance(event, h2.events.DataReceived)
                stream = streams.get(event.stream_id)
                data = event.data or b""
                if not data and not event.stream_ended and not self._control.spend():
                    self._abort(ENHANCE_YOUR_CALM, "empty DATA frame flood")
                    return
                if stream is None:
                    self.h2.acknowledge_received_data(
                        event.flow_controlled_length or 0,
                        event.stream_id,
                    )
                else:
                    stream._on_data(data, event.flow_controlled_length or 0)
            elif kind is h2.events.RequestReceived:
                assert isinstance(event, h2.events.RequestReceived)
                self._on_request(event)
            elif kind is h2.events.StreamEnded:
                stream = streams.get(event.stream_id)  # type: ignore[attr-defined]
                if stream is not None:
                    stream._on_end()
                    self._maybe_done(stream)
            elif kind is h2.events.StreamReset:
                assert isinstance(event, h2.events.StreamReset)
                stream = streams.pop(event.stream_id, None)
                if stream is not None:
                    self._sending.pop(stream, None)
                    if event.remote_reset and not stream._end_sent and not self._resets.spend():
                        stream._lost()
                        self._abort(ENHANCE_YOUR_CALM, "too many streams reset (rapid reset)")
                        return
                    stream._lost()
                    self._after_stream()
            elif kind is h2.events.WindowUpdated or kind is h2.events.RemoteSettingsChanged:
                if kind is h2.events.RemoteSettingsChanged and not self._control.spend():
                    self._abort(ENHANCE_YOUR_CALM, "SETTINGS flood")
                    return
                if self._stall_timer is not None:
                    self.io_loop.remove_timeout(self._stall_timer)
                    self._stall_timer = None
                if self._sending:
                    self._schedule_flush()
            elif kind is h2.events.PingReceived:
                if not self._control.spend():
                    self._abort(ENHANCE_YOUR_CALM, "PING flood")
                    return
            elif kind is h2.events.ConnectionTerminated:
                assert isinstance(event, h2.events.ConnectionTerminated)
                # The peer is going away: what it sent is all there will be.
                if event.error_code:
                    gen_log.info("HTTP/2 peer %s sent GOAWAY %s", self.context, event.error_code)
                self._say_goodbye()
                return
            elif kind in _CONTROL_EVENTS and not self._control.spend():
                self._abort(ENHANCE_YOUR_CALM, "control frame flood")
                return

    def _on_request(self, event: h2.events.RequestReceived) -> None:
        sid = event.stream_id
        assert sid is not None
        draining = self._draining_after
        if draining is not None and sid > draining:
            self.h2.reset_stream(sid, REFUSED_STREAM)
            return
        method = path = authority = None
        headers = HTTPHeaders()
        cookies: list[str] = []
        for name, value in event.headers or ():
            assert isinstance(name, bytes) and isinstance(value, bytes)
            if name[:1] == b":":
                if name == b":method":
                    method = value.decode("latin-1")
                elif name == b":path":
                    path = value.decode("latin-1")
                elif name == b":authority":
                    authority = value.decode("latin-1")
                continue
            if name == b"cookie":
                # RFC 9113 8.2.3: split cookie fields are joined with "; ".
                cookies.append(value.decode("latin-1"))
                continue
            headers.add(name.decode("latin-1"), value.decode("latin-1"))
        if cookies:
            headers.add("Cookie", "; ".join(cookies))
        if authority is not None and "Host" not in headers:
            headers.add("Host", authority)
        self._dispatch(sid, method, path, headers)

    def _dispatch(
        self, sid: int, method: str | None, path: str | None, headers: HTTPHeaders
    ) -> None:
        """Make the stream and hand the request to the application."""
        stream = _ServerStream(self, sid, method or "")
        self.streams[sid] = stream
        if self._idle_timer is not None:
            self.io_loop.remove_timeout(self._idle_timer)
            self._idle_timer = None
        if method is None or path is None:
            # CONNECT (RFC 9113 8.5) has no :path; we do not tunnel.
            stream.delegate = HTTPMessageDelegate()
            stream._in_done = True
            stream._answer_error(405)
            return
        params = self.params
        if params.xheaders:
            stream.context.apply_xheaders(headers, params.trusted_downstream)
        app = params.delegate
        delegate: HTTPMessageDelegate
        if isinstance(app, HTTPServerConnectionDelegate):
            try:
                delegate = app.start_request(self, stream)
            except Exception as e:
                stream.delegate = HTTPMessageDelegate()
                stream._delegate_failed(e)
                return
        else:
            delegate = _CallableDelegate(app, stream)
        if params.decompress and headers.get("Content-Encoding") == "gzip":
            delegate = _GzipDelegate(delegate, stream)
        stream._start(delegate, RequestStartLine(method, path, "HTTP/2.0"), headers)

    # -- output ------------------------------------------------------------------

    def _queue_output(self, stream: _ServerStream) -> None:
        self._sending[stream] = None
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled and not self._closed:
            self._flush_scheduled = True
            self.io_loop.add_callback(self._flush)

    def _acknowledge(self, stream_id: int, flow_length: int) -> None:
        if self._closed or not flow_length:
            return
        try:
            self.h2.acknowledge_received_data(flow_length, stream_id)
        except h2.exceptions.ProtocolError:
            return
        self._schedule_flush()

    def _send_informational(self, stream: _ServerStream, code: int) -> None:
        try:
            self.h2.send_headers(stream.stream_id, [(b":status", str(code).encode())])
        except h2.exceptions.ProtocolError:
            return
        self._schedule_flush()

    def _flush(self) -> None:
        """Frame the queued output of every stream and write it out in one go."""
        self._flush_scheduled = False
        if self._closed:
            return
        h2conn = self.h2
        done = self._done_futures
        blocked = False
        sending = self._sending
        if sending:
            for stream in list(sending):
                if stream.closed:
                    del sending[stream]
                    continue
                try:
                    waiting = stream._pump(h2conn, done)
                except h2.exceptions.ProtocolError as e:
                    # The stream is closed in h2 (e.g. reset meanwhile).
                    gen_log.debug("HTTP/2 stream %d: %s", stream.stream_id, e)
                    del sending[stream]
                    stream._lost()
                    continue
                if waiting:
                    blocked = True
                else:
                    del sending[stream]
                    if stream._end_sent:
                        self._maybe_done(stream)
        data = h2conn.data_to_send()
        if data:
            self._write(data)
        elif done:
            futures = list(done)
            done.clear()
            for future in futures:
                if not future.done():
                    future.set_result(None)
        if blocked:
            if self._stall_timer is None:
                self._stall_timer = self.io_loop.call_later(
                    self.params.flow_control_timeout, self._stalled
                )
        elif self._stall_timer is not None:
            self.io_loop.remove_timeout(self._stall_timer)
            self._stall_timer = None

    def _write(self, data: bytes) -> None:
        stream = self.stream
        futures = list(self._done_futures)
        self._done_futures.clear()
        if stream.closed():
            for future in futures:
                if not future.done():
                    future.set_exception(StreamClosedError())
                    future.exception()
            return
        self._unsent += len(data)
        write_future = stream.write(data)
        self._last_write = write_future

        def written(f: asyncio.Future[None]) -> None:
            error = f.exception() if not f.cancelled() else StreamClosedError()
            if self._last_write is f:
                self._unsent = 0
            for future in futures:
                if future.done():
                    continue
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(StreamClosedError())
                    future.exception()

        write_future.add_done_callback(written)

    def _say_goodbye(self) -> None:
        """Write what h2 has queued (ending with a GOAWAY), stop writing and
        close the socket once the peer hangs up or `_LINGER_SECONDS` pass."""
        self._closed = True
        # Nothing more can be sent on any stream: their handlers hear it now.
        self._drop_streams()
        stream = self.stream
        data = self.h2.data_to_send()
        if stream.closed():
            return
        if self._linger_timer is None:
            self._linger_timer = self.io_loop.call_later(_LINGER_SECONDS, self._close_now)

        def written(future: asyncio.Future[None]) -> None:
            if future.cancelled() or future.exception() is not None or stream.closed():
                return
            try:
                stream.socket.shutdown(socket.SHUT_WR)
            except OSError:
                self._close_now()

        stream.write(data).add_done_callback(written)

    # -- stream bookkeeping ----------------------------------------------------------

    def _maybe_done(self, stream: _ServerStream) -> None:
        """Forget a stream once its response is out; if the request body is
        still coming, tell the peer to stop (RST_STREAM NO_ERROR, RFC 9113 8.1)."""
        if not stream._end_sent:
            return
        if self.streams.get(stream.stream_id) is not stream:
            return
        if not stream._in_ended:
            # Some clients (curl 7.x) report RST_STREAM(NO_ERROR) as an error
            # even after a complete response, so a modest rest of the body
            # is read and thrown away first; a large one is cut short.
            if stream._discard_left is None:
                stream._in_done = True
                stream._discard_left = _DISCARD_LIMIT
                return
            try:
                self.h2.reset_stream(stream.stream_id, NO_ERROR)
            except h2.exceptions.ProtocolError:
                pass
            self._schedule_flush()
        del self.streams[stream.stream_id]
        stream.closed = True
        stream._close_callback = None
        stream.delegate = None
        self._after_stream()

    def _after_stream(self) -> None:
        if not self.streams:
            drained = self._drained
            if drained is not None and not drained.done():
                drained.set_result(None)
            self._arm_idle_timer()

    def _reset_stream(self, stream: _ServerStream, code: int) -> None:
        if stream.closed:
            return
        try:
            self.h2.reset_stream(stream.stream_id, code)
        except h2.exceptions.ProtocolError:
            pass
        self.streams.pop(stream.stream_id, None)
        self._sending.pop(stream, None)
        self._schedule_flush()
        self.io_loop.add_callback(self._after_stream)

    # -- timers and ends -------------------------------------------------------------

    def _arm_idle_timer(self) -> None:
        if self._idle_timer is None and not self._closed and not self.streams:
            self._idle_timer = self.io_loop.call_later(self.params.idle_timeout, self._idle)

    def _idle(self) -> None:
        self._idle_timer = None
        if not self.streams and not self._closed:
            self._abort(NO_ERROR, None)

    def _stalled(self) -> None:
        self._stall_timer = None
        if self._sending and not self._closed:
            self._abort(ENHANCE_YOUR_CALM, "flow-control window stalled at zero")

    def _abort(self, error_code: int, reason: str | None) -> None:
        """Send GOAWAY with ``error_code`` and close the connection."""
        if self._closed:
            return
        if reason:
            gen_log.warning("HTTP/2 connection from %s closed: %s", self.context, reason)
        try:
            self.h2.close_connection(error_code=error_code)
        except h2.exceptions.ProtocolError:
            pass
        self._say_goodbye()

    def _close_now(self) -> None:
        self._closed = True
        if not self.stream.closed():
            self.stream.close()

    def _connection_lost(self) -> None:
        self._closed = True
        for timer in (self._stall_timer, self._idle_timer, self._linger_timer):
            if timer is not None:
                self.io_loop.remove_timeout(timer)
        self._stall_timer = self._idle_timer = self._linger_timer = None
        if not self.stream.closed():
            self.stream.close()
        self._drop_streams()
        drained = self._drained
        if drained is not None and not drained.done():
            drained.set_result(None)
        self.server._h2_connection_closed(self)

    def _drop_streams(self) -> None:
        streams = list(self.streams.values())
        self.streams.clear()
        self._sending.clear()
        for stream in streams:
            stream._lost()
        for future in self._done_futures:
            if not future.done():
                future.set_exception(StreamClosedError())
                future.exception()
        self._done_futures.clear()

    async def close(self, timeout: float) -> None:
        """Graceful close: GOAWAY(NO_ERROR) naming the last stream we will
        serve, up to ``timeout`` seconds for those streams to finish, then the
        final GOAWAY and the socket closes."""
        if self._closed:
            if self._serving is not None:
                await asyncio.shield(self._serving)
            return
        last = self.h2.highest_inbound_stream_id
        self._draining_after = last
        self._flush()
        if not self.stream.closed():
            try:
                self.stream.write(goaway_frame(last, NO_ERROR))
            except StreamClosedError:
                pass
        if self.streams:
            self._drained = asyncio.get_running_loop().create_future()
            try:
                await gen.with_timeout(self.io_loop.time() + timeout, self._drained)
            except gen.TimeoutError:
                pass
        if not self._closed:
            self._abort(NO_ERROR, None)
        if self._serving is not None:
            await asyncio.shield(self._serving)
