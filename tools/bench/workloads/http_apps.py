"""The HTTP servers of the ``tools bench`` matrix: one script for every side.

Usage::

    python http_apps.py SERVER LOOP APP

SERVER is ``tornado`` (ours or upstream: whichever ``tornado`` the
interpreter imports), ``aiohttp``, ``uvicorn`` (Starlette on uvicorn; a bare
ASGI callable for APP ``bare``) or ``raw`` (an `asyncio.Protocol` writing
canned replies: the ceiling of what a Python server on this loop can do).
LOOP is ``asyncio`` or ``uvloop``.  APP is ``full`` (the framework's usual
request handlers) or ``bare`` (the lowest public layer: tornado's
`HTTPServer` with a plain callback, aiohttp's low-level ``web.Server``, a
raw ASGI app).

The script binds 127.0.0.1 on an ephemeral port (one socket, one backlog
for every side), prints the port on a line of its own once it serves, and serves until it is
killed.  Paths of the ``full`` app, the same on every server:

``/``        ``Hello, world`` as text/plain (keep-alive and ``Connection: close``)
``/page``    an HTML page of ROWS rows from the framework's template engine
             (tornado.template; Jinja2 for the peers)
``/json``    the same rows as a JSON document
``/upload``  POST: reads the whole body, answers its length
``/stream``  a chunked response of STREAM_CHUNKS flushed chunks
``/wait``    a long poll that never answers (memory workload)
``/count``   how many ``/wait`` requests are waiting, as text

Only the standard library is imported at module level, so the one file runs
under our environment, upstream's and the peers'.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Callable
from typing import Any, cast

HELLO = b"Hello, world"
STREAM_CHUNKS = 16
STREAM_CHUNK = b"x" * 1024
BACKLOG = 2048

ROWS = [
    {"id": i, "name": f"user <{i}> & co", "score": i * 7 % 101, "active": i % 3 == 0}
    for i in range(20)
]

# The same page in both template languages: escaping, a loop, a conditional.
TORNADO_PAGE = """<!DOCTYPE html>
<html><head><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1>
<table>
{% for row in rows %}<tr class="{{ 'on' if row['active'] else 'off' }}"><td>{{ row['id'] }}</td><td>{{ row['name'] }}</td><td>{{ row['score'] }}</td></tr>
{% end %}</table>
</body></html>
"""
JINJA_PAGE = TORNADO_PAGE.replace("{% end %}", "{% endfor %}")


class Waiting:
    """The long-poll waiters: a count and the event none of them ever sees."""

    def __init__(self) -> None:
        self.count = 0
        self.event = asyncio.Event()

    async def wait(self) -> None:
        """Count this request as waiting, then wait until the server dies."""
        self.count += 1
        try:
            await self.event.wait()
        finally:
            self.count -= 1


def listening_socket() -> socket.socket:
    """127.0.0.1 on an ephemeral port, non-blocking, with a deep backlog so
    the memory client's bursts of connects are not dropped.

    The protocol is spelled out: asyncio sets TCP_NODELAY only on sockets
    whose ``proto`` is IPPROTO_TCP, and accepted sockets inherit it, so a
    socket made with proto 0 leaves Nagle on for every server that relies on
    asyncio (uvicorn), and each two-write answer waits ~40 ms for a delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


# --- tornado (ours or upstream) ---------------------------------------------


async def serve_tornado(
    app_kind: str, sock: socket.socket, waiting: Waiting, ready: Callable[[], None]
) -> None:
    """Tornado's `Application` on `HTTPServer`, or `HTTPServer` with a callback."""
    from tornado.httpserver import HTTPServer
    from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine
    from tornado.template import DictLoader
    from tornado.web import Application, RequestHandler

    if app_kind == "bare":
        ok = ResponseStartLine("HTTP/1.1", 200, "OK")

        def callback(request: HTTPServerRequest) -> None:
            conn = request.connection
            assert conn is not None
            headers = HTTPHeaders({"Content-Type": "text/plain", "Content-Length": str(len(HELLO))})
            conn.write_headers(ok, headers, HELLO)
            conn.finish()

        server = HTTPServer(callback)
    else:

        class Hello(RequestHandler):
            def get(self) -> None:
                self.set_header("Content-Type", "text/plain")
                self.write(HELLO)

        class Page(RequestHandler):
            def get(self) -> None:
                self.render("page.html", title="Scores", rows=ROWS)

        class Json(RequestHandler):
            def get(self) -> None:
                self.write({"rows": ROWS, "count": len(ROWS)})

        class Upload(RequestHandler):
            def post(self) -> None:
                self.write(str(len(self.request.body)))

        class Stream(RequestHandler):
            async def get(self) -> None:
                self.set_header("Content-Type", "text/plain")
                for _ in range(STREAM_CHUNKS):
                    self.write(STREAM_CHUNK)
                    await self.flush()

        class Wait(RequestHandler):
            async def get(self) -> None:
                await waiting.wait()

        class Count(RequestHandler):
            def get(self) -> None:
                self.write(str(waiting.count))

        app = Application(
            [
                (r"/", Hello),
                (r"/page", Page),
                (r"/json", Json),
                (r"/upload", Upload),
                (r"/stream", Stream),
                (r"/wait", Wait),
                (r"/count", Count),
            ],
            template_loader=DictLoader({"page.html": TORNADO_PAGE}),
        )
        server = HTTPServer(app, max_body_size=1 << 20)
    server.add_sockets([sock])
    ready()
    await asyncio.Event().wait()


# --- aiohttp ----------------------------------------------------------------


async def serve_aiohttp(
    app_kind: str, sock: socket.socket, waiting: Waiting, ready: Callable[[], None]
) -> None:
    """aiohttp's `web.Application` with routes, or its low-level `web.Server`."""
    import jinja2
    from aiohttp import web  # type: ignore[import-not-found, unused-ignore]

    runner: Any
    if app_kind == "bare":

        async def handler(request: web.BaseRequest) -> web.StreamResponse:
            return web.Response(body=HELLO, content_type="text/plain")

        runner = web.ServerRunner(web.Server(handler), keepalive_timeout=3600)
    else:
        page = jinja2.Environment(autoescape=True).from_string(JINJA_PAGE)

        async def hello(request: web.Request) -> web.StreamResponse:
            return web.Response(body=HELLO, content_type="text/plain")

        async def page_view(request: web.Request) -> web.StreamResponse:
            return web.Response(
                text=page.render(title="Scores", rows=ROWS), content_type="text/html"
            )

        async def json_view(request: web.Request) -> web.StreamResponse:
            return web.json_response({"rows": ROWS, "count": len(ROWS)})

        async def upload(request: web.Request) -> web.StreamResponse:
            return web.Response(text=str(len(await request.read())))

        async def stream(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "text/plain"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for _ in range(STREAM_CHUNKS):
                await response.write(STREAM_CHUNK)
            await response.write_eof()
            return response

        async def wait(request: web.Request) -> web.StreamResponse:
            await waiting.wait()
            return web.Response()

        async def count(request: web.Request) -> web.StreamResponse:
            return web.Response(text=str(waiting.count))

        app = web.Application(client_max_size=1 << 20)
        app.router.add_get("/", hello)
        app.router.add_get("/page", page_view)
        app.router.add_get("/json", json_view)
        app.router.add_post("/upload", upload)
        app.router.add_get("/stream", stream)
        app.router.add_get("/wait", wait)
        app.router.add_get("/count", count)
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=3600)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    ready()
    await asyncio.Event().wait()


# --- uvicorn + Starlette ----------------------------------------------------


async def serve_uvicorn(
    app_kind: str, sock: socket.socket, waiting: Waiting, ready: Callable[[], None]
) -> None:
    """Starlette on uvicorn, or a bare ASGI callable on uvicorn."""
    import uvicorn  # type: ignore[import-not-found, unused-ignore]

    asgi: Any
    if app_kind == "bare":
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(HELLO))],
        }
        body = {"type": "http.response.body", "body": HELLO}

        async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await send(start)
            await send(body)

    else:
        import jinja2
        from starlette.applications import Starlette  # type: ignore[import-not-found, unused-ignore]
        from starlette.requests import Request  # type: ignore[import-not-found, unused-ignore]
        from starlette.responses import (  # type: ignore[import-not-found, unused-ignore]
            HTMLResponse,
            JSONResponse,
            PlainTextResponse,
            Response,
            StreamingResponse,
        )
        from starlette.routing import Route  # type: ignore[import-not-found, unused-ignore]

        page = jinja2.Environment(autoescape=True).from_string(JINJA_PAGE)

        async def hello(request: Request) -> Response:
            return PlainTextResponse(HELLO)

        async def page_view(request: Request) -> Response:
            return HTMLResponse(page.render(title="Scores", rows=ROWS))

        async def json_view(request: Request) -> Response:
            return JSONResponse({"rows": ROWS, "count": len(ROWS)})

        async def upload(request: Request) -> Response:
            return PlainTextResponse(str(len(await request.body())))

        async def chunks() -> Any:
            for _ in range(STREAM_CHUNKS):
                yield STREAM_CHUNK

        async def stream(request: Request) -> Response:
            return StreamingResponse(chunks(), media_type="text/plain")

        async def wait(request: Request) -> Response:
            await waiting.wait()
            return Response()

        async def count(request: Request) -> Response:
            return PlainTextResponse(str(waiting.count))

        asgi = Starlette(
            routes=[
                Route("/", hello),
                Route("/page", page_view),
                Route("/json", json_view),
                Route("/upload", upload, methods=["POST"]),
                Route("/stream", stream),
                Route("/wait", wait),
                Route("/count", count),
            ]
        )
    config = uvicorn.Config(
        asgi,
        log_level="warning",
        access_log=False,
        lifespan="off",
        # uvicorn closes idle keep-alive connections after 5 s by default:
        # the memory workload holds them for longer.
        timeout_keep_alive=3600,
    )
    server = uvicorn.Server(config)
    # uvicorn picks httptools when it imports, else h11: say which ran.
    config.load()
    print(f"uvicorn http protocol: {config.http_protocol_class.__name__}", file=sys.stderr)
    # The socket already listens: connections made before serve() starts
    # accepting wait in the backlog.
    ready()
    await server.serve(sockets=[sock])


# --- the raw asyncio Protocol ceiling ---------------------------------------


def _canned(body: bytes, content_type: bytes = b"text/plain") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: "
        + content_type
        + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
        + body
    )


def _canned_chunked() -> bytes:
    chunk = b"%x\r\n" % len(STREAM_CHUNK) + STREAM_CHUNK + b"\r\n"
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunk * STREAM_CHUNKS
        + b"0\r\n\r\n"
    )


class RawProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1 to answer the matrix's requests with canned bytes.

    It splits heads at the blank line, skips a Content-Length body, and
    picks the reply by path; no validation, no header objects.  What it
    costs is the floor under any server written on this event loop.
    """

    REPLIES = {
        b"/": _canned(HELLO),
        b"/page": _canned(b"<html>" + b"x" * 1400 + b"</html>", b"text/html"),
        b"/json": _canned(
            json.dumps({"rows": ROWS, "count": len(ROWS)}).encode(), b"application/json"
        ),
        b"/stream": _canned_chunked(),
    }

    def __init__(self, waiting: Waiting) -> None:
        self.waiting = waiting
        self.buffer = b""
        self.skip = 0
        self.transport: asyncio.Transport | None = None
        self.held = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.held:
            self.waiting.count -= 1

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if self.skip:
            taken = min(self.skip, len(data))
            self.skip -= taken
            data = data[taken:]
        buffer = self.buffer + data if self.buffer else data
        out = []
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            buffer = buffer[end + 4 :]
            target = head[head.find(b" ") + 1 : head.find(b" ", head.find(b" ") + 1)]
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at + 2)
                length = int(lower[at + 17 : stop if stop >= 0 else len(lower)])
                taken = min(length, len(buffer))
                buffer = buffer[taken:]
                self.skip = length - taken
                out.append(_canned(b"%d" % length))
            elif target == b"/wait":
                self.held = True
                self.waiting.count += 1
                continue
            elif target == b"/count":
                out.append(_canned(b"%d" % self.waiting.count))
            else:
                out.append(self.REPLIES.get(target, self.REPLIES[b"/"]))
            if b"\r\nconnection: close" in lower:
                # Say so in the answer, as a real server does, so the client
                # does not take the close for an error.
                out[-1] = out[-1].replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
                self.transport.write(b"".join(out))
                self.transport.close()
                return
        self.buffer = buffer
        if out:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])


async def serve_raw(
    app_kind: str, sock: socket.socket, waiting: Waiting, ready: Callable[[], None]
) -> None:
    """The canned-reply protocol; ``full`` and ``bare`` are the same thing here."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: RawProtocol(waiting), sock=sock)
    ready()
    async with server:
        await server.serve_forever()


SERVERS: dict[str, Callable[[str, socket.socket, Waiting, Callable[[], None]], Any]] = {
    "tornado": serve_tornado,
    "aiohttp": serve_aiohttp,
    "uvicorn": serve_uvicorn,
    "raw": serve_raw,
}


def main(argv: list[str]) -> None:
    """Parse ``SERVER LOOP APP``, bind, print the port, serve forever."""
    server_name, loop_name, app_kind = argv
    if server_name not in SERVERS or loop_name not in ("asyncio", "uvloop"):
        raise SystemExit(
            f"usage: http_apps.py {{{','.join(SERVERS)}}} {{asyncio,uvloop}} {{full,bare}}"
        )
    if app_kind not in ("full", "bare"):
        raise SystemExit(f"unknown app {app_kind!r}")
    sock = listening_socket()

    async def run() -> None:
        def ready() -> None:
            print(sock.getsockname()[1], flush=True)

        await SERVERS[server_name](app_kind, sock, Waiting(), ready)

    if loop_name == "uvloop":
        import uvloop

        uvloop.run(run())
    else:
        asyncio.run(run())


if __name__ == "__main__":
    main(sys.argv[1:])
