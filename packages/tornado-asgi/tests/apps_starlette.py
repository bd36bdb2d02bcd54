"""A Starlette application with routing, streaming responses, request
bodies, WebSockets and a lifespan.  Mounted with ASGIHandler by the tests,
and served as ``apps_starlette:app`` by ``python -m tornado.asgi``."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

events: list[str] = []


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    events.append("startup")
    yield {"greeting": "hello from lifespan"}
    events.append("shutdown")


async def home(request: Request) -> Response:
    return PlainTextResponse("starlette home")


async def item(request: Request) -> Response:
    return JSONResponse(
        {
            "id": request.path_params["id"],
            "q": request.query_params.get("q"),
            "path": request.url.path,
            "root_path": request.scope.get("root_path"),
            "client": request.client.host if request.client else None,
            "scheme": request.url.scheme,
        }
    )


async def state(request: Request) -> Response:
    return PlainTextResponse(request.state.greeting)


async def stream(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(3):
            yield f"chunk {i}\n".encode()

    return StreamingResponse(parts(), media_type="text/plain")


async def upload(request: Request) -> Response:
    digest = hashlib.sha256()
    size = chunks = 0
    async for chunk in request.stream():
        digest.update(chunk)
        size += len(chunk)
        chunks += 1
    return JSONResponse({"size": size, "sha256": digest.hexdigest(), "chunks": chunks})


async def cookie(request: Request) -> Response:
    response = PlainTextResponse("cookie set", status_code=201)
    response.set_cookie("flavour", "oat")
    return response


async def fail(request: Request) -> Response:
    raise RuntimeError("starlette boom")


async def ws_echo(websocket: WebSocket) -> None:
    subprotocol = "chat" if "chat" in websocket.scope["subprotocols"] else None
    await websocket.accept(subprotocol=subprotocol, headers=[(b"x-room", b"lobby")])
    await websocket.send_text("welcome " + websocket.url.path)
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            events.append(f"ws closed {message.get('code')}")
            return
        if message.get("text") == "bye":
            await websocket.close(4002, "see you")
            return
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])


async def ws_refuse(websocket: WebSocket) -> None:
    await websocket.close()


app = Starlette(
    routes=[
        Route("/", home),
        Route("/items/{id:int}", item),
        Route("/state", state),
        Route("/stream", stream),
        Route("/upload", upload, methods=["POST"]),
        Route("/cookie", cookie),
        Route("/fail", fail),
        WebSocketRoute("/ws", ws_echo),
        WebSocketRoute("/refuse", ws_refuse),
    ],
    lifespan=lifespan,
)
