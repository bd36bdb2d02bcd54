"""`ASGIAdapter` under real ASGI servers: a uvicorn or hypercorn process
serves ``ASGIAdapter(make_app())`` and httpx drives it; every answer must
equal the one the same application gives on our own HTTPServer."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from .apps_tornado import make_app
from .conftest import ServeTornado, StartProcess

SERVERS = ["uvicorn", "hypercorn", "daphne", "gunicorn"]

#: The headers whose values must agree; Server, Date and the framing
#: (chunked or not) are each server's own business.
COMPARED_HEADERS = ("content-type", "location", "etag", "content-length", "cache-control")


def summary(response: httpx.Response) -> dict[str, Any]:
    """What must be equal between two servers' answers."""
    headers = {name: response.headers.get(name) for name in COMPARED_HEADERS}
    if response.headers.get("transfer-encoding") == "chunked":
        headers["content-length"] = None
    cookies = sorted(c.split("=", 1)[0] for c in response.headers.get_list("set-cookie"))
    return {
        "status": response.status_code,
        "headers": headers,
        "cookies": cookies,
        "body": response.content,
    }


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/hello", {}),
    ("HEAD", "/hello", {}),
    ("GET", "/info?q=%C3%A9t%C3%A9&x=1", {"headers": {"X-Probe": "probe"}}),
    ("GET", "/info/a%2Fb%20c", {}),
    ("GET", "/stream", {}),
    ("GET", "/cookies", {}),
    ("GET", "/redirect", {}),
    ("GET", "/fail", {}),
    ("GET", "/teapot", {}),
    ("GET", "/missing", {}),
    ("POST", "/hello", {}),
    ("POST", "/form", {"data": {"field": "x"}}),
    ("GET", "/static/hello.txt", {}),
    ("HEAD", "/static/hello.txt", {}),
    ("GET", "/static/hello.txt", {"headers": {"Range": "bytes=0-5"}}),
    ("PUT", "/upload", {"content": b"0123456789" * 10_000}),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("server", SERVERS)
async def test_answers_equal_our_server(
    server: str, start_process: StartProcess, serve_tornado: ServeTornado
) -> None:
    theirs = start_process(server, "apps_tornado:asgi_app", probe="/hello")
    ours = await serve_tornado(make_app())
    async with httpx.AsyncClient() as client:
        for method, path, kwargs in REQUESTS:
            a = await client.request(method, theirs + path, **kwargs)
            b = await client.request(method, ours + path, **kwargs)
            assert summary(a) == summary(b), (method, path)
        # Conditional GET: the ETag revalidates the same way.
        etag = (await client.get(theirs + "/hello")).headers["etag"]
        again = await client.get(theirs + "/hello", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""


@pytest.mark.asyncio
@pytest.mark.parametrize("server", SERVERS)
async def test_request_details(server: str, start_process: StartProcess) -> None:
    base = start_process(server, "apps_tornado:asgi_app", probe="/hello")
    async with httpx.AsyncClient() as client:
        info = (await client.get(base + "/info?q=v", headers={"X-Probe": "p"})).json()
        assert info == {
            "remote_ip": "127.0.0.1",
            "protocol": "http",
            "path": "/info",
            "query": "v",
            "rest": "",
            "header": "p",
        }
        # An escaped slash stays inside the path argument.
        info = (await client.get(base + "/info/a%2Fb")).json()
        assert info["rest"] == "a/b" and info["path"] == "/info/a%2Fb"


@pytest.mark.asyncio
@pytest.mark.parametrize("server", SERVERS)
async def test_cookies_and_xsrf_round_trip(server: str, start_process: StartProcess) -> None:
    base = start_process(server, "apps_tornado:asgi_app", probe="/hello")
    async with httpx.AsyncClient(base_url=base) as client:
        await client.get("/cookies")
        assert (await client.get("/read-cookies")).json() == {
            "plain": "value",
            "signed": "secret-value",
        }
        token = (await client.get("/form")).text
        refused = await client.post("/form", data={"field": "x"})
        assert refused.status_code == 403
        accepted = await client.post("/form", data={"field": "x", "_xsrf": token})
        assert accepted.status_code == 200 and accepted.text == "posted x"


@pytest.mark.asyncio
@pytest.mark.parametrize("server", SERVERS)
async def test_streaming_both_ways(server: str, start_process: StartProcess) -> None:
    base = start_process(server, "apps_tornado:asgi_app", probe="/hello")
    async with httpx.AsyncClient(base_url=base) as client:
        async with client.stream("GET", "/stream") as response:
            assert response.headers.get("content-length") is None
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        assert body == b"part 0\npart 1\npart 2\n"

        pieces = [bytes([i]) * 65536 for i in range(40)]

        async def upload() -> Any:
            for piece in pieces:
                yield piece

        answer = await client.put("/upload", content=upload())
        expected = hashlib.sha256(b"".join(pieces)).hexdigest()
        assert json.loads(answer.content) == {"size": 40 * 65536, "sha256": expected}


@pytest.mark.asyncio
async def test_errors_carry_no_traceback(start_process: StartProcess) -> None:
    base = start_process("uvicorn", "apps_tornado:asgi_app", probe="/hello")
    async with httpx.AsyncClient() as client:
        answer = await client.get(base + "/fail")
    assert answer.status_code == 500
    assert b"Traceback" not in answer.content and b"boom" not in answer.content


@pytest.mark.asyncio
async def test_hypercorn_gives_our_app_http2(start_process: StartProcess, tmp_path: Any) -> None:
    pytest.importorskip("h2")
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    base = start_process(
        "hypercorn",
        "apps_tornado:asgi_app",
        "--certfile",
        str(tmp_path / "cert.pem"),
        "--keyfile",
        str(tmp_path / "key.pem"),
        probe=None,  # plain-HTTP probing cannot reach a TLS port
    )
    # The socket was listening before hypercorn started: the first request
    # waits in the backlog until it accepts.
    context = ssl.create_default_context()
    ca.configure_trust(context)
    base = base.replace("http://", "https://")
    async with httpx.AsyncClient(http2=True, verify=context) as client:
        info = await client.get(base + "/info?q=h2")
        assert info.http_version == "HTTP/2"
        assert info.json()["protocol"] == "https" and info.json()["query"] == "h2"
        async with client.stream("GET", base + "/stream") as response:
            assert response.http_version == "HTTP/2"
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        assert body == b"part 0\npart 1\npart 2\n"
