"""The long-polling chat demo end to end: real server, real sockets.

The in-process tests import demos/chat/app.py and serve it on 127.0.0.1;
clients speak HTTP/1.1 over asyncio streams.  One test starts the demo as a
user does (a subprocess) and chats through it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import subprocess
import sys
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parents[1]
CHAT = ROOT / "demos" / "chat" / "app.py"


def load_chat() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chat_demo_app", CHAT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Reply:
    def __init__(self, code: int, headers: dict[str, list[str]], body: bytes) -> None:
        self.code = code
        self.headers = headers
        self.body = body


async def send_request(
    writer: asyncio.StreamWriter, method: str, path: str, cookie: str = "", form: Any = None
) -> None:
    body = urllib.parse.urlencode(form).encode() if form is not None else b""
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if cookie:
        head.append(f"Cookie: {cookie}")
    if form is not None:
        head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()


async def read_reply(reader: asyncio.StreamReader) -> Reply:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status, *lines = head.strip().split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"][0]))
    else:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    return Reply(int(status.split()[1]), headers, body)


class ChatClient:
    """A browser-like client: keeps the xsrf cookie, one connection per request."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""
        self.token = ""
        self.open: list[asyncio.StreamWriter] = []

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.open.append(writer)
        return reader, writer

    async def request(self, method: str, path: str, form: Any = None) -> Reply:
        reader, writer = await self.connect()
        await send_request(writer, method, path, self.cookie, form)
        reply = await read_reply(reader)
        await self.close_one(writer)
        return reply

    async def close_one(self, writer: asyncio.StreamWriter) -> None:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass
        self.open.remove(writer)

    async def load_page(self) -> str:
        reply = await self.request("GET", "/")
        assert reply.code == 200
        jar: SimpleCookie = SimpleCookie()
        for header in reply.headers.get("set-cookie", []):
            jar.load(header)
        self.cookie = "_xsrf=" + jar["_xsrf"].value
        page = reply.body.decode()
        match = re.search(r'name="_xsrf" value="([^"]+)"', page)
        assert match is not None
        self.token = match.group(1)
        return page

    async def post(self, body: str) -> dict[str, Any]:
        reply = await self.request("POST", "/a/message/new", {"body": body, "_xsrf": self.token})
        assert reply.code == 200, reply.body
        message: dict[str, Any] = json.loads(reply.body)
        return message

    async def status(self) -> dict[str, int]:
        result: dict[str, int] = json.loads((await self.request("GET", "/a/status")).body)
        return result

    async def close(self) -> None:
        for writer in list(self.open):
            await self.close_one(writer)


@pytest_asyncio.fixture(params=["httpserver", "uvicorn"])
async def chat(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Any, int]]:
    """The chat app on our HTTPServer, or through `tornado.asgi.ASGIAdapter`
    under a real uvicorn server in the same loop."""
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets

    module = load_chat()
    app = module.make_app()
    sockets = bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    if request.param == "httpserver":
        server = HTTPServer(app)
        server.add_sockets(sockets)
        yield app, port
        server.stop()
        await server.close_all_connections()
        return
    uvicorn = pytest.importorskip("uvicorn")
    from tornado.asgi import ASGIAdapter

    config = uvicorn.Config(ASGIAdapter(app), log_level="warning", lifespan="off")
    asgi_server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(asgi_server.serve(sockets=sockets))
    while not asgi_server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0)  # lets the server start; not a timed wait
    yield app, port
    asgi_server.should_exit = True
    await task
    for sock in sockets:
        sock.close()


async def wait_for_waiters(client: ChatClient, count: int) -> None:
    # Poll the status endpoint, yielding to the loop between asks; bounded
    # by a request count, not by time.
    for _ in range(1000):
        if (await client.status())["waiters"] == count:
            return
    raise AssertionError(f"waiters never reached {count}")


@pytest.mark.asyncio
async def test_long_poll_receives_message_posted_by_other_client(chat: tuple[Any, int]) -> None:
    _, port = chat
    alice, bob = ChatClient(port), ChatClient(port)
    try:
        await alice.load_page()
        await bob.load_page()
        reader, writer = await alice.connect()
        await send_request(
            writer, "POST", "/a/message/updates", alice.cookie, {"_xsrf": alice.token}
        )
        await wait_for_waiters(bob, 1)
        posted = await bob.post("hello <alice> http://example.com")
        reply = await read_reply(reader)
        assert reply.code == 200
        messages = json.loads(reply.body)["messages"]
        assert [m["id"] for m in messages] == [posted["id"]]
        assert messages[0]["body"] == "hello <alice> http://example.com"
        assert "&lt;alice&gt;" in messages[0]["html"]
        assert '<a href="http://example.com">' in messages[0]["html"]
        assert (await bob.status())["waiters"] == 0
        # With a cursor at the latest message, the next poll waits again.
        await send_request(
            writer,
            "POST",
            "/a/message/updates",
            alice.cookie,
            {"_xsrf": alice.token, "cursor": posted["id"]},
        )
        await wait_for_waiters(bob, 1)
        second = await bob.post("second")
        assert [m["id"] for m in json.loads((await read_reply(reader)).body)["messages"]] == [
            second["id"]
        ]
        # The page shows the history to newcomers.
        page = await ChatClient(port).load_page()
        assert "hello &lt;alice&gt;" in page and "second" in page
    finally:
        await alice.close()
        await bob.close()


@pytest.mark.asyncio
async def test_disconnected_poll_leaves_no_waiter(chat: tuple[Any, int]) -> None:
    app, port = chat
    client = ChatClient(port)
    try:
        await client.load_page()
        pollers = []
        for _ in range(3):
            _reader, writer = await client.connect()
            await send_request(
                writer, "POST", "/a/message/updates", client.cookie, {"_xsrf": client.token}
            )
            pollers.append(writer)
        await wait_for_waiters(client, 3)
        for writer in pollers:
            await client.close_one(writer)
        await wait_for_waiters(client, 0)
        condition_waiters = [f for f in app.settings["buffer"].cond._waiters if not f.done()]
        assert condition_waiters == []
        # Posting afterwards still works and nobody is left to wake.
        await client.post("after")
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_posts_and_polls_need_the_xsrf_token(chat: tuple[Any, int]) -> None:
    _, port = chat
    client = ChatClient(port)
    try:
        await client.load_page()
        reply = await client.request("POST", "/a/message/new", {"body": "x"})
        assert reply.code == 403
        reply = await client.request("POST", "/a/message/updates", {})
        assert reply.code == 403
        reply = await client.request(
            "POST", "/a/message/new", {"body": "x", "_xsrf": client.token, "next": "/"}
        )
        assert (reply.code, reply.headers["location"]) == (302, ["/"])
    finally:
        await client.close()


@pytest.fixture
def chat_process() -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, str(CHAT), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("serving on http://127.0.0.1:"), line + (
            proc.stderr.read() if proc.stderr else ""
        )
        yield int(line.strip().rstrip("/").rsplit(":", 1)[1])
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        assert "Traceback" not in err, err


@pytest.mark.asyncio
async def test_chat_demo_as_a_user_starts_it(chat_process: int) -> None:
    alice, bob = ChatClient(chat_process), ChatClient(chat_process)
    try:
        page = await alice.load_page()
        assert "/static/chat.js?v=" in page
        await bob.load_page()
        reader, writer = await alice.connect()
        await send_request(
            writer, "POST", "/a/message/updates", alice.cookie, {"_xsrf": alice.token}
        )
        await wait_for_waiters(bob, 1)
        posted = await bob.post("from bob")
        messages = json.loads((await read_reply(reader)).body)["messages"]
        assert [m["body"] for m in messages] == ["from bob"]
        assert messages[0]["id"] == posted["id"]
        script = await alice.request("GET", "/static/chat.js")
        assert script.code == 200 and b"/a/message/updates" in script.body
    finally:
        await alice.close()
        await bob.close()
