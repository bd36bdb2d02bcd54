"""tornado.process set up from synchronous code, before the IOLoop runs."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Iterator

import pytest

from tornado.ioloop import IOLoop
from tornado.process import Subprocess

PY = sys.executable


@pytest.fixture
def io_loop() -> Iterator[IOLoop]:
    """A current IOLoop that is not running (as in a synchronous test or setup code)."""
    asyncio_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(asyncio_loop)
    loop = IOLoop.current()
    try:
        yield loop
    finally:
        Subprocess.uninitialize()
        asyncio.set_event_loop(None)
        loop.close(all_fds=True)


def run_until_exit(io_loop: IOLoop, proc: Subprocess) -> list[int]:
    codes: list[int] = []

    def on_exit(code: int) -> None:
        codes.append(code)
        io_loop.stop()

    proc.set_exit_callback(on_exit)
    # A safety net only: the exit normally stops the loop within milliseconds.
    timeout = io_loop.call_later(30, io_loop.stop)
    io_loop.start()
    io_loop.remove_timeout(timeout)
    return codes


def test_initialize_and_exit_callback_before_the_loop_runs(io_loop: IOLoop) -> None:
    before = signal.getsignal(signal.SIGCHLD)
    Subprocess.initialize()
    assert signal.getsignal(signal.SIGCHLD) is not before
    proc = Subprocess([PY, "-c", "raise SystemExit(3)"])
    assert run_until_exit(io_loop, proc) == [3]
    assert proc.returncode == 3


def test_wait_for_exit_future_made_before_the_loop_runs(io_loop: IOLoop) -> None:
    proc = Subprocess([PY, "-c", "pass"])
    future = proc.wait_for_exit()
    assert io_loop.run_sync(lambda: future, timeout=30) == 0
