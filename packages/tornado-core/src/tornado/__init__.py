"""Tornado-compatible web framework and asynchronous networking library.

This portion of the ``tornado`` package is owned by the ``tornado-core``
distribution.  The other distributions (``tornado-ioloop``, ``tornado-web``,
...) install their modules into the same package; ``__path__`` is extended
so that editable installs from separate source folders merge as well.
"""

import os as _os
import sys as _sys


def _extend_namespace_path(path: list[str], name: str) -> list[str]:
    """Add every ``<sys.path entry>/<name as folders>`` to *path* (pkgutil style).

    This is what `pkgutil.extend_path` does for plain folders, written out
    because importing `pkgutil` (and the `typing` module it pulls in) would
    double the import time of ``tornado.template``.  Zip and ``.pkg``
    entries are not supported: our distributions install as folders.
    ``tornado.platform`` (owned by tornado-ioloop) uses it as well.
    """
    parts = name.split(".")
    for entry in _sys.path:
        candidate = _os.path.join(entry or _os.curdir, *parts)
        if candidate not in path and _os.path.isdir(candidate):
            path.append(candidate)
    return path


__path__ = _extend_namespace_path(__path__, __name__)

#: The version of this release as a string, e.g. ``"7.0.0"``.
version = "7.0.0.dev0"

#: The version as a tuple that compares in release order.  The fourth
#: element is zero for a final release and negative for a pre-release,
#: so ``version_info >= (6, 5)`` holds for every release of ours.
version_info = (7, 0, 0, -100)

#: The submodules of the whole stack.  ``import tornado`` imports none of
#: them; ``tornado.web`` (attribute access) imports it on first use, like
#: ``from tornado import web``.  Each lives in its own distribution, so one
#: that is not installed raises AttributeError naming the distribution.
__all__ = [
    "auth",
    "autoreload",
    "concurrent",
    "curl_httpclient",
    "escape",
    "gen",
    "http1connection",
    "httpclient",
    "httpserver",
    "httputil",
    "ioloop",
    "iostream",
    "locale",
    "locks",
    "log",
    "netutil",
    "options",
    "platform",
    "process",
    "queues",
    "routing",
    "simple_httpclient",
    "tcpclient",
    "tcpserver",
    "template",
    "testing",
    "util",
    "web",
    "websocket",
    "wsgi",
]


def __getattr__(name: str) -> object:
    """Import the submodule *name* on first attribute access (PEP 562)."""
    if name not in __all__:
        raise AttributeError(f"module 'tornado' has no attribute {name!r}")
    import importlib

    try:
        return importlib.import_module("tornado." + name)
    except ModuleNotFoundError as e:
        if e.name != "tornado." + name:
            raise  # the module exists but one of its own imports is missing
        raise AttributeError(
            f"module 'tornado' has no attribute {name!r}: the distribution that "
            f"provides tornado.{name} is not installed (pip install tornado)"
        ) from e
