"""A WebSocket connection's message handlers share one `contextvars`
context of their own: what ``open`` or a message sets is seen by the next
message of the same connection and by nobody else."""

from __future__ import annotations

import contextvars

import pytest

from tornado.websocket import WebSocketHandler, websocket_connect

from .conftest import Serve

last: contextvars.ContextVar[str] = contextvars.ContextVar("last", default="-")


class Remembers(WebSocketHandler):
    def open(self) -> None:
        last.set("open:" + self.get_argument("name"))

    def on_message(self, message: str | bytes) -> None:
        assert isinstance(message, str)
        self.write_message(f"{last.get()} {message}")
        last.set(message)


@pytest.mark.asyncio
async def test_each_connection_has_its_own_context(serve: Serve) -> None:
    port = await serve([("/", Remembers)])
    a = await websocket_connect(f"ws://127.0.0.1:{port}/?name=a")
    b = await websocket_connect(f"ws://127.0.0.1:{port}/?name=b")
    try:
        for client, message, answer in [
            (a, "1", "open:a 1"),
            (b, "2", "open:b 2"),
            (a, "3", "1 3"),
            (b, "4", "2 4"),
        ]:
            await client.write_message(message)
            assert await client.read_message() == answer
    finally:
        a.close()
        b.close()
    assert last.get() == "-"
