"""Templates and UI modules, gzip, streamed request bodies, connection close,
WSGIContainer, FallbackHandler and HTTPS, through a real server."""

from __future__ import annotations

import asyncio
import gzip
import json
import ssl
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tornado.template import DictLoader
from tornado.web import (
    Application,
    FallbackHandler,
    GZipContentEncoding,
    HTTPError,
    RequestHandler,
    UIModule,
    stream_request_body,
)
from tornado.wsgi import WSGIContainer

pytestmark = pytest.mark.asyncio


class Greeting(UIModule):
    def render(self, name: str) -> str:
        return f"<em>{name}</em>"

    def embedded_css(self) -> str:
        return ".g { color: red }"

    def javascript_files(self) -> list[str]:
        return ["/js/greet.js", "https://cdn.example/lib.js", "/js/greet.js"]

    def embedded_javascript(self) -> str:
        return "greet();"

    def html_body(self) -> str:
        return "<div id='tail'></div>"


def shout(handler: RequestHandler, text: str) -> str:
    return text.upper() + handler.request.path


TEMPLATES = {
    "page.html": (
        "<html><head><title>{{ title }}</title></head><body>"
        "{{ title }}|{% module Greeting(name) %}|{{ shout('hi') }}|{{ _('Hello') }}|"
        "{{ reverse_url('page') }}|{% module Template('part.html', x=1) %}"
        "{% module Template('part.html', x=2) %}|{{ current_user }}"
        "</body></html>"
    ),
    "part.html": "{{ set_resources(css_files='part.css', embedded_javascript='part();') }}[{{ x }}]",
    "raw.html": "{% raw title %}|{{ title }}",
}


class PageHandler(RequestHandler):
    def get_current_user(self) -> str:
        return "ada"

    def get(self) -> None:
        self.render("page.html", title="<T>", name="Bo")


class RawHandler(RequestHandler):
    def get(self) -> None:
        self.render("raw.html", title="<b>")


def template_app(**settings: Any) -> Application:
    from tornado.routing import URLSpec

    return Application(
        [URLSpec(r"/page", PageHandler, name="page"), (r"/raw", RawHandler)],
        template_loader=DictLoader(TEMPLATES),
        ui_modules={"Greeting": Greeting},
        ui_methods={"shout": shout, "_private": shout},
        **settings,
    )


async def test_render_with_ui_modules_and_methods(serve: Any) -> None:
    client = await serve(template_app(static_path="/nonexistent"))
    response = await client.fetch("/page")
    html = response.text
    assert response.code == 200
    assert "<title>&lt;T&gt;</title>" in html
    assert "|<em>Bo</em>|HI/page|Hello|/page|[1][2]|ada" in html
    # Resources: linked once, in head (css) and before </body> (js).
    head, body = html.split("</head>")
    assert '<style type="text/css">\n.g { color: red }\n</style>' in head
    assert 'href="/static/part.css"' in head
    assert body.count('src="/js/greet.js"') == 1
    assert 'src="https://cdn.example/lib.js"' in body
    assert "greet();\npart();" in body
    assert body.index("<div id='tail'></div>") < body.index("</body>")


async def test_autoescape_and_whitespace_settings(serve: Any, tmp_path: Path) -> None:
    for name, settings, expected in (
        ("plain", {"autoescape": None}, "<b>|<b>\nx"),
        ("escaped", {}, "<b>|&lt;b&gt;\nx"),
        ("oneline", {"template_whitespace": "oneline"}, "<b>|&lt;b&gt; x"),
    ):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "raw.html").write_text("{% raw title %}|{{ title }}\n\n   x")
        client = await serve(
            Application([(r"/raw", RawHandler)], template_path=str(folder), **settings)
        )
        assert (await client.fetch("/raw")).text == expected, name


class TemplateDirHandler(RequestHandler):
    def get(self) -> None:
        self.render("t.html", word="from disk")


async def test_template_path_and_cache(serve: Any, tmp_path: Path) -> None:
    (tmp_path / "t.html").write_text("v1 {{ word }}")
    client = await serve(Application([(r"/", TemplateDirHandler)], template_path=str(tmp_path)))
    assert (await client.fetch("/")).text == "v1 from disk"
    (tmp_path / "t.html").write_text("v2 {{ word }}")
    assert (await client.fetch("/")).text == "v1 from disk"  # compiled templates are cached
    client = await serve(
        Application(
            [(r"/", TemplateDirHandler)], template_path=str(tmp_path), compiled_template_cache=False
        )
    )
    assert (await client.fetch("/")).text == "v2 from disk"


class BigTextHandler(RequestHandler):
    def get(self) -> None:
        kind = self.get_argument("kind", "text")
        if kind == "small":
            self.write("tiny")
        elif kind == "binary":
            self.set_header("Content-Type", "image/png")
            self.write(b"\x89PNG" * 1000)
        else:
            self.write("compress me " * 500)


class StreamingTextHandler(RequestHandler):
    async def get(self) -> None:
        for i in range(3):
            self.write(f"part {i} " * 200)
            await self.flush()


async def test_gzip_content_encoding(serve: Any) -> None:
    client = await serve(
        Application(
            [(r"/", BigTextHandler), (r"/stream", StreamingTextHandler)], compress_response=True
        )
    )
    accept = {"Accept-Encoding": "gzip"}
    response = await client.fetch("/", headers=accept)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(response.body) == b"compress me " * 500
    assert int(response.headers["Content-Length"]) == len(response.body)
    response = await client.fetch("/")
    assert "Content-Encoding" not in response.headers
    assert response.body == b"compress me " * 500
    for kind in ("small", "binary"):
        response = await client.fetch(f"/?kind={kind}", headers=accept)
        assert "Content-Encoding" not in response.headers, kind
        assert response.headers["Vary"] == "Accept-Encoding"
    response = await client.fetch("/stream", headers=accept)
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.body) == b"".join(f"part {i} ".encode() * 200 for i in range(3))
    assert GZipContentEncoding.MIN_LENGTH == 1024


@stream_request_body
class StreamBodyHandler(RequestHandler):
    def prepare(self) -> None:
        self.pieces: list[int] = []
        if self.request.headers.get("X-Refuse"):
            raise HTTPError(403)
        assert self.request.connection is not None
        self.request.connection.set_max_body_size(1_000_000)  # type: ignore[attr-defined]

    async def data_received(self, chunk: bytes) -> None:
        self.pieces.append(len(chunk))
        await asyncio.sleep(0)

    def put(self) -> None:
        self.write({"total": sum(self.pieces), "buffered": len(self.request.body)})


async def test_stream_request_body(serve: Any) -> None:
    client = await serve(Application([(r"/", StreamBodyHandler)]), chunk_size=4096)
    body = b"z" * 300_000
    response = await client.fetch("/", method="PUT", body=body)
    assert json.loads(response.body) == {"total": 300_000, "buffered": 0}
    response = await client.fetch("/", method="PUT", body=b"x" * 10, headers={"X-Refuse": "1"})
    assert response.code == 403


class WaitingHandler(RequestHandler):
    closed = asyncio.Event()
    started = asyncio.Event()

    async def get(self) -> None:
        self.waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        WaitingHandler.started.set()
        try:
            await self.waiter
        except asyncio.CancelledError:
            return

    def on_connection_close(self) -> None:
        WaitingHandler.closed.set()
        self.waiter.cancel()


async def test_on_connection_close(serve: Any) -> None:
    WaitingHandler.closed = asyncio.Event()
    WaitingHandler.started = asyncio.Event()
    client = await serve(Application([(r"/", WaitingHandler)]))
    connection = await client.connect()
    await connection.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await WaitingHandler.started.wait()
    await connection.close()
    client.connections.remove(connection)
    await WaitingHandler.closed.wait()


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    body = json.dumps(
        {
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
            "query": environ["QUERY_STRING"],
            "input": environ["wsgi.input"].read().decode(),
            "type": environ.get("CONTENT_TYPE"),
            "custom": environ.get("HTTP_X_CUSTOM"),
            "thread": threading.current_thread().name,
        }
    ).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("X-Wsgi", "yes")])
    return [body]


async def test_wsgi_container_with_executor(serve: Any) -> None:
    with ThreadPoolExecutor(2, thread_name_prefix="wsgi") as executor:
        container = WSGIContainer(wsgi_app, executor=executor)
        client = await serve(container)
        response = await client.fetch(
            "/a%20b?x=1",
            method="POST",
            body=b"payload",
            headers={"Content-Type": "text/plain", "X-Custom": "c"},
        )
        assert (response.code, response.headers["X-Wsgi"]) == (201, "yes")
        data = json.loads(response.body)
        assert data["path"] == "/a b" and data["query"] == "x=1"
        assert data["input"] == "payload" and data["type"] == "text/plain"
        assert data["custom"] == "c"
        assert data["thread"].startswith("wsgi")
        assert response.headers["Server"].startswith("TornadoServer/")


class NativeHandler(RequestHandler):
    def get(self) -> None:
        self.write("native")


async def test_fallback_handler_mixes_wsgi_and_native(serve: Any) -> None:
    container = WSGIContainer(wsgi_app)
    client = await serve(
        Application(
            [(r"/native", NativeHandler), (r".*", FallbackHandler, {"fallback": container})]
        )
    )
    assert (await client.fetch("/native")).body == b"native"
    response = await client.fetch("/legacy")
    assert json.loads(response.body)["thread"] == threading.current_thread().name


class ProtocolHandler(RequestHandler):
    def get(self) -> None:
        self.set_cookie("s", "1", secure=True)
        self.write(
            {"protocol": self.request.protocol, "url": self.static_url("a.txt", include_host=True)}
        )


async def test_https(
    serve: Any, server_context: ssl.SSLContext, client_context: ssl.SSLContext, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("A")
    client = await serve(
        Application([(r"/", ProtocolHandler)], static_path=str(tmp_path)),
        ssl_context=client_context,
        ssl_options=server_context,
    )
    response = await client.fetch("/")
    data = json.loads(response.body)
    assert data["protocol"] == "https"
    assert data["url"].startswith("https://127.0.0.1/static/a.txt?v=")
    assert "Secure" in response.headers["Set-Cookie"]
    assert (await client.fetch("/static/a.txt")).body == b"A"


async def test_debug_settings() -> None:
    app = Application(debug=True, autoreload=False)
    assert app.settings["serve_traceback"] is True
    assert app.settings["compiled_template_cache"] is False
    assert app.settings["static_hash_cache"] is False
    app = Application(debug=True, autoreload=False, serve_traceback=False)
    assert app.settings["serve_traceback"] is False


class ListenHandler(RequestHandler):
    def get(self) -> None:
        self.write("listening")


async def test_application_listen() -> None:
    from tornado.httpclient import AsyncHTTPClient
    from tornado.netutil import bind_sockets

    # Find a free port, then let Application.listen bind it.
    [probe] = bind_sockets(0, "127.0.0.1")
    port = probe.getsockname()[1]
    probe.close()
    server = Application([(r"/", ListenHandler)]).listen(port, "127.0.0.1")
    client = AsyncHTTPClient()
    try:
        response = await client.fetch(f"http://127.0.0.1:{port}/")
        assert response.body == b"listening"
    finally:
        client.close()
        server.stop()
        await server.close_all_connections()


class KeyVersionHandler(RequestHandler):
    def get(self) -> None:
        if self.get_argument("set", None):
            self.set_signed_cookie("k", "v")
        else:
            self.write(
                {
                    "value": (self.get_signed_cookie("k") or b"").decode(),
                    "version": self.get_signed_cookie_key_version("k"),
                }
            )


async def test_signed_cookie_key_versions(serve: Any) -> None:
    secrets = {1: "one-secret", 2: "two-secret"}
    old = await serve(
        Application([(r"/", KeyVersionHandler)], cookie_secret=secrets, key_version=1)
    )
    new = await serve(
        Application([(r"/", KeyVersionHandler)], cookie_secret=secrets, key_version=2)
    )
    cookie = (await old.fetch("/?set=1")).headers["Set-Cookie"].split(";")[0]
    response = await new.fetch("/", headers={"Cookie": cookie})
    # Rotated: the new key version still reads values signed with the old key.
    assert json.loads(response.body) == {"value": "v", "version": 1}


class NoEtagHandler(RequestHandler):
    finished_async = asyncio.Event()

    def compute_etag(self) -> None:
        return None

    def get(self) -> None:
        self.write("no etag")

    async def on_finish(self) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        NoEtagHandler.finished_async.set()


class FinishInPrepare(RequestHandler):
    def prepare(self) -> None:
        self.finish("from prepare")

    def get(self) -> None:
        raise AssertionError("the verb method must not run")


async def test_compute_etag_none_async_on_finish_and_finish_in_prepare(serve: Any) -> None:
    NoEtagHandler.finished_async = asyncio.Event()
    client = await serve(Application([(r"/", NoEtagHandler), (r"/p", FinishInPrepare)]))
    response = await client.fetch("/")
    assert "Etag" not in response.headers
    await NoEtagHandler.finished_async.wait()
    assert (await client.fetch("/p")).body == b"from prepare"


class DetachHandler(RequestHandler):
    async def get(self) -> None:
        stream = self.detach()
        await stream.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\ndetached"
        )
        stream.close()


async def test_detach(serve: Any) -> None:
    client = await serve(Application([(r"/", DetachHandler)]))
    assert (await client.fetch("/")).body == b"detached"


async def test_ui_modules_from_module_and_list() -> None:
    import types

    module = types.ModuleType("mods")
    module.Greeting = Greeting  # type: ignore[attr-defined]
    module.NotAModule = object  # type: ignore[attr-defined]
    methods = types.ModuleType("methods")
    methods.shout = shout  # type: ignore[attr-defined]
    methods.Capital = shout  # type: ignore[attr-defined]
    app = Application(ui_modules=[module, {"Other": TemplateModuleAlias}], ui_methods=[methods])
    assert app.ui_modules["Greeting"] is Greeting
    assert "NotAModule" not in app.ui_modules
    assert app.ui_modules["Other"] is TemplateModuleAlias
    assert "shout" in app.ui_methods and "Capital" not in app.ui_methods


class TemplateModuleAlias(UIModule):
    def render(self) -> str:
        return ""
