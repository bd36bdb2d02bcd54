"""TCP echo server: every line a client sends comes back to it.

Run it with ``hatch run python demos/tcpecho/server.py`` (port 8889), or
``--port 0`` to let the OS pick one; it prints ``listening on HOST:PORT``
once ready.  Stop it with Ctrl-C.  Needs only ``tornado-iostream``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from tornado.iostream import IOStream, StreamClosedError
from tornado.tcpserver import TCPServer

log = logging.getLogger("tcpecho")


class EchoServer(TCPServer):
    """Echoes lines (up to 64 KiB each) until the client disconnects."""

    async def handle_stream(self, stream: IOStream, address: object) -> None:
        stream.set_nodelay(True)
        try:
            while True:
                line = await stream.read_until(b"\n", max_bytes=64 * 1024)
                await stream.write(line)
        except StreamClosedError:
            pass


async def serve(host: str, port: int) -> None:
    """Listen on ``host``:``port`` until SIGINT or SIGTERM."""
    server = EchoServer()
    server.listen(port, host)
    bound = next(iter(server._sockets.values())).getsockname()
    print(f"listening on {bound[0]}:{bound[1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8889)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
