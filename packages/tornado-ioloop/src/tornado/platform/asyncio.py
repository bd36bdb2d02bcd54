"""The asyncio-based `IOLoop` implementations.

`AsyncIOLoop` creates and owns a new asyncio event loop (it is what
``IOLoop()`` builds); `AsyncIOMainLoop` wraps an asyncio loop that already
exists, typically the one started by `asyncio.run`, and is what
`IOLoop.current` creates on first use inside such a loop.  Both work with any
`asyncio.AbstractEventLoop`, including uvloop's.

asyncio's Windows default loop (``ProactorEventLoop``) cannot watch file
descriptors; `AddThreadSelectorEventLoop` supplies ``add_reader`` and friends
for it by running ``select()`` on a helper thread (`SelectorThread`).  Other
platforms never need it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import functools
import select
import socket
import threading
import warnings
import weakref
from collections.abc import AsyncGenerator, Callable
from typing import Any, Protocol, TypeVar

from tornado.concurrent import Future
from tornado.ioloop import (
    IOLoop,
    _current_asyncio_loop,
    _peek_set_event_loop,
    _Selectable,
    _with_context,
)
from tornado.log import app_log

__all__ = [
    "AddThreadSelectorEventLoop",
    "AnyThreadEventLoopPolicy",  # noqa: F822 (made by the module's __getattr__)
    "AsyncIOLoop",
    "AsyncIOMainLoop",
    "BaseAsyncIOLoop",
    "SelectorThread",
    "to_asyncio_future",
    "to_tornado_future",
]

_T = TypeVar("_T")

_get_running_loop = asyncio.events._get_running_loop


class BaseAsyncIOLoop(IOLoop):
    """An `IOLoop` over an asyncio event loop; the base of the implementations.

    ``initialize(asyncio_loop)`` binds it to that loop.  Raises `RuntimeError`
    if the loop already has an `IOLoop`.
    """

    def initialize(  # type: ignore[override]
        self, asyncio_loop: asyncio.AbstractEventLoop, **kwargs: Any
    ) -> None:
        """Bind this IOLoop to ``asyncio_loop``; ``kwargs`` go to `IOLoop.initialize`."""
        #: The asyncio event loop this IOLoop wraps.
        self.asyncio_loop = asyncio_loop
        #: The loop file descriptors are watched on: `asyncio_loop`, or a selector thread beside a proactor loop (Windows).
        self.selector_loop: Any = asyncio_loop
        proactor = getattr(asyncio, "ProactorEventLoop", None)
        if proactor is not None and isinstance(asyncio_loop, proactor):
            # Abstract only to type checkers: every loop method reaches the
            # wrapped loop through __getattribute__.
            self.selector_loop = AddThreadSelectorEventLoop(asyncio_loop)  # type: ignore[abstract]
        # fd -> (the object passed to add_handler, handler)
        #: Registered file descriptors: fd -> (the object given to `add_handler`, its handler).
        self.handlers: dict[int, tuple[int | _Selectable, Callable[..., None]]] = {}
        #: The file descriptors watched for reading.
        self.readers: set[int] = set()
        #: The file descriptors watched for writing.
        self.writers: set[int] = set()
        #: True once `close` has started.
        self.closing = False
        self._is_current = False
        self._old_asyncio_loop: asyncio.AbstractEventLoop | None = None
        registry = IOLoop._ioloop_for_asyncio
        # list() snapshots the keys atomically: other threads may register
        # their loops at the same time.
        for stale in [loop for loop in list(registry) if loop.is_closed()]:
            del registry[stale]
        existing = registry.setdefault(asyncio_loop, self)
        if existing is not self:
            raise RuntimeError(
                f"IOLoop {existing!r} already associated with asyncio loop {asyncio_loop!r}"
            )
        super().initialize(**kwargs)

    def close(self, all_fds: bool = False) -> None:
        """Close the loop; with ``all_fds``, also every registered fd or file object.

        Raises `RuntimeError` if the loop is running.
        """
        if self.asyncio_loop.is_running():
            raise RuntimeError("Cannot close a running event loop")
        self.closing = True
        for fd in list(self.handlers):
            fileobj, _ = self.handlers[fd]
            self.remove_handler(fd)
            if all_fds:
                self.close_fd(fileobj)
        if IOLoop._ioloop_for_asyncio.get(self.asyncio_loop) is self:
            del IOLoop._ioloop_for_asyncio[self.asyncio_loop]
        self._clear_current_hook()
        if self.selector_loop is not self.asyncio_loop:
            self.selector_loop.close()
        self.asyncio_loop.close()

    def add_handler(self, fd: int | _Selectable, handler: Callable[..., None], events: int) -> None:
        """See `IOLoop.add_handler`.  Raises `ValueError` if ``fd`` was added before."""
        fd_int, fileobj = self.split_fd(fd)
        if fd_int in self.handlers:
            raise ValueError("fd %s added twice" % fd_int)
        self.handlers[fd_int] = (fileobj, handler)
        if events & IOLoop.READ:
            self.selector_loop.add_reader(fd_int, self._handle_events, fd_int, IOLoop.READ)
            self.readers.add(fd_int)
        if events & IOLoop.WRITE:
            self.selector_loop.add_writer(fd_int, self._handle_events, fd_int, IOLoop.WRITE)
            self.writers.add(fd_int)

    def update_handler(self, fd: int | _Selectable, events: int) -> None:
        """See `IOLoop.update_handler`.  Raises `KeyError` if ``fd`` has no handler."""
        fd_int, _ = self.split_fd(fd)
        if fd_int not in self.handlers:
            raise KeyError(fd_int)
        if events & IOLoop.READ:
            if fd_int not in self.readers:
                self.selector_loop.add_reader(fd_int, self._handle_events, fd_int, IOLoop.READ)
                self.readers.add(fd_int)
        elif fd_int in self.readers:
            self.selector_loop.remove_reader(fd_int)
            self.readers.remove(fd_int)
        if events & IOLoop.WRITE:
            if fd_int not in self.writers:
                self.selector_loop.add_writer(fd_int, self._handle_events, fd_int, IOLoop.WRITE)
                self.writers.add(fd_int)
        elif fd_int in self.writers:
            self.selector_loop.remove_writer(fd_int)
            self.writers.remove(fd_int)

    def remove_handler(self, fd: int | _Selectable) -> None:
        """See `IOLoop.remove_handler`."""
        fd_int, _ = self.split_fd(fd)
        if fd_int not in self.handlers:
            return
        if fd_int in self.readers:
            self.selector_loop.remove_reader(fd_int)
            self.readers.remove(fd_int)
        if fd_int in self.writers:
            self.selector_loop.remove_writer(fd_int)
            self.writers.remove(fd_int)
        del self.handlers[fd_int]

    def _handle_events(self, fd: int, events: int) -> None:
        fileobj, handler = self.handlers[fd]
        try:
            handler(fileobj, events)
        except Exception:
            # Log the way Tornado always has, rather than through asyncio's
            # exception handler, so applications find it in the same place.
            app_log.error("Exception in I/O handler for fd %s", fd, exc_info=True)

    def start(self) -> None:
        """See `IOLoop.start`."""
        self._setup_logging()
        old_loop = _peek_set_event_loop()
        try:
            asyncio.set_event_loop(self.asyncio_loop)
            self.asyncio_loop.run_forever()
        finally:
            asyncio.set_event_loop(old_loop)

    def stop(self) -> None:
        """See `IOLoop.stop`."""
        self.asyncio_loop.stop()

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> asyncio.TimerHandle:
        """See `IOLoop.call_at`; returns an `asyncio.TimerHandle`.

        ``when`` is on the `IOLoop.time` clock (the wall clock); it becomes a
        delay on the asyncio loop's clock here, so a deadline in the past
        runs on the next iteration.
        """
        if args or kwargs:
            callback = functools.partial(callback, *args, **kwargs)
        delay = when - self.time()
        return self.asyncio_loop.call_later(max(delay, 0.0), self._run_callback, callback)

    def remove_timeout(self, timeout: object) -> None:
        """See `IOLoop.remove_timeout`."""
        timeout.cancel()  # type: ignore[attr-defined]

    def add_callback(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """See `IOLoop.add_callback`."""
        if args or kwargs:
            callback = functools.partial(callback, *args, **kwargs)
        try:
            if _get_running_loop() is self.asyncio_loop:
                # On the loop's own thread: skip the wake-up write that
                # call_soon_threadsafe does, the loop is awake anyway.
                self.asyncio_loop.call_soon(self._run_callback, callback)
            else:
                self.asyncio_loop.call_soon_threadsafe(self._run_callback, callback)
        except RuntimeError:
            # The loop is closed: nothing will ever run again, drop the
            # callback, as a closed IOLoop always has.
            pass

    def add_callback_from_signal(
        self, callback: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """See `IOLoop.add_callback_from_signal`.  Emits `DeprecationWarning`."""
        warnings.warn(
            "add_callback_from_signal is deprecated; use asyncio's add_signal_handler",
            DeprecationWarning,
            stacklevel=2,
        )
        if args or kwargs:
            callback = functools.partial(callback, *args, **kwargs)
        try:
            # Always the thread-safe variant: it writes to the loop's wake-up
            # pipe, so a loop blocked in select() notices the callback.
            self.asyncio_loop.call_soon_threadsafe(self._run_callback, callback)
        except RuntimeError:
            pass

    def run_in_executor(
        self,
        executor: concurrent.futures.Executor | None,
        func: Callable[..., _T],
        *args: Any,
    ) -> asyncio.Future[_T]:
        """See `IOLoop.run_in_executor`; delegates to asyncio's default executor."""
        return self.asyncio_loop.run_in_executor(executor, *_with_context(executor, func, args))

    def set_default_executor(self, executor: concurrent.futures.Executor) -> None:
        """See `IOLoop.set_default_executor`."""
        self.asyncio_loop.set_default_executor(executor)

    def _make_current(self) -> None:
        if not self._is_current:
            self._old_asyncio_loop = _peek_set_event_loop()
            self._is_current = True
        asyncio.set_event_loop(self.asyncio_loop)

    def _clear_current_hook(self) -> None:
        if self._is_current:
            self._is_current = False
            old, self._old_asyncio_loop = self._old_asyncio_loop, None
            if old is not None and old.is_closed():
                old = None
            asyncio.set_event_loop(old)


class AsyncIOMainLoop(BaseAsyncIOLoop):
    """An `IOLoop` wrapping an existing asyncio loop, by default the current one.

    `IOLoop.current` creates one on first use inside a running asyncio loop,
    so applications rarely construct it.  ``asyncio_loop`` selects another
    existing loop to wrap.  When the thread has no asyncio loop at all, the
    main thread gets a new one, set as its current loop until this IOLoop is
    closed (as ``asyncio.get_event_loop`` did); on other threads that raises
    `RuntimeError`.  (`IOLoop.current` creates a loop on any thread.)

    .. versionchanged:: 5.0
       Closing it closes the asyncio loop it wraps.
    """

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Wrap ``asyncio_loop`` (a keyword), or the thread's running or current asyncio loop."""
        asyncio_loop: asyncio.AbstractEventLoop | None = kwargs.pop("asyncio_loop", None)
        created = False
        if asyncio_loop is None:
            asyncio_loop = _current_asyncio_loop()
            if asyncio_loop is None:
                if threading.current_thread() is not threading.main_thread():
                    raise RuntimeError(
                        "There is no current event loop in thread %r"
                        % threading.current_thread().name
                    )
                asyncio_loop = asyncio.new_event_loop()
                created = True
        try:
            super().initialize(asyncio_loop, **kwargs)
        except Exception:
            if created:
                asyncio_loop.close()
            raise
        if created:
            self._adopt_as_current()

    def _adopt_as_current(self) -> None:
        """Set the (new) wrapped loop as the thread's loop until this IOLoop closes."""
        asyncio.set_event_loop(self.asyncio_loop)
        self._is_current = True
        self._old_asyncio_loop = None

    @classmethod
    def _for_new_thread_loop(cls) -> AsyncIOMainLoop:
        """Create an asyncio loop for a thread that has none, and wrap it (any thread)."""
        loop = asyncio.new_event_loop()
        try:
            io_loop: AsyncIOMainLoop = cls(asyncio_loop=loop)
        except Exception:
            loop.close()
            raise
        io_loop._adopt_as_current()
        return io_loop

    def _make_current(self) -> None:
        # The wrapped loop is the current one already (that is how it was
        # found); replacing the thread's loop here would only confuse asyncio.
        pass


class AsyncIOLoop(BaseAsyncIOLoop):
    """An `IOLoop` that runs its own asyncio event loop.

    This is what ``IOLoop()`` builds.  The loop comes from
    `asyncio.new_event_loop`, so it follows the event loop policy (uvloop's
    policy gives a uvloop loop); pass ``asyncio_loop`` to use a loop created
    beforehand instead (one that no other IOLoop wraps, else `RuntimeError`).
    It becomes the thread's current loop unless ``make_current=False``;
    closing it restores the previous one, and closes the asyncio loop.

    .. versionchanged:: 6.2
       The ``asyncio_loop`` argument.
    """

    def initialize(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Bind to ``asyncio_loop`` or a new asyncio loop; other ``kwargs`` as for `IOLoop`."""
        #: True while this loop is the thread's current loop through
        #: `make_current` (the default of the constructor).
        self.is_current = False
        #: The thread's asyncio loop before this one was made current; it is
        #: current again when this one is closed (or `clear_current` runs).
        self.old_asyncio: asyncio.AbstractEventLoop | None = None
        given: asyncio.AbstractEventLoop | None = kwargs.pop("asyncio_loop", None)
        loop = given if given is not None else asyncio.new_event_loop()
        try:
            super().initialize(loop, **kwargs)
        except Exception:
            # Don't leak a loop we made (and its ResourceWarning) on failure.
            if given is None:
                loop.close()
            raise

    def close(self, all_fds: bool = False) -> None:
        """See `BaseAsyncIOLoop.close`; first makes the previous asyncio loop current again."""
        self._clear_current_hook()
        super().close(all_fds=all_fds)

    def _make_current(self) -> None:
        if not self.is_current:
            self.old_asyncio = _peek_set_event_loop()
            self.is_current = True
        asyncio.set_event_loop(self.asyncio_loop)

    def _clear_current_hook(self) -> None:
        if self.is_current:
            self.is_current = False
            old, self.old_asyncio = self.old_asyncio, None
            if old is not None and old.is_closed():
                old = None
            asyncio.set_event_loop(old)


def to_tornado_future(asyncio_future: asyncio.Future[_T]) -> Future[_T]:
    """Return ``asyncio_future`` unchanged: Tornado futures *are* asyncio futures.

    .. deprecated:: 5.0
    """
    return asyncio_future


def to_asyncio_future(tornado_future: Any) -> asyncio.Future[Any]:
    """Convert any yieldable object (future, coroutine, list) to an `asyncio.Future`.

    .. deprecated:: 5.0
       Use `tornado.gen.convert_yielded`.
    """
    from tornado.gen import convert_yielded

    future = convert_yielded(tornado_future)
    if isinstance(future, concurrent.futures.Future):
        return asyncio.wrap_future(future)
    return future


# AnyThreadEventLoopPolicy subclasses asyncio's default policy class, which
# Python 3.14 deprecates (reading ``asyncio.DefaultEventLoopPolicy`` warns).
# So, as in Tornado, the class is made on first access through the module's
# __getattr__ rather than at import: importing this module touches no
# deprecated asyncio name.
_any_thread_policy_class: type[asyncio.AbstractEventLoopPolicy] | None = None


def __getattr__(name: str) -> Any:
    global _any_thread_policy_class
    if name != "AnyThreadEventLoopPolicy":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _any_thread_policy_class is None:
        _any_thread_policy_class = _make_any_thread_policy_class()
    return _any_thread_policy_class


def _make_any_thread_policy_class() -> type[asyncio.AbstractEventLoopPolicy]:
    with warnings.catch_warnings():
        # The class is deprecated as a whole and warns when instantiated;
        # reading asyncio's base class should not warn a second time.
        warnings.simplefilter("ignore", DeprecationWarning)

        class AnyThreadEventLoopPolicy(asyncio.DefaultEventLoopPolicy):
            """An event loop policy that creates a loop on demand in any thread.

            asyncio's default policy creates a loop implicitly only on the main thread;
            with this policy installed, ``asyncio.get_event_loop()`` (and so
            `IOLoop.current`) creates one in other threads as well.

            .. deprecated:: 6.2
               Emits `DeprecationWarning` when instantiated.  Create loops explicitly
               with `asyncio.new_event_loop` or run them with `asyncio.run`.
            """

            def __init__(self) -> None:
                warnings.warn(
                    "AnyThreadEventLoopPolicy is deprecated, use asyncio.run or "
                    "asyncio.new_event_loop instead",
                    DeprecationWarning,
                    stacklevel=2,
                )
                super().__init__()

            def get_event_loop(self) -> asyncio.AbstractEventLoop:
                """Return the thread's loop, creating and setting one if there is none."""
                try:
                    return super().get_event_loop()
                except RuntimeError:
                    loop = self.new_event_loop()
                    self.set_event_loop(loop)
                    return loop

    AnyThreadEventLoopPolicy.__qualname__ = "AnyThreadEventLoopPolicy"
    return AnyThreadEventLoopPolicy


# Selector threads not closed yet, closed by an atexit hook as a backstop for
# loops that are never closed (else their socketpairs outlive the program's
# last line and are reported as unclosed).  Weak: a closed one drops out.
_selector_loops: weakref.WeakSet[SelectorThread] = weakref.WeakSet()
_atexit_registered = False


def _atexit_callback() -> None:
    """Close every selector thread that is still open."""
    for selector in list(_selector_loops):
        selector.close()


class SelectorThread:
    """Watch file descriptors with ``select()`` on a helper thread for ``real_loop``.

    Readiness callbacks registered with `add_reader`/`add_writer` run on
    ``real_loop``'s thread.  The helper thread and ``real_loop`` take turns:
    the thread selects, hands the ready descriptors to the loop, and selects
    again only after the loop has run their callbacks, so a descriptor that
    stays ready does not make the thread spin.  Call `close` when done.

    Only loops that cannot watch descriptors themselves (Windows'
    ``ProactorEventLoop``) need this.
    """

    def __init__(self, real_loop: asyncio.AbstractEventLoop) -> None:
        self._real_loop = real_loop
        self._readers: dict[int, Callable[[], None]] = {}
        self._writers: dict[int, Callable[[], None]] = {}
        self._closed = False
        self._cond = threading.Condition()
        # The descriptors the thread should select on next, or None while the
        # loop is still processing the previous round.
        self._request: tuple[list[int], list[int]] | None = None
        self._waker_r, self._waker_w = socket.socketpair()
        self._waker_r.setblocking(False)
        self._waker_w.setblocking(False)
        # The helper thread is started on the loop, by an async generator
        # (see _thread_manager): asyncio tracks async generators, so
        # ``loop.shutdown_asyncgens()`` (which `asyncio.run` calls) closes
        # the generator and with it this selector, even if nobody calls
        # `close`.  A generator runs only inside a task, which a callback
        # creates once the loop runs.
        self._thread: threading.Thread | None = None
        self._thread_manager_handle = self._thread_manager()
        self._thread_manager_task: asyncio.Task[None] | None = None
        self._start_handle: asyncio.Handle | None = real_loop.call_soon(self._start_thread_manager)
        global _atexit_registered
        if not _atexit_registered:
            import atexit

            atexit.register(_atexit_callback)
            _atexit_registered = True
        _selector_loops.add(self)

    def _start_thread_manager(self) -> None:
        self._start_handle = None
        if not self._closed:
            self._thread_manager_task = self._real_loop.create_task(self._run_thread_manager())

    async def _run_thread_manager(self) -> None:
        await self._thread_manager_handle.__anext__()

    async def _thread_manager(self) -> AsyncGenerator[None, None]:
        # Runs on the loop: start the thread, then stay suspended until the
        # loop finalizes its async generators (or this one is collected).
        self._thread = threading.Thread(
            name="Tornado selector", daemon=True, target=self._run_select
        )
        self._thread.start()
        self._request_select()
        try:
            yield
        finally:
            self.close()

    def close(self) -> None:
        """Stop the helper thread and release its sockets.  Idempotent.

        Safe before the helper thread started (the loop never ran): then
        nothing is left pending on the loop either.
        """
        if self._closed:
            return
        _selector_loops.discard(self)
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._start_handle is not None:
            self._start_handle.cancel()
            self._start_handle = None
        task = self._thread_manager_task
        if task is not None and not task.done():
            # Created, but the loop stopped before running it: it never
            # will now.  Its coroutine is closed unstarted and the task
            # told not to report itself pending when collected, as asyncio
            # does for run_until_complete's own tasks.
            task.cancel()
            coro = task.get_coro()
            if coro is not None:
                coro.close()
            task._log_destroy_pending = False  # type: ignore[attr-defined]
        # (A generator that never started needs no finalization; a started
        # one is finalized by the loop, its ``finally`` finds us closed.)
        if self._thread is not None:
            self._wake_selector()
            self._thread.join()
        self._waker_r.close()
        self._waker_w.close()

    def _wake_selector(self) -> None:
        try:
            self._waker_w.send(b"\0")
        except BlockingIOError:
            # The pipe is full, so a wake-up is already pending.
            pass

    def _request_select(self) -> None:
        with self._cond:
            self._request = (list(self._readers), list(self._writers))
            self._cond.notify()

    def _run_select(self) -> None:
        while True:
            with self._cond:
                while self._request is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                assert self._request is not None
                readers, writers = self._request
                self._request = None
            waker = self._waker_r.fileno()
            try:
                rs, ws, xs = select.select([waker, *readers], writers, writers)
            except OSError as e:
                # A descriptor was closed without being removed: report it
                # ready so its handler runs into the error itself.
                if e.errno not in (errno.EBADF, errno.ENOTSOCK, getattr(errno, "WSAENOTSOCK", -1)):
                    raise
                rs, ws, xs = self._find_bad_fds(readers, writers)
            if waker in rs:
                rs.remove(waker)
                self._drain_waker()
            try:
                self._real_loop.call_soon_threadsafe(self._handle_select, rs, ws + xs)
            except RuntimeError:
                # The loop was closed under us: nothing left to serve.
                return

    @staticmethod
    def _find_bad_fds(
        readers: list[int], writers: list[int]
    ) -> tuple[list[int], list[int], list[int]]:
        bad: list[int] = []
        for fd in {*readers, *writers}:
            try:
                select.select([fd], [], [], 0)
            except OSError:
                bad.append(fd)
        return [fd for fd in bad if fd in readers], [fd for fd in bad if fd in writers], []

    def _drain_waker(self) -> None:
        try:
            while self._waker_r.recv(4096):
                pass
        except BlockingIOError:
            pass

    def _handle_select(self, rs: list[int], ws: list[int]) -> None:
        if self._closed:
            return
        try:
            for fd in rs:
                reader = self._readers.get(fd)
                if reader is not None:
                    reader()
            for fd in dict.fromkeys(ws):
                writer = self._writers.get(fd)
                if writer is not None:
                    writer()
        finally:
            self._request_select()

    def add_reader(self, fd: int, callback: Callable[..., None], *args: Any) -> None:
        """Call ``callback(*args)`` on the loop whenever ``fd`` is readable."""
        self._readers[fd] = functools.partial(callback, *args)
        self._wake_selector()

    def add_writer(self, fd: int, callback: Callable[..., None], *args: Any) -> None:
        """Call ``callback(*args)`` on the loop whenever ``fd`` is writable."""
        self._writers[fd] = functools.partial(callback, *args)
        self._wake_selector()

    def remove_reader(self, fd: int) -> bool:
        """Stop watching ``fd`` for reading; return whether it was watched."""
        found = self._readers.pop(fd, None) is not None
        self._wake_selector()
        return found

    def remove_writer(self, fd: int) -> bool:
        """Stop watching ``fd`` for writing; return whether it was watched."""
        found = self._writers.pop(fd, None) is not None
        self._wake_selector()
        return found


class _HasFileno(Protocol):
    """An object with a file descriptor (what asyncio's ``add_reader`` accepts)."""

    def fileno(self) -> int:
        """Return the file descriptor."""
        ...


def _fileno(fd: int | _HasFileno) -> int:
    """A file descriptor, or the descriptor of an object with ``fileno()``."""
    return fd if isinstance(fd, int) else fd.fileno()


class AddThreadSelectorEventLoop(asyncio.AbstractEventLoop):
    """Wrap an asyncio loop, adding ``add_reader``/``add_writer`` via a `SelectorThread`.

    Every other attribute is the wrapped loop's.  Closing the wrapper stops
    the helper thread and closes the wrapped loop.  It is an
    `asyncio.AbstractEventLoop`, so ``asyncio.set_event_loop`` accepts it.
    """

    #: The attributes the wrapper answers itself; every other one is the
    #: wrapped loop's.
    MY_ATTRIBUTES = frozenset(
        {
            "_real_loop",
            "_selector",
            "close",
            "add_reader",
            "add_writer",
            "remove_reader",
            "remove_writer",
        }
    )

    def __init__(self, real_loop: asyncio.AbstractEventLoop) -> None:
        self._real_loop = real_loop
        self._selector = SelectorThread(real_loop)

    # __getattribute__, not __getattr__: the abstract base class defines
    # every loop method (raising NotImplementedError), so plain lookup would
    # never fall through to the wrapped loop.
    def __getattribute__(self, name: str) -> Any:
        if name == "MY_ATTRIBUTES" or (name.startswith("__") and name.endswith("__")):
            return object.__getattribute__(self, name)
        if name in AddThreadSelectorEventLoop.MY_ATTRIBUTES:
            return object.__getattribute__(self, name)
        return getattr(object.__getattribute__(self, "_real_loop"), name)

    def close(self) -> None:
        """Stop the helper thread, then close the wrapped loop."""
        self._selector.close()
        self._real_loop.close()

    # typeshed types callback and args with a TypeVarTuple; same contract.
    def add_reader(  # type: ignore[override]
        self, fd: int | _HasFileno, callback: Callable[..., Any], *args: Any
    ) -> None:
        """Call ``callback(*args)`` whenever ``fd`` is readable."""
        self._selector.add_reader(_fileno(fd), callback, *args)

    # typeshed types callback and args with a TypeVarTuple; same contract.
    def add_writer(  # type: ignore[override]
        self, fd: int | _HasFileno, callback: Callable[..., Any], *args: Any
    ) -> None:
        """Call ``callback(*args)`` whenever ``fd`` is writable."""
        self._selector.add_writer(_fileno(fd), callback, *args)

    def remove_reader(self, fd: int | _HasFileno) -> bool:
        """Stop watching ``fd`` for reading; return whether it was watched."""
        return self._selector.remove_reader(_fileno(fd))

    def remove_writer(self, fd: int | _HasFileno) -> bool:
        """Stop watching ``fd`` for writing; return whether it was watched."""
        return self._selector.remove_writer(_fileno(fd))
