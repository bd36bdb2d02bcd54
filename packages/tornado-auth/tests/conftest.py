"""Fixtures for tornado-auth's tests.

Applications (the one under test and the fake providers) run on real
`HTTPServer`s on 127.0.0.1; the "browser" is httpx, an independent HTTP
client that follows redirects and keeps cookies, as a user's browser does.
tornado.testing is not available here (it depends on this package's
dependencies, not the other way round), hence these small fixtures.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tornado.auth import AuthError
from tornado.httpclient import AsyncHTTPClient
from tornado.httpserver import HTTPServer
from tornado.web import Application

ServeFactory = Callable[[Application], Awaitable[str]]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[ServeFactory]:
    """``base_url = await serve(app)`` serves ``app`` on a free port of
    127.0.0.1 until the end of the test."""
    servers: list[HTTPServer] = []

    async def factory(app: Application) -> str:
        server = HTTPServer(app)
        server.listen(0, "127.0.0.1")
        servers.append(server)
        port = next(iter(server._sockets.values())).getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield factory
    for server in servers:
        server.stop()
        await server.close_all_connections()
    # The mixins' shared client belongs to this test's loop.
    AsyncHTTPClient().close()


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """A browser stand-in: follows redirects, carries cookies."""
    async with httpx.AsyncClient(follow_redirects=True, timeout=30) as client:
        yield client


def quiet_provider(handler: Any) -> None:
    """``log_function`` for the fake providers: what a provider logs is the
    provider's business (it sees the credentials it issued); the tests
    check what *our* side logs."""


def provider_app(handlers: list[Any], **settings: Any) -> Application:
    """An `Application` for a fake provider, with its access log off."""
    return Application(handlers, log_function=quiet_provider, **settings)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record of the test, at every level (tracebacks included in
    ``caplog.text``)."""
    caplog.set_level(logging.DEBUG)
    yield caplog


def auth_errors(caplog: pytest.LogCaptureFixture) -> list[AuthError]:
    """The `AuthError`s that reached the application's exception log."""
    return [
        record.exc_info[1]
        for record in caplog.records
        if record.exc_info and isinstance(record.exc_info[1], AuthError)
    ]


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """All log output of the test: messages, arguments and tracebacks."""
    return caplog.text + "\n".join(record.getMessage() for record in caplog.records)


@pytest.fixture
def find_auth_errors() -> Callable[[pytest.LogCaptureFixture], list[AuthError]]:
    """`auth_errors` as a fixture (test modules cannot import conftest)."""
    return auth_errors


@pytest.fixture
def all_logs() -> Callable[[pytest.LogCaptureFixture], str]:
    """`everything_logged` as a fixture."""
    return everything_logged


@pytest.fixture
def make_provider_app() -> Callable[..., Application]:
    """`provider_app` as a fixture."""
    return provider_app
