"""A bare HTTPServer (no web framework) and the asynchronous HTTP client."""

# output: 200 b'you sent 5 bytes to /upload'
# output: 404 raised HTTPClientError

import asyncio

from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine
from tornado.netutil import bind_sockets


def handle(request: HTTPServerRequest) -> None:
    # A request callback answers through the request's connection.
    assert request.connection is not None
    if request.path == "/upload":
        status, body = 200, f"you sent {len(request.body)} bytes to {request.path}".encode()
    else:
        status, body = 404, b"not found"
    headers = HTTPHeaders({"Content-Length": str(len(body)), "Content-Type": "text/plain"})
    request.connection.write_headers(ResponseStartLine("HTTP/1.1", status, "X"), headers)
    request.connection.write(body)
    request.connection.finish()


async def main() -> None:
    sockets = bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    server = HTTPServer(handle)
    server.add_sockets(sockets)

    client = AsyncHTTPClient()
    response = await client.fetch(f"http://127.0.0.1:{port}/upload", method="POST", body="hello")
    print(response.code, response.body)
    try:
        await client.fetch(f"http://127.0.0.1:{port}/missing")
    except HTTPClientError as e:
        # fetch raises for error statuses unless raise_error=False.
        print(e.code, "raised HTTPClientError")
    server.stop()
    await server.close_all_connections()


if __name__ == "__main__":
    asyncio.run(main())
