"""SIGTERM to a real server process drains it (the recipe in the tornado-http
README, run by ``fixtures/drain_server.py``): new connections are refused,
a response in flight completes with ``Connection: close``, a WebSocket sees
1001, an idle keep-alive connection is closed, a long-poll is cut at the
deadline, and the process exits; a second SIGTERM ends it at once.

The server reports each step on stdout; the test follows those lines
instead of timing anything.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tornado.websocket import websocket_connect

SERVER = Path(__file__).resolve().parent / "fixtures" / "drain_server.py"

# Bounds for a process to exit, so that a hung server fails the test
# instead of hanging it; never reached when all goes well.
EXIT_BOUND = 30.0


class ServerProcess:
    """The fixture script as a subprocess, read line by line."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port

    async def expect(self, line: str) -> None:
        """Read stdout up to ``line`` (failing if the process ends first)."""
        assert self.process.stdout is not None
        while True:
            raw = await self.process.stdout.readline()
            assert raw, f"the server exited before saying {line!r}"
            if raw.decode().strip() == line:
                return

    async def next_line(self) -> str:
        assert self.process.stdout is not None
        return (await self.process.stdout.readline()).decode().strip()

    async def exit_code(self) -> int:
        return await asyncio.wait_for(self.process.wait(), EXIT_BOUND)


async def start(grace: float) -> ServerProcess:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SERVER), str(grace), stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    first = (await process.stdout.readline()).decode().split()
    assert first[0] == "port", first
    return ServerProcess(process, int(first[1]))


@pytest_asyncio.fixture
async def servers() -> AsyncIterator[list[ServerProcess]]:
    """Processes started by a test; killed at the end if still running."""
    started: list[ServerProcess] = []
    yield started
    for server in started:
        if server.process.returncode is None:
            server.process.kill()
            await server.process.wait()


class Conn:
    """A raw HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def get(self, path: str) -> None:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        await self.writer.drain()

    async def response(self) -> tuple[bytes, dict[str, str], bytes]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status, *lines = head[:-4].decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers["content-length"]))
        return status.encode(), headers, body

    async def at_eof(self) -> bool:
        try:
            return await self.reader.read() == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.writer.close()


async def refused(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


@pytest.mark.asyncio
async def test_sigterm_drains_a_real_server(servers: list[ServerProcess]) -> None:
    server = await start(grace=1.0)
    servers.append(server)
    idle = await Conn.open(server.port)
    await idle.get("/ready")
    status, headers, body = await idle.response()
    assert body == b"ready" and headers.get("connection") != "close"
    slow = await Conn.open(server.port)
    await slow.get("/slow")
    await server.expect("held /slow")
    poll = await Conn.open(server.port)
    await poll.get("/poll")
    await server.expect("held /poll")
    ws = await websocket_connect(f"ws://127.0.0.1:{server.port}/ws")
    await server.expect("ws open")
    await ws.write_message("before")
    assert await ws.read_message() == "before"

    server.process.send_signal(signal.SIGTERM)
    await server.expect("draining")
    assert await refused(server.port)
    # The response in flight completes, whole, and is the connection's last.
    status, headers, body = await slow.response()
    assert status.startswith(b"HTTP/1.1 200")
    assert body == b"slow and complete"
    assert headers["connection"] == "close"
    assert await slow.at_eof()
    # The WebSocket is told the server is going away.
    assert await ws.read_message() is None
    assert ws.close_code == 1001
    assert await idle.at_eof()
    # The long-poll gets no answer: the deadline closes it.
    assert await poll.at_eof()
    assert await server.next_line() == "drained finished=2 cut=1"
    assert await server.exit_code() == 0
    for conn in (idle, slow, poll):
        conn.close()


@pytest.mark.asyncio
async def test_second_sigterm_exits_at_once(servers: list[ServerProcess]) -> None:
    # A deadline far beyond the exit bound: only the second signal can end
    # the process in time.
    server = await start(grace=3600.0)
    servers.append(server)
    poll = await Conn.open(server.port)
    await poll.get("/poll")
    await server.expect("held /poll")
    server.process.send_signal(signal.SIGTERM)
    await server.expect("draining")
    server.process.send_signal(signal.SIGTERM)
    assert await server.exit_code() == -signal.SIGTERM
    assert await poll.at_eof()
    poll.close()
