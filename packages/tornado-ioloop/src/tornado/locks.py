"""Synchronization primitives for coroutines: Condition, Event, Semaphore, Lock.

These coordinate coroutines running on one event loop, like their namesakes in
`asyncio`, with one addition: every wait takes an optional ``timeout``, either
an absolute `IOLoop.time` deadline or a `datetime.timedelta` from now.  They
are *not* thread-safe: use them from the loop's thread only.

Waits that time out or are cancelled leave their future behind in a wait
queue until it is purged; purging happens in bulk once enough of them have
piled up, so a long-running server that waits with timeouts millions of times
keeps its queues bounded without paying a linear removal per timeout.
"""

from __future__ import annotations

import collections
import datetime
import types
from collections.abc import Awaitable, Callable
from typing import Any

from tornado import gen
from tornado.concurrent import Future, _new_future, future_set_result_unless_cancelled
from tornado.ioloop import IOLoop

__all__ = ["BoundedSemaphore", "Condition", "Event", "Lock", "Semaphore"]

_Timeout = float | datetime.timedelta

# Purge abandoned waiters once more than this many have accumulated (and they
# make up at least half of the queue), which keeps purging amortized O(1).
_PURGE_THRESHOLD = 100


class _TimeoutGarbageCollector:
    """Base for primitives with a deque of waiter futures that may be abandoned."""

    def __init__(self) -> None:
        self._waiters: collections.deque[Future[Any]] = collections.deque()
        self._abandoned = 0

    def _waiter_abandoned(self) -> None:
        """Note that a waiter timed out or was cancelled; purge if many did."""
        self._abandoned += 1
        if self._abandoned > _PURGE_THRESHOLD and self._abandoned * 2 >= len(self._waiters):
            self._abandoned = 0
            self._waiters = collections.deque(w for w in self._waiters if not w.done())

    def _add_waiter(
        self, timeout: _Timeout | None, on_timeout: Callable[[Future[Any]], None]
    ) -> Future[Any]:
        """Queue a new waiter; after ``timeout`` call ``on_timeout(waiter)`` if still pending."""
        waiter: Future[Any] = _new_future()
        self._waiters.append(waiter)
        if timeout is None:
            waiter.add_done_callback(self._on_untimed_waiter_done)
            return waiter
        io_loop = IOLoop.current()

        def expire() -> None:
            if not waiter.done():
                on_timeout(waiter)
                self._waiter_abandoned()

        handle = io_loop.add_timeout(timeout, expire)

        def on_done(w: Future[Any]) -> None:
            # Drop the timer as soon as the wait is over, so that waits with
            # long timeouts that finish early don't pile up in the loop.
            io_loop.remove_timeout(handle)
            if w.cancelled():
                self._waiter_abandoned()

        waiter.add_done_callback(on_done)
        return waiter

    def _on_untimed_waiter_done(self, waiter: Future[Any]) -> None:
        if waiter.cancelled():
            self._waiter_abandoned()


class Condition(_TimeoutGarbageCollector):
    """Let coroutines wait until another one notifies them.

    Unlike `threading.Condition`, there is no associated lock: in a
    single-threaded event loop nothing runs between checking a condition and
    starting to wait.
    """

    def __repr__(self) -> str:
        result = f"<{self.__class__.__name__}"
        if self._waiters:
            result += f" waiters[{len(self._waiters)}]"
        return result + ">"

    def wait(self, timeout: _Timeout | None = None) -> Awaitable[bool]:
        """Wait for `notify`; the future resolves to True, or to False on timeout."""
        return self._add_waiter(timeout, lambda waiter: waiter.set_result(False))

    def notify(self, n: int = 1) -> None:
        """Wake up to ``n`` waiters, oldest first."""
        woken = []
        while n and self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                n -= 1
                woken.append(waiter)
        for waiter in woken:
            future_set_result_unless_cancelled(waiter, True)

    def notify_all(self) -> None:
        """Wake up every waiter."""
        self.notify(len(self._waiters))


class Event:
    """A flag that coroutines can wait for: `wait` blocks until it is `set`.

    Starts cleared.  Setting it wakes every waiter; while it stays set, `wait`
    returns immediately.
    """

    def __init__(self) -> None:
        self._value = False
        self._waiters: set[Future[None]] = set()

    def __repr__(self) -> str:
        return "<{} {}>".format(self.__class__.__name__, "set" if self.is_set() else "clear")

    def is_set(self) -> bool:
        """Return True if the flag is set."""
        return self._value

    def set(self) -> None:
        """Set the flag and wake every waiter."""
        if self._value:
            return
        self._value = True
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def clear(self) -> None:
        """Clear the flag: later calls to `wait` block until the next `set`."""
        self._value = False

    def wait(self, timeout: _Timeout | None = None) -> Awaitable[None]:
        """Wait until the flag is set.

        The future fails with `tornado.util.TimeoutError` if ``timeout``
        passes first.
        """
        fut: Future[None] = _new_future()
        if self._value:
            fut.set_result(None)
            return fut
        self._waiters.add(fut)
        fut.add_done_callback(self._waiters.discard)
        if timeout is None:
            return fut
        timed = gen.with_timeout(timeout, fut, quiet_exceptions=(Exception,))

        def cancel_inner(_: Future[Any]) -> None:
            # Timed out (or cancelled by the caller): stop waiting, which
            # also removes the inner future from the waiter set.
            if not fut.done():
                fut.cancel()

        timed.add_done_callback(cancel_inner)
        return timed


class _ReleasingContextManager:
    """What `Semaphore.acquire` resolves to: releases the semaphore on exit.

    This keeps the old ``with (yield semaphore.acquire()):`` form working.
    """

    def __init__(self, obj: Semaphore | Lock) -> None:
        self._obj = obj

    def __enter__(self) -> None:
        pass

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: types.TracebackType | None,
    ) -> None:
        self._obj.release()


class Semaphore(_TimeoutGarbageCollector):
    """A counter that `acquire` decrements, waiting while it is zero, and `release` increments.

    Use it as ``async with sem:`` to limit how many coroutines run a section
    at once.  A plain ``with sem:`` raises `RuntimeError`; the old form
    ``with (yield sem.acquire()):`` still works.  Waiters are served in
    first-come order.  Raises `ValueError` if ``value`` is negative.
    """

    def __init__(self, value: int = 1) -> None:
        super().__init__()
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._value = value

    def __repr__(self) -> str:
        res = super().__repr__()
        extra = "locked" if self._value == 0 else f"unlocked,value:{self._value}"
        if self._waiters:
            extra = f"{extra},waiters:{len(self._waiters)}"
        return f"<{res[1:-1]} [{extra}]>"

    def release(self) -> None:
        """Increment the counter, handing it straight to the oldest waiter if any."""
        self._value += 1
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._value -= 1
                waiter.set_result(_ReleasingContextManager(self))
                break

    def acquire(self, timeout: _Timeout | None = None) -> Awaitable[_ReleasingContextManager]:
        """Decrement the counter, waiting while it is zero.

        The future fails with `tornado.util.TimeoutError` if ``timeout``
        passes first.
        """
        if self._value > 0:
            self._value -= 1
            done: Future[_ReleasingContextManager] = _new_future()
            done.set_result(_ReleasingContextManager(self))
            return done
        return self._add_waiter(timeout, lambda waiter: waiter.set_exception(gen.TimeoutError()))

    def __enter__(self) -> None:
        raise RuntimeError("Use 'async with' instead of 'with' for Semaphore")

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self.__enter__()

    async def __aenter__(self) -> None:
        acquired = self.acquire()
        try:
            await acquired
        except BaseException:
            # Cancelled after the semaphore was handed over but before we
            # resumed: give it back, or it would be lost for good.
            if (
                isinstance(acquired, Future)
                and acquired.done()
                and not acquired.cancelled()
                and acquired.exception() is None
            ):
                self.release()
            raise

    async def __aexit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.release()


class BoundedSemaphore(Semaphore):
    """A `Semaphore` whose `release` refuses to go above the initial value.

    That catches releasing more often than acquiring, which is always a bug:
    `release` raises `ValueError` then.
    """

    def __init__(self, value: int = 1) -> None:
        super().__init__(value=value)
        self._initial_value = value

    def release(self) -> None:
        """Increment the counter; raise `ValueError` if it is already at its initial value."""
        if self._value >= self._initial_value:
            raise ValueError("Semaphore released too many times")
        super().release()


class Lock:
    """A mutual-exclusion lock for coroutines.

    ``async with lock:`` holds it for the block.  It is not reentrant: a
    coroutine that acquires it twice waits forever (or until its timeout).
    A plain ``with lock:`` raises `RuntimeError`.
    """

    def __init__(self) -> None:
        self._block = BoundedSemaphore(value=1)

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__} _block={self._block}>"

    def acquire(self, timeout: _Timeout | None = None) -> Awaitable[_ReleasingContextManager]:
        """Wait for the lock and take it.

        The future fails with `tornado.util.TimeoutError` if ``timeout``
        passes first.
        """
        return self._block.acquire(timeout)

    def release(self) -> None:
        """Release the lock, waking the oldest waiter.  Raises `RuntimeError` if unlocked."""
        try:
            self._block.release()
        except ValueError:
            raise RuntimeError("release unlocked lock")

    def __enter__(self) -> None:
        raise RuntimeError("Use `async with` instead of `with` for Lock")

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.__enter__()

    async def __aenter__(self) -> None:
        await self._block.__aenter__()

    async def __aexit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        self.release()
