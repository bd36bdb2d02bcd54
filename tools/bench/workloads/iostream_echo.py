"""TCP echo through tornado.iostream: small-message round trips and a 100 MB bulk transfer.

Usage: ``python iostream_echo.py tornado`` prints JSON result lines.  The
server (a `TCPServer`) and the client (`TCPClient`) share one event loop on
127.0.0.1, so the figures measure the stream code on both ends, not the
network.  Runs unchanged on upstream Tornado.
"""

from __future__ import annotations

import asyncio
import sys
import time

from _harness import emit

ROUND_TRIPS = 20_000
CONCURRENT_CLIENTS = 16
CONCURRENT_ROUND_TRIPS = 2_000
BULK_BYTES = 100 * 1024 * 1024
BULK_CHUNK = 1024 * 1024
MESSAGE = b"x" * 62 + b"\r\n"
REPEATS = 3


async def measure() -> None:
    from tornado.iostream import StreamClosedError
    from tornado.netutil import bind_sockets
    from tornado.tcpclient import TCPClient
    from tornado.tcpserver import TCPServer

    class EchoServer(TCPServer):
        async def handle_stream(self, stream, address):  # type: ignore[no-untyped-def]
            try:
                while True:
                    line = await stream.read_until(b"\r\n")
                    await stream.write(line)
            except StreamClosedError:
                pass

    class SinkServer(TCPServer):
        """Reads everything in partial reads and answers with the byte count."""

        async def handle_stream(self, stream, address):  # type: ignore[no-untyped-def]
            total = 0
            try:
                while total < BULK_BYTES:
                    total += len(await stream.read_bytes(65536, partial=True))
                await stream.write(b"%d\r\n" % total)
            except StreamClosedError:
                pass

    [echo_sock] = bind_sockets(0, "127.0.0.1")
    [sink_sock] = bind_sockets(0, "127.0.0.1")
    echo_port = echo_sock.getsockname()[1]
    sink_port = sink_sock.getsockname()[1]
    echo, sink = EchoServer(), SinkServer()
    echo.add_sockets([echo_sock])
    sink.add_sockets([sink_sock])
    client = TCPClient()

    async def ping_pong(count: int) -> None:
        stream = await client.connect("127.0.0.1", echo_port)
        stream.set_nodelay(True)
        for _ in range(count):
            stream.write(MESSAGE)
            reply = await stream.read_until(b"\r\n")
            assert reply == MESSAGE, reply
        stream.close()

    best = 0.0
    for _ in range(REPEATS):
        start = time.perf_counter()
        await ping_pong(ROUND_TRIPS)
        best = max(best, ROUND_TRIPS / (time.perf_counter() - start))
    emit("echo 64 B round trips, 1 connection", best, "round trips/s")

    best = 0.0
    for _ in range(REPEATS):
        start = time.perf_counter()
        await asyncio.gather(
            *(ping_pong(CONCURRENT_ROUND_TRIPS) for _ in range(CONCURRENT_CLIENTS))
        )
        elapsed = time.perf_counter() - start
        best = max(best, CONCURRENT_CLIENTS * CONCURRENT_ROUND_TRIPS / elapsed)
    emit(f"echo 64 B round trips, {CONCURRENT_CLIENTS} connections", best, "round trips/s")

    chunk = b"\xab" * BULK_CHUNK
    best = 0.0
    for _ in range(REPEATS):
        stream = await client.connect("127.0.0.1", sink_port)
        start = time.perf_counter()
        for _ in range(BULK_BYTES // BULK_CHUNK):
            stream.write(chunk)
        reply = await stream.read_until(b"\r\n")
        elapsed = time.perf_counter() - start
        assert int(reply) == BULK_BYTES, reply
        stream.close()
        best = max(best, BULK_BYTES / elapsed / 1e6)
    emit("bulk 100 MB upload, 1 MB writes", best, "MB/s")

    big = b"\xcd" * BULK_BYTES
    best = 0.0
    for _ in range(REPEATS):
        stream = await client.connect("127.0.0.1", sink_port)
        start = time.perf_counter()
        stream.write(big)
        reply = await stream.read_until(b"\r\n")
        elapsed = time.perf_counter() - start
        assert int(reply) == BULK_BYTES, reply
        stream.close()
        best = max(best, BULK_BYTES / elapsed / 1e6)
    emit("bulk 100 MB upload, one write", best, "MB/s")

    echo.stop()
    sink.stop()
    client.close()


if __name__ == "__main__":
    assert sys.argv[1] == "tornado", sys.argv
    asyncio.run(measure())
