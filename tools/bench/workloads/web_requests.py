"""Requests per second through tornado.web: hello world, a rendered template, JSON.

Usage: ``python web_requests.py tornado`` prints JSON result lines.  Runs
unchanged on upstream Tornado.

The server (an `Application` on `HTTPServer`, 127.0.0.1) runs in this
process; the load comes from a child process (this script with ``client``)
that keeps CONNECTIONS keep-alive connections busy with sequential GETs,
written with the standard library only so both sides face the same client.
Each case reports the best of REPEATS runs.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from _harness import emit

CONNECTIONS = 8
REQUESTS = 6_000
REPEATS = 3

ROWS = [
    {"id": i, "name": f"user <{i}> & co", "score": i * 7 % 101, "active": i % 3 == 0}
    for i in range(20)
]

PAGE = """<!DOCTYPE html>
<html><head><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1>
<table>
{% for row in rows %}<tr class="{{ 'on' if row['active'] else 'off' }}"><td>{{ row['id'] }}</td><td>{{ row['name'] }}</td><td>{{ row['score'] }}</td></tr>
{% end %}</table>
</body></html>
"""


async def client(port: int, path: str, total: int, connections: int) -> float:
    """Send ``total`` GETs for ``path`` over ``connections`` keep-alive
    connections; return requests per second."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    per_connection = total // connections

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(per_connection):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            start = head.index(b"Content-Length: ") + 16
            length = int(head[start : head.index(b"\r\n", start)])
            await reader.readexactly(length)
        writer.close()
        await writer.wait_closed()

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return per_connection * connections / (time.perf_counter() - begin)


async def serve_and_measure() -> None:
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets
    from tornado.template import DictLoader
    from tornado.web import Application, RequestHandler

    class HelloHandler(RequestHandler):
        def get(self) -> None:
            self.write("Hello, world")

    class PageHandler(RequestHandler):
        def get(self) -> None:
            self.render("page.html", title="Scores", rows=ROWS)

    class JSONHandler(RequestHandler):
        def get(self) -> None:
            self.write({"rows": ROWS, "count": len(ROWS)})

    app = Application(
        [(r"/", HelloHandler), (r"/page", PageHandler), (r"/json", JSONHandler)],
        template_loader=DictLoader({"page.html": PAGE}),
    )
    [sock] = bind_sockets(0, "127.0.0.1")
    port = sock.getsockname()[1]
    server = HTTPServer(app)
    server.add_sockets([sock])

    cases = [
        ("/", "RequestHandler hello world"),
        ("/page", "RequestHandler template page (20 rows)"),
        ("/json", "RequestHandler JSON response (20 rows)"),
    ]
    for path, label in cases:
        best = 0.0
        for _ in range(REPEATS):
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "client",
                str(port),
                path,
                str(REQUESTS),
                str(CONNECTIONS),
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await child.communicate()
            assert child.returncode == 0, out
            best = max(best, json.loads(out)["rate"])
        emit(f"{label}, {CONNECTIONS} keep-alive connections", best, "requests/s")
    server.stop()


if __name__ == "__main__":
    if sys.argv[1] == "client":
        port, path, total, connections = sys.argv[2:6]
        rate = asyncio.run(client(int(port), path, int(total), int(connections)))
        print(json.dumps({"rate": rate}))
    else:
        assert sys.argv[1] == "tornado", sys.argv
        asyncio.run(serve_and_measure())
