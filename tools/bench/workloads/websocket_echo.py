"""WebSocket echo through tornado.websocket: small-message round trips, a
pipelined burst of 100,000 small messages, and 1 MB messages with
permessage-deflate.

Usage: ``python websocket_echo.py tornado`` prints JSON result lines.  The
server (`WebSocketHandler` on an `HTTPServer`) and the client
(`websocket_connect`) share one event loop on 127.0.0.1, so the figures
measure the WebSocket code on both ends.  Only public API is used, so the
script runs unchanged on upstream Tornado.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time

from _harness import emit

ROUND_TRIPS = 10_000
BURST = 100_000
BIG_ROUND_TRIPS = 20
SMALL = "x" * 32
REPEATS = 3


def big_message() -> bytes:
    # Compressible but not trivial: words drawn from a small vocabulary.
    rng = random.Random(6455)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"epsilon", b"zeta", b"eta", b"theta"]
    out = bytearray()
    while len(out) < 1024 * 1024:
        out += rng.choice(words) + b" "
    return bytes(out[: 1024 * 1024])


async def measure() -> None:
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets
    from tornado.web import Application
    from tornado.websocket import WebSocketHandler, websocket_connect

    class Echo(WebSocketHandler):
        def on_message(self, message):  # type: ignore[no-untyped-def]
            self.write_message(message, binary=isinstance(message, bytes))

    class CompressedEcho(Echo):
        def get_compression_options(self):  # type: ignore[no-untyped-def]
            return {}

    [sock] = bind_sockets(0, "127.0.0.1")
    port = sock.getsockname()[1]
    server = HTTPServer(
        Application(
            [("/", Echo), ("/z", CompressedEcho)],
            websocket_max_message_size=64 * 1024 * 1024,
        )
    )
    server.add_sockets([sock])

    best = 0.0
    for _ in range(REPEATS):
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
        start = time.perf_counter()
        for _ in range(ROUND_TRIPS):
            ws.write_message(SMALL)
            assert await ws.read_message() == SMALL
        best = max(best, ROUND_TRIPS / (time.perf_counter() - start))
        ws.close()
        await ws.read_message()
    emit("echo 32 B round trips, 1 connection", best, "round trips/s")

    best = 0.0
    for _ in range(REPEATS):
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/")
        start = time.perf_counter()
        for _ in range(BURST):
            ws.write_message(SMALL)
        for _ in range(BURST):
            assert await ws.read_message() == SMALL
        best = max(best, BURST / (time.perf_counter() - start))
        ws.close()
        await ws.read_message()
    emit("pipelined burst of 100,000 32 B messages", best, "messages/s")

    big = big_message()
    best = 0.0
    for _ in range(REPEATS):
        ws = await websocket_connect(
            f"ws://127.0.0.1:{port}/z",
            compression_options={},
            max_message_size=64 * 1024 * 1024,
        )
        start = time.perf_counter()
        for _ in range(BIG_ROUND_TRIPS):
            ws.write_message(big, binary=True)
            assert await ws.read_message() == big
        best = max(best, BIG_ROUND_TRIPS / (time.perf_counter() - start))
        ws.close()
        await ws.read_message()
    emit("1 MB round trips, permessage-deflate", best, "round trips/s")

    server.stop()


if __name__ == "__main__":
    if sys.argv[1:] != ["tornado"]:
        sys.exit("usage: websocket_echo.py tornado")
    asyncio.run(measure())
