"""Behaviour that Tornado applications rely on and upstream's own test
suite checks: error wording in logs, status codes of refused requests,
private limits and the curl client's streaming flow control."""

from __future__ import annotations

from typing import Any

import pytest

from tornado import httputil
from tornado.http1connection import _MAX_1XX_RESPONSES
from tornado.httputil import (
    HTTPInputError,
    HTTPServerRequest,
    ParseBodyConfig,
    ParseUrlEncodedConfig,
    RequestStartLine,
)

# -- httputil --------------------------------------------------------------------


def test_parse_body_config_urlencoded_limits() -> None:
    config = ParseBodyConfig(urlencoded=ParseUrlEncodedConfig(max_arguments=7))
    assert config.urlencoded.max_arguments == 7
    assert config == ParseBodyConfig(urlencoded=ParseUrlEncodedConfig(7))
    assert httputil._DEFAULT_PARSE_BODY_CONFIG.urlencoded.max_arguments == 1000
    arguments: dict[str, list[bytes]] = {}
    body = b"&".join(b"a=%d" % i for i in range(8))
    with pytest.raises(HTTPInputError, match="Max number of fields exceeded"):
        httputil.parse_body_arguments(
            "application/x-www-form-urlencoded", body, arguments, {}, config=config
        )
    httputil.parse_body_arguments(
        "application/x-www-form-urlencoded", body[: body.rindex(b"&")], arguments, {}, config=config
    )
    assert len(arguments["a"]) == 7


def test_http_whitespace_is_space_and_tab() -> None:
    assert httputil.HTTP_WHITESPACE == " \t"


def test_too_many_query_arguments_message() -> None:
    n = httputil._DEFAULT_PARSE_BODY_CONFIG.urlencoded.max_arguments + 1
    uri = "/?" + "&".join(f"a={i}" for i in range(n))
    with pytest.raises(HTTPInputError, match="Max number of fields exceeded"):
        HTTPServerRequest(start_line=RequestStartLine("GET", uri, "HTTP/1.0"))


def test_max_1xx_responses_is_a_small_positive_limit() -> None:
    assert 1 <= _MAX_1XX_RESPONSES <= 1000


# -- curl streaming flow control ------------------------------------------------

try:
    import pycurl  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - the [curl] extra is not installed
    pycurl = None

needs_curl = pytest.mark.skipif(pycurl is None, reason="pycurl not installed")


class _FakeLoop:
    def __init__(self) -> None:
        self.callbacks: list[Any] = []

    def add_callback(self, callback: Any) -> None:
        self.callbacks.append(callback)


class _FakeClient:
    def __init__(self, max_body_size: int | None = None) -> None:
        self.io_loop = _FakeLoop()
        self.max_body_size = max_body_size
        self.timeouts: list[int] = []

    def _set_timeout(self, msecs: int) -> None:
        self.timeouts.append(msecs)

    def handle_callback_exception(self, callback: Any) -> None:
        # What CurlAsyncHTTPClient's does: log with the traceback.
        from tornado.curl_httpclient import CurlAsyncHTTPClient

        CurlAsyncHTTPClient.handle_callback_exception(self, callback)  # type: ignore[arg-type]


class _FakeCurl:
    def __init__(self, fail: bool = False) -> None:
        self.pauses: list[int] = []
        self.fail = fail

    def pause(self, flags: int) -> None:
        if self.fail:
            raise pycurl.error(pycurl.E_WRITE_ERROR, "write error")
        self.pauses.append(flags)


def _buffer(client: _FakeClient, curl: _FakeCurl, chunks: list[bytes], size: int) -> Any:
    from tornado.curl_httpclient import _CurlStreamingBuffer

    buf = _CurlStreamingBuffer(client, curl, chunks.append)
    buf.max_buffer_size = size
    return buf


@needs_curl
def test_curl_streaming_pauses_when_full_and_resumes_on_flush() -> None:
    client, curl, chunks = _FakeClient(), _FakeCurl(), []
    buf = _buffer(client, curl, chunks, 4)
    assert buf.write(b"hello") == 5
    assert buf.write(b"world") == pycurl.WRITEFUNC_PAUSE
    assert buf.paused
    assert len(client.io_loop.callbacks) == 1
    client.io_loop.callbacks[0]()
    assert chunks == [b"hello"]
    assert curl.pauses == [pycurl.PAUSE_CONT]
    assert client.timeouts == [0]
    assert not buf.paused


@needs_curl
def test_curl_streaming_refuses_body_over_max_body_size() -> None:
    client, curl, chunks = _FakeClient(max_body_size=8), _FakeCurl(), []
    buf = _buffer(client, curl, chunks, 1024)
    assert buf.write(b"12345") == 5
    assert buf.write(b"67890") == 0
    assert buf.body_too_large
    buf.flush()
    assert chunks == [b"12345"]


@needs_curl
def test_curl_streaming_failed_unpause_is_ignored() -> None:
    client, curl, chunks = _FakeClient(), _FakeCurl(fail=True), []
    buf = _buffer(client, curl, chunks, 4)
    buf.write(b"hello")
    buf.write(b"world")
    buf.flush()
    assert chunks == [b"hello"] and not buf.paused and client.timeouts == []


@needs_curl
def test_curl_streaming_callback_exception_is_logged(caplog: Any) -> None:
    from tornado.curl_httpclient import _CurlStreamingBuffer

    def callback(chunk: bytes) -> None:
        raise ZeroDivisionError()

    client = _FakeClient()
    buf = _CurlStreamingBuffer(client, _FakeCurl(), callback)
    buf.write(b"x")
    buf.flush()
    assert any("Exception in callback" in r.getMessage() for r in caplog.records)


# -- server: answers and logs for refused requests --------------------------------


def _ok_app(request: HTTPServerRequest) -> None:
    from tornado.httputil import HTTPHeaders, ResponseStartLine

    assert request.connection is not None
    request.connection.write_headers(
        ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders({"Content-Length": "2"}), b"ok"
    )
    request.connection.finish()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"asdf\r\n\r\n", "Malformed HTTP request line"),
        (b"GET / HTTP/1.1\r\nHost: t\r\nasdf\r\n\r\n", "no colon in header line"),
        (b"GET / HTTP/1.0\r\nHost: foo bar\r\n\r\n", "Invalid Host header"),
        (
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            "Unsupported Transfer-Encoding gzip, chunked",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Length: 2\r\n\r\n",
            "Message with both Transfer-Encoding and Content-Length",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5,\xa05\r\n\r\nhello",
            "Multiple unequal Content-Lengths",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +10\r\n\r\n",
            "Only integer Content-Length is allowed",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1_a\r\n",
            "invalid chunk size",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n",
            "Content-Length too long",
        ),
        (
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"40\r\n" + b"x" * 64 + b"\r\n",
            "chunked body too large",
        ),
    ],
)
@pytest.mark.asyncio
async def test_refused_request_gets_bare_400_and_is_logged(
    serve: Any, connect: Any, caplog: Any, payload: bytes, message: str
) -> None:
    _, port = await serve(_ok_app, max_body_size=10)
    client = await connect(port)
    await client.send(payload)
    with caplog.at_level("INFO", logger="tornado.general"):
        data = await client.reader.read()
    assert data == b"HTTP/1.1 400 Bad Request\r\n\r\n"
    logged = [r.getMessage() for r in caplog.records if r.name == "tornado.general"]
    assert any(m.startswith("Malformed HTTP message from") and message in m for m in logged), logged


@pytest.mark.asyncio
async def test_idle_timeout_is_not_logged_at_info(serve: Any, connect: Any, caplog: Any) -> None:
    _, port = await serve(_ok_app, idle_connection_timeout=0.05)
    client = await connect(port)
    with caplog.at_level("INFO", logger="tornado.general"):
        assert await client.closed_by_peer()
    assert [r for r in caplog.records if r.levelname == "INFO"] == []


@pytest.mark.asyncio
async def test_legacy_callable_may_write_raw_response(serve: Any, connect: Any) -> None:
    def app(request: HTTPServerRequest) -> None:
        assert request.connection is not None
        request.connection.write(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n")
        request.connection.write(b"Hello world")
        request.connection.finish()

    _, port = await serve(app)
    client = await connect(port)
    for _ in range(2):  # the connection stays usable
        await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        response = await client.read_response()
        assert (response.code, response.body) == (200, b"Hello world")


def test_multipart_without_opening_boundary() -> None:
    from tornado.httputil import HTTPFile, parse_multipart_form_data

    body = (
        b"Content-Disposition: form-data; name=argument\r\n\r\n\xc3\xa1\r\n"
        b"--1234\r\n"
        b'Content-Disposition: form-data; name="files"; filename="f"\r\n\r\nxyz\r\n'
        b"--1234--\r\n"
    )
    args: dict[str, list[bytes]] = {}
    files: dict[str, list[HTTPFile]] = {}
    parse_multipart_form_data(b"1234", body, args, files)
    assert args == {"argument": ["á".encode()]}
    assert files["files"][0].body == b"xyz"


# -- HTTP1Connection as a client: failures end the read, they do not raise ---------


async def _canned_stream(response: bytes, read_request: bool = False) -> tuple[Any, Any]:
    """A server that answers every connection with ``response`` (after
    reading a request head if ``read_request``) and closes; returns it and
    an IOStream connected to it."""
    import asyncio
    import socket

    from tornado.iostream import IOStream

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if read_request:
            await reader.readuntil(b"\r\n\r\n")
        writer.write(response)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    stream = IOStream(socket.socket())
    await stream.connect(("127.0.0.1", port))
    return server, stream


class _Recorder:
    """A client-side delegate that records calls and raises in ``fail``."""

    def __init__(self, fail: str = "") -> None:
        self.calls: list[str] = []
        self.fail = fail

    def headers_received(self, start_line: Any, headers: Any) -> None:
        self._call("headers_received")

    def data_received(self, chunk: bytes) -> None:
        self._call("data_received")

    def finish(self) -> None:
        self._call("finish")

    def on_connection_close(self) -> None:
        self.calls.append("on_connection_close")

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail:
            raise ValueError(f"error in {name}")


@pytest.mark.parametrize("fail", ["headers_received", "data_received", "finish"])
@pytest.mark.asyncio
async def test_client_delegate_error_is_logged_and_closes(fail: str, caplog: Any) -> None:
    from tornado.http1connection import HTTP1Connection

    server, stream = await _canned_stream(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    try:
        conn = HTTP1Connection(stream, True)
        delegate = _Recorder(fail)
        result = await conn.read_response(delegate)  # type: ignore[arg-type]
        assert result is False
        assert delegate.calls[-1] == "on_connection_close"
        assert delegate.calls.count("on_connection_close") == 1
        assert stream.closed()
        assert any(r.getMessage().startswith("Uncaught exception") for r in caplog.records)
    finally:
        stream.close()
        server.close()


@pytest.mark.asyncio
async def test_client_malformed_response_is_logged_not_raised(caplog: Any) -> None:
    from tornado.http1connection import HTTP1Connection

    server, stream = await _canned_stream(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nfooXX0\r\n\r\n"
    )
    try:
        conn = HTTP1Connection(stream, True)
        delegate = _Recorder()
        with caplog.at_level("INFO", logger="tornado.general"):
            assert await conn.read_response(delegate) is False  # type: ignore[arg-type]
        assert "on_connection_close" in delegate.calls and "finish" not in delegate.calls
        assert any("improperly terminated chunk" in r.getMessage() for r in caplog.records)
    finally:
        stream.close()
        server.close()


@pytest.mark.asyncio
async def test_simple_client_awaits_coroutine_streaming_callback() -> None:
    import asyncio

    from tornado.simple_httpclient import SimpleAsyncHTTPClient

    server, stream = await _canned_stream(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nasdf\r\n4\r\nqwer\r\n0\r\n\r\n",
        read_request=True,
    )
    stream.close()
    port = server.sockets[0].getsockname()[1]
    received: list[bytes] = []

    async def on_chunk(chunk: bytes) -> None:
        await asyncio.sleep(0)
        received.append(chunk)

    client = SimpleAsyncHTTPClient(force_instance=True)
    try:
        await client.fetch(f"http://127.0.0.1:{port}/", streaming_callback=on_chunk)
        assert b"".join(received) == b"asdfqwer"
    finally:
        client.close()
        server.close()


# -- headers and credentials -------------------------------------------------------


def test_headers_equal_mapping_with_normalized_names() -> None:
    from tornado.httpclient import HTTPRequest
    from tornado.httputil import HTTPHeaders

    # Mapping's equality, as Tornado's: names compare in their normalized form.
    assert HTTPHeaders({"foo": "bar"}) == {"Foo": "bar"}
    assert HTTPHeaders({"Foo": "bar"}) != {"foo": "bar"}
    assert HTTPHeaders({"Foo": "bar"}) != {"Foo": "baz"}
    assert HTTPHeaders({"Foo": "bar"}) != {"Foo": "bar", "X": "y"}
    # The request keeps the caller's dict, so it compares equal to it.
    request = HTTPRequest("http://example.com", headers={"foo": "bar"})
    assert request.headers == {"foo": "bar"}


def test_header_values_may_be_bytes() -> None:
    from tornado.httputil import HTTPHeaders

    h = HTTPHeaders({"User-Agent": b"MyUserAgent"})  # type: ignore[dict-item]
    h["X-A"] = b"caf\xe9"  # type: ignore[assignment]
    assert h["User-Agent"] == "MyUserAgent"
    assert h["X-A"] == "caf\xe9"


def test_basic_auth_credentials_are_nfc() -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "josé")
    assert httputil.encode_username_password(decomposed, "səcrət") == "josé:səcrət".encode()


@needs_curl
@pytest.mark.asyncio
async def test_curl_client_max_body_size(serve: Any) -> None:
    from tornado.curl_httpclient import CurlAsyncHTTPClient, CurlError
    from tornado.httputil import HTTPHeaders, ResponseStartLine

    def app(request: HTTPServerRequest) -> None:
        body = b"a" * int(request.path[1:])
        assert request.connection is not None
        request.connection.write_headers(
            ResponseStartLine("HTTP/1.1", 200, "OK"),
            HTTPHeaders({"Content-Length": str(len(body))}),
            body,
        )
        request.connection.finish()

    _, port = await serve(app)
    client = CurlAsyncHTTPClient(force_instance=True, max_body_size=1000, max_clients=1)
    try:
        assert (await client.fetch(f"http://127.0.0.1:{port}/1000")).body == b"a" * 1000
        with pytest.raises(CurlError, match="max_body_size"):
            await client.fetch(f"http://127.0.0.1:{port}/1001")
        streamed: list[bytes] = []
        with pytest.raises(CurlError, match="max_body_size"):
            await client.fetch(f"http://127.0.0.1:{port}/5000", streaming_callback=streamed.append)
        assert sum(map(len, streamed)) <= 1000
        # The handle is usable again after a refusal.
        assert (await client.fetch(f"http://127.0.0.1:{port}/10")).body == b"a" * 10
    finally:
        client.close()


def test_httpserver_keeps_the_old_request_class_name() -> None:
    from tornado import httpserver

    assert httpserver.HTTPRequest is HTTPServerRequest
