"""Requests per second with one and with two server processes (issue 20).

Usage: ``python processes_scaling.py tornado`` prints JSON result lines
(the runner runs it under ours and under upstream Tornado alike);
``python processes_scaling.py serve N`` is the server it starts.

The server is the recipe of the deployment guide: a `RequestHandler` hello
world on sockets bound before `tornado.process.fork_processes` (``N``
workers sharing one listening socket; with ``N == 1`` no fork at all).  The
load is wrk (Debian package ``wrk``) when it is installed, otherwise a
standard-library client in a child process; nothing is pinned to a core,
because two workers need both of this machine's cores, which wrk then
shares with them.  The last line is the scaling factor, 2 processes over 1.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

from _harness import emit

DURATION = 5
CONNECTIONS = 50
REPEATS = 2


def serve(processes: int) -> None:
    """Bind, fork ``processes`` workers (none when 1), serve hello world."""
    import logging

    from tornado import process
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import IOLoop
    from tornado.netutil import bind_sockets
    from tornado.web import Application, RequestHandler

    class Hello(RequestHandler):
        def get(self) -> None:
            self.write("Hello, world")

    logging.getLogger("tornado.access").setLevel(logging.WARNING)
    sockets = bind_sockets(0, "127.0.0.1")
    print(sockets[0].getsockname()[1], flush=True)
    if processes > 1:
        # The parent waits for its workers and restarts none: the bench
        # stops the whole process group when it is done.
        process.fork_processes(processes, max_restarts=0)
    server = HTTPServer(Application([("/", Hello)]))
    server.add_sockets(sockets)
    IOLoop.current().start()


def wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if sock.recv(100).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)


def wrk_rate(port: int) -> float:
    wrk = shutil.which("wrk")
    assert wrk is not None
    out = subprocess.run(
        [wrk, "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}s", f"http://127.0.0.1:{port}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match is not None, out
    return float(match.group(1))


async def client_rate(port: int) -> float:
    """Sequential keep-alive GETs on CONNECTIONS connections for DURATION s."""
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    count = 0
    stop = time.perf_counter() + DURATION

    async def worker() -> None:
        nonlocal count
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < stop:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            count += 1
        writer.close()
        await writer.wait_closed()

    begin = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return count / (time.perf_counter() - begin)


def measure(processes: int) -> float:
    """Best of REPEATS runs against a fresh server with ``processes`` workers."""
    best = 0.0
    for _ in range(REPEATS):
        server = subprocess.Popen(
            [sys.executable, __file__, "serve", str(processes)],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            wait_until_serving(port)
            rate = wrk_rate(port) if shutil.which("wrk") else asyncio.run(client_rate(port))
            best = max(best, rate)
        finally:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            assert server.stdout is not None
            server.stdout.close()
    return best


def main() -> None:
    load = "wrk -t1 -c50" if shutil.which("wrk") else "a Python client, 50 connections"
    one = measure(1)
    two = measure(2)
    emit(f"processes: hello world, 1 process ({load}), req/s", one, "requests/s")
    emit(f"processes: hello world, 2 processes on one socket ({load}), req/s", two, "requests/s")
    emit("processes: scaling, 2 processes / 1", two / one, "x")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        assert sys.argv[1] == "tornado", sys.argv
        main()
