"""Hello demo: Tornado's hello-world application, plus a templated greeting.

Run it with ``hatch run demo`` (port 8888) or ``python demos/hello/app.py --port 0``
(any free port); it prints ``serving on http://127.0.0.1:PORT/`` once it listens.

``/`` greets ``?name=`` (default "world") with templates that use layout
inheritance, include and autoescaping; ``/plain`` is the classic
``self.write("Hello, world")`` handler.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from pathlib import Path

import tornado
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler


class MainHandler(RequestHandler):
    """Render the greeting page."""

    def get(self) -> None:
        self.render("hello.html", name=self.get_argument("name", "world"), version=tornado.version)


class PlainHandler(RequestHandler):
    """The hello world of every Tornado tutorial."""

    def get(self) -> None:
        self.write("Hello, world")


def make_app() -> Application:
    """The demo application."""
    return Application(
        [(r"/", MainHandler), (r"/plain", PlainHandler)],
        template_path=str(Path(__file__).with_name("templates")),
    )


async def main(port: int) -> None:
    """Serve until SIGINT or SIGTERM."""
    sockets = bind_sockets(port, "127.0.0.1")
    server = HTTPServer(make_app())
    server.add_sockets(sockets)
    bound = sockets[0].getsockname()[1]
    print(f"serving on http://127.0.0.1:{bound}/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    await server.close_all_connections()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8888)
    asyncio.run(main(parser.parse_args().port))
