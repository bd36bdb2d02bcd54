"""A FastAPI application: pydantic request bodies, path and query
parameters, a streaming response and a WebSocket.  Mounted with
ASGIHandler by the tests and served as ``apps_fastapi:app`` by
``python -m tornado.asgi``."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

app = FastAPI()


class Order(BaseModel):
    item: str
    quantity: int


@app.get("/orders/{order_id}")
async def read_order(order_id: int, verbose: bool = False) -> dict[str, object]:
    return {"order_id": order_id, "verbose": verbose}


@app.post("/orders", status_code=201)
async def create_order(order: Order) -> dict[str, object]:
    return {"item": order.item, "total": order.quantity * 3}


@app.get("/count")
async def count() -> StreamingResponse:
    async def numbers() -> AsyncIterator[str]:
        for i in range(3):
            yield f"{i}\n"

    return StreamingResponse(numbers(), media_type="text/plain")


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            data = await websocket.receive_json()
            await websocket.send_json({"echo": data})
    except WebSocketDisconnect:
        pass
