"""A chat room over WebSocket.

Run ``python demos/websocket_chat/app.py --port=8888`` and open
http://localhost:8888/ in two browser tabs.  Each browser keeps one
WebSocket to ``/chatsocket``; a message sent by one is broadcast (as JSON,
HTML-escaped) to everyone, and newcomers receive the recent history.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import uuid
from pathlib import Path
from typing import Any

from tornado import escape
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketClosedError, WebSocketHandler

HERE = Path(__file__).resolve().parent


class ChatRoom:
    """The participants and a bounded history of recent messages."""

    def __init__(self, history_size: int = 200) -> None:
        self.members: set[ChatSocketHandler] = set()
        self.history: collections.deque[dict[str, Any]] = collections.deque(maxlen=history_size)

    def broadcast(self, message: dict[str, Any]) -> None:
        self.history.append(message)
        for member in list(self.members):
            try:
                member.write_message(message)
            except WebSocketClosedError:
                # Closing members leave in their on_close; skip them meanwhile.
                logging.info("skipping a closing member")


class MainHandler(RequestHandler):
    def get(self) -> None:
        self.render("index.html")


class ChatSocketHandler(WebSocketHandler):
    def initialize(self, room: ChatRoom) -> None:
        self.room = room

    def get_compression_options(self) -> dict[str, Any]:
        # Chat text compresses well; an empty dict enables the defaults.
        return {}

    def open(self, *args: str, **kwargs: str) -> None:
        for message in self.room.history:
            self.write_message(message)
        self.room.members.add(self)

    def on_message(self, message: str | bytes) -> None:
        try:
            parsed = escape.json_decode(message)
            body = str(parsed["body"])
        except (ValueError, KeyError, TypeError):
            self.close(1003, "expected JSON with a body")
            return
        if not body.strip() or len(body) > 2000:
            return
        self.room.broadcast(
            {"id": str(uuid.uuid4()), "body": body, "html": escape.xhtml_escape(body)}
        )

    def on_close(self) -> None:
        self.room.members.discard(self)


def make_app(**settings: Any) -> Application:
    """The chat application (``settings`` go to `Application`)."""
    room = ChatRoom()
    return Application(
        [(r"/", MainHandler), (r"/chatsocket", ChatSocketHandler, {"room": room})],
        template_path=str(HERE / "templates"),
        static_path=str(HERE / "static"),
        **settings,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description="A chat room over WebSocket.")
    parser.add_argument("--port", type=int, default=8888, help="port to listen on")
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = make_app()
    app.listen(args.port, args.address)
    logging.info("websocket chat on http://%s:%s/", args.address, args.port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
