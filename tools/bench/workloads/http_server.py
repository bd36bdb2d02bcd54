"""A bare `HTTPServer` (plain callback, no tornado.web) under load from wrk.

Usage: ``python http_server.py [asyncio|uvloop]`` prints JSON result lines:
requests/s and p99 latency for a keep-alive hello world, the same with
``Connection: close``, a 64 KB POST body and a chunked streaming response.

The server runs in a child process (this script with ``--serve``) under the
same interpreter, so each side serves with its own ``tornado``; the load
generator is wrk (Debian package ``wrk``), the same binary for both sides,
on 127.0.0.1, bounded in time (``DURATION`` seconds per case) and in
connections.  Runs unchanged on upstream Tornado.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

from _harness import emit

DURATION = 4
CONNECTIONS = 32
STREAM_CHUNKS = 16
STREAM_CHUNK = b"x" * 1024
POST_SIZE = 64 * 1024
HELLO = b"Hello, world!"


def serve(loop_name: str) -> None:
    """Child process: serve on an ephemeral port of 127.0.0.1, print the port,
    run until killed."""
    import asyncio

    if loop_name == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

    from tornado.httpserver import HTTPServer
    from tornado.httputil import HTTPHeaders, ResponseStartLine
    from tornado.netutil import bind_sockets

    ok = ResponseStartLine("HTTP/1.1", 200, "OK")

    def app(request):  # type: ignore[no-untyped-def]
        conn = request.connection
        if request.path == "/stream":
            conn.write_headers(ok, HTTPHeaders({"Content-Type": "text/plain"}))
            for _ in range(STREAM_CHUNKS):
                conn.write(STREAM_CHUNK)
            conn.finish()
            return
        body = HELLO if request.method == "GET" else str(len(request.body)).encode()
        headers = HTTPHeaders({"Content-Type": "text/plain", "Content-Length": str(len(body))})
        conn.write_headers(ok, headers, body)
        conn.finish()

    async def main() -> None:
        sockets = bind_sockets(0, "127.0.0.1")
        server = HTTPServer(app)
        server.add_sockets(sockets)
        print(sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, extra: list[str]) -> tuple[float, float]:
    """Run wrk against ``url``; return (requests/s, p99 latency in ms)."""
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(CONNECTIONS), "-d", f"{DURATION}s", "--latency", *extra, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=DURATION * 5 + 30,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    p99 = re.search(r"^\s+99%\s+([0-9.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    if rate is None or p99 is None:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    if errors is not None and "Non-2xx" in errors.group(0):
        raise RuntimeError(f"server answered with errors:\n{out}")
    return float(rate.group(1)), float(p99.group(1)) * _UNITS[p99.group(2)]


def measure(loop_name: str) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    server = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve", loop_name],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(
                'wrk.method = "POST"\n'
                f'wrk.body = string.rep("x", {POST_SIZE})\n'
                'wrk.headers["Content-Type"] = "application/octet-stream"\n'
            )
        try:
            cases = [
                ("hello keep-alive", base + "/", []),
                ("hello Connection: close", base + "/", ["-H", "Connection: close"]),
                ("POST 64 KB", base + "/upload", ["-s", lua.name]),
                ("chunked stream 16x1 KB", base + "/stream", []),
            ]
            # A short warm-up so the first case does not pay for imports.
            run_wrk(base + "/", ["-d", "1s"])
            for name, url, extra in cases:
                rate, p99 = run_wrk(url, extra)
                emit(f"{loop_name}: {name} req/s", rate, "req/s")
                emit(f"{loop_name}: {name} p99", p99, "ms")
        finally:
            os.unlink(lua.name)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(sys.argv[2])
    else:
        measure(sys.argv[1] if len(sys.argv) > 1 else "asyncio")
