"""The known HTTP/2 attacks as raw frame sequences against a live
HTTP2Server: each earns the attacker a GOAWAY with the right error code,
and the server keeps answering other clients."""

from __future__ import annotations

import asyncio

import pytest
from hyperframe.frame import GoAwayFrame, HeadersFrame, PingFrame, RstStreamFrame

from .conftest import Serve, Served, curl
from .h2apps import DelegateApp
from .rawpeer import RawPeer

NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
FLOW_CONTROL_ERROR = 0x3
REFUSED_STREAM = 0x7
CANCEL = 0x8
ENHANCE_YOUR_CALM = 0xB

SETTINGS_INITIAL_WINDOW_SIZE = 0x4


async def assert_still_serving(served: Served) -> None:
    body, version = await curl(served, "/")
    assert (body, version) == (b"Hello, world", "2")


@pytest.mark.asyncio
async def test_well_behaved_raw_peer_gets_an_answer(serve: Serve) -> None:
    # The baseline the attacks below depart from: the raw peer is a valid client.
    served = await serve(DelegateApp())
    peer = await RawPeer.connect(served.port)
    await peer.send([peer.headers_frame(1, peer.request_headers("/"))])
    while not any(f.stream_id == 1 and "END_STREAM" in f.flags for f in peer.received):
        assert await peer.read_frame() is not None
    assert peer.body_of(1) == b"Hello, world"
    await peer.close()


@pytest.mark.asyncio
async def test_rapid_reset(serve: Serve) -> None:
    app = DelegateApp()
    served = await serve(app)
    peer = await RawPeer.connect(served.port)
    frames = []
    for i in range(1000):
        sid = 2 * i + 1
        frames += [peer.headers_frame(sid, peer.request_headers("/")), peer.rst(sid, CANCEL)]
    await peer.send(frames)
    goaway = await peer.goaway()
    assert isinstance(goaway, GoAwayFrame)
    assert goaway.error_code == ENHANCE_YOUR_CALM
    await peer.until_closed()
    await peer.close()
    # Far fewer than the 1000 requests reached the application.
    assert app.finished < 500
    await assert_still_serving(served)


@pytest.mark.asyncio
async def test_continuation_flood(serve: Serve) -> None:
    served = await serve(DelegateApp())
    peer = await RawPeer.connect(served.port)
    block = peer.request_headers("/", extra=[("x-pad", "p" * 8000)])
    frames = [peer.headers_frame(1, block[:10], end_headers=False)]
    # Never END_HEADERS: the server must not buffer this forever.
    frames += [peer.continuation(1, b"") for _ in range(10_000)]
    await peer.send(frames)
    goaway = await peer.goaway()
    assert isinstance(goaway, GoAwayFrame)
    assert goaway.error_code == PROTOCOL_ERROR
    await peer.until_closed()
    await peer.close()
    await assert_still_serving(served)


@pytest.mark.asyncio
@pytest.mark.parametrize("flood", ["ping", "settings", "empty-data"])
async def test_control_frame_floods(serve: Serve, flood: str) -> None:
    served = await serve(DelegateApp())
    peer = await RawPeer.connect(served.port)
    if flood == "ping":
        frames = [peer.ping() for _ in range(20_000)]
    elif flood == "settings":
        frames = [peer.settings({}) for _ in range(20_000)]
    else:
        frames = [peer.headers_frame(1, peer.request_headers("/echo", "POST"), end_stream=False)]
        frames += [peer.data(1, b"") for _ in range(20_000)]
    await peer.send(frames)
    goaway = await peer.goaway()
    assert isinstance(goaway, GoAwayFrame)
    assert goaway.error_code == ENHANCE_YOUR_CALM
    await peer.until_closed()
    await peer.close()
    await assert_still_serving(served)


@pytest.mark.asyncio
async def test_hpack_bomb(serve: Serve) -> None:
    served = await serve(DelegateApp())
    peer = await RawPeer.connect(served.port)
    # One 4000-byte value enters the dynamic table, then is referenced by
    # index 100 times: ~4 KB on the wire, ~400 KB decoded.
    block = peer.request_headers("/", extra=[("x-bomb", "b" * 4000)] * 100)
    assert len(block) < 5000
    await peer.send([peer.headers_frame(1, block)])
    goaway = await peer.goaway()
    assert isinstance(goaway, GoAwayFrame)
    assert goaway.error_code == ENHANCE_YOUR_CALM
    await peer.until_closed()
    await peer.close()
    await assert_still_serving(served)


@pytest.mark.asyncio
async def test_header_list_over_max_header_size(serve: Serve) -> None:
    served = await serve(DelegateApp(), max_header_size=4096)
    peer = await RawPeer.connect(served.port)
    block = peer.request_headers("/", extra=[("x-big", "v" * 8000)])
    await peer.send(
        [
            peer.headers_frame(1, block[:8000], end_headers=False),
            peer.continuation(1, block[8000:], True),
        ]
    )
    goaway = await peer.goaway()
    assert isinstance(goaway, GoAwayFrame)
    assert goaway.error_code == ENHANCE_YOUR_CALM
    await peer.close()
    await assert_still_serving(served)


@pytest.mark.asyncio
async def test_more_streams_than_max_concurrent_streams(serve: Serve) -> None:
    app = DelegateApp()
    served = await serve(app, max_concurrent_streams=10)
    peer = await RawPeer.connect(served.port)
    # Requests whose bodies never come keep their streams open.
    frames = [
        peer.headers_frame(2 * i + 1, peer.request_headers("/echo", "POST"), end_stream=False)
        for i in range(10)
    ]
    # The PING's answer shows the ten streams were taken.
    await peer.send([*frames, peer.ping()])
    while not any(isinstance(f, PingFrame) for f in peer.received):
        assert await peer.read_frame() is not None
    await peer.send(
        [peer.headers_frame(21, peer.request_headers("/echo", "POST"), end_stream=False)]
    )
    goaway = await peer.goaway()
    assert isinstance(goaway, GoAwayFrame)
    assert goaway.error_code == PROTOCOL_ERROR
    await peer.until_closed()
    await peer.close()
    # The ten streams that were open heard that their connection went away.
    assert app.closed == 10
    await assert_still_serving(served)


@pytest.mark.asyncio
async def test_zero_window_stall(serve: Serve) -> None:
    served = await serve(DelegateApp(), flow_control_timeout=0.2)
    peer = await RawPeer.connect(served.port, {SETTINGS_INITIAL_WINDOW_SIZE: 0})
    await peer.send([peer.headers_frame(1, peer.request_headers("/stream?n=4"))])
    goaway = await peer.goaway()
    assert isinstance(goaway, GoAwayFrame)
    assert goaway.error_code == ENHANCE_YOUR_CALM
    # The response head went out; no body could.
    assert any(isinstance(f, HeadersFrame) and f.stream_id == 1 for f in peer.received)
    assert peer.body_of(1) == b""
    await peer.until_closed()
    await peer.close()
    await assert_still_serving(served)


@pytest.mark.asyncio
async def test_window_opened_bit_by_bit_delivers_everything(serve: Serve) -> None:
    # The opposite of a stall: a slow but honest reader gets the whole body.
    served = await serve(DelegateApp(), flow_control_timeout=30)
    peer = await RawPeer.connect(served.port, {SETTINGS_INITIAL_WINDOW_SIZE: 0})
    await peer.send([peer.headers_frame(1, peer.request_headers("/stream?n=2"))])
    while not any(f.stream_id == 1 and "END_STREAM" in f.flags for f in peer.received):
        if not any(isinstance(f, HeadersFrame) for f in peer.received):
            assert await peer.read_frame() is not None
            continue
        await peer.send([peer.window_update(1, 10_000), peer.window_update(0, 10_000)])
        frame = await peer.read_frame()
        assert frame is not None
    assert peer.body_of(1) == b"A" * 65536 + b"B" * 65536
    await peer.close()


@pytest.mark.asyncio
async def test_flow_control_violation(serve: Serve) -> None:
    served = await serve(DelegateApp())
    peer = await RawPeer.connect(served.port)
    frames = [peer.headers_frame(1, peer.request_headers("/echo", "POST"), end_stream=False)]
    # 256 KiB stream window (before our SETTINGS is ACKed: the default 64 KiB).
    frames += [peer.data(1, b"x" * 16384) for _ in range(40)]
    await peer.send(frames)
    goaway = await peer.goaway()
    assert isinstance(goaway, GoAwayFrame)
    assert goaway.error_code == FLOW_CONTROL_ERROR
    await peer.close()
    await assert_still_serving(served)


@pytest.mark.asyncio
async def test_body_timeout_resets_the_stream_only(serve: Serve) -> None:
    app = DelegateApp()
    served = await serve(app, body_timeout=0.2)
    peer = await RawPeer.connect(served.port)
    await peer.send(
        [peer.headers_frame(1, peer.request_headers("/echo", "POST"), end_stream=False)]
    )
    while True:
        frame = await peer.read_frame()
        assert frame is not None and not isinstance(frame, GoAwayFrame)
        if isinstance(frame, RstStreamFrame):
            break
    assert frame.stream_id == 1 and frame.error_code == CANCEL
    assert app.closed == 1
    # The connection itself carries on.
    await peer.send([peer.headers_frame(3, peer.request_headers("/"))])
    while not any(f.stream_id == 3 and "END_STREAM" in f.flags for f in peer.received):
        assert await peer.read_frame() is not None
    assert peer.body_of(3) == b"Hello, world"
    await peer.close()


@pytest.mark.asyncio
async def test_idle_connection_gets_goaway(serve: Serve) -> None:
    served = await serve(DelegateApp(), idle_connection_timeout=0.2)
    peer = await RawPeer.connect(served.port)
    goaway = await peer.goaway()
    assert isinstance(goaway, GoAwayFrame)
    assert goaway.error_code == NO_ERROR
    await peer.until_closed()
    await peer.close()


@pytest.mark.asyncio
async def test_close_all_connections_is_graceful(serve: Serve) -> None:
    app = DelegateApp()
    served = await serve(app)
    peer = await RawPeer.connect(served.port)
    await peer.send([peer.headers_frame(1, peer.request_headers("/wait"))])
    await app.waiting.wait()
    served.server.stop()
    closing = asyncio.ensure_future(served.server.close_all_connections())
    goaway = await peer.goaway()
    assert isinstance(goaway, GoAwayFrame)
    assert (goaway.error_code, goaway.last_stream_id) == (NO_ERROR, 1)
    # A stream opened after the GOAWAY is refused; the one in flight finishes.
    await peer.send([peer.headers_frame(3, peer.request_headers("/"))])
    while not any(isinstance(f, RstStreamFrame) and f.stream_id == 3 for f in peer.received):
        assert await peer.read_frame() is not None
    refused = [f for f in peer.received if isinstance(f, RstStreamFrame) and f.stream_id == 3]
    assert refused[0].error_code == REFUSED_STREAM
    app.release.set()
    await peer.until_closed()
    assert peer.body_of(1) == b"released"
    await peer.close()
    await closing


@pytest.mark.asyncio
async def test_response_written_after_the_client_reset_goes_nowhere(serve: Serve) -> None:
    # A client that gives up (a browser reload) must not make the handler's
    # later write_headers/write/finish raise.
    app = DelegateApp()
    served = await serve(app)
    peer = await RawPeer.connect(served.port)
    await peer.send([peer.headers_frame(1, peer.request_headers("/late"))])
    await app.waiting.wait()
    await peer.send([peer.rst(1, CANCEL), peer.ping()])
    while not any(isinstance(f, PingFrame) for f in peer.received):
        assert await peer.read_frame() is not None
    assert app.closed == 1
    app.release.set()
    await asyncio.gather(*app.tasks)  # raises if the late response raised
    assert peer.body_of(1) == b""
    await peer.close()
    await assert_still_serving(served)


@pytest.mark.asyncio
async def test_expect_100_continue(serve: Serve) -> None:
    served = await serve(DelegateApp())
    peer = await RawPeer.connect(served.port)
    block = peer.request_headers("/echo", "POST", extra=[("expect", "100-continue")])
    await peer.send([peer.headers_frame(1, block, end_stream=False)])
    while not any(isinstance(f, HeadersFrame) and f.stream_id == 1 for f in peer.received):
        assert await peer.read_frame() is not None
    # The interim answer comes before any body was sent.
    assert peer.headers_of(1)[0] == [(":status", "100")]
    await peer.send([peer.data(1, b"abc", end_stream=True)])
    while not any(f.stream_id == 1 and "END_STREAM" in f.flags for f in peer.received):
        assert await peer.read_frame() is not None
    assert (":status", "200") in peer.headers_of(1)[1]
    assert b'"size": 3' in peer.body_of(1)
    await peer.close()
