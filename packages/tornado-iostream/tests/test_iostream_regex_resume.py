"""Resumable regex reads (what the HTTP layer uses for message heads)."""

from __future__ import annotations

import asyncio
import re

import pytest

from tornado.iostream import IOStream

HEAD_END = rb"\n(?:\r?\n|(?<=[\s\S]{64}))"  # a blank line, or a line end past 64 bytes


async def drip(writer: IOStream, data: bytes, pieces: list[int]) -> None:
    """Send *data* cut at *pieces*, letting the reader see each piece alone."""
    start = 0
    for cut in [*pieces, len(data)]:
        await writer.write(data[start:cut])
        start = cut
        await asyncio.sleep(0.005)


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY",
        b"GET / HTTP/1.1\nHost: x\n\nBODY",
        b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70 + b"\r\nrest",
    ],
)
@pytest.mark.asyncio
async def test_resumed_search_finds_what_a_full_search_finds(
    pair: tuple[IOStream, IOStream], data: bytes
) -> None:
    server, client = pair
    expected_end = re.search(HEAD_END, data)
    assert expected_end is not None
    # Every way of cutting the data in three, around the match.
    cuts = range(max(1, expected_end.start() - 3), expected_end.end() + 1)
    for first in cuts:
        for second in range(first, expected_end.end() + 2):
            reading = server._read_until_regex(HEAD_END, 1000, 3)
            await drip(client, data, [first, second])
            got = await asyncio.wait_for(reading, 10)
            assert got == data[: expected_end.end()], (first, second)
            rest = len(data) - expected_end.end()
            assert await server.read_bytes(rest) == data[expected_end.end() :]


@pytest.mark.asyncio
async def test_resumed_search_scans_each_byte_about_once(
    pair: tuple[IOStream, IOStream], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, client = pair
    scanned: list[int] = []
    real_search = re.Pattern.search

    class CountingPattern:
        """Wraps the compiled pattern and records where each search starts."""

        def __init__(self, pattern: re.Pattern[bytes]) -> None:
            self.pattern = pattern

        def search(self, data: bytes, pos: int = 0) -> re.Match[bytes] | None:
            scanned.append(len(data) - pos)
            return real_search(self.pattern, data, pos)

    real_compile = re.compile
    monkeypatch.setattr("tornado.iostream.re.compile", lambda p: CountingPattern(real_compile(p)))
    head = b"GET / HTTP/1.1\r\n" + b"X: a\r\n" * 2000 + b"\r\n"
    reading = server._read_until_regex(rb"\n\r?\n", None, 3)
    await drip(client, head, list(range(1000, len(head), 1000)))
    assert await asyncio.wait_for(reading, 10) == head
    # About one pass over the head, not one per arrival (~12 of them).
    assert len(scanned) > 5
    assert sum(scanned) < 2 * len(head)
