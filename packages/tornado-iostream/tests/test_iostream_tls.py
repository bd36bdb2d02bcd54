"""SSLIOStream, start_tls and TLS servers, with certificates made at test time."""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest
import trustme

from tornado.iostream import IOStream, SSLIOStream, StreamClosedError
from tornado.netutil import ssl_wrap_socket
from tornado.tcpclient import TCPClient
from tornado.tcpserver import TCPServer


async def accept(listener: socket.socket) -> socket.socket:
    """Accept one connection without blocking the loop."""
    conn, _ = await asyncio.get_running_loop().sock_accept(listener)
    return conn


async def tls_pair(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> tuple[SSLIOStream, SSLIOStream]:
    """Connect an SSLIOStream client to a server-side SSLIOStream; both handshakes done."""
    client = SSLIOStream(socket.socket(), ssl_options=client_context)
    connecting = client.connect(listener.getsockname(), server_hostname="localhost")
    conn = await accept(listener)
    server = SSLIOStream(
        ssl_wrap_socket(conn, server_context, server_side=True, do_handshake_on_connect=False)
    )
    await asyncio.gather(connecting, server.wait_for_handshake())
    return server, client


@pytest.mark.asyncio
async def test_tls_round_trip_and_large_transfer(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    server, client = await tls_pair(listener, server_context, client_context)
    try:
        await client.write(b"hello over tls\n")
        assert await server.read_until(b"\n") == b"hello over tls\n"
        payload = bytes(range(256)) * 20_000  # 5 MB: many TLS records
        writing = server.write(payload)
        assert await client.read_bytes(len(payload)) == payload
        await writing
        assert server.socket.version() in ("TLSv1.2", "TLSv1.3")
    finally:
        server.close()
        client.close()


@pytest.mark.asyncio
async def test_tls_many_small_messages(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    server, client = await tls_pair(listener, server_context, client_context)
    try:
        for i in range(200):
            client.write(b"msg %d\n" % i)
            assert await server.read_until(b"\n") == b"msg %d\n" % i
        client.close()
        assert await server.read_until_close() == b""
    finally:
        server.close()
        client.close()


@pytest.mark.asyncio
async def test_tls_client_rejects_wrong_hostname(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    client = SSLIOStream(socket.socket(), ssl_options=client_context)
    connecting = client.connect(listener.getsockname(), server_hostname="not-the-host.example")
    conn = await accept(listener)
    server = SSLIOStream(
        ssl_wrap_socket(conn, server_context, server_side=True, do_handshake_on_connect=False)
    )
    try:
        # The handshake's own error, not a bare StreamClosedError.
        with pytest.raises(ssl.SSLCertVerificationError):
            await connecting
        assert isinstance(client.error, ssl.SSLCertVerificationError)
        # The server sees the client's alert, or the closed stream.
        with pytest.raises((StreamClosedError, ssl.SSLError)):
            await server.wait_for_handshake()
    finally:
        server.close()
        client.close()


@pytest.mark.asyncio
async def test_tls_client_rejects_untrusted_ca(
    listener: socket.socket, server_context: ssl.SSLContext
) -> None:
    stranger = ssl.create_default_context()
    trustme.CA().configure_trust(stranger)
    client = SSLIOStream(socket.socket(), ssl_options=stranger)
    connecting = client.connect(listener.getsockname(), server_hostname="localhost")
    conn = await accept(listener)
    server = SSLIOStream(
        ssl_wrap_socket(conn, server_context, server_side=True, do_handshake_on_connect=False)
    )
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            await connecting
    finally:
        server.close()
        client.close()


@pytest.mark.asyncio
async def test_start_tls_both_sides(
    listener: socket.socket, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    client = IOStream(socket.socket())
    connecting = client.connect(listener.getsockname())
    server = IOStream(await accept(listener))
    await connecting
    # A STARTTLS-style exchange in plaintext first.
    await client.write(b"STARTTLS\r\n")
    assert await server.read_until(b"\r\n") == b"STARTTLS\r\n"
    await server.write(b"GO\r\n")
    assert await client.read_until(b"\r\n") == b"GO\r\n"
    server_tls, client_tls = await asyncio.gather(
        server.start_tls(True, ssl_options=server_context),
        client.start_tls(False, ssl_options=client_context, server_hostname="localhost"),
    )
    try:
        assert isinstance(server_tls, SSLIOStream) and isinstance(client_tls, SSLIOStream)
        assert client_tls.socket.getpeercert()["subjectAltName"][0] == ("DNS", "localhost")
        await client_tls.write(b"secret\r\n")
        assert await server_tls.read_until(b"\r\n") == b"secret\r\n"
    finally:
        server_tls.close()
        client_tls.close()


@pytest.mark.asyncio
async def test_start_tls_refuses_with_pending_read(pair: tuple[IOStream, IOStream]) -> None:
    server, client = pair
    reading = server.read_bytes(1)
    with pytest.raises(ValueError):
        server.start_tls(True)
    await client.write(b"x")
    assert await reading == b"x"


class EchoServer(TCPServer):
    async def handle_stream(self, stream: IOStream, address: object) -> None:
        try:
            while True:
                await stream.write(await stream.read_until(b"\n"))
        except StreamClosedError:
            pass


@pytest.mark.asyncio
async def test_tls_server_survives_failed_handshakes(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
) -> None:
    server = EchoServer(ssl_options=server_context)
    server.listen(0, "127.0.0.1")
    [sock] = server._sockets.values()
    port = sock.getsockname()[1]
    try:
        # 1: plaintext spoken to the TLS port.
        plain = await TCPClient().connect("127.0.0.1", port)
        await plain.write(b"GET / HTTP/1.0\r\n\r\n")
        assert await plain.read_until_close() == b""
        plain.close()
        # 2: a client that hangs up mid-handshake (after its ClientHello).
        raw = socket.create_connection(("127.0.0.1", port))
        hello = ssl.create_default_context().wrap_bio(
            ssl.MemoryBIO(), outgoing := ssl.MemoryBIO(), server_hostname="localhost"
        )
        with pytest.raises(ssl.SSLWantReadError):
            hello.do_handshake()
        raw.sendall(outgoing.read())
        raw.close()
        # 3: a client that distrusts the certificate.
        stranger = ssl.create_default_context()
        trustme.CA().configure_trust(stranger)
        with pytest.raises(ssl.SSLCertVerificationError):
            await TCPClient().connect("127.0.0.1", port, ssl_options=stranger)
        # The server still serves a well-behaved client.
        good = await TCPClient().connect(
            "localhost", port, af=socket.AF_INET, ssl_options=client_context
        )
        assert isinstance(good, SSLIOStream)
        await good.write(b"still alive\n")
        assert await good.read_until(b"\n") == b"still alive\n"
        good.close()
    finally:
        server.stop()


@pytest.mark.asyncio
async def test_tls_server_with_dict_ssl_options(
    server_cert: trustme.LeafCert, client_context: ssl.SSLContext, tmp_path: object
) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    cert = tmp_path / "cert.pem"
    key = tmp_path / "key.pem"
    server_cert.cert_chain_pems[0].write_to_path(str(cert))
    server_cert.private_key_pem.write_to_path(str(key))
    server = EchoServer(ssl_options={"certfile": str(cert), "keyfile": str(key)})
    server.listen(0, "127.0.0.1")
    [sock] = server._sockets.values()
    try:
        stream = await TCPClient().connect(
            "localhost", sock.getsockname()[1], af=socket.AF_INET, ssl_options=client_context
        )
        await stream.write(b"dict options\n")
        assert await stream.read_until(b"\n") == b"dict options\n"
        stream.close()
    finally:
        server.stop()


def test_tls_server_checks_cert_files_up_front(tmp_path: object) -> None:
    # A missing key is a KeyError, as in Tornado; missing files a ValueError.
    with pytest.raises(KeyError, match="certfile"):
        TCPServer(ssl_options={"keyfile": "k.pem"})
    with pytest.raises(ValueError, match="does not exist"):
        TCPServer(ssl_options={"certfile": "/nonexistent/cert.pem"})
