"""tornado.platform.twisted (optional extra ``[twisted]``) with real Twisted.

Twisted's asyncio reactor can be installed once per process, so this module
installs it once, through our ``install()``, on an event loop of its own
that every test runs on (``run`` below), Twisted and Tornado side by side.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import traceback
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

pytest.importorskip("twisted")

from twisted.internet import defer, protocol
from twisted.internet.asyncioreactor import AsyncioSelectorReactor
from twisted.internet.error import ReactorAlreadyInstalledError
from twisted.internet.interfaces import IReactorTime
from twisted.names import dns, server
from twisted.names import hosts as twisted_hosts

import tornado.platform.twisted
from tornado import gen
from tornado.ioloop import IOLoop
from tornado.tcpclient import TCPClient

T = TypeVar("T")


class Reactor:
    """The process's Twisted reactor and the loop it was installed on."""

    def __init__(self, loop: asyncio.AbstractEventLoop, reactor: Any, warned: list[str]) -> None:
        self.loop = loop
        self.reactor = reactor
        self.warned = warned

    def run(self, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
        return self.loop.run_until_complete(main())

    def later(self, action: Callable[..., object], *args: object) -> None:
        """Run ``action(*args)`` on a later loop iteration, through Twisted's scheduler."""
        time: IReactorTime = self.reactor
        time.callLater(0, action, *args)


@pytest.fixture(scope="module")
def twisted_reactor() -> Iterator[Reactor]:
    if "twisted.internet.reactor" in sys.modules:
        pytest.skip("another Twisted reactor is already installed in this process")
    loop = asyncio.new_event_loop()

    async def install() -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert tornado.platform.twisted.install() is None  # type: ignore[func-returns-value]
        return [str(w.message) for w in caught]

    try:
        warned = loop.run_until_complete(install())
        from twisted.internet import reactor

        yield Reactor(loop, reactor, warned)
    finally:
        loop.close()


def test_install_puts_the_asyncio_reactor_on_the_running_loop(twisted_reactor: Reactor) -> None:
    assert isinstance(twisted_reactor.reactor, AsyncioSelectorReactor)
    # Upstream's install() is deprecated in its docs only: it warns about nothing.
    assert twisted_reactor.warned == []

    async def main() -> str:
        # Twisted's timers fire on the loop that Tornado's IOLoop wraps.
        assert IOLoop.current().asyncio_loop is twisted_reactor.loop
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        twisted_reactor.later(done.set_result, "fired")
        return await done

    assert twisted_reactor.run(main) == "fired"


def test_a_second_install_is_refused_by_twisted(twisted_reactor: Reactor) -> None:
    async def main() -> None:
        with pytest.raises(ReactorAlreadyInstalledError):
            tornado.platform.twisted.install()

    twisted_reactor.run(main)


def test_deferred_fired_later_is_awaited_through_convert_yielded(
    twisted_reactor: Reactor,
) -> None:
    async def main() -> int:
        deferred: defer.Deferred[int] = defer.Deferred()
        twisted_reactor.later(deferred.callback, 42)
        result: int = await gen.convert_yielded(deferred)
        return result

    assert twisted_reactor.run(main) == 42


def test_deferred_fired_later_is_yielded_in_a_gen_coroutine(twisted_reactor: Reactor) -> None:
    @gen.coroutine
    def double_later() -> Generator[Any, Any, int]:
        deferred: defer.Deferred[int] = defer.Deferred()
        twisted_reactor.later(deferred.callback, 21)
        value = yield deferred
        return value * 2

    async def main() -> int:
        result: int = await double_later()
        return result

    assert twisted_reactor.run(main) == 42


def test_deferreds_in_a_list_are_waited_for_together(twisted_reactor: Reactor) -> None:
    @gen.coroutine
    def both() -> Generator[Any, Any, list[str]]:
        first: defer.Deferred[str] = defer.Deferred()
        second: defer.Deferred[str] = defer.Deferred()
        twisted_reactor.later(second.callback, "b")
        twisted_reactor.later(first.callback, "a")
        values = yield [first, second]
        return values

    async def main() -> list[str]:
        result: list[str] = await both()
        return result

    assert twisted_reactor.run(main) == ["a", "b"]


class Boom(Exception):
    pass


def _fail_deeply(_: object) -> None:
    raise Boom("from a Twisted callback")


def test_failing_deferred_raises_the_original_exception_with_its_traceback(
    twisted_reactor: Reactor,
) -> None:
    @gen.coroutine
    def wait_for(deferred: defer.Deferred[None]) -> Generator[Any, Any, None]:
        yield deferred

    async def main() -> BaseException:
        deferred: defer.Deferred[None] = defer.Deferred()
        deferred.addCallback(_fail_deeply)
        twisted_reactor.later(deferred.callback, None)
        with pytest.raises(Boom, match="from a Twisted callback") as caught:
            await wait_for(deferred)
        return caught.value

    error = twisted_reactor.run(main)
    frames = [frame.name for frame in traceback.extract_tb(error.__traceback__)]
    assert "_fail_deeply" in frames  # where Twisted caught it, not only where we re-raised


def test_deferred_that_failed_before_it_was_yielded_raises_the_same_exception(
    twisted_reactor: Reactor,
) -> None:
    async def main() -> None:
        original = KeyError("missing")
        deferred: defer.Deferred[None] = defer.fail(original)
        with pytest.raises(KeyError) as caught:
            await gen.convert_yielded(deferred)
        assert caught.value is original

    twisted_reactor.run(main)


def test_cancelling_the_future_cancels_the_deferred(twisted_reactor: Reactor) -> None:
    async def main() -> None:
        cancelled: list[defer.Deferred[None]] = []
        deferred: defer.Deferred[None] = defer.Deferred(canceller=cancelled.append)
        future = gen.convert_yielded(deferred)
        future.cancel()
        await asyncio.sleep(0)  # let the future's done callbacks run
        assert cancelled == [deferred]

    twisted_reactor.run(main)


class Upcase(protocol.Protocol):
    """A Twisted line server: answers every line in capitals, closes on ``bye``."""

    def dataReceived(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data.upper())
        if data.endswith(b"bye\n"):
            self.transport.loseConnection()


def test_twisted_tcp_server_talks_to_our_tcp_client(twisted_reactor: Reactor) -> None:
    async def main() -> list[bytes]:
        factory = protocol.Factory.forProtocol(Upcase)
        port = twisted_reactor.reactor.listenTCP(0, factory, interface="127.0.0.1")
        try:
            stream = await TCPClient().connect("127.0.0.1", port.getHost().port)
            try:
                answers = []
                for line in (b"hello\n", b"bye\n"):
                    await stream.write(line)
                    answers.append(await stream.read_until(b"\n"))
                answers.append(await stream.read_until_close())  # Twisted hung up
            finally:
                stream.close()
        finally:
            await _settle(port.stopListening())
        return answers

    assert twisted_reactor.run(main) == [b"HELLO\n", b"BYE\n", b""]


def _twisted_resolver_class() -> type[Any]:
    with pytest.warns(DeprecationWarning, match="TwistedResolver is deprecated"):
        from tornado.platform.twisted import TwistedResolver
    return TwistedResolver  # type: ignore[no-any-return]


def test_twisted_resolver_is_a_deprecated_name_outside_the_public_api() -> None:
    from tornado.netutil import Resolver

    assert issubclass(_twisted_resolver_class(), Resolver)
    assert "TwistedResolver" not in vars(tornado.platform.twisted)
    with pytest.raises(AttributeError):
        tornado.platform.twisted.NoSuchThing  # noqa: B018


def test_twisted_resolver_resolves_localhost_from_the_hosts_file(
    twisted_reactor: Reactor, tmp_path: Path
) -> None:
    hosts_file = tmp_path / "hosts"
    hosts_file.write_text("127.0.0.1 localhost\n::1 localhost\n")
    resolver_class = _twisted_resolver_class()

    async def main() -> None:
        resolver = resolver_class(hosts_file=str(hosts_file))
        try:
            assert await resolver.resolve("localhost", 80, socket.AF_INET) == [
                (socket.AF_INET, ("127.0.0.1", 80))
            ]
            assert await resolver.resolve("localhost", 80) == [
                (socket.AF_INET, ("127.0.0.1", 80)),
                (socket.AF_INET6, ("::1", 80)),
            ]
            assert await resolver.resolve("127.0.0.1", 8080) == [
                (socket.AF_INET, ("127.0.0.1", 8080))
            ]
        finally:
            resolver.close()

    twisted_reactor.run(main)


def test_twisted_resolver_resolves_the_system_localhost(twisted_reactor: Reactor) -> None:
    resolver_class = _twisted_resolver_class()

    async def main() -> list[tuple[int, Any]]:
        resolver = resolver_class()
        try:
            result: list[tuple[int, Any]] = await resolver.resolve("localhost", 80, socket.AF_INET)
            return result
        finally:
            resolver.close()

    assert twisted_reactor.run(main) == [(socket.AF_INET, ("127.0.0.1", 80))]


def test_twisted_resolver_asks_a_dns_server_for_names_the_hosts_file_lacks(
    twisted_reactor: Reactor, tmp_path: Path
) -> None:
    # A real DNS server (Twisted's) on 127.0.0.1 that knows one name.
    zone = tmp_path / "zone-hosts"
    zone.write_text("192.0.2.7 app.example.test\n2001:db8::7 app.example.test\n")
    empty_hosts = tmp_path / "hosts"
    empty_hosts.write_text("")
    resolver_class = _twisted_resolver_class()

    async def main() -> None:
        factory = server.DNSServerFactory(clients=[twisted_hosts.Resolver(file=bytes(zone))])
        udp = twisted_reactor.reactor.listenUDP(
            0, dns.DNSDatagramProtocol(factory), interface="127.0.0.1"
        )
        try:
            resolver = resolver_class(
                nameservers=[("127.0.0.1", udp.getHost().port)], hosts_file=str(empty_hosts)
            )
            assert await resolver.resolve("app.example.test", 443) == [
                (socket.AF_INET, ("192.0.2.7", 443)),
                (socket.AF_INET6, ("2001:db8::7", 443)),
            ]
            with pytest.raises(socket.gaierror):
                await resolver.resolve("unknown.example.test", 443)
        finally:
            await _settle(udp.stopListening())

    twisted_reactor.run(main)


async def _settle(result: Awaitable[Any] | defer.Deferred[Any] | None) -> None:
    if isinstance(result, defer.Deferred):
        await gen.convert_yielded(result)
