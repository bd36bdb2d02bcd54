"""A raw HTTP/2 peer for the hardening tests: it writes whatever frames a
test builds (with hyperframe and hpack, the layers h2 itself is built on)
and reads the server's frames back without judging them, so it can
misbehave in ways a well-behaved client library never would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import hpack
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

#: A hang guard for reads (not a timing assertion).
READ_DEADLINE = 30.0


class RawPeer:
    """One TCP connection speaking raw frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.received: list[Frame] = []
        self.header_blocks: list[tuple[int, list[tuple[str, str]]]] = []
        self._buffer = b""
        self.eof = False

    @classmethod
    async def connect(cls, port: int, settings: dict[int, int] | None = None) -> RawPeer:
        """Connect, send the preface and a SETTINGS frame.  The server's
        SETTINGS are never ACKed: an attacker would not bother."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        peer = cls(reader, writer)
        frame = SettingsFrame(0)
        frame.settings = dict(settings or {})
        await peer.send_raw(PREFACE + frame.serialize())
        return peer

    async def send_raw(self, data: bytes) -> None:
        """Write ``data``; a server that already hung up is not an error
        here (the attacks expect it), the frames read back tell."""
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionResetError, BrokenPipeError):
            pass

    async def send(self, frames: Iterable[Frame]) -> None:
        await self.send_raw(b"".join(f.serialize() for f in frames))

    def request_headers(
        self, path: str = "/", method: str = "GET", extra: Iterable[tuple[str, str]] = ()
    ) -> bytes:
        """An HPACK-encoded request header block."""
        fields = [
            (":method", method),
            (":scheme", "http"),
            (":path", path),
            (":authority", "127.0.0.1"),
            *extra,
        ]
        return self.encoder.encode(fields)

    def headers_frame(
        self, stream_id: int, block: bytes, end_stream: bool = True, end_headers: bool = True
    ) -> HeadersFrame:
        frame = HeadersFrame(stream_id)
        frame.data = block
        if end_stream:
            frame.flags.add("END_STREAM")
        if end_headers:
            frame.flags.add("END_HEADERS")
        return frame

    @staticmethod
    def continuation(stream_id: int, block: bytes, end_headers: bool = False) -> ContinuationFrame:
        frame = ContinuationFrame(stream_id)
        frame.data = block
        if end_headers:
            frame.flags.add("END_HEADERS")
        return frame

    @staticmethod
    def rst(stream_id: int, code: int = 0x8) -> RstStreamFrame:
        frame = RstStreamFrame(stream_id)
        frame.error_code = code
        return frame

    @staticmethod
    def ping(payload: bytes = b"12345678") -> PingFrame:
        frame = PingFrame(0)
        frame.opaque_data = payload
        return frame

    @staticmethod
    def settings(values: dict[int, int] | None = None, ack: bool = False) -> SettingsFrame:
        frame = SettingsFrame(0)
        if ack:
            frame.flags.add("ACK")
        else:
            frame.settings = dict(values or {})
        return frame

    @staticmethod
    def data(stream_id: int, payload: bytes, end_stream: bool = False) -> DataFrame:
        frame = DataFrame(stream_id)
        frame.data = payload
        if end_stream:
            frame.flags.add("END_STREAM")
        return frame

    @staticmethod
    def window_update(stream_id: int, increment: int) -> WindowUpdateFrame:
        frame = WindowUpdateFrame(stream_id)
        frame.window_increment = increment
        return frame

    async def read_frame(self) -> Frame | None:
        """The next frame from the server, or None at end of stream."""
        while True:
            if len(self._buffer) >= 9:
                frame, length = Frame.parse_frame_header(memoryview(self._buffer[:9]))
                if len(self._buffer) >= 9 + length:
                    frame.parse_body(memoryview(self._buffer[9 : 9 + length]))
                    self._buffer = self._buffer[9 + length :]
                    self.received.append(frame)
                    if isinstance(frame, HeadersFrame):
                        # Decoded as they arrive: HPACK's table depends on
                        # the order.  (The server's blocks fit one frame.)
                        fields = self.decoder.decode(bytes(frame.data))
                        self.header_blocks.append(
                            (frame.stream_id, [(str(n), str(v)) for n, v in fields])
                        )
                    return frame
            try:
                chunk = await asyncio.wait_for(self.reader.read(65536), READ_DEADLINE)
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                self.eof = True
                return None
            self._buffer += chunk

    async def goaway(self) -> GoAwayFrame | None:
        """Read until GOAWAY (returned) or the end of the connection (None)."""
        while True:
            frame = await self.read_frame()
            if frame is None or isinstance(frame, GoAwayFrame):
                return frame

    async def until_closed(self) -> None:
        """Read everything until the server closes the connection."""
        while await self.read_frame() is not None:
            pass

    def headers_of(self, stream_id: int) -> list[list[tuple[str, str]]]:
        """Every header block received on ``stream_id``, decoded."""
        return [fields for sid, fields in self.header_blocks if sid == stream_id]

    def body_of(self, stream_id: int) -> bytes:
        """The DATA received so far on ``stream_id``."""
        return b"".join(
            bytes(f.data)
            for f in self.received
            if isinstance(f, DataFrame) and f.stream_id == stream_id
        )

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionResetError, BrokenPipeError):
            pass
