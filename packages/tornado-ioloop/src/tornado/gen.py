"""Generator-based coroutines and helpers for awaiting several things at once.

`coroutine` turns a generator function into a function that returns a
`~asyncio.Future`: each ``yield`` inside waits for a future (or a list or dict
of them, or any awaitable) and evaluates to its result; ``return value`` (or
``raise Return(value)``) resolves the future.  This was Tornado's way of
writing asynchronous code before ``async def``; new code should use native
coroutines, which interoperate with everything here: a decorated coroutine can
await native ones and be awaited by them.

The helpers work with native coroutines as well: `multi` waits for many
awaitables in parallel, `with_timeout` bounds a wait, `sleep` and `moment`
yield to the loop, `WaitIterator` hands back results in completion order, and
`convert_yielded` is the single place that decides what can be waited for.

A decorated coroutine runs in a copy of the caller's `contextvars` context, for
its whole life, just as an asyncio task does.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import inspect
import sys
import types
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from concurrent import futures
from typing import Any, ParamSpec, TypeVar, cast, overload

from tornado.concurrent import (
    Future,
    _new_future,
    chain_future,
    future_add_done_callback,
    future_set_exc_info,
    future_set_result_unless_cancelled,
    is_future,
)
from tornado.ioloop import IOLoop
from tornado.log import app_log
from tornado.util import TimeoutError  # re-exported

__all__ = [
    "BadYieldError",
    "KeyReuseError",
    "LeakedCallbackError",
    "Multi",
    "Return",
    "ReturnValueIgnoredError",
    "TimeoutError",
    "UnknownKeyError",
    "WaitIterator",
    "convert_yielded",
    "coroutine",
    "is_coroutine_function",
    "maybe_future",
    "moment",
    "multi",
    "multi_future",
    "sleep",
    "with_timeout",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")

_Yieldable = Any
_ExceptionTypes = type[BaseException] | tuple[type[BaseException], ...]


class KeyReuseError(Exception):
    """Part of the callback-style API removed in Tornado 6; nothing raises it."""


class UnknownKeyError(Exception):
    """Part of the callback-style API removed in Tornado 6; nothing raises it."""


class LeakedCallbackError(Exception):
    """Part of the callback-style API removed in Tornado 6; nothing raises it."""


class ReturnValueIgnoredError(Exception):
    """Part of the callback-style API removed in Tornado 6; nothing raises it.

    (`tornado.concurrent.ReturnValueIgnoredError` is a separate class, as upstream.)
    """


class BadYieldError(Exception):
    """Raised (into the coroutine) when it yields something that cannot be waited for."""


class Return(Exception):
    """Raise ``Return(value)`` in a `coroutine` to make ``value`` its result.

    Only needed where ``return value`` is not allowed in a generator, which is
    no longer the case on any supported Python; kept because old code uses it.
    """

    def __init__(self, value: Any = None) -> None:
        super().__init__()
        self.value = value
        # Mirror StopIteration, which carries its value in args too.
        #: ``(value,)``, as for any exception raised with one argument.
        self.args = (value,)


def _value_from_stopiteration(e: StopIteration | Return) -> Any:
    return e.value


def _current_asyncio_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return IOLoop.current().asyncio_loop


class _Moment:
    """The type of `moment`: yielding or awaiting it gives the loop one turn."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        # A bare ``yield`` inside an asyncio task means "reschedule me on the
        # next iteration", which is exactly the semantics of moment.
        yield

    def __repr__(self) -> str:
        return "tornado.gen.moment"


#: Yield (in a `coroutine`) or await this to let the event loop run one
#: iteration before continuing, so that a long computation made of futures
#: that resolve immediately does not starve other callbacks.  In native
#: coroutines ``await asyncio.sleep(0)`` does the same.
moment = _Moment()


def _moment_future() -> Future[None]:
    """A future that resolves on the next iteration of the loop."""
    future: Future[None] = _new_future()
    future.get_loop().call_soon(future_set_result_unless_cancelled, future, None)
    return future


@overload
def coroutine(
    func: Callable[_P, Generator[Any, Any, _T]],
) -> Callable[_P, Future[_T]]: ...


@overload
def coroutine(func: Callable[_P, _T]) -> Callable[_P, Future[_T]]: ...


def coroutine(func: Callable[_P, Any]) -> Callable[_P, Future[Any]]:
    """Decorate a generator function so that calling it returns a `Future`.

    The generator runs immediately up to its first ``yield``.  Each yielded
    object is converted with `convert_yielded` (a future, an awaitable, a list
    or dict of them, None or `moment`) and the generator resumes with its
    result, or with its exception raised at the ``yield``.  The future
    resolves to the generator's return value (or `Return` value) or fails
    with its exception.  A plain function is allowed too: its return value
    becomes the future's result.

    Cancelling the returned future raises `asyncio.CancelledError` in the
    generator at its current ``yield`` (and cancels what it waits for).  The
    generator runs in a copy of the caller's `contextvars` context.
    """

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> Future[Any]:
        future: Future[Any] = _new_future()
        if future.get_loop().get_debug():
            _point_source_traceback_at_caller(future)
        try:
            _start(future, func, args, kwargs)
            return future
        finally:
            # An exception stored in the future references, through its
            # traceback and the frames' f_back chain, this frame: dropping
            # the local breaks that cycle, so the future and everything the
            # coroutine held are freed by reference counting alone.
            del future

    wrapper.__wrapped__ = func
    wrapper.__tornado_coroutine__ = True  # type: ignore[attr-defined]
    return wrapper


def _point_source_traceback_at_caller(future: Future[Any]) -> None:
    """In asyncio debug mode, make ``repr(future)`` name the coroutine's caller.

    The future records where it was created; without this that would be
    inside the decorator.  Two frames up from here is the code that called
    the decorated function.
    """
    recorded = getattr(future, "_source_traceback", None)
    if recorded:
        import traceback

        recorded[:] = traceback.extract_stack(sys._getframe(2))


def _start(
    future: Future[Any],
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    """Call a decorated function and start driving it, with ``future`` as its outcome."""
    ctx_run = contextvars.copy_context().run
    result: Any = None
    yielded: Any = None
    try:
        try:
            result = ctx_run(func, *args, **kwargs)
        except (Return, StopIteration) as e:
            result = _value_from_stopiteration(e)
        except asyncio.CancelledError:
            # As with an asyncio task that raises it: the future is cancelled.
            future.cancel()
            return
        except Exception:
            future_set_exc_info(future, sys.exc_info())
            return
        if isinstance(result, types.GeneratorType):
            try:
                yielded = ctx_run(next, result)
            except (Return, StopIteration) as e:
                future_set_result_unless_cancelled(future, _value_from_stopiteration(e))
            except asyncio.CancelledError:
                future.cancel()
            except Exception:
                future_set_exc_info(future, sys.exc_info())
            else:
                Runner(ctx_run, result, future, yielded)
        elif inspect.iscoroutine(result):
            # A native coroutine function was decorated: run it as a task
            # rather than handing back an un-awaited coroutine object.
            chain_future(convert_yielded(result), future)
        else:
            future_set_result_unless_cancelled(future, result)
    finally:
        # This frame stays reachable from the traceback of any exception
        # raised below it (through f_back); holding no futures or
        # generators keeps that from forming a reference cycle.
        del future
        result = yielded = None


def is_coroutine_function(func: Any) -> bool:
    """Return True if ``func`` was decorated with `coroutine`.

    Only Tornado's decorator counts: a plain ``async def`` function gives
    False (use `inspect.iscoroutinefunction` for those), as in Tornado.

    .. versionadded:: 4.5
    """
    return bool(getattr(func, "__tornado_coroutine__", False))


class Runner:
    """Drives one `coroutine`-decorated generator; created by the decorator.

    ``Runner(ctx_run, gen, result_future, first_yielded)`` takes over a
    generator that has already produced ``first_yielded``: it waits for each
    yielded object (`handle_yield`), resumes the generator with its result
    or exception (`run`, always inside ``ctx_run``, the coroutine's
    `contextvars` context) and finally resolves ``result_future`` with the
    generator's return value or exception.  Applications never create one;
    the class is public because Tornado's is.

    Attributes: ``gen`` (None once finished), ``result_future`` (None once
    resolved), ``future`` (what the generator currently waits for),
    ``io_loop`` (the `IOLoop` current at creation), ``running`` (True while
    the generator executes) and ``finished``.

    Futures that are already done are consumed in a loop rather than through
    callbacks, so long chains of immediately-ready results neither recurse
    nor cost a loop iteration each.
    """

    __slots__ = (
        "_cancel_delivered",
        "ctx_run",
        "finished",
        "future",
        "gen",
        "io_loop",
        "result_future",
        "running",
    )

    def __init__(
        self,
        ctx_run: Callable[..., Any],
        gen: Generator[_Yieldable, Any, Any],
        result_future: Future[Any],
        first_yielded: _Yieldable,
    ) -> None:
        self.ctx_run = ctx_run
        self.gen: Generator[_Yieldable, Any, Any] | None = gen
        self.result_future: Future[Any] | None = result_future
        self.future: Future[Any] | futures.Future[Any] | None = None
        # The IOLoop of the loop the result future belongs to (the one this
        # runs on); a dict lookup instead of IOLoop.current() on the hot path.
        io_loop = IOLoop._ioloop_for_asyncio.get(result_future.get_loop())
        self.io_loop = io_loop if io_loop is not None else IOLoop.current()
        self.running = False
        self.finished = False
        self._cancel_delivered = False
        # The runner is referenced only by callbacks of the futures it waits
        # on; tying it to the result future keeps it alive as long as anyone
        # can observe the outcome.
        result_future.add_done_callback(self._on_result_done)
        try:
            if self.ctx_run(self.handle_yield, first_yielded):
                self.ctx_run(self.run)
        finally:
            # See _start: no futures in frames a traceback may keep alive.
            del result_future, first_yielded, gen

    def _on_result_done(self, result_future: Future[Any]) -> None:
        if result_future.cancelled() and not self.finished:
            awaited = self.future
            if isinstance(awaited, Future) and not awaited.done():
                # Propagate the cancellation inward, as an asyncio task does.
                awaited.cancel()

    def run(self) -> None:
        """Resume the generator for as long as what it waits for is done."""
        if self.running or self.finished:
            return
        self.running = True
        future: Future[Any] | futures.Future[Any] | None = None
        value: Any = None
        error: BaseException | None = None
        yielded: Any = None
        try:
            while True:
                future = self.future
                if future is None or not future.done():
                    return
                self.future = None
                assert self.gen is not None and self.result_future is not None
                if self.result_future.cancelled() and not self._cancel_delivered:
                    # What we waited for could not be cancelled (or finished
                    # anyway): deliver the cancellation now.
                    self._cancel_delivered = True
                    error = asyncio.CancelledError()
                else:
                    try:
                        value = future.result()
                    except BaseException as exc:
                        if isinstance(exc, asyncio.CancelledError):
                            self._cancel_delivered = True
                        error = exc
                future = None
                try:
                    # Thrown outside the except block above, so that what the
                    # generator raises next does not get this as __context__.
                    if error is not None:
                        thrown, error = error, None
                        try:
                            yielded = self.gen.throw(thrown)
                        finally:
                            del thrown
                    else:
                        yielded = self.gen.send(value)
                    value = None
                except (StopIteration, Return) as e:
                    self._finish()
                    future_set_result_unless_cancelled(
                        self.result_future, _value_from_stopiteration(e)
                    )
                    self.result_future = None
                    return
                except asyncio.CancelledError:
                    self._finish()
                    self.result_future.cancel()
                    self.result_future = None
                    return
                except Exception:
                    self._finish()
                    future_set_exc_info(self.result_future, sys.exc_info())
                    self.result_future = None
                    return
                if not self.handle_yield(yielded):
                    return
                yielded = None
        finally:
            self.running = False
            # This frame stays reachable from the traceback of any exception
            # that passed through it; holding no futures or values keeps that
            # from forming a reference cycle.
            future = value = error = yielded = None

    def _finish(self) -> None:
        self.finished = True
        self.gen = None
        # Nothing left to keep alive or cancel; unregistering also spares
        # the loop a callback when the result is set.
        if self.result_future is not None:
            self.result_future.remove_done_callback(self._on_result_done)

    def handle_exception(
        self, typ: type[BaseException], value: BaseException, tb: types.TracebackType | None
    ) -> bool:
        """Raise ``value`` into the generator at its current ``yield``.

        Only possible while the generator is suspended (not `running`, not
        `finished`); returns True if the exception was delivered (and the
        generator resumed with it), False otherwise.  What the generator was
        waiting for is then no longer waited for.
        """
        if self.running or self.finished:
            return False
        failed: Future[Any] = _new_future()
        future_set_exc_info(failed, (typ, value, tb))
        self.future = failed
        self.ctx_run(self.run)
        return True

    def handle_yield(self, yielded: _Yieldable) -> bool:
        """Start waiting for ``yielded``; return True if it is already done.

        ``yielded`` is anything `convert_yielded` accepts; something else
        makes the generator see `BadYieldError` at its ``yield``.  When this
        returns False, `run` is called again once the wait is over.
        """
        if yielded is None or yielded is moment:
            _current_asyncio_loop().call_soon(self._resume_after_moment)
            return False
        try:
            future = convert_yielded(yielded)
        except BadYieldError:
            future = _new_future()
            future_set_exc_info(future, sys.exc_info())
        self.future = future
        if future.done():
            return True
        if isinstance(future, Future):
            future.add_done_callback(self._wake)
        else:
            self.io_loop.add_future(future, self._wake)
        return False

    def _resume_after_moment(self) -> None:
        done: Future[None] = _new_future()
        done.set_result(None)
        self.future = done
        self.ctx_run(self.run)

    def _wake(self, future: Any) -> None:
        self.ctx_run(self.run)


@functools.singledispatch
def convert_yielded(yielded: _Yieldable) -> Future[Any]:
    """Convert something a coroutine may yield into a future.

    Accepted: futures (returned as they are), awaitables such as native
    coroutines (scheduled as `asyncio.Task`), lists and dicts of those (via
    `multi`), and None or `moment` (a future resolved on the next loop
    iteration).  Raises `BadYieldError` for anything else.

    This is a `functools.singledispatch` function: register converters for
    other types with ``@convert_yielded.register(SomeType)``.
    """
    if yielded is None or yielded is moment:
        return _moment_future()
    if isinstance(yielded, (list, dict)):
        return multi(yielded)
    if is_future(yielded):
        return cast(Future[Any], yielded)
    if inspect.iscoroutine(yielded):
        return _current_asyncio_loop().create_task(yielded)
    if inspect.isawaitable(yielded):
        return asyncio.ensure_future(yielded, loop=_current_asyncio_loop())
    raise BadYieldError("yielded unknown object %r" % (yielded,))


def multi(
    children: Sequence[_Yieldable] | Mapping[Any, _Yieldable],
    quiet_exceptions: _ExceptionTypes = (),
) -> Future[list[Any] | dict[Any, Any]]:
    """Wait for several awaitables in parallel; return a future of all their results.

    ``children`` is a list (the result is a list in the same order) or a dict
    (the result is a dict with the same keys) of anything `convert_yielded`
    accepts.  The future resolves once every child is done.  If children
    fail, it fails with the first failure in order; later failures are
    logged unless they are instances of ``quiet_exceptions``.
    """
    return multi_future(children, quiet_exceptions=quiet_exceptions)


def multi_future(
    children: Sequence[_Yieldable] | Mapping[Any, _Yieldable],
    quiet_exceptions: _ExceptionTypes = (),
) -> Future[list[Any] | dict[Any, Any]]:
    """Implementation of `multi` (the name predates `multi` accepting non-futures)."""
    keys: list[Any] | None
    if isinstance(children, Mapping):
        keys = list(children.keys())
        children_futs = [convert_yielded(child) for child in children.values()]
    else:
        keys = None
        children_futs = [convert_yielded(child) for child in children]
    future: Future[list[Any] | dict[Any, Any]] = _new_future()
    unfinished = set(children_futs)

    def on_child_done(child: Future[Any]) -> None:
        unfinished.discard(child)
        if unfinished:
            return
        results: list[Any] = []
        for fut in children_futs:
            try:
                results.append(fut.result())
            except asyncio.CancelledError:
                # As asyncio.gather does: the multi future fails with
                # CancelledError, but it is not itself cancelled.
                if not future.done():
                    future.set_exception(asyncio.CancelledError())
            except Exception as e:
                if not future.done():
                    future_set_exc_info(future, sys.exc_info())
                elif not isinstance(e, quiet_exceptions):
                    app_log.error("Multiple exceptions in yield list", exc_info=True)
        if not future.done():
            if keys is not None:
                future.set_result(dict(zip(keys, results, strict=True)))
            else:
                future.set_result(results)

    if not children_futs:
        future.set_result({} if keys is not None else [])
    for fut in dict.fromkeys(children_futs):
        if isinstance(fut, Future):
            future_add_done_callback(fut, on_child_done)
        else:
            IOLoop.current().add_future(fut, on_child_done)
    return future


#: Older name of `multi`, kept for code that still uses it.
Multi = multi


def maybe_future(x: Any) -> Future[Any]:
    """Return ``x`` if it is a future, else a future already resolved to ``x``.

    .. deprecated:: 4.3
       Use `convert_yielded`, which also handles awaitables.
    """
    if is_future(x):
        return cast(Future[Any], x)
    future: Future[Any] = _new_future()
    future.set_result(x)
    return future


def with_timeout(
    timeout: float | Any,
    future: _Yieldable,
    quiet_exceptions: _ExceptionTypes = (),
    *,
    message: str | Callable[[], str] | None = None,
) -> Future[Any]:
    """Wrap ``future`` (anything `convert_yielded` accepts) in a future with a deadline.

    ``timeout`` is an absolute `IOLoop.time` or a `datetime.timedelta`.  If
    ``future`` is not done by then, the returned future fails with
    `tornado.util.TimeoutError` whose message is ``message`` (by default
    ``"Timeout"``); a callable ``message`` is called only when the timeout
    actually fires, so an expensive description costs nothing on success.
    The wrapped operation is *not* cancelled; if it fails later, its
    exception is logged unless it is an instance of ``quiet_exceptions``.
    """
    inner = convert_yielded(future)
    result: Future[Any] = _new_future()
    chain_future(inner, result)
    io_loop = IOLoop.current()

    def log_late_failure(f: Future[Any]) -> None:
        try:
            f.result()
        except asyncio.CancelledError:
            pass
        except Exception as e:
            if not isinstance(e, quiet_exceptions):
                app_log.error("Exception in Future %r after timeout", f, exc_info=True)

    def on_timeout() -> None:
        if not result.done():
            if message is None:
                text = "Timeout"
            else:
                text = message() if callable(message) else message
            result.set_exception(TimeoutError(text))
        if isinstance(inner, Future):
            future_add_done_callback(inner, log_late_failure)
        else:
            io_loop.add_future(inner, log_late_failure)

    handle = io_loop.add_timeout(timeout, on_timeout)
    if isinstance(inner, Future):
        future_add_done_callback(inner, lambda f: io_loop.remove_timeout(handle))
    else:
        io_loop.add_future(inner, lambda f: io_loop.remove_timeout(handle))
    return result


def sleep(duration: float) -> Future[None]:
    """Return a future that resolves after ``duration`` seconds.

    The coroutine equivalent of `time.sleep`: ``yield gen.sleep(0.5)``.
    """
    future: Future[None] = _new_future()
    future.get_loop().call_later(duration, future_set_result_unless_cancelled, future, None)
    return future


class WaitIterator:
    """Iterate over futures in the order they finish.

    Pass futures positionally or as keywords (not both).  Each call to `next`
    returns a future for the next one to finish; after it resolves,
    `current_index` is its position (or keyword) and `current_future` the
    original future.  Use ``while not it.done(): result = await it.next()``
    or ``async for result in it:``.  A failing input makes the corresponding
    `next` future fail, the iteration can continue afterwards.

    Raises `ValueError` if given both positional and keyword futures.
    """

    def __init__(self, *args: Future[Any], **kwargs: Future[Any]) -> None:
        if args and kwargs:
            raise ValueError("You must provide args or kwargs, not both")
        entries: list[tuple[Any, Future[Any]]]
        if kwargs:
            entries = list(kwargs.items())
        else:
            entries = list(enumerate(args))
        # Keyed by slot, not by future: the same future may be passed more
        # than once and is then handed out once per position.
        self._unfinished: dict[int, tuple[Any, Future[Any]]] = dict(enumerate(entries))
        self._finished: collections.deque[int] = collections.deque()
        #: Position or keyword of the future that most recently finished.
        self.current_index: Any = None
        #: The input future that most recently finished.
        self.current_future: Future[Any] | None = None
        self._running_future: Future[Any] | None = None
        for slot, (_, future) in enumerate(entries):
            future_add_done_callback(future, functools.partial(self._done_callback, slot))

    def done(self) -> bool:
        """Return True once every input has been handed out by `next`."""
        if self._finished or self._unfinished:
            return False
        self.current_index = self.current_future = None
        return True

    def next(self) -> Future[Any]:
        """Return a future for the result of the next input to finish."""
        self._running_future = _new_future()
        if self._finished:
            return self._return_result(self._finished.popleft())
        return self._running_future

    def _done_callback(self, slot: int, done: Future[Any]) -> None:
        if self._running_future is not None and not self._running_future.done():
            self._return_result(slot)
        else:
            self._finished.append(slot)

    def _return_result(self, slot: int) -> Future[Any]:
        running = self._running_future
        if running is None:
            raise Exception("no future is running")
        self._running_future = None
        key, done = self._unfinished.pop(slot)
        chain_future(done, running)
        self.current_future = done
        self.current_index = key
        return running

    def __aiter__(self) -> WaitIterator:
        return self

    def __anext__(self) -> Awaitable[Any]:
        if self.done():
            raise StopAsyncIteration()
        return self.next()
