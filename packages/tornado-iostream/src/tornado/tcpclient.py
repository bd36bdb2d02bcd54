"""A non-blocking TCP connection factory with "happy eyeballs" over IPv4 and IPv6.

`TCPClient.connect` resolves a host name, races the resolved addresses
(RFC 6555: the first address family gets a head start, then the other one
joins in) and optionally completes a TLS handshake, all within one optional
deadline.  A timeout names the stage it hit: resolving, connecting (with the
addresses still being tried) or the TLS handshake.
"""

from __future__ import annotations

import datetime
import functools
import numbers
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from tornado import gen
from tornado.concurrent import Future, future_add_done_callback
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, StreamClosedError
from tornado.netutil import Resolver, is_valid_ip

__all__ = ["TCPClient"]

#: How long an address family gets before the other one is tried in parallel
#: (RFC 6555 suggests 150-250 ms; 300 ms errs on the side of fewer connects).
_INITIAL_CONNECT_TIMEOUT = 0.3

_Address = tuple[int, Any]


class _Closable(Protocol):
    def close(self) -> None: ...


def _format_addr(addr: Any) -> str:
    """``host:port`` for an IPv4 address, ``[host]:port`` for IPv6, else ``str(addr)``.

    Used to name the addresses in timeout messages.
    """
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        if ":" in str(host):
            return f"[{host}]:{port}"
        return f"{host}:{port}"
    return str(addr)


class _Connector:
    """Races connection attempts over resolved addresses (RFC 6555, "happy eyeballs").

    ``addrinfo`` is a list of ``(family, address)`` pairs as a `Resolver`
    returns them; ``connect(family, address)`` starts one attempt and returns
    ``(stream, future)``, the future resolving with the stream once it is
    connected (it may also raise at once, which counts as a failed attempt).

    Addresses of the first family in ``addrinfo`` (the primary family) are
    tried one after the other.  The other family's addresses start alongside
    when the initial ``timeout`` of `start` passes without a connection, or
    as soon as a primary attempt fails.  The first connection to succeed
    wins; every other attempt is closed.  `future` resolves with
    ``(family, address, stream)`` of the winner, or fails with the last
    attempt's error once every address has failed, or with `TimeoutError`
    at the ``connect_timeout`` deadline.  Cancelling `future` closes every
    attempt.
    """

    def __init__(
        self,
        addrinfo: list[_Address],
        connect: Callable[[Any, Any], tuple[Any, Future[Any]]],
    ) -> None:
        self.io_loop = IOLoop.current()
        self.connect = connect
        self.future: Future[tuple[Any, Any, Any]] = Future()
        self.timeout: object | None = None
        self.connect_timeout: object | None = None
        self.last_error: BaseException | None = None
        #: Addresses neither failed nor skipped yet; the connector fails at 0.
        self.remaining = len(addrinfo)
        self.primary_addrs, self.secondary_addrs = self.split(addrinfo)
        #: Every stream an attempt created, except the winner's (kept, closed,
        #: so that `close_streams` can be called at any time).
        self.streams: set[_Closable] = set()
        # The attempts still in flight, by stream, for the timeout message.
        self._pending: dict[int, Any] = {}
        self.future.add_done_callback(self._on_future_done)

    @staticmethod
    def split(addrinfo: list[_Address]) -> tuple[list[_Address], list[_Address]]:
        """Split ``addrinfo`` into the first address's family and the rest, each in order."""
        if not addrinfo:
            return [], []
        primary_family = addrinfo[0][0]
        primary = [a for a in addrinfo if a[0] == primary_family]
        secondary = [a for a in addrinfo if a[0] != primary_family]
        return primary, secondary

    def start(
        self,
        timeout: float = _INITIAL_CONNECT_TIMEOUT,
        connect_timeout: float | datetime.timedelta | None = None,
    ) -> Future[tuple[Any, Any, Any]]:
        """Start connecting and return `future`.

        ``timeout`` is the primary family's head start in seconds;
        ``connect_timeout`` an absolute `IOLoop.time` deadline (or a
        `datetime.timedelta` from now) for the whole race.
        """
        if not self.primary_addrs:
            self.future.set_exception(OSError("no addresses to connect to"))
            return self.future
        self.set_timeout(timeout)
        if connect_timeout is not None:
            self.set_connect_timeout(connect_timeout)
        self.try_connect(iter(self.primary_addrs))
        return self.future

    def try_connect(self, addrs: Iterator[_Address]) -> None:
        """Start an attempt on the next address of ``addrs`` (nothing if none is left)."""
        if self.future.done():
            return
        try:
            af, addr = next(addrs)
        except StopIteration:
            return
        try:
            stream, future = self.connect(af, addr)
        except Exception as e:
            # Failing to even start (no IPv6 on this host, a source address
            # of the wrong family) is an immediate failure like any other.
            self._attempt_failed(addrs, e)
            return
        self.streams.add(stream)
        self._pending[id(stream)] = addr
        future_add_done_callback(
            future, functools.partial(self.on_connect_done, addrs, af, addr, stream)
        )

    def on_connect_done(
        self,
        addrs: Iterator[_Address],
        af: Any,
        addr: Any,
        stream: _Closable,
        future: Future[Any],
    ) -> None:
        """Record one attempt's outcome: win the race, or move on to the next address."""
        self._pending.pop(id(stream), None)
        if future.cancelled():
            stream.close()
            self._attempt_failed(
                addrs, ConnectionAbortedError(f"connection to {_format_addr(addr)} was cancelled")
            )
            return
        error = future.exception()
        if error is not None:
            stream.close()
            self._attempt_failed(addrs, error)
            return
        connected = future.result()
        if self.future.done():
            # Lost the race, or the connector gave up: not wanted.
            connected.close()
            return
        self.clear_timeouts()
        self.streams.discard(connected)
        self.streams.discard(stream)
        self.future.set_result((af, addr, connected))
        self.close_streams()

    def _attempt_failed(self, addrs: Iterator[_Address], error: BaseException) -> None:
        self.remaining -= 1
        self.last_error = error
        if self.future.done():
            return
        if self.remaining <= 0:
            self.clear_timeouts()
            self.future.set_exception(error)
            return
        self.try_connect(addrs)
        if self.timeout is not None:
            # A fast failure says more than a slow address: give the other
            # family its turn now rather than after the head start.
            self.io_loop.remove_timeout(self.timeout)
            self.on_timeout()

    def set_timeout(self, timeout: float) -> None:
        """Start the other family ``timeout`` seconds from now."""
        self.timeout = self.io_loop.add_timeout(self.io_loop.time() + timeout, self.on_timeout)

    def set_connect_timeout(self, connect_timeout: float | datetime.timedelta) -> None:
        """Give up at ``connect_timeout`` (an `IOLoop.time` deadline or a timedelta)."""
        self.connect_timeout = self.io_loop.add_timeout(connect_timeout, self.on_connect_timeout)

    def on_timeout(self) -> None:
        """The head start is over: start the secondary family (once)."""
        self.timeout = None
        if not self.future.done() and self.secondary_addrs:
            addrs = self.secondary_addrs
            self.secondary_addrs = []
            self.try_connect(iter(addrs))

    def on_connect_timeout(self) -> None:
        """The deadline passed: fail with `TimeoutError` naming the attempts in flight, close all."""
        self.connect_timeout = None
        if not self.future.done():
            names = ", ".join(sorted(_format_addr(a) for a in self._pending.values()))
            self.future.set_exception(TimeoutError(f"Timeout while connecting to {names}"))
        self.close_streams()

    def clear_timeouts(self) -> None:
        """Cancel both timers."""
        if self.timeout is not None:
            self.io_loop.remove_timeout(self.timeout)
            self.timeout = None
        if self.connect_timeout is not None:
            self.io_loop.remove_timeout(self.connect_timeout)
            self.connect_timeout = None

    def close_streams(self) -> None:
        """Close every attempt's stream except the winner's."""
        for stream in self.streams:
            stream.close()

    def _on_future_done(self, future: Future[Any]) -> None:
        if future.cancelled():
            # The caller gave up (its task was cancelled): stop everything.
            self.clear_timeouts()
            self.close_streams()


class TCPClient:
    """Opens TCP connections and returns them as `IOStream` objects.

    ``resolver`` is the `Resolver` used for host names (a new default
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
        whose certificate matched ``host``.  ``source_ip`` (an IP address)
        and ``source_port`` bind the local end first.  ``timeout`` (seconds
        from now, or a `datetime.timedelta`) bounds the whole operation.

        Raises `TimeoutError` when ``timeout`` passes (its message says
        whether while resolving, while connecting to which addresses, or
        during the TLS handshake); `ValueError` if ``source_ip`` is not an
        IP address; `OSError` (`socket.gaierror` for names that do not
        resolve, `~tornado.iostream.StreamClosedError` with the OS error as
        ``real_error`` when no address accepts the connection); `ssl.SSLError`
        when the handshake fails.  Cancelling the call closes every socket it
        opened.

        .. versionchanged:: 5.0
           Added ``source_ip``, ``source_port`` and ``timeout``.
        """
        if source_ip is not None and not is_valid_ip(source_ip):
            # socket.bind would resolve a name, blocking the event loop.
            raise ValueError(f"source_ip must be an IP address, not {source_ip!r}")
        io_loop = IOLoop.current()
        deadline: float | None = None
        if timeout is not None:
            if isinstance(timeout, numbers.Real):
                deadline = io_loop.time() + float(timeout)
            elif isinstance(timeout, datetime.timedelta):
                deadline = io_loop.time() + timeout.total_seconds()
            else:
                raise TypeError(f"Unsupported timeout {timeout!r}")
        resolving = gen.convert_yielded(self.resolver.resolve(host, port, af))
        if deadline is None:
            addrinfo = await resolving
        else:
            try:
                addrinfo = await gen.with_timeout(deadline, resolving, quiet_exceptions=(OSError,))
            except TimeoutError:
                if resolving.done():
                    raise  # the resolver's own error
                raise TimeoutError(f"Timeout while resolving {host}") from None
        connector = _Connector(
            addrinfo,
            functools.partial(
                self._create_stream,
                max_buffer_size,
                source_ip=source_ip,
                source_port=source_port,
            ),
        )
        stream: IOStream
        _af, _addr, stream = await connector.start(connect_timeout=deadline)
        if ssl_options is None:
            return stream
        handshake = stream.start_tls(False, ssl_options=ssl_options, server_hostname=host)
        try:
            tls_stream: IOStream
            if deadline is None:
                tls_stream = await handshake
            else:
                tls_stream = await gen.with_timeout(
                    deadline, handshake, quiet_exceptions=(StreamClosedError,)
                )
            return tls_stream
        except BaseException as e:
            timed_out = isinstance(e, TimeoutError) and not handshake.done()
            # Cancelled, timed out or failed: the socket now belongs to the
            # TLS stream, which must not outlive this call.
            successor = stream._tls_successor
            if successor is not None:
                successor.close()
            if timed_out:
                raise TimeoutError(
                    f"Timeout during TLS handshake with {_format_addr((host, port))}"
                ) from None
            raise

    def _create_stream(
        self,
        max_buffer_size: int | None,
        af: socket.AddressFamily,
        addr: Any,
        source_ip: str | None = None,
        source_port: int | None = None,
    ) -> tuple[IOStream, Future[IOStream]]:
        # Raises OSError if the socket cannot be created or bound; the
        # connector then moves on to the next address.
        sock = socket.socket(af)
        try:
            if source_ip is not None or source_port:
                ip = source_ip
                if ip is None:
                    ip = "::1" if af == socket.AF_INET6 else "127.0.0.1"
                sock.bind((ip, source_port or 0))
            stream = IOStream(sock, max_buffer_size=max_buffer_size)
        except BaseException:
            sock.close()
            raise
        return stream, stream.connect(addr)
