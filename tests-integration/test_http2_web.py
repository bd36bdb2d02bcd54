"""HTTP/2 end to end: a tornado.web Application, unchanged, on HTTP2Server,
driven by curl (built with nghttp2): prior knowledge in cleartext, ALPN over
TLS (certificates made at test time), HTTP/1.1 on the same port, uploads
through small flow-control windows, flush() streaming, StaticFileHandler
ranges, compress_response, cookies and connection-specific headers.

Here rather than in packages/tornado-http2/tests because it needs
tornado-web, which tornado-http2 does not depend on.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import trustme

from tornado.http2 import HTTP2Server
from tornado.iostream import IOStream
from tornado.web import Application, RequestHandler, StaticFileHandler, stream_request_body

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "http2_static")

#: Longest a peer subprocess may run before the test fails (a hang guard,
#: not a timing assertion).
PEER_DEADLINE = 60.0


def listening_socket() -> socket.socket:
    """A non-blocking TCP socket listening on a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class CountingServer(HTTP2Server):
    """An HTTP2Server that counts the TCP connections it accepted."""

    accepted = 0

    def handle_stream(self, stream: IOStream, address: Any) -> None:
        self.accepted += 1
        super().handle_stream(stream, address)


@dataclass
class Served:
    """A running server: its object and its URLs."""

    server: CountingServer
    port: int
    tls: bool
    #: The CA file clients must trust (TLS servers only).
    cafile: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = "localhost" if self.tls else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}"


Serve = Callable[..., Awaitable[Served]]


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A certificate authority made for this test run."""
    return trustme.CA()


@pytest.fixture(scope="session")
def cafile(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The CA certificate as a PEM file, for curl and h2load."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    """A server certificate for 127.0.0.1 and localhost."""
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture
def server_context(server_cert: trustme.LeafCert) -> ssl.SSLContext:
    """A fresh server-side TLS context (HTTP2Server sets ALPN on it)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(context)
    return context


@pytest.fixture
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts the test CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest_asyncio.fixture
async def serve(server_cert: trustme.LeafCert, cafile: str, tmp_path: Path) -> AsyncIterator[Serve]:
    """``served = await serve(app, tls=False, **HTTP2Server options)``."""
    running: list[CountingServer] = []

    async def start(app: Any, tls: bool = False, **kwargs: Any) -> Served:
        if tls and "ssl_options" not in kwargs:
            # A dict of options: HTTP2Server builds the context (RFC 9113 rules).
            cert = tmp_path / "cert.pem"
            key = tmp_path / "key.pem"
            server_cert.cert_chain_pems[0].write_to_path(str(cert))
            server_cert.private_key_pem.write_to_path(str(key))
            kwargs["ssl_options"] = {"certfile": str(cert), "keyfile": str(key)}
        server = CountingServer(app, **kwargs)
        sock = listening_socket()
        server.add_sockets([sock])
        running.append(server)
        return Served(server, sock.getsockname()[1], tls, cafile if tls else None)

    yield start
    for server in running:
        server.stop()
        await server.close_all_connections()


async def run_peer(*argv: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run a peer program; returns (exit status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), PEER_DEADLINE)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out, err


async def curl(served: Served, path: str, *args: str) -> tuple[bytes, str]:
    """Fetch ``path`` with curl over HTTP/2 (prior knowledge in cleartext,
    ALPN over TLS); returns (body, the HTTP version curl used)."""
    argv = ["curl", "-sS", "--max-time", "30", "-w", "\n%{http_version}"]
    if served.tls:
        assert served.cafile is not None
        argv += ["--http2", "--cacert", served.cafile]
    else:
        argv += ["--http2-prior-knowledge"]
    code, out, err = await run_peer(*argv, *args, served.url + path)
    assert code == 0, err.decode()
    body, _, version = out.rpartition(b"\n")
    return body, version.decode()


async def curl_status(served: Served, path: str, *args: str) -> int:
    """The status code curl got for ``path`` over HTTP/2 (body discarded)."""
    argv = ["curl", "-sS", "--max-time", "30", "-o", "/dev/null", "-w", "%{http_code}"]
    if served.tls:
        assert served.cafile is not None
        argv += ["--http2", "--cacert", served.cafile]
    else:
        argv += ["--http2-prior-knowledge"]
    code, out, err = await run_peer(*argv, *args, served.url + path)
    assert code == 0, err.decode()
    return int(out)


# -- the application --------------------------------------------------


class Hello(RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


class Info(RequestHandler):
    """Echoes what the handler sees of its request."""

    def get(self) -> None:
        self.write(
            {
                "version": self.request.version,
                "protocol": self.request.protocol,
                "remote_ip": self.request.remote_ip,
                "host": self.request.host,
                "cookies": {k: v.value for k, v in self.request.cookies.items()},
                "query": self.get_argument("q", ""),
                "connection": id(self.request.server_connection),
            }
        )


class Echo(RequestHandler):
    """Answers with the size and SHA-256 of a buffered request body."""

    def post(self) -> None:
        body = self.request.body
        self.write({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})

    put = post


@stream_request_body
class StreamedUpload(RequestHandler):
    """Consumes its body slowly (one loop turn per chunk): the client is
    held back by flow control, not buffered."""

    def prepare(self) -> None:
        self.size = 0
        self.digest = hashlib.sha256()
        max_size = self.get_argument("max", None)
        if max_size is not None:
            self.request.connection.set_max_body_size(int(max_size))  # type: ignore[union-attr]

    async def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.digest.update(chunk)
        await asyncio.sleep(0)

    def put(self) -> None:
        self.write({"size": self.size, "sha256": self.digest.hexdigest()})

    post = put


class Streamed(RequestHandler):
    """Writes ``n`` chunks of ``size`` bytes, awaiting ``flush()`` for each."""

    async def get(self) -> None:
        count = int(self.get_argument("n", "100"))
        size = int(self.get_argument("size", "65536"))
        for i in range(count):
            self.write(bytes([65 + i % 26]) * size)
            await self.flush()


class ConnectionHeader(RequestHandler):
    """Sets headers that HTTP/2 forbids; they must not reach the wire."""

    def get(self) -> None:
        self.set_header("Connection", "close")
        self.set_header("Keep-Alive", "timeout=5")
        self.set_header("X-Kept", "yes")
        self.write("ok")


class Cookies(RequestHandler):
    def get(self) -> None:
        self.set_cookie("a", "1")
        self.set_cookie("b", "2")
        self.write("cookies")


class Big(RequestHandler):
    """A compressible body, for ``compress_response``."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/plain")
        self.write("tornado " * 10000)


def make_app(**settings: Any) -> Application:
    """The test application."""
    return Application(
        [
            ("/", Hello),
            ("/info", Info),
            ("/echo", Echo),
            ("/upload", StreamedUpload),
            ("/stream", Streamed),
            ("/connection-header", ConnectionHeader),
            ("/cookies", Cookies),
            ("/big", Big),
            ("/static/(.*)", StaticFileHandler, {"path": STATIC}),
        ],
        **settings,
    )


# -- the tests --------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("tls", [False, True], ids=["prior-knowledge", "tls-alpn"])
async def test_hello_world_over_http2(serve: Serve, tls: bool) -> None:
    served = await serve(make_app(), tls=tls)
    body, version = await curl(served, "/")
    assert (body, version) == (b"Hello, world", "2")
    info, _ = await curl(served, "/info?q=x")
    seen = json.loads(info)
    assert seen["version"] == "HTTP/2.0"
    assert seen["protocol"] == ("https" if tls else "http")
    assert seen["remote_ip"] == "127.0.0.1"
    assert seen["host"] == served.url.split("//")[1]
    assert seen["query"] == "x"


@pytest.mark.asyncio
@pytest.mark.parametrize("tls", [False, True], ids=["cleartext", "tls"])
async def test_http1_on_the_same_port(serve: Serve, tls: bool) -> None:
    served = await serve(make_app(), tls=tls)
    argv = ["curl", "-sS", "--http1.1", "-w", "\n%{http_version}"]
    if tls:
        assert served.cafile is not None
        argv += ["--cacert", served.cafile]
    code, out, err = await run_peer(*argv, served.url + "/info")
    assert code == 0, err
    body, _, version = out.rpartition(b"\n")
    assert version == b"1.1"
    assert json.loads(body)["version"] == "HTTP/1.1"


@pytest.mark.asyncio
async def test_buffered_upload(serve: Serve, tmp_path: object) -> None:
    served = await serve(make_app())
    payload = os.urandom(3 * 1024 * 1024 + 17)
    path = os.path.join(str(tmp_path), "payload")
    with open(path, "wb") as f:
        f.write(payload)
    body, version = await curl(
        served, "/echo", "--data-binary", "@" + path, "-H", "Content-Type: application/octet-stream"
    )
    assert version == "2"
    assert json.loads(body) == {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}


@pytest.mark.asyncio
@pytest.mark.parametrize("tls", [False, True], ids=["cleartext", "tls"])
async def test_streamed_upload_larger_than_every_window(
    serve: Serve, tls: bool, tmp_path: object
) -> None:
    # 8 MiB through a 64 KiB stream window and a 128 KiB connection window:
    # only works if the server opens the windows as the handler consumes.
    served = await serve(
        make_app(), tls=tls, initial_window_size=65536, connection_window_size=131072
    )
    payload = os.urandom(8 * 1024 * 1024)
    path = os.path.join(str(tmp_path), "payload")
    with open(path, "wb") as f:
        f.write(payload)
    body, version = await curl(served, "/upload", "-T", path)
    assert version == "2"
    assert json.loads(body) == {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}


@pytest.mark.asyncio
async def test_upload_over_max_body_size_gets_413(serve: Serve, tmp_path: object) -> None:
    served = await serve(make_app(), max_body_size=100_000)
    path = os.path.join(str(tmp_path), "payload")
    with open(path, "wb") as f:
        f.write(b"x" * 1_000_000)
    assert await curl_status(served, "/echo", "--data-binary", "@" + path) == 413
    # A streaming handler lowering the limit itself (set_max_body_size).
    assert await curl_status(served, "/upload?max=1000", "-T", path) == 413
    # The connection is still good for others.
    body, version = await curl(served, "/")
    assert (body, version) == (b"Hello, world", "2")


@pytest.mark.asyncio
@pytest.mark.parametrize("tls", [False, True], ids=["cleartext", "tls"])
async def test_streamed_response_with_flush(serve: Serve, tls: bool) -> None:
    served = await serve(make_app(), tls=tls, initial_window_size=65536)
    body, version = await curl(served, "/stream?n=200&size=65536")
    assert version == "2"
    assert len(body) == 200 * 65536
    assert body[:65536] == b"A" * 65536 and body[-65536:] == bytes([65 + 199 % 26]) * 65536


@pytest.mark.asyncio
async def test_static_file_ranges(serve: Serve) -> None:
    served = await serve(make_app())
    with open(os.path.join(STATIC, "data.bin"), "rb") as f:
        data = f.read()
    body, _ = await curl(served, "/static/data.bin")
    assert body == data
    body, _ = await curl(served, "/static/data.bin", "-r", "100-1099")
    assert body == data[100:1100]
    body, _ = await curl(served, "/static/data.bin", "-r", "-50")
    assert body == data[-50:]
    code, out, err = await run_peer(
        "curl", "-sS", "--http2-prior-knowledge", "-r", "100-199", "-D", "-", "-o", "/dev/null",
        served.url + "/static/data.bin",
    )  # fmt: skip
    head = out.decode().lower()
    assert head.startswith("http/2 206")
    assert f"content-range: bytes 100-199/{len(data)}" in head
    # HEAD: the length, no body.
    code, out, err = await run_peer(
        "curl", "-sS", "--http2-prior-knowledge", "-I", served.url + "/static/data.bin"
    )
    assert code == 0, err
    assert f"content-length: {len(data)}" in out.decode().lower()


@pytest.mark.asyncio
async def test_compress_response(serve: Serve) -> None:
    served = await serve(make_app(compress_response=True))
    code, out, err = await run_peer(
        "curl", "-sS", "--http2-prior-knowledge", "--compressed", "-D", "-", served.url + "/big"
    )
    assert code == 0, err
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"content-encoding: gzip" in head.lower()
    assert body == b"tornado " * 10000


@pytest.mark.asyncio
async def test_connection_specific_headers_are_dropped(serve: Serve) -> None:
    served = await serve(make_app())
    # curl refuses (PROTOCOL_ERROR) a response carrying Connection/Keep-Alive.
    code, out, err = await run_peer(
        "curl", "-sS", "--http2-prior-knowledge", "-D", "-", served.url + "/connection-header"
    )
    assert code == 0, err
    head = out.decode().lower()
    assert "x-kept: yes" in head
    assert "connection:" not in head and "keep-alive:" not in head


@pytest.mark.asyncio
async def test_cookies_both_ways(serve: Serve) -> None:
    served = await serve(make_app())
    body, _ = await curl(served, "/info", "-b", "a=1; b=2")
    assert json.loads(body)["cookies"] == {"a": "1", "b": "2"}
    _, out, _ = await run_peer(
        "curl", "-sS", "--http2-prior-knowledge", "-D", "-", served.url + "/cookies"
    )
    head = out.decode().lower()
    assert "set-cookie: a=1" in head and "set-cookie: b=2" in head


# -- more of the stack, unchanged over HTTP/2 --------------------------------------


def _load_demo(name: str) -> Any:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "demos" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"http2_demo_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.asyncio
async def test_hello_demo_over_http2(serve: Serve) -> None:
    served = await serve(_load_demo("hello").make_app(), tls=True)
    body, version = await curl(served, "/plain")
    assert (body, version) == (b"Hello, world", "2")
    page, _ = await curl(served, "/?name=h2")
    assert b"h2" in page and b"<html" in page.lower()


@pytest.mark.asyncio
async def test_chat_demo_over_http2(serve: Serve, client_context: ssl.SSLContext) -> None:
    import httpx

    served = await serve(_load_demo("chat").make_app(), tls=True)
    async with httpx.AsyncClient(http2=True, verify=client_context, base_url=served.url) as client:
        page = await client.get("/")
        assert page.http_version == "HTTP/2" and page.status_code == 200
        xsrf = client.cookies["_xsrf"]
        # A long poll and a new message on the same connection, at once.
        updates = asyncio.ensure_future(client.post("/a/message/updates", data={"_xsrf": xsrf}))
        posted = await client.post("/a/message/new", data={"body": "over h2", "_xsrf": xsrf})
        assert posted.status_code == 200
        polled = await updates
        assert [m["body"] for m in polled.json()["messages"]] == ["over h2"]
    assert served.server.accepted == 1


@pytest.mark.asyncio
async def test_wsgi_container_and_fallback_handler(serve: Serve) -> None:
    from tornado.web import FallbackHandler
    from tornado.wsgi import WSGIContainer

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = f"wsgi {environ['SERVER_PROTOCOL']} {environ['REQUEST_METHOD']}".encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "close")])
        return [body]

    container = WSGIContainer(wsgi_app)
    served = await serve(container)
    body, version = await curl(served, "/")
    assert (body, version) == (b"wsgi HTTP/2.0 GET", "2")
    app = Application([("/native", Hello), (r"/.*", FallbackHandler, {"fallback": container})])
    served = await serve(app)
    assert (await curl(served, "/native"))[0] == b"Hello, world"
    assert (await curl(served, "/other", "-d", "x=1"))[0] == b"wsgi HTTP/2.0 POST"


@pytest.mark.asyncio
async def test_xheaders_per_stream(serve: Serve) -> None:
    import httpx

    served = await serve(make_app(), xheaders=True)
    async with httpx.AsyncClient(http1=False, http2=True, base_url=served.url) as client:
        proxied, direct = await asyncio.gather(
            client.get("/info", headers={"X-Real-Ip": "10.1.2.3", "X-Scheme": "https"}),
            client.get("/info"),
        )
        after = await client.get("/info")
    # Concurrent streams of one connection do not see each other's headers.
    assert (proxied.json()["remote_ip"], proxied.json()["protocol"]) == ("10.1.2.3", "https")
    assert (direct.json()["remote_ip"], direct.json()["protocol"]) == ("127.0.0.1", "http")
    assert after.json()["remote_ip"] == "127.0.0.1"
    assert len({proxied.json()["connection"], direct.json()["connection"]}) == 1


@pytest.mark.asyncio
async def test_decompress_request(serve: Serve, tmp_path: Path) -> None:
    import gzip

    served = await serve(make_app(), decompress_request=True)
    payload = os.urandom(200_000)
    path = tmp_path / "payload.gz"
    path.write_bytes(gzip.compress(payload))
    body, _ = await curl(
        served, "/echo", "--data-binary", f"@{path}",
        "-H", "Content-Encoding: gzip", "-H", "Content-Type: application/octet-stream",
    )  # fmt: skip
    assert json.loads(body) == {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
