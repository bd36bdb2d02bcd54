"""HTTP/1.x connections over an `~tornado.iostream.IOStream`, client and server side.

`HTTP1Connection` carries one request/response exchange: as a server it
reads a request and lets the application write the response, as a client
it writes a request and reads the response.  `HTTP1ServerConnection`
serves a sequence of requests on one connection (keep-alive, pipelining),
making an `HTTP1Connection` for each.

The protocol itself (parsing heads, deciding the body framing, framing
outgoing bodies, every request-smuggling and size check) lives in the
sans-IO module ``tornado._http1``; this module only moves bytes between it
and the stream, keeps the connection state and enforces the timeouts.

Per-request costs are kept low on purpose: the head regex and limits are
derived once per parameters, ``TCP_NODELAY`` is set once per connection,
one watchdog timer per connection enforces the header, idle and body
timeouts (re-armed by storing a deadline, not by scheduling a timer per
request), and the common case of a response written synchronously never
allocates a future to wait for it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from tornado import _http1
from tornado._http1 import (
    DEFAULT_MAX_CHUNK_EXTENSIONS_SIZE,
    MAX_CHUNK_LINE_SIZE,
    BodyWriter,
    Framing,
    GzipBodyDecoder,
    HTTP1ProtocolError,
)
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
CR_OR_LF_RE = re.compile(b"[\r\n]")


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

# How far past ``max_header_size`` a single header line may run before the
# stream gives up on it by itself (closing without an answer).  Heads whose
# lines end within this margin are answered with 431.
_HEAD_OVERRUN_MARGIN = 8192

# The most interim (1xx) responses a client accepts before the final one;
# a server sending more is treated as malformed (it could keep a client
# busy forever).
_MAX_1XX_RESPONSES = 32

# A chunked body made of many small chunks that are all buffered already is
# parsed without waiting; every this many chunks the reader yields to the
# IOLoop so other connections are served meanwhile.
_CHUNKS_PER_YIELD = 64

_head_patterns: dict[int, bytes] = {}
_trailer_patterns: dict[int, bytes] = {}

# A chunk-size line: up to its LF, or MAX_CHUNK_LINE_SIZE bytes without one
# (then the line is refused with a 400 instead of the stream closing).
_CHUNK_LINE_PATTERN = rb"\n|(?<=[\s\S]{%d})" % MAX_CHUNK_LINE_SIZE


#: How far a head or trailer pattern match looks past the line end it starts at.
_HEAD_PATTERN_OVERLAP = 3


def _head_pattern(max_header_size: int) -> bytes:
    """The regex that ends a message head: the blank line after the
    headers, or else the first line end past ``max_header_size`` bytes.

    Finding a line end past the limit lets the connection answer 431
    instead of the stream closing on its own.  The pattern starts with a
    literal LF, so the regex engine scans with a fast character search;
    the look-behind is only tried at line ends and fails at once below the
    limit.
    """
    pattern = _head_patterns.get(max_header_size)
    if pattern is None:
        pattern = rb"\n(?:\r?\n|(?<=[\s\S]{%d}))" % max_header_size
        _head_patterns[max_header_size] = pattern
    return pattern


def _trailer_pattern(max_header_size: int) -> bytes:
    """As `_head_pattern`, for the trailer section after the last chunk
    (which may be just an empty line)."""
    pattern = _trailer_patterns.get(max_header_size)
    if pattern is None:
        pattern = rb"\A\r?\n|\n(?:\r?\n|(?<=[\s\S]{%d}))" % max_header_size
        _trailer_patterns[max_header_size] = pattern
    return pattern


def _consume_outcome(future: asyncio.Future[Any]) -> None:
    """Retrieve an abandoned future's exception so it is not logged."""
    if not future.cancelled():
        future.exception()


def _is_head_end(data: bytes) -> bool:
    return data.endswith((b"\n\n", b"\n\r\n"))


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
        self.is_client = is_client
        self.stream = stream
        if params is None:
            params = HTTP1ConnectionParameters()
        self.params = params
        self.context = context
        self.no_keep_alive = params.no_keep_alive
        self._max_body_size = (
            params.max_body_size if params.max_body_size is not None else stream.max_buffer_size
        )
        self._body_timeout = params.body_timeout
        self._watchdog: _Watchdog | None = None
        self._detached = False
        self._write_finished = False
        self._read_finished = False
        self._response_started = False
        self._request_finished = False
        self._disconnect_on_finish = False
        self._close_callback: Callable[[], None] | None = None
        self._finish_future: asyncio.Future[None] | None = None
        self._pending_write: asyncio.Future[None] | None = None
        self._writer: BodyWriter | None = None
        self._headers_refused = False
        self._request_start_line: RequestStartLine | None = None
        self._request_headers: HTTPHeaders | None = None
        self._response_start_line: ResponseStartLine | None = None
        self._response_headers: HTTPHeaders | None = None
        self._request_keep_alive = False

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

    async def _read_head(self, expect_request: bool) -> bytes:
        stream = self.stream
        max_header_size = self.params.max_header_size
        pattern = _head_pattern(max_header_size)
        timeout = self.params.header_timeout
        if timeout is not None:
            self._get_watchdog().arm(timeout)
        while True:
            # A match starts at a line end and looks at most two bytes past
            # it, so each search resumes where the last one gave up: a head
            # that trickles in (or is huge) is scanned once, not per arrival.
            future = stream._read_until_regex(
                pattern, max_header_size + _HEAD_OVERRUN_MARGIN, _HEAD_PATTERN_OVERLAP
            )
            if future.done() and expect_request:
                # A pipelined request is already buffered: let other
                # connections run before serving it.
                await asyncio.sleep(0)
            data = await future
            if len(data) > max_header_size or not _is_head_end(data):
                raise HTTP1ProtocolError(
                    f"message head larger than {max_header_size} bytes", status_code=431
                )
            if expect_request and data[:1] in (b"\r", b"\n") and not data.strip(b"\r\n"):
                # Stray empty lines between requests (RFC 9112 section
                # 2.2): not a head yet.
                continue
            if timeout is not None:
                self._get_watchdog().disarm()
            return data

    async def _read_message(self, delegate: HTTPMessageDelegate) -> bool:
        need_delegate_close = False
        reading_body = False
        start_line: RequestStartLine | ResponseStartLine
        try:
            if self.is_client:
                start_line, headers, framing = await self._read_response_head(delegate)
                if self._detached:
                    return False
            else:
                data = await self._read_head(True)
                request_line, headers = _http1.parse_request_head(data)
                if request_line.version == "HTTP/1.1" and "Host" not in headers:
                    # RFC 9112 3.2: an HTTP/1.1 request without Host is a 400
                    # (as Tornado answers it).
                    raise HTTP1ProtocolError("Missing Host header")
                # Framing errors (smuggling attempts) are refused before the
                # delegate sees anything.
                framing = _http1.request_framing(request_line, headers)
                self._request_start_line = start_line = request_line
                self._request_headers = headers
                self._request_keep_alive = _http1.request_keep_alive(request_line, headers)
                self._disconnect_on_finish = self.no_keep_alive or not self._request_keep_alive
            need_delegate_close = True
            result = delegate.headers_received(start_line, headers)
            if result is not None:
                await result
            if self._detached:
                need_delegate_close = False
                return False
            if framing.kind != "none":
                reading_body = True
                if not self.is_client and self._body_expects_continue(headers):
                    self.stream.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await self._read_body(framing, delegate)
                reading_body = False
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
            if self.is_client:
                if getattr(e, "status_code", 400) == 431:
                    # A head past max_header_size: the read the client asked
                    # for cannot be satisfied, and that is what it is told.
                    gen_log.info("Unsatisfiable read from %s: %s", self.context, e)
                    self.stream.close(exc_info=UnsatisfiableReadError(str(e)))
                else:
                    gen_log.info("Malformed HTTP message from %s: %s", self.context, e)
                self.close()
                need_delegate_close = True
                return False
            if getattr(e, "status_code", 400) == 431:
                gen_log.info("Unsatisfiable read from %s: %s", self.context, e)
            else:
                gen_log.info("Malformed HTTP message from %s: %s", self.context, e)
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

    async def _read_response_head(
        self, delegate: HTTPMessageDelegate
    ) -> tuple[ResponseStartLine, HTTPHeaders, Framing]:
        request_line = self._request_start_line
        method = request_line.method if request_line is not None else "GET"
        interim = 0
        while True:
            data = await self._read_head(False)
            start_line, headers = _http1.parse_response_head(data)
            code = start_line.code
            framing = _http1.response_framing(method, start_line, headers, self._max_body_size)
            if code < 200 and code != 101:
                # Interim responses (100 Continue and the like) carry no
                # body; the delegate sees them (a client sends its body on
                # 100) and the final response follows.
                if "Content-Length" in headers or "Transfer-Encoding" in headers:
                    raise HTTP1ProtocolError(f"a {code} response cannot have a body")
                interim += 1
                if interim > _MAX_1XX_RESPONSES:
                    raise HTTP1ProtocolError("Too many 1xx responses")
                result = delegate.headers_received(start_line, headers)
                if result is not None:
                    await result
                continue
            self._response_start_line = start_line
            self._response_headers = headers
            if not _http1.response_keep_alive(start_line, headers, framing) or code == 101:
                self._disconnect_on_finish = True
            return start_line, headers, framing

    def _body_expects_continue(self, headers: HTTPHeaders) -> bool:
        request_line = self._request_start_line
        return (
            request_line is not None
            and request_line.version == "HTTP/1.1"
            and not self._response_started
            and headers.get("Expect", "").lower() == "100-continue"
        )

    async def _read_body(self, framing: Framing, delegate: HTTPMessageDelegate) -> None:
        if framing.kind == "length" and framing.length > self._max_body_size:
            raise HTTP1ProtocolError(
                f"Content-Length too long ({framing.length} bytes, limit {self._max_body_size})"
            )
        if self._body_timeout is not None:
            self._get_watchdog().arm(self._body_timeout)
        if framing.kind == "length":
            await self._read_fixed_body(framing.length, delegate)
        elif framing.kind == "chunked":
            await self._read_chunked_body(delegate)
        else:
            await self._read_body_until_close(delegate)
        if self._body_timeout is not None:
            self._get_watchdog().disarm()

    async def _deliver(self, delegate: HTTPMessageDelegate, data: bytes) -> None:
        # Once a server's application has finished its response, the rest of
        # the body is read (to keep the framing) but no longer delivered.
        if not self._write_finished or self.is_client:
            result = delegate.data_received(data)
            if result is not None:
                await result

    async def _read_fixed_body(self, length: int, delegate: HTTPMessageDelegate) -> None:
        stream = self.stream
        chunk_size = self.params.chunk_size
        # A read started to top a piece up, still waiting for the network.
        carried: asyncio.Future[bytes] | None = None
        while length > 0:
            want = min(chunk_size, length)
            if carried is None:
                data = await stream.read_bytes(want, partial=True)
            else:
                data = await carried
                carried = None
            # Pieces of chunk_size as far as the data at hand allows (the
            # delegate sees the same pieces however the body was split into
            # packets), but what has arrived is never held back waiting for
            # more: a slow sender's bytes are handed on as they come.
            size = len(data)
            if size < want:
                pieces = [data]
                while size < want:
                    more = stream.read_bytes(want - size, partial=True)
                    if not more.done():
                        carried = more
                        break
                    piece = more.result()
                    pieces.append(piece)
                    size += len(piece)
                data = b"".join(pieces)
            length -= size
            try:
                await self._deliver(delegate, data)
            except BaseException:
                if carried is not None:
                    carried.add_done_callback(_consume_outcome)
                raise

    async def _read_chunked_body(self, delegate: HTTPMessageDelegate) -> None:
        stream = self.stream
        chunk_size = self.params.chunk_size
        total = 0
        extensions = 0
        # Chunk data not yet handed on: small chunks are merged into pieces
        # of up to chunk_size, handed on when full or when the next read has
        # to wait for the network (so a slow stream of chunks is not held
        # back).
        pending: list[bytes] = []
        pending_size = 0
        chunks_since_wait = 0
        while True:
            line_future = stream.read_until_regex(_CHUNK_LINE_PATTERN)
            if not line_future.done():
                # About to wait: other connections run meanwhile anyway.
                chunks_since_wait = 0
                if pending:
                    await self._deliver_pending(delegate, pending, line_future)
                    pending_size = 0
            line = await line_future
            if not line.endswith(b"\n"):
                raise HTTP1ProtocolError(
                    f"invalid chunk size line (longer than {MAX_CHUNK_LINE_SIZE})"
                )
            size, extensions_length = _http1.parse_chunk_size_line(line)
            extensions += extensions_length
            if extensions > DEFAULT_MAX_CHUNK_EXTENSIONS_SIZE:
                raise HTTP1ProtocolError("too many chunk extensions")
            if size == 0:
                break
            total += size
            if total > self._max_body_size:
                raise HTTP1ProtocolError(
                    f"chunked body too large (more than {self._max_body_size} bytes)"
                )
            remaining = size
            while remaining:
                data_future = stream.read_bytes(
                    min(chunk_size - pending_size, remaining), partial=True
                )
                if not data_future.done():
                    # About to wait: other connections run meanwhile anyway.
                    chunks_since_wait = 0
                    if pending:
                        await self._deliver_pending(delegate, pending, data_future)
                        pending_size = 0
                data = await data_future
                remaining -= len(data)
                pending.append(data)
                pending_size += len(data)
                if pending_size >= chunk_size:
                    await self._deliver_pending(delegate, pending, None)
                    pending_size = 0
            end_future = stream.read_bytes(2)
            if not end_future.done():
                # About to wait: other connections run meanwhile anyway.
                chunks_since_wait = 0
                if pending:
                    await self._deliver_pending(delegate, pending, end_future)
                    pending_size = 0
            _http1.check_chunk_data_end(await end_future)
            chunks_since_wait += 1
            if chunks_since_wait == _CHUNKS_PER_YIELD:
                # Many small chunks already buffered are parsed without ever
                # waiting: let other connections run now and then.
                chunks_since_wait = 0
                await asyncio.sleep(0)
        if pending:
            await self._deliver_pending(delegate, pending, None)
        max_header_size = self.params.max_header_size
        trailers = await stream._read_until_regex(
            _trailer_pattern(max_header_size),
            max_header_size + _HEAD_OVERRUN_MARGIN,
            _HEAD_PATTERN_OVERLAP,
        )
        if len(trailers) > max_header_size or not (
            trailers in (b"\r\n", b"\n") or _is_head_end(trailers)
        ):
            raise HTTP1ProtocolError("trailer section too large", status_code=431)
        # Trailer fields are validated (a malformed section is an error)
        # but not passed on, as in Tornado.
        _http1.parse_trailers(trailers)

    async def _deliver_pending(
        self,
        delegate: HTTPMessageDelegate,
        pending: list[bytes],
        waiting: asyncio.Future[bytes] | None,
    ) -> None:
        """Hand the merged ``pending`` pieces on and empty the list.

        ``waiting`` is a read started before (it goes on meanwhile); if the
        delegate fails, nobody will await it, so its outcome is consumed
        here rather than reported as never retrieved.
        """
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        try:
            await self._deliver(delegate, data)
        except BaseException:
            if waiting is not None:
                waiting.add_done_callback(_consume_outcome)
            raise

    async def _read_body_until_close(self, delegate: HTTPMessageDelegate) -> None:
        stream = self.stream
        chunk_size = self.params.chunk_size
        total = 0
        while True:
            try:
                data = await stream.read_bytes(chunk_size, partial=True)
            except StreamClosedError:
                if self._watchdog is not None and self._watchdog.fired:
                    raise
                return
            total += len(data)
            if total > self._max_body_size:
                raise HTTP1ProtocolError(f"Body too long (more than {self._max_body_size} bytes)")
            await self._deliver(delegate, data)

    async def _answer_bad_request(self, error: HTTPInputError) -> None:
        """Answer malformed input with its status (unless a response is
        already under way), then close."""
        stream = self.stream
        if not self._response_started and not stream.closed():
            code = getattr(error, "status_code", 400)
            reason = responses.get(code, "Bad Request")
            try:
                # A bare status line, as Tornado sends: the body (none) ends
                # with the connection.
                await stream.write(b"HTTP/1.1 %d %s\r\n\r\n" % (code, reason.encode("latin-1")))
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
        if callback is not None and not self._detached:
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
        if not self._detached:
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
            if chunk:
                head += writer.write(chunk)
        except Exception:
            # Refused (framing headers that contradict each other, a value
            # with CR/LF) before anything was written: the caller may try
            # again with other headers, but a body written without that is
            # not a raw legacy response (see `write`).
            self._headers_refused = True
            raise
        return self._write_to_stream(head)

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
        finish_future = self._finish_future
        if finish_future is not None and not finish_future.done():
            finish_future.set_result(None)


class HTTP1ServerConnection:
    """Serves a sequence of requests on one connection.

    `start_serving` reads requests one after another (pipelined requests
    are answered in order) and hands each to an
    `~tornado.httputil.HTTPServerConnectionDelegate`.

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
        self.stream = stream
        if params is None:
            params = HTTP1ConnectionParameters()
        self.params = params
        self.context = context
        self._serving_future: asyncio.Future[None] | None = None

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
        self._serving_future = asyncio.ensure_future(self._server_request_loop(delegate))

    async def _server_request_loop(self, delegate: Any) -> None:
        stream = self.stream
        # Responses are written whole or in application-sized pieces, so
        # Nagle's algorithm only adds latency; set once per connection.
        stream.set_nodelay(True)
        watchdog: _Watchdog | None = None
        try:
            while True:
                conn = HTTP1Connection(stream, False, self.params, self.context)
                if watchdog is None:
                    watchdog = conn._get_watchdog()
                else:
                    conn._watchdog = watchdog
                request_delegate = delegate.start_request(self, conn)
                try:
                    keep_going = await conn.read_response(request_delegate)
                except (StreamClosedError, asyncio.CancelledError):
                    return
                except Exception:
                    app_log.error("Uncaught exception serving %s", self.context, exc_info=True)
                    conn.close()
                    return
                if not keep_going:
                    return
        finally:
            if watchdog is not None:
                watchdog.cancel()
            delegate.on_close(self)
