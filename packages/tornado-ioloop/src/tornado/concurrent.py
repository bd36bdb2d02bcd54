"""Utilities for working with ``Future`` objects.

Tornado's `Future` *is* `asyncio.Future`: every coroutine, lock and queue in
this package hands out asyncio futures, so they can be awaited by native
coroutines and mixed freely with asyncio code.  Results computed on other
threads arrive as `concurrent.futures.Future` objects; the helpers here
(`chain_future`, `run_on_executor`) carry such results over to the event loop
thread.

The ``future_set_*`` helpers exist because setting the result of a future that
was cancelled raises `asyncio.InvalidStateError`; in an asynchronous server a
cancellation may race with completion, and losing that race must not crash the
code that produced the result.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import types
from collections.abc import Callable
from concurrent import futures
from typing import Any, TypeVar, overload

from tornado.log import app_log

__all__ = [
    "FUTURES",
    "DummyExecutor",
    "Future",
    "ReturnValueIgnoredError",
    "chain_future",
    "dummy_executor",
    "future_add_done_callback",
    "future_set_exc_info",
    "future_set_exception_unless_cancelled",
    "future_set_result_unless_cancelled",
    "is_future",
    "run_on_executor",
]

_T = TypeVar("_T")

#: The future class used throughout Tornado: an alias of `asyncio.Future`.
Future = asyncio.Future

#: The future classes that Tornado accepts wherever it takes a future:
#: `asyncio.Future` and `concurrent.futures.Future`.
FUTURES = (futures.Future, Future)


class ReturnValueIgnoredError(Exception):
    """Raised when a callback-style function returns a value that would be lost."""


def is_future(x: Any) -> bool:
    """Return True if ``x`` is one of the future classes in `FUTURES`."""
    return isinstance(x, FUTURES)


class DummyExecutor(futures.Executor):
    """An executor that runs each submitted function synchronously in the caller.

    The returned `concurrent.futures.Future` is already resolved with the
    function's result or exception.
    """

    def submit(  # type: ignore[override]
        self, fn: Callable[..., _T], *args: Any, **kwargs: Any
    ) -> futures.Future[_T]:
        """Call ``fn(*args, **kwargs)`` now and return a future holding its outcome."""
        future: futures.Future[_T] = futures.Future()
        try:
            future_set_result_unless_cancelled(future, fn(*args, **kwargs))
        except Exception:
            future_set_exc_info(future, sys.exc_info())
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Do nothing: there are no worker threads to stop."""


#: A shared `DummyExecutor` instance.
dummy_executor = DummyExecutor()


def run_on_executor(*args: Any, **kwargs: Any) -> Callable[..., Any]:
    """Decorate a method to run it on an executor and return an `asyncio.Future`.

    Usable bare (``@run_on_executor``) or with the name of the instance
    attribute that holds the executor (``@run_on_executor(executor="_pool")``,
    default ``"executor"``).  The ``io_loop`` keyword names an attribute too
    but is accepted only for compatibility: results are always delivered to
    the event loop that is current when the method is called.

    The decorated method may be called from the event loop thread only.

    Raises `ValueError` when called with anything other than a single
    function or keyword arguments.
    """

    def run_on_executor_decorator(fn: Callable[..., Any]) -> Callable[..., Future[Any]]:
        executor_attr = kwargs.get("executor", "executor")

        @functools.wraps(fn)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Future[Any]:
            async_future: Future[Any] = _new_future()
            conc_future = getattr(self, executor_attr).submit(fn, self, *args, **kwargs)
            chain_future(conc_future, async_future)
            return async_future

        return wrapper

    if args and kwargs:
        raise ValueError("cannot combine positional and keyword args")
    if len(args) == 1:
        return run_on_executor_decorator(args[0])
    elif len(args) != 0:
        raise ValueError("expected 1 argument, got %d" % len(args))
    return run_on_executor_decorator


def _new_future() -> Future[Any]:
    """Create an `asyncio.Future` bound to the loop that runs in this thread.

    When no loop is running, the current `IOLoop`'s loop is used, so futures
    can be prepared before ``IOLoop.start`` the way Tornado code always could,
    without asyncio's implicit (and deprecated) loop lookup.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        from tornado.ioloop import IOLoop

        loop = IOLoop.current().asyncio_loop
    return loop.create_future()


_AnyFuture = futures.Future[Any] | Future[Any]


def chain_future(a: _AnyFuture, b: _AnyFuture) -> None:
    """Copy the outcome of future ``a`` to future ``b`` once ``a`` is done.

    Either may be an `asyncio.Future` or a `concurrent.futures.Future`.  When
    ``a`` is a `concurrent.futures.Future` completed on another thread, the
    copy happens on the `IOLoop` that was current when this was called, so an
    asyncio ``b`` is only touched from its own thread.  A cancelled ``a``
    cancels ``b``.  Nothing is copied if ``b`` is already done (for example
    because it was cancelled).
    """

    def copy(a: _AnyFuture) -> None:
        if b.done():
            return
        if a.cancelled():
            # A concurrent.futures.Future that is already running cannot be
            # cancelled; it still must not stay pending forever.
            if not b.cancel():
                b.set_exception(asyncio.CancelledError())
            return
        exc = a.exception()
        if exc is not None:
            b.set_exception(exc)
        else:
            b.set_result(a.result())

    if isinstance(a, Future):
        future_add_done_callback(a, copy)
    else:
        from tornado.ioloop import IOLoop

        IOLoop.current().add_future(a, copy)


def future_set_result_unless_cancelled(future: _AnyFuture, value: Any) -> None:
    """Set ``future``'s result unless it has been cancelled.

    Avoids `asyncio.InvalidStateError` when a result races with a
    cancellation.
    """
    if not future.cancelled():
        future.set_result(value)


def future_set_exception_unless_cancelled(future: _AnyFuture, exc: BaseException) -> None:
    """Set ``future``'s exception unless it has been cancelled.

    If the future was cancelled, nobody will ever look at it, so the exception
    is logged to ``tornado.application`` instead of vanishing.
    """
    if not future.cancelled():
        future.set_exception(exc)
    else:
        app_log.error("Exception after Future was cancelled", exc_info=exc)


def future_set_exc_info(
    future: _AnyFuture,
    exc_info: tuple[type[BaseException] | None, BaseException | None, types.TracebackType | None],
) -> None:
    """Set ``future``'s exception from a `sys.exc_info` triple.

    Like `future_set_exception_unless_cancelled`, a cancelled future is left
    alone and the exception is logged.  Raises `Exception` if the triple holds
    no exception.
    """
    if exc_info[1] is None:
        raise Exception("future_set_exc_info called with no exception")
    future_set_exception_unless_cancelled(future, exc_info[1])


_F = TypeVar("_F", bound=_AnyFuture)


@overload
def future_add_done_callback(
    future: futures.Future[_T], callback: Callable[[futures.Future[_T]], None]
) -> None: ...


@overload
def future_add_done_callback(
    future: Future[_T], callback: Callable[[Future[_T]], None]
) -> None: ...


def future_add_done_callback(future: Any, callback: Callable[[Any], None]) -> None:
    """Arrange for ``callback(future)`` to be called when ``future`` is done.

    Unlike ``Future.add_done_callback``, the callback runs immediately (before
    this function returns) if the future is already done, which saves an
    event loop iteration on hot paths.
    """
    if future.done():
        callback(future)
    else:
        future.add_done_callback(callback)
