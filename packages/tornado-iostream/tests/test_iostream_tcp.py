"""TCPServer and TCPClient over loopback: echo, lifecycle, happy eyeballs, load."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from tornado.iostream import IOStream, StreamClosedError
from tornado.netutil import OverrideResolver, Resolver, bind_sockets
from tornado.tcpclient import TCPClient, _Connector
from tornado.tcpserver import TCPServer


class EchoServer(TCPServer):
    async def handle_stream(self, stream: IOStream, address: object) -> None:
        try:
            while True:
                await stream.write(await stream.read_until(b"\n"))
        except StreamClosedError:
            pass


def port_of(server: TCPServer) -> int:
    return next(iter(server._sockets.values())).getsockname()[1]


def free_port() -> int:
    """A port nothing listens on (bound and released)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.mark.asyncio
async def test_listen_and_echo() -> None:
    server = EchoServer()
    server.listen(0, "127.0.0.1")
    try:
        stream = await TCPClient().connect("127.0.0.1", port_of(server))
        await stream.write(b"ping\n")
        assert await stream.read_until(b"\n") == b"ping\n"
        stream.close()
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_add_sockets_and_stop_closes_listeners() -> None:
    sockets = bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    server = EchoServer()
    server.add_sockets(sockets)
    stream = await TCPClient().connect("127.0.0.1", port)
    server.stop()
    server.stop()  # twice is harmless
    assert all(s.fileno() == -1 for s in sockets)
    # The accepted connection outlives stop().
    await stream.write(b"after stop\n")
    assert await stream.read_until(b"\n") == b"after stop\n"
    stream.close()
    with pytest.raises(StreamClosedError) as info:
        await TCPClient().connect("127.0.0.1", port)
    assert isinstance(info.value.real_error, ConnectionRefusedError)


@pytest.mark.asyncio
async def test_bind_and_start_in_one_process() -> None:
    server = EchoServer()
    server.bind(0, "127.0.0.1")
    server.start(1)
    try:
        stream = await TCPClient().connect("127.0.0.1", port_of(server))
        await stream.write(b"started\n")
        assert await stream.read_until(b"\n") == b"started\n"
        stream.close()
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_handle_stream_exception_is_logged_and_server_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    done = asyncio.Event()

    class Failing(TCPServer):
        async def handle_stream(self, stream: IOStream, address: object) -> None:
            line = await stream.read_until(b"\n")
            if line == b"fail\n":
                stream.close()
                done.set()
                raise RuntimeError("handler failed")
            await stream.write(line)

    server = Failing()
    server.listen(0, "127.0.0.1")
    try:
        with caplog.at_level(logging.ERROR):
            bad = await TCPClient().connect("127.0.0.1", port_of(server))
            await bad.write(b"fail\n")
            assert await bad.read_until_close() == b""
            bad.close()
            await done.wait()
            good = await TCPClient().connect("127.0.0.1", port_of(server))
            await good.write(b"ok\n")
            assert await good.read_until(b"\n") == b"ok\n"
            good.close()
        assert "handler failed" in caplog.text
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_listen_with_reuse_port_backlog_and_family() -> None:
    a, b = EchoServer(), EchoServer()
    a.listen(0, "127.0.0.1", family=socket.AF_INET, backlog=16, reuse_port=True)
    try:
        b.listen(port_of(a), "127.0.0.1", reuse_port=True)
        b.stop()
    finally:
        a.stop()


@pytest.mark.asyncio
async def test_client_source_ip_and_port() -> None:
    accepted: asyncio.Future[object] = asyncio.get_running_loop().create_future()

    class Recorder(TCPServer):
        def handle_stream(self, stream: IOStream, address: object) -> None:
            accepted.set_result(address)
            stream.close()

    server = Recorder()
    server.listen(0, "127.0.0.1")
    source_port = free_port()
    try:
        stream = await TCPClient().connect(
            "127.0.0.1", port_of(server), source_ip="127.0.0.1", source_port=source_port
        )
        assert stream.socket.getsockname() == ("127.0.0.1", source_port)
        assert await accepted == ("127.0.0.1", source_port)
        stream.close()
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_client_unresolvable_host_raises() -> None:
    resolver = OverrideResolver(Resolver(), {})
    with pytest.raises(OSError):
        await TCPClient(resolver=resolver).connect("name.invalid", 80)


@pytest.mark.asyncio
async def test_client_timeout_when_connect_never_completes() -> None:
    # A listener whose backlog is full does not complete new handshakes
    # (SYNs are dropped), so the connect hangs until our timeout.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(s)
        with pytest.raises(TimeoutError):
            await TCPClient().connect("127.0.0.1", port, timeout=0.5)
    finally:
        for s in fillers:
            s.close()
        listener.close()


@pytest.mark.asyncio
async def test_happy_eyeballs_falls_back_to_second_family() -> None:
    server = EchoServer()
    server.listen(0, "127.0.0.1")
    port = port_of(server)
    try:
        # IPv6 first but refused (nothing on ::1 at that port), then IPv4.
        addrinfo = [
            (socket.AF_INET6, ("::1", free_port(), 0, 0)),
            (socket.AF_INET, ("127.0.0.1", port)),
        ]
        client = TCPClient()
        connector = _Connector(addrinfo, lambda af, addr: client._create_stream(None, af, addr))
        af, addr, stream = await connector.start()
        assert af == socket.AF_INET and addr == ("127.0.0.1", port)
        await stream.write(b"v4\n")
        assert await stream.read_until(b"\n") == b"v4\n"
        stream.close()
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_happy_eyeballs_all_refused_raises_last_error() -> None:
    addrinfo = [
        (socket.AF_INET, ("127.0.0.1", free_port())),
        (socket.AF_INET, ("127.0.0.1", free_port())),
    ]
    client = TCPClient()
    connector = _Connector(addrinfo, lambda af, addr: client._create_stream(None, af, addr))
    with pytest.raises(StreamClosedError) as info:
        await connector.start()
    assert isinstance(info.value.real_error, ConnectionRefusedError)


def test_connector_split_keeps_order_per_family() -> None:
    v4a, v4b = (socket.AF_INET, ("1.1.1.1", 1)), (socket.AF_INET, ("2.2.2.2", 1))
    v6 = (socket.AF_INET6, ("::1", 1, 0, 0))
    assert _Connector.split([v6, v4a, v4b]) == ([v6], [v4a, v4b])
    assert _Connector.split([v4a, v6, v4b]) == ([v4a, v4b], [v6])


@pytest.mark.asyncio
async def test_one_thousand_concurrent_connections() -> None:
    import resource

    # Both ends live in this process: about 2,000 descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 and (hard == resource.RLIM_INFINITY or hard >= 4096):
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    server = EchoServer()
    server.listen(0, "127.0.0.1", backlog=1024)
    port = port_of(server)
    client = TCPClient()

    async def one(i: int) -> bytes:
        stream = await client.connect("127.0.0.1", port)
        try:
            await stream.write(b"client %d\n" % i)
            return await stream.read_until(b"\n")
        finally:
            stream.close()

    try:
        # Bounded in count (1,000) and in time (a generous guard, not a measure).
        replies = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(1000))), 60)
        assert replies == [b"client %d\n" % i for i in range(1000)]
    finally:
        server.stop()
