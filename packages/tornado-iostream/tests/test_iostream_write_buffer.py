"""The write buffer (`_StreamBuffer`): chunking, views of the caller's data, and its use by streams."""

from __future__ import annotations

import asyncio
import random
import socket

import pytest

from tornado.iostream import IOStream, StreamClosedError, _StreamBuffer

Pair = tuple[IOStream, IOStream]


def small_threshold_buffer(threshold: int) -> _StreamBuffer:
    buf = _StreamBuffer()
    buf._large_buf_threshold = threshold
    return buf


def front(buf: _StreamBuffer, size: int) -> bytes:
    with buf.peek(size) as view:
        return view.tobytes()


def is_resizable(data: bytearray) -> bool:
    """True if no view of ``data`` is alive (a bytearray with exports cannot grow)."""
    try:
        data += b"!"
    except BufferError:
        return False
    del data[-1:]
    return True


def test_small_writes_share_one_chunk_up_to_the_threshold() -> None:
    buf = small_threshold_buffer(10)
    for _ in range(10):
        buf.append(b"x")
    assert len(buf._buffers) == 1
    buf.append(b"y")
    assert len(buf._buffers) == 2
    assert len(buf) == 11
    assert front(buf, 100) == b"x" * 10  # a peek never spans chunks
    buf.advance(10)
    assert len(buf._buffers) == 1
    assert front(buf, 100) == b"y"
    buf.advance(1)
    assert len(buf) == 0 and not buf._buffers
    assert front(buf, 5) == b""


def test_large_writes_are_queued_by_reference_and_released_when_sent() -> None:
    buf = small_threshold_buffer(10)
    first = bytearray(b"a" * 20)
    second = bytearray(b"b" * 20)
    buf.append(first)
    buf.append(second)
    buf.append(b"tail")
    assert len(buf._buffers) == 3
    assert not is_resizable(first) and not is_resizable(second)
    buf.advance(15)
    assert front(buf, 100) == b"a" * 5
    assert not is_resizable(first)
    buf.advance(5)
    # The first chunk is gone: its view is released at once.
    assert is_resizable(first) and not is_resizable(second)
    assert front(buf, 3) == b"bbb"
    buf.clear()
    assert is_resizable(second)
    assert len(buf) == 0 and not buf._buffers
    buf.append(b"again")
    assert front(buf, 10) == b"again"


def test_typed_memoryviews_are_counted_in_bytes() -> None:
    buf = small_threshold_buffer(10)
    small = memoryview(bytes(range(8))).cast("I")  # 2 items, 8 bytes
    large = memoryview(bytes(range(40))).cast("I")  # 10 items, 40 bytes
    buf.append(small)
    buf.append(large)
    assert len(buf) == 48
    assert front(buf, 100) == bytes(range(8))
    buf.advance(8)
    assert front(buf, 100) == bytes(range(40))


def test_empty_writes_add_nothing() -> None:
    buf = _StreamBuffer()
    buf.append(b"")
    buf.append(memoryview(b""))
    assert len(buf) == 0 and not buf._buffers


def test_advance_past_the_end_is_refused() -> None:
    buf = _StreamBuffer()
    buf.append(b"abc")
    with pytest.raises(ValueError):
        buf.advance(4)


@pytest.mark.parametrize("threshold", [1, 7, 64])
def test_random_appends_and_advances_match_a_plain_bytes_model(threshold: int) -> None:
    rng = random.Random(threshold)
    buf = small_threshold_buffer(threshold)
    model = b""
    arrays: list[bytearray] = []
    for _ in range(400):
        if model and rng.random() < 0.45:
            count = rng.randrange(1, len(model) + 1)
            buf.advance(count)
            model = model[count:]
        else:
            data = rng.randbytes(rng.randrange(0, 3 * threshold))
            kind = rng.choice(["bytes", "bytearray", "memoryview"])
            if kind == "bytearray":
                arrays.append(bytearray(data))
                buf.append(arrays[-1])
            elif kind == "memoryview":
                buf.append(memoryview(data))
            else:
                buf.append(data)
            model += data
        assert len(buf) == len(model)
        if model:
            got = front(buf, rng.randrange(1, 2 * len(model) + 1))
            assert got and model.startswith(got)
    buf.advance(len(model))
    assert all(is_resizable(a) for a in arrays)


@pytest.mark.asyncio
async def test_a_written_bytearray_is_resizable_once_the_write_completes(pair: Pair) -> None:
    server, client = pair
    data = bytearray(b"z" * 100_000)
    reading = server.read_bytes(len(data))
    await client.write(data)
    assert await reading == bytes(data)
    del data[:]  # would raise BufferError if the stream still held a view


@pytest.mark.asyncio
async def test_close_releases_a_pending_large_write(pair: Pair) -> None:
    _server, client = pair
    # Nobody reads, so most of 16 MB stays queued in the stream.
    data = bytearray(16 * 1024 * 1024)
    writing = client.write(data)
    assert client.writing()
    client.close()
    with pytest.raises(StreamClosedError):
        await writing
    del data[:]


@pytest.mark.asyncio
async def test_many_small_writes_under_back_pressure_arrive_in_order(pair: Pair) -> None:
    server, client = pair
    pieces = [b"%06d," % i for i in range(50_000)]
    for piece in pieces:
        client.write(piece)
    expected = b"".join(pieces)
    assert await server.read_bytes(len(expected)) == expected


@pytest.mark.asyncio
async def test_write_while_connecting_keeps_large_data_by_reference(
    listener: socket.socket,
) -> None:
    client = IOStream(socket.socket())
    connecting = client.connect(listener.getsockname())
    data = bytearray(b"q" * 10_000)
    writing = client.write(data)
    assert not is_resizable(data)
    conn, _ = await asyncio.get_running_loop().sock_accept(listener)
    server = IOStream(conn)
    try:
        await connecting
        await writing
        assert is_resizable(data)
        assert await server.read_bytes(10_000) == b"q" * 10_000
    finally:
        server.close()
        client.close()
