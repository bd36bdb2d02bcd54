"""A non-blocking, single-threaded TCP server: subclass `TCPServer`, implement ``handle_stream``."""

from __future__ import annotations

import errno
import os
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from tornado import gen, process
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream, SSLIOStream
from tornado.log import app_log
from tornado.netutil import (
    _DEFAULT_BACKLOG,
    add_accept_handler,
    bind_sockets,
    ssl_options_to_context,
    ssl_wrap_socket,
)

__all__ = ["TCPServer"]


class TCPServer:
    """Accepts TCP connections and hands each one, as an `IOStream`, to `handle_stream`.

    Subclass it and implement `handle_stream` (a coroutine is fine)::

        class EchoServer(TCPServer):
            async def handle_stream(self, stream, address):
                while True:
                    try:
                        line = await stream.read_until(b"\\n")
                        await stream.write(line)
                    except StreamClosedError:
                        break

        async def main():
            server = EchoServer()
            server.listen(8888)
            await asyncio.Event().wait()

    Start it with `listen` (the usual way), with `bind_sockets` and
    `add_sockets` (for custom sockets or multiple processes), or with the
    older `bind` and `start`.

    ``ssl_options`` makes it a TLS server: an `ssl.SSLContext`, or a dict of
    `ssl.SSLContext` settings with at least ``certfile`` (see
    `tornado.netutil.ssl_options_to_context`).  Streams are then
    `SSLIOStream` objects; a client whose handshake fails only loses its own
    connection.  ``max_buffer_size`` and ``read_chunk_size`` are passed to
    every stream.

    Raises `KeyError` if a dict ``ssl_options`` lacks ``certfile`` (as
    Tornado does), `ValueError` if it names files that do not exist.
    """

    def __init__(
        self,
        ssl_options: dict[str, Any] | ssl.SSLContext | None = None,
        max_buffer_size: int | None = None,
        read_chunk_size: int | None = None,
    ) -> None:
        self.ssl_options = ssl_options
        self._sockets: dict[int, socket.socket] = {}
        self._handlers: dict[int, Callable[[], None]] = {}
        self._pending_sockets: list[socket.socket] = []
        self._started = False
        self._stopped = False
        self.max_buffer_size = max_buffer_size
        self.read_chunk_size = read_chunk_size
        if isinstance(ssl_options, dict):
            # Check the files now: an error at startup beats an error on the
            # first connection.
            if "certfile" not in ssl_options:
                raise KeyError('missing key "certfile" in ssl_options')
            for key in ("certfile", "keyfile"):
                path = ssl_options.get(key)
                if path is not None and not os.path.exists(path):
                    raise ValueError('%s "%s" does not exist' % (key, path))
            self._ssl_context: ssl.SSLContext | None = ssl_options_to_context(
                ssl_options, server_side=True
            )
        else:
            self._ssl_context = ssl_options

    def listen(
        self,
        port: int,
        address: str | None = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = _DEFAULT_BACKLOG,
        flags: int | None = None,
        reuse_port: bool = False,
    ) -> None:
        """Start accepting connections on ``port`` (and ``address``) in the current IOLoop.

        The arguments are those of `tornado.netutil.bind_sockets`.  May be
        called several times for several ports.  Raises `OSError` if the
        port cannot be bound.

        .. versionchanged:: 6.2
           Added ``family``, ``backlog``, ``flags`` and ``reuse_port``.
        """
        sockets = bind_sockets(
            port,
            address=address,
            family=family,
            backlog=backlog,
            flags=flags,
            reuse_port=reuse_port,
        )
        self.add_sockets(sockets)

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        """Accept connections on these listening sockets (from `bind_sockets`) in the current IOLoop."""
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = add_accept_handler(sock, self._handle_connection)

    def add_socket(self, socket: socket.socket) -> None:
        """Accept connections on one listening socket; see `add_sockets`."""
        self.add_sockets([socket])

    def bind(
        self,
        port: int,
        address: str | None = None,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = _DEFAULT_BACKLOG,
        flags: int | None = None,
        reuse_port: bool = False,
    ) -> None:
        """Bind to ``port`` now; accept connections once `start` is called.

        Arguments as for `listen`.  Lets `start` fork processes that share
        the bound sockets.

        .. deprecated:: 6.3
           Use `listen`, or `bind_sockets` with `add_sockets`.
        """
        sockets = bind_sockets(
            port,
            address=address,
            family=family,
            backlog=backlog,
            flags=flags,
            reuse_port=reuse_port,
        )
        if self._started:
            self.add_sockets(sockets)
        else:
            self._pending_sockets.extend(sockets)

    def start(self, num_processes: int | None = 1, max_restarts: int | None = None) -> None:
        """Start accepting on the sockets from `bind`, in this process or in forked ones.

        ``num_processes`` other than 1 forks that many children with
        `tornado.process.fork_processes` (None or <= 0: one per CPU), each
        then serving the same sockets; no IOLoop may exist before the fork.

        .. deprecated:: 6.3
           Use `listen`, or `bind_sockets` with `add_sockets`.
        """
        if self._started:
            raise RuntimeError("TCPServer already started")
        self._started = True
        if num_processes != 1:
            process.fork_processes(num_processes, max_restarts)
        sockets = self._pending_sockets
        self._pending_sockets = []
        self.add_sockets(sockets)

    def stop(self) -> None:
        """Stop accepting and close the listening sockets.

        Connections already accepted stay open.  Calling it twice is harmless.
        """
        if self._stopped:
            return
        self._stopped = True
        for fd, sock in self._sockets.items():
            self._handlers.pop(fd)()
            sock.close()
        self._sockets.clear()
        for sock in self._pending_sockets:
            sock.close()
        self._pending_sockets = []

    def handle_stream(self, stream: IOStream, address: Any) -> Awaitable[None] | None:
        """Handle one new connection; override this.

        ``address`` is the peer's address as ``accept`` returned it.  May be
        a coroutine: its failures are logged.

        .. versionchanged:: 4.2
           May be a coroutine.
        """
        raise NotImplementedError()

    def _handle_connection(self, connection: socket.socket, address: Any) -> None:
        context = self._ssl_context
        if context is not None:
            try:
                connection = ssl_wrap_socket(
                    connection, context, server_side=True, do_handshake_on_connect=False
                )
            except ssl.SSLError as err:
                if err.args[0] == ssl.SSL_ERROR_EOF:
                    connection.close()
                    return
                raise
            except OSError as err:
                # The client went away before we could look at it.
                if err.errno in (errno.ECONNABORTED, errno.EINVAL):
                    connection.close()
                    return
                raise
        try:
            if context is not None:
                stream: IOStream = SSLIOStream(
                    connection,
                    max_buffer_size=self.max_buffer_size,
                    read_chunk_size=self.read_chunk_size,
                )
            else:
                stream = IOStream(
                    connection,
                    max_buffer_size=self.max_buffer_size,
                    read_chunk_size=self.read_chunk_size,
                )
            result = self.handle_stream(stream, address)
            if result is not None:
                # Surface errors of coroutine handlers in the log.
                IOLoop.current().add_future(gen.convert_yielded(result), lambda f: f.result())
        except Exception:
            app_log.error("Error in connection callback", exc_info=True)
