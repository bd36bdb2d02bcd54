"""Absolute deadlines are on the wall clock (``time.time()``), as Tornado documents.

``IOLoop.time()`` is ``time.time()``; every API that takes an absolute
deadline accepts ``time.time() + seconds`` and gives up about that much
later.  (If the deadline were read on the asyncio loop's monotonic clock,
which starts near zero, a wall-clock deadline would lie decades ahead and
these waits would never end: the outer ``wait_for`` turns that into a
failure instead of a hang.)  Relative timeouts (``timedelta``) keep working.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Awaitable
from typing import Any

import pytest

from tornado import gen, locks, queues
from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.util import TimeoutError

#: Far more than any deadline below; only reached if a deadline is ignored.
_SAFETY_NET = 10.0


def _soon() -> float:
    return time.time() + 0.01


async def _outcome(awaitable: Awaitable[Any]) -> Any:
    """The awaitable's result or exception; a test failure if it is still pending.

    (Not ``asyncio.wait_for``: its timeout raises the builtin TimeoutError,
    which is `tornado.util.TimeoutError` too, and would pass for the
    deadline's own.)
    """
    future = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({future}, timeout=_SAFETY_NET)
    if not done:
        future.cancel()
        pytest.fail("the deadline was not honoured")
    return future.result()


@pytest.mark.asyncio
async def test_add_timeout_and_call_at_take_wall_clock_deadlines() -> None:
    io_loop = IOLoop.current()
    fired: Future[str] = Future()
    io_loop.add_timeout(_soon(), fired.set_result, "add_timeout")
    assert await _outcome(fired) == "add_timeout"
    fired = Future()
    io_loop.call_at(_soon(), fired.set_result, "call_at")
    assert await _outcome(fired) == "call_at"


@pytest.mark.asyncio
async def test_deadline_in_the_past_runs_on_a_later_iteration() -> None:
    fired: Future[None] = Future()
    IOLoop.current().add_timeout(time.time() - 3600, fired.set_result, None)
    assert not fired.done()
    await _outcome(fired)


@pytest.mark.asyncio
async def test_relative_timeouts_still_work() -> None:
    io_loop = IOLoop.current()
    fired: Future[str] = Future()
    io_loop.add_timeout(datetime.timedelta(milliseconds=10), fired.set_result, "delta")
    assert await _outcome(fired) == "delta"
    fired = Future()
    io_loop.call_later(0.01, fired.set_result, "later")
    assert await _outcome(fired) == "later"
    with pytest.raises(TimeoutError):
        await _outcome(locks.Event().wait(datetime.timedelta(milliseconds=10)))


@pytest.mark.asyncio
async def test_with_timeout_wall_clock_deadline() -> None:
    never: Future[None] = Future()
    with pytest.raises(TimeoutError):
        await _outcome(gen.with_timeout(_soon(), never))


@pytest.mark.asyncio
async def test_event_wait_wall_clock_deadline() -> None:
    with pytest.raises(TimeoutError):
        await _outcome(locks.Event().wait(_soon()))


@pytest.mark.asyncio
async def test_condition_wait_wall_clock_deadline() -> None:
    assert await _outcome(locks.Condition().wait(_soon())) is False


@pytest.mark.asyncio
async def test_semaphore_and_lock_acquire_wall_clock_deadline() -> None:
    with pytest.raises(TimeoutError):
        await _outcome(locks.Semaphore(0).acquire(_soon()))
    lock = locks.Lock()
    async with lock:
        with pytest.raises(TimeoutError):
            await _outcome(lock.acquire(_soon()))


@pytest.mark.asyncio
async def test_queue_get_put_join_wall_clock_deadline() -> None:
    q: queues.Queue[int] = queues.Queue(maxsize=1)
    with pytest.raises(TimeoutError):
        await _outcome(q.get(_soon()))
    q.put_nowait(1)
    with pytest.raises(TimeoutError):
        await _outcome(q.put(2, _soon()))
    with pytest.raises(TimeoutError):
        await _outcome(q.join(_soon()))


def test_run_sync_timeout_still_relative() -> None:
    io_loop = IOLoop(make_current=False)
    try:
        with pytest.raises(TimeoutError):
            io_loop.run_sync(lambda: asyncio.sleep(_SAFETY_NET), timeout=0.01)
    finally:
        io_loop.close()
