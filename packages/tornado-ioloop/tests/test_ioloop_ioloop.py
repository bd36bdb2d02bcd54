"""IOLoop over real asyncio and uvloop loops: callbacks, timeouts, fds, threads, signals."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import datetime
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tornado import gen
from tornado.concurrent import Future
from tornado.ioloop import IOLoop, PeriodicCallback, TimeoutError
from tornado.platform.asyncio import AsyncIOLoop, AsyncIOMainLoop, BaseAsyncIOLoop


def _kind(loop: asyncio.AbstractEventLoop) -> str:
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


@pytest.fixture
def io_loop(loop_policy: str) -> Iterator[IOLoop]:
    """A fresh IOLoop (not made current) on the parametrized implementation."""
    loop = IOLoop(make_current=False)
    assert _kind(loop.asyncio_loop) == loop_policy
    yield loop
    loop.close(all_fds=True)


@pytest.fixture
def socket_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


# -- current() and the one-IOLoop-per-asyncio-loop mapping -------------------


@pytest.mark.asyncio
async def test_current_wraps_the_running_loop() -> None:
    running = asyncio.get_running_loop()
    io_loop = IOLoop.current()
    assert io_loop.asyncio_loop is running
    assert isinstance(io_loop, AsyncIOMainLoop)
    assert IOLoop.current() is io_loop
    assert IOLoop.current(instance=False) is io_loop
    assert IOLoop.instance() is io_loop


def test_tests_really_run_on_both_loops(loop_policy: str) -> None:
    async def kind() -> str:
        return _kind(asyncio.get_running_loop())

    loop = IOLoop(make_current=False)
    try:
        assert loop.run_sync(kind) == loop_policy
    finally:
        loop.close()


def test_current_in_a_thread_without_loop_creates_one() -> None:
    results: list[Any] = []

    def in_thread() -> None:
        with warnings_as_errors():
            results.append(IOLoop.current(instance=False))
            loop = IOLoop.current()
            results.append(loop)
            results.append(IOLoop.current() is loop)
            # It is the thread's asyncio loop, as upstream's tests rely on.
            results.append(asyncio.get_event_loop() is loop.asyncio_loop)
            loop.close()
            results.append(IOLoop.current(instance=False))

    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert results[0] is None
    assert isinstance(results[1], AsyncIOMainLoop)
    assert results[2:] == [True, True, None]


def test_each_thread_running_asyncio_gets_its_own_ioloop(loop_policy: str) -> None:
    seen: list[IOLoop] = []

    async def grab() -> None:
        seen.append(IOLoop.current())

    def in_thread() -> None:
        with warnings_as_errors():
            asyncio.run(grab())

    threads = [threading.Thread(target=in_thread) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 2
    assert seen[0] is not seen[1]
    assert seen[0].asyncio_loop is not seen[1].asyncio_loop


class warnings_as_errors:
    """Threads don't inherit pytest's warning filters; re-apply "error"."""

    def __enter__(self) -> None:
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)


def test_constructor_makes_current_and_close_restores(loop_policy: str) -> None:
    before = IOLoop.current(instance=False)
    loop = IOLoop()
    try:
        assert isinstance(loop, AsyncIOLoop)
        assert IOLoop.current() is loop
        assert asyncio.get_event_loop_policy().get_event_loop() is loop.asyncio_loop
    finally:
        loop.close()
    assert IOLoop.current(instance=False) is before


def test_make_current_and_clear_current_are_deprecated(io_loop: IOLoop) -> None:
    with pytest.deprecated_call():
        io_loop.make_current()
    assert IOLoop.current() is io_loop
    with pytest.deprecated_call():
        IOLoop.clear_current()
    assert IOLoop.current(instance=False) is not io_loop


def test_second_ioloop_for_same_asyncio_loop_is_refused(io_loop: IOLoop) -> None:
    with pytest.raises(RuntimeError):
        AsyncIOMainLoop(asyncio_loop=io_loop.asyncio_loop, make_current=False)


def test_closed_asyncio_loops_are_forgotten(loop_policy: str) -> None:
    async def touch() -> None:
        IOLoop.current()

    for _ in range(5):
        asyncio.run(touch())
    # asyncio.run closed each loop without telling us; registering a new
    # IOLoop prunes them, so the registry does not grow with every run.
    loop = IOLoop(make_current=False)
    try:
        closed = [lp for lp in IOLoop._ioloop_for_asyncio if lp.is_closed()]
        assert closed == []
    finally:
        loop.close()


def test_configure_rejects_non_asyncio_implementation() -> None:
    class NotAsyncio(IOLoop):
        pass

    with pytest.raises(RuntimeError):
        IOLoop.configure(NotAsyncio)


def test_configure_selects_the_implementation(loop_policy: str) -> None:
    class Custom(AsyncIOLoop):
        def initialize(self, **kwargs: Any) -> None:
            self.custom_flag = kwargs.pop("custom_flag")
            super().initialize(**kwargs)

    saved = IOLoop._save_configuration()
    try:
        IOLoop.configure(Custom, custom_flag="yes")
        loop = IOLoop(make_current=False)
        try:
            assert type(loop) is Custom
            assert loop.custom_flag == "yes"  # type: ignore[attr-defined]
        finally:
            loop.close()
        IOLoop.configure("tornado.platform.asyncio.AsyncIOLoop")
        loop = IOLoop(make_current=False)
        assert type(loop) is AsyncIOLoop
        loop.close()
    finally:
        IOLoop._restore_configuration(saved)
    assert issubclass(IOLoop.configured_class(), BaseAsyncIOLoop)


# -- run_sync ------------------------------------------------------------------


def test_run_sync_native_coroutine(io_loop: IOLoop) -> None:
    async def f() -> int:
        await asyncio.sleep(0)
        return 42

    assert io_loop.run_sync(f) == 42


def test_run_sync_function_returning_future(io_loop: IOLoop) -> None:
    def f() -> Future[str]:
        fut: Future[str] = Future()
        io_loop.add_callback(fut.set_result, "done")
        return fut

    assert io_loop.run_sync(f) == "done"


def test_run_sync_plain_function_and_gen_coroutine(io_loop: IOLoop) -> None:
    calls: list[int] = []
    assert io_loop.run_sync(lambda: calls.append(1)) is None
    assert calls == [1]
    # Anything else must be awaitable, as documented.
    with pytest.raises(gen.BadYieldError):
        io_loop.run_sync(lambda: 7)

    @gen.coroutine
    def g() -> Any:
        yield gen.moment
        return "gen"

    assert io_loop.run_sync(g) == "gen"


def test_run_sync_propagates_exceptions(io_loop: IOLoop) -> None:
    async def f() -> None:
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        io_loop.run_sync(f)

    def sync_fail() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        io_loop.run_sync(sync_fail)


def test_run_sync_stopped_early_without_timeout_raises_runtime_error(io_loop: IOLoop) -> None:
    pending: list[Future[None]] = []

    def f() -> Future[None]:
        io_loop.add_callback(io_loop.stop)
        pending.append(Future())
        return pending[0]

    with pytest.raises(RuntimeError, match="Event loop stopped before Future completed"):
        io_loop.run_sync(f)
    assert pending[0].cancelled()
    # With a timeout that did not expire, the early stop is reported the same way.
    pending.clear()
    with pytest.raises(RuntimeError, match="Event loop stopped"):
        io_loop.run_sync(f, timeout=3600)


def test_run_sync_timeout_cancels_the_coroutine(io_loop: IOLoop) -> None:
    cancelled = []

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with pytest.raises(TimeoutError):
        io_loop.run_sync(forever, timeout=0.01)
    assert cancelled == [True]
    # The loop is reusable afterwards.
    assert io_loop.run_sync(lambda: None) is None


def test_run_sync_timeout_with_uncancellable_future(io_loop: IOLoop) -> None:
    never: concurrent.futures.Future[None] = concurrent.futures.Future()
    never.set_running_or_notify_cancel()  # running futures can't be cancelled
    with pytest.raises(TimeoutError):
        io_loop.run_sync(lambda: never, timeout=0.01)
    never.set_result(None)


def test_run_sync_refuses_a_running_loop(io_loop: IOLoop) -> None:
    async def nested() -> None:
        io_loop.run_sync(lambda: None)

    with pytest.raises(RuntimeError):
        io_loop.run_sync(nested)


# -- callbacks -------------------------------------------------------------------


@pytest.mark.asyncio
async def test_add_callback_runs_args_and_kwargs_in_order() -> None:
    io_loop = IOLoop.current()
    calls: list[Any] = []
    done: Future[None] = Future()
    io_loop.add_callback(calls.append, 1)
    io_loop.add_callback(lambda *, x: calls.append(x), x=2)
    io_loop.spawn_callback(calls.append, 3)
    io_loop.add_callback(done.set_result, None)
    await done
    assert calls == [1, 2, 3]


@pytest.mark.asyncio
async def test_add_callback_from_other_threads() -> None:
    io_loop = IOLoop.current()
    loop_thread = threading.get_ident()
    threads_seen: list[int] = []
    n_threads = 4
    per_thread = 50
    done: Future[None] = Future()

    def record() -> None:
        threads_seen.append(threading.get_ident())
        if len(threads_seen) == n_threads * per_thread:
            done.set_result(None)

    def worker() -> None:
        for _ in range(per_thread):
            io_loop.add_callback(record)

    threads = [threading.Thread(target=worker) for _ in range(n_threads)]
    for t in threads:
        t.start()
    await done
    for t in threads:
        t.join()
    assert set(threads_seen) == {loop_thread}


@pytest.mark.asyncio
async def test_exception_in_callback_is_logged_and_loop_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    io_loop = IOLoop.current()
    done: Future[None] = Future()

    def boom() -> None:
        raise ValueError("boom in callback")

    async def async_boom() -> None:
        await asyncio.sleep(0)
        raise ValueError("boom in coroutine")

    with caplog.at_level(logging.ERROR, logger="tornado.application"):
        io_loop.add_callback(boom)
        io_loop.add_callback(async_boom)
        io_loop.add_timeout(io_loop.time(), boom)
        io_loop.add_callback(lambda: io_loop.add_callback(done.set_result, None))
        await done
        # The failing coroutine finishes a few iterations later.
        while len(caplog.records) < 3:
            await asyncio.sleep(0)
    messages = [r.getMessage() for r in caplog.records]
    assert all(m.startswith("Exception in callback") for m in messages)
    assert {str(r.exc_info[1]) for r in caplog.records if r.exc_info} == {
        "boom in callback",
        "boom in coroutine",
    }


def test_add_callback_after_close_is_ignored(loop_policy: str) -> None:
    loop = IOLoop(make_current=False)
    loop.close()
    loop.add_callback(lambda: None)  # must not raise


@pytest.mark.asyncio
async def test_add_future_with_concurrent_future_from_thread() -> None:
    io_loop = IOLoop.current()
    loop_thread = threading.get_ident()
    conc: concurrent.futures.Future[int] = concurrent.futures.Future()
    got: Future[tuple[int, int]] = Future()
    io_loop.add_future(conc, lambda f: got.set_result((f.result(), threading.get_ident())))
    t = threading.Thread(target=conc.set_result, args=(5,))
    t.start()
    result, thread = await got
    t.join()
    assert (result, thread) == (5, loop_thread)


@pytest.mark.asyncio
async def test_add_future_rejects_non_futures() -> None:
    with pytest.raises(TypeError):
        IOLoop.current().add_future(object(), lambda f: None)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_run_in_executor_default_and_custom() -> None:
    io_loop = IOLoop.current()
    main = threading.get_ident()
    assert await io_loop.run_in_executor(None, threading.get_ident) != main
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="custom") as ex:
        name = await io_loop.run_in_executor(ex, lambda: threading.current_thread().name)
        assert name.startswith("custom")
        io_loop.set_default_executor(ex)
        name = await io_loop.run_in_executor(None, lambda: threading.current_thread().name)
        assert name.startswith("custom")


_tag: contextvars.ContextVar[str] = contextvars.ContextVar("tag", default="unset")


class _InlineExecutor(concurrent.futures.Executor):
    """Runs each call at once in the caller's thread and records what it got."""

    def __init__(self) -> None:
        self.submitted: list[Any] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        self.submitted.append(fn)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_result(fn(*args, **kwargs))
        return future


@pytest.mark.asyncio
async def test_run_in_executor_carries_the_context_to_threads() -> None:
    io_loop = IOLoop.current()
    _tag.set("caller")
    assert await io_loop.run_in_executor(None, _tag.get) == "caller"
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        assert await io_loop.run_in_executor(ex, _tag.get) == "caller"

        def set_in_thread() -> str:
            _tag.set("thread")
            return _tag.get()

        # The thread works on a copy: its changes stay there.
        assert await io_loop.run_in_executor(ex, set_in_thread) == "thread"
    assert _tag.get() == "caller"


@pytest.mark.asyncio
async def test_run_in_executor_other_executors_get_the_function_itself() -> None:
    # A process pool could not pickle a context: non-thread executors get
    # exactly the callable they were given.
    inline = _InlineExecutor()
    assert await IOLoop.current().run_in_executor(inline, _tag.get) == "unset"
    assert inline.submitted == [_tag.get]


# -- timeouts --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_timeouts_fire_in_deadline_order() -> None:
    io_loop = IOLoop.current()
    order: list[str] = []
    done: Future[None] = Future()
    now = io_loop.time()
    # Relative deadlines count from the moment of each call, so the gaps are
    # wide enough that a loaded machine cannot reorder them between calls.
    io_loop.call_at(now + 0.15, order.append, "call_at")
    io_loop.add_timeout(datetime.timedelta(seconds=0.10), order.append, "timedelta")
    io_loop.call_later(0.05, order.append, "call_later")
    io_loop.add_timeout(now + 0.2, lambda: done.set_result(None))
    await done
    assert order == ["call_later", "timedelta", "call_at"]


@pytest.mark.asyncio
async def test_remove_timeout_prevents_the_call() -> None:
    io_loop = IOLoop.current()
    calls: list[str] = []
    done: Future[None] = Future()
    now = io_loop.time()
    handle = io_loop.add_timeout(now, calls.append, "removed")
    io_loop.add_timeout(now + 0.001, lambda: done.set_result(None))
    io_loop.remove_timeout(handle)
    await done
    assert calls == []
    io_loop.remove_timeout(handle)  # removing twice is harmless


@pytest.mark.asyncio
async def test_add_timeout_rejects_bad_deadline() -> None:
    with pytest.raises(TypeError):
        IOLoop.current().add_timeout("soon", lambda: None)  # type: ignore[arg-type]


def test_time_is_the_wall_clock(io_loop: IOLoop) -> None:
    # Documented: the IOLoop's time function is time.time (not the asyncio
    # loop's monotonic clock, which starts at an arbitrary point).
    before = time.time()
    now = io_loop.time()
    assert before <= now <= time.time()


# -- file descriptors ------------------------------------------------------------


@pytest.mark.asyncio
async def test_add_handler_read_update_remove(
    socket_pair: tuple[socket.socket, socket.socket],
) -> None:
    io_loop = IOLoop.current()
    a, b = socket_pair
    events: asyncio.Queue[tuple[Any, int]] = asyncio.Queue()

    def handler(fileobj: Any, ev: int) -> None:
        events.put_nowait((fileobj, ev))
        if ev & IOLoop.READ:
            fileobj.recv(100)

    io_loop.add_handler(a, handler, IOLoop.READ)
    try:
        with pytest.raises(ValueError):
            io_loop.add_handler(a.fileno(), handler, IOLoop.READ)
        b.send(b"x")
        fileobj, ev = await events.get()
        assert fileobj is a
        assert ev == IOLoop.READ
        io_loop.update_handler(a, IOLoop.WRITE)
        fileobj, ev = await events.get()
        assert ev == IOLoop.WRITE
        io_loop.update_handler(a, IOLoop.NONE)
        # No more events: send data and confirm only our marker arrives.
        b.send(b"y")
        marker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        io_loop.add_callback(lambda: io_loop.add_callback(marker.set_result, None))
        await marker
        assert events.empty()
    finally:
        io_loop.remove_handler(a)
    io_loop.remove_handler(a)  # unknown fds are ignored
    with pytest.raises(KeyError):
        io_loop.update_handler(a, IOLoop.READ)


@pytest.mark.asyncio
async def test_handler_with_int_fd_and_exception_logged(
    socket_pair: tuple[socket.socket, socket.socket], caplog: pytest.LogCaptureFixture
) -> None:
    io_loop = IOLoop.current()
    a, b = socket_pair
    seen: Future[Any] = Future()

    def handler(fd: Any, ev: int) -> None:
        io_loop.remove_handler(fd)
        seen.set_result(fd)
        raise RuntimeError("handler failed")

    with caplog.at_level(logging.ERROR, logger="tornado.application"):
        io_loop.add_handler(a.fileno(), handler, IOLoop.READ | IOLoop.ERROR)
        b.send(b"x")
        assert await seen == a.fileno()
        while not caplog.records:
            await asyncio.sleep(0)
    assert "handler failed" in caplog.text


def test_close_all_fds_closes_registered_objects(loop_policy: str) -> None:
    loop = IOLoop(make_current=False)
    a, b = socket.socketpair()
    try:
        loop.add_handler(a, lambda f, e: None, IOLoop.READ)
        loop.close(all_fds=True)
        assert a.fileno() == -1
    finally:
        a.close()
        b.close()


# -- signals -----------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_add_callback_from_signal_wakes_the_loop(io_loop: IOLoop) -> None:
    ran: list[str] = []

    def on_signal(signum: int, frame: Any) -> None:
        io_loop.add_callback_from_signal(ran.append, "from signal")
        io_loop.add_callback_from_signal(io_loop.stop)

    old = signal.signal(signal.SIGUSR1, on_signal)
    try:

        def send() -> None:
            # From another thread, so the signal arrives while the loop may
            # be blocked waiting for I/O.
            threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGUSR1)).start()

        io_loop.add_callback(send)
        with pytest.deprecated_call():
            io_loop.start()
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert ran == ["from signal"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.asyncio
async def test_add_callback_from_asyncio_signal_handler() -> None:
    io_loop = IOLoop.current()
    got: Future[str] = Future()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR2, io_loop.add_callback, got.set_result, "sig")
    try:
        os.kill(os.getpid(), signal.SIGUSR2)
        assert await got == "sig"
    finally:
        loop.remove_signal_handler(signal.SIGUSR2)


# -- PeriodicCallback ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_periodic_callback_runs_until_stopped() -> None:
    count = 0
    three: Future[None] = Future()

    def tick() -> None:
        nonlocal count
        count += 1
        if count == 3:
            pc.stop()
            three.set_result(None)

    pc = PeriodicCallback(tick, 1)
    assert not pc.is_running()
    pc.start()
    assert pc.is_running()
    await three
    assert not pc.is_running()
    # Stopped: give the loop a few turns and make sure nothing more ran.
    for _ in range(5):
        await asyncio.sleep(0)
    assert count == 3


@pytest.mark.asyncio
async def test_periodic_callback_waits_for_coroutine_callbacks() -> None:
    active = 0
    max_active = 0
    runs = 0
    finished: Future[None] = Future()

    async def slow() -> None:
        nonlocal active, max_active, runs
        active += 1
        max_active = max(max_active, active)
        for _ in range(3):
            await asyncio.sleep(0)
        active -= 1
        runs += 1
        if runs == 3:
            pc.stop()
            finished.set_result(None)

    pc = PeriodicCallback(slow, datetime.timedelta(milliseconds=1))
    assert pc.callback_time == 1
    pc.start()
    await finished
    assert max_active == 1


@pytest.mark.asyncio
async def test_periodic_callback_logs_exceptions_and_keeps_going(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0
    done: Future[None] = Future()

    def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            pc.stop()
            done.set_result(None)
        else:
            raise ValueError("periodic failure")

    with caplog.at_level(logging.ERROR, logger="tornado.application"):
        pc = PeriodicCallback(flaky, 1)
        pc.start()
        await done
    assert "periodic failure" in caplog.text


def test_periodic_callback_rejects_non_positive_time() -> None:
    with pytest.raises(ValueError):
        PeriodicCallback(lambda: None, 0)
    with pytest.raises(ValueError):
        PeriodicCallback(lambda: None, datetime.timedelta(0))


@pytest.mark.parametrize(
    ("next_timeout", "now", "expected"),
    [
        (1000.0, 1000.0, 1010.0),  # on time: one period on
        (1000.0, 1000.5, 1010.0),  # a little late: still the next slot
        (1000.0, 1025.0, 1030.0),  # slow callback: skip the missed slots
        (1000.0, 1030.0, 1040.0),  # exactly on a slot boundary
        (1000.0, 999.999, 1010.0),  # fired early: one period on
    ],
)
def test_periodic_callback_catch_up_schedule(
    next_timeout: float, now: float, expected: float
) -> None:
    pc = PeriodicCallback(lambda: None, 10_000)
    pc._next_timeout = next_timeout
    pc._update_next(now)
    assert pc._next_timeout == pytest.approx(expected)


def test_periodic_callback_jitter_stays_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    pc = PeriodicCallback(lambda: None, 1000, jitter=0.2)
    for rnd, expected in [(0.0, 0.9), (1.0, 1.1), (0.5, 1.0)]:
        monkeypatch.setattr("tornado.ioloop.random.random", lambda rnd=rnd: rnd)
        pc._next_timeout = 100.0
        pc._update_next(100.0)
        assert pc._next_timeout == pytest.approx(100.0 + expected)


@pytest.mark.asyncio
async def test_async_tests_run_on_the_parametrized_loop(request: pytest.FixtureRequest) -> None:
    factory = request.node.callspec.params["_asyncio_loop_factory"]
    expected = "uvloop" if factory.__module__.startswith("uvloop") else "asyncio"
    assert _kind(asyncio.get_running_loop()) == expected
    assert _kind(IOLoop.current().asyncio_loop) == expected
