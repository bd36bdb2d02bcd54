"""A web framework with asynchronous request handling.

An `Application` maps URL patterns to `RequestHandler` subclasses; for each
request a new handler instance is created and the method named after the
HTTP verb (``get``, ``post``, ...) is called with the pattern's captured
groups.  Handler methods may be plain functions, ``async def`` coroutines or
`tornado.gen.coroutine` functions::

    class MainHandler(RequestHandler):
        def get(self):
            self.write("Hello, world")

    async def main():
        app = Application([(r"/", MainHandler)])
        app.listen(8888)
        await asyncio.Event().wait()

Besides routing, this module provides templates (`RequestHandler.render`),
cookies (plain and signed), cross-site request forgery protection
(``xsrf_cookies``), static files with cache-busting versions
(`StaticFileHandler`), localisation (`RequestHandler.locale`), UI modules,
output transforms such as gzip, and error pages that show tracebacks only
in debug mode.

Handlers are not thread-safe: call `RequestHandler` methods (and anything
that writes to the connection) from the event loop's thread only.

Performance notes: a keep-alive GET runs without creating a task when the
handler's ``prepare`` and verb method are plain functions (the coroutine
machinery is entered only at the first awaitable), application settings that
affect every request are read once when the application is built, and the
access log line is formatted only when its level is enabled.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextvars
import datetime
import functools
import hashlib
import hmac
import inspect
import numbers
import os.path
import re
import socket
import stat
import string
import sys
import threading
import time
import traceback
import types
import urllib.parse
import weakref
import zlib
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast
from urllib.parse import urlencode

import tornado
from tornado import escape, httputil
from tornado.escape import _unicode, to_unicode, utf8
from tornado.locale import Locale
from tornado.locale import get as _get_locale
from tornado.log import access_log, app_log, gen_log
from tornado.routing import (
    AnyMatches,
    DefaultHostMatches,
    HostMatches,
    ReversibleRouter,
    ReversibleRuleRouter,
    Rule,
    URLSpec,
    _RuleList,
)
from tornado.routing import PathMatches as _PathMatches

# The one XOR mask (also WebSocket framing's); the xsrf token is masked with
# it so the token in a page differs on every render (BREACH).  A documented
# internal of tornado-core (its README).
from tornado.util import ObjectDict, _websocket_mask

if TYPE_CHECKING:
    import http.cookies

    from tornado.httpserver import HTTPServer
    from tornado.template import BaseLoader

__all__ = [
    "DEFAULT_SIGNED_VALUE_MIN_VERSION",
    "DEFAULT_SIGNED_VALUE_VERSION",
    "MAX_SUPPORTED_SIGNED_VALUE_VERSION",
    "MIN_SUPPORTED_SIGNED_VALUE_VERSION",
    "Application",
    "ErrorHandler",
    "FallbackHandler",
    "Finish",
    "GZipContentEncoding",
    "HTTPError",
    "MissingArgumentError",
    "OutputTransform",
    "RedirectHandler",
    "RequestHandler",
    "StaticFileHandler",
    "TemplateModule",
    "UIModule",
    "URLSpec",
    "addslash",
    "authenticated",
    "create_signed_value",
    "decode_signed_value",
    "get_signature_key_version",
    "is_absolute",
    "removeslash",
    "stream_request_body",
    "url",
]

#: The oldest signed value format `decode_signed_value` understands.
MIN_SUPPORTED_SIGNED_VALUE_VERSION = 1
#: The newest signed value format this module can write and read.
MAX_SUPPORTED_SIGNED_VALUE_VERSION = 2
#: The format `create_signed_value` writes unless told otherwise.
DEFAULT_SIGNED_VALUE_VERSION = 2
#: The oldest format `decode_signed_value` accepts unless told otherwise.
DEFAULT_SIGNED_VALUE_MIN_VERSION = 1

_SERVER_HEADER = "TornadoServer/%s" % tornado.version

_HeaderValue = str | bytes | int | datetime.datetime
_T = TypeVar("_T")


class _ArgDefaultMarker:
    """Sentinel type: "no default given" for `RequestHandler.get_argument`."""


_ARG_DEFAULT: Any = _ArgDefaultMarker()

# Import time: `http.cookies`, `email.utils` and `mimetypes` (with what they
# pull in) cost a full-stack import more than this module's own code; they
# are imported where first used (setting a cookie, a conditional or static
# file request) instead of at the top.

# Formatting the Date header costs more than the rest of a small response's
# headers; it only changes once a second, so it is remembered per second.
_date_header_second = -1
_date_header_value = ""
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date_header() -> str:
    global _date_header_second, _date_header_value
    second = int(time.time())
    if second != _date_header_second:
        # RFC 9110 5.6.7 IMF-fixdate, as email.utils.formatdate(usegmt=True)
        # writes it, without importing the email package.
        t = time.gmtime(second)
        _date_header_value = "%s, %02d %s %04d %02d:%02d:%02d GMT" % (
            _WEEKDAYS[t.tm_wday],
            t.tm_mday,
            _MONTHS[t.tm_mon - 1],
            t.tm_year,
            t.tm_hour,
            t.tm_min,
            t.tm_sec,
        )
        _date_header_second = second
    return _date_header_value


# Response start lines are immutable tuples: one per (code, reason) serves
# every response.  Bounded, as reasons may be arbitrary strings.
_START_LINES: dict[tuple[int, str], httputil.ResponseStartLine] = {}
_START_LINES_MAX = 200

# The Etag hash (a name lookup instead of two attribute lookups per response).
_sha1 = hashlib.sha1

# Tasks started for handlers that await; asyncio keeps only weak
# references to tasks, so a strong one is held until each is done.
_running_tasks: set[asyncio.Task[None]] = set()


def _spawn(coro: Any) -> asyncio.Task[None]:
    task: asyncio.Task[None] = asyncio.ensure_future(coro)
    _running_tasks.add(task)
    task.add_done_callback(_running_tasks.discard)
    return task


@functools.cache
def _cookie_tools() -> tuple[type[http.cookies.Morsel[str]], http.cookies.SimpleCookie]:
    """The `~http.cookies.Morsel` class cookies are set with, and the coder
    whose ``value_encode`` quotes values the way browsers expect; made on
    the first `RequestHandler.set_cookie` (`http.cookies` is imported then).
    """
    import http.cookies

    class _CookieMorsel(http.cookies.Morsel[str]):
        """A `~http.cookies.Morsel` that also knows the ``Partitioned``
        attribute (CHIPS), which the standard library gained only in 3.14."""

        _reserved = {**http.cookies.Morsel._reserved, "partitioned": "Partitioned"}  # type: ignore[attr-defined]
        _flags = {*http.cookies.Morsel._flags, "partitioned"}  # type: ignore[attr-defined]

    # Known as tornado.web._CookieMorsel (see __getattr__), so that the
    # morsels of set_cookie pickle by name.
    _CookieMorsel.__qualname__ = "_CookieMorsel"
    globals()["_CookieMorsel"] = _CookieMorsel
    return _CookieMorsel, http.cookies.SimpleCookie()


if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        # The module attribute _CookieMorsel exists once made: resolving it
        # here makes it (unpickling in a fresh process looks it up).
        if name == "_CookieMorsel":
            return _cookie_tools()[0]
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _cookie_error(message: str) -> Exception:
    import http.cookies

    return http.cookies.CookieError(message)


# Controls (header injection) and characters beyond latin-1 (which the
# head cannot carry: refused here, as a clean 500, not when it is sent).
# Written as the complement of what is allowed: a class with the range up
# to U+10FFFF takes milliseconds to compile at import.
_HEADER_UNSAFE_RE = re.compile(r"[^\t\x20-\x7e\x80-\xff]")
_ARG_CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0e-\x1f]")
# Patterns of the less common paths (cookies, redirects, reasons, etags,
# origins, signed values) stay source strings, compiled by `re`'s own cache
# on first use rather than all at import.
_BROWSER_IGNORED = r"[\t\r\n]"
_REDIRECT_UNSAFE = r"[\x00-\x20\x7f]"
_SAFE_REASON = r"[^\x00-\x08\x0a-\x1f\x7f<>&\"]*"
_COOKIE_NAME_UNSAFE = r"[\x00-\x20\x7f;,=]"
_COOKIE_ATTR_UNSAFE = r"[\x00-\x1f\x7f;]"
_COOKIE_VALUE_UNSAFE = r"[\x00-\x1f\x7f]"
_ETAG_LIST = rb'\*|(?:W/)?"[^"]*"'


# Handler class -> whether a class after RequestHandler in its MRO (a mixin)
# defines __init__, which RequestHandler.__init__ must then call.
_COOPERATIVE_INIT: dict[type, bool] = {}


def _has_init_after_request_handler(cls: type) -> bool:
    mro = cls.__mro__
    return any(
        "__init__" in vars(base)
        for base in mro[mro.index(RequestHandler) + 1 :]
        if base is not object
    )


class RequestHandler:
    """Base class for HTTP request handlers.

    Subclasses define methods named after HTTP verbs (``get``, ``post``,
    ...); the application creates one instance per request and calls the
    method for the request's verb with the URL pattern's captured groups.
    Verbs outside `SUPPORTED_METHODS` get ``405 Method Not Allowed``.

    Override `initialize` to receive the keyword arguments of the URL spec,
    `prepare` for code that runs before every verb method and `on_finish`
    for code that runs after the response is sent.
    """

    #: The HTTP methods this handler accepts; others are answered with 405.
    SUPPORTED_METHODS: tuple[str, ...] = (
        "GET",
        "HEAD",
        "POST",
        "DELETE",
        "PATCH",
        "PUT",
        "OPTIONS",
    )

    _template_loaders: ClassVar[dict[str, BaseLoader]] = {}
    _template_loader_lock = threading.Lock()
    _stream_request_body = False

    path_args: list[str]
    path_kwargs: dict[str, str]
    _prepared_future: asyncio.Future[None] | None = None
    _active_modules: dict[str, UIModule]
    _new_cookie: dict[str, http.cookies.Morsel[str]]
    _headers: httputil.HTTPHeaders
    _locale: Locale
    _current_user: Any
    _xsrf_token: bytes
    _raw_xsrf_token: tuple[int | None, bytes, float]

    def __init__(
        self, application: Application, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> None:
        """Called by the application for each request; override `initialize`
        (which receives ``kwargs``) rather than this."""
        # Cooperative: mixins listed after RequestHandler get their
        # __init__ called (with no arguments), as in Tornado.  Most handler
        # classes have none, and skip the call (object.__init__ does nothing).
        cls = type(self)
        cooperative = _COOPERATIVE_INIT.get(cls)
        if cooperative is None:
            cooperative = _COOPERATIVE_INIT[cls] = _has_init_after_request_handler(cls)
        if cooperative:
            super().__init__()
        #: The `Application` serving this request.
        self.application = application
        #: The `~tornado.httputil.HTTPServerRequest` being handled.
        self.request = request
        self._headers_written = False
        self._finished = False
        self._auto_finish = True
        self._transforms: list[OutputTransform] = []
        self.path_args = []
        self.path_kwargs = {}
        # The UI methods and modules for templates; filled on first use
        # (see _HandlerUI: built here, inline, as cheaply as it gets).
        ui = _HandlerUI()
        _set_handler_ref(ui, weakref.ref(self))
        self.ui: ObjectDict = ui
        self.clear()
        connection = request.connection
        self._close_notified = False
        set_close_callback = getattr(connection, "set_close_callback", None)
        if set_close_callback is not None:
            set_close_callback(self._notify_connection_close)
        self.initialize(**kwargs)

    def _notify_connection_close(self) -> None:
        # Both the connection's close callback and the message delegate may
        # report the same close; the handler hears about it once.
        if not self._close_notified:
            self._close_notified = True
            self.on_connection_close()

    def _initialize(self) -> None:
        """Hook for subclass initialisation, called at the end of the
        constructor with the URL spec's keyword arguments (the third item
        of a handler tuple): a subclass declares them as parameters, as in
        ``def initialize(self, database): self.database = database``.
        The base takes none."""

    # Typed as taking anything, so that subclasses may declare whatever
    # parameters their URL specs pass.
    initialize: Callable[..., None] = _initialize

    @property
    def settings(self) -> dict[str, Any]:
        """The application's settings (``self.application.settings``)."""
        return self.application.settings

    def _unimplemented_method(self, *args: str, **kwargs: str) -> None:
        raise HTTPError(405)

    head: Callable[..., Awaitable[None] | None] = _unimplemented_method
    get: Callable[..., Awaitable[None] | None] = _unimplemented_method
    post: Callable[..., Awaitable[None] | None] = _unimplemented_method
    delete: Callable[..., Awaitable[None] | None] = _unimplemented_method
    patch: Callable[..., Awaitable[None] | None] = _unimplemented_method
    put: Callable[..., Awaitable[None] | None] = _unimplemented_method
    options: Callable[..., Awaitable[None] | None] = _unimplemented_method

    def prepare(self) -> Awaitable[None] | None:
        """Called before the verb method; may be a coroutine.

        Calling `finish` (or `redirect`, `send_error`) here ends the request
        without calling the verb method.
        """
        return None

    def on_finish(self) -> None:
        """Called after the response has been sent (for cleanup or logging).

        If it returns an awaitable, the awaitable is run in the background and
        its failure is logged.
        """

    def on_connection_close(self) -> None:
        """Called when the client closes the connection before the response is
        finished (useful for long polling).  Closing is only detected while the
        server is reading; the default fails a pending streamed body."""
        if _has_stream_request_body(type(self)):
            body_future = self.request._body_future
            if body_future is not None and not body_future.done():
                from tornado.iostream import StreamClosedError

                body_future.set_exception(StreamClosedError())
                body_future.exception()

    def clear(self) -> None:
        """Reset all headers and the body buffer (used before error pages)."""
        headers = httputil.HTTPHeaders()
        headers["Server"] = _SERVER_HEADER
        headers["Content-Type"] = "text/html; charset=UTF-8"
        headers["Date"] = _date_header()
        self._headers = headers
        self.set_default_headers()
        self._write_buffer: list[bytes] = []
        self._status_code = 200
        self._reason = "OK"

    def set_default_headers(self) -> None:
        """Hook to set headers at the start of every response (and again
        after `clear`, so error pages carry them too)."""

    def set_status(self, status_code: int, reason: str | None = None) -> None:
        """Set the response status code.

        ``reason`` is the phrase after the code; by default the standard one,
        or ``"Unknown"`` for codes without one.  A reason with control
        characters or any of ``<>&"`` becomes ``"Unknown"``.
        """
        self._status_code = status_code
        if reason is not None:
            reason = escape.native_str(reason)
            # A reason with control characters (header injection) or HTML
            # specials (it is echoed in error pages) is replaced, not sent.
            self._reason = reason if re.fullmatch(_SAFE_REASON, reason) else "Unknown"
        else:
            self._reason = httputil.responses.get(status_code, "Unknown")

    def get_status(self) -> int:
        """Return the response's status code."""
        return self._status_code

    def set_header(self, name: str, value: _HeaderValue) -> None:
        """Set response header ``name`` (replacing earlier values).

        Values may be `str`, `bytes` (latin-1), `int` or `datetime.datetime`
        (formatted as an HTTP date).  Raises `TypeError` for other types and
        `ValueError` for values with control characters (CR/LF injection).
        """
        if type(value) is str and _HEADER_UNSAFE_RE.search(value) is None:
            # The common case, checked inline: a safe str is stored as is.
            self._headers[name] = value
        else:
            self._headers[name] = self._convert_header_value(value)

    def add_header(self, name: str, value: _HeaderValue) -> None:
        """Add a further value for response header ``name`` (e.g. several
        ``Link`` headers); value rules as in `set_header`."""
        self._headers.add(name, self._convert_header_value(value))

    def clear_header(self, name: str) -> None:
        """Remove response header ``name`` (no error if it is not set)."""
        if name in self._headers:
            del self._headers[name]

    def _convert_header_value(self, value: _HeaderValue) -> str:
        if isinstance(value, str):
            converted = value
        elif isinstance(value, bytes):
            converted = value.decode("latin1")
        elif isinstance(value, numbers.Integral):
            return str(value)
        elif isinstance(value, datetime.datetime):
            return httputil.format_timestamp(value)
        else:
            raise TypeError("Unsupported header value %r" % (value,))
        if _HEADER_UNSAFE_RE.search(converted):
            raise ValueError("Unsafe header value %r" % converted)
        return converted

    # -- arguments ---------------------------------------------------------

    def get_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """Return the last value of argument ``name`` from the query or a form
        body, decoded to `str`.

        Without a ``default``, a missing argument raises
        `MissingArgumentError` (a 400).  ``strip`` removes surrounding
        whitespace.
        """
        return self._get_argument(name, default, self.request.arguments, strip)

    def get_arguments(self, name: str, strip: bool = True) -> list[str]:
        """Return every value of argument ``name`` (query and body); an empty
        list if it is absent."""
        if not isinstance(strip, bool):
            raise TypeError("strip must be a bool")
        return self._get_arguments(name, self.request.arguments, strip)

    def get_body_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """As `get_argument`, from the request body only."""
        return self._get_argument(name, default, self.request.body_arguments, strip)

    def get_body_arguments(self, name: str, strip: bool = True) -> list[str]:
        """As `get_arguments`, from the request body only."""
        return self._get_arguments(name, self.request.body_arguments, strip)

    def get_query_argument(self, name: str, default: Any = _ARG_DEFAULT, strip: bool = True) -> Any:
        """As `get_argument`, from the query string only."""
        return self._get_argument(name, default, self.request.query_arguments, strip)

    def get_query_arguments(self, name: str, strip: bool = True) -> list[str]:
        """As `get_arguments`, from the query string only."""
        return self._get_arguments(name, self.request.query_arguments, strip)

    def _get_argument(
        self, name: str, default: Any, source: dict[str, list[bytes]], strip: bool
    ) -> Any:
        values = self._get_arguments(name, source, strip)
        if not values:
            if default is _ARG_DEFAULT:
                raise MissingArgumentError(name)
            return default
        return values[-1]

    def _get_arguments(self, name: str, source: dict[str, list[bytes]], strip: bool) -> list[str]:
        values = []
        for raw in source.get(name, ()):
            value = self.decode_argument(raw, name=name)
            if isinstance(value, str):
                # Control characters in form values are a common vector for
                # log and header injection; they become spaces.
                value = _ARG_CONTROL_CHARS_RE.sub(" ", value)
            if strip:
                value = value.strip()
            values.append(value)
        return values

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        """Decode an argument or path group from bytes to `str` (UTF-8).

        Override to accept other encodings.  Raises `HTTPError` 400 for
        invalid UTF-8.
        """
        try:
            return _unicode(value)
        except UnicodeDecodeError:
            raise HTTPError(400, "Invalid unicode in %s: %r" % (name or "url", value[:40]))

    @property
    def cookies(self) -> dict[str, http.cookies.Morsel[str]]:
        """The request's cookies (``self.request.cookies``)."""
        return self.request.cookies

    # -- cookies -----------------------------------------------------------

    def get_cookie(self, name: str, default: str | None = None) -> str | None:
        """Return the value of request cookie ``name``, or ``default``."""
        cookies = self.request.cookies
        if name in cookies:
            return cookies[name].value
        return default

    def set_cookie(
        self,
        name: str,
        value: str | bytes,
        domain: str | None = None,
        expires: float | tuple[int, ...] | datetime.datetime | None = None,
        path: str | None = "/",
        expires_days: float | None = None,
        *,
        max_age: int | None = None,
        httponly: bool = False,
        secure: bool = False,
        samesite: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Set a cookie in the response.

        ``expires`` (a timestamp, time tuple or datetime) or ``expires_days``
        (from now) set the expiry, ``max_age`` the ``Max-Age`` in seconds;
        ``httponly``, ``secure`` and ``samesite`` (``"Strict"``, ``"Lax"``,
        ``"None"``) set the corresponding attributes.  Other keyword
        arguments are set as attributes by name: ``partitioned=True`` adds
        ``Partitioned`` (CHIPS); the others are deprecated.
        Raises `http.cookies.CookieError` for a name with whitespace, control
        characters or ``;,=`` and for unknown attributes, `ValueError` for a
        value with control characters or a ``max_age`` that is not an int.
        """
        name = escape.native_str(name)
        value = escape.native_str(value)
        if not name or re.search(_COOKIE_NAME_UNSAFE, name):
            raise _cookie_error("Invalid cookie attribute name %r" % name)
        if re.search(_COOKIE_VALUE_UNSAFE, value):
            raise ValueError("Invalid cookie %r: %r" % (name, value))
        for attribute, text in (("domain", domain), ("path", path), ("samesite", samesite)):
            if text is not None and re.search(_COOKIE_ATTR_UNSAFE, text):
                raise _cookie_error("Invalid cookie attribute %s %r" % (attribute, text))
        if max_age is not None and not (isinstance(max_age, int) and not isinstance(max_age, bool)):
            # A string here could smuggle extra attributes into the header.
            raise ValueError("max_age must be an int, got %r" % (max_age,))
        if not hasattr(self, "_new_cookie"):
            self._new_cookie = {}
        morsel_class, coder = _cookie_tools()
        morsel = morsel_class()
        real_value, coded_value = coder.value_encode(value)
        morsel.set(name, real_value, coded_value)
        if domain:
            morsel["domain"] = domain
        if expires_days is not None and not expires:
            expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=expires_days)
        if expires:
            morsel["expires"] = httputil.format_timestamp(expires)
        if path:
            morsel["path"] = path
        if max_age:
            morsel["max-age"] = str(max_age)
        if httponly:
            morsel["httponly"] = True
        if secure:
            morsel["secure"] = True
        if samesite:
            morsel["samesite"] = samesite
        for key, attr in kwargs.items():
            if isinstance(attr, str) and re.search(_COOKIE_ATTR_UNSAFE, attr):
                raise _cookie_error("Invalid cookie attribute %s %r" % (key, attr))
            if key == "max_age":
                key = "max-age"
            if key in ("httponly", "secure", "partitioned") and not attr:
                continue
            morsel[key] = attr
        # A later set_cookie of the same name replaces the earlier one.
        self._new_cookie.pop(name, None)
        self._new_cookie[name] = morsel

    def clear_cookie(self, name: str, **kwargs: Any) -> None:
        """Delete cookie ``name`` by sending it expired.

        Pass the same ``path``/``domain`` (and other attributes) it was set
        with.  Raises `TypeError` if ``expires`` or ``max_age`` is given.
        """
        for excluded in ("expires", "max_age"):
            if excluded in kwargs:
                raise TypeError(f"clear_cookie() got an unexpected keyword argument '{excluded}'")
        expires = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=365)
        self.set_cookie(name, value="", expires=expires, **kwargs)

    def clear_all_cookies(self, **kwargs: Any) -> None:
        """Delete every cookie the request sent (see `clear_cookie`)."""
        for name in self.request.cookies:
            self.clear_cookie(name, **kwargs)

    def set_signed_cookie(
        self,
        name: str,
        value: str | bytes,
        expires_days: float | None = 30,
        version: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Set a cookie signed with the ``cookie_secret`` setting so it cannot
        be forged; read it with `get_signed_cookie`.

        The value is signed, not encrypted: the user can read it.  Raises
        `Exception` if ``cookie_secret`` is not set.
        """
        self.set_cookie(
            name,
            self.create_signed_value(name, value, version=version),
            expires_days=expires_days,
            **kwargs,
        )

    set_secure_cookie = set_signed_cookie

    def create_signed_value(
        self, name: str, value: str | bytes, version: int | None = None
    ) -> bytes:
        """Sign ``value`` for cookie ``name`` with the application's secret
        (for values stored somewhere other than a cookie).

        With a dict ``cookie_secret`` the ``key_version`` setting picks the
        key.  Raises `Exception` if a needed setting is missing.
        """
        self.require_setting("cookie_secret", "secure cookies")
        secret = self.application.settings["cookie_secret"]
        key_version = None
        if isinstance(secret, dict):
            if self.application.settings.get("key_version") is None:
                raise Exception("key_version setting must be used for secret_key dicts")
            key_version = self.application.settings["key_version"]
        return create_signed_value(secret, name, value, version=version, key_version=key_version)

    def get_signed_cookie(
        self,
        name: str,
        value: str | None = None,
        max_age_days: float = 31,
        min_version: int | None = None,
    ) -> bytes | None:
        """Return the verified value of signed cookie ``name`` (as bytes), or
        None if it is missing, forged, tampered with or older than
        ``max_age_days``.

        ``value`` verifies a given string instead of the request's cookie.
        Raises `Exception` if ``cookie_secret`` is not set.
        """
        self.require_setting("cookie_secret", "secure cookies")
        if value is None:
            value = self.get_cookie(name)
        return decode_signed_value(
            self.application.settings["cookie_secret"],
            name,
            value,
            max_age_days=max_age_days,
            min_version=min_version,
        )

    get_secure_cookie = get_signed_cookie

    def get_signed_cookie_key_version(self, name: str, value: str | None = None) -> int | None:
        """Return the key version a signed cookie was signed with (0 when it
        names none), or None if the cookie is absent."""
        self.require_setting("cookie_secret", "secure cookies")
        if value is None:
            value = self.get_cookie(name)
        if value is None:
            return None
        return get_signature_key_version(value)

    get_secure_cookie_key_version = get_signed_cookie_key_version

    # -- output --------------------------------------------------------------

    def redirect(self, url: str, permanent: bool = False, status: int | None = None) -> None:
        """Send a redirect to ``url`` and finish.

        The status is 302, 301 with ``permanent``, or ``status`` (which must
        be a 3xx code, else `ValueError`).  Raises `Exception` if headers
        were already sent.
        """
        if self._headers_written:
            raise Exception("Cannot redirect after headers have been written")
        if status is None:
            status = 301 if permanent else 302
        elif not (isinstance(status, int) and 300 <= status <= 399):
            raise ValueError("redirect status must be a 3xx code, got %r" % (status,))
        self.set_status(status)
        self.set_header("Location", utf8(url))
        self.finish()

    def write(self, chunk: str | bytes | dict[str, Any]) -> None:
        """Add ``chunk`` to the output buffer (sent by `flush` or `finish`).

        A `dict` is written as JSON with ``Content-Type:
        application/json``.  Lists are refused (`TypeError`), as is anything
        but str, bytes and dict; writing after `finish` raises
        `RuntimeError`.
        """
        if self._finished:
            raise RuntimeError("Cannot write() after finish()")
        if isinstance(chunk, bytes):
            self._write_buffer.append(chunk)
            return
        if isinstance(chunk, str):
            self._write_buffer.append(chunk.encode("utf-8"))
            return
        if isinstance(chunk, dict):
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self._write_buffer.append(escape.json_encode(chunk).encode("utf-8"))
            return
        message = "write() only accepts bytes, unicode, and dict objects"
        if isinstance(chunk, list):
            # A top-level JSON array can be read cross-site by old browsers.
            message += ". Lists not accepted for security reasons; wrap them in a dict"
        raise TypeError(message)

    def render(self, template_name: str, **kwargs: Any) -> asyncio.Future[None]:
        """Render template ``template_name`` with ``kwargs`` (plus the
        `get_template_namespace` names) and finish with it.

        CSS and JavaScript required by UI modules used in the template are
        inserted before ``</head>`` and ``</body>``.  Raises `RuntimeError`
        after `finish`.
        """
        if self._finished:
            raise RuntimeError("Cannot render() after finish()")
        html = self.render_string(template_name, **kwargs)

        js_embed: list[bytes] = []
        js_files: list[str] = []
        css_embed: list[bytes] = []
        css_files: list[str] = []
        html_heads: list[bytes] = []
        html_bodies: list[bytes] = []

        def add_files(part: Any, into: list[str]) -> None:
            # A module may name one file or give a list of them.
            if part:
                if isinstance(part, (str, bytes)):
                    into.append(_unicode(part))
                else:
                    into.extend(part)

        def add_text(part: Any, into: list[bytes]) -> None:
            if part:
                into.append(utf8(part))

        for module in getattr(self, "_active_modules", {}).values():
            add_text(module.embedded_javascript(), js_embed)
            add_files(module.javascript_files(), js_files)
            add_text(module.embedded_css(), css_embed)
            add_files(module.css_files(), css_files)
            add_text(module.html_head(), html_heads)
            add_text(module.html_body(), html_bodies)

        def before(marker: bytes, insert: bytes, last: bool) -> None:
            nonlocal html
            at = html.rindex(marker) if last else html.index(marker)
            html = html[:at] + insert + b"\n" + html[at:]

        if js_files:
            before(b"</body>", utf8(self.render_linked_js(js_files)), True)
        if js_embed:
            before(b"</body>", utf8(self.render_embed_js(js_embed)), True)
        if css_files:
            before(b"</head>", utf8(self.render_linked_css(css_files)), False)
        if css_embed:
            before(b"</head>", utf8(self.render_embed_css(css_embed)), False)
        if html_heads:
            before(b"</head>", b"".join(html_heads), False)
        if html_bodies:
            before(b"</body>", b"".join(html_bodies), True)
        return self.finish(html)

    def _unique_urls(self, paths: Iterable[str]) -> list[str]:
        urls: list[str] = []
        seen: set[str] = set()
        for path in paths:
            if not is_absolute(path):
                path = self.static_url(path)
            if path not in seen:
                seen.add(path)
                urls.append(path)
        return urls

    def render_linked_js(self, js_files: Iterable[str]) -> str:
        """Return ``<script>`` tags for ``js_files`` (relative paths go
        through `static_url`; duplicates are dropped)."""
        return "".join(
            '<script src="' + escape.xhtml_escape(url) + '" type="text/javascript"></script>'
            for url in self._unique_urls(js_files)
        )

    def render_embed_js(self, js_embed: Iterable[bytes]) -> bytes:
        """Return a ``<script>`` block holding the embedded JavaScript parts."""
        return (
            b'<script type="text/javascript">\n//<![CDATA[\n'
            + b"\n".join(js_embed)
            + b"\n//]]>\n</script>"
        )

    def render_linked_css(self, css_files: Iterable[str]) -> str:
        """Return ``<link rel="stylesheet">`` tags for ``css_files``."""
        return "".join(
            '<link href="' + escape.xhtml_escape(url) + '" type="text/css" rel="stylesheet"/>'
            for url in self._unique_urls(css_files)
        )

    def render_embed_css(self, css_embed: Iterable[bytes]) -> bytes:
        """Return a ``<style>`` block holding the embedded CSS parts."""
        return b'<style type="text/css">\n' + b"\n".join(css_embed) + b"\n</style>"

    def render_string(self, template_name: str, **kwargs: Any) -> bytes:
        """Render template ``template_name`` and return it as bytes (without
        finishing).

        Templates are looked up in `get_template_path`, or next to the
        module of the calling handler when that is None.  Raises the
        template engine's errors (`IOError` for a missing file,
        `tornado.template.ParseError`).
        """
        template_path = self.get_template_path()
        if not template_path:
            frame = sys._getframe(0)
            this_file = frame.f_code.co_filename
            while frame.f_code.co_filename == this_file and frame.f_back is not None:
                frame = frame.f_back
            template_path = os.path.dirname(frame.f_code.co_filename)
        with RequestHandler._template_loader_lock:
            loader = RequestHandler._template_loaders.get(template_path)
            if loader is None:
                loader = self.create_template_loader(template_path)
                RequestHandler._template_loaders[template_path] = loader
        template = loader.load(template_name)
        namespace = self.get_template_namespace()
        namespace.update(kwargs)
        return template.generate(**namespace)

    def get_template_namespace(self) -> dict[str, Any]:
        """Return the names every template sees: ``handler``, ``request``,
        ``current_user``, ``locale``, ``_``, ``pgettext``, ``static_url``,
        ``xsrf_form_html``, ``reverse_url`` and the UI methods and modules.
        Override to add more."""
        user_locale = self.locale
        namespace: dict[str, Any] = {
            "handler": self,
            "request": self.request,
            "current_user": self.current_user,
            "locale": user_locale,
            "_": user_locale.translate,
            "pgettext": user_locale.pgettext,
            "static_url": self.static_url,
            "xsrf_form_html": self.xsrf_form_html,
            "reverse_url": self.reverse_url,
        }
        ui = self.ui
        if isinstance(ui, _HandlerUI):
            # Its entries, read straight from the dict (update() would go
            # through the overridden keys() and __getitem__ per entry).
            ui._fill()
            namespace.update(dict.items(ui))
        else:
            namespace.update(ui)
        return namespace

    def create_template_loader(self, template_path: str) -> BaseLoader:
        """Return the template loader for ``template_path``: the
        ``template_loader`` setting if given, else a `tornado.template.Loader`
        configured by the ``autoescape`` and ``template_whitespace``
        settings."""
        from tornado import template

        settings = self.application.settings
        if "template_loader" in settings:
            loader: BaseLoader = settings["template_loader"]
            return loader
        kwargs: dict[str, Any] = {}
        if "autoescape" in settings:
            kwargs["autoescape"] = settings["autoescape"]
        if "template_whitespace" in settings:
            kwargs["whitespace"] = settings["template_whitespace"]
        return template.Loader(template_path, **kwargs)

    def flush(self, include_footers: bool = False) -> asyncio.Future[None]:
        """Send the buffered output to the client (headers first, on the first
        call).

        Returns a future that resolves when the data has been handed to the
        network (await it for flow control).  Raises `RuntimeError` once the
        request is finished.
        """
        connection = self.request.connection
        assert connection is not None
        chunk = b"".join(self._write_buffer)
        self._write_buffer = []
        if not self._headers_written:
            self._headers_written = True
            headers = self._headers
            status_code = self._status_code
            for transform in self._transforms:
                status_code, headers, chunk = transform.transform_first_chunk(
                    status_code, headers, chunk, include_footers
                )
            if self.request.method == "HEAD":
                chunk = b""
            if hasattr(self, "_new_cookie"):
                for morsel in self._new_cookie.values():
                    headers.add("Set-Cookie", morsel.OutputString(None))
            reason = self._reason
            start_line = _START_LINES.get((status_code, reason))
            if start_line is None:
                start_line = httputil.ResponseStartLine("HTTP/1.1", status_code, reason)
                if len(_START_LINES) < _START_LINES_MAX:
                    _START_LINES[status_code, reason] = start_line
            return connection.write_headers(start_line, headers, chunk)
        for transform in self._transforms:
            chunk = transform.transform_chunk(chunk, include_footers)
        if self.request.method != "HEAD":
            return connection.write(chunk)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    def finish(self, chunk: str | bytes | dict[str, Any] | None = None) -> asyncio.Future[None]:
        """Finish the response, writing ``chunk`` first if given.

        Adds ``Etag`` (and answers 304 when it matches ``If-None-Match``) and
        ``Content-Length`` when possible.  Returns a future that resolves
        when the last data has been handed to the network.  Raises
        `RuntimeError` if called twice.
        """
        if self._finished:
            raise RuntimeError("finish() called twice")
        if chunk is not None:
            self.write(chunk)
        if not self._headers_written:
            status = self._status_code
            if (
                status == 200
                and self.request.method in ("GET", "HEAD")
                and "Etag" not in self._headers
            ):
                self.set_etag_header()
                if self.check_etag_header():
                    self._write_buffer = []
                    self.set_status(304)
                    status = 304
            if status in (204, 304) or 100 <= status < 200:
                if self._write_buffer and any(self._write_buffer):
                    raise RuntimeError("Cannot send body with %s" % status)
                self._write_buffer = []
                self._clear_representation_headers()
            elif "Content-Length" not in self._headers:
                self._headers["Content-Length"] = str(sum(map(len, self._write_buffer)))
        connection = self.request.connection
        assert connection is not None
        set_close_callback = getattr(connection, "set_close_callback", None)
        if set_close_callback is not None:
            # The handler no longer cares; also breaks a reference cycle.
            set_close_callback(None)
        future = self.flush(include_footers=True)
        connection.finish()
        self._log()
        self._finished = True
        on_finish: Callable[[], Any] = self.on_finish
        result = on_finish()
        if result is not None and inspect.isawaitable(result):
            _spawn(self._await_quietly(result, "on_finish"))
        self._break_cycles()
        return future

    async def _await_quietly(self, awaitable: Awaitable[Any], what: str) -> None:
        try:
            await awaitable
        except Exception:
            app_log.error("Exception in %s %s", what, self._request_summary(), exc_info=True)

    def _clear_representation_headers(self) -> None:
        # 204 and 304 responses describe no body: headers about one would lie.
        for name in ("Content-Encoding", "Content-Language", "Content-Type"):
            self.clear_header(name)

    def _break_cycles(self) -> None:
        # UI modules point back at the handler; drop them so the handler and
        # request are freed without waiting for the cycle collector.
        ui = self.ui
        if type(ui) is _HandlerUI and ui._filled is not None:
            ui._release()
        self.__dict__.pop("_active_modules", None)

    def detach(self) -> Any:
        """Take over the connection's stream (for protocols such as
        WebSocket); the handler is finished and the HTTP layer lets go.
        Returns the `~tornado.iostream.IOStream`."""
        self._finished = True
        return self.request.connection.detach()  # type: ignore[union-attr]

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        """Send an error page for ``status_code`` (rendered by `write_error`).

        ``reason`` sets the reason phrase; ``exc_info`` (a `sys.exc_info`
        triple) is passed on to `write_error`.  If headers were already
        sent, the connection is just finished.
        """
        if self._headers_written:
            gen_log.error("Cannot send error response after headers written")
            if not self._finished:
                try:
                    self.finish()
                except Exception:
                    gen_log.error("Failed to flush partial response", exc_info=True)
            return
        self.clear()
        reason = kwargs.get("reason")
        if "exc_info" in kwargs:
            exception = kwargs["exc_info"][1]
            if isinstance(exception, HTTPError) and exception.reason:
                reason = exception.reason
        self.set_status(status_code, reason=reason)
        try:
            self.write_error(status_code, **kwargs)
        except Exception:
            app_log.error("Uncaught exception in write_error", exc_info=True)
        if not self._finished:
            self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Write the error page body; override for custom error pages.

        With the ``serve_traceback`` setting (part of ``debug``) and an
        ``exc_info`` keyword, the page is the plain-text traceback;
        otherwise a minimal HTML page with the code and reason, never any
        exception detail.
        """
        if status_code in (204, 304) or 100 <= status_code < 200:
            # These responses have no body (e.g. raise HTTPError(204)).
            self.finish()
        elif self.settings.get("serve_traceback") and "exc_info" in kwargs:
            self.set_header("Content-Type", "text/plain")
            for line in traceback.format_exception(*kwargs["exc_info"]):
                self.write(line)
            self.finish()
        else:
            message = escape.xhtml_escape(self._reason)
            self.finish(
                "<html><title>%d: %s</title><body>%d: %s</body></html>"
                % (status_code, message, status_code, message)
            )

    # -- users, locales ------------------------------------------------------

    @property
    def locale(self) -> Locale:
        """The locale for this request: `get_user_locale`, or failing that
        `get_browser_locale`.  May be assigned."""
        try:
            return self._locale
        except AttributeError:
            user_locale = self.get_user_locale()
            self._locale = user_locale if user_locale is not None else self.get_browser_locale()
            return self._locale

    @locale.setter
    def locale(self, value: Locale) -> None:
        self._locale = value

    def get_user_locale(self) -> Locale | None:
        """Override to choose the locale from the user's preferences; None
        (the default) falls back to the ``Accept-Language`` header."""
        return None

    def get_browser_locale(self, default: str = "en_US") -> Locale:
        """Return the best supported locale from ``Accept-Language`` (quality
        values respected), or ``default``."""
        header = self.request.headers.get("Accept-Language")
        if header:
            ranked: list[tuple[str, float]] = []
            for language in header.split(","):
                parts = language.strip().split(";")
                score = 1.0
                if len(parts) > 1 and parts[1].strip().startswith("q="):
                    try:
                        score = float(parts[1].strip()[2:])
                        if score < 0:
                            raise ValueError()
                    except (ValueError, TypeError):
                        score = 0.0
                if score > 0:
                    ranked.append((parts[0], score))
            if ranked:
                ranked.sort(key=lambda pair: pair[1], reverse=True)
                return _get_locale(*[code for code, _ in ranked])
        return _get_locale(default)

    @property
    def current_user(self) -> Any:
        """The authenticated user: the result of `get_current_user` (computed
        once), or whatever was assigned (e.g. in an async `prepare`)."""
        try:
            return self._current_user
        except AttributeError:
            self._current_user = self.get_current_user()
            return self._current_user

    @current_user.setter
    def current_user(self, value: Any) -> None:
        self._current_user = value

    def get_current_user(self) -> Any:
        """Override to identify the user (e.g. from a signed cookie); None
        means nobody is logged in."""
        return None

    def get_login_url(self) -> str:
        """The URL `authenticated` redirects to: the ``login_url`` setting.
        Raises `Exception` if it is not set."""
        self.require_setting("login_url", "@tornado.web.authenticated")
        login_url: str = self.application.settings["login_url"]
        return login_url

    def get_template_path(self) -> str | None:
        """The template folder: the ``template_path`` setting (None means
        next to the calling module)."""
        path: str | None = self.application.settings.get("template_path")
        return path

    # -- xsrf ----------------------------------------------------------------

    @property
    def xsrf_token(self) -> bytes:
        """The token that forms must echo (``_xsrf`` argument or
        ``X-XSRFToken`` header) when ``xsrf_cookies`` is on.

        Reading it sets the ``_xsrf`` cookie if the request had none.  The
        version-2 form is masked anew on every request (defeats BREACH);
        ``xsrf_cookie_version`` 1 gives the plain hex token.  Raises
        `ValueError` for an unknown version.
        """
        try:
            return self._xsrf_token
        except AttributeError:
            pass
        version, token, timestamp = self._get_raw_xsrf_token()
        output_version = self.settings.get("xsrf_cookie_version", 2)
        cookie_kwargs = dict(self.settings.get("xsrf_cookie_kwargs", {}))
        if output_version == 1:
            self._xsrf_token = binascii.b2a_hex(token)
        elif output_version == 2:
            mask = os.urandom(4)
            self._xsrf_token = b"|".join(
                [
                    b"2",
                    binascii.b2a_hex(mask),
                    binascii.b2a_hex(_websocket_mask(mask, token)),
                    utf8(str(int(timestamp))),
                ]
            )
        else:
            raise ValueError("unknown xsrf cookie version %d" % output_version)
        if version is None:
            if self.current_user and "expires_days" not in cookie_kwargs:
                cookie_kwargs["expires_days"] = 30
            cookie_name = self.settings.get("xsrf_cookie_name", "_xsrf")
            self.set_cookie(cookie_name, self._xsrf_token, **cookie_kwargs)
        return self._xsrf_token

    def _get_raw_xsrf_token(self) -> tuple[int | None, bytes, float]:
        """Return ``(version, token, timestamp)`` from the xsrf cookie, or a
        fresh random token with version None when there is no valid cookie."""
        try:
            return self._raw_xsrf_token
        except AttributeError:
            pass
        cookie_name = self.settings.get("xsrf_cookie_name", "_xsrf")
        cookie = self.get_cookie(cookie_name)
        version: int | None = None
        token: bytes | None = None
        timestamp: float | None = None
        if cookie:
            version, token, timestamp = self._decode_xsrf_token(cookie)
        if token is None or timestamp is None:
            version, token, timestamp = None, os.urandom(16), time.time()
        self._raw_xsrf_token = (version, token, timestamp)
        return self._raw_xsrf_token

    def _decode_xsrf_token(self, cookie: str) -> tuple[int | None, bytes | None, float | None]:
        """Parse an xsrf token in either format; ``(None, None, None)`` if it
        is malformed."""
        try:
            if cookie.startswith("2|"):
                _, mask_hex, masked_hex, timestamp_text = cookie.split("|")
                mask = binascii.a2b_hex(utf8(mask_hex))
                if len(mask) != 4:
                    return None, None, None
                token = _websocket_mask(mask, binascii.a2b_hex(utf8(masked_hex)))
                return 2, token, int(timestamp_text)
            if "|" in cookie:
                return None, None, None
            try:
                token = binascii.a2b_hex(utf8(cookie))
            except (binascii.Error, TypeError):
                token = utf8(cookie)
            return 1, token, int(time.time())
        except Exception:
            gen_log.debug("Uncaught exception in _decode_xsrf_token", exc_info=True)
            return None, None, None

    def check_xsrf_cookie(self) -> None:
        """Check that the request's ``_xsrf`` argument (or ``X-XSRFToken`` /
        ``X-CSRFToken`` header) matches the ``_xsrf`` cookie.

        Called automatically for non-GET/HEAD/OPTIONS requests when the
        ``xsrf_cookies`` setting is on.  Raises `HTTPError` 403 when the
        token is missing, malformed or different.
        """
        token = (
            self.get_argument("_xsrf", None)
            or self.request.headers.get("X-Xsrftoken")
            or self.request.headers.get("X-Csrftoken")
        )
        if not token:
            raise HTTPError(403, "'_xsrf' argument missing from POST")
        _, decoded, _ = self._decode_xsrf_token(token)
        _, expected, _ = self._get_raw_xsrf_token()
        if not decoded:
            raise HTTPError(403, "'_xsrf' argument has invalid format")
        if not hmac.compare_digest(decoded, expected):
            raise HTTPError(403, "XSRF cookie does not match POST argument")

    def _check_cross_origin(self) -> None:
        """Refuse unsafe requests that a browser sent from another origin
        (the ``cross_origin_protection`` setting).

        ``Sec-Fetch-Site`` decides when present: ``same-origin`` and ``none``
        pass, anything else needs a trusted ``Origin``.  Without it, a
        request with no ``Origin`` (not from a browser) passes, and an
        ``Origin`` must be this server's own or trusted
        (`check_trusted_origin`).  Raises `HTTPError` 403.
        """
        headers = self.request.headers
        site = headers.get("Sec-Fetch-Site")
        origin = headers.get("Origin")
        if site is not None:
            if site in ("same-origin", "none"):
                return
            if origin is not None and self.check_trusted_origin(origin):
                return
            raise HTTPError(
                403,
                "Cross-origin request with Sec-Fetch-Site %s from origin %r not allowed",
                site,
                origin,
            )
        if origin is None:
            return
        if origin != "null":
            try:
                parts = urllib.parse.urlsplit(origin)
            except ValueError:
                parts = None
            if (
                parts is not None
                and parts.scheme.lower() == self.request.protocol
                and parts.netloc.lower() == self.request.host.lower()
            ):
                return
            if self.check_trusted_origin(origin):
                return
        raise HTTPError(403, "Cross-origin request: Origin %r not allowed", origin)

    def check_trusted_origin(self, origin: str) -> bool:
        """Whether a cross-origin ``Origin`` may make unsafe requests (with
        ``cross_origin_protection``): by default, an exact entry of the
        ``trusted_origins`` setting.  Override for patterns."""
        return origin in self.application.settings.get("trusted_origins", ())

    def xsrf_form_html(self) -> str:
        """Return a hidden ``<input name="_xsrf">`` for forms (use it in every
        POST form when ``xsrf_cookies`` is on)."""
        return (
            '<input type="hidden" name="_xsrf" value="'
            + escape.xhtml_escape(self.xsrf_token)
            + '"/>'
        )

    # -- URLs ----------------------------------------------------------------

    def static_url(self, path: str, include_host: bool | None = None, **kwargs: Any) -> str:
        """Return the URL of static file ``path`` with a ``?v=`` content hash
        (so it can be cached for long).

        ``include_host`` makes it absolute (default: the handler's
        ``include_host`` attribute).  Raises `Exception` if ``static_path``
        is not set.
        """
        self.require_setting("static_path", "static_url")
        handler_class = self.settings.get("static_handler_class", StaticFileHandler)
        if include_host is None:
            include_host = getattr(self, "include_host", False)
        base = self.request.protocol + "://" + self.request.host if include_host else ""
        static_url: str = handler_class.make_static_url(self.settings, path, **kwargs)
        return base + static_url

    def require_setting(self, name: str, feature: str = "this feature") -> None:
        """Raise `Exception` unless application setting ``name`` is set."""
        if not self.application.settings.get(name):
            raise Exception(
                "You must define the '%s' setting in your application to use %s" % (name, feature)
            )

    def reverse_url(self, name: str, *args: Any) -> str:
        """Return the URL of the handler named ``name`` (see
        `Application.reverse_url`)."""
        return self.application.reverse_url(name, *args)

    # -- etags ---------------------------------------------------------------

    def compute_etag(self) -> str | None:
        """Return the ``Etag`` for the response (a hash of the body by
        default), or None to send none."""
        buffer = self._write_buffer
        hasher = _sha1(buffer[0] if len(buffer) == 1 else b"".join(buffer))
        return '"' + hasher.hexdigest() + '"'

    def set_etag_header(self) -> None:
        """Set the ``Etag`` header from `compute_etag` (if not None)."""
        etag = self.compute_etag()
        if etag is not None:
            self.set_header("Etag", etag)

    def check_etag_header(self) -> bool:
        """Whether the response's ``Etag`` matches the request's
        ``If-None-Match`` (a list of tags or ``*``; weak comparison)."""
        request_headers = self.request.headers
        # The common case, answered with one lookup: nothing to compare.
        if "If-None-Match" not in request_headers:
            return False
        if_none_match = request_headers.get("If-None-Match")
        if not if_none_match:
            return False
        computed = utf8(self._headers.get("Etag", ""))
        if not computed:
            return False
        candidates = re.findall(_ETAG_LIST, utf8(if_none_match))
        if not candidates:
            return False
        if candidates[0] == b"*":
            return True
        computed = computed.removeprefix(b"W/")
        return any(candidate.removeprefix(b"W/") == computed for candidate in candidates)

    # -- execution -----------------------------------------------------------

    def _execute(
        self, transforms: list[OutputTransform], *args: bytes, **kwargs: bytes
    ) -> asyncio.Task[None] | None:
        """Run the request: check, ``prepare``, verb method, finish.

        Runs synchronously as long as every step does; from the first
        awaitable on, the rest runs in a task, which is returned.
        """
        self._transforms = transforms
        try:
            method = self.request.method
            if method not in self.SUPPORTED_METHODS:
                raise HTTPError(405)
            if method not in ("GET", "HEAD", "OPTIONS") and self.application.settings.get(
                "cross_origin_protection"
            ):
                self._check_cross_origin()
            if args:
                self.path_args = [self.decode_argument(arg) for arg in args]
            if kwargs:
                self.path_kwargs = {
                    name: self.decode_argument(value, name=name) for name, value in kwargs.items()
                }
            if method not in ("GET", "HEAD", "OPTIONS") and self.application.settings.get(
                "xsrf_cookies"
            ):
                self.check_xsrf_cookie()
            result = self.prepare()
            if result is not None:
                return _spawn(self._execute_rest(result, _STAGE_PREPARE))
            # (Only streaming handlers have a prepared future to settle.)
            if self._prepared_future is not None:
                self._settle_prepared()
            if self._finished:
                return None
            if self._stream_request_body:
                return _spawn(self._execute_rest(None, _STAGE_BODY))
            result = self._call_verb_method()
            if result is not None:
                return _spawn(self._execute_rest(result, _STAGE_METHOD))
            if self._auto_finish and not self._finished:
                self.finish()
        except (Exception, asyncio.CancelledError) as e:
            self._handle_execute_exception(e)
        if self._prepared_future is not None:
            self._settle_prepared()
        return None

    def _call_verb_method(self) -> Any:
        method = self.request.method
        assert method is not None
        name = _VERB_METHOD_NAMES.get(method) or method.lower()
        result = getattr(self, name)(*self.path_args, **self.path_kwargs)
        if result is not None and not inspect.isawaitable(result):
            # A plain value returned by mistake is ignored, as a sync method's.
            return None
        return result

    async def _execute_rest(self, pending: Any, stage: int) -> None:
        try:
            if stage == _STAGE_PREPARE:
                await pending
                self._settle_prepared()
                if self._finished:
                    return
                stage = _STAGE_BODY if self._stream_request_body else _STAGE_CALL
            if stage == _STAGE_BODY:
                from tornado.iostream import StreamClosedError

                body_future = self.request._body_future
                if body_future is not None:
                    try:
                        await body_future
                    except StreamClosedError:
                        return
                stage = _STAGE_CALL
            if stage == _STAGE_CALL:
                pending = self._call_verb_method()
            if pending is not None:
                await pending
            if self._auto_finish and not self._finished:
                self.finish()
        except asyncio.CancelledError as e:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # This task itself was cancelled (e.g. at shutdown): answer
                # 500 without logging an error, then let the task end
                # cancelled as asyncio expects.
                if not self._finished:
                    try:
                        self.send_error(500)
                    except Exception:
                        app_log.error("Error answering a cancelled request", exc_info=True)
                raise
            # A cancelled await inside the handler is its failure (500), not
            # a reason to abandon the request without an answer.
            self._handle_execute_exception(e)
        except Exception as e:
            self._handle_execute_exception(e)
        finally:
            self._settle_prepared()

    def _settle_prepared(self) -> None:
        future = self._prepared_future
        if future is not None and not future.done():
            future.set_result(None)

    def _handle_execute_exception(self, e: BaseException) -> None:
        try:
            self._handle_request_exception(e)
        except Exception:
            app_log.error("Exception in exception handler", exc_info=True)

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, Finish):
            if not self._finished:
                self.finish(*e.args)
            return
        exc_info = (type(e), e, e.__traceback__)
        try:
            self.log_exception(*exc_info)
        except Exception:
            # log_exception is user-overridable; never let it hide the error.
            app_log.error("Error in exception logger", exc_info=True)
        if self._finished:
            # Finished already (e.g. an error in on_finish): only log.
            return
        if isinstance(e, HTTPError):
            self.send_error(e.status_code, exc_info=exc_info)
        else:
            self.send_error(500, exc_info=exc_info)

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        """Log an exception raised by the handler.

        `HTTPError` is logged as a warning without traceback (and only when
        it has a ``log_message``); other exceptions as errors with the
        traceback and the request.
        """
        if isinstance(value, HTTPError):
            if value.log_message:
                gen_log.warning(
                    "%d %s: %s", value.status_code, self._request_summary(), value.get_message()
                )
        else:
            app_log.error(
                "Uncaught exception %s\n%r",
                self._request_summary(),
                self.request,
                exc_info=(typ, value, tb),  # type: ignore[arg-type]
            )

    def _log(self) -> None:
        self.application.log_request(self)

    def _request_summary(self) -> str:
        return "%s %s (%s)" % (self.request.method, self.request.uri, self.request.remote_ip)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        """With `stream_request_body`, called with each piece of the body
        (may return an awaitable for flow control).  Raises
        `NotImplementedError` unless overridden."""
        raise NotImplementedError()

    # -- UI ----------------------------------------------------------------

    def _ui_module(self, name: str, module: type[UIModule]) -> Callable[..., str | bytes]:
        def render(*args: Any, **kwargs: Any) -> str | bytes:
            if not hasattr(self, "_active_modules"):
                self._active_modules = {}
            if name not in self._active_modules:
                self._active_modules[name] = module(self)
            rendered = self._active_modules[name].render(*args, **kwargs)
            return rendered

        return render

    def _ui_method(self, method: Callable[..., Any]) -> Callable[..., Any]:
        return lambda *args, **kwargs: method(self, *args, **kwargs)


# The method name of each standard verb, without a lower() per request.
_VERB_METHOD_NAMES = {verb: verb.lower() for verb in RequestHandler.SUPPORTED_METHODS}

_STAGE_PREPARE = 0
_STAGE_BODY = 1
_STAGE_CALL = 2
_STAGE_METHOD = 3

_RequestHandlerType = TypeVar("_RequestHandlerType", bound=type[RequestHandler])


def is_absolute(path: str) -> bool:
    """Whether ``path`` is already a URL to link to as it is: it starts
    with ``/``, ``http:`` or ``https:``.  `RequestHandler.render` links
    the JavaScript and CSS files of UI modules that way and passes other
    paths through `RequestHandler.static_url`."""
    return path.startswith(("/", "http:", "https:"))


def stream_request_body(cls: _RequestHandlerType) -> _RequestHandlerType:
    """Class decorator: hand the request body to `RequestHandler.data_received`
    in pieces instead of buffering it.

    ``prepare`` runs when the headers arrive (it can call
    ``request.connection.set_max_body_size``), then ``data_received`` per
    piece, then the verb method once the body is complete.  Raises
    `TypeError` for a class that is not a `RequestHandler`.
    """
    if not (isinstance(cls, type) and issubclass(cls, RequestHandler)):
        raise TypeError("expected subclass of RequestHandler, got %r" % (cls,))
    cls._stream_request_body = True
    return cls


def _has_stream_request_body(cls: type[RequestHandler]) -> bool:
    if not issubclass(cls, RequestHandler):
        raise TypeError("expected subclass of RequestHandler, got %r" % (cls,))
    return cls._stream_request_body


_Method = TypeVar("_Method", bound=Callable[..., Any])


def _refuse_protocol_relative(path: str) -> None:
    """Raise 403 for a path a redirect would turn into ``//host`` (an open redirect).

    Browsers read ``/\\`` as ``//`` too.
    """
    if path.startswith(("//", "/\\")):
        raise HTTPError(403, "cannot redirect path with two initial slashes")


def removeslash(method: _Method) -> _Method:
    """Decorator for verb methods: redirect ``/path/`` to ``/path``
    (permanently, GET and HEAD; other methods get 404)."""

    @functools.wraps(method)
    def wrapper(self: RequestHandler, *args: Any, **kwargs: Any) -> Any:
        if self.request.path.endswith("/"):
            if self.request.method in ("GET", "HEAD"):
                _refuse_protocol_relative(self.request.path)
                uri = self.request.path.rstrip("/")
                if uri:
                    if self.request.query:
                        uri += "?" + self.request.query
                    self.redirect(uri, permanent=True)
                    return None
            else:
                raise HTTPError(404)
        return method(self, *args, **kwargs)

    return cast(_Method, wrapper)


def addslash(method: _Method) -> _Method:
    """Decorator for verb methods: redirect ``/path`` to ``/path/``
    (permanently, GET and HEAD; other methods get 404)."""

    @functools.wraps(method)
    def wrapper(self: RequestHandler, *args: Any, **kwargs: Any) -> Any:
        if not self.request.path.endswith("/"):
            if self.request.method in ("GET", "HEAD"):
                _refuse_protocol_relative(self.request.path)
                uri = self.request.path + "/"
                if self.request.query:
                    uri += "?" + self.request.query
                self.redirect(uri, permanent=True)
                return None
            raise HTTPError(404)
        return method(self, *args, **kwargs)

    return cast(_Method, wrapper)


def authenticated(method: _Method) -> _Method:
    """Decorator for verb methods that need a logged-in user.

    Without a `RequestHandler.current_user`, GET and HEAD are redirected to
    `RequestHandler.get_login_url` with a ``next`` argument naming this URL;
    other methods get 403.
    """

    @functools.wraps(method)
    def wrapper(self: RequestHandler, *args: Any, **kwargs: Any) -> Any:
        if not self.current_user:
            if self.request.method in ("GET", "HEAD"):
                login_url = self.get_login_url()
                if "?" not in login_url:
                    if urllib.parse.urlsplit(login_url).scheme:
                        # An absolute login URL needs an absolute return URL.
                        next_url = self.request.full_url()
                    else:
                        assert self.request.uri is not None
                        next_url = self.request.uri
                    login_url += "?" + urlencode({"next": next_url})
                self.redirect(login_url)
                return None
            raise HTTPError(403)
        return method(self, *args, **kwargs)

    return cast(_Method, wrapper)


class _ApplicationRouter(ReversibleRuleRouter):
    """The application's rule router: targets may be `RequestHandler`
    subclasses or nested lists of rules."""

    def __init__(self, application: Application, rules: _RuleList | None = None) -> None:
        self.application = application
        super().__init__(rules)

    def process_rule(self, rule: Rule) -> Rule:
        rule = super().process_rule(rule)
        if isinstance(rule.target, (list, tuple)):
            rule.target = _ApplicationRouter(self.application, rule.target)
        return rule

    def find_handler(
        self, request: httputil.HTTPServerRequest, **kwargs: Any
    ) -> httputil.HTTPMessageDelegate | None:
        # RuleRouter.find_handler with the two common rule shapes taken
        # directly: the application's catch-all rule into its wildcard
        # router, and a path rule whose target is a handler class.  Both
        # make the calls the general path would (the matcher's match, the
        # application's get_handler_delegate), minus the layers between.
        for rule in self.rules:
            matcher = rule.matcher
            target = rule.target
            if type(matcher) is AnyMatches and type(target) is _ApplicationRouter:
                if rule.target_kwargs:
                    delegate = target.find_handler(request, target_kwargs=rule.target_kwargs)
                else:
                    delegate = target.find_handler(request)
                if delegate is not None:
                    return delegate
                continue
            params = matcher.match(request)
            if params is None:
                continue
            if (
                type(matcher) is _PathMatches
                and isinstance(target, type)
                and issubclass(target, RequestHandler)
            ):
                if rule.target_kwargs:
                    delegate = self.application.get_handler_delegate(
                        request,
                        target,
                        target_kwargs=rule.target_kwargs,
                        path_args=params["path_args"],
                        path_kwargs=params["path_kwargs"],
                    )
                else:
                    delegate = self.application.get_handler_delegate(
                        request,
                        target,
                        path_args=params["path_args"],
                        path_kwargs=params["path_kwargs"],
                    )
                if delegate is not None:
                    return delegate
                continue
            if rule.target_kwargs:
                params["target_kwargs"] = rule.target_kwargs
            delegate = self.get_target_delegate(target, request, **params)
            if delegate is not None:
                return delegate
        return None

    def get_target_delegate(
        self, target: Any, request: httputil.HTTPServerRequest, **target_params: Any
    ) -> httputil.HTTPMessageDelegate | None:
        if isinstance(target, type) and issubclass(target, RequestHandler):
            return self.application.get_handler_delegate(request, target, **target_params)
        return super().get_target_delegate(target, request, **target_params)


class Application(ReversibleRouter):
    """A collection of request handlers and settings that make a web
    application; pass it to `~tornado.httpserver.HTTPServer` or call
    `listen`.

    ``handlers`` is a list of `Rule`/`URLSpec` objects or tuples
    ``(pattern, handler_class[, kwargs[, name]])``.  The ``static_path``
    setting adds a `StaticFileHandler` for ``static_url_prefix`` (default
    ``/static/``), ``/favicon.ico`` and ``/robots.txt``.  ``debug=True``
    turns on ``autoreload``, ``serve_traceback`` and turns off
    ``compiled_template_cache`` and ``static_hash_cache`` unless they are
    given.  See the Tornado documentation for all settings.
    """

    def __init__(
        self,
        handlers: _RuleList | None = None,
        default_host: str | None = None,
        transforms: list[type[OutputTransform]] | None = None,
        **settings: Any,
    ) -> None:
        """Build the application; raises `TypeError`/`ValueError` for
        malformed handler entries."""
        if transforms is None:
            self.transforms: list[type[OutputTransform]] = []
            if settings.get("compress_response") or settings.get("gzip"):
                self.transforms.append(GZipContentEncoding)
        else:
            self.transforms = transforms
        #: The host name that routes of `add_handlers` match when a request's ``Host`` matches no host pattern.
        self.default_host = default_host
        #: The keyword arguments given to the constructor (``debug``, ``cookie_secret``, ``template_path``, ...), as a dict.
        self.settings = settings
        self.ui_modules: dict[str, type[UIModule]] = {
            "linkify": _linkify,
            "xsrf_form_html": _xsrf_form_html,
            "Template": TemplateModule,
        }
        self.ui_methods: dict[str, Callable[..., Any]] = {}
        self._load_ui_modules(settings.get("ui_modules", {}))
        self._load_ui_methods(settings.get("ui_methods", {}))
        if settings.get("static_path"):
            path = settings["static_path"]
            handlers = list(handlers or [])
            static_url_prefix = settings.get("static_url_prefix", "/static/")
            static_handler_class = settings.get("static_handler_class", StaticFileHandler)
            static_handler_args = dict(settings.get("static_handler_args", {}))
            static_handler_args["path"] = path
            for pattern in (
                re.escape(static_url_prefix) + r"(.*)",
                r"/(favicon\.ico)",
                r"/(robots\.txt)",
            ):
                handlers.insert(0, (pattern, static_handler_class, static_handler_args))
        if settings.get("debug"):
            settings.setdefault("autoreload", True)
            settings.setdefault("compiled_template_cache", False)
            settings.setdefault("static_hash_cache", False)
            settings.setdefault("serve_traceback", True)

        #: The router of the handlers given to the constructor (they match any host).
        self.wildcard_router = _ApplicationRouter(self, handlers)
        #: The outermost router: host patterns added by `add_handlers`, then `wildcard_router`.
        self.default_router = _ApplicationRouter(self, [Rule(AnyMatches(), self.wildcard_router)])

        if settings.get("autoreload"):
            from tornado import autoreload

            autoreload.start()

    def listen(
        self,
        port: int,
        address: str | None = None,
        *,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        backlog: int = 128,
        flags: int | None = None,
        reuse_port: bool = False,
        **kwargs: Any,
    ) -> HTTPServer:
        """Start an `~tornado.httpserver.HTTPServer` for this application on
        ``port`` and return it.  ``kwargs`` go to the server's constructor
        (e.g. ``ssl_options``, ``xheaders``); the socket options to
        ``listen``.  Raises `OSError` if the port cannot be bound."""
        from tornado.httpserver import HTTPServer

        server = HTTPServer(self, **kwargs)
        server.listen(
            port,
            address=address,
            family=family,
            backlog=backlog,
            flags=flags,
            reuse_port=reuse_port,
        )
        return server

    def add_handlers(self, host_pattern: str, host_handlers: _RuleList) -> None:
        """Add handlers that only serve requests whose host matches
        ``host_pattern`` (a regex); later host groups are tried after
        earlier ones but before the host-independent handlers."""
        host_matcher = HostMatches(host_pattern)
        rule = Rule(host_matcher, _ApplicationRouter(self, host_handlers))
        self.default_router.rules.insert(-1, rule)
        if self.default_host is not None:
            self.wildcard_router.add_rules(
                [(DefaultHostMatches(self, host_matcher.host_pattern), host_handlers)]
            )

    def add_transform(self, transform_class: type[OutputTransform]) -> None:
        """Add an output transform applied to every response."""
        self.transforms.append(transform_class)

    def _load_ui_methods(self, methods: Any) -> None:
        if isinstance(methods, types.ModuleType):
            self._load_ui_methods({name: getattr(methods, name) for name in dir(methods)})
        elif isinstance(methods, list):
            for group in methods:
                self._load_ui_methods(group)
        else:
            for name, fn in methods.items():
                if not name.startswith("_") and callable(fn) and name[0].lower() == name[0]:
                    self.ui_methods[name] = fn

    def _load_ui_modules(self, modules: Any) -> None:
        if isinstance(modules, types.ModuleType):
            self._load_ui_modules({name: getattr(modules, name) for name in dir(modules)})
        elif isinstance(modules, list):
            for group in modules:
                self._load_ui_modules(group)
        else:
            for name, cls in modules.items():
                if isinstance(cls, type) and issubclass(cls, UIModule):
                    self.ui_modules[name] = cls

    def __call__(self, request: httputil.HTTPServerRequest) -> Awaitable[None] | None:
        """Handle an already complete request (the pre-4.0 callable style)."""
        dispatcher = self.find_handler(request)
        assert isinstance(dispatcher, _HandlerDelegate)
        return dispatcher.execute()

    def find_handler(self, request: httputil.HTTPServerRequest, **kwargs: Any) -> _HandlerDelegate:
        """Return the delegate for ``request``: the matching handler, the
        ``default_handler_class``, or a 404 `ErrorHandler`."""
        route = self.default_router.find_handler(request)
        if route is not None:
            return cast(_HandlerDelegate, route)
        if self.settings.get("default_handler_class"):
            return self.get_handler_delegate(
                request,
                self.settings["default_handler_class"],
                self.settings.get("default_handler_args", {}),
            )
        return self.get_handler_delegate(request, ErrorHandler, {"status_code": 404})

    def get_handler_delegate(
        self,
        request: httputil.HTTPServerRequest,
        target_class: type[RequestHandler],
        target_kwargs: dict[str, Any] | None = None,
        path_args: list[bytes] | None = None,
        path_kwargs: dict[str, bytes] | None = None,
    ) -> _HandlerDelegate:
        """Return a message delegate that runs ``target_class`` for
        ``request`` (for custom routers)."""
        return _HandlerDelegate(self, request, target_class, target_kwargs, path_args, path_kwargs)

    def reverse_url(self, name: str, *args: Any) -> str:
        """Return the URL of the handler named ``name`` with ``args`` in its
        groups.  Raises `KeyError` if no handler has that name."""
        url = self.default_router.reverse_url(name, *args)
        if url is not None:
            return url
        raise KeyError("%s not found in named urls" % name)

    def log_request(self, handler: RequestHandler) -> None:
        """Log a finished request: to the ``log_function`` setting if given,
        else to ``tornado.access`` at INFO (<400), WARNING (<500) or ERROR,
        as ``"%d %s %.2fms"`` (status, summary, time)."""
        log_function = self.settings.get("log_function")
        if log_function is not None:
            log_function(handler)
            return
        status = handler.get_status()
        if status < 400:
            level = 20
        elif status < 500:
            level = 30
        else:
            level = 40
        if access_log.isEnabledFor(level):
            access_log.log(
                level,
                "%d %s %.2fms",
                status,
                handler._request_summary(),
                1000.0 * handler.request.request_time(),
            )


#: Per served connection, the context in which its first request was
#: created.  A later request on the connection may be started from within
#: its predecessor's context (its response's last write resumes reading, and
#: a pipelined request is parsed right then), so copying the current context
#: would hand it what the previous request set; a copy of this one does not.
_connection_contexts: weakref.WeakKeyDictionary[object, contextvars.Context] = (
    weakref.WeakKeyDictionary()
)


def _request_context(server_connection: object | None) -> contextvars.Context:
    """A new context for a request served on ``server_connection``."""
    if server_connection is None:
        return contextvars.copy_context()
    try:
        base = _connection_contexts.get(server_connection)
        if base is None:
            base = _connection_contexts[server_connection] = contextvars.copy_context()
    except TypeError:  # a connection object that takes no weak reference
        return contextvars.copy_context()
    return base.copy()


class _HandlerDelegate(httputil.HTTPMessageDelegate):
    """Receives one request for a handler class: buffers (or streams) the
    body, then creates the handler and runs it."""

    def __init__(
        self,
        application: Application,
        request: httputil.HTTPServerRequest,
        handler_class: type[RequestHandler],
        handler_kwargs: dict[str, Any] | None,
        path_args: list[bytes] | None,
        path_kwargs: dict[str, bytes] | None,
    ) -> None:
        self.application = application
        self.connection = request.connection
        self.request = request
        self.handler_class = handler_class
        self.handler_kwargs = handler_kwargs or {}
        self.path_args = path_args or []
        self.path_kwargs = path_kwargs or {}
        self.chunks: list[bytes] = []
        self.stream_request_body = _has_stream_request_body(handler_class)
        self.handler: RequestHandler | None = None
        # The request's own copy of the contextvars context, made when the
        # handler is created: everything the handler runs (initialize,
        # prepare, the verb method, the tasks and executor calls they start,
        # a streaming body's data_received) sees what the request set, and
        # nothing leaks into the next request on the connection.
        self._context: contextvars.Context | None = None

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Awaitable[None] | None:
        if self.stream_request_body:
            self.request._body_future = asyncio.get_running_loop().create_future()
            return self.execute()
        return None

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        if self.stream_request_body:
            assert self.handler is not None
            if self.handler._finished:
                # prepare() already answered (e.g. 403): drop the body.
                return None
            assert self._context is not None
            return self._context.run(self.handler.data_received, chunk)
        self.chunks.append(chunk)
        return None

    def finish(self) -> None:
        if self.stream_request_body:
            body_future = self.request._body_future
            if body_future is not None and not body_future.done():
                body_future.set_result(None)
            return
        if self.chunks:
            self.request.body = b"".join(self.chunks)
            self.chunks = []
            try:
                self.request._parse_body()
            except httputil.HTTPInputError as e:
                gen_log.warning("Malformed request body: %s", e)
                self.handler_class = ErrorHandler
                self.handler_kwargs = {"status_code": 400}
        self.execute()

    def on_connection_close(self) -> None:
        if self.stream_request_body:
            if self.handler is not None:
                assert self._context is not None
                self._context.run(self.handler._notify_connection_close)
        else:
            self.chunks = []

    def execute(self) -> Awaitable[None] | None:
        """Create the handler and run it; returns a future that resolves
        when ``prepare`` is done (for body flow control) or None."""
        context = self._context = _request_context(self.request.server_connection)
        return context.run(self._create_and_run)

    def _create_and_run(self) -> Awaitable[None] | None:
        application = self.application
        settings = application.settings
        if not settings.get("compiled_template_cache", True):
            with RequestHandler._template_loader_lock:
                for loader in RequestHandler._template_loaders.values():
                    loader.reset()
        if not settings.get("static_hash_cache", True):
            settings.get("static_handler_class", StaticFileHandler).reset()
        handler = self.handler_class(application, self.request, **self.handler_kwargs)
        self.handler = handler
        transforms = (
            [t(self.request) for t in application.transforms] if application.transforms else []
        )
        if self.stream_request_body:
            handler._prepared_future = asyncio.get_running_loop().create_future()
        handler._execute(transforms, *self.path_args, **self.path_kwargs)
        return handler._prepared_future


class HTTPError(Exception):
    """An exception that becomes an HTTP error response.

    ``status_code`` is the response code; ``log_message`` (a %-format string
    filled with ``args``) is logged, never shown to the client; the
    ``reason`` keyword sets the reason phrase (needed for codes without a
    standard one).
    """

    def __init__(
        self, status_code: int = 500, log_message: str | None = None, *args: Any, **kwargs: Any
    ) -> None:
        self.status_code = status_code
        self._log_message = log_message
        self.args = args
        self.reason: str | None = kwargs.get("reason")

    @property
    def log_message(self) -> str | None:
        """The log message as a %-format string for ``args``: as given when
        there are ``args``; without them, with every ``%`` doubled, so that
        ``log_message % args`` (as code that formats it itself does) gives
        back the message as given instead of failing.

        Use `get_message` for the message with the arguments filled in.
        """
        if self._log_message and not self.args:
            return self._log_message.replace("%", "%%")
        return self._log_message

    @log_message.setter
    def log_message(self, value: str | None) -> None:
        self._log_message = value

    def get_message(self) -> str | None:
        """The log message with ``args`` filled in (a message without
        ``args`` is used as is, so a literal ``%`` in it is kept); None when
        there is no log message."""
        if self._log_message is None or not self.args:
            return self._log_message
        return self._log_message % self.args

    def __str__(self) -> str:
        message = "HTTP %d: %s" % (
            self.status_code,
            self.reason or httputil.responses.get(self.status_code, "Unknown"),
        )
        log_message = self.get_message()
        if log_message:
            return message + " (" + log_message + ")"
        return message


class Finish(Exception):
    """Raise to end the request without an error response: the handler
    finishes (with the exception's argument, if any, as the last chunk)."""


class MissingArgumentError(HTTPError):
    """A required argument was not given (`RequestHandler.get_argument`
    without a default): a 400 response."""

    def __init__(self, arg_name: str) -> None:
        super().__init__(400, "Missing argument %s" % arg_name)
        #: The name of the missing argument.
        self.arg_name = arg_name


class ErrorHandler(RequestHandler):
    """Answers every request with ``status_code`` (the default 404
    handler)."""

    def initialize(self, status_code: int) -> None:
        """Remember the status to send."""
        self.set_status(status_code)

    def prepare(self) -> None:
        """Raise the `HTTPError` for the status."""
        raise HTTPError(self._status_code)

    def check_xsrf_cookie(self) -> None:
        """No xsrf check: an unknown URL is a 404 for POSTs too, not a 403."""

    def check_trusted_origin(self, origin: str) -> bool:
        """Every origin: the error status wins over cross-origin protection."""
        return True

    def _check_cross_origin(self) -> None:
        # Likewise: the error status wins over cross-origin protection.
        pass


#: Schemes whose URLs a browser parses leniently (WHATWG URL "special").
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})
_SCHEME = r"([A-Za-z][A-Za-z0-9+.\-]*):"
_AUTHORITY_END = r"[/?#]"
_C0_EDGES = r"^[\x00-\x20]+|[\x00-\x20]+$"


def _browser_origin(url: str) -> tuple[str | None, str | None]:
    """(scheme, authority) of *url* as a browser would read it.

    Browsers drop tabs and newlines, read ``\\`` as ``/`` in special
    schemes, and skip any run of slashes after ``https:`` (so
    ``https:evil.com`` and ``https:///evil.com`` both go to evil.com).
    A URL without scheme has an authority only when it starts with ``//``.
    """
    url = re.sub(_C0_EDGES, "", re.sub(_BROWSER_IGNORED, "", url))
    match = re.match(_SCHEME, url)
    scheme = match.group(1).lower() if match else None
    rest = url[match.end() :] if match else url
    if scheme is None or scheme in _SPECIAL_SCHEMES:
        rest = rest.replace("\\", "/")
        if scheme is None and not rest.startswith("//"):
            return None, None
        rest = rest.lstrip("/")
    elif rest.startswith("//"):
        rest = rest[2:]
    else:
        return scheme, None
    return scheme, re.split(_AUTHORITY_END, rest, maxsplit=1)[0].lower()


class RedirectHandler(RequestHandler):
    """Redirects every GET to ``url``.

    ``url`` may use `str.format` fields filled from the path groups
    (``{0}``, or ``{name}`` for named groups); the request's query
    arguments are appended.  ``permanent`` (default True) selects 301
    over 302.
    """

    def initialize(self, url: str, permanent: bool = True) -> None:
        """Remember the target and the kind of redirect."""
        self._url = url
        self._permanent = permanent

    def get(self, *args: Any, **kwargs: Any) -> None:
        """Send the redirect.

        Raises `HTTPError` 400 when the substituted URL has control
        characters or whitespace, or points at another scheme or host than
        the pattern does (``/{0}`` filled with ``/evil.example`` would be
        the protocol-relative ``//evil.example``: an open redirect).
        """
        to_url = self._url.format(*args, **kwargs)
        # The pattern's literal text before its first field fixes the
        # scheme and host; the substituted URL must keep both, as a browser
        # reads them.
        prefix = ""
        for literal, field_name, _spec, _conversion in string.Formatter().parse(self._url):
            prefix += literal
            if field_name is not None:
                break
        if _browser_origin(to_url) != _browser_origin(prefix):
            raise HTTPError(400, "Redirect URL cannot change the scheme or netloc: %r", to_url)
        if re.search(_REDIRECT_UNSAFE, to_url):
            raise HTTPError(400, "Redirect URL contains invalid characters: %r", to_url)
        if self.request.query_arguments:
            to_url = httputil.url_concat(
                to_url,
                [
                    (name, to_unicode(value))
                    for name, value in httputil.qs_to_qsl(self.request.query_arguments)
                ],
            )
        self.redirect(to_url, permanent=self._permanent)


class FallbackHandler(RequestHandler):
    """Passes requests to another HTTP callable, such as a
    `tornado.wsgi.WSGIContainer` (``fallback``), to mix it with Tornado
    handlers in one application."""

    def initialize(self, fallback: Callable[[httputil.HTTPServerRequest], None]) -> None:
        """Remember the callable."""
        self.fallback = fallback

    def prepare(self) -> None:
        """Hand the request over; the fallback writes the response."""
        self.fallback(self.request)
        self._finished = True
        self.on_finish()


class StaticFileHandler(RequestHandler):
    """Serves files from a folder (``path`` argument).

    Supports ``Range`` requests, ``If-Modified-Since`` and
    ``Etag``/``If-None-Match``; versioned URLs (``?v=<hash>``, made by
    `RequestHandler.static_url`) get long cache headers.  Paths that
    leave the folder are refused with 403.  ``default_filename`` (e.g.
    ``"index.html"``) is served for folders; folder URLs without a final
    slash are redirected to add one.

    Override the class methods (`get_content`, `get_content_version`,
    `get_absolute_path`, ...) to serve from somewhere other than the file
    system.
    """

    #: The ``max-age`` for versioned URLs: ten years.
    CACHE_MAX_AGE = 86400 * 365 * 10

    #: Files larger than this get no content version: hashing them would
    #: hold up the server (and a device such as /dev/zero never ends).
    MAX_VERSION_CONTENT_SIZE = 64 * 1024 * 1024
    #: How many content versions are remembered (least recently used go first).
    MAX_CACHED_VERSIONS = 10_000

    _static_hashes: ClassVar[collections.OrderedDict[str, str | None]] = collections.OrderedDict()
    _lock = threading.Lock()

    absolute_path: str | None
    modified: datetime.datetime | None
    _stat_result: os.stat_result

    def initialize(
        self,
        path: str,
        default_filename: str | None = None,
        allowed_symlink_directory: str | list[str] | None = None,
    ) -> None:
        """Serve files under ``path``.

        Symbolic links are followed only to files inside ``path``, or inside
        ``allowed_symlink_directory`` (a folder or a list of folders, which
        then replaces ``path`` for this check) when given.
        """
        #: The folder files are served from (the ``path`` argument), as given.
        self.root = path
        self.default_filename = default_filename
        #: The ``allowed_symlink_directory`` argument: a folder outside `root` that symlinks may lead into, or None.
        self.allowed_symlink_directory = allowed_symlink_directory

    @classmethod
    def reset(cls) -> None:
        """Forget the cached content hashes (done per request in debug mode)."""
        with cls._lock:
            cls._static_hashes = collections.OrderedDict()

    def head(self, path: str) -> Awaitable[None]:
        """As `get`, without the body."""
        return self.get(path, include_body=False)

    async def get(self, path: str, include_body: bool = True) -> None:
        """Serve the file at ``path`` (relative to the root)."""
        self.path = self.parse_url_path(path)
        del path  # the raw argument must not be used past this point
        absolute_path = self.get_absolute_path(self.root, self.path)
        self.absolute_path = self.validate_absolute_path(self.root, absolute_path)
        if self.absolute_path is None:
            return
        self.modified = self.get_modified_time()
        self.set_headers()
        if self.should_return_304():
            self.set_status(304)
            return

        size = self.get_content_size()
        start: int | None = None
        end: int | None = None
        range_header = self.request.headers.get("Range")
        request_range = httputil._parse_request_range(range_header) if range_header else None
        if request_range is None and range_header and _looks_like_single_byte_range(range_header):
            # A single byte range that cannot be satisfied ("bytes=10-3",
            # "bytes=26"); other units and multiple ranges are ignored.
            request_range = (size, None)
        if request_range is not None:
            start, end = request_range
            if start is not None and start < 0:
                start = max(start + size, 0)
            if (
                start is not None and (start >= size or (end is not None and start >= end))
            ) or end == 0:
                # Nothing of the file is in the range (RFC 9110 15.5.17).
                self.set_status(416)
                self.set_header("Content-Type", "text/plain")
                self.set_header("Content-Range", "bytes */%s" % size)
                return
            if end is not None and end > size:
                end = size
            if size != (end or size) - (start or 0):
                self.set_status(206)
                self.set_header("Content-Range", httputil._get_content_range(start, end, size))
            else:
                start = end = None
        if start is not None and end is not None:
            content_length = end - start
        elif end is not None:
            content_length = end
        elif start is not None:
            content_length = size - start
        else:
            content_length = size
        self.set_header("Content-Length", content_length)

        if not include_body:
            return
        content = self.get_content(self.absolute_path, start, end)
        if isinstance(content, bytes):
            content = [content]
        from tornado.iostream import StreamClosedError

        try:
            for chunk in content:
                self.write(chunk)
                try:
                    await self.flush()
                except StreamClosedError:
                    return
        finally:
            close = getattr(content, "close", None)
            if close is not None:
                close()

    def compute_etag(self) -> str | None:
        """The ``Etag`` is the content version hash (see `get_content_version`)."""
        assert self.absolute_path is not None
        version_hash = self._get_cached_version(self.absolute_path)
        if not version_hash:
            return None
        return '"%s"' % version_hash

    def set_headers(self) -> None:
        """Set the caching and content headers of the response."""
        self.set_header("Accept-Ranges", "bytes")
        self.set_etag_header()
        if self.modified is not None:
            self.set_header("Last-Modified", self.modified)
        content_type = self.get_content_type()
        if content_type:
            self.set_header("Content-Type", content_type)
        cache_time = self.get_cache_time(self.path, self.modified, content_type)
        if cache_time > 0:
            self.set_header(
                "Expires",
                datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=cache_time),
            )
            self.set_header("Cache-Control", "max-age=" + str(cache_time))
        self.set_extra_headers(self.path)

    def should_return_304(self) -> bool:
        """Whether the client's copy is current (``If-None-Match`` first, then
        ``If-Modified-Since``)."""
        if self.request.headers.get("If-None-Match"):
            return self.check_etag_header()
        ims_value = self.request.headers.get("If-Modified-Since")
        if ims_value is not None and self.modified is not None:
            import email.utils

            try:
                if_since = email.utils.parsedate_to_datetime(ims_value)
            except (TypeError, ValueError, IndexError):
                return False
            if if_since.tzinfo is None:
                if_since = if_since.replace(tzinfo=datetime.UTC)
            if self.modified <= if_since:
                return True
        return False

    @classmethod
    def get_absolute_path(cls, root: str, path: str) -> str:
        """Return the absolute file system path of ``path`` under ``root``
        (not yet validated)."""
        return os.path.abspath(os.path.join(root, path))

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        """Check ``absolute_path`` and return the path to serve, or None when
        a redirect was sent instead.

        Raises `HTTPError` 403 for paths outside ``root`` (``../``
        traversal, absolute paths), for non-files and for a folder redirect
        that would start with ``//`` (an open redirect to another host);
        404 for missing files.
        """
        allowed = getattr(self, "allowed_symlink_directory", None)
        if allowed is None:
            allowed = [root]
        elif isinstance(allowed, str):
            allowed = [allowed]
        if not _is_within(root, absolute_path, resolve=False):
            raise HTTPError(403, "%s is not in root static directory", self.path)
        # Symbolic links must not lead out of the allowed folders; checked
        # before anything else so the answer tells nothing about what exists
        # behind a link.
        if not any(_is_within(folder, absolute_path, resolve=True) for folder in allowed):
            raise HTTPError(403, "%s is not in root static directory", self.path)
        if os.path.isdir(absolute_path) and self.default_filename is not None:
            if not self.request.path.endswith("/"):
                _refuse_protocol_relative(self.request.path)
                self.redirect(self.request.path + "/", permanent=True)
                return None
            absolute_path = os.path.join(absolute_path, self.default_filename)
        # The default file may itself be a link.
        if not any(_is_within(folder, absolute_path, resolve=True) for folder in allowed):
            raise HTTPError(403, "%s is not in root static directory", self.path)
        if not os.path.exists(absolute_path):
            raise HTTPError(404)
        if not os.path.isfile(absolute_path):
            raise HTTPError(403, "%s is not a file", self.path)
        return absolute_path

    @classmethod
    def get_content(
        cls, abspath: str, start: int | None = None, end: int | None = None
    ) -> bytes | Iterable[bytes]:
        """Return the file's bytes from ``start`` to ``end`` (a slice), as an
        iterable of chunks of at most 64 KiB so large files are streamed."""
        return cls._read_chunks(abspath, start, end)

    @staticmethod
    def _read_chunks(abspath: str, start: int | None, end: int | None) -> Generator[bytes]:
        with open(abspath, "rb") as file:
            if start is not None:
                file.seek(start)
            remaining = None if end is None else end - (start or 0)
            while True:
                size = 64 * 1024
                if remaining is not None:
                    if remaining <= 0:
                        return
                    size = min(size, remaining)
                chunk = file.read(size)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    @classmethod
    def get_content_version(cls, abspath: str) -> str:
        """Return the version string of a file: the SHA-512 hex digest of its
        content."""
        data = cls.get_content(abspath)
        hasher = hashlib.sha512()
        if isinstance(data, bytes):
            hasher.update(data)
        else:
            for chunk in data:
                hasher.update(chunk)
        return hasher.hexdigest()

    def _stat(self) -> os.stat_result:
        assert self.absolute_path is not None
        try:
            return self._stat_result
        except AttributeError:
            self._stat_result = os.stat(self.absolute_path)
            return self._stat_result

    def get_content_size(self) -> int:
        """Return the file's size in bytes."""
        return self._stat().st_size

    def get_modified_time(self) -> datetime.datetime | None:
        """Return the file's modification time (UTC, whole seconds, as HTTP
        dates carry)."""
        return datetime.datetime.fromtimestamp(int(self._stat().st_mtime), datetime.UTC)

    def get_content_type(self) -> str:
        """Return the ``Content-Type``, guessed from the file name; compressed
        files are served as they are, not with a ``Content-Encoding``."""
        import mimetypes

        assert self.absolute_path is not None
        mime_type, encoding = mimetypes.guess_type(self.absolute_path)
        if encoding == "gzip":
            return "application/gzip"
        if encoding is not None:
            return "application/octet-stream"
        if mime_type is not None:
            return mime_type
        return "application/octet-stream"

    def set_extra_headers(self, path: str) -> None:
        """Hook to add headers to static responses."""

    def get_cache_time(self, path: str, modified: datetime.datetime | None, mime_type: str) -> int:
        """Seconds the client may cache the file: `CACHE_MAX_AGE` for
        versioned URLs (``?v=``), else 0 (revalidate)."""
        return self.CACHE_MAX_AGE if "v" in self.request.arguments else 0

    @classmethod
    def make_static_url(
        cls, settings: dict[str, Any], path: str, include_version: bool = True
    ) -> str:
        """Return the URL of ``path`` under ``static_url_prefix``, with
        ``?v=<version>`` unless ``include_version`` is false or the file is
        unreadable."""
        url: str = settings.get("static_url_prefix", "/static/") + path
        if not include_version:
            return url
        version_hash = cls.get_version(settings, path)
        if not version_hash:
            return url
        return "%s?v=%s" % (url, version_hash)

    def parse_url_path(self, url_path: str) -> str:
        """Turn the URL path into a relative file system path."""
        if os.path.sep != "/":
            url_path = url_path.replace("/", os.path.sep)
        return url_path

    @classmethod
    def get_version(cls, settings: dict[str, Any], path: str) -> str | None:
        """Return the (cached) version string of ``path``, or None (logged)
        if it cannot be read (with the default `get_content`: if it is not
        a regular file or is larger than `MAX_VERSION_CONTENT_SIZE`).

        The file is the one `get_absolute_path` makes of the
        ``static_path`` setting and ``path``; a subclass that overrides
        that method may give ``static_path`` any value it understands (a
        list of folders, say).  With the default `get_absolute_path`, a
        ``path`` that leads out of ``static_path`` raises `HTTPError` 403
        and a symbolic link out of it gets None (logged) and is never read.
        """
        root = settings["static_path"]
        abs_path = cls.get_absolute_path(root, path)
        if cls.get_absolute_path.__func__ is not StaticFileHandler.get_absolute_path.__func__:  # type: ignore[attr-defined]
            # The subclass maps paths its own way: what static_path means,
            # and so what is inside it, is its business.
            return cls._get_cached_version(abs_path)
        if not _is_within(root, abs_path, resolve=False):
            raise HTTPError(403, "%s is not in root static directory", path)
        return cls._get_cached_version(abs_path, root)

    @classmethod
    def _get_cached_version(cls, abs_path: str, root: str | None = None) -> str | None:
        with cls._lock:
            hashes = cls._static_hashes
            if abs_path in hashes:
                hashes.move_to_end(abs_path)
                return hashes[abs_path]
        try:
            if cls.get_content.__func__ is StaticFileHandler.get_content.__func__:  # type: ignore[attr-defined]
                cls._check_versionable(abs_path, root)
            version: str | None = cls.get_content_version(abs_path)
        except Exception as e:
            gen_log.error("Could not open static file %r: %s", abs_path, e)
            version = None
        with cls._lock:
            hashes = cls._static_hashes
            hashes[abs_path] = version
            hashes.move_to_end(abs_path)
            while len(hashes) > cls.MAX_CACHED_VERSIONS:
                hashes.popitem(last=False)
        return version or None

    @classmethod
    def _check_versionable(cls, abs_path: str, root: str | None) -> None:
        """Raise `ValueError` unless ``abs_path`` may be hashed: a regular
        file (stat follows links, so a FIFO or a device, which would block
        or never end, is refused), within ``root`` after links, and not
        larger than `MAX_VERSION_CONTENT_SIZE`."""
        info = os.stat(abs_path)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("%s is not a file" % abs_path)
        if root is not None and not _is_within(root, abs_path, resolve=True):
            # A symbolic link out of the static folder: never read it.
            raise ValueError("%s is not in root static directory" % abs_path)
        if info.st_size > cls.MAX_VERSION_CONTENT_SIZE:
            raise ValueError(
                "%s is larger than %d bytes" % (abs_path, cls.MAX_VERSION_CONTENT_SIZE)
            )


def _looks_like_single_byte_range(header: str) -> bool:
    header = header.strip()
    return header.startswith("bytes=") and "," not in header


def _is_within(folder: str, path: str, resolve: bool) -> bool:
    """Whether ``path`` is ``folder`` or inside it; with ``resolve``, after
    following symbolic links on both sides."""
    if resolve:
        folder, path = os.path.realpath(folder), os.path.realpath(path)
    else:
        folder = os.path.abspath(folder)
    prefix = folder if folder.endswith(os.path.sep) else folder + os.path.sep
    return (path + os.path.sep).startswith(prefix)


class OutputTransform:
    """Changes a response on its way out (e.g. compression).

    One instance is created per request (with the request); it sees the
    first chunk with the status and headers, then every further chunk.
    """

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        """Called per request."""

    def transform_first_chunk(
        self,
        status_code: int,
        headers: httputil.HTTPHeaders,
        chunk: bytes,
        finishing: bool,
    ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        """Return the (possibly changed) status, headers and first chunk."""
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        """Return the (possibly changed) chunk."""
        return chunk


class GZipContentEncoding(OutputTransform):
    """Compresses responses with gzip when the client accepts it (the
    ``compress_response`` setting).

    Only text and common structured types are compressed, and a response
    finished in one go only from `MIN_LENGTH` bytes; ``Vary:
    Accept-Encoding`` is always added.  Streamed responses are flushed
    chunk by chunk.
    """

    #: Types compressed besides ``text/*``.
    CONTENT_TYPES = {
        "application/javascript",
        "application/x-javascript",
        "application/xml",
        "application/atom+xml",
        "application/json",
        "application/xhtml+xml",
        "image/svg+xml",
    }
    #: zlib compression level (1 fastest .. 9 smallest).
    GZIP_LEVEL = 6
    #: Smaller whole responses are sent uncompressed: the gzip framing would
    #: cost more than it saves.
    MIN_LENGTH = 1024

    def __init__(self, request: httputil.HTTPServerRequest) -> None:
        """Note whether the client accepts gzip."""
        self._gzipping = "gzip" in request.headers.get("Accept-Encoding", "")
        self._compressor: Any = None

    def _compressible_type(self, ctype: str) -> bool:
        return ctype.startswith("text/") or ctype in self.CONTENT_TYPES

    def transform_first_chunk(
        self,
        status_code: int,
        headers: httputil.HTTPHeaders,
        chunk: bytes,
        finishing: bool,
    ) -> tuple[int, httputil.HTTPHeaders, bytes]:
        """Decide whether to compress, set the headers and compress."""
        if "Vary" in headers:
            headers["Vary"] += ", Accept-Encoding"
        else:
            headers["Vary"] = "Accept-Encoding"
        if self._gzipping:
            ctype = _unicode(headers.get("Content-Type", "")).split(";")[0].strip()
            self._gzipping = (
                self._compressible_type(ctype)
                and (not finishing or len(chunk) >= self.MIN_LENGTH)
                and "Content-Encoding" not in headers
            )
        if self._gzipping:
            headers["Content-Encoding"] = "gzip"
            # wbits 16+15: a gzip container around a deflate stream.
            self._compressor = zlib.compressobj(self.GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            chunk = self.transform_chunk(chunk, finishing)
            if "Content-Length" in headers:
                if finishing:
                    headers["Content-Length"] = str(len(chunk))
                else:
                    del headers["Content-Length"]
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        """Compress ``chunk``; flush so the client can decode what it got."""
        if self._gzipping:
            compressed = self._compressor.compress(chunk)
            if finishing:
                compressed += self._compressor.flush(zlib.Z_FINISH)
            else:
                compressed += self._compressor.flush(zlib.Z_SYNC_FLUSH)
            return bytes(compressed)
        return chunk


class UIModule:
    """A reusable piece of UI, rendered in templates with ``{% module
    Name(...) %}``; it may require CSS and JavaScript that `RequestHandler.render`
    puts into the page once.

    Subclasses implement `render`; an instance exists per handler.
    """

    def __init__(self, handler: RequestHandler) -> None:
        """Bind the module to ``handler``."""
        #: The `RequestHandler` rendering the page this module is part of.
        self.handler = handler
        #: The handler's request.
        self.request = handler.request
        #: The handler's ``ui`` namespace (modules and methods for templates).
        self.ui = handler.ui
        #: The handler's `~tornado.locale.Locale`.
        self.locale = handler.locale

    @property
    def current_user(self) -> Any:
        """The handler's `RequestHandler.current_user`."""
        return self.handler.current_user

    def render(self, *args: Any, **kwargs: Any) -> str | bytes:
        """Return the module's HTML.  Raises `NotImplementedError` unless
        overridden."""
        raise NotImplementedError()

    def embedded_javascript(self) -> str | None:
        """JavaScript to put in a ``<script>`` at the end of the body."""
        return None

    def javascript_files(self) -> Iterable[str] | None:
        """JavaScript files to link (relative paths go through static_url)."""
        return None

    def embedded_css(self) -> str | None:
        """CSS to put in a ``<style>`` in the head."""
        return None

    def css_files(self) -> Iterable[str] | None:
        """CSS files to link in the head."""
        return None

    def html_head(self) -> str | None:
        """HTML to put at the end of the ``<head>``."""
        return None

    def html_body(self) -> str | None:
        """HTML to put at the end of the ``<body>``."""
        return None

    def render_string(self, path: str, **kwargs: Any) -> bytes:
        """Render a template (see `RequestHandler.render_string`)."""
        return self.handler.render_string(path, **kwargs)


class _linkify(UIModule):
    def render(self, text: str, **kwargs: Any) -> str:
        return escape.linkify(text, **kwargs)


class _xsrf_form_html(UIModule):
    def render(self) -> str:
        return self.handler.xsrf_form_html()


class TemplateModule(UIModule):
    """Renders another template as a module: ``{% module Template("x.html",
    arg=1) %}``.

    The included template may call ``set_resources(embedded_javascript=...,
    javascript_files=..., embedded_css=..., css_files=..., html_head=...,
    html_body=...)`` to declare what it needs; each template's resources
    are included once however often it is rendered.
    """

    def __init__(self, handler: RequestHandler) -> None:
        """Bind to ``handler``."""
        super().__init__(handler)
        self._resource_list: list[dict[str, Any]] = []
        self._resource_dict: dict[str, dict[str, Any]] = {}

    def render(self, path: str, **kwargs: Any) -> bytes:
        """Render template ``path`` with ``kwargs``.  Raises `ValueError` if
        one template declares different resources on different renders."""

        def set_resources(**resources: Any) -> str:
            if path not in self._resource_dict:
                self._resource_list.append(resources)
                self._resource_dict[path] = resources
            elif self._resource_dict[path] != resources:
                raise ValueError(
                    "set_resources called with different resources for the same template"
                )
            return ""

        return self.render_string(path, set_resources=set_resources, **kwargs)

    def _get_resources(self, key: str) -> Iterable[Any]:
        return (r[key] for r in self._resource_list if key in r)

    def embedded_javascript(self) -> str:
        """The declared JavaScript, joined."""
        return "\n".join(self._get_resources("embedded_javascript"))

    def _files(self, key: str) -> list[str]:
        result: list[str] = []
        for entry in self._get_resources(key):
            if isinstance(entry, (str, bytes)):
                result.append(_unicode(entry))
            else:
                result.extend(entry)
        return result

    def javascript_files(self) -> list[str]:
        """The declared JavaScript files."""
        return self._files("javascript_files")

    def embedded_css(self) -> str:
        """The declared CSS, joined."""
        return "\n".join(self._get_resources("embedded_css"))

    def css_files(self) -> list[str]:
        """The declared CSS files."""
        return self._files("css_files")

    def html_head(self) -> str:
        """The declared head HTML."""
        return "".join(self._get_resources("html_head"))

    def html_body(self) -> str:
        """The declared body HTML."""
        return "".join(self._get_resources("html_body"))


class _HandlerUI(ObjectDict):
    """`RequestHandler.ui`: the application's UI methods bound to one
    handler, and ``modules`` (also ``_tt_modules``, the name templates use)
    to render its UI modules.

    The same mapping Tornado builds in every handler's constructor, except
    that it fills itself on first use: most requests render no template.
    Until then it refers to the handler only weakly, so an unused one makes
    no reference cycle; `_release` undoes the filling when the request is
    finished (entries the application set itself stay).
    """

    __slots__ = ("_handler_ref",)

    #: The entries filled in, or None before the first use.  (A class
    #: default, so that a new mapping costs one slot store, not two.)
    _filled: dict[str, Any] | None = None

    def _fill(self) -> None:
        if self._filled is not None:
            return
        filled: dict[str, Any] = {}
        handler = self._handler_ref()
        if handler is not None:
            application = handler.application
            for name, method in application.ui_methods.items():
                filled[name] = handler._ui_method(method)
            modules = _UIModuleNamespace(handler, application.ui_modules)
            filled["_tt_modules"] = modules
            filled["modules"] = modules
        object.__setattr__(self, "_filled", filled)
        if dict.__len__(self):
            for name, value in filled.items():
                # What the application set before first use wins, as it
                # would have replaced an entry of an eagerly built mapping.
                dict.setdefault(self, name, value)
        else:
            dict.update(self, filled)

    def _release(self) -> None:
        filled = self._filled
        if filled is None:
            return
        for name, value in filled.items():
            if dict.get(self, name) is value:
                dict.__delitem__(self, name)
        object.__setattr__(self, "_filled", None)

    # Every reading (and every change that a later filling could undo)
    # fills first; plain assignment needs not.

    def __getitem__(self, key: str) -> Any:
        self._fill()
        return dict.__getitem__(self, key)

    def __contains__(self, key: object) -> bool:
        self._fill()
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[str]:
        self._fill()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._fill()
        return dict.__len__(self)

    def __repr__(self) -> str:
        self._fill()
        return dict.__repr__(self)

    def __eq__(self, other: object) -> bool:
        self._fill()
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        self._fill()
        return dict.__ne__(self, other)

    __hash__ = None  # type: ignore[assignment]

    def __delitem__(self, key: str) -> None:
        self._fill()
        dict.__delitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        self._fill()
        return dict.get(self, key, default)

    def keys(self) -> Any:
        self._fill()
        return dict.keys(self)

    def values(self) -> Any:
        self._fill()
        return dict.values(self)

    def items(self) -> Any:
        self._fill()
        return dict.items(self)

    def copy(self) -> ObjectDict:
        self._fill()
        return ObjectDict(dict.items(self))

    def pop(self, key: str, *default: Any) -> Any:
        self._fill()
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[str, Any]:
        self._fill()
        return dict.popitem(self)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self._fill()
        return dict.setdefault(self, key, default)

    def clear(self) -> None:
        self._fill()
        dict.clear(self)

    def __reduce__(self) -> Any:
        self._fill()
        return (ObjectDict, (dict(dict.items(self)),))


# Stores a new _HandlerUI's handler reference through the slot's descriptor,
# past ObjectDict's __setattr__ (which would make it a key).
_set_handler_ref = _HandlerUI._handler_ref.__set__  # type: ignore[attr-defined]


class _UIModuleNamespace:
    """Gives templates ``modules.Name(...)`` access to the UI modules, bound
    to one handler."""

    def __init__(self, handler: RequestHandler, ui_modules: dict[str, type[UIModule]]) -> None:
        self.handler = handler
        self.ui_modules = ui_modules

    def __getitem__(self, key: str) -> Callable[..., str | bytes]:
        return self.handler._ui_module(key, self.ui_modules[key])

    def __getattr__(self, key: str) -> Callable[..., str | bytes]:
        try:
            return self[key]
        except KeyError as e:
            raise AttributeError(str(e))


# -- signed values ---------------------------------------------------------


def create_signed_value(
    secret: str | bytes | dict[int, str | bytes],
    name: str,
    value: str | bytes,
    version: int | None = None,
    clock: Callable[[], float] | None = None,
    key_version: int | None = None,
) -> bytes:
    """Sign ``value`` for ``name`` with ``secret`` (HMAC) and a timestamp.

    Version 2 (the default) uses HMAC-SHA256 and length-prefixed fields and
    may record ``key_version`` (``secret`` is then a dict of versions to
    keys); version 1 uses HMAC-SHA1.  The value is base64-encoded, not
    encrypted.  Raises `ValueError` for an unsupported version and
    `KeyError` for an unknown key version.
    """
    if version is None:
        version = DEFAULT_SIGNED_VALUE_VERSION
    if clock is None:
        clock = time.time
    timestamp = utf8(str(int(clock())))
    encoded = base64.b64encode(utf8(value))
    if version == 1:
        if isinstance(secret, dict):
            raise ValueError("version 1 signed values take a single secret")
        signature = _create_signature_v1(secret, name, encoded, timestamp)
        return b"|".join([encoded, timestamp, signature])
    if version == 2:

        def field(part: bytes) -> bytes:
            return utf8("%d:" % len(part)) + part

        key = secret
        if isinstance(secret, dict):
            if key_version is None:
                raise ValueError("key_version is needed with a dict of secrets")
            key = secret[key_version]
        to_sign = b"|".join(
            [
                b"2",
                field(utf8(str(key_version or 0))),
                field(timestamp),
                field(utf8(name)),
                field(encoded),
                b"",
            ]
        )
        assert not isinstance(key, dict)
        return to_sign + _create_signature_v2(key, to_sign)
    raise ValueError("Unsupported version %d" % version)


# A version-2 value starts with "2|"; version 1 starts with base64 (which
# never holds "|"), so a short prefix tells them apart.
_SIGNED_VERSION = rb"^([1-9][0-9]*)\|(.*)$"


def _get_version(value: bytes) -> int:
    match = re.match(_SIGNED_VERSION, value)
    if match is None:
        return 1
    try:
        version = int(match.group(1))
    except ValueError:
        return 1
    if version > 999:
        # A long digit run is a version-1 timestamp field, not a version.
        return 1
    return version


def decode_signed_value(
    secret: str | bytes | dict[int, str | bytes],
    name: str,
    value: str | bytes | None,
    max_age_days: float = 31,
    clock: Callable[[], float] | None = None,
    min_version: int | None = None,
) -> bytes | None:
    """Return the value signed by `create_signed_value`, or None if it is
    missing, malformed, signed with another key or name, expired (older
    than ``max_age_days``), from the future, or of a version below
    ``min_version``.  Raises `ValueError` for an unsupported ``min_version``.
    """
    if clock is None:
        clock = time.time
    if min_version is None:
        min_version = DEFAULT_SIGNED_VALUE_MIN_VERSION
    if min_version > 2:
        raise ValueError("Unsupported min_version %d" % min_version)
    if not value:
        return None
    raw = utf8(value)
    version = _get_version(raw)
    if version < min_version:
        return None
    if version == 1:
        if isinstance(secret, dict):
            return None
        return _decode_signed_value_v1(secret, name, raw, max_age_days, clock)
    if version == 2:
        return _decode_signed_value_v2(secret, name, raw, max_age_days, clock)
    return None


def _decode_signed_value_v1(
    secret: str | bytes, name: str, value: bytes, max_age_days: float, clock: Callable[[], float]
) -> bytes | None:
    parts = value.split(b"|")
    if len(parts) != 3:
        return None
    signature = _create_signature_v1(secret, name, parts[0], parts[1])
    if not hmac.compare_digest(parts[2], signature):
        gen_log.warning("Invalid cookie signature %r", value)
        return None
    try:
        timestamp = int(parts[1])
    except ValueError:
        return None
    if timestamp < clock() - max_age_days * 86400:
        gen_log.warning("Expired cookie %r", value)
        return None
    if timestamp > clock() + 31 * 86400:
        # A far-future timestamp means the value was made to outlive max_age.
        gen_log.warning("Cookie timestamp in future; possible tampering %r", value)
        return None
    if parts[1].startswith(b"0"):
        gen_log.warning("Tampered cookie %r", value)
        return None
    try:
        return base64.b64decode(parts[0])
    except Exception:
        return None


def _consume_field(rest: bytes) -> tuple[bytes, bytes]:
    """Split one ``length:value|`` field off the front; ValueError if malformed."""
    length_text, sep, rest = rest.partition(b":")
    if not sep or not length_text.isdigit():
        raise ValueError("malformed field")
    length = int(length_text)
    field_value = rest[:length]
    if len(field_value) != length or rest[length : length + 1] != b"|":
        raise ValueError("malformed field")
    return field_value, rest[length + 1 :]


def _decode_fields_v2(value: bytes) -> tuple[int, bytes, bytes, bytes, bytes]:
    rest = value[2:]  # "2|"
    key_version, rest = _consume_field(rest)
    timestamp, rest = _consume_field(rest)
    name_field, rest = _consume_field(rest)
    value_field, signature = _consume_field(rest)
    return int(key_version), timestamp, name_field, value_field, signature


def _decode_signed_value_v2(
    secret: str | bytes | dict[int, str | bytes],
    name: str,
    value: bytes,
    max_age_days: float,
    clock: Callable[[], float],
) -> bytes | None:
    try:
        key_version, timestamp_bytes, name_field, value_field, signature = _decode_fields_v2(value)
    except ValueError:
        return None
    signed_part = value[: -len(signature)] if signature else value
    if isinstance(secret, dict):
        try:
            key = secret[key_version]
        except KeyError:
            return None
    else:
        key = secret
    expected = _create_signature_v2(key, signed_part)
    if not hmac.compare_digest(signature, expected):
        return None
    if name_field != utf8(name):
        return None
    try:
        timestamp = int(timestamp_bytes)
    except ValueError:
        return None
    if timestamp < clock() - max_age_days * 86400:
        return None
    try:
        return base64.b64decode(value_field)
    except Exception:
        return None


def get_signature_key_version(value: str | bytes) -> int | None:
    """Return the key version recorded in a version-2 signed value (0 if it
    names none), or None for other versions or malformed values."""
    raw = utf8(value)
    if _get_version(raw) < 2:
        return None
    try:
        key_version, _, _, _, _ = _decode_fields_v2(raw)
    except ValueError:
        return None
    return key_version


def _create_signature_v1(secret: str | bytes, *parts: str | bytes) -> bytes:
    mac = hmac.new(utf8(secret), digestmod=hashlib.sha1)
    for part in parts:
        mac.update(utf8(part))
    return utf8(mac.hexdigest())


def _create_signature_v2(secret: str | bytes, to_sign: bytes) -> bytes:
    mac = hmac.new(utf8(secret), digestmod=hashlib.sha256)
    mac.update(to_sign)
    return utf8(mac.hexdigest())


#: Alias of `URLSpec` for handler lists: ``url(r"/", MainHandler, name="home")``.
url = URLSpec
