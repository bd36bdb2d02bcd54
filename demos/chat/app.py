"""Chat demo: a long-polling chat room.

Run it with ``python demos/chat/app.py`` (http://127.0.0.1:8888/) or
``--port 0`` for any free port; it prints ``serving on http://127.0.0.1:PORT/``.

Clients post messages to ``/a/message/new`` and wait for newer ones with
``/a/message/updates`` (a long poll: the request stays open until a message
arrives, and carries a ``cursor``, the id of the last message the client
has).  All forms and polls carry the ``_xsrf`` token.  Programs may also
chat over a WebSocket at ``/a/message/socket``: it sends the recent
messages, then every new one, and takes ``{"body": ...}`` JSON frames.
``/a/status`` reports how many polls and sockets are waiting (so tests can
check that closed connections are forgotten) and which process answered.

Production settings (see the deployment guide in the README):

``--processes N``
    fork N worker processes sharing the listening socket (0: one per CPU).
``--reuse-port``
    each worker binds its own ``SO_REUSEPORT`` socket instead, so the
    kernel spreads new connections evenly over the workers.
``--redis URL``
    the message bus: by default messages live in this process; with Redis
    (``redis://host:port/db``) they are published on a channel that every
    process subscribes to, and the recent messages are a capped Redis list,
    so processes on one machine or many share one room.
``--xheaders``
    behind a proxy such as nginx: trust ``X-Real-IP`` / ``X-Forwarded-For``
    and ``X-Forwarded-Proto`` for the client's address and scheme.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tornado import escape, process
from tornado.httpserver import HTTPServer
from tornado.locks import Condition
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketClosedError, WebSocketHandler

HERE = Path(__file__).resolve().parent

log = logging.getLogger("chat")


class MessageBuffer:
    """The most recent messages, and a condition that wakes the waiting polls."""

    def __init__(self, size: int = 200) -> None:
        self.size = size
        self.cond = Condition()
        self.cache: list[dict[str, Any]] = []
        #: Polls currently waiting for a message.
        self.waiters = 0
        #: Callbacks (one per open WebSocket) that receive every new message.
        self.listeners: set[Callable[[dict[str, Any]], None]] = set()

    def get_messages_since(self, cursor: str | None) -> list[dict[str, Any]]:
        """Messages after the one with id ``cursor`` (all if it is unknown)."""
        for index in range(len(self.cache) - 1, -1, -1):
            if self.cache[index]["id"] == cursor:
                return self.cache[index + 1 :]
        return list(self.cache)

    def has_message(self, message_id: str) -> bool:
        """Whether the message with this id is among the recent ones."""
        return any(message["id"] == message_id for message in self.cache)

    def add_message(self, message: dict[str, Any]) -> None:
        """Store a message and wake every waiting poll and socket."""
        self.cache.append(message)
        del self.cache[: -self.size]
        self.cond.notify_all()
        for listener in list(self.listeners):
            listener(message)


class MemoryBus:
    """The default message bus: a message reaches this process only."""

    def __init__(self, buffer: MessageBuffer) -> None:
        self.buffer = buffer

    async def start(self) -> None:
        """Nothing to connect to."""

    async def publish(self, message: dict[str, Any]) -> None:
        """Deliver ``message`` to this process's buffer."""
        self.buffer.add_message(message)

    async def failed(self) -> None:
        """Never returns: an in-memory bus cannot fail."""
        await asyncio.Event().wait()

    async def close(self) -> None:
        """Nothing to release."""


class RedisBus:
    """A message bus on Redis, shared by every process that uses the same URL.

    A posted message is appended to a capped list (the recent messages,
    ``<prefix>:recent``) and published on ``<prefix>:messages`` in one
    transaction, so the list order and the delivery order agree.  Each
    process subscribes to the channel and copies what arrives into its own
    `MessageBuffer`, which wakes its long polls and WebSockets; a process
    that starts later loads the list first.
    """

    def __init__(self, buffer: MessageBuffer, url: str, prefix: str = "chat") -> None:
        self.buffer = buffer
        self.url = url
        self.channel = f"{prefix}:messages"
        self.key = f"{prefix}:recent"
        self._starting: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        # Posts of this process waiting to come back from the subscription.
        self._own: dict[str, asyncio.Future[None]] = {}
        self._client: Any = None
        self._pubsub: Any = None
        self._error: Exception | None = None

    async def start(self) -> None:
        """Connect and subscribe (once; later calls wait for the first).

        After a failed start or a lost subscription the next call connects
        again: an application served by another server (gunicorn's worker)
        recovers on its next request once Redis is back.
        """
        if self._starting is None or self._broken():
            self._starting = asyncio.ensure_future(self._start())
        await asyncio.shield(self._starting)

    def _broken(self) -> bool:
        starting = self._starting
        if starting is None or not starting.done():
            return False
        if starting.cancelled() or starting.exception() is not None:
            return True
        return self._listener is not None and self._listener.done()

    async def _start(self) -> None:
        # Imported here so the demo runs without the redis package when the
        # in-memory bus is used.
        import redis.asyncio

        await self._disconnect()
        self._error = None
        self._client = redis.asyncio.Redis.from_url(self.url)
        self._pubsub = self._client.pubsub()
        await self._pubsub.subscribe(self.channel)
        # Subscribed before reading the list: a message published in
        # between is in both, and its id keeps it from being added twice.
        for raw in await self._client.lrange(self.key, 0, -1):
            self._deliver(json.loads(raw))
        self._listener = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        try:
            async for item in self._pubsub.listen():
                if item["type"] == "message":
                    self._deliver(json.loads(item["data"]))
        except Exception as error:
            # Logged here, raised again by failed(): under gunicorn nobody
            # awaits this task.
            log.error("the Redis subscription ended: %s", error)
            self._error = error
        finally:
            # The subscription is gone (Redis went away): posts waiting for
            # their echo would wait forever.
            for future in self._own.values():
                if not future.done():
                    future.set_exception(ConnectionError("the Redis subscription ended"))

    def _deliver(self, message: dict[str, Any]) -> None:
        if not self.buffer.has_message(message["id"]):
            self.buffer.add_message(message)
        future = self._own.pop(message["id"], None)
        if future is not None and not future.done():
            future.set_result(None)

    async def publish(self, message: dict[str, Any]) -> None:
        """Store and publish ``message``; return once this process has it.

        Waiting for the echo means the poster's next poll on this process
        already finds its own message (its cursor is known here).
        """
        await self.start()
        echo: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._own[message["id"]] = echo
        data = json.dumps(message)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.rpush(self.key, data)
                pipe.ltrim(self.key, -self.buffer.size, -1)
                pipe.publish(self.channel, data)
                await pipe.execute()
            await echo
        finally:
            self._own.pop(message["id"], None)

    async def failed(self) -> None:
        """Raise when the subscription ends (Redis went away)."""
        await self.start()
        assert self._listener is not None
        await self._listener
        raise self._error or ConnectionError("the Redis subscription ended")

    async def close(self) -> None:
        """Unsubscribe and disconnect."""
        await self._disconnect()

    async def _disconnect(self) -> None:
        listener, pubsub, client = self._listener, self._pubsub, self._client
        self._listener = self._pubsub = self._client = None
        if listener is not None:
            listener.cancel()
            try:
                await listener
            except asyncio.CancelledError:
                pass
        if pubsub is not None:
            await pubsub.aclose()
        if client is not None:
            await client.aclose()


class ChatHandler(RequestHandler):
    """Base of the HTTP handlers: the bus is up before any request is served,
    and every answer says which process served it."""

    def set_default_headers(self) -> None:
        self.set_header("X-Served-By", str(os.getpid()))

    async def prepare(self) -> None:
        # Started here as well as in main() so an application built by
        # another server (gunicorn's worker) connects on its own loop.
        await self.settings["bus"].start()


class MainHandler(ChatHandler):
    """The chat page, with the recent messages."""

    def get(self) -> None:
        self.render("index.html", messages=self.settings["buffer"].cache)


def new_message(handler: RequestHandler, body: str) -> dict[str, Any]:
    """A message with a fresh id and its HTML rendering."""
    message: dict[str, Any] = {"id": str(uuid.uuid4()), "body": body}
    message["html"] = handler.render_string("message.html", message=message).decode()
    return message


class MessageNewHandler(ChatHandler):
    """Post a message; answers with the message as JSON (or redirects for
    plain form posts without JavaScript)."""

    async def post(self) -> None:
        message = new_message(self, self.get_argument("body"))
        await self.settings["bus"].publish(message)
        if self.get_argument("next", None):
            self.redirect(self.get_argument("next"))
        else:
            self.write(message)


class MessageUpdatesHandler(ChatHandler):
    """Long poll: answer with the messages after ``cursor``, waiting for one
    if there are none yet."""

    wait_future: Any = None

    async def post(self) -> None:
        buffer: MessageBuffer = self.settings["buffer"]
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


class MessageSocketHandler(WebSocketHandler):
    """The same room over a WebSocket: recent messages on open, then each new
    one; a ``{"body": ...}`` frame posts a message."""

    def set_default_headers(self) -> None:
        self.set_header("X-Served-By", str(os.getpid()))

    async def prepare(self) -> None:
        await self.settings["bus"].start()

    def open(self, *args: str, **kwargs: str) -> None:
        buffer: MessageBuffer = self.settings["buffer"]
        for message in buffer.cache:
            self.write_message(message)
        buffer.listeners.add(self.send)

    def send(self, message: dict[str, Any]) -> None:
        """Forward one new message to this client."""
        try:
            self.write_message(message)
        except WebSocketClosedError:
            # Closing sockets leave in on_close; skip them meanwhile.
            pass

    async def on_message(self, message: str | bytes) -> None:
        try:
            body = str(escape.json_decode(message)["body"])
        except (ValueError, KeyError, TypeError):
            self.close(1003, "expected JSON with a body")
            return
        await self.settings["bus"].publish(new_message(self, body))

    def on_close(self) -> None:
        self.settings["buffer"].listeners.discard(self.send)


class StatusHandler(ChatHandler):
    """How many polls and sockets wait, how many messages are kept, and who
    answered: the process (pid and fork task id) and the client's address
    and scheme as this process sees them (with ``--xheaders``, the proxy's
    forwarded values)."""

    def get(self) -> None:
        buffer: MessageBuffer = self.settings["buffer"]
        self.write(
            {
                "waiters": buffer.waiters,
                "messages": len(buffer.cache),
                "sockets": len(buffer.listeners),
                "pid": os.getpid(),
                "task_id": process.task_id(),
                "remote_ip": self.request.remote_ip,
                "protocol": self.request.protocol,
            }
        )


def make_app(redis: str | None = None, **settings: Any) -> Application:
    """The chat application; ``settings`` override the defaults.

    ``redis``, a Redis URL, selects the shared message bus (unless a
    ``bus`` setting is given); without it messages stay in this process.
    """
    options: dict[str, Any] = {
        "cookie_secret": uuid.uuid4().hex,
        "template_path": str(HERE / "templates"),
        "static_path": str(HERE / "static"),
        "xsrf_cookies": True,
    }
    options.update(settings)
    buffer = options.setdefault("buffer", MessageBuffer())
    if "bus" not in options:
        options["bus"] = RedisBus(buffer, redis) if redis else MemoryBus(buffer)
    return Application(
        [
            (r"/", MainHandler),
            (r"/a/message/new", MessageNewHandler),
            (r"/a/message/updates", MessageUpdatesHandler),
            (r"/a/message/socket", MessageSocketHandler),
            (r"/a/status", StatusHandler),
        ],
        **options,
    )


async def serve(
    sockets: list[socket.socket],
    banner: str,
    *,
    redis: str | None = None,
    xheaders: bool = False,
    cookie_secret: str | None = None,
    parent_pipe: int | None = None,
    grace: float = 5.0,
) -> None:
    """Serve on ``sockets`` until SIGINT or SIGTERM (or, in a forked worker,
    until the parent process is gone).

    The first signal drains (`HTTPServer.drain`): no new connections, idle
    ones closed, requests under way answered, WebSockets told 1001, and
    whatever is still open after ``grace`` seconds (waiting long polls) cut.
    A second signal ends the process at once.
    """
    app = make_app(redis=redis, cookie_secret=cookie_secret or uuid.uuid4().hex)
    bus = app.settings["bus"]
    # Connected before serving: a process that answers is already subscribed.
    await bus.start()
    server = HTTPServer(app, xheaders=xheaders)
    server.add_sockets(sockets)
    # One write() per line: the workers share the parent's stdout, and
    # print() may split a line into two writes that interleave.
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), (banner + "\n").encode())
    stop = asyncio.Event()
    drain = False
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        nonlocal drain
        drain = True
        # From now on the signals have their default action: a second
        # SIGTERM (or Ctrl-C) ends the process at once.
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    if parent_pipe is not None:
        # The parent holds the write end: end-of-file means it has exited
        # (when the whole process group was signalled, the worker drains).
        loop.add_reader(parent_pipe, stop.set)
    stopped = asyncio.ensure_future(stop.wait())
    bus_failed = asyncio.ensure_future(bus.failed())
    await asyncio.wait([stopped, bus_failed], return_when=asyncio.FIRST_COMPLETED)
    if parent_pipe is not None:
        loop.remove_reader(parent_pipe)
    if drain:
        result = await server.drain(grace)
        os.write(
            sys.stdout.fileno(),
            f"pid {os.getpid()} drained: {result.finished} finished, {result.cut} cut\n".encode(),
        )
    else:
        server.stop()
    await server.close_all_connections()
    stopped.cancel()
    bus_failed.cancel()
    await bus.close()
    if bus_failed.done() and not bus_failed.cancelled():
        # Exit non-zero so fork_processes (or a supervisor) restarts us.
        raise SystemExit(f"the message bus failed: {bus_failed.exception()}")


def _reserve_port(port: int, address: str) -> socket.socket:
    """A socket bound with SO_REUSEPORT but not listening: it holds the port
    number for the workers without taking any of their connections."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((address, port))
    return holder


def _exit_quietly(signum: int, frame: object) -> None:
    # The parent of forked workers: exit without a traceback; the workers
    # see their pipe close and stop on their own.
    sys.exit(0)


def make_parser() -> argparse.ArgumentParser:
    """The command line (the deployment guide's commands parse with it)."""
    parser = argparse.ArgumentParser(
        description="A long-polling chat room.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument(
        "--processes", type=int, default=1, help="worker processes (0: one per CPU; default 1)"
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="one SO_REUSEPORT socket per worker (the kernel balances connections)",
    )
    parser.add_argument("--redis", metavar="URL", help="share the room through Redis at URL")
    parser.add_argument(
        "--xheaders", action="store_true", help="trust X-Real-IP/X-Forwarded-* (behind a proxy)"
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="on SIGTERM/SIGINT, how long requests under way may take (default 5)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve."""
    args = make_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # One secret for every worker, so cookies signed by one verify on another.
    cookie_secret = uuid.uuid4().hex
    options: dict[str, Any] = {
        "redis": args.redis,
        "xheaders": args.xheaders,
        "cookie_secret": cookie_secret,
        "grace": args.grace,
    }
    if args.processes == 1:
        sockets = bind_sockets(args.port, args.address, reuse_port=args.reuse_port)
        port = sockets[0].getsockname()[1]
        asyncio.run(serve(sockets, f"serving on http://{args.address}:{port}/", **options))
        return
    # Bound before forking (no IOLoop may exist yet): the workers inherit
    # the listening socket, or with --reuse-port the reserved port number.
    holder = _reserve_port(args.port, args.address) if args.reuse_port else None
    sockets = [] if holder else bind_sockets(args.port, args.address)
    port = (holder or sockets[0]).getsockname()[1]
    count = args.processes if args.processes > 0 else process.cpu_count()
    print(f"serving on http://{args.address}:{port}/ with {count} processes", flush=True)
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
    asyncio.run(serve(sockets, banner, parent_pipe=read_end, **options))


if __name__ == "__main__":
    main()
