"""CaresResolver (optional extra ``[cares]``): skipped when pycares is not installed."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("pycares")

from tornado.platform.caresresolver import CaresResolver


@pytest.mark.asyncio
async def test_cares_resolves_ip_literals_without_lookup() -> None:
    resolver = CaresResolver()
    try:
        assert await resolver.resolve("127.0.0.1", 80) == [(socket.AF_INET, ("127.0.0.1", 80))]
        with pytest.raises(OSError):
            await resolver.resolve("127.0.0.1", 80, socket.AF_INET6)
    finally:
        resolver.close()


@pytest.mark.asyncio
async def test_cares_resolves_localhost_from_the_hosts_file() -> None:
    # c-ares answers "localhost" itself (RFC 6761) or from /etc/hosts: a real
    # lookup that sends nothing over the network.
    resolver = CaresResolver()
    try:
        result = await resolver.resolve("localhost", 8080, socket.AF_INET)
        assert result == [(socket.AF_INET, ("127.0.0.1", 8080))]
    finally:
        resolver.close()
