"""Fixtures: real ASGI servers (uvicorn and hypercorn processes, or uvicorn
inside the test's loop) and our own HTTPServer, all on 127.0.0.1.

A server process gets a socket that is already listening (``--fd``), so
there is no race for the port; readiness is polled with real requests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tornado.httpserver import HTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
#: How long a server process may take to start before the test fails.
STARTUP_DEADLINE = 30.0

StartProcess = Callable[..., str]


async def eventually(predicate: Callable[[], bool], what: str) -> None:
    """Yield to the loop until ``predicate()`` holds (the code under test
    runs on this loop); fail, rather than hang, after STARTUP_DEADLINE."""
    import asyncio

    deadline = time.monotonic() + STARTUP_DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0)


def listening_socket() -> socket.socket:
    """A TCP socket listening on a free port of 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Inherited by accepted sockets: uvicorn does not set it on sockets it
    # is handed, and delayed ACKs would add 40 ms to many requests.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _command(server: str, target: str, fd: int, extra: list[str]) -> list[str]:
    if server == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", target, "--fd", str(fd),
            "--log-level", "warning", "--no-server-header", "--no-date-header", *extra,
        ]  # fmt: skip
    if server == "hypercorn":
        return [sys.executable, "-m", "hypercorn", target, "--bind", f"fd://{fd}", *extra]
    if server == "daphne":
        return [sys.executable, "-m", "daphne", "--fd", str(fd), "-v", "0", *extra, target]
    if server == "gunicorn":
        return [
            sys.executable, "-m", "gunicorn", "-k", "uvicorn_worker.UvicornWorker",
            "--bind", f"fd://{fd}", "--workers", "1", "--log-level", "warning", *extra, target,
        ]  # fmt: skip
    if server == "tornado":
        return [sys.executable, "-m", "tornado.asgi", target, "--fd", str(fd), *extra]
    raise ValueError(server)


def wait_until_serving(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Poll ``url`` until the server answers; fail if the process exits."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while True:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise


@pytest.fixture
def start_process() -> Iterator[StartProcess]:
    """``base_url = start_process(server, "module:app", *extra_args)`` runs
    ``server`` (uvicorn, hypercorn, daphne, gunicorn with uvicorn's worker,
    or tornado for ``python -m tornado.asgi``)
    in a subprocess with the tests folder importable; stopped after the test."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(server: str, target: str, *extra: str, probe: str | None = "/") -> str:
        sock = listening_socket()
        port = sock.getsockname()[1]
        env = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.Popen(
            _command(server, target, sock.fileno(), list(extra)),
            pass_fds=[sock.fileno()],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=HERE,
        )
        sock.close()  # the child has its own copy
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        if probe is not None:
            wait_until_serving(base + probe, proc)
        return base

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


ServeTornado = Callable[..., Awaitable[str]]


@pytest_asyncio.fixture
async def serve_tornado() -> AsyncIterator[ServeTornado]:
    """``base_url = await serve_tornado(app_or_callable)`` serves it on our
    HTTPServer on a free port of 127.0.0.1."""
    servers: list[HTTPServer] = []

    async def serve(app: Any, **kwargs: Any) -> str:
        server = HTTPServer(app, **kwargs)
        sock = listening_socket()
        sock.setblocking(False)  # the IOLoop accepts without blocking
        server.add_sockets([sock])
        servers.append(server)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield serve
    for server in servers:
        server.stop()
        await server.close_all_connections()


ServeUvicorn = Callable[[Any], Awaitable[str]]


@pytest_asyncio.fixture
async def serve_uvicorn() -> AsyncIterator[ServeUvicorn]:
    """``base_url = await serve_uvicorn(asgi_app)`` runs a real uvicorn
    server inside the test's loop, so a test can watch the application."""
    import asyncio

    import uvicorn

    running: list[tuple[uvicorn.Server, asyncio.Task[None], socket.socket]] = []

    async def serve(app: Any) -> str:
        sock = listening_socket()
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", server_header=False, date_header=False
        )
        server = uvicorn.Server(config)
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        running.append((server, task, sock))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0)  # yields to the server's startup, not a timed wait
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield serve
    for server, task, sock in running:
        server.should_exit = True
        await task
        sock.close()
