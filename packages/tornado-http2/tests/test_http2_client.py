"""HTTP2AsyncHTTPClient against our HTTP2Server, against hypercorn (a real
HTTP/2 server of another family), and against an HTTP/1.1-only TLS server
(ALPN fallback)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
import trustme

from tornado.http2 import HTTP2AsyncHTTPClient
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.simple_httpclient import HTTPTimeoutError

from .conftest import Serve, Served, listening_socket
from .h2apps import DelegateApp

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest_asyncio.fixture
async def client(cafile: str) -> AsyncIterator[HTTP2AsyncHTTPClient]:
    """A private client that trusts the test CA and speaks h2c by prior knowledge."""
    instance = HTTP2AsyncHTTPClient(
        force_instance=True, defaults={"ca_certs": cafile}, prior_knowledge=True
    )
    yield instance
    instance.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("tls", [False, True], ids=["prior-knowledge", "tls-alpn"])
async def test_concurrent_requests_share_one_connection(
    serve: Serve, client: HTTP2AsyncHTTPClient, tls: bool
) -> None:
    app = DelegateApp()
    served = await serve(app, tls=tls)
    responses = await asyncio.gather(
        *(client.fetch(served.url + "/echo", method="POST", body=b"y" * i) for i in range(150))
    )
    assert [json.loads(r.body)["size"] for r in responses] == list(range(150))
    # 150 requests, more than the server's 100 concurrent streams: they
    # waited for free streams rather than opening a second connection.
    assert served.server.accepted == 1
    assert len(app.server_connections) == 1
    info = json.loads((await client.fetch(served.url + "/info")).body)
    assert info["version"] == "HTTP/2.0"


@pytest.mark.asyncio
async def test_configure_makes_it_the_default(serve: Serve, cafile: str) -> None:
    served = await serve(DelegateApp(), tls=True)
    AsyncHTTPClient.configure("tornado.http2.HTTP2AsyncHTTPClient")
    try:
        instance = AsyncHTTPClient(force_instance=True, defaults={"ca_certs": cafile})
        assert isinstance(instance, HTTP2AsyncHTTPClient)
        response = await instance.fetch(served.url + "/info")
        assert json.loads(response.body)["version"] == "HTTP/2.0"
        instance.close()
    finally:
        AsyncHTTPClient.configure(None)


@pytest.mark.asyncio
async def test_request_options(serve: Serve, client: HTTP2AsyncHTTPClient) -> None:
    served = await serve(DelegateApp(), tls=True)
    # header_callback and streaming_callback.
    lines: list[str] = []
    chunks: list[bytes] = []
    response = await client.fetch(
        served.url + "/stream?n=8", header_callback=lines.append, streaming_callback=chunks.append
    )
    assert lines[0].startswith("HTTP/2.0 200") and lines[-1] == "\r\n"
    assert b"".join(chunks) == b"".join(bytes([65 + i]) * 65536 for i in range(8))
    assert response.body == b""

    # body_producer, in pieces, through the flow-control windows.
    async def produce(write: Callable[[bytes], object]) -> None:
        for _ in range(40):
            await write(b"z" * 32768)  # type: ignore[misc]

    response = await client.fetch(served.url + "/echo", method="POST", body_producer=produce)
    assert json.loads(response.body)["size"] == 40 * 32768
    # decompress_response (asked for, and inflated).
    response = await client.fetch(served.url + "/gzip")
    assert response.body == b"squeeze " * 1000
    assert response.headers["X-Consumed-Content-Encoding"] == "gzip"
    raw = await client.fetch(served.url + "/gzip", decompress_response=False)
    assert raw.body != response.body and raw.headers["Content-Encoding"] == "gzip"
    # Headers the client sends: basic auth, user agent, Accept-Encoding.
    seen = json.loads(
        (
            await client.fetch(
                served.url + "/headers", auth_username="u", auth_password="p", user_agent="t/1"
            )
        ).body
    )
    assert seen["Authorization"] == "Basic dTpw"
    assert seen["User-Agent"] == "t/1"
    assert seen["Accept-Encoding"] == "gzip"
    assert "Connection" not in seen and "Host" in seen


@pytest.mark.asyncio
async def test_redirects(serve: Serve, client: HTTP2AsyncHTTPClient) -> None:
    served = await serve(DelegateApp(), tls=True)
    response = await client.fetch(served.url + "/redirect")
    assert response.code == 200 and response.effective_url == served.url + "/info"
    assert response.request.url == served.url + "/redirect"
    with pytest.raises(HTTPClientError) as caught:
        await client.fetch(served.url + "/redirect", follow_redirects=False)
    assert caught.value.code == 302
    assert caught.value.response is not None
    assert caught.value.response.headers["Location"] == "/info"
    response = await client.fetch(served.url + "/redirect", max_redirects=0, raise_error=False)
    assert response.code == 302


@pytest.mark.asyncio
async def test_request_timeout_resets_only_that_stream(
    serve: Serve, client: HTTP2AsyncHTTPClient
) -> None:
    app = DelegateApp()
    served = await serve(app, tls=True)
    with pytest.raises(HTTPTimeoutError):
        await client.fetch(served.url + "/wait", request_timeout=0.2)
    # The server heard the stream go (CANCEL), the connection serves on.
    response = await client.fetch(served.url + "/")
    assert response.body == b"Hello, world"
    assert served.server.accepted == 1
    assert app.closed == 1


@pytest.mark.asyncio
async def test_max_body_size(serve: Serve, cafile: str) -> None:
    served = await serve(DelegateApp(), tls=True)
    small = HTTP2AsyncHTTPClient(
        force_instance=True, defaults={"ca_certs": cafile}, max_body_size=1000
    )
    try:
        with pytest.raises(Exception, match="too large"):
            await small.fetch(served.url + "/stream?n=2")
        assert (await small.fetch(served.url + "/")).body == b"Hello, world"
    finally:
        small.close()


@pytest.mark.asyncio
async def test_alpn_fallback_to_http1(
    client: HTTP2AsyncHTTPClient, server_cert: trustme.LeafCert
) -> None:
    # An HTTP/1.1-only TLS server (no ALPN h2): the client falls back.
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine

    def handle(request: HTTPServerRequest) -> None:
        assert request.connection is not None
        body = request.version.encode()
        request.connection.write_headers(
            ResponseStartLine("HTTP/1.1", 200, "OK"),
            HTTPHeaders({"Content-Length": str(len(body))}),
            body,
        )
        request.connection.finish()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    server = HTTPServer(handle, ssl_options=context)
    sock = listening_socket()
    server.add_sockets([sock])
    url = f"https://localhost:{sock.getsockname()[1]}/"
    try:
        bodies = [r.body for r in await asyncio.gather(*(client.fetch(url) for _ in range(5)))]
        assert bodies == [b"HTTP/1.1"] * 5
    finally:
        server.stop()
        await server.close_all_connections()


@pytest.mark.asyncio
async def test_cleartext_without_prior_knowledge_uses_http1(serve: Serve, cafile: str) -> None:
    served = await serve(DelegateApp())
    plain = HTTP2AsyncHTTPClient(force_instance=True)
    try:
        info = json.loads((await plain.fetch(served.url + "/info")).body)
        assert info["version"] == "HTTP/1.1"
    finally:
        plain.close()


# -- hypercorn -----------------------------------------------------------------


@pytest.fixture
def hypercorn(server_cert: trustme.LeafCert, tmp_path: Path) -> Iterator[str]:
    """hypercorn serving tests/hypercorn_app.py over TLS (h2 by ALPN) on a
    socket we made, so there is no race for the port."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    server_cert.cert_chain_pems[0].write_to_path(str(cert))
    server_cert.private_key_pem.write_to_path(str(key))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "hypercorn", "hypercorn_app:app", "--bind", f"fd://{sock.fileno()}",
         "--certfile", str(cert), "--keyfile", str(key)],
        pass_fds=[sock.fileno()],
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    sock.close()
    yield f"https://localhost:{port}"
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.asyncio
async def test_against_hypercorn(hypercorn: str, client: HTTP2AsyncHTTPClient) -> None:
    responses = await asyncio.gather(
        *(
            client.fetch(HTTPRequest(hypercorn + f"/n{i}", method="POST", body=b"q" * (i * 1000)))
            for i in range(50)
        )
    )
    seen = [json.loads(r.body) for r in responses]
    assert {s["http_version"] for s in seen} == {"2"}
    assert [s["size"] for s in seen] == [i * 1000 for i in range(50)]
    assert [s["path"] for s in seen] == [f"/n{i}" for i in range(50)]
    big = await client.fetch(hypercorn + "/big", method="PUT", body=os.urandom(3 * 1024 * 1024))
    assert json.loads(big.body)["size"] == 3 * 1024 * 1024


@pytest.mark.asyncio
async def test_our_client_and_server_stream_both_ways(
    serve: Serve, client: HTTP2AsyncHTTPClient
) -> None:
    served = await serve(DelegateApp(), initial_window_size=16384)
    payload = os.urandom(2 * 1024 * 1024)
    response = await client.fetch(served.url + "/slow", method="PUT", body=payload)
    assert json.loads(response.body)["size"] == len(payload)
    assert isinstance(served, Served)


@pytest.mark.asyncio
async def test_a_connection_the_server_closed_is_replaced(
    serve: Serve, client: HTTP2AsyncHTTPClient
) -> None:
    served = await serve(DelegateApp(), tls=True, idle_connection_timeout=0.2)
    served.server.closed_h2 = asyncio.Event()
    assert (await client.fetch(served.url + "/")).body == b"Hello, world"
    # Idle: the server sends GOAWAY(NO_ERROR) and closes.
    await served.server.closed_h2.wait()
    assert (await client.fetch(served.url + "/")).body == b"Hello, world"
    assert served.server.accepted == 2
