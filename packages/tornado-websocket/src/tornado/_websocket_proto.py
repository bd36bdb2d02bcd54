"""Sans-IO WebSocket protocol: RFC 6455 framing and RFC 7692 permessage-deflate.

Strategy: `WebSocketProtocol` is a state machine over bytes.  The adapter
feeds it whatever the socket produced (`WebSocketProtocol.receive_data`)
and gets back a list of events (`Message`, `Ping`, `Pong`, `CloseReceived`);
it asks for the bytes of outgoing frames (`send_message`, `send_ping`, ...)
and writes them itself.  Nothing here touches a socket, a loop or a clock,
so every rule of the RFCs is tested and fuzzed on plain bytes.

A violation by the peer raises `ProtocolError` carrying the close code the
RFC prescribes (1002 protocol error, 1007 invalid payload, 1009 too big);
the adapter answers with a close frame with that code and drops the
connection.

The header checks run as soon as a frame header is complete, before its
payload arrives, so an oversized frame is refused without buffering it; a
compressed message is inflated with an output bound of the remaining
message budget, so a compression bomb is refused without being inflated.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import zlib
from collections.abc import Callable
from typing import Any, Final

from tornado.util import _websocket_mask

OP_CONTINUATION: Final = 0x0
OP_TEXT: Final = 0x1
OP_BINARY: Final = 0x2
OP_CLOSE: Final = 0x8
OP_PING: Final = 0x9
OP_PONG: Final = 0xA

CLOSE_NORMAL: Final = 1000
CLOSE_GOING_AWAY: Final = 1001
CLOSE_PROTOCOL_ERROR: Final = 1002
CLOSE_INVALID_DATA: Final = 1007
CLOSE_TOO_BIG: Final = 1009
CLOSE_INTERNAL_ERROR: Final = 1011

DEFAULT_MAX_MESSAGE_SIZE: Final = 10 * 1024 * 1024

_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_DEFLATE_TAIL: Final = b"\x00\x00\xff\xff"
_KNOWN_OPCODES: Final = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG))
_PACK_16: Final = struct.Struct("!BBH").pack
_PACK_64: Final = struct.Struct("!BBQ").pack
_UNPACK_16: Final = struct.Struct("!H").unpack_from
_UNPACK_64: Final = struct.Struct("!Q").unpack_from


class ProtocolError(Exception):
    """The peer broke the protocol; ``code`` is the close code to answer
    with and ``reason`` a short human-readable explanation."""

    def __init__(self, code: int, reason: str) -> None:
        """Record the close code and reason."""
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class HandshakeError(Exception):
    """An opening handshake header is missing or unacceptable."""


# -- events ------------------------------------------------------------------


class Message:
    """A complete data message: ``data`` is `str` for text, `bytes` for binary."""

    __slots__ = ("data",)

    def __init__(self, data: str | bytes) -> None:
        """Wrap the message payload."""
        self.data = data

    def __repr__(self) -> str:
        return f"Message({self.data!r})"


class Ping:
    """A ping frame with its application data (the pong is the adapter's job)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        """Wrap the ping payload."""
        self.data = data


class Pong:
    """A pong frame with its application data."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        """Wrap the pong payload."""
        self.data = data


class CloseReceived:
    """The peer's close frame: ``code`` is None when the frame had no body."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int | None, reason: str | None) -> None:
        """Record the peer's close code and reason."""
        self.code = code
        self.reason = reason


Event = Message | Ping | Pong | CloseReceived


# -- handshake helpers --------------------------------------------------------


def accept_key(key: str | bytes) -> str:
    """The ``Sec-WebSocket-Accept`` value answering a ``Sec-WebSocket-Key``."""
    if isinstance(key, str):
        key = key.encode("ascii")
    return base64.b64encode(hashlib.sha1(key + _GUID).digest()).decode("ascii")


def make_client_key() -> str:
    """A fresh random ``Sec-WebSocket-Key`` (16 random bytes, base64)."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def is_valid_client_key(key: str) -> bool:
    """Whether ``key`` is the base64 form of 16 bytes, as RFC 6455 4.1 requires."""
    try:
        return len(base64.b64decode(key.encode("ascii"), validate=True)) == 16
    except (ValueError, UnicodeEncodeError):
        return False


def parse_extensions(header: str) -> list[tuple[str, dict[str, str | None]]]:
    """Parse a ``Sec-WebSocket-Extensions`` value into (name, params) pairs.

    Values may be quoted strings; a parameter without a value maps to None.
    Raises `HandshakeError` for a malformed value or a repeated parameter.
    """
    result: list[tuple[str, dict[str, str | None]]] = []
    for item in header.split(","):
        parts = [part.strip() for part in item.split(";")]
        if not parts[0]:
            if len(parts) == 1:
                continue
            raise HandshakeError(f"malformed extension header {header!r}")
        params: dict[str, str | None] = {}
        for part in parts[1:]:
            name, eq, value = part.partition("=")
            name = name.strip()
            if not name or name in params:
                raise HandshakeError(f"malformed extension parameters {item!r}")
            clean: str | None = None
            if eq:
                clean = value.strip()
                if len(clean) >= 2 and clean[0] == clean[-1] == '"':
                    clean = clean[1:-1]
            params[name] = clean
        result.append((parts[0].lower(), params))
    return result


# -- masking and frame encoding ----------------------------------------------


def _choose_mask_function() -> Callable[[bytes, bytes | bytearray | memoryview], bytes]:
    # The C-backed tornado.speedups when the [speedups] extra is installed and
    # the environment does not turn it off; else the pure Python mask of
    # tornado.util (same results, tested on the same cases).
    if os.environ.get("TORNADO_NO_SPEEDUPS") or os.environ.get("TORNADO_NO_EXTENSION"):
        return _websocket_mask
    try:
        from tornado.speedups import websocket_mask
    except ImportError:
        return _websocket_mask
    return websocket_mask


#: XOR a payload with a 4-byte mask (RFC 6455 5.3); applying it twice
#: restores the data.
mask_payload: Final = _choose_mask_function()


def encode_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask: bytes | None = None,
) -> bytes:
    """Serialise one frame; ``mask`` (4 bytes) masks it as a client must."""
    first = opcode | (0x80 if fin else 0) | (0x40 if rsv1 else 0)
    length = len(payload)
    mask_bit = 0x80 if mask is not None else 0
    if length < 126:
        header = bytes((first, mask_bit | length))
    elif length < 65536:
        header = _PACK_16(first, mask_bit | 126, length)
    else:
        header = _PACK_64(first, mask_bit | 127, length)
    if mask is None:
        return header + payload
    return header + mask + mask_payload(mask, payload)


def encode_close_payload(code: int | None, reason: str | None) -> bytes:
    """The body of a close frame; a reason without a code implies 1000.

    Raises `ValueError` for a code outside 1000-4999 or a body over the
    125 bytes a control frame may carry.
    """
    if code is None:
        if reason is None:
            return b""
        code = CLOSE_NORMAL
    if not 1000 <= code <= 4999:
        raise ValueError(f"invalid close code {code}")
    body = struct.pack("!H", code) + (reason or "").encode("utf-8")
    if len(body) > 125:
        raise ValueError("close reason too long (at most 123 bytes of UTF-8)")
    return body


def _is_valid_close_code(code: int) -> bool:
    # 1004-1006 and 1015 are reserved for local use and must never be sent;
    # 1012-1014 are registered in the IANA registry after RFC 6455.
    if 1000 <= code <= 1014:
        return code not in (1004, 1005, 1006)
    return 3000 <= code <= 4999


def parse_close_payload(payload: bytes) -> tuple[int | None, str | None]:
    """Decode a close frame body into (code, reason).

    Raises `ProtocolError` (1002) for a one-byte body or an invalid code,
    and (1007) for a reason that is not UTF-8.
    """
    if not payload:
        return None, None
    if len(payload) == 1:
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "one-byte close frame")
    (code,) = _UNPACK_16(payload)
    if not _is_valid_close_code(code):
        raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(CLOSE_INVALID_DATA, "close reason is not UTF-8") from None
    return code, reason


# -- permessage-deflate --------------------------------------------------------


class DeflateParams:
    """The agreed permessage-deflate parameters, from one side's point of view.

    ``local_*`` apply to what this side compresses, ``remote_*`` to what it
    decompresses; ``compression_options`` carries ``compression_level`` and
    ``mem_level`` for the local compressor.
    """

    def __init__(
        self,
        *,
        local_max_window_bits: int = 15,
        remote_max_window_bits: int = 15,
        local_no_context_takeover: bool = False,
        remote_no_context_takeover: bool = False,
        compression_options: dict[str, Any] | None = None,
    ) -> None:
        """Record the negotiated parameters."""
        self.local_max_window_bits = local_max_window_bits
        self.remote_max_window_bits = remote_max_window_bits
        self.local_no_context_takeover = local_no_context_takeover
        self.remote_no_context_takeover = remote_no_context_takeover
        self.compression_options = compression_options


def _window_bits(value: str | None, *, optional: bool) -> int | None:
    if value is None:
        if optional:
            return None
        raise HandshakeError("window bits parameter needs a value")
    if not value.isdigit() or not 8 <= int(value) <= 15:
        raise HandshakeError(f"invalid window bits {value!r}")
    return int(value)


def server_accept_deflate(
    header: str | None, compression_options: dict[str, Any] | None
) -> tuple[str, DeflateParams] | None:
    """Pick the first acceptable permessage-deflate offer of a client.

    Returns the response extension header and the server-side parameters,
    or None when no offer is acceptable (the connection then runs without
    compression).  Offers with unknown or malformed parameters are skipped.
    """
    if not header:
        return None
    try:
        offers = parse_extensions(header)
    except HandshakeError:
        return None
    for name, params in offers:
        if name != "permessage-deflate":
            continue
        try:
            response = _server_answer(params)
        except HandshakeError:
            continue
        if response is None:
            continue
        answer, server_bits, client_bits = response
        return answer, DeflateParams(
            local_max_window_bits=server_bits,
            remote_max_window_bits=client_bits,
            local_no_context_takeover="server_no_context_takeover" in params,
            remote_no_context_takeover="client_no_context_takeover" in params,
            compression_options=compression_options,
        )
    return None


def _server_answer(params: dict[str, str | None]) -> tuple[str, int, int] | None:
    """The extension header answering one offer, with the window bits this
    server compresses with and the ones the client will compress with; None
    to decline the offer."""
    answer = ["permessage-deflate"]
    server_bits = client_bits = 15
    for key, value in params.items():
        if key in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                raise HandshakeError(f"{key} takes no value")
            answer.append(key)
        elif key == "server_max_window_bits":
            bits = _window_bits(value, optional=False)
            assert bits is not None
            if bits == 8:
                # zlib cannot compress with a 256-byte window; decline.
                return None
            server_bits = bits
            answer.append(f"{key}={bits}")
        elif key == "client_max_window_bits":
            bits = _window_bits(value, optional=True)
            if bits is not None:
                # Echoed back, this binds the client to that window, so
                # its messages inflate with no more memory than it needs.
                client_bits = bits
                answer.append(f"{key}={bits}")
        else:
            raise HandshakeError(f"unknown parameter {key}")
    return "; ".join(answer), server_bits, client_bits


def client_offer() -> str:
    """The permessage-deflate offer a client sends."""
    return "permessage-deflate; client_max_window_bits"


def client_accept_deflate(
    header: str | None, compression_options: dict[str, Any] | None
) -> DeflateParams | None:
    """Check the server's answer to `client_offer`.

    Returns the client-side parameters, or None if the server declined
    compression.  Raises `HandshakeError` for an answer the offer did not
    allow (another extension, unknown parameters, bad window bits).
    """
    if not header:
        return None
    extensions = parse_extensions(header)
    if len(extensions) != 1 or extensions[0][0] != "permessage-deflate":
        raise HandshakeError(f"unexpected extensions {header!r}")
    params = extensions[0][1]
    client_bits = server_bits = 15
    for key, value in params.items():
        if key in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                raise HandshakeError(f"{key} takes no value")
        elif key == "server_max_window_bits":
            bits = _window_bits(value, optional=False)
            assert bits is not None
            server_bits = bits
        elif key == "client_max_window_bits":
            bits = _window_bits(value, optional=False)
            assert bits is not None
            if bits == 8:
                raise HandshakeError("client_max_window_bits=8 is not supported")
            client_bits = bits
        else:
            raise HandshakeError(f"unknown parameter {key}")
    return DeflateParams(
        local_max_window_bits=client_bits,
        remote_max_window_bits=server_bits,
        local_no_context_takeover="client_no_context_takeover" in params,
        remote_no_context_takeover="server_no_context_takeover" in params,
        compression_options=compression_options,
    )


def _check_window_bits(max_wbits: int | None) -> int:
    if max_wbits is None:
        return zlib.MAX_WBITS
    if not 8 <= max_wbits <= zlib.MAX_WBITS:
        raise ValueError(f"window bits must be between 8 and {zlib.MAX_WBITS}, not {max_wbits}")
    return max_wbits


class _DecompressTooLargeError(Exception):
    """A compressed message inflates to more than the allowed message size.

    Raised by `_PerMessageDeflateDecompressor` as soon as the limit is
    passed, without inflating the rest of the message.
    """


class _PerMessageDeflateCompressor:
    """Compresses the payloads of outgoing messages (RFC 7692 section 7.2.1).

    ``persistent`` keeps one compressor for the whole connection, so later
    messages refer back to earlier ones (context takeover); when false each
    message is compressed on its own (``*_no_context_takeover``).
    ``max_wbits`` is the negotiated window size (None for zlib's largest).
    ``compression_options`` may set ``compression_level`` and
    ``mem_level``.  Raises `ValueError` for window bits outside 8 to 15;
    zlib cannot compress with an 8-bit window, so negotiation never agrees
    to one for this side.
    """

    def __init__(
        self,
        persistent: bool,
        max_wbits: int | None,
        compression_options: dict[str, Any] | None = None,
    ) -> None:
        """Set up the compressor; see the class docstring."""
        options = compression_options or {}
        self._wbits = _check_window_bits(max_wbits)
        self._level: int = options.get("compression_level", zlib.Z_DEFAULT_COMPRESSION)
        self._mem_level: int = options.get("mem_level", 8)
        self._persistent = persistent
        self._compressor: Any = self._new() if persistent else None

    def _new(self) -> Any:
        # Negative window bits: raw deflate, without zlib's header and checksum.
        return zlib.compressobj(self._level, zlib.DEFLATED, -self._wbits, self._mem_level)

    def compress(self, data: bytes) -> bytes:
        """Return the compressed payload of one whole message."""
        compressor = self._compressor if self._persistent else self._new()
        out: bytes = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
        # RFC 7692 7.2.1: the sync flush ends with an empty stored block
        # whose last 4 bytes are always 00 00 ff ff; they are not sent.
        assert out.endswith(_DEFLATE_TAIL)
        return out[:-4]


class _PerMessageDeflateDecompressor:
    """Inflates the payloads of incoming compressed messages (RFC 7692 7.2.2).

    ``persistent`` and ``max_wbits`` mean what they mean for
    `_PerMessageDeflateCompressor`, for the peer's side.  A message that
    inflates to more than ``max_message_size`` bytes raises
    `_DecompressTooLargeError` once that many bytes are out, so a small
    compressed "bomb" costs no more than the limit; corrupt data raises
    `zlib.error`.
    """

    def __init__(
        self,
        persistent: bool,
        max_wbits: int | None,
        max_message_size: int,
        compression_options: dict[str, Any] | None = None,
    ) -> None:
        """Set up the decompressor; ``compression_options`` is accepted for
        symmetry with the compressor and not used (inflating has no level)."""
        self._wbits = _check_window_bits(max_wbits)
        self._max_message_size = max_message_size
        self._persistent = persistent
        self._decompressor: Any = self._new() if persistent else None

    def _new(self) -> Any:
        # Never below 9 bits: zlib before 1.2.9 compressed with a 512-byte
        # window when asked for 256 bytes, and a larger window inflates a
        # stream made with a smaller one just the same.
        return zlib.decompressobj(-max(self._wbits, 9))

    def decompress(self, data: bytes) -> bytes:
        """Return the payload of one whole compressed message."""
        decompressor = self._decompressor if self._persistent else self._new()
        limit = self._max_message_size
        # One byte over the limit tells "too big" from "exactly the limit";
        # below that bound zlib has consumed all of its input.
        out: bytes = decompressor.decompress(data + _DEFLATE_TAIL, limit + 1)
        if len(out) > limit:
            raise _DecompressTooLargeError(f"message inflates to more than {limit} bytes")
        if decompressor.eof and self._persistent:
            # The peer ended its deflate stream with a final block (RFC 7692
            # 7.2.3.4 allows it); its next message starts a new stream.
            self._decompressor = self._new()
        return out


# -- the connection state machine ----------------------------------------------


class WebSocketProtocol:
    """Both directions of one WebSocket connection, as bytes in and bytes out.

    ``is_client`` selects the masking rules: a client masks what it sends
    and refuses masked frames; a server requires masked frames.  ``deflate``
    enables permessage-deflate with the negotiated parameters.
    """

    def __init__(
        self,
        is_client: bool,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        deflate: DeflateParams | None = None,
    ) -> None:
        """Start in the open state (the handshake is done)."""
        self.is_client = is_client
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_size = 0
        self._message_opcode = 0
        self._message_compressed = False
        self._deflater: _PerMessageDeflateCompressor | None = None
        self._inflater: _PerMessageDeflateDecompressor | None = None
        if deflate is not None:
            self._deflater = _PerMessageDeflateCompressor(
                not deflate.local_no_context_takeover,
                deflate.local_max_window_bits,
                deflate.compression_options,
            )
            self._inflater = _PerMessageDeflateDecompressor(
                not deflate.remote_no_context_takeover,
                deflate.remote_max_window_bits,
                max_message_size,
            )
        self.close_sent = False
        self.close_received = False
        self.failed = False
        #: The code and reason of the peer's close frame, once it arrived.
        self.close_code: int | None = None
        self.close_reason: str | None = None
        # Statistics: payload bytes of data messages (before compression)
        # and bytes of whole frames, each way.
        self._message_bytes_in = 0
        self._message_bytes_out = 0
        self._wire_bytes_in = 0
        self._wire_bytes_out = 0

    @property
    def compressed(self) -> bool:
        """Whether permessage-deflate is in use."""
        return self._deflater is not None

    # -- outgoing --------------------------------------------------------

    def _mask(self) -> bytes | None:
        return os.urandom(4) if self.is_client else None

    def send_message(self, data: str | bytes, binary: bool = False) -> bytes:
        """The frame for one data message (compressed when negotiated).

        ``data`` as `str` is sent as UTF-8.  Raises `RuntimeError` after a
        close frame was sent.
        """
        if self.close_sent:
            raise RuntimeError("message after close")
        payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        opcode = OP_BINARY if binary else OP_TEXT
        self._message_bytes_out += len(payload)
        deflater = self._deflater
        if deflater is None:
            frame = encode_frame(opcode, payload, mask=self._mask())
        else:
            frame = encode_frame(opcode, deflater.compress(payload), rsv1=True, mask=self._mask())
        self._wire_bytes_out += len(frame)
        return frame

    def send_fragments(self, pieces: list[bytes], binary: bool = False) -> bytes:
        """The frames of one message sent as ``pieces`` (fragmentation, RFC
        6455 5.4); compressed as a whole and split the same way when
        permessage-deflate is on.  Raises `ValueError` for no pieces."""
        if not pieces:
            raise ValueError("a message needs at least one fragment")
        if self.close_sent:
            raise RuntimeError("message after close")
        opcode = OP_BINARY if binary else OP_TEXT
        self._message_bytes_out += sum(len(piece) for piece in pieces)
        rsv1 = False
        if self._deflater is not None:
            rsv1 = True
            pieces = [self._deflater.compress(b"".join(pieces))]
        out = []
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            out.append(
                encode_frame(
                    opcode if index == 0 else OP_CONTINUATION,
                    piece,
                    fin=index == last,
                    rsv1=rsv1 and index == 0,
                    mask=self._mask(),
                )
            )
        frames = b"".join(out)
        self._wire_bytes_out += len(frames)
        return frames

    def _control(self, opcode: int, data: bytes) -> bytes:
        if len(data) > 125:
            raise ValueError("control frame payloads are limited to 125 bytes")
        frame = encode_frame(opcode, data, mask=self._mask())
        self._wire_bytes_out += len(frame)
        return frame

    def send_ping(self, data: bytes = b"") -> bytes:
        """A ping frame; raises `ValueError` for data over 125 bytes."""
        return self._control(OP_PING, data)

    def send_pong(self, data: bytes = b"") -> bytes:
        """A pong frame; raises `ValueError` for data over 125 bytes."""
        return self._control(OP_PONG, data)

    def send_close(self, code: int | None = None, reason: str | None = None) -> bytes:
        """The close frame (once; later calls return b"").

        Raises `ValueError` for an invalid code or too long a reason.
        """
        if self.close_sent:
            return b""
        frame = self._control(OP_CLOSE, encode_close_payload(code, reason))
        self.close_sent = True
        return frame

    # -- incoming --------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Consume bytes from the peer; return the events they complete.

        Raises `ProtocolError` for a violation (and `failed` becomes True;
        no further data is accepted).  Frames after a close frame are
        ignored, as RFC 6455 5.5.1 allows.
        """
        if self.failed:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "connection already failed")
        buf = self._buffer
        buf += data
        self._wire_bytes_in += len(data)
        events: list[Event] = []
        pos = 0
        end = len(buf)
        try:
            while end - pos >= 2 and not self.close_received:
                first = buf[pos]
                second = buf[pos + 1]
                length = second & 0x7F
                header_len = 2
                if length == 126:
                    if end - pos < 4:
                        break
                    (length,) = _UNPACK_16(buf, pos + 2)
                    header_len = 4
                elif length == 127:
                    if end - pos < 10:
                        break
                    (length,) = _UNPACK_64(buf, pos + 2)
                    header_len = 10
                    if length >> 63:
                        raise ProtocolError(CLOSE_PROTOCOL_ERROR, "frame length overflow")
                masked = second & 0x80
                if masked:
                    header_len += 4
                opcode = first & 0x0F
                self._check_header(first, opcode, length, masked)
                frame_end = pos + header_len + length
                if frame_end > end:
                    break
                if masked:
                    payload = mask_payload(
                        bytes(buf[pos + header_len - 4 : pos + header_len]),
                        memoryview(buf)[pos + header_len : frame_end],
                    )
                else:
                    payload = bytes(buf[pos + header_len : frame_end])
                pos = frame_end
                event = self._frame(first, opcode, payload)
                if event is not None:
                    events.append(event)
        except ProtocolError:
            self.failed = True
            raise
        finally:
            del buf[:pos]
        if self.close_received:
            buf.clear()
        return events

    def _check_header(self, first: int, opcode: int, length: int, masked: int) -> None:
        if opcode not in _KNOWN_OPCODES:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, f"reserved opcode {opcode}")
        if first & 0x30:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "reserved bits set")
        if first & 0x40 and (self._inflater is None or opcode not in (OP_TEXT, OP_BINARY)):
            # RSV1 marks a compressed message, only on its first frame.
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "RSV1 set without compression")
        if self.is_client:
            if masked:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "masked frame from server")
        elif not masked:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "unmasked frame from client")
        if opcode & 0x8:
            if not first & 0x80:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "fragmented control frame")
            if length > 125:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "control frame too long")
            return
        if opcode == OP_CONTINUATION:
            if not self._message_opcode:
                raise ProtocolError(CLOSE_PROTOCOL_ERROR, "continuation without a message")
        elif self._message_opcode:
            raise ProtocolError(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one")
        if self._fragment_size + length > self.max_message_size:
            raise ProtocolError(CLOSE_TOO_BIG, "message too big")

    def _frame(self, first: int, opcode: int, payload: bytes) -> Event | None:
        if opcode & 0x8:
            return self._handle_message(opcode, payload)
        fin = first & 0x80
        if opcode != OP_CONTINUATION:
            compressed = bool(first & 0x40)
            if fin:
                # The common case: a whole message in one frame.
                return self._complete(opcode, compressed, payload)
            self._message_opcode = opcode
            self._message_compressed = compressed
        self._fragments.append(payload)
        self._fragment_size += len(payload)
        if not fin:
            return None
        whole = b"".join(self._fragments)
        message_opcode = self._message_opcode
        self._fragments = []
        self._fragment_size = 0
        self._message_opcode = 0
        return self._complete(message_opcode, self._message_compressed, whole)

    def _complete(self, opcode: int, compressed: bool, payload: bytes) -> Event | None:
        if compressed:
            assert self._inflater is not None
            try:
                payload = self._inflater.decompress(payload)
            except _DecompressTooLargeError:
                raise ProtocolError(CLOSE_TOO_BIG, "message too big") from None
            except zlib.error as e:
                raise ProtocolError(CLOSE_INVALID_DATA, f"bad deflate data: {e}") from None
        self._message_bytes_in += len(payload)
        return self._handle_message(opcode, payload)

    def _handle_message(self, opcode: int, payload: bytes) -> Event | None:
        # One complete (inflated) message or control frame becomes an event.
        # A single place, so that a test can wrap it to observe or drop frames.
        if opcode == OP_BINARY:
            return Message(payload)
        if opcode == OP_TEXT:
            try:
                return Message(payload.decode("utf-8"))
            except UnicodeDecodeError:
                raise ProtocolError(CLOSE_INVALID_DATA, "text message is not UTF-8") from None
        if opcode == OP_PING:
            return Ping(payload)
        if opcode == OP_PONG:
            return Pong(payload)
        code, reason = parse_close_payload(payload)
        self.close_received = True
        self.close_code = code
        self.close_reason = reason
        return CloseReceived(code, reason)
