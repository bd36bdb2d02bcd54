"""Applications for the package tests, written against tornado.httputil's
delegate interfaces only (tornado-web is not a dependency of
tornado-http2; the Application tests are in tests-integration)."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
from collections.abc import Awaitable

from tornado.httputil import (
    HTTPConnection,
    HTTPHeaders,
    HTTPMessageDelegate,
    HTTPServerConnectionDelegate,
    RequestStartLine,
    ResponseStartLine,
)


class Exchange(HTTPMessageDelegate):
    """One request: routes on the path once the body is in."""

    def __init__(self, app: DelegateApp, connection: HTTPConnection, server_conn: object) -> None:
        self.app = app
        self.connection = connection
        self.server_conn = server_conn
        self.start_line: RequestStartLine | None = None
        self.headers = HTTPHeaders()
        self.size = 0
        self.digest = hashlib.sha256()
        self.closed = False

    def headers_received(
        self, start_line: RequestStartLine | ResponseStartLine, headers: HTTPHeaders
    ) -> Awaitable[None] | None:
        assert isinstance(start_line, RequestStartLine)
        self.start_line = start_line
        self.headers = headers
        if start_line.path.startswith("/limit"):
            self.connection.set_max_body_size(1000)  # type: ignore[attr-defined]
        return None

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        self.size += len(chunk)
        self.digest.update(chunk)
        assert self.start_line is not None
        if self.start_line.path.startswith("/slow"):
            # One loop turn per chunk: flow control must hold the client back.
            return asyncio.sleep(0)
        return None

    def finish(self) -> None:
        self.app.finished += 1
        assert self.start_line is not None
        path = self.start_line.path
        if path.startswith("/stream"):
            self.app.tasks.add(asyncio.get_running_loop().create_task(self.stream_response()))
            return
        if path.startswith("/late"):
            self.app.tasks.add(asyncio.get_running_loop().create_task(self.late_response()))
            return
        if path.startswith("/wait"):
            self.app.tasks.add(asyncio.get_running_loop().create_task(self.wait_response()))
            return
        if path.startswith("/info"):
            body = json.dumps(
                {
                    "version": self.start_line.version,
                    "method": self.start_line.method,
                    "host": self.headers.get("Host"),
                    "cookie": self.headers.get("Cookie"),
                    "connection": id(self.server_conn),
                }
            ).encode()
        elif path.startswith(("/echo", "/slow", "/limit")):
            body = json.dumps({"size": self.size, "sha256": self.digest.hexdigest()}).encode()
        elif path.startswith("/headers"):
            body = json.dumps(dict(self.headers.get_all())).encode()
        elif path.startswith("/gzip"):
            body = gzip.compress(b"squeeze " * 1000)
        elif path.startswith("/redirect"):
            target = path.partition("to=")[2] or "/info"
            headers = HTTPHeaders({"Location": target, "Content-Length": "0"})
            self.connection.write_headers(ResponseStartLine("HTTP/1.1", 302, "Found"), headers)
            self.connection.finish()
            return
        else:
            body = b"Hello, world"
        headers = HTTPHeaders({"Content-Length": str(len(body)), "Content-Type": "text/plain"})
        if path.startswith("/gzip"):
            headers["Content-Encoding"] = "gzip"
        if path.startswith("/hop"):
            # Forbidden on HTTP/2: must be dropped on the way out.
            headers["Connection"] = "keep-alive"
            headers["Keep-Alive"] = "timeout=5"
            headers["Transfer-Encoding"] = "identity"
            headers["Upgrade"] = "h2c"
        self.connection.write_headers(ResponseStartLine("HTTP/1.1", 200, "OK"), headers, body)
        self.connection.finish()

    async def stream_response(self) -> None:
        """``/stream?n=...``: n chunks of 64 KiB, each write awaited."""
        assert self.start_line is not None
        count = int(self.start_line.path.partition("n=")[2] or "16")
        await self.connection.write_headers(ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders())
        for i in range(count):
            await self.connection.write(bytes([65 + i % 26]) * 65536)
        self.connection.finish()

    async def wait_response(self) -> None:
        """``/wait``: headers at once, the body once the app is released."""
        await self.connection.write_headers(ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders())
        self.app.waiting.set()
        await self.app.release.wait()
        await self.connection.write(b"released")
        self.connection.finish()

    async def late_response(self) -> None:
        """``/late``: the whole response only once the app is released."""
        self.app.waiting.set()
        await self.app.release.wait()
        self.connection.write_headers(ResponseStartLine("HTTP/1.1", 200, "OK"), HTTPHeaders())
        self.connection.write(b"late")
        self.connection.finish()

    def on_connection_close(self) -> None:
        self.closed = True
        self.app.closed += 1


class DelegateApp(HTTPServerConnectionDelegate):
    """Counts requests finished and requests whose connection closed early."""

    def __init__(self) -> None:
        self.finished = 0
        self.closed = 0
        self.server_connections: set[int] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.waiting = asyncio.Event()
        self.release = asyncio.Event()

    def start_request(
        self, server_conn: object, request_conn: HTTPConnection
    ) -> HTTPMessageDelegate:
        self.server_connections.add(id(server_conn))
        return Exchange(self, request_conn, server_conn)
