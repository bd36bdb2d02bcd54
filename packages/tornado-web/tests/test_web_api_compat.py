"""Names and small behaviours of the Tornado 6.6 API that code may rely on."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from tornado import httputil, wsgi
from tornado.web import Application, ErrorHandler, HTTPError, MissingArgumentError, RequestHandler


def test_http_error_message_and_arguments() -> None:
    error = HTTPError(404, "no %s here", "page")
    assert error.log_message == "no %s here"
    assert error.args == ("page",)
    assert error.get_message() == "no page here"
    assert str(error) == "HTTP 404: Not Found (no page here)"
    # Without arguments the message is not a format string: "%" survives,
    # and log_message doubles it so that formatting it cannot fail.
    plain = HTTPError(400, "100% wrong")
    assert plain.log_message == "100%% wrong"
    assert plain.log_message % plain.args == "100% wrong"
    assert plain.get_message() == "100% wrong"
    assert HTTPError(400, "50%% off", "x").log_message == "50%% off"
    assert HTTPError(400, "%d%% of %s", 5, "x").get_message() == "5% of x"
    assert HTTPError(400).log_message is None
    assert HTTPError(400, "").log_message == ""
    assert str(plain) == "HTTP 400: Bad Request (100% wrong)"
    assert HTTPError(500).get_message() is None
    assert MissingArgumentError("foo").log_message == "Missing argument foo"


class PercentHandler(RequestHandler):
    def get(self) -> None:
        raise HTTPError(400, "bad value 100%")


@pytest.mark.asyncio
async def test_http_error_log_keeps_a_literal_percent(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve(Application([(r"/", PercentHandler)]))
    with caplog.at_level(logging.WARNING, logger="tornado.general"):
        assert (await client.fetch("/")).code == 400
    assert any(r.getMessage().endswith(": bad value 100%") for r in caplog.records)


@pytest.mark.asyncio
async def test_error_handler_status_wins_over_cross_origin_protection(serve: Any) -> None:
    assert ErrorHandler.check_trusted_origin is not RequestHandler.check_trusted_origin
    client = await serve(Application([(r"/", PercentHandler)], cross_origin_protection=True))
    cross_site = {"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"}
    response = await client.fetch("/nowhere", method="POST", headers=cross_site, body=b"")
    assert response.code == 404
    response = await client.fetch("/", method="POST", headers=cross_site, body=b"")
    assert response.code == 403


def test_wsgi_compatibility_names() -> None:
    assert wsgi.HTTPRequest is httputil.HTTPServerRequest
    assert wsgi.to_wsgi_str(b"caf\xc3\xa9") == "caf\xc3\xa9"


class BothFramingHeadersHandler(RequestHandler):
    def get(self) -> None:
        self.set_header("Transfer-Encoding", "chunked")
        self.set_header("Content-Length", "2")
        self.write("hi")


@pytest.mark.asyncio
async def test_refused_response_headers_close_the_connection(serve: Any) -> None:
    # The server will not send both framing headers (RFC 9112 6.1).  As with
    # a body longer than its Content-Length, the message is broken once the
    # headers count as written: the client sees the connection end (never a
    # raw body it would wait on), and the server goes on serving.
    client = await serve(
        Application([(r"/both", BothFramingHeadersHandler), (r"/", PercentHandler)])
    )
    with pytest.raises(asyncio.IncompleteReadError):
        await asyncio.wait_for(client.fetch("/both"), 10)
    assert (await client.fetch("/")).code == 400


class NonLatin1HeaderHandler(RequestHandler):
    def get(self, how: str) -> None:
        if how == "set":
            self.set_header("X-Price", "10 \u20ac")
        else:
            self.add_header("X-Price", "10 \u20ac")
        self.write("unreachable")


@pytest.mark.asyncio
async def test_header_value_beyond_latin1_is_a_clean_500(serve: Any) -> None:
    # A response head is latin-1: such a value is refused when it is set,
    # so the client gets an error page rather than a dropped connection.
    client = await serve(Application([(r"/(set|add)", NonLatin1HeaderHandler)]))
    for how in ("set", "add"):
        response = await client.fetch(f"/{how}")
        assert response.code == 500, how
        assert "X-Price" not in response.headers


class PathEchoHandler(RequestHandler):
    def get(self, rest: str) -> None:
        self.write({"arg": rest, "path": self.request.path})


@pytest.mark.asyncio
async def test_unescaped_utf8_in_the_path_is_served_as_tornado_does(serve: Any) -> None:
    # Some clients send raw UTF-8 instead of %-escapes; Tornado serves them,
    # reading the bytes as latin-1 (so "é" arrives as two characters).
    client = await serve(Application([(r"/(.*)", PathEchoHandler)]))
    response = await client.fetch("/caf\xc3\xa9")
    assert response.code == 200
    assert json.loads(response.body) == {"arg": "caf\xc3\xa9", "path": "/caf\xc3\xa9"}


def _bare_handler(cls: type[RequestHandler], app: Application, **kwargs: Any) -> RequestHandler:
    # As applications' unit tests build them: a request without a connection.
    request = httputil.HTTPServerRequest(method="GET", headers=httputil.HTTPHeaders())
    return cls(app, request, **kwargs)


def test_handler_from_a_bare_request() -> None:
    handler = _bare_handler(RequestHandler, Application())
    assert handler.request.path == "/"
    assert handler.request.uri == "/"
    assert handler.get_argument("x", "default") == "default"
    assert handler.ui.modules is handler.ui["_tt_modules"]


def test_initialize_receives_the_url_spec_kwargs() -> None:
    import inspect

    assert list(inspect.signature(RequestHandler.initialize).parameters) == ["self"]

    class WithDatabase(RequestHandler):
        def initialize(self, database: str) -> None:  # type: ignore[override]
            self.database = database

    handler = _bare_handler(WithDatabase, Application(), database="db")
    assert handler.database == "db"  # type: ignore[attr-defined]
    # The base class takes no keyword arguments.
    with pytest.raises(TypeError):
        _bare_handler(RequestHandler, Application(), database="db")


def _upper(handler: RequestHandler, text: str) -> str:
    return text.upper()


def test_ui_namespace_is_an_instance_attribute() -> None:
    from tornado.web import UIModule

    class Hello(UIModule):
        def render(self, name: str) -> str:
            return f"hello {name}"

    app = Application(ui_methods={"upper": _upper}, ui_modules={"Hello": Hello})
    handler = _bare_handler(RequestHandler, app)
    assert "ui" in vars(handler)
    ui = handler.ui
    assert ui.upper("x") == "X"
    assert ui["upper"]("y") == "Y"
    assert ui.modules.Hello("you") == "hello you"
    assert ui._tt_modules is ui.modules
    assert {"upper", "modules", "_tt_modules"} <= set(ui)
    assert "modules" in ui
    assert dict(ui).keys() == set(ui.keys())
    # The template namespace carries the same entries.
    namespace = handler.get_template_namespace()
    assert namespace["_tt_modules"] is ui.modules
    assert namespace["upper"]("z") == "Z"
    # An application may add its own entries to ui, which win.
    other = _bare_handler(RequestHandler, app)
    other.ui["upper"] = str.lower
    assert other.ui.upper("ABC") == "abc"
    assert "Hello" in other.ui.modules.ui_modules


def test_ui_modules_see_the_handler_ui() -> None:
    from tornado.web import UIModule

    seen: list[Any] = []

    class Probe(UIModule):
        def render(self) -> str:
            seen.append(self.ui)
            return ""

    handler = _bare_handler(RequestHandler, Application(ui_modules={"Probe": Probe}))
    handler.ui.modules.Probe()
    assert seen == [handler.ui]
    assert seen[0] is handler.ui


def test_is_absolute() -> None:
    from tornado.web import is_absolute

    for path in ["/static/app.js", "http://cdn.example/a.js", "https://cdn.example/a.js", "//x"]:
        assert is_absolute(path)
    for path in ["app.js", "js/app.js", "ftp://x/a.js", "httpx/a.js", ""]:
        assert not is_absolute(path)


class PartitionedCookieHandler(RequestHandler):
    def get(self) -> None:
        self.set_cookie("a", "1", secure=True, samesite="None", partitioned=True)
        self.set_cookie("b", "2", partitioned=False)


@pytest.mark.asyncio
async def test_set_cookie_partitioned_through_keywords(serve: Any) -> None:
    import inspect

    assert "partitioned" not in inspect.signature(RequestHandler.set_cookie).parameters
    client = await serve(Application([(r"/", PartitionedCookieHandler)]))
    response = await client.fetch("/")
    cookies = response.headers.get_list("Set-Cookie")
    first = next(c for c in cookies if c.startswith("a="))
    second = next(c for c in cookies if c.startswith("b="))
    assert "Partitioned" in first and "Secure" in first
    assert "Partitioned" not in second


def test_mixin_init_after_request_handler_is_called() -> None:
    calls: list[str] = []

    class Tracking:
        def __init__(self) -> None:
            calls.append("mixin")
            super().__init__()

    class Handler(RequestHandler, Tracking):
        def initialize(self) -> None:
            calls.append("initialize")

    _bare_handler(Handler, Application())
    _bare_handler(Handler, Application())
    assert calls == ["mixin", "initialize"] * 2
    # Plain handlers have nothing to call, and still build.
    assert _bare_handler(RequestHandler, Application()).request.method == "GET"


def test_wsgi_environ_of_a_request_built_without_uri() -> None:
    request = httputil.HTTPServerRequest(
        method="GET", headers=httputil.HTTPHeaders({"Host": "example.com:8080"})
    )
    environ = wsgi.WSGIContainer(lambda environ, start_response: [b""]).environ(request)
    assert environ["PATH_INFO"] == "/"
    assert environ["QUERY_STRING"] == ""
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.com", "8080")
