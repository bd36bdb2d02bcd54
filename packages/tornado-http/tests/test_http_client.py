"""AsyncHTTPClient / SimpleAsyncHTTPClient / HTTPClient against real servers
on 127.0.0.1 (ours, and raw asyncio servers that misbehave on purpose)."""

from __future__ import annotations

import asyncio
import base64
import datetime
import gzip
import http.server
import socket
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
import trustme

from tornado.httpclient import (
    AsyncHTTPClient,
    HTTPClient,
    HTTPClientError,
    HTTPError,
    HTTPRequest,
    HTTPResponse,
)
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine
from tornado.netutil import Resolver
from tornado.simple_httpclient import (
    HTTPStreamClosedError,
    HTTPTimeoutError,
    SimpleAsyncHTTPClient,
)


def respond(
    request: HTTPServerRequest, body: bytes, code: int = 200, headers: dict[str, str] | None = None
) -> None:
    all_headers = HTTPHeaders({"Content-Length": str(len(body))})
    for name, value in (headers or {}).items():
        all_headers[name] = value
    assert request.connection is not None
    request.connection.write_headers(
        ResponseStartLine("HTTP/1.1", code, "Reason"), all_headers, body
    )
    request.connection.finish()


def describe(request: HTTPServerRequest) -> bytes:
    """The request as the server saw it, one ``name: value`` per line."""
    lines = [f"{request.method} {request.uri}"]
    lines += [f"{name}: {value}" for name, value in sorted(request.headers.get_all())]
    return ("\n".join(lines) + "\n\n").encode() + request.body


def app(request: HTTPServerRequest) -> None:
    path = request.path
    if path.startswith("/status/"):
        respond(request, b"status body", int(path.rsplit("/", 1)[1]))
    elif path.startswith("/redirect/"):
        # /redirect/<code>?to=<url>
        target = request.query_arguments["to"][0].decode()
        respond(request, b"moved", int(path.rsplit("/", 1)[1]), {"Location": target})
    elif path == "/loop":
        respond(request, b"", 302, {"Location": "/loop"})
    elif path == "/gzip":
        respond(request, gzip.compress(b"inflated!" * 100), headers={"Content-Encoding": "gzip"})
    elif path == "/chunks":
        conn = request.connection
        assert conn is not None
        conn.write_headers(ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders(), b"ab")
        conn.write(b"cd")
        conn.finish()
    else:
        respond(request, describe(request))


@pytest_asyncio.fixture
async def base_url(serve: Any) -> str:
    _, port = await serve(app)
    return f"http://127.0.0.1:{port}"


@pytest_asyncio.fixture
async def client() -> AsyncIterator[AsyncHTTPClient]:
    http_client = AsyncHTTPClient(force_instance=True)
    yield http_client
    http_client.close()


def seen_headers(response: HTTPResponse) -> dict[str, str]:
    head = response.body.split(b"\n\n", 1)[0].decode()
    return dict(line.split(": ", 1) for line in head.split("\n")[1:])


# -- basics -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_fetch_get(client: AsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(base_url + "/hello?a=1")
    assert response.code == 200
    assert response.reason == "Reason"
    assert response.body.startswith(b"GET /hello?a=1\n")
    assert response.error is None
    assert response.effective_url == base_url + "/hello?a=1"
    assert response.request.url == base_url + "/hello?a=1"
    assert response.request_time is not None and response.request_time >= 0
    assert response.start_time is not None
    assert response.headers["Content-Length"] == str(len(response.body))
    headers = seen_headers(response)
    assert headers["Connection"] == "close"
    assert headers["Host"] == base_url.split("//")[1]
    assert headers["User-Agent"].startswith("Tornado/")
    assert headers["Accept-Encoding"] == "gzip"
    assert "HTTPResponse(" in repr(response)
    response.rethrow()  # no error: nothing raised


@pytest.mark.asyncio
async def test_post_body_and_options(client: AsyncHTTPClient, base_url: str) -> None:
    when = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    response = await client.fetch(
        base_url + "/post",
        method="POST",
        body="text body é",
        headers={"X-Custom": "yes"},
        user_agent="agent/1",
        if_modified_since=when,
        auth_username="user",
        auth_password="pw",
        decompress_response=False,
        network_interface="127.0.0.1",
    )
    body = response.body.partition(b"\n\n")[2]
    assert body == "text body é".encode()
    headers = seen_headers(response)
    assert headers["X-Custom"] == "yes"
    assert headers["User-Agent"] == "agent/1"
    assert headers["If-Modified-Since"] == "Thu, 02 Jan 2020 03:04:05 GMT"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"user:pw").decode()
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Accept-Encoding" not in headers


@pytest.mark.asyncio
async def test_credentials_in_url(client: AsyncHTTPClient, base_url: str) -> None:
    url = base_url.replace("http://", "http://me:secret@") + "/auth"
    headers = seen_headers(await client.fetch(url))
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"me:secret").decode()
    assert headers["Host"] == base_url.split("//")[1]


@pytest.mark.asyncio
async def test_error_codes(client: AsyncHTTPClient, base_url: str) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(base_url + "/status/404")
    assert info.value.code == 404
    assert info.value.response is not None
    assert info.value.response.body == b"status body"
    assert str(info.value) == "HTTP 404: Reason"
    assert HTTPError is HTTPClientError

    response = await client.fetch(base_url + "/status/500", raise_error=False)
    assert response.code == 500
    assert isinstance(response.error, HTTPClientError)
    with pytest.raises(HTTPClientError):
        response.rethrow()

    # raise_error=False does not hide errors without a response.
    with pytest.raises(OSError):
        await client.fetch("http://127.0.0.1:1/", raise_error=False)


@pytest.mark.asyncio
async def test_bad_arguments(client: AsyncHTTPClient, base_url: str) -> None:
    with pytest.raises(ValueError, match="Body must not be None"):
        await client.fetch(base_url, method="POST")
    with pytest.raises(ValueError, match="Body must be None"):
        await client.fetch(base_url, method="GET", body=b"x")
    with pytest.raises(KeyError):
        await client.fetch(base_url, method="BREW")
    with pytest.raises(ValueError, match="Unsupported url scheme"):
        await client.fetch("ftp://127.0.0.1/")
    with pytest.raises(NotImplementedError):
        await client.fetch(base_url, proxy_host="127.0.0.1", proxy_port=3128)
    with pytest.raises(ValueError, match="kwargs"):
        client.fetch(HTTPRequest(base_url), method="POST")
    response = await client.fetch(
        base_url + "/odd", method="BREW", body=b"coffee", allow_nonstandard_methods=True
    )
    assert response.body.startswith(b"BREW /odd\n")
    response = await client.fetch(
        base_url + "/empty", method="POST", allow_nonstandard_methods=True
    )
    assert response.body.startswith(b"POST /empty\n")


@pytest.mark.asyncio
async def test_gzip_and_chunked_responses(client: AsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(base_url + "/gzip")
    assert response.body == b"inflated!" * 100
    assert response.headers["X-Consumed-Content-Encoding"] == "gzip"
    raw = await client.fetch(base_url + "/gzip", decompress_response=False)
    assert gzip.decompress(raw.body) == b"inflated!" * 100
    chunked = await client.fetch(base_url + "/chunks")
    assert chunked.body == b"abcd"


@pytest.mark.asyncio
async def test_streaming_and_header_callbacks(client: AsyncHTTPClient, base_url: str) -> None:
    pieces: list[bytes] = []
    lines: list[str] = []
    response = await client.fetch(
        base_url + "/chunks", streaming_callback=pieces.append, header_callback=lines.append
    )
    assert b"".join(pieces) == b"abcd"
    assert response.body == b""
    assert lines[0] == "HTTP/1.1 200 OK\r\n"
    assert "Transfer-Encoding: chunked\r\n" in lines
    assert lines[-1] == "\r\n"


@pytest.mark.asyncio
async def test_body_producer_and_expect_continue(client: AsyncHTTPClient, base_url: str) -> None:
    async def producer(write: Callable[[bytes], Awaitable[None]]) -> None:
        await write(b"part1-")
        await write(b"part2")

    response = await client.fetch(base_url + "/produced", method="PUT", body_producer=producer)
    assert response.body.endswith(b"\n\npart1-part2")
    assert seen_headers(response)["Transfer-Encoding"] == "chunked"

    response = await client.fetch(
        base_url + "/continue", method="POST", body=b"after 100", expect_100_continue=True
    )
    assert response.body.endswith(b"\n\nafter 100")
    assert seen_headers(response)["Expect"] == "100-continue"


# -- instances, configuration, queueing -------------------------------------------


@pytest.mark.asyncio
async def test_instance_cache_per_loop() -> None:
    first = AsyncHTTPClient()
    assert AsyncHTTPClient() is first
    assert isinstance(first, SimpleAsyncHTTPClient)
    private = AsyncHTTPClient(force_instance=True)
    assert private is not first
    private.close()
    first.close()
    with pytest.raises(RuntimeError, match="closed"):
        first.fetch("http://127.0.0.1/")
    second = AsyncHTTPClient()
    assert second is not first
    second.close()


def test_instance_cache_differs_between_loops() -> None:
    async def make() -> AsyncHTTPClient:
        return AsyncHTTPClient()

    one = asyncio.run(make())
    two = asyncio.run(make())
    assert one is not two


@pytest.mark.asyncio
async def test_configure_defaults(base_url: str) -> None:
    saved = AsyncHTTPClient._save_configuration()
    try:
        AsyncHTTPClient.configure(None, defaults={"user_agent": "configured/2"}, max_clients=3)
        configured = AsyncHTTPClient(force_instance=True)
        assert isinstance(configured, SimpleAsyncHTTPClient)
        assert configured.max_clients == 3
        response = await configured.fetch(base_url + "/ua")
        assert seen_headers(response)["User-Agent"] == "configured/2"
        configured.close()
    finally:
        AsyncHTTPClient._restore_configuration(saved)


@pytest.mark.asyncio
async def test_max_clients_queues_requests(serve: Any) -> None:
    held: list[HTTPServerRequest] = []
    arrived = asyncio.Event()

    def holding_app(request: HTTPServerRequest) -> None:
        held.append(request)
        arrived.set()

    _, port = await serve(holding_app)
    client = SimpleAsyncHTTPClient(force_instance=True, max_clients=1)
    try:
        first = client.fetch(f"http://127.0.0.1:{port}/1")
        second = client.fetch(f"http://127.0.0.1:{port}/2")
        await arrived.wait()
        assert [r.path for r in held] == ["/1"]
        assert len(client.queue) == 1
        arrived.clear()
        respond(held[0], b"one")
        assert (await first).body == b"one"
        await arrived.wait()
        assert [r.path for r in held] == ["/1", "/2"]
        respond(held[1], b"two")
        assert (await second).body == b"two"
    finally:
        client.close()


@pytest.mark.asyncio
async def test_timeout_in_request_queue_and_during_request(serve: Any) -> None:
    held: list[HTTPServerRequest] = []
    _, port = await serve(held.append)
    client = SimpleAsyncHTTPClient(force_instance=True, max_clients=1)
    try:
        running = client.fetch(f"http://127.0.0.1:{port}/slow", request_timeout=0.2)
        queued = client.fetch(f"http://127.0.0.1:{port}/queued", request_timeout=0.05)
        with pytest.raises(HTTPTimeoutError) as queued_error:
            await queued
        assert str(queued_error.value) == "Timeout in request queue"
        with pytest.raises(HTTPTimeoutError) as running_error:
            await running
        assert str(running_error.value) == "Timeout during request"
        assert running_error.value.code == 599
    finally:
        client.close()


@pytest.mark.asyncio
async def test_timeout_during_tls_handshake(client: AsyncHTTPClient) -> None:
    # A listener that accepts and never speaks: the TLS handshake cannot
    # finish.  The timeout names that phase, and the client's socket is
    # closed (the silent peer sees the end of the stream).
    peers: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    accepted = asyncio.Event()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The writer is kept: a collected StreamWriter would reset the
        # connection and end the handshake early.
        peers.append((reader, writer))
        accepted.set()

    silent = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        with pytest.raises(HTTPTimeoutError) as info:
            await client.fetch(f"https://127.0.0.1:{port}/", connect_timeout=1.0)
        assert str(info.value) == f"Timeout during TLS handshake with 127.0.0.1:{port}"
        await accepted.wait()
        reader, _ = peers[0]
        # The ClientHello, then the end of the stream: read() returns only
        # once the client has closed its end.
        assert await reader.read()
        assert reader.at_eof()
    finally:
        for _, writer in peers:
            writer.close()
        silent.close()
        await silent.wait_closed()


class _HangingResolver(Resolver):
    """Never answers until released (then with 127.0.0.1:port)."""

    def initialize(self, release: asyncio.Event, port: int) -> None:  # type: ignore[override]
        self.release = release
        self.port = port
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int, family: socket.AddressFamily = socket.AF_UNSPEC
    ) -> list[tuple[int, Any]]:
        self.asked.append(host)
        await self.release.wait()
        return [(socket.AF_INET, ("127.0.0.1", self.port))]


@pytest.mark.asyncio
async def test_timeout_while_resolving(base_url: str) -> None:
    release = asyncio.Event()
    resolver = _HangingResolver(release=release, port=1)
    client = SimpleAsyncHTTPClient(force_instance=True, resolver=resolver)
    try:
        with pytest.raises(HTTPTimeoutError) as info:
            await client.fetch("http://db.example:8080/", connect_timeout=0.05, request_timeout=60)
        assert str(info.value) == "Timeout while resolving db.example"
        assert resolver.asked == ["db.example"]
    finally:
        # The lookup ends after the request did: nothing is connected then.
        release.set()
        await asyncio.sleep(0)
        client.close()


@pytest.mark.asyncio
async def test_timeout_while_connecting() -> None:
    # A listener whose accept queue is full and never drained: the kernel
    # drops further connection attempts, so connecting cannot finish.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    client = SimpleAsyncHTTPClient(force_instance=True)
    try:
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            fillers.append(filler)
            filler.connect_ex(("127.0.0.1", port))
        with pytest.raises(HTTPTimeoutError) as info:
            await client.fetch(f"http://127.0.0.1:{port}/", connect_timeout=1.0)
        assert str(info.value) == "Timeout while connecting"
    finally:
        client.close()
        for filler in fillers:
            filler.close()
        listener.close()


# -- redirects ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "method", "expected"),
    [
        (301, "POST", "GET"),
        (302, "POST", "GET"),
        (303, "POST", "GET"),
        (303, "PUT", "GET"),
        (303, "HEAD", "HEAD"),
        (307, "POST", "POST"),
        (308, "PUT", "PUT"),
        (301, "PUT", "PUT"),
        (302, "GET", "GET"),
    ],
)
@pytest.mark.asyncio
async def test_redirect_method_rewriting(
    client: AsyncHTTPClient, base_url: str, code: int, method: str, expected: str
) -> None:
    body = b"payload" if method in ("POST", "PUT") else None
    response = await client.fetch(
        f"{base_url}/redirect/{code}?to=/target", method=method, body=body
    )
    assert response.code == 200
    assert response.effective_url == base_url + "/target"
    assert response.request.url.endswith(f"/redirect/{code}?to=/target")
    if expected == "HEAD":
        assert response.body == b""
        return
    head, _, sent_body = response.body.partition(b"\n\n")
    assert head.split(b"\n")[0] == f"{expected} /target".encode()
    if expected == "GET":
        assert sent_body == b""
        assert "Content-Length" not in seen_headers(response)
    else:
        assert sent_body == b"payload"


@pytest.mark.asyncio
async def test_redirect_not_followed_and_loop(client: AsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(
        base_url + "/redirect/302?to=/target", follow_redirects=False, raise_error=False
    )
    assert response.code == 302
    assert response.headers["Location"] == "/target"
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(base_url + "/loop", max_redirects=3)
    assert info.value.code == 302


@pytest.mark.asyncio
async def test_cross_origin_redirect_drops_credentials(
    client: AsyncHTTPClient, serve: Any, base_url: str
) -> None:
    _, other_port = await serve(app)
    other = f"http://127.0.0.1:{other_port}"
    options: dict[str, Any] = {
        "headers": {"Cookie": "session=1", "Authorization": "Bearer t"},
    }
    same = await client.fetch(f"{base_url}/redirect/302?to={base_url}/here", **options)
    assert seen_headers(same)["Cookie"] == "session=1"
    assert seen_headers(same)["Authorization"] == "Bearer t"
    cross = await client.fetch(f"{base_url}/redirect/302?to={other}/there", **options)
    assert cross.effective_url == other + "/there"
    assert "Cookie" not in seen_headers(cross)
    assert "Authorization" not in seen_headers(cross)
    # Credentials given as options are not re-sent either.
    cross = await client.fetch(
        f"{base_url}/redirect/307?to={other}/there", auth_username="u", auth_password="p"
    )
    assert "Authorization" not in seen_headers(cross)
    # The host name counts, not only the port: localhost is another origin.
    renamed = base_url.replace("127.0.0.1", "localhost")
    cross = await client.fetch(f"{base_url}/redirect/302?to={renamed}/x", **options)
    assert "Cookie" not in seen_headers(cross)


@pytest.mark.asyncio
async def test_hostname_mapping(base_url: str) -> None:
    port = base_url.rsplit(":", 1)[1]
    client = SimpleAsyncHTTPClient(
        force_instance=True, hostname_mapping={"www.example.invalid": "127.0.0.1"}
    )
    try:
        response = await client.fetch(f"http://www.example.invalid:{port}/mapped")
        assert seen_headers(response)["Host"] == f"www.example.invalid:{port}"
    finally:
        client.close()


# -- TLS ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_tls_options(
    serve: Any,
    server_context: ssl.SSLContext,
    ca: trustme.CA,
    client: AsyncHTTPClient,
    tmp_path: Any,
) -> None:
    _, port = await serve(app, ssl_options=server_context)
    url = f"https://localhost:{port}/tls"
    # Not trusted by default: the test CA is not in the system store.
    with pytest.raises(ssl.SSLError):
        await client.fetch(url)
    assert (await client.fetch(url, validate_cert=False)).code == 200
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    assert (await client.fetch(url, ca_certs=str(ca_file))).code == 200
    context = ssl.create_default_context()
    ca.configure_trust(context)
    assert (await client.fetch(url, ssl_options=context)).code == 200


@pytest.mark.asyncio
async def test_tls_client_certificate(
    serve: Any, ca: trustme.CA, server_cert: trustme.LeafCert, tmp_path: Any
) -> None:
    seen: list[Any] = []

    def cert_app(request: HTTPServerRequest) -> None:
        seen.append(request.get_ssl_certificate())
        respond(request, b"hi")

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(server_context)
    ca.configure_trust(server_context)
    server_context.verify_mode = ssl.CERT_REQUIRED
    _, port = await serve(cert_app, ssl_options=server_context)
    client_cert = ca.issue_cert("client@example.com")
    cert_file, key_file, ca_file = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "ca.pem"
    client_cert.cert_chain_pems[0].write_to_path(str(cert_file))
    client_cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    client = AsyncHTTPClient(force_instance=True)
    try:
        response = await client.fetch(
            f"https://localhost:{port}/",
            ca_certs=str(ca_file),
            client_cert=str(cert_file),
            client_key=str(key_file),
        )
        assert response.body == b"hi"
        assert seen and seen[0] is not None
    finally:
        client.close()


# -- hostile servers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nX-Injected: a\rSet-Cookie: x=1\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: v\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        b"NONSENSE\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
)
@pytest.mark.asyncio
async def test_malformed_responses_fail_cleanly(
    client: AsyncHTTPClient, raw_server: Any, reply: bytes
) -> None:
    url = await raw_server(reply)
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(url)
    assert info.value.code == 599


@pytest.mark.asyncio
async def test_server_closing_mid_body(client: AsyncHTTPClient, raw_server: Any) -> None:
    url = await raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
    with pytest.raises(HTTPStreamClosedError) as info:
        await client.fetch(url)
    assert info.value.code == 599
    url = await raw_server(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
    with pytest.raises(HTTPStreamClosedError):
        await client.fetch(url)
    url = await raw_server(b"")
    with pytest.raises(HTTPStreamClosedError):
        await client.fetch(url)


@pytest.mark.asyncio
async def test_body_until_close_and_oversize(raw_server: Any) -> None:
    client = SimpleAsyncHTTPClient(force_instance=True, max_body_size=1000)
    try:
        url = await raw_server(b"HTTP/1.1 200 OK\r\n\r\nread until close")
        assert (await client.fetch(url)).body == b"read until close"
        url = await raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
        with pytest.raises(HTTPClientError) as info:
            await client.fetch(url)
        assert info.value.code == 599
        url = await raw_server(b"HTTP/1.1 200 OK\r\n\r\n" + b"y" * 5000)
        with pytest.raises(HTTPClientError):
            await client.fetch(url)
    finally:
        client.close()


@pytest.mark.asyncio
async def test_obs_fold_in_response_accepted(client: AsyncHTTPClient, raw_server: Any) -> None:
    url = await raw_server(b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\nok")
    response = await client.fetch(url)
    assert response.headers["X-Folded"] == "a b"
    assert response.body == b"ok"


@pytest.mark.asyncio
async def test_header_injection_in_request_refused(client: AsyncHTTPClient, base_url: str) -> None:
    with pytest.raises(ValueError):
        await client.fetch(base_url, headers={"X-Evil": "a\r\nHost: other"})


# -- blocking client and main() --------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = f"stdlib {self.path}".encode()
        self.send_response(200 if self.path != "/missing" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stdlib_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_blocking_client(stdlib_server: str) -> None:
    client = HTTPClient()
    try:
        assert client.fetch(stdlib_server + "/x").body == b"stdlib /x"
        with pytest.raises(HTTPClientError) as info:
            client.fetch(stdlib_server + "/missing")
        assert info.value.code == 404
        response = client.fetch(stdlib_server + "/missing", raise_error=False)
        assert response.code == 404
    finally:
        client.close()
    client.close()  # twice is harmless


@pytest.mark.asyncio
async def test_blocking_client_refused_inside_running_loop() -> None:
    with pytest.raises(RuntimeError):
        HTTPClient()


def test_main_command_line(stdlib_server: str) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "tornado.httpclient", "--print_headers", stdlib_server + "/cli"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "stdlib /cli" in result.stdout
    assert "Content-Length: 11" in result.stdout


def test_socket_family_option_ipv4_only(stdlib_server: str) -> None:
    client = HTTPClient()
    try:
        url = stdlib_server.replace("127.0.0.1", "localhost") + "/v4"
        assert client.fetch(url, allow_ipv6=False).body == b"stdlib /v4"
    finally:
        client.close()
