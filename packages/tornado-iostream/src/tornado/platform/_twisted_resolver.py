"""``TwistedResolver``: a `tornado.netutil.Resolver` on ``twisted.names``.

Reached as ``tornado.platform.twisted.TwistedResolver`` (with a
DeprecationWarning: upstream Tornado dropped the class in 6.5).
"""

from __future__ import annotations

import socket
from typing import Any

from twisted.internet import defer
from twisted.names import dns, hosts
from twisted.names import error as names_error
from twisted.names.client import Resolver as DNSClient

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.netutil import Resolver, is_valid_ip
from tornado.platform import twisted as _twisted  # noqa: F401  (registers Deferred with gen)

_RECORD_TYPES = {socket.AF_INET: dns.A, socket.AF_INET6: dns.AAAA}


def _resolv_conf_servers(path: str = "/etc/resolv.conf") -> list[tuple[str, int]]:
    """The ``nameserver`` lines of resolv.conf(5); the local server if there are none."""
    servers = []
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 2 and fields[0] == "nameserver":
                    servers.append((fields[1], dns.PORT))
    except FileNotFoundError:
        pass
    return servers or [("127.0.0.1", dns.PORT)]


def _address_of(record: dns.RRHeader) -> tuple[socket.AddressFamily, str]:
    payload: Any = record.payload  # a Record_A or Record_AAAA: the packed address
    if record.type == dns.A:
        return socket.AF_INET, socket.inet_ntoa(payload.address)
    return socket.AF_INET6, socket.inet_ntop(socket.AF_INET6, payload.address)


class TwistedResolver(Resolver):
    """A non-blocking, thread-free `Resolver` that looks names up with ``twisted.names``.

    A name is looked up in the hosts file first and, only if the file does
    not know it, with DNS queries (A records for ``AF_INET``, AAAA for
    ``AF_INET6``, both for ``AF_UNSPEC``, IPv4 answers first).  The
    nameservers are those of ``/etc/resolv.conf`` unless ``nameservers``
    (``(host, port)`` pairs) is given.  DNS queries go out through the
    installed Twisted reactor, which must be the asyncio reactor on the
    IOLoop's event loop (see `tornado.platform.twisted.install`); answers
    from the hosts file need no reactor.

    Unlike the default resolver it does not read every source the system
    does (``/etc/nsswitch.conf``, mDNS).  ``resolve`` raises
    `socket.gaierror` when no address is found.

    .. deprecated:: 6.2
       Use the default resolver; upstream Tornado removed this class in 6.5.
    """

    def initialize(
        self,
        nameservers: list[tuple[str, int]] | None = None,
        hosts_file: str = "/etc/hosts",
    ) -> None:
        self.io_loop = IOLoop.current()
        self._hosts = hosts.Resolver(file=hosts_file.encode())  # type: ignore[no-untyped-call]
        self._nameservers = nameservers
        self._dns: DNSClient | None = None

    def _dns_client(self) -> DNSClient:
        if self._dns is None:
            from twisted.internet import reactor

            servers = self._nameservers or _resolv_conf_servers()
            self._dns = DNSClient(servers=servers, reactor=reactor)  # type: ignore[no-untyped-call]
        return self._dns

    async def _lookup(
        self, resolver: Any, host: str, families: list[socket.AddressFamily]
    ) -> list[tuple[socket.AddressFamily, str]]:
        async def one(family: socket.AddressFamily) -> list[tuple[socket.AddressFamily, str]]:
            if family == socket.AF_INET:
                deferred = resolver.lookupAddress(host)
            else:
                deferred = resolver.lookupIPV6Address(host)
            try:
                answers, _authority, _additional = await gen.convert_yielded(deferred)
            except names_error.DomainError:  # no such name, or no record of that type
                return []
            except defer.TimeoutError as e:  # no nameserver answered
                raise socket.gaierror(socket.EAI_AGAIN, f"lookup of {host!r} timed out") from e
            return [_address_of(r) for r in answers if r.type == _RECORD_TYPES[family]]

        results = await gen.multi([one(family) for family in families])
        return [address for result in results for address in result]

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        """See `Resolver.resolve`."""
        if family == socket.AF_UNSPEC:
            families = [socket.AF_INET, socket.AF_INET6]
        elif family in _RECORD_TYPES:
            families = [family]
        else:
            raise socket.gaierror(socket.EAI_FAMILY, f"unsupported address family {family!r}")
        if is_valid_ip(host):
            literal = socket.AF_INET6 if ":" in host else socket.AF_INET
            if literal not in families:
                raise socket.gaierror(
                    socket.EAI_ADDRFAMILY, f"{host!r} is not an address of family {family!r}"
                )
            return [(literal, (host, port))]
        addresses = await self._lookup(self._hosts, host, families)
        if not addresses:
            addresses = await self._lookup(self._dns_client(), host, families)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{host!r} could not be resolved")
        return [(af, (address, port)) for af, address in dict.fromkeys(addresses)]
