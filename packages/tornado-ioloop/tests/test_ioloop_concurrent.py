"""tornado.concurrent: future helpers, chain_future, run_on_executor, dummy_executor."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from concurrent import futures
from typing import Any

import pytest

from tornado.concurrent import (
    FUTURES,
    DummyExecutor,
    Future,
    ReturnValueIgnoredError,
    chain_future,
    dummy_executor,
    future_add_done_callback,
    future_set_exc_info,
    future_set_exception_unless_cancelled,
    future_set_result_unless_cancelled,
    is_future,
    run_on_executor,
)


def test_future_is_asyncio_future_and_is_future() -> None:
    assert Future is asyncio.Future
    assert futures.Future in FUTURES
    assert is_future(futures.Future())
    assert not is_future(object())
    assert issubclass(ReturnValueIgnoredError, Exception)


@pytest.mark.asyncio
async def test_is_future_on_asyncio_future() -> None:
    assert is_future(asyncio.get_running_loop().create_future())


@pytest.mark.asyncio
async def test_set_unless_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    f: Future[int] = Future()
    f.cancel()
    future_set_result_unless_cancelled(f, 1)  # no InvalidStateError
    with caplog.at_level(logging.ERROR, logger="tornado.application"):
        future_set_exception_unless_cancelled(f, ValueError("lost"))
    assert "Exception after Future was cancelled" in caplog.text

    g: Future[int] = Future()
    future_set_result_unless_cancelled(g, 2)
    assert g.result() == 2
    h: Future[int] = Future()
    future_set_exception_unless_cancelled(h, KeyError("k"))
    with pytest.raises(KeyError):
        h.result()


@pytest.mark.asyncio
async def test_future_set_exc_info() -> None:
    f: Future[None] = Future()
    try:
        raise ValueError("from exc_info")
    except ValueError:
        future_set_exc_info(f, sys.exc_info())
    with pytest.raises(ValueError, match="from exc_info"):
        f.result()
    with pytest.raises(Exception, match="no exception"):
        future_set_exc_info(Future(), (None, None, None))


@pytest.mark.asyncio
async def test_future_add_done_callback_runs_immediately_when_done() -> None:
    calls: list[Any] = []
    done: Future[int] = Future()
    done.set_result(1)
    future_add_done_callback(done, calls.append)
    assert calls == [done]  # synchronously

    pending: Future[int] = Future()
    future_add_done_callback(pending, calls.append)
    assert len(calls) == 1
    pending.set_result(2)
    await asyncio.sleep(0)
    assert calls == [done, pending]

    conc: futures.Future[int] = futures.Future()
    conc.set_result(3)
    future_add_done_callback(conc, calls.append)
    assert calls[-1] is conc


@pytest.mark.asyncio
async def test_chain_future_copies_result_exception_and_cancellation() -> None:
    a: Future[int] = Future()
    b: Future[int] = Future()
    chain_future(a, b)
    a.set_result(5)
    assert await b == 5

    c: Future[int] = Future()
    d: Future[int] = Future()
    chain_future(c, d)
    c.set_exception(KeyError("x"))
    with pytest.raises(KeyError):
        await d

    e: Future[int] = Future()
    f: Future[int] = Future()
    chain_future(e, f)
    e.cancel()
    with pytest.raises(asyncio.CancelledError):
        await f


@pytest.mark.asyncio
async def test_chain_future_cancellation_through_concurrent_futures(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first: futures.Future[int] = futures.Future()
    middle: futures.Future[int] = futures.Future()
    last: Future[int] = Future()
    chain_future(first, middle)
    chain_future(middle, last)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await last
    assert middle.cancelled() and last.cancelled()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.asyncio
async def test_chain_future_cancelled_source_fails_a_running_concurrent_target() -> None:
    source: futures.Future[int] = futures.Future()
    target: futures.Future[int] = futures.Future()
    assert target.set_running_or_notify_cancel()  # running: cannot be cancelled
    done = asyncio.get_running_loop().create_future()
    target.add_done_callback(lambda f: done.get_loop().call_soon_threadsafe(done.set_result, None))
    chain_future(source, target)
    source.cancel()
    await done
    assert isinstance(target.exception(), asyncio.CancelledError)


@pytest.mark.asyncio
async def test_chain_future_leaves_done_target_alone() -> None:
    a: Future[int] = Future()
    b: Future[int] = Future()
    chain_future(a, b)
    b.cancel()
    a.set_result(1)
    await asyncio.sleep(0)
    assert b.cancelled()


@pytest.mark.asyncio
async def test_chain_future_from_concurrent_future_on_other_thread() -> None:
    conc: futures.Future[str] = futures.Future()
    target: Future[str] = Future()
    chain_future(conc, target)
    t = threading.Thread(target=conc.set_result, args=("threaded",))
    t.start()
    assert await target == "threaded"
    t.join()


def test_dummy_executor_runs_synchronously() -> None:
    fut = dummy_executor.submit(lambda x: x + 1, 1)
    assert fut.done() and fut.result() == 2
    failed = DummyExecutor().submit(lambda: 1 / 0)
    assert isinstance(failed.exception(), ZeroDivisionError)
    dummy_executor.shutdown()
    dummy_executor.shutdown(True, True)  # wait, cancel_futures: positional, as in Executor


class _Worker:
    def __init__(self) -> None:
        self.executor = futures.ThreadPoolExecutor(1)
        self._pool = futures.ThreadPoolExecutor(1, thread_name_prefix="custom-pool")

    @run_on_executor
    def thread_id(self) -> int:
        return threading.get_ident()

    @run_on_executor(executor="_pool")
    def thread_name(self, suffix: str) -> str:
        return threading.current_thread().name + suffix

    @run_on_executor
    def fail(self) -> None:
        raise KeyError("in executor")

    def close(self) -> None:
        self.executor.shutdown()
        self._pool.shutdown()


@pytest.mark.asyncio
async def test_run_on_executor() -> None:
    worker = _Worker()
    try:
        fut = worker.thread_id()
        assert isinstance(fut, asyncio.Future)
        assert await fut != threading.get_ident()
        name = await worker.thread_name(suffix="!")
        assert name.startswith("custom-pool") and name.endswith("!")
        with pytest.raises(KeyError):
            await worker.fail()
    finally:
        worker.close()


def test_run_on_executor_argument_errors() -> None:
    with pytest.raises(ValueError):
        run_on_executor(lambda: None, executor="x")
    with pytest.raises(ValueError):
        run_on_executor(lambda: None, lambda: None)
