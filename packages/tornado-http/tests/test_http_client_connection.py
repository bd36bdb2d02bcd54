"""simple_httpclient._HTTPConnection, the documented-internal connection
class that tornado-websocket subclasses, and HTTPRequest.original_request."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import SplitResult

import pytest

from tornado.httpclient import HTTPRequest, HTTPResponse
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine
from tornado.simple_httpclient import SimpleAsyncHTTPClient, _HTTPConnection
from tornado.tcpclient import TCPClient


def app(request: HTTPServerRequest) -> None:
    connection = request.connection
    assert connection is not None
    if request.path == "/moved":
        start_line = ResponseStartLine("HTTP/1.1", 302, "Found")
        headers = HTTPHeaders({"Location": "/here", "Content-Length": "0"})
        body = b""
    else:
        body = request.path.encode()
        start_line = ResponseStartLine("HTTP/1.1", 200, "OK")
        headers = HTTPHeaders({"Content-Length": str(len(body))})
    connection.write_headers(start_line, headers, body)
    connection.finish()


@pytest.mark.asyncio
async def test_connection_without_client_runs_a_plain_request(serve: Any) -> None:
    _, port = await serve(app)
    done: asyncio.Future[HTTPResponse] = asyncio.get_running_loop().create_future()
    released: list[bool] = []
    tcp_client = TCPClient()
    connection = _HTTPConnection(
        None,
        HTTPRequest(f"http://127.0.0.1:{port}/path?x=1"),
        lambda: released.append(True),
        done.set_result,
        104857600,
        tcp_client,
        65536,
        None,
    )
    response = await done
    tcp_client.close()
    assert response.code == 200 and response.body == b"/path"
    assert released == [True]
    assert isinstance(connection.parsed, SplitResult)
    assert connection.parsed.path == "/path" and connection.parsed.query == "x=1"
    assert connection.parsed_hostname == "127.0.0.1"
    assert connection.code == 200 and connection.headers is not None
    assert connection.final_callback is None and connection.release_callback is None
    # A plain HTTPRequest gets the defaults (it is seen through them).
    assert connection.request.follow_redirects is True


@pytest.mark.asyncio
async def test_original_request_only_on_redirect_copies(serve: Any) -> None:
    _, port = await serve(app)
    client = SimpleAsyncHTTPClient(force_instance=True)
    try:
        request = HTTPRequest(f"http://127.0.0.1:{port}/moved")
        assert not hasattr(request, "original_request")
        response = await client.fetch(request)
        assert response.code == 200 and response.body == b"/here"
        # The response belongs to the request the caller made.
        assert response.request is request
        assert response.effective_url == f"http://127.0.0.1:{port}/here"
        assert not hasattr(request, "original_request")
    finally:
        client.close()


def test_request_keeps_the_callers_header_mapping() -> None:
    # Tornado's contract: HTTPRequest.headers is the HTTPHeaders or dict given.
    given = {"foo": "bar"}
    request = HTTPRequest("http://127.0.0.1/", headers=given)
    assert request.headers is given
    assert request.headers == {"foo": "bar"}
    assert isinstance(HTTPRequest("http://127.0.0.1/").headers, HTTPHeaders)
