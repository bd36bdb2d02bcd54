"""A `tornado.netutil.Resolver` on the c-ares library (``pip install tornado-iostream[cares]``).

The lookups run on the `IOLoop`: c-ares' sockets are registered with it, so
no thread is involved.  c-ares does not read every source the system
resolver does (``/etc/nsswitch.conf``, mDNS), so results may differ from
`socket.getaddrinfo`'s.

.. deprecated:: 6.2
   The default resolver is asynchronous now; this one will go away in
   Tornado 7.0.
"""

from __future__ import annotations

import socket
from typing import Any

import pycares  # type: ignore[import-not-found,unused-ignore]

from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.netutil import Resolver, is_valid_ip

__all__ = ["CaresResolver"]


def _text(address: str | bytes) -> str:
    return address.decode("ascii") if isinstance(address, bytes) else address


class CaresResolver(Resolver):
    """A `Resolver` that asks DNS servers directly through pycares.

    Pass ``family=AF_INET`` or ``AF_INET6`` to `resolve` to pick one family;
    with ``AF_UNSPEC`` c-ares returns IPv4 answers if there are any.
    `~Resolver.close` stops watching c-ares' sockets.

    .. versionchanged:: 5.0
       The ``io_loop`` argument was removed.
    """

    def initialize(self) -> None:
        """Create the c-ares channel on the current IOLoop."""
        self.io_loop = IOLoop.current()
        #: The ``pycares.Channel`` doing the lookups.
        self.channel = pycares.Channel(sock_state_cb=self._sock_state_cb)
        #: The sockets c-ares asked to watch: fd -> the IOLoop events watched.
        self.fds: dict[int, int] = {}

    def _sock_state_cb(self, fd: int, readable: bool, writable: bool) -> None:
        # c-ares reports which sockets it wants watched, and for what.
        state = (IOLoop.READ if readable else 0) | (IOLoop.WRITE if writable else 0)
        if not state:
            self.io_loop.remove_handler(fd)
            self.fds.pop(fd, None)
        elif fd in self.fds:
            self.io_loop.update_handler(fd, state)
            self.fds[fd] = state
        else:
            self.io_loop.add_handler(fd, self._handle_events, state)
            self.fds[fd] = state

    def _handle_events(self, fd: int, events: int) -> None:
        read_fd = fd if events & IOLoop.READ else pycares.ARES_SOCKET_BAD
        write_fd = fd if events & IOLoop.WRITE else pycares.ARES_SOCKET_BAD
        self.channel.process_fd(read_fd, write_fd)

    def _release(self) -> None:
        # Resolver.close: stop watching c-ares' sockets.
        for fd in list(self.fds):
            self.io_loop.remove_handler(fd)
        self.fds.clear()

    async def resolve(self, host: str, port: int, family: int = 0) -> list[tuple[int, Any]]:
        """See `Resolver.resolve`; ``family`` 0 is ``socket.AF_UNSPEC``.

        Raises `OSError` when c-ares reports an error, or when it answers with
        a family other than the one requested.
        """
        if is_valid_ip(host):
            addresses = [host]
        else:
            future: Future[tuple[Any, Any]] = self.io_loop.asyncio_loop.create_future()

            def done(result: Any, error: Any) -> None:
                # add_callback is thread-safe, whichever thread c-ares
                # delivers the answer on.
                self.io_loop.add_callback(_settle, result, error)

            def _settle(result: Any, error: Any) -> None:
                if not future.done():
                    future.set_result((result, error))

            self.channel.getaddrinfo(host, None, family=socket.AddressFamily(family), callback=done)
            result, error = await future
            if error:
                raise OSError(
                    "C-Ares returned error %s: %s while resolving %s"
                    % (error, _text(pycares.errno.strerror(error)), host)
                )
            # getaddrinfo answers once per socket type; keep each address once.
            addresses = list(dict.fromkeys(_text(node.addr[0]) for node in result.nodes))
        addrinfo: list[tuple[int, Any]] = []
        for address in addresses:
            if "." in address:
                address_family = socket.AF_INET
            elif ":" in address:
                address_family = socket.AF_INET6
            else:
                address_family = socket.AF_UNSPEC
            if family != socket.AF_UNSPEC and family != address_family:
                raise OSError("Requested socket family %d but got %d" % (family, address_family))
            addrinfo.append((address_family, (address, port)))
        return addrinfo
