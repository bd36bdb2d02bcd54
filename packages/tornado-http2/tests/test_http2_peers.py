"""Real HTTP/2 peers against HTTP2Server serving a plain delegate: curl,
httpx (100 concurrent requests multiplexed on one connection) and h2load."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import ssl
from pathlib import Path

import httpx
import pytest

from .conftest import Serve, curl, curl_status, run_peer
from .h2apps import DelegateApp


@pytest.mark.asyncio
@pytest.mark.parametrize("tls", [False, True], ids=["prior-knowledge", "tls-alpn"])
async def test_curl_get_and_request_fields(serve: Serve, tls: bool) -> None:
    served = await serve(DelegateApp(), tls=tls)
    body, version = await curl(served, "/")
    assert (body, version) == (b"Hello, world", "2")
    body, _ = await curl(served, "/info", "-b", "a=1; b=2")
    info = json.loads(body)
    assert info["version"] == "HTTP/2.0"
    assert info["host"] == served.url.split("//")[1]
    assert info["cookie"] == "a=1; b=2"


@pytest.mark.asyncio
async def test_curl_plain_callable(serve: Serve) -> None:
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine

    def handle(request: HTTPServerRequest) -> None:
        assert request.connection is not None
        body = b"%s %s %r" % (request.version.encode(), request.method.encode(), request.arguments)
        request.connection.write_headers(
            ResponseStartLine("HTTP/1.1", 200, "OK"),
            HTTPHeaders({"Content-Length": str(len(body))}),
            body,
        )
        request.connection.finish()

    served = await serve(handle)
    body, _ = await curl(served, "/?x=1", "-d", "y=2")
    assert body == b"HTTP/2.0 POST {'x': [b'1'], 'y': [b'2']}"


@pytest.mark.asyncio
async def test_curl_slow_upload_through_small_windows(serve: Serve, tmp_path: Path) -> None:
    served = await serve(DelegateApp(), initial_window_size=16384, connection_window_size=65535)
    payload = os.urandom(4 * 1024 * 1024)
    path = tmp_path / "payload"
    path.write_bytes(payload)
    body, version = await curl(served, "/slow", "-T", str(path))
    assert version == "2"
    assert json.loads(body) == {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}


@pytest.mark.asyncio
async def test_curl_body_over_limit_is_413_and_the_connection_lives(
    serve: Serve, tmp_path: Path
) -> None:
    app = DelegateApp()
    served = await serve(app, max_body_size=10_000)
    path = tmp_path / "payload"
    path.write_bytes(b"x" * 200_000)
    assert await curl_status(served, "/echo", "-T", str(path)) == 413
    # A delegate that lowers the limit itself (set_max_body_size).
    assert await curl_status(served, "/limit", "-T", str(path)) == 413
    assert app.closed == 2
    assert await curl_status(served, "/") == 200


@pytest.mark.asyncio
async def test_curl_streamed_response(serve: Serve) -> None:
    served = await serve(DelegateApp(), tls=True)
    body, version = await curl(served, "/stream?n=64")
    assert version == "2"
    assert len(body) == 64 * 65536
    assert body.count(b"A") == 3 * 65536  # chunks 0, 26 and 52


@pytest.mark.asyncio
async def test_connection_specific_headers_never_reach_the_wire(serve: Serve) -> None:
    served = await serve(DelegateApp())
    _, out, _ = await run_peer(
        "curl", "-sS", "--http2-prior-knowledge", "-D", "-", served.url + "/hop"
    )
    head = out.decode().lower()
    assert head.startswith("http/2 200")
    assert "connection:" not in head and "transfer-encoding:" not in head
    assert "keep-alive:" not in head and "upgrade:" not in head
    assert "content-length: 12" in head


@pytest.mark.asyncio
@pytest.mark.parametrize("tls", [False, True], ids=["prior-knowledge", "tls-alpn"])
async def test_httpx_100_concurrent_requests_share_one_connection(
    serve: Serve, tls: bool, client_context: ssl.SSLContext
) -> None:
    app = DelegateApp()
    served = await serve(app, tls=tls)
    if tls:
        client = httpx.AsyncClient(http2=True, verify=client_context)
    else:
        client = httpx.AsyncClient(http1=False, http2=True)
    async with client:
        responses = await asyncio.gather(
            *(client.post(served.url + "/echo", content=b"x" * i) for i in range(100))
        )
    assert [r.http_version for r in responses] == ["HTTP/2"] * 100
    assert [json.loads(r.content)["size"] for r in responses] == list(range(100))
    assert served.server.accepted == 1
    assert len(app.server_connections) == 1
    assert app.finished == 100


@pytest.mark.asyncio
@pytest.mark.skipif(shutil.which("h2load") is None, reason="h2load (nghttp2-client) not installed")
@pytest.mark.parametrize("tls", [False, True], ids=["prior-knowledge", "tls-alpn"])
async def test_h2load_short_run_has_no_failures(serve: Serve, tls: bool) -> None:
    app = DelegateApp()
    served = await serve(app, tls=tls)
    # 1,500 requests per connection: more than any flood budget's burst, so
    # an ordinary long-lived client must never be taken for an attacker
    # (nghttp2 sends priority information with every request's HEADERS).
    code, out, err = await run_peer("h2load", "-n", "3000", "-c", "2", "-m", "10", served.url + "/")
    report = out.decode()
    assert code == 0, report + err.decode()
    match = re.search(
        r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored",
        report,
    )
    assert match, report
    assert match.groups() == ("3000", "3000", "3000", "3000", "0", "0"), report
    assert "h2" in report.lower()
    assert app.finished == 3000


@pytest.mark.asyncio
@pytest.mark.parametrize("enabled", [True, False], ids=["h2c-upgrade", "no-upgrade"])
async def test_curl_upgrade_h2c(serve: Serve, enabled: bool) -> None:
    # curl --http2 on an http:// URL asks for "Upgrade: h2c".
    served = await serve(DelegateApp(), h2c_upgrade=enabled)
    argv = ["curl", "-sS", "--http2", "-w", "\n%{http_version}"]
    code, out, err = await run_peer(*argv, served.url + "/info")
    assert code == 0, err
    body, _, version = out.rpartition(b"\n")
    info = json.loads(body)
    if enabled:
        assert (version, info["version"]) == (b"2", "HTTP/2.0")
    else:
        assert (version, info["version"]) == (b"1.1", "HTTP/1.1")
    # A request with a body is not upgraded; it is answered over HTTP/1.1.
    code, out, err = await run_peer(*argv, "-d", "abc", served.url + "/echo")
    assert code == 0, err
    body, _, version = out.rpartition(b"\n")
    assert version == b"1.1" and json.loads(body)["size"] == 3


UVLOOP_SERVER = """
import asyncio, sys, uvloop
from tornado.http2 import HTTP2Server
from tornado.netutil import bind_sockets
sys.path.insert(0, sys.argv[1])
from h2apps import DelegateApp

async def main():
    sockets = bind_sockets(0, "127.0.0.1")
    HTTP2Server(DelegateApp()).add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

uvloop.run(main())
"""


@pytest.mark.asyncio
async def test_under_uvloop(tmp_path: Path) -> None:
    # The cleartext sniffer watches the socket with IOLoop.add_handler,
    # which must work on uvloop's loop as on asyncio's.
    pytest.importorskip("uvloop")
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", UVLOOP_SERVER, here, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        port = int(await asyncio.wait_for(proc.stdout.readline(), 30))
        url = f"http://127.0.0.1:{port}/info"
        for flag, version in (("--http2-prior-knowledge", "HTTP/2.0"), ("--http1.1", "HTTP/1.1")):
            code, out, err = await run_peer("curl", "-sS", flag, url)
            assert code == 0, err
            assert json.loads(out)["version"] == version
    finally:
        proc.terminate()
        await proc.wait()
