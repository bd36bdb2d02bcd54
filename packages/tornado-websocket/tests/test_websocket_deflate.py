"""permessage-deflate (RFC 7692): the compressor and decompressor classes on
plain bytes, the protocol's use of them, and negotiated window sizes with a
real peer (the ``websockets`` package) on 127.0.0.1."""

from __future__ import annotations

import random
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)

from tornado import _websocket_proto as proto
from tornado._websocket_proto import DeflateParams, Message, ProtocolError, WebSocketProtocol
from tornado.websocket import (
    WebSocketHandler,
    WebSocketProtocol13,
    _DecompressTooLargeError,
    _PerMessageDeflateCompressor,
    _PerMessageDeflateDecompressor,
    websocket_connect,
)

from .conftest import Serve

# Repeats 1500 bytes apart: a window of 9 bits (512 bytes) cannot refer back
# to them, 11 bits and more can.  A peer inflating with a smaller window
# than the one we compressed with fails on this data.
_rng = random.Random(7)
_BLOCK = bytes(_rng.randrange(256) for _ in range(1500))
FAR_REPEATS = _BLOCK * 40


def raw_deflate(data: bytes, wbits: int = 15, *, final: bool = False) -> bytes:
    """What a peer sends: raw deflate, sync-flushed without its 4-byte tail,
    or ended with a final block."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -wbits)
    if final:
        return compressor.compress(data) + compressor.flush(zlib.Z_FINISH)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


# -- the classes alone -----------------------------------------------------------


@pytest.mark.parametrize("persistent", [False, True])
@pytest.mark.parametrize("wbits", [None, 9, 12, 15])
def test_round_trip(persistent: bool, wbits: int | None) -> None:
    compressor = _PerMessageDeflateCompressor(persistent, wbits)
    decompressor = _PerMessageDeflateDecompressor(persistent, wbits, 1 << 20)
    for message in [b"", b"a", FAR_REPEATS, FAR_REPEATS, b"\x00" * 70_000]:
        assert decompressor.decompress(compressor.compress(message)) == message


def test_context_takeover_only_when_persistent() -> None:
    # The second copy of a message refers back to the first one only when
    # the compressor keeps its history.
    for persistent, shrinks in [(True, True), (False, False)]:
        compressor = _PerMessageDeflateCompressor(persistent, None)
        first = compressor.compress(FAR_REPEATS[:1400])
        second = compressor.compress(FAR_REPEATS[:1400])
        assert (len(second) < len(first) // 4) == shrinks


def test_no_context_takeover_messages_inflate_alone() -> None:
    compressor = _PerMessageDeflateCompressor(False, None)
    messages = [compressor.compress(b"same text " * 30) for _ in range(3)]
    for payload in reversed(messages):
        fresh = _PerMessageDeflateDecompressor(False, None, 1000)
        assert fresh.decompress(payload) == b"same text " * 30


def test_compression_options_are_applied() -> None:
    fast = _PerMessageDeflateCompressor(False, None, {"compression_level": 0})
    best = _PerMessageDeflateCompressor(False, None, {"compression_level": 9, "mem_level": 9})
    text = b"compressible text " * 200
    # Level 0 stores the data as it is.
    assert len(fast.compress(text)) > len(text)
    assert len(best.compress(text)) < len(text) // 10


def test_output_limit_is_exact() -> None:
    payload = raw_deflate(b"x" * 1000)
    assert _PerMessageDeflateDecompressor(False, None, 1000).decompress(payload) == b"x" * 1000
    with pytest.raises(_DecompressTooLargeError):
        _PerMessageDeflateDecompressor(False, None, 999).decompress(payload)


def test_bomb_is_refused() -> None:
    bomb = raw_deflate(b"\x00" * (20 * 1024 * 1024), 15)
    assert len(bomb) < 30_000
    decompressor = _PerMessageDeflateDecompressor(True, None, 64 * 1024)
    with pytest.raises(_DecompressTooLargeError):
        decompressor.decompress(bomb)


def test_corrupt_data_raises_zlib_error() -> None:
    decompressor = _PerMessageDeflateDecompressor(False, None, 1000)
    with pytest.raises(zlib.error):
        decompressor.decompress(b"\xff\xff\xff\xff")


def test_far_references_need_the_window_they_were_made_with() -> None:
    # Made with 15 bits, the data refers 1500 bytes back; a decompressor
    # held to 10 bits (1 KiB) must refuse it rather than guess.
    payload = raw_deflate(FAR_REPEATS, 15)
    assert _PerMessageDeflateDecompressor(False, 11, 1 << 20).decompress(payload) == FAR_REPEATS
    with pytest.raises(zlib.error):
        _PerMessageDeflateDecompressor(False, 10, 1 << 20).decompress(payload)


def test_eight_bit_windows_from_a_peer_inflate() -> None:
    # zlib cannot make an 8-bit stream, but a peer may have agreed to one;
    # 9-bit data (what old zlib made for such a request) must inflate too.
    payload = raw_deflate(b"abc" * 300, 9)
    assert _PerMessageDeflateDecompressor(True, 8, 10_000).decompress(payload) == b"abc" * 300


def test_final_block_starts_a_new_stream() -> None:
    # RFC 7692 7.2.3.4: a peer may end each message with a final block.
    # The message after it is a new deflate stream, not data after the end
    # of the old one (which zlib would silently drop).
    decompressor = _PerMessageDeflateDecompressor(True, None, 10_000)
    assert decompressor.decompress(raw_deflate(b"first", final=True)) == b"first"
    assert decompressor.decompress(raw_deflate(b"second", final=True)) == b"second"
    assert decompressor.decompress(raw_deflate(b"third")) == b"third"


@pytest.mark.parametrize("wbits", [7, 16, 0, -15])
def test_window_bits_out_of_range(wbits: int) -> None:
    with pytest.raises(ValueError):
        _PerMessageDeflateCompressor(True, wbits)
    with pytest.raises(ValueError):
        _PerMessageDeflateDecompressor(True, wbits, 1000)


# -- the protocol uses them ------------------------------------------------------


def test_protocol_uses_the_deflate_classes() -> None:
    protocol = WebSocketProtocol(
        is_client=False,
        max_message_size=500,
        deflate=DeflateParams(local_max_window_bits=10, remote_max_window_bits=12),
    )
    assert isinstance(protocol._deflater, _PerMessageDeflateCompressor)
    assert isinstance(protocol._inflater, _PerMessageDeflateDecompressor)
    assert protocol._deflater._wbits == 10
    assert protocol._inflater._wbits == 12


def _client_frame(payload: bytes) -> bytes:
    return proto.encode_frame(proto.OP_BINARY, payload, rsv1=True, mask=b"abcd")


def test_protocol_maps_deflate_errors_to_close_codes() -> None:
    def server() -> WebSocketProtocol:
        return WebSocketProtocol(is_client=False, max_message_size=500, deflate=DeflateParams())

    events = server().receive_data(_client_frame(raw_deflate(b"y" * 500)))
    assert [e.data for e in events if isinstance(e, Message)] == [b"y" * 500]
    with pytest.raises(ProtocolError) as too_big:
        server().receive_data(_client_frame(raw_deflate(b"y" * 501)))
    assert too_big.value.code == proto.CLOSE_TOO_BIG
    with pytest.raises(ProtocolError) as corrupt:
        server().receive_data(_client_frame(b"\xff\xff\xff\xff"))
    assert corrupt.value.code == proto.CLOSE_INVALID_DATA


def test_server_holds_the_client_to_its_offered_window() -> None:
    result = proto.server_accept_deflate("permessage-deflate; client_max_window_bits=9", None)
    assert result is not None
    header, params = result
    assert header == "permessage-deflate; client_max_window_bits=9"
    assert (params.local_max_window_bits, params.remote_max_window_bits) == (15, 9)


def test_client_inflates_with_the_servers_announced_window() -> None:
    params = proto.client_accept_deflate("permessage-deflate; server_max_window_bits=10", None)
    assert params is not None
    assert (params.local_max_window_bits, params.remote_max_window_bits) == (15, 10)


# -- negotiated windows with a real peer -------------------------------------------


class Echo(WebSocketHandler):
    def get_compression_options(self) -> dict[str, Any] | None:
        return {}

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message, binary=isinstance(message, bytes))


@pytest.mark.asyncio
async def test_websockets_client_with_small_windows(serve: Serve) -> None:
    # The client asks us to compress with 10 bits and says it compresses
    # with 9; data that repeats 1500 bytes apart goes both ways intact only
    # if each side keeps to its window.
    port = await serve([("/", Echo)])
    factory = ClientPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=9)
    async with ws_connect(
        f"ws://127.0.0.1:{port}/", compression=None, extensions=[factory], max_size=None
    ) as ws:
        negotiated = ws.response.headers["Sec-WebSocket-Extensions"]
        assert "server_max_window_bits=10" in negotiated
        assert "client_max_window_bits=9" in negotiated
        for _ in range(3):
            await ws.send(FAR_REPEATS)
            assert await ws.recv() == FAR_REPEATS


async def _echo(connection: ServerConnection) -> None:
    async for message in connection:
        await connection.send(message)


@pytest_asyncio.fixture
async def small_window_server() -> AsyncIterator[int]:
    factory = ServerPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=9)
    async with ws_serve(
        _echo, "127.0.0.1", 0, compression=None, extensions=[factory], max_size=None
    ) as server:
        yield server.sockets[0].getsockname()[1]


@pytest.mark.asyncio
async def test_our_client_against_a_small_window_server(small_window_server: int) -> None:
    ws = await websocket_connect(f"ws://127.0.0.1:{small_window_server}/", compression_options={})
    negotiated = ws.headers["Sec-WebSocket-Extensions"]
    assert "client_max_window_bits=9" in negotiated
    assert isinstance(ws.protocol, WebSocketProtocol13)
    engine = ws.protocol._engine
    assert engine is not None and engine.compressed
    assert engine._inflater is not None and engine._inflater._wbits == 10
    for _ in range(3):
        await ws.write_message(FAR_REPEATS, binary=True)
        assert await ws.read_message() == FAR_REPEATS
    ws.close(1000)
    assert await ws.read_message() is None
