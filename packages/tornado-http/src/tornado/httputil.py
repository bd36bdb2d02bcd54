"""HTTP utilities shared by the HTTP server and clients.

This module holds the pieces of HTTP that do not touch a socket: the
case-insensitive multi-valued `HTTPHeaders` mapping, the `HTTPServerRequest`
object a server hands to its application (exposed to web applications as
``RequestHandler.request``), the delegate interfaces that connect a
connection to the code that handles its messages, and helpers for URLs,
start lines, cookies, timestamps and form bodies (``urlencoded`` and
``multipart/form-data``).

Parsing of request bodies is bounded: the number of query or form
arguments and the number and header size of multipart parts are limited
(see `ParseBodyConfig`), and a body that breaks a limit or is malformed
raises `HTTPInputError`, which servers answer with ``400 Bad Request``.
"""

from __future__ import annotations

import asyncio
import collections.abc
import dataclasses
import datetime
import http
import re
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Iterable, Iterator, Mapping
from ssl import SSLError
from typing import TYPE_CHECKING, Any, AnyStr, NamedTuple, overload

from tornado import _abnf
from tornado.escape import native_str, utf8
from tornado.util import ObjectDict

if TYPE_CHECKING:
    import http.cookies
    import unittest

# Import time: `email.utils` (with `random`, `calendar` and the email
# package), `http.client` (with `email.parser`), `http.cookies` and
# `unicodedata` cost a full-stack import more than the rest of this module;
# they are imported where first used (cookies, timestamps, RFC 2231
# parameters, Basic credentials) instead of here.

__all__ = [
    "HTTPConnection",
    "HTTPFile",
    "HTTPHeaders",
    "HTTPInputError",
    "HTTPMessageDelegate",
    "HTTPOutputError",
    "HTTPServerConnectionDelegate",
    "HTTPServerRequest",
    "ParseBodyConfig",
    "ParseMultipartConfig",
    "ParseUrlEncodedConfig",
    "RequestStartLine",
    "ResponseStartLine",
    "encode_username_password",
    "format_timestamp",
    "parse_body_arguments",
    "parse_cookie",
    "parse_multipart_form_data",
    "parse_request_start_line",
    "parse_response_start_line",
    "qs_to_qsl",
    "responses",
    "set_parse_body_config",
    "split_host_and_port",
    "url_concat",
]

#: A mapping of HTTP status codes to their standard reason phrases
#: (``responses[404] == "Not Found"``); the standard library's table
#: (equal to ``http.client.responses``, built the same way from
#: `http.HTTPStatus`, without importing `http.client`).
responses: dict[int, str] = {s: s.phrase for s in http.HTTPStatus.__members__.values()}


class HTTPInputError(Exception):
    """Raised for malformed HTTP input: a bad request or response head, a
    broken body framing, an invalid form body, or a body that breaks one of
    the configured limits.

    Servers answer it with a ``4xx`` status and close the connection.

    .. versionadded:: 4.0
    """


class HTTPOutputError(Exception):
    """Raised when the application writes an invalid HTTP message, e.g. more
    or fewer body bytes than its ``Content-Length`` announced.

    .. versionadded:: 4.0
    """


# ---------------------------------------------------------------------------
# Grammar: the rules are `tornado._abnf`'s (``_ABNF`` here), the one
# definition every parser, serialiser and client of this distribution uses.
# (Assigned, not imported under the name, so that it is this module's own
# attribute for the modules that import it from here.)
_ABNF = _abnf.ABNF

#: The characters HTTP counts as whitespace around header values (RFC 9110
#: 5.6.3 OWS: space and tab).  Narrower than `str.strip`'s default, which
#: would also remove form feeds and other characters a header may contain.
HTTP_WHITESPACE = " \t"


#: The characters no header value may contain, whatever its encoding (the
#: C0 controls other than HTAB, and DEL; CR and LF among them, which stops
#: header injection), for text that is not latin-1 bytes, such as a
#: multipart part's UTF-8 headers, where the full `_ABNF` rules cannot apply.
_FORBIDDEN_VALUE_CHAR_RE = _ABNF.unsafe_field_char

# Header names seen on the wire are a small set; remembering their
# normalised spelling makes building HTTPHeaders a dict lookup per line.
# The cache stops growing at a fixed size instead of evicting, so a client
# sending random names cannot make every lookup a miss for everyone else.
_NORMALIZED_NAMES: dict[str, str] = {}
_NORMALIZED_NAMES_MAX = 1000


def _normalize_header(name: str) -> str:
    """Return ``name`` in Http-Header-Case: ``"content-type"`` becomes
    ``"Content-Type"``, ``"X-FORWARDED-FOR"`` becomes ``"X-Forwarded-For"``.
    """
    normalized = _NORMALIZED_NAMES.get(name)
    if normalized is None:
        normalized = "-".join(word.capitalize() for word in name.split("-"))
        if len(_NORMALIZED_NAMES) < _NORMALIZED_NAMES_MAX:
            _NORMALIZED_NAMES[name] = normalized
    return normalized


def _check_header_value(value: str, chars_are_bytes: bool) -> bool:
    """Whether ``value`` is an acceptable header value, surrounding spaces
    and tabs allowed.

    With ``chars_are_bytes`` the string stands for latin-1 decoded bytes, so
    only RFC 9110 field-value characters are allowed; otherwise any
    character except the C0 controls (but HTAB) and DEL is.
    """
    if chars_are_bytes:
        return _ABNF.padded_field_value.fullmatch(value) is not None
    return _FORBIDDEN_VALUE_CHAR_RE.search(value) is None


class HTTPHeaders(collections.abc.MutableMapping[str, str]):
    """A case-insensitive mapping of HTTP header names to values, with
    several values per name.

    Names are stored in Http-Header-Case.  The mapping interface sees one
    value per name (several values joined with commas, and assignment
    replaces all of them); `add`, `get_list` and `get_all` see each value::

        >>> h = HTTPHeaders({"content-type": "text/html"})
        >>> list(h.keys())
        ['Content-Type']
        >>> h.add("Set-Cookie", "A=B")
        >>> h.add("Set-Cookie", "C=D")
        >>> h["set-cookie"]
        'A=B,C=D'
        >>> h.get_list("set-cookie")
        ['A=B', 'C=D']

    The constructor takes what `dict` takes (a mapping, an iterable of
    ``(name, value)`` pairs, keyword arguments), or another `HTTPHeaders`,
    whose multiple values are all copied.  A list value in a mapping adds
    each of its items.
    """

    @overload
    def __init__(self, arg: Mapping[str, list[str]], /) -> None: ...

    @overload
    def __init__(self, arg: Mapping[str, str], /) -> None: ...

    @overload
    def __init__(self, arg: Iterable[tuple[str, str]], /) -> None: ...

    @overload
    def __init__(self, *args: tuple[str, str]) -> None: ...

    @overload
    def __init__(self, **kwargs: str) -> None: ...

    def __init__(self, *args: Any, **kwargs: str) -> None:
        """Build the headers from a mapping, pairs, keywords or another
        `HTTPHeaders`; no validation is done (use `add` or `parse` for
        untrusted input)."""
        # Normalised name -> values; the joined form is cached in _joined
        # because most reads want one string and most names have one value.
        # None there means "join again on the next read": re-joining on
        # every added value would make many repeats of a name quadratic.
        self._lists: dict[str, list[str]] = {}
        self._joined: dict[str, str | None] = {}
        # The name of the last parsed line, for obs-fold continuation lines.
        self._last_key: str | None = None
        if not args and not kwargs:
            return
        if len(args) == 1 and isinstance(args[0], HTTPHeaders):
            source = args[0]
            self._lists = {name: list(values) for name, values in source._lists.items()}
            self._joined = dict(source._joined)
        else:
            pairs: Iterable[Any]
            if len(args) == 1:
                pairs = args[0].items() if isinstance(args[0], Mapping) else args[0]
            else:
                pairs = args
            for name, value in pairs:
                if isinstance(value, list):
                    for item in value:
                        self._append(name, item)
                else:
                    self[name] = value
        for name, value in kwargs.items():
            self[name] = value

    # -- multi-value interface -------------------------------------------

    def _append(self, name: str, value: str) -> None:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        key = _normalize_header(name)
        self._last_key = key
        values = self._lists.get(key)
        if values is None:
            self._lists[key] = [value]
            self._joined[key] = value
        else:
            values.append(value)
            self._joined[key] = None

    def add(self, name: str, value: str, *, _chars_are_bytes: bool = True) -> None:
        """Add ``value`` as a further value of header ``name``.

        Raises `HTTPInputError` if ``name`` is not an HTTP token or ``value``
        contains characters a header value may not (control characters such
        as CR, LF or NUL).  ``_chars_are_bytes`` (default true) says the
        strings are latin-1 decoded bytes; pass false for text that may hold
        any non-control Unicode character.  The value is stored as given,
        surrounding whitespace included.
        """
        if _ABNF.field_name.fullmatch(name) is None:
            raise HTTPInputError(f"Invalid header name {name!r}")
        if not _check_header_value(value, _chars_are_bytes):
            raise HTTPInputError(f"Invalid header value {value!r}")
        self._append(name, value)

    def get_list(self, name: str) -> list[str]:
        """Return every value of header ``name`` as a new list (empty if the
        header is absent)."""
        return list(self._lists.get(_normalize_header(name), ()))

    def get_all(self) -> Iterable[tuple[str, str]]:
        """Return an iterable of every ``(name, value)`` pair; a header with
        several values gives several pairs with the same name."""
        for name, values in self._lists.items():
            for value in values:
                yield name, value

    def parse_line(self, line: str, *, _chars_are_bytes: bool = True) -> None:
        """Update the headers from one header line.

        A trailing CRLF or LF is ignored, as is an empty line.  A line that
        starts with whitespace continues the previous header's last value
        (the obsolete line folding of RFC 7230; deprecated).  Raises
        `HTTPInputError` for a line without a colon, a continuation line
        with nothing to continue, an invalid name or an invalid value.

            >>> h = HTTPHeaders()
            >>> h.parse_line("Content-Type: text/html")
            >>> h.get("content-type")
            'text/html'
        """
        if line.endswith("\n"):
            line = line[:-2] if line.endswith("\r\n") else line[:-1]
        if not line:
            return
        if line[0] in " \t":
            key = self._last_key
            if key is None:
                raise HTTPInputError("first header line cannot start with whitespace")
            continuation = line.strip(" \t")
            if not _check_header_value(continuation, _chars_are_bytes):
                raise HTTPInputError(f"Invalid header value {continuation!r}")
            if continuation:
                # RFC 9112 5.2: the fold is replaced by a space, and the
                # value's surrounding whitespace is not part of it.
                values = self._lists[key]
                values[-1] = f"{values[-1]} {continuation}" if values[-1] else continuation
                self._joined[key] = None
            return
        name, colon, value = line.partition(":")
        if not colon:
            raise HTTPInputError(f"no colon in header line {line!r}")
        self.add(name, value.strip(" \t"), _chars_are_bytes=_chars_are_bytes)

    @classmethod
    def parse(cls, headers: str, *, _chars_are_bytes: bool = True) -> HTTPHeaders:
        """Return the headers parsed from an HTTP header block.

        Lines end with CRLF or (deprecated) a bare LF; a CR anywhere else is
        an error.  Raises `HTTPInputError` for any malformed line (see
        `parse_line`), including a folded continuation line (one starting
        with whitespace): obsolete line folding is not accepted here.

            >>> h = HTTPHeaders.parse("Content-Type: text/html\\r\\nContent-Length: 42\\r\\n")
            >>> sorted(h.items())
            [('Content-Length', '42'), ('Content-Type', 'text/html')]
        """
        if _chars_are_bytes and cls is HTTPHeaders:
            # The common case, valid input: one regex match over the whole
            # block, then no validation per line.  Anything it refuses goes
            # through the line-by-line path below, which says what is wrong.
            text = headers.replace("\r\n", "\n") if "\r" in headers else headers
            text = text.strip("\n")
            if "\n\n" in text:
                text = "\n".join(line for line in text.split("\n") if line)
            if not text:
                return cls()
            if _ABNF.field_lines.fullmatch(text) is not None:
                lines = text.split("\n")
                result = _headers_from_trusted_lines(lines)
                # As after parse_line: a continuation would extend the last field.
                result._last_key = _normalize_header(lines[-1].partition(":")[0])
                return result
        result = cls()
        for line in headers.split("\n"):
            if line[:1] in (" ", "\t"):
                raise HTTPInputError(f"folded header line not supported: {line!r}")
            result.parse_line(line.removesuffix("\r"), _chars_are_bytes=_chars_are_bytes)
        return result

    # -- MutableMapping interface ------------------------------------------

    def __setitem__(self, name: str, value: str) -> None:
        """Replace every value of header ``name`` with ``value`` (a byte
        string is taken as the value's bytes on the wire)."""
        key = _normalize_header(name)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        self._lists[key] = [value]
        self._joined[key] = value

    __hash__ = None  # type: ignore[assignment]

    def __getitem__(self, name: str) -> str:
        """Return the values of header ``name`` joined with commas; raise
        `KeyError` if it is absent."""
        key = _normalize_header(name)
        joined = self._joined[key]
        if joined is None:
            joined = self._joined[key] = ",".join(self._lists[key])
        return joined

    def __delitem__(self, name: str) -> None:
        """Remove every value of header ``name``; raise `KeyError` if absent."""
        key = _normalize_header(name)
        del self._joined[key]
        del self._lists[key]

    def __contains__(self, name: object) -> bool:
        """Whether header ``name`` (any capitalisation) is present."""
        return isinstance(name, str) and _normalize_header(name) in self._joined

    def __len__(self) -> int:
        """The number of distinct header names."""
        return len(self._joined)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the distinct header names, in Http-Header-Case."""
        return iter(self._joined)

    def copy(self) -> HTTPHeaders:
        """Return an independent copy, with every value of every header."""
        return HTTPHeaders(self)

    # The copy module uses __copy__; keep it on the same code path.
    __copy__ = copy

    def __str__(self) -> str:
        """The headers as text, one ``Name: value`` line (ending with LF, as
        Tornado has always written it) per value; `parse` reads it back."""
        return "".join(f"{name}: {value}\n" for name, value in self.get_all())

    __unicode__ = __str__


def _headers_from_trusted_lines(lines: Iterable[str]) -> HTTPHeaders:
    """Build `HTTPHeaders` from ``name:value`` lines a parser has already
    validated (the value may carry surrounding whitespace).

    This is the parsers' fast path: no validation and no method call per
    line, only a partition, a normalised-name lookup and a dict update.
    """
    # Skip __init__ and its argument handling: this runs once per message.
    headers = HTTPHeaders.__new__(HTTPHeaders)
    lists: dict[str, list[str]] = {}
    joined: dict[str, str | None] = {}
    headers._lists = lists
    headers._joined = joined
    headers._last_key = None
    names = _NORMALIZED_NAMES
    for line in lines:
        name, _, value = line.partition(":")
        value = value.strip(" \t")
        key = names.get(name) or _normalize_header(name)
        if key in joined:
            lists[key].append(value)
            joined[key] = None
        else:
            lists[key] = [value]
            joined[key] = value
    return headers


# ---------------------------------------------------------------------------
# Start lines.


class RequestStartLine(NamedTuple):
    """The first line of an HTTP request: ``method``, ``path`` (the request
    target, as sent) and ``version`` (e.g. ``"HTTP/1.1"``)."""

    method: str
    path: str
    version: str


class ResponseStartLine(NamedTuple):
    """The first line of an HTTP response: ``version`` (e.g.
    ``"HTTP/1.1"``), ``code`` (an `int`) and ``reason`` (the reason phrase)."""

    version: str
    code: int
    reason: str


def parse_request_start_line(line: str) -> RequestStartLine:
    """Parse a request line such as ``"GET /foo HTTP/1.1"``.

    The method must be an RFC 9110 token and the version ``HTTP/1.x``; the
    target may hold any visible ASCII or latin-1 (obs-text) character,
    which is more than RFC 9112 allows, so that characters clients send
    unescaped keep working.  Raises `HTTPInputError` for anything else,
    including extra spaces and control characters.

        >>> parse_request_start_line("GET /foo HTTP/1.1")
        RequestStartLine(method='GET', path='/foo', version='HTTP/1.1')
    """
    match = _ABNF.request_line.fullmatch(line)
    if match is None:
        if line.count(" ") == 2 and _ABNF.http1_version.fullmatch(line.rpartition(" ")[2]) is None:
            raise HTTPInputError(f"Malformed HTTP version in HTTP Request-Line: {line!r}")
        raise HTTPInputError(f"Malformed HTTP request line {line!r}")
    method, path, version = match.groups()
    return RequestStartLine(method, path, version)


def parse_response_start_line(line: str) -> ResponseStartLine:
    """Parse a status line such as ``"HTTP/1.1 200 OK"``.

    As RFC 9112 section 4 has it: ``HTTP/1.x``, a space, three digits, a
    space and a reason phrase, which may be empty but not left out along
    with its space, and holds no control characters other than tab.
    Raises `HTTPInputError` for anything else.

        >>> parse_response_start_line("HTTP/1.1 200 OK")
        ResponseStartLine(version='HTTP/1.1', code=200, reason='OK')
    """
    match = _ABNF.status_line.fullmatch(native_str(line))
    if match is None:
        raise HTTPInputError(f"Error parsing response start line {line!r}")
    version, code, reason = match.groups()
    return ResponseStartLine(version, int(code), reason or "")


def _parse_client_status_line(line: str) -> ResponseStartLine:
    """Parse a status line as our HTTP clients read it (`_ABNF.client_status_line`).

    The one rule of ``simple_httpclient``, ``curl_httpclient`` and the
    WebSocket client: ``HTTP/1.0`` or ``HTTP/1.1``, one space, a status code
    from 100 to 999, then the end of the line or a space and a reason
    phrase (possibly empty, kept verbatim).  More lenient than
    `parse_response_start_line` in one way only, the one curl and browsers
    are: ``"HTTP/1.1 200"`` (no space, no reason) is read as
    ``("HTTP/1.1", 200, "")``.  Stricter in others (versions ``HTTP/1.2``
    and up, codes below 100), which curl refuses too.  ``line`` is the
    latin-1 text of the line without its line end.  Raises `HTTPInputError`
    for anything else.
    """
    match = _ABNF.client_status_line.fullmatch(line)
    if match is None:
        raise HTTPInputError(f"Malformed HTTP status line {line!r}")
    version, code, reason = match.groups()
    return ResponseStartLine(version, int(code), reason or "")


# ---------------------------------------------------------------------------
# The request object and the connection interfaces.


class HTTPServerRequest:
    """One HTTP request received by a server.

    Instances are made by the server for each request; applications read
    them (in `tornado.web` as ``RequestHandler.request``).  Attributes:

    ``method``, ``uri``, ``version``
        The parts of the start line (``"GET"``, ``"/path?a=1"``,
        ``"HTTP/1.1"``).
    ``path``, ``query``
        ``uri`` split at the first ``?``.
    ``headers``
        An `HTTPHeaders`.
    ``body``
        The body as `bytes` (``b""`` for none, or while it is streamed).
    ``remote_ip``, ``protocol``
        The client's address and the scheme (``"http"`` or ``"https"``),
        from the connection's ``context`` (the server may take them from
        ``X-Real-Ip``/``X-Forwarded-Proto`` with ``xheaders``).
    ``host``, ``host_name``
        The ``Host`` header (default ``"127.0.0.1"``) and its host part,
        lower-cased and without the port.
    ``arguments``, ``query_arguments``, ``body_arguments``
        Names mapped to lists of `bytes` values: from the query, from a form
        body, and both together.  Bodies are parsed by ``_parse_body``.
    ``files``
        Field names mapped to lists of `HTTPFile` from a multipart body.
    ``connection``, ``server_connection``
        The `HTTPConnection` that received it and the server-side
        connection object.

    ``start_line`` (a `RequestStartLine`) may be given instead of
    ``method``, ``uri`` and ``version``.  ``host`` is deprecated in favour
    of the ``Host`` header.  Raises `HTTPInputError` if the query string
    has more arguments than `ParseUrlEncodedConfig.max_arguments` allows.
    """

    path: str
    query: str
    _cookies: http.cookies.SimpleCookie
    _body_future: asyncio.Future[None] | None

    def __init__(
        self,
        method: str | None = None,
        uri: str | None = None,
        version: str = "HTTP/1.0",
        headers: HTTPHeaders | None = None,
        body: bytes | None = None,
        host: str | None = None,
        files: dict[str, list[HTTPFile]] | None = None,
        connection: HTTPConnection | None = None,
        start_line: RequestStartLine | None = None,
        server_connection: object | None = None,
    ) -> None:
        """Build a request from its parts; see the class docstring."""
        if start_line is not None:
            method, uri, version = start_line
        if uri is None:
            # Requests built by hand (in tests, say) without a target are
            # for the root, so path, query and full_url() still make sense.
            uri = "/"
        self.method = method
        self.uri = uri
        self.version = version
        self.headers = headers if headers is not None else HTTPHeaders()
        self.body = body or b""
        # The connection's context (set by the server) knows the peer.
        context = getattr(connection, "context", None)
        self.remote_ip: str | None = getattr(context, "remote_ip", None)
        self.protocol: str = getattr(context, "protocol", "http")
        self.host = host = host or self.headers.get("Host") or "127.0.0.1"
        # A server sees the same few Host values over and over: remember
        # their host names instead of matching the pattern per request.
        host_name = _host_names.get(host)
        if host_name is None:
            host_name = split_host_and_port(host.lower())[0]
            if len(_host_names) >= 256:
                _host_names.clear()
            _host_names[host] = host_name
        self.host_name = host_name
        self.files: dict[str, list[HTTPFile]] = files or {}
        self.connection = connection
        self.server_connection = server_connection
        self._start_time = time.time()
        self._finish_time: float | None = None
        self._body_future = None
        self.path, _, self.query = uri.partition("?")
        self.query_arguments: dict[str, list[bytes]] = (
            _parse_query(self.query, _default_config.urlencoded.max_arguments) if self.query else {}
        )
        # A shallow copy per list: arguments gains body values later, and
        # query_arguments must not see them.
        self.arguments: dict[str, list[bytes]] = {
            name: list(values) for name, values in self.query_arguments.items()
        }
        self.body_arguments: dict[str, list[bytes]] = {}

    @property
    def cookies(self) -> dict[str, http.cookies.Morsel[str]]:
        """The request's cookies as a `http.cookies.SimpleCookie` (a dict of
        names to `http.cookies.Morsel`), parsed on first access.  Cookies
        whose names the standard library refuses are left out."""
        if not hasattr(self, "_cookies"):
            import http.cookies

            self._cookies = http.cookies.SimpleCookie()
            header = self.headers.get("Cookie")
            if header:
                for name, value in parse_cookie(header).items():
                    try:
                        self._cookies[name] = value
                    except http.cookies.CookieError:
                        pass
        return self._cookies

    def full_url(self) -> str:
        """Return the reconstructed URL: protocol, host and URI."""
        return f"{self.protocol}://{self.host}{self.uri}"

    def request_time(self) -> float:
        """Return the seconds the request has taken so far, or took in all
        once it is finished."""
        end = self._finish_time if self._finish_time is not None else time.time()
        return end - self._start_time

    def get_ssl_certificate(self, binary_form: bool = False) -> dict[str, Any] | bytes | None:
        """Return the client's TLS certificate, or None.

        None when the connection is not TLS, when no certificate was
        requested (the server's ``ssl_options`` need ``cert_reqs``) or on an
        `ssl.SSLError`.  With ``binary_form`` the DER bytes are returned;
        otherwise the dict of `ssl.SSLSocket.getpeercert`.
        """
        try:
            stream = getattr(self.connection, "stream", None)
            sock = getattr(stream, "socket", None)
            getpeercert = getattr(sock, "getpeercert", None)
            if getpeercert is None:
                return None
            cert: dict[str, Any] | bytes | None = getpeercert(binary_form=binary_form)
            return cert
        except SSLError:
            return None

    def _parse_body(self) -> None:
        """Parse a form body into ``body_arguments``/``files`` and merge the
        arguments into ``arguments``.  Raises `HTTPInputError` for a
        malformed or over-limit body."""
        parse_body_arguments(
            self.headers.get("Content-Type", ""),
            self.body,
            self.body_arguments,
            self.files,
            self.headers,
        )
        for name, values in self.body_arguments.items():
            self.arguments.setdefault(name, []).extend(values)

    def __repr__(self) -> str:
        fields = ("protocol", "host", "method", "uri", "version", "remote_ip")
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in fields)
        return f"{type(self).__name__}({args})"


class HTTPServerConnectionDelegate:
    """Implement this interface to handle the requests of an HTTP server.

    .. versionadded:: 4.0
    """

    def start_request(
        self, server_conn: object, request_conn: HTTPConnection
    ) -> HTTPMessageDelegate:
        """Called when a new request starts on a connection.

        ``server_conn`` identifies the long-lived connection (a keep-alive
        connection carries many requests); ``request_conn`` is the
        `HTTPConnection` for this request.  Must return the
        `HTTPMessageDelegate` that will receive the request.
        """
        raise NotImplementedError()

    def on_close(self, server_conn: object) -> None:
        """Called when the connection ``server_conn`` is closed."""


class HTTPMessageDelegate:
    """Implement this interface to receive one HTTP request or response.

    .. versionadded:: 4.0
    """

    def headers_received(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
    ) -> Awaitable[None] | None:
        """Called when the start line and headers have been received.

        May return an awaitable; the connection reads no more of the
        message until it is done (flow control).
        """

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        """Called with each piece of the body.  May return an awaitable for
        flow control, as `headers_received`."""

    def finish(self) -> None:
        """Called after the last piece of the body."""

    def on_connection_close(self) -> None:
        """Called if the connection closed before the message was complete."""


class HTTPConnection:
    """The interface applications use to write an HTTP message back.

    .. versionadded:: 4.0
    """

    def write_headers(
        self,
        start_line: RequestStartLine | ResponseStartLine,
        headers: HTTPHeaders,
        chunk: bytes | None = None,
    ) -> asyncio.Future[None]:
        """Write the start line and headers, and ``chunk`` as the first
        piece of the body if given.  Returns a future that resolves when
        the data has been written (flow control)."""
        raise NotImplementedError()

    def write(self, chunk: bytes) -> asyncio.Future[None]:
        """Write a piece of the body; returns a future as `write_headers`."""
        raise NotImplementedError()

    def finish(self) -> None:
        """End the message."""
        raise NotImplementedError()


# ---------------------------------------------------------------------------
# URLs, usernames, hosts.


def url_concat(
    url: str,
    args: dict[str, str] | list[tuple[str, str]] | tuple[tuple[str, str], ...] | None,
) -> str:
    """Return ``url`` with ``args`` appended to its query string.

    ``args`` is a dict, or a list or tuple of ``(name, value)`` pairs (which
    can repeat a name); existing query arguments are kept.  Raises
    `TypeError` for any other type.

        >>> url_concat("http://example.com/foo", dict(c="d"))
        'http://example.com/foo?c=d'
        >>> url_concat("http://example.com/foo?a=b", [("c", "d"), ("c", "d2")])
        'http://example.com/foo?a=b&c=d&c=d2'
    """
    if args is None:
        return url
    parsed = urllib.parse.urlparse(url)
    query = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
    if isinstance(args, dict):
        query.extend(args.items())
    elif isinstance(args, (list, tuple)):
        query.extend(args)
    else:
        raise TypeError(f"'args' parameter should be dict, list or tuple. Not {type(args)}")
    return urllib.parse.urlunparse(parsed._replace(query=urllib.parse.urlencode(query)))


def encode_username_password(username: str | bytes, password: str | bytes) -> bytes:
    """Return ``username:password`` as UTF-8 bytes, as HTTP Basic
    authentication encodes it (before base64); text is normalised to NFC
    first, as RFC 7617 asks.

    .. versionadded:: 5.1
    """
    import unicodedata

    # RFC 7617 section 2.1: user-id and password are normalised to NFC.
    if isinstance(username, str):
        username = unicodedata.normalize("NFC", username)
    if isinstance(password, str):
        password = unicodedata.normalize("NFC", password)
    return utf8(username) + b":" + utf8(password)


_HOST_AND_PORT_RE = re.compile(r"(.+):(\d+)")


#: Host header value -> host name, for `HTTPServerRequest` (bounded).
_host_names: dict[str, str] = {}


def split_host_and_port(netloc: str) -> tuple[str, int | None]:
    """Split ``netloc`` (``host`` or ``host:port``) into ``(host, port)``,
    with ``port`` None when absent.

        >>> split_host_and_port("example.com:8080")
        ('example.com', 8080)

    .. versionadded:: 4.1
    """
    match = _HOST_AND_PORT_RE.fullmatch(netloc)
    if match is None:
        return netloc, None
    return match.group(1), int(match.group(2))


def qs_to_qsl(qs: Mapping[str, list[AnyStr]]) -> Iterable[tuple[str, AnyStr]]:
    """Turn a dict of names to lists of values (as `urllib.parse.parse_qs`
    returns) into ``(name, value)`` pairs, one per value.

    .. versionadded:: 5.0
    """
    for name, values in qs.items():
        for value in values:
            yield name, value


# ---------------------------------------------------------------------------
# Timestamps.


def format_timestamp(
    ts: int | float | tuple[int, ...] | time.struct_time | datetime.datetime,
) -> str:
    """Format a time for an HTTP header, e.g.
    ``"Sun, 27 Jan 2013 18:43:20 GMT"``.

    ``ts`` is a Unix timestamp, a UTC time tuple or `time.struct_time` (as
    `time.gmtime` returns), or a `datetime.datetime` (naive ones are taken
    as UTC).  Raises `TypeError` for anything else.

        >>> format_timestamp(1359312200)
        'Sun, 27 Jan 2013 18:43:20 GMT'
    """
    import calendar
    import email.utils

    if isinstance(ts, (int, float)) and not isinstance(ts, bool):
        seconds: float = ts
    elif isinstance(ts, (tuple, time.struct_time)):
        seconds = calendar.timegm(ts)
    elif isinstance(ts, datetime.datetime):
        if ts.tzinfo is not None:
            ts = ts.astimezone(datetime.UTC).replace(tzinfo=None)
        seconds = calendar.timegm(ts.utctimetuple())
    else:
        raise TypeError(f"unknown timestamp type: {ts!r}")
    return email.utils.formatdate(seconds, usegmt=True)


# ---------------------------------------------------------------------------
# Form bodies.


class HTTPFile(ObjectDict):
    """A file uploaded in a ``multipart/form-data`` body.

    A dict whose keys are also attributes: ``filename``, ``body`` (bytes)
    and ``content_type``.
    """

    filename: str
    body: bytes
    content_type: str


@dataclasses.dataclass
class ParseMultipartConfig:
    """Limits for parsing ``multipart/form-data`` bodies.

    ``enabled``: parse multipart bodies at all (when false, such a body
    raises `HTTPInputError`); ``max_parts``: the most parts a body may
    have; ``max_part_header_size``: the most bytes of one part's header
    block.
    """

    enabled: bool = True
    max_parts: int = 100
    max_part_header_size: int = 10 * 1024


@dataclasses.dataclass
class ParseUrlEncodedConfig:
    """Limits for parsing query strings and ``application/x-www-form-urlencoded`` bodies.

    ``max_arguments``: the most arguments one may have (counting its
    ``&``-separated fields); more is an `HTTPInputError` (a 400).
    """

    max_arguments: int = 1000


@dataclasses.dataclass
class ParseBodyConfig:
    """Limits for parsing request query strings and form bodies.

    ``multipart``: a `ParseMultipartConfig`; ``urlencoded``: a
    `ParseUrlEncodedConfig` (for query strings too).  Install one with
    `set_parse_body_config`, or pass it to `parse_body_arguments`.
    """

    multipart: ParseMultipartConfig = dataclasses.field(default_factory=ParseMultipartConfig)
    urlencoded: ParseUrlEncodedConfig = dataclasses.field(default_factory=ParseUrlEncodedConfig)


# The built-in defaults (what `set_parse_body_config` replaces).
_DEFAULT_PARSE_BODY_CONFIG = ParseBodyConfig()
_default_config = _DEFAULT_PARSE_BODY_CONFIG


def set_parse_body_config(config: ParseBodyConfig) -> None:
    """Set the process-wide default `ParseBodyConfig`, used wherever no
    ``config`` argument is passed (including request query strings)."""
    global _default_config
    _default_config = config


def _parse_query(qs: str | bytes, max_arguments: int) -> dict[str, list[bytes]]:
    """Parse a query string (keeping blank values) into names mapped to
    lists of undecoded byte values; raise `HTTPInputError` if it has more
    than ``max_arguments`` fields."""
    if isinstance(qs, bytes):
        qs = qs.decode("latin-1")
    # Counting separators is one C-level pass, so an oversized query is
    # refused before any per-field work is done.
    if qs.count("&") >= max_arguments:
        raise HTTPInputError(
            f"too many arguments: Max number of fields exceeded (more than {max_arguments})"
        )
    result: dict[str, list[bytes]] = {}
    # latin-1 maps code points 0-255 to bytes one to one, so decoding the
    # percent-escapes as latin-1 and re-encoding gives back the sent bytes.
    for name, value in urllib.parse.parse_qsl(qs, keep_blank_values=True, encoding="latin-1"):
        result.setdefault(name, []).append(value.encode("latin-1"))
    return result


def parse_body_arguments(
    content_type: str,
    body: bytes,
    arguments: dict[str, list[bytes]],
    files: dict[str, list[HTTPFile]],
    headers: HTTPHeaders | None = None,
    *,
    config: ParseBodyConfig | None = None,
) -> None:
    """Parse a form body into ``arguments`` and ``files``.

    Handles ``application/x-www-form-urlencoded`` (values stay bytes, to be
    decoded by the application; a ``charset`` parameter other than UTF-8
    has the values transcoded to UTF-8) and ``multipart/form-data``
    (`parse_multipart_form_data`).  Other content types are ignored.

    Raises `HTTPInputError` (without logging) when a form body has
    a ``Content-Encoding`` other than identity, is malformed, or breaks a
    limit of ``config`` (by default the one set by `set_parse_body_config`).
    """
    if config is None:
        config = _default_config
    is_form = content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    if not is_form:
        # Only form bodies are parsed; any other body (whatever its coding)
        # is the application's business.
        return
    try:
        encoding = headers.get("Content-Encoding", "identity") if headers else "identity"
        if encoding.strip().lower() != "identity":
            raise HTTPInputError(f"Unsupported Content-Encoding: {encoding}")
        if content_type.startswith("application/x-www-form-urlencoded"):
            _parse_urlencoded(content_type, body, arguments, config)
        elif content_type.startswith("multipart/form-data"):
            _, params = _parse_header(content_type)
            boundary = params.get("boundary")
            if not boundary:
                raise HTTPInputError("multipart boundary not found")
            parse_multipart_form_data(utf8(boundary), body, arguments, files, config=config)
    except HTTPInputError:
        # Not logged here: the caller decides (Tornado's web layer logs a
        # warning and answers 400).
        raise


def _parse_urlencoded(
    content_type: str, body: bytes, arguments: dict[str, list[bytes]], config: ParseBodyConfig
) -> None:
    _, params = _parse_header(content_type)
    charset = params.get("charset", "utf-8").lower()
    parsed = _parse_query(body, config.urlencoded.max_arguments)
    if charset not in ("utf-8", "utf8", "us-ascii", "ascii"):
        # Applications decode arguments as UTF-8, so re-encode values the
        # client says are in another charset.
        try:
            parsed = {
                name: [value.decode(charset).encode("utf-8") for value in values]
                for name, values in parsed.items()
            }
        except (LookupError, UnicodeDecodeError) as e:
            raise HTTPInputError(f"Invalid x-www-form-urlencoded body: {e}") from e
    for name, values in parsed.items():
        if values:
            arguments.setdefault(name, []).extend(values)


def parse_multipart_form_data(
    boundary: bytes,
    data: bytes,
    arguments: dict[str, list[bytes]],
    files: dict[str, list[HTTPFile]],
    *,
    config: ParseMultipartConfig | ParseBodyConfig | None = None,
) -> None:
    """Parse a ``multipart/form-data`` body into ``arguments`` and ``files``.

    ``boundary`` is the ``boundary`` parameter of the Content-Type (quotes
    around it are removed).  Parts with a ``filename`` go to ``files`` as
    `HTTPFile`; the others' values go to ``arguments``.  The work is linear
    in the size of ``data``.

    Raises `HTTPInputError` for a missing final boundary, a part without
    headers, without a ``form-data`` Content-Disposition or without a
    name, more parts than allowed, a part header block over the size limit,
    or when multipart parsing is disabled in ``config``.

    .. versionchanged:: 5.1
       Malformed input raises `HTTPInputError` instead of being logged.
    """
    if config is None:
        config = _default_config
    limits = config.multipart if isinstance(config, ParseBodyConfig) else config
    if not limits.enabled:
        raise HTTPInputError("multipart/form-data parsing is disabled")
    if boundary.startswith(b'"') and boundary.endswith(b'"') and len(boundary) >= 2:
        boundary = boundary[1:-1]
    delimiter = b"--" + boundary
    close = data.rfind(delimiter + b"--")
    if close == -1:
        raise HTTPInputError("Invalid multipart/form-data: no final boundary found")
    # Count before splitting, so a body of many tiny parts is refused after
    # one scan instead of after building every part.
    if data.count(delimiter, 0, close) > limits.max_parts:
        raise HTTPInputError(
            f"multipart/form-data has too many parts (more than {limits.max_parts})"
        )
    pieces = data[:close].split(delimiter + b"\r\n")
    # What comes before the first delimiter is a preamble and is ignored,
    # unless the body leaves out the opening delimiter and starts right
    # away with a part's headers (which Tornado accepts).
    first = pieces[0]
    if b"\r\n\r\n" in first and b":" in first.partition(b"\r\n")[0]:
        _parse_multipart_part(first, arguments, files, limits)
    for part in pieces[1:]:
        _parse_multipart_part(part, arguments, files, limits)


def _parse_multipart_part(
    part: bytes,
    arguments: dict[str, list[bytes]],
    files: dict[str, list[HTTPFile]],
    limits: ParseMultipartConfig,
) -> None:
    head_end = part.find(b"\r\n\r\n", 0, limits.max_part_header_size + 4)
    if head_end == -1:
        if len(part) > limits.max_part_header_size:
            raise HTTPInputError("multipart/form-data part header too large")
        raise HTTPInputError("multipart/form-data missing headers")
    if not part.endswith(b"\r\n"):
        raise HTTPInputError("Invalid multipart/form-data: part does not end with CRLF")
    try:
        head_text = part[:head_end].decode("utf-8")
    except UnicodeDecodeError as e:
        raise HTTPInputError(f"multipart/form-data headers are not UTF-8: {e}") from e
    # Split on CRLF only: a lone CR or LF left inside a line is then caught
    # as an invalid value by parse_line.
    headers = HTTPHeaders()
    for line in head_text.split("\r\n"):
        if "\n" in line:
            raise HTTPInputError(f"Invalid multipart/form-data header line {line!r}")
        headers.parse_line(line, _chars_are_bytes=False)
    disposition = headers.get("Content-Disposition", "")
    kind, params = _parse_header(disposition)
    if kind != "form-data":
        raise HTTPInputError("Invalid multipart/form-data: no form-data Content-Disposition")
    name = params.get("name")
    if not name:
        raise HTTPInputError("multipart/form-data value missing name")
    value = part[head_end + 4 : -2]
    filename = params.get("filename")
    if filename is not None:
        content_type = headers.get("Content-Type", "application/unknown")
        files.setdefault(name, []).append(
            HTTPFile(filename=filename, body=value, content_type=content_type)
        )
    else:
        arguments.setdefault(name, []).append(value)


# ---------------------------------------------------------------------------
# Header parameters (Content-Type, Content-Disposition), ranges, cookies.

_PARAM_RE = _ABNF.lenient_parameter
_QUOTED_PAIR_RE = _ABNF.quoted_pair


def _parse_header(line: str) -> tuple[str, dict[str, str]]:
    """Split a header value such as a Content-Type into its main value
    (lower-cased) and a dict of its parameters.

    Quoted parameter values are unquoted; RFC 2231 extended parameters
    (``filename*=UTF-8''na%C3%AFve.txt``) are decoded and win over the
    plain ones.  A parameter without a value maps to ``""``.

        >>> _parse_header('form-data; name="files"; filename="f.txt"')
        ('form-data', {'name': 'files', 'filename': 'f.txt'})
    """
    main, _, rest = line.partition(";")
    params: dict[str, str] = {}
    extended: list[tuple[str, str]] = []
    for match in _PARAM_RE.finditer(";" + rest):
        name = match.group(1).lower()
        quoted, plain = match.group(2, 3)
        if quoted is not None:
            value = _QUOTED_PAIR_RE.sub(r"\1", quoted)
        elif plain is not None:
            value = plain.strip()
        else:
            value = ""
        if name.endswith("*"):
            extended.append((name, value))
        else:
            params[name] = value
    if extended:
        # email.utils understands RFC 2231 (charset'language'percent-data
        # and continuations); it wants a leading placeholder pair.
        import email.utils

        decoded = email.utils.decode_params([("", ""), *extended])[1:]
        for ext_name, ext_value in decoded:
            # decode_params hands values back quoted.
            params[ext_name] = email.utils.unquote(email.utils.collapse_rfc2231_value(ext_value))
    return main.strip().lower(), params


def _encode_header(key: str, pdict: Mapping[str, str | None]) -> str:
    """The inverse of `_parse_header`: ``key`` followed by ``; name=value``
    for each parameter (``; name`` when the value is None).

        >>> _encode_header("permessage-deflate", {"client_max_window_bits": "15"})
        'permessage-deflate; client_max_window_bits=15'
    """
    if not pdict:
        return key
    pieces = [key]
    for name, value in pdict.items():
        pieces.append(name if value is None else f"{name}={value}")
    return "; ".join(pieces)


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text else None


_RANGE_RE = _ABNF.single_byte_range


def _parse_request_range(range_header: str) -> tuple[int | None, int | None] | None:
    """Parse a ``Range`` header of a single byte range into Python slice
    bounds ``(start, end)``, or None if it is not one byte range.

    ``bytes=1-2`` gives ``(1, 3)``; ``bytes=6-`` gives ``(6, None)``;
    ``bytes=-6`` (the last six bytes) gives ``(-6, None)``; ``bytes=-0``
    gives ``(None, 0)``, an empty range.
    """
    match = _RANGE_RE.fullmatch(range_header.strip())
    if match is None:
        return None
    start = _int_or_none(match.group(1))
    end = _int_or_none(match.group(2))
    if start is None:
        if end is None:
            return None
        if end == 0:
            return None, 0
        return -end, None
    if end is not None:
        if end < start:
            return None
        end += 1
    return start, end


def _get_content_range(start: int | None, end: int | None, total: int) -> str:
    """Return a ``Content-Range`` value for the slice ``[start:end]`` of a
    resource of ``total`` bytes, e.g. ``"bytes 0-9/100"``."""
    first = start or 0
    last = (end or total) - 1
    return f"bytes {first}-{last}/{total}"


# A quoted cookie value's escapes: a three-digit octal code or a backslash
# before any character.  One regex pass keeps unquoting linear.
_COOKIE_ESCAPE_RE = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.DOTALL)


def _unquote_cookie_escape(match: re.Match[str]) -> str:
    octal = match.group(1)
    return chr(int(octal, 8)) if octal is not None else match.group(2)


def _unquote_cookie(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    return _COOKIE_ESCAPE_RE.sub(_unquote_cookie_escape, value[1:-1])


def parse_cookie(cookie: str) -> dict[str, str]:
    """Parse a ``Cookie`` header value into a dict of names to values.

    Follows what browsers send rather than the strict RFC: pairs are
    separated by ``;``, a pair without ``=`` is a value with an empty name,
    surrounding whitespace is dropped and quoted values are unquoted.  Time
    is linear in the input, whatever its quotes and semicolons.

        >>> parse_cookie("a=1; b=\\"two\\"")
        {'a': '1', 'b': 'two'}

    .. versionadded:: 4.4.2
    """
    result: dict[str, str] = {}
    for chunk in cookie.split(";"):
        name, eq, value = chunk.partition("=")
        if not eq:
            name, value = "", name
        name = name.strip()
        value = value.strip()
        if name or value:
            result[name] = _unquote_cookie(value)
    return result


def doctests() -> unittest.TestSuite:
    """Return a `unittest` suite of the doctest examples in this module's
    docstrings (``HTTPHeaders``, ``url_concat``, the start-line parsers...)."""
    import doctest

    return doctest.DocTestSuite(sys.modules[__name__])
