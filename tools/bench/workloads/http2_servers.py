"""HTTP/2 throughput with h2load (issue 17).

Usage: ``python http2_servers.py tornado`` prints JSON result lines; where
``tornado.http2`` is missing (upstream Tornado) it prints nothing, and
without h2load (Debian package ``nghttp2-client``) or hypercorn it says so
on standard error.  ``python http2_servers.py serve KIND`` is the server it
starts (KIND: ``ours-h2`` or ``ours-h1``, the hello-world `Application` on
`tornado.http2.HTTP2Server` or `tornado.httpserver.HTTPServer`).

Three cases, each a fresh server process pinned to core 0 with h2load on
core 1 (when ``taskset`` exists):

- the hello-world Application on HTTP2Server, cleartext with prior
  knowledge: ``h2load -c 10 -m 10``;
- hypercorn serving a Starlette hello world the same way;
- the same Application over HTTP/1.1 on our HTTPServer:
  ``h2load --h1 -c 100`` (the same 100 requests in flight, one per
  connection, as browsers do over HTTP/1.1).

Each case reports the best of REPEATS runs, then the two ratios the issue
sets targets for: ours over hypercorn, and ours over our own HTTP/1.1.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from _harness import emit

REQUESTS = 20_000
REPEATS = 2
HERE = Path(__file__).resolve().parent


def note(text: str) -> None:
    # Not a result line: the runner reads only JSON lines from stdout.
    print(text, file=sys.stderr)


def serve(kind: str) -> None:
    """Serve the hello-world Application on a free port; print the port."""
    import logging

    from tornado.ioloop import IOLoop
    from tornado.netutil import bind_sockets
    from tornado.web import Application, RequestHandler

    class Hello(RequestHandler):
        def get(self) -> None:
            self.write("Hello, world")

    logging.getLogger("tornado.access").setLevel(logging.WARNING)
    from tornado.httpserver import HTTPServer

    app = Application([("/", Hello)])
    server: HTTPServer
    if kind == "ours-h2":
        from tornado.http2 import HTTP2Server

        server = HTTP2Server(app)
    else:
        server = HTTPServer(app)
    sockets = bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    print(sockets[0].getsockname()[1], flush=True)
    IOLoop.current().start()


def pinned(command: list[str], core: str) -> list[str]:
    return ["taskset", "-c", core, *command] if shutil.which("taskset") else command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port}") from None
            time.sleep(0.05)


def start(kind: str) -> tuple[subprocess.Popen[str], int]:
    if kind == "hypercorn":
        port = free_port()
        command = [sys.executable, str(HERE / "starlette_hello.py"), str(port)]
        proc = subprocess.Popen(
            pinned(command, "0"),
            cwd=HERE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    else:
        proc = subprocess.Popen(
            pinned([sys.executable, __file__, "serve", kind], "0"),
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
    wait_until_listening(port)
    return proc, port


def h2load(port: int, http1: bool) -> float:
    h2load_path = shutil.which("h2load")
    assert h2load_path is not None
    shape = ["--h1", "-c", "100", "-m", "1"] if http1 else ["-c", "10", "-m", "10"]
    command = [h2load_path, "-n", str(REQUESTS), *shape, f"http://127.0.0.1:{port}/"]
    out = subprocess.run(
        pinned(command, "1"), capture_output=True, text=True, check=True, timeout=300
    ).stdout
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out)
    assert done is not None and done.group(1) == done.group(2) == str(REQUESTS), out
    rate = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    assert rate is not None, out
    return float(rate.group(1))


def measure(kind: str) -> float:
    best = 0.0
    for _ in range(REPEATS):
        proc, port = start(kind)
        try:
            best = max(best, h2load(port, http1=kind == "ours-h1"))
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    return best


def main() -> None:
    try:
        import tornado.http2  # noqa: F401
    except ImportError:
        return  # upstream Tornado: no HTTP/2 to measure
    if shutil.which("h2load") is None:
        note("http2: h2load not found (Debian package nghttp2-client); not measured")
        return
    ours = measure("ours-h2")
    emit("HTTP/2: hello world on HTTP2Server, h2load -c 10 -m 10", ours, "requests/s")
    try:
        import hypercorn  # noqa: F401
        import starlette  # noqa: F401
    except ImportError:
        note("http2: hypercorn or starlette missing; no peer row")
        hypercorn_rate = None
    else:
        hypercorn_rate = measure("hypercorn")
        emit(
            "HTTP/2: Starlette hello on hypercorn, h2load -c 10 -m 10", hypercorn_rate, "requests/s"
        )
    http1 = measure("ours-h1")
    emit("HTTP/2: same app over HTTP/1.1 on HTTPServer, h2load --h1 -c 100", http1, "requests/s")
    if hypercorn_rate:
        emit("HTTP/2: ours / hypercorn", ours / hypercorn_rate, "x")
    emit("HTTP/2: ours over h2 / ours over HTTP/1.1", ours / http1, "x")


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        assert sys.argv[1] == "tornado", sys.argv
        main()
