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
    # Without arguments the message is not a format string: "%" survives.
    plain = HTTPError(400, "100% wrong")
    assert plain.log_message == "100% wrong"
    assert plain.get_message() == "100% wrong"
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
