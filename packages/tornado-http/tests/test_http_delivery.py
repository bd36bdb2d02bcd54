"""How a response body reaches the client's delegate: tiny chunks merged,
other connections served meanwhile, gzip inflated in bounded pieces, a
cancelled streaming coroutine, an oversized head, and a response with
contradictory framing.  Real servers on 127.0.0.1 that write exact bytes."""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio

from tornado.http1connection import HTTP1Connection
from tornado.httpclient import HTTPRequest
from tornado.httputil import (
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerRequest,
    RequestStartLine,
    ResponseStartLine,
)
from tornado.iostream import IOStream, UnsatisfiableReadError
from tornado.simple_httpclient import HTTPStreamClosedError, SimpleAsyncHTTPClient
from tornado.tcpclient import TCPClient

RawServer = Callable[[bytes], Awaitable[str]]


@pytest_asyncio.fixture
async def client() -> AsyncIterator[SimpleAsyncHTTPClient]:
    http_client = SimpleAsyncHTTPClient(force_instance=True)
    yield http_client
    http_client.close()


TINY_CHUNKS = 5000
TINY_CHUNKED_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    + b"1\r\nx\r\n" * TINY_CHUNKS
    + b"0\r\n\r\n"
)


@pytest.mark.asyncio
async def test_tiny_chunks_are_merged(client: SimpleAsyncHTTPClient, raw_server: RawServer) -> None:
    url = await raw_server(TINY_CHUNKED_RESPONSE)
    pieces: list[bytes] = []
    response = await client.fetch(url, streaming_callback=pieces.append)
    assert response.code == 200
    assert b"".join(pieces) == b"x" * TINY_CHUNKS
    # Not one call per one-byte chunk: chunks already at hand are merged
    # (a piece is handed on early only when the next must be waited for).
    assert len(pieces) < 10


def _buffered_response_stream(response: bytes) -> IOStream:
    """A client stream whose peer already sent ``response`` and closed: every
    byte is waiting in the kernel before anything is read."""
    ours, theirs = socket.socketpair()
    theirs.sendall(response)
    theirs.close()
    return IOStream(ours)


@pytest.mark.asyncio
async def test_buffered_tiny_chunks_let_other_callbacks_run() -> None:
    # Reading this body never has to wait for the network; the reader still
    # yields to the loop now and then, which a callback rescheduling itself
    # every iteration counts.  The chunks are merged all the same.
    loop = asyncio.get_running_loop()
    stream = _buffered_response_stream(TINY_CHUNKED_RESPONSE)
    ticks = 0
    done = False
    body: list[bytes] = []

    def tick() -> None:
        nonlocal ticks
        if not done:
            ticks += 1
            loop.call_soon(tick)

    class Delegate(HTTPMessageDelegate):
        def headers_received(self, start_line: Any, headers: HTTPHeaders) -> None:
            loop.call_soon(tick)

        def data_received(self, chunk: bytes) -> None:
            body.append(chunk)

        def finish(self) -> None:
            nonlocal done
            done = True

    try:
        connection = HTTP1Connection(stream, True)
        await connection.read_response(Delegate())
    finally:
        stream.close()
    assert b"".join(body) == b"x" * TINY_CHUNKS
    assert len(body) < 10
    assert ticks > 10


@pytest.mark.asyncio
async def test_chunks_handed_on_when_the_next_must_be_waited_for() -> None:
    # Merging never holds data back: a chunk is delivered before the
    # reader waits for the next one.
    ours, theirs = socket.socketpair()
    stream = IOStream(ours)
    received: list[bytes] = []
    got_first = asyncio.Event()

    class Delegate(HTTPMessageDelegate):
        def data_received(self, chunk: bytes) -> None:
            received.append(chunk)
            got_first.set()

    try:
        connection = HTTP1Connection(stream, True)
        reading = asyncio.ensure_future(connection.read_response(Delegate()))
        theirs.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nasdf\r\n")
        await got_first.wait()
        assert received == [b"asdf"]
        theirs.sendall(b"4\r\nqwer\r\n0\r\n\r\n")
        await reading
        assert received == [b"asdf", b"qwer"]
    finally:
        theirs.close()
        stream.close()


def _gzip_of_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    return b"".join([compressor.compress(block) for _ in range(size // len(block))]) + (
        compressor.flush()
    )


@pytest.mark.asyncio
async def test_gzip_response_inflated_in_bounded_pieces(
    client: SimpleAsyncHTTPClient, raw_server: RawServer
) -> None:
    inflated_size = 32 * 1024 * 1024
    body = _gzip_of_zeros(inflated_size)
    url = await raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )
    received = 0
    largest = 0

    def streaming_callback(chunk: bytes) -> None:
        nonlocal received, largest
        received += len(chunk)
        largest = max(largest, len(chunk))

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        response = await client.fetch(url, streaming_callback=streaming_callback)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.code == 200
    assert received == inflated_size
    assert largest <= 65536
    # A 32 MiB body never held at once (a whole network read of this body
    # inflates to far more than this).
    assert peak < 8 * 1024 * 1024


@pytest.mark.asyncio
async def test_gzip_response_small_pieces_still_exact(
    client: SimpleAsyncHTTPClient, raw_server: RawServer
) -> None:
    text = b"".join(b"line %d\n" % i for i in range(20000))
    body = gzip.compress(text)
    url = await raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )
    response = await client.fetch(url)
    assert response.body == text
    assert response.headers["X-Consumed-Content-Encoding"] == "gzip"


@pytest.mark.asyncio
async def test_cancelled_streaming_coroutine_fails_the_fetch(
    client: SimpleAsyncHTTPClient, raw_server: RawServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = await raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")

    async def streaming_callback(chunk: bytes) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.cancel()
        await future

    with (
        caplog.at_level(logging.ERROR, logger="tornado.application"),
        pytest.raises(HTTPStreamClosedError),
    ):
        await client.fetch(url, streaming_callback=streaming_callback)
    assert any("Uncaught exception" in r.getMessage() for r in caplog.records)


@pytest.mark.asyncio
async def test_cancelling_the_read_itself_still_cancels() -> None:
    # A response that never comes: cancelling the task reading it is a
    # cancellation, not a delegate failure to log and swallow.
    server = await asyncio.start_server(_hold_open, "127.0.0.1", 0)
    stream = await TCPClient().connect("127.0.0.1", server.sockets[0].getsockname()[1])
    try:
        connection = HTTP1Connection(stream, True)
        connection.write_headers(RequestStartLine("GET", "/", "HTTP/1.1"), HTTPHeaders())
        connection.finish()
        task = asyncio.ensure_future(connection.read_response(HTTPMessageDelegate()))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        stream.close()
        server.close()
        await server.wait_closed()


async def _hold_open(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.read()
    finally:
        writer.close()


@pytest.mark.asyncio
async def test_oversized_response_head_is_an_unsatisfiable_read(
    raw_server: RawServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = await raw_server(
        b"HTTP/1.1 200 OK\r\nX-Filler: " + b"a" * 2000 + b"\r\nContent-Length: 2\r\n\r\nok"
    )
    client = SimpleAsyncHTTPClient(force_instance=True, max_header_size=1024)
    try:
        with (
            caplog.at_level(logging.INFO, logger="tornado.general"),
            pytest.raises(UnsatisfiableReadError),
        ):
            await client.fetch(url)
        messages = [r.getMessage() for r in caplog.records if r.name == "tornado.general"]
        assert any(m.startswith("Unsatisfiable read") for m in messages)
    finally:
        client.close()


@pytest.mark.asyncio
async def test_response_with_chunked_and_content_length_refused(
    client: SimpleAsyncHTTPClient, raw_server: RawServer, caplog: pytest.LogCaptureFixture
) -> None:
    # What a server that lets a handler set both headers sends: a body that
    # is not chunked under a Transfer-Encoding: chunked header.
    url = await raw_server(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 11\r\n\r\nHello world"
    )
    with (
        caplog.at_level(logging.INFO, logger="tornado.general"),
        pytest.raises(HTTPStreamClosedError),
    ):
        await client.fetch(url)
    assert (
        "Malformed HTTP message from None: Message with both Transfer-Encoding and Content-Length"
        in [r.getMessage() for r in caplog.records]
    )


@pytest.mark.asyncio
async def test_network_interface_checked_before_connecting(
    client: SimpleAsyncHTTPClient,
) -> None:
    connections: list[asyncio.StreamWriter] = []

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    try:
        with pytest.raises(ValueError, match="not-an-ip"):
            await client.fetch(HTTPRequest(url, network_interface="not-an-ip"))
        assert connections == []
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.asyncio
async def test_network_interface_binds_the_local_end(serve: Any) -> None:
    seen: list[str] = []

    def app(request: HTTPServerRequest) -> None:
        seen.append(request.remote_ip)
        assert request.connection is not None
        request.connection.write_headers(
            ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders({"Content-Length": "0"})
        )
        request.connection.finish()

    _, port = await serve(app)
    client = SimpleAsyncHTTPClient(force_instance=True)
    try:
        response = await client.fetch(
            HTTPRequest(f"http://127.0.0.1:{port}/", network_interface="127.0.0.1")
        )
        assert response.code == 200
        assert seen == ["127.0.0.1"]
    finally:
        client.close()
