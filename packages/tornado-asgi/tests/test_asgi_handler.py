"""`ASGIHandler`: a Starlette application mounted inside a Tornado
Application on our HTTPServer, driven by httpx and the websockets client."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tornado.asgi import ASGIHandler, shutdown_lifespans
from tornado.web import Application, RequestHandler

from . import apps_starlette
from .conftest import ServeTornado, eventually


class TornadoSide(RequestHandler):
    def get(self) -> None:
        self.write("tornado side")


def mounted() -> Application:
    return Application(
        [
            ("/tornado", TornadoSide),
            (r"/api(/.*)", ASGIHandler, {"app": apps_starlette.app}),
        ]
    )


@pytest.mark.asyncio
async def test_starlette_routes_with_root_path(serve_tornado: ServeTornado) -> None:
    application = mounted()
    base = await serve_tornado(application)
    async with httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/tornado")).text == "tornado side"
        home = await client.get("/api/")
        assert (home.status_code, home.text) == (200, "starlette home")
        assert home.headers["content-type"] == "text/plain; charset=utf-8"
        item = (await client.get("/api/items/7?q=x")).json()
        assert item == {
            "id": 7,
            "q": "x",
            "path": "/api/items/7",
            "root_path": "/api",
            "client": "127.0.0.1",
            "scheme": "http",
        }
        assert (await client.get("/api/nowhere")).status_code == 404
        cookie = await client.get("/api/cookie")
        assert cookie.status_code == 201 and cookie.cookies["flavour"] == "oat"
        assert (await client.get("/api/state")).text == "hello from lifespan"
    await shutdown_lifespans(application)


@pytest.mark.asyncio
async def test_lifespan_runs_once_per_application(serve_tornado: ServeTornado) -> None:
    apps_starlette.events.clear()
    application = mounted()
    base = await serve_tornado(application)
    async with httpx.AsyncClient(base_url=base) as client:
        answers = await asyncio.gather(*(client.get("/api/state") for _ in range(5)))
    assert {a.text for a in answers} == {"hello from lifespan"}
    assert apps_starlette.events == ["startup"]
    await shutdown_lifespans(application)
    assert apps_starlette.events == ["startup", "shutdown"]


@pytest.mark.asyncio
async def test_streaming_both_ways(serve_tornado: ServeTornado) -> None:
    application = mounted()
    base = await serve_tornado(application)
    async with httpx.AsyncClient(base_url=base) as client:
        async with client.stream("GET", "/api/stream") as response:
            assert response.headers.get("transfer-encoding") == "chunked"
            parts = [chunk async for chunk in response.aiter_raw()]
        assert b"".join(parts) == b"chunk 0\nchunk 1\nchunk 2\n"

        pieces = [bytes([i]) * 65536 for i in range(32)]

        async def body() -> AsyncIterator[bytes]:
            for piece in pieces:
                yield piece

        answer = (await client.post("/api/upload", content=body())).json()
        assert answer["size"] == 32 * 65536
        assert answer["sha256"] == hashlib.sha256(b"".join(pieces)).hexdigest()
        assert answer["chunks"] > 1  # it streamed, not one buffered body
    await shutdown_lifespans(application)


@pytest.mark.asyncio
async def test_app_exception_is_a_plain_500(serve_tornado: ServeTornado) -> None:
    application = mounted()
    base = await serve_tornado(application)
    async with httpx.AsyncClient(base_url=base) as client:
        answer = await client.get("/api/fail")
    assert answer.status_code == 500
    assert b"Traceback" not in answer.content and b"boom" not in answer.content
    await shutdown_lifespans(application)


@pytest.mark.asyncio
async def test_websocket_through_our_machinery(serve_tornado: ServeTornado) -> None:
    apps_starlette.events.clear()
    application = mounted()
    base = (await serve_tornado(application)).replace("http", "ws")
    async with ws_connect(base + "/api/ws", subprotocols=["chat"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "chat"
        assert ws.response.headers["X-Room"] == "lobby"
        assert await ws.recv() == "welcome /api/ws"
        await ws.send("text")
        assert await ws.recv() == "text"
        await ws.send(b"\x00bytes")
        assert await ws.recv() == b"\x00bytes"
        await ws.send("bye")
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4002, "see you")
    async with ws_connect(base + "/api/ws") as ws:
        await ws.recv()
        await ws.close(4100)
    await eventually(lambda: "ws closed 4100" in apps_starlette.events, "the app saw the close")
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(base + "/api/refuse"):
            pass
    assert refused.value.response.status_code == 403
    await shutdown_lifespans(application)


disconnects: list[str] = []


async def endless(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A raw ASGI app that streams until the client leaves."""
    if scope["type"] != "http":
        raise ValueError("http only")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"tick", "more_body": True})
    message = await receive()
    while message["type"] == "http.request":
        message = await receive()
    disconnects.append(message["type"])


@pytest.mark.asyncio
async def test_client_disconnect_reaches_the_app(serve_tornado: ServeTornado) -> None:
    disconnects.clear()
    base = await serve_tornado(Application([(r"/.*", ASGIHandler, {"app": endless})]))
    async with (
        httpx.AsyncClient(base_url=base) as client,
        client.stream("GET", "/") as response,
    ):
        assert await response.aiter_raw().__anext__() == b"tick"
    await eventually(lambda: bool(disconnects), "the app saw the disconnect")
    assert disconnects == ["http.disconnect"]


async def out_of_order(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise ValueError("http only")
    try:
        await send({"type": "http.response.body", "body": b"too early"})
    except Exception as e:
        errors.append(str(e))
        raise


errors: list[str] = []


@pytest.mark.asyncio
async def test_wrong_order_names_the_message(serve_tornado: ServeTornado) -> None:
    errors.clear()
    base = await serve_tornado(Application([(r"/.*", ASGIHandler, {"app": out_of_order})]))
    async with httpx.AsyncClient(base_url=base) as client:
        answer = await client.get("/")
    assert answer.status_code == 500
    assert errors == [
        "unexpected ASGI message 'http.response.body': expected 'http.response.start'"
    ]


async def gatekeeper(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Refuses WebSockets with its own HTTP response, or fails before accepting."""
    if scope["type"] == "lifespan":
        raise ValueError("no lifespan here")  # runs without one
    assert scope["type"] == "websocket"
    assert await receive() == {"type": "websocket.connect"}
    if scope["path"] == "/explode":
        raise RuntimeError("exploded before accept")
    assert "websocket.http.response" in scope["extensions"]
    await send(
        {
            "type": "websocket.http.response.start",
            "status": 401,
            "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Token")],
        }
    )
    await send({"type": "websocket.http.response.body", "body": b"log in first"})


@pytest.mark.asyncio
async def test_websocket_refusals(serve_tornado: ServeTornado) -> None:
    base = await serve_tornado(Application([(r"/.*", ASGIHandler, {"app": gatekeeper})]))
    ws_base = base.replace("http", "ws")
    with pytest.raises(InvalidStatus) as refused:
        async with ws_connect(ws_base + "/guarded"):
            pass
    response = refused.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.body == b"log in first"
    with pytest.raises(InvalidStatus) as failed:
        async with ws_connect(ws_base + "/explode"):
            pass
    assert failed.value.response.status_code == 500


async def no_start(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "cache cold"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})


@pytest.mark.asyncio
async def test_failed_lifespan_answers_500(serve_tornado: ServeTornado) -> None:
    application = Application([(r"/.*", ASGIHandler, {"app": no_start})])
    base = await serve_tornado(application)
    async with httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/")).status_code == 500
        assert (await client.get("/")).status_code == 500  # every request, not only the first
    # With the lifespan off the app runs; it returns without a body, before
    # anything was written: a 500 still goes out.
    base = await serve_tornado(
        Application([(r"/.*", ASGIHandler, {"app": no_start, "lifespan": False})])
    )
    async with httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/")).status_code == 500


async def breaks_mid_response(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise ValueError("http only")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise RuntimeError("failed mid-response")


@pytest.mark.asyncio
async def test_failure_after_start_drops_the_connection(serve_tornado: ServeTornado) -> None:
    base = await serve_tornado(Application([(r"/.*", ASGIHandler, {"app": breaks_mid_response})]))
    async with httpx.AsyncClient(base_url=base) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/")
