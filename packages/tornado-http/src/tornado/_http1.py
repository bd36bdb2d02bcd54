"""Sans-IO HTTP/1.x: parsing and serialising messages as pure code over bytes.

Nothing here touches a socket, a stream or an event loop; everything is
tested and fuzzed on byte strings.  ``tornado.http1connection`` wraps it
over an `~tornado.iostream.IOStream` (see "Wiring" below).

Strategy
--------

The grammar of RFC 9110/9112 lives at the top of the module as regular
expressions.  A message head (start line and header fields) is parsed by
one function call on the complete head:

* the head is decoded as latin-1 once (headers are `str` in Tornado, and
  latin-1 maps bytes to code points one to one);
* line endings are checked and normalised in C-level passes (CRLF, or a
  bare LF as RFC 9112 allows recipients to accept; a bare CR anywhere is
  an error);
* the start line is one ``fullmatch``;
* the whole header block is validated by one ``fullmatch`` of a regex that
  only accepts ``token ":" field-value`` lines, so names, values, NUL,
  stray CRs, whitespace before the colon and obs-fold are all checked at
  once, in C; only when it fails does a slow path walk the lines to name
  the offending one in the error;
* the validated lines are then split with ``str.partition`` into a
  `~tornado.httputil.HTTPHeaders` without further checks.

The body framing is decided from the head by `request_framing` /
`response_framing`, which enforce the request-smuggling rules (no
``Content-Length`` together with ``Transfer-Encoding``, no differing
``Content-Length`` values, ``Transfer-Encoding`` only exactly
``chunked``, nothing but digits in a length) and the body size limit.

For code that owns its receive buffer (tests, fuzzers, a future ASGI
server) there are h11-style readers: each is a small callable over a
`ReceiveBuffer` that returns an event, or None for "need more bytes", or
raises `HTTP1ProtocolError` quoting the offending bytes.  `HTTP1Parser`
strings them together into a state machine for one connection (keep-alive
and pipelining included).

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

Wiring (for ``tornado.http1connection``)
---------------------------------------

``HTTP1Connection`` keeps the stream's own buffer and calls the pure
functions, so no byte is copied into a second buffer:

* Head: ``data = await stream.read_until_regex(HEAD_END_PATTERN,
  max_bytes=max_header_size)``; a `~tornado.iostream.UnsatisfiableReadError`
  there means 431.  Then ``parse_request_head(data, ...)`` (server) or
  ``parse_response_head(data, ...)`` (client), then `request_framing` /
  `response_framing`.  `parse_request_head` skips empty lines before the
  request line (a client's stray CRLF after a previous body); a "head"
  that is nothing but empty lines (``not data.strip(b"\\r\\n")``) should
  just be read again.
* Building the `~tornado.httputil.HTTPServerRequest` can raise
  `~tornado.httputil.HTTPInputError` (too many query arguments), and so
  can ``request._parse_body()`` (malformed or over-limit form body): both
  are 400 answers.
* ``Framing("length", n)``: read ``stream.read_bytes(min(n, chunk_size),
  partial=True)`` until *n* bytes have come, handing each piece to the
  delegate's ``data_received`` (through a `GzipBodyDecoder` when
  ``decompress`` is on and the body says ``Content-Encoding: gzip``; it
  checks the inflated size against ``max_body_size`` as it goes).
* ``Framing("chunked")``: loop: ``line = await stream.read_until(b"\\r\\n",
  max_bytes=MAX_CHUNK_LINE_SIZE)``, ``size, ext = parse_chunk_size_line(line)``
  (count ``ext`` against the extension budget and ``size`` against
  ``max_body_size``); for a non-zero size read the data in pieces as for a
  length, then ``read_bytes(2)`` and call `check_chunk_data_end`; for size
  zero, read lines with ``read_until(b"\\n", ...)`` until an empty one
  (``b"\\r\\n"``), keeping their total under ``max_header_size``, and pass
  them joined to `parse_trailers`.
* ``Framing("close")`` (responses only): ``read_into`` / ``read_bytes(...,
  partial=True)`` until `~tornado.iostream.StreamClosedError`.
* ``Framing("none")``: the message ends with its head.
* Writing: ``stream.write(serialize_response_head(...))`` with the first
  body chunk appended, the body through the writer from
  `response_body_writer` (or `request_body_writer`); its ``must_close``
  says the connection cannot be kept alive afterwards.
* Keep-alive: `request_keep_alive` / `response_keep_alive` read the
  ``Connection`` header and version.  `HTTP1ProtocolError.status_code`
  is the status to answer a bad request with, before closing.
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Literal, NamedTuple

from tornado.httputil import (
    _ABNF,
    HTTPHeaders,
    HTTPInputError,
    HTTPOutputError,
    RequestStartLine,
    ResponseStartLine,
    _headers_from_trusted_lines,
)
from tornado.util import GzipDecompressor

__all__ = [
    "HEAD_END_PATTERN",
    "MAX_CHUNK_LINE_SIZE",
    "BodyWriter",
    "ChunkedReader",
    "ChunkedWriter",
    "ConnectionClosed",
    "ContentLengthReader",
    "ContentLengthWriter",
    "Data",
    "EndOfMessage",
    "Framing",
    "GzipBodyDecoder",
    "HTTP1Parser",
    "HTTP1ProtocolError",
    "IncompleteMessageError",
    "NoBodyWriter",
    "ReceiveBuffer",
    "RequestHead",
    "ResponseHead",
    "UntilCloseReader",
    "UntilCloseWriter",
    "check_chunk_data_end",
    "encode_chunk",
    "parse_chunk_size_line",
    "parse_content_length",
    "parse_request_head",
    "parse_response_head",
    "parse_trailers",
    "read_request_head",
    "read_response_head",
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
# Grammar (RFC 9110 section 5, RFC 9112 sections 3, 4, 5 and 7): the rules
# are `tornado.httputil._ABNF`'s, the one definition every parser shares.
# Heads are matched as latin-1 text, chunk lines as bytes.

# All header lines of a head (joined with LF): validated in one match.
_HEADER_BLOCK_RE = _ABNF.field_lines
# request-line = method SP request-target SP HTTP-version.  The target is
# visible ASCII plus bytes 0x80-0xFF (obs-text, read as latin-1), which
# some clients send unescaped and Tornado accepts; controls and extra
# spaces fail.
_REQUEST_LINE_RE = _ABNF.request_line
# status-line = HTTP-version SP status-code SP [ reason-phrase ]; servers
# that drop the space before an empty reason are common enough to accept.
_STATUS_LINE_RE = _ABNF.lenient_status_line
_OBS_FOLD_RE = re.compile(r"\n[ \t]+")
_LEADING_EMPTY_LINES_RE = re.compile(rb"(?:\r?\n)*")
# Content-Length = 1*DIGIT, held to 18 digits so that it stays a machine
# integer however it is used.
_MAX_CONTENT_LENGTH_DIGITS = 18
_HOST_RE = _ABNF.host_header

# chunk = chunk-size [ chunk-ext ] CRLF; chunk-size = 1*HEXDIG, here at
# most 16 of them.  The same rules as text, matched on bytes.
_CHUNK_LINE_RE = re.compile(
    rb"([0-9A-Fa-f]{1,16})(" + _ABNF.chunk_ext.pattern.encode("latin-1") + rb")\r\n"
)

#: A regex (bytes) for ``read_until_regex`` that ends a message head: the
#: blank line after the headers (CRLF CRLF, or LF-only variants).
HEAD_END_PATTERN = rb"\r?\n\r?\n"
_HEAD_END_RE = re.compile(HEAD_END_PATTERN)
# The end of the trailer section, searched from just after the "0" chunk
# line: an immediate empty line, or the blank line after trailer fields.
# ("^" matches only at the real start of the buffer, which is where the
# reader's search begins.)
_TRAILER_END_RE = re.compile(rb"^\r?\n|\r?\n\r?\n")
_LINE_END_RE = re.compile(rb"\n")

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
            position = re.search(r"\r(?!\n)", original)
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
        if _ABNF.field_line.fullmatch(line):
            continue
        if line[:1] in (" ", "\t"):
            return HTTP1ProtocolError(f"obsolete line folding not allowed: {_quote(line)}")
        name, colon, value = line.partition(":")
        if not colon:
            return HTTP1ProtocolError(f"no colon in header line: {_quote(line)}")
        if _ABNF.token.fullmatch(name) is None:
            return HTTP1ProtocolError(f"invalid header name {_quote(name)}")
        return HTTP1ProtocolError(f"invalid character in value of header {name!r}: {_quote(value)}")
    return HTTP1ProtocolError(f"invalid header block {_quote(block)}")


def _parse_header_block(block: str, allow_obs_fold: bool) -> HTTPHeaders:
    if not block:
        return HTTPHeaders()
    if _HEADER_BLOCK_RE.fullmatch(block) is None:
        if allow_obs_fold and _OBS_FOLD_RE.search(block):
            # RFC 9112 section 5.2: a user agent replaces obs-fold with SP.
            unfolded = _OBS_FOLD_RE.sub(" ", block)
            if _HEADER_BLOCK_RE.fullmatch(unfolded) is not None:
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
        skip = _LEADING_EMPTY_LINES_RE.match(data)
        assert skip is not None  # the pattern matches the empty string
        data = data[skip.end() :]
    start_line, block = _split_head(data, max_header_count)
    match = _REQUEST_LINE_RE.fullmatch(start_line)
    if match is None:
        raise HTTP1ProtocolError(f"Malformed HTTP request line {_quote(start_line)}")
    headers = _parse_header_block(block, allow_obs_fold=False)
    hosts = headers._lists.get("Host", ())
    if len(hosts) > 1:
        raise HTTP1ProtocolError("more than one Host header")
    if hosts and _HOST_RE.fullmatch(hosts[0].strip(" \t")) is None:
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
    match = _STATUS_LINE_RE.fullmatch(start_line)
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
    values = {value.strip(" \t") for field in fields for value in field.split(",")}
    if len(values) != 1:
        raise HTTP1ProtocolError(f"Multiple unequal Content-Lengths: {_quote(','.join(fields))}")
    (value,) = values
    if len(value) > _MAX_CONTENT_LENGTH_DIGITS or _ABNF.digits.fullmatch(value) is None:
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
    match = _CHUNK_LINE_RE.fullmatch(line)
    if match is None:
        raise HTTP1ProtocolError(f"invalid chunk size line {_quote(line)}")
    return int(match.group(1), 16), len(match.group(2))


def check_chunk_data_end(data: bytes) -> None:
    """Check the two bytes after a chunk's data are CRLF; raise
    `HTTP1ProtocolError` if not."""
    if data != b"\r\n":
        raise HTTP1ProtocolError(f"improperly terminated chunk: {_quote(data)}")


# ---------------------------------------------------------------------------
# Events and readers over a receive buffer.


class RequestHead(NamedTuple):
    """Event: a request's start line and headers, with its body framing."""

    start_line: RequestStartLine
    headers: HTTPHeaders
    framing: Framing


class ResponseHead(NamedTuple):
    """Event: a response's start line and headers, with its body framing
    (``none`` for informational 1xx responses)."""

    start_line: ResponseStartLine
    headers: HTTPHeaders
    framing: Framing


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


class ReceiveBuffer:
    """Bytes received and not yet parsed.

    Removing bytes from the front of a `bytearray` is amortised O(1) in
    CPython, so extracting many small pieces from a large buffer stays
    linear.  Searches for line and head ends resume where the previous
    unsuccessful search stopped, so data arriving a byte at a time is not
    rescanned quadratically.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._data = bytearray()
        self._search_from = 0

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._data += data

    def __len__(self) -> int:
        """The number of buffered bytes."""
        return len(self._data)

    def __bytes__(self) -> bytes:
        """The buffered bytes (without consuming them)."""
        return bytes(self._data)

    def startswith(self, prefix: bytes) -> bool:
        """Whether the buffer starts with ``prefix``."""
        return self._data.startswith(prefix)

    def extract_at_most(self, count: int) -> bytes:
        """Remove and return up to ``count`` bytes from the front."""
        piece = bytes(self._data[:count])
        del self._data[:count]
        self._search_from = 0
        return piece

    def extract_until(self, pattern: re.Pattern[bytes], max_size: int) -> bytes | None:
        """Remove and return the bytes up to and including the first match
        of ``pattern``; None if there is none yet.

        Raises `HTTP1ProtocolError` (431) when the match would end, or the
        buffer already extends without a match, beyond ``max_size`` bytes.
        """
        # Back up a little so a terminator split across feeds is found.
        match = pattern.search(self._data, max(self._search_from - 3, 0))
        if match is None:
            if len(self._data) > max_size:
                raise HTTP1ProtocolError(
                    f"line or head longer than {max_size} bytes", status_code=431
                )
            self._search_from = len(self._data)
            return None
        end = match.end()
        if end > max_size:
            raise HTTP1ProtocolError(f"line or head longer than {max_size} bytes", status_code=431)
        return self.extract_at_most(end)

    def skip_empty_lines(self) -> None:
        """Drop CRLF or LF empty lines from the front of the buffer."""
        match = _LEADING_EMPTY_LINES_RE.match(self._data)
        if match is not None and match.end():
            # A trailing CR may be the first half of a CRLF still to come;
            # the regex only consumes complete line ends, so it stays.
            del self._data[: match.end()]
            self._search_from = 0


def read_request_head(
    buffer: ReceiveBuffer,
    *,
    max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
    max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
    max_body_size: int | None = None,
) -> RequestHead | None:
    """Reader: extract and parse a request head from ``buffer``.

    Returns None until the whole head has arrived.  Raises
    `HTTP1ProtocolError` as `parse_request_head` and `request_framing`
    do, and with 431 when the head exceeds ``max_header_size`` bytes.
    """
    buffer.skip_empty_lines()
    data = buffer.extract_until(_HEAD_END_RE, max_header_size)
    if data is None:
        return None
    start_line, headers = parse_request_head(data, max_header_count=max_header_count)
    return RequestHead(start_line, headers, request_framing(start_line, headers, max_body_size))


def read_response_head(
    buffer: ReceiveBuffer,
    request_method: str,
    *,
    max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
    max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
    max_body_size: int | None = None,
) -> ResponseHead | None:
    """Reader: extract and parse the head of a response to a
    ``request_method`` request from ``buffer``.

    Returns None until the whole head has arrived.  Raises
    `HTTP1ProtocolError` as `parse_response_head` and `response_framing`
    do, and with 431 when the head exceeds ``max_header_size`` bytes.
    """
    data = buffer.extract_until(_HEAD_END_RE, max_header_size)
    if data is None:
        return None
    start_line, headers = parse_response_head(data, max_header_count=max_header_count)
    framing = response_framing(request_method, start_line, headers, max_body_size)
    return ResponseHead(start_line, headers, framing)


class ContentLengthReader:
    """Reader for a body of a known length."""

    def __init__(self, length: int) -> None:
        """Expect ``length`` more bytes."""
        self._remaining = length

    def __call__(self, buffer: ReceiveBuffer) -> Data | EndOfMessage | None:
        """Return the next piece of the body, `EndOfMessage` once all bytes
        have come, or None if the buffer is empty."""
        if self._remaining == 0:
            return EndOfMessage(HTTPHeaders())
        piece = buffer.extract_at_most(self._remaining)
        if not piece:
            return None
        self._remaining -= len(piece)
        return Data(piece)

    def read_eof(self) -> EndOfMessage:
        """The connection closed: raise `IncompleteMessageError`, since
        bytes are missing."""
        raise IncompleteMessageError(
            f"connection closed with {self._remaining} bytes of the body missing"
        )


class ChunkedReader:
    """Reader for a ``Transfer-Encoding: chunked`` body.

    Bounds the body by ``max_body_size`` (400, checked when a chunk size is
    announced, before its data arrives), the chunk extensions of the whole
    body by ``max_extensions_size`` and the trailer section by
    ``max_header_size``.
    """

    def __init__(
        self,
        *,
        max_body_size: int | None = None,
        max_extensions_size: int = DEFAULT_MAX_CHUNK_EXTENSIONS_SIZE,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
    ) -> None:
        """Set the limits; see the class docstring."""
        self._max_body_size = max_body_size
        self._max_extensions_size = max_extensions_size
        self._max_header_size = max_header_size
        self._max_header_count = max_header_count
        self._body_size = 0
        self._extensions_size = 0
        # Bytes of the current chunk still to come; -1 between chunks.
        self._remaining = -1
        self._need_crlf = False
        self._in_trailers = False

    def __call__(self, buffer: ReceiveBuffer) -> Data | EndOfMessage | None:
        """Return the next piece of the body, `EndOfMessage` after the last
        chunk and its trailers, or None if more bytes are needed.  Raises
        `HTTP1ProtocolError` for a malformed chunk or a broken limit."""
        while True:
            if self._in_trailers:
                data = buffer.extract_until(_TRAILER_END_RE, self._max_header_size)
                if data is None:
                    return None
                return EndOfMessage(parse_trailers(data, max_header_count=self._max_header_count))
            if self._remaining > 0:
                piece = buffer.extract_at_most(self._remaining)
                if not piece:
                    return None
                self._remaining -= len(piece)
                return Data(piece)
            if self._need_crlf:
                if len(buffer) < 2:
                    return None
                check_chunk_data_end(buffer.extract_at_most(2))
                self._need_crlf = False
            line = buffer.extract_until(_LINE_END_RE, MAX_CHUNK_LINE_SIZE)
            if line is None:
                return None
            size, extensions = parse_chunk_size_line(line)
            self._extensions_size += extensions
            if self._extensions_size > self._max_extensions_size:
                raise HTTP1ProtocolError(
                    f"chunk extensions exceed {self._max_extensions_size} bytes"
                )
            if size == 0:
                self._in_trailers = True
                continue
            self._body_size += size
            _check_body_size(self._body_size, self._max_body_size, "chunked body too large")
            self._remaining = size
            self._need_crlf = True

    def read_eof(self) -> EndOfMessage:
        """The connection closed: raise `IncompleteMessageError`."""
        raise IncompleteMessageError("connection closed in the middle of a chunked body")


class UntilCloseReader:
    """Reader for a response body that ends when the connection closes."""

    def __init__(self, max_body_size: int | None = None) -> None:
        """Bound the body by ``max_body_size``."""
        self._max_body_size = max_body_size
        self._body_size = 0

    def __call__(self, buffer: ReceiveBuffer) -> Data | None:
        """Return whatever is buffered as a piece of the body, or None."""
        if not len(buffer):
            return None
        piece = buffer.extract_at_most(len(buffer))
        self._body_size += len(piece)
        _check_body_size(self._body_size, self._max_body_size, "body too large")
        return Data(piece)

    def read_eof(self) -> EndOfMessage:
        """The connection closed: the body is complete."""
        return EndOfMessage(HTTPHeaders())


_BodyReader = ContentLengthReader | ChunkedReader | UntilCloseReader


class HTTP1Parser:
    """The receiving half of one HTTP/1.x connection, as a state machine.

    Feed it bytes with `receive_data` (and `receive_eof` when the peer
    closes), then call `next_event` until it returns None ("need more
    bytes").  A server-side parser (``role="server"``) yields, for each
    request in turn (pipelining included): `RequestHead`, `Data` pieces,
    `EndOfMessage`; then `ConnectionClosed` at a clean end.  A client-side
    parser (``role="client"``) must be told the method of each request it
    sent, in order, with `expect_response`; it yields `ResponseHead` (also
    for 1xx informational responses, which precede the final one),
    `Data`, `EndOfMessage`.  After a ``101 Switching Protocols`` response
    it stops; the bytes after it are in `trailing_data`.

    Errors raise `HTTP1ProtocolError`; the parser then stays broken and
    raises the same error again.
    """

    def __init__(
        self,
        role: Literal["server", "client"],
        *,
        max_header_size: int = DEFAULT_MAX_HEADER_SIZE,
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
        max_body_size: int | None = None,
        max_chunk_extensions_size: int = DEFAULT_MAX_CHUNK_EXTENSIONS_SIZE,
    ) -> None:
        """Create a parser for one side of a connection, with its limits."""
        self.role = role
        self.max_header_size = max_header_size
        self.max_header_count = max_header_count
        self.max_body_size = max_body_size
        self.max_chunk_extensions_size = max_chunk_extensions_size
        self._buffer = ReceiveBuffer()
        self._eof = False
        self._reader: _BodyReader | None = None
        self._pending_methods: deque[str] = deque()
        self._error: HTTP1ProtocolError | None = None
        self._switched = False
        self._closed = False

    def receive_data(self, data: bytes) -> None:
        """Add bytes received from the peer."""
        self._buffer.feed(data)

    def receive_eof(self) -> None:
        """Note that the peer closed its side of the connection."""
        self._eof = True

    def expect_response(self, request_method: str) -> None:
        """Client side: a request with this method was sent, so its
        response is the next (after earlier ones) to parse."""
        self._pending_methods.append(request_method)

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
            return self._next_event()
        except HTTP1ProtocolError as e:
            self._error = e
            raise

    def _next_event(self) -> Event | None:
        if self._switched or self._closed:
            return None
        reader = self._reader
        if reader is not None:
            event = reader(self._buffer)
            if event is None and self._eof:
                event = reader.read_eof()
            if type(event) is EndOfMessage:
                self._reader = None
                if isinstance(reader, UntilCloseReader):
                    self._closed = True
                elif self.role == "client":
                    self._pending_methods.popleft()
            return event
        if self.role == "server":
            return self._next_request_head()
        return self._next_response_head()

    def _at_eof_between_messages(self) -> ConnectionClosed | None:
        if not self._eof:
            return None
        self._buffer.skip_empty_lines()
        if len(self._buffer):
            raise IncompleteMessageError(
                f"connection closed in the middle of a message head: {_quote(bytes(self._buffer))}"
            )
        self._closed = True
        return ConnectionClosed()

    def _next_request_head(self) -> Event | None:
        head = read_request_head(
            self._buffer,
            max_header_size=self.max_header_size,
            max_header_count=self.max_header_count,
            max_body_size=self.max_body_size,
        )
        if head is None:
            return self._at_eof_between_messages()
        self._reader = self._make_reader(head.framing)
        return head

    def _next_response_head(self) -> Event | None:
        if not self._pending_methods:
            if self._eof and not len(self._buffer):
                self._closed = True
                return ConnectionClosed()
            return None
        head = read_response_head(
            self._buffer,
            self._pending_methods[0],
            max_header_size=self.max_header_size,
            max_header_count=self.max_header_count,
            max_body_size=self.max_body_size,
        )
        if head is None:
            return self._at_eof_between_messages()
        code = head.start_line.code
        if code == 101:
            self._switched = True
        elif code >= 200:
            self._reader = self._make_reader(head.framing)
        return head

    def _make_reader(self, framing: Framing) -> _BodyReader:
        if framing.kind == "length":
            return ContentLengthReader(framing.length)
        if framing.kind == "chunked":
            return ChunkedReader(
                max_body_size=self.max_body_size,
                max_extensions_size=self.max_chunk_extensions_size,
                max_header_size=self.max_header_size,
                max_header_count=self.max_header_count,
            )
        if framing.kind == "close":
            return UntilCloseReader(self.max_body_size)
        return ContentLengthReader(0)


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

_TOKEN_RE = _ABNF.token
# What no header value, reason phrase or target may contain: controls other
# than HTAB (CR and LF among them: header injection) and DEL.
_UNSAFE_CHAR_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TARGET_RE = _ABNF.lenient_request_target
# Every byte but the controls (HTAB aside) and DEL.  Deleting these from a
# serialised head (bytes.translate, one C pass) leaves exactly its CRLF line
# ends, unless some value smuggled in a CR, LF, NUL or other control.
_HEAD_SAFE_BYTES = bytes([0x09, *range(0x20, 0x7F), *range(0x80, 0x100)])
# Header names already checked to be tokens.  Applications send the same
# few names on every response, so most heads need no name check at all; the
# set stops growing at a fixed size.
_VALID_NAMES: set[str] = set()
_VALID_NAMES_MAX = 1000


def _check_names(names: Iterable[str]) -> None:
    for name in names:
        if name not in _VALID_NAMES:
            if _TOKEN_RE.fullmatch(name) is None:
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
    if wire.translate(None, _HEAD_SAFE_BYTES) != b"\r\n" * len(lines):
        bad = next((line for line in lines[1:-1] if _UNSAFE_CHAR_RE.search(line)), first_line)
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
    if _TOKEN_RE.fullmatch(method) is None:
        raise ValueError(f"invalid request method {method!r}")
    if _TARGET_RE.fullmatch(target) is None:
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
    version, code, reason = start_line
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise ValueError(f"unsupported HTTP version {version!r}")
    if not 100 <= code <= 999:
        raise ValueError(f"invalid status code {code!r}")
    if _UNSAFE_CHAR_RE.search(reason) is not None:
        raise ValueError(f"unsafe character in reason phrase {reason!r}")
    return _serialize_fields(f"{version} {code} {reason}", headers)


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
    if "Content-Length" in headers:
        try:
            length = parse_content_length(headers)
        except HTTP1ProtocolError as e:
            raise HTTPOutputError(str(e)) from e
        assert length is not None
        if "Transfer-Encoding" in headers:
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
