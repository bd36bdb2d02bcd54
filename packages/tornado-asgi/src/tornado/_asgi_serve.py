"""Our server as an ASGI server: `serve` and ``python -m tornado.asgi``.

Strategy: our `~tornado.httpserver.HTTPServer` runs ``http`` scopes
straight on its HTTP/1 connections (`tornado._asgi_server`); WebSocket
upgrades go to an `~tornado.web.Application` with `ASGIHandler` on a
catch-all route, over our WebSocket machinery.  The lifespan starts before the server
accepts (a failed startup aborts, as uvicorn does) and shuts down after it
stopped.  ``--workers N`` forks N processes that share the listening
sockets; the parent forwards SIGINT/SIGTERM to them and exits when they
have.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import random
import signal
import socket
import ssl
import sys
from collections.abc import Sequence
from typing import Any

from tornado._asgi_common import ASGIApp
from tornado._asgi_handler import ASGIHandler, lifespan_for, shutdown_lifespans
from tornado._asgi_server import server_delegate
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application

gen_log = logging.getLogger("tornado.general")


def asgi_application(
    app: ASGIApp, *, root_path: str = "", lifespan: bool = True, **settings: Any
) -> Application:
    """The Tornado `~tornado.web.Application` that serves ``app`` on every path."""
    return Application(
        [(r".*", ASGIHandler, {"app": app, "root_path": root_path, "lifespan": lifespan})],
        **settings,
    )


async def serve(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    sockets: Sequence[socket.socket] | None = None,
    root_path: str = "",
    lifespan: bool = True,
    ssl_options: ssl.SSLContext | dict[str, Any] | None = None,
    xheaders: bool = False,
    **server_kwargs: Any,
) -> None:
    """Serve the ASGI application ``app`` on our `~tornado.httpserver.HTTPServer`
    until the task running this coroutine is cancelled.

    Listens on ``host``:``port``, or on the already bound ``sockets``.  The
    app's lifespan starts before the first connection is accepted (a
    ``lifespan.startup.failed`` raises `RuntimeError`) and shuts down after
    the server stopped; ``lifespan=False`` skips it.  ``root_path`` is
    passed in every scope; ``ssl_options``, ``xheaders`` and further keyword
    arguments (``max_body_size``, ``idle_connection_timeout``...) go to
    `~tornado.httpserver.HTTPServer`.

    .. versionadded:: 7.0
    """
    application = asgi_application(app, root_path=root_path, lifespan=lifespan)
    state = None
    if lifespan:
        state = lifespan_for(application, app)
        await state.startup()
    # Plain HTTP runs straight on the connection; WebSocket upgrades go
    # through the Application (ASGIHandler over WebSocketHandler).
    delegate = server_delegate(app, application, root_path, state)
    server = HTTPServer(delegate, ssl_options=ssl_options, xheaders=xheaders, **server_kwargs)
    try:
        if sockets is not None:
            server.add_sockets(list(sockets))
        else:
            server.listen(port, host)
        await asyncio.get_running_loop().create_future()  # until cancelled
    finally:
        server.stop()
        await server.close_all_connections()
        await shutdown_lifespans(application)


def import_app(target: str) -> ASGIApp:
    """The object ``module:attribute`` names (the attribute may be dotted).
    Raises `ValueError` for a malformed target."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected 'module:attribute', got {target!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tornado.asgi",
        description="Serve an ASGI application on Tornado's HTTP server.",
    )
    parser.add_argument("app", help="the application, as module:attribute")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (8000)")
    parser.add_argument("--fd", type=int, help="serve on this already listening socket instead")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    parser.add_argument("--root-path", default="", help="the ASGI root_path of every scope")
    parser.add_argument("--no-lifespan", action="store_true", help="do not run the lifespan")
    parser.add_argument("--reload", action="store_true", help="restart when a module changes")
    parser.add_argument("--factory", action="store_true", help="the target is an app factory")
    parser.add_argument("--log-level", default="info", help="logging level (info)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tornado.asgi module:app [--host H] [--port P] [--workers N]
    [--reload]``: serve an ASGI application until SIGINT or SIGTERM.

    .. versionadded:: 7.0
    """
    args = _parser().parse_args(argv)
    if args.workers < 1:
        _parser().error("--workers must be at least 1")
    if args.reload and args.workers > 1:
        _parser().error("--reload serves with one process: drop --workers")
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    # As uvicorn does: the target's module is looked up from the current folder.
    sys.path.insert(0, os.getcwd())
    if args.fd is not None:
        sock = socket.socket(fileno=args.fd)
        sock.setblocking(False)
        sockets = [sock]
    else:
        sockets = bind_sockets(args.port, args.host)
    if args.workers > 1 and not _fork_workers(args.workers):
        return 0  # the parent: every worker has exited
    target: Any = import_app(args.app)
    app: ASGIApp = target() if args.factory else target
    try:
        asyncio.run(
            _serve_until_signalled(
                app, sockets, args.root_path, not args.no_lifespan, reload=args.reload
            )
        )
    except RuntimeError as e:
        gen_log.error("%s", e)
        return 3
    return 0


async def _serve_until_signalled(
    app: ASGIApp,
    sockets: list[socket.socket],
    root_path: str,
    lifespan: bool,
    *,
    reload: bool = False,
) -> None:
    loop = asyncio.get_running_loop()
    if reload:
        from tornado import autoreload

        # Watches the imported modules from this loop; on a change it
        # re-executes the command line (the sockets close on exec).
        autoreload.start()
    task = loop.create_task(serve(app, sockets=sockets, root_path=root_path, lifespan=lifespan))
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    addresses = ", ".join(
        "http://%s:%s" % s.getsockname()[:2] for s in sockets if s.family != socket.AF_UNIX
    )
    gen_log.info("Serving %s on %s", getattr(app, "__name__", type(app).__name__), addresses)
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    gen_log.info("Stopped")


def _fork_workers(count: int) -> bool:
    """Fork ``count`` workers; True in a worker, False in the parent once
    every worker has exited (the parent forwards SIGINT and SIGTERM)."""
    children: set[int] = set()
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            random.seed()  # workers must not share the parent's random state
            return True
        children.add(pid)

    def forward(signum: int, frame: object) -> None:
        for child in list(children):
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                children.discard(child)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            gen_log.warning("worker %d exited with %d", pid, code)
    return False
