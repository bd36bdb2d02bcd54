"""Tests for tornado.httputil: headers, start lines, URLs, cookies, form bodies."""

from __future__ import annotations

import copy
import datetime
import http.cookies
import logging
import pickle
import time
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tornado import httputil
from tornado.httputil import (
    HTTPFile,
    HTTPHeaders,
    HTTPInputError,
    HTTPServerRequest,
    ParseBodyConfig,
    ParseMultipartConfig,
    RequestStartLine,
    ResponseStartLine,
    encode_username_password,
    format_timestamp,
    parse_body_arguments,
    parse_cookie,
    parse_multipart_form_data,
    parse_request_start_line,
    parse_response_start_line,
    qs_to_qsl,
    split_host_and_port,
    url_concat,
)

# ---------------------------------------------------------------------------
# HTTPHeaders


def test_headers_case_insensitive_and_normalised() -> None:
    h = HTTPHeaders({"content-type": "text/html"})
    assert list(h.keys()) == ["Content-Type"]
    assert h["CONTENT-TYPE"] == "text/html"
    assert "content-TYPE" in h
    assert "Content-Length" not in h
    key: object = 42
    assert key not in h  # non-string keys are simply absent


def test_headers_multiple_values() -> None:
    h = HTTPHeaders()
    h.add("Set-Cookie", "A=B")
    h.add("set-cookie", "C=D")
    assert h["set-cookie"] == "A=B,C=D"
    assert h.get_list("SET-COOKIE") == ["A=B", "C=D"]
    assert sorted(h.get_all()) == [("Set-Cookie", "A=B"), ("Set-Cookie", "C=D")]
    assert h.get_list("missing") == []
    assert len(h) == 1


def test_headers_setitem_replaces_all_values() -> None:
    h = HTTPHeaders()
    h.add("X-Foo", "1")
    h.add("X-Foo", "2")
    h["x-foo"] = "3"
    assert h.get_list("X-Foo") == ["3"]
    del h["X-FOO"]
    assert "X-Foo" not in h
    with pytest.raises(KeyError):
        del h["X-Foo"]
    with pytest.raises(KeyError):
        h["X-Foo"]


def test_headers_get_list_returns_a_copy() -> None:
    h = HTTPHeaders()
    h.add("A", "1")
    h.get_list("A").append("2")
    assert h.get_list("A") == ["1"]


def test_header_name_normalisation_cases() -> None:
    h = HTTPHeaders()
    for name in ["x-forwarded-for", "X-FORWARDED-FOR", "www-authenticate", "a", "A-b-C"]:
        h[name] = "v"
    assert list(h) == ["X-Forwarded-For", "Www-Authenticate", "A", "A-B-C"]


def test_headers_constructor_forms() -> None:
    assert dict(HTTPHeaders(a="1", b="2")) == {"A": "1", "B": "2"}
    assert dict(HTTPHeaders([("a", "1"), ("b", "2")])) == {"A": "1", "B": "2"}
    assert dict(HTTPHeaders(("a", "1"), ("b", "2"))) == {"A": "1", "B": "2"}
    multi = HTTPHeaders({"a": ["1", "2"]})
    assert multi.get_list("A") == ["1", "2"]


def test_headers_copy_is_deep_for_values() -> None:
    h = HTTPHeaders()
    h.add("A", "1")
    h.add("A", "2")
    for c in (h.copy(), copy.copy(h), HTTPHeaders(h), copy.deepcopy(h)):
        assert c.get_list("A") == ["1", "2"]
        c.add("A", "3")
        assert h.get_list("A") == ["1", "2"]
        assert isinstance(c, HTTPHeaders)


def test_headers_pickle_roundtrip() -> None:
    h = HTTPHeaders()
    h.add("A", "1")
    h.add("A", "2")
    restored = pickle.loads(pickle.dumps(h))
    assert restored.get_list("a") == ["1", "2"]


def test_headers_str_and_equality() -> None:
    h = HTTPHeaders()
    h.add("A", "1")
    h.add("A", "2")
    h.add("B", "3")
    assert str(h) == "A: 1\nA: 2\nB: 3\n"
    assert HTTPHeaders({"A": "1,2", "B": "3"}) == h
    # Equality is Mapping's: the normalized names and the joined values.
    assert h == {"A": "1,2", "B": "3"}
    assert h != {"a": "1,2", "b": "3"}
    assert h != HTTPHeaders({"A": "1", "B": "3"})
    # The repr is object's, as upstream's: no header values in logs.
    assert repr(h).startswith("<tornado.httputil.HTTPHeaders object at ")


def test_headers_mutable_mapping_methods() -> None:
    h = HTTPHeaders({"Foo": "bar"})
    assert h.setdefault("foo", "other") == "bar"
    assert h.setdefault("New", "v") == "v"
    assert h.get_list("new") == ["v"]
    assert h.pop("FOO") == "bar"
    assert h.pop("foo", None) is None
    with pytest.raises(KeyError):
        h.pop("foo")
    h.update({"x-a": "1"})
    assert h["X-A"] == "1"


def test_headers_parse_multi_line_values() -> None:
    # parse_line still joins an obs-fold continuation onto the last value...
    h = HTTPHeaders()
    for line in ["Foo: bar", " baz", "Asdf: qwer", "\tzxcv"]:
        h.parse_line(line)
    assert h.get_list("foo") == ["bar baz"]
    assert h.get_list("asdf") == ["qwer zxcv"]


@pytest.mark.parametrize("data", ["Foo: bar\r\n\tasdf", "Foo: bar\n baz\n"])
def test_headers_parse_rejects_folding(data: str) -> None:
    # ...but a whole header block with folded lines is refused (Tornado 6.5+).
    with pytest.raises(HTTPInputError):
        HTTPHeaders.parse(data)


def test_headers_add_many_repeats_scales() -> None:
    # Joining is deferred to the next read: many repeats of one name must not
    # re-join the growing value on every add.
    h = HTTPHeaders()
    for _ in range(50_000):
        h.add("X-Foo", "b")
    assert h["X-Foo"] == ",".join(["b"] * 50_000)
    h.add("X-Foo", "c")
    assert h["x-foo"].endswith(",b,c")


def test_headers_parse_block() -> None:
    h = HTTPHeaders.parse("Content-Type: text/html\r\nContent-Length: 42\r\n")
    assert sorted(h.items()) == [("Content-Length", "42"), ("Content-Type", "text/html")]


def test_headers_parse_lf_only_and_whitespace() -> None:
    h = HTTPHeaders.parse("A:  spaced \t\nB:\n")
    assert h["A"] == "spaced"
    assert h["B"] == ""


def test_headers_parse_keeps_unicode_whitespace() -> None:
    # Only SP and HTAB are whitespace in HTTP; \xa0 (NBSP in latin-1) stays.
    h = HTTPHeaders.parse("A: \xa0x\xa0\r\n")
    assert h["A"] == "\xa0x\xa0"


def test_headers_parse_line_continuation() -> None:
    h = HTTPHeaders()
    h.parse_line("Foo: bar")
    h.parse_line("  baz  ")
    h.parse_line("\tqux\r\n")
    assert h["Foo"] == "bar baz qux"
    assert h.get_list("Foo") == ["bar baz qux"]


def test_headers_parse_line_continuation_of_second_value() -> None:
    h = HTTPHeaders()
    h.parse_line("Foo: a")
    h.parse_line("Foo: b")
    h.parse_line(" c")
    assert h.get_list("Foo") == ["a", "b c"]
    assert h["Foo"] == "a,b c"


def test_headers_parse_line_ignores_empty_and_terminators() -> None:
    h = HTTPHeaders()
    h.parse_line("\r\n")
    h.parse_line("")
    h.parse_line("A: b\r\n")
    assert dict(h) == {"A": "b"}


@pytest.mark.parametrize(
    "line",
    [
        " leading: whitespace",
        "no colon here",
        "Bad Name: x",
        "Name : x",
        ": empty name",
        "A: nul\x00here",
        "A: bare\rcr",
        "A: del\x7f",
        "A: vt\x0b",
        "A\x00: x",
    ],
)
def test_headers_parse_line_rejects(line: str) -> None:
    with pytest.raises(HTTPInputError):
        HTTPHeaders().parse_line(line)


def test_headers_parse_rejects_bare_cr_separator() -> None:
    with pytest.raises(HTTPInputError):
        HTTPHeaders.parse("A: 1\rB: 2\r\n")


def test_headers_chars_are_bytes() -> None:
    h = HTTPHeaders()
    with pytest.raises(HTTPInputError):
        h.add("A", "snowman \u2603")
    h.add("A", "snowman \u2603", _chars_are_bytes=False)
    h.parse_line("B: caf\u00e9")
    h.parse_line("C: \u2603", _chars_are_bytes=False)
    assert h["A"] == "snowman \u2603"
    assert h["C"] == "\u2603"
    with pytest.raises(HTTPInputError):
        h.add("A", "nul\x00", _chars_are_bytes=False)


def test_headers_add_validates_name() -> None:
    with pytest.raises(HTTPInputError):
        HTTPHeaders().add("X Y", "1")


def test_continuation_after_construction_has_no_previous_line() -> None:
    h = HTTPHeaders({"A": "1"})
    h.parse_line("B: 2")
    h.parse_line(" more")
    assert h["B"] == "2 more"
    assert h["A"] == "1"


@given(
    st.lists(
        st.tuples(
            st.text("abcdefXYZ-", min_size=1, max_size=8).filter(lambda s: s.strip("-")),
            st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=10),
        ),
        max_size=10,
    )
)
def test_headers_str_parse_roundtrip(pairs: list[tuple[str, str]]) -> None:
    h = HTTPHeaders()
    for name, value in pairs:
        h.add(name, value)
    again = HTTPHeaders.parse(str(h))
    assert sorted(again.get_all()) == sorted(h.get_all())


# ---------------------------------------------------------------------------
# Start lines


def test_parse_request_start_line() -> None:
    line = parse_request_start_line("GET /foo?x=1 HTTP/1.1")
    assert line == RequestStartLine("GET", "/foo?x=1", "HTTP/1.1")
    assert line.method == "GET"
    assert line.path == "/foo?x=1"
    assert line.version == "HTTP/1.1"


@pytest.mark.parametrize(
    "line", ["GET /foo", "GET /foo HTTP/1.1 extra", "GET /foo HTTP/2.0", "GET /foo FTP/1.0", ""]
)
def test_parse_request_start_line_errors(line: str) -> None:
    with pytest.raises(HTTPInputError):
        parse_request_start_line(line)


def test_parse_response_start_line() -> None:
    assert parse_response_start_line("HTTP/1.1 200 OK") == ResponseStartLine("HTTP/1.1", 200, "OK")
    assert parse_response_start_line("HTTP/1.0 404 Not Found") == ResponseStartLine(
        "HTTP/1.0", 404, "Not Found"
    )
    assert parse_response_start_line("HTTP/1.1 204 ") == ResponseStartLine("HTTP/1.1", 204, "")
    # RFC 9112 4: the space before an empty reason phrase is required.
    with pytest.raises(HTTPInputError):
        parse_response_start_line("HTTP/1.1 204")


@pytest.mark.parametrize(
    "line", ["HTTP/1.1 2000 OK", "HTTP/2 200 OK", "HTTP/1.1 abc OK", "HTTP/1.1  200 OK", "junk"]
)
def test_parse_response_start_line_errors(line: str) -> None:
    with pytest.raises(HTTPInputError):
        parse_response_start_line(line)


# ---------------------------------------------------------------------------
# URLs, hosts, auth


def test_url_concat() -> None:
    assert url_concat("http://example.com/foo", {"c": "d"}) == "http://example.com/foo?c=d"
    assert url_concat("http://example.com/foo?a=b", {"c": "d"}) == "http://example.com/foo?a=b&c=d"
    assert (
        url_concat("http://example.com/foo?a=b", [("c", "d"), ("c", "d2")])
        == "http://example.com/foo?a=b&c=d&c=d2"
    )
    assert url_concat("http://example.com/foo?a=b&", (("c", "d"),)) == (
        "http://example.com/foo?a=b&c=d"
    )
    assert url_concat("http://example.com/foo?r=1#frag", {"x": "y"}) == (
        "http://example.com/foo?r=1&x=y#frag"
    )
    assert url_concat("http://example.com/foo?a=", {"b": ""}) == "http://example.com/foo?a=&b="
    assert url_concat("http://example.com/foo", None) == "http://example.com/foo"
    assert url_concat("http://example.com/foo?a=b", {}) == "http://example.com/foo?a=b"


def test_url_concat_type_error() -> None:
    with pytest.raises(TypeError):
        url_concat("http://example.com/", "a=b")  # type: ignore[arg-type]


def test_split_host_and_port() -> None:
    assert split_host_and_port("example.com") == ("example.com", None)
    assert split_host_and_port("example.com:8080") == ("example.com", 8080)
    assert split_host_and_port("[::1]:80") == ("[::1]", 80)
    assert split_host_and_port("example.com:") == ("example.com:", None)
    assert split_host_and_port("example.com:abc") == ("example.com:abc", None)


def test_encode_username_password() -> None:
    assert encode_username_password("user", "pass") == b"user:pass"
    assert encode_username_password("\u00e9", b"p") == b"\xc3\xa9:p"


def test_qs_to_qsl() -> None:
    assert list(qs_to_qsl({"a": ["1", "2"], "b": ["3"]})) == [("a", "1"), ("a", "2"), ("b", "3")]


def test_responses() -> None:
    assert httputil.responses[404] == "Not Found"
    assert httputil.responses[200] == "OK"


# ---------------------------------------------------------------------------
# Timestamps


def test_format_timestamp_types() -> None:
    expected = "Sun, 27 Jan 2013 18:43:20 GMT"
    ts = 1359312200
    assert format_timestamp(ts) == expected
    assert format_timestamp(float(ts) + 0.5) == expected
    assert format_timestamp(time.gmtime(ts)) == expected
    assert format_timestamp(tuple(time.gmtime(ts))) == expected
    assert format_timestamp(datetime.datetime(2013, 1, 27, 18, 43, 20)) == expected
    aware = datetime.datetime(
        2013, 1, 27, 19, 43, 20, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    assert format_timestamp(aware) == expected


def test_format_timestamp_type_error() -> None:
    with pytest.raises(TypeError):
        format_timestamp("2013-01-27")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Cookies


def test_parse_cookie_basic() -> None:
    assert parse_cookie("a=1; b=2") == {"a": "1", "b": "2"}
    assert parse_cookie("a=1;b=2;") == {"a": "1", "b": "2"}
    assert parse_cookie('a="quoted value"') == {"a": "quoted value"}
    assert parse_cookie("novalue") == {"": "novalue"}
    assert parse_cookie("a=b=c") == {"a": "b=c"}
    assert parse_cookie(" a = 1 ") == {"a": "1"}
    assert parse_cookie("") == {}
    assert parse_cookie(";;;") == {}


def test_parse_cookie_splits_naively_like_browsers() -> None:
    # Semicolons inside quotes still split, as browsers and Django do.
    assert parse_cookie('keebler="E=mc2; L=\\"Loves\\"; fudge=\\012;"') == {
        "keebler": '"E=mc2',
        "L": '\\"Loves\\"',
        "fudge": "\\012",
        "": '"',
    }
    assert parse_cookie("key:term=value:term") == {"key:term": "value:term"}
    assert parse_cookie("  =  b  ;  ;  =  ;   c  =  ;  ") == {"": "b", "c": ""}


def test_parse_cookie_escapes() -> None:
    assert parse_cookie(r'a="x\"y"') == {"a": 'x"y'}
    assert parse_cookie(r'a="\073\054"') == {"a": ";,"}
    assert parse_cookie(r'a="\\"') == {"a": "\\"}
    # An unbalanced quote is left as is.
    assert parse_cookie('a="abc') == {"a": '"abc'}


def test_parse_cookie_many_semicolons_and_quotes() -> None:
    # Adversarial shapes (behaviour only; linear time is by construction).
    assert parse_cookie(";" * 100_000 + "a=1") == {"a": "1"}
    quotes = '"' + "\\" * 50_000 + '"'
    assert parse_cookie("a=" + quotes) == {"a": "\\" * 25_000}
    assert parse_cookie("a=" + '"' * 100_001)["a"] == '"' * 99_999


# ---------------------------------------------------------------------------
# HTTPServerRequest


class _Context:
    remote_ip = "10.0.0.1"
    protocol = "https"


class _Connection:
    context = _Context()


def test_server_request_basic() -> None:
    headers = HTTPHeaders({"Host": "Example.COM:8080", "Cookie": "a=1; b=2"})
    req = HTTPServerRequest(
        "GET", "/p/a?x=1&x=2&y=&z", version="HTTP/1.1", headers=headers, body=b"raw"
    )
    assert req.method == "GET"
    assert req.path == "/p/a"
    assert req.query == "x=1&x=2&y=&z"
    assert req.query_arguments == {"x": [b"1", b"2"], "y": [b""], "z": [b""]}
    assert req.arguments == req.query_arguments
    assert req.arguments is not req.query_arguments
    assert req.body_arguments == {}
    assert req.host == "Example.COM:8080"
    assert req.host_name == "example.com"
    assert req.protocol == "http"
    assert req.remote_ip is None
    assert req.body == b"raw"
    assert req.full_url() == "http://Example.COM:8080/p/a?x=1&x=2&y=&z"
    assert set(req.cookies) == {"a", "b"}
    assert req.cookies["a"].value == "1"
    assert "GET" in repr(req)


def test_server_request_defaults_and_start_line() -> None:
    req = HTTPServerRequest(start_line=RequestStartLine("POST", "/", "HTTP/1.0"))
    assert (req.method, req.uri, req.version) == ("POST", "/", "HTTP/1.0")
    assert req.host == "127.0.0.1"
    assert req.body == b""
    assert req.files == {}
    assert req.cookies == {}
    assert req.get_ssl_certificate() is None


def test_server_request_from_connection_context() -> None:
    req = HTTPServerRequest("GET", "/", connection=_Connection())  # type: ignore[arg-type]
    assert req.remote_ip == "10.0.0.1"
    assert req.protocol == "https"
    assert req.full_url() == "https://127.0.0.1/"


def test_server_request_query_latin1_bytes() -> None:
    req = HTTPServerRequest("GET", "/?a=%C3%A9&b=%FF")
    assert req.query_arguments == {"a": ["é".encode()], "b": [b"\xff"]}


def test_server_request_time() -> None:
    req = HTTPServerRequest("GET", "/")
    req._start_time = 100.0
    req._finish_time = 102.5
    assert req.request_time() == 2.5
    req._finish_time = None
    assert req.request_time() > 0


def test_server_request_bad_cookie_names_skipped() -> None:
    req = HTTPServerRequest("GET", "/", headers=HTTPHeaders({"Cookie": "ok=1; bad\x01name=2"}))
    assert list(req.cookies) == ["ok"]
    assert isinstance(req.cookies, http.cookies.SimpleCookie)


def test_server_request_parse_body() -> None:
    headers = HTTPHeaders({"Content-Type": "application/x-www-form-urlencoded"})
    req = HTTPServerRequest("POST", "/?a=1", headers=headers, body=b"a=2&b=3")
    req._parse_body()
    assert req.body_arguments == {"a": [b"2"], "b": [b"3"]}
    assert req.query_arguments == {"a": [b"1"]}
    assert req.arguments == {"a": [b"1", b"2"], "b": [b"3"]}


def test_server_request_too_many_query_arguments() -> None:
    HTTPServerRequest("GET", "/?" + "&".join(f"a{i}=1" for i in range(1000)))
    with pytest.raises(HTTPInputError):
        HTTPServerRequest("GET", "/?" + "&".join(f"a{i}=1" for i in range(1001)))


def test_delegate_interfaces_defaults() -> None:
    with pytest.raises(NotImplementedError):
        httputil.HTTPServerConnectionDelegate().start_request(None, httputil.HTTPConnection())
    httputil.HTTPServerConnectionDelegate().on_close(None)
    delegate = httputil.HTTPMessageDelegate()
    assert (
        delegate.headers_received(RequestStartLine("GET", "/", "HTTP/1.1"), HTTPHeaders()) is None
    )
    assert delegate.data_received(b"x") is None
    delegate.finish()
    delegate.on_connection_close()
    conn = httputil.HTTPConnection()
    with pytest.raises(NotImplementedError):
        conn.write(b"")
    with pytest.raises(NotImplementedError):
        conn.finish()
    with pytest.raises(NotImplementedError):
        conn.write_headers(ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders())


# ---------------------------------------------------------------------------
# Form bodies


@pytest.fixture
def default_config() -> Iterator[None]:
    """Restore the process-wide body parsing config after a test."""
    saved = httputil._default_config
    yield
    httputil.set_parse_body_config(saved)


def _args_files(
    content_type: str, body: bytes, headers: HTTPHeaders | None = None
) -> tuple[dict[str, list[bytes]], dict[str, list[HTTPFile]]]:
    args: dict[str, list[bytes]] = {}
    files: dict[str, list[HTTPFile]] = {}
    parse_body_arguments(content_type, body, args, files, headers)
    return args, files


def test_urlencoded_body() -> None:
    args, files = _args_files("application/x-www-form-urlencoded", b"a=1&a=2&b=%C3%A9&c=&d+e=f+g")
    assert args == {"a": [b"1", b"2"], "b": ["é".encode()], "c": [b""], "d e": [b"f g"]}
    assert files == {}


def test_urlencoded_body_charset_is_transcoded() -> None:
    args, _ = _args_files("application/x-www-form-urlencoded; charset=iso-8859-1", b"a=%E9")
    assert args == {"a": ["é".encode()]}
    args, _ = _args_files("application/x-www-form-urlencoded; charset=UTF-8", b"a=%C3%A9")
    assert args == {"a": ["é".encode()]}


def test_urlencoded_body_unknown_charset() -> None:
    with pytest.raises(HTTPInputError):
        _args_files("application/x-www-form-urlencoded; charset=no-such-charset", b"a=%E9")


def test_other_content_types_ignored() -> None:
    assert _args_files("application/json", b'{"a": 1}') == ({}, {})
    assert _args_files("", b"a=1") == ({}, {})


def test_content_encoding_refused(caplog: pytest.LogCaptureFixture) -> None:
    headers = HTTPHeaders({"Content-Encoding": "gzip"})
    with (
        caplog.at_level(logging.WARNING, logger="tornado.general"),
        pytest.raises(HTTPInputError, match="Content-Encoding"),
    ):
        _args_files("application/x-www-form-urlencoded", b"a=1", headers)
    # Raised, not logged: logging is the caller's business (the web layer).
    assert len(caplog.records) == 0
    identity = HTTPHeaders({"Content-Encoding": "identity"})
    assert _args_files("application/x-www-form-urlencoded", b"a=1", identity)[0] == {"a": [b"1"]}


def test_urlencoded_argument_limit(default_config: None) -> None:
    body = "&".join(f"a{i}=1" for i in range(1000)).encode()
    args, _ = _args_files("application/x-www-form-urlencoded", body)
    assert len(args) == 1000
    with pytest.raises(HTTPInputError, match="too many"):
        _args_files("application/x-www-form-urlencoded", body + b"&x=1")
    httputil.set_parse_body_config(
        ParseBodyConfig(urlencoded=httputil.ParseUrlEncodedConfig(max_arguments=5000))
    )
    args, _ = _args_files("application/x-www-form-urlencoded", body + b"&x=1")
    assert len(args) == 1001


def _multipart(*parts: bytes, boundary: bytes = b"1234") -> bytes:
    delimiter = b"--" + boundary + b"\r\n"
    return b"".join(delimiter + part + b"\r\n" for part in parts) + b"--" + boundary + b"--\r\n"


def test_multipart_fields_and_files() -> None:
    body = _multipart(
        b'Content-Disposition: form-data; name="field"\r\n\r\nvalue',
        b'Content-Disposition: form-data; name="files"; filename="ab.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nFoo\r\nbar",
        b'Content-Disposition: form-data; name="files"; filename="c.bin"\r\n\r\n\x00\xff',
    )
    args, files = _args_files("multipart/form-data; boundary=1234", body)
    assert args == {"field": [b"value"]}
    assert [f.filename for f in files["files"]] == ["ab.txt", "c.bin"]
    first = files["files"][0]
    assert first.body == b"Foo\r\nbar"
    assert first["content_type"] == "text/plain"
    assert files["files"][1].content_type == "application/unknown"
    assert files["files"][1].body == b"\x00\xff"


def test_multipart_quoted_boundary_and_preamble() -> None:
    body = b"preamble junk\r\n" + _multipart(
        b'Content-Disposition: form-data; name="a"\r\n\r\n1', boundary=b"b=q"
    )
    args, _ = _args_files('multipart/form-data; boundary="b=q"', body)
    assert args == {"a": [b"1"]}


def test_multipart_filename_encodings() -> None:
    body = _multipart(
        b'Content-Disposition: form-data; name="f"; filename="a\\"b.txt"\r\n\r\nx',
        b'Content-Disposition: form-data; name="g"; filename="x"; filename*=UTF-8\'\'%C3%A9.txt\r\n\r\ny',
        'Content-Disposition: form-data; name="h"; filename="\u00e9t\u00e9.txt"\r\n\r\nz'.encode(),
        b'Content-Disposition: form-data; name="i"; filename="semi;colon.txt"\r\n\r\nw',
    )
    _, files = _args_files("multipart/form-data; boundary=1234", body)
    assert files["f"][0].filename == 'a"b.txt'
    assert files["g"][0].filename == "\u00e9.txt"
    assert files["h"][0].filename == "\u00e9t\u00e9.txt"
    assert files["i"][0].filename == "semi;colon.txt"


def test_multipart_empty_value_and_filename() -> None:
    body = _multipart(
        b'Content-Disposition: form-data; name="a"\r\n\r\n',
        b'Content-Disposition: form-data; name="f"; filename=""\r\n\r\n',
    )
    args, files = _args_files("multipart/form-data; boundary=1234", body)
    assert args == {"a": [b""]}
    assert files["f"][0].filename == ""


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("multipart/form-data", b"--1234--\r\n", "boundary"),
        ("multipart/form-data; boundary=", b"----\r\n", "boundary"),
        (
            "multipart/form-data; boundary=1234",
            b'--1234\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n',
            "final boundary",
        ),
        ("multipart/form-data; boundary=1234", _multipart(b"no headers here"), "headers"),
        (
            "multipart/form-data; boundary=1234",
            _multipart(b"Content-Disposition: form-data\r\n\r\nx"),
            "name",
        ),
        (
            "multipart/form-data; boundary=1234",
            _multipart(b'Content-Disposition: attachment; name="a"\r\n\r\nx'),
            "form-data",
        ),
        (
            "multipart/form-data; boundary=1234",
            _multipart(b'Content-Disposition: form-data; name="a"\r\nX: a\rb\r\n\r\nx'),
            "header",
        ),
        (
            "multipart/form-data; boundary=1234",
            _multipart(b'Content-Disposition: form-data; name="a"\r\nbroken line\r\n\r\nx'),
            "colon",
        ),
        (
            "multipart/form-data; boundary=1234",
            b'--1234\r\nContent-Disposition: form-data; name="a"\r\n\r\nx--1234--',
            "CRLF",
        ),
    ],
)
def test_multipart_malformed(
    content_type: str, body: bytes, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="tornado.general"),
        pytest.raises(HTTPInputError, match=message),
    ):
        _args_files(content_type, body)
    # Raised, not logged: logging is the caller's business (the web layer).
    assert len(caplog.records) == 0


def test_multipart_part_limit(default_config: None) -> None:
    part = b'Content-Disposition: form-data; name="a"\r\n\r\nx'
    args, _ = _args_files("multipart/form-data; boundary=1234", _multipart(*[part] * 100))
    assert len(args["a"]) == 100
    with pytest.raises(HTTPInputError, match="too many"):
        _args_files("multipart/form-data; boundary=1234", _multipart(*[part] * 101))
    httputil.set_parse_body_config(ParseBodyConfig(multipart=ParseMultipartConfig(max_parts=200)))
    args, _ = _args_files("multipart/form-data; boundary=1234", _multipart(*[part] * 101))
    assert len(args["a"]) == 101


def test_multipart_hundred_thousand_tiny_parts() -> None:
    part = b'Content-Disposition: form-data; name="a"\r\n\r\n'
    body = _multipart(*[part] * 100_000)
    with pytest.raises(HTTPInputError, match="too many"):
        _args_files("multipart/form-data; boundary=1234", body)
    args: dict[str, list[bytes]] = {}
    files: dict[str, list[HTTPFile]] = {}
    small = _multipart(*[part] * 10_000)
    parse_multipart_form_data(
        b"1234", small, args, files, config=ParseMultipartConfig(max_parts=10_000)
    )
    assert len(args["a"]) == 10_000


def test_multipart_part_header_size_limit() -> None:
    big = b'Content-Disposition: form-data; name="a"\r\nX-Big: ' + b"x" * 20_000 + b"\r\n\r\nv"
    args: dict[str, list[bytes]] = {}
    files: dict[str, list[HTTPFile]] = {}
    with pytest.raises(HTTPInputError, match="too large"):
        parse_multipart_form_data(b"1234", _multipart(big), args, files)
    parse_multipart_form_data(
        b"1234",
        _multipart(big),
        args,
        files,
        config=ParseMultipartConfig(max_part_header_size=30_000),
    )
    assert args == {"a": [b"v"]}


def test_multipart_disabled() -> None:
    body = _multipart(b'Content-Disposition: form-data; name="a"\r\n\r\nx')
    args: dict[str, list[bytes]] = {}
    files: dict[str, list[HTTPFile]] = {}
    with pytest.raises(HTTPInputError, match="disabled"):
        parse_body_arguments(
            "multipart/form-data; boundary=1234",
            body,
            args,
            files,
            config=ParseBodyConfig(multipart=ParseMultipartConfig(enabled=False)),
        )


def test_http_file_attributes() -> None:
    f = HTTPFile(filename="a", body=b"b", content_type="c")
    assert (f.filename, f.body, f.content_type) == ("a", b"b", "c")
    assert f["filename"] == "a"


# ---------------------------------------------------------------------------
# Private helpers other modules rely on (tornado.web, websocket)


def test_parse_header() -> None:
    assert httputil._parse_header('form-data; name="files"; filename="f.txt"') == (
        "form-data",
        {"name": "files", "filename": "f.txt"},
    )
    assert httputil._parse_header("Text/HTML; Charset=UTF-8; flag") == (
        "text/html",
        {"charset": "UTF-8", "flag": ""},
    )
    assert httputil._parse_header("text/plain") == ("text/plain", {})


def test_parse_header_unterminated_quotes() -> None:
    assert httputil._parse_header('a; b="unterminated; c=d') == ("a", {"b": "unterminated; c=d"})
    assert httputil._parse_header('a; b="x\\"; c=d') == ("a", {"b": 'x"; c=d'})
    assert httputil._parse_header('a; b="x\\\\"; c=d') == ("a", {"b": "x\\", "c": "d"})
    # An unterminated quote before many parameters swallows them all (one
    # match, rather than a failed quote rescanned from every later ";").
    hostile = ";b" * 20_000
    assert httputil._parse_header('x; a="' + hostile)[1] == {"a": hostile}
    assert httputil._parse_header('x; a=";b=";c="";d') == ("x", {"a": ";b=", "c": "", "d": ""})


def test_encode_header() -> None:
    assert httputil._encode_header("permessage-deflate", {"client_max_window_bits": "15"}) == (
        "permessage-deflate; client_max_window_bits=15"
    )
    assert httputil._encode_header("x", {"flag": None}) == "x; flag"
    assert httputil._encode_header("x", {}) == "x"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=1-2", (1, 3)),
        ("bytes=6-", (6, None)),
        ("bytes=-6", (-6, None)),
        ("bytes=-0", (None, 0)),
        ("bytes=0-0", (0, 1)),
        ("bytes=", None),
        ("bytes=-", None),
        ("foo=42", None),
        ("bytes=1-2,6-10", None),
        ("bytes=5-2", None),
    ],
)
def test_parse_request_range(header: str, expected: tuple[int | None, int | None] | None) -> None:
    assert httputil._parse_request_range(header) == expected


def test_get_content_range() -> None:
    assert httputil._get_content_range(None, 1, 4) == "bytes 0-0/4"
    assert httputil._get_content_range(1, 3, 4) == "bytes 1-2/4"
    assert httputil._get_content_range(None, None, 4) == "bytes 0-3/4"


def test_content_encoding_of_non_form_body_ignored() -> None:
    # Only form bodies are parsed, so only they can be refused for a coding.
    headers = HTTPHeaders({"Content-Encoding": "gzip"})
    assert _args_files("application/octet-stream", b"\x1f\x8b", headers) == ({}, {})
    assert _args_files("", b"\x1f\x8b", headers) == ({}, {})
