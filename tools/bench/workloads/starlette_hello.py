"""A Starlette hello world, served by hypercorn in the ``http2`` bench suite.

``python starlette_hello.py PORT`` serves it with hypercorn on
127.0.0.1:PORT.  Hypercorn's ``keep_alive_max_requests`` (1,000 by default)
is raised so that a long h2load run keeps its connections, as ours does.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hello(request: Any) -> PlainTextResponse:
    """Answer ``Hello, world``."""
    return PlainTextResponse("Hello, world")


app = Starlette(routes=[Route("/", hello)])


def main(port: int) -> None:
    """Serve ``app`` with hypercorn (HTTP/1.1 and h2c) on ``port``."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.loglevel = "WARNING"
    config.keep_alive_max_requests = 10**9
    asyncio.run(serve(app, config))  # type: ignore[arg-type]


if __name__ == "__main__":
    main(int(sys.argv[1]))
