"""Real peers: curl, httpx and h11 against our server; our client against
the standard library's http.server (over TCP and TLS)."""

from __future__ import annotations

import asyncio
import gzip
import http.server
import os
import shutil
import socket
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import h11
import httpx
import pytest
import trustme

from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine

CURL = shutil.which("curl")
# CI installs curl (.ci/run), so there a missing binary is a failure, not a skip.
if CURL is None and os.environ.get("CI"):
    raise RuntimeError("CI must provide the curl binary for the peer tests")
needs_curl = pytest.mark.skipif(CURL is None, reason="the curl binary is not installed")


def app(request: HTTPServerRequest) -> None:
    """Answers by path: /chunked streams, /head and /204 and /304 have no
    body, anything else echoes the method, URI and body."""
    conn = request.connection
    assert conn is not None
    if request.path == "/chunked":
        conn.write_headers(ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders(), b"one,")
        conn.write(b"two,")
        conn.write(b"three")
        conn.finish()
        return
    if request.path in ("/204", "/304"):
        conn.write_headers(ResponseStartLine("HTTP/1.1", int(request.path[1:]), ""), HTTPHeaders())
        conn.finish()
        return
    body = f"{request.method} {request.uri} ".encode() + request.body
    conn.write_headers(
        ResponseStartLine("HTTP/1.1", 200, "OK"),
        HTTPHeaders({"Content-Length": str(len(body)), "Content-Type": "text/plain"}),
        body,
    )
    conn.finish()


async def run_curl(*args: str) -> tuple[int, bytes, bytes]:
    assert CURL is not None
    proc = await asyncio.create_subprocess_exec(
        CURL,
        "--silent",
        "--show-error",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out, err


# -- curl ---------------------------------------------------------------------------


@needs_curl
@pytest.mark.asyncio
async def test_curl_get_keep_alive_and_chunked(serve: Any) -> None:
    _, port = await serve(app)
    base = f"http://127.0.0.1:{port}"
    code, out, err = await run_curl("-v", base + "/a", base + "/chunked")
    assert code == 0, err
    assert out == b"GET /a one,two,three"
    # curl reused the first connection for the second URL.
    assert b"Re-using existing connection" in err or b"Reusing existing connection" in err


@needs_curl
@pytest.mark.asyncio
async def test_curl_posts(serve: Any, tmp_path: Any) -> None:
    _, port = await serve(app, decompress_request=True)
    base = f"http://127.0.0.1:{port}"
    code, out, err = await run_curl("--data-binary", "form=1", base + "/p")
    assert (code, out) == (0, b"POST /p form=1"), err
    code, out, err = await run_curl(
        "-H", "Transfer-Encoding: chunked", "--data-binary", "streamed", base + "/c"
    )
    assert (code, out) == (0, b"POST /c streamed"), err
    big = tmp_path / "big"
    big.write_bytes(b"z" * 200_000)
    code, out, err = await run_curl(
        "-H", "Expect: 100-continue", "--data-binary", f"@{big}", base + "/e"
    )
    assert code == 0, err
    assert out == b"POST /e " + b"z" * 200_000
    packed = tmp_path / "packed.gz"
    packed.write_bytes(gzip.compress(b"inflate me"))
    code, out, err = await run_curl(
        "-H", "Content-Encoding: gzip", "--data-binary", f"@{packed}", base + "/g"
    )
    assert (code, out) == (0, b"POST /g inflate me"), err


@needs_curl
@pytest.mark.asyncio
async def test_curl_tls(
    serve: Any, server_context: ssl.SSLContext, ca: trustme.CA, tmp_path: Any
) -> None:
    _, port = await serve(app, ssl_options=server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    code, out, err = await run_curl("--cacert", str(ca_file), f"https://localhost:{port}/tls")
    assert (code, out) == (0, b"GET /tls "), err


@needs_curl
@pytest.mark.asyncio
async def test_curl_sees_400_for_bad_request(serve: Any) -> None:
    _, port = await serve(app)
    _, out, err = await run_curl(
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "Bad Header Name: x",
        f"http://127.0.0.1:{port}/",
    )
    assert out == b"400", err


# -- httpx --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_httpx_client(serve: Any) -> None:
    _, port = await serve(app)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        responses = [await client.get(f"{base}/n{i}") for i in range(5)]
        assert [r.text for r in responses] == [f"GET /n{i} " for i in range(5)]
        posted = await client.post(base + "/form", data={"a": "1"})
        assert posted.text == "POST /form a=1"
        chunked = await client.get(base + "/chunked")
        assert chunked.text == "one,two,three"
        assert chunked.headers["transfer-encoding"] == "chunked"

        async def body() -> Any:
            yield b"streamed-"
            yield b"upload"

        streamed = await client.post(base + "/s", content=body())
        assert streamed.text == "POST /s streamed-upload"
        head = await client.head(base + "/h")
        assert head.headers["content-length"] == str(len(b"HEAD /h "))
        assert (await client.get(base + "/204")).status_code == 204
        assert (await client.get(base + "/304")).status_code == 304
        concurrent = await asyncio.gather(*(client.get(f"{base}/c{i}") for i in range(20)))
        assert [r.text for r in concurrent] == [f"GET /c{i} " for i in range(20)]


@pytest.mark.asyncio
async def test_httpx_tls(
    serve: Any, server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    _, port = await serve(app, ssl_options=server_context)
    async with httpx.AsyncClient(verify=client_context) as client:
        for _ in range(3):
            response = await client.get(f"https://localhost:{port}/tls")
            assert response.text == "GET /tls "


# -- h11: a strict parser must accept every response we send --------------------------


def h11_exchange(port: int, requests: list[tuple[h11.Request, bytes]]) -> list[tuple[int, bytes]]:
    """Send requests one after another on one connection with h11 and return
    (status, body) of each response; h11 raises on anything non-conforming."""
    conn = h11.Connection(our_role=h11.CLIENT)
    results: list[tuple[int, bytes]] = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for request, body in requests:
            if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                conn.start_next_cycle()
            sock.sendall(conn.send(request))
            if body:
                sock.sendall(conn.send(h11.Data(data=body)))
            sock.sendall(conn.send(h11.EndOfMessage()))
            status = 0
            received = b""
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(sock.recv(65536))
                    continue
                if isinstance(event, h11.Response):
                    status = event.status_code
                elif isinstance(event, h11.Data):
                    received += event.data
                elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                    break
            results.append((status, received))
    return results


def req(method: str, target: str, *headers: tuple[str, str]) -> h11.Request:
    return h11.Request(method=method, target=target, headers=[("Host", "t"), *headers])


@pytest.mark.asyncio
async def test_h11_accepts_our_responses(serve: Any) -> None:
    _, port = await serve(app)
    exchange = [
        (req("GET", "/plain"), b""),
        (req("GET", "/chunked"), b""),
        (req("HEAD", "/head"), b""),
        (req("GET", "/204"), b""),
        (req("GET", "/304"), b""),
        (req("POST", "/post", ("Content-Length", "4")), b"data"),
        (req("POST", "/chunked-upload", ("Transfer-Encoding", "chunked")), b"chunky"),
        (req("GET", "/last", ("Connection", "close")), b""),
    ]
    results = await asyncio.to_thread(h11_exchange, port, exchange)
    assert results == [
        (200, b"GET /plain "),
        (200, b"one,two,three"),
        (200, b""),
        (204, b""),
        (304, b""),
        (200, b"POST /post data"),
        (200, b"POST /chunked-upload chunky"),
        (200, b"GET /last "),
    ]


def h11_head_only(port: int, request: h11.Request) -> tuple[int, bytes]:
    """Send only *request*'s head and read the answer with h11.

    The body is never sent: a server that refuses the head answers before
    reading it, and a client still writing the body would race that close
    (a broken pipe, or a reset that discards the answer)."""
    conn = h11.Connection(our_role=h11.CLIENT)
    status, received = 0, b""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(conn.send(request))
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                received += event.data
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return status, received


@pytest.mark.asyncio
async def test_h11_accepts_our_error_answers(serve: Any) -> None:
    _, port = await serve(app, max_body_size=10)
    result = await asyncio.to_thread(
        h11_head_only, port, req("POST", "/big", ("Content-Length", "11"))
    )
    assert result == (400, b"")


# -- our client against the standard library's server ---------------------------------


class StdlibHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, code: int, body: bytes, **headers: str) -> None:
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/landed")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"alpha", b"beta", b"gamma"):
                self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/gzip":
            self._send(200, gzip.compress(b"unzipped"), Content_Encoding="gzip")
        else:
            self._send(200, f"stdlib GET {self.path}".encode())

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self._send(200, b"stdlib POST " + self.rfile.read(length))

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start_stdlib(
    context: ssl.SSLContext | None = None,
) -> tuple[http.server.ThreadingHTTPServer, threading.Thread]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), StdlibHandler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    return server, thread


@pytest.fixture
def stdlib_url() -> Iterator[str]:
    server, thread = start_stdlib()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.asyncio
async def test_our_client_against_stdlib(stdlib_url: str) -> None:
    client = AsyncHTTPClient(force_instance=True)
    try:
        assert (await client.fetch(stdlib_url + "/x")).body == b"stdlib GET /x"
        redirected = await client.fetch(stdlib_url + "/redirect")
        assert redirected.effective_url == stdlib_url + "/landed"
        assert redirected.body == b"stdlib GET /landed"
        assert (await client.fetch(stdlib_url + "/chunked")).body == b"alphabetagamma"
        assert (await client.fetch(stdlib_url + "/gzip")).body == b"unzipped"
        posted = await client.fetch(
            stdlib_url + "/p", method="POST", body=b"with continue", expect_100_continue=True
        )
        assert posted.body == b"stdlib POST with continue"
    finally:
        client.close()


@pytest.mark.asyncio
async def test_our_client_against_stdlib_tls(
    server_cert: trustme.LeafCert, client_context: ssl.SSLContext
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(context)
    server, thread = start_stdlib(context)
    client = AsyncHTTPClient(force_instance=True)
    try:
        url = f"https://localhost:{server.server_address[1]}/secure"
        response = await client.fetch(url, ssl_options=client_context)
        assert response.body == b"stdlib GET /secure"
        with pytest.raises((ssl.SSLError, HTTPClientError)):
            await client.fetch(url)  # the test CA is not trusted by default
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join()
