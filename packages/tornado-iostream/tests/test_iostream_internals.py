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


@pytest.mark.asyncio
async def test_consumer_gets_buffered_then_received_bytes(pair: tuple[IOStream, IOStream]) -> None:
    server, client = pair
    await client.write(b"ab\n")
    assert await server.read_until(b"a") == b"a"
    got: asyncio.Queue[bytes] = asyncio.Queue()
    # What is buffered comes back from the call; what arrives later goes to
    # the consumer, from the loop.
    assert server._start_consuming(got.put_nowait) == b"b\n"
    await client.write(b"cd")
    assert await asyncio.wait_for(got.get(), 10) == b"cd"


@pytest.mark.asyncio
async def test_stopped_consumer_leaves_bytes_for_a_read(pair: tuple[IOStream, IOStream]) -> None:
    server, client = pair
    got: list[bytes] = []
    server._start_consuming(got.append)
    server._stop_consuming()
    await client.write(b"later")
    assert await asyncio.wait_for(server.read_bytes(5), 10) == b"later"
    assert got == []


@pytest.mark.asyncio
async def test_consumer_sees_a_large_burst_whole(pair: tuple[IOStream, IOStream]) -> None:
    server, client = pair
    server.read_chunk_size = 1000
    got: list[bytes] = []
    arrived = asyncio.Event()

    def consume(data: bytes) -> None:
        got.append(data)
        if sum(map(len, got)) == 2500:
            arrived.set()

    # Once the write is done the loopback peer's kernel holds all of it:
    # the full pieces the stream receives are joined into one call.
    await client.write(b"x" * 2500)
    server._start_consuming(consume)
    await asyncio.wait_for(arrived.wait(), 10)
    assert got == [b"x" * 2500]


@pytest.mark.asyncio
async def test_consumer_end_of_stream_closes(pair: tuple[IOStream, IOStream]) -> None:
    server, client = pair
    closed = asyncio.Event()
    server.set_close_callback(closed.set)
    server._start_consuming(lambda data: None)
    client.close()
    await asyncio.wait_for(closed.wait(), 10)
    assert server.closed()
