"""The read buffer under bulk traffic: mixed read kinds, growth, compaction, idle release."""

from __future__ import annotations

import asyncio
import random
import socket
import ssl

import pytest

from tornado.iostream import IOStream, SSLIOStream
from tornado.netutil import ssl_wrap_socket

Pair = tuple[IOStream, IOStream]

READ_SIZES = [1, 7, 1000, 4096, 65535, 65536, 65537, 300_000, 1_500_000]


def payload(size: int, seed: int) -> bytes:
    """Random bytes (a newline every 256 bytes on average) ending with a newline."""
    return random.Random(seed).randbytes(size - 1) + b"\n"


async def read_in_mixed_ways(stream: IOStream, total: int, seed: int) -> bytes:
    """Read ``total`` bytes with a seeded mix of every read method; return them joined."""
    rng = random.Random(seed)
    pieces: list[bytes] = []
    got = 0
    while got < total:
        left = total - got
        op = rng.choice(["bytes", "partial", "until", "regex", "into", "into_partial"])
        size = min(rng.choice(READ_SIZES), left)
        if op == "bytes":
            piece = await stream.read_bytes(size)
            assert len(piece) == size
        elif op == "partial":
            piece = await stream.read_bytes(size, partial=True)
            assert 0 < len(piece) <= size
        elif op == "until":
            piece = await stream.read_until(b"\n")
            assert piece.endswith(b"\n") and b"\n" not in piece[:-1]
        elif op == "regex":
            piece = await stream.read_until_regex(b"[\n]")
            assert piece.endswith(b"\n") and b"\n" not in piece[:-1]
        else:
            target = bytearray(size)
            count = await stream.read_into(target, partial=op == "into_partial")
            assert 0 < count <= size and (op == "into_partial" or count == size)
            piece = bytes(target[:count])
        assert isinstance(piece, bytes)
        pieces.append(piece)
        got += len(piece)
        if rng.random() < 0.2:
            # Let the loop run with no read pending: data is read ahead.
            await asyncio.sleep(0)
    return b"".join(pieces)


@pytest.mark.asyncio
@pytest.mark.parametrize("write_size", [None, 1000, 70_000])
@pytest.mark.parametrize("seed", [1, 2])
async def test_mixed_reads_of_a_bulk_stream_return_every_byte_in_order(
    pair: Pair, seed: int, write_size: int | None
) -> None:
    server, client = pair
    data = payload(4 * 1024 * 1024, seed)
    if write_size is None:
        writing = client.write(data)
    else:
        for start in range(0, len(data), write_size):
            writing = client.write(data[start : start + write_size])
    assert await read_in_mixed_ways(server, len(data), seed) == data
    await writing
    client.close()
    assert await server.read_until_close() == b""


@pytest.mark.asyncio
async def test_mixed_reads_over_tls(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    client = SSLIOStream(socket.socket(), ssl_options=client_context)
    connecting = client.connect(listener.getsockname(), server_hostname="localhost")
    conn, _ = await asyncio.get_running_loop().sock_accept(listener)
    server = SSLIOStream(
        ssl_wrap_socket(conn, server_context, server_side=True, do_handshake_on_connect=False)
    )
    await asyncio.gather(connecting, server.wait_for_handshake())
    try:
        data = payload(2 * 1024 * 1024, 3)
        writing = client.write(data)
        assert await read_in_mixed_ways(server, len(data), 3) == data
        await writing
    finally:
        server.close()
        client.close()


@pytest.mark.asyncio
async def test_large_read_bytes_and_read_until_close(pair: Pair) -> None:
    server, client = pair
    first = payload(6 * 1024 * 1024, 4)
    second = payload(5 * 1024 * 1024 + 17, 5)
    writing = client.write(first + second)
    assert await server.read_bytes(len(first)) == first
    reading = server.read_until_close()
    await writing
    client.close()
    assert await reading == second


@pytest.mark.asyncio
async def test_regex_anchor_matches_at_start_of_unread_data(pair: Pair) -> None:
    server, client = pair
    await client.write(b"abcfoo\nbar")
    assert await server.read_bytes(3) == b"abc"
    # The pattern sees the unread data as a fresh string: ^ matches at its start.
    assert await server.read_until_regex(b"^foo\n") == b"foo\n"
    assert await server.read_until_regex(b"(?<!x)bar") == b"bar"


@pytest.mark.asyncio
async def test_buffer_grows_while_a_view_of_it_is_held(pair: Pair) -> None:
    server, client = pair
    await client.write(b"0123456789")
    assert await server.read_bytes(5) == b"01234"
    # Someone holding a view must not break the buffer's growth.
    held = server._read_view[server._read_pos : server._read_end]
    data = payload(300_000, 6)
    client.write(data)
    assert await server.read_bytes(5 + len(data)) == b"56789" + data
    assert held.tobytes() == b"56789"
    held.release()


@pytest.mark.asyncio
async def test_idle_stream_keeps_no_read_buffer(pair: Pair) -> None:
    server, client = pair
    data = payload(300_000, 7)
    client.write(data)
    assert await server.read_bytes(len(data)) == data
    reading = server.read_until(b"\n")
    # Waiting for more with nothing buffered: the buffer memory is released.
    assert len(server._read_buf) == 0
    await client.write(b"next\n")
    assert await reading == b"next\n"
