"""A Tornado application that exercises what an ASGI server must carry:
streaming both ways, cookies, static files, redirects, xsrf, errors and
WebSockets.  Imported by the tests and, as ``apps_tornado:asgi_app``, by
the uvicorn and hypercorn processes they start."""

from __future__ import annotations

import hashlib
import json
import os

from tornado.asgi import ASGIAdapter
from tornado.web import Application, HTTPError, RequestHandler, stream_request_body
from tornado.websocket import WebSocketHandler

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")


class Hello(RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


class Info(RequestHandler):
    def get(self, rest: str = "") -> None:
        self.write(
            {
                "remote_ip": self.request.remote_ip,
                "protocol": self.request.protocol,
                "path": self.request.path,
                "query": self.get_query_argument("q", ""),
                "rest": rest,
                "header": self.request.headers.get("X-Probe", ""),
            }
        )


class Stream(RequestHandler):
    async def get(self) -> None:
        for i in range(3):
            self.write(f"part {i}\n")
            await self.flush()


class Cookies(RequestHandler):
    def get(self) -> None:
        self.set_cookie("plain", "value")
        self.set_signed_cookie("signed", "secret-value")
        self.write("set")


class ReadCookies(RequestHandler):
    def get(self) -> None:
        signed = self.get_signed_cookie("signed")
        self.write({"plain": self.get_cookie("plain"), "signed": signed and signed.decode()})


class Redirect(RequestHandler):
    def get(self) -> None:
        self.redirect("/hello")


class Form(RequestHandler):
    def get(self) -> None:
        self.write(self.xsrf_token)

    def post(self) -> None:
        self.write("posted " + self.get_body_argument("field"))


class Fail(RequestHandler):
    def get(self) -> None:
        raise RuntimeError("boom")


class Teapot(RequestHandler):
    def get(self) -> None:
        raise HTTPError(418)


@stream_request_body
class Upload(RequestHandler):
    def prepare(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0

    def check_xsrf_cookie(self) -> None:
        return None  # an upload from a script, not a browser form

    def data_received(self, chunk: bytes) -> None:
        self.digest.update(chunk)
        self.size += len(chunk)

    def put(self) -> None:
        self.write({"size": self.size, "sha256": self.digest.hexdigest()})


class Echo(WebSocketHandler):
    def prepare(self) -> None:
        # Extra headers of the 101 answer (ASGI: websocket.accept headers).
        self.set_header("X-Room", "lobby")

    def select_subprotocol(self, subprotocols: list[str]) -> str | None:
        return "chat" if "chat" in subprotocols else None

    def open(self) -> None:
        self.write_message(json.dumps({"open": self.request.path}))

    def on_message(self, message: str | bytes) -> None:
        if message == "close please":
            self.close(4001, "as requested")
        else:
            self.write_message(message, binary=isinstance(message, bytes))


def make_app() -> Application:
    """The application, the same for every server."""
    return Application(
        [
            ("/hello", Hello),
            ("/info", Info),
            (r"/info/(.*)", Info),
            ("/stream", Stream),
            ("/cookies", Cookies),
            ("/read-cookies", ReadCookies),
            ("/redirect", Redirect),
            ("/form", Form),
            ("/fail", Fail),
            ("/teapot", Teapot),
            ("/upload", Upload),
            ("/ws", Echo),
        ],
        static_path=STATIC,
        cookie_secret="not-so-secret",
        xsrf_cookies=True,
    )


asgi_app = ASGIAdapter(make_app())
