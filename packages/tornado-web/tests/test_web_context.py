"""Each request runs in its own copy of the `contextvars` context.

A variable set while handling one request (in ``initialize``, ``prepare``
or the verb method) is seen by the rest of that request, by the coroutines
and tasks it starts and by `IOLoop.run_in_executor`, and never by another
request: not the next one on the same keep-alive connection, not a
pipelined one, not a concurrent one on another connection.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from typing import Any

import pytest

from tornado.ioloop import IOLoop
from tornado.web import Application, RequestHandler, stream_request_body

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def in_thread() -> str:
    return request_id.get()


async def in_coroutine() -> str:
    await asyncio.sleep(0)
    return request_id.get()


class Tagged(RequestHandler):
    """Answers what it saw before setting the variable, then what the
    request's own code, a coroutine, a task and a thread see."""

    def prepare(self) -> None:
        self.seen_first = request_id.get()
        request_id.set(self.get_argument("id"))

    async def get(self) -> None:
        release = self.application.settings.get("release")
        if release is not None:
            # Concurrent requests: both are in flight before either answers.
            arrived = self.application.settings["arrived"]
            arrived.append(self.get_argument("id"))
            if len(arrived) == 2:
                release.set()
            await release.wait()
        task = asyncio.ensure_future(in_coroutine())
        thread = await IOLoop.current().run_in_executor(None, in_thread)
        self.write(
            {
                "first": self.seen_first,
                "get": request_id.get(),
                "coroutine": await in_coroutine(),
                "task": await task,
                "thread": thread,
            }
        )


class SyncTagged(RequestHandler):
    def get(self) -> None:
        first = request_id.get()
        request_id.set(self.get_argument("id"))
        self.write({"first": first, "get": request_id.get()})


@stream_request_body
class StreamingTagged(RequestHandler):
    def prepare(self) -> None:
        request_id.set(self.get_argument("id"))
        self.seen_in_chunks: list[str] = []

    def data_received(self, chunk: bytes) -> None:
        self.seen_in_chunks.append(request_id.get())

    def put(self) -> None:
        self.write({"chunks": sorted(set(self.seen_in_chunks)), "put": request_id.get()})


def expected(tag: str) -> dict[str, str]:
    return {"first": "-", "get": tag, "coroutine": tag, "task": tag, "thread": tag}


def app(**settings: Any) -> Application:
    return Application(
        [("/tagged", Tagged), ("/sync", SyncTagged), ("/stream", StreamingTagged)], **settings
    )


@pytest.mark.asyncio
async def test_keep_alive_requests_do_not_share_context(serve: Any) -> None:
    client = await serve(app())
    connection = await client.connect()
    for tag in ("a", "b", "c"):
        response = await connection.request(f"/tagged?id={tag}")
        assert response.code == 200
        assert json.loads(response.body) == expected(tag)
    for tag in ("d", "e"):
        response = await connection.request(f"/sync?id={tag}")
        assert json.loads(response.body) == {"first": "-", "get": tag}


@pytest.mark.asyncio
async def test_pipelined_requests_do_not_share_context(serve: Any) -> None:
    client = await serve(app())
    connection = await client.connect()
    tags = ["p1", "p2", "p3", "p4"]
    paths = ["/tagged", "/sync", "/tagged", "/sync"]
    await connection.send(
        b"".join(
            f"GET {path}?id={tag} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
            for path, tag in zip(paths, tags, strict=True)
        )
    )
    for path, tag in zip(paths, tags, strict=True):
        body = json.loads((await connection.read_response()).body)
        if path == "/tagged":
            assert body == expected(tag)
        else:
            assert body == {"first": "-", "get": tag}


@pytest.mark.asyncio
async def test_concurrent_requests_do_not_share_context(serve: Any) -> None:
    client = await serve(app(release=asyncio.Event(), arrived=[]))
    first, second = await client.connect(), await client.connect()
    responses = await asyncio.gather(
        first.request("/tagged?id=one"), second.request("/tagged?id=two")
    )
    assert [json.loads(r.body) for r in responses] == [expected("one"), expected("two")]


@pytest.mark.asyncio
async def test_streamed_body_is_received_in_the_request_context(serve: Any) -> None:
    client = await serve(app())
    connection = await client.connect()
    for tag in ("s1", "s2"):
        response = await connection.request(f"/stream?id={tag}", method="PUT", body=b"x" * 200_000)
        assert json.loads(response.body) == {"chunks": [tag], "put": tag}


@pytest.mark.asyncio
async def test_server_context_is_untouched(serve: Any) -> None:
    client = await serve(app())
    connection = await client.connect()
    await connection.request("/tagged?id=inside")
    assert request_id.get() == "-"
