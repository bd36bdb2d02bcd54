"""Sans-IO HTTP/1.x: parsing and serialising messages as pure code over bytes.

Nothing here touches a socket, a stream or an event loop; everything is
tested and fuzzed on byte strings.  ``tornado.http1connection`` wraps it
over an `~tornado.iostream.IOStream` (see "Wiring" below).

Strategy
--------

The grammar of RFC 9110/9112 is `tornado._abnf.ABNF`'s; this module only
applies it.  A message head (start line and header fields) is parsed by
one function call on the complete head:

* the head is decoded as latin-1 once (headers are `str` in Tornado, and
  latin-1 maps bytes to code points one to one);
* line endings are checked and normalised in C-level passes (CRLF, or a
  bare LF as RFC 9112 allows recipients to accept; a bare CR anywhere is
  an error);
* the start line is one ``fullmatch``;
* the whole header block is validated by one ``fullmatch`` of
  ``ABNF.field_lines``, so names, values, NUL, stray CRs, whitespace
  before the colon and obs-fold are all checked at once, in C; only when
  it fails does a slow path walk the lines to name the offending one in
  the error;
* the validated lines are then split with ``str.partition`` into a
  `~tornado.httputil.HTTPHeaders` without further checks.

The body framing is decided from the head by `request_framing` /
`response_framing`, which enforce the request-smuggling rules (no
``Content-Length`` together with ``Transfer-Encoding``, no differing
``Content-Length`` values, ``Transfer-Encoding`` only exactly
``chunked``, nothing but digits in a length).

`HTTP1Parser` is the receiving half of a connection as a state machine
(h11-style): it owns the receive buffer, and each body reader is a small
callable over it that returns an event, or None for "need more bytes", or
raises `HTTP1ProtocolError` quoting the offending bytes.  It holds the
protocol rules too: the ``Host`` rule, keep-alive and ``100-continue`` for
a server, interim (1xx) and ``101`` responses for a client, and every
limit.  Its head and chunk-line parsers are the pure functions here or,
chosen once by ``tornado.http1connection``, the llhttp-backed ones of
``tornado._http1_fast`` (same results, same errors).

Output is built by `serialize_request_head` / `serialize_response_head`,
which refuse (`ValueError`) any name that is not a token and any value
with CR, LF, NUL or another control character, and by the body writers
(`ContentLengthWriter`, `ChunkedWriter`, ...) that frame body bytes and
raise `~tornado.httputil.HTTPOutputError` when the application writes
more or fewer bytes than it announced.

Every input is bounded: the head by ``max_header_size`` (431), the number
of header lines by ``max_header_count`` (431), the body by
``max_body_size`` (400), a chunk-size line by `MAX_CHUNK_LINE_SIZE` and
the chunk extensions of one body by ``max_chunk_extensions_size`` (400).

Wiring (``tornado.http1connection``)
-----------------------------------

``HTTP1Connection`` runs one `HTTP1Parser` per connection (an
``HTTP1ServerConnection`` shares its machine among the requests of its
stream, so pipelined bytes stay in its buffer) and keeps only the I/O,
the timeouts and the delegate calls:

* Server: ``HTTP1ServerConnection`` is event-driven.  The stream hands
  every received block straight to `HTTP1Parser.receive_data`
  (``IOStream._start_consuming``, a documented internal of
  tornado-iostream), and the events that block completes are passed on at
  once, in the same callback; the connection stops taking bytes
  (``_stop_consuming``) while a delegate's awaitable is pending and until
  a response is out, then takes up what the stream buffered meanwhile.
* Client (and a server-side ``HTTP1Connection.read_response`` used on its
  own): whenever `HTTP1Parser.next_event` returns None, the connection
  reads what the stream has (up to 64 KiB) and feeds it.  A client passes
  the end of the stream on with `receive_eof` (a body that runs until
  close ends there; anything else cut short is
  `~tornado.iostream.StreamClosedError`); a server stops at the close.
* Events: `RequestHead` / `ResponseHead` go to the delegate's
  ``headers_received`` (a client's interim 1xx heads too), then
  ``max_body_size`` may be changed for the body, whose `Data` pieces are
  merged into pieces of ``chunk_size`` for ``data_received`` (through a
  `GzipBodyDecoder` when ``decompress`` is on); `EndOfMessage` is the
  delegate's ``finish``.  A head's ``expects_continue`` makes the server
  write the ``100 Continue`` interim response, serialised once by
  `serialize_response_head`.
* Errors: `HTTP1ProtocolError.status_code` is the status a server answers
  with, a bare status line from `serialize_response_head`, before it
  closes; a client logs and closes.
* ``detach()`` hands the stream over with the machine's `trailing_data`
  put back into it (``IOStream._unread``, a documented internal of
  tornado-iostream), so a WebSocket reads the frames that came with the
  handshake.
* Writing: ``stream.write(serialize_response_head(...))`` with the first
  body chunk appended, the body through the writer from
  `response_body_writer` (or `request_body_writer`); its ``must_close``
  says the connection cannot be kept alive afterwards.
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Literal, NamedTuple

from tornado._abnf import ABNF
from tornado.httputil import (
    HTTPHeaders,
    HTTPInputError,
    HTTPOutputError,
    RequestStartLine,
    ResponseStartLine,
    _headers_from_trusted_lines,
)
from tornado.util import GzipDecompressor

__all__ = [
    "DEFAULT_MAX_PIECE_SIZE",
    "MAX_CHUNK_LINE_SIZE",
    "BodyWriter",
    "ChunkedWriter",
    "ConnectionClosed",
    "ContentLengthWriter",
    "Data",
    "EndOfMessage",
    "Framing",
    "GzipBodyDecoder",
    "HTTP1Parser",
    "HTTP1ProtocolError",
    "IncompleteMessageError",
    "NoBodyWriter",
    "Parsers",
    "RequestHead",
    "ResponseHead",
    "UntilCloseWriter",
    "check_chunk_data_end",
    "encode_chunk",
    "parse_chunk_size_line",
    "parse_content_length",
    "parse_request_head",
    "parse_response_head",
    "parse_trailers",
    "request_body_writer",
    "request_framing",
    "request_keep_alive",
    "response_body_writer",
    "response_framing",
    "response_keep_alive",
    "serialize_request_head",
    "serialize_response_head",
    "transfer_encoding_chunked",
]

# ---------------------------------------------------------------------------
# Grammar (RFC 9110 section 5, RFC 9112 sections 3, 4, 5 and 7): every rule
# is `tornado._abnf.ABNF`'s, the one definition every parser shares.  Heads
# are matched as latin-1 text, chunk lines and message ends as bytes.

# Content-Length = 1*DIGIT, held to 18 digits so that it stays a machine
# integer however it is used.
_MAX_CONTENT_LENGTH_DIGITS = 18

#: The longest chunk-size line (size, extensions and CRLF) accepted.
MAX_CHUNK_LINE_SIZE = 4096

DEFAULT_MAX_HEADER_SIZE = 65536
DEFAULT_MAX_HEADER_COUNT = 1000
DEFAULT_MAX_CHUNK_EXTENSIONS_SIZE = 16384

_NO_BODY_STATUSES = frozenset({204, 304})


class HTTP1ProtocolError(HTTPInputError):
    """The peer sent something that is not valid HTTP/1.x, or that breaks a
    limit.

    ``status_code`` is the status a server should answer with before it
    closes the connection: 400 for malformed input and for a body over
    ``max_body_size`` (as Tornado answers), 431 for a head over ``max_header_size`` or
    ``max_header_count``.
    """

    def __init__(self, message: str, status_code: int = 400) -> None:
        """Record ``message`` and the ``status_code`` to answer with."""
        super().__init__(message)
        self.status_code = status_code


class IncompleteMessageError(HTTP1ProtocolError):
    """The connection closed in the middle of a message (head or body)."""


def _quote(data: bytes | str, limit: int = 60) -> str:
    """Quote (a prefix of) offending input for an error message."""
    shown = data[:limit]
    suffix = "..." if len(data) > limit else ""
    return f"{shown!r}{suffix}"


# ---------------------------------------------------------------------------
# Heads.


def _split_head(data: bytes, max_header_count: int) -> tuple[str, str]:
    """Check the line endings of a complete head; return its start line
    and its header lines joined with LF ("" when there are none)."""
    text = data.decode("latin-1")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            original = data.decode("latin-1")
            position = ABNF.bare_cr.search(original)
            assert position is not None
            start = max(position.start() - 20, 0)
            raise HTTP1ProtocolError(
                f"bare CR in message head near {_quote(original[start : position.start() + 20])}"
            )
    if not text.endswith("\n\n"):
        raise HTTP1ProtocolError(
            f"message head does not end with an empty line: {_quote(text[-60:])}"
        )
    start_line, _, block = text[:-2].partition("\n")
    if block and block.count("\n") >= max_header_count:
        raise HTTP1ProtocolError(
            f"too many header fields (more than {max_header_count})", status_code=431
        )
    return start_line, block


def _explain_bad_header_block(block: str) -> HTTP1ProtocolError:
    """Find the first invalid line of a header block that failed the fast
    check and describe it (the slow path, taken only on errors)."""
    for line in block.split("\n"):
        if ABNF.field_line.fullmatch(line):
            continue
        if line[:1] in (" ", "\t"):
            return HTTP1ProtocolError(f"obsolete line folding not allowed: {_quote(line)}")
        name, colon, value = line.partition(":")
        if not colon:
            return HTTP1ProtocolError(f"no colon in header line: {_quote(line)}")
        if ABNF.token.fullmatch(name) is None:
            return HTTP1ProtocolError(f"invalid header name {_quote(name)}")
        return HTTP1ProtocolError(f"invalid character in value of header {name!r}: {_quote(value)}")
    return HTTP1ProtocolError(f"invalid header block {_quote(block)}")


def _parse_header_block(block: str, allow_obs_fold: bool) -> HTTPHeaders:
    if not block:
        return HTTPHeaders()
    if ABNF.field_lines.fullmatch(block) is None:
        if allow_obs_fold and ABNF.obs_fold.search(block):
            # RFC 9112 section 5.2: a user agent replaces obs-fold with SP.
            unfolded = ABNF.obs_fold.sub(" ", block)
            if ABNF.field_lines.fullmatch(unfolded) is not None:
                return _headers_from_trusted_lines(unfolded.split("\n"))
        raise _explain_bad_header_block(block)
    return _headers_from_trusted_lines(block.split("\n"))


def parse_request_head(
    data: bytes, *, max_header_count: int = DEFAULT_MAX_HEADER_COUNT
) -> tuple[RequestStartLine, HTTPHeaders]:
    """Parse a complete request head: request line, header fields and the
    terminating empty line.  Empty lines before the request line are
    skipped (RFC 9112 section 2.2).

    Raises `HTTP1ProtocolError` for a malformed request line (including a
    non-ASCII or space-containing target and versions other than
    ``HTTP/1.x``), a bare CR, obs-fold, an invalid header name or value,
    more than one ``Host`` header or one that is not a host and port, or more than ``max_header_count``
    header lines (431).
    """
    if data[:1] in (b"\r", b"\n"):
        skip = ABNF.leading_empty_lines.match(data)
        assert skip is not None  # the pattern matches the empty string
        data = data[skip.end() :]
    start_line, block = _split_head(data, max_header_count)
    match = ABNF.request_line.fullmatch(start_line)
    if match is None:
        raise HTTP1ProtocolError(f"Malformed HTTP request line {_quote(start_line)}")
    headers = _parse_header_block(block, allow_obs_fold=False)
    hosts = headers._lists.get("Host", ())
    if len(hosts) > 1:
        raise HTTP1ProtocolError("more than one Host header")
    if hosts and ABNF.host_header.fullmatch(hosts[0].strip(" \t")) is None:
        raise HTTP1ProtocolError(f"Invalid Host header {_quote(hosts[0])}")
    method, target, version = match.groups()
    return RequestStartLine(method, target, version), headers


def parse_response_head(
    data: bytes, *, max_header_count: int = DEFAULT_MAX_HEADER_COUNT
) -> tuple[ResponseStartLine, HTTPHeaders]:
    """Parse a complete response head: status line, header fields and the
    terminating empty line.

    Obsolete line folding is accepted and replaced by a space, as RFC 9112
    asks of user agents.  Raises `HTTP1ProtocolError` for a malformed
    status line, a bare CR, an invalid header name or value, or more than
    ``max_header_count`` header lines (431).
    """
    start_line, block = _split_head(data, max_header_count)
    match = ABNF.lenient_status_line.fullmatch(start_line)
    if match is None:
        raise HTTP1ProtocolError(f"malformed status line {_quote(start_line)}")
    headers = _parse_header_block(block, allow_obs_fold=True)
    version, code, reason = match.groups()
    return ResponseStartLine(version, int(code), reason or ""), headers


def parse_trailers(data: bytes, *, max_header_count: int = DEFAULT_MAX_HEADER_COUNT) -> HTTPHeaders:
    """Parse the trailer section that follows the last chunk (the bytes
    after the ``0`` chunk-size line, up to and including the final empty
    line).  Raises `HTTP1ProtocolError` as for header fields."""
    if data in (b"\r\n", b"\n"):
        return HTTPHeaders()
    # A trailer section is a head without a start line.
    _, block = _split_head(b"\n" + data, max_header_count)
    return _parse_header_block(block, allow_obs_fold=False)


# ---------------------------------------------------------------------------
# Body framing.


class Framing(NamedTuple):
    """How a message body is delimited.

    ``kind`` is ``"none"`` (no body), ``"length"`` (``length`` bytes),
    ``"chunked"`` or ``"close"`` (until the connection closes; responses
    only).
    """

    kind: Literal["none", "length", "chunked", "close"]
    length: int = 0


_NO_BODY = Framing("none")
_CHUNKED = Framing("chunked")
_UNTIL_CLOSE = Framing("close")


def parse_content_length(headers: HTTPHeaders) -> int | None:
    """Return the ``Content-Length`` of ``headers``, or None if absent.

    Repeated identical values (in several fields or comma-separated) are
    accepted as one; differing values, anything but decimal digits (signs,
    spaces inside, underscores, hex) and lengths of more than 18 digits
    raise `HTTP1ProtocolError`.
    """
    fields = headers._lists.get("Content-Length")
    if fields is None:
        return None
    if len(fields) == 1 and "," not in fields[0]:
        # The common case: one field, one value.
        value = fields[0].strip(" \t")
    else:
        values = {value.strip(" \t") for field in fields for value in field.split(",")}
        if len(values) != 1:
            raise HTTP1ProtocolError(
                f"Multiple unequal Content-Lengths: {_quote(','.join(fields))}"
            )
        (value,) = values
    if len(value) > _MAX_CONTENT_LENGTH_DIGITS or ABNF.digits.fullmatch(value) is None:
        raise HTTP1ProtocolError(f"Only integer Content-Length is allowed: {_quote(value)}")
    return int(value)


def transfer_encoding_chunked(headers: HTTPHeaders) -> bool:
    """Whether ``headers`` frame the body with ``Transfer-Encoding: chunked``
    (False when there is no ``Transfer-Encoding``).

    Raises `HTTP1ProtocolError` for ``Transfer-Encoding`` together with
    ``Content-Length`` and for any value but exactly ``chunked`` (any case,
    surrounding whitespace allowed): other codings, even ``gzip, chunked``,
    are refused rather than guessed at, since a proxy might frame them
    differently (request smuggling).
    """
    transfer_encoding = headers._lists.get("Transfer-Encoding")
    if transfer_encoding is None:
        return False
    if "Content-Length" in headers:
        raise HTTP1ProtocolError("Message with both Transfer-Encoding and Content-Length")
    if len(transfer_encoding) != 1 or transfer_encoding[0].strip(" \t").lower() != "chunked":
        raise HTTP1ProtocolError(
            f"Unsupported Transfer-Encoding {','.join(transfer_encoding)[:60]}"
        )
    return True


def _check_body_size(
    length: int, max_body_size: int | None, what: str = "Content-Length too long"
) -> None:
    if max_body_size is not None and length > max_body_size:
        raise HTTP1ProtocolError(f"{what} ({length} bytes, limit {max_body_size})")


def request_framing(
    start_line: RequestStartLine, headers: HTTPHeaders, max_body_size: int | None = None
) -> Framing:
    """Decide how the body of a request is framed (RFC 9112 section 6.3).

    Raises `HTTP1ProtocolError` (400) for ``Transfer-Encoding`` together
    with ``Content-Length``, in an HTTP/1.0 request, or with any value but
    ``chunked``; for an invalid ``Content-Length`` (see
    `parse_content_length`); and for a ``Content-Length`` over
    ``max_body_size``.
    """
    if transfer_encoding_chunked(headers):
        if start_line.version == "HTTP/1.0":
            raise HTTP1ProtocolError("Transfer-Encoding in an HTTP/1.0 request")
        return _CHUNKED
    length = parse_content_length(headers)
    if length is None or length == 0:
        return _NO_BODY
    _check_body_size(length, max_body_size)
    return Framing("length", length)


def response_framing(
    request_method: str,
    start_line: ResponseStartLine,
    headers: HTTPHeaders,
    max_body_size: int | None = None,
) -> Framing:
    """Decide how the body of a response to a ``request_method`` request is
    framed (RFC 9112 section 6.3).

    Responses to HEAD, 1xx, 204 and 304 responses have no body; otherwise
    ``Transfer-Encoding: chunked``, then ``Content-Length``, then "until the
    connection closes".  Raises `HTTP1ProtocolError` for
    ``Transfer-Encoding`` with ``Content-Length``, in an HTTP/1.0
    response or with a value other than ``chunked``; a 204 response with a
    non-zero ``Content-Length``; an invalid ``Content-Length``; and a
    ``Content-Length`` over ``max_body_size``.
    """
    code = start_line.code
    if request_method == "HEAD" or code < 200 or code in _NO_BODY_STATUSES:
        if code == 204:
            length = parse_content_length(headers)
            if length:
                raise HTTP1ProtocolError(
                    f"Response with code 204 should not have body (Content-Length {length})"
                )
        return _NO_BODY
    if transfer_encoding_chunked(headers):
        if start_line.version == "HTTP/1.0":
            raise HTTP1ProtocolError("Transfer-Encoding in an HTTP/1.0 response")
        return _CHUNKED
    length = parse_content_length(headers)
    if length is None:
        return _UNTIL_CLOSE
    if length == 0:
        return _NO_BODY
    _check_body_size(length, max_body_size)
    return Framing("length", length)


def _connection_tokens(headers: HTTPHeaders) -> set[str]:
    fields = headers._lists.get("Connection")
    if fields is None:
        return set()
    return {token.strip(" \t").lower() for field in fields for token in field.split(",")}


def request_keep_alive(start_line: RequestStartLine, headers: HTTPHeaders) -> bool:
    """Whether the client allows the connection to stay open after this
    request: HTTP/1.1 unless ``Connection: close``; HTTP/1.0 only with
    ``Connection: keep-alive``."""
    tokens = _connection_tokens(headers)
    if start_line.version == "HTTP/1.1":
        return "close" not in tokens
    return "keep-alive" in tokens


def response_keep_alive(
    start_line: ResponseStartLine, headers: HTTPHeaders, framing: Framing
) -> bool:
    """Whether the connection can carry another request after this
    response: not if its body runs until close or it says
    ``Connection: close``; for HTTP/1.0 only with ``Connection: keep-alive``."""
    if framing.kind == "close":
        return False
    tokens = _connection_tokens(headers)
    if start_line.version == "HTTP/1.1":
        return "close" not in tokens
    return "keep-alive" in tokens


def parse_chunk_size_line(line: bytes) -> tuple[int, int]:
    """Parse a chunk-size line, CRLF included; return ``(size,
    extensions_length)``.

    Extensions are validated and ignored; their length is returned so the
    caller can bound their total per body.  Raises `HTTP1ProtocolError`
    for anything but 1 to 16 hex digits followed by well-formed extensions
    and CRLF (signs, ``0x``, spaces, underscores and bare LF all fail).
    """
    match = ABNF.chunk_size_line.fullmatch(line)
    if match is None:
        raise HTTP1ProtocolError(f"invalid chunk size line {_quote(line)}")
    return int(match.group(1), 16), len(match.group(2))


def check_chunk_data_end(data: bytes) -> None:
    """Check the two bytes after a chunk's data are CRLF; raise
    `HTTP1ProtocolError` if not."""
    if data != b"\r\n":
        raise HTTP1ProtocolError(f"improperly terminated chunk: {_quote(data)}")


# ---------------------------------------------------------------------------
# The connection machine: events over a receive buffer.


class RequestHead(NamedTuple):
    """Event: a request's start line and headers, with what answering it
    needs: the body framing, whether the client allows the connection to
    stay open afterwards, and whether it waits for ``100 Continue`` before
    it sends its body."""

    start_line: RequestStartLine
    headers: HTTPHeaders
    framing: Framing
    keep_alive: bool = True
    expects_continue: bool = False


class ResponseHead(NamedTuple):
    """Event: a response's start line and headers, with its body framing
    (``none`` for 1xx and 101) and whether the connection can carry another
    request after it (never after 101 or a body that runs until close)."""

    start_line: ResponseStartLine
    headers: HTTPHeaders
    framing: Framing
    keep_alive: bool = True


class Data(NamedTuple):
    """Event: a piece of a message body (never empty)."""

    data: bytes


class EndOfMessage(NamedTuple):
    """Event: the current message is complete.  ``trailers`` holds the
    trailer fields of a chunked body (empty otherwise)."""

    trailers: HTTPHeaders


class ConnectionClosed(NamedTuple):
    """Event: the peer closed the connection between messages."""


Event = RequestHead | ResponseHead | Data | EndOfMessage | ConnectionClosed

#: The largest piece of a body one `Data` event carries by default.
DEFAULT_MAX_PIECE_SIZE = 65536

# The most interim (1xx) responses a client accepts before the final one;
# a server sending more is treated as malformed (it could keep a client
# busy forever).
_MAX_1XX_RESPONSES = 32

# The most chunks whose data one Data event merges: a body of many tiny
# chunks that are all buffered is handed on in steps, between which the
# connection lets other work run.
_MAX_CHUNKS_PER_EVENT = 64

# A match of ABNF.head_end or ABNF.trailer_end looks at most this many bytes
# before the point where the previous, unsuccessful search ended.
_END_OVERLAP = 3


def _body_too_large(what: str, limit: int) -> HTTP1ProtocolError:
    return HTTP1ProtocolError(f"{what} (more than {limit} bytes)")


class _LengthReader:
    """The body of a message with a ``Content-Length``."""

    __slots__ = ("remaining",)

    def __init__(self, length: int) -> None:
        self.remaining = length

    def __call__(self, machine: HTTP1Parser) -> Data | EndOfMessage | None:
        remaining = self.remaining
        if not remaining:
            return EndOfMessage(HTTPHeaders())
        available = len(machine._buffer)
        if not available:
            return None
        piece = machine._extract(min(remaining, available, machine.max_piece_size))
        self.remaining = remaining - len(piece)
        return Data(piece)

    def read_eof(self, machine: HTTP1Parser) -> EndOfMessage:
        raise IncompleteMessageError(
            f"connection closed with {self.remaining} bytes of the body missing"
        )


class _NoBodyReader(_LengthReader):
    """A message that ends with its head."""

    __slots__ = ()

    def __init__(self) -> None:
        self.remaining = 0


class _ChunkedReader:
    """A ``Transfer-Encoding: chunked`` body (RFC 9112 section 7.1).

    Bounds the body by the machine's ``max_body_size`` (checked when a
    chunk size is announced, before its data arrives), the chunk extensions
    of the whole body by ``max_chunk_extensions_size``, each chunk-size
    line by `MAX_CHUNK_LINE_SIZE` and the trailer section by
    ``max_header_size``.  The data of consecutive chunks that are buffered
    already is merged into pieces of up to ``max_piece_size`` bytes (and
    `_MAX_CHUNKS_PER_EVENT` chunks): a body of many tiny chunks is not
    handed on a byte at a time.
    """

    __slots__ = ("body_size", "error", "extensions_size", "in_trailers", "need_crlf", "remaining")

    def __init__(self) -> None:
        self.body_size = 0
        self.extensions_size = 0
        # Bytes of the current chunk's data still to come.
        self.remaining = 0
        self.need_crlf = False
        self.in_trailers = False
        # An error found after data that is returned first.
        self.error: HTTP1ProtocolError | None = None

    def __call__(self, machine: HTTP1Parser) -> Data | EndOfMessage | None:
        if self.error is not None:
            raise self.error
        pieces: list[bytes] = []
        try:
            end = self._read(machine, pieces)
        except HTTP1ProtocolError as e:
            if not pieces:
                raise
            # The data before the error comes out first, as it would had the
            # bytes arrived in two reads split at the error.
            self.error = e
            end = None
        if pieces:
            return Data(pieces[0] if len(pieces) == 1 else b"".join(pieces))
        return end

    def _read(self, machine: HTTP1Parser, pieces: list[bytes]) -> EndOfMessage | None:
        """Collect buffered chunk data into ``pieces``; return the end of
        the message once its trailers are in (only with no data collected)."""
        buffer = machine._buffer
        limit = machine.max_piece_size
        collected = 0
        while len(pieces) < _MAX_CHUNKS_PER_EVENT:
            if self.in_trailers:
                if pieces:
                    return None
                trailers = machine._extract_until(
                    ABNF.trailer_end, machine.max_header_size, "trailer section"
                )
                if trailers is None:
                    return None
                return EndOfMessage(
                    parse_trailers(trailers, max_header_count=machine.max_header_count)
                )
            remaining = self.remaining
            if remaining:
                available = len(buffer)
                if not available:
                    break
                piece = machine._extract(min(remaining, available, limit - collected))
                self.remaining = remaining - len(piece)
                pieces.append(piece)
                collected += len(piece)
                if collected >= limit:
                    break
                continue
            if self.need_crlf:
                if len(buffer) < 2:
                    break
                check_chunk_data_end(machine._extract(2))
                self.need_crlf = False
            line = machine._extract_chunk_line()
            if line is None:
                break
            size, extensions = machine._parse_chunk_size_line(line)
            self.extensions_size += extensions
            if self.extensions_size > machine.max_chunk_extensions_size:
                raise HTTP1ProtocolError(
                    f"too many chunk extensions (more than {machine.max_chunk_extensions_size} bytes)"
                )
            if size == 0:
                self.in_trailers = True
                continue
            self.body_size += size
            max_body_size = machine.max_body_size
            if max_body_size is not None and self.body_size > max_body_size:
                raise _body_too_large("chunked body too large", max_body_size)
            self.remaining = size
            self.need_crlf = True
        return None

    def read_eof(self, machine: HTTP1Parser) -> EndOfMessage:
        raise IncompleteMessageError("connection closed in the middle of a chunked body")


class _UntilCloseReader:
    """A response body that ends when the connection closes."""

    __slots__ = ("body_size",)

    def __init__(self) -> None:
        self.body_size = 0

    def __call__(self, machine: HTTP1Parser) -> Data | None:
        available = len(machine._buffer)
        if not available:
            return None
        piece = machine._extract(min(available, machine.max_piece_size))
        self.body_size += len(piece)
        max_body_size = machine.max_body_size
        if max_body_size is not None and self.body_size > max_body_size:
            raise _body_too_large("Body too long", max_body_size)
        return Data(piece)

    def read_eof(self, machine: HTTP1Parser) -> EndOfMessage:
        return EndOfMessage(HTTPHeaders())


_BodyReader = _LengthReader | _ChunkedReader | _UntilCloseReader

#: The head and chunk-line parsers a machine runs: ``(parse_request_head,
#: parse_response_head, parse_chunk_size_line)``, pure or accelerated
#: (``tornado._http1_fast.select()``), with identical results and errors.
Parsers = tuple[
    Callable[..., tuple[RequestStartLine, HTTPHeaders]],
    Callable[..., tuple[ResponseStartLine, HTTPHeaders]],
    Callable[[bytes], tuple[int, int]],
]


class HTTP1Parser:
    """The receiving half of one HTTP/1.x connection, as a state machine:
    the code `tornado.http1connection` runs on both sides.

    Feed it bytes with `receive_data` (and `receive_eof` when the peer
    closes), then call `next_event` until it returns None ("need more
    bytes").  A server-side machine (``role="server"``) yields, for each
    request in turn (pipelining included): `RequestHead`, `Data` pieces,
    `EndOfMessage`; then `ConnectionClosed` at a clean end.  A client-side
    machine (``role="client"``) must be told the method of each request it
    sent, in order, with `expect_response`; it yields `ResponseHead` (also
    for 1xx informational responses, which precede the final one),
    `Data`, `EndOfMessage`.  After a ``101 Switching Protocols`` response
    (and its `EndOfMessage`) it stops; the bytes after it are in
    `trailing_data`.

    The protocol rules live here, not in the I/O code: a server refuses an
    HTTP/1.1 request without ``Host``, decides keep-alive and
    ``100-continue`` from the head; a client accepts at most 32 interim
    responses, none with framing headers.  Limits: the head by
    ``max_header_size`` (431), its lines by ``max_header_count`` (431), a
    body by ``max_body_size`` (400; read when the body starts, so the
    connection may change it after seeing the head), a chunk-size line by
    `MAX_CHUNK_LINE_SIZE` and the chunk extensions of a body by
    ``max_chunk_extensions_size`` (400).  `Data` pieces are at most
    ``max_piece_size`` bytes.

    Errors raise `HTTP1ProtocolError`; the machine then stays broken and
    raises the same error again.
    """

    __slots__ = (
        "_buffer",
        "_eof",
        "_error",
        "_framing",
        "_interim",
        "_parse_chunk_size_line",
        "_parse_request_head",
        "_parse_response_head",
        "_pending_methods",
        "_reader",
        "_scan_from",
        "_state",
        "max_body_size",
        "max_chunk_extensions_size",
        "max_header_count",
        "max_header_size",
        "max_piece_size",
        "role",
    )

    def __init__(
        self,
        role: Literal["server", "client"],
        *,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
        max_body_size: int | None = None,
        max_chunk_extensions_size: int = DEFAULT_MAX_CHUNK_EXTENSIONS_SIZE,
        max_piece_size: int = DEFAULT_MAX_PIECE_SIZE,
        parsers: Parsers | None = None,
    ) -> None:
        """Create a machine for one side of a connection, with its limits
        and (by default the pure) head and chunk-line parsers."""
        self.role = role
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self.max_body_size = max_body_size
        self.max_chunk_extensions_size = max_chunk_extensions_size
        self.max_piece_size = max_piece_size
        if parsers is None:
            parsers = (parse_request_head, parse_response_head, parse_chunk_size_line)
        self._parse_request_head, self._parse_response_head, self._parse_chunk_size_line = parsers
        self._buffer = bytearray()
        # Where the next search for a head or trailer end resumes, so bytes
        # arriving a few at a time are not rescanned quadratically.
        self._scan_from = 0
        self._eof = False
        self._state = _HEAD
        # The framing of the message whose head was returned last; its body
        # reader is made when the body is first asked for.
        self._framing: Framing | None = None
        self._reader: _BodyReader | None = None
        self._pending_methods: deque[str] = deque()
        self._interim = 0
        self._error: HTTP1ProtocolError | None = None

    def receive_data(self, data: bytes) -> None:
        """Add bytes received from the peer."""
        self._buffer += data

    def receive_eof(self) -> None:
        """Note that the peer closed its side of the connection."""
        self._eof = True

    def expect_response(self, request_method: str) -> None:
        """Client side: a request with this method was sent, so its
        response is the next (after earlier ones) to parse."""
        self._pending_methods.append(request_method)

    @property
    def buffered(self) -> int:
        """How many received bytes are not parsed yet."""
        return len(self._buffer)

    @property
    def trailing_data(self) -> bytes:
        """The received bytes not parsed yet (after a protocol switch, the
        first bytes of the new protocol)."""
        return bytes(self._buffer)

    def next_event(self) -> Event | None:
        """Return the next event, or None if more bytes are needed (or, on
        the client side, no response is expected).  Raises
        `HTTP1ProtocolError` for invalid input or a broken limit."""
        if self._error is not None:
            raise self._error
        try:
            reader = self._reader
            if reader is None:
                framing = self._framing
                if framing is None:
                    if self._state != _HEAD:
                        return None
                    if self.role == "server":
                        return self._next_request_head()
                    return self._next_response_head()
                self._framing = None
                reader = self._reader = self._make_reader(framing)
            event = reader(self)
            if event is None and self._eof:
                event = reader.read_eof(self)
            if type(event) is EndOfMessage:
                self._reader = None
                if type(reader) is _UntilCloseReader:
                    self._state = _CLOSED
                elif self.role == "client":
                    self._pending_methods.popleft()
            return event
        except HTTP1ProtocolError as e:
            self._error = e
            raise

    # -- buffer ------------------------------------------------------------

    def _extract(self, count: int) -> bytes:
        buffer = self._buffer
        if count == len(buffer):
            piece = bytes(buffer)
            buffer.clear()
        else:
            piece = bytes(buffer[:count])
            # Deleting from the front of a bytearray is amortised O(1).
            del buffer[:count]
        self._scan_from = 0
        return piece

    def _extract_until(self, pattern: re.Pattern[bytes], max_size: int, what: str) -> bytes | None:
        """Remove and return the bytes up to the end of the first match of
        ``pattern``, None if there is none yet; 431 past ``max_size``."""
        buffer = self._buffer
        match = pattern.search(buffer, max(self._scan_from - _END_OVERLAP, 0))
        if match is None:
            if len(buffer) > max_size:
                raise HTTP1ProtocolError(f"{what} larger than {max_size} bytes", status_code=431)
            self._scan_from = len(buffer)
            return None
        end = match.end()
        if end > max_size:
            raise HTTP1ProtocolError(f"{what} larger than {max_size} bytes", status_code=431)
        return self._extract(end)

    def _extract_chunk_line(self) -> bytes | None:
        end = self._buffer.find(b"\n", 0, MAX_CHUNK_LINE_SIZE)
        if end == -1:
            if len(self._buffer) >= MAX_CHUNK_LINE_SIZE:
                raise HTTP1ProtocolError(
                    f"invalid chunk size line (longer than {MAX_CHUNK_LINE_SIZE} bytes)"
                )
            return None
        return self._extract(end + 1)

    def _skip_empty_lines(self) -> None:
        buffer = self._buffer
        if buffer and buffer[0] in (0x0D, 0x0A):
            match = ABNF.leading_empty_lines.match(buffer)
            assert match is not None  # the pattern matches the empty string
            # A trailing CR may be the first half of a CRLF still to come;
            # the rule only consumes complete line ends, so it stays.
            del buffer[: match.end()]
            self._scan_from = 0

    # -- heads -------------------------------------------------------------

    def _at_eof_between_messages(self) -> ConnectionClosed | None:
        if not self._eof:
            return None
        self._skip_empty_lines()
        if self._buffer:
            raise IncompleteMessageError(
                f"connection closed in the middle of a message head: {_quote(bytes(self._buffer))}"
            )
        self._state = _CLOSED
        return ConnectionClosed()

    def _next_request_head(self) -> RequestHead | ConnectionClosed | None:
        buffer = self._buffer
        if not buffer:
            # The common case after a response: nothing pipelined.
            return self._at_eof_between_messages()
        # Empty lines before a request line (a client's stray CRLF after a
        # previous body, RFC 9112 section 2.2) are not a head.
        if buffer[0] in (0x0D, 0x0A):
            self._skip_empty_lines()
        data = self._extract_until(ABNF.head_end, self.max_header_size, "message head")
        if data is None:
            return self._at_eof_between_messages()
        start_line, headers = self._parse_request_head(data, max_header_count=self.max_header_count)
        fields = headers._lists
        version = start_line.version
        if version == "HTTP/1.1" and "Host" not in fields:
            # RFC 9112 section 3.2: an HTTP/1.1 request without Host is a 400.
            raise HTTP1ProtocolError("Missing Host header")
        if "Content-Length" in fields or "Transfer-Encoding" in fields:
            framing = request_framing(start_line, headers)
        else:
            framing = _NO_BODY
        self._framing = framing
        expects_continue = (
            framing is not _NO_BODY
            and version == "HTTP/1.1"
            and "Expect" in fields
            and headers["Expect"].lower() == "100-continue"
        )
        return RequestHead(
            start_line,
            headers,
            framing,
            request_keep_alive(start_line, headers)
            if "Connection" in fields or version != "HTTP/1.1"
            else True,
            expects_continue,
        )

    def _next_response_head(self) -> ResponseHead | ConnectionClosed | None:
        if not self._pending_methods:
            if self._eof and not self._buffer:
                self._state = _CLOSED
                return ConnectionClosed()
            return None
        data = self._extract_until(ABNF.head_end, self.max_header_size, "message head")
        if data is None:
            return self._at_eof_between_messages()
        start_line, headers = self._parse_response_head(
            data, max_header_count=self.max_header_count
        )
        code = start_line.code
        framing = response_framing(
            self._pending_methods[0], start_line, headers, self.max_body_size
        )
        if code < 200 and code != 101:
            # Interim responses (100 Continue and the like) have no body;
            # the final response follows.
            if "Content-Length" in headers._lists or "Transfer-Encoding" in headers._lists:
                raise HTTP1ProtocolError(f"a {code} response cannot have a body")
            self._interim += 1
            if self._interim > _MAX_1XX_RESPONSES:
                raise HTTP1ProtocolError("Too many 1xx responses")
            return ResponseHead(start_line, headers, framing, True)
        self._interim = 0
        self._framing = framing
        if code == 101:
            # What follows the (body-less) 101 is another protocol's.
            self._state = _SWITCHED
            return ResponseHead(start_line, headers, framing, False)
        return ResponseHead(
            start_line, headers, framing, response_keep_alive(start_line, headers, framing)
        )

    def _make_reader(self, framing: Framing) -> _BodyReader:
        kind = framing.kind
        if kind == "none":
            return _NO_BODY_READER
        if kind == "length":
            _check_body_size(framing.length, self.max_body_size)
            return _LengthReader(framing.length)
        if kind == "chunked":
            return _ChunkedReader()
        return _UntilCloseReader()


_NO_BODY_READER = _NoBodyReader()

_HEAD = 0
_SWITCHED = 1
_CLOSED = 2

# ---------------------------------------------------------------------------
# Content-Encoding: gzip bodies.


class GzipBodyDecoder:
    """Inflates a gzip-encoded body as its pieces arrive, without ever
    holding more than ``chunk_size`` inflated bytes per step, and refuses
    it once it inflates past ``max_body_size`` (a decompression bomb is
    stopped after at most ``max_body_size`` bytes, not inflated whole).
    """

    def __init__(self, max_body_size: int | None = None, chunk_size: int = 65536) -> None:
        """Set the limit on the inflated size and the largest piece returned."""
        self._decompressor = GzipDecompressor()
        self._max_body_size = max_body_size
        self._chunk_size = chunk_size
        self._inflated = 0

    def _account(self, piece: bytes) -> bytes:
        self._inflated += len(piece)
        if self._max_body_size is not None and self._inflated > self._max_body_size:
            raise HTTP1ProtocolError(
                f"decompressed body too large (more than {self._max_body_size} bytes)"
            )
        return piece

    def decompress(self, data: bytes) -> Iterator[bytes]:
        """Yield the inflated pieces (each at most ``chunk_size`` bytes) of
        the next piece of the encoded body.  Raises `HTTP1ProtocolError`:
        for data that is not gzip or that inflates past ``max_body_size``."""
        while data:
            try:
                piece = self._decompressor.decompress(data, self._chunk_size)
            except zlib.error as e:
                raise HTTP1ProtocolError(f"invalid gzip data: {e}") from e
            data = self._decompressor.unconsumed_tail
            if piece:
                yield self._account(piece)

    def flush(self) -> bytes:
        """Return the last inflated bytes at the end of the body; raises as
        `decompress`."""
        try:
            return self._account(self._decompressor.flush())
        except zlib.error as e:
            raise HTTP1ProtocolError(f"invalid gzip data: {e}") from e


# ---------------------------------------------------------------------------
# Output.

# Header names already checked to be tokens.  Applications send the same
# few names on every response, so most heads need no name check at all; the
# set stops growing at a fixed size.
_VALID_NAMES: set[str] = set()
# Status lines already checked, by start line: an application sends the
# same few; bounded like the names.
_STATUS_LINES: dict[ResponseStartLine, str] = {}
_VALID_NAMES_MAX = 1000


def _check_names(names: Iterable[str]) -> None:
    for name in names:
        if name not in _VALID_NAMES:
            if ABNF.token.fullmatch(name) is None:
                raise ValueError(f"invalid header name {name!r}")
            if len(_VALID_NAMES) < _VALID_NAMES_MAX:
                _VALID_NAMES.add(name)


def _serialize_fields(first_line: str, headers: HTTPHeaders) -> bytes:
    lists = headers._lists
    if not _VALID_NAMES.issuperset(lists):
        _check_names(lists)
    lines = [first_line]
    lines += [f"{name}: {value}" for name, values in lists.items() for value in values]
    lines.append("\r\n")
    # Header values are latin-1 on the wire; other characters raise
    # UnicodeEncodeError, a ValueError.
    wire = "\r\n".join(lines).encode("latin-1")
    if wire.translate(None, ABNF.head_safe_bytes) != b"\r\n" * len(lines):
        bad = next(
            (line for line in lines[1:-1] if ABNF.unsafe_field_char.search(line)), first_line
        )
        raise ValueError(f"unsafe character (CR, LF, NUL or control) in header {bad!r}")
    return wire


def serialize_request_head(start_line: RequestStartLine, headers: HTTPHeaders) -> bytes:
    """Return the bytes of a request head: request line, header fields and
    the empty line.

    Raises `ValueError` for a method that is not a token, a target with
    spaces or control characters, a version other than ``HTTP/1.x``, a
    header name that is not a token, a header value with CR, LF, NUL or
    another control character, or text that is not latin-1.
    """
    method, target, version = start_line
    if ABNF.token.fullmatch(method) is None:
        raise ValueError(f"invalid request method {method!r}")
    if ABNF.lenient_request_target.fullmatch(target) is None:
        raise ValueError(f"invalid request target {target!r}")
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise ValueError(f"unsupported HTTP version {version!r}")
    return _serialize_fields(f"{method} {target} {version}", headers)


def serialize_response_head(start_line: ResponseStartLine, headers: HTTPHeaders) -> bytes:
    """Return the bytes of a response head: status line, header fields and
    the empty line.

    Raises `ValueError` for a version other than ``HTTP/1.x``, a status
    code outside 100-999, a reason phrase with CR, LF or other control
    characters, a header name that is not a token, a header value with CR,
    LF, NUL or another control character, or text that is not latin-1.
    """
    status_line = _STATUS_LINES.get(start_line)
    if status_line is None:
        version, code, reason = start_line
        if version not in ("HTTP/1.0", "HTTP/1.1"):
            raise ValueError(f"unsupported HTTP version {version!r}")
        if not 100 <= code <= 999:
            raise ValueError(f"invalid status code {code!r}")
        if ABNF.unsafe_field_char.search(reason) is not None:
            raise ValueError(f"unsafe character in reason phrase {reason!r}")
        status_line = f"{version} {code} {reason}"
        if len(_STATUS_LINES) < _VALID_NAMES_MAX:
            _STATUS_LINES[start_line] = status_line
    return _serialize_fields(status_line, headers)


def encode_chunk(data: bytes) -> bytes:
    """Return ``data`` framed as one chunk (``b""`` for empty data, which
    would otherwise be the last-chunk marker)."""
    if not data:
        return b""
    return b"%x\r\n%b\r\n" % (len(data), data)


class BodyWriter:
    """Frames the body bytes of one outgoing message.

    `write` returns the bytes to send for a piece of the body, `finish` the
    bytes that end the message; both raise `HTTPOutputError` for a body
    that does not fit the framing.  ``must_close`` is true when the end of
    the body can only be signalled by closing the connection.
    """

    must_close = False

    def write(self, data: bytes) -> bytes:
        """Return the wire bytes for ``data``."""
        raise NotImplementedError()

    def finish(self) -> bytes:
        """Return the bytes that end the message."""
        raise NotImplementedError()


class ContentLengthWriter(BodyWriter):
    """A body of exactly ``length`` bytes, as its ``Content-Length`` says."""

    def __init__(self, length: int) -> None:
        """Expect ``length`` bytes."""
        self._remaining = length

    def write(self, data: bytes) -> bytes:
        """Return ``data``; raise `HTTPOutputError` if it goes past the
        announced length."""
        self._remaining -= len(data)
        if self._remaining < 0:
            raise HTTPOutputError("Tried to write more data than Content-Length")
        return data

    def finish(self) -> bytes:
        """Return ``b""``; raise `HTTPOutputError` if bytes are missing."""
        if self._remaining:
            raise HTTPOutputError(
                f"Tried to write {self._remaining} bytes less than Content-Length"
            )
        return b""


class ChunkedWriter(BodyWriter):
    """A ``Transfer-Encoding: chunked`` body."""

    def write(self, data: bytes) -> bytes:
        """Return ``data`` as one chunk."""
        return encode_chunk(data)

    def finish(self) -> bytes:
        """Return the last chunk and the empty trailer section."""
        return b"0\r\n\r\n"


class UntilCloseWriter(BodyWriter):
    """A body ended by closing the connection (HTTP/1.0 responses without
    ``Content-Length``)."""

    must_close = True

    def write(self, data: bytes) -> bytes:
        """Return ``data`` unchanged."""
        return data

    def finish(self) -> bytes:
        """Return ``b""``; the caller closes the connection."""
        return b""


class NoBodyWriter(BodyWriter):
    """A message that has no body (responses to HEAD, 1xx, 204 and 304;
    requests without ``Content-Length`` or ``Transfer-Encoding``)."""

    def write(self, data: bytes) -> bytes:
        """Return ``b""`` for empty ``data``; raise `HTTPOutputError`
        otherwise."""
        if data:
            raise HTTPOutputError("Tried to write a body in a message that cannot have one")
        return b""

    def finish(self) -> bytes:
        """Return ``b""``."""
        return b""


def _writer_from_headers(headers: HTTPHeaders) -> BodyWriter | None:
    fields = headers._lists
    if "Content-Length" in fields:
        try:
            length = parse_content_length(headers)
        except HTTP1ProtocolError as e:
            raise HTTPOutputError(str(e)) from e
        assert length is not None
        if "Transfer-Encoding" in fields:
            raise HTTPOutputError("both Content-Length and Transfer-Encoding set")
        return ContentLengthWriter(length)
    # Content-Length is absent here, so only an unsupported coding raises.
    try:
        chunked = transfer_encoding_chunked(headers)
    except HTTP1ProtocolError as e:
        raise HTTPOutputError(str(e)) from e
    return ChunkedWriter() if chunked else None


def response_body_writer(
    request_method: str | None,
    request_version: str,
    status_code: int,
    headers: HTTPHeaders,
) -> BodyWriter:
    """Choose the framing of an outgoing response and return its writer.

    No body for HEAD requests and 1xx, 204 and 304 responses; otherwise the
    ``Content-Length`` or ``Transfer-Encoding: chunked`` the headers set;
    otherwise chunked for an HTTP/1.1 request (adding the header to
    ``headers``) or until-close for HTTP/1.0.  Raises `HTTPOutputError` for
    an invalid or conflicting framing header, or framing headers (other
    than ``Content-Length: 0``) on a 1xx or 204 response.
    """
    if status_code == 204 or status_code < 200:
        # These responses cannot carry framing headers at all: a peer would
        # otherwise misread what follows (RFC 9110 section 8.6, 9112 6.1).
        if "Transfer-Encoding" in headers or headers.get("Content-Length", "0") != "0":
            raise HTTPOutputError(f"a {status_code} response cannot have a body")
        return NoBodyWriter()
    if request_method == "HEAD" or status_code in _NO_BODY_STATUSES:
        return NoBodyWriter()
    writer = _writer_from_headers(headers)
    if writer is not None:
        return writer
    if request_version == "HTTP/1.1":
        headers["Transfer-Encoding"] = "chunked"
        return ChunkedWriter()
    return UntilCloseWriter()


def request_body_writer(headers: HTTPHeaders) -> BodyWriter:
    """Return the writer for an outgoing request's body: by its
    ``Content-Length`` or ``Transfer-Encoding: chunked``, or no body.
    Raises `HTTPOutputError` for an invalid or conflicting framing header."""
    writer = _writer_from_headers(headers)
    return writer if writer is not None else NoBodyWriter()
