"""The public parsing helpers of tornado.http1connection and requests built
without a connection (issue 15)."""

from __future__ import annotations

import pytest

from tornado import http1connection
from tornado.httputil import HTTPHeaders, HTTPInputError, HTTPServerRequest


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("42", 42), ("007", 7)])
def test_parse_int_reads_plain_digits(text: str, value: int) -> None:
    assert http1connection.parse_int(text) == value


@pytest.mark.parametrize("text", ["", "-1", "+1", " 1", "1 ", "1_000", "0x1", "\u0663", "1.0"])
def test_parse_int_refuses_what_int_would_take(text: str) -> None:
    with pytest.raises(ValueError):
        http1connection.parse_int(text)


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("ff", 255), ("FF", 255), ("1a2B", 0x1A2B)])
def test_parse_hex_int_reads_hex_digits(text: str, value: int) -> None:
    assert http1connection.parse_hex_int(text) == value


@pytest.mark.parametrize("text", ["", "0x1f", "-f", " f", "f_f", "g"])
def test_parse_hex_int_refuses_prefixes_signs_and_spaces(text: str) -> None:
    with pytest.raises(ValueError):
        http1connection.parse_hex_int(text)


def test_digit_and_line_break_patterns() -> None:
    assert http1connection.DIGITS.fullmatch("123")
    assert not http1connection.DIGITS.fullmatch("12a")
    assert http1connection.HEXDIGITS.fullmatch("12aF")
    assert not http1connection.HEXDIGITS.fullmatch("12g")
    assert http1connection.CR_OR_LF_RE.search(b"a\rb")
    assert http1connection.CR_OR_LF_RE.search(b"a\nb")
    assert not http1connection.CR_OR_LF_RE.search(b"a\tb")


def test_is_transfer_encoding_chunked() -> None:
    chunked = http1connection.is_transfer_encoding_chunked
    assert chunked(HTTPHeaders()) is False
    assert chunked(HTTPHeaders({"Content-Length": "3"})) is False
    assert chunked(HTTPHeaders({"Transfer-Encoding": "chunked"})) is True
    assert chunked(HTTPHeaders({"transfer-encoding": "Chunked"})) is True
    for value in ["gzip", "gzip, chunked", "chunked, chunked", "identity"]:
        with pytest.raises(HTTPInputError):
            chunked(HTTPHeaders({"Transfer-Encoding": value}))
    with pytest.raises(HTTPInputError):
        chunked(HTTPHeaders({"Transfer-Encoding": "chunked", "Content-Length": "1"}))


def test_request_built_without_uri_is_for_the_root() -> None:
    # As applications' unit tests build them: no uri, no connection.
    request = HTTPServerRequest(method="GET", headers=HTTPHeaders({"Host": "example.com"}))
    assert request.uri == "/"
    assert request.path == "/"
    assert request.query == ""
    assert request.arguments == {}
    assert request.query_arguments == {}
    assert request.full_url() == "http://example.com/"
    assert request.remote_ip is None
    assert request.protocol == "http"
    assert request.host == "example.com"
    assert request.host_name == "example.com"
    assert request.connection is None
    assert request.get_ssl_certificate() is None


def test_bare_request_defaults() -> None:
    request = HTTPServerRequest()
    assert (request.method, request.uri, request.version) == (None, "/", "HTTP/1.0")
    assert request.host == "127.0.0.1"
    assert request.body == b""
    assert request.cookies == {}
