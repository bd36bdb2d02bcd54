"""RequestHandler basics end to end: verbs, arguments, headers, output,
errors, redirects, etags, flush and keep-alive, through a real server."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from typing import Any

import pytest

from tornado import gen
from tornado.web import (
    Application,
    Finish,
    HTTPError,
    MissingArgumentError,
    RequestHandler,
    addslash,
    removeslash,
    url,
)

pytestmark = pytest.mark.asyncio


class HelloHandler(RequestHandler):
    def get(self) -> None:
        self.write("Hello, world")


class EchoArgsHandler(RequestHandler):
    def get(self) -> None:
        self.write(
            {
                "a": self.get_argument("a"),
                "all": self.get_arguments("a"),
                "q": self.get_query_argument("a", None),
                "default": self.get_argument("missing", "dflt"),
                "nostrip": self.get_argument("s", "", strip=False),
            }
        )

    def post(self) -> None:
        self.write(
            {
                "body": self.get_body_arguments("b"),
                "query": self.get_query_arguments("b"),
                "both": self.get_arguments("b"),
            }
        )


class PathArgsHandler(RequestHandler):
    def get(self, first: str, second: str) -> None:
        self.write({"args": [first, second], "path_args": self.path_args})


class NamedArgsHandler(RequestHandler):
    def get(self, name: str) -> None:
        self.write({"name": name, "kwargs": self.path_kwargs})


class AsyncHandler(RequestHandler):
    async def prepare(self) -> None:
        await asyncio.sleep(0)
        self.prepared = "yes"

    async def get(self) -> None:
        await asyncio.sleep(0)
        self.write("async " + self.prepared)


class GenHandler(RequestHandler):
    @gen.coroutine
    def get(self) -> Any:
        yield gen.moment
        self.write("gen")


class StatusHandler(RequestHandler):
    def get(self) -> None:
        code = int(self.get_argument("code"))
        reason = self.get_argument("reason", None)
        self.set_status(code, reason)
        if code not in (204, 304):
            self.write("status")


class HeaderHandler(RequestHandler):
    def set_default_headers(self) -> None:
        self.set_header("X-Default", "on")

    def get(self) -> None:
        self.set_header("X-Int", 42)
        self.add_header("X-Multi", "one")
        self.add_header("X-Multi", "two")
        self.set_header("X-Gone", "x")
        self.clear_header("X-Gone")
        self.set_header("Server", "mine")
        self.write("ok")


class BadHeaderHandler(RequestHandler):
    def get(self) -> None:
        try:
            self.set_header("X-Evil", "a\r\nSet-Cookie: pwned=1")
        except ValueError:
            self.write("refused")


class ErrorsHandler(RequestHandler):
    def get(self, kind: str) -> None:
        if kind == "http":
            raise HTTPError(418, "teapot %s", "secret-detail", reason="I'm a Teapot")
        if kind == "crash":
            raise ZeroDivisionError("secret-detail-in-exception")
        if kind == "missing":
            self.get_argument("nope")
        if kind == "finish":
            self.write("partial ")
            raise Finish("finished")
        if kind == "send":
            self.send_error(503, reason="Busy")


class RedirectingHandler(RequestHandler):
    def get(self) -> None:
        kind = self.get_argument("kind")
        if kind == "temp":
            self.redirect("/target")
        elif kind == "perm":
            self.redirect("/target", permanent=True)
        else:
            self.redirect("/target", status=307)


class SlashHandler(RequestHandler):
    @removeslash
    def get(self) -> None:
        self.write("no slash")

    @removeslash
    def post(self) -> None:
        self.write("posted")


class AddSlashHandler(RequestHandler):
    @addslash
    def get(self) -> None:
        self.write("slash")


class FlushHandler(RequestHandler):
    async def get(self) -> None:
        self.write("first ")
        await self.flush()
        self.write("second")


class ListWriteHandler(RequestHandler):
    def get(self) -> None:
        try:
            self.write([1, 2])  # type: ignore[arg-type]
        except TypeError as e:
            self.write(str(e))


class FinishTwiceHandler(RequestHandler):
    def get(self) -> None:
        self.finish("done")
        try:
            self.finish()
        except RuntimeError:
            self.application.settings["finish_twice"] = True


class EtagHandler(RequestHandler):
    def get(self) -> None:
        self.write("etag body")


def make_app(**settings: Any) -> Application:
    return Application(
        [
            (r"/", HelloHandler),
            (r"/args", EchoArgsHandler),
            (r"/path/([^/]+)/([^/]+)", PathArgsHandler),
            (r"/named/(?P<name>[^/]+)", NamedArgsHandler),
            (r"/async", AsyncHandler),
            (r"/gen", GenHandler),
            (r"/status", StatusHandler),
            (r"/headers", HeaderHandler),
            (r"/badheader", BadHeaderHandler),
            (r"/error/(\w+)", ErrorsHandler),
            (r"/redirect", RedirectingHandler),
            (r"/slash/?", SlashHandler),
            (r"/addslash/?", AddSlashHandler),
            # Catch-alls see paths that start with two slashes.
            (r"/+rem.*", SlashHandler),
            (r"/+add.*", AddSlashHandler),
            (r"/flush", FlushHandler),
            (r"/list", ListWriteHandler),
            (r"/twice", FinishTwiceHandler),
            url(r"/etag", EtagHandler, name="etag"),
        ],
        **settings,
    )


async def test_hello_world(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/")
    assert response.code == 200
    assert response.body == b"Hello, world"
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert response.headers["Content-Length"] == "12"
    assert response.headers["Server"].startswith("TornadoServer/")
    assert "GMT" in response.headers["Date"]


async def test_unknown_path_is_404(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/nowhere")
    assert response.code == 404
    assert b"404: Not Found" in response.body


async def test_unimplemented_and_unsupported_methods_are_405(serve: Any) -> None:
    client = await serve(make_app())
    assert (await client.fetch("/", method="DELETE")).code == 405
    assert (await client.fetch("/", method="PROPFIND")).code == 405


async def test_arguments(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/args?a=1&a=%20two%20&s=%20x%20")
    assert json.loads(response.body) == {
        "a": "two",
        "all": ["1", "two"],
        "q": "two",
        "default": "dflt",
        "nostrip": " x ",
    }
    assert response.headers["Content-Type"] == "application/json; charset=UTF-8"


async def test_missing_argument_is_400(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/args")
    assert response.code == 400
    assert b"Missing argument" not in response.body  # log message stays in the log


async def test_body_and_query_arguments_are_separate(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch(
        "/args?b=q",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        body="b=body1&b=body2",
    )
    assert json.loads(response.body) == {
        "body": ["body1", "body2"],
        "query": ["q"],
        "both": ["q", "body1", "body2"],
    }


async def test_path_args_are_decoded(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/path/caf%C3%A9/a%20b")
    assert json.loads(response.body) == {"args": ["café", "a b"], "path_args": ["café", "a b"]}
    response = await client.fetch("/named/x%2Fy")
    assert json.loads(response.body) == {"name": "x/y", "kwargs": {"name": "x/y"}}


async def test_invalid_utf8_in_path_is_400(serve: Any) -> None:
    client = await serve(make_app())
    assert (await client.fetch("/path/%FF/x")).code == 400


async def test_async_prepare_and_method(serve: Any) -> None:
    client = await serve(make_app())
    assert (await client.fetch("/async")).body == b"async yes"
    assert (await client.fetch("/gen")).body == b"gen"


async def test_status_codes_and_reasons(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/status?code=201")
    assert (response.code, response.reason) == (201, "Created")
    response = await client.fetch("/status?code=599")
    assert (response.code, response.reason) == (599, "Unknown")
    response = await client.fetch("/status?code=299&reason=Custom")
    assert (response.code, response.reason) == (299, "Custom")
    response = await client.fetch("/status?code=204")
    assert response.code == 204
    assert "Content-Type" not in response.headers
    assert response.body == b""


async def test_headers(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/headers")
    assert response.headers["X-Default"] == "on"
    assert response.headers["X-Int"] == "42"
    assert response.headers.get_list("X-Multi") == ["one", "two"]
    assert "X-Gone" not in response.headers
    assert response.headers["Server"] == "mine"


async def test_header_injection_is_refused(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/badheader")
    assert response.body == b"refused"
    assert "Set-Cookie" not in response.headers


async def test_http_error_uses_reason_and_hides_log_message(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve(make_app())
    with caplog.at_level(logging.WARNING, logger="tornado.general"):
        response = await client.fetch("/error/http")
    assert (response.code, response.reason) == (418, "I'm a Teapot")
    assert b"secret-detail" not in response.body
    assert any("teapot secret-detail" in r.getMessage() for r in caplog.records)


async def test_uncaught_exception_is_500_without_traceback(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve(make_app())
    with caplog.at_level(logging.ERROR, logger="tornado.application"):
        response = await client.fetch("/error/crash")
    assert response.code == 500
    assert b"Traceback" not in response.body
    assert b"secret-detail" not in response.body
    assert b"ZeroDivisionError" not in response.body
    assert response.body == (
        b"<html><title>500: Internal Server Error</title>"
        b"<body>500: Internal Server Error</body></html>"
    )
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


async def test_debug_serves_traceback(serve: Any) -> None:
    client = await serve(make_app(serve_traceback=True))
    response = await client.fetch("/error/crash")
    assert response.code == 500
    assert b"Traceback" in response.body
    assert b"ZeroDivisionError: secret-detail-in-exception" in response.body
    assert response.headers["Content-Type"] == "text/plain"


async def test_finish_exception_and_send_error(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/error/finish")
    assert (response.code, response.body) == (200, b"partial finished")
    response = await client.fetch("/error/send")
    assert (response.code, response.reason) == (503, "Busy")
    response = await client.fetch("/error/missing")
    assert response.code == 400
    assert isinstance(MissingArgumentError("x"), HTTPError)


async def test_redirects(serve: Any) -> None:
    client = await serve(make_app())
    for kind, code in (("temp", 302), ("perm", 301), ("other", 307)):
        response = await client.fetch("/redirect?kind=" + kind)
        assert response.code == code
        assert response.headers["Location"] == "/target"


async def test_removeslash_and_addslash(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/slash/?x=1")
    assert (response.code, response.headers["Location"]) == (301, "/slash?x=1")
    assert (await client.fetch("/slash")).body == b"no slash"
    assert (await client.fetch("/slash/", method="POST", body=b"")).code == 404
    response = await client.fetch("/addslash")
    assert (response.code, response.headers["Location"]) == (301, "/addslash/")
    assert (await client.fetch("/addslash/")).body == b"slash"


async def test_slash_decorators_refuse_protocol_relative_redirects(serve: Any) -> None:
    client = await serve(make_app())
    # Redirecting to "//add.example.com/" would send the browser off-site.
    for path in (
        "//add.example.com",
        "///add.example.com",
        "//rem.example.com/",
        "///rem.example.com/x/",
    ):
        response = await client.fetch(path)
        assert response.code == 403, path
        assert "Location" not in response.headers
    response = await client.fetch("/add.example.com")
    assert (response.code, response.headers["Location"]) == (301, "/add.example.com/")


async def test_flush_streams_chunked(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/flush")
    assert response.body == b"first second"
    assert response.headers.get("Transfer-Encoding") == "chunked"


async def test_write_refuses_lists(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/list")
    assert b"Lists not accepted" in response.body


async def test_finish_twice_raises(serve: Any) -> None:
    app = make_app()
    client = await serve(app)
    assert (await client.fetch("/twice")).body == b"done"
    assert app.settings["finish_twice"] is True


async def test_etag_and_if_none_match(serve: Any) -> None:
    client = await serve(make_app())
    response = await client.fetch("/etag")
    etag = response.headers["Etag"]
    assert etag.startswith('"') and etag.endswith('"')
    for header in (etag, "W/" + etag, '"other", ' + etag, "*"):
        response = await client.fetch("/etag", headers={"If-None-Match": header})
        assert response.code == 304, header
        assert response.body == b""
    response = await client.fetch("/etag", headers={"If-None-Match": '"other"'})
    assert response.code == 200


async def test_head_has_no_body(serve: Any) -> None:
    client = await serve(
        Application([(r"/", type("H", (HelloHandler,), {"head": HelloHandler.get}))])
    )
    response = await client.fetch("/", method="HEAD")
    assert response.code == 200
    assert response.headers["Content-Length"] == "12"
    assert response.body == b""


async def test_keep_alive_serves_many_requests_on_one_connection(serve: Any) -> None:
    client = await serve(make_app())
    connection = await client.connect()
    for i in range(20):
        response = await connection.request(f"/args?a={i}")
        assert json.loads(response.body)["a"] == str(i)
    response = await connection.request("/error/crash")
    assert response.code == 500
    response = await connection.request("/")
    assert response.body == b"Hello, world"


async def test_reverse_url(serve: Any) -> None:
    app = make_app()
    assert app.reverse_url("etag") == "/etag"
    with pytest.raises(KeyError):
        app.reverse_url("nope")


async def test_default_handler_class(serve: Any) -> None:
    class Fallback(RequestHandler):
        def initialize(self, word: str) -> None:
            self.word = word

        def get(self) -> None:
            self.write(self.word)

    client = await serve(
        Application(
            [(r"/", HelloHandler)],
            default_handler_class=Fallback,
            default_handler_args={"word": "fallback"},
        )
    )
    assert (await client.fetch("/anything")).body == b"fallback"


async def test_log_request_levels_and_format(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = await serve(make_app())
    with caplog.at_level(logging.INFO, logger="tornado.access"):
        await client.fetch("/")
        await client.fetch("/nowhere")
        await client.fetch("/error/crash")
    access = [r for r in caplog.records if r.name == "tornado.access"]
    assert [r.levelno for r in access] == [logging.INFO, logging.WARNING, logging.ERROR]
    assert access[0].getMessage().startswith("200 GET / (127.0.0.1) ")
    assert access[0].getMessage().endswith("ms")


async def test_log_function_setting(serve: Any) -> None:
    seen: list[tuple[int, str]] = []
    client = await serve(
        make_app(log_function=lambda h: seen.append((h.get_status(), h.request.path)))
    )
    await client.fetch("/")
    assert seen == [(200, "/")]


class HeaderValueHandler(RequestHandler):
    def get(self) -> None:
        # Raw, not get_argument (which turns control characters into spaces).
        value = self.request.query_arguments["value"][0].decode("utf-8")
        try:
            self.set_header("X-Value", value)
        except ValueError:
            self.write("refused")
            return
        self.write("set")


async def test_set_header_str_rules(serve: Any) -> None:
    client = await serve(Application([("/", HeaderValueHandler)]))
    # Tab and latin-1 text are allowed; controls, DEL and characters beyond
    # latin-1 (which a head cannot carry) are refused.
    for value, accepted in (
        ("plain", True),
        ("a\tb", True),
        ("caf\u00e9", True),
        ("\u00ff", True),
        ("a\x7fb", False),
        ("a\x00", False),
        ("a\x1fb", False),
        ("\u0100", False),
        ("snow \u2603", False),
        ("\U0001f600", False),
    ):
        response = await client.fetch("/?value=" + urllib.parse.quote(value))
        assert response.text == ("set" if accepted else "refused"), value
        if accepted:
            assert response.headers["X-Value"] == value


async def test_many_distinct_reasons(serve: Any) -> None:
    # Start lines are shared per (code, reason) up to a bound; past it every
    # response still carries its own reason.
    client = await serve(Application([("/status", StatusHandler)]))
    for i in range(260):
        response = await client.fetch(f"/status?code=200&reason=Reason{i}")
        assert (response.code, response.reason) == (200, f"Reason{i}")
