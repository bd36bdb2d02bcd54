"""AsyncHTTPTestCase and AsyncHTTPSTestCase with a bare callback app and with an Application."""

from __future__ import annotations

import socket
import ssl
import unittest
from typing import Any

import pytest

from tornado.httpclient import HTTPClientError, HTTPResponse
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders, HTTPServerRequest, ResponseStartLine
from tornado.testing import AsyncHTTPSTestCase, AsyncHTTPTestCase, gen_test
from tornado.web import Application, RequestHandler


def run_case(case: type[unittest.TestCase], name: str) -> unittest.TestResult:
    result = unittest.TestResult()
    case(name).run(result)
    assert result.testsRun == 1
    return result


def assert_passed(result: unittest.TestResult) -> None:
    assert result.wasSuccessful(), result.errors + result.failures


def plain_app(request: HTTPServerRequest) -> None:
    """A bare HTTPServer callback: echoes the path, 404 for /missing."""
    assert request.connection is not None
    body = request.path.encode()
    status = 404 if request.path == "/missing" else 200
    request.connection.write_headers(
        ResponseStartLine("HTTP/1.1", status, "Not Found" if status == 404 else "OK"),
        HTTPHeaders({"Content-Length": str(len(body))}),
        body,
    )
    request.connection.finish()


class HelloHandler(RequestHandler):
    def get(self) -> None:
        self.write("hello " + self.get_argument("name", "world"))

    def post(self) -> None:
        self.write(b"posted " + self.request.body)


class Broken(RequestHandler):
    def get(self) -> None:
        raise ValueError("handler bug")


def make_app() -> Application:
    return Application([("/", HelloHandler), ("/broken", Broken)])


class Seen:
    values: dict[str, Any] = {}


class TestWithPlainCallback:
    def test_fetch_path_and_status(self) -> None:
        class Case(AsyncHTTPTestCase):
            def get_app(self) -> Any:
                return plain_app

            def test_it(self) -> None:
                response = self.fetch("/some/path")
                assert response.code == 200
                assert response.body == b"/some/path"
                missing = self.fetch("/missing")
                Seen.values["codes"] = (response.code, missing.code)

        assert_passed(run_case(Case, "test_it"))
        assert Seen.values["codes"] == (200, 404)

    def test_raise_error(self) -> None:
        class Case(AsyncHTTPTestCase):
            def get_app(self) -> Any:
                return plain_app

            def test_it(self) -> None:
                with pytest.raises(HTTPClientError) as info:
                    self.fetch("/missing", raise_error=True)
                Seen.values["raised"] = info.value.code

        assert_passed(run_case(Case, "test_it"))
        assert Seen.values["raised"] == 404


class TestWithApplication:
    def test_urls_ports_and_fetch_options(self) -> None:
        class Case(AsyncHTTPTestCase):
            def get_app(self) -> Application:
                return make_app()

            def test_it(self) -> None:
                port = self.get_http_port()
                assert self.get_url("/x?y=1") == f"http://127.0.0.1:{port}/x?y=1"
                assert self.get_protocol() == "http"
                assert isinstance(self.http_server, HTTPServer)
                response = self.fetch("/?name=tests")
                assert response.body == b"hello tests"
                assert response.request.url == self.get_url("/?name=tests")
                posted = self.fetch("/", method="POST", body="data")
                assert posted.body == b"posted data"

        assert_passed(run_case(Case, "test_it"))

    def test_fetch_of_a_full_url_goes_elsewhere(self) -> None:
        class Case(AsyncHTTPTestCase):
            def get_app(self) -> Application:
                return make_app()

            def test_it(self) -> None:
                other = HTTPServer(plain_app)
                sock = socket.socket()
                sock.bind(("127.0.0.1", 0))
                sock.listen()
                sock.setblocking(False)
                other.add_sockets([sock])
                try:
                    url = f"http://127.0.0.1:{sock.getsockname()[1]}/elsewhere"
                    response = self.fetch(url)
                    assert response.body == b"/elsewhere"
                    assert response.request.url == url
                finally:
                    other.stop()

        assert_passed(run_case(Case, "test_it"))

    def test_server_error_is_a_response_and_log_is_expected(self) -> None:
        from tornado.testing import ExpectLog

        class Case(AsyncHTTPTestCase):
            def get_app(self) -> Application:
                return make_app()

            def test_it(self) -> None:
                with ExpectLog("tornado.application", "Uncaught exception", level=40):
                    response = self.fetch("/broken")
                assert response.code == 500

        assert_passed(run_case(Case, "test_it"))

    def test_gen_test_with_http_client(self) -> None:
        class Case(AsyncHTTPTestCase):
            def get_app(self) -> Application:
                return make_app()

            @gen_test
            async def test_it(self) -> None:
                response: HTTPResponse = await self.http_client.fetch(self.get_url("/"))
                assert response.body == b"hello world"

        assert_passed(run_case(Case, "test_it"))

    def test_server_options_and_port_released_after_the_test(self) -> None:
        class Case(AsyncHTTPTestCase):
            def get_app(self) -> Application:
                return make_app()

            def get_httpserver_options(self) -> dict[str, Any]:
                return {"xheaders": True}

            def test_it(self) -> None:
                Seen.values["port"] = self.get_http_port()
                Seen.values["xheaders"] = self.http_server.xheaders
                assert self.fetch("/").code == 200

        assert_passed(run_case(Case, "test_it"))
        assert Seen.values["xheaders"] is True
        with socket.socket() as probe:
            # Nothing listens any more: the server was stopped.
            assert probe.connect_ex(("127.0.0.1", Seen.values["port"])) != 0

    def test_get_app_is_required(self) -> None:
        class Case(AsyncHTTPTestCase):
            def test_it(self) -> None:
                pass

        result = run_case(Case, "test_it")
        assert "NotImplementedError" in result.errors[0][1]


class TestHTTPS:
    def test_https_with_bundled_certificate(self) -> None:
        class Case(AsyncHTTPSTestCase):
            def get_app(self) -> Application:
                return make_app()

            def test_it(self) -> None:
                assert self.get_protocol() == "https"
                assert self.get_url("/").startswith("https://127.0.0.1:")
                response = self.fetch("/?name=tls")
                assert response.body == b"hello tls"

        assert_passed(run_case(Case, "test_it"))

    def test_certificate_files_exist(self) -> None:
        class Case(AsyncHTTPSTestCase):
            def get_app(self) -> Application:
                return make_app()

        options = Case("get_app").get_ssl_options()
        with open(options["certfile"]) as cert, open(options["keyfile"]) as key:
            assert "BEGIN CERTIFICATE" in cert.read()
            assert "PRIVATE KEY" in key.read()

    def test_default_ssl_options_extended_by_an_override(self) -> None:
        # default_ssl_options is static: an override of get_ssl_options can
        # start from it without an instance, and the server uses the result.
        options = AsyncHTTPSTestCase.default_ssl_options()
        assert set(options) == {"certfile", "keyfile"}
        # A new dict each time: changing one does not change the default.
        options["ciphers"] = "changed"
        assert "ciphers" not in AsyncHTTPSTestCase.default_ssl_options()

        class Case(AsyncHTTPSTestCase):
            def get_app(self) -> Application:
                return make_app()

            def get_ssl_options(self) -> dict[str, Any]:
                return dict(
                    ssl_version=ssl.PROTOCOL_TLS_SERVER, **AsyncHTTPSTestCase.default_ssl_options()
                )

            def test_it(self) -> None:
                assert self.fetch("/?name=tls").body == b"hello tls"

        assert_passed(run_case(Case, "test_it"))
