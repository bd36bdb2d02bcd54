"""Timed-out and cancelled waiters must not accumulate in long-running servers.

Each test waits-and-times-out 100,000 times while one patient waiter stays in
the queue (so abandoned waiters cannot simply fall off the head), then checks
that the waiter collections stayed small and that the loop holds no timers.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tornado import gen, locks, queues
from tornado.ioloop import IOLoop

N = 100_000
# The purge runs once abandoned waiters reach a threshold and half the queue.
BOUND = 250


async def _time_out_many(make_wait: Callable[[float], Awaitable[Any]], n: int = N) -> None:
    io_loop = IOLoop.current()
    for _ in range(n // 1000):
        deadline = io_loop.time() - 1
        waits: list[Any] = [make_wait(deadline) for _ in range(1000)]
        # All deadlines are equal and already past, so they expire in the
        # same loop iteration; a later deadline marks that iteration's end.
        await gen.sleep(0)
        while not all(w.done() for w in waits):
            await asyncio.sleep(0)
        assert all(isinstance(w.exception(), gen.TimeoutError) for w in waits)


def _scheduled_timers(loop: asyncio.AbstractEventLoop) -> int | None:
    scheduled = getattr(loop, "_scheduled", None)  # asyncio's timer heap
    return None if scheduled is None else len([h for h in scheduled if not h.cancelled()])


@pytest.mark.asyncio
async def test_condition_timeouts_do_not_leak() -> None:
    c = locks.Condition()
    patient = c.wait()
    io_loop = IOLoop.current()
    for start in range(0, N, 1000):
        waits = [c.wait(timeout=io_loop.time() - 1) for _ in range(1000)]
        assert await asyncio.gather(*waits) == [False] * 1000
        assert len(c._waiters) <= BOUND + 1000, start
    assert len(c._waiters) <= BOUND
    c.notify()
    assert await patient is True


@pytest.mark.asyncio
async def test_semaphore_and_lock_timeouts_do_not_leak() -> None:
    sem = locks.Semaphore(0)
    patient = sem.acquire()
    await _time_out_many(lambda deadline: sem.acquire(timeout=deadline))
    assert len(sem._waiters) <= BOUND
    sem.release()
    await patient

    lock = locks.Lock()
    await lock.acquire()
    # Lock delegates to BoundedSemaphore: a shorter run checks the wiring.
    await _time_out_many(lambda deadline: lock.acquire(timeout=deadline), n=N // 10)
    assert len(lock._block._waiters) <= BOUND


@pytest.mark.asyncio
async def test_a_burst_of_101_timeouts_is_purged_once_all_expire() -> None:
    # Upstream's expectation: 101 timed-out waiters ahead of one live waiter
    # are gone from the queue once they have all expired.
    io_loop = IOLoop.current()
    c = locks.Condition()
    timed = [c.wait(timeout=io_loop.time() - 1) for _ in range(101)]
    live = c.wait()
    assert len(c._waiters) == 102
    assert await asyncio.gather(*timed) == [False] * 101
    assert len(c._waiters) == 1
    c.notify()
    assert await live is True

    sem = locks.Semaphore(0)
    timed = [sem.acquire(timeout=io_loop.time() - 1) for _ in range(101)]
    patient = sem.acquire()
    assert len(sem._waiters) == 102
    outcomes = await asyncio.gather(*timed, return_exceptions=True)
    assert all(isinstance(o, gen.TimeoutError) for o in outcomes)
    assert len(sem._waiters) == 1
    sem.release()
    await patient


@pytest.mark.asyncio
async def test_event_timeouts_do_not_leak() -> None:
    e = locks.Event()
    patient = e.wait()
    await _time_out_many(lambda deadline: e.wait(timeout=deadline))
    # Event waiters are removed by a callback as soon as they time out.
    await asyncio.sleep(0)
    assert len(e._waiters) == 1
    e.set()
    await patient


@pytest.mark.asyncio
async def test_queue_get_and_put_timeouts_do_not_leak() -> None:
    q: queues.Queue[int] = queues.Queue(maxsize=1)
    patient_getter = q.get()
    await _time_out_many(lambda deadline: q.get(timeout=deadline))
    assert len(q._getters) <= BOUND
    q.put_nowait(1)
    assert await patient_getter == 1

    q.put_nowait(2)
    patient_putter = q.put(3)
    await _time_out_many(lambda deadline: q.put(0, timeout=deadline))
    assert len(q._putters) <= BOUND
    assert q.get_nowait() == 2
    await patient_putter
    assert q.get_nowait() == 3


@pytest.mark.asyncio
async def test_cancelled_waiters_do_not_leak() -> None:
    c = locks.Condition()
    q: queues.Queue[int] = queues.Queue()
    sem = locks.Semaphore(0)
    keep = [c.wait(), q.get(), sem.acquire()]
    for _ in range(N // 10):
        for fut in (c.wait(), q.get(), sem.acquire()):
            fut.cancel()  # type: ignore[attr-defined]
    await asyncio.sleep(0)
    assert len(c._waiters) <= BOUND
    assert len(q._getters) <= BOUND
    assert len(sem._waiters) <= BOUND
    for fut in keep:
        fut.cancel()  # type: ignore[attr-defined]


# uvloop's timers live in libuv, out of sight; asyncio's heap is inspectable.
@pytest.mark.asyncio(loop_factories=["asyncio"])
async def test_finished_waits_release_their_timers() -> None:
    loop = asyncio.get_running_loop()
    before = _scheduled_timers(loop)
    assert before is not None
    c = locks.Condition()
    q: queues.Queue[int] = queues.Queue()
    waits = [c.wait(timeout=datetime.timedelta(days=1)) for _ in range(100)]
    gets = [q.get(timeout=datetime.timedelta(days=1)) for _ in range(100)]
    assert _scheduled_timers(loop) == before + 200
    c.notify_all()
    for i in range(100):
        q.put_nowait(i)
    await asyncio.gather(*waits, *gets)
    # The timers are dropped by done-callbacks scheduled when each wait
    # ended; one more loop iteration has run them all.
    await asyncio.sleep(0)
    assert _scheduled_timers(loop) == before
