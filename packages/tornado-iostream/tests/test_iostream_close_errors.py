"""How reads end when a stream closes: cleanly, by reset, by error, by overflow; and TLS closes."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import ssl

import pytest

from tornado.iostream import IOStream, SSLIOStream, StreamBufferFullError, StreamClosedError
from tornado.netutil import ssl_wrap_socket

Pair = tuple[IOStream, IOStream]


async def make_pair(listener: socket.socket, stream_class: type[IOStream], **kwargs: int) -> Pair:
    client = IOStream(socket.socket())
    connecting = client.connect(listener.getsockname())
    conn, _ = await asyncio.get_running_loop().sock_accept(listener)
    server = stream_class(conn, **kwargs)
    await connecting
    return server, client


@pytest.mark.asyncio
async def test_read_on_a_closed_stream_raises_at_once(pair: Pair) -> None:
    server, client = pair
    await client.write(b"last words")
    client.close()
    assert await server.read_until_close() == b"last words"
    with pytest.raises(StreamClosedError):
        server.read_bytes(1)  # raises here, not from an awaited future
    with pytest.raises(StreamClosedError):
        server.read_into(bytearray(4))
    # Buffered data still satisfies reads after the close.
    assert server.read_until_close().result() == b""


@pytest.mark.asyncio
async def test_read_until_close_fails_when_an_error_closes_the_stream(pair: Pair) -> None:
    server, client = pair
    reading = server.read_until_close()
    await client.write(b"partial body")
    await asyncio.sleep(0)
    server.close(exc_info=ValueError("protocol violation"))
    with pytest.raises(StreamClosedError) as info:
        await reading
    assert isinstance(info.value.real_error, ValueError)


class ResetAtEOF(IOStream):
    """A stream whose end of file shows up as a reset (as some systems report a clean close)."""

    calls = 0

    def read_from_fd(self, buf: bytearray | memoryview) -> int | None:
        self.calls += 1
        count = super().read_from_fd(buf)
        if count == 0:
            raise ConnectionResetError(errno.ECONNRESET, "reset")
        return count


@pytest.mark.asyncio
async def test_read_until_close_returns_the_data_when_the_peer_resets(
    listener: socket.socket,
) -> None:
    server, client = await make_pair(listener, ResetAtEOF)
    try:
        await client.write(b"1234")
        # read_bytes goes through the subclass's read_from_fd too.
        assert await server.read_bytes(1) == b"1"
        assert isinstance(server, ResetAtEOF) and server.calls > 0
        client.close()
        assert await server.read_until_close() == b"234"
        assert isinstance(server.error, ConnectionResetError)
    finally:
        server.close()
        client.close()


@pytest.mark.asyncio
async def test_read_from_fd_replaced_on_an_instance_sees_every_read(pair: Pair) -> None:
    server, client = pair
    seen: list[int] = []
    original = server.read_from_fd

    def counting(buf: bytearray | memoryview) -> int | None:
        count = original(buf)
        seen.append(count or 0)
        return count

    server.read_from_fd = counting  # type: ignore[method-assign]
    await client.write(b"hello")
    assert await server.read_bytes(5) == b"hello"
    assert sum(seen) == 5


@pytest.mark.asyncio
async def test_read_until_close_overflow_fails_with_buffer_full(
    listener: socket.socket, caplog: pytest.LogCaptureFixture
) -> None:
    server, client = await make_pair(listener, IOStream, max_buffer_size=1024)
    try:
        reading = server.read_until_close()
        await client.write(b"a" * 8192)
        with (
            caplog.at_level(logging.WARNING, logger="tornado.general"),
            pytest.raises(StreamClosedError) as info,
        ):
            await reading
        assert isinstance(info.value.real_error, StreamBufferFullError)
        messages = [r.getMessage() for r in caplog.records]
        assert "Reached maximum read buffer size" in messages
        assert any(m.startswith("error on read") for m in messages)
    finally:
        server.close()
        client.close()


@pytest.mark.asyncio
async def test_fd_closed_behind_the_streams_back(pair: Pair) -> None:
    server, _client = pair
    os.close(server.socket.fileno())
    # The failure to watch the descriptor reaches the caller...
    with pytest.raises(OSError) as info:
        server.read_bytes(1)
    assert not isinstance(info.value, StreamClosedError)
    # ...and the stream is closed; closing again does not raise.
    assert server.closed()
    server.close()


# -- TLS -----------------------------------------------------------------------


async def tls_pair(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> tuple[SSLIOStream, SSLIOStream]:
    client = SSLIOStream(socket.socket(), ssl_options=client_context)
    connecting = client.connect(listener.getsockname(), server_hostname="localhost")
    conn, _ = await asyncio.get_running_loop().sock_accept(listener)
    server = SSLIOStream(
        ssl_wrap_socket(conn, server_context, server_side=True, do_handshake_on_connect=False)
    )
    await asyncio.gather(connecting, server.wait_for_handshake())
    return server, client


async def wait_readable(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    readable = loop.create_future()
    fd = sock.fileno()
    loop.add_reader(fd, lambda: readable.done() or readable.set_result(None))
    try:
        await readable
    finally:
        loop.remove_reader(fd)


@pytest.mark.asyncio
async def test_tls_client_that_never_read_closes_without_a_reset(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    server_context.minimum_version = ssl.TLSVersion.TLSv1_3  # session tickets follow the handshake
    server, client = await tls_pair(listener, server_context, client_context)
    try:
        # The tickets now sit unread in the client's socket.
        await wait_readable(client.socket)
        client.write(b"request and goodbye")
        client.close()
        await wait_readable(server.socket)
        # A reset (which may destroy data the client wrote just before)
        # would show as a pending ECONNRESET; a normal close leaves none.
        assert server.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        assert await server.read_until_close() == b"request and goodbye"
    finally:
        server.close()
        client.close()


@pytest.mark.asyncio
async def test_peer_reset_right_after_its_data_ends_a_pending_read(pair: Pair) -> None:
    server, client = pair
    await server.write(b"never read by the client")
    await wait_readable(client.socket)
    reading = server.read_until_close()
    # Closing with unread data makes the kernel send a reset after the bytes.
    client.socket.sendall(b"last bytes")
    client.close()
    # On uvloop the reset's readiness event is the last one reported for the
    # descriptor: the stream must find the reset without another event.
    # (The bound only turns a regression into a failure instead of a hang.)
    assert await asyncio.wait_for(reading, 10) == b"last bytes"
    assert isinstance(server.error, ConnectionResetError)


@pytest.mark.asyncio
async def test_cancelling_start_tls_closes_the_socket(
    pair: Pair, client_context: ssl.SSLContext
) -> None:
    server, client = pair
    handshake = client.start_tls(False, client_context, server_hostname="localhost")
    handshake.cancel()
    # The server never answered the ClientHello; it sees the close.
    assert (await server.read_until_close()).startswith(b"\x16\x03")
