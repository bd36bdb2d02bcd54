"""The WebSocket chat demo across processes and hosts, on a real redis-server.

demos/websocket_chat/app.py runs as a subprocess with ``--processes N``
(shared socket or ``--reuse-port``) or as separate "hosts" on separate
ports; the opening handshake's ``X-Served-By`` header names the process
that took each WebSocket.
"""

from __future__ import annotations

import collections
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from tornado.websocket import WebSocketClientConnection, websocket_connect

# The chat_demo and redis_url fixtures live in conftest.py.
StartDemo = Callable[..., Any]


class Sockets:
    """The WebSockets a test opened, closed cleanly at the end."""

    def __init__(self) -> None:
        self.open: list[WebSocketClientConnection] = []

    async def connect(self, port: int) -> tuple[WebSocketClientConnection, int]:
        """A new WebSocket to the room and the pid of the process that took it."""
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/chatsocket")
        self.open.append(ws)
        assert ws.headers is not None
        return ws, int(ws.headers["X-Served-By"])

    async def drop(self, ws: WebSocketClientConnection) -> None:
        self.open.remove(ws)
        ws.close()
        while await ws.read_message() is not None:
            pass

    async def one_per_process(
        self, port: int, pids: list[int]
    ) -> dict[int, WebSocketClientConnection]:
        """A WebSocket on each of ``pids`` (the others are closed); bounded
        by a count: where a connection lands is the kernel's choice."""
        found: dict[int, WebSocketClientConnection] = {}
        for _ in range(400):
            ws, pid = await self.connect(port)
            if pid in found:
                await self.drop(ws)
            else:
                found[pid] = ws
            if len(found) == len(pids):
                return found
        raise AssertionError(f"reached only {sorted(found)} of {pids}")


@pytest_asyncio.fixture
async def sockets() -> AsyncIterator[Sockets]:
    opened = Sockets()
    yield opened
    for ws in list(opened.open):
        await opened.drop(ws)


async def receive(ws: WebSocketClientConnection) -> dict[str, Any]:
    raw = await ws.read_message()
    assert isinstance(raw, str), raw
    message: dict[str, Any] = json.loads(raw)
    return message


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("count", "mode"), [(2, "shared socket"), (2, "--reuse-port"), (4, "--reuse-port")]
)
async def test_websocket_chat_workers_share_the_room(
    count: int, mode: str, redis_url: str, chat_demo: StartDemo, sockets: Sockets
) -> None:
    # The guide's command:
    #   python demos/websocket_chat/app.py --processes N [--reuse-port] --redis URL
    flags = ["--reuse-port"] if mode == "--reuse-port" else []
    demo = chat_demo("--processes", str(count), *flags, "--redis", redis_url, demo="websocket_chat")
    assert len(set(demo.pids)) == count

    if mode == "--reuse-port":
        # The kernel spreads new connections over every worker's socket.
        spread: collections.Counter[int] = collections.Counter()
        for _ in range(40 * count):
            ws, pid = await sockets.connect(demo.port)
            spread[pid] += 1
            await sockets.drop(ws)
        assert set(spread) == set(demo.pids), spread

    members = await sockets.one_per_process(demo.port, demo.pids)
    first, *others = demo.pids
    await members[first].write_message(json.dumps({"body": "hi <all>"}))
    for pid in demo.pids:
        message = await receive(members[pid])
        assert (message["body"], message["html"]) == ("hi <all>", "hi &lt;all&gt;")
    await members[others[-1]].write_message(json.dumps({"body": "from the last worker"}))
    for pid in demo.pids:
        assert (await receive(members[pid]))["body"] == "from the last worker"

    # A newcomer, wherever it lands, gets the shared history.
    newcomer, _ = await sockets.connect(demo.port)
    history = [(await receive(newcomer))["body"] for _ in range(2)]
    assert history == ["hi <all>", "from the last worker"]


@pytest.mark.asyncio
async def test_websocket_chat_hosts_share_the_room(
    redis_url: str, chat_demo: StartDemo, sockets: Sockets
) -> None:
    # Two hosts: python demos/websocket_chat/app.py --port P --redis URL on each.
    a = chat_demo("--redis", redis_url, demo="websocket_chat")
    b = chat_demo("--redis", redis_url, demo="websocket_chat")
    alice, on_a = await sockets.connect(a.port)
    bob, on_b = await sockets.connect(b.port)
    assert (on_a, on_b) == (a.pids[0], b.pids[0])
    await alice.write_message(json.dumps({"body": "a to b"}))
    assert (await receive(bob))["body"] == "a to b"
    assert (await receive(alice))["body"] == "a to b"


@pytest.mark.asyncio
async def test_websocket_chat_without_redis_stays_in_its_process(
    chat_demo: StartDemo, sockets: Sockets
) -> None:
    # The control: without --redis, two hosts are two rooms.
    a = chat_demo(demo="websocket_chat")
    b = chat_demo(demo="websocket_chat")
    alice, _ = await sockets.connect(a.port)
    await alice.write_message(json.dumps({"body": "only on a"}))
    assert (await receive(alice))["body"] == "only on a"
    carol, _ = await sockets.connect(a.port)
    assert (await receive(carol))["body"] == "only on a"
    bob, _ = await sockets.connect(b.port)
    await bob.write_message(json.dumps({"body": "only on b"}))
    # Bob's first message is his own: a's history never reached b.
    assert (await receive(bob))["body"] == "only on b"
