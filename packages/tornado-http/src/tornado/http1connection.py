"""HTTP/1.x connections over an `~tornado.iostream.IOStream`, client and server side.

`HTTP1Connection` carries one request/response exchange: as a server it
reads a request and lets the application write the response, as a client
it writes a request and reads the response.  `HTTP1ServerConnection`
serves a sequence of requests on one connection (keep-alive, pipelining),
making an `HTTP1Connection` for each.

The protocol itself (parsing heads, deciding the body framing and
keep-alive, framing outgoing bodies, every request-smuggling and size
check) is the sans-IO machine ``tornado._http1.HTTP1Parser``; this module
only moves bytes between it and the stream, calls the delegates and
enforces the timeouts.  A served connection is event-driven: the stream
hands received bytes to the machine as they arrive, and a request without
a body is dispatched in the same callback, without a read future or a
task (see `HTTP1ServerConnection`).

Per-request costs are kept low on purpose: the machine and its limits are
made once per connection, ``TCP_NODELAY`` is set once per connection, one
watchdog timer per connection enforces the header, idle and body timeouts
(re-armed by storing a deadline, not by scheduling a timer per request),
and the common case of a response written synchronously never allocates
a future to wait for it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Literal

from tornado import _http1, _http1_fast
from tornado._http1 import BodyWriter, GzipBodyDecoder
from tornado.httputil import (
    _ABNF,
    HTTPConnection,
    HTTPHeaders,
    HTTPInputError,
    HTTPMessageDelegate,
    HTTPOutputError,
    RequestStartLine,
    ResponseStartLine,
    responses,
)
from tornado.iostream import IOStream, StreamClosedError, UnsatisfiableReadError
from tornado.log import app_log, gen_log

__all__ = [
    "HTTP1Connection",
    "HTTP1ConnectionParameters",
    "HTTP1ServerConnection",
]

#: A compiled regex (`str`) of one or more decimal digits, ``[0-9]+``:
#: what `parse_int` accepts, with no sign, spaces or underscores.
DIGITS = _ABNF.digits
#: A compiled regex (`str`) of one or more hexadecimal digits, either case:
#: what `parse_hex_int` accepts, with no ``0x``, sign, spaces or underscores.
HEXDIGITS = _ABNF.hexdigits
#: A compiled regex (`bytes`) matching a CR or an LF, the characters that
#: must never reach a header line from a value (header injection).
CR_OR_LF_RE = _ABNF.cr_or_lf


def parse_int(s: str) -> int:
    """Parse a non-negative decimal integer that is nothing but digits.

    Stricter than `int`: signs, surrounding whitespace, underscores and
    non-ASCII digits raise `ValueError`, so that a length on the wire
    means the same to every parser that reads it.
    """
    if DIGITS.fullmatch(s) is None:
        raise ValueError(f"not a non-negative decimal integer: {s!r}")
    return int(s)


def parse_hex_int(s: str) -> int:
    """Parse a non-negative hexadecimal integer that is nothing but hex
    digits (as a chunk size is written).

    Raises `ValueError` for a ``0x`` prefix, a sign, whitespace,
    underscores or any other character.
    """
    if HEXDIGITS.fullmatch(s) is None:
        raise ValueError(f"not a non-negative hexadecimal integer: {s!r}")
    return int(s, 16)


def is_transfer_encoding_chunked(headers: HTTPHeaders) -> bool:
    """Whether ``headers`` say ``Transfer-Encoding: chunked``; False if
    they have no ``Transfer-Encoding``.

    Raises `~tornado.httputil.HTTPInputError` if ``Content-Length`` is
    present too, or for any other transfer coding: both would let a proxy
    and a server disagree on where the message ends.  This is the check
    the connections themselves make.
    """
    return _http1.transfer_encoding_chunked(headers)


_DEFAULT_CHUNK_SIZE = 65536
_DEFAULT_MAX_HEADER_SIZE = 65536

# The machine's head and chunk-line parsers, chosen once: the llhttp-backed
# ones when httptools is installed and TORNADO_NO_SPEEDUPS is not set.
_PARSERS = _http1_fast.select()

# The most interim (1xx) responses a client accepts: the machine's rule,
# under the name Tornado's tests import it by.
_MAX_1XX_RESPONSES = _http1._MAX_1XX_RESPONSES

# A first body chunk up to this size is sent joined to the head (one small
# copy, one send); a larger one is queued on its own, by reference.
_COPIED_WRITE_SIZE = 4096

# How much one read asks of the stream: what is at hand, up to this (the
# machine cuts it into the delegate's pieces).
_READ_SIZE = 65536

# The interim response to ``Expect: 100-continue``, serialised once.
_CONTINUE = _http1.serialize_response_head(
    ResponseStartLine("HTTP/1.1", 100, "Continue"), HTTPHeaders()
)


def _error_response(code: int) -> bytes:
    """A bare status line to answer malformed input with, as Tornado
    sends it: the body (none) ends with the connection."""
    start_line = ResponseStartLine("HTTP/1.1", code, responses.get(code, "Bad Request"))
    return _http1.serialize_response_head(start_line, HTTPHeaders())


def _new_machine(
    role: Literal["server", "client"], params: HTTP1ConnectionParameters
) -> _http1.HTTP1Parser:
    return _http1.HTTP1Parser(
        role,
        max_header_size=params.max_header_size,
        max_piece_size=params.chunk_size,
        parsers=_PARSERS,
    )


def _consume_outcome(future: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned future's exception so it is not logged."""
    if not future.cancelled():
        future.exception()


class HTTP1ConnectionParameters:
    """Settings for an `HTTP1Connection` and `HTTP1ServerConnection`.

    :arg no_keep_alive: close the connection after each request (server).
    :arg chunk_size: largest piece of a body handed to
        ``HTTPMessageDelegate.data_received`` (default 64 KiB).
    :arg max_header_size: largest message head in bytes (default 64 KiB);
        a server answers a larger one with 431.
    :arg header_timeout: seconds to wait for a complete head (a server
        uses it for idle keep-alive connections too); None waits forever.
    :arg max_body_size: largest body in bytes (default: the stream's
        ``max_buffer_size``); a server answers a larger one with 400.
    :arg body_timeout: seconds to wait for a complete body; None waits
        forever.
    :arg decompress: inflate ``Content-Encoding: gzip`` bodies before they
        reach the delegate (the header is then renamed
        ``X-Consumed-Content-Encoding``).

    .. versionadded:: 4.0
    """

    def __init__(
        self,
        no_keep_alive: bool = False,
        chunk_size: int | None = None,
        max_header_size: int | None = None,
        header_timeout: float | None = None,
        max_body_size: int | None = None,
        body_timeout: float | None = None,
        decompress: bool = False,
    ) -> None:
        """Store the settings; see the class docstring."""
        self.no_keep_alive = no_keep_alive
        self.chunk_size = chunk_size or _DEFAULT_CHUNK_SIZE
        self.max_header_size = max_header_size or _DEFAULT_MAX_HEADER_SIZE
        self.header_timeout = header_timeout
        self.max_body_size = max_body_size
        self.body_timeout = body_timeout
        self.decompress = decompress


class _HeadResponseWriter(BodyWriter):
    """The body of a response to HEAD: accepted and dropped."""

    def write(self, data: bytes) -> bytes:
        return b""

    def finish(self) -> bytes:
        return b""


class _RawResponseWriter(BodyWriter):
    """The response of an application that writes raw bytes (head and
    body) without calling ``write_headers``: passed through unchanged."""

    def write(self, data: bytes) -> bytes:
        return data

    def finish(self) -> bytes:
        return b""


class _Watchdog:
    """One timer per connection for its header, idle and body timeouts.

    Arming stores a deadline; the underlying timer is scheduled only when
    none is pending, and when it fires early (the deadline moved on) it
    reschedules itself.  An active keep-alive connection thus costs a
    store per request instead of a timer allocation and cancellation.
    When a deadline passes the stream is closed, which fails the pending
    read with `StreamClosedError`; ``fired`` tells the reader why.
    """

    __slots__ = ("_deadline", "_handle", "_loop", "_stream", "fired")

    def __init__(self, stream: IOStream) -> None:
        self._stream = stream
        self._loop = asyncio.get_running_loop()
        self._deadline: float | None = None
        self._handle: asyncio.TimerHandle | None = None
        self.fired = False

    def arm(self, timeout: float) -> None:
        deadline = self._loop.time() + timeout
        self._deadline = deadline
        handle = self._handle
        if handle is None:
            self._handle = self._loop.call_at(deadline, self._check)
        elif handle.when() > deadline:
            # A shorter timeout than the pending one (body after idle).
            handle.cancel()
            self._handle = self._loop.call_at(deadline, self._check)

    def disarm(self) -> None:
        self._deadline = None

    def cancel(self) -> None:
        self._deadline = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        self._handle = None
        deadline = self._deadline
        if deadline is None:
            return
        if self._loop.time() < deadline:
            self._handle = self._loop.call_at(deadline, self._check)
            return
        self._deadline = None
        self.fired = True
        self._stream.close()


class _GzipMessageDelegate(HTTPMessageDelegate):
    """Wraps a delegate so it sees ``Content-Encoding: gzip`` bodies
    inflated, in pieces of at most ``chunk_size`` bytes, and refuses
    bodies that inflate past the connection's ``max_body_size``."""

    def __init__(self, delegate: HTTPMessageDelegate, connection: HTTP1Connection) -> None:
        self._delegate = delegate
        self._connection = connection
        self._gzip = False
        self._decoder: GzipBodyDecoder | None = None

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> Awaitable[None] | None:
        if headers.get("Content-Encoding", "").lower() == "gzip":
            self._gzip = True
            # The delegate only ever sees inflated data: say so in the
            # headers instead of passing on a wrong Content-Encoding.
            headers.add("X-Consumed-Content-Encoding", headers["Content-Encoding"])
            del headers["Content-Encoding"]
        return self._delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if not self._gzip:
            return self._delegate.data_received(chunk)
        if self._decoder is None:
            # Created at the first data, after the delegate's
            # headers_received had its chance to change max_body_size.
            self._decoder = GzipBodyDecoder(
                self._connection._max_body_size, self._connection.params.chunk_size
            )
        if not chunk:
            return None
        # Inflated lazily, one piece of at most chunk_size at a time: a small
        # compressed read can inflate to a great deal (a decompression
        # bomb), which must never be held in memory at once.
        pieces = self._decoder.decompress(chunk)
        first = next(pieces, None)
        if first is None:
            return None
        second = next(pieces, None)
        if second is None:
            # The common case: one piece, delivered without a coroutine.
            return self._delegate.data_received(first)
        return self._deliver(first, second, pieces)

    async def _deliver(self, first: bytes, second: bytes, rest: Iterator[bytes]) -> None:
        delegate = self._delegate
        for piece in itertools.chain((first, second), rest):
            result = delegate.data_received(piece)
            if result is not None:
                await result

    def finish(self) -> None:
        if self._decoder is not None:
            tail = self._decoder.flush()
            if tail:
                # The body is complete; there is no reader left to pace.
                self._delegate.data_received(tail)
        self._delegate.finish()

    def on_connection_close(self) -> None:
        self._delegate.on_connection_close()


class HTTP1Connection(HTTPConnection):
    """Implements the HTTP/1.x protocol for one exchange on a stream.

    As a server (``is_client=False``) it reads one request with
    `read_response` and the application answers with `write_headers`,
    `write` and `finish`.  As a client it writes a request with the same
    methods and reads the response with `read_response`.

    ``context`` is opaque to the connection; servers use it to tell the
    request about its peer (``remote_ip``, ``protocol``) and it names the
    peer in log messages.

    .. versionadded:: 4.0
    """

    def __init__(
        self,
        stream: IOStream,
        is_client: bool,
        params: HTTP1ConnectionParameters | None = None,
        context: object | None = None,
    ) -> None:
        """Wrap ``stream``; ``params`` default to `HTTP1ConnectionParameters()`."""
        #: True on a client connection (it writes requests, reads responses).
        self.is_client = is_client
        #: The `~tornado.iostream.IOStream` the message travels on.
        self.stream = stream
        if params is None:
            params = HTTP1ConnectionParameters()
        #: The `HTTP1ConnectionParameters` in force.
        self.params = params
        self.context = context
        #: True when the connection closes after this message whatever the
        #: peer asked for (``params.no_keep_alive``).
        self.no_keep_alive = params.no_keep_alive
        self._max_body_size = (
            params.max_body_size if params.max_body_size is not None else stream.max_buffer_size
        )
        self._body_timeout = params.body_timeout

    # The per-exchange state starts from these class-level defaults: an
    # exchange sets only what changes (a served keep-alive connection makes
    # one HTTP1Connection per request).
    _watchdog: _Watchdog | None = None
    _detached = False
    _write_finished = False
    _read_finished = False
    _response_started = False
    _request_finished = False
    _disconnect_on_finish = False
    _close_callback: Callable[[], None] | None = None
    _finish_future: asyncio.Future[None] | None = None
    _pending_write: asyncio.Future[None] | None = None
    _writer: BodyWriter | None = None
    _headers_refused = False
    _request_start_line: RequestStartLine | None = None
    _request_headers: HTTPHeaders | None = None
    _response_start_line: ResponseStartLine | None = None
    _response_headers: HTTPHeaders | None = None
    _request_keep_alive = False
    _expects_continue = False
    _last_read_full = False
    # The connection's HTTP/1 machine: the server connection shares one
    # among the exchanges of its stream.
    _machine: _http1.HTTP1Parser | None = None
    # The HTTP1ServerConnection serving this exchange, if any.
    _server: HTTP1ServerConnection | None = None

    # -- reading ---------------------------------------------------------

    def read_response(self, delegate: HTTPMessageDelegate) -> Awaitable[bool]:
        """Read one message (a request on a server, a response on a
        client) and hand it to ``delegate``.

        Returns an awaitable that resolves to whether the connection can
        carry another message.  On a server, malformed input is answered
        (400, or 431 for an oversized head) and the connection closed.  On a
        client, malformed input is logged (``tornado.general``, INFO), an
        exception raised by the delegate is logged (``tornado.application``),
        and either way the connection is closed, the delegate's
        ``on_connection_close`` called and the result is False; a
        connection closed early raises `~tornado.iostream.StreamClosedError`.
        """
        if self.params.decompress:
            delegate = _GzipMessageDelegate(delegate, self)
        return self._read_message(delegate)

    def _get_watchdog(self) -> _Watchdog:
        watchdog = self._watchdog
        if watchdog is None:
            watchdog = self._watchdog = _Watchdog(self.stream)
        return watchdog

    def _get_machine(self) -> _http1.HTTP1Parser:
        machine = self._machine
        if machine is None:
            machine = self._machine = _new_machine(
                "client" if self.is_client else "server", self.params
            )
        return machine

    async def _next_event(self) -> _http1.Event:
        """The machine's next event, reading from the stream as it needs.

        A client reports a connection that closes before the response is
        complete as `~tornado.iostream.StreamClosedError`, as a server does
        whenever its peer goes away.
        """
        machine = self._get_machine()
        event = machine.next_event()
        stream = self.stream
        while event is None:
            try:
                future = stream.read_bytes(_READ_SIZE, partial=True)
                if future.done():
                    # The data was at hand: let other connections run before
                    # more of it is parsed.
                    await asyncio.sleep(0)
                data = await future
            except StreamClosedError:
                watchdog = self._watchdog
                if not self.is_client or (watchdog is not None and watchdog.fired):
                    raise
                # A body that runs until the close ends here; anything else
                # is cut short.
                machine.receive_eof()
                try:
                    event = machine.next_event()
                except _http1.IncompleteMessageError:
                    raise StreamClosedError(real_error=stream.error) from None
                if type(event) is _http1.ConnectionClosed:
                    raise StreamClosedError(real_error=stream.error) from None
                continue
            # A read that filled the stream's whole chunk probably left more
            # in the kernel (the stream then receives again at once).
            self._last_read_full = len(data) >= stream.read_chunk_size
            machine.receive_data(data)
            event = machine.next_event()
        return event

    async def _read_message(self, delegate: HTTPMessageDelegate) -> bool:
        need_delegate_close = False
        reading_body = False
        start_line: RequestStartLine | ResponseStartLine
        machine = self._get_machine()
        try:
            timeout = self.params.header_timeout
            if timeout is not None:
                self._get_watchdog().arm(timeout)
            if self.is_client:
                request_line = self._request_start_line
                machine.max_body_size = self._max_body_size
                machine.expect_response(request_line.method if request_line is not None else "GET")
                response = await self._read_response_head(delegate)
                if self._detached:
                    return False
                start_line, headers, framing = (
                    response.start_line,
                    response.headers,
                    response.framing,
                )
                self._response_start_line = start_line
                self._response_headers = headers
                if not response.keep_alive:
                    self._disconnect_on_finish = True
            else:
                event = await self._next_event()
                assert type(event) is _http1.RequestHead
                start_line, headers, framing = event.start_line, event.headers, event.framing
                self._request_start_line = event.start_line
                self._request_headers = headers
                self._request_keep_alive = event.keep_alive
                self._disconnect_on_finish = self.no_keep_alive or not event.keep_alive
                self._expects_continue = event.expects_continue
            if timeout is not None:
                self._get_watchdog().disarm()
            need_delegate_close = True
            result = delegate.headers_received(start_line, headers)
            if result is not None:
                await result
            if self._detached:
                need_delegate_close = False
                return False
            if framing.kind != "none":
                reading_body = True
                if self._expects_continue and not self._response_started:
                    self.stream.write(_CONTINUE)
                await self._read_body(delegate)
                reading_body = False
            else:
                # The machine's EndOfMessage for a body-less message.
                machine.next_event()
            self._read_finished = True
            if not self._write_finished or self.is_client:
                if not self.is_client:
                    need_delegate_close = False
                delegate.finish()
            if self.is_client:
                # Only now: a client's delegate whose finish() raised is
                # told the connection closed on it.
                need_delegate_close = False
                if self._disconnect_on_finish:
                    self.close()
                    return False
                return not self.stream.closed()
            if not self._request_finished and not self.stream.closed():
                # The application answers asynchronously: watch for the
                # client going away meanwhile.
                self.stream.set_close_callback(self._on_connection_close)
                self._finish_future = asyncio.get_running_loop().create_future()
                await self._finish_future
            if self._detached:
                return False
            return not self.stream.closed()
        except HTTPInputError as e:
            if getattr(e, "status_code", 400) == 431:
                gen_log.info("Unsatisfiable read from %s: %s", self.context, e)
            else:
                gen_log.info("Malformed HTTP message from %s: %s", self.context, e)
            if self.is_client:
                if getattr(e, "status_code", 400) == 431:
                    # A head past max_header_size: the read the client asked
                    # for cannot be satisfied, and that is what it is told.
                    self.stream.close(exc_info=UnsatisfiableReadError(str(e)))
                self.close()
                need_delegate_close = True
                return False
            await self._answer_bad_request(e)
            return False
        except StreamClosedError as e:
            watchdog = self._watchdog
            if watchdog is not None and watchdog.fired:
                # An idle connection timing out between requests is routine;
                # a body that stops coming is worth a note.
                gen_log.log(
                    logging.INFO if reading_body else logging.DEBUG,
                    "Timeout reading %s from %s",
                    "body" if reading_body else "head",
                    self.context,
                )
                self.close()
                if self.is_client:
                    raise
                return False
            if self.is_client:
                if isinstance(e.real_error, UnsatisfiableReadError):
                    gen_log.info("Unsatisfiable read from %s: %s", self.context, e.real_error)
                raise
            return False
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if not self.is_client or (task is not None and task.cancelling()):
                # This read itself was cancelled: let the cancellation go on.
                raise
            # A delegate's coroutine (an awaited streaming_callback, say) was
            # cancelled on its own: a failure of the delegate like any other.
            self._client_delegate_failed()
            need_delegate_close = True
            return False
        except Exception:
            if not self.is_client:
                raise
            self._client_delegate_failed()
            need_delegate_close = True
            return False
        finally:
            if need_delegate_close and not (self._write_finished and not self.is_client):
                try:
                    delegate.on_connection_close()
                except Exception:
                    app_log.error("Uncaught exception in on_connection_close", exc_info=True)
            if self._watchdog is not None and self.is_client:
                self._watchdog.cancel()

    def _client_delegate_failed(self) -> None:
        # A client's delegate failed: the response cannot be completed.
        app_log.error("Uncaught exception reading a response from %s", self.context, exc_info=True)
        self.close()

    async def _read_response_head(self, delegate: HTTPMessageDelegate) -> _http1.ResponseHead:
        while True:
            event = await self._next_event()
            assert type(event) is _http1.ResponseHead
            code = event.start_line.code
            if code >= 200 or code == 101:
                return event
            # Interim responses (100 Continue and the like): the delegate
            # sees them (a client sends its body on 100) and the final
            # response follows.
            result = delegate.headers_received(event.start_line, event.headers)
            if result is not None:
                await result

    async def _read_body(self, delegate: HTTPMessageDelegate) -> None:
        machine = self._get_machine()
        machine.max_body_size = self._max_body_size
        if self._body_timeout is not None:
            self._get_watchdog().arm(self._body_timeout)
        chunk_size = self.params.chunk_size
        # Body pieces at hand are merged up to chunk_size and handed on when
        # full, at the end, or when the next piece must be waited for (so a
        # slow sender's bytes are never held back).
        pending: list[bytes] = []
        pending_size = 0
        while True:
            event = machine.next_event()
            if event is None:
                if pending and not self._last_read_full:
                    await self._deliver(delegate, pending)
                    pending_size = 0
                event = await self._next_event()
            if type(event) is not _http1.Data:
                break
            data = event.data
            # Whole pieces of chunk_size as far as the data at hand allows:
            # the delegate sees the same pieces however the body was split
            # into packets.
            while len(data) >= chunk_size - pending_size:
                cut = chunk_size - pending_size
                pending.append(data[:cut])
                data = data[cut:]
                await self._deliver(delegate, pending)
                pending_size = 0
            if data:
                pending.append(data)
                pending_size += len(data)
            if pending and machine.buffered:
                # More is at hand already: parsing it never waits, so let
                # other connections run in between.
                await asyncio.sleep(0)
        if pending:
            await self._deliver(delegate, pending)
        if self._body_timeout is not None:
            self._get_watchdog().disarm()

    async def _deliver(self, delegate: HTTPMessageDelegate, pending: list[bytes]) -> None:
        """Hand the merged ``pending`` pieces to the delegate and empty the list."""
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        # Once a server's application has finished its response, the rest
        # of the body is read (to keep the framing) but no longer delivered.
        if not self._write_finished or self.is_client:
            result = delegate.data_received(data)
            if result is not None:
                await result

    async def _answer_bad_request(self, error: HTTPInputError) -> None:
        """Answer malformed input with its status (unless a response is
        already under way), then close."""
        stream = self.stream
        if not self._response_started and not stream.closed():
            try:
                await stream.write(_error_response(getattr(error, "status_code", 400)))
            except StreamClosedError:
                pass
        self.close()

    # -- connection state ------------------------------------------------

    def set_close_callback(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` (no arguments) if the connection closes before
        the exchange is complete.

        This replaces `HTTPMessageDelegate.on_connection_close` for code
        that does not implement a delegate (``RequestHandler``'s
        ``on_connection_close``).
        """
        self._close_callback = callback
        if callback is not None and not self._detached and self._server is None:
            # (A served connection's stream reports its close to the
            # HTTP1ServerConnection, which calls back.)
            self.stream.set_close_callback(self._on_connection_close)

    def _on_connection_close(self) -> None:
        callback = self._close_callback
        self._close_callback = None
        if callback is not None:
            callback()
        future = self._finish_future
        if future is not None and not future.done():
            future.set_result(None)
        self._clear_callbacks()

    def _clear_callbacks(self) -> None:
        self._close_callback = None
        if not self._detached and self._server is None:
            self.stream.set_close_callback(None)

    def close(self) -> None:
        """Close the connection (the stream, unless it was detached)."""
        if not self._detached:
            self.stream.close()
        self._clear_callbacks()
        if self._watchdog is not None:
            self._watchdog.cancel()
        future = self._finish_future
        if future is not None and not future.done():
            future.set_result(None)

    def detach(self) -> IOStream:
        """Take the stream over from the HTTP machinery and return it.

        The connection stops using it (no more reads, no close); this is
        how WebSocket upgrades reuse the socket.
        """
        self._clear_callbacks()
        self._detached = True
        server = self._server
        if server is not None:
            server._on_detach()
        machine = self._machine
        if machine is not None and machine.buffered:
            # Bytes that came after the message (the first frames of a
            # WebSocket, say) are the new owner's to read.
            self.stream._unread(machine.trailing_data)
            self._machine = None
        if self._watchdog is not None:
            self._watchdog.cancel()
        future = self._finish_future
        if future is not None and not future.done():
            future.set_result(None)
        return self.stream

    def set_body_timeout(self, timeout: float) -> None:
        """Override ``body_timeout`` for the current message (seconds)."""
        self._body_timeout = timeout

    def set_max_body_size(self, max_body_size: int) -> None:
        """Override ``max_body_size`` for the current message (bytes)."""
        self._max_body_size = max_body_size

    # -- writing ---------------------------------------------------------

    def write_headers(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
        chunk: bytes | None = None,
    ) -> asyncio.Future[None]:
        """Write the start line and headers, and ``chunk`` as the first piece
        of the body.

        A server always answers ``HTTP/1.1`` whatever ``start_line.version``
        says, adds ``Connection: close`` or ``Connection: Keep-Alive`` as
        the request and settings require, and uses chunked encoding for an
        HTTP/1.1 response that has neither ``Content-Length`` nor
        ``Transfer-Encoding``.  A client uses chunked encoding for a POST,
        PUT or PATCH request without ``Content-Length``.

        Returns a future that resolves when the data has been written.
        Raises `ValueError` for header names or values that cannot be sent
        (CR, LF, NUL and other control characters in a value: header
        injection), and `~tornado.httputil.HTTPOutputError` for
        inconsistent framing headers.
        """
        try:
            if self.is_client:
                assert isinstance(start_line, RequestStartLine)
                self._request_start_line = start_line
                self._request_headers = headers
                if (
                    start_line.method in ("POST", "PUT", "PATCH")
                    and "Content-Length" not in headers
                    and "Transfer-Encoding" not in headers
                ):
                    headers["Transfer-Encoding"] = "chunked"
                self._disconnect_on_finish = not _http1.request_keep_alive(start_line, headers)
                writer = _http1.request_body_writer(headers)
                head = _http1.serialize_request_head(start_line, headers)
            else:
                assert isinstance(start_line, ResponseStartLine)
                request_line = self._request_start_line
                assert request_line is not None, "write_headers before a request was read"
                if request_line.version == "HTTP/1.1":
                    if self._disconnect_on_finish:
                        headers["Connection"] = "close"
                elif self._request_keep_alive and not self._disconnect_on_finish:
                    headers["Connection"] = "Keep-Alive"
                writer = _http1.response_body_writer(
                    request_line.method, request_line.version, start_line.code, headers
                )
                if request_line.method == "HEAD" and start_line.code >= 200:
                    # Applications often answer HEAD as GET; the body must not
                    # reach the wire, but writing it is not an error.
                    writer = _HeadResponseWriter()
                if writer.must_close:
                    self._disconnect_on_finish = True
                self._response_start_line = ResponseStartLine(
                    "HTTP/1.1", start_line.code, start_line.reason
                )
                self._response_headers = headers
                head = _http1.serialize_response_head(self._response_start_line, headers)
                self._response_started = True
            self._writer = writer
            body = writer.write(chunk) if chunk else b""
        except Exception:
            # Refused (framing headers that contradict each other, a value
            # with CR/LF) before anything was written: the caller may try
            # again with other headers, but a body written without that is
            # not a raw legacy response (see `write`).
            self._headers_refused = True
            raise
        if len(body) > _COPIED_WRITE_SIZE and not self.stream.closed():
            # A large first chunk goes out by reference (the stream queues
            # it without a copy) right behind the head.
            self.stream.write(head)
            return self._write_to_stream(body)
        return self._write_to_stream(head + body if body else head)

    def _write_to_stream(self, data: bytes) -> asyncio.Future[None]:
        stream = self.stream
        if stream.closed():
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            future.set_exception(StreamClosedError())
            # Nobody may wait for it: mark the exception retrieved so it is
            # not logged as "never retrieved".
            future.exception()
            self._pending_write = future
            return future
        future = self._pending_write = stream.write(data)
        return future

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        """Write a piece of the body; returns a future as `write_headers`.

        On a server, writing before `write_headers` sends ``chunk`` as raw
        bytes: applications of the legacy callable interface write the
        response head themselves.

        Raises `~tornado.httputil.HTTPOutputError` (and closes the
        connection) when the body goes past its ``Content-Length`` or the
        message cannot have a body.
        """
        writer = self._writer
        if writer is None:
            if self.is_client:
                raise HTTPOutputError("write() called before write_headers()")
            if self._headers_refused:
                # The body of a response whose head was refused: no client
                # could frame it, so the connection ends here.
                self.stream.close()
                raise HTTPOutputError("write() after write_headers() was refused")
            # The legacy interface (a plain callable given to HTTPServer):
            # the application writes the whole response, head included, as
            # raw bytes.
            self._writer = _RawResponseWriter()
            self._response_started = True
            return self._write_to_stream(chunk)
        try:
            data = writer.write(chunk)
        except HTTPOutputError:
            self.stream.close()
            raise
        return self._write_to_stream(data)

    def finish(self) -> None:
        """End the message.

        Raises `~tornado.httputil.HTTPOutputError` when fewer bytes than the
        ``Content-Length`` were written (unless the connection already
        closed).  A server closes the connection once the response is out
        if keep-alive is off or the request body was not read to its end.
        """
        writer = self._writer
        if writer is None:
            if not self.is_client:
                # A response that never started: end the connection rather
                # than leave the client waiting for it.
                self.stream.close()
            raise HTTPOutputError("finish() called before write_headers()")
        stream = self.stream
        try:
            tail = writer.finish()
        except HTTPOutputError:
            if not stream.closed():
                stream.close()
                raise
            tail = b""
        self._write_finished = True
        if tail and not stream.closed():
            self._pending_write = stream.write(tail)
        if not self.is_client and not self._read_finished:
            # The application answered before reading the whole body; the
            # rest of it cannot be told apart from a next request.
            self._disconnect_on_finish = True
        pending = self._pending_write
        if pending is None or pending.done():
            self._finish_request(pending)
        else:
            pending.add_done_callback(self._finish_request)

    def _finish_request(self, future: asyncio.Future[None] | None) -> None:
        if future is not None and not future.cancelled():
            # A failed write means the stream closed; nothing more to do.
            future.exception()
        self._request_finished = True
        if not self.is_client:
            self._clear_callbacks()
            if self._disconnect_on_finish:
                self.close()
                return
            if self._server is not None:
                self._server._response_finished(self)
                return
        finish_future = self._finish_future
        if finish_future is not None and not finish_future.done():
            finish_future.set_result(None)


class HTTP1ServerConnection:
    """Serves a sequence of requests on one connection.

    `start_serving` parses requests as their bytes arrive (pipelined
    requests are answered in order) and hands each to an
    `~tornado.httputil.HTTPServerConnectionDelegate`.

    The connection is event-driven: the stream hands received bytes
    straight to the HTTP/1 machine (``IOStream._start_consuming``, a
    documented internal of tornado-iostream), and each event is passed on
    to the request's delegate as it comes.  A request without a body, from
    its head to the delegate's ``finish``, runs within the one callback in
    which its bytes arrived: no read future, no task, no await.  Taking
    bytes pauses while a delegate's awaitable is pending and while a
    response is being written (the stream buffers meanwhile, with its
    read-ahead bound), so pipelined requests are answered one at a time.

    .. versionadded:: 4.0
    """

    def __init__(
        self,
        stream: IOStream,
        params: HTTP1ConnectionParameters | None = None,
        context: object | None = None,
    ) -> None:
        """Serve on ``stream`` with ``params``; ``context`` is given to each
        `HTTP1Connection`."""
        #: The `~tornado.iostream.IOStream` of the connection.
        self.stream = stream
        if params is None:
            params = HTTP1ConnectionParameters()
        #: The `HTTP1ConnectionParameters` every request on it is read with.
        self.params = params
        #: The connection's context object (the server's: it knows the
        #: peer's address and protocol), given to each `HTTP1Connection`.
        self.context = context
        self._serving_future: asyncio.Future[None] | None = None
        self._delegate: Any = None
        self._machine: _http1.HTTP1Parser | None = None
        self._watchdog: _Watchdog | None = None
        # The exchange under way: its connection and (possibly wrapped)
        # delegate, whether the delegate must hear of a close, and the head.
        self._conn: HTTP1Connection | None = None
        self._request_delegate: HTTPMessageDelegate | None = None
        self._need_delegate_close = False
        self._framing: _http1.Framing | None = None
        self._reading_body = False
        self._awaiting_response = False
        # Body pieces at hand, merged up to chunk_size before delivery.
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._paused = True
        self._processing = False
        self._ended = False
        # Set by HTTPServer.drain: no request after the one under way.
        self._draining = False
        # Set when the stream was handed over (a WebSocket upgrade): the
        # connection ended without being finished or cut.
        self._handed_over = False
        self._drained_idle = False

    async def close(self) -> None:
        """Close the connection and wait until its request loop has ended."""
        self.stream.close()
        if self._serving_future is not None:
            try:
                await self._serving_future
            except Exception:
                pass

    def start_serving(self, delegate: Any) -> None:
        """Start reading requests and passing them to ``delegate`` (an
        `~tornado.httputil.HTTPServerConnectionDelegate`)."""
        stream = self.stream
        self._serving_future = asyncio.get_running_loop().create_future()
        self._delegate = delegate
        self._machine = _new_machine("server", self.params)
        self._watchdog = _Watchdog(stream)
        if stream.closed():
            self._end()
            return
        # Responses are written whole or in application-sized pieces, so
        # Nagle's algorithm only adds latency; set once per connection.
        stream.set_nodelay(True)
        stream.set_close_callback(self._on_stream_close)
        self._wait_for_head()
        self._resume()

    def _drain(self) -> bool:
        """Serve no request after the one under way (HTTPServer.drain).

        An idle connection (no exchange, no bytes of a next head at hand)
        is closed at once and True returned.  Otherwise the exchange's
        response says ``Connection: close`` (if its head is not out yet) and
        the connection closes once it is sent.
        """
        self._draining = True
        if self._ended:
            return False
        conn = self._conn
        if conn is None:
            machine = self._machine
            if machine is None or not machine.buffered:
                # (The close is reported later: say now it was idle.)
                self._drained_idle = True
                self.stream.close()
                return True
            # A head is arriving: it is served, with Connection: close.
            return False
        self._mark_last(conn)
        if conn._request_finished:
            # The response is out already; the next request is not served.
            self.stream.close()
        return False

    @staticmethod
    def _mark_last(conn: HTTP1Connection) -> None:
        # The response says Connection: close -- unless the request asks
        # for an upgrade (a WebSocket's 101 must keep its headers and its
        # stream); _next_request closes such a connection all the same.
        headers = conn._request_headers
        if headers is None or "Upgrade" not in headers:
            conn._disconnect_on_finish = True

    # -- taking bytes ------------------------------------------------------

    def _resume(self) -> None:
        if self._ended or self.stream.closed():
            return
        self._paused = False
        data = self.stream._start_consuming(self._on_data)
        assert self._machine is not None
        if data:
            self._machine.receive_data(data)
        self._process()

    def _pause(self) -> None:
        self._paused = True
        self.stream._stop_consuming()

    def _on_data(self, data: bytes) -> None:
        assert self._machine is not None
        self._machine.receive_data(data)
        self._process()

    def _process(self) -> None:
        """Pass on the machine's events until it needs more bytes or the
        exchange has to wait."""
        if self._processing:
            # Called back from within a delegate: the loop below goes on.
            return
        machine = self._machine
        assert machine is not None
        self._processing = True
        try:
            while not self._paused:
                event = machine.next_event()
                if event is None:
                    if self._pending:
                        self._flush()
                    return
                kind = type(event)
                if kind is _http1.Data:
                    self._on_body_data(event.data)  # type: ignore[union-attr]
                elif kind is _http1.RequestHead:
                    self._on_head(event)  # type: ignore[arg-type]
                else:
                    self._on_end()
        except HTTPInputError as e:
            self._bad_request(e)
        except Exception:
            app_log.error("Uncaught exception serving %s", self.context, exc_info=True)
            self._fail()
        finally:
            self._processing = False

    def _wait_for(self, result: Awaitable[None], then: Callable[[], None] | None) -> None:
        """Pause until a delegate's awaitable is done, then run ``then``
        and take bytes again."""
        self._pause()
        future = asyncio.ensure_future(result)

        def done(future: asyncio.Future[None]) -> None:
            if self._ended:
                _consume_outcome(future)
                return
            try:
                future.result()
                if then is not None:
                    self._processing = True
                    try:
                        then()
                    finally:
                        self._processing = False
            except HTTPInputError as e:
                self._bad_request(e)
                return
            except (Exception, asyncio.CancelledError):
                app_log.error("Uncaught exception serving %s", self.context, exc_info=True)
                self._fail()
                return
            if self._paused and self._conn is not None and self._conn._detached:
                self._end()
            elif self._paused and not self._awaiting_response:
                self._resume()

        future.add_done_callback(done)

    # -- events ------------------------------------------------------------

    def _wait_for_head(self) -> None:
        timeout = self.params.header_timeout
        if timeout is not None:
            assert self._watchdog is not None
            self._watchdog.arm(timeout)

    def _on_head(self, event: _http1.RequestHead) -> None:
        params = self.params
        if params.header_timeout is not None:
            assert self._watchdog is not None
            self._watchdog.disarm()
        conn = HTTP1Connection(self.stream, False, params, self.context)
        conn._machine = self._machine
        conn._watchdog = self._watchdog
        conn._server = self
        conn._request_start_line = event.start_line
        conn._request_headers = event.headers
        conn._request_keep_alive = event.keep_alive
        conn._disconnect_on_finish = conn.no_keep_alive or not event.keep_alive
        if self._draining:
            self._mark_last(conn)
        conn._expects_continue = event.expects_continue
        self._conn = conn
        delegate: HTTPMessageDelegate = self._delegate.start_request(self, conn)
        if params.decompress:
            delegate = _GzipMessageDelegate(delegate, conn)
        self._request_delegate = delegate
        self._framing = event.framing
        self._need_delegate_close = True
        result = delegate.headers_received(event.start_line, event.headers)
        if result is not None:
            self._wait_for(result, self._after_head)
            return
        self._after_head()

    def _after_head(self) -> None:
        conn = self._conn
        assert conn is not None and self._framing is not None
        if conn._detached:
            self._need_delegate_close = False
            self._pause()
            self._end()
            return
        if self._framing.kind == "none":
            return
        self._reading_body = True
        if conn._expects_continue and not conn._response_started:
            self.stream.write(_CONTINUE)
        assert self._machine is not None
        self._machine.max_body_size = conn._max_body_size
        if conn._body_timeout is not None:
            assert self._watchdog is not None
            self._watchdog.arm(conn._body_timeout)

    def _on_body_data(self, data: bytes) -> None:
        conn = self._conn
        assert conn is not None
        if conn._write_finished:
            # The application has answered already: the rest of the body is
            # read (to keep the framing) but no longer delivered.
            return
        if self._pending and self._pending_size + len(data) > self.params.chunk_size:
            self._flush()
        self._pending.append(data)
        self._pending_size += len(data)
        if not self._paused and self._pending_size >= self.params.chunk_size:
            self._flush()

    def _flush(self, then: Callable[[], None] | None = None) -> bool:
        """Deliver the pending body pieces; True if the delegate's awaitable
        is pending (``then`` runs after it)."""
        pending = self._pending
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        self._pending_size = 0
        conn = self._conn
        assert conn is not None and self._request_delegate is not None
        if conn._write_finished:
            return False
        result = self._request_delegate.data_received(data)
        if result is None:
            return False
        self._wait_for(result, then)
        return True

    def _on_end(self) -> None:
        if self._pending and self._flush(self._end_of_request):
            # The end of the message is handled once the last piece is in.
            return
        self._end_of_request()

    def _end_of_request(self) -> None:
        conn = self._conn
        delegate = self._request_delegate
        assert conn is not None and delegate is not None
        if self._reading_body:
            self._reading_body = False
            if conn._body_timeout is not None:
                assert self._watchdog is not None
                self._watchdog.disarm()
        conn._read_finished = True
        self._need_delegate_close = False
        if not conn._write_finished:
            delegate.finish()
        if conn._detached:
            self._pause()
            self._end()
        elif conn._request_finished:
            self._next_request()
        else:
            # The application answers asynchronously; the stream's close
            # callback watches for the client going away meanwhile.
            self._awaiting_response = True
            self._pause()

    def _on_detach(self) -> None:
        """Called by the exchange's connection when it hands the stream
        over: from now on the stream is the new owner's."""
        self._pause()
        self.stream.set_close_callback(None)
        self._handed_over = True
        self._end()

    def _response_finished(self, conn: HTTP1Connection) -> None:
        """Called by the exchange's connection once its response is out."""
        if conn is not self._conn or not self._awaiting_response:
            # Finished within _end_of_request, which goes on by itself.
            return
        self._awaiting_response = False
        # Not from here: this runs inside the application's finish(), which
        # must return before the next request (perhaps buffered already)
        # is handled.
        asyncio.get_running_loop().call_soon(self._serve_next)

    def _serve_next(self) -> None:
        if self._ended:
            return
        self._next_request()
        if self._paused and not self._ended:
            self._resume()

    def _next_request(self) -> None:
        self._conn = None
        self._request_delegate = None
        if self.stream.closed():
            return
        if self._draining:
            # The server is draining: this connection's last response is out.
            self.stream.close()
            return
        self._wait_for_head()
        machine = self._machine
        assert machine is not None
        if machine.buffered and self._processing:
            # A pipelined request is at hand: let other connections run
            # before serving it.
            self._pause()
            asyncio.get_running_loop().call_soon(self._resume)

    # -- the end -----------------------------------------------------------

    def _bad_request(self, error: HTTPInputError) -> None:
        if getattr(error, "status_code", 400) == 431:
            gen_log.info("Unsatisfiable read from %s: %s", self.context, error)
        else:
            gen_log.info("Malformed HTTP message from %s: %s", self.context, error)
        self._pause()
        conn = self._conn
        stream = self.stream
        if (conn is None or not conn._response_started) and not stream.closed():
            # A bare status line, as Tornado sends: the body (none) ends
            # with the connection.
            written = stream.write(_error_response(getattr(error, "status_code", 400)))
            if not written.done():
                written.add_done_callback(lambda _: stream.close())
                return
        stream.close()

    def _fail(self) -> None:
        self._pause()
        if self._conn is not None:
            self._conn.close()
        self.stream.close()

    def _on_stream_close(self) -> None:
        conn = self._conn
        watchdog = self._watchdog
        if watchdog is not None and watchdog.fired:
            # An idle connection timing out between requests is routine; a
            # body that stops coming is worth a note.
            gen_log.log(
                logging.INFO if self._reading_body else logging.DEBUG,
                "Timeout reading %s from %s",
                "body" if self._reading_body else "head",
                self.context,
            )
        if conn is not None:
            conn._on_connection_close()
            delegate = self._request_delegate
            if self._need_delegate_close and delegate is not None and not conn._write_finished:
                self._need_delegate_close = False
                try:
                    delegate.on_connection_close()
                except Exception:
                    app_log.error("Uncaught exception in on_connection_close", exc_info=True)
        self._end()

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        self._paused = True
        stream = self.stream
        conn = self._conn
        if conn is None or not conn._detached:
            stream._stop_consuming()
            stream.set_close_callback(None)
        if self._watchdog is not None:
            self._watchdog.cancel()
        try:
            self._delegate.on_close(self)
        finally:
            # Drop the exchange: the request, its delegates and its
            # connection all point back here, and a cycle left behind would
            # keep them (and the handler) alive until the collector runs.
            if conn is not None:
                conn._server = None
            self._conn = None
            self._request_delegate = None
            future = self._serving_future
            if future is not None and not future.done():
                future.set_result(None)
