"""CurlAsyncHTTPClient (libcurl through pycurl) against real servers on
127.0.0.1: our HTTPServer with plain callbacks, and the standard library's
http.server for the blocking client."""

from __future__ import annotations

import asyncio
import base64
import datetime
import gzip
import hashlib
import http.server
import json
import logging
import re
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import trustme

pycurl = pytest.importorskip("pycurl")

from tornado.curl_httpclient import CurlAsyncHTTPClient, CurlError  # noqa: E402
from tornado.httpclient import (  # noqa: E402
    AsyncHTTPClient,
    HTTPClient,
    HTTPClientError,
    HTTPResponse,
)
from tornado.httpserver import HTTPServer  # noqa: E402
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine  # noqa: E402
from tornado.simple_httpclient import SimpleAsyncHTTPClient  # noqa: E402

# -- servers ------------------------------------------------------------------------


def respond(
    request: HTTPServerRequest,
    body: bytes,
    code: int = 200,
    headers: dict[str, str] | None = None,
    reason: str = "Reason",
) -> None:
    all_headers = HTTPHeaders({"Content-Length": str(len(body))})
    for name, value in (headers or {}).items():
        all_headers[name] = value
    assert request.connection is not None
    request.connection.write_headers(ResponseStartLine("HTTP/1.1", code, reason), all_headers, body)
    request.connection.finish()


def describe(request: HTTPServerRequest) -> bytes:
    """The request as the server saw it, as JSON."""
    return json.dumps(
        {
            "method": request.method,
            "uri": request.uri,
            "headers": dict(request.headers),
            "body": request.body.decode("latin-1"),
        }
    ).encode()


def seen(response: HTTPResponse) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(response.body)
    return result


REALM = "curl-tests"
NONCE = "0123456789abcdef"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def check_digest(request: HTTPServerRequest, username: str, password: str) -> bool:
    """Whether ``request`` carries a valid RFC 7616 (MD5, qop=auth) answer."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Digest "):
        return False
    params = {
        m.group(1): m.group(3) if m.group(3) is not None else m.group(4)
        for m in re.finditer(r'(\w+)=("([^"]*)"|([^,\s]*))', header[len("Digest ") :])
    }
    if params.get("username") != username or params.get("nonce") != NONCE:
        return False
    ha1 = _md5(f"{username}:{REALM}:{password}")
    ha2 = _md5(f"{request.method}:{params.get('uri')}")
    expected = _md5(f"{ha1}:{NONCE}:{params.get('nc')}:{params.get('cnonce')}:auth:{ha2}")
    return params.get("response") == expected and params.get("uri") == request.uri


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
        conn.write_headers(ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders(), b"first-")
        conn.write(b"second-")
        conn.write(b"x" * 100_000)
        conn.finish()
    elif path == "/head":
        respond(request, b"0123456789", headers={"X-Head": "yes"})
    elif path == "/basic":
        good = "Basic " + base64.b64encode("ann:s3cret:é".encode()).decode()
        if request.headers.get("Authorization") == good:
            respond(request, b"basic ok")
        else:
            respond(request, b"denied", 401, {"WWW-Authenticate": f'Basic realm="{REALM}"'})
    elif path == "/digest":
        if check_digest(request, "ann", "s3cret"):
            respond(request, b"digest ok:" + request.body)
        else:
            challenge = f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5'
            respond(request, b"denied", 401, {"WWW-Authenticate": challenge})
    elif path == "/connection":
        # Which connection carried the request: keep-alive reuse shows here.
        stream = request.connection.stream  # type: ignore[union-attr]
        respond(request, str(stream.socket.getpeername()[1]).encode())
    else:
        respond(request, describe(request))


@pytest_asyncio.fixture
async def base_url(serve: Any) -> str:
    _, port = await serve(app)
    return f"http://127.0.0.1:{port}"


@pytest_asyncio.fixture
async def client() -> AsyncIterator[CurlAsyncHTTPClient]:
    http_client = CurlAsyncHTTPClient(force_instance=True)
    yield http_client
    http_client.close()


class Holder:
    """A server callback that keeps ``/hold`` requests unanswered until
    the test answers them, and answers everything else at once."""

    def __init__(self) -> None:
        self.held: list[HTTPServerRequest] = []
        self.arrived = asyncio.Event()
        self.released = False
        # For each other request: had the held ones been released by then?
        self.others_after_release: list[bool] = []
        self.other_arrived = asyncio.Event()

    def __call__(self, request: HTTPServerRequest) -> None:
        if request.path == "/hold":
            self.held.append(request)
            self.arrived.set()
            return
        self.others_after_release.append(self.released)
        self.other_arrived.set()
        respond(request, b"quick")

    def release(self) -> None:
        self.released = True
        for request in self.held:
            respond(request, b"held")


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


# -- basics -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get(client: CurlAsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(base_url + "/hello?a=1")
    assert response.code == 200
    assert response.reason == "Reason"
    assert response.error is None
    assert response.effective_url == base_url + "/hello?a=1"
    assert response.request.url == base_url + "/hello?a=1"
    assert response.headers["Content-Length"] == str(len(response.body))
    info = seen(response)
    assert info["method"] == "GET"
    assert info["uri"] == "/hello?a=1"
    assert info["headers"]["Host"] == base_url.split("//")[1]
    # libcurl's own headers that the client turns off.
    assert "Expect" not in info["headers"]
    assert "Pragma" not in info["headers"]
    assert info["headers"]["User-Agent"] == "Mozilla/5.0 (compatible; pycurl)"
    assert response.request_time is not None and response.request_time >= 0
    assert response.start_time is not None


@pytest.mark.asyncio
async def test_post_put_patch_delete(client: CurlAsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(base_url + "/post", method="POST", body="text body é")
    info = seen(response)
    assert info["method"] == "POST"
    assert info["body"].encode("latin-1") == "text body é".encode()
    assert info["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert info["headers"]["Content-Length"] == str(len("text body é".encode()))

    for method in ("PUT", "PATCH"):
        info = seen(await client.fetch(base_url + "/up", method=method, body=b"payload"))
        assert info["method"] == method
        assert info["body"] == "payload"
        assert info["headers"]["Content-Length"] == "7"

    info = seen(await client.fetch(base_url + "/gone", method="DELETE"))
    assert info["method"] == "DELETE"
    assert info["body"] == ""
    info = seen(await client.fetch(base_url + "/opts", method="OPTIONS"))
    assert info["method"] == "OPTIONS"


@pytest.mark.asyncio
async def test_empty_post_body(client: CurlAsyncHTTPClient, base_url: str) -> None:
    info = seen(await client.fetch(base_url + "/empty", method="POST", body=b""))
    assert info["method"] == "POST"
    assert info["body"] == ""
    assert info["headers"]["Content-Length"] == "0"


@pytest.mark.asyncio
async def test_head(client: CurlAsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(base_url + "/head", method="HEAD")
    assert response.code == 200
    assert response.body == b""
    assert response.headers["Content-Length"] == "10"
    assert response.headers["X-Head"] == "yes"


@pytest.mark.asyncio
async def test_request_headers_and_options(client: CurlAsyncHTTPClient, base_url: str) -> None:
    when = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    headers = HTTPHeaders({"X-Custom": "yes", "X-Empty": ""})
    headers.add("X-Multi", "1")
    headers.add("X-Multi", "2")
    response = await client.fetch(
        base_url + "/opts",
        headers=headers,
        user_agent="agent/1",
        if_modified_since=when,
        network_interface="127.0.0.1",
    )
    sent = seen(response)["headers"]
    assert sent["X-Custom"] == "yes"
    assert sent["X-Empty"] == ""
    assert sent["X-Multi"] == "1,2"
    assert sent["User-Agent"] == "agent/1"
    assert sent["If-Modified-Since"] == "Thu, 02 Jan 2020 03:04:05 GMT"


@pytest.mark.asyncio
async def test_header_injection_refused(client: CurlAsyncHTTPClient, base_url: str) -> None:
    # Building headers from a dict does not validate them.
    for headers in ({"X-Bad": "a\r\nX-Injected: 1"}, {"X-Bad\nX-Injected": "1"}):
        with pytest.raises(ValueError, match="Invalid header"):
            await client.fetch(base_url, headers=headers)
    # The handle is still usable.
    assert "X-Injected" not in seen(await client.fetch(base_url))["headers"]


@pytest.mark.asyncio
async def test_error_codes(client: CurlAsyncHTTPClient, base_url: str) -> None:
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(base_url + "/status/404")
    assert info.value.code == 404
    assert not isinstance(info.value, CurlError)
    assert info.value.response is not None
    assert info.value.response.body == b"status body"

    response = await client.fetch(base_url + "/status/500", raise_error=False)
    assert response.code == 500
    assert response.body == b"status body"
    assert isinstance(response.error, HTTPClientError)


@pytest.mark.asyncio
async def test_connection_refused(client: CurlAsyncHTTPClient) -> None:
    with pytest.raises(CurlError) as info:
        await client.fetch(f"http://127.0.0.1:{closed_port()}/")
    assert info.value.code == 599
    assert info.value.errno == pycurl.E_COULDNT_CONNECT
    assert info.value.message
    assert info.value.response is None
    # raise_error=False does not hide errors without a response.
    with pytest.raises(CurlError):
        await client.fetch(f"http://127.0.0.1:{closed_port()}/", raise_error=False)


@pytest.mark.asyncio
async def test_only_http_schemes(client: CurlAsyncHTTPClient, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for http clients")
    with pytest.raises(CurlError) as info:
        await client.fetch(secret.as_uri())
    assert info.value.errno == pycurl.E_UNSUPPORTED_PROTOCOL


@pytest.mark.asyncio
async def test_bad_arguments(client: CurlAsyncHTTPClient, base_url: str) -> None:
    with pytest.raises(ValueError, match="Body must not be None"):
        await client.fetch(base_url, method="POST")
    with pytest.raises(ValueError, match="Body must be None"):
        await client.fetch(base_url, method="DELETE", body=b"x")
    with pytest.raises(ValueError, match="Body must be None for GET"):
        await client.fetch(base_url, method="GET", body=b"x", allow_nonstandard_methods=True)
    with pytest.raises(KeyError):
        await client.fetch(base_url, method="BREW")
    with pytest.raises(ValueError, match="body_producer"):
        await client.fetch(
            base_url,
            method="POST",
            body_producer=lambda write: None,
            allow_nonstandard_methods=True,
        )
    with pytest.raises(ValueError, match="ssl_options"):
        await client.fetch(base_url, ssl_options=ssl.create_default_context())
    with pytest.raises(ValueError, match="auth_mode"):
        await client.fetch(base_url, auth_username="a", auth_password="b", auth_mode="magic")
    with pytest.raises(ValueError, match="proxy_auth_mode"):
        await client.fetch(
            base_url,
            proxy_host="127.0.0.1",
            proxy_port=1,
            proxy_username="a",
            proxy_auth_mode="magic",
        )
    # The handles that failed setup went back to the pool: it still works.
    assert seen(await client.fetch(base_url))["method"] == "GET"


@pytest.mark.asyncio
async def test_nonstandard_methods(client: CurlAsyncHTTPClient, base_url: str) -> None:
    info = seen(
        await client.fetch(
            base_url + "/odd", method="BREW", body=b"coffee", allow_nonstandard_methods=True
        )
    )
    assert info["method"] == "BREW"
    assert info["body"] == "coffee"
    info = seen(
        await client.fetch(base_url + "/odd", method="PROPFIND", allow_nonstandard_methods=True)
    )
    assert info["method"] == "PROPFIND"
    info = seen(await client.fetch(base_url + "/e", method="POST", allow_nonstandard_methods=True))
    assert info["method"] == "POST"
    assert info["body"] == ""
    info = seen(
        await client.fetch(
            base_url + "/d", method="DELETE", body=b"gone", allow_nonstandard_methods=True
        )
    )
    assert info["method"] == "DELETE"
    assert info["body"] == "gone"


@pytest.mark.asyncio
async def test_expect_100_continue(client: CurlAsyncHTTPClient, base_url: str) -> None:
    big = b"b" * 2_000_000
    # libcurl would add "Expect: 100-continue" to a body this size by itself.
    info = seen(await client.fetch(base_url + "/big", method="POST", body=big))
    assert "Expect" not in info["headers"]
    assert len(info["body"]) == len(big)

    info = seen(
        await client.fetch(base_url + "/big", method="PUT", body=big, expect_100_continue=True)
    )
    assert info["headers"]["Expect"] == "100-continue"
    assert len(info["body"]) == len(big)


# -- redirects --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_redirects(client: CurlAsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(base_url + "/redirect/302?to=/final")
    assert response.code == 200
    assert response.effective_url == base_url + "/final"
    assert seen(response)["uri"] == "/final"
    # The headers and reason are those of the last response.
    assert "Location" not in response.headers

    response = await client.fetch(
        base_url + "/redirect/302?to=/final", follow_redirects=False, raise_error=False
    )
    assert response.code == 302
    assert response.headers["Location"] == "/final"
    assert response.body == b"moved"

    with pytest.raises(CurlError) as info:
        await client.fetch(base_url + "/loop", max_redirects=3)
    assert info.value.errno == pycurl.E_TOO_MANY_REDIRECTS


@pytest.mark.asyncio
async def test_redirect_methods(client: CurlAsyncHTTPClient, base_url: str) -> None:
    # 303 turns a POST into a GET without a body.
    response = await client.fetch(base_url + "/redirect/303?to=/after", method="POST", body=b"x")
    info = seen(response)
    assert (info["method"], info["uri"], info["body"]) == ("GET", "/after", "")
    # 307 keeps the method and sends the body again (libcurl rewinds it).
    response = await client.fetch(
        base_url + "/redirect/307?to=/after", method="POST", body=b"again"
    )
    info = seen(response)
    assert (info["method"], info["uri"], info["body"]) == ("POST", "/after", "again")


# -- response bodies and callbacks ------------------------------------------------


@pytest.mark.asyncio
async def test_gzip(client: CurlAsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(base_url + "/gzip")
    assert response.body == b"inflated!" * 100
    response = await client.fetch(base_url + "/gzip", decompress_response=False)
    assert gzip.decompress(response.body) == b"inflated!" * 100

    sent = seen(await client.fetch(base_url + "/enc"))["headers"]
    assert "gzip" in sent["Accept-Encoding"]
    sent = seen(await client.fetch(base_url + "/enc", decompress_response=False))["headers"]
    assert "Accept-Encoding" not in sent


@pytest.mark.asyncio
async def test_streaming_callback(client: CurlAsyncHTTPClient, base_url: str) -> None:
    chunks: list[bytes] = []
    response = await client.fetch(base_url + "/chunks", streaming_callback=chunks.append)
    assert b"".join(chunks) == b"first-second-" + b"x" * 100_000
    assert response.body == b""
    assert response.headers["Transfer-Encoding"] == "chunked"


@pytest.mark.asyncio
async def test_header_callback(client: CurlAsyncHTTPClient, base_url: str) -> None:
    lines: list[str] = []
    chunks: list[bytes] = []
    response = await client.fetch(
        base_url + "/head", header_callback=lines.append, streaming_callback=chunks.append
    )
    assert lines[0] == "HTTP/1.1 200 Reason\r\n"
    assert "Content-Length: 10\r\n" in lines
    assert "X-Head: yes\r\n" in lines
    assert lines[-1] == "\r\n"
    assert b"".join(chunks) == b"0123456789"
    assert response.headers["X-Head"] == "yes"

    # Followed redirects: the heads of every response, in order.
    lines.clear()
    await client.fetch(base_url + "/redirect/301?to=/head", header_callback=lines.append)
    status_lines = [line for line in lines if line.startswith("HTTP/")]
    assert status_lines == ["HTTP/1.1 301 Reason\r\n", "HTTP/1.1 200 Reason\r\n"]


@pytest.mark.asyncio
async def test_prepare_curl_callback(client: CurlAsyncHTTPClient, base_url: str) -> None:
    handles: list[Any] = []

    def prepare(curl: Any) -> None:
        handles.append(curl)
        # Runs after the client's own setup, so this wins.
        curl.setopt(pycurl.USERAGENT, "set-by-callback")

    response = await client.fetch(base_url + "/ua", prepare_curl_callback=prepare)
    assert isinstance(handles[0], pycurl.Curl)
    assert seen(response)["headers"]["User-Agent"] == "set-by-callback"
    # The option does not leak into the next request on a reused handle.
    response = await client.fetch(base_url + "/ua")
    assert seen(response)["headers"]["User-Agent"] == "Mozilla/5.0 (compatible; pycurl)"


@pytest.mark.asyncio
async def test_time_info(client: CurlAsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(base_url + "/t")
    info = response.time_info
    assert set(info) == {
        "queue",
        "namelookup",
        "connect",
        "appconnect",
        "pretransfer",
        "starttransfer",
        "total",
        "redirect",
    }
    assert all(value >= 0 for value in info.values())
    assert info["connect"] <= info["pretransfer"] <= info["starttransfer"] <= info["total"]
    assert info["total"] > 0


@pytest.mark.asyncio
async def test_keep_alive_reuses_connection(client: CurlAsyncHTTPClient, base_url: str) -> None:
    first = await client.fetch(base_url + "/connection")
    second = await client.fetch(base_url + "/connection")
    assert first.body == second.body


# -- misbehaving servers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "errno"),
    [
        # The connection closes mid-body.
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", pycurl.E_PARTIAL_FILE),
        # A header name with a control character: refused by our header parser.
        (b"HTTP/1.1 200 OK\r\nX-\x01Bad: 1\r\nContent-Length: 3\r\n\r\nabc", pycurl.E_WRITE_ERROR),
        # The connection closes without an answer.
        (b"", pycurl.E_GOT_NOTHING),
        # Not HTTP at all, and a header line without a colon: libcurl's own checks.
        (b"garbage\r\n\r\n", None),
        (b"HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 3\r\n\r\nabc", None),
    ],
)
@pytest.mark.asyncio
async def test_misbehaving_server(
    client: CurlAsyncHTTPClient, answer: bytes, errno: int | None
) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(CurlError) as info:
            await client.fetch(f"http://127.0.0.1:{port}/")
        assert info.value.code == 599
        if errno is not None:
            assert info.value.errno == errno
    finally:
        server.close()
        await server.wait_closed()


# -- authentication and proxies ---------------------------------------------------


@pytest.mark.asyncio
async def test_basic_auth(client: CurlAsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(
        base_url + "/basic", auth_username="ann", auth_password="s3cret:é"
    )
    assert response.body == b"basic ok"
    response = await client.fetch(
        base_url + "/basic", auth_username="ann", auth_password="s3cret:é", auth_mode="basic"
    )
    assert response.body == b"basic ok"
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(base_url + "/basic", auth_username="ann", auth_password="wrong")
    assert info.value.code == 401
    # Credentials do not stick to the reused handle.
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(base_url + "/basic")
    assert info.value.code == 401


@pytest.mark.asyncio
async def test_digest_auth(client: CurlAsyncHTTPClient, base_url: str) -> None:
    response = await client.fetch(
        base_url + "/digest", auth_username="ann", auth_password="s3cret", auth_mode="digest"
    )
    assert response.body == b"digest ok:"
    # A body is sent again after the challenge.
    response = await client.fetch(
        base_url + "/digest",
        method="POST",
        body=b"form=1",
        auth_username="ann",
        auth_password="s3cret",
        auth_mode="digest",
    )
    assert response.body == b"digest ok:form=1"
    with pytest.raises(HTTPClientError) as info:
        await client.fetch(
            base_url + "/digest", auth_username="ann", auth_password="nope", auth_mode="digest"
        )
    assert info.value.code == 401
    # Basic credentials do not satisfy the digest check.
    with pytest.raises(HTTPClientError):
        await client.fetch(base_url + "/digest", auth_username="ann", auth_password="s3cret")


@pytest.mark.asyncio
async def test_proxy(client: CurlAsyncHTTPClient, serve: Any) -> None:
    # A "proxy" that answers itself with what it was asked.
    _, port = await serve(app)
    response = await client.fetch(
        "http://origin.invalid/through?q=1",
        proxy_host="127.0.0.1",
        proxy_port=port,
        proxy_username="pu",
        proxy_password="pp",
    )
    info = seen(response)
    assert info["uri"] == "http://origin.invalid/through?q=1"
    assert info["headers"]["Host"] == "origin.invalid"
    assert info["headers"]["Proxy-Authorization"] == "Basic " + base64.b64encode(b"pu:pp").decode()

    # Without proxy_username, no credentials.
    info = seen(
        await client.fetch("http://origin.invalid/", proxy_host="127.0.0.1", proxy_port=port)
    )
    assert info["uri"] == "http://origin.invalid/"
    assert "Proxy-Authorization" not in info["headers"]


@pytest.mark.asyncio
async def test_proxy_environment_ignored(
    client: CurlAsyncHTTPClient, base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only proxy_host names a proxy; libcurl must not take one from the
    # environment (this one refuses connections).
    proxy = f"http://127.0.0.1:{closed_port()}"
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert seen(await client.fetch(base_url + "/direct"))["uri"] == "/direct"


# -- network options ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_network_interface_applied(client: CurlAsyncHTTPClient, base_url: str) -> None:
    with pytest.raises(CurlError) as info:
        await client.fetch(base_url, network_interface="no-such-interface0")
    assert info.value.errno == pycurl.E_INTERFACE_FAILED


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
@pytest.mark.asyncio
async def test_allow_ipv6(client: CurlAsyncHTTPClient) -> None:
    # A server on ::1 only, and a name that resolves (through libcurl's
    # CURLOPT_RESOLVE) to ::1 and 127.0.0.1: allow_ipv6=False leaves only
    # the address where nothing listens.
    server = HTTPServer(app)
    server.listen(0, "::1")
    try:
        port = next(iter(server._sockets.values())).getsockname()[1]

        def resolve(curl: Any) -> None:
            curl.setopt(pycurl.RESOLVE, [f"dual.test:{port}:[::1],127.0.0.1"])

        url = f"http://dual.test:{port}/v6"
        response = await client.fetch(url, prepare_curl_callback=resolve)
        assert seen(response)["uri"] == "/v6"
        with pytest.raises(CurlError) as info:
            await client.fetch(url, allow_ipv6=False, prepare_curl_callback=resolve)
        assert info.value.errno == pycurl.E_COULDNT_CONNECT
    finally:
        server.stop()
        await server.close_all_connections()


# -- timeouts and the pool ----------------------------------------------------------


@pytest.mark.asyncio
async def test_request_timeout(client: CurlAsyncHTTPClient, serve: Any) -> None:
    holder = Holder()
    _, port = await serve(holder)
    with pytest.raises(CurlError) as info:
        await client.fetch(f"http://127.0.0.1:{port}/hold", request_timeout=0.2)
    assert info.value.code == 599
    assert info.value.errno == pycurl.E_OPERATION_TIMEDOUT
    assert "timed out" in info.value.message.lower()
    assert holder.held  # it did reach the server


@pytest.mark.asyncio
async def test_connect_timeout(client: CurlAsyncHTTPClient) -> None:
    # A listener whose accept queue is full: the kernel drops further SYNs,
    # so connecting hangs until connect_timeout (request_timeout is long).
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(3):
            filler = socket.socket()
            fillers.append(filler)
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
        with pytest.raises(CurlError) as info:
            await client.fetch(f"http://127.0.0.1:{port}/", connect_timeout=0.2, request_timeout=60)
        if info.value.errno == pycurl.E_COULDNT_CONNECT:
            pytest.skip("this kernel refuses connections to a full accept queue")
        assert info.value.errno == pycurl.E_OPERATION_TIMEDOUT
        assert info.value.message.startswith("Connection timed out")
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.mark.asyncio
async def test_max_clients_queues(serve: Any) -> None:
    holder = Holder()
    _, port = await serve(holder)
    url = f"http://127.0.0.1:{port}"
    client = CurlAsyncHTTPClient(force_instance=True, max_clients=1)
    try:
        held = asyncio.ensure_future(client.fetch(url + "/hold"))
        quick = asyncio.ensure_future(client.fetch(url + "/quick"))
        await holder.arrived.wait()
        holder.release()
        assert (await held).body == b"held"
        assert (await quick).body == b"quick"
        # The second request only reached the server once the first was done.
        assert holder.others_after_release == [True]
        assert (await quick).time_info["queue"] > 0
    finally:
        client.close()


@pytest.mark.asyncio
async def test_two_clients_run_at_once(serve: Any) -> None:
    # The counterpart of test_max_clients_queues: with a free handle the
    # second request reaches the server while the first is held.
    holder = Holder()
    _, port = await serve(holder)
    url = f"http://127.0.0.1:{port}"
    client = CurlAsyncHTTPClient(force_instance=True, max_clients=2)
    try:
        held = asyncio.ensure_future(client.fetch(url + "/hold"))
        quick = asyncio.ensure_future(client.fetch(url + "/quick"))
        await holder.arrived.wait()
        assert (await quick).body == b"quick"
        holder.release()
        assert (await held).body == b"held"
        assert holder.others_after_release == [False]
    finally:
        client.close()


@pytest.mark.asyncio
async def test_many_requests_through_small_pool(base_url: str) -> None:
    client = CurlAsyncHTTPClient(force_instance=True, max_clients=3)
    try:
        responses = await asyncio.gather(*(client.fetch(f"{base_url}/n{i}") for i in range(25)))
        assert [seen(r)["uri"] for r in responses] == [f"/n{i}" for i in range(25)]
        assert len(client._free_list) == 3
    finally:
        client.close()


@pytest.mark.asyncio
async def test_close(serve: Any) -> None:
    holder = Holder()
    _, port = await serve(holder)
    client = CurlAsyncHTTPClient(force_instance=True)
    pending = asyncio.ensure_future(client.fetch(f"http://127.0.0.1:{port}/hold"))
    await holder.arrived.wait()
    assert client._fds  # libcurl's socket is watched by the IOLoop
    client.close()
    client.close()  # harmless twice
    assert client._fds == {}
    assert client._timeout is None
    with pytest.raises(RuntimeError):
        await client.fetch(f"http://127.0.0.1:{port}/quick")
    assert not pending.done()
    pending.cancel()


# -- TLS ----------------------------------------------------------------------------------


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest_asyncio.fixture
async def https_url(serve: Any, server_context: ssl.SSLContext) -> str:
    _, port = await serve(app, ssl_options=server_context)
    return f"https://localhost:{port}"


@pytest.mark.asyncio
async def test_tls_with_ca_certs(client: CurlAsyncHTTPClient, https_url: str, ca_file: str) -> None:
    response = await client.fetch(https_url + "/secure", ca_certs=ca_file)
    assert seen(response)["uri"] == "/secure"
    assert response.time_info["appconnect"] > 0


@pytest.mark.asyncio
async def test_tls_unknown_ca_refused(client: CurlAsyncHTTPClient, https_url: str) -> None:
    with pytest.raises(CurlError) as info:
        await client.fetch(https_url + "/secure")
    assert info.value.code == 599
    # Not validating accepts the same server.
    response = await client.fetch(https_url + "/secure", validate_cert=False)
    assert seen(response)["uri"] == "/secure"


@pytest.mark.asyncio
async def test_tls_hostname_checked(
    client: CurlAsyncHTTPClient, serve: Any, ca: trustme.CA, ca_file: str
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("other.example").configure_cert(context)
    _, port = await serve(app, ssl_options=context)
    with pytest.raises(CurlError):
        await client.fetch(f"https://localhost:{port}/", ca_certs=ca_file)
    response = await client.fetch(f"https://localhost:{port}/", validate_cert=False)
    assert response.code == 200


@pytest.mark.asyncio
async def test_tls_client_certificate(
    client: CurlAsyncHTTPClient,
    serve: Any,
    ca: trustme.CA,
    server_cert: trustme.LeafCert,
    ca_file: str,
    tmp_path: Path,
) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_cert.configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    _, port = await serve(app, ssl_options=context)
    url = f"https://localhost:{port}/mutual"

    leaf = ca.issue_cert("client.example")
    cert_file = tmp_path / "client.pem"
    key_file = tmp_path / "client.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert_file))
    leaf.private_key_pem.write_to_path(str(key_file))
    response = await client.fetch(
        url, ca_certs=ca_file, client_cert=str(cert_file), client_key=str(key_file)
    )
    assert seen(response)["uri"] == "/mutual"

    with pytest.raises(CurlError):
        await client.fetch(url, ca_certs=ca_file)


# -- choosing the implementation ----------------------------------------------------


@pytest.mark.asyncio
async def test_configure_switches_implementation(base_url: str) -> None:
    AsyncHTTPClient.configure(
        "tornado.curl_httpclient.CurlAsyncHTTPClient",
        max_clients=3,
        defaults={"user_agent": "configured/1"},
    )
    try:
        private = AsyncHTTPClient(force_instance=True)
        shared = AsyncHTTPClient()
        try:
            assert isinstance(private, CurlAsyncHTTPClient)
            assert isinstance(shared, CurlAsyncHTTPClient)
            assert AsyncHTTPClient() is shared
            assert len(private._curls) == 3
            response = await private.fetch(base_url + "/configured")
            assert seen(response)["headers"]["User-Agent"] == "configured/1"
            # A request's own value beats the defaults.
            response = await shared.fetch(base_url + "/configured", user_agent="mine")
            assert seen(response)["headers"]["User-Agent"] == "mine"
        finally:
            private.close()
            shared.close()
    finally:
        AsyncHTTPClient.configure(None)
    default = AsyncHTTPClient(force_instance=True)
    try:
        assert isinstance(default, SimpleAsyncHTTPClient)
    finally:
        default.close()


class _StdlibHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"stdlib saw {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stdlib_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StdlibHandler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_blocking_client_with_curl(stdlib_url: str) -> None:
    client = HTTPClient(async_client_class=CurlAsyncHTTPClient, max_clients=2)
    try:
        response = client.fetch(stdlib_url + "/blocking")
        assert response.body == b"stdlib saw /blocking"
        with pytest.raises(CurlError):
            client.fetch(f"http://127.0.0.1:{closed_port()}/")
    finally:
        client.close()


# -- body limits and streaming callbacks ------------------------------------------


@pytest.mark.asyncio
async def test_coroutine_streaming_callback_refused(
    client: CurlAsyncHTTPClient, base_url: str
) -> None:
    # libcurl hands data over inside its own call: a coroutine could not be
    # awaited there, so it is refused up front rather than never run.
    from tornado import gen

    async def async_callback(chunk: bytes) -> None:
        await asyncio.sleep(0)

    @gen.coroutine
    def decorated_callback(chunk: bytes) -> Any:
        yield gen.moment

    for callback in (async_callback, decorated_callback):
        with pytest.raises(TypeError, match="streaming_callback"):
            client.fetch(base_url + "/chunks", streaming_callback=callback)
    # A plain function is fine.
    chunks: list[bytes] = []
    await client.fetch(base_url + "/chunks", streaming_callback=chunks.append)
    assert b"".join(chunks).startswith(b"first-second-")


def _gzip_app(inflated: bytes) -> Any:
    body = gzip.compress(inflated)

    def gzip_app(request: HTTPServerRequest) -> None:
        respond(request, body, headers={"Content-Encoding": "gzip"})

    return gzip_app


@pytest.mark.asyncio
async def test_default_body_limit_logged_when_hit(
    serve: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from tornado import curl_httpclient

    assert CurlAsyncHTTPClient(force_instance=True).max_body_size == 100 * 1024 * 1024
    # The default made small, so that a small response crosses it (a limit
    # equal to the default counts as the default).
    monkeypatch.setattr(curl_httpclient, "_DEFAULT_MAX_BODY_SIZE", 10_000)
    _, port = await serve(_gzip_app(b"z" * 50_000))
    client = CurlAsyncHTTPClient(force_instance=True, max_body_size=10_000)
    try:
        with (
            caplog.at_level(logging.INFO, logger="tornado.general"),
            pytest.raises(CurlError) as info,
        ):
            await client.fetch(f"http://127.0.0.1:{port}/")
        assert "decompressed body too large" in str(info.value)
        assert "max_body_size" in str(info.value)
        logged = [r.getMessage() for r in caplog.records if r.name == "tornado.general"]
        assert any("decompressed body too large" in m for m in logged)
    finally:
        client.close()


@pytest.mark.asyncio
async def test_explicit_body_limit_reported_without_logging(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _, port = await serve(_gzip_app(b"z" * 50_000))
    client = CurlAsyncHTTPClient(force_instance=True, max_body_size=10_000)
    try:
        with (
            caplog.at_level(logging.INFO, logger="tornado.general"),
            pytest.raises(CurlError, match="decompressed body too large"),
        ):
            await client.fetch(f"http://127.0.0.1:{port}/")
            # Not inflated by libcurl: the compressed body is what counts.
            response = await client.fetch(f"http://127.0.0.1:{port}/", decompress_response=False)
            assert gzip.decompress(response.body) == b"z" * 50_000
        assert not [r for r in caplog.records if r.name == "tornado.general"]
    finally:
        client.close()


def test_default_max_body_size_in_signature() -> None:
    import inspect

    from tornado import curl_httpclient

    default = inspect.signature(CurlAsyncHTTPClient.initialize).parameters["max_body_size"].default
    assert default == 100 * 1024 * 1024
    assert curl_httpclient.CR_OR_LF_RE.search(b"X-A: 1\r\n")
    assert not curl_httpclient.CR_OR_LF_RE.search(b"X-A: 1")


@pytest.mark.asyncio
async def test_streaming_callback_errors_go_to_handle_callback_exception(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    handled: list[tuple[Any, BaseException | None]] = []

    class Client(CurlAsyncHTTPClient):
        def handle_callback_exception(self, callback: Any) -> None:
            import sys

            handled.append((callback, sys.exc_info()[1]))

    def on_chunk(chunk: bytes) -> None:
        raise RuntimeError("boom")

    client = Client(force_instance=True)
    try:
        response = await client.fetch(base_url + "/chunks", streaming_callback=on_chunk)
        assert response.code == 200
    finally:
        client.close()
    assert handled
    assert all(cb is on_chunk and isinstance(exc, RuntimeError) for cb, exc in handled)

    # The default logs to tornado.application with the traceback.
    client = CurlAsyncHTTPClient(force_instance=True)
    try:
        with caplog.at_level(logging.ERROR, logger="tornado.application"):
            await client.fetch(base_url + "/chunks", streaming_callback=on_chunk)
    finally:
        client.close()
    records = [r for r in caplog.records if r.name == "tornado.application"]
    assert records and records[0].exc_info is not None
    assert "Exception in callback" in records[0].getMessage()
