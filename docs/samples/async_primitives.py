"""Coroutines, the IOLoop, locks and queues working together."""

# output: fetched 1, 2, 3
# output: consumed ['job-0', 'job-1', 'job-2', 'job-3']
# output: timed out as expected
# output: the lock was held by one worker at a time

import asyncio
from datetime import timedelta

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.locks import Event, Lock
from tornado.queues import Queue


async def fetch(n: int) -> int:
    await gen.sleep(0.001)  # stands for real I/O
    return n


async def producer_consumer() -> list[str]:
    queue: Queue[str] = Queue(maxsize=2)
    consumed: list[str] = []

    async def consumer() -> None:
        async for item in queue:
            try:
                consumed.append(item)
            finally:
                queue.task_done()

    IOLoop.current().spawn_callback(consumer)
    for i in range(4):
        await queue.put(f"job-{i}")  # waits while the queue is full
    await queue.join()  # until every item was marked done
    return consumed


async def main() -> None:
    # gen.multi (or asyncio.gather) waits for several coroutines at once.
    results = await gen.multi([fetch(1), fetch(2), fetch(3)])
    print("fetched " + ", ".join(map(str, results)))

    print("consumed", await producer_consumer())

    never_set = Event()
    try:
        await never_set.wait(timeout=timedelta(seconds=0.01))
    except gen.TimeoutError:
        print("timed out as expected")

    lock = Lock()
    inside = 0

    async def worker() -> None:
        nonlocal inside
        async with lock:
            inside += 1
            assert inside == 1
            await gen.sleep(0)
            inside -= 1

    await asyncio.gather(*(worker() for _ in range(5)))
    print("the lock was held by one worker at a time")


if __name__ == "__main__":
    # IOLoop.current().run_sync(main) works too; asyncio.run is the usual way.
    asyncio.run(main())
