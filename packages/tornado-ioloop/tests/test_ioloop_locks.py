"""tornado.locks: Condition, Event, Semaphore, BoundedSemaphore, Lock."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Generator
from typing import Any

import pytest

from tornado import gen, locks
from tornado.ioloop import IOLoop

FOREVER = datetime.timedelta(days=1)


def _past() -> float:
    """A deadline that has already passed: the timeout fires on the next turn."""
    return IOLoop.current().time() - 1


# -- Condition ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_condition_notify_wakes_waiters_in_order() -> None:
    c = locks.Condition()
    order: list[int] = []

    async def waiter(i: int) -> None:
        assert await c.wait() is True
        order.append(i)

    tasks = [asyncio.ensure_future(waiter(i)) for i in range(4)]
    await asyncio.sleep(0)
    assert "waiters[4]" in repr(c)
    c.notify(2)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == [0, 1]
    c.notify_all()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3]
    assert repr(c) == "<Condition>"


@pytest.mark.asyncio
async def test_condition_wait_timeout_returns_false_and_skips_on_notify() -> None:
    c = locks.Condition()
    timed_out = c.wait(timeout=_past())
    patient = c.wait(timeout=FOREVER)
    assert await timed_out is False
    c.notify()  # must go to the waiter that is still waiting
    assert await patient is True


@pytest.mark.asyncio
async def test_condition_notify_skips_cancelled_waiters() -> None:
    c = locks.Condition()
    cancelled = c.wait()
    live = c.wait()
    cancelled.cancel()  # type: ignore[attr-defined]
    c.notify(1)
    assert await live is True


@pytest.mark.asyncio
async def test_condition_in_gen_coroutine() -> None:
    c = locks.Condition()
    result: list[str] = []

    @gen.coroutine
    def waiter() -> Generator[Any, Any, None]:
        yield c.wait()
        result.append("woken")

    fut = waiter()
    c.notify()
    await fut
    assert result == ["woken"]


# -- Event -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_event_set_wakes_all_and_wait_returns_immediately_while_set() -> None:
    e = locks.Event()
    assert repr(e) == "<Event clear>"
    waiters = [e.wait() for _ in range(3)]
    assert not any(w.done() for w in waiters)  # type: ignore[attr-defined]
    e.set()
    assert e.is_set() and repr(e) == "<Event set>"
    assert await asyncio.gather(*waiters) == [None, None, None]
    assert await e.wait() is None
    e.set()  # setting twice is harmless
    e.clear()
    assert not e.is_set()
    assert not e.wait().done()  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_event_wait_timeout() -> None:
    e = locks.Event()
    with pytest.raises(gen.TimeoutError):
        await e.wait(timeout=_past())
    with pytest.raises(gen.TimeoutError):
        await e.wait(timeout=datetime.timedelta(seconds=0))
    waiter = e.wait(timeout=FOREVER)
    e.set()
    assert await waiter is None
    assert e._waiters == set()


# -- Semaphore -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_semaphore_counts_and_serves_waiters_fifo() -> None:
    sem = locks.Semaphore(2)
    assert "unlocked,value:2" in repr(sem)
    await sem.acquire()
    await sem.acquire()
    assert "locked" in repr(sem)
    order: list[int] = []

    async def take(i: int) -> None:
        await sem.acquire()
        order.append(i)

    tasks = [asyncio.ensure_future(take(i)) for i in range(3)]
    await asyncio.sleep(0)
    assert "waiters:3" in repr(sem)
    for _ in range(3):
        sem.release()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]


@pytest.mark.asyncio
async def test_semaphore_acquire_timeout() -> None:
    sem = locks.Semaphore(0)
    with pytest.raises(gen.TimeoutError):
        await sem.acquire(timeout=_past())
    patient = sem.acquire(timeout=FOREVER)
    sem.release()
    await patient
    # The timed-out waiter did not swallow the release.
    assert sem._value == 0


def test_semaphore_rejects_negative_value() -> None:
    with pytest.raises(ValueError):
        locks.Semaphore(-1)


@pytest.mark.asyncio
async def test_semaphore_async_with_and_old_with_yield_form() -> None:
    sem = locks.Semaphore(1)
    async with sem:
        assert sem._value == 0
    assert sem._value == 1

    @gen.coroutine
    def old_style() -> Generator[Any, Any, None]:
        with (yield sem.acquire()):
            assert sem._value == 0
        assert sem._value == 1

    await old_style()


def test_semaphore_plain_with_raises_a_clear_error() -> None:
    sem = locks.Semaphore()
    with pytest.raises(RuntimeError, match="async with"), sem:
        pass
    with pytest.raises(RuntimeError, match="async with"), locks.Lock():
        pass


@pytest.mark.asyncio
async def test_semaphore_released_when_cancelled_after_handover() -> None:
    sem = locks.Semaphore(0)

    async def user() -> None:
        async with sem:
            pass

    task = asyncio.ensure_future(user())
    await asyncio.sleep(0)  # task now waits in acquire
    sem.release()  # hands the semaphore to the task...
    task.cancel()  # ...which is cancelled before it can run
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sem._value == 1


@pytest.mark.asyncio
async def test_bounded_semaphore_refuses_extra_release() -> None:
    sem = locks.BoundedSemaphore(1)
    with pytest.raises(ValueError):
        sem.release()
    await sem.acquire()
    sem.release()
    with pytest.raises(ValueError):
        sem.release()


# -- Lock --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_lock_is_mutually_exclusive() -> None:
    lock = locks.Lock()
    inside = 0
    max_inside = 0

    async def critical() -> None:
        nonlocal inside, max_inside
        async with lock:
            inside += 1
            max_inside = max(max_inside, inside)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(critical() for _ in range(5)))
    assert max_inside == 1
    assert "unlocked" in repr(lock)


@pytest.mark.asyncio
async def test_lock_acquire_timeout_and_release_errors() -> None:
    lock = locks.Lock()
    with pytest.raises(RuntimeError):
        lock.release()
    await lock.acquire()
    with pytest.raises(gen.TimeoutError):
        await lock.acquire(timeout=_past())
    lock.release()
    await lock.acquire(timeout=FOREVER)
    lock.release()
