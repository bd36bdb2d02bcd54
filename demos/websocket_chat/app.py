"""A chat room over WebSocket.

Run ``python demos/websocket_chat/app.py --port=8888`` and open
http://localhost:8888/ in two browser tabs.  Each browser keeps one
WebSocket to ``/chatsocket``; a message sent by one is broadcast (as JSON,
HTML-escaped) to everyone, and newcomers receive the recent history.

The same production settings as the long-polling chat demo (see the
deployment guide, docs/deployment.md): ``--processes N`` (0: one per CPU)
forks workers sharing the listening socket, ``--reuse-port`` gives each its
own ``SO_REUSEPORT`` socket, and ``--redis URL`` puts the room in Redis (a
channel every process subscribes to, and a capped list for the history),
so clients on every process and every host chat together.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tornado import escape, process
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketClosedError, WebSocketHandler

HERE = Path(__file__).resolve().parent

log = logging.getLogger("websocket_chat")


class ChatRoom:
    """The participants and a bounded history of recent messages; messages
    stay in this process."""

    def __init__(self, history_size: int = 200) -> None:
        self.members: set[ChatSocketHandler] = set()
        self.history: collections.deque[dict[str, Any]] = collections.deque(maxlen=history_size)

    async def start(self) -> None:
        """Nothing to connect to."""

    async def publish(self, message: dict[str, Any]) -> None:
        """Send ``message`` to the room."""
        self.broadcast(message)

    def broadcast(self, message: dict[str, Any]) -> None:
        """Keep ``message`` in the history and send it to this process's members."""
        self.history.append(message)
        for member in list(self.members):
            try:
                member.write_message(message)
            except WebSocketClosedError:
                # Closing members leave in their on_close; skip them meanwhile.
                logging.info("skipping a closing member")

    async def failed(self) -> None:
        """Never returns: an in-memory room cannot fail."""
        await asyncio.Event().wait()

    async def close(self) -> None:
        """Nothing to release."""


class RedisChatRoom(ChatRoom):
    """A room shared through Redis by every process that uses the same URL.

    A message is appended to a capped list (``<prefix>:history``) and
    published on ``<prefix>:messages`` in one transaction; every process
    subscribes and broadcasts what arrives to its own members.
    """

    def __init__(self, url: str, prefix: str = "wschat", history_size: int = 200) -> None:
        super().__init__(history_size)
        self.url = url
        self.channel = f"{prefix}:messages"
        self.key = f"{prefix}:history"
        self._starting: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._error: Exception | None = None
        self._client: Any = None
        self._pubsub: Any = None

    async def start(self) -> None:
        """Connect, subscribe and load the history (once)."""
        if self._starting is None:
            self._starting = asyncio.ensure_future(self._start())
        await asyncio.shield(self._starting)

    async def _start(self) -> None:
        # Imported here: without --redis the demo needs no redis package.
        import redis.asyncio

        self._client = redis.asyncio.Redis.from_url(self.url)
        self._pubsub = self._client.pubsub()
        await self._pubsub.subscribe(self.channel)
        # Subscribed first: a message published meanwhile is in both the
        # list and the channel, and its id keeps it from showing twice.
        for raw in await self._client.lrange(self.key, 0, -1):
            self.history.append(json.loads(raw))
        self._listener = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        try:
            async for item in self._pubsub.listen():
                if item["type"] == "message":
                    message = json.loads(item["data"])
                    if all(old["id"] != message["id"] for old in self.history):
                        self.broadcast(message)
        except Exception as error:
            log.error("the Redis subscription ended: %s", error)
            self._error = error

    async def publish(self, message: dict[str, Any]) -> None:
        """Store and publish ``message``; the subscription delivers it here too."""
        await self.start()
        data = json.dumps(message)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.rpush(self.key, data)
            pipe.ltrim(self.key, -(self.history.maxlen or 200), -1)
            pipe.publish(self.channel, data)
            await pipe.execute()

    async def failed(self) -> None:
        """Raise when the subscription ends (Redis went away)."""
        await self.start()
        assert self._listener is not None
        await self._listener
        raise self._error or ConnectionError("the Redis subscription ended")

    async def close(self) -> None:
        """Unsubscribe and disconnect."""
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except asyncio.CancelledError:
                pass
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._client is not None:
            await self._client.aclose()


class MainHandler(RequestHandler):
    def get(self) -> None:
        self.render("index.html")


class ChatSocketHandler(WebSocketHandler):
    def initialize(self, room: ChatRoom) -> None:
        self.room = room

    def set_default_headers(self) -> None:
        # Which process took this socket (the production tests check the spread).
        self.set_header("X-Served-By", str(os.getpid()))

    async def prepare(self) -> None:
        await self.room.start()

    def get_compression_options(self) -> dict[str, Any]:
        # Chat text compresses well; an empty dict enables the defaults.
        return {}

    def open(self, *args: str, **kwargs: str) -> None:
        for message in self.room.history:
            self.write_message(message)
        self.room.members.add(self)

    async def on_message(self, message: str | bytes) -> None:
        try:
            parsed = escape.json_decode(message)
            body = str(parsed["body"])
        except (ValueError, KeyError, TypeError):
            self.close(1003, "expected JSON with a body")
            return
        if not body.strip() or len(body) > 2000:
            return
        await self.room.publish(
            {"id": str(uuid.uuid4()), "body": body, "html": escape.xhtml_escape(body)}
        )

    def on_close(self) -> None:
        self.room.members.discard(self)


def make_app(redis: str | None = None, **settings: Any) -> Application:
    """The chat application (``settings`` go to `Application`); ``redis``, a
    Redis URL, shares the room with every process that uses it."""
    room = RedisChatRoom(redis) if redis else ChatRoom()
    return Application(
        [(r"/", MainHandler), (r"/chatsocket", ChatSocketHandler, {"room": room})],
        template_path=str(HERE / "templates"),
        static_path=str(HERE / "static"),
        room=room,
        **settings,
    )


def _say(line: str) -> None:
    # One write() per line: forked workers share stdout, and print() may
    # split a line into writes that interleave.
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), (line + "\n").encode())


async def serve(
    sockets: list[socket.socket], banner: str, redis: str | None, parent_pipe: int | None = None
) -> None:
    """Serve until SIGINT or SIGTERM (a worker: or until its parent is gone)."""
    app = make_app(redis=redis)
    room: ChatRoom = app.settings["room"]
    await room.start()
    server = HTTPServer(app)
    server.add_sockets(sockets)
    _say(banner)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if parent_pipe is not None:
        # End-of-file on this pipe: the parent, which holds its write end, exited.
        loop.add_reader(parent_pipe, stop.set)
    stopped = asyncio.ensure_future(stop.wait())
    room_failed = asyncio.ensure_future(room.failed())
    await asyncio.wait([stopped, room_failed], return_when=asyncio.FIRST_COMPLETED)
    server.stop()
    await server.close_all_connections()
    stopped.cancel()
    room_failed.cancel()
    await room.close()
    if room_failed.done() and not room_failed.cancelled():
        raise SystemExit(f"the message bus failed: {room_failed.exception()}")


def _exit_quietly(signum: int, frame: object) -> None:
    # The parent of the workers: exit without a traceback; the workers see
    # their pipe close and stop.
    sys.exit(0)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description="A chat room over WebSocket.")
    parser.add_argument("--port", type=int, default=8888, help="port to listen on")
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--processes", type=int, default=1, help="workers (0: one per CPU)")
    parser.add_argument(
        "--reuse-port", action="store_true", help="one SO_REUSEPORT socket per worker"
    )
    parser.add_argument("--redis", metavar="URL", help="share the room through Redis at URL")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.processes == 1:
        sockets = bind_sockets(args.port, args.address, reuse_port=args.reuse_port)
        port = sockets[0].getsockname()[1]
        asyncio.run(serve(sockets, f"websocket chat on http://{args.address}:{port}/", args.redis))
        return
    holder: socket.socket | None = None
    if args.reuse_port:
        # Bound with SO_REUSEPORT but not listening: holds the port number
        # for the workers without taking any of their connections.
        holder = socket.socket(socket.AF_INET6 if ":" in args.address else socket.AF_INET)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind((args.address, args.port))
    sockets = [] if holder else bind_sockets(args.port, args.address)
    port = (holder or sockets[0]).getsockname()[1]
    count = args.processes if args.processes > 0 else process.cpu_count()
    _say(f"websocket chat on http://{args.address}:{port}/ with {count} processes")
    read_end, write_end = os.pipe()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_quietly)
    task = process.fork_processes(args.processes)
    # Only the workers get here.
    os.close(write_end)
    if holder is not None:
        holder.close()
        sockets = bind_sockets(port, args.address, reuse_port=True)
    banner = f"process {task} pid {os.getpid()} ready on port {port}"
    asyncio.run(serve(sockets, banner, args.redis, parent_pipe=read_end))


if __name__ == "__main__":
    main()
