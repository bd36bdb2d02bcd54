"""Shared fixtures: event loops (asyncio and uvloop), TLS material, connected stream pairs."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path

import pytest
import pytest_asyncio
import trustme

from tornado.iostream import IOStream
from tornado.netutil import bind_sockets

try:
    import uvloop
except ImportError:  # uvloop is optional; the stock loop is always tested.
    uvloop = None

LOOP_FACTORIES: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop
}
if uvloop is not None:
    LOOP_FACTORIES["uvloop"] = uvloop.new_event_loop

_HERE = Path(__file__).parent


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]] | None:
    """Run this package's async tests on the stock asyncio loop and on uvloop."""
    if _HERE in Path(item.path).parents:
        return LOOP_FACTORIES
    return None


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
    """A server-side context presenting ``server_cert``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(context)
    return context


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client-side context that trusts ``ca`` and checks host names."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening TCP socket on 127.0.0.1 (an OS-chosen port)."""
    [sock] = bind_sockets(0, "127.0.0.1")
    yield sock
    sock.close()


@pytest_asyncio.fixture
async def pair(listener: socket.socket) -> AsyncIterator[tuple[IOStream, IOStream]]:
    """A connected (server, client) pair of IOStreams over TCP loopback."""
    client = IOStream(socket.socket())
    connecting = client.connect(listener.getsockname())
    conn, _ = await asyncio.get_running_loop().sock_accept(listener)
    server = IOStream(conn)
    await connecting
    yield server, client
    server.close()
    client.close()
