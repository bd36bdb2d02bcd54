"""Run WSGI applications on Tornado's HTTP server.

`WSGIContainer` adapts a WSGI application (Flask, Django, a plain
function) to the request-callback interface of
`~tornado.httpserver.HTTPServer` and of `tornado.web.FallbackHandler`::

    container = WSGIContainer(simple_app, executor=ThreadPoolExecutor(4))
    server = HTTPServer(container)

WSGI is synchronous: without an ``executor``, the application runs on the
event loop's thread and blocks every other connection while it works.  Give
an executor (a thread pool) so that blocking applications run beside the
loop; the response body is then also iterated in the executor.

The whole response is buffered before it is sent (WSGI's streaming and
``write`` callable are not supported for incremental output).
"""

from __future__ import annotations

import concurrent.futures
import sys
from collections.abc import Callable, Iterable
from io import BytesIO
from types import TracebackType
from typing import Any

import tornado
from tornado import escape, httputil
from tornado.concurrent import dummy_executor
from tornado.ioloop import IOLoop
from tornado.log import access_log

__all__ = ["WSGIContainer"]

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType]
_StartResponse = Callable[..., Callable[[bytes], Any]]
_WSGIAppType = Callable[[dict[str, Any], _StartResponse], Iterable[bytes]]

_END = object()


#: Kept for code written against older Tornado, where the request class
#: lived here.
HTTPRequest = httputil.HTTPServerRequest


def to_wsgi_str(s: bytes) -> str:
    """Bytes as a WSGI environ string (PEP 3333: decoded as latin-1)."""
    return s.decode("latin1")


class WSGIContainer:
    """Serves a WSGI application as an HTTP request callback.

    ``executor`` (a `concurrent.futures.Executor`) runs the application and
    the iteration of its response; by default they run on the event loop's
    thread.
    """

    def __init__(
        self,
        wsgi_application: _WSGIAppType,
        executor: concurrent.futures.Executor | None = None,
    ) -> None:
        """Wrap ``wsgi_application``."""
        #: The WSGI callable being served.
        self.wsgi_application = wsgi_application
        self.executor: concurrent.futures.Executor = (
            executor if executor is not None else dummy_executor
        )

    def __call__(self, request: httputil.HTTPServerRequest) -> None:
        """Handle a complete request; the response is written when the
        application has produced it."""
        IOLoop.current().spawn_callback(self.handle_request, request)

    async def handle_request(self, request: httputil.HTTPServerRequest) -> None:
        """Run the application for ``request`` and write its response.

        An exception from the application is logged and answered with 500
        (without details) if no response was started.
        """
        state: dict[str, Any] = {}
        written: list[bytes] = []

        def start_response(
            status: str,
            headers: list[tuple[str, str]],
            exc_info: _ExcInfo | None = None,
        ) -> Callable[[bytes], Any]:
            state["status"] = status
            state["headers"] = headers
            return written.append

        loop = IOLoop.current()
        body_parts: list[bytes] = []
        try:
            app_response = await loop.run_in_executor(
                self.executor, self.wsgi_application, self.environ(request), start_response
            )
            try:
                iterator = iter(app_response)

                def next_chunk() -> Any:
                    return next(iterator, _END)

                while True:
                    chunk = await loop.run_in_executor(self.executor, next_chunk)
                    if chunk is _END:
                        break
                    body_parts.append(chunk)
            finally:
                close = getattr(app_response, "close", None)
                if close is not None:
                    close()
        except Exception:
            access_log.error(
                "Uncaught exception in WSGI application %s", request.uri, exc_info=True
            )
            state = {"status": "500 Internal Server Error", "headers": []}
            written.clear()
            body_parts.clear()
        if "status" not in state:
            raise Exception("WSGI app did not call start_response")

        body = b"".join(written) + b"".join(body_parts)
        status_code_text, _, reason = state["status"].partition(" ")
        status_code = int(status_code_text)
        headers: list[tuple[str, str]] = list(state["headers"])
        present = {name.lower() for name, _ in headers}
        if status_code != 304:
            if "content-length" not in present:
                headers.append(("Content-Length", str(len(body))))
            if "content-type" not in present:
                headers.append(("Content-Type", "text/html; charset=UTF-8"))
        if "server" not in present:
            headers.append(("Server", "TornadoServer/%s" % tornado.version))

        header_obj = httputil.HTTPHeaders()
        for name, value in headers:
            header_obj.add(name, value)
        assert request.connection is not None
        start_line = httputil.ResponseStartLine("HTTP/1.1", status_code, reason)
        request.connection.write_headers(start_line, header_obj, chunk=body)
        request.connection.finish()
        self._log(status_code, request)

    def environ(self, request: httputil.HTTPServerRequest) -> dict[str, Any]:
        """Return the WSGI environment for ``request`` (PEP 3333)."""
        host, port = httputil.split_host_and_port(request.host)
        if port is None:
            port = 443 if request.protocol == "https" else 80
        environ: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": to_wsgi_str(escape.url_unescape(request.path, encoding=None, plus=False)),
            "QUERY_STRING": request.query,
            "REMOTE_ADDR": request.remote_ip,
            "SERVER_NAME": host,
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": request.version,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": request.protocol,
            "wsgi.input": BytesIO(escape.utf8(request.body)),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": self.executor is not dummy_executor,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in request.headers.items():
            if name == "Content-Type":
                environ["CONTENT_TYPE"] = value
            elif name == "Content-Length":
                environ["CONTENT_LENGTH"] = value
            else:
                environ["HTTP_" + name.replace("-", "_").upper()] = value
        return environ

    def _log(self, status_code: int, request: httputil.HTTPServerRequest) -> None:
        if status_code < 400:
            level = 20
        elif status_code < 500:
            level = 30
        else:
            level = 40
        if access_log.isEnabledFor(level):
            access_log.log(
                level,
                "%d %s %.2fms",
                status_code,
                "%s %s (%s)" % (request.method, request.uri, request.remote_ip),
                1000.0 * request.request_time(),
            )
