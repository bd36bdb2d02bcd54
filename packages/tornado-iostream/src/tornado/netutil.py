"""Socket helpers: listening sockets, accept loops, name resolution and TLS set-up.

* `bind_sockets` / `bind_unix_socket` create listening sockets;
  `add_accept_handler` accepts connections on them from the `IOLoop`.
* `Resolver` is the configurable interface for asynchronous name
  resolution, with `DefaultLoopResolver` (asyncio's ``getaddrinfo``, the
  default), `DefaultExecutorResolver`, `ThreadedResolver`,
  `BlockingResolver` and `OverrideResolver`.
* `ssl_options_to_context` and `ssl_wrap_socket` turn Tornado's dict-style
  ``ssl_options`` into `ssl.SSLContext` objects.
"""

from __future__ import annotations

import concurrent.futures
import errno
import os
import socket
import ssl
import stat
from collections.abc import Awaitable, Callable
from typing import Any

from tornado.concurrent import Future, dummy_executor
from tornado.ioloop import IOLoop
from tornado.util import Configurable

__all__ = [
    "BlockingResolver",
    "DefaultExecutorResolver",
    "DefaultLoopResolver",
    "ExecutorResolver",
    "OverrideResolver",
    "Resolver",
    "ThreadedResolver",
    "add_accept_handler",
    "bind_sockets",
    "bind_unix_socket",
    "is_valid_ip",
    "ssl_options_to_context",
    "ssl_wrap_socket",
]


#: Default ``listen()`` backlog, and how many connections one readiness
#: event may accept (bounded so one busy listener cannot starve the loop).
_DEFAULT_BACKLOG = 128

#: Keys allowed in a dict-style ``ssl_options``.
_SSL_PARAMS = frozenset(("ssl_version", "certfile", "keyfile", "cert_reqs", "ca_certs", "ciphers"))


def _client_ssl_defaults() -> ssl.SSLContext:
    # Built on demand (and cached): loading the system CA store takes time
    # that programs which never make TLS client connections should not pay.
    global _client_context
    if _client_context is None:
        _client_context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    return _client_context


def _server_ssl_defaults() -> ssl.SSLContext:
    global _server_context
    if _server_context is None:
        _server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    return _server_context


_client_context: ssl.SSLContext | None = None
_server_context: ssl.SSLContext | None = None


def bind_sockets(
    port: int,
    address: str | None = None,
    family: socket.AddressFamily = socket.AF_UNSPEC,
    backlog: int = _DEFAULT_BACKLOG,
    flags: int | None = None,
    reuse_port: bool = False,
) -> list[socket.socket]:
    """Create listening sockets bound to ``port`` on ``address``; return them.

    One socket per address that ``address`` resolves to: with no address
    (or ``""``), every interface, IPv4 and IPv6 where available.  ``family``
    restricts to ``AF_INET`` or ``AF_INET6``; ``flags`` are extra
    ``getaddrinfo`` flags (``AI_PASSIVE`` is always set).  With port 0 the
    OS picks a free port, and all the sockets share the one it picked
    first.  ``reuse_port`` sets ``SO_REUSEPORT`` (`ValueError` where the
    platform lacks it).  The sockets are non-blocking.

    Raises `OSError` if binding fails (sockets bound so far are closed).
    """
    if reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        raise ValueError("the platform doesn't support SO_REUSEPORT")
    sockets: list[socket.socket] = []
    if address == "":
        address = None
    if not socket.has_ipv6 and family == socket.AF_UNSPEC:
        family = socket.AF_INET
    if flags is None:
        flags = socket.AI_PASSIVE
    else:
        flags |= socket.AI_PASSIVE
    bound_port: int | None = None
    seen: set[tuple[int, Any]] = set()
    try:
        infos = socket.getaddrinfo(address, port, family, socket.SOCK_STREAM, 0, flags)
        for af, socktype, proto, _canonname, sockaddr in sorted(infos, key=lambda i: i[0]):
            if (af, sockaddr) in seen:
                continue
            seen.add((af, sockaddr))
            try:
                sock = socket.socket(af, socktype, proto)
            except OSError as e:
                if e.errno == errno.EAFNOSUPPORT:
                    # IPv6 compiled in but disabled in the kernel.
                    continue
                raise
            try:
                if os.name != "nt":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if reuse_port:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if af == socket.AF_INET6:
                    # Keep IPv6 sockets to IPv6, so the IPv4 wildcard socket
                    # can bind the same port alongside.
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                host, requested_port = sockaddr[0], sockaddr[1]
                if requested_port == 0 and bound_port is not None:
                    sockaddr = (host, bound_port, *sockaddr[2:])
                sock.setblocking(False)
                try:
                    sock.bind(sockaddr)
                except OSError as e:
                    if (
                        e.errno == errno.EADDRNOTAVAIL
                        and address == "localhost"
                        and af == socket.AF_INET6
                    ):
                        # "localhost" resolving to ::1 on a host without a
                        # usable IPv6 loopback: the IPv4 socket suffices.
                        sock.close()
                        continue
                    raise
                bound_port = sock.getsockname()[1]
                sock.listen(backlog)
            except BaseException:
                sock.close()
                raise
            sockets.append(sock)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


if hasattr(socket, "AF_UNIX"):

    def bind_unix_socket(
        file: str, mode: int = 0o600, backlog: int = _DEFAULT_BACKLOG
    ) -> socket.socket:
        """Create a listening Unix domain socket at path ``file``; return it.

        A stale socket file at that path is replaced; any other existing file
        makes it raise `ValueError`.  The file gets permissions ``mode``.
        On Linux, a ``file`` starting with a NUL character (``"\\0name"``)
        names a socket in the abstract namespace instead: no file is
        created, and ``mode`` does not apply.  The socket is non-blocking.
        Raises `OSError` if binding fails (for an abstract name: if it is
        in use).
        """
        abstract = file.startswith("\0")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setblocking(False)
            if not abstract:
                _remove_stale_socket_file(file)
            sock.bind(file)
            if not abstract:
                os.chmod(file, mode)
            sock.listen(backlog)
        except BaseException:
            sock.close()
            raise
        return sock


def _remove_stale_socket_file(file: str) -> None:
    # A socket file left by an earlier server would make bind fail.
    try:
        st = os.stat(file)
    except FileNotFoundError:
        return
    if stat.S_ISSOCK(st.st_mode):
        os.remove(file)
    else:
        raise ValueError("File %s exists and is not a socket" % file)


def add_accept_handler(
    sock: socket.socket, callback: Callable[[socket.socket, Any], None]
) -> Callable[[], None]:
    """Accept connections on the listening ``sock`` from the current `IOLoop`.

    ``callback(connection, address)`` runs for each new connection.  Returns
    a function that stops accepting (it does not close ``sock``).  Errors
    from ``accept`` other than "nothing to accept" and aborted connections
    are logged by the `IOLoop`'s handler; accepting continues.

    .. versionchanged:: 5.0
       Returns the function that removes the handler.
    """
    io_loop = IOLoop.current()
    removed = False

    def accept_handler(fd: Any, events: int) -> None:
        # Accept a bounded batch per event: enough to drain a burst of
        # connects cheaply, small enough that other callbacks still run.
        for _ in range(_DEFAULT_BACKLOG):
            if removed:
                # The callback may have stopped the server mid-batch.
                return
            try:
                connection, address = sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                # The client gave up before we accepted; nothing to do.
                continue
            except InterruptedError:
                continue
            callback(connection, address)

    def remove_handler() -> None:
        nonlocal removed
        io_loop.remove_handler(sock)
        removed = True

    io_loop.add_handler(sock, accept_handler, IOLoop.READ)
    return remove_handler


def is_valid_ip(ip: str) -> bool:
    """True if ``ip`` is a literal IPv4 or IPv6 address (no name lookup)."""
    if not ip or "\x00" in ip:
        # getaddrinfo truncates at NUL, and treats "" as the wildcard.
        return False
    try:
        res = socket.getaddrinfo(
            ip, 0, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST
        )
        return bool(res)
    except socket.gaierror as e:
        if e.args[0] == socket.EAI_NONAME:
            return False
        raise
    except UnicodeError:
        # An over-long label makes the IDNA codec fail before getaddrinfo.
        return False


class Resolver(Configurable):
    """Asynchronous resolution of host names to addresses.

    ``Resolver()`` returns an instance of the configured implementation
    (`DefaultLoopResolver` unless `Resolver.configure` chose another):

    * `DefaultLoopResolver`: asyncio's ``loop.getaddrinfo`` (default since 6.2).
    * `DefaultExecutorResolver`: blocking ``getaddrinfo`` on the IOLoop's executor.
    * `ThreadedResolver`: a shared thread pool.
    * `BlockingResolver`: blocking, in the calling thread.
    * ``tornado.platform.caresresolver.CaresResolver``: pycares.
    * `OverrideResolver`: wraps another to redirect chosen hosts.
    """

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        """`Resolver` is its own configurable base."""
        return Resolver

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        """`DefaultLoopResolver`."""
        return DefaultLoopResolver

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Awaitable[list[tuple[int, Any]]]:
        """Resolve ``host``; the awaitable yields a list of ``(family, address)`` pairs.

        ``address`` is what `socket.socket.connect` takes for that family.
        ``family`` restricts the answer to ``AF_INET`` or ``AF_INET6``.
        Fails with `OSError` (usually `socket.gaierror`) if the name does not
        resolve.
        """
        raise NotImplementedError()

    def close(self) -> None:
        """Release what the resolver holds (executors, channels).

        .. versionadded:: 3.1
        """
        self._release()

    def _release(self) -> None:
        # What `close` frees in implementations that keep Tornado's surface
        # (no `close` of their own), such as CaresResolver.
        pass


def _resolve_addr(
    host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
) -> list[tuple[int, Any]]:
    # SOCK_STREAM: one entry per address instead of one per socket type.
    infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    return [(fam, address) for fam, _, _, _, address in infos]


class DefaultExecutorResolver(Resolver):
    """Runs the blocking ``getaddrinfo`` with `IOLoop.run_in_executor`.

    .. versionadded:: 5.0
    """

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        """See `Resolver.resolve`."""
        result: list[tuple[int, Any]] = await IOLoop.current().run_in_executor(
            None, _resolve_addr, host, port, family
        )
        return result


class DefaultLoopResolver(Resolver):
    """Resolves with asyncio's ``loop.getaddrinfo`` (the default resolver).

    .. versionadded:: 6.2
    """

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        """See `Resolver.resolve`."""
        import asyncio

        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, family=family, type=socket.SOCK_STREAM
        )
        return [(fam, address) for fam, _, _, _, address in infos]


class ExecutorResolver(Resolver):
    """Resolves with blocking ``getaddrinfo`` on a `concurrent.futures.Executor`.

    ``initialize(executor=None, close_executor=True)``: without an executor
    the lookup runs synchronously in the calling thread; ``close_executor``
    says whether `close` shuts the executor down.

    .. deprecated:: 5.0
       The default resolver already uses the IOLoop's executor.
    """

    def initialize(
        self,
        executor: concurrent.futures.Executor | None = None,
        close_executor: bool = True,
    ) -> None:
        """Set the executor (see the class docstring)."""
        if executor is not None:
            #: The executor lookups run on (`dummy_executor` runs them inline); None after `close`.
            self.executor: concurrent.futures.Executor | None = executor
            self.close_executor = close_executor
        else:
            self.executor = dummy_executor
            self.close_executor = False

    def close(self) -> None:
        """Shut down the executor if this resolver owns it."""
        if self.close_executor and self.executor is not None:
            self.executor.shutdown()
        self.executor = None

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Future[list[tuple[int, Any]]]:
        """See `Resolver.resolve`.  Raises `RuntimeError` after `close`."""
        if self.executor is None:
            raise RuntimeError("resolver is closed")
        import asyncio

        return asyncio.wrap_future(self.executor.submit(_resolve_addr, host, port, family))


class BlockingResolver(ExecutorResolver):
    """Resolves with blocking ``getaddrinfo`` in the calling thread.

    .. deprecated:: 5.0
       The default resolver is asynchronous; use it instead.
    """

    def initialize(self) -> None:  # type: ignore[override]
        """No options."""
        super().initialize()


class ThreadedResolver(ExecutorResolver):
    """Resolves on a thread pool of ``num_threads`` threads (default 10).

    The pool is shared by every `ThreadedResolver` of the process (and
    survives `close`), created on first use.

    .. deprecated:: 5.0
       The default resolver uses the IOLoop's executor; use it instead.
    """

    _threadpool: concurrent.futures.ThreadPoolExecutor | None = None
    _threadpool_pid: int | None = None

    def initialize(self, num_threads: int = 10) -> None:  # type: ignore[override]
        """Use (creating if needed) the shared pool."""
        super().initialize(
            executor=ThreadedResolver._create_threadpool(num_threads), close_executor=False
        )

    @classmethod
    def _create_threadpool(cls, num_threads: int) -> concurrent.futures.ThreadPoolExecutor:
        pid = os.getpid()
        if cls._threadpool_pid != pid:
            # A forked child inherits the object but not the threads.
            cls._threadpool = None
        if cls._threadpool is None:
            cls._threadpool = concurrent.futures.ThreadPoolExecutor(num_threads)
            cls._threadpool_pid = pid
        return cls._threadpool


class OverrideResolver(Resolver):
    """Redirects chosen hosts, delegating everything to another resolver.

    ``initialize(resolver, mapping)``: ``mapping`` keys are a host, a
    ``(host, port)`` pair or a ``(host, port, family)`` triple; values are
    the replacement host or ``(host, port)``.  The most specific key wins.
    Useful in tests, and to pin names without touching ``/etc/hosts``::

        resolver = OverrideResolver(Resolver(), {"example.com": "127.0.0.1",
                                                 ("login.example.com", 443): ("localhost", 1443)})

    .. versionchanged:: 5.0
       Added support for ``(host, port, family)`` keys.
    """

    def initialize(self, resolver: Resolver, mapping: dict[Any, Any]) -> None:
        """Wrap ``resolver`` with ``mapping`` (see the class docstring)."""
        #: The resolver used for the names that ``mapping`` does not override.
        self.resolver = resolver
        self.mapping = mapping

    def close(self) -> None:
        """Close the wrapped resolver."""
        self.resolver.close()

    def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> Awaitable[list[tuple[int, Any]]]:
        """See `Resolver.resolve`."""
        mapping = self.mapping
        if (host, port, family) in mapping:
            host, port = mapping[(host, port, family)]
        elif (host, port) in mapping:
            host, port = mapping[(host, port)]
        elif host in mapping:
            host = mapping[host]
        return self.resolver.resolve(host, port, family)


def ssl_options_to_context(
    ssl_options: dict[str, Any] | ssl.SSLContext, server_side: bool | None = None
) -> ssl.SSLContext:
    """Return ``ssl_options`` as an `ssl.SSLContext`.

    A context is returned unchanged.  A dict may hold ``ssl_version``,
    ``certfile``, ``keyfile``, ``cert_reqs``, ``ca_certs`` and ``ciphers``
    (as the old ``ssl.wrap_socket`` arguments).  ``server_side`` picks the
    protocol when ``ssl_version`` is absent; when None, a dict with a
    ``certfile`` counts as server side.  Client contexts verify the peer
    and its host name unless ``cert_reqs`` says ``CERT_NONE``.

    Raises `ValueError` for unknown keys; `OSError`/`ssl.SSLError` if the
    certificate files cannot be loaded.

    .. versionchanged:: 6.2
       Added ``server_side``.
    """
    if isinstance(ssl_options, ssl.SSLContext):
        return ssl_options
    if not isinstance(ssl_options, dict):
        raise TypeError("ssl_options must be a dict or an ssl.SSLContext, not %r" % (ssl_options,))
    unknown = set(ssl_options) - _SSL_PARAMS
    if unknown:
        raise ValueError("unknown ssl_options keys: %s" % ", ".join(sorted(unknown)))
    if server_side is None:
        server_side = "certfile" in ssl_options
    default_protocol = ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT
    context = ssl.SSLContext(ssl_options.get("ssl_version", default_protocol))
    if "certfile" in ssl_options:
        context.load_cert_chain(ssl_options["certfile"], ssl_options.get("keyfile"))
    if "cert_reqs" in ssl_options:
        if ssl_options["cert_reqs"] == ssl.CERT_NONE:
            # check_hostname must be off before verification can be.
            context.check_hostname = False
        context.verify_mode = ssl_options["cert_reqs"]
    if "ca_certs" in ssl_options:
        context.load_verify_locations(ssl_options["ca_certs"])
    elif not server_side and context.verify_mode != ssl.CERT_NONE:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if "ciphers" in ssl_options:
        context.set_ciphers(ssl_options["ciphers"])
    # Compression enables the CRIME attack.
    context.options |= ssl.OP_NO_COMPRESSION
    return context


def ssl_wrap_socket(
    socket: socket.socket,
    ssl_options: dict[str, Any] | ssl.SSLContext,
    server_hostname: str | None = None,
    server_side: bool | None = None,
    **kwargs: Any,
) -> ssl.SSLSocket:
    """Wrap ``socket`` in TLS per ``ssl_options`` (a dict or `ssl.SSLContext`); return it.

    ``server_hostname`` is sent as SNI and checked against the certificate
    (clients).  ``server_side`` defaults to whether the context is a
    ``PROTOCOL_TLS_SERVER`` one.  Extra ``kwargs`` go to
    `ssl.SSLContext.wrap_socket` (for example ``do_handshake_on_connect``).

    .. versionchanged:: 6.2
       Added ``server_side``.
    """
    context = ssl_options_to_context(ssl_options, server_side=server_side)
    if server_side is None:
        server_side = context.protocol == ssl.PROTOCOL_TLS_SERVER
    if server_side:
        return context.wrap_socket(socket, server_side=True, **kwargs)
    return context.wrap_socket(socket, server_hostname=server_hostname, **kwargs)
