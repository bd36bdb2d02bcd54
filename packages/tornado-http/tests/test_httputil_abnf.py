"""The HTTP grammar in ``tornado.httputil._ABNF`` and the parsers that use it:
start lines and header fields, checked against RFC 9110/9112 examples and
with generated input (hypothesis)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tornado.httputil import (
    _ABNF,
    HTTPHeaders,
    HTTPInputError,
    RequestStartLine,
    ResponseStartLine,
    parse_request_start_line,
    parse_response_start_line,
)

# ---------------------------------------------------------------------------
# The rules themselves.


@pytest.mark.parametrize("name", ["Content-Type", "x", "X-A_b.c~1", "!#$%&'*+-.^_`|~"])
def test_token_accepts_tchars(name: str) -> None:
    assert _ABNF.token.fullmatch(name)
    assert _ABNF.field_name.fullmatch(name)


@pytest.mark.parametrize("name", ["", "a b", "a:b", "a(b", "caf\xe9", "a\x00", "\u0130", "a\n"])
def test_token_refuses_other_characters(name: str) -> None:
    assert not _ABNF.token.fullmatch(name)


@pytest.mark.parametrize("value", ["", "a", "a b", "a\tb", "caf\xe9", "\x80\xff", "a  \t b"])
def test_field_value_accepts(value: str) -> None:
    assert _ABNF.field_value.fullmatch(value)


@pytest.mark.parametrize(
    # Surrounding whitespace belongs to the field line, not the value; C0
    # controls, DEL and characters beyond latin-1 never appear.
    "value",
    [" ", " a", "a ", "a\t", "a\rb", "a\nb", "a\x00", "a\x7f", "a\x1bb", "\u20ac"],
)
def test_field_value_refuses(value: str) -> None:
    assert not _ABNF.field_value.fullmatch(value)


def test_padded_field_value_is_field_value_with_ows() -> None:
    assert _ABNF.padded_field_value.fullmatch(" \ta b\t ")
    assert not _ABNF.padded_field_value.fullmatch(" a\rb ")


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/index.html",
        "//double",
        "/a/b;c=d/e?f=g&h=%2F&/?x",
        "/~user/@:!$&'()*+,;=",
        "http://example.com",
        "http://user:pw@example.com:8080/p?q",
        "https://[::1]:443/",
        "http://[v1.x:y]/",
        "urn:isbn:0451450523",
        "mailto:someone@example.com",
        "example.com:443",
        "[2001:db8::1]:8443",
        "*",
    ],
)
def test_request_target_forms(target: str) -> None:
    assert _ABNF.request_target.fullmatch(target)


@pytest.mark.parametrize(
    "target",
    [
        "",
        "index.html",  # no form starts like this: relative paths are not targets
        "/a b",
        "/a%2",
        "/a%zz",
        "/a|b",
        "/a{b}",
        "/caf\xe9",
        "/a#frag",
        "http://[::1/",
        "http://[1::2::3]/",
        "1http://x/",
        "**",
    ],
)
def test_request_target_refuses(target: str) -> None:
    assert not _ABNF.request_target.fullmatch(target)


def _ipv6_host(address: str) -> bool:
    return _ABNF.authority_form.fullmatch(f"[{address}]:80") is not None


@settings(max_examples=300)
@given(st.ip_addresses(v=6))
def test_ipv6_literals_match_the_standard_library(address: ipaddress.IPv6Address) -> None:
    # Compressed and fully spelled-out forms, and an IPv4 tail where it fits.
    assert _ipv6_host(str(address))
    assert _ipv6_host(address.exploded)
    assert _ipv6_host(address.exploded.upper())
    if address.ipv4_mapped is not None:
        assert _ipv6_host(f"::ffff:{address.ipv4_mapped}")


@pytest.mark.parametrize(
    "address", ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "1:2:3:4:5:6:7", "::1.2.3.256", ":::"]
)
def test_invalid_ipv6_literals(address: str) -> None:
    assert not _ipv6_host(address)


# ---------------------------------------------------------------------------
# Start lines.


@pytest.mark.parametrize(
    "line",
    [
        "GET /caf\xe9 HTTP/1.1",  # obs-text in the target: latin-1 decoded UTF-8
        "GET /a|b{c}^d HTTP/1.1",  # characters browsers leave unescaped
        "OPTIONS * HTTP/1.1",
        "CONNECT example.com:443 HTTP/1.1",
        "M-SEARCH * HTTP/1.1",
    ],
)
def test_request_line_accepts(line: str) -> None:
    method, target, version = line.split(" ")
    assert parse_request_start_line(line) == RequestStartLine(method, target, version)


@pytest.mark.parametrize(
    "line",
    [
        "GET /a\x00b HTTP/1.1",
        "GET /a\x7fb HTTP/1.1",
        "GET /a\tb HTTP/1.1",
        "GET /\u20ac HTTP/1.1",
        "GET  / HTTP/1.1",
        "GET / HTTP/1.1 ",
        "GET\t/ HTTP/1.1",
        "GE(T / HTTP/1.1",
        "GET / http/1.1",
        "GET / HTTP/2.0",
        "GET / HTTP/1.\u0661",  # a digit, but not an ASCII one
        "GET /",
        "",
    ],
)
def test_request_line_refuses(line: str) -> None:
    with pytest.raises(HTTPInputError):
        parse_request_start_line(line)


def test_request_line_reports_a_bad_version() -> None:
    with pytest.raises(HTTPInputError, match="Malformed HTTP version"):
        parse_request_start_line("GET / HTTP/9.9")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("HTTP/1.1 200 OK", ("HTTP/1.1", 200, "OK")),
        ("HTTP/1.0 404 Not Found", ("HTTP/1.0", 404, "Not Found")),
        ("HTTP/1.1 204 ", ("HTTP/1.1", 204, "")),
        ("HTTP/1.1 299 \ttabs and  spaces kept ", ("HTTP/1.1", 299, "\ttabs and  spaces kept ")),
        ("HTTP/1.1 200 Tr\xe8s bien", ("HTTP/1.1", 200, "Tr\xe8s bien")),
        ("HTTP/1.1 000 x", ("HTTP/1.1", 0, "x")),
    ],
)
def test_status_line_accepts(line: str, expected: tuple[str, int, str]) -> None:
    assert parse_response_start_line(line) == ResponseStartLine(*expected)


@pytest.mark.parametrize(
    "line",
    [
        # RFC 9112 section 4: the space before the reason phrase is sent
        # even when the phrase is empty.
        "HTTP/1.1 200",
        "HTTP/1.1 200 O\x00K",
        "HTTP/1.1 200 OK\r",
        "HTTP/1.1 200 OK\n",
        "HTTP/1.1 200 \u20ac",
        "HTTP/1.1 \u0662\u0660\u0660 OK",  # Arabic-Indic digits: int() would take them
        "HTTP/1.1 20 OK",
        "HTTP/1.1 2000 OK",
        "HTTP/2 200 OK",
        "HTTP/1.1  200 OK",
    ],
)
def test_status_line_refuses(line: str) -> None:
    with pytest.raises(HTTPInputError):
        parse_response_start_line(line)


tokens = st.from_regex(_ABNF.token, fullmatch=True)
targets = st.from_regex(_ABNF.request_target, fullmatch=True)
reasons = st.one_of(st.just(""), st.from_regex(_ABNF.reason_phrase, fullmatch=True))
versions = st.sampled_from(["HTTP/1.0", "HTTP/1.1"])


@given(tokens, targets, versions)
def test_generated_request_lines_parse_back(method: str, target: str, version: str) -> None:
    assert parse_request_start_line(f"{method} {target} {version}") == (method, target, version)


@given(versions, st.integers(0, 999), reasons)
def test_generated_status_lines_parse_back(version: str, code: int, reason: str) -> None:
    assert parse_response_start_line(f"{version} {code:03d} {reason}") == (version, code, reason)


# Text near valid start lines, so that generated input gets past the first
# character now and then: pieces of real lines and troublesome characters.
_line_pieces = st.sampled_from(
    ["GET", "HTTP/1.1", "HTTP/1.0", "200", "/", " ", "  ", "\t", "\r", "\x00", "\xe9", "OK", "7"]
)
near_lines = st.one_of(st.text(), st.lists(_line_pieces, max_size=8).map("".join))


@settings(max_examples=300)
@given(near_lines)
def test_accepted_request_lines_are_exactly_three_fields(line: str) -> None:
    try:
        parsed = parse_request_start_line(line)
    except HTTPInputError:
        return
    assert " ".join(parsed) == line
    assert _ABNF.method.fullmatch(parsed.method)


@settings(max_examples=300)
@given(near_lines)
def test_accepted_status_lines_are_rebuilt_exactly(line: str) -> None:
    try:
        parsed = parse_response_start_line(line)
    except HTTPInputError:
        return
    assert f"{parsed.version} {parsed.code:03d} {parsed.reason}" == line


# ---------------------------------------------------------------------------
# Header fields.


def test_add_keeps_the_value_as_given() -> None:
    # An application's own value, surrounding spaces included; only
    # characters that could split or corrupt the head are refused.
    headers = HTTPHeaders()
    headers.add("Link", " <a>; rel=x ")
    assert headers["Link"] == " <a>; rel=x "
    for bad in ["a\rb", "a\nb", "a\x00", "\u20ac"]:
        with pytest.raises(HTTPInputError):
            headers.add("X", bad)
    with pytest.raises(HTTPInputError):
        headers.add("X Y", "v")


def test_parsed_values_lose_their_surrounding_whitespace() -> None:
    headers = HTTPHeaders.parse("A: \t x y \t\r\nB:\r\nC:z\r\n")
    assert list(headers.get_all()) == [("A", "x y"), ("B", ""), ("C", "z")]


def test_continuation_of_an_empty_value() -> None:
    # The fold becomes one space and the value's own edges carry none, so
    # an empty first line does not leave a leading space behind.
    headers = HTTPHeaders()
    headers.parse_line("X-Folded:")
    headers.parse_line("   first")
    headers.parse_line("\tsecond  ")
    headers.parse_line("   ")
    assert headers["X-Folded"] == "first second"
    assert _ABNF.field_value.fullmatch(headers["X-Folded"])


field_names = st.from_regex(_ABNF.field_name, fullmatch=True)
field_values = st.from_regex(_ABNF.field_value, fullmatch=True)


@given(st.lists(st.tuples(field_names, field_values), max_size=8))
def test_generated_fields_survive_str_and_parse(fields: list[tuple[str, str]]) -> None:
    headers = HTTPHeaders()
    for name, value in fields:
        headers.add(name, value)
    for text in (str(headers), str(headers).replace("\n", "\r\n")):
        parsed = HTTPHeaders.parse(text)
        assert list(parsed.get_all()) == list(headers.get_all())


_head_pieces = st.sampled_from(
    ["Name", "x-y", ":", ": ", " ", "\t", "\r\n", "\n", "\r", "v", "\x00", "\xe9", "\u20ac", "("]
)
near_heads = st.one_of(st.text(), st.lists(_head_pieces, max_size=12).map("".join))


@settings(max_examples=300)
@given(near_heads)
def test_parsed_fields_always_match_the_grammar(text: str) -> None:
    try:
        headers = HTTPHeaders.parse(text)
    except HTTPInputError:
        return
    for name, value in headers.get_all():
        assert _ABNF.field_name.fullmatch(name), name
        assert _ABNF.field_value.fullmatch(value), value


class _LineByLine(HTTPHeaders):
    """A subclass: `HTTPHeaders.parse` takes its line-by-line path for it."""


@settings(max_examples=500)
@given(near_heads)
def test_block_and_line_parsing_agree(text: str) -> None:
    # parse() checks a whole block with one regex when it can; the answer
    # must be the one the line-by-line checks give.
    try:
        expected = list(_LineByLine.parse(text).get_all())
    except HTTPInputError:
        with pytest.raises(HTTPInputError):
            HTTPHeaders.parse(text)
        return
    parsed = HTTPHeaders.parse(text)
    assert type(parsed) is HTTPHeaders
    assert list(parsed.get_all()) == expected


def test_parse_then_continue_the_last_field() -> None:
    for cls in (HTTPHeaders, _LineByLine):
        headers = cls.parse("A: 1\r\nB: 2\r\n\r\n")
        headers.parse_line(" more")
        assert (headers["A"], headers["B"]) == ("1", "2 more")
