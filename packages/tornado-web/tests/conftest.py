"""Fixtures for tornado-web's tests: a real `HTTPServer` on 127.0.0.1 and a
small real HTTP/1.1 client over asyncio streams.

tornado-testing depends on tornado-web, so it cannot be used here; the
client is written against the wire format so tests see exactly what the
server sent (status line, every header value, raw body).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
import trustme

from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders


class Response:
    """A response as read off the wire."""

    def __init__(self, code: int, reason: str, headers: HTTPHeaders, body: bytes) -> None:
        self.code = code
        self.reason = reason
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def __repr__(self) -> str:
        return f"Response({self.code}, {self.reason!r}, {self.body[:80]!r})"


class Connection:
    """One client connection; requests on it are sent one after another
    (keep-alive)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def request(
        self,
        path: str,
        method: str = "GET",
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
    ) -> Response:
        if isinstance(body, str):
            body = body.encode()
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        lines = [f"{method} {path} HTTP/1.1"]
        if not any(name.lower() == "host" for name, _ in pairs):
            lines.append("Host: 127.0.0.1")
        lines += [f"{name}: {value}" for name, value in pairs]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
            if not any(name.lower() == "content-type" for name, _ in pairs):
                # As curl -d does: a body without a type is a form.
                lines.append("Content-Type: application/x-www-form-urlencoded")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        await self.send(data)
        return await self.read_response(method)

    async def read_response(self, method: str = "GET") -> Response:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, _, rest = head.decode("latin-1").partition("\r\n")
        _, code_text, reason = ([*status_line.split(" ", 2), ""])[:3]
        headers = HTTPHeaders.parse(rest)
        code = int(code_text)
        body = b""
        if method == "HEAD" or code in (204, 304) or 100 <= code < 200:
            pass
        elif headers.get("Transfer-Encoding") == "chunked":
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                body += await self.reader.readexactly(size)
                await self.reader.readexactly(2)
        elif "Content-Length" in headers:
            body = await self.reader.readexactly(int(headers["Content-Length"]))
        else:
            body = await self.reader.read()
        return Response(code, reason, headers, body)

    async def at_eof(self) -> bool:
        """Read until the server closes; True when nothing else came."""
        try:
            return await self.reader.read() == b""
        except ConnectionResetError:
            return True

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


class Client:
    """Opens connections to one server; `fetch` uses a fresh connection per
    request, `connect` gives a keep-alive connection."""

    def __init__(self, port: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.ssl_context = ssl_context
        self.connections: list[Connection] = []

    async def connect(self) -> Connection:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1",
            self.port,
            ssl=self.ssl_context,
            server_hostname="localhost" if self.ssl_context else None,
        )
        connection = Connection(reader, writer)
        self.connections.append(connection)
        return connection

    async def fetch(
        self,
        path: str,
        method: str = "GET",
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
    ) -> Response:
        connection = await self.connect()
        try:
            return await connection.request(path, method, headers, body)
        finally:
            await connection.close()
            self.connections.remove(connection)

    async def close(self) -> None:
        for connection in self.connections:
            await connection.close()
        self.connections.clear()


ServeFactory = Callable[..., Awaitable[Client]]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[ServeFactory]:
    """``client = await serve(app, **server_options)`` starts an `HTTPServer`
    for ``app`` on a free port of 127.0.0.1 and returns a `Client` for it.
    Servers and clients are closed at the end of the test."""
    servers: list[HTTPServer] = []
    clients: list[Client] = []

    async def factory(
        app: Any, ssl_context: ssl.SSLContext | None = None, **options: Any
    ) -> Client:
        server = HTTPServer(app, **options)
        server.listen(0, "127.0.0.1")
        servers.append(server)
        port = next(iter(server._sockets.values())).getsockname()[1]
        client = Client(port, ssl_context)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()
    for server in servers:
        server.stop()
        await server.close_all_connections()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throwaway certificate authority."""
    return trustme.CA()


@pytest.fixture
def server_context(ca: trustme.CA) -> ssl.SSLContext:
    """A server TLS context for localhost/127.0.0.1 signed by ``ca``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client TLS context that trusts ``ca``."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context
