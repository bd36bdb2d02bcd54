"""tornado.netutil: listening sockets, accept handlers, resolvers, TLS contexts."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import ssl
import stat
import sys
import uuid
from pathlib import Path

import pytest
import trustme

from tornado.iostream import IOStream
from tornado.netutil import (
    BlockingResolver,
    DefaultExecutorResolver,
    DefaultLoopResolver,
    ExecutorResolver,
    OverrideResolver,
    Resolver,
    ThreadedResolver,
    add_accept_handler,
    bind_sockets,
    bind_unix_socket,
    is_valid_ip,
    ssl_options_to_context,
    ssl_wrap_socket,
)


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_bind_sockets_port_zero_on_loopback() -> None:
    sockets = bind_sockets(0, "127.0.0.1")
    try:
        assert len(sockets) == 1
        sock = sockets[0]
        assert sock.getsockname()[0] == "127.0.0.1" and sock.getsockname()[1] > 0
        assert sock.getblocking() is False
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
    finally:
        for s in sockets:
            s.close()


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback on this host")
def test_bind_sockets_localhost_shares_one_port_across_families() -> None:
    sockets = bind_sockets(0, "localhost")
    try:
        families = {s.family for s in sockets}
        ports = {s.getsockname()[1] for s in sockets}
        assert socket.AF_INET in families
        assert len(ports) == 1
        for s in sockets:
            if s.family == socket.AF_INET6:
                assert s.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY) == 1
    finally:
        for s in sockets:
            s.close()


def test_bind_sockets_family_filter_and_reuse_port() -> None:
    first = bind_sockets(0, "127.0.0.1", family=socket.AF_INET, reuse_port=True)
    port = first[0].getsockname()[1]
    try:
        assert first[0].getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)
        second = bind_sockets(port, "127.0.0.1", reuse_port=True)
        for s in second:
            s.close()
        # Without SO_REUSEPORT on both, the port is taken.
        with pytest.raises(OSError):
            bind_sockets(port, "127.0.0.1")
    finally:
        for s in first:
            s.close()


def test_bind_sockets_backlog_is_applied() -> None:
    [sock] = bind_sockets(0, "127.0.0.1", backlog=3)
    sock.close()  # listen(3) succeeded; the kernel exposes no getter to compare


def test_bind_unix_socket_replaces_stale_socket_and_sets_mode(tmp_path: Path) -> None:
    path = str(tmp_path / "srv.sock")
    first = bind_unix_socket(path)
    first.close()  # leaves a stale socket file behind
    sock = bind_unix_socket(path, mode=0o660)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
        client = socket.socket(socket.AF_UNIX)
        client.connect(path)
        client.close()
    finally:
        sock.close()


def test_bind_unix_socket_refuses_to_replace_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("precious")
    with pytest.raises(ValueError, match="not a socket"):
        bind_unix_socket(str(path))
    assert path.read_text() == "precious"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract sockets are Linux-only")
@pytest.mark.asyncio
async def test_bind_unix_socket_in_the_abstract_namespace() -> None:
    name = "\0tornado-test-" + uuid.uuid4().hex
    sock = bind_unix_socket(name, mode=0o600)
    try:
        assert sock.getsockname() == name.encode()
        # No file appears (not even one named after the rest of the name).
        assert not os.path.exists(name[1:])
        # A second server on the same name is refused, not silently replaced.
        with pytest.raises(OSError):
            bind_unix_socket(name)
        client = IOStream(socket.socket(socket.AF_UNIX))
        await client.connect(name)
        conn, _ = await asyncio.get_running_loop().sock_accept(sock)
        server = IOStream(conn)
        await client.write(b"ping\n")
        assert await server.read_until(b"\n") == b"ping\n"
        client.close()
        server.close()
    finally:
        sock.close()


@pytest.mark.asyncio
async def test_add_accept_handler_accepts_and_can_be_removed() -> None:
    [listener] = bind_sockets(0, "127.0.0.1")
    address = listener.getsockname()
    accepted: asyncio.Queue[socket.socket] = asyncio.Queue()
    remove = add_accept_handler(listener, lambda conn, addr: accepted.put_nowait(conn))
    loop = asyncio.get_running_loop()
    try:
        clients = []
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            await loop.sock_connect(c, address)
            clients.append(c)
        conns = [await accepted.get() for _ in range(3)]
        for conn in conns:
            conn.close()
        remove()
        late = socket.socket()
        late.setblocking(False)
        await loop.sock_connect(late, address)  # completes in the kernel backlog
        clients.append(late)
        # Nothing accepts it any more: the connection stays in the backlog.
        conn, _ = listener.accept()
        conn.close()
        assert accepted.empty()
        for c in clients:
            c.close()
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("127.0.0.1", True),
        ("4.4.4.4", True),
        ("::1", True),
        ("2620:0:1cfe:face:b00c::3", True),
        ("www.google.com", False),
        ("localhost", False),
        ("4.4.4.4<", False),
        (" 127.0.0.1", False),
        ("", False),
        ("\x00", False),
        ("a" * 100 + ".example", False),
    ],
)
def test_is_valid_ip(text: str, valid: bool) -> None:
    assert is_valid_ip(text) is valid


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "make",
    [
        DefaultLoopResolver,
        DefaultExecutorResolver,
        BlockingResolver,
        ThreadedResolver,
        lambda: ExecutorResolver(executor=concurrent.futures.ThreadPoolExecutor(1)),
    ],
)
async def test_resolvers_resolve_localhost(make: object) -> None:
    resolver = make()  # type: ignore[operator]
    try:
        result = await resolver.resolve("localhost", 80, socket.AF_INET)
        assert (socket.AF_INET, ("127.0.0.1", 80)) in result
        with pytest.raises(OSError):
            await resolver.resolve("name.invalid", 80)
    finally:
        resolver.close()


def test_resolver_default_is_loop_resolver_and_configurable() -> None:
    assert type(Resolver()) is DefaultLoopResolver
    Resolver.configure(DefaultExecutorResolver)
    try:
        assert type(Resolver()) is DefaultExecutorResolver
    finally:
        Resolver.configure(None)
    assert type(Resolver()) is DefaultLoopResolver


@pytest.mark.asyncio
async def test_override_resolver_specific_keys_win() -> None:
    resolver = OverrideResolver(
        DefaultLoopResolver(),
        {
            "google.com": "127.0.0.1",
            ("google.com", 443): ("localhost", 1443),
            ("google.com", 443, socket.AF_INET6): ("::1", 2443),
        },
    )
    assert await resolver.resolve("google.com", 80, socket.AF_INET) == [
        (socket.AF_INET, ("127.0.0.1", 80))
    ]
    assert (socket.AF_INET, ("127.0.0.1", 1443)) in await resolver.resolve(
        "google.com", 443, socket.AF_INET
    )
    if _has_ipv6_loopback():
        v6 = await resolver.resolve("google.com", 443, socket.AF_INET6)
        assert v6[0][0] == socket.AF_INET6 and v6[0][1][:2] == ("::1", 2443)
    resolver.close()


def test_ssl_options_to_context_from_dict(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    certfile, keyfile, cafile = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(cafile))
    server = ssl_options_to_context(
        {"certfile": str(certfile), "keyfile": str(keyfile)}, server_side=True
    )
    assert server.protocol == ssl.PROTOCOL_TLS_SERVER
    client = ssl_options_to_context({"ca_certs": str(cafile)}, server_side=False)
    assert client.verify_mode == ssl.CERT_REQUIRED and client.check_hostname
    lax = ssl_options_to_context({"cert_reqs": ssl.CERT_NONE}, server_side=False)
    assert lax.verify_mode == ssl.CERT_NONE and not lax.check_hostname
    assert ssl_options_to_context(server) is server
    with pytest.raises(ValueError, match="unknown"):
        ssl_options_to_context({"bogus": 1})


def test_ssl_wrap_socket_client_handshake_in_blocking_mode(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    a, b = socket.socketpair()
    server = ssl_wrap_socket(a, server_ctx, do_handshake_on_connect=False)
    client = ssl_wrap_socket(
        b, client_ctx, server_hostname="localhost", do_handshake_on_connect=False
    )
    try:
        assert server.server_side and not client.server_side
        import threading

        t = threading.Thread(target=server.do_handshake)
        t.start()
        client.do_handshake()
        t.join()
        client.sendall(b"hi")
        assert server.recv(2) == b"hi"
    finally:
        server.close()
        client.close()
