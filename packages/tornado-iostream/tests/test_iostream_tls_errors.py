"""What a TLS server stream logs when a handshake fails (as Tornado does)."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl

import pytest

from tornado.iostream import SSLIOStream
from tornado.netutil import ssl_wrap_socket


async def serve_one(listener: socket.socket, server_context: ssl.SSLContext) -> SSLIOStream:
    conn, _ = await asyncio.get_running_loop().sock_accept(listener)
    return SSLIOStream(
        ssl_wrap_socket(conn, server_context, server_side=True, do_handshake_on_connect=False)
    )


async def handshake_with(
    listener: socket.socket, server_context: ssl.SSLContext, data: bytes, then_close: bool
) -> BaseException | None:
    """Send *data* as a client, then hang up or wait; return the server's handshake error."""
    host, port = listener.getsockname()
    accepting = asyncio.ensure_future(serve_one(listener, server_context))
    _reader, writer = await asyncio.open_connection(host, port)
    server = await accepting
    try:
        writer.write(data)
        if then_close:
            writer.close()
        try:
            await asyncio.wait_for(server.wait_for_handshake(), 10)
        except Exception as e:  # the TLS error itself, or StreamClosedError
            return e
        return None
    finally:
        server.close()
        writer.close()


@pytest.mark.asyncio
async def test_plain_http_on_a_tls_port_is_logged_without_traceback(
    listener: socket.socket, server_context: ssl.SSLContext, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tornado.general"):
        error = await handshake_with(
            listener, server_context, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", then_close=False
        )
    assert isinstance(error, ssl.SSLError)
    warnings = [r for r in caplog.records if r.getMessage().startswith("SSL Error on ")]
    assert len(warnings) == 1
    assert warnings[0].exc_info is None


@pytest.mark.asyncio
async def test_client_hanging_up_mid_handshake_is_not_logged(
    listener: socket.socket, server_context: ssl.SSLContext, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="tornado.general"):
        await handshake_with(listener, server_context, b"", then_close=True)
    assert not [r for r in caplog.records if r.getMessage().startswith("SSL Error")]
