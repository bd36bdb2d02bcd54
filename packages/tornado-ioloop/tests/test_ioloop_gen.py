"""tornado.gen: decorated coroutines, convert_yielded, multi, with_timeout, WaitIterator."""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import logging
import sys
from collections.abc import Generator
from concurrent import futures
from typing import Any

import pytest

from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop

_var: contextvars.ContextVar[str] = contextvars.ContextVar("_var", default="unset")


def _done(value: Any) -> Future[Any]:
    f: Future[Any] = Future()
    f.set_result(value)
    return f


def _failed(exc: BaseException) -> Future[Any]:
    f: Future[Any] = Future()
    f.set_exception(exc)
    return f


# -- coroutine ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_coroutine_returns_a_future_with_the_return_value() -> None:
    @gen.coroutine
    def f(x: int) -> Generator[Any, Any, int]:
        a = yield _done(x)
        b = yield asyncio.sleep(0, result=1)
        return a + b

    fut = f(41)
    assert isinstance(fut, Future)
    assert await fut == 42


@pytest.mark.asyncio
async def test_coroutine_runs_synchronously_until_first_yield() -> None:
    steps: list[str] = []

    @gen.coroutine
    def f() -> Generator[Any, Any, None]:
        steps.append("started")
        yield gen.moment
        steps.append("resumed")

    fut = f()
    assert steps == ["started"]
    await fut
    assert steps == ["started", "resumed"]


@pytest.mark.asyncio
async def test_return_exception_and_plain_functions() -> None:
    @gen.coroutine
    def with_return() -> Generator[Any, Any, None]:
        yield gen.moment
        raise gen.Return("value")

    @gen.coroutine
    def plain(x: int) -> int:
        return x * 2

    @gen.coroutine
    def plain_return() -> None:
        raise gen.Return(5)

    assert await with_return() == "value"
    assert await plain(4) == 8
    assert await plain_return() == 5
    assert gen.Return(3).args == (3,)


@pytest.mark.asyncio
async def test_exceptions_propagate_through_yield() -> None:
    @gen.coroutine
    def inner() -> Generator[Any, Any, None]:
        yield gen.moment
        raise KeyError("inner")

    @gen.coroutine
    def outer() -> Generator[Any, Any, str]:
        try:
            yield inner()
        except KeyError as e:
            return "caught " + e.args[0]
        return "not caught"

    @gen.coroutine
    def failing_plain() -> None:
        raise ValueError("plain")

    assert await outer() == "caught inner"
    with pytest.raises(ValueError, match="plain"):
        await failing_plain()


@pytest.mark.asyncio
async def test_yield_list_and_dict_of_mixed_awaitables() -> None:
    async def native(x: int) -> int:
        await asyncio.sleep(0)
        return x

    @gen.coroutine
    def decorated(x: int) -> Generator[Any, Any, int]:
        yield gen.moment
        return x

    @gen.coroutine
    def f() -> Generator[Any, Any, Any]:
        lst = yield [native(1), decorated(2), _done(3)]
        dct = yield {"a": native(4), "b": decorated(5)}
        empty = yield []
        return lst, dct, empty

    assert await f() == ([1, 2, 3], {"a": 4, "b": 5}, [])


@pytest.mark.asyncio
async def test_yield_none_and_moment_give_other_callbacks_a_turn() -> None:
    order: list[str] = []

    @gen.coroutine
    def f(marker: Any) -> Generator[Any, Any, None]:
        IOLoop.current().add_callback(order.append, "callback")
        yield marker
        order.append("resumed")

    await f(None)
    await f(gen.moment)
    assert order == ["callback", "resumed", "callback", "resumed"]


@pytest.mark.asyncio
async def test_await_moment_in_native_coroutine() -> None:
    order: list[str] = []
    IOLoop.current().add_callback(order.append, "callback")
    await gen.moment
    order.append("after")
    assert order == ["callback", "after"]


@pytest.mark.asyncio
async def test_yield_concurrent_future_from_executor() -> None:
    with futures.ThreadPoolExecutor(1) as ex:

        @gen.coroutine
        def f() -> Generator[Any, Any, int]:
            value = yield ex.submit(lambda: 21)
            return value * 2

        assert await f() == 42


@pytest.mark.asyncio
async def test_bad_yield_raises_in_the_coroutine() -> None:
    @gen.coroutine
    def f() -> Generator[Any, Any, str]:
        try:
            yield object()
        except gen.BadYieldError:
            return "bad yield seen"
        return "no error"

    assert await f() == "bad yield seen"


@pytest.mark.asyncio
async def test_long_chain_of_ready_futures_does_not_recurse() -> None:
    @gen.coroutine
    def f() -> Generator[Any, Any, int]:
        total = 0
        for _ in range(sys.getrecursionlimit() * 3):
            total += yield _done(1)
        return total

    assert await f() == sys.getrecursionlimit() * 3


@pytest.mark.asyncio
async def test_decorated_coroutines_await_each_other_natively() -> None:
    @gen.coroutine
    def decorated() -> Generator[Any, Any, str]:
        yield gen.moment
        return "d"

    async def native() -> str:
        return await decorated() + "n"

    @gen.coroutine
    def outer() -> Generator[Any, Any, str]:
        result = yield native()
        return result + "o"

    assert await outer() == "dno"


@pytest.mark.asyncio
async def test_decorating_a_native_coroutine_function() -> None:
    @gen.coroutine
    async def f() -> int:
        await asyncio.sleep(0)
        return 3

    assert await f() == 3  # type: ignore[misc]


@pytest.mark.asyncio
async def test_cancelling_the_future_cancels_the_generator() -> None:
    cleaned_up: list[str] = []
    blocker: Future[None] = Future()

    @gen.coroutine
    def f() -> Generator[Any, Any, None]:
        try:
            yield blocker
        except asyncio.CancelledError:
            cleaned_up.append("cancelled")
            raise

    fut = f()
    await asyncio.sleep(0)
    fut.cancel()
    with pytest.raises(asyncio.CancelledError):
        await fut
    # Allow the runner to resume the generator with the cancellation.
    while not cleaned_up:
        await asyncio.sleep(0)
    assert cleaned_up == ["cancelled"]
    assert blocker.cancelled()


@pytest.mark.asyncio
async def test_cancelled_error_raised_before_the_first_yield_cancels_the_future() -> None:
    @gen.coroutine
    def plain() -> None:
        raise asyncio.CancelledError()

    @gen.coroutine
    def generator() -> Generator[Any, Any, None]:
        raise asyncio.CancelledError()
        yield  # pragma: no cover

    for fut in (plain(), generator()):
        with pytest.raises(asyncio.CancelledError):
            await fut
        assert fut.cancelled()


@pytest.mark.asyncio
async def test_caught_exception_does_not_become_the_context_of_the_next() -> None:
    class Boom(Exception):
        pass

    @gen.coroutine
    def fails(n: int) -> None:
        raise Boom(n)

    @gen.coroutine
    def caller() -> Generator[Any, Any, list[Any]]:
        contexts = []
        for n in range(2):
            try:
                yield fails(n)
            except Boom as e:
                contexts.append(e.__context__)
        return contexts

    assert await caller() == [None, None]


def test_failed_coroutine_frees_its_locals_without_the_garbage_collector(
    loop_policy: str,
) -> None:
    import gc
    import weakref

    class Local:
        pass

    refs: list[weakref.ref[Local]] = []

    @gen.coroutine
    def inner() -> Generator[Any, Any, None]:
        local = Local()
        refs.append(weakref.ref(local))
        yield gen.coroutine(lambda: None)()
        raise ValueError("failed")

    @gen.coroutine
    def outer() -> Generator[Any, Any, None]:
        try:
            yield inner()
        except ValueError:
            pass

    io_loop = IOLoop()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        io_loop.run_sync(outer)
        assert refs and refs[0]() is None
    finally:
        if gc_was_enabled:
            gc.enable()
        io_loop.close()


def test_future_repr_in_debug_mode_names_the_caller(loop_policy: str) -> None:
    @gen.coroutine
    def f() -> Generator[Any, Any, None]:
        yield gen.moment

    io_loop = IOLoop()
    io_loop.asyncio_loop.set_debug(True)

    async def call() -> None:
        fut = f()
        line = sys._getframe().f_lineno - 1
        assert f"created at {__file__}:{line}" in repr(fut)
        await fut

    try:
        io_loop.run_sync(call)
    finally:
        io_loop.close()


@pytest.mark.asyncio
async def test_contextvars_propagate_and_stay_isolated() -> None:
    @gen.coroutine
    def child() -> Generator[Any, Any, str]:
        seen = _var.get()
        _var.set("child")
        yield gen.moment
        return seen + "/" + _var.get()

    _var.set("parent")
    assert await child() == "parent/child"
    # The child's change did not leak into the caller.
    assert _var.get() == "parent"


def test_is_coroutine_function() -> None:
    @gen.coroutine
    def decorated() -> Generator[Any, Any, None]:
        yield None

    async def native() -> None:
        pass

    def plain() -> None:
        pass

    assert gen.is_coroutine_function(decorated) is True
    # Only Tornado's decorator counts, as documented: native coroutine
    # functions are for inspect.iscoroutinefunction.
    assert gen.is_coroutine_function(native) is False
    assert gen.is_coroutine_function(plain) is False
    assert decorated.__wrapped__.__name__ == "decorated"  # type: ignore[attr-defined]


# -- Runner ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_runner_drives_the_decorated_coroutine() -> None:
    # The decorator hands a suspended generator to gen.Runner; spying on
    # handle_yield shows it is the runner that waits for each yielded future.
    seen: list[Any] = []
    original = gen.Runner.handle_yield

    def spy(self: gen.Runner, yielded: Any) -> bool:
        seen.append((self.running, self.finished, self.io_loop, self.result_future))
        return original(self, yielded)

    gate: Future[int] = Future()

    @gen.coroutine
    def twice() -> Generator[Any, Any, int]:
        a = yield gate
        b = yield _done(2)
        return a + b

    gen.Runner.handle_yield = spy  # type: ignore[method-assign]
    try:
        result = twice()
        gate.set_result(40)
        assert await result == 42
    finally:
        gen.Runner.handle_yield = original  # type: ignore[method-assign]
    assert len(seen) == 2
    # The first yield is handled at creation, the second while running.
    assert seen[0][:3] == (False, False, IOLoop.current())
    assert seen[0][3] is result
    assert seen[1][:3] == (True, False, IOLoop.current())


@pytest.mark.asyncio
async def test_runner_attributes_and_handle_exception() -> None:
    loop = asyncio.get_running_loop()
    pending: Future[int] = Future()

    def body() -> Generator[Any, Any, str]:
        try:
            yield pending
        except KeyError as e:
            return "caught " + str(e)
        return "not reached"

    generator = body()
    first = next(generator)
    result: Future[str] = loop.create_future()
    runner = gen.Runner(contextvars.copy_context().run, generator, result, first)
    assert runner.gen is generator
    assert runner.result_future is result
    assert runner.future is pending
    assert runner.io_loop is IOLoop.current()
    assert (runner.running, runner.finished) == (False, False)
    error = KeyError("x")
    assert runner.handle_exception(KeyError, error, None) is True
    assert await result == "caught 'x'"
    assert runner.finished is True
    assert runner.gen is None and runner.result_future is None
    # Nothing left to throw into.
    assert runner.handle_exception(KeyError, error, None) is False


def test_return_value_ignored_error_is_an_exception_class_of_gen() -> None:
    from tornado import concurrent

    assert issubclass(gen.ReturnValueIgnoredError, Exception)
    assert gen.ReturnValueIgnoredError.__module__ == "tornado.gen"
    # Two classes, as in Tornado.
    assert gen.ReturnValueIgnoredError is not concurrent.ReturnValueIgnoredError


# -- convert_yielded ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_convert_yielded_variants() -> None:
    f = _done(1)
    assert gen.convert_yielded(f) is f

    async def coro() -> int:
        return 2

    task = gen.convert_yielded(coro())
    assert isinstance(task, asyncio.Task)
    assert await task == 2
    assert await gen.convert_yielded(None) is None
    assert await gen.convert_yielded(gen.moment) is None
    assert await gen.convert_yielded([coro(), _done(3)]) == [2, 3]
    with pytest.raises(gen.BadYieldError):
        gen.convert_yielded(42)


@pytest.mark.asyncio
async def test_convert_yielded_is_extensible() -> None:
    class Custom:
        pass

    @gen.convert_yielded.register(Custom)
    def _(c: Custom) -> Future[str]:
        return _done("custom")

    @gen.coroutine
    def f() -> Generator[Any, Any, str]:
        return (yield Custom())

    assert await f() == "custom"


# -- multi -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_multi_first_error_raised_others_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="tornado.application"), pytest.raises(KeyError):
        await gen.multi([_failed(KeyError("a")), _failed(ValueError("b")), _done(1)])
    assert "Multiple exceptions in yield list" in caplog.text
    assert "ValueError" in caplog.text


@pytest.mark.asyncio
async def test_multi_quiet_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="tornado.application"), pytest.raises(KeyError):
        await gen.multi(
            [_failed(KeyError("a")), _failed(ValueError("b"))],
            quiet_exceptions=ValueError,
        )
    assert caplog.records == []


@pytest.mark.asyncio
async def test_multi_waits_for_all_children_even_after_a_failure() -> None:
    slow: Future[int] = Future()
    combined = gen.multi_future([_failed(KeyError("a")), slow])
    await asyncio.sleep(0)
    assert not combined.done()
    slow.set_result(1)
    with pytest.raises(KeyError):
        await combined


@pytest.mark.asyncio
async def test_multi_dict_keeps_keys_and_empty_dict() -> None:
    assert await gen.multi({"x": _done(1), "y": _done(2)}) == {"x": 1, "y": 2}
    assert await gen.multi({}) == {}


@pytest.mark.asyncio
async def test_multi_with_the_same_future_twice() -> None:
    f: Future[int] = Future()
    combined = gen.multi([f, f])
    f.set_result(9)
    assert await combined == [9, 9]


@pytest.mark.asyncio
async def test_multi_with_a_cancelled_child_raises_but_is_not_cancelled() -> None:
    child: Future[int] = Future()
    child.cancel()
    combined = gen.multi([child, _done(1)])
    with pytest.raises(asyncio.CancelledError):
        await combined
    assert not combined.cancelled()

    later: Future[int] = Future()
    combined = gen.multi([later])
    IOLoop.current().add_callback(later.cancel)
    with pytest.raises(asyncio.CancelledError):
        await combined
    assert not combined.cancelled()


@pytest.mark.asyncio
async def test_multi_cancellation_after_a_failure_is_silent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    child: Future[int] = Future()
    child.cancel()
    with pytest.raises(KeyError):
        await gen.multi([_failed(KeyError("first")), child])
    assert not caplog.records


def test_multi_has_its_old_name() -> None:
    assert gen.Multi is gen.multi


# -- with_timeout, sleep -----------------------------------------------------------


@pytest.mark.asyncio
async def test_with_timeout_expires_without_cancelling() -> None:
    inner: Future[int] = Future()
    io_loop = IOLoop.current()
    with pytest.raises(gen.TimeoutError):
        await gen.with_timeout(io_loop.time(), inner)
    assert not inner.cancelled()
    with pytest.raises(gen.TimeoutError):
        await gen.with_timeout(datetime.timedelta(seconds=0), inner)
    inner.set_result(1)


@pytest.mark.asyncio
async def test_with_timeout_returns_result_in_time() -> None:
    async def quick() -> str:
        await asyncio.sleep(0)
        return "fast"

    deadline = datetime.timedelta(seconds=3600)
    assert await gen.with_timeout(deadline, quick()) == "fast"
    assert await gen.with_timeout(deadline, _done(1)) == 1


@pytest.mark.asyncio
async def test_with_timeout_logs_late_failures_unless_quiet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io_loop = IOLoop.current()
    loud: Future[None] = Future()
    quiet: Future[None] = Future()
    with caplog.at_level(logging.ERROR, logger="tornado.application"):
        with pytest.raises(gen.TimeoutError):
            await gen.with_timeout(io_loop.time(), loud)
        with pytest.raises(gen.TimeoutError):
            await gen.with_timeout(io_loop.time(), quiet, quiet_exceptions=(KeyError,))
        loud.set_exception(ValueError("late"))
        quiet.set_exception(KeyError("late quiet"))
        for _ in range(3):
            await asyncio.sleep(0)
    assert "late" in caplog.text
    assert "late quiet" not in caplog.text
    assert len(caplog.records) == 1


@pytest.mark.asyncio
async def test_with_timeout_message() -> None:
    io_loop = IOLoop.current()
    with pytest.raises(gen.TimeoutError, match=r"^custom$"):
        await gen.with_timeout(io_loop.time(), Future(), message="custom")
    with pytest.raises(gen.TimeoutError, match=r"^lazy$"):
        await gen.with_timeout(io_loop.time(), Future(), message=lambda: "lazy")
    with pytest.raises(gen.TimeoutError, match=r"^Timeout$"):
        await gen.with_timeout(io_loop.time(), Future())


@pytest.mark.asyncio
async def test_with_timeout_message_callable_not_called_in_time() -> None:
    def message() -> str:
        raise AssertionError("called although the future finished in time")

    deadline = datetime.timedelta(seconds=3600)
    assert await gen.with_timeout(deadline, _done("ok"), message=message) == "ok"


@pytest.mark.asyncio
async def test_sleep_resolves_to_none() -> None:
    assert await gen.sleep(0) is None
    assert await gen.sleep(0.001) is None


def test_timeout_error_is_the_builtin() -> None:
    assert gen.TimeoutError is TimeoutError


# -- maybe_future ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_maybe_future() -> None:
    f = _done(1)
    assert gen.maybe_future(f) is f
    assert await gen.maybe_future(5) == 5


# -- WaitIterator ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_wait_iterator_yields_in_completion_order() -> None:
    fs: list[Future[str]] = [Future() for _ in range(3)]
    it = gen.WaitIterator(*fs)
    for i in (2, 0, 1):
        IOLoop.current().add_callback(fs[i].set_result, f"r{i}")
    order = []
    while not it.done():
        result = await it.next()
        order.append((it.current_index, result))
        assert it.current_future is fs[it.current_index]
    assert order == [(2, "r2"), (0, "r0"), (1, "r1")]
    assert it.current_index is None


@pytest.mark.asyncio
async def test_wait_iterator_hands_out_a_repeated_future_once_per_position() -> None:
    done = _done(7)
    for it, indices in [
        (gen.WaitIterator(done, done, done), [0, 1, 2]),
        (gen.WaitIterator(x=done, y=done), ["x", "y"]),
    ]:
        seen = []
        while not it.done():
            assert await it.next() == 7
            seen.append(it.current_index)
            assert it.current_future is done
        assert seen == indices

    pending: Future[int] = Future()
    it = gen.WaitIterator(pending, pending)
    IOLoop.current().add_callback(pending.set_result, 3)
    assert [await it.next(), it.current_index, await it.next(), it.current_index] == [3, 0, 3, 1]
    assert it.done()


@pytest.mark.asyncio
async def test_wait_iterator_async_for_with_keywords_and_errors() -> None:
    a: Future[int] = Future()
    b: Future[int] = Future()
    it = gen.WaitIterator(a=a, b=b)
    b.set_exception(ValueError("b failed"))
    a.set_result(1)
    seen: list[Any] = []
    while True:
        try:
            result = await it.__anext__()
        except StopAsyncIteration:
            break
        except ValueError:
            seen.append((it.current_index, "error"))
        else:
            seen.append((it.current_index, result))
    assert seen == [("b", "error"), ("a", 1)]

    c: Future[int] = Future()
    c.set_result(3)
    collected = [r async for r in gen.WaitIterator(c)]
    assert collected == [3]


def test_wait_iterator_rejects_mixed_arguments() -> None:
    with pytest.raises(ValueError):
        gen.WaitIterator(object(), a=object())  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_wait_iterator_with_no_futures_is_done() -> None:
    assert gen.WaitIterator().done()
    assert [r async for r in gen.WaitIterator()] == []
