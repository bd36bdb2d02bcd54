"""IOStream and PipeIOStream over real TCP, Unix sockets and pipes."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from pathlib import Path

import pytest

from tornado.iostream import (
    IOStream,
    PipeIOStream,
    StreamBufferFullError,
    StreamClosedError,
    UnsatisfiableReadError,
)
from tornado.netutil import bind_unix_socket

Pair = tuple[IOStream, IOStream]


async def accept(listener: socket.socket) -> socket.socket:
    """Accept one connection without blocking the loop."""
    conn, _ = await asyncio.get_running_loop().sock_accept(listener)
    return conn


@pytest.mark.asyncio
async def test_read_until_returns_data_including_delimiter(pair: Pair) -> None:
    server, client = pair
    await client.write(b"GET / HTTP/1.1\r\n\r\nrest")
    assert await server.read_until(b"\r\n\r\n") == b"GET / HTTP/1.1\r\n\r\n"
    assert await server.read_bytes(4) == b"rest"


@pytest.mark.asyncio
async def test_read_until_delimiter_split_across_segments(pair: Pair) -> None:
    server, client = pair
    reading = server.read_until(b"\r\n")
    await client.write(b"abc\r")
    # Two segments: the delimiter straddles them when they arrive separately.
    await client.write(b"\ndef")
    assert await reading == b"abc\r\n"
    assert await server.read_bytes(3) == b"def"


@pytest.mark.asyncio
async def test_many_small_messages_in_one_segment_are_split_by_reads(pair: Pair) -> None:
    server, client = pair
    await client.write(b"".join(b"line %d\n" % i for i in range(100)))
    for i in range(100):
        assert await server.read_until(b"\n") == b"line %d\n" % i


@pytest.mark.asyncio
async def test_read_bytes_waits_for_all_bytes(pair: Pair) -> None:
    server, client = pair
    reading = server.read_bytes(10)
    await client.write(b"12345")
    await client.write(b"67890abc")
    assert await reading == b"1234567890"
    assert await server.read_bytes(3) == b"abc"


@pytest.mark.asyncio
async def test_read_bytes_partial_returns_what_is_available(pair: Pair) -> None:
    server, client = pair
    await client.write(b"hello")
    data = await server.read_bytes(100, partial=True)
    assert data == b"hello"
    await client.write(b"0123456789")
    assert await server.read_bytes(4, partial=True) == b"0123"
    assert await server.read_bytes(100, partial=True) == b"456789"


@pytest.mark.asyncio
async def test_read_bytes_zero_resolves_immediately(pair: Pair) -> None:
    server, _ = pair
    future = server.read_bytes(0)
    assert future.done() and future.result() == b""


@pytest.mark.asyncio
async def test_read_until_regex(pair: Pair) -> None:
    server, client = pair
    await client.write(b"key: value\r\nnext")
    assert await server.read_until_regex(rb"\r?\n") == b"key: value\r\n"
    assert await server.read_bytes(4) == b"next"


@pytest.mark.asyncio
async def test_read_until_max_bytes_closes_with_unsatisfiable(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    server, client = pair
    await client.write(b"0123456789")
    with caplog.at_level(logging.INFO, "tornado.general"), pytest.raises(StreamClosedError) as info:
        await server.read_until(b"\n", max_bytes=5)
    assert isinstance(info.value.real_error, UnsatisfiableReadError)
    assert server.closed()
    assert "Unsatisfiable read" in caplog.text


@pytest.mark.asyncio
async def test_read_until_max_bytes_allows_delimiter_within_limit(pair: Pair) -> None:
    server, client = pair
    await client.write(b"abcd\nefgh")
    assert await server.read_until(b"\n", max_bytes=5) == b"abcd\n"
    assert not server.closed()


@pytest.mark.asyncio
async def test_read_until_max_bytes_rejects_delimiter_past_limit_arriving_later(
    pair: Pair,
) -> None:
    server, client = pair
    reading = server.read_until(b"\n", max_bytes=4)
    await client.write(b"abcdefgh\n")
    with pytest.raises(StreamClosedError) as info:
        await reading
    assert isinstance(info.value.real_error, UnsatisfiableReadError)


@pytest.mark.asyncio
async def test_read_until_regex_max_bytes(pair: Pair) -> None:
    server, client = pair
    await client.write(b"x" * 20)
    with pytest.raises(StreamClosedError) as info:
        await server.read_until_regex(rb"\n", max_bytes=10)
    assert isinstance(info.value.real_error, UnsatisfiableReadError)


@pytest.mark.asyncio
async def test_read_until_close_returns_everything(pair: Pair) -> None:
    server, client = pair
    await client.write(b"a" * 1000)
    await client.write(b"b" * 300_000)
    client.close()
    data = await server.read_until_close()
    assert data == b"a" * 1000 + b"b" * 300_000
    assert server.closed()


@pytest.mark.asyncio
async def test_reads_complete_from_buffer_after_peer_closed(pair: Pair) -> None:
    server, client = pair
    await client.write(b"line one\nline two\ntail")
    client.close()
    # The close is noticed while data is still buffered.
    assert await server.read_until(b"\n") == b"line one\n"
    assert await server.read_until(b"\n") == b"line two\n"
    assert await server.read_bytes(4) == b"tail"
    with pytest.raises(StreamClosedError):
        await server.read_bytes(1)


@pytest.mark.asyncio
async def test_partial_read_gets_remaining_data_at_close(pair: Pair) -> None:
    server, client = pair
    reading = server.read_bytes(100, partial=True)
    await client.write(b"xyz")
    client.close()
    assert await reading == b"xyz"


@pytest.mark.asyncio
async def test_pending_read_fails_when_peer_closes_mid_read(pair: Pair) -> None:
    server, client = pair
    reading = server.read_bytes(1000)
    await client.write(b"only part")
    client.close()
    with pytest.raises(StreamClosedError):
        await reading
    assert server.closed()


@pytest.mark.asyncio
async def test_read_into_fills_buffer(pair: Pair) -> None:
    server, client = pair
    buf = bytearray(10)
    reading = server.read_into(buf)
    await client.write(b"0123")
    await client.write(b"456789extra")
    assert await reading == 10
    assert buf == b"0123456789"
    assert await server.read_bytes(5) == b"extra"


@pytest.mark.asyncio
async def test_read_into_uses_buffered_data_first(pair: Pair) -> None:
    server, client = pair
    await client.write(b"abcdef\n123")
    assert await server.read_until(b"\n") == b"abcdef\n"
    buf = bytearray(5)
    reading = server.read_into(buf)
    await client.write(b"45")
    assert await reading == 5
    assert buf == b"12345"


@pytest.mark.asyncio
async def test_read_into_partial(pair: Pair) -> None:
    server, client = pair
    buf = bytearray(100)
    reading = server.read_into(buf, partial=True)
    await client.write(b"hi")
    assert await reading == 2
    assert buf[:2] == b"hi"


@pytest.mark.asyncio
async def test_only_one_read_at_a_time(pair: Pair) -> None:
    server, client = pair
    reading = server.read_bytes(1)
    with pytest.raises(RuntimeError):
        server.read_bytes(1)
    await client.write(b"x")
    assert await reading == b"x"


@pytest.mark.asyncio
async def test_write_memoryview_and_large_write(pair: Pair) -> None:
    server, client = pair
    payload = os.urandom(8 * 1024 * 1024)
    view = memoryview(payload)
    writes = [client.write(view[:1000]), client.write(view[1000:])]
    received = await server.read_bytes(len(payload))
    await asyncio.gather(*writes)
    assert received == payload
    assert not client.writing()


@pytest.mark.asyncio
async def test_write_bytearray_is_copied(pair: Pair) -> None:
    server, client = pair
    data = bytearray(b"z" * 10_000)
    writing = client.write(data)
    data[:] = b"y" * 10_000  # the caller may reuse its buffer at once
    assert await server.read_bytes(10_000) == b"z" * 10_000
    await writing


@pytest.mark.asyncio
async def test_write_future_resolves_when_flushed_with_reader_slow(pair: Pair) -> None:
    server, client = pair
    payload = b"q" * (16 * 1024 * 1024)
    writing = client.write(payload)
    # The kernel buffers cannot hold 16 MB: the write is pending until read.
    assert client.writing()
    assert not writing.done()
    assert await server.read_bytes(len(payload)) == payload
    await writing
    assert not client.writing()


@pytest.mark.asyncio
async def test_max_write_buffer_size(listener: socket.socket) -> None:
    client = IOStream(socket.socket(), max_write_buffer_size=1024 * 1024)
    connecting = client.connect(listener.getsockname())
    peer = await accept(listener)
    try:
        await connecting
        # Fill kernel buffers and then our own; nobody reads on the other end.
        client.write(b"x" * (1024 * 1024))
        with pytest.raises(StreamBufferFullError):
            for _ in range(64):
                client.write(b"y" * (1024 * 1024))
    finally:
        client.close()
        peer.close()


@pytest.mark.asyncio
async def test_max_buffer_size_closes_stream(listener: socket.socket) -> None:
    client = IOStream(socket.socket())
    connecting = client.connect(listener.getsockname())
    server = IOStream(await accept(listener), max_buffer_size=64 * 1024, read_chunk_size=4096)
    await connecting
    try:
        client.write(b"z" * (1024 * 1024))
        with pytest.raises(StreamClosedError) as info:
            await server.read_until(b"\n")
        assert isinstance(info.value.real_error, StreamBufferFullError)
        assert isinstance(server.error, StreamBufferFullError)
        assert server.closed()
    finally:
        client.close()
        server.close()


@pytest.mark.asyncio
async def test_write_fails_when_peer_closes_mid_write(pair: Pair) -> None:
    server, client = pair
    writing = client.write(b"w" * (32 * 1024 * 1024))
    # Linger 0: the close sends RST, so the writer sees a reset, not a FIN.
    server.socket.setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
    )
    server.close()
    with pytest.raises(StreamClosedError) as info:
        await writing
    assert isinstance(info.value.real_error, ConnectionError)
    assert client.closed()
    with pytest.raises(StreamClosedError):
        client.write(b"more")


@pytest.mark.asyncio
async def test_close_callback_runs_once_on_peer_close(pair: Pair) -> None:
    server, client = pair
    closed = asyncio.Event()
    calls = []

    def on_close() -> None:
        calls.append(server.closed())
        closed.set()

    server.set_close_callback(on_close)
    client.close()
    await closed.wait()
    assert calls == [True]
    assert server.error is None


@pytest.mark.asyncio
async def test_close_with_exception_records_error(pair: Pair) -> None:
    server, _ = pair
    reading = server.read_bytes(1)
    error = ValueError("boom")
    server.close(exc_info=error)
    assert server.error is error
    with pytest.raises(StreamClosedError) as info:
        await reading
    assert info.value.real_error is error


@pytest.mark.asyncio
async def test_close_with_exc_info_true_uses_current_exception(pair: Pair) -> None:
    server, _ = pair
    try:
        raise KeyError("current")
    except KeyError:
        server.close(exc_info=True)
    assert isinstance(server.error, KeyError)


@pytest.mark.asyncio
async def test_reading_and_writing_state(pair: Pair) -> None:
    server, client = pair
    assert not server.reading()
    reading = server.read_bytes(2)
    assert server.reading()
    await client.write(b"ok")
    await reading
    assert not server.reading()
    assert not client.writing()


@pytest.mark.asyncio
async def test_set_nodelay(pair: Pair) -> None:
    _, client = pair
    client.set_nodelay(True)
    assert client.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    client.set_nodelay(False)
    assert client.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0


@pytest.mark.asyncio
async def test_connect_refused_raises_stream_closed_with_real_error() -> None:
    # A port that was just free: bind, note it, close.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    stream = IOStream(socket.socket())
    with pytest.raises(StreamClosedError) as info:
        await stream.connect(("127.0.0.1", port))
    assert isinstance(info.value.real_error, ConnectionRefusedError)
    assert stream.closed()


@pytest.mark.asyncio
async def test_write_before_connect_completes_is_sent(listener: socket.socket) -> None:
    client = IOStream(socket.socket())
    connecting = client.connect(listener.getsockname())
    writing = client.write(b"early bird\n")
    server = IOStream(await accept(listener))
    try:
        assert await connecting is client
        await writing
        assert await server.read_until(b"\n") == b"early bird\n"
    finally:
        client.close()
        server.close()


@pytest.mark.asyncio
async def test_unix_socket_stream(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    listener = bind_unix_socket(path)
    try:
        client = IOStream(socket.socket(socket.AF_UNIX))
        connecting = client.connect(path)
        server = IOStream(await accept(listener))
        await connecting
        await client.write(b"over unix\n")
        assert await server.read_until(b"\n") == b"over unix\n"
        client.set_nodelay(True)  # no effect on Unix sockets, and no error
        client.close()
        assert await server.read_until_close() == b""
        server.close()
    finally:
        listener.close()


@pytest.mark.asyncio
async def test_unix_connect_to_missing_path(tmp_path: Path) -> None:
    stream = IOStream(socket.socket(socket.AF_UNIX))
    with pytest.raises(StreamClosedError) as info:
        await stream.connect(str(tmp_path / "absent.sock"))
    assert isinstance(info.value.real_error, FileNotFoundError)


@pytest.mark.asyncio
async def test_pipe_stream_round_trip() -> None:
    r, w = os.pipe()
    reader, writer = PipeIOStream(r), PipeIOStream(w)
    try:
        await writer.write(b"through a pipe\n" * 1000)
        assert await reader.read_until(b"\n") == b"through a pipe\n"
        writer.close()
        rest = await reader.read_until_close()
        assert rest == b"through a pipe\n" * 999
    finally:
        reader.close()
        writer.close()


@pytest.mark.asyncio
async def test_pipe_stream_accepts_file_object() -> None:
    r, w = os.pipe()
    reader = PipeIOStream(os.fdopen(r, "rb", buffering=0))
    writer = PipeIOStream(w)
    try:
        await writer.write(b"file object")
        assert await reader.read_bytes(11) == b"file object"
    finally:
        reader.close()
        writer.close()


@pytest.mark.asyncio
async def test_pipe_read_into_is_zero_copy_target() -> None:
    r, w = os.pipe()
    reader, writer = PipeIOStream(r), PipeIOStream(w)
    try:
        buf = bytearray(6)
        reading = reader.read_into(buf)
        await writer.write(b"abcdef")
        assert await reading == 6
        assert buf == b"abcdef"
    finally:
        reader.close()
        writer.close()


@pytest.mark.asyncio
async def test_write_to_pipe_with_closed_reader_fails() -> None:
    r, w = os.pipe()
    os.close(r)
    writer = PipeIOStream(w)
    with pytest.raises(StreamClosedError) as info:
        await writer.write(b"nobody listens")
    assert isinstance(info.value.real_error, BrokenPipeError)
    assert info.value.real_error.errno == errno.EPIPE
