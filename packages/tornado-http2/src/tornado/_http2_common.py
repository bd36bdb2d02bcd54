"""Pieces shared by the HTTP/2 server and client: header rules, budgets, raw frames.

RFC 9113 section 8.2.2 forbids connection-specific header fields in HTTP/2;
an HTTP/1-minded application (``RequestHandler`` sets none of them, but a
WSGI app or a hand-written callback may) has them dropped on the way out,
and a peer that sends them is refused by h2's inbound validation.
"""

from __future__ import annotations

import struct
import time

from tornado.httputil import HTTPHeaders

#: Header fields that only mean something on one HTTP/1 hop (RFC 9113 8.2.2).
CONNECTION_SPECIFIC_HEADERS: frozenset[bytes] = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)

#: The client connection preface (RFC 9113 section 3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

#: HTTP/2 error codes used here (RFC 9113 section 7), as plain integers so
#: callers need not import h2's enum for a comparison.
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
REFUSED_STREAM = 0x7
CANCEL = 0x8
ENHANCE_YOUR_CALM = 0xB
INADEQUATE_SECURITY = 0xC


def goaway_frame(last_stream_id: int, error_code: int) -> bytes:
    """A serialised GOAWAY frame.

    Written by hand for the first GOAWAY of a graceful shutdown: telling h2
    itself to send one closes its state machine, after which the streams
    still in flight could not send the rest of their responses.
    """
    payload = struct.pack("!LL", last_stream_id & 0x7FFFFFFF, error_code)
    return struct.pack("!LBL", (len(payload) << 8) | 0x7, 0, 0) + payload


def response_header_list(status: int, headers: HTTPHeaders) -> list[tuple[bytes, bytes]]:
    """The HTTP/2 field list for a response: ``:status`` first, names in lower
    case, connection-specific fields dropped.  Values are latin-1 as on HTTP/1."""
    fields = [(b":status", str(status).encode("ascii"))]
    for name, value in headers.get_all():
        lname = name.lower().encode("latin-1")
        if lname in CONNECTION_SPECIFIC_HEADERS:
            continue
        if lname == b"te" and value.strip().lower() != "trailers":
            continue
        fields.append((lname, value.encode("latin-1")))
    return fields


class Budget:
    """A token bucket: ``capacity`` tokens, refilled at ``per_second``.

    Counts what a peer may do often but not without bound (reset streams,
    PINGs, SETTINGS, empty frames): a burst far past what any real client
    sends empties it, and the connection is then closed with
    ENHANCE_YOUR_CALM.  The clock is the monotonic one; tests exhaust a
    bucket with a burst, not by waiting.
    """

    __slots__ = ("_last", "_tokens", "capacity", "per_second")

    def __init__(self, capacity: float, per_second: float) -> None:
        self.capacity = capacity
        self.per_second = per_second
        self._tokens = capacity
        self._last = time.monotonic()

    def spend(self, amount: float = 1.0) -> bool:
        """Take ``amount`` tokens; False when the bucket is empty."""
        now = time.monotonic()
        tokens = min(self.capacity, self._tokens + (now - self._last) * self.per_second)
        self._last = now
        tokens -= amount
        self._tokens = tokens
        return tokens >= 0
