"""Shared fixtures for the HTTP tests: servers on 127.0.0.1, raw socket
clients that speak bytes, and TLS material made at test time."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
import trustme

from tornado.httpserver import HTTPServer


class RawResponse:
    """A response read off the wire by `RawClient`."""

    def __init__(self, status_line: bytes, headers: dict[str, str], body: bytes) -> None:
        self.status_line = status_line
        self.code = int(status_line.split(b" ")[1])
        self.headers = headers
        self.body = body


class RawClient:
    """A client that writes raw bytes and parses responses itself, so tests
    see exactly what the server put on the wire."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_head(self) -> tuple[bytes, dict[str, str]]:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head[:-4].split(b"\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.decode("latin-1").partition(":")
            key = name.strip().lower()
            headers[key] = f"{headers[key]},{value.strip()}" if key in headers else value.strip()
        return status_line, headers

    async def read_response(self, method: str = "GET") -> RawResponse:
        """Read one response, skipping interim 1xx ones."""
        while True:
            status_line, headers = await self.read_head()
            if not status_line.split(b" ")[1].startswith(b"1"):
                break
        body = b""
        if method == "HEAD" or status_line.split(b" ")[1] in (b"204", b"304"):
            pass
        elif headers.get("transfer-encoding") == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                if size == 0:
                    assert await self.reader.readuntil(b"\r\n") == b"\r\n"
                    break
                body += await self.reader.readexactly(size)
                assert await self.reader.readexactly(2) == b"\r\n"
        elif "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        else:
            body = await self.reader.read()
        return RawResponse(status_line, headers, body)

    async def closed_by_peer(self) -> bool:
        """Whether the server closes the connection (reads to EOF; True
        if nothing but the end came)."""
        try:
            rest = await self.reader.read()
        except ConnectionResetError:
            return True
        return rest == b""

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


ConnectFactory = Callable[..., Awaitable[RawClient]]


@pytest_asyncio.fixture
async def connect() -> AsyncIterator[ConnectFactory]:
    """``await connect(port, ssl=None)`` opens a `RawClient`; all are closed
    at the end of the test."""
    clients: list[RawClient] = []

    async def factory(port: int, ssl: ssl.SSLContext | None = None) -> RawClient:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=ssl, server_hostname="localhost" if ssl else None
        )
        client = RawClient(reader, writer)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


ServeFactory = Callable[..., Awaitable[tuple[HTTPServer, int]]]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[ServeFactory]:
    """``await serve(app, **options)`` starts an `HTTPServer` on a free
    port of 127.0.0.1 and returns it with the port; servers are stopped
    and their connections closed at the end of the test."""
    servers: list[HTTPServer] = []

    async def factory(app: Any, **options: Any) -> tuple[HTTPServer, int]:
        server = HTTPServer(app, **options)
        server.listen(0, "127.0.0.1")
        servers.append(server)
        port = next(iter(server._sockets.values())).getsockname()[1]
        return server, port

    yield factory
    for server in servers:
        server.stop()
        await server.close_all_connections()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throwaway certificate authority."""
    return trustme.CA()


@pytest.fixture(scope="session")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    """A certificate for localhost and 127.0.0.1 signed by ``ca``."""
    return ca.issue_cert("localhost", "127.0.0.1")


@pytest.fixture
def server_context(server_cert: trustme.LeafCert) -> ssl.SSLContext:
    """A server-side TLS context presenting ``server_cert``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(context)
    return context


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client-side TLS context that trusts ``ca``."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest_asyncio.fixture
async def raw_server() -> AsyncIterator[Callable[[bytes], Awaitable[str]]]:
    """``await raw_server(reply)``: a server that reads a request head,
    writes ``reply`` in one piece and closes; returns its URL."""
    servers: list[asyncio.Server] = []

    async def factory(reply: bytes) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(reply)
                await writer.drain()
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"

    yield factory
    for server in servers:
        server.close()
        await server.wait_closed()
