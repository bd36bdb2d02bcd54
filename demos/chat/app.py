"""Chat demo: a long-polling chat room.

Run it with ``python demos/chat/app.py`` (http://127.0.0.1:8888/) or
``--port 0`` for any free port; it prints ``serving on http://127.0.0.1:PORT/``.

Clients post messages to ``/a/message/new`` and wait for newer ones with
``/a/message/updates`` (a long poll: the request stays open until a message
arrives, and carries a ``cursor``, the id of the last message the client
has).  All forms and polls carry the ``_xsrf`` token.  ``/a/status`` reports
how many polls are waiting, so tests can check that closed connections are
forgotten.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import uuid
from pathlib import Path
from typing import Any

from tornado.httpserver import HTTPServer
from tornado.locks import Condition
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

HERE = Path(__file__).resolve().parent


class MessageBuffer:
    """The most recent messages, and a condition that wakes the waiting polls."""

    def __init__(self, size: int = 200) -> None:
        self.size = size
        self.cond = Condition()
        self.cache: list[dict[str, Any]] = []
        #: Polls currently waiting for a message.
        self.waiters = 0

    def get_messages_since(self, cursor: str | None) -> list[dict[str, Any]]:
        """Messages after the one with id ``cursor`` (all if it is unknown)."""
        for index in range(len(self.cache) - 1, -1, -1):
            if self.cache[index]["id"] == cursor:
                return self.cache[index + 1 :]
        return list(self.cache)

    def add_message(self, message: dict[str, Any]) -> None:
        """Store a message and wake every waiting poll."""
        self.cache.append(message)
        del self.cache[: -self.size]
        self.cond.notify_all()


class MainHandler(RequestHandler):
    """The chat page, with the recent messages."""

    def get(self) -> None:
        self.render("index.html", messages=self.application.settings["buffer"].cache)


class MessageNewHandler(RequestHandler):
    """Post a message; answers with the message as JSON (or redirects for
    plain form posts without JavaScript)."""

    def post(self) -> None:
        body = self.get_argument("body")
        message: dict[str, Any] = {"id": str(uuid.uuid4()), "body": body}
        message["html"] = self.render_string("message.html", message=message).decode()
        self.application.settings["buffer"].add_message(message)
        if self.get_argument("next", None):
            self.redirect(self.get_argument("next"))
        else:
            self.write(message)


class MessageUpdatesHandler(RequestHandler):
    """Long poll: answer with the messages after ``cursor``, waiting for one
    if there are none yet."""

    wait_future: Any = None

    async def post(self) -> None:
        buffer: MessageBuffer = self.application.settings["buffer"]
        cursor = self.get_argument("cursor", None)
        messages = buffer.get_messages_since(cursor)
        while not messages:
            # Checking and then waiting cannot miss a message: nothing else
            # runs on the loop between the check and the wait.
            self.wait_future = buffer.cond.wait()
            buffer.waiters += 1
            try:
                await self.wait_future
            except asyncio.CancelledError:
                return
            finally:
                buffer.waiters -= 1
            messages = buffer.get_messages_since(cursor)
        self.write({"messages": messages})

    def on_connection_close(self) -> None:
        # The client went away: stop waiting so no dead poll stays behind.
        if self.wait_future is not None:
            self.wait_future.cancel()


class StatusHandler(RequestHandler):
    """How many polls wait and how many messages are kept."""

    def get(self) -> None:
        buffer: MessageBuffer = self.application.settings["buffer"]
        self.write({"waiters": buffer.waiters, "messages": len(buffer.cache)})


def make_app(**settings: Any) -> Application:
    """The chat application; ``settings`` override the defaults."""
    options: dict[str, Any] = {
        "cookie_secret": uuid.uuid4().hex,
        "template_path": str(HERE / "templates"),
        "static_path": str(HERE / "static"),
        "xsrf_cookies": True,
        "buffer": MessageBuffer(),
    }
    options.update(settings)
    return Application(
        [
            (r"/", MainHandler),
            (r"/a/message/new", MessageNewHandler),
            (r"/a/message/updates", MessageUpdatesHandler),
            (r"/a/status", StatusHandler),
        ],
        **options,
    )


async def main(port: int, address: str) -> None:
    """Serve until SIGINT or SIGTERM."""
    sockets = bind_sockets(port, address)
    server = HTTPServer(make_app())
    server.add_sockets(sockets)
    print(f"serving on http://{address}:{sockets[0].getsockname()[1]}/", flush=True)
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
    parser.add_argument("--address", default="127.0.0.1")
    args = parser.parse_args()
    asyncio.run(main(args.port, args.address))
