"""``tornado._http1_fast``: the llhttp-backed head parsers give exactly the
results and errors of the pure ones in ``tornado._http1``.

The differential tests feed the same bytes to both and compare the outcome:
the start line and every header value, or the exception's type, message
and ``status_code``.  Heads come from the grammar (``httputil._ABNF``) and
are then mutated byte-wise (bare CR and LF, NUL, obs-fold, spaces before
the colon, bad versions, leading empty lines, ...).  Tests that need
httptools skip when it is not installed; the selection tests run either way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tornado import _http1, _http1_fast
from tornado._http1 import HTTP1ProtocolError
from tornado.httputil import _ABNF, HTTPHeaders

needs_httptools = pytest.mark.skipif(
    not _http1_fast.AVAILABLE,
    reason="httptools is not installed (the tornado-http[speedups] extra): no fast parser to test",
)

HeadParser = Callable[..., tuple[Any, HTTPHeaders]]


def _outcome(parse: HeadParser, data: bytes, max_header_count: int) -> tuple[Any, ...]:
    """What a head parser does with ``data``: its result in comparable form,
    or the error it raises (type, message, status)."""
    try:
        start_line, headers = parse(data, max_header_count=max_header_count)
    except HTTP1ProtocolError as e:
        return ("error", type(e), str(e), e.status_code)
    assert type(headers) is HTTPHeaders
    return ("ok", type(start_line), tuple(start_line), list(headers._lists.items()))


@contextmanager
def _fast_for_every_size() -> Iterator[None]:
    # The fast functions leave short heads to the pure code; to compare
    # llhttp's checks on short input too, lower the threshold for a while.
    saved = _http1_fast._MIN_FAST_SIZE
    _http1_fast._MIN_FAST_SIZE = 0
    try:
        yield
    finally:
        _http1_fast._MIN_FAST_SIZE = saved


def _assert_same(kind: str, data: bytes, max_header_count: int = 1000) -> tuple[Any, ...]:
    """Both parsers agree on ``data``, with the default size threshold and
    with every head sent through llhttp; return the outcome."""
    if kind == "request":
        pure, fast = _http1.parse_request_head, _http1_fast.parse_request_head
    else:
        pure, fast = _http1.parse_response_head, _http1_fast.parse_response_head
    expected = _outcome(pure, data, max_header_count)
    assert _outcome(fast, data, max_header_count) == expected, data
    with _fast_for_every_size():
        assert _outcome(fast, data, max_header_count) == expected, data
    return expected


@contextmanager
def _count_fallbacks() -> Iterator[list[bytes]]:
    """Record the heads the fast functions hand to the pure ones."""
    calls: list[bytes] = []
    saved = _http1_fast._pure_request_head, _http1_fast._pure_response_head

    def request(data: bytes, **kwargs: Any) -> Any:
        calls.append(data)
        return saved[0](data, **kwargs)

    def response(data: bytes, **kwargs: Any) -> Any:
        calls.append(data)
        return saved[1](data, **kwargs)

    _http1_fast._pure_request_head = request
    _http1_fast._pure_response_head = response
    try:
        yield calls
    finally:
        _http1_fast._pure_request_head, _http1_fast._pure_response_head = saved


# ---------------------------------------------------------------------------
# Generated heads.

# Most generated heads are valid and in what llhttp accepts too (so the fast
# path is really compared, not only its hand-over to the pure function);
# the rest stray off the grammar or into what only one side accepts.
# (``one_of`` picks its branches evenly: repeating one weights it.)
known_methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"])
methods = st.one_of(
    known_methods,
    known_methods,
    known_methods,
    # Unknown to llhttp, or refused by it, while any token is a method to us.
    st.sampled_from(["get", "Post", "FOO", "M-SEARCH", "PROPFIND", "QUERY", "PRI", "CONNECT"]),
    st.from_regex(_ABNF.token, fullmatch=True),
)
origin_targets = st.from_regex(_ABNF.origin_form, fullmatch=True)
targets = st.one_of(
    origin_targets,
    origin_targets,
    origin_targets,
    st.from_regex(_ABNF.absolute_form, fullmatch=True),
    st.from_regex(_ABNF.authority_form, fullmatch=True),
    st.just("*"),
    # What the pure parser accepts beyond RFC 3986: "|", "{", raw UTF-8.
    st.from_regex(_ABNF.lenient_request_target, fullmatch=True),
)
versions = st.sampled_from(
    ["HTTP/1.1"] * 10
    + ["HTTP/1.0"] * 3
    + ["HTTP/1.9", "HTTP/2.0", "HTTP/0.9", "http/1.1", "RTSP/1.0", "HTTP/1.10", "HTTP/1"]
)
plain_names = st.from_regex(_ABNF.field_name, fullmatch=True)
field_names = st.one_of(
    plain_names,
    plain_names,
    plain_names,
    st.sampled_from(
        ["Host", "Content-Length", "Transfer-Encoding", "Connection", "Upgrade", "Cookie", "Accept"]
    ),
)
ows = st.sampled_from(["", " ", " ", " ", "\t", "  ", " \t "])
plain_values = st.from_regex(_ABNF.field_value, fullmatch=True)
field_values = st.one_of(
    plain_values,
    plain_values,
    plain_values,
    st.sampled_from(
        [
            "example.com",
            "localhost:8888",
            "[::1]:80",
            "a b",
            "5",
            "05",
            "5, 5",
            "-1",
            "chunked",
            "gzip, chunked",
            "upgrade",
            "keep-alive",
            "close",
            "websocket",
            "",
            "caf\xe9",
            "x@y",
        ]
    ),
)


def _field_line(name: str, before: str, value: str, after: str) -> str:
    return f"{name}:{before}{value}{after}"


field_lines = st.builds(_field_line, field_names, ows, field_values, ows)
# Bytes that break heads in interesting ways, and any byte at all.
odd_bytes = st.one_of(
    st.sampled_from([b"\r", b"\n", b"\r\n", b"\x00", b" ", b"\t", b":", b"\x7f", b"\x80", b"\xff"]),
    st.binary(min_size=1, max_size=1),
)


@st.composite
def mutated(draw: st.DrawFn, head: bytes) -> bytes:
    """``head`` with a few of the damages peers actually do to heads."""
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(head)))
        how = draw(st.integers(0, 9))
        if how == 0:
            head = head[:pos] + draw(odd_bytes) + head[pos:]
        elif how == 1:
            head = head[:pos] + head[pos + 1 :]
        elif how == 2:
            head = head[:pos] + draw(odd_bytes) + head[pos + 1 :]
        elif how == 3:
            head = head.replace(b"\r\n", b"\n", draw(st.integers(1, 4)))
        elif how == 4:
            head = draw(st.sampled_from([b"\r\n", b"\n", b"\r\n\r\n"])) + head
        elif how == 5:
            # obs-fold: a header line continued on the next one.
            head = head.replace(b"\r\n", b"\r\n" + draw(st.sampled_from([b" ", b"\t", b"  "])), 2)
            head = head.replace(b"\r\n ", b"\r\n", 1) if draw(st.booleans()) else head
        elif how == 6:
            head = head.replace(b":", draw(st.sampled_from([b" :", b"\t:", b" : "])), 1)
        elif how == 7:
            head = head[:-2] + draw(st.sampled_from([b"", b"\r\n", b"GET / HTTP/1.1\r\n\r\n"]))
        elif how == 8:
            # a header line repeated many times, towards the count limit
            lines = head.split(b"\r\n")
            if len(lines) > 2:
                lines[1:2] = lines[1:2] * draw(st.integers(2, 40))
            head = b"\r\n".join(lines)
        else:
            head = head[:pos]
    return head


hosts = st.one_of(
    st.sampled_from(["example.com", "localhost:8888", "[::1]:80", "127.0.0.1", "", "a b", "a/b"]),
    st.from_regex(_ABNF.host_header, fullmatch=True),
)


@st.composite
def request_heads(draw: st.DrawFn) -> bytes:
    # Six in ten heads are valid for both parsers (the fast path itself is
    # compared); the others draw from everything and may be mutated.
    valid = draw(st.integers(0, 9)) < 6
    if valid:
        line = f"{draw(known_methods)} {draw(origin_targets)} {draw(st.sampled_from(['HTTP/1.1', 'HTTP/1.0']))}"
        lines = [
            line,
            *draw(
                st.lists(st.builds(_field_line, plain_names, ows, plain_values, ows), max_size=12)
            ),
        ]
    else:
        line = f"{draw(methods)} {draw(targets)} {draw(versions)}"
        if draw(st.integers(0, 9)) == 0:
            line = line.replace(" ", draw(st.sampled_from(["  ", "\t", ""])), 1)
        lines = [line, *draw(st.lists(field_lines, max_size=12))]
    # Usually one Host, sometimes none or two (which the pure parser refuses).
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        lines.insert(draw(st.integers(1, len(lines))), f"Host: {draw(hosts)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if valid else draw(st.one_of(st.just(head), mutated(head)))


reasons = st.one_of(
    st.from_regex(_ABNF.reason_phrase, fullmatch=True).map(lambda r: " " + r),
    st.sampled_from(["", " OK", " Not Found", "  ", " O\x01K", " caf\xe9", " a\tb", " \x7f"]),
    st.from_regex(_ABNF.reason_phrase, fullmatch=True).map(lambda r: " " + r),
)
codes = st.one_of(
    st.integers(100, 599).map(str),
    st.integers(100, 599).map(str),
    st.sampled_from(["200", "101", "204", "304", "100", "000", "099", "999", "20", "2000", "2x0"]),
)


@st.composite
def response_heads(draw: st.DrawFn) -> bytes:
    valid = draw(st.integers(0, 9)) < 6
    if valid:
        line = f"{draw(st.sampled_from(['HTTP/1.1', 'HTTP/1.0']))} {draw(st.integers(100, 599))}"
        line += draw(
            st.one_of(
                st.just(""),
                st.from_regex(_ABNF.padded_field_value, fullmatch=True).map(lambda r: " " + r),
            )
        )
        lines = [
            line,
            *draw(
                st.lists(st.builds(_field_line, plain_names, ows, plain_values, ows), max_size=12)
            ),
        ]
    else:
        line = f"{draw(versions)} {draw(codes)}{draw(reasons)}"
        lines = [line, *draw(st.lists(field_lines, max_size=12))]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if valid else draw(st.one_of(st.just(head), mutated(head)))


header_counts = st.sampled_from([1000, 1000, 1000, 1, 2, 3, 8])

_SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@needs_httptools
@_SETTINGS
@given(request_heads(), header_counts)
def test_request_heads_same_as_pure(data: bytes, max_header_count: int) -> None:
    _assert_same("request", data, max_header_count)


@needs_httptools
@_SETTINGS
@given(response_heads(), header_counts)
def test_response_heads_same_as_pure(data: bytes, max_header_count: int) -> None:
    _assert_same("response", data, max_header_count)


@needs_httptools
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]),
    st.from_regex(_ABNF.origin_form, fullmatch=True),
    st.sampled_from(["HTTP/1.0", "HTTP/1.1"]),
    st.lists(
        st.builds(
            _field_line,
            st.from_regex(_ABNF.field_name, fullmatch=True).filter(
                # framing headers llhttp checks itself, and Host, which the
                # pure parser checks: both left to other tests here
                lambda n: n.lower() not in ("host", "content-length", "transfer-encoding")
            ),
            ows,
            st.from_regex(_ABNF.field_value, fullmatch=True),
            ows,
        ),
        min_size=4,
        max_size=10,
    ),
)
def test_valid_heads_take_the_fast_path(
    method: str, target: str, version: str, lines: list[str]
) -> None:
    # The fast path is really taken for valid heads: llhttp accepts what the
    # grammar generates (known methods, origin-form targets), so no head is
    # handed back to the pure parser.
    data = ("\r\n".join([f"{method} {target} {version}", *lines]) + "\r\n\r\n").encode("latin-1")
    with _count_fallbacks() as fallbacks, _fast_for_every_size():
        fast = _outcome(_http1_fast.parse_request_head, data, 1000)
    assert fallbacks == []
    assert fast == _outcome(_http1.parse_request_head, data, 1000)
    assert fast[0] == "ok"


# ---------------------------------------------------------------------------
# Every byte value where llhttp and our grammar could disagree.

_BYTE_SITES = {
    "in a header name": (
        b"GET / HTTP/1.1\r\nX-A%cB: value\r\nHost: example.com\r\n\r\n",
        "request",
    ),
    "first in a name": (
        b"GET / HTTP/1.1\r\n%cX-Name: value\r\nHost: example.com\r\n\r\n",
        "request",
    ),
    "in a header value": (
        b"GET / HTTP/1.1\r\nX-Name: val%cue\r\nHost: example.com\r\n\r\n",
        "request",
    ),
    "ending a value": (
        b"GET / HTTP/1.1\r\nX-Name: value%c\r\nHost: example.com\r\n\r\n",
        "request",
    ),
    "alone as a value": (
        b"GET / HTTP/1.1\r\nX-Name:%c\r\nHost: example.com:8080\r\n\r\n",
        "request",
    ),
    "in the target": (
        b"GET /pa%cth?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
        "request",
    ),
    "in the method": (
        b"G%cT /path HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
        "request",
    ),
    "before the colon": (
        b"GET / HTTP/1.1\r\nX-Name%c: value\r\nHost: example.com\r\n\r\n",
        "request",
    ),
    "in the Host": (b"GET / HTTP/1.1\r\nAccept: */*\r\nHost: exa%cmple.com\r\n\r\n", "request"),
    "in the version": (b"GET / HTTP/1%c1\r\nHost: example.com\r\nAccept: */*\r\n\r\n", "request"),
    "in a reason": (b"HTTP/1.1 200 O%cK\r\nServer: test\r\nContent-Length: 0\r\n\r\n", "response"),
    "in a response value": (
        b"HTTP/1.1 200 OK\r\nServer: te%cst\r\nContent-Length: 0\r\n\r\n",
        "response",
    ),
    "in a response name": (
        b"HTTP/1.1 200 OK\r\nSer%cver: test\r\nContent-Length: 0\r\n\r\n",
        "response",
    ),
    "in the status code": (
        b"HTTP/1.1 2%c0 OK\r\nServer: test\r\nContent-Length: 0\r\n\r\n",
        "response",
    ),
}


@needs_httptools
@pytest.mark.parametrize("site", sorted(_BYTE_SITES))
def test_every_byte_value_same_as_pure(site: str) -> None:
    template, kind = _BYTE_SITES[site]
    for byte in range(256):
        _assert_same(kind, template % byte)


# ---------------------------------------------------------------------------
# Targeted cases: what each side would do alone, and that the results agree.

BROWSER_GET = (
    b"GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\nCookie: session=abc; theme=dark\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n\r\n"
)
_H = b"Host: example.com\r\nAccept: */*\r\nUser-Agent: test/1.0\r\n"

REQUESTS = {
    "browser GET": BROWSER_GET,
    "curl GET": b"GET / HTTP/1.1\r\nHost: localhost:8888\r\n\r\n",
    "no headers": b"GET / HTTP/1.0\r\n\r\n",
    "empty value": b"GET / HTTP/1.1\r\n" + _H + b"X-Empty:\r\nX-Blank: \t \r\n\r\n",
    "repeated header": b"GET / HTTP/1.1\r\n" + _H + b"Cookie: a=1\r\ncookie: b=2\r\n\r\n",
    "value padding kept inside": b"GET / HTTP/1.1\r\n" + _H + b"X-A: \t a  b \t\r\n\r\n",
    "obs-text value": b"GET / HTTP/1.1\r\n" + _H + b"X-A: caf\xe9 \x80\xff\r\n\r\n",
    "bare CR": b"GET / HTTP/1.1\r\n" + _H + b"X-A: a\rb\r\n\r\n",
    "bare CR at line end": b"GET / HTTP/1.1\r\n" + _H + b"X-A: ab\r\r\n\r\n",
    "NUL in value": b"GET / HTTP/1.1\r\n" + _H + b"X-A: a\x00b\r\n\r\n",
    "NUL in name": b"GET / HTTP/1.1\r\n" + _H + b"X-\x00A: ab\r\n\r\n",
    "obs-fold": b"GET / HTTP/1.1\r\n" + _H + b"X-A: a\r\n b\r\n\r\n",
    "obs-fold tab": b"GET / HTTP/1.1\r\n" + _H + b"X-A: a\r\n\tb\r\n\r\n",
    "folded first line": b"GET / HTTP/1.1\r\n X-A: a\r\n" + _H + b"\r\n",
    "space before colon": b"GET / HTTP/1.1\r\n" + _H + b"X-A : a\r\n\r\n",
    "tab before colon": b"GET / HTTP/1.1\r\n" + _H + b"X-A\t: a\r\n\r\n",
    "no colon": b"GET / HTTP/1.1\r\n" + _H + b"X-A a\r\n\r\n",
    "empty name": b"GET / HTTP/1.1\r\n" + _H + b": a\r\n\r\n",
    "LF only": b"GET / HTTP/1.1\nHost: example.com\nAccept: */*\nUser-Agent: test/1.0\n\n",
    "one LF line": b"GET / HTTP/1.1\r\n" + _H + b"X-A: a\n\r\n",
    "mixed end": b"GET / HTTP/1.1\r\n" + _H + b"\n\r\n",
    "leading CRLF": b"\r\n\r\nGET / HTTP/1.1\r\n" + _H + b"\r\n",
    "leading LF": b"\nGET / HTTP/1.1\r\n" + _H + b"\r\n",
    "only empty lines": b"\r\n\r\n",
    "lowercase method": b"get / HTTP/1.1\r\n" + _H + b"\r\n",
    "unknown method": b"BREW /pot HTTP/1.1\r\n" + _H + b"\r\n",
    "method llhttp knows": b"PROPFIND /dav HTTP/1.1\r\n" + _H + b"\r\n",
    "absolute-form": b"GET http://example.com/a?b=c HTTP/1.1\r\n" + _H + b"\r\n",
    "authority-form": b"CONNECT example.com:443 HTTP/1.1\r\n" + _H + b"\r\n",
    "asterisk-form": b"OPTIONS * HTTP/1.1\r\n" + _H + b"\r\n",
    "lenient target": b"GET /a|b{c}^\xc3\xa9 HTTP/1.1\r\n" + _H + b"\r\n",
    "space in target": b"GET /a b HTTP/1.1\r\n" + _H + b"\r\n",
    "double space": b"GET  / HTTP/1.1\r\n" + _H + b"\r\n",
    "trailing space": b"GET / HTTP/1.1 \r\n" + _H + b"\r\n",
    "HTTP/1.2": b"GET / HTTP/1.2\r\n" + _H + b"\r\n",
    "HTTP/2.0": b"GET / HTTP/2.0\r\n" + _H + b"\r\n",
    "HTTP/0.9": b"GET / HTTP/0.9\r\n" + _H + b"\r\n",
    "RTSP": b"GET / RTSP/1.0\r\n" + _H + b"\r\n",
    "lowercase version": b"GET / http/1.1\r\n" + _H + b"\r\n",
    "two Hosts": b"GET / HTTP/1.1\r\n" + _H + b"Host: other\r\n\r\n",
    "bad Host": b"GET / HTTP/1.1\r\nHost: a/b\r\nAccept: */*\r\nUser-Agent: test/1.0\r\n\r\n",
    "Host with padding": b"GET / HTTP/1.1\r\nHost:  \texample.com:80 \r\nAccept: */*\r\n\r\n",
    "IPv6 Host": b"GET / HTTP/1.1\r\nHost: [::1]:8888\r\nAccept: */*\r\nUser-Agent: x\r\n\r\n",
    "Content-Length twice": b"POST / HTTP/1.1\r\n"
    + _H
    + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
    "Content-Length list": b"POST / HTTP/1.1\r\n" + _H + b"Content-Length: 5, 5\r\n\r\n",
    "Content-Length sign": b"POST / HTTP/1.1\r\n" + _H + b"Content-Length: +5\r\n\r\n",
    "Content-Length huge": b"POST / HTTP/1.1\r\n"
    + _H
    + b"Content-Length: "
    + b"9" * 40
    + b"\r\n\r\n",
    "Content-Length and chunked": (
        b"POST / HTTP/1.1\r\n" + _H + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
    ),
    "gzip coding": b"POST / HTTP/1.1\r\n" + _H + b"Transfer-Encoding: gzip\r\n\r\n",
    "chunked in 1.0": b"POST / HTTP/1.0\r\n" + _H + b"Transfer-Encoding: chunked\r\n\r\n",
    "upgrade": b"GET /ws HTTP/1.1\r\n" + _H + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "PRI preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "two messages": b"GET / HTTP/1.1\r\n" + _H + b"\r\nGET / HTTP/1.1\r\n" + _H + b"\r\n",
    "trailing bytes": b"GET / HTTP/1.1\r\n" + _H + b"\r\nxyz",
    "no end": b"GET / HTTP/1.1\r\n" + _H,
    "empty": b"",
    "huge count": b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 1001 + b"\r\n",
    "count at limit": b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 1000 + b"\r\n",
}


@needs_httptools
@pytest.mark.parametrize("case", sorted(REQUESTS))
def test_request_case_same_as_pure(case: str) -> None:
    _assert_same("request", REQUESTS[case])


@needs_httptools
@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5])
def test_header_count_limit_same_as_pure(limit: int) -> None:
    for count in range(7):
        data = b"GET / HTTP/1.1\r\n" + b"X-Header-Line: value\r\n" * count + b"\r\n"
        outcome = _assert_same("request", data, max_header_count=limit)
        assert (outcome[0] == "ok") == (count <= limit)
        if count > limit:
            assert outcome[3] == 431


_R = b"Server: test/1.0\r\nDate: Mon, 07 Dec 2026 20:00:00 GMT\r\nContent-Type: text/plain\r\n"

RESPONSES = {
    "ok": b"HTTP/1.1 200 OK\r\n" + _R + b"Content-Length: 5\r\n\r\n",
    "short": b"HTTP/1.1 204 No Content\r\n\r\n",
    "no reason": b"HTTP/1.1 200\r\n" + _R + b"\r\n",
    "empty reason": b"HTTP/1.1 200 \r\n" + _R + b"\r\n",
    "padded reason": b"HTTP/1.1 200  OK \r\n" + _R + b"\r\n",
    "control in reason": b"HTTP/1.1 200 O\x01K\r\n" + _R + b"\r\n",
    "DEL in reason": b"HTTP/1.1 200 O\x7fK\r\n" + _R + b"\r\n",
    "obs-text reason": b"HTTP/1.1 200 Caf\xe9\r\n" + _R + b"\r\n",
    "code 000": b"HTTP/1.1 000 Zero\r\n" + _R + b"\r\n",
    "code 099": b"HTTP/1.1 099 Low\r\n" + _R + b"\r\n",
    "two-digit code": b"HTTP/1.1 99 Low\r\n" + _R + b"\r\n",
    "four-digit code": b"HTTP/1.1 1000 High\r\n" + _R + b"\r\n",
    "HTTP/2.0": b"HTTP/2.0 200 OK\r\n" + _R + b"\r\n",
    "HTTP/1.2": b"HTTP/1.2 200 OK\r\n" + _R + b"\r\n",
    "ICE": b"ICE/1.0 200 OK\r\n" + _R + b"\r\n",
    "leading CRLF": b"\r\nHTTP/1.1 200 OK\r\n" + _R + b"\r\n",
    "obs-fold unfolded": b"HTTP/1.1 200 OK\r\n" + _R + b"X-A: a\r\n b\r\n\tc\r\n\r\n",
    "obs-fold first": b"HTTP/1.1 200 OK\r\n continued\r\n" + _R + b"\r\n",
    "LF only": b"HTTP/1.1 200 OK\nServer: test\nContent-Type: text/plain\nX-Padding: yes\n\n",
    "bare CR": b"HTTP/1.1 200 OK\r\n" + _R + b"X-A: a\rb\r\n\r\n",
    "space before colon": b"HTTP/1.1 200 OK\r\n" + _R + b"X-A : b\r\n\r\n",
    "Content-Length twice": b"HTTP/1.1 200 OK\r\n"
    + _R
    + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
    "204 with length": b"HTTP/1.1 204 No Content\r\n" + _R + b"Content-Length: 5\r\n\r\n",
    "101": b"HTTP/1.1 101 Switching Protocols\r\n"
    + _R
    + b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "100 continue": b"HTTP/1.1 100 Continue\r\n" + _R + b"\r\n",
    "two Hosts are fine": b"HTTP/1.1 200 OK\r\n" + _R + b"Host: a\r\nHost: b/c\r\n\r\n",
    "huge count": b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 1001 + b"\r\n",
}


@needs_httptools
@pytest.mark.parametrize("case", sorted(RESPONSES))
def test_response_case_same_as_pure(case: str) -> None:
    _assert_same("response", RESPONSES[case])


@needs_httptools
def test_results_are_those_of_a_correct_parse() -> None:
    # Agreement alone would pass if both were wrong the same way: pin the
    # values of the common heads too.
    start_line, headers = _http1_fast.parse_request_head(BROWSER_GET)
    assert tuple(start_line) == ("GET", "/index.html?q=1", "HTTP/1.1")
    assert headers["Host"] == "example.com"
    assert headers["Accept-Encoding"] == "gzip, deflate, br"
    assert len(headers._lists) == 8
    start, response_headers = _http1_fast.parse_response_head(RESPONSES["ok"])
    assert tuple(start) == ("HTTP/1.1", 200, "OK")
    assert response_headers["Content-Length"] == "5"
    _, folded = _http1_fast.parse_response_head(RESPONSES["obs-fold unfolded"])
    assert folded["X-A"] == "a b c"


@needs_httptools
@pytest.mark.parametrize(
    ("kind", "data", "message", "status"),
    [
        ("request", REQUESTS["bare CR"], "bare CR in message head", 400),
        ("request", REQUESTS["obs-fold"], "obsolete line folding not allowed", 400),
        ("request", REQUESTS["space before colon"], "invalid header name 'X-A '", 400),
        ("request", REQUESTS["huge count"], "too many header fields (more than 1000)", 431),
        ("request", REQUESTS["two Hosts"], "more than one Host header", 400),
        ("request", REQUESTS["double space"], "Malformed HTTP request line", 400),
        ("response", RESPONSES["control in reason"], "malformed status line", 400),
    ],
)
def test_errors_are_the_pure_ones(kind: str, data: bytes, message: str, status: int) -> None:
    parse = _http1_fast.parse_request_head if kind == "request" else _http1_fast.parse_response_head
    with _fast_for_every_size(), pytest.raises(HTTP1ProtocolError) as info:
        parse(data)
    assert str(info.value).startswith(message)
    assert info.value.status_code == status


@needs_httptools
def test_short_heads_skip_llhttp() -> None:
    # Below the size threshold the pure function answers directly (llhttp's
    # set-up costs more than it saves there); above it, llhttp is used.
    short = REQUESTS["curl GET"]
    assert len(short) < _http1_fast._MIN_FAST_SIZE
    with _count_fallbacks() as fallbacks:
        _http1_fast.parse_request_head(short)
        _http1_fast.parse_request_head(BROWSER_GET)
    assert fallbacks == [short]


# ---------------------------------------------------------------------------
# Selection.


def test_select_without_speedups_is_pure() -> None:
    parsers = _http1_fast.select(False)
    assert parsers.parse_request_head is _http1.parse_request_head
    assert parsers.parse_response_head is _http1.parse_response_head
    assert parsers.parse_chunk_size_line is _http1.parse_chunk_size_line


def test_select_default_follows_speedups() -> None:
    expected = _http1_fast.select(_http1_fast.SPEEDUPS)
    assert _http1_fast.select() is expected
    assert _http1_fast.SPEEDUPS <= _http1_fast.AVAILABLE


@needs_httptools
def test_select_with_speedups_is_fast() -> None:
    parsers = _http1_fast.select(True)
    assert parsers.parse_request_head is _http1_fast.parse_request_head
    assert parsers.parse_response_head is _http1_fast.parse_response_head
    # Chunk lines stay pure: httptools reports no chunk size or extensions.
    assert parsers.parse_chunk_size_line is _http1.parse_chunk_size_line
    request, response, _ = parsers
    assert request(BROWSER_GET) == _http1.parse_request_head(BROWSER_GET)
    assert response(RESPONSES["ok"]) == _http1.parse_response_head(RESPONSES["ok"])


def _speedups_in_subprocess(env_update: dict[str, str], hide_httptools: bool = False) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TORNADO_NO_SPEEDUPS", "TORNADO_NO_EXTENSION")
    }
    env.update(env_update)
    code = "import sys\n"
    if hide_httptools:
        code += "sys.modules['httptools'] = None\n"  # makes `import httptools` fail
    code += (
        "from tornado import _http1, _http1_fast\n"
        "p = _http1_fast.select()\n"
        "print(_http1_fast.AVAILABLE, _http1_fast.SPEEDUPS,"
        " p.parse_request_head is _http1.parse_request_head)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.mark.parametrize(
    "env",
    [
        {"TORNADO_NO_SPEEDUPS": "1"},
        {"TORNADO_NO_EXTENSION": "1"},
        {"TORNADO_NO_SPEEDUPS": "yes"},
        # As tornado.websocket's masking (and Tornado's TORNADO_NO_EXTENSION):
        # any non-empty value disables, "0" included.
        {"TORNADO_NO_SPEEDUPS": "0"},
    ],
)
def test_environment_turns_speedups_off(env: dict[str, str]) -> None:
    # (whether httptools is there or not: AVAILABLE, the first word, may be either)
    available, speedups, pure = _speedups_in_subprocess(env).split()
    assert available in ("True", "False")
    assert (speedups, pure) == ("False", "True")


@needs_httptools
def test_speedups_on_by_default_with_httptools() -> None:
    assert _speedups_in_subprocess({}) == "True True False"
    assert _speedups_in_subprocess({"TORNADO_NO_SPEEDUPS": ""}) == "True True False"


def test_without_httptools_the_module_imports_and_selects_pure() -> None:
    assert _speedups_in_subprocess({}, hide_httptools=True) == "False False True"


def test_connections_run_the_selected_parsers() -> None:
    # The machine every HTTP1Connection runs parses heads and chunk lines
    # with what select() chose at import (fast or pure, by the environment).
    from tornado.http1connection import HTTP1ConnectionParameters, _new_machine

    chosen = _http1_fast.select()
    for role in ("server", "client"):
        machine = _new_machine(role, HTTP1ConnectionParameters())  # type: ignore[arg-type]
        assert machine._parse_request_head is chosen.parse_request_head
        assert machine._parse_response_head is chosen.parse_response_head
        assert machine._parse_chunk_size_line is chosen.parse_chunk_size_line
    expected = _http1_fast.parse_request_head if _http1_fast.SPEEDUPS else _http1.parse_request_head
    assert chosen.parse_request_head is expected


@needs_httptools
def test_a_served_request_goes_through_llhttp_with_speedups() -> None:
    # End to end in a fresh interpreter (the choice is made once, at import):
    # with the speedups on, a long enough head is checked by llhttp.
    code = (
        "import asyncio, socket\n"
        "import httptools\n"
        "from tornado.httpserver import HTTPServer\n"
        "from tornado.httputil import HTTPHeaders, ResponseStartLine\n"
        "fed = []\n"
        "import tornado._http1_fast as fast\n"
        "class Spy(httptools.HttpRequestParser):\n"
        "    def feed_data(self, data):\n"
        "        fed.append(bytes(data)); return super().feed_data(data)\n"
        "fast.HttpRequestParser = Spy\n"
        "def app(request):\n"
        "    request.connection.write_headers(ResponseStartLine('HTTP/1.1', 200, 'OK'),"
        " HTTPHeaders({'Content-Length': '2'}), b'ok')\n"
        "    request.connection.finish()\n"
        "async def main():\n"
        "    server = HTTPServer(app)\n"
        "    sock = socket.socket(); sock.bind(('127.0.0.1', 0)); sock.listen(); sock.setblocking(False)\n"
        "    server.add_sockets([sock])\n"
        "    r, w = await asyncio.open_connection(*sock.getsockname())\n"
        "    w.write(b'GET /x HTTP/1.1\\r\\nHost: example.com\\r\\nUser-Agent: t/1.0\\r\\n"
        "Accept: */*\\r\\n\\r\\n')\n"
        "    head = await r.readuntil(b'\\r\\n\\r\\n')\n"
        "    w.close(); server.stop(); await server.close_all_connections()\n"
        "    print(head.split(b' ')[1].decode(), len(fed))\n"
        "asyncio.run(main())\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TORNADO_NO_SPEEDUPS", "TORNADO_NO_EXTENSION")
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.split() == ["200", "1"]
    env["TORNADO_NO_SPEEDUPS"] = "1"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.split() == ["200", "0"]
