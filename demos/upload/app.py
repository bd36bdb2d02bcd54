"""Upload demo: a streaming file upload handler.

Run it with ``python demos/upload/app.py --port 0 --dir /tmp/uploads``; it
prints ``serving on http://127.0.0.1:PORT/``.  Upload with::

    curl -T big.iso http://127.0.0.1:PORT/upload/big.iso

``PUT``/``POST /upload/<name>`` streams the request body to
``<dir>/<name>`` through `tornado.web.stream_request_body`: each piece is
written to a temporary file as it arrives, so the body is never held in
memory, and the file appears under its name only once complete.  The
answer is JSON with the size and SHA-256 of what was stored.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import signal
import tempfile
from typing import IO, Any

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler, stream_request_body

#: The largest upload accepted (the server's default limit is 100 MiB).
MAX_UPLOAD = 1024 * 1024 * 1024

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")


@stream_request_body
class UploadHandler(RequestHandler):
    """Stream one upload to disk."""

    def initialize(self, directory: str) -> None:  # type: ignore[override]
        self.directory = directory
        self.temp: IO[bytes] | None = None
        self.size = 0
        self.hasher = hashlib.sha256()

    def prepare(self) -> None:
        if self.request.method not in ("PUT", "POST"):
            return
        name = self.path_args[0]
        # The name becomes a file name: no separators, no dot files.
        if not _SAFE_NAME.fullmatch(name):
            raise HTTPError(400, "bad file name %r", name)
        self.request.connection.set_max_body_size(MAX_UPLOAD)  # type: ignore[union-attr]
        # Lives across callbacks (closed in put or _discard_partial), so no "with".
        self.temp = tempfile.NamedTemporaryFile(  # noqa: SIM115
            dir=self.directory, prefix=".upload-", delete=False
        )

    def data_received(self, chunk: bytes) -> None:
        assert self.temp is not None
        self.temp.write(chunk)
        self.size += len(chunk)
        self.hasher.update(chunk)

    def put(self, name: str) -> None:
        assert self.temp is not None
        self.temp.close()
        os.replace(self.temp.name, os.path.join(self.directory, name))
        self.temp = None
        self.write(
            {
                "name": name,
                "size": self.size,
                "sha256": self.hasher.hexdigest(),
                # Always 0: the body went to disk, not into the request.
                "buffered": len(self.request.body),
            }
        )

    post = put

    def on_finish(self) -> None:
        self._discard_partial()

    def on_connection_close(self) -> None:
        super().on_connection_close()
        self._discard_partial()

    def _discard_partial(self) -> None:
        # An upload cut short (or refused) leaves no half file behind.
        if self.temp is not None:
            self.temp.close()
            os.unlink(self.temp.name)
            self.temp = None


class ListHandler(RequestHandler):
    """The stored files and their sizes (``?all=1`` includes uploads in
    progress, stored as hidden temporary files)."""

    def initialize(self, directory: str) -> None:  # type: ignore[override]
        self.directory = directory

    def get(self) -> None:
        show_all = self.get_argument("all", "") == "1"
        files: dict[str, Any] = {
            name: os.path.getsize(os.path.join(self.directory, name))
            for name in sorted(os.listdir(self.directory))
            if show_all or not name.startswith(".")
        }
        self.write({"files": files})


def make_app(directory: str) -> Application:
    """The upload application storing files in ``directory``."""
    return Application(
        [
            (r"/", ListHandler, {"directory": directory}),
            (r"/upload/([^/]+)", UploadHandler, {"directory": directory}),
        ]
    )


async def main(port: int, directory: str) -> None:
    """Serve until SIGINT or SIGTERM."""
    os.makedirs(directory, exist_ok=True)
    sockets = bind_sockets(port, "127.0.0.1")
    server = HTTPServer(make_app(directory), max_body_size=MAX_UPLOAD)
    server.add_sockets(sockets)
    print(f"serving on http://127.0.0.1:{sockets[0].getsockname()[1]}/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    await server.close_all_connections()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "tornado-uploads"))
    args = parser.parse_args()
    asyncio.run(main(args.port, args.dir))
