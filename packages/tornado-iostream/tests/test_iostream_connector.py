"""TCPClient's connector (happy eyeballs) step by step, and the errors TCPClient.connect reports."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import pytest

from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.netutil import Resolver, bind_sockets
from tornado.tcpclient import TCPClient, _Connector, _format_addr
from tornado.tcpserver import TCPServer

V4, V6 = socket.AF_INET, socket.AF_INET6


def test_format_addr() -> None:
    assert _format_addr(("10.0.0.1", 80)) == "10.0.0.1:80"
    assert _format_addr(("fe80::1", 443, 0, 3)) == "[fe80::1]:443"
    assert _format_addr("/run/app.sock") == "/run/app.sock"


class Attempt:
    """A stand-in stream whose connection the test completes by hand."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Attempts:
    """The ``connect`` callable for `_Connector`: records attempts, fails some at once."""

    def __init__(self, refuse_at_once: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.refuse_at_once = refuse_at_once
        self.pending: dict[str, Future[Attempt]] = {}
        self.streams: dict[str, Attempt] = {}

    def __call__(self, af: int, addr: str) -> tuple[Attempt, Future[Attempt]]:
        if addr in self.refuse_at_once:
            raise OSError(f"cannot even start {addr}")
        stream = Attempt()
        future: Future[Attempt] = Future()
        self.streams[addr] = stream
        self.pending[addr] = future
        return stream, future

    async def succeed(self, addr: str) -> None:
        self.pending.pop(addr).set_result(self.streams[addr])
        await settle()

    async def fail(self, addr: str) -> None:
        self.pending.pop(addr).set_exception(ConnectionRefusedError(f"refused {addr}"))
        await settle()

    async def cancel(self, addr: str) -> None:
        self.pending.pop(addr).cancel()
        await settle()


async def settle() -> None:
    # Done-callbacks of futures run on the next loop iterations.
    for _ in range(3):
        await asyncio.sleep(0)


ADDRS = [(V6, "a6"), (V6, "b6"), (V4, "c4"), (V4, "d4")]


def start(attempts: Attempts, addrinfo: list[tuple[int, Any]] = ADDRS) -> tuple[_Connector, Any]:
    connector = _Connector(addrinfo, attempts)
    # Timers far away: the tests fire them by hand.
    # connect_timeout is an absolute IOLoop.time() deadline (the wall clock).
    now = IOLoop.current().time()
    return connector, connector.start(3600, connect_timeout=now + 3600)


@pytest.mark.asyncio
async def test_primary_family_is_tried_one_address_at_a_time() -> None:
    attempts = Attempts()
    _connector, result = start(attempts, [(V6, "a6"), (V6, "b6")])
    assert set(attempts.pending) == {"a6"}
    await attempts.fail("a6")
    assert set(attempts.pending) == {"b6"}
    await attempts.succeed("b6")
    assert result.result() == (V6, "b6", attempts.streams["b6"])
    assert attempts.streams["a6"].closed and not attempts.streams["b6"].closed


@pytest.mark.asyncio
async def test_head_start_timeout_brings_in_the_other_family_and_the_winner_closes_the_rest() -> (
    None
):
    attempts = Attempts()
    connector, result = start(attempts)
    assert set(attempts.pending) == {"a6"}
    connector.on_timeout()
    assert set(attempts.pending) == {"a6", "c4"}
    await attempts.succeed("c4")
    assert result.result() == (V4, "c4", attempts.streams["c4"])
    assert attempts.streams["a6"].closed
    # The loser finishing later starts nothing new and is closed again.
    await attempts.succeed("a6")
    assert not attempts.pending
    assert not attempts.streams["c4"].closed


@pytest.mark.asyncio
async def test_a_fast_failure_starts_the_other_family_at_once() -> None:
    attempts = Attempts()
    _connector, result = start(attempts)
    await attempts.fail("a6")
    assert set(attempts.pending) == {"b6", "c4"}
    await attempts.succeed("b6")
    assert result.result()[1] == "b6"
    assert attempts.streams["c4"].closed


@pytest.mark.asyncio
async def test_attempts_that_fail_to_start_count_as_failures() -> None:
    attempts = Attempts(refuse_at_once={"a6", "b6", "c4"})
    _connector, result = start(attempts)
    assert set(attempts.pending) == {"d4"}
    await attempts.succeed("d4")
    assert result.result()[1] == "d4"


@pytest.mark.asyncio
async def test_everything_failing_at_once_fails_with_the_last_error_right_away() -> None:
    attempts = Attempts(refuse_at_once={"a6", "b6", "c4", "d4"})
    connector, result = start(attempts)
    assert result.done()
    with pytest.raises(OSError, match="cannot even start d4"):
        result.result()
    # No timer is left behind.
    assert connector.timeout is None and connector.connect_timeout is None


@pytest.mark.asyncio
async def test_all_attempts_failing_fails_only_after_the_last_one() -> None:
    attempts = Attempts()
    connector, result = start(attempts)
    connector.on_timeout()
    await attempts.fail("c4")
    await attempts.fail("d4")
    await attempts.fail("a6")
    assert not result.done()
    await attempts.fail("b6")
    with pytest.raises(ConnectionRefusedError, match="refused b6"):
        result.result()


@pytest.mark.asyncio
async def test_cancelled_attempts_are_failures_and_never_a_cancelled_result() -> None:
    attempts = Attempts()
    connector, result = start(attempts, [(V6, "a6"), (V4, "c4")])
    connector.on_timeout()
    await attempts.cancel("a6")
    await attempts.cancel("c4")
    assert isinstance(result.exception(), OSError)
    assert attempts.streams["a6"].closed and attempts.streams["c4"].closed


@pytest.mark.asyncio
async def test_cancelling_the_connector_closes_every_attempt() -> None:
    attempts = Attempts()
    connector, result = start(attempts)
    connector.on_timeout()
    result.cancel()
    await settle()
    assert attempts.streams["a6"].closed and attempts.streams["c4"].closed
    assert connector.timeout is None and connector.connect_timeout is None


@pytest.mark.asyncio
async def test_connect_timeout_names_the_attempts_in_flight_and_closes_them() -> None:
    attempts = Attempts()
    connector, result = start(attempts)
    await attempts.fail("a6")  # not named: it is over
    connector.on_connect_timeout()
    with pytest.raises(TimeoutError, match=r"^Timeout while connecting to b6, c4$"):
        result.result()
    assert all(stream.closed for stream in attempts.streams.values())
    # Later events change nothing.
    connector.on_timeout()
    assert set(attempts.pending) == {"b6", "c4"}


@pytest.mark.asyncio
async def test_connect_timeout_after_success_keeps_the_winner() -> None:
    attempts = Attempts()
    connector, result = start(attempts, [(V6, "a6")])
    await attempts.succeed("a6")
    connector.on_connect_timeout()
    assert result.result()[2] is attempts.streams["a6"]
    assert not attempts.streams["a6"].closed


# -- TCPClient.connect over real sockets ----------------------------------------


class NeverResolves(Resolver):
    def __init__(self) -> None:
        self.waiting: list[Future[Any]] = []

    def resolve(self, host: str, port: int, family: int = socket.AF_UNSPEC) -> Future[Any]:  # type: ignore[override]
        future: Future[Any] = Future()
        self.waiting.append(future)
        return future


@pytest.mark.asyncio
async def test_timeout_while_resolving_names_the_host() -> None:
    resolver = NeverResolves()
    with pytest.raises(TimeoutError, match=r"^Timeout while resolving db\.internal$"):
        await TCPClient(resolver=resolver).connect("db.internal", 5432, timeout=0.05)


class FixedResolver(Resolver):
    def initialize(self, addrinfo: list[tuple[int, Any]]) -> None:  # type: ignore[override]
        self.addrinfo = addrinfo

    async def resolve(  # type: ignore[override]
        self, host: str, port: int, family: int = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        return self.addrinfo


@pytest.mark.asyncio
async def test_timeout_while_connecting_names_every_address_still_tried() -> None:
    class Hanging(TCPClient):
        """Connection attempts that never complete (a real but unconnected socket)."""

        made: list[IOStream] = []

        def _create_stream(
            self,
            max_buffer_size: int | None,
            af: socket.AddressFamily,
            addr: Any,
            source_ip: str | None = None,
            source_port: int | None = None,
        ) -> tuple[IOStream, Future[IOStream]]:
            stream = IOStream(socket.socket(socket.AF_INET))
            self.made.append(stream)
            return stream, Future()

    resolver = FixedResolver([(V6, ("2001:db8::7", 443, 0, 0)), (V4, ("192.0.2.7", 443))])
    # Longer than the head start, so both families are in flight.
    with pytest.raises(TimeoutError) as info:
        await Hanging(resolver=resolver).connect("example.test", 443, timeout=0.6)
    assert str(info.value) == "Timeout while connecting to 192.0.2.7:443, [2001:db8::7]:443"
    assert len(Hanging.made) == 2 and all(s.closed() for s in Hanging.made)


class SilentServer(TCPServer):
    """Accepts connections and never says a word (a TLS handshake never completes)."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: asyncio.Queue[IOStream] = asyncio.Queue()

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        self.accepted.put_nowait(stream)


def unverified_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@pytest.mark.asyncio
async def test_tls_handshake_timeout_names_the_peer_and_closes_the_socket() -> None:
    [sock] = bind_sockets(0, "127.0.0.1")
    port = sock.getsockname()[1]
    server = SilentServer()
    server.add_sockets([sock])
    try:
        with pytest.raises(TimeoutError) as info:
            await TCPClient().connect("127.0.0.1", port, ssl_options=unverified_tls(), timeout=0.5)
        assert str(info.value) == f"Timeout during TLS handshake with 127.0.0.1:{port}"
        accepted = await server.accepted.get()
        # Completes only once the client has closed its socket.
        await accepted.read_until_close()
        accepted.close()
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_cancelling_connect_during_the_tls_handshake_closes_the_socket() -> None:
    [sock] = bind_sockets(0, "127.0.0.1")
    port = sock.getsockname()[1]
    server = SilentServer()
    server.add_sockets([sock])
    try:
        connecting = asyncio.ensure_future(
            TCPClient().connect("127.0.0.1", port, ssl_options=unverified_tls())
        )
        accepted = await server.accepted.get()
        await accepted.read_bytes(1, partial=True)  # the ClientHello began
        connecting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await connecting
        await accepted.read_until_close()
        accepted.close()
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_source_ip_must_be_an_ip_address() -> None:
    with pytest.raises(ValueError, match="not-an-address"):
        await TCPClient().connect("127.0.0.1", 9, source_ip="not-an-address")


@pytest.mark.asyncio
async def test_source_ip_of_the_other_family_skips_to_a_matching_address() -> None:
    server = SilentServer()
    [sock] = bind_sockets(0, "127.0.0.1")
    port = sock.getsockname()[1]
    server.add_sockets([sock])
    resolver = FixedResolver([(V6, ("::1", port, 0, 0)), (V4, ("127.0.0.1", port))])
    try:
        stream = await TCPClient(resolver=resolver).connect(
            "localhost", port, source_ip="127.0.0.1"
        )
        assert stream.socket.family == socket.AF_INET
        stream.close()
        (await server.accepted.get()).close()
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_refused_connection_reports_the_os_error() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(StreamClosedError) as info:
        await TCPClient().connect("127.0.0.1", port)
    assert isinstance(info.value.real_error, ConnectionRefusedError)


class _RecordingResolver(Resolver):
    """Answers at once: with ``socket.gaierror``, or with a future left pending."""

    def initialize(self, fail: bool) -> None:  # type: ignore[override]
        self.fail = fail
        self.calls: list[tuple[str, int, int]] = []
        self.pending: Future[list[tuple[int, Any]]] | None = None

    def resolve(self, host: str, port: int, family: int = 0) -> Future[list[tuple[int, Any]]]:
        self.calls.append((host, port, family))
        if self.fail:
            raise socket.gaierror(socket.EAI_FAMILY, "Address family for hostname not supported")
        self.pending = Future()
        return self.pending


@pytest.mark.asyncio
@pytest.mark.parametrize("timeout", [None, 5.0])
async def test_connect_calls_the_resolver_before_it_first_suspends(timeout: float | None) -> None:
    failing = _RecordingResolver(fail=True)
    coro = TCPClient(resolver=failing).connect("127.0.0.1", 80, socket.AF_INET6, timeout=timeout)
    # The resolver's synchronous error comes out of the very first step.
    with pytest.raises(socket.gaierror):
        coro.send(None)
    assert failing.calls == [("127.0.0.1", 80, socket.AF_INET6)]

    waiting = _RecordingResolver(fail=False)
    coro = TCPClient(resolver=waiting).connect("localhost", 81, timeout=timeout)
    coro.send(None)  # suspends: the lookup is pending
    assert waiting.calls == [("localhost", 81, socket.AF_UNSPEC)]
    coro.close()
    assert waiting.pending is not None
    waiting.pending.cancel()
