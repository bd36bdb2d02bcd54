"""A served connection leaves no reference cycle behind once it closes.

Applications count on it (upstream's circlerefs test does too): a request,
its delegates and its connection that point at each other are only freed
by the cyclic collector, which may run much later, so a handler's
resources (files, buffers, the response body) would stay alive.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest

from tornado.http1connection import HTTP1Connection, HTTP1ServerConnection
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine

OK = ResponseStartLine("HTTP/1.1", 200, "OK")


def answer(request: HTTPServerRequest) -> None:
    assert request.connection is not None
    request.connection.write_headers(OK, HTTPHeaders({"Content-Length": "2"}), b"ok")
    request.connection.finish()


def answer_later(request: HTTPServerRequest) -> None:
    asyncio.get_running_loop().call_soon(answer, request)


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The cyclic collector off, so that cycles made by the test survive
    until `cyclic_garbage` looks for them."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def cyclic_garbage() -> list[object]:
    """The HTTP objects that only the cyclic collector would free."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        kinds = (HTTP1ServerConnection, HTTP1Connection, HTTPServerRequest)
        return [o for o in gc.garbage if isinstance(o, kinds)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


async def connections_gone(server: Any) -> None:
    deadline = asyncio.get_running_loop().time() + 5
    while server._connections:
        assert asyncio.get_running_loop().time() < deadline, "server kept the connection"
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
@pytest.mark.parametrize("app", [answer, answer_later], ids=["synchronous", "later"])
@pytest.mark.parametrize("client_closes", [True, False], ids=["client-closes", "server-closes"])
async def test_no_cycle_after_close(
    collector_off: None, serve: Any, connect: Any, app: Any, client_closes: bool
) -> None:
    server, port = await serve(app)
    client = await connect(port)
    request = b"GET / HTTP/1.1\r\nHost: t\r\n"
    if not client_closes:
        request += b"Connection: close\r\n"
    await client.send(request + b"\r\n")
    response = await client.read_response()
    assert response.body == b"ok"
    if client_closes:
        await client.close()
    else:
        assert await client.closed_by_peer()
    await connections_gone(server)
    assert cyclic_garbage() == []
