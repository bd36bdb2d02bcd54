"""The cost of tornado.web alone: requests per second through `Application`
and `RequestHandler` with an in-memory connection (no sockets, no HTTP parsing).

Usage: ``python web_layer.py tornado`` prints JSON result lines.  Runs
unchanged on upstream Tornado.  The connection object implements the
documented `~tornado.httputil.HTTPConnection` interface and discards the
response, so the figure isolates routing, handler creation, the verb method,
etag, headers and logging from the HTTP server and the network.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from _harness import emit

REQUESTS = 5_000
REPEATS = 5


async def measure() -> None:
    from tornado import httputil
    from tornado.template import DictLoader
    from tornado.web import Application, RequestHandler

    loop = asyncio.get_running_loop()

    class HelloHandler(RequestHandler):
        def get(self) -> None:
            self.write("Hello, world")

    class PageHandler(RequestHandler):
        def get(self) -> None:
            self.render("page.html", rows=range(20))

    class JSONHandler(RequestHandler):
        def get(self) -> None:
            self.write({"rows": [{"id": i, "name": f"n{i}"} for i in range(20)]})

    class DiscardingConnection(httputil.HTTPConnection):
        context = None

        def __init__(self) -> None:
            self.written = 0
            self.finished: asyncio.Future[None] | None = None

        def set_close_callback(self, callback: Any) -> None:
            pass

        def _done(self) -> asyncio.Future[None]:
            future: asyncio.Future[None] = loop.create_future()
            future.set_result(None)
            return future

        def write_headers(self, start_line: Any, headers: Any, chunk: bytes | None = None) -> Any:
            self.written += 1
            return self._done()

        def write(self, chunk: bytes) -> Any:
            return self._done()

        def finish(self) -> None:
            assert self.finished is not None
            self.finished.set_result(None)

    app = Application(
        [(r"/", HelloHandler), (r"/page", PageHandler), (r"/json", JSONHandler)],
        template_loader=DictLoader(
            {"page.html": "<ul>{% for r in rows %}<li>{{ r }} &amp; {{ r * 2 }}</li>{% end %}</ul>"}
        ),
    )
    connection = DiscardingConnection()

    async def one(path: str) -> None:
        # Handlers may finish synchronously (ours) or in a task (upstream):
        # wait for the connection's finish() either way.
        connection.finished = loop.create_future()
        start_line = httputil.RequestStartLine("GET", path, "HTTP/1.1")
        headers = httputil.HTTPHeaders({"Host": "127.0.0.1", "Accept": "*/*"})
        delegate = app.start_request(None, connection)
        delegate.headers_received(start_line, headers)
        delegate.finish()
        await connection.finished

    for path, label in (("/", "hello world"), ("/page", "template page"), ("/json", "JSON")):
        before = connection.written
        await one(path)
        assert connection.written == before + 1
        best = 0.0
        for _ in range(REPEATS):
            start = time.perf_counter()
            for _ in range(REQUESTS):
                await one(path)
            best = max(best, REQUESTS / (time.perf_counter() - start))
        emit(f"web layer only: {label}", best, "requests/s")


if __name__ == "__main__":
    assert sys.argv[1] == "tornado", sys.argv
    asyncio.run(measure())
