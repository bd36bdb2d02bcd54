"""Requests per second across the ASGI bridge (issue 18).

Usage: ``python asgi_servers.py tornado`` prints JSON result lines; where
``tornado.asgi`` (or uvicorn, Starlette) is missing, as under upstream
Tornado, it prints nothing.

Four cases, each server running in this process on one asyncio loop, the
load from a child process (this script with ``client``, standard library
only) keeping CONNECTIONS keep-alive connections busy with sequential GETs:

- a Starlette hello world under our server (`tornado.asgi.serve`) and under
  uvicorn;
- our hello-world `Application` on our own `HTTPServer` and under uvicorn
  through `tornado.asgi.ASGIAdapter`.

Each case reports the best of REPEATS runs.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _harness import emit

CONNECTIONS = 8
REQUESTS = 6_000
REPEATS = 3


async def client(port: int, total: int, connections: int) -> float:
    """Send ``total`` GETs over ``connections`` keep-alive connections;
    return requests per second."""
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    per_connection = total // connections

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(per_connection):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            lower = head.lower()
            start = lower.index(b"content-length: ") + 16
            length = int(lower[start : lower.index(b"\r\n", start)])
            await reader.readexactly(length)
        writer.close()
        await writer.wait_closed()

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return per_connection * connections / (time.perf_counter() - begin)


async def measure(port: int) -> float:
    best = 0.0
    for _ in range(REPEATS):
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "client",
            str(port),
            str(REQUESTS),
            str(CONNECTIONS),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await child.communicate()
        assert child.returncode == 0, out
        best = max(best, json.loads(out)["rate"])
    return best


def listening() -> socket.socket:
    sock = socket.socket()
    # Accepted sockets inherit TCP_NODELAY; uvicorn serving a socket it was
    # handed does not set it, and delayed ACKs would cap it at ~25 req/s
    # per connection.  Set for every server alike.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def under_uvicorn(app: Any) -> float:
    import uvicorn

    sock = listening()
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0)
    rate = await measure(sock.getsockname()[1])
    server.should_exit = True
    await task
    sock.close()
    return rate


async def under_tornado_asgi(app: Any) -> float:
    from tornado.asgi import serve

    sock = listening()
    task = asyncio.get_running_loop().create_task(serve(app, sockets=[sock], lifespan=False))
    await asyncio.sleep(0)  # let serve() start listening
    rate = await measure(sock.getsockname()[1])
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return rate


async def on_httpserver(app: Any) -> float:
    from tornado.httpserver import HTTPServer

    sock = listening()
    server = HTTPServer(app)
    server.add_sockets([sock])
    rate = await measure(sock.getsockname()[1])
    server.stop()
    await server.close_all_connections()
    return rate


async def run() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from tornado.asgi import ASGIAdapter
    except ImportError:
        return  # upstream Tornado (or a bare install): nothing to compare
    import logging

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from tornado.web import Application, RequestHandler

    logging.getLogger("tornado.access").setLevel(logging.WARNING)

    async def hello(request: Any) -> PlainTextResponse:
        return PlainTextResponse("Hello, world")

    starlette_app = Starlette(routes=[Route("/", hello)])

    class Hello(RequestHandler):
        def get(self) -> None:
            self.write("Hello, world")

    tornado_app = Application([("/", Hello)])
    cases: list[tuple[str, Callable[[], Awaitable[float]]]] = [
        ("ASGI: Starlette hello on tornado.asgi.serve", lambda: under_tornado_asgi(starlette_app)),
        ("ASGI: Starlette hello on uvicorn", lambda: under_uvicorn(starlette_app)),
        ("ASGI: tornado.web hello on our HTTPServer", lambda: on_httpserver(tornado_app)),
        (
            "ASGI: tornado.web hello on uvicorn via ASGIAdapter",
            lambda: under_uvicorn(ASGIAdapter(tornado_app)),
        ),
    ]
    for label, case in cases:
        emit(f"{label}, {CONNECTIONS} keep-alive connections", await case(), "requests/s")


if __name__ == "__main__":
    if sys.argv[1] == "client":
        port, total, connections = sys.argv[2:5]
        print(json.dumps({"rate": asyncio.run(client(int(port), int(total), int(connections)))}))
    else:
        assert sys.argv[1] == "tornado", sys.argv
        asyncio.run(run())
