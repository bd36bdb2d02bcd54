"""Property tests: queues and locks preserve their documented ordering.

Each example runs on a fresh event loop of each implementation (hypothesis
examples can't share pytest-asyncio's per-test loop).
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tornado import locks, queues

try:
    import uvloop
except ImportError:
    uvloop = None

FACTORIES: list[Callable[[], asyncio.AbstractEventLoop]] = [asyncio.new_event_loop]
if uvloop is not None:
    FACTORIES.append(uvloop.new_event_loop)

loop_factories = pytest.mark.parametrize(
    "factory", FACTORIES, ids=[f.__module__.split(".")[0] for f in FACTORIES]
)


def _run(factory: Callable[[], asyncio.AbstractEventLoop], coro: Coroutine[Any, Any, Any]) -> Any:
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro)


# An operation is ("put", value) or ("get", None).
_ops = st.lists(
    st.one_of(st.tuples(st.just("put"), st.integers(-50, 50)), st.just(("get", None))),
    max_size=60,
)


def _reference(kind: str) -> tuple[Callable[[int], None], Callable[[], int], list[int]]:
    items: list[int] = []
    if kind == "fifo":
        return items.append, lambda: items.pop(0), items
    if kind == "lifo":
        return items.append, items.pop, items
    return (lambda x: heapq.heappush(items, x)), (lambda: heapq.heappop(items)), items


@loop_factories
@settings(max_examples=60, deadline=None)
@given(
    ops=_ops,
    kind=st.sampled_from(["fifo", "lifo", "priority"]),
    maxsize=st.integers(0, 4),
)
def test_queue_nowait_matches_reference_model(
    factory: Callable[[], asyncio.AbstractEventLoop],
    ops: list[tuple[str, int | None]],
    kind: str,
    maxsize: int,
) -> None:
    cls = {"fifo": queues.Queue, "lifo": queues.LifoQueue, "priority": queues.PriorityQueue}[kind]

    async def scenario() -> None:
        q: queues.Queue[int] = cls(maxsize=maxsize)
        put, get, items = _reference(kind)
        for op, value in ops:
            if op == "put":
                assert value is not None
                if maxsize and len(items) >= maxsize:
                    with pytest.raises(queues.QueueFull):
                        q.put_nowait(value)
                else:
                    q.put_nowait(value)
                    put(value)
            elif items:
                assert q.get_nowait() == get()
            else:
                with pytest.raises(queues.QueueEmpty):
                    q.get_nowait()
            assert q.qsize() == len(items)

    _run(factory, scenario())


@loop_factories
@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(), max_size=40), maxsize=st.integers(0, 3))
def test_blocked_producers_and_consumers_keep_fifo_order(
    factory: Callable[[], asyncio.AbstractEventLoop], values: list[int], maxsize: int
) -> None:
    async def scenario() -> list[int]:
        q: queues.Queue[int] = queues.Queue(maxsize=maxsize)
        # Start all consumers first so that they queue up as waiters, then
        # the producers, each of which may block on a full queue.
        getters = [asyncio.ensure_future(q.get()) for _ in values]
        puts = [asyncio.ensure_future(q.put(v)) for v in values]
        await asyncio.gather(*puts)
        return list(await asyncio.gather(*getters))

    assert _run(factory, scenario()) == values


@loop_factories
@settings(max_examples=40, deadline=None)
@given(
    n_waiters=st.integers(0, 20),
    capacity=st.integers(1, 4),
    cancel=st.sets(st.integers(0, 19)),
)
def test_semaphore_grants_in_arrival_order_skipping_cancelled(
    factory: Callable[[], asyncio.AbstractEventLoop],
    n_waiters: int,
    capacity: int,
    cancel: set[int],
) -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        sem = locks.Semaphore(capacity)
        for _ in range(capacity):
            await sem.acquire()
        waiters = [sem.acquire() for _ in range(n_waiters)]
        for i in cancel:
            if i < n_waiters:
                waiters[i].cancel()  # type: ignore[attr-defined]
        granted: list[int] = []
        live = [i for i in range(n_waiters) if i not in cancel]
        for _ in live:
            sem.release()
            for i, w in enumerate(waiters):
                if i not in granted and w.done() and not w.cancelled():  # type: ignore[attr-defined]
                    granted.append(i)
        return granted, live

    granted, live = _run(factory, scenario())
    assert granted == live


@loop_factories
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 15), notify_counts=st.lists(st.integers(0, 5), max_size=6))
def test_condition_notify_wakes_oldest_first(
    factory: Callable[[], asyncio.AbstractEventLoop], n: int, notify_counts: list[int]
) -> None:
    async def scenario() -> None:
        c = locks.Condition()
        waiters = [c.wait() for _ in range(n)]
        woken = 0
        for k in notify_counts:
            c.notify(k)
            woken = min(n, woken + k)
            done = [w.done() for w in waiters]  # type: ignore[attr-defined]
            assert done == [True] * woken + [False] * (n - woken)
        c.notify_all()
        assert await asyncio.gather(*waiters) == [True] * n

    _run(factory, scenario())
