"""Message heads parsed by llhttp: the optional extra ``tornado-http[speedups]``.

`httptools <https://github.com/MagicStack/httptools>`_ is the Python binding
of llhttp, the C parser of Node.js (and of uvicorn).  When it is installed,
this module offers drop-in replacements for `tornado._http1.parse_request_head`
and `tornado._http1.parse_response_head` with exactly their contracts: the
same arguments, the same results, and for every input the pure function
refuses, the same `~tornado._http1.HTTP1ProtocolError` (message and
``status_code``).

How the results stay identical
------------------------------

llhttp does the per-byte work that costs the pure code most: it checks, in
C, that every header line is a token, a colon and a value of field-vchar,
SP and HTAB, that every line ends with CRLF (no bare CR, no bare LF) and
that no line is folded.  Those are exactly the rules of
``_ABNF.field_lines`` as applied by `tornado._http1` (the tests check every
byte value in a name and a value, and compare both parsers on generated and
mutated heads).  Everything else is checked in Python, with the pure
module's own regular expressions and helpers:

* the start line is matched by the same ``fullmatch`` as in the pure
  function, which also yields the method, target and version (llhttp
  would let through double spaces, ``HTTP/2.0``, ``RTSP/1.0`` and control
  characters in a reason phrase);
* the head must end at its first empty line (one ``bytes.find``), must not
  start with empty lines, and llhttp must have consumed all of it without
  an error, so it checked every line;
* the header count limit and the ``Host`` rules are those of the pure
  function;
* headers are built by the same ``_headers_from_trusted_lines``.

Where llhttp is stricter than our rules (methods it does not know, lower
case methods, bytes 0x80-0xFF or DEL in a target, ``HTTP/1.2``, LF-only line
ends, obs-fold in a response, a repeated or malformed ``Content-Length``,
which the pure code leaves to the framing step) and whenever anything above
does not hold, the fast function hands the original bytes to the pure one
and returns or raises whatever that does.  So the fast path can only return
a result the pure function would return, and every error is the pure
function's own.

Chunk framing stays pure: httptools reports neither the size nor the
extensions of a chunk, so it cannot give ``parse_chunk_size_line``'s
``(size, extensions_length)``, and the pure function is one regular
expression match per line already.

Selection
---------

`SPEEDUPS` is true when httptools imports and neither ``TORNADO_NO_SPEEDUPS``
nor Tornado's ``TORNADO_NO_EXTENSION`` is set to a non-empty value (the
convention of ``tornado.websocket``'s masking).  `select` returns the
functions to bind at import::

    from tornado import _http1_fast

    parse_request_head, parse_response_head, parse_chunk_size_line = (
        _http1_fast.select()
    )
"""

from __future__ import annotations

import os
from typing import NamedTuple, Protocol

from tornado import _http1
from tornado._abnf import ABNF
from tornado._http1 import DEFAULT_MAX_HEADER_COUNT
from tornado.httputil import (
    HTTPHeaders,
    RequestStartLine,
    ResponseStartLine,
    _headers_from_trusted_lines,
)

#: Whether httptools is installed (`parse_request_head` and
#: `parse_response_head` need it).
AVAILABLE: bool
try:
    from httptools import (
        HttpParserError,
        HttpParserUpgrade,
        HttpRequestParser,
        HttpResponseParser,
    )
except ImportError:  # the [speedups] extra is not installed
    AVAILABLE = False
else:
    AVAILABLE = True

__all__ = [
    "AVAILABLE",
    "SPEEDUPS",
    "ChunkSizeLineParser",
    "Parsers",
    "RequestHeadParser",
    "ResponseHeadParser",
    "parse_request_head",
    "parse_response_head",
    "select",
]


def _disabled_by_environment() -> bool:
    # The same switch as tornado.websocket's C masking (and Tornado's own
    # TORNADO_NO_EXTENSION): any non-empty value turns the speedups off.
    return bool(os.environ.get("TORNADO_NO_SPEEDUPS") or os.environ.get("TORNADO_NO_EXTENSION"))


#: Whether `select` hands out the llhttp-backed parsers: httptools is
#: installed and the environment does not turn the speedups off.
SPEEDUPS: bool = AVAILABLE and not _disabled_by_environment()

_pure_request_head = _http1.parse_request_head
_pure_response_head = _http1.parse_response_head
_REQUEST_LINE_RE = ABNF.request_line
_STATUS_LINE_RE = ABNF.lenient_status_line
_HOST_RE = ABNF.host_header


class _NoCallbacks:
    """The protocol object given to every llhttp parser: no callbacks at all
    (the attributes httptools looks up are None), so llhttp only checks the
    head, in C, and Python builds the headers from the text in one pass,
    which is cheaper than one callback per field.  Shared: it has no state.
    """

    on_message_begin = on_url = on_status = on_header = on_headers_complete = None
    on_body = on_message_complete = on_chunk_header = on_chunk_complete = None


_NO_CALLBACKS = _NoCallbacks()

# Heads shorter than this many bytes go straight to the pure function: for
# them setting up an llhttp parser costs more than the checks it saves
# (measured: a bare "GET / HTTP/1.1" head is about 10% slower through
# llhttp, a one-header curl GET breaks even, three headers already gain).
_MIN_FAST_SIZE = 64


def _split_checked_head(data: bytes, end: int) -> tuple[str, list[str]]:
    """The start line and header lines of a head llhttp accepted, whose
    first empty line starts at ``end``."""
    start_line, _, block = data[:end].decode("latin-1").partition("\r\n")
    return start_line, block.split("\r\n") if block else []


def parse_request_head(
    data: bytes, *, max_header_count: int = DEFAULT_MAX_HEADER_COUNT
) -> tuple[RequestStartLine, HTTPHeaders]:
    """`tornado._http1.parse_request_head`, with the header block checked
    by llhttp: same results, same errors (needs httptools)."""
    if len(data) < _MIN_FAST_SIZE:
        return _pure_request_head(data, max_header_count=max_header_count)
    end = data.find(b"\r\n\r\n")
    # The head must end at its first empty line and start with the request
    # line; leading empty lines (which the pure function skips), LF-only
    # heads and anything else go to the pure function.  Then, as llhttp
    # consumed every byte without an error, it read the whole head.
    if end != len(data) - 4 or data[:1] in (b"\r", b"\n"):
        return _pure_request_head(data, max_header_count=max_header_count)
    try:
        HttpRequestParser(_NO_CALLBACKS).feed_data(data)
    except HttpParserUpgrade:
        pass  # CONNECT, or an Upgrade request: the head itself was read
    except HttpParserError:
        return _pure_request_head(data, max_header_count=max_header_count)
    start_line, lines = _split_checked_head(data, end)
    match = _REQUEST_LINE_RE.fullmatch(start_line)
    if match is None or len(lines) > max_header_count:
        return _pure_request_head(data, max_header_count=max_header_count)
    headers = _headers_from_trusted_lines(lines) if lines else HTTPHeaders()
    hosts = headers._lists.get("Host")
    if hosts is not None and (len(hosts) > 1 or _HOST_RE.fullmatch(hosts[0].strip(" \t")) is None):
        return _pure_request_head(data, max_header_count=max_header_count)
    method, target, version = match.groups()
    return RequestStartLine(method, target, version), headers


def parse_response_head(
    data: bytes, *, max_header_count: int = DEFAULT_MAX_HEADER_COUNT
) -> tuple[ResponseStartLine, HTTPHeaders]:
    """`tornado._http1.parse_response_head`, with the header block checked
    by llhttp: same results, same errors (needs httptools)."""
    if len(data) < _MIN_FAST_SIZE:
        return _pure_response_head(data, max_header_count=max_header_count)
    end = data.find(b"\r\n\r\n")
    if end != len(data) - 4:
        return _pure_response_head(data, max_header_count=max_header_count)
    try:
        HttpResponseParser(_NO_CALLBACKS).feed_data(data)
    except HttpParserUpgrade:
        pass  # 101 Switching Protocols: the head itself was read
    except HttpParserError:
        # Also obs-fold, which llhttp refuses and the pure function unfolds.
        return _pure_response_head(data, max_header_count=max_header_count)
    # llhttp skips empty lines before a status line, which the pure
    # function refuses: the start line is then "", which fails the match.
    start_line, lines = _split_checked_head(data, end)
    match = _STATUS_LINE_RE.fullmatch(start_line)
    if match is None or len(lines) > max_header_count:
        return _pure_response_head(data, max_header_count=max_header_count)
    headers = _headers_from_trusted_lines(lines) if lines else HTTPHeaders()
    version, code, reason = match.groups()
    return ResponseStartLine(version, int(code), reason or ""), headers


class RequestHeadParser(Protocol):
    """The signature of `tornado._http1.parse_request_head`."""

    def __call__(
        self, data: bytes, *, max_header_count: int = ...
    ) -> tuple[RequestStartLine, HTTPHeaders]:
        """Parse a complete request head."""
        ...


class ResponseHeadParser(Protocol):
    """The signature of `tornado._http1.parse_response_head`."""

    def __call__(
        self, data: bytes, *, max_header_count: int = ...
    ) -> tuple[ResponseStartLine, HTTPHeaders]:
        """Parse a complete response head."""
        ...


class ChunkSizeLineParser(Protocol):
    """The signature of `tornado._http1.parse_chunk_size_line`."""

    def __call__(self, line: bytes) -> tuple[int, int]:
        """Parse a chunk-size line: ``(size, extensions_length)``."""
        ...


class Parsers(NamedTuple):
    """The head and chunk-line parsers an HTTP/1.x engine binds."""

    parse_request_head: RequestHeadParser
    parse_response_head: ResponseHeadParser
    parse_chunk_size_line: ChunkSizeLineParser


_PURE = Parsers(_pure_request_head, _pure_response_head, _http1.parse_chunk_size_line)
_FAST = Parsers(parse_request_head, parse_response_head, _http1.parse_chunk_size_line)


def select(speedups: bool | None = None) -> Parsers:
    """Return the parsers to use: the llhttp-backed ones if ``speedups``
    (default: `SPEEDUPS`) and httptools is installed, else the pure ones of
    `tornado._http1`.  Both give the same results and errors."""
    if speedups is None:
        speedups = SPEEDUPS
    return _FAST if speedups and AVAILABLE else _PURE
