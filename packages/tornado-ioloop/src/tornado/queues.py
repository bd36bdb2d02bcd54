"""Asynchronous queues for coroutines: `Queue`, `PriorityQueue`, `LifoQueue`.

They coordinate producer and consumer coroutines on one event loop, like
`asyncio.Queue`, with a ``timeout`` on every wait (an absolute `IOLoop.time`
or a `datetime.timedelta`).  They are not thread-safe.

A bounded queue (``maxsize > 0``) makes `Queue.put` wait while it is full,
which is how a producer is slowed down to the pace of its consumers.
"""

from __future__ import annotations

import collections
import datetime
import heapq
from collections.abc import Awaitable
from typing import Any, Generic, TypeVar

from tornado import gen
from tornado.concurrent import Future, _new_future, future_set_result_unless_cancelled
from tornado.ioloop import IOLoop
from tornado.locks import Event

__all__ = ["LifoQueue", "PriorityQueue", "Queue", "QueueEmpty", "QueueFull"]

_T = TypeVar("_T")

_Timeout = float | datetime.timedelta

# As in tornado.locks: purge abandoned waiters in bulk once this many (and at
# least half of the waiter queue) have timed out or been cancelled.
_PURGE_THRESHOLD = 100


class QueueEmpty(Exception):
    """Raised by `Queue.get_nowait` when the queue has no items."""


class QueueFull(Exception):
    """Raised by `Queue.put_nowait` when the queue is at its maxsize."""


class _QueueIterator(Generic[_T]):
    def __init__(self, q: Queue[_T]) -> None:
        self.q = q

    def __anext__(self) -> Awaitable[_T]:
        return self.q.get()


class Queue(Generic[_T]):
    """A first-in, first-out queue of items for coroutines.

    ``maxsize=0`` (the default) means unbounded.  Consumers can iterate with
    ``async for item in q:`` (which never ends by itself).  `task_done` and
    `join` let a producer wait until every item put has been processed.

    Raises `TypeError` if ``maxsize`` is None and `ValueError` if it is
    negative.
    """

    # Subclasses override _init/_get/_put to change the ordering.
    _queue: Any

    def __init__(self, maxsize: int = 0) -> None:
        if maxsize is None:
            raise TypeError("maxsize can't be None")
        if maxsize < 0:
            raise ValueError("maxsize can't be negative")
        self._maxsize = maxsize
        self._init()
        self._getters: collections.deque[Future[_T]] = collections.deque()
        self._putters: collections.deque[tuple[_T, Future[None]]] = collections.deque()
        self._abandoned_getters = 0
        self._abandoned_putters = 0
        self._unfinished_tasks = 0
        self._finished = Event()
        self._finished.set()

    @property
    def maxsize(self) -> int:
        """The number of items allowed in the queue (0 for unbounded)."""
        return self._maxsize

    def qsize(self) -> int:
        """Return the number of items in the queue."""
        return len(self._queue)

    def empty(self) -> bool:
        """Return True if the queue has no items."""
        return not self._queue

    def full(self) -> bool:
        """Return True if the queue is bounded and holds ``maxsize`` items."""
        if self._maxsize == 0:
            return False
        return self.qsize() >= self._maxsize

    def put(self, item: _T, timeout: _Timeout | None = None) -> Future[None]:
        """Put ``item`` in the queue, waiting while it is full.

        The returned future resolves once the item is in the queue, or fails
        with `tornado.util.TimeoutError` if ``timeout`` passes first (the item
        is then not added).
        """
        future: Future[None] = _new_future()
        try:
            self.put_nowait(item)
        except QueueFull:
            self._putters.append((item, future))
            self._set_timeout(future, timeout, putter=True)
        else:
            future.set_result(None)
        return future

    def put_nowait(self, item: _T) -> None:
        """Put ``item`` in the queue without waiting; raise `QueueFull` if it is full."""
        self._consume_expired()
        if self._getters:
            # A consumer is waiting, so the queue is empty: hand the item over.
            getter = self._getters.popleft()
            self.__put_internal(item)
            future_set_result_unless_cancelled(getter, self._get())
        elif self.full():
            raise QueueFull
        else:
            self.__put_internal(item)

    def get(self, timeout: _Timeout | None = None) -> Awaitable[_T]:
        """Remove and return an item, waiting while the queue is empty.

        The returned future fails with `tornado.util.TimeoutError` if
        ``timeout`` passes first.
        """
        future: Future[_T] = _new_future()
        try:
            future.set_result(self.get_nowait())
        except QueueEmpty:
            self._getters.append(future)
            self._set_timeout(future, timeout, putter=False)
        return future

    def get_nowait(self) -> _T:
        """Remove and return an item without waiting; raise `QueueEmpty` if empty."""
        self._consume_expired()
        if self._putters:
            # A producer is waiting, so the queue is full: take its item in.
            item, putter = self._putters.popleft()
            self.__put_internal(item)
            future_set_result_unless_cancelled(putter, None)
            return self._get()
        elif self.qsize():
            return self._get()
        raise QueueEmpty

    def task_done(self) -> None:
        """Mark one item taken with `get` as processed, for `join`.

        Raises `ValueError` if called more times than items were put.
        """
        if self._unfinished_tasks <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished_tasks -= 1
        if self._unfinished_tasks == 0:
            self._finished.set()

    def join(self, timeout: _Timeout | None = None) -> Awaitable[None]:
        """Wait until every item put has been marked with `task_done`.

        The future fails with `tornado.util.TimeoutError` if ``timeout``
        passes first.
        """
        return self._finished.wait(timeout)

    def __aiter__(self) -> _QueueIterator[_T]:
        return _QueueIterator(self)

    def _init(self) -> None:
        self._queue = collections.deque()

    def _get(self) -> _T:
        return self._queue.popleft()  # type: ignore[no-any-return]

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    def __put_internal(self, item: _T) -> None:
        self._unfinished_tasks += 1
        self._finished.clear()
        self._put(item)

    def _set_timeout(self, future: Future[Any], timeout: _Timeout | None, putter: bool) -> None:
        if timeout is None:
            future.add_done_callback(self._on_putter_done if putter else self._on_getter_done)
            return
        io_loop = IOLoop.current()

        def on_timeout() -> None:
            if not future.done():
                future.set_exception(gen.TimeoutError())
                self._waiter_abandoned(putter)

        handle = io_loop.add_timeout(timeout, on_timeout)

        def on_done(f: Future[Any]) -> None:
            # Free the timer early when the wait ends before it fires.
            io_loop.remove_timeout(handle)
            if f.cancelled():
                self._waiter_abandoned(putter)

        future.add_done_callback(on_done)

    def _on_putter_done(self, future: Future[Any]) -> None:
        if future.cancelled():
            self._waiter_abandoned(True)

    def _on_getter_done(self, future: Future[Any]) -> None:
        if future.cancelled():
            self._waiter_abandoned(False)

    def _waiter_abandoned(self, putter: bool) -> None:
        # Abandoned waiters are skipped lazily at the head of their deque;
        # ones stuck behind a live waiter are purged here in bulk.
        if putter:
            self._abandoned_putters += 1
            if self._should_purge(self._abandoned_putters, len(self._putters)):
                self._abandoned_putters = 0
                self._putters = collections.deque(p for p in self._putters if not p[1].done())
        else:
            self._abandoned_getters += 1
            if self._should_purge(self._abandoned_getters, len(self._getters)):
                self._abandoned_getters = 0
                self._getters = collections.deque(g for g in self._getters if not g.done())

    @staticmethod
    def _should_purge(abandoned: int, length: int) -> bool:
        return abandoned >= _PURGE_THRESHOLD and abandoned * 2 >= length

    def _consume_expired(self) -> None:
        # Drop waiters at the heads that timed out or were cancelled.
        while self._putters and self._putters[0][1].done():
            self._putters.popleft()
        while self._getters and self._getters[0].done():
            self._getters.popleft()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {hex(id(self))} {self._format()}>"

    def __str__(self) -> str:
        return f"<{type(self).__name__} {self._format()}>"

    def _format(self) -> str:
        result = f"maxsize={self.maxsize!r}"
        if getattr(self, "_queue", None):
            result += f" queue={self._queue!r}"
        if self._getters:
            result += f" getters[{len(self._getters)}]"
        if self._putters:
            result += f" putters[{len(self._putters)}]"
        if self._unfinished_tasks:
            result += f" tasks={self._unfinished_tasks}"
        return result


class PriorityQueue(Queue[_T]):
    """A `Queue` that returns the smallest item first (a heap).

    Items are typically ``(priority, data)`` tuples; they must be comparable.
    """

    def _init(self) -> None:
        self._queue = []

    def _put(self, item: _T) -> None:
        heapq.heappush(self._queue, item)

    def _get(self) -> _T:
        return heapq.heappop(self._queue)  # type: ignore[no-any-return]


class LifoQueue(Queue[_T]):
    """A `Queue` that returns the most recently put item first (a stack)."""

    def _init(self) -> None:
        self._queue = []

    def _put(self, item: _T) -> None:
        self._queue.append(item)

    def _get(self) -> _T:
        return self._queue.pop()  # type: ignore[no-any-return]
