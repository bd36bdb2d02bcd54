"""StaticFileHandler and static_url through a real server: path safety,
ranges, conditional requests, versioned URLs, streaming."""

from __future__ import annotations

import email.utils
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from tornado.web import Application, RequestHandler, StaticFileHandler

pytestmark = pytest.mark.asyncio

CONTENT = b"0123456789abcdefghij"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """root/ with files; a secret next to (outside) the root."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_bytes(CONTENT)
    (root / "style.css").write_text("body { color: red }")
    (root / "robots.txt").write_text("User-agent: *")
    (root / "sub").mkdir()
    (root / "sub" / "index.html").write_text("<p>sub index</p>")
    (root / "evil.example").mkdir()
    (root / "evil.example" / "index.html").write_text("inner")
    (root / "big.bin").write_bytes(os.urandom(300_000))
    (tmp_path / "secret.txt").write_text("top secret")
    (tmp_path / "rootsibling").mkdir()
    (tmp_path / "rootsibling" / "x.txt").write_text("sibling")
    return root


class StaticUrlHandler(RequestHandler):
    def get(self) -> None:
        self.write(self.static_url(self.get_argument("path")))


def static_app(root: Path) -> Application:
    return Application(
        [
            (r"/url", StaticUrlHandler),
            (
                r"/files/(.*)",
                StaticFileHandler,
                {"path": str(root), "default_filename": "index.html"},
            ),
        ],
        static_path=str(root),
    )


async def test_serves_file_with_headers(serve: Any, site: Path) -> None:
    client = await serve(static_app(site))
    response = await client.fetch("/static/hello.txt")
    assert response.code == 200
    assert response.body == CONTENT
    assert response.headers["Content-Type"] == "text/plain"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Length"] == str(len(CONTENT))
    assert response.headers["Etag"] == '"%s"' % hashlib.sha512(CONTENT).hexdigest()
    assert "Last-Modified" in response.headers
    assert "Cache-Control" not in response.headers
    assert (await client.fetch("/robots.txt")).body == b"User-agent: *"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/sub/../../secret.txt",
        "/static/../rootsibling/x.txt",
        "/files//etc/passwd",
        "/static//etc/passwd",
    ],
)
async def test_refuses_paths_outside_the_root(serve: Any, site: Path, path: str) -> None:
    client = await serve(static_app(site))
    response = await client.fetch(path)
    assert response.code == 403, response
    assert b"secret" not in response.body
    assert b"sibling" not in response.body
    assert b"root:" not in response.body


async def test_refuses_protocol_relative_redirect(serve: Any, site: Path) -> None:
    client = await serve(
        Application(
            [(r"/(.*)", StaticFileHandler, {"path": str(site), "default_filename": "index.html"})]
        )
    )
    for path in ("//evil.example", "//evil.example/..", "///evil.example"):
        response = await client.fetch(path)
        assert response.code == 403, (path, response)
        assert "Location" not in response.headers
    # An ordinary folder URL is still redirected to add its slash.
    response = await client.fetch("/sub")
    assert (response.code, response.headers["Location"]) == (301, "/sub/")
    assert (await client.fetch("/sub/")).body == b"<p>sub index</p>"


async def test_missing_file_and_folder_without_default(serve: Any, site: Path) -> None:
    client = await serve(static_app(site))
    assert (await client.fetch("/static/nope.txt")).code == 404
    assert (await client.fetch("/static/sub")).code == 403


@pytest.mark.parametrize(
    ("header", "status", "body", "content_range"),
    [
        ("bytes=0-4", 206, CONTENT[0:5], "bytes 0-4/20"),
        ("bytes=5-", 206, CONTENT[5:], "bytes 5-19/20"),
        ("bytes=-3", 206, CONTENT[-3:], "bytes 17-19/20"),
        ("bytes=-100", 200, CONTENT, None),
        ("bytes=0-100", 200, CONTENT, None),
        ("bytes=10-10", 206, CONTENT[10:11], "bytes 10-10/20"),
        ("bytes=20-", 416, b"", "bytes */20"),
        ("bytes=-0", 416, b"", "bytes */20"),
        ("bytes=1-2,4-5", 200, CONTENT, None),
    ],
)
async def test_ranges(
    serve: Any, site: Path, header: str, status: int, body: bytes, content_range: str | None
) -> None:
    client = await serve(static_app(site))
    response = await client.fetch("/static/hello.txt", headers={"Range": header})
    assert response.code == status
    if status != 416:
        assert response.body == body
        assert response.headers["Content-Length"] == str(len(body))
    assert response.headers.get("Content-Range") == content_range


async def test_conditional_requests(serve: Any, site: Path) -> None:
    client = await serve(static_app(site))
    first = await client.fetch("/static/hello.txt")
    etag = first.headers["Etag"]
    response = await client.fetch("/static/hello.txt", headers={"If-None-Match": etag})
    assert (response.code, response.body) == (304, b"")
    response = await client.fetch("/static/hello.txt", headers={"If-None-Match": '"stale"'})
    assert response.code == 200
    modified = first.headers["Last-Modified"]
    response = await client.fetch("/static/hello.txt", headers={"If-Modified-Since": modified})
    assert response.code == 304
    earlier = email.utils.formatdate(
        email.utils.parsedate_to_datetime(modified).timestamp() - 60, usegmt=True
    )
    response = await client.fetch("/static/hello.txt", headers={"If-Modified-Since": earlier})
    assert response.code == 200


async def test_static_url_versions_and_long_cache(serve: Any, site: Path) -> None:
    client = await serve(static_app(site))
    url = (await client.fetch("/url?path=style.css")).text
    digest = hashlib.sha512(b"body { color: red }").hexdigest()
    assert url == "/static/style.css?v=" + digest
    response = await client.fetch(url)
    assert response.code == 200
    assert response.headers["Cache-Control"] == "max-age=%d" % StaticFileHandler.CACHE_MAX_AGE
    assert "Expires" in response.headers
    assert (await client.fetch("/url?path=missing.css")).text == "/static/missing.css"


async def test_head_and_streamed_large_file(serve: Any, site: Path) -> None:
    client = await serve(static_app(site))
    response = await client.fetch("/static/big.bin", method="HEAD")
    assert (response.code, response.body) == (200, b"")
    assert response.headers["Content-Length"] == "300000"
    response = await client.fetch("/static/big.bin")
    assert response.body == (site / "big.bin").read_bytes()


async def test_static_hash_cache_reset(serve: Any, site: Path) -> None:
    StaticFileHandler.reset()
    client = await serve(static_app(site))
    first = (await client.fetch("/url?path=style.css")).text
    (site / "style.css").write_text("body { color: blue }")
    # Cached per process unless static_hash_cache is off (debug mode).
    assert (await client.fetch("/url?path=style.css")).text == first
    StaticFileHandler.reset()
    assert (await client.fetch("/url?path=style.css")).text != first


async def test_symlinks_must_stay_inside_the_root(serve: Any, site: Path, tmp_path: Path) -> None:
    (site / "inner-link.txt").symlink_to(site / "hello.txt")
    (site / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (site / "escape-dir").symlink_to(tmp_path / "rootsibling")
    client = await serve(
        Application(
            [
                (r"/s/(.*)", StaticFileHandler, {"path": str(site)}),
                (
                    r"/allowed/(.*)",
                    StaticFileHandler,
                    {"path": str(site), "allowed_symlink_directory": str(tmp_path)},
                ),
            ]
        )
    )
    assert (await client.fetch("/s/inner-link.txt")).body == CONTENT
    for path in ("/s/escape.txt", "/s/escape-dir/x.txt"):
        response = await client.fetch(path)
        assert response.code == 403, path
        assert b"secret" not in response.body and b"sibling" not in response.body
    assert (await client.fetch("/allowed/escape.txt")).body == b"top secret"


async def test_get_version_reads_only_regular_files_inside_the_root(
    site: Path, tmp_path: Path
) -> None:
    from tornado.web import HTTPError

    StaticFileHandler.reset()
    settings = {"static_path": str(site)}
    assert (
        StaticFileHandler.get_version(settings, "hello.txt") == hashlib.sha512(CONTENT).hexdigest()
    )
    with pytest.raises(HTTPError) as info:
        StaticFileHandler.get_version(settings, "../secret.txt")
    assert info.value.status_code == 403
    (site / "zero").symlink_to("/dev/zero")
    (site / "out").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(site / "fifo")
    for name in ("sub", "fifo", "zero", "out"):
        # Reading any of these would block, never end, fail or leak.
        assert StaticFileHandler.get_version(settings, name) is None, name

    class Small(StaticFileHandler):
        MAX_VERSION_CONTENT_SIZE = len(CONTENT) - 1
        MAX_CACHED_VERSIONS = 2

    Small.reset()
    assert Small.get_version(settings, "hello.txt") is None
    for name in ("style.css", "robots.txt", "style.css", "sub/index.html"):
        assert Small.get_version(settings, name)
    assert list(Small._static_hashes) == [str(site / "style.css"), str(site / "sub/index.html")]


class LayeredStaticHandler(StaticFileHandler):
    """Serves from the first of several folders that has the file: the
    ``static_path`` setting (and ``path``) is a list of folders."""

    @classmethod
    def get_absolute_path(cls, root: Any, path: str) -> str:
        for folder in root:
            candidate = os.path.abspath(os.path.join(folder, path))
            if os.path.isfile(candidate):
                return candidate
        return os.path.abspath(os.path.join(root[0], path))

    def validate_absolute_path(self, root: Any, absolute_path: str) -> str | None:
        folder = next((f for f in root if absolute_path.startswith(str(f) + os.sep)), root[0])
        return super().validate_absolute_path(str(folder), absolute_path)


class TemplateStaticHandler(RequestHandler):
    def get(self) -> None:
        self.render("page.html")


async def test_static_url_with_get_absolute_path_overridden(serve: Any, tmp_path: Path) -> None:
    first, second, templates = tmp_path / "a", tmp_path / "b", tmp_path / "t"
    for folder in (first, second, templates):
        folder.mkdir()
    (first / "one.css").write_text("one")
    (second / "two.css").write_text("two")
    (templates / "page.html").write_text("{{ static_url('two.css') }}")
    roots = [str(first), str(second)]
    client = await serve(
        Application(
            [(r"/page", TemplateStaticHandler)],
            static_path=roots,
            static_handler_class=LayeredStaticHandler,
            template_path=str(templates),
        )
    )
    response = await client.fetch("/page")
    assert response.code == 200
    expected = hashlib.sha512(b"two").hexdigest()
    assert response.text == f"/static/two.css?v={expected}"
    assert LayeredStaticHandler.make_static_url({"static_path": roots}, "one.css") == (
        f"/static/one.css?v={hashlib.sha512(b'one').hexdigest()}"
    )
    served = await client.fetch(response.text)
    assert (served.code, served.body) == (200, b"two")
    # Containment is still checked, in validate_absolute_path, on what
    # get_absolute_path returned.
    assert (await client.fetch("/static/..%2F..%2Fsecret")).code in (403, 404)
