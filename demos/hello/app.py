"""Hello demo: a page rendered by tornado.template, served on 127.0.0.1.

Run it with ``hatch run demo`` (port 8888) or ``python demos/hello/app.py --port 0``.
Until tornado-web lands, the page is served by the standard library's WSGI
server; the page itself (layout inheritance, include, escaping) is ours.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import tornado
from tornado.template import Loader

TEMPLATES = Path(__file__).with_name("templates")
loader = Loader(str(TEMPLATES))

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def app(environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
    """Render the greeting for ``/?name=...``; 404 for any other path."""
    if environ.get("PATH_INFO") not in ("", "/"):
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found\n"]
    from urllib.parse import parse_qs

    query = parse_qs(str(environ.get("QUERY_STRING", "")))
    name = query.get("name", ["world"])[0]
    body = loader.load("hello.html").generate(name=name, version=tornado.version)
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [body]


class QuietHandler(WSGIRequestHandler):
    """Logs one short line per request instead of the default Apache format."""

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write(f"{self.command} {self.path}\n")


def main(argv: list[str] | None = None) -> None:
    """Serve the demo until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8888)
    args = parser.parse_args(argv)
    with make_server("127.0.0.1", args.port, app, handler_class=QuietHandler) as server:
        print(f"serving on http://127.0.0.1:{server.server_port}/", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
