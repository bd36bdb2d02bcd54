"""HTTPServer.drain over real sockets on 127.0.0.1: refused new
connections, idle keep-alive connections closed at once, requests under
way finished with ``Connection: close``, long-polls cut at the deadline."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest

from tornado.httpserver import DrainResult, HTTPServer
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine

OK = ResponseStartLine("HTTP/1.1", 200, "OK")


class HeldRequests:
    """An application that answers ``/fast`` at once and holds every other
    request until the test answers it (a slow response, or a long-poll
    that is never answered)."""

    def __init__(self) -> None:
        self.held: list[HTTPServerRequest] = []
        self.arrived = asyncio.Event()

    def __call__(self, request: HTTPServerRequest) -> None:
        if request.path == "/fast":
            answer(request, b"fast")
            return
        self.held.append(request)
        self.arrived.set()

    async def wait_for(self, count: int) -> None:
        while len(self.held) < count:
            self.arrived.clear()
            await self.arrived.wait()


def answer(request: HTTPServerRequest, body: bytes) -> None:
    assert request.connection is not None
    request.connection.write_headers(OK, HTTPHeaders({"Content-Length": str(len(body))}), body)
    request.connection.finish()


async def start_drain(server: HTTPServer, timeout: float | None) -> asyncio.Task[DrainResult]:
    """Start a drain and let it run up to its first wait (it stops
    accepting and tells every connection before that)."""
    task = asyncio.ensure_future(server.drain(timeout))
    # One turn of the loop: the task's synchronous part runs.
    await asyncio.sleep(0)
    assert server._drain_state is not None
    return task


async def refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


@pytest.mark.asyncio
async def test_idle_keep_alive_connection_is_closed_at_once(serve: Any, connect: Any) -> None:
    app = HeldRequests()
    server, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
    response = await client.read_response()
    assert response.body == b"fast"
    assert response.headers.get("connection") != "close"
    # No deadline: the drain returns because nothing is left, not by timing out.
    result = await server.drain(None)
    assert result == DrainResult(finished=0, cut=0)
    assert await client.closed_by_peer()
    assert await refused(port)


@pytest.mark.asyncio
async def test_in_flight_response_completes_with_connection_close(serve: Any, connect: Any) -> None:
    app = HeldRequests()
    server, port = await serve(app)
    slow = await connect(port)
    await slow.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    await app.wait_for(1)
    drain = await start_drain(server, None)
    # New connections are refused while the slow request is still running.
    assert await refused(port)
    assert not drain.done()
    answer(app.held[0], b"done at last")
    response = await slow.read_response()
    assert response.code == 200
    assert response.body == b"done at last"
    assert response.headers["connection"] == "close"
    assert await slow.closed_by_peer()
    assert await drain == DrainResult(finished=1, cut=0)


@pytest.mark.asyncio
async def test_http_1_0_keep_alive_gets_no_keep_alive_while_draining(
    serve: Any, connect: Any
) -> None:
    app = HeldRequests()
    server, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET /slow HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    await app.wait_for(1)
    drain = await start_drain(server, None)
    answer(app.held[0], b"old")
    response = await client.read_response()
    assert response.body == b"old"
    assert "connection" not in response.headers
    assert await client.closed_by_peer()
    assert await drain == DrainResult(finished=1, cut=0)


@pytest.mark.asyncio
async def test_response_already_started_finishes_then_closes(serve: Any, connect: Any) -> None:
    app = HeldRequests()
    server, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
    await app.wait_for(1)
    request = app.held[0]
    assert request.connection is not None
    # The head (keep-alive) is out before the drain starts.
    request.connection.write_headers(OK, HTTPHeaders({"Content-Length": "4"}), b"ab")
    status_line, headers = await client.read_head()
    assert b"200" in status_line
    assert headers.get("connection") != "close"
    drain = await start_drain(server, None)
    request.connection.write(b"cd")
    request.connection.finish()
    assert await client.reader.readexactly(4) == b"abcd"
    # Keep-alive was promised, but the connection closes after the response.
    assert await client.closed_by_peer()
    assert await drain == DrainResult(finished=1, cut=0)


@pytest.mark.asyncio
async def test_pipelined_request_is_not_served_while_draining(serve: Any, connect: Any) -> None:
    app = HeldRequests()
    server, port = await serve(app)
    client = await connect(port)
    # The second request is read only after the first is answered.
    await client.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\nGET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
    await app.wait_for(1)
    drain = await start_drain(server, None)
    answer(app.held[0], b"first")
    response = await client.read_response()
    assert response.body == b"first"
    assert response.headers["connection"] == "close"
    assert await client.closed_by_peer()
    assert await drain == DrainResult(finished=1, cut=0)


@pytest.mark.asyncio
async def test_long_poll_is_cut_at_the_deadline(serve: Any, connect: Any) -> None:
    app = HeldRequests()
    server, port = await serve(app)
    slow = await connect(port)
    poll = await connect(port)
    idle = await connect(port)
    await idle.send(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await idle.read_response()).body == b"fast"
    await slow.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    await poll.send(b"GET /poll HTTP/1.1\r\nHost: t\r\n\r\n")
    await app.wait_for(2)
    drain = await start_drain(server, 0.2)
    assert await idle.closed_by_peer()
    slow_request = next(r for r in app.held if r.path == "/slow")
    answer(slow_request, b"slow")
    assert (await slow.read_response()).headers["connection"] == "close"
    # The long-poll is never answered: the deadline closes it, unanswered.
    assert await drain == DrainResult(finished=1, cut=1)
    assert await poll.closed_by_peer()
    assert not server._connections


@pytest.mark.asyncio
async def test_a_server_drains_once(serve: Any, connect: Any) -> None:
    app = HeldRequests()
    server, port = await serve(app)
    client = await connect(port)
    await client.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    await app.wait_for(1)
    drain = await start_drain(server, None)
    with pytest.raises(RuntimeError):
        await server.drain(None)
    answer(app.held[0], b"x")
    assert await drain == DrainResult(finished=1, cut=0)
    with pytest.raises(RuntimeError):
        await server.drain(None)


@pytest.mark.asyncio
async def test_drain_over_tls(
    serve: Any, connect: Any, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    app = HeldRequests()
    server, port = await serve(app, ssl_options=server_context)
    idle = await connect(port, ssl=client_context)
    await idle.send(b"GET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
    assert (await idle.read_response()).body == b"fast"
    slow = await connect(port, ssl=client_context)
    await slow.send(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    await app.wait_for(1)
    drain = await start_drain(server, None)
    assert await idle.closed_by_peer()
    answer(app.held[0], b"secret")
    response = await slow.read_response()
    assert response.body == b"secret"
    assert response.headers["connection"] == "close"
    assert await drain == DrainResult(finished=1, cut=0)
