"""The I/O event loop: Tornado's interface over an asyncio event loop.

An `IOLoop` is a thin wrapper around one `asyncio` event loop; there is exactly
one `IOLoop` per asyncio loop, and `IOLoop.current` returns the one that wraps
the loop running in (or set for) the calling thread.  New code can use asyncio
directly; the `IOLoop` interface keeps Tornado-era code (``add_callback``,
``add_timeout``, ``add_handler``, ``run_sync``, `PeriodicCallback`) working on
top of it, with asyncio's default loop or uvloop alike.

The concrete implementations live in `tornado.platform.asyncio`
(`~tornado.platform.asyncio.AsyncIOLoop`, which creates and owns a new asyncio
loop, and `~tornado.platform.asyncio.AsyncIOMainLoop`, which wraps an existing
one).  `IOLoop()` builds the configured implementation, `AsyncIOLoop` by
default.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import datetime
import functools
import logging
import math
import numbers
import os
import random
import time
import warnings
from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast, overload

from tornado.concurrent import (
    FUTURES,
    Future,
    chain_future,
    is_future,
)
from tornado.log import app_log
from tornado.util import Configurable, TimeoutError, import_object  # re-exported

__all__ = ["IOLoop", "PeriodicCallback", "TimeoutError"]

_T = TypeVar("_T")


class _Selectable(Protocol):
    """Anything with a ``fileno()``: sockets, pipes, files."""

    def fileno(self) -> int:
        """Return the underlying file descriptor."""
        ...

    def close(self) -> None:
        """Close the object."""
        ...


# Python 3.14 deprecates the public policy getter (with a warning on every
# call) but keeps this private, silent one; older versions only have the former.
_get_event_loop_policy: Callable[[], asyncio.AbstractEventLoopPolicy] = getattr(
    asyncio.events, "_get_event_loop_policy", asyncio.get_event_loop_policy
)


def _peek_set_event_loop() -> asyncio.AbstractEventLoop | None:
    """Return the loop set for this thread with `asyncio.set_event_loop`, or None.

    ``asyncio.get_event_loop()`` would *create* a loop on the main thread when
    none is set (with a DeprecationWarning since Python 3.12), which is not
    what a lookup should do, so the default policy's per-thread slot is read
    directly.  Closed loops count as absent: nothing can run on them.
    """
    policy = _get_event_loop_policy()
    local = getattr(policy, "_local", None)
    if local is not None:
        loop: asyncio.AbstractEventLoop | None = getattr(local, "_loop", None)
    else:
        # A third-party policy without the standard per-thread slot: ask it,
        # accepting whatever it does when no loop is set.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            try:
                loop = policy.get_event_loop()
            except RuntimeError:
                loop = None
    if loop is not None and loop.is_closed():
        return None
    return loop


def _current_asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """Return the running loop of this thread, else the loop set for it, else None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return _peek_set_event_loop()


class IOLoop(Configurable):
    """An I/O event loop: Tornado's interface to an asyncio event loop.

    Constructing ``IOLoop()`` creates a new asyncio event loop (through the
    configured implementation, `tornado.platform.asyncio.AsyncIOLoop` by
    default) and, unless ``make_current=False`` is passed, makes it the current
    loop of the calling thread.  Most code never constructs one: it starts
    asyncio with `asyncio.run` and uses `IOLoop.current` inside.

    Only `add_callback` may be called from other threads; everything else
    must be called on the loop's own thread.

    .. versionchanged:: 6.3
       ``make_current=True`` is the constructor's default.
    """

    #: No events (for ``add_handler``).
    NONE = 0
    #: The file descriptor is readable.
    READ = 0x001
    #: The file descriptor is writable.
    WRITE = 0x004
    #: An error condition on the file descriptor.  asyncio reports errors as
    #: readiness to read or write, so handlers must expect them there too.
    ERROR = 0x018

    # Maps each asyncio loop to the IOLoop that wraps it.  An entry is removed
    # when the IOLoop is closed; entries whose asyncio loop was closed behind
    # our back (``asyncio.run`` closes its loop) are pruned whenever a new
    # IOLoop registers, so repeated ``asyncio.run`` calls do not leak.
    _ioloop_for_asyncio: dict[asyncio.AbstractEventLoop, IOLoop] = {}

    if TYPE_CHECKING:
        # The asyncio event loop an implementation wraps: an attribute of
        # `~tornado.platform.asyncio.BaseAsyncIOLoop`, as in Tornado (every
        # IOLoop is one); declared here for the type checker only.
        asyncio_loop: asyncio.AbstractEventLoop

    # Lazily created by the default `run_in_executor`.
    _executor: concurrent.futures.Executor | None = None

    @classmethod
    def configure(cls, impl: str | type[Configurable] | None, **kwargs: Any) -> None:
        """Select the `IOLoop` implementation that ``IOLoop()`` constructs.

        ``impl`` must be a subclass of
        `~tornado.platform.asyncio.BaseAsyncIOLoop` (or its dotted name), or
        None for the default.  Raises `RuntimeError` for any other class, since
        every IOLoop must run on asyncio.
        """
        from tornado.platform.asyncio import BaseAsyncIOLoop

        if isinstance(impl, str):
            impl = import_object(impl)
        if isinstance(impl, type) and not issubclass(impl, BaseAsyncIOLoop):
            raise RuntimeError("only AsyncIOLoop is allowed when asyncio is available")
        super().configure(impl, **kwargs)

    @staticmethod
    def instance() -> IOLoop:
        """Deprecated alias for `IOLoop.current()`.

        .. deprecated:: 5.0
        """
        return IOLoop.current()

    def install(self) -> None:
        """Deprecated alias for `make_current()`.

        .. deprecated:: 5.0
        """
        self.make_current()

    @staticmethod
    def clear_instance() -> None:
        """Deprecated alias for `clear_current()`.

        .. deprecated:: 5.0
        """
        IOLoop.clear_current()

    @overload
    @staticmethod
    def current() -> IOLoop: ...

    @overload
    @staticmethod
    def current(instance: Literal[True] = True) -> IOLoop: ...

    @overload
    @staticmethod
    def current(instance: bool = True) -> IOLoop | None: ...

    @staticmethod
    def current(instance: bool = True) -> IOLoop | None:
        """Return the `IOLoop` of the calling thread.

        That is the IOLoop wrapping the running asyncio loop, or, when no loop
        is running, the loop made current with `make_current` or
        `asyncio.set_event_loop`.  An asyncio loop that has no IOLoop yet is
        wrapped in a new `~tornado.platform.asyncio.AsyncIOMainLoop`.

        When the thread has no loop at all: with ``instance=False`` this
        returns None; otherwise a new asyncio loop is created and set as the
        thread's loop (in any thread, whatever the event loop policy) and
        wrapped in an `~tornado.platform.asyncio.AsyncIOMainLoop`; closing
        that IOLoop closes the asyncio loop and unsets it again.

        With ``instance=False`` no IOLoop is created; None is returned if the
        current asyncio loop has no IOLoop yet.
        """
        loop = _current_asyncio_loop()
        if loop is None:
            if not instance:
                return None
            from tornado.platform.asyncio import AsyncIOMainLoop

            return AsyncIOMainLoop._for_new_thread_loop()
        try:
            return IOLoop._ioloop_for_asyncio[loop]
        except KeyError:
            if not instance:
                return None
            from tornado.platform.asyncio import AsyncIOMainLoop

            return cast(IOLoop, AsyncIOMainLoop(asyncio_loop=loop))

    def make_current(self) -> None:
        """Make this the current IOLoop of the calling thread.

        Sets the asyncio event loop of the thread, so that `IOLoop.current`
        and `asyncio.get_event_loop` return it while it is not running.

        .. deprecated:: 6.2
           Emits `DeprecationWarning`; start the loop (`asyncio.run`) or use
           `asyncio.set_event_loop` instead.
        """
        warnings.warn(
            "make_current is deprecated; start the event loop first",
            DeprecationWarning,
            stacklevel=2,
        )
        self._make_current()

    def _make_current(self) -> None:
        raise NotImplementedError()

    @staticmethod
    def clear_current() -> None:
        """Undo `make_current`: the thread's previous asyncio loop becomes current.

        .. deprecated:: 6.2
           Emits `DeprecationWarning`.
        """
        warnings.warn("clear_current is deprecated", DeprecationWarning, stacklevel=2)
        IOLoop._clear_current()

    @staticmethod
    def _clear_current() -> None:
        old = IOLoop.current(instance=False)
        if old is not None:
            old._clear_current_hook()

    def _clear_current_hook(self) -> None:
        """Called by `clear_current`; implementations restore the previous loop."""

    @classmethod
    def configurable_base(cls) -> type[Configurable]:
        """Return `IOLoop`, the base of the configurable hierarchy."""
        return IOLoop

    @classmethod
    def configurable_default(cls) -> type[Configurable]:
        """Return `~tornado.platform.asyncio.AsyncIOLoop`, the default implementation."""
        from tornado.platform.asyncio import AsyncIOLoop

        return AsyncIOLoop

    def initialize(self, make_current: bool = True) -> None:
        """Set up a new IOLoop; make it current unless ``make_current`` is False."""
        if make_current:
            self._make_current()

    def close(self, all_fds: bool = False) -> None:
        """Close the loop and release its resources.

        With ``all_fds=True`` every file descriptor or file object still
        registered with `add_handler` is closed too.  The loop must not be
        running, and must not be used afterwards.
        """
        raise NotImplementedError()

    def add_handler(
        self,
        fd: int | _Selectable,
        handler: Callable[..., None],
        events: int,
    ) -> None:
        """Call ``handler(fd, events)`` whenever ``fd`` is ready for ``events``.

        ``fd`` is an integer file descriptor or an object with ``fileno()``;
        the handler receives the same object.  ``events`` is a bitwise OR of
        `READ`, `WRITE` and `ERROR`.  Raises `ValueError` if ``fd`` already has
        a handler.
        """
        raise NotImplementedError()

    def update_handler(self, fd: int | _Selectable, events: int) -> None:
        """Change the events ``fd`` is watched for.  Raises `KeyError` if unregistered."""
        raise NotImplementedError()

    def remove_handler(self, fd: int | _Selectable) -> None:
        """Stop watching ``fd``.  Unknown file descriptors are ignored."""
        raise NotImplementedError()

    def start(self) -> None:
        """Run the loop until `stop` is called.

        While it runs, the loop is the current loop of the thread.  Raises
        `RuntimeError` if the loop is already running or closed.
        """
        raise NotImplementedError()

    def _setup_logging(self) -> None:
        # An application that never configured logging would silently lose
        # the tracebacks of failing callbacks; give it a default handler.
        if not any(
            [
                logging.getLogger().handlers,
                logging.getLogger("tornado").handlers,
                logging.getLogger("tornado.application").handlers,
            ]
        ):
            logging.basicConfig()

    def stop(self) -> None:
        """Stop the loop after the current iteration; `start` then returns.

        Callbacks already scheduled may still run at the next `start`.
        """
        raise NotImplementedError()

    def run_sync(self, func: Callable[[], Any], timeout: float | None = None) -> Any:
        """Start the loop, run ``func`` on it, stop the loop, and return the result.

        ``func`` may be a coroutine function, a function returning an
        awaitable or future, or a plain function; its result (or exception) is
        returned (or raised).  With ``timeout`` (seconds), the operation is
        cancelled after that long and `tornado.util.TimeoutError` is raised.
        The loop must not be running already (`RuntimeError`).  If the loop
        is stopped (`stop`) before the operation finishes, the operation is
        cancelled and `RuntimeError` is raised.
        """
        if self.asyncio_loop.is_running():
            raise RuntimeError("This event loop is already running")
        future_cell: list[Future[Any] | concurrent.futures.Future[Any] | None] = [None]
        timed_out = False

        def run() -> None:
            try:
                result = func()
                if result is not None:
                    from tornado.gen import convert_yielded

                    result = convert_yielded(result)
            except Exception as exc:
                fut: Future[Any] = Future()
                future_cell[0] = fut
                fut.set_exception(exc)
            else:
                if is_future(result):
                    future_cell[0] = result
                else:
                    fut = Future()
                    future_cell[0] = fut
                    fut.set_result(result)
            assert future_cell[0] is not None
            self.add_future(future_cell[0], lambda future: self.stop())

        self.add_callback(run)
        timeout_handle = None
        if timeout is not None:

            def timeout_callback() -> None:
                nonlocal timed_out
                timed_out = True
                future = future_cell[0]
                # Cancel the operation; its completion then stops the loop.
                # If it cannot be cancelled (a concurrent future already
                # running, or not started), stop the loop directly.
                if future is None or not future.cancel():
                    self.stop()

            timeout_handle = self.add_timeout(self.time() + timeout, timeout_callback)
        self.start()
        if timeout_handle is not None:
            self.remove_timeout(timeout_handle)
        future = future_cell[0]
        if future is None or not future.done() or (timed_out and future.cancelled()):
            if future is not None and not future.done():
                # Nobody will wait for it any more; don't leave it pending.
                future.cancel()
            if timed_out:
                raise TimeoutError("Operation timed out after %s seconds" % timeout)
            # Something called stop() before the operation finished.
            raise RuntimeError("Event loop stopped before Future completed.")
        return future.result()

    def time(self) -> float:
        """Return the current time on the IOLoop's clock, `time.time`.

        Absolute deadlines (`add_timeout`, `call_at`, ``timeout`` arguments
        of `tornado.gen.with_timeout`, `tornado.locks` and `tornado.queues`)
        are on this clock, so ``time.time() + 5`` means "in five seconds".
        Implementations convert them to the asyncio loop's own (monotonic)
        clock when they schedule, so relative delays (`call_later`, a
        `datetime.timedelta`) are measured on that one.
        """
        return time.time()

    def add_timeout(
        self,
        deadline: float | datetime.timedelta,
        callback: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> object:
        """Call ``callback(*args, **kwargs)`` at ``deadline``.

        ``deadline`` is either a number on the `time` clock or a
        `datetime.timedelta` relative to now.  Returns a handle for
        `remove_timeout`.  Raises `TypeError` for any other deadline type.
        """
        if isinstance(deadline, (float, int, numbers.Real)):
            return self.call_at(float(deadline), callback, *args, **kwargs)
        elif isinstance(deadline, datetime.timedelta):
            return self.call_at(self.time() + deadline.total_seconds(), callback, *args, **kwargs)
        raise TypeError("Unsupported deadline %r" % (deadline,))

    def call_later(
        self, delay: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        """Call ``callback(*args, **kwargs)`` after ``delay`` seconds.

        Returns a handle for `remove_timeout`.
        """
        return self.call_at(self.time() + delay, callback, *args, **kwargs)

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> object:
        """Call ``callback(*args, **kwargs)`` at time ``when`` of the `time` clock.

        Returns a handle for `remove_timeout`.
        """
        raise NotImplementedError()

    def remove_timeout(self, timeout: object) -> None:
        """Cancel a pending timeout; harmless if it already ran."""
        raise NotImplementedError()

    def add_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call ``callback(*args, **kwargs)`` on the next iteration of the loop.

        This is the one method that is safe to call from any thread; it wakes
        the loop up when called from another thread.  From a Python signal
        handler use `add_callback_from_signal` (or asyncio's
        ``add_signal_handler``), which also wakes up a loop that is waiting for
        I/O.  Calls made after the loop is closed are ignored.
        """
        raise NotImplementedError()

    def add_callback_from_signal(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """Like `add_callback`, for use from a Python signal handler.

        .. deprecated:: 6.4
           Emits `DeprecationWarning`; use
           `asyncio.AbstractEventLoop.add_signal_handler` instead.
        """
        raise NotImplementedError()

    def spawn_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call ``callback`` on the next iteration, independent of the caller.

        Any exception (or failure of the awaitable it returns) is logged, not
        propagated.
        """
        self.add_callback(callback, *args, **kwargs)

    def add_future(
        self,
        future: Future[_T] | concurrent.futures.Future[_T],
        callback: Callable[[Any], None],
    ) -> None:
        """Call ``callback(future)`` on this loop when ``future`` is done.

        ``future`` may be an `asyncio.Future` or a
        `concurrent.futures.Future` completed on any thread.  The callback
        always runs on a later loop iteration, and its exceptions are logged.
        Raises `TypeError` if ``future`` is not a future.
        """
        if isinstance(future, Future):
            future.add_done_callback(lambda f: self._run_callback(functools.partial(callback, f)))
        elif isinstance(future, concurrent.futures.Future):
            # Done callbacks of concurrent futures run on whatever thread
            # completes them; hop back to the loop thread.
            future.add_done_callback(lambda f: self.add_callback(callback, f))
        else:
            raise TypeError("expected a Future, got %r" % (future,))

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[..., _T],
        *args: Any,
    ) -> Awaitable[_T]:
        """Run ``func(*args)`` on ``executor`` and return an awaitable future.

        With ``executor=None`` a shared thread pool is used (see
        `set_default_executor`).

        On a thread pool (`concurrent.futures.ThreadPoolExecutor`, the
        default one included), ``func`` runs in a copy of the caller's
        `contextvars` context, as `asyncio.to_thread` does: a variable a
        request handler set is seen by the code it hands to a thread.
        Other executors (a process pool cannot carry a context) get
        ``func`` as it is.
        """
        if executor is None:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=(os.cpu_count() or 1) * 5
                )
            executor = self._executor
        c_future = executor.submit(*_with_context(executor, func, args))
        t_future: Future[_T] = Future()
        chain_future(c_future, t_future)
        return t_future

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        """Use ``executor`` for `run_in_executor` calls that pass None."""
        self._executor = executor

    def _run_callback(self, callback: Callable[[], Any]) -> None:
        """Run a callback, logging its exception or the failure of what it returns.

        A callback may return an awaitable (a coroutine, for example); it is
        then run to completion and its exception, if any, is logged too.
        """
        try:
            ret = callback()
            if ret is not None and (isawaitable(ret) or isinstance(ret, FUTURES)):
                from tornado.gen import convert_yielded

                future = convert_yielded(ret)
                # Keep a strong reference: asyncio only references tasks
                # weakly, and a spawned coroutine must not be collected
                # while it waits.
                self._pending_tasks.add(future)
                self.add_future(future, self._discard_future_result)
        except asyncio.CancelledError:
            pass
        except Exception:
            app_log.error("Exception in callback %r", callback, exc_info=True)

    @functools.cached_property
    def _pending_tasks(self) -> set[Any]:
        return set()

    def _discard_future_result(self, future: Future[Any]) -> None:
        """Drop ``future``'s result, re-raising (hence logging) its exception."""
        self._pending_tasks.discard(future)
        future.result()

    def split_fd(self, fd: int | _Selectable) -> tuple[int, int | _Selectable]:
        """Return ``(file descriptor, object)`` for an int or a file-like ``fd``."""
        if isinstance(fd, int):
            return fd, fd
        return fd.fileno(), fd

    def close_fd(self, fd: int | _Selectable) -> None:
        """Close ``fd``, an int or a file-like object, ignoring `OSError`."""
        try:
            if isinstance(fd, int):
                os.close(fd)
            else:
                fd.close()
        except OSError:
            pass

    def _register_task(self, f: Future[Any]) -> None:
        self._pending_tasks.add(f)

    def _unregister_task(self, f: Future[Any]) -> None:
        self._pending_tasks.discard(f)


class PeriodicCallback:
    """Call ``callback`` every ``callback_time`` milliseconds once started.

    ``callback_time`` may also be a `datetime.timedelta`.  If the callback
    returns an awaitable, the next call is scheduled only after it finishes.
    A callback that runs longer than the period makes the schedule skip the
    missed slots (it catches up with wall-clock time instead of firing
    repeatedly).  With ``jitter`` (a fraction, e.g. 0.1), each period varies
    randomly by up to that fraction either way, which spreads the calls of
    many processes apart.  Exceptions from the callback are logged.

    `start` must be called on the thread of the loop it should run on.
    Raises `ValueError` if ``callback_time`` is not positive.
    """

    def __init__(
        self,
        callback: Callable[[], Awaitable[Any] | None],
        callback_time: datetime.timedelta | float,
        jitter: float = 0,
    ) -> None:
        self.callback = callback
        if isinstance(callback_time, datetime.timedelta):
            self.callback_time = callback_time / datetime.timedelta(milliseconds=1)
        else:
            self.callback_time = callback_time
        if self.callback_time <= 0:
            raise ValueError("Periodic callback must have a positive callback_time")
        self.jitter = jitter
        self._running = False
        self._timeout: object | None = None
        # Incremented by start(): a run left over from before a stop/start
        # must not schedule a second chain of calls.
        self._generation = 0
        self._next_timeout = 0.0

    def start(self) -> None:
        """Start calling the callback on the current `IOLoop`, first after one period."""
        #: The `IOLoop` current when `start` was called; the callback runs there.
        self.io_loop = IOLoop.current()
        self._running = True
        self._generation += 1
        self._next_timeout = self.io_loop.time()
        self._schedule_next(self._generation)

    def stop(self) -> None:
        """Stop calling the callback; a call in progress finishes."""
        self._running = False
        if self._timeout is not None:
            self.io_loop.remove_timeout(self._timeout)
            self._timeout = None

    def is_running(self) -> bool:
        """Return True between `start` and `stop`."""
        return self._running

    async def _run(self, generation: int) -> None:
        if not self._running or generation != self._generation:
            return
        try:
            result = self.callback()
            if result is not None and isawaitable(result):
                await result
        except Exception:
            app_log.error("Exception in callback %r", self.callback, exc_info=True)
        finally:
            self._schedule_next(generation)

    def _schedule_next(self, generation: int) -> None:
        if self._running and generation == self._generation:
            self._update_next(self.io_loop.time())
            self._timeout = self.io_loop.add_timeout(self._next_timeout, self._run, generation)

    def _update_next(self, current_time: float) -> None:
        period = self.callback_time / 1000.0
        if self.jitter:
            period *= 1 + self.jitter * (random.random() - 0.5)
        if self._next_timeout <= current_time:
            # Late (slow callback or busy loop): skip every slot already in
            # the past and land on the first one in the future.
            missed = math.floor((current_time - self._next_timeout) / period)
            self._next_timeout += (missed + 1) * period
        else:
            # Woken slightly early (timers may fire within the clock's
            # resolution): the next slot is one period on.
            self._next_timeout += period


def _with_context(
    executor: concurrent.futures.Executor | None, func: Callable[..., _T], args: tuple[Any, ...]
) -> tuple[Callable[..., _T], ...]:
    """``func`` and ``args`` to submit to ``executor`` (None: the event
    loop's default executor, a thread pool), run in a copy of the current
    `contextvars` context when the executor runs threads."""
    if executor is None or isinstance(executor, concurrent.futures.ThreadPoolExecutor):
        return (contextvars.copy_context().run, func, *args)
    return (func, *args)
