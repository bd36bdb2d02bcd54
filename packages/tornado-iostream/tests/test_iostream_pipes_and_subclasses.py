"""Close callbacks on pipe ends, read_from_fd in subclasses, the doctest suite."""

from __future__ import annotations

import os
import unittest

import pytest

from tornado import iostream
from tornado.concurrent import Future
from tornado.iostream import PipeIOStream


@pytest.mark.asyncio
async def test_close_callback_on_a_pipe_read_end_notices_the_writer_leaving() -> None:
    r, w = os.pipe()
    reader = PipeIOStream(r)
    closed: Future[None] = Future()
    reader.set_close_callback(lambda: closed.set_result(None))
    os.close(w)
    # Nothing was read, yet the end of the pipe is noticed.
    await closed
    assert reader.closed()


@pytest.mark.asyncio
async def test_close_callback_on_a_pipe_write_end_runs_on_close() -> None:
    r, w = os.pipe()
    writer = PipeIOStream(w)
    closed: Future[None] = Future()
    try:
        # A write end cannot be read: setting the callback must not try to.
        writer.set_close_callback(lambda: closed.set_result(None))
        await writer.write(b"still writable")
        assert os.read(r, 100) == b"still writable"
        writer.close()
        await closed
    finally:
        os.close(r)


@pytest.mark.asyncio
async def test_read_from_fd_overridden_two_levels_down_sees_every_read() -> None:
    seen: list[int] = []

    class Counting(PipeIOStream):
        def read_from_fd(self, buf: bytearray | memoryview) -> int | None:
            count = super().read_from_fd(buf)
            if count:
                seen.append(count)
            return count

    class Deeper(Counting):
        pass

    for cls in (Counting, Deeper):
        seen.clear()
        r, w = os.pipe()
        reader, writer = cls(r), PipeIOStream(w)
        try:
            await writer.write(b"0123456789")
            assert await reader.read_bytes(10) == b"0123456789"
            assert sum(seen) == 10
        finally:
            reader.close()
            writer.close()
    # PipeIOStream itself keeps its direct os.read path.
    assert "_receive" in vars(PipeIOStream)


def test_doctests_returns_a_test_suite() -> None:
    suite = iostream.doctests()
    assert isinstance(suite, unittest.TestSuite)
    result = unittest.TestResult()
    suite.run(result)
    assert result.wasSuccessful()
