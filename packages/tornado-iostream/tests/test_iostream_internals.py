"""The documented internals other distributions use (see the README)."""

from __future__ import annotations

import asyncio

import pytest

from tornado.iostream import IOStream


@pytest.mark.asyncio
async def test_unread_bytes_come_first(pair: tuple[IOStream, IOStream]) -> None:
    server, client = pair
    await client.write(b"world\n")
    assert await server.read_bytes(2) == b"wo"
    # Some of what is buffered and the surplus a parser took are both read
    # again, the surplus first.
    server._unread(b"hello ")
    assert await server.read_until(b"\n") == b"hello rld\n"


@pytest.mark.asyncio
async def test_unread_on_an_empty_buffer(pair: tuple[IOStream, IOStream]) -> None:
    server, client = pair
    server._unread(b"\x81\x05")
    assert await server.read_bytes(2) == b"\x81\x05"
    await client.write(b"more")
    assert await server.read_bytes(4) == b"more"


@pytest.mark.asyncio
async def test_unread_satisfies_a_pending_read(pair: tuple[IOStream, IOStream]) -> None:
    server, _ = pair
    reading = server.read_bytes(3)
    assert not reading.done()
    server._unread(b"abcd")
    assert await asyncio.wait_for(reading, 10) == b"abc"
    assert await server.read_bytes(1) == b"d"
