"""Behaviour that Tornado applications rely on and upstream's own test
suite checks: error wording in logs, status codes of refused requests,
private limits and the curl client's streaming flow control."""

from __future__ import annotations

from typing import Any

import pytest

from tornado import httputil
from tornado.http1connection import _MAX_1XX_RESPONSES
from tornado.httputil import HTTPInputError, HTTPServerRequest, ParseBodyConfig, RequestStartLine

# -- httputil --------------------------------------------------------------------


def test_parse_body_config_urlencoded_view() -> None:
    config = ParseBodyConfig(max_arguments=7)
    assert config.urlencoded.max_arguments == 7
    assert httputil._DEFAULT_PARSE_BODY_CONFIG.urlencoded.max_arguments == 1000


def test_too_many_query_arguments_message() -> None:
    n = httputil._DEFAULT_PARSE_BODY_CONFIG.max_arguments + 1
    uri = "/?" + "&".join(f"a={i}" for i in range(n))
    with pytest.raises(HTTPInputError, match="Max number of fields exceeded"):
        HTTPServerRequest(start_line=RequestStartLine("GET", uri, "HTTP/1.0"))


def test_max_1xx_responses_is_a_small_positive_limit() -> None:
    assert 1 <= _MAX_1XX_RESPONSES <= 1000


# -- curl streaming flow control ------------------------------------------------

try:
    import pycurl  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover - the [curl] extra is not installed
    pycurl = None

needs_curl = pytest.mark.skipif(pycurl is None, reason="pycurl not installed")


class _FakeLoop:
    def __init__(self) -> None:
        self.callbacks: list[Any] = []

    def add_callback(self, callback: Any) -> None:
        self.callbacks.append(callback)


class _FakeClient:
    def __init__(self, max_body_size: int | None = None) -> None:
        self.io_loop = _FakeLoop()
        self.max_body_size = max_body_size
        self.timeouts: list[int] = []

    def _set_timeout(self, msecs: int) -> None:
        self.timeouts.append(msecs)


class _FakeCurl:
    def __init__(self, fail: bool = False) -> None:
        self.pauses: list[int] = []
        self.fail = fail

    def pause(self, flags: int) -> None:
        if self.fail:
            raise pycurl.error(pycurl.E_WRITE_ERROR, "write error")
        self.pauses.append(flags)


def _buffer(client: _FakeClient, curl: _FakeCurl, chunks: list[bytes], size: int) -> Any:
    from tornado.curl_httpclient import _CurlStreamingBuffer

    buf = _CurlStreamingBuffer(client, curl, chunks.append)
    buf.max_buffer_size = size
    return buf


@needs_curl
def test_curl_streaming_pauses_when_full_and_resumes_on_flush() -> None:
    client, curl, chunks = _FakeClient(), _FakeCurl(), []
    buf = _buffer(client, curl, chunks, 4)
    assert buf.write(b"hello") == 5
    assert buf.write(b"world") == pycurl.WRITEFUNC_PAUSE
    assert buf.paused
    assert len(client.io_loop.callbacks) == 1
    client.io_loop.callbacks[0]()
    assert chunks == [b"hello"]
    assert curl.pauses == [pycurl.PAUSE_CONT]
    assert client.timeouts == [0]
    assert not buf.paused


@needs_curl
def test_curl_streaming_refuses_body_over_max_body_size() -> None:
    client, curl, chunks = _FakeClient(max_body_size=8), _FakeCurl(), []
    buf = _buffer(client, curl, chunks, 1024)
    assert buf.write(b"12345") == 5
    assert buf.write(b"67890") == 0
    assert buf.body_too_large
    buf.flush()
    assert chunks == [b"12345"]


@needs_curl
def test_curl_streaming_failed_unpause_is_ignored() -> None:
    client, curl, chunks = _FakeClient(), _FakeCurl(fail=True), []
    buf = _buffer(client, curl, chunks, 4)
    buf.write(b"hello")
    buf.write(b"world")
    buf.flush()
    assert chunks == [b"hello"] and not buf.paused and client.timeouts == []


@needs_curl
def test_curl_streaming_callback_exception_is_logged(caplog: Any) -> None:
    from tornado.curl_httpclient import _CurlStreamingBuffer

    def callback(chunk: bytes) -> None:
        raise ZeroDivisionError()

    client = _FakeClient()
    buf = _CurlStreamingBuffer(client, _FakeCurl(), callback)
    buf.write(b"x")
    buf.flush()
    assert any("Exception in callback" in r.getMessage() for r in caplog.records)
