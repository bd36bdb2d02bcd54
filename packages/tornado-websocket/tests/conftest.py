"""Fixtures: a real Application on an HTTPServer bound to 127.0.0.1, and TLS
material made at test time with trustme."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
import trustme

from tornado.httpserver import HTTPServer
from tornado.web import Application

Serve = Callable[..., Awaitable[int]]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Serve]:
    """``port = await serve(handlers, ssl_options=None, **settings)`` starts an
    application on a free port of 127.0.0.1; it is stopped after the test."""
    servers: list[HTTPServer] = []

    async def factory(
        handlers: list[Any], ssl_options: ssl.SSLContext | None = None, **settings: Any
    ) -> int:
        server = HTTPServer(Application(handlers, **settings), ssl_options=ssl_options)
        server.listen(0, "127.0.0.1")
        servers.append(server)
        port: int = next(iter(server._sockets.values())).getsockname()[1]
        return port

    yield factory
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
