"""tornado.platform.asyncio: implementations, SelectorThread, deprecated helpers."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import threading
import warnings
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import pytest

import tornado.platform
from tornado.ioloop import IOLoop
from tornado.platform.asyncio import (
    AddThreadSelectorEventLoop,
    AnyThreadEventLoopPolicy,
    AsyncIOLoop,
    AsyncIOMainLoop,
    SelectorThread,
    to_asyncio_future,
    to_tornado_future,
)


def test_platform_package_path_is_extendable() -> None:
    # Other distributions (tornado-iostream) add modules to tornado.platform.
    assert isinstance(tornado.platform.__path__, list)
    assert tornado.platform.__doc__


def test_current_on_main_thread_without_loop_creates_one(loop_policy: str) -> None:
    if IOLoop.current(instance=False) is not None:
        pytest.skip("a loop is already current on this thread")
    loop = IOLoop.current()
    try:
        # As upstream, where asyncio.get_event_loop() made the loop: the
        # IOLoop wraps the thread's (new) asyncio loop.
        assert isinstance(loop, AsyncIOMainLoop)
        assert IOLoop.current() is loop
        assert asyncio.get_event_loop_policy().get_event_loop() is loop.asyncio_loop
    finally:
        loop.close()
    assert loop.asyncio_loop.is_closed()
    assert IOLoop.current(instance=False) is None


def test_asyncio_main_loop_without_any_loop_creates_one_on_main_thread(
    loop_policy: str,
) -> None:
    if IOLoop.current(instance=False) is not None:
        pytest.skip("a loop is already current on this thread")
    with pytest.deprecated_call():
        AsyncIOMainLoop().install()
    loop = IOLoop.current()
    try:
        assert type(loop) is AsyncIOMainLoop
    finally:
        loop.close()
    assert IOLoop.current(instance=False) is None


def test_asyncio_loop_wraps_an_explicit_asyncio_loop(loop_policy: str) -> None:
    aloop = asyncio.new_event_loop()
    loop = AsyncIOLoop(asyncio_loop=aloop, make_current=False)
    try:
        assert loop.asyncio_loop is aloop
        with pytest.raises(RuntimeError):
            IOLoop(asyncio_loop=aloop, make_current=False)
        # The refused second IOLoop did not close the loop it was given.
        assert not aloop.is_closed()
        assert loop.run_sync(lambda: asyncio.sleep(0, "ran")) == "ran"
    finally:
        loop.close()
    assert aloop.is_closed()


def test_asyncio_main_loop_wraps_a_set_loop(loop_policy: str) -> None:
    aloop = asyncio.new_event_loop()
    asyncio.set_event_loop(aloop)
    try:
        io_loop = IOLoop.current()
        assert isinstance(io_loop, AsyncIOMainLoop)
        assert io_loop.asyncio_loop is aloop
        assert io_loop.run_sync(lambda: to_asyncio_future(asyncio.sleep(0, "x"))) == "x"
        io_loop.close()
        assert aloop.is_closed()
    finally:
        asyncio.set_event_loop(None)
        aloop.close()


def test_asyncio_main_loop_without_any_loop_raises() -> None:
    errors: list[BaseException] = []

    def in_thread() -> None:
        try:
            AsyncIOMainLoop()
        except RuntimeError as e:
            errors.append(e)

    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert len(errors) == 1


@pytest.mark.asyncio
async def test_to_tornado_and_to_asyncio_future() -> None:
    f: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    assert to_tornado_future(f) is f
    assert to_asyncio_future(f) is f
    conc: futures.Future[int] = futures.Future()
    wrapped = to_asyncio_future(conc)
    assert isinstance(wrapped, asyncio.Future)
    conc.set_result(4)
    assert await wrapped == 4


def test_any_thread_event_loop_policy_is_deprecated_and_works() -> None:
    with pytest.deprecated_call():
        policy = AnyThreadEventLoopPolicy()
    loops: list[asyncio.AbstractEventLoop] = []

    def in_thread() -> None:
        loop = policy.get_event_loop()
        loops.append(loop)
        assert policy.get_event_loop() is loop
        loop.close()

    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert len(loops) == 1 and loops[0].is_closed()


# -- SelectorThread ------------------------------------------------------------------


@pytest.fixture
def socket_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()


@pytest.mark.asyncio
async def test_selector_thread_dispatches_on_the_loop_thread(
    socket_pair: tuple[socket.socket, socket.socket],
) -> None:
    loop = asyncio.get_running_loop()
    selector = SelectorThread(loop)
    a, b = socket_pair
    received: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue()

    def on_readable(tag: str) -> None:
        received.put_nowait((a.recv(100), threading.get_ident()))

    try:
        selector.add_reader(a.fileno(), on_readable, "tag")
        b.send(b"one")
        data, thread = await received.get()
        assert data == b"one"
        assert thread == threading.get_ident()
        b.send(b"two")
        assert (await received.get())[0] == b"two"

        writable: asyncio.Future[None] = loop.create_future()

        def on_writable() -> None:
            selector.remove_writer(a.fileno())
            if not writable.done():
                writable.set_result(None)

        selector.add_writer(a.fileno(), on_writable)
        await writable
        assert selector.remove_reader(a.fileno()) is True
        assert selector.remove_reader(a.fileno()) is False
    finally:
        selector.close()
        selector.close()  # idempotent


async def _thread_started(selector: SelectorThread) -> None:
    # The thread is started on the loop: by a task that a callback creates.
    await asyncio.sleep(0)
    assert selector._thread_manager_task is not None
    await selector._thread_manager_task
    assert selector._thread is not None and selector._thread.is_alive()


def test_selector_thread_closed_before_its_thread_starts_leaves_nothing_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.new_event_loop()
    threads_before = threading.active_count()
    selector = SelectorThread(loop)
    # The loop stops after one iteration: the task that would start the
    # helper thread exists but never ran.
    loop.call_soon(loop.stop)
    loop.run_forever()
    task = selector._thread_manager_task
    assert task is not None and not task.done()
    selector.close()
    loop.close()
    assert threading.active_count() == threads_before
    assert selector._waker_r.fileno() == -1
    del loop, selector, task
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            gc.collect()
    # Neither "coroutine ... was never awaited" nor "Task was destroyed but
    # it is pending" when the task is collected.
    assert [str(w.message) for w in caught] == []
    assert caplog.records == []


def test_asyncio_run_closes_a_selector_thread_left_open() -> None:
    selectors: list[SelectorThread] = []

    async def main() -> None:
        selector = SelectorThread(asyncio.get_running_loop())
        selectors.append(selector)
        await _thread_started(selector)

    asyncio.run(main())
    # asyncio.run finalizes async generators, and with them the selector.
    (selector,) = selectors
    assert selector._thread is not None and not selector._thread.is_alive()
    assert selector._waker_r.fileno() == -1


@pytest.mark.asyncio
async def test_selector_threads_left_open_are_closed_at_exit() -> None:
    import tornado.platform.asyncio as platform_asyncio

    selector = SelectorThread(asyncio.get_running_loop())
    closed_early = SelectorThread(asyncio.get_running_loop())
    closed_early.close()
    await _thread_started(selector)
    try:
        assert selector in platform_asyncio._selector_loops
        assert closed_early not in platform_asyncio._selector_loops
        platform_asyncio._atexit_callback()  # what the atexit hook runs
        assert selector._waker_r.fileno() == -1
        assert selector._waker_w.fileno() == -1
        assert not selector._thread.is_alive()
        assert selector not in platform_asyncio._selector_loops
    finally:
        selector.close()


@pytest.mark.asyncio
async def test_add_thread_selector_event_loop_backs_an_ioloop(
    socket_pair: tuple[socket.socket, socket.socket],
) -> None:
    real = asyncio.get_running_loop()
    io_loop = IOLoop.current()
    wrapper = AddThreadSelectorEventLoop(real)
    # Route the IOLoop's fd watching through the helper thread, as happens
    # on Windows' proactor loop.
    saved = io_loop.selector_loop  # type: ignore[attr-defined]
    io_loop.selector_loop = wrapper  # type: ignore[attr-defined]
    a, b = socket_pair
    got: asyncio.Future[Any] = real.create_future()

    def handler(fileobj: socket.socket, events: int) -> None:
        io_loop.remove_handler(fileobj)
        got.set_result((fileobj.recv(10), events))

    try:
        assert wrapper.time() == pytest.approx(real.time(), abs=1)  # delegated
        io_loop.add_handler(a, handler, IOLoop.READ)
        b.send(b"ping")
        assert await got == (b"ping", IOLoop.READ)
    finally:
        io_loop.selector_loop = saved  # type: ignore[attr-defined]
        wrapper._selector.close()


def test_add_thread_selector_event_loop_is_an_asyncio_loop() -> None:
    real = asyncio.new_event_loop()
    wrapper = AddThreadSelectorEventLoop(real)
    try:
        assert isinstance(wrapper, asyncio.AbstractEventLoop)
        # Loop methods reach the wrapped loop, not the abstract base class.
        assert wrapper.run_until_complete(asyncio.sleep(0, result=7)) == 7
        asyncio.set_event_loop(wrapper)
        assert asyncio.get_event_loop() is wrapper
    finally:
        asyncio.set_event_loop(None)
        wrapper.close()
    assert real.is_closed()


def test_any_thread_policy_is_made_on_first_access() -> None:
    import tornado.platform.asyncio as platform_asyncio

    # A module __getattr__ creates it (asyncio 3.14 deprecates its base), so
    # it is not a plain module global, but every access gives the same class.
    assert "AnyThreadEventLoopPolicy" not in vars(platform_asyncio)
    assert platform_asyncio.AnyThreadEventLoopPolicy is AnyThreadEventLoopPolicy
    assert AnyThreadEventLoopPolicy.__module__ == "tornado.platform.asyncio"
    assert AnyThreadEventLoopPolicy.__qualname__ == "AnyThreadEventLoopPolicy"
    assert issubclass(AnyThreadEventLoopPolicy, asyncio.AbstractEventLoopPolicy)
    with pytest.raises(AttributeError):
        platform_asyncio.NoSuchName  # noqa: B018


def test_add_thread_selector_event_loop_names_its_own_attributes() -> None:
    own = AddThreadSelectorEventLoop.MY_ATTRIBUTES
    assert {"add_reader", "add_writer", "remove_reader", "remove_writer", "close"} <= own
    real = asyncio.new_event_loop()
    wrapper = AddThreadSelectorEventLoop(real)
    try:
        assert wrapper.MY_ATTRIBUTES is own
        assert wrapper.add_reader.__self__ is wrapper
        assert wrapper.call_soon.__self__ is real  # everything else is the real loop's
    finally:
        wrapper.close()


def test_asyncio_loop_is_current_and_old_asyncio() -> None:
    previous = asyncio.new_event_loop()
    asyncio.set_event_loop(previous)
    try:
        io_loop = AsyncIOLoop()  # made current by default
        assert io_loop.is_current is True
        assert io_loop.old_asyncio is previous
        assert asyncio.get_event_loop() is io_loop.asyncio_loop
        io_loop.close(all_fds=False)
        assert io_loop.is_current is False
        assert io_loop.old_asyncio is None
        assert asyncio.get_event_loop() is previous
        other = AsyncIOLoop(make_current=False)
        assert other.is_current is False and other.old_asyncio is None
        other.close()
    finally:
        asyncio.set_event_loop(None)
        previous.close()


def test_asyncio_main_loop_takes_asyncio_loop_as_keyword() -> None:
    real = asyncio.new_event_loop()
    io_loop = AsyncIOMainLoop(asyncio_loop=real)
    try:
        assert io_loop.asyncio_loop is real
    finally:
        io_loop.close()
    assert real.is_closed()
