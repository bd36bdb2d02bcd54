"""HTTPServer and HTTP1Connection over real sockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import ssl
from collections.abc import Awaitable
from typing import Any

import pytest

from tornado.http1connection import (
    HTTP1Connection,
    HTTP1ConnectionParameters,
    HTTP1ServerConnection,
)
from tornado.httpserver import HTTPServer
from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPOutputError,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.iostream import IOStream
from tornado.netutil import bind_unix_socket

OK = ResponseStartLine("HTTP/1.1", 200, "OK")


def respond(request: HTTPServerRequest, body: bytes, **headers: str) -> None:
    all_headers = HTTPHeaders({"Content-Length": str(len(body))})
    for name, value in headers.items():
        all_headers[name.replace("_", "-")] = value
    assert request.connection is not None
    request.connection.write_headers(OK, all_headers, body)
    request.connection.finish()


def echo_app(request: HTTPServerRequest) -> None:
    respond(request, f"{request.method} {request.uri} ".encode() + request.body)


# -- basics -----------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_and_keep_alive(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)
    client = await connect(port)
    for path in ("/a", "/b?x=1", "/c"):
        await client.send(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        response = await client.read_response()
        assert response.code == 200
        assert response.body == f"GET {path} ".encode()
        assert "connection" not in response.headers


@pytest.mark.asyncio
async def test_pipelined_requests_answered_in_order(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)
    client = await connect(port)
    await client.send(
        b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\n"
        b"POST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
        b"\r\n"  # a stray empty line between requests is tolerated
        b"POST /3 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer-Field: x\r\n\r\n"
        b"GET /4 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    bodies = [(await client.read_response()).body for _ in range(4)]
    assert bodies == [b"GET /1 ", b"POST /2 hello", b"POST /3 abcde", b"GET /4 "]
    assert await client.closed_by_peer()


@pytest.mark.asyncio
async def test_connection_close_and_http10(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    response = await client.read_response()
    assert response.headers["connection"] == "close"
    assert await client.closed_by_peer()

    client = await connect(port)
    await client.send(b"GET /old HTTP/1.0\r\n\r\n")
    assert (await client.read_response()).body == b"GET /old "
    assert await client.closed_by_peer()

    client = await connect(port)
    await client.send(b"GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    response = await client.read_response()
    assert response.headers["connection"] == "Keep-Alive"
    await client.send(b"GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert (await client.read_response()).body == b"GET /again "


@pytest.mark.asyncio
async def test_no_keep_alive_option(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app, no_keep_alive=True)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    response = await client.read_response()
    assert response.headers["connection"] == "close"
    assert await client.closed_by_peer()


@pytest.mark.asyncio
async def test_request_attributes(serve: Any, connect: Any) -> None:
    seen: list[HTTPServerRequest] = []

    def app(request: HTTPServerRequest) -> None:
        seen.append(request)
        respond(request, b"")

    _, port = await serve(app)
    client = await connect(port)
    body = b"a=1&b=2&a=3"
    await client.send(
        b"POST /p?q=x HTTP/1.1\r\nHost: Example.COM:8080\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Cookie: c=v\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
    )
    await client.read_response()
    request = seen[0]
    assert request.method == "POST"
    assert request.path == "/p"
    assert request.host == "Example.COM:8080"
    assert request.host_name == "example.com"
    assert request.remote_ip == "127.0.0.1"
    assert request.protocol == "http"
    assert request.query_arguments == {"q": [b"x"]}
    assert request.body_arguments == {"a": [b"1", b"3"], "b": [b"2"]}
    assert request.arguments == {"q": [b"x"], "a": [b"1", b"3"], "b": [b"2"]}
    assert request.cookies["c"].value == "v"
    assert request.full_url() == "http://Example.COM:8080/p?q=x"
    assert isinstance(request.connection, HTTP1Connection)


@pytest.mark.asyncio
async def test_chunked_response_when_no_length(serve: Any, connect: Any) -> None:
    async def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        await conn.write_headers(OK, HTTPHeaders(), b"first ")
        await conn.write(b"second ")
        await conn.write(b"")  # an empty write must not end the body
        await conn.write(b"third")
        conn.finish()

    tasks: list[asyncio.Task[None]] = []

    def start(request: HTTPServerRequest) -> None:
        tasks.append(asyncio.ensure_future(app(request)))

    _, port = await serve(start)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    response = await client.read_response()
    assert response.headers["transfer-encoding"] == "chunked"
    assert response.body == b"first second third"
    # HTTP/1.0 has no chunked coding: the body runs until the close.
    client = await connect(port)
    await client.send(b"GET / HTTP/1.0\r\n\r\n")
    response = await client.read_response()
    assert "transfer-encoding" not in response.headers
    assert response.body == b"first second third"


@pytest.mark.asyncio
async def test_head_and_304_have_no_body(serve: Any, connect: Any) -> None:
    def app(request: HTTPServerRequest) -> None:
        assert request.connection is not None
        code = 304 if request.path == "/304" else 200
        request.connection.write_headers(
            ResponseStartLine("HTTP/1.1", code, "X"), HTTPHeaders({"Content-Length": "10"})
        )
        request.connection.finish()

    _, port = await serve(app)
    client = await connect(port)
    await client.send(b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\nGET /304 HTTP/1.1\r\nHost: t\r\n\r\n")
    head = await client.read_response("HEAD")
    assert head.headers["content-length"] == "10"
    not_modified = await client.read_response()
    assert not_modified.code == 304
    await client.send(b"GET /304 HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await client.read_response()).code == 304


@pytest.mark.asyncio
async def test_response_version_is_always_http11(serve: Any, connect: Any) -> None:
    def app(request: HTTPServerRequest) -> None:
        # tornado.web passes an empty version.
        assert request.connection is not None
        request.connection.write_headers(
            ResponseStartLine("", 201, "Created"), HTTPHeaders({"Content-Length": "0"})
        )
        request.connection.finish()

    _, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await client.read_response()).status_line == b"HTTP/1.1 201 Created"


# -- 100-continue, gzip ---------------------------------------------------


@pytest.mark.asyncio
async def test_expect_100_continue(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)
    client = await connect(port)
    await client.send(
        b"PUT /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
    )
    status_line, _ = await client.read_head()
    assert status_line == b"HTTP/1.1 100 Continue"
    await client.send(b"data")
    assert (await client.read_response()).body == b"PUT /up data"


@pytest.mark.asyncio
async def test_gzip_request_decompressed(serve: Any, connect: Any) -> None:
    seen: list[HTTPServerRequest] = []

    def app(request: HTTPServerRequest) -> None:
        seen.append(request)
        echo_app(request)

    _, port = await serve(app, decompress_request=True)
    client = await connect(port)
    payload = gzip.compress(b"a=1&b=" + b"x" * 100_000)
    await client.send(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(payload), payload)
    )
    response = await client.read_response()
    assert response.body == b"POST / a=1&b=" + b"x" * 100_000
    assert seen[0].body_arguments["a"] == [b"1"]
    assert "Content-Encoding" not in seen[0].headers
    assert seen[0].headers["X-Consumed-Content-Encoding"] == "gzip"


@pytest.mark.asyncio
async def test_gzip_left_alone_without_decompress(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)
    client = await connect(port)
    payload = gzip.compress(b"hello")
    await client.send(
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(payload), payload)
    )
    assert (await client.read_response()).body == b"POST / " + payload


# -- xheaders, protocol, TLS, unix sockets ---------------------------------


def ip_and_scheme_app(request: HTTPServerRequest) -> None:
    respond(request, f"{request.remote_ip} {request.protocol}".encode())


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (b"", b"127.0.0.1 http"),
        (b"X-Real-Ip: 10.0.0.7\r\n", b"10.0.0.7 http"),
        (b"X-Forwarded-For: 1.2.3.4, 10.0.0.1\r\n", b"10.0.0.1 http"),
        (b"X-Real-Ip: not-an-ip\r\n", b"127.0.0.1 http"),
        (b"X-Forwarded-Proto: https\r\n", b"127.0.0.1 https"),
        (b"X-Scheme: https\r\n", b"127.0.0.1 https"),
        (b"X-Forwarded-Proto: http, https\r\n", b"127.0.0.1 https"),
        (b"X-Forwarded-Proto: gopher\r\n", b"127.0.0.1 http"),
    ],
)
@pytest.mark.asyncio
async def test_xheaders(serve: Any, connect: Any, headers: bytes, expected: bytes) -> None:
    _, port = await serve(ip_and_scheme_app, xheaders=True)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n" + headers + b"\r\n")
    assert (await client.read_response()).body == expected
    # The next request on the same connection starts from the real peer.
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await client.read_response()).body == b"127.0.0.1 http"


@pytest.mark.asyncio
async def test_xheaders_off_and_trusted_downstream(serve: Any, connect: Any) -> None:
    _, port = await serve(ip_and_scheme_app)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\nX-Real-Ip: 10.0.0.7\r\n\r\n")
    assert (await client.read_response()).body == b"127.0.0.1 http"

    _, port = await serve(ip_and_scheme_app, xheaders=True, trusted_downstream=["10.0.0.1"])
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 1.2.3.4, 10.0.0.1\r\n\r\n")
    assert (await client.read_response()).body == b"1.2.3.4 http"


@pytest.mark.asyncio
async def test_protocol_option(serve: Any, connect: Any) -> None:
    _, port = await serve(ip_and_scheme_app, protocol="https")
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await client.read_response()).body == b"127.0.0.1 https"


@pytest.mark.asyncio
async def test_tls(
    serve: Any, connect: Any, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    _, port = await serve(ip_and_scheme_app, ssl_options=server_context)
    client = await connect(port, ssl=client_context)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await client.read_response()).body == b"127.0.0.1 https"
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await client.read_response()).body == b"127.0.0.1 https"


@pytest.mark.asyncio
async def test_unix_socket_remote_ip(tmp_path: Any) -> None:
    server = HTTPServer(ip_and_scheme_app)
    server.add_socket(bind_unix_socket(str(tmp_path / "s")))
    try:
        reader, writer = await asyncio.open_unix_connection(str(tmp_path / "s"))
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        data = await reader.read()
        writer.close()
        await writer.wait_closed()
        assert data.endswith(b"\r\n\r\n0.0.0.0 http")
    finally:
        server.stop()
        await server.close_all_connections()


# -- the delegate interface ---------------------------------------------------


class StreamingDelegate(HTTPMessageDelegate):
    """Records what the connection delivers; answers with the piece sizes."""

    def __init__(self, connection: HTTPConnection, log: list[Any]) -> None:
        self.connection = connection
        self.log = log
        self.pieces: list[int] = []

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> Awaitable[None] | None:
        self.log.append(("headers", start_line))
        return None

    async def data_received(self, chunk: bytes) -> None:
        # An awaitable result holds further reads back (flow control).
        await asyncio.sleep(0)
        self.pieces.append(len(chunk))

    def finish(self) -> None:
        self.log.append(("finish", sum(self.pieces)))
        body = ",".join(map(str, self.pieces)).encode()
        self.connection.write_headers(OK, HTTPHeaders({"Content-Length": str(len(body))}), body)
        self.connection.finish()

    def on_connection_close(self) -> None:
        self.log.append(("closed", sum(self.pieces)))


class StreamingApp(HTTPServerConnectionDelegate):
    def __init__(self) -> None:
        self.log: list[Any] = []
        self.closed: list[object] = []

    def start_request(
        self, server_conn: object, request_conn: HTTPConnection
    ) -> HTTPMessageDelegate:
        assert isinstance(server_conn, HTTP1ServerConnection)
        return StreamingDelegate(request_conn, self.log)

    def on_close(self, server_conn: object) -> None:
        self.closed.append(server_conn)


@pytest.mark.asyncio
async def test_delegate_streams_body_in_chunk_size_pieces(serve: Any, connect: Any) -> None:
    app = StreamingApp()
    _, port = await serve(app, chunk_size=1000)
    client = await connect(port)
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2500\r\n\r\n" + b"x" * 2500)
    response = await client.read_response()
    sizes = [int(n) for n in response.body.split(b",")]
    # The body arrived at once: whole pieces of chunk_size, however the
    # stream happened to split its reads.
    assert sizes == [1000, 1000, 500]
    assert app.log[0] == ("headers", RequestStartLine("POST", "/", "HTTP/1.1"))
    assert app.log[-1] == ("finish", 2500)


@pytest.mark.asyncio
async def test_delegate_told_when_client_leaves_mid_body(serve: Any, connect: Any) -> None:
    app = StreamingApp()
    server, port = await serve(app)
    client = await connect(port)
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + b"x" * 40)
    await client.close()
    await server.close_all_connections()
    assert app.log[-1][0] == "closed"
    assert not server._connections


@pytest.mark.asyncio
async def test_close_all_connections(serve: Any, connect: Any) -> None:
    server, port = await serve(echo_app)
    clients = [await connect(port) for _ in range(3)]
    for client in clients:
        await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        await client.read_response()
    server.stop()
    await server.close_all_connections()
    for client in clients:
        assert await client.closed_by_peer()
    assert not server._connections


@pytest.mark.asyncio
async def test_async_callback_and_client_gone(serve: Any, connect: Any) -> None:
    """A response the application finishes later still goes out; a client
    that vanishes meanwhile is noticed through the close callback."""
    pending: list[HTTPServerRequest] = []
    closed = asyncio.Event()

    def app(request: HTTPServerRequest) -> None:
        assert isinstance(request.connection, HTTP1Connection)
        request.connection.set_close_callback(closed.set)
        pending.append(request)
        arrived.set()

    arrived = asyncio.Event()
    _, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    await arrived.wait()
    respond(pending.pop(), b"later")
    assert (await client.read_response()).body == b"later"

    arrived.clear()
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    await arrived.wait()
    await client.close()
    await closed.wait()
    # Answering a request whose client left must not raise.
    respond(pending.pop(), b"nobody listens")


# -- output checks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "extra", "error"),
    [
        (b"12345", b"6", "more data than Content-Length"),
        (b"123", None, "less than Content-Length"),
    ],
)
@pytest.mark.asyncio
async def test_content_length_mismatch_raises(
    serve: Any, connect: Any, body: bytes, extra: bytes | None, error: str
) -> None:
    errors: list[Exception] = []

    def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        conn.write_headers(OK, HTTPHeaders({"Content-Length": "5"}), body)
        try:
            if extra is not None:
                conn.write(extra)
            conn.finish()
        except HTTPOutputError as e:
            errors.append(e)

    _, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    await client.closed_by_peer()
    assert len(errors) == 1 and error in str(errors[0])


@pytest.mark.parametrize("then_write", [True, False])
@pytest.mark.asyncio
async def test_body_after_refused_head_ends_the_connection(
    serve: Any, connect: Any, then_write: bool
) -> None:
    # A head refused for contradicting framing headers, then a body or a
    # finish anyway: the connection ends (no raw body for a client to wait
    # on, no hang).
    errors: list[Exception] = []

    def app(request: HTTPServerRequest) -> None:
        conn = request.connection
        assert conn is not None
        both = HTTPHeaders({"Content-Length": "2", "Transfer-Encoding": "chunked"})
        try:
            conn.write_headers(OK, both)
        except HTTPOutputError as e:
            errors.append(e)
        try:
            if then_write:
                conn.write(b"hi")
            conn.finish()
        except HTTPOutputError as e:
            errors.append(e)

    _, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert await asyncio.wait_for(client.closed_by_peer(), 10)
    assert len(errors) == 2
    assert "Content-Length and Transfer-Encoding" in str(errors[0])


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Evil": "a\r\nSet-Cookie: owned=1"},
        {"X-Evil": "a\nb"},
        {"X-Evil": "a\rb"},
        {"X-Evil": "nul\x00"},
        {"Bad Name": "v"},
    ],
)
@pytest.mark.asyncio
async def test_header_injection_refused(serve: Any, connect: Any, headers: dict[str, str]) -> None:
    errors: list[Exception] = []

    def app(request: HTTPServerRequest) -> None:
        try:
            respond(request, b"x", **{k.replace("-", "_"): v for k, v in headers.items()})
        except ValueError as e:
            errors.append(e)
            respond(request, b"refused")

    _, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    response = await client.read_response()
    assert len(errors) == 1
    assert response.body == b"refused"
    assert "set-cookie" not in response.headers


# -- timeouts --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_idle_connection_closed(serve: Any, connect: Any, caplog: Any) -> None:
    _, port = await serve(echo_app, idle_connection_timeout=0.05)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await client.read_response()).code == 200
    # Sending nothing more: the server hangs up by itself.
    assert await client.closed_by_peer()


@pytest.mark.asyncio
async def test_slow_headers_closed(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app, idle_connection_timeout=0.05)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n")  # never ends the head
    assert await client.closed_by_peer()
    other = await connect(port)
    await other.send(b"GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await other.read_response()).body == b"GET /ok "


@pytest.mark.asyncio
async def test_slow_body_closed(serve: Any, connect: Any) -> None:
    app = StreamingApp()
    _, port = await serve(app, body_timeout=0.05)
    client = await connect(port)
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
    assert await client.closed_by_peer()
    assert app.log[-1] == ("closed", 3)


# -- HTTP1Connection as a client over a raw stream ---------------------------


class Collector(HTTPMessageDelegate):
    def __init__(self) -> None:
        self.start_lines: list[Any] = []
        self.chunks: list[bytes] = []
        self.finished = False

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> None:
        self.start_lines.append(start_line)

    def data_received(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def finish(self) -> None:
        self.finished = True


@pytest.mark.asyncio
async def test_client_connection_against_our_server(serve: Any) -> None:
    _, port = await serve(echo_app)
    sock = socket.create_connection(("127.0.0.1", port))
    stream = IOStream(sock)
    try:
        for body in (b"one", b"two"):
            conn = HTTP1Connection(stream, True, HTTP1ConnectionParameters())
            conn.write_headers(
                RequestStartLine("POST", "/x", "HTTP/1.1"),
                HTTPHeaders({"Host": "t", "Content-Length": str(len(body))}),
                body,
            )
            conn.finish()
            collector = Collector()
            assert await conn.read_response(collector) is True
            assert collector.finished
            assert b"".join(collector.chunks) == b"POST /x " + body
        # Chunked request body when no length is known.
        conn = HTTP1Connection(stream, True)
        conn.write_headers(RequestStartLine("PUT", "/c", "HTTP/1.1"), HTTPHeaders({"Host": "t"}))
        conn.write(b"ab")
        conn.write(b"cd")
        conn.finish()
        collector = Collector()
        await conn.read_response(collector)
        assert b"".join(collector.chunks) == b"PUT /c abcd"
    finally:
        stream.close()


@pytest.mark.asyncio
async def test_server_logs_uncaught_exception(
    serve: Any, connect: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def app(request: HTTPServerRequest) -> None:
        raise RuntimeError("boom")

    _, port = await serve(app)
    client = await connect(port)
    with caplog.at_level(logging.ERROR):
        await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert await client.closed_by_peer()
    assert any("boom" in (r.exc_text or "") or r.exc_info for r in caplog.records)


@pytest.mark.asyncio
async def test_head_response_body_is_dropped(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)
    client = await connect(port)
    await client.send(b"HEAD /h HTTP/1.1\r\nHost: t\r\n\r\nGET /next HTTP/1.1\r\nHost: t\r\n\r\n")
    head = await client.read_response("HEAD")
    assert head.headers["content-length"] == str(len(b"HEAD /h "))
    # The next bytes are the next response, not the HEAD body.
    assert (await client.read_response()).body == b"GET /next "


# -- the event-driven connection --------------------------------------------


@pytest.mark.asyncio
async def test_detach_hands_over_the_bytes_after_the_head(serve: Any, connect: Any) -> None:
    # An upgrade whose client sends the new protocol's first bytes in the
    # same packet as the request: they were parsed ahead of the head, and
    # the detached stream still returns them.
    taken: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
    tasks: list[asyncio.Task[None]] = []

    async def take_over(stream: IOStream) -> None:
        first = await stream.read_bytes(6)
        stream.write(b"echo:" + first)
        taken.set_result(first)

    def app(request: HTTPServerRequest) -> None:
        assert request.connection is not None
        stream = request.connection.detach()  # type: ignore[attr-defined]
        tasks.append(asyncio.ensure_future(take_over(stream)))

    server, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET /up HTTP/1.1\r\nHost: t\r\nUpgrade: x\r\n\r\nhello!")
    assert await asyncio.wait_for(taken, 10) == b"hello!"
    assert await client.reader.readexactly(11) == b"echo:hello!"
    # The server no longer counts the connection as its own.
    assert not server._connections


@pytest.mark.asyncio
async def test_pipelined_requests_arriving_in_one_packet(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)
    client = await connect(port)
    await client.send(
        b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\n"
        b"POST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /3 HTTP/1.1\r\nHost: t\r\n\r\n"
    )
    bodies = [(await client.read_response()).body for _ in range(3)]
    assert bodies == [b"GET /1 ", b"POST /2 abc", b"GET /3 "]


@pytest.mark.asyncio
async def test_pipelined_requests_wait_for_an_asynchronous_response(
    serve: Any, connect: Any
) -> None:
    # The second request is not handed on before the first is answered.
    seen: list[tuple[str, bool]] = []
    answers: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()

    def app(request: HTTPServerRequest) -> None:
        earlier_answered = all(f.done() for f in answered_so_far)
        seen.append((request.uri or "", earlier_answered))
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        answered_so_far.append(answered)
        answered.add_done_callback(lambda _: respond(request, (request.uri or "").encode()))
        answers.put_nowait(answered)

    answered_so_far: list[asyncio.Future[None]] = []
    _, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")
    (await answers.get()).set_result(None)
    assert (await client.read_response()).body == b"/a"
    (await answers.get()).set_result(None)
    assert (await client.read_response()).body == b"/b"
    assert seen == [("/a", True), ("/b", True)]


@pytest.mark.asyncio
async def test_next_request_waits_until_the_previous_finish_returns(
    serve: Any, connect: Any
) -> None:
    # An application that answers later (from a callback) sees its finish()
    # return before the next pipelined request reaches it.
    events: list[str] = []

    def app(request: HTTPServerRequest) -> None:
        if request.uri == "/a":

            def answer() -> None:
                respond(request, b"a")
                events.append("a answered")

            asyncio.get_running_loop().call_soon(answer)
        else:
            events.append("b started")
            respond(request, b"b")

    _, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await client.read_response()).body == b"a"
    assert (await client.read_response()).body == b"b"
    assert events == ["a answered", "b started"]
