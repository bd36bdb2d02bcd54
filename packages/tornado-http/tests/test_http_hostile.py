"""Hostile input against a real HTTPServer: every case is answered with the
right status (or closed), the connection is closed, no second request is
parsed out of the offending bytes, and the server goes on serving other
connections."""

from __future__ import annotations

import asyncio
import gzip
import logging
import zlib
from collections.abc import Awaitable
from typing import Any

import pytest

from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    HTTPServerRequest,
    RequestStartLine,
    ResponseStartLine,
)

OK = ResponseStartLine("HTTP/1.1", 200, "OK")


def echo_app(request: HTTPServerRequest) -> None:
    body = f"{request.method} {request.uri} ".encode() + request.body
    assert request.connection is not None
    request.connection.write_headers(OK, HTTPHeaders({"Content-Length": str(len(body))}), body)
    request.connection.finish()


async def assert_still_serving(connect: Any, port: int) -> None:
    other = await connect(port)
    await other.send(b"GET /still-here HTTP/1.1\r\nHost: t\r\n\r\n")
    response = await other.read_response()
    assert response.code == 200


async def expect_refusal(connect: Any, port: int, payload: bytes, code: int) -> None:
    """Send ``payload``; expect exactly one response with ``code``, then the
    close (a smuggled second request would show as more data)."""
    client = await connect(port)
    await client.send(payload)
    status_line, headers = await client.read_head()
    assert int(status_line.split(b" ")[1]) == code, status_line
    # A bare status line (as Tornado answers), ended by the close.
    assert headers == {}
    assert await client.closed_by_peer()
    await assert_still_serving(connect, port)


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"

MALFORMED = {
    "extra space in request line": b"GET  / HTTP/1.1\r\nHost: t\r\n\r\n",
    "three-part line with junk": b"GET / HTTP/1.1 x\r\nHost: t\r\n\r\n",
    "HTTP/0.9 style": b"GET /\r\n\r\n",
    "unsupported version": b"GET / HTTP/2.0\r\nHost: t\r\n\r\n",
    "lower-case version": b"GET / http/1.1\r\nHost: t\r\n\r\n",
    "header without colon": b"GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n",
    "bare CR in header": b"GET / HTTP/1.1\r\nHost: t\rX-A: b\r\n\r\n",
    "bare CR in request line": b"GET /\r HTTP/1.1\r\nHost: t\r\n\r\n",
    "obs-fold": b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n  folded\r\n\r\n",
    "space in header name": b"GET / HTTP/1.1\r\nHost: t\r\nBad Name: v\r\n\r\n",
    "space before colon": b"GET / HTTP/1.1\r\nHost: t\r\nX-A : v\r\n\r\n",
    "NUL in header name": b"GET / HTTP/1.1\r\nHost: t\r\nX\x00A: v\r\n\r\n",
    "NUL in header value": b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n",
    "control char in value": b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x01b\r\n\r\n",
    "control char in target": b"GET /a\x7fb HTTP/1.1\r\nHost: t\r\n\r\n",
    "two Host headers": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "non-token method": b"G(T / HTTP/1.1\r\nHost: t\r\n\r\n",
    "HTTP/1.1 without Host": b"GET / HTTP/1.1\r\nX-A: b\r\n\r\n",
}


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.asyncio
async def test_malformed_head_gets_400(serve: Any, connect: Any, payload: bytes) -> None:
    _, port = await serve(echo_app)
    await expect_refusal(connect, port, payload, 400)


def chunked(body: bytes) -> bytes:
    return b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + body + SMUGGLED


SMUGGLING = {
    "CL and TE": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "TE and CL": b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Length: 40\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "differing duplicate CL": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
    b"Content-Length: 6\r\n\r\nhello!" + SMUGGLED,
    "comma-joined differing CL": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 6\r\n\r\n"
    b"hello!" + SMUGGLED,
    "CL with plus sign": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello"
    + SMUGGLED,
    "negative CL": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n" + SMUGGLED,
    "hex CL": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0x5\r\n\r\nhello" + SMUGGLED,
    "CL with underscore": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1_0\r\n\r\n" + SMUGGLED,
    "overflowing CL": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999\r\n\r\n"
    + SMUGGLED,
    "TE gzip, chunked": b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    b"0\r\n\r\n" + SMUGGLED,
    "TE chunked, identity": b"POST / HTTP/1.1\r\nHost: t\r\n"
    b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "TE xchunked": b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n"
    b"0\r\n\r\n" + SMUGGLED,
    "TE twice": b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "TE in HTTP/1.0": b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "chunk size with sign": chunked(b"+5\r\nhello\r\n0\r\n\r\n"),
    "negative chunk size": chunked(b"-5\r\nhello\r\n0\r\n\r\n"),
    "chunk size with leading space": chunked(b" 5\r\nhello\r\n0\r\n\r\n"),
    "chunk size with trailing space": chunked(b"5 \r\nhello\r\n0\r\n\r\n"),
    "chunk size with underscore": chunked(b"1_0\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n"),
    "chunk size 0x": chunked(b"0x5\r\nhello\r\n0\r\n\r\n"),
    "overflowing chunk size": chunked(b"1" + b"0" * 16 + b"\r\nhello\r\n0\r\n\r\n"),
    "chunk size with bare LF": chunked(b"5\nhello\r\n0\r\n\r\n"),
    "malformed chunk extension": chunked(b"5;\r\nhello\r\n0\r\n\r\n"),
    "chunk extension with bad quote": chunked(b'5;a="x\r\nhello\r\n0\r\n\r\n'),
    "chunk-size line too long": chunked(b"5;a=" + b"b" * 5000 + b"\r\nhello\r\n0\r\n\r\n"),
    "too many chunk extensions": chunked(
        b"".join(b"1;e=" + b"x" * 4000 + b"\r\na\r\n" for _ in range(5)) + b"0\r\n\r\n"
    ),
    "chunk data longer than its size": chunked(b"5\r\nhello!\r\n0\r\n\r\n"),
    "missing CRLF after chunk data": chunked(b"5\r\nhello0\r\n\r\n"),
    "request instead of final CRLF": chunked(b"5\r\nhello\r\n0\r\n"),
    "malformed trailer": chunked(b"5\r\nhello\r\n0\r\nBad Trailer\r\n\r\n"),
}


@pytest.mark.parametrize("payload", SMUGGLING.values(), ids=SMUGGLING.keys())
@pytest.mark.asyncio
async def test_smuggling_attempt_gets_400(serve: Any, connect: Any, payload: bytes) -> None:
    seen: list[str] = []

    def app(request: HTTPServerRequest) -> None:
        seen.append(request.path)
        echo_app(request)

    _, port = await serve(app)
    await expect_refusal(connect, port, payload, 400)
    assert "/smuggled" not in seen


# -- sizes ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_head_over_max_header_size_gets_431(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app, max_header_size=1024)
    many_lines = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 50) for i in range(40))
    await expect_refusal(
        connect, port, b"GET / HTTP/1.1\r\nHost: t\r\n" + many_lines + b"\r\n", 431
    )
    # One long line crossing the limit.
    long_line = b"X-Long: " + b"v" * 3000 + b"\r\n"
    await expect_refusal(connect, port, b"GET / HTTP/1.1\r\n" + long_line + b"\r\n", 431)
    # Exactly at the limit is fine.
    head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Pad: "
    head += b"p" * (1024 - len(head) - 4) + b"\r\n\r\n"
    assert len(head) == 1024
    client = await connect(port)
    await client.send(head)
    assert (await client.read_response()).code == 200


@pytest.mark.asyncio
async def test_unterminated_huge_line_gets_431(serve: Any, connect: Any) -> None:
    # A line that never ends is refused once the head outgrows the limit,
    # without waiting for its end.
    _, port = await serve(echo_app, max_header_size=1024)
    await expect_refusal(connect, port, b"GET / HTTP/1.1\r\nX-Endless: " + b"v" * 20000, 431)


@pytest.mark.asyncio
async def test_too_many_header_fields_gets_431(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(1001))
    await expect_refusal(connect, port, b"GET / HTTP/1.1\r\nHost: t\r\n" + fields + b"\r\n", 431)


@pytest.mark.asyncio
async def test_body_over_max_body_size_gets_400(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app, max_body_size=1000)
    await expect_refusal(
        connect,
        port,
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n" + b"x" * 1001,
        400,
    )
    # Chunked: refused as soon as the running total passes the limit.
    await expect_refusal(
        connect, port, chunked(b"200\r\n" + b"x" * 512 + b"\r\n200\r\n" + b"x" * 512), 400
    )
    client = await connect(port)
    await client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000)
    assert (await client.read_response()).body == b"POST / " + b"x" * 1000


class CountingDelegate(HTTPMessageDelegate):
    def __init__(self, connection: HTTPConnection, received: list[int]) -> None:
        self.connection = connection
        self.received = received

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> Awaitable[None] | None:
        return None

    def data_received(self, chunk: bytes) -> None:
        self.received.append(len(chunk))

    def finish(self) -> None:
        self.connection.write_headers(OK, HTTPHeaders({"Content-Length": "0"}))
        self.connection.finish()


class CountingApp(HTTPServerConnectionDelegate):
    def __init__(self) -> None:
        self.received: list[int] = []

    def start_request(
        self, server_conn: object, request_conn: HTTPConnection
    ) -> HTTPMessageDelegate:
        return CountingDelegate(request_conn, self.received)


@pytest.mark.asyncio
async def test_gzip_bomb_stopped_at_max_body_size(serve: Any, connect: Any) -> None:
    app = CountingApp()
    limit = 1024 * 1024
    _, port = await serve(app, decompress_request=True, max_body_size=limit)
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < limit  # the wire size alone is within the limit
    await expect_refusal(
        connect,
        port,
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(bomb), bomb),
        400,
    )
    # The application never saw more than the limit of inflated bytes.
    assert sum(app.received) <= limit


@pytest.mark.asyncio
async def test_invalid_gzip_body_gets_400(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app, decompress_request=True)
    junk = b"\x1f\x8bnot really gzip at all"
    await expect_refusal(
        connect,
        port,
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(junk), junk),
        400,
    )


# -- arguments, multipart, cookies ---------------------------------------------


@pytest.mark.asyncio
async def test_too_many_query_arguments_gets_400(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)
    query = "&".join(f"a{i}=1" for i in range(1001)).encode()
    await expect_refusal(connect, port, b"GET /?" + query + b" HTTP/1.1\r\nHost: t\r\n\r\n", 400)
    client = await connect(port)
    query = "&".join(f"a{i}=1" for i in range(1000)).encode()
    await client.send(b"GET /?" + query + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await client.read_response()).code == 200


def form(body: bytes, content_type: bytes) -> bytes:
    return b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: %b\r\nContent-Length: %d\r\n\r\n%b" % (
        content_type,
        len(body),
        body,
    )


def multipart(parts: list[bytes], boundary: bytes = b"BOUND") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary + b"--\r\n"


FIELD = b'Content-Disposition: form-data; name="f"\r\n\r\nvalue'

BAD_FORMS = {
    "too many form arguments": form(
        "&".join(f"a{i}=1" for i in range(1001)).encode(), b"application/x-www-form-urlencoded"
    ),
    "too many multipart parts": form(
        multipart([FIELD] * 101), b"multipart/form-data; boundary=BOUND"
    ),
    "multipart without boundary": form(multipart([FIELD]), b"multipart/form-data"),
    "multipart with wrong boundary": form(
        multipart([FIELD]), b"multipart/form-data; boundary=OTHER"
    ),
    "multipart part without name": form(
        multipart([b"Content-Disposition: form-data\r\n\r\nvalue"]),
        b"multipart/form-data; boundary=BOUND",
    ),
    "multipart part without headers": form(
        multipart([b"just a value"]), b"multipart/form-data; boundary=BOUND"
    ),
    "multipart part headers too large": form(
        multipart([b"X-Big: " + b"h" * 20000 + b"\r\n" + FIELD]),
        b"multipart/form-data; boundary=BOUND",
    ),
}


@pytest.mark.parametrize("payload", BAD_FORMS.values(), ids=BAD_FORMS.keys())
@pytest.mark.asyncio
async def test_bad_form_body_gets_400_and_is_logged(
    serve: Any, connect: Any, caplog: pytest.LogCaptureFixture, payload: bytes
) -> None:
    _, port = await serve(echo_app)
    with caplog.at_level(logging.INFO, logger="tornado.general"):
        await expect_refusal(connect, port, payload, 400)
    # Once, as a malformed message (parse_body_arguments itself does not log).
    logged = [r.getMessage() for r in caplog.records if r.name == "tornado.general"]
    assert len(logged) == 1 and logged[0].startswith("Malformed HTTP message"), logged


@pytest.mark.asyncio
async def test_within_limits_forms_accepted(serve: Any, connect: Any) -> None:
    seen: list[HTTPServerRequest] = []

    def app(request: HTTPServerRequest) -> None:
        seen.append(request)
        echo_app(request)

    _, port = await serve(app)
    client = await connect(port)
    await client.send(form(multipart([FIELD] * 100), b"multipart/form-data; boundary=BOUND"))
    assert (await client.read_response()).code == 200
    assert seen[0].body_arguments["f"] == [b"value"] * 100


@pytest.mark.asyncio
async def test_cookie_with_many_semicolons_and_quotes(serve: Any, connect: Any) -> None:
    cookies: list[int] = []

    def app(request: HTTPServerRequest) -> None:
        cookies.append(len(request.cookies))
        echo_app(request)

    _, port = await serve(app)
    client = await connect(port)
    hostile = b"a=1" + b";" * 20000 + b'"' * 20000 + b"; b=2"
    await client.send(b"GET / HTTP/1.1\r\nHost: t\r\nCookie: " + hostile + b"\r\n\r\n")
    assert (await client.read_response()).code == 200
    assert cookies and cookies[0] >= 1
    await assert_still_serving(connect, port)


# -- slow and idle clients --------------------------------------------------------


@pytest.mark.asyncio
async def test_dripping_client_does_not_block_others(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app, idle_connection_timeout=0.2, body_timeout=0.2)
    dripping = await connect(port)
    await dripping.send(b"GET / HT")
    await assert_still_serving(connect, port)
    await dripping.send(b"TP/1.1\r\nHost: t\r\n")
    await assert_still_serving(connect, port)
    # It never finishes: the header timeout closes it.
    assert await dripping.closed_by_peer()

    slow_body = await connect(port)
    await slow_body.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
    await assert_still_serving(connect, port)
    assert await slow_body.closed_by_peer()


@pytest.mark.asyncio
async def test_many_idle_connections_closed(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app, idle_connection_timeout=0.05)
    clients = [await connect(port) for _ in range(20)]
    for client in clients:
        await client.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        await client.read_response()
    for client in clients:
        assert await client.closed_by_peer()
    await assert_still_serving(connect, port)


@pytest.mark.asyncio
async def test_flood_of_empty_lines_then_timeout(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app, idle_connection_timeout=0.1)
    client = await connect(port)
    await client.send(b"\r\n" * 5000)
    assert await client.closed_by_peer()
    await assert_still_serving(connect, port)


@pytest.mark.asyncio
async def test_malformed_deflate_stream_is_not_gzip(serve: Any, connect: Any) -> None:
    # A raw deflate stream labelled gzip is refused, not guessed at.
    _, port = await serve(echo_app, decompress_request=True)
    raw = zlib.compress(b"hello")
    await expect_refusal(
        connect,
        port,
        b"POST / HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(raw), raw),
        400,
    )


@pytest.mark.asyncio
async def test_concurrent_hostile_and_good_clients(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)

    async def hostile(payload: bytes) -> None:
        client = await connect(port)
        await client.send(payload)
        # One refusal, then the end of the connection.
        everything = await client.reader.read()
        assert everything.startswith(b"HTTP/1.1 4")
        assert everything.count(b"HTTP/1.1") == 1

    async def good(i: int) -> bytes:
        client = await connect(port)
        await client.send(b"GET /%d HTTP/1.1\r\nHost: t\r\n\r\n" % i)
        return bytes((await client.read_response()).body)

    payloads = list(MALFORMED.values()) + list(SMUGGLING.values())
    results = await asyncio.gather(*(hostile(p) for p in payloads), *(good(i) for i in range(20)))
    assert results[len(payloads) :] == [b"GET /%d " % i for i in range(20)]


@pytest.mark.asyncio
async def test_http10_request_needs_no_host(serve: Any, connect: Any) -> None:
    _, port = await serve(echo_app)
    client = await connect(port)
    await client.send(b"GET / HTTP/1.0\r\n\r\n")
    response = await client.read_response()
    assert response.code == 200
