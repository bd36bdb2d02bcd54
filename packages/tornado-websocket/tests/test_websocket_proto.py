"""The sans-IO protocol: framing, masking, fragmentation, control frames,
close payloads and permessage-deflate, on plain bytes."""

from __future__ import annotations

import os
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tornado import _websocket_proto as proto
from tornado._websocket_proto import (
    CloseReceived,
    DeflateParams,
    Message,
    Ping,
    Pong,
    ProtocolError,
    WebSocketProtocol,
    encode_frame,
    mask_payload,
)

MASK = b"\x01\x02\x03\x04"


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False) -> bytes:
    return encode_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=MASK)


def server() -> WebSocketProtocol:
    return WebSocketProtocol(is_client=False)


def datas(events: list[proto.Event]) -> list[str | bytes]:
    return [e.data for e in events if isinstance(e, Message)]


def error_code(protocol: WebSocketProtocol, data: bytes) -> int:
    with pytest.raises(ProtocolError) as info:
        protocol.receive_data(data)
    assert protocol.failed
    return info.value.code


# -- handshake helpers ---------------------------------------------------------


def test_accept_key_matches_rfc_example() -> None:
    # The worked example of RFC 6455 section 1.3.
    assert proto.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_client_keys_are_valid_and_random() -> None:
    keys = {proto.make_client_key() for _ in range(10)}
    assert len(keys) == 10
    assert all(proto.is_valid_client_key(k) for k in keys)


@pytest.mark.parametrize("key", ["", "abc", "not base64!!", "AAAA", "é" * 24])
def test_invalid_client_keys(key: str) -> None:
    assert not proto.is_valid_client_key(key)


def test_parse_extensions_quoted_and_bare_params() -> None:
    parsed = proto.parse_extensions(
        'permessage-deflate; client_max_window_bits="10"; server_no_context_takeover, x-foo'
    )
    assert parsed == [
        (
            "permessage-deflate",
            {"client_max_window_bits": "10", "server_no_context_takeover": None},
        ),
        ("x-foo", {}),
    ]


def test_parse_extensions_rejects_repeated_params() -> None:
    with pytest.raises(proto.HandshakeError):
        proto.parse_extensions("permessage-deflate; a; a")


# -- masking ---------------------------------------------------------------------


@given(st.binary(min_size=4, max_size=4), st.binary(max_size=2000))
def test_mask_matches_bytewise_definition(mask: bytes, data: bytes) -> None:
    expected = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    assert mask_payload(mask, data) == expected
    assert mask_payload(mask, mask_payload(mask, data)) == data


def test_mask_large_payload_roundtrip() -> None:
    data = os.urandom(1 << 20)
    assert mask_payload(MASK, mask_payload(MASK, data)) == data


# -- frame encoding --------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "header"),
    [
        (0, b"\x81\x00"),
        (125, b"\x81\x7d"),
        (126, b"\x81\x7e\x00\x7e"),
        (65535, b"\x81\x7e\xff\xff"),
    ],
)
def test_frame_length_encodings(length: int, header: bytes) -> None:
    frame = encode_frame(proto.OP_TEXT, b"a" * length)
    assert frame.startswith(header)
    assert len(frame) == len(header) + length


def test_64_bit_length_encoding() -> None:
    frame = encode_frame(proto.OP_BINARY, b"x" * 65536)
    assert frame[:10] == b"\x82\x7f" + struct.pack("!Q", 65536)


def test_client_frames_are_masked() -> None:
    client = WebSocketProtocol(is_client=True)
    frame = client.send_message("hello")
    assert frame[1] & 0x80
    assert b"hello" not in frame
    assert datas(server().receive_data(frame)) == ["hello"]


def test_server_frames_are_not_masked() -> None:
    frame = server().send_message(b"\x00\x01", binary=True)
    assert frame == b"\x82\x02\x00\x01"


# -- receiving -------------------------------------------------------------------


def test_text_and_binary_messages() -> None:
    s = server()
    events = s.receive_data(client_frame(1, "héllo".encode()) + client_frame(2, b"\xff\x00"))
    assert datas(events) == ["héllo", b"\xff\x00"]


def test_byte_at_a_time() -> None:
    s = server()
    data = client_frame(1, b"x" * 300) + client_frame(9, b"p")
    events: list[proto.Event] = []
    for i in range(len(data)):
        events += s.receive_data(data[i : i + 1])
    assert datas(events) == ["x" * 300]
    assert isinstance(events[1], Ping)
    assert events[1].data == b"p"


def test_fragmented_message_with_interleaved_control_frames() -> None:
    s = server()
    data = (
        client_frame(1, b"hel", fin=False)
        + client_frame(9, b"ping")
        + client_frame(0, b"lo ", fin=False)
        + client_frame(10, b"pong")
        + client_frame(0, b"world")
    )
    events = s.receive_data(data)
    assert [type(e) for e in events] == [Ping, Pong, Message]
    assert datas(events) == ["hello world"]


def test_utf8_split_across_fragments_is_valid() -> None:
    encoded = "é".encode()
    s = server()
    events = s.receive_data(client_frame(1, encoded[:1], fin=False) + client_frame(0, encoded[1:]))
    assert datas(events) == ["é"]


def test_close_frame_with_code_and_reason() -> None:
    s = server()
    (event,) = s.receive_data(client_frame(8, struct.pack("!H", 1001) + "bye ✓".encode()))
    assert isinstance(event, CloseReceived)
    assert (event.code, event.reason) == (1001, "bye ✓")
    assert s.close_received


def test_empty_close_frame() -> None:
    (event,) = server().receive_data(client_frame(8, b""))
    assert isinstance(event, CloseReceived)
    assert (event.code, event.reason) == (None, None)


def test_frames_after_close_are_ignored() -> None:
    s = server()
    events = s.receive_data(client_frame(8, b"") + client_frame(1, b"late"))
    assert len(events) == 1
    assert s.receive_data(client_frame(1, b"later")) == []


# -- protocol errors -------------------------------------------------------------


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
def test_reserved_opcodes_close_1002(opcode: int) -> None:
    assert error_code(server(), client_frame(opcode, b"")) == 1002


@pytest.mark.parametrize("bits", [0x40, 0x20, 0x10])
def test_reserved_bits_close_1002(bits: int) -> None:
    frame = bytearray(client_frame(1, b"x"))
    frame[0] |= bits
    assert error_code(server(), bytes(frame)) == 1002


def test_unmasked_client_frame_is_rejected() -> None:
    assert error_code(server(), encode_frame(1, b"hi")) == 1002


def test_masked_server_frame_is_rejected_by_client() -> None:
    assert error_code(WebSocketProtocol(is_client=True), client_frame(1, b"hi")) == 1002


def test_invalid_utf8_closes_1007() -> None:
    assert error_code(server(), client_frame(1, b"\xff\xfe")) == 1007


def test_invalid_utf8_in_fragments_closes_1007() -> None:
    s = server()
    s.receive_data(client_frame(1, b"ok", fin=False))
    assert error_code(s, client_frame(0, b"\xc3")) == 1007


def test_continuation_without_start_closes_1002() -> None:
    assert error_code(server(), client_frame(0, b"x")) == 1002


def test_new_message_inside_fragmented_closes_1002() -> None:
    s = server()
    s.receive_data(client_frame(1, b"a", fin=False))
    assert error_code(s, client_frame(1, b"b")) == 1002


def test_fragmented_control_frame_closes_1002() -> None:
    assert error_code(server(), client_frame(9, b"x", fin=False)) == 1002


def test_long_control_frame_closes_1002() -> None:
    assert error_code(server(), client_frame(9, b"x" * 126)) == 1002


def test_one_byte_close_closes_1002() -> None:
    assert error_code(server(), client_frame(8, b"\x03")) == 1002


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1100, 2999, 5000])
def test_invalid_close_codes_close_1002(code: int) -> None:
    assert error_code(server(), client_frame(8, struct.pack("!H", code))) == 1002


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999])
def test_valid_close_codes(code: int) -> None:
    (event,) = server().receive_data(client_frame(8, struct.pack("!H", code)))
    assert isinstance(event, CloseReceived)
    assert event.code == code


def test_close_reason_not_utf8_closes_1007() -> None:
    assert error_code(server(), client_frame(8, b"\x03\xe8\xff")) == 1007


def test_oversized_frame_refused_from_header_alone() -> None:
    s = WebSocketProtocol(is_client=False, max_message_size=1000)
    header = b"\x82\xff" + struct.pack("!Q", 1001) + MASK
    # The payload never arrives: the header is enough to refuse it.
    assert error_code(s, header) == 1009


def test_oversized_fragmented_message_closes_1009() -> None:
    s = WebSocketProtocol(is_client=False, max_message_size=10)
    s.receive_data(client_frame(2, b"x" * 6, fin=False))
    assert error_code(s, client_frame(0, b"y" * 5)) == 1009


def test_message_at_the_limit_is_accepted() -> None:
    s = WebSocketProtocol(is_client=False, max_message_size=10)
    assert datas(s.receive_data(client_frame(2, b"x" * 10))) == [b"x" * 10]


def test_64_bit_length_with_top_bit_closes_1002() -> None:
    assert error_code(server(), b"\x82\xff" + b"\x80" + b"\x00" * 7 + MASK) == 1002


def test_failed_protocol_accepts_nothing_more() -> None:
    s = server()
    error_code(s, client_frame(3, b""))
    with pytest.raises(ProtocolError):
        s.receive_data(client_frame(1, b"x"))


# -- sending ---------------------------------------------------------------------


def test_send_close_once() -> None:
    s = server()
    assert s.send_close(1000, "done") == b"\x88\x06\x03\xe8done"
    assert s.send_close(1000, "again") == b""
    with pytest.raises(RuntimeError):
        s.send_message("late")


def test_reason_without_code_means_1000() -> None:
    assert proto.encode_close_payload(None, "x") == b"\x03\xe8x"
    assert proto.encode_close_payload(None, None) == b""


@pytest.mark.parametrize(("code", "reason"), [(999, None), (5000, None), (1000, "x" * 124)])
def test_bad_close_arguments(code: int, reason: str | None) -> None:
    with pytest.raises(ValueError):
        proto.encode_close_payload(code, reason)


def test_control_payload_limit() -> None:
    with pytest.raises(ValueError):
        server().send_ping(b"x" * 126)
    assert server().send_pong(b"x" * 125)[1] == 125


def test_send_fragments_roundtrip() -> None:
    client = WebSocketProtocol(is_client=True)
    frames = client.send_fragments([b"ab", b"cd", b"ef"], binary=True)
    s = server()
    assert datas(s.receive_data(frames)) == [b"abcdef"]
    with pytest.raises(ValueError):
        client.send_fragments([])


# -- permessage-deflate ----------------------------------------------------------


def test_server_negotiation_default_offer() -> None:
    result = proto.server_accept_deflate("permessage-deflate; client_max_window_bits", None)
    assert result is not None
    header, params = result
    assert header == "permessage-deflate"
    assert params.local_max_window_bits == 15


def test_server_negotiation_echoes_parameters() -> None:
    result = proto.server_accept_deflate(
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12; "
        "server_no_context_takeover; client_no_context_takeover",
        {"compression_level": 9, "mem_level": 4},
    )
    assert result is not None
    header, params = result
    assert header == (
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12; "
        "server_no_context_takeover; client_no_context_takeover"
    )
    assert params.local_max_window_bits == 10
    assert params.remote_max_window_bits == 12
    assert params.local_no_context_takeover and params.remote_no_context_takeover
    assert params.compression_options == {"compression_level": 9, "mem_level": 4}


@pytest.mark.parametrize(
    "offer",
    [
        None,
        "",
        "x-other",
        "permessage-deflate; unknown=1",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=8",
        "permessage-deflate; client_no_context_takeover=1",
        "permessage-deflate; a; a",
    ],
)
def test_server_declines_bad_offers(offer: str | None) -> None:
    assert proto.server_accept_deflate(offer, None) is None


def test_server_takes_first_acceptable_offer() -> None:
    result = proto.server_accept_deflate(
        "permessage-deflate; bogus, permessage-deflate; server_no_context_takeover", None
    )
    assert result is not None
    assert result[0] == "permessage-deflate; server_no_context_takeover"


def test_client_negotiation() -> None:
    params = proto.client_accept_deflate(
        "permessage-deflate; client_max_window_bits=9; client_no_context_takeover", None
    )
    assert params is not None
    assert params.local_max_window_bits == 9
    assert params.remote_max_window_bits == 15
    assert params.local_no_context_takeover
    assert proto.client_accept_deflate(None, None) is None


@pytest.mark.parametrize(
    "answer",
    [
        "x-other",
        "permessage-deflate, permessage-deflate",
        "permessage-deflate; foo",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; client_max_window_bits=8",
        "permessage-deflate; server_max_window_bits=20",
    ],
)
def test_client_rejects_bad_answers(answer: str) -> None:
    with pytest.raises(proto.HandshakeError):
        proto.client_accept_deflate(answer, None)


def deflate_pair(
    local_no_context: bool = False, remote_no_context: bool = False
) -> tuple[WebSocketProtocol, WebSocketProtocol]:
    client = WebSocketProtocol(
        is_client=True,
        deflate=DeflateParams(
            local_no_context_takeover=local_no_context,
            remote_no_context_takeover=remote_no_context,
        ),
    )
    srv = WebSocketProtocol(
        is_client=False,
        deflate=DeflateParams(
            local_no_context_takeover=remote_no_context,
            remote_no_context_takeover=local_no_context,
        ),
    )
    return client, srv


@pytest.mark.parametrize("no_context", [False, True])
def test_compressed_roundtrip_both_ways(no_context: bool) -> None:
    client, srv = deflate_pair(no_context, no_context)
    for text in ["hello " * 100, "hello " * 100, "é" * 50]:
        frame = client.send_message(text)
        assert frame[0] & 0x40
        assert datas(srv.receive_data(frame)) == [text]
        reply = srv.send_message(text.encode(), binary=True)
        assert datas(client.receive_data(reply)) == [text.encode()]


def test_context_takeover_shrinks_repeated_messages() -> None:
    client, _ = deflate_pair()
    first = client.send_message("abcdefgh" * 50 + "unique-payload")
    second = client.send_message("abcdefgh" * 50 + "unique-payload")
    assert len(second) < len(first)


def test_compressed_fragmented_message_with_ping_inside() -> None:
    _, srv = deflate_pair()
    compressed = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = compressed.compress(b"fragmented " * 50) + compressed.flush(zlib.Z_SYNC_FLUSH)
    body = body[:-4]
    data = (
        client_frame(1, body[:10], fin=False, rsv1=True)
        + client_frame(9, b"in-between")
        + client_frame(0, body[10:])
    )
    events = srv.receive_data(data)
    assert isinstance(events[0], Ping)
    assert datas(events) == ["fragmented " * 50]


def test_rsv1_on_continuation_closes_1002() -> None:
    _, srv = deflate_pair()
    srv.receive_data(client_frame(1, b"", fin=False, rsv1=True))
    assert error_code(srv, client_frame(0, b"x", rsv1=True)) == 1002


def test_rsv1_on_control_frame_closes_1002() -> None:
    _, srv = deflate_pair()
    assert error_code(srv, client_frame(9, b"", rsv1=True)) == 1002


def test_compression_bomb_closes_1009_without_inflating() -> None:
    srv = WebSocketProtocol(is_client=False, max_message_size=64 * 1024, deflate=DeflateParams())
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    # 100 MB of zeros compresses to about 100 KB; send a 10 MB bomb (~10 KB).
    bomb = compressor.compress(b"\x00" * (10 * 1024 * 1024)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < 64 * 1024
    assert error_code(srv, client_frame(2, bomb[:-4], rsv1=True)) == 1009


def test_corrupt_deflate_data_closes() -> None:
    _, srv = deflate_pair()
    assert error_code(srv, client_frame(2, b"\xff\xff\xff\xff", rsv1=True)) in (1002, 1007)


def test_uncompressed_message_on_deflate_connection() -> None:
    _, srv = deflate_pair()
    assert datas(srv.receive_data(client_frame(1, b"plain"))) == ["plain"]


# -- fuzzing ---------------------------------------------------------------------


messages = st.lists(
    st.one_of(st.text(max_size=300), st.binary(max_size=300)), min_size=1, max_size=8
)


@settings(max_examples=150, deadline=None)
@given(messages, st.booleans(), st.data())
def test_fuzz_roundtrip_in_random_chunks(
    items: list[str | bytes], compress: bool, data: st.DataObject
) -> None:
    params = DeflateParams() if compress else None
    client = WebSocketProtocol(is_client=True, deflate=params)
    srv = WebSocketProtocol(is_client=False, deflate=params)
    wire = b"".join(client.send_message(item, binary=isinstance(item, bytes)) for item in items)
    received: list[proto.Event] = []
    pos = 0
    while pos < len(wire):
        step = data.draw(st.integers(min_value=1, max_value=64))
        received += srv.receive_data(wire[pos : pos + step])
        pos += step
    assert datas(received) == items


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.booleans(), st.booleans())
def test_fuzz_garbage_never_crashes(garbage: bytes, is_client: bool, compress: bool) -> None:
    p = WebSocketProtocol(
        is_client=is_client,
        max_message_size=1000,
        deflate=DeflateParams() if compress else None,
    )
    try:
        events = p.receive_data(garbage)
    except ProtocolError as e:
        assert e.code in (1002, 1007, 1009)
    else:
        for event in events:
            assert isinstance(event, Message | Ping | Pong | CloseReceived)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_fuzz_masked_frames_from_arbitrary_prefix(prefix: bytes, payload: bytes) -> None:
    # Whatever came first, a valid frame either parses or the connection fails cleanly.
    p = server()
    try:
        p.receive_data(prefix)
        p.receive_data(client_frame(2, payload))
    except ProtocolError as e:
        assert e.code in (1002, 1007, 1009)


# -- statistics and close state ------------------------------------------------


def test_byte_counters_and_close_code() -> None:
    client = WebSocketProtocol(is_client=True)
    srv = server()
    wire = client.send_message("hello")
    assert (client._message_bytes_out, client._wire_bytes_out) == (5, 5 + 6)
    events = srv.receive_data(wire)
    assert datas(events) == ["hello"]
    assert (srv._message_bytes_in, srv._wire_bytes_in) == (5, 11)
    reply = srv.send_message(b"abc", binary=True)
    assert (srv._message_bytes_out, srv._wire_bytes_out) == (3, 5)
    client.receive_data(reply)
    assert (client._message_bytes_in, client._wire_bytes_in) == (3, 5)
    assert srv.close_code is None and srv.close_reason is None
    srv.receive_data(client.send_close(1001, "bye"))
    assert (srv.close_code, srv.close_reason) == (1001, "bye")


def test_compressed_counters_count_payload_before_compression() -> None:
    params = DeflateParams()
    client = WebSocketProtocol(is_client=True, deflate=params)
    srv = WebSocketProtocol(is_client=False, deflate=params)
    text = "compressible " * 50
    wire = client.send_message(text)
    assert client._message_bytes_out == len(text)
    assert client._wire_bytes_out == len(wire) < len(text)
    assert datas(srv.receive_data(wire)) == [text]
    assert srv._message_bytes_in == len(text)
    assert srv._wire_bytes_in == len(wire)
