"""ASGI both ways: Tornado applications under ASGI servers, ASGI
applications under Tornado.

- `ASGIAdapter` turns a `~tornado.web.Application` into an ASGI 3
  application, for uvicorn, hypercorn, daphne or any ASGI server::

      asgi_app = tornado.asgi.ASGIAdapter(make_app())
      # uvicorn mymodule:asgi_app

- `ASGIHandler` mounts any ASGI application (Starlette, FastAPI, Django...)
  inside an `~tornado.web.Application`, like
  `~tornado.web.FallbackHandler` does for WSGI::

      Application([(r"/api/.*", ASGIHandler, {"app": starlette_app})])

- `serve` runs an ASGI application on our `~tornado.httpserver.HTTPServer`;
  ``python -m tornado.asgi module:app --host 127.0.0.1 --port 8000`` does
  the same from the command line.

ASGI 3 with the HTTP and WebSocket spec 2.5 and lifespan 2.0.  A message
sent out of order raises `ASGIMessageError`, naming the message.

.. versionadded:: 7.0
"""

from __future__ import annotations

from tornado._asgi_adapter import ASGIAdapter
from tornado._asgi_common import ASGIMessageError
from tornado._asgi_handler import ASGIHandler, shutdown_lifespans
from tornado._asgi_serve import main, serve

__all__ = ["ASGIAdapter", "ASGIHandler", "ASGIMessageError", "main", "serve", "shutdown_lifespans"]

if __name__ == "__main__":
    import sys

    sys.exit(main())
