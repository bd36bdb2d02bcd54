"""Fixtures: our HTTP2Server on 127.0.0.1 (cleartext and TLS with
certificates made at test time), and real peers run as subprocesses.

Servers run inside the test's event loop; peers (curl, h2load) run as
asyncio subprocesses so the loop keeps serving while they talk to it.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import trustme

from tornado.http2 import HTTP2Server
from tornado.iostream import IOStream

#: Longest a peer subprocess may run before the test fails (a hang guard,
#: not a timing assertion).
PEER_DEADLINE = 60.0


def listening_socket() -> socket.socket:
    """A non-blocking TCP socket listening on a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class CountingServer(HTTP2Server):
    """An HTTP2Server that counts the TCP connections it accepted."""

    accepted = 0
    closed_h2: asyncio.Event | None = None

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        self.accepted += 1
        super().handle_stream(stream, address)

    def _h2_connection_closed(self, connection: Any) -> None:
        # Lets a test wait for the server to be done with a connection.
        super()._h2_connection_closed(connection)
        if self.closed_h2 is None:
            self.closed_h2 = asyncio.Event()
        self.closed_h2.set()


@dataclass
class Served:
    """A running server: its object and its URLs."""

    server: CountingServer
    port: int
    tls: bool
    #: The CA file clients must trust (TLS servers only).
    cafile: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.tls else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}"


Serve = Callable[..., Awaitable[Served]]


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A certificate authority made for this test run."""
    return trustme.CA()


@pytest.fixture(scope="session")
def cafile(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The CA certificate as a PEM file, for curl and h2load."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    """A server certificate for 127.0.0.1 and localhost."""
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture
def server_context(server_cert: trustme.LeafCert) -> ssl.SSLContext:
    """A fresh server-side TLS context (HTTP2Server sets ALPN on it)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    return context


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts the test CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest_asyncio.fixture
async def serve(server_cert: trustme.LeafCert, cafile: str, tmp_path: Path) -> AsyncIterator[Serve]:
    """``served = await serve(app, tls=False, **HTTP2Server options)``."""
    running: list[CountingServer] = []

    async def start(app: Any, tls: bool = False, **kwargs: Any) -> Served:
        if tls and "ssl_options" not in kwargs:
            # A dict of options: HTTP2Server builds the context (RFC 9113 rules).
            cert = tmp_path / "cert.pem"
            key = tmp_path / "key.pem"
            server_cert.cert_chain_pems[0].write_to_path(str(cert))
            server_cert.private_key_pem.write_to_path(str(key))
            kwargs["ssl_options"] = {"certfile": str(cert), "keyfile": str(key)}
        server = CountingServer(app, **kwargs)
        sock = listening_socket()
        server.add_sockets([sock])
        running.append(server)
        return Served(server, sock.getsockname()[1], tls, cafile if tls else None)

    yield start
    for server in running:
        server.stop()
        await server.close_all_connections()


async def run_peer(*argv: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run a peer program; returns (exit status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), PEER_DEADLINE)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out, err


async def curl(served: Served, path: str, *args: str) -> tuple[bytes, str]:
    """Fetch ``path`` with curl over HTTP/2 (prior knowledge in cleartext,
    ALPN over TLS); returns (body, the HTTP version curl used)."""
    argv = ["curl", "-sS", "--max-time", "30", "-w", "\n%{http_version}"]
    if served.tls:
        assert served.cafile is not None
        argv += ["--http2", "--cacert", served.cafile]
    else:
        argv += ["--http2-prior-knowledge"]
    code, out, err = await run_peer(*argv, *args, served.url + path)
    assert code == 0, err.decode()
    body, _, version = out.rpartition(b"\n")
    return body, version.decode()


async def curl_status(served: Served, path: str, *args: str) -> int:
    """The status code curl got for ``path`` over HTTP/2 (body discarded)."""
    argv = ["curl", "-sS", "--max-time", "30", "-o", "/dev/null", "-w", "%{http_code}"]
    if served.tls:
        assert served.cafile is not None
        argv += ["--http2", "--cacert", served.cafile]
    else:
        argv += ["--http2-prior-knowledge"]
    code, out, err = await run_peer(*argv, *args, served.url + path)
    assert code == 0, err.decode()
    return int(out)
