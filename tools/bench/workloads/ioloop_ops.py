"""Event-loop primitives: coroutine round trips, queues, locks, callbacks.

Usage: ``python ioloop_ops.py asyncio|uvloop`` prints JSON result lines.
Each case runs a fixed batch of operations inside one ``IOLoop.run_sync``
and reports operations per second (best of five batches).
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from _harness import emit

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.locks import Lock
from tornado.queues import Queue

BATCH = 20_000
REPEATS = 5


def best_rate(batch: Callable[[], Awaitable[None]], n: int = BATCH) -> float:
    """Best ops/s over REPEATS batches of *n* operations, each batch in one run_sync."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        IOLoop.current().run_sync(batch)
        best = min(best, time.perf_counter() - start)
    return n / best


@gen.coroutine
def yield_done_future() -> Generator[Any, Any, int]:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    future.set_result(1)
    value: int = yield future
    return value


async def coroutine_round_trips() -> None:
    for _ in range(BATCH):
        await yield_done_future()


async def queue_pairs() -> None:
    q: Queue[int] = Queue()
    for i in range(BATCH):
        q.put_nowait(i)
        await q.get()


async def bounded_queue_handoff() -> None:
    q: Queue[int] = Queue(maxsize=1)

    async def producer() -> None:
        for i in range(BATCH):
            await q.put(i)

    async def consumer() -> None:
        for _ in range(BATCH):
            await q.get()

    await asyncio.gather(producer(), consumer())


async def lock_cycles() -> None:
    lock = Lock()
    for _ in range(BATCH):
        async with lock:
            pass


def countdown(n: int) -> tuple[asyncio.Future[None], Callable[[], None]]:
    """A future that completes after the returned callback has run *n* times."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    remaining = n

    def tick() -> None:
        nonlocal remaining
        remaining -= 1
        if remaining == 0:
            done.set_result(None)

    return done, tick


async def callbacks_same_thread() -> None:
    loop = IOLoop.current()
    done, tick = countdown(BATCH)
    for _ in range(BATCH):
        loop.add_callback(tick)
    await done


async def callbacks_other_thread() -> None:
    loop = IOLoop.current()
    done, tick = countdown(BATCH)

    def feed() -> None:
        for _ in range(BATCH):
            loop.add_callback(tick)

    thread = threading.Thread(target=feed)
    thread.start()
    await done
    thread.join()


CASES: list[tuple[str, Callable[[], Awaitable[None]]]] = [
    ("gen.coroutine round trip (done future)", coroutine_round_trips),
    ("Queue put_nowait/get pairs", queue_pairs),
    ("Queue(maxsize=1) producer/consumer", bounded_queue_handoff),
    ("Lock acquire/release", lock_cycles),
    ("add_callback, loop thread", callbacks_same_thread),
    ("add_callback, other thread", callbacks_other_thread),
]


def main() -> None:
    kind = sys.argv[1]
    if kind == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.set_event_loop(asyncio.new_event_loop())
    for name, batch in CASES:
        emit(f"{name} [{kind}]", best_rate(batch), "ops/s")


if __name__ == "__main__":
    main()
