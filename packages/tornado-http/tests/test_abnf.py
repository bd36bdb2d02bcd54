"""The grammar module ``tornado._abnf``: the status-line rules side by side
(the client's one rule and the strict one of `parse_response_start_line`),
the message-framing rules that the parser and the connection read with,
and generated input from the grammar (hypothesis).

The same status lines sent by a real server to all three clients are in
tests-integration/test_status_line_rule.py."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tornado import _http1
from tornado._abnf import ABNF, chunk_line_end_within, head_end_within, trailer_end_within
from tornado.httputil import (
    _ABNF,
    HTTPHeaders,
    HTTPInputError,
    ResponseStartLine,
    _parse_client_status_line,
    parse_response_start_line,
)

R = ResponseStartLine

# ---------------------------------------------------------------------------
# The status line: one table, both rules.
#
# (line, what our clients read, what parse_response_start_line reads);
# None means refused.  Every difference between the two columns is one the
# module docstring of tornado._abnf names.

STATUS_LINES: list[tuple[str, ResponseStartLine | None, ResponseStartLine | None]] = [
    ("HTTP/1.1 200 OK", R("HTTP/1.1", 200, "OK"), R("HTTP/1.1", 200, "OK")),
    ("HTTP/1.0 404 Not Found", R("HTTP/1.0", 404, "Not Found"), R("HTTP/1.0", 404, "Not Found")),
    ("HTTP/1.1 204 ", R("HTTP/1.1", 204, ""), R("HTTP/1.1", 204, "")),
    ("HTTP/1.1 200  OK ", R("HTTP/1.1", 200, " OK "), R("HTTP/1.1", 200, " OK ")),
    ("HTTP/1.1 200 \tOK", R("HTTP/1.1", 200, "\tOK"), R("HTTP/1.1", 200, "\tOK")),
    (
        "HTTP/1.1 200 Tr\xe8s bien",
        R("HTTP/1.1", 200, "Tr\xe8s bien"),
        R("HTTP/1.1", 200, "Tr\xe8s bien"),
    ),
    ("HTTP/1.1 200 \xff\x80", R("HTTP/1.1", 200, "\xff\x80"), R("HTTP/1.1", 200, "\xff\x80")),
    ("HTTP/1.1 100 Continue", R("HTTP/1.1", 100, "Continue"), R("HTTP/1.1", 100, "Continue")),
    ("HTTP/1.1 999 Max", R("HTTP/1.1", 999, "Max"), R("HTTP/1.1", 999, "Max")),
    # Lenient for clients only: no space, no reason (curl and browsers).
    ("HTTP/1.1 200", R("HTTP/1.1", 200, ""), None),
    ("HTTP/1.0 304", R("HTTP/1.0", 304, ""), None),
    # Strict rule only (upstream's): any minor version, codes below 100.
    # libcurl refuses these, so no client of ours reads them.
    ("HTTP/1.2 200 OK", None, R("HTTP/1.2", 200, "OK")),
    ("HTTP/1.9 200 OK", None, R("HTTP/1.9", 200, "OK")),
    ("HTTP/1.1 099 Low", None, R("HTTP/1.1", 99, "Low")),
    ("HTTP/1.1 000 x", None, R("HTTP/1.1", 0, "x")),
    # Refused by both.
    ("HTTP/1.1 200OK", None, None),
    ("HTTP/1.1 2000 OK", None, None),
    ("HTTP/1.1 20 OK", None, None),
    ("HTTP/1.1 200\tOK", None, None),
    ("HTTP/1.1 200\t", None, None),
    ("HTTP/1.1\t200 OK", None, None),
    ("HTTP/1.1  200 OK", None, None),
    (" HTTP/1.1 200 OK", None, None),
    ("http/1.1 200 OK", None, None),
    ("HTTP/2 200 ", None, None),
    ("HTTP/2.0 200 OK", None, None),
    ("HTTP/0.9 200 OK", None, None),
    ("HTTP/1 200 OK", None, None),
    ("HTTP/1.10 200 OK", None, None),
    ("ICY 200 OK", None, None),
    ("HTTP/1.1 +20 OK", None, None),
    ("HTTP/1.1 \u0662\u0660\u0660 OK", None, None),  # Arabic-Indic digits: int() takes them
    ("HTTP/1.1 200 O\x00K", None, None),
    ("HTTP/1.1 200 O\x01K", None, None),
    ("HTTP/1.1 200 O\x7fK", None, None),
    ("HTTP/1.1 200 O\x0bK", None, None),
    ("HTTP/1.1 200 O\rK", None, None),
    ("HTTP/1.1 200 OK\r", None, None),
    ("HTTP/1.1 200 OK\n", None, None),
    ("HTTP/1.1 200 \u20ac", None, None),  # not latin-1: not a byte on the wire
    ("", None, None),
]


def _client(line: str) -> ResponseStartLine | None:
    try:
        return _parse_client_status_line(line)
    except HTTPInputError:
        return None


def _strict(line: str) -> ResponseStartLine | None:
    try:
        return parse_response_start_line(line)
    except HTTPInputError:
        return None


def _engine(line: str) -> ResponseStartLine | None:
    """The status line as the HTTP/1 parser of simple_httpclient and the
    WebSocket client reads it, in a whole response head."""
    try:
        start_line, _ = _http1.parse_response_head(line.encode("latin-1") + b"\r\n\r\n")
    except (HTTPInputError, UnicodeEncodeError):
        return None
    return start_line


@pytest.mark.parametrize(("line", "client", "strict"), STATUS_LINES)
def test_status_line_table(
    line: str, client: ResponseStartLine | None, strict: ResponseStartLine | None
) -> None:
    assert _client(line) == client
    assert _strict(line) == strict
    if "\n" not in line:  # an LF would end the line in a head
        assert _engine(line) == client


def test_client_rule_error_names_the_line() -> None:
    with pytest.raises(HTTPInputError, match=re.escape("'HTTP/1.1 200OK'")):
        _parse_client_status_line("HTTP/1.1 200OK")


def test_httputil_grammar_is_the_grammar_module() -> None:
    assert _ABNF is ABNF
    assert ABNF.lenient_status_line is ABNF.client_status_line


versions = st.sampled_from(["HTTP/1.0", "HTTP/1.1"])
client_codes = st.integers(100, 999)
reasons = st.from_regex(ABNF.reason_phrase, fullmatch=True)


@given(versions, client_codes, st.one_of(st.none(), st.just(""), reasons))
def test_generated_client_status_lines_parse_back(
    version: str, code: int, reason: str | None
) -> None:
    line = f"{version} {code}" if reason is None else f"{version} {code} {reason}"
    assert _parse_client_status_line(line) == (version, code, reason or "")


# Text near valid status lines, so generated input often gets far into them.
_line_pieces = st.sampled_from(
    [
        *("HTTP/1.1", "HTTP/1.0", "HTTP/1.2", "http/1.1", "200", "099", "1000", "OK", "7"),
        *(" ", "  ", "\t", "\r", "\n", "\x00", "\x7f", "\xe9", "\u20ac"),
    ]
)
near_lines = st.one_of(st.text(), st.lists(_line_pieces, max_size=8).map("".join))


@settings(max_examples=400)
@given(near_lines)
def test_the_rules_agree_where_they_overlap(line: str) -> None:
    client, strict = _client(line), _strict(line)
    if client is not None:
        # What a client reads is rebuilt exactly from what it read.
        code = f"{client.version} {client.code:03d}"
        assert line in (f"{code} {client.reason}", code) and client.code >= 100
        # The strict rule reads it the same, unless the space is missing.
        assert strict == client or line == code
    if strict is not None and strict.version in ("HTTP/1.0", "HTTP/1.1") and strict.code >= 100:
        assert client == strict
    # simple_httpclient and websocket_connect read status lines by the rule.
    if "\n" not in line:
        assert _engine(line) == client


@given(versions, client_codes, st.text(st.characters(max_codepoint=0xFF)))
def test_what_our_server_sends_every_rule_reads(version: str, code: int, reason: str) -> None:
    start_line = ResponseStartLine(version, code, reason)
    try:
        head = _http1.serialize_response_head(start_line, HTTPHeaders())
    except ValueError:
        assert ABNF.unsafe_field_char.search(reason)
        return
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    assert parse_response_start_line(line) == start_line
    assert _parse_client_status_line(line) == start_line


# ---------------------------------------------------------------------------
# Message framing: the rules the parser and the connection read with.


def test_obs_fold_finds_continuation_lines() -> None:
    block = "A: b\n  c\n\td\nB: e"
    assert [m.group() for m in ABNF.obs_fold.finditer(block)] == ["\n  ", "\n\t"]
    assert ABNF.field_lines.fullmatch(ABNF.obs_fold.sub(" ", block))
    assert not ABNF.field_lines.fullmatch(block)


@pytest.mark.parametrize(("data", "skipped"), [(b"\r\n\n\r\nGET", 5), (b"GET", 0), (b"\r\r\n", 0)])
def test_leading_empty_lines(data: bytes, skipped: int) -> None:
    match = ABNF.leading_empty_lines.match(data)
    assert match is not None and match.end() == skipped


@pytest.mark.parametrize(
    ("line", "size", "ext"),
    [
        (b"0\r\n", "0", ""),
        (b"1aF\r\n", "1aF", ""),
        (b"ffffffffffffffff\r\n", "ffffffffffffffff", ""),
        (b'5 ; name = "q \\" d" ;x\r\n', "5", ' ; name = "q \\" d" ;x'),
    ],
)
def test_chunk_size_line_accepts(line: bytes, size: str, ext: str) -> None:
    match = ABNF.chunk_size_line.fullmatch(line)
    assert match is not None
    assert (match.group(1).decode(), match.group(2).decode()) == (size, ext)


@pytest.mark.parametrize(
    "line",
    [
        b"0\n",
        b"0x1\r\n",
        b"-1\r\n",
        b" 1\r\n",
        b"1_0\r\n",
        b"1 \r\n",
        b"1;\r\n",
        b"1" * 17 + b"\r\n",
    ],
)
def test_chunk_size_line_refuses(line: bytes) -> None:
    assert ABNF.chunk_size_line.fullmatch(line) is None


@pytest.mark.parametrize(
    ("data", "end"),
    [
        (b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody", 25),
        (b"GET / HTTP/1.1\n\nx", 16),
        (b"A: b\r\n", None),
    ],
)
def test_head_end(data: bytes, end: int | None) -> None:
    match = ABNF.head_end.search(data)
    assert (match.end() if match else None) == end
    within = head_end_within(65536).search(data)
    assert (within.end() if within else None) == end


def test_head_end_within_stops_at_the_first_line_end_past_the_limit() -> None:
    data = b"HTTP/1.1 200 OK\r\n" + b"A: " + b"b" * 100 + b"\r\nC: d\r\n"
    match = head_end_within(50).search(data)
    assert match is not None and match.end() == data.index(b"\r\nC") + 2
    assert head_end_within(50) is head_end_within(50)  # compiled once


@pytest.mark.parametrize(
    ("data", "end"),
    [(b"\r\nnext", 2), (b"\nnext", 1), (b"A: b\r\n\r\nnext", 8), (b"A: b\r\n", None)],
)
def test_trailer_end(data: bytes, end: int | None) -> None:
    for pattern in (ABNF.trailer_end, trailer_end_within(65536)):
        match = pattern.search(data)
        assert (match.end() if match else None) == end


def test_chunk_line_end_within() -> None:
    assert chunk_line_end_within(8).search(b"5\r\nhello").end() == 3  # type: ignore[union-attr]
    assert chunk_line_end_within(8).search(b"123456789").end() == 8  # type: ignore[union-attr]
    assert ABNF.line_end.search(b"5\r\n").end() == 3  # type: ignore[union-attr]


def test_head_safe_bytes_are_what_unsafe_field_char_leaves() -> None:
    for byte in range(256):
        unsafe = ABNF.unsafe_field_char.fullmatch(chr(byte)) is not None
        assert (bytes([byte]) in ABNF.head_safe_bytes) is not unsafe
    assert b"\r\n\x00\x7f\x1f".translate(None, ABNF.head_safe_bytes) == b"\r\n\x00\x7f\x1f"
    assert b"A: \tb\xe9".translate(None, ABNF.head_safe_bytes) == b""


@given(st.binary(max_size=40))
def test_cr_or_lf_finds_exactly_cr_and_lf(data: bytes) -> None:
    assert (ABNF.cr_or_lf.search(data) is not None) == (b"\r" in data or b"\n" in data)


@pytest.mark.parametrize(("line", "code"), [("HTTP/2 200 ", "200"), ("HTTP/3 404", "404")])
def test_libcurl_h2_status_line(line: str, code: str) -> None:
    match = ABNF.libcurl_h2_status_line.fullmatch(line)
    assert match is not None and match.group(1) == code
    assert ABNF.libcurl_h2_status_line.fullmatch("HTTP/2.0 200 OK") is None


@pytest.mark.parametrize(("text", "at"), [("a\r\nb\rc", 4), ("a\r\n", None), ("\r", 0)])
def test_bare_cr(text: str, at: int | None) -> None:
    match = ABNF.bare_cr.search(text)
    assert (match.start() if match else None) == at
