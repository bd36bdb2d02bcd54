"""`ASGIAdapter` at the level of single ASGI messages, driven by asgiref's
`ApplicationCommunicator` (the reference harness of the ASGI spec)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator

from tornado.asgi import ASGIAdapter, ASGIMessageError
from tornado.web import Application, RequestHandler, stream_request_body


def http_scope(path: str = "/", method: str = "GET", **extra: Any) -> dict[str, Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.5"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "client": ("203.0.113.7", 4321),
        "server": ("example.test", 443),
    }
    scope.update(extra)
    return scope


class Where(RequestHandler):
    def get(self) -> None:
        self.write(
            f"{self.request.remote_ip} {self.request.protocol} {self.request.host} {self.request.path}"
        )


events: list[str] = []


@stream_request_body
class Slow(RequestHandler):
    def data_received(self, chunk: bytes) -> None:
        events.append(f"chunk {chunk.decode()}")

    def put(self) -> None:
        self.write("done")

    def on_connection_close(self) -> None:
        events.append("closed")


class Waiting(RequestHandler):
    async def get(self) -> None:
        self.gone = asyncio.Event()
        self.write("first")
        await self.flush()
        await self.gone.wait()
        events.append("handler saw the close")

    def on_connection_close(self) -> None:
        events.append("on_connection_close")
        self.gone.set()


def adapter(**kwargs: Any) -> ASGIAdapter:
    app = Application([("/where", Where), ("/slow", Slow), ("/wait", Waiting)])
    return ASGIAdapter(app, **kwargs)


async def response(comm: ApplicationCommunicator) -> tuple[int, dict[bytes, bytes], bytes]:
    start = await comm.receive_output()
    assert start["type"] == "http.response.start"
    body = b""
    while True:
        message = await comm.receive_output()
        assert message["type"] == "http.response.body"
        body += message.get("body", b"")
        if not message.get("more_body"):
            return start["status"], dict(start["headers"]), body


@pytest.mark.asyncio
async def test_scope_maps_to_request() -> None:
    comm = ApplicationCommunicator(adapter(), http_scope("/app/where", root_path="/app"))
    await comm.send_input({"type": "http.request", "body": b""})
    status, headers, body = await response(comm)
    assert status == 200
    # No Host header: the scope's server gives it; root_path is not routed.
    assert body == b"203.0.113.7 https example.test:443 /where"
    assert headers[b"content-type"] == b"text/html; charset=UTF-8"
    await comm.wait()


@pytest.mark.asyncio
async def test_body_chunks_arrive_as_sent() -> None:
    events.clear()
    comm = ApplicationCommunicator(adapter(), http_scope("/slow", "PUT"))
    await comm.send_input({"type": "http.request", "body": b"a", "more_body": True})
    await comm.send_input({"type": "http.request", "body": b"b", "more_body": True})
    await comm.send_input({"type": "http.request", "body": b"", "more_body": False})
    status, _, body = await response(comm)
    assert (status, body) == (200, b"done")
    assert events == ["chunk a", "chunk b"]
    await comm.wait()


@pytest.mark.asyncio
async def test_disconnect_mid_body_reaches_on_connection_close() -> None:
    events.clear()
    comm = ApplicationCommunicator(adapter(), http_scope("/slow", "PUT"))
    await comm.send_input({"type": "http.request", "body": b"a", "more_body": True})
    await comm.send_input({"type": "http.disconnect"})
    await comm.wait()
    assert events == ["chunk a", "closed"]
    assert await comm.receive_nothing()


@pytest.mark.asyncio
async def test_disconnect_while_streaming_reaches_handler() -> None:
    events.clear()
    comm = ApplicationCommunicator(adapter(), http_scope("/wait"))
    await comm.send_input({"type": "http.request", "body": b""})
    start = await comm.receive_output()
    assert start["type"] == "http.response.start" and start["status"] == 200
    first = await comm.receive_output()
    assert first == {"type": "http.response.body", "body": b"first", "more_body": True}
    await comm.send_input({"type": "http.disconnect"})
    await comm.wait()
    assert events[0] == "on_connection_close"


@pytest.mark.asyncio
async def test_body_over_the_limit_is_refused() -> None:
    comm = ApplicationCommunicator(adapter(max_body_size=4), http_scope("/slow", "PUT"))
    await comm.send_input({"type": "http.request", "body": b"abc", "more_body": True})
    await comm.send_input({"type": "http.request", "body": b"def", "more_body": True})
    status, _, body = await response(comm)
    assert (status, body) == (413, b"Payload Too Large")
    await comm.wait()


@pytest.mark.asyncio
async def test_wrong_message_names_it() -> None:
    comm = ApplicationCommunicator(adapter(), http_scope("/slow", "PUT"))
    await comm.send_input({"type": "websocket.receive", "text": "?"})
    with pytest.raises(ASGIMessageError, match=r"'websocket.receive'.*'http.request'"):
        await comm.wait()


@pytest.mark.asyncio
async def test_unknown_scope_type_is_refused() -> None:
    comm = ApplicationCommunicator(adapter(), {"type": "telepathy"})
    with pytest.raises(ValueError, match="telepathy"):
        await comm.wait()


@pytest.mark.asyncio
async def test_lifespan_runs_hooks_in_order() -> None:
    calls: list[str] = []

    async def open_pool() -> None:
        calls.append("open pool")

    app = adapter(
        on_startup=[open_pool, lambda: calls.append("warm cache")],
        on_shutdown=[lambda: calls.append("close pool")],
    )
    comm = ApplicationCommunicator(app, {"type": "lifespan", "asgi": {"version": "3.0"}})
    await comm.send_input({"type": "lifespan.startup"})
    assert await comm.receive_output() == {"type": "lifespan.startup.complete"}
    assert calls == ["open pool", "warm cache"]
    await comm.send_input({"type": "lifespan.shutdown"})
    assert await comm.receive_output() == {"type": "lifespan.shutdown.complete"}
    assert calls == ["open pool", "warm cache", "close pool"]
    await comm.wait()


@pytest.mark.asyncio
async def test_lifespan_startup_failure_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise ConnectionError("database unreachable")

    comm = ApplicationCommunicator(adapter(on_startup=[broken]), {"type": "lifespan"})
    await comm.send_input({"type": "lifespan.startup"})
    answer = await comm.receive_output()
    assert answer["type"] == "lifespan.startup.failed"
    assert "database unreachable" in answer["message"]
    await comm.wait()
    assert "lifespan startup hook" in caplog.text
