"""A non-blocking TCP connection factory with "happy eyeballs" over IPv4 and IPv6."""

from __future__ import annotations

import asyncio
import datetime
import numbers
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any

from tornado import gen
from tornado.concurrent import Future, future_add_done_callback
from tornado.iostream import IOStream
from tornado.netutil import Resolver

__all__ = ["TCPClient"]

#: How long an address family gets before the other one is tried in parallel
#: (RFC 6555 suggests 150-250 ms; 300 ms errs on the side of fewer connects).
_INITIAL_CONNECT_TIMEOUT = 0.3

_Address = tuple[int, Any]


class _Connector:
    """Races connection attempts over resolved addresses (RFC 6555, "happy eyeballs").

    Addresses of the first family returned by the resolver are tried one
    after the other; if none has succeeded ``connect_timeout`` seconds in,
    the other family's addresses are tried alongside.  The first connection
    to succeed wins; the others are closed.
    """

    def __init__(
        self,
        addrinfo: list[_Address],
        connect: Callable[[socket.AddressFamily, Any], tuple[IOStream, Future[IOStream]]],
    ) -> None:
        self.io_loop = asyncio.get_running_loop()
        self.connect = connect
        self.future: Future[tuple[socket.AddressFamily, Any, IOStream]] = (
            self.io_loop.create_future()
        )
        self.timeout: asyncio.TimerHandle | None = None
        self.connect_timeout: asyncio.TimerHandle | None = None
        self.last_error: BaseException | None = None
        self.remaining = len(addrinfo)
        self.primary_addrs, self.secondary_addrs = self.split(addrinfo)
        self.streams: set[IOStream] = set()

    @staticmethod
    def split(addrinfo: list[_Address]) -> tuple[list[_Address], list[_Address]]:
        """Split ``addrinfo`` into the first address's family and the rest, keeping order."""
        if not addrinfo:
            return [], []
        primary_family = addrinfo[0][0]
        primary = [a for a in addrinfo if a[0] == primary_family]
        secondary = [a for a in addrinfo if a[0] != primary_family]
        return primary, secondary

    def start(
        self, timeout: float = _INITIAL_CONNECT_TIMEOUT, connect_timeout: float | None = None
    ) -> Future[tuple[socket.AddressFamily, Any, IOStream]]:
        """Begin connecting; the future yields ``(family, address, stream)`` of the winner."""
        if not self.primary_addrs:
            self.future.set_exception(OSError("no addresses to connect to"))
            return self.future
        self.try_connect(iter(self.primary_addrs))
        self.timeout = self.io_loop.call_later(timeout, self.on_timeout)
        if connect_timeout is not None:
            self.connect_timeout = self.io_loop.call_later(connect_timeout, self.on_connect_timeout)
        return self.future

    def try_connect(self, addrs: Iterator[_Address]) -> None:
        """Start the next address of ``addrs``; on failure, the next one, and so on."""
        try:
            af, addr = next(addrs)
        except StopIteration:
            # This family is exhausted; if the other one is not running
            # (or also done), fail with the last error.
            if self.remaining == 0 and not self.future.done():
                self.clear_timeouts()
                self.future.set_exception(self.last_error or OSError("connection failed"))
            return
        try:
            stream, future = self.connect(socket.AddressFamily(af), addr)
        except OSError as e:
            self.remaining -= 1
            self.last_error = e
            self.try_connect(addrs)
            return
        self.streams.add(stream)
        future_add_done_callback(
            future, lambda f: self.on_connect_done(addrs, socket.AddressFamily(af), addr, f)
        )

    def on_connect_done(
        self,
        addrs: Iterator[_Address],
        af: socket.AddressFamily,
        addr: Any,
        future: Future[IOStream],
    ) -> None:
        """Record one attempt's outcome: win, or move on to the next address."""
        self.remaining -= 1
        try:
            stream = future.result()
        except Exception as e:
            if self.future.done():
                return
            self.last_error = e
            self.try_connect(addrs)
            if self.timeout is not None:
                # Failing fast is a better signal than a slow address: start
                # the other family now.
                self.timeout.cancel()
                self.on_timeout()
            return
        self.clear_timeouts()
        if self.future.done():
            # Lost the race (or timed out): this connection is not wanted.
            stream.close()
        else:
            self.streams.discard(stream)
            self.future.set_result((af, addr, stream))
            self.close_streams()

    def on_timeout(self) -> None:
        """Start the secondary family, once."""
        self.timeout = None
        if not self.future.done() and self.secondary_addrs:
            addrs = self.secondary_addrs
            self.secondary_addrs = []
            self.try_connect(iter(addrs))

    def on_connect_timeout(self) -> None:
        """Give up: fail with `TimeoutError` and close all attempts."""
        if not self.future.done():
            self.future.set_exception(TimeoutError())
        self.close_streams()

    def clear_timeouts(self) -> None:
        """Cancel the pending timers."""
        if self.timeout is not None:
            self.timeout.cancel()
            self.timeout = None
        if self.connect_timeout is not None:
            self.connect_timeout.cancel()
            self.connect_timeout = None

    def close_streams(self) -> None:
        """Close every attempt that has not won."""
        for stream in self.streams:
            stream.close()
        self.streams.clear()


class TCPClient:
    """Opens TCP connections and returns them as `IOStream` objects.

    ``resolver`` is the `Resolver` used for host names (a shared default
    `Resolver()` if None; a resolver passed in is not closed by `close`).
    """

    def __init__(self, resolver: Resolver | None = None) -> None:
        if resolver is not None:
            self.resolver = resolver
            self._own_resolver = False
        else:
            self.resolver = Resolver()
            self._own_resolver = True

    def close(self) -> None:
        """Close the resolver if this client created it."""
        if self._own_resolver:
            self.resolver.close()

    async def connect(
        self,
        host: str,
        port: int,
        af: socket.AddressFamily = socket.AF_UNSPEC,
        ssl_options: dict[str, Any] | ssl.SSLContext | None = None,
        max_buffer_size: int | None = None,
        source_ip: str | None = None,
        source_port: int | None = None,
        timeout: float | datetime.timedelta | None = None,
    ) -> IOStream:
        """Connect to ``host``:``port``; return the connected `IOStream`.

        ``host`` is resolved (restricted to family ``af`` if given) and the
        addresses are raced, IPv4 against IPv6, as RFC 6555 recommends.
        With ``ssl_options`` (an `ssl.SSLContext` or dict) the result is an
        `~tornado.iostream.SSLIOStream` whose handshake has completed and
        whose certificate matched ``host``.  ``source_ip``/``source_port``
        bind the local end first.  ``timeout`` (seconds relative to now, or a
        `datetime.timedelta`) bounds the whole operation.

        Raises `TimeoutError` when ``timeout`` passes, `OSError`
        (`socket.gaierror` for names that do not resolve) or
        `~tornado.iostream.StreamClosedError` (``real_error`` being the OS
        error) when no address accepts the connection.

        .. versionchanged:: 5.0
           Added ``source_ip``, ``source_port`` and ``timeout``.
        """
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        if timeout is not None:
            if isinstance(timeout, numbers.Real):
                deadline = loop.time() + float(timeout)
            elif isinstance(timeout, datetime.timedelta):
                deadline = loop.time() + timeout.total_seconds()
            else:
                raise TypeError("Unsupported timeout %r" % (timeout,))
        resolving = self.resolver.resolve(host, port, af)
        if deadline is not None:
            addrinfo = await gen.with_timeout(deadline, resolving)
        else:
            addrinfo = await resolving
        connector = _Connector(
            addrinfo,
            lambda af, addr: self._create_stream(max_buffer_size, af, addr, source_ip, source_port),
        )
        connect_timeout = None if deadline is None else max(0.0, deadline - loop.time())
        _af, _addr, stream = await connector.start(connect_timeout=connect_timeout)
        if ssl_options is not None:
            tls = stream.start_tls(False, ssl_options=ssl_options, server_hostname=host)
            if deadline is not None:
                try:
                    tls_stream: IOStream = await gen.with_timeout(deadline, tls)
                    return tls_stream
                except TimeoutError:
                    # start_tls handed the socket to the TLS stream; it is
                    # the handshake that timed out, so stop it.
                    successor = stream._tls_successor
                    if successor is not None:
                        successor.close()
                    raise
            return await tls
        return stream

    def _create_stream(
        self,
        max_buffer_size: int | None,
        af: socket.AddressFamily,
        addr: Any,
        source_ip: str | None = None,
        source_port: int | None = None,
    ) -> tuple[IOStream, Future[IOStream]]:
        # Raises OSError if the socket cannot be created or bound.
        sock = socket.socket(af)
        if source_ip is not None or source_port:
            ip = source_ip
            if ip is None:
                ip = "::1" if af == socket.AF_INET6 else "127.0.0.1"
            try:
                sock.bind((ip, source_port or 0))
            except OSError:
                sock.close()
                raise
        try:
            stream = IOStream(sock, max_buffer_size=max_buffer_size)
        except OSError:
            sock.close()
            raise
        return stream, stream.connect(addr)
