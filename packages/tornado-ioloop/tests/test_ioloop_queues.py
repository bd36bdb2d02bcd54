"""tornado.queues: Queue, PriorityQueue, LifoQueue."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from tornado import gen, queues
from tornado.ioloop import IOLoop

FOREVER = datetime.timedelta(days=1)


def _past() -> float:
    return IOLoop.current().time() - 1


def test_constructor_validation() -> None:
    with pytest.raises(TypeError):
        queues.Queue(maxsize=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        queues.Queue(maxsize=-1)
    q: queues.Queue[int] = queues.Queue(maxsize=3)
    assert q.maxsize == 3 and q.empty() and not q.full() and q.qsize() == 0


@pytest.mark.asyncio
async def test_nowait_variants_raise_when_empty_or_full() -> None:
    q: queues.Queue[int] = queues.Queue(maxsize=1)
    with pytest.raises(queues.QueueEmpty):
        q.get_nowait()
    q.put_nowait(1)
    assert q.full()
    with pytest.raises(queues.QueueFull):
        q.put_nowait(2)
    assert q.get_nowait() == 1


@pytest.mark.asyncio
async def test_unbounded_queue_never_full() -> None:
    q: queues.Queue[int] = queues.Queue()
    for i in range(1000):
        q.put_nowait(i)
    assert not q.full()
    assert [q.get_nowait() for _ in range(1000)] == list(range(1000))


@pytest.mark.asyncio
async def test_get_waits_for_put() -> None:
    q: queues.Queue[str] = queues.Queue()
    getter = q.get()
    assert not getter.done()  # type: ignore[attr-defined]
    assert "getters[1]" in str(q)
    await q.put("item")
    assert await getter == "item"


@pytest.mark.asyncio
async def test_put_waits_while_full_and_keeps_fifo() -> None:
    q: queues.Queue[int] = queues.Queue(maxsize=1)
    await q.put(1)
    second = q.put(2)
    third = q.put(3)
    assert not second.done() and "putters[2]" in repr(q)
    assert await q.get() == 1
    await second
    assert await q.get() == 2
    await third
    assert await q.get() == 3
    assert q.empty()


@pytest.mark.asyncio
async def test_get_timeout() -> None:
    q: queues.Queue[int] = queues.Queue()
    with pytest.raises(gen.TimeoutError):
        await q.get(timeout=_past())
    with pytest.raises(gen.TimeoutError):
        await q.get(timeout=datetime.timedelta(seconds=0))
    patient = q.get(timeout=FOREVER)
    q.put_nowait(5)
    assert await patient == 5


@pytest.mark.asyncio
async def test_put_timeout_does_not_add_the_item() -> None:
    q: queues.Queue[int] = queues.Queue(maxsize=1)
    q.put_nowait(1)
    with pytest.raises(gen.TimeoutError):
        await q.put(2, timeout=_past())
    assert q.get_nowait() == 1
    assert q.empty()
    with pytest.raises(queues.QueueEmpty):
        q.get_nowait()


@pytest.mark.asyncio
async def test_cancelled_getter_does_not_swallow_items() -> None:
    q: queues.Queue[int] = queues.Queue()
    cancelled = q.get()
    live = q.get()
    cancelled.cancel()  # type: ignore[attr-defined]
    q.put_nowait(7)
    assert await live == 7


@pytest.mark.asyncio
async def test_task_done_and_join() -> None:
    q: queues.Queue[int] = queues.Queue()
    await q.join()  # nothing put: done immediately
    for i in range(3):
        q.put_nowait(i)
    assert "tasks=3" in str(q)
    joined = q.join()
    processed = []

    async def worker() -> None:
        async for item in q:
            processed.append(item)
            q.task_done()
            if len(processed) == 3:
                return

    await worker()
    await joined
    assert processed == [0, 1, 2]
    with pytest.raises(ValueError):
        q.task_done()


@pytest.mark.asyncio
async def test_join_timeout() -> None:
    q: queues.Queue[int] = queues.Queue()
    q.put_nowait(1)
    with pytest.raises(gen.TimeoutError):
        await q.join(timeout=_past())


@pytest.mark.asyncio
async def test_priority_queue_smallest_first() -> None:
    q: queues.PriorityQueue[tuple[int, str]] = queues.PriorityQueue()
    for item in [(3, "c"), (1, "a"), (2, "b")]:
        q.put_nowait(item)
    assert [q.get_nowait() for _ in range(3)] == [(1, "a"), (2, "b"), (3, "c")]


@pytest.mark.asyncio
async def test_lifo_queue_last_first() -> None:
    q: queues.LifoQueue[int] = queues.LifoQueue()
    for i in range(3):
        await q.put(i)
    assert [await q.get() for _ in range(3)] == [2, 1, 0]


@pytest.mark.asyncio
async def test_producer_consumer_with_bounded_queue() -> None:
    q: queues.Queue[int | None] = queues.Queue(maxsize=2)
    max_size_seen = 0
    consumed = []

    async def producer() -> None:
        for i in range(50):
            await q.put(i)
        await q.put(None)

    async def consumer() -> None:
        nonlocal max_size_seen
        while True:
            max_size_seen = max(max_size_seen, q.qsize())
            item = await q.get()
            if item is None:
                return
            consumed.append(item)
            await asyncio.sleep(0)

    await asyncio.gather(producer(), consumer())
    assert consumed == list(range(50))
    assert max_size_seen <= 2
