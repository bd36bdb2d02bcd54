"""Our three HTTP clients answer the same status line the same way.

A raw asyncio server on 127.0.0.1 sends each status line of a table
(valid, lenient and invalid ones) as the first line of its response;
`SimpleAsyncHTTPClient`, `CurlAsyncHTTPClient` (libcurl reads the line
first, then our rule) and `websocket_connect` (the opening handshake's
answer) must all report the code and reason the table gives, or all fail
with an `HTTPClientError` of code 599.  The rule itself is
``tornado._abnf.ABNF.client_status_line`` (see its module docstring); its
unit tests are in packages/tornado-http/tests/test_abnf.py.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import NamedTuple

import pytest
import pytest_asyncio

pytest.importorskip("pycurl")

from tornado.curl_httpclient import CurlAsyncHTTPClient
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.httputil import responses
from tornado.simple_httpclient import SimpleAsyncHTTPClient
from tornado.websocket import websocket_connect

_WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Answer(NamedTuple):
    """A response as a client reports it: its code and reason phrase."""

    code: int
    reason: str


#: The verdict for a status line every client refuses.
INVALID = "invalid"
Verdict = Answer | str


def reported(code: int, wire_reason: str) -> Answer:
    """What a client reports for a valid line: the reason as sent, or the
    standard one when the line has none (as `HTTPResponse` does)."""
    return Answer(code, wire_reason or responses.get(code, "Unknown"))


# (status line as sent, verdict).  Non-2xx codes, so that a WebSocket
# handshake answered with the line fails with that code and reason.
STATUS_LINES: list[tuple[bytes, Verdict]] = [
    # RFC 9112 section 4 as written.
    (b"HTTP/1.1 404 Not Found", reported(404, "Not Found")),
    (b"HTTP/1.0 503 Service Unavailable", reported(503, "Service Unavailable")),
    (b"HTTP/1.1 418 I'm a teapot", reported(418, "I'm a teapot")),
    (b"HTTP/1.1 404 ", reported(404, "")),
    (b"HTTP/1.1 404 Nicht gefunden \xfc", reported(404, "Nicht gefunden \xfc")),  # obs-text
    (b"HTTP/1.1 404 \ttabs and  spaces ", reported(404, "\ttabs and  spaces ")),
    (b"HTTP/1.1 404  Not Found", reported(404, " Not Found")),
    (b"HTTP/1.1 600 Custom", reported(600, "Custom")),
    (b"HTTP/1.1 999 Max", reported(999, "Max")),
    # Lenient: no space and no reason after the code (curl and browsers read it).
    (b"HTTP/1.1 404", reported(404, "")),
    (b"HTTP/1.0 500", reported(500, "")),
    # Invalid: refused by libcurl itself ...
    (b"HTTP/1.2 404 X", INVALID),
    (b"HTTP/1.9 404 X", INVALID),
    (b"HTTP/0.9 404 X", INVALID),
    (b"HTTP/1 404 X", INVALID),
    (b"HTTP/1.10 404 X", INVALID),
    (b"HTTP/2 404 ", INVALID),
    (b"HTTP/1.1 40 X", INVALID),
    (b"HTTP/1.1 099 Low", INVALID),
    (b"HTTP/1.1 000 Zero", INVALID),
    (b"HTTP/1.1 +40 X", INVALID),
    (b"HTTP/1.1 abc X", INVALID),
    (b"HTTP/1.1  404 X", INVALID),
    (b" HTTP/1.1 404 X", INVALID),
    (b"ICY 404 X", INVALID),
    (b"HTTP/1.1 404 X\x00Y", INVALID),
    (b"HTTP/1.1 404 X\rY", INVALID),
    # ... and read by libcurl but refused by our rule (and so by the curl client).
    (b"HTTP/1.1 404Not Found", INVALID),
    (b"HTTP/1.1 4040 X", INVALID),
    (b"HTTP/1.1 404\tX", INVALID),
    (b"HTTP/1.1\t404 X", INVALID),
    (b"HTTP/2.0 404 X", INVALID),
    (b"http/1.1 404 X", INVALID),
    (b"HTTP/1.1 404 X\x01Y", INVALID),
    (b"HTTP/1.1 404 X\x7fY", INVALID),
    (b"HTTP/1.1 404 X\x0bY", INVALID),
]


class RawServer:
    """Answers every request with one fixed status line.  A WebSocket
    handshake is accepted when that line's code is 101 (the server then
    waits for the client to go away)."""

    def __init__(self, status_line: bytes, line_end: bytes) -> None:
        self.status_line = status_line
        self.line_end = line_end
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            eol = self.line_end
            fields = [b"Connection: close", b"Content-Length: 0"]
            key = re.search(rb"(?im)^Sec-WebSocket-Key:[ \t]*(\S+)", head)
            upgrade = key is not None and re.match(rb"HTTP/1\.[01] 101", self.status_line)
            if upgrade:
                assert key is not None
                accept = base64.b64encode(hashlib.sha1(key.group(1) + _WEBSOCKET_GUID).digest())
                fields = [b"Upgrade: websocket", b"Connection: Upgrade"]
                fields.append(b"Sec-WebSocket-Accept: " + accept)
            writer.write(eol.join([self.status_line, *fields, b"", b""]))
            await writer.drain()
            if upgrade:
                await reader.read(1)  # the client's close frame, or its close
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


ServerFactory = Callable[[bytes, bytes], Awaitable[RawServer]]


@pytest_asyncio.fixture
async def raw_server() -> AsyncIterator[ServerFactory]:
    servers: list[RawServer] = []

    async def make(status_line: bytes, line_end: bytes = b"\r\n") -> RawServer:
        server = RawServer(status_line, line_end)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


def _error_verdict(error: BaseException | None) -> Verdict:
    # Every client reports a refused response as an HTTPClientError of code
    # 599 (CurlError is one); anything else is a difference worth seeing.
    if isinstance(error, HTTPClientError) and error.code == 599:
        return INVALID
    return f"unexpected {error!r}"


async def http_verdict(client: AsyncHTTPClient, port: int) -> Verdict:
    try:
        # raise_error=False returns non-2xx responses; a failed one still raises.
        response = await client.fetch(f"http://127.0.0.1:{port}/", raise_error=False)
    except Exception as e:
        return _error_verdict(e)
    return Answer(response.code, response.reason)


async def websocket_verdict(port: int) -> Verdict:
    try:
        connection = await websocket_connect(f"ws://127.0.0.1:{port}/")
    except HTTPClientError as e:
        if e.code == 599:
            return _error_verdict(e)
        assert e.response is not None
        return Answer(e.response.code, e.response.reason)
    except Exception as e:
        return f"unexpected {e!r}"
    assert connection.code is not None
    answer = reported(connection.code, connection.reason or "")
    connection.close()
    await connection.read_message()  # None once it closed
    return answer


def _line_id(line: bytes) -> str:
    return line.decode("latin-1").encode("unicode_escape").decode("ascii")


@pytest.mark.asyncio
@pytest.mark.parametrize("line_end", [b"\r\n", b"\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize(
    ("line", "verdict"), STATUS_LINES, ids=[_line_id(line) for line, _ in STATUS_LINES]
)
async def test_every_client_gives_the_same_verdict(
    raw_server: ServerFactory, line: bytes, verdict: Verdict, line_end: bytes
) -> None:
    server = await raw_server(line, line_end)
    simple = SimpleAsyncHTTPClient(force_instance=True)
    curl = CurlAsyncHTTPClient(force_instance=True)
    try:
        verdicts = {
            "simple_httpclient": await http_verdict(simple, server.port),
            "curl_httpclient": await http_verdict(curl, server.port),
            "websocket_connect": await websocket_verdict(server.port),
        }
    finally:
        simple.close()
        curl.close()
    assert verdicts == dict.fromkeys(verdicts, verdict)


# The same lines with code 101 answering a WebSocket handshake: a valid
# line opens the connection, with the reason as sent.
UPGRADE_LINES: list[tuple[bytes, Verdict]] = [
    (b"HTTP/1.1 101 Switching Protocols", reported(101, "Switching Protocols")),
    (b"HTTP/1.1 101 ", reported(101, "")),
    (b"HTTP/1.1 101", reported(101, "")),
    (b"HTTP/1.1 101 Umschalten \xfc", reported(101, "Umschalten \xfc")),
    (b"HTTP/1.1 101Switching", INVALID),
    (b"HTTP/1.1 1010 X", INVALID),
    (b"HTTP/1.2 101 X", INVALID),
    (b"HTTP/1.1 101 X\x01", INVALID),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("line", "verdict"), UPGRADE_LINES, ids=[_line_id(line) for line, _ in UPGRADE_LINES]
)
async def test_websocket_handshake_reads_the_status_line_by_the_same_rule(
    raw_server: ServerFactory, line: bytes, verdict: Verdict
) -> None:
    server = await raw_server(line, b"\r\n")
    assert await websocket_verdict(server.port) == verdict
