"""Support for testing asynchronous code written for Tornado.

Three groups of tools live here:

* `AsyncTestCase`, `AsyncHTTPTestCase` and `AsyncHTTPSTestCase`:
  `unittest.TestCase` subclasses that give every test its own `.IOLoop`
  (and, for the HTTP variants, a server and a client bound to it), with
  `gen_test` to write test methods as coroutines;
* `ExpectLog`, a context manager that swallows log messages a test expects
  (and fails the test when they do not come);
* `bind_unused_port`, `get_async_test_timeout` and `main`, small helpers.

The test cases run under any runner: ``unittest``, ``python -m
tornado.testing``, or pytest (which collects them as ordinary unittest
classes).  Projects that prefer plain pytest functions can use the fixtures
of the pytest plugin that tornado-testing registers (see the package README);
it shares the machinery of this module.

Failures are reported against the test that caused them: an exception
raised by an `.IOLoop` callback (logged as "Exception in callback ..." by the
loop) or left unhandled in an asyncio callback fails the running test, and
tasks still pending when a test ends are cancelled, their errors reported.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import re
import signal
import socket
import sys
import traceback
import unittest
import warnings
from collections.abc import Callable, Coroutine, Generator
from contextlib import AbstractContextManager
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.log import app_log
from tornado.netutil import bind_sockets
from tornado.platform.asyncio import AsyncIOMainLoop
from tornado.process import Subprocess
from tornado.util import TimeoutError

if TYPE_CHECKING:
    from tornado.httpclient import AsyncHTTPClient, HTTPResponse
    from tornado.httpserver import HTTPServer

__all__ = [
    "AsyncHTTPSTestCase",
    "AsyncHTTPTestCase",
    "AsyncTestCase",
    "ExpectLog",
    "bind_unused_port",
    "gen_test",
    "get_async_test_timeout",
    "main",
]


#: Seconds an asynchronous test may take when nothing else is configured.
_DEFAULT_ASYNC_TEST_TIMEOUT = 5.0


def bind_unused_port(
    reuse_port: bool = False, address: str = "127.0.0.1"
) -> tuple[socket.socket, int]:
    """Bind a listening socket to a free port on ``address``; return ``(socket, port)``.

    ``address`` is an IP literal, ``127.0.0.1`` by default (``::1`` gives an
    IPv6 socket); the operating system picks the port.  ``reuse_port`` sets
    ``SO_REUSEPORT`` so that more sockets can bind the same port later.
    The socket is non-blocking; the caller owns it and must close it.

    Raises `OSError` if the address cannot be bound (for example ``::1`` on
    a host without IPv6) and `ValueError` if ``reuse_port`` is unsupported.

    .. versionchanged:: 6.2
       Added the ``address`` argument.
    """
    sockets = bind_sockets(0, address, reuse_port=reuse_port)
    # A literal address resolves to exactly one socket; a host name may
    # resolve to several, of which the first is as good as any.
    for extra in sockets[1:]:
        extra.close()
    sock = sockets[0]
    return sock, sock.getsockname()[1]


def get_async_test_timeout() -> float:
    """Return the default timeout, in seconds, of asynchronous tests.

    That is the value of the ``ASYNC_TEST_TIMEOUT`` environment variable when
    it holds a number, and 5 seconds otherwise.  It is read at every call, so
    changing the variable affects the tests that start afterwards.

    .. versionadded:: 3.1
    """
    value = os.environ.get("ASYNC_TEST_TIMEOUT")
    if value is not None:
        try:
            return float(value)
        except ValueError:
            pass
    return _DEFAULT_ASYNC_TEST_TIMEOUT


# ---------------------------------------------------------------------------
# Machinery shared with the pytest plugin: attributing callback failures to
# the running test, describing where a timed-out coroutine was waiting, and
# cleaning up tasks a test left behind.


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class _CallbackErrorFilter(logging.Filter):
    """Reports errors the loop logs for failing callbacks to a `_FailureWatch`.

    The IOLoop catches exceptions of callbacks and I/O handlers and logs them
    on ``tornado.application`` as "Exception in callback ..." or "Exception
    in I/O handler ...".  Only records logged while the watched loop runs
    count, so a loop of another thread cannot fail this test.

    A filter rather than a handler: a handler would count as logging being
    configured (the IOLoop then skips its default set-up, and Python its
    last-resort output), so unrelated errors would vanish from test output.
    The record itself is always let through.  `ExpectLog` puts its filter
    before this one, so a record it swallows never counts as a failure.
    """

    def __init__(self, watch: _FailureWatch) -> None:
        super().__init__()
        self._watch = watch

    def filter(self, record: logging.LogRecord) -> bool:
        """Forward the exception of a failing-callback record to the watch; keep the record."""
        if (
            record.levelno >= logging.ERROR
            and record.exc_info is not None
            and record.exc_info[1] is not None
            and record.getMessage().startswith("Exception in ")
            and _running_loop() is self._watch.asyncio_loop
        ):
            self._watch.report(record.exc_info[1])
        return True


class _FailureWatch:
    """Collects the exceptions that escape callbacks of one loop during a test.

    Two sources are watched: the IOLoop's log of failing callbacks (see
    `_CallbackErrorFilter`) and the asyncio loop's exception handler, which
    receives errors of raw asyncio callbacks and of futures whose exception
    nobody retrieved.  Each exception is passed to ``on_failure``.
    """

    def __init__(self, io_loop: IOLoop, on_failure: Callable[[BaseException], None]) -> None:
        self.asyncio_loop = io_loop.asyncio_loop
        self._on_failure = on_failure
        self._log_filter = _CallbackErrorFilter(self)
        self._previous_handler: Any = None
        self._active = False

    def start(self) -> None:
        """Begin routing failures to ``on_failure``."""
        self._previous_handler = self.asyncio_loop.get_exception_handler()
        self.asyncio_loop.set_exception_handler(self._asyncio_handler)
        app_log.addFilter(self._log_filter)
        self._active = True

    def stop(self) -> None:
        """Stop watching; later failures are handled as if no test ran."""
        self._active = False
        app_log.removeFilter(self._log_filter)
        if not self.asyncio_loop.is_closed():
            self.asyncio_loop.set_exception_handler(self._previous_handler)

    def report(self, error: BaseException) -> None:
        """Hand ``error`` to ``on_failure`` while the watch is active."""
        if self._active:
            self._on_failure(error)

    def _asyncio_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if self._active and isinstance(error, Exception):
            self._on_failure(error)
        # Let asyncio (or the previous handler) log it as usual as well:
        # the message says which callback or future it came from.
        if self._previous_handler is not None:
            self._previous_handler(loop, context)
        else:
            loop.default_exception_handler(context)


def _awaited_by(obj: object) -> object | None:
    """Return what a suspended coroutine or generator is waiting on, if known."""
    for attribute in ("cr_await", "gi_yieldfrom", "ag_await"):
        if hasattr(obj, attribute):
            return getattr(obj, attribute)  # type: ignore[no-any-return]
    return None


def _suspended_frame(obj: object) -> FrameType | None:
    for attribute in ("cr_frame", "gi_frame", "ag_frame"):
        frame = getattr(obj, attribute, None)
        if frame is not None:
            return frame  # type: ignore[no-any-return]
    return None


def _describe_suspension(coroutine: object | None) -> str:
    """Format the chain of awaits a suspended coroutine is stuck in, outermost first.

    The chain is followed through native coroutines and generators
    (``await other()``, ``yield from``); it ends at the first object that is
    not one of them, typically the future being waited for.  Returns an
    empty string when nothing is known.
    """
    frames: list[tuple[FrameType, int]] = []
    current = coroutine
    # Bounded: a pathological object could point back at itself.
    while current is not None and len(frames) < 200:
        frame = _suspended_frame(current)
        if frame is None:
            break
        frames.append((frame, frame.f_lineno))
        current = _awaited_by(current)
    if not frames:
        return ""
    return "".join(traceback.StackSummary.extract(frames).format())


class _TimeoutDescription:
    """What a timeout error says: which test, how long, where it was waiting."""

    def __init__(self, test_name: str, timeout: float) -> None:
        self.test_name = test_name
        self.timeout = timeout

    def error(self, coroutine: object | None) -> TimeoutError:
        """Build the `TimeoutError` for a test stuck in ``coroutine``."""
        message = f"{self.test_name} timed out after {self.timeout:g} seconds"
        where = _describe_suspension(coroutine)
        if where:
            message += " while waiting at:\n" + where.rstrip("\n")
        return TimeoutError(message)


class _CoroutineRun:
    """One test coroutine running on an IOLoop under a deadline.

    `run` drives the coroutine produced by ``start`` to completion with
    `IOLoop.run_sync`.  When the deadline passes, the coroutine is
    cancelled and a `TimeoutError` naming the test and the line it waited
    on is raised instead.  `abort` (used when a callback fails) cancels it
    too and makes `run` raise the given error.
    """

    def __init__(
        self,
        io_loop: IOLoop,
        start: Callable[[], Any],
        timeout: float | None,
        description: _TimeoutDescription,
        coroutine_of: Callable[[], object | None],
    ) -> None:
        self._io_loop = io_loop
        self._start = start
        self._timeout = timeout
        self._description = description
        self._coroutine_of = coroutine_of
        self._future: asyncio.Future[Any] | None = None
        self._abort_error: BaseException | None = None

    def abort(self, error: BaseException) -> None:
        """Cancel the coroutine (if still running); `run` then raises ``error``."""
        if self._abort_error is None:
            self._abort_error = error
        if self._future is not None and not self._future.done():
            self._future.cancel()

    def run(self) -> Any:
        """Run the coroutine to completion and return its result.

        Raises what the coroutine raises, `TimeoutError` after the
        deadline, or the error passed to `abort`.
        """
        return self._io_loop.run_sync(self._supervise)

    async def _supervise(self) -> Any:
        result = self._start()
        if result is None:
            return None
        future = gen.convert_yielded(result)
        self._future = future
        if self._abort_error is not None:
            future.cancel()
        done, _ = await asyncio.wait({future}, timeout=self._timeout)
        if future in done:
            if future.cancelled() and self._abort_error is not None:
                raise self._abort_error
            return future.result()
        # Describe the suspension point before cancelling: cancellation
        # unwinds the very frames we want to show.
        error = self._description.error(self._coroutine_of())
        future.cancel()
        # Give the test's finally blocks a chance to run; a coroutine that
        # refuses to stop is left to the leaked-task cleanup of teardown.
        await asyncio.wait({future}, timeout=self._timeout)
        raise error


def _cancel_leaked_tasks(io_loop: IOLoop, timeout: float) -> list[BaseException]:
    """Cancel the tasks still pending on ``io_loop`` and wait for them to finish.

    Returns the errors to report: exceptions (other than cancellation) the
    tasks ended with, and an `AssertionError` listing tasks that were still
    running ``timeout`` seconds after being cancelled.  The loop must not be
    running.
    """
    loop = io_loop.asyncio_loop
    if loop.is_closed():
        return []
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    if not pending:
        return []
    for task in pending:
        task.cancel()

    async def settle() -> tuple[set[asyncio.Task[Any]], set[asyncio.Task[Any]]]:
        return await asyncio.wait(pending, timeout=timeout)

    done, still_pending = io_loop.run_sync(settle)
    errors: list[BaseException] = []
    for task in done:
        if task.cancelled():
            continue
        error = task.exception()
        if error is not None:
            errors.append(error)
    if still_pending:
        names = ", ".join(sorted(repr(task) for task in still_pending))
        errors.append(
            AssertionError(f"tasks still running {timeout:g} seconds after cancellation: {names}")
        )
    return errors


# ---------------------------------------------------------------------------
# unittest integration


class AsyncTestCase(unittest.TestCase):
    """A `unittest.TestCase` for code that runs on an `.IOLoop`.

    Every test gets a new loop, ``self.io_loop`` (from `get_new_ioloop`),
    which is also the thread's current asyncio event loop while the test
    runs.  Write asynchronous tests as coroutines decorated with `gen_test`,
    or in the older style: start operations whose callbacks call `stop`,
    then call `wait`, which runs the loop until then and returns what was
    passed to `stop`.  Several `stop`/`wait` rounds may happen in one test.
    Don't call the loop's own ``start``/``stop``.

    An exception raised by a callback on the loop fails the test: `wait` (or
    the `gen_test` coroutine) raises it at once, and when no loop was
    running it is raised at the end of the test.  Tasks still pending when
    the test ends are cancelled and waited for; errors they end with (other
    than the cancellation) fail the test.

    A test method that returns a coroutine or generator (an ``async def`` or
    generator test without `gen_test`) fails with `TypeError`, since its body
    would never run; any other non-None return value fails with
    `ValueError`.

    Example::

        class MyTest(AsyncTestCase):
            @gen_test
            async def test_sleep(self):
                await asyncio.sleep(0.01)

            def test_callback_style(self):
                self.io_loop.add_callback(self.stop, 42)
                self.assertEqual(self.wait(), 42)
    """

    io_loop: IOLoop

    def __init__(self, methodName: str = "runTest") -> None:
        # The method may not exist (pytest 8.2+ instantiates test classes
        # with the default name to inspect them): don't look it up here.
        super().__init__(methodName)
        self.__stopped = False
        self.__running = False
        self.__failure: BaseException | None = None
        self.__stop_args: Any = None
        self.__failure_watch: _FailureWatch | None = None
        self.__coroutine_run: _CoroutineRun | None = None
        # The generator or coroutine object of a running `gen_test` test,
        # inspected to say where it was waiting when it times out.
        self._test_generator: object | None = None

    def setUp(self) -> None:
        """Create ``self.io_loop`` and make it the thread's event loop.

        Subclasses that override this must call ``super().setUp()`` first.
        """
        super().setUp()
        self.io_loop = self.get_new_ioloop()
        asyncio.set_event_loop(self.io_loop.asyncio_loop)
        self.__failure_watch = _FailureWatch(self.io_loop, self._record_failure)
        self.__failure_watch.start()

    def tearDown(self) -> None:
        """Cancel leftover tasks, close the loop, and raise any pending failure.

        Subclasses that override this must call ``super().tearDown()`` last.
        """
        self._shut_down_loop()
        super().tearDown()
        self.__rethrow()

    def _shut_down_loop(self) -> None:
        """Cancel leftover tasks, stop watching for failures and close the loop."""
        for error in _cancel_leaked_tasks(self.io_loop, get_async_test_timeout()):
            self._record_failure(error)
        if self.__failure_watch is not None:
            self.__failure_watch.stop()
            self.__failure_watch = None
        # A SIGCHLD handler installed for Subprocess refers to this loop.
        Subprocess.uninitialize()
        if isinstance(self.io_loop, AsyncIOMainLoop):
            # get_new_ioloop returned a loop someone else made (the current
            # one): it stays open and current, as it was before the test.
            return
        asyncio.set_event_loop(None)
        # all_fds: sockets the test left registered would otherwise leak
        # (and warn) until garbage collection.
        self.io_loop.close(all_fds=True)

    def get_new_ioloop(self) -> IOLoop:
        """Return the loop for one test: a new `.IOLoop` by default.

        Override to use another loop implementation.  Returning an existing
        loop (e.g. `.IOLoop.current()`) is possible; such a loop is neither
        closed nor replaced as the current loop at the end of the test.

        .. deprecated:: 6.3
           Tests should not share loops; this hook remains for special cases.
        """
        loop: IOLoop = IOLoop(make_current=False)
        return loop

    def _record_failure(self, error: BaseException) -> None:
        """Remember ``error`` as the test's failure and interrupt what waits.

        The first failure wins; later ones are logged so they are not lost.
        """
        if self.__failure is None:
            self.__failure = error
        elif error is not self.__failure:
            app_log.error(
                "another exception in %s",
                self.id(),
                exc_info=(type(error), error, error.__traceback__),
            )
        if self.__coroutine_run is not None:
            self.__coroutine_run.abort(error)
        if self.__running:
            self.stop()

    def __rethrow(self) -> None:
        if self.__failure is not None:
            failure, self.__failure = self.__failure, None
            raise failure

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        """Run the test; a failure left over after ``tearDown`` is reported as an error."""
        outcome = super().run(result)
        if self.__failure is not None:
            failure, self.__failure = self.__failure, None
            target = outcome if outcome is not None else result
            if target is not None:
                try:
                    # Raising gives the exception a traceback if it has none.
                    raise failure
                except BaseException:
                    target.addError(self, sys.exc_info())
        return outcome

    def _callTestMethod(self, method: Callable[[], Any]) -> None:
        # unittest only warns (Python 3.11) about test methods returning a
        # value; an undecorated coroutine or generator test would silently
        # "pass" without running its body, so make it an error.
        result = method()
        if inspect.iscoroutine(result) or inspect.isgenerator(result):
            result.close()
            raise TypeError(
                f"{self.id()} returned a {type(result).__name__}: generator and coroutine "
                "test methods should be decorated with tornado.testing.gen_test"
            )
        if result is not None:
            raise ValueError(f"Return value from test method ignored: {result!r}")

    def stop(self, _arg: Any = None, **kwargs: Any) -> None:
        """End the current (or next) `wait`, which returns what is passed here.

        Pass either one positional argument or keyword arguments (then `wait`
        returns them as a dict), not both.
        """
        assert _arg is None or not kwargs, "pass either a positional argument or keywords"
        self.__stop_args = kwargs or _arg
        if self.__running:
            self.io_loop.stop()
            self.__running = False
        self.__stopped = True

    def wait(
        self,
        condition: Callable[..., bool] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Run the loop until `stop` is called, and return what it was given.

        With ``condition``, the loop is restarted after each `stop` until
        ``condition()`` is true.  ``timeout`` (seconds) defaults to
        `get_async_test_timeout`; when it passes, ``self.failureException``
        (`AssertionError`) is raised.  An exception raised by a loop callback
        meanwhile is raised here.
        """
        if timeout is None:
            timeout = get_async_test_timeout()
        if not self.__stopped:
            deadline_handle: object | None = None
            if timeout:

                def time_out() -> None:
                    self._record_failure(
                        self.failureException(
                            f"Async operation timed out after {timeout:g} seconds"
                        )
                    )

                deadline_handle = self.io_loop.call_later(timeout, time_out)
            try:
                while True:
                    self.__running = True
                    self.io_loop.start()
                    if self.__failure is not None or condition is None or condition():
                        break
            finally:
                self.__running = False
                if deadline_handle is not None:
                    self.io_loop.remove_timeout(deadline_handle)
        self.__stopped = False
        self.__rethrow()
        result, self.__stop_args = self.__stop_args, None
        return result

    def _run_test_coroutine(
        self, start: Callable[[], Any], timeout: float, function: Callable[..., Any]
    ) -> Any:
        """Run a `gen_test` test: the coroutine from ``start`` under ``timeout``."""
        name = self.id()
        if function.__name__ != self._testMethodName:
            name = f"{function.__qualname__} (in {name})"
        self.__coroutine_run = _CoroutineRun(
            self.io_loop,
            start,
            timeout,
            _TimeoutDescription(name, timeout),
            lambda: self._test_generator,
        )
        try:
            return self.__coroutine_run.run()
        except BaseException as error:
            # A callback failure that aborted the coroutine is raised here;
            # don't raise it a second time from tearDown.
            if error is self.__failure:
                self.__failure = None
            raise
        finally:
            self.__coroutine_run = None
            self._test_generator = None


_TestCoroutine = Callable[..., Generator[Any, Any, Any] | Coroutine[Any, Any, Any] | None]


@overload
def gen_test(
    *, timeout: float | None = None
) -> Callable[[_TestCoroutine], Callable[..., None]]: ...


@overload
def gen_test(func: _TestCoroutine) -> Callable[..., None]: ...


def gen_test(func: _TestCoroutine | None = None, timeout: float | None = None) -> Any:
    """Run an `AsyncTestCase` test method written as a coroutine.

    Decorate ``async def`` test methods (or generator methods in the
    `tornado.gen` style) with ``@gen_test`` or ``@gen_test(timeout=...)``:
    the coroutine runs on ``self.io_loop`` until it finishes, and its
    exception, if any, fails the test.  Arguments given to the decorated
    method are passed on.

    The timeout (seconds) is ``timeout`` if given, else
    `get_async_test_timeout` (the ``ASYNC_TEST_TIMEOUT`` environment variable,
    5 seconds by default), read when the test starts.  A test that runs
    longer is cancelled and `tornado.util.TimeoutError` is raised, with a
    message that names the test and shows the line it was waiting on.

    Example::

        class MyTest(AsyncHTTPTestCase):
            @gen_test(timeout=10)
            async def test_fetch(self):
                response = await self.http_client.fetch(self.get_url("/"))
                self.assertEqual(response.code, 200)
    """

    def decorate(function: _TestCoroutine) -> Callable[..., None]:
        @functools.wraps(function)
        def remember(self: AsyncTestCase, *args: Any, **kwargs: Any) -> Any:
            result = function(self, *args, **kwargs)
            if inspect.iscoroutine(result) or inspect.isgenerator(result):
                self._test_generator = result
            return result

        # Generator tests need tornado.gen's driver; native coroutines and
        # plain functions are run (or awaited) as they are.
        starter: Callable[..., Any] = (
            gen.coroutine(remember) if inspect.isgeneratorfunction(function) else remember
        )

        @functools.wraps(function)
        def run(self: AsyncTestCase, *args: Any, **kwargs: Any) -> None:
            limit = timeout if timeout is not None else get_async_test_timeout()
            result = self._run_test_coroutine(
                functools.partial(starter, self, *args, **kwargs), limit, function
            )
            # A gen_test test is a test: a returned value means a mistake.
            if result is not None:
                raise ValueError(f"Return value from test method ignored: {result!r}")

        return run

    if func is not None:
        return decorate(func)
    return decorate


# Pytest would otherwise try to collect the decorator as a test function.
gen_test.__test__ = False  # type: ignore[attr-defined]


class AsyncHTTPTestCase(AsyncTestCase):
    """An `AsyncTestCase` that starts an HTTP server and a client for each test.

    Subclasses implement `get_app`, which returns the application to serve
    (a `tornado.web.Application`, or any request callback that
    `~tornado.httpserver.HTTPServer` accepts).  Before each test, the server
    listens on a free port of 127.0.0.1 (``self.http_server``) and a client
    bound to the test's loop is ready (``self.http_client``); after it, both
    are shut down and open connections closed.

    `fetch` requests a path synchronously; in `gen_test` coroutines, use
    ``await self.http_client.fetch(self.get_url(path))``::

        class HelloTest(AsyncHTTPTestCase):
            def get_app(self):
                return Application([("/", HelloHandler)])

            def test_hello(self):
                response = self.fetch("/")
                self.assertEqual(response.code, 200)
    """

    # The HTTP modules are imported when a test starts, not with this
    # module: AsyncTestCase alone must not pull in the HTTP stack.

    def setUp(self) -> None:
        """Start the server on a free port and create the client."""
        super().setUp()
        sock, port = bind_unused_port()
        self.__port = port
        try:
            #: An `~tornado.httpclient.AsyncHTTPClient` for the test, closed afterwards.
            self.http_client = self.get_http_client()
            self._app = self.get_app()
            #: The `~tornado.httpserver.HTTPServer` serving `get_app`'s application.
            self.http_server = self.get_http_server()
            self.http_server.add_sockets([sock])
        except BaseException:
            # unittest skips tearDown when setUp fails: release what was
            # made so far here, or the socket and the loop leak.
            sock.close()
            client = getattr(self, "http_client", None)
            if client is not None:
                client.close()
            self._shut_down_loop()
            raise

    def get_http_client(self) -> AsyncHTTPClient:
        """Return the `~tornado.httpclient.AsyncHTTPClient` used by `fetch`."""
        from tornado.httpclient import AsyncHTTPClient

        client: AsyncHTTPClient = AsyncHTTPClient()
        return client

    def get_http_server(self) -> HTTPServer:
        """Return the `~tornado.httpserver.HTTPServer` for the application."""
        from tornado.httpserver import HTTPServer

        return HTTPServer(self._app, **self.get_httpserver_options())

    def get_app(self) -> Any:
        """Return the application to test; subclasses must implement this.

        Raises `NotImplementedError` when not overridden.
        """
        raise NotImplementedError()

    def fetch(self, path: str, raise_error: bool = False, **kwargs: Any) -> HTTPResponse:
        """Fetch ``path`` from the test server synchronously; return the response.

        ``path`` is relative to the server (``"/items?page=2"``); a full
        ``http://`` or ``https://`` URL is fetched as it is.  Other keyword
        arguments go to `~tornado.httpclient.AsyncHTTPClient.fetch`
        (``method="POST"``, ``body=...``, ``headers=...``).

        Responses with a non-200 status are returned, not raised, unless
        ``raise_error`` is true (then `~tornado.httpclient.HTTPError` is
        raised).  Connection errors are always raised.  The request is
        limited by `get_async_test_timeout` (`TimeoutError`).

        .. versionchanged:: 5.1
           Added ``raise_error``.
        """
        if path.lower().startswith(("http://", "https://")):
            url = path
        else:
            url = self.get_url(path)
        response: HTTPResponse = self.io_loop.run_sync(
            functools.partial(self.http_client.fetch, url, raise_error=raise_error, **kwargs),
            timeout=get_async_test_timeout(),
        )
        return response

    def get_httpserver_options(self) -> dict[str, Any]:
        """Return extra keyword arguments for the `~tornado.httpserver.HTTPServer`."""
        return {}

    def get_http_port(self) -> int:
        """Return the port the test server listens on (new for each test)."""
        return self.__port

    def get_protocol(self) -> str:
        """Return the URL scheme of the server: ``"http"``."""
        return "http"

    def get_url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on the test server."""
        return f"{self.get_protocol()}://127.0.0.1:{self.get_http_port()}{path}"

    def tearDown(self) -> None:
        """Stop the server, close its connections and the client, then the loop."""
        self.http_server.stop()
        self.io_loop.run_sync(
            self.http_server.close_all_connections, timeout=get_async_test_timeout()
        )
        self.http_client.close()
        del self.http_server
        del self._app
        super().tearDown()


def _bundled_certificate(name: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "_test_certs", name)


class AsyncHTTPSTestCase(AsyncHTTPTestCase):
    """An `AsyncHTTPTestCase` whose server speaks HTTPS.

    The server uses `get_ssl_options`: by default a self-signed certificate
    for ``localhost``/127.0.0.1 shipped with tornado-testing (for tests only;
    its private key is public).  The client does not verify certificates.
    """

    def get_http_client(self) -> AsyncHTTPClient:
        """Return a client that accepts the self-signed test certificate."""
        from tornado.httpclient import AsyncHTTPClient

        client: AsyncHTTPClient = AsyncHTTPClient(
            force_instance=True, defaults={"validate_cert": False}
        )
        return client

    def get_httpserver_options(self) -> dict[str, Any]:
        """Return the server options: ``ssl_options`` from `get_ssl_options`."""
        return {"ssl_options": self.get_ssl_options()}

    def get_ssl_options(self) -> dict[str, Any]:
        """Return the server's ``ssl_options``: `default_ssl_options`.

        Override to use another certificate (a dict as accepted by
        `~tornado.netutil.ssl_options_to_context`, or an `ssl.SSLContext`).
        """
        return self.default_ssl_options()

    @staticmethod
    def default_ssl_options() -> dict[str, Any]:
        """Return the bundled test certificate and key as ``ssl_options``
        (``certfile`` and ``keyfile``; a new dict on each call).

        A static method, so an override of `get_ssl_options` can build on
        it (adding ``ssl_version`` or ``ca_certs``, say) without a test case
        instance.
        """
        return {
            "certfile": _bundled_certificate("test.crt"),
            "keyfile": _bundled_certificate("test.key"),
        }

    def get_protocol(self) -> str:
        """Return ``"https"``."""
        return "https"


class ExpectLog(logging.Filter):
    """Context manager that expects, and swallows, matching log messages.

    Inside the ``with`` block, records logged on ``logger`` whose message
    matches ``regex`` (with `re.match`, i.e. anchored at the start) are
    counted in `matched` and not emitted; everything else passes through,
    so unexpected messages stay visible.  Not thread-safe.

    ``logger`` is a `logging.Logger` or a logger name (``""`` for the root
    logger).  Only records logged on that very logger are seen: records of
    child loggers that propagate to it are not.

    With ``required`` (the default), leaving the block without an exception
    and without any match raises `Exception` ("did not get expected log
    message").  ``level`` (e.g. ``logging.WARNING``) restricts matches to
    that level (a matching message at another level is let through, with a
    warning), and lowers the logger's level for the duration of the block if
    it would otherwise drop such records.

    Matching messages below ``WARNING`` without a ``level`` is deprecated:
    such a block emits a `DeprecationWarning` on exit when every match was
    below ``WARNING``.

    Attributes: `matched`, the number of swallowed records;
    `deprecated_level_matched`, how many of them were below ``WARNING``
    with no ``level`` given; `orig_level`, the logger's level before the
    block lowered it (None if it did not); `logged_stack`, True when any
    record seen carried a traceback.

    Usage::

        with ExpectLog("tornado.application", "Uncaught exception"):
            response = self.fetch("/broken")

    .. versionchanged:: 6.1
       Added ``level``; ``matched`` counts matches instead of being a flag.
    """

    def __init__(
        self,
        logger: logging.Logger | str,
        regex: str,
        required: bool = True,
        level: int | None = None,
    ) -> None:
        super().__init__()
        if isinstance(logger, str):
            logger = logging.getLogger(logger)
        self.logger = logger
        self.regex = re.compile(regex)
        self.required = required
        self.level = level
        #: How many records were matched (and swallowed).
        self.matched = 0
        #: True once any record seen by this filter carried exception info.
        self.logged_stack = False
        #: How many of the matched records were below ``WARNING`` while no
        #: ``level`` was given (the deprecated way of matching them).
        self.deprecated_level_matched = 0
        #: The logger's own level before the block lowered it to ``level``
        #: (restored on exit); None if the block did not change it.
        self.orig_level: int | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        """Swallow (return False for) a matching record; let others through."""
        if record.exc_info:
            self.logged_stack = True
        message = record.getMessage()
        if not self.regex.match(message):
            return True
        if self.level is not None and record.levelno != self.level:
            app_log.warning(
                "expected log message %r came at level %s instead of %s",
                message,
                record.levelname,
                logging.getLevelName(self.level),
            )
            return True
        if self.level is None and record.levelno < logging.WARNING:
            # Warning from inside the logging machinery would be swallowed
            # (or misattributed); remember it for __exit__ instead.
            self.deprecated_level_matched += 1
        self.matched += 1
        return False

    def __enter__(self) -> ExpectLog:
        """Start watching the logger; return self."""
        if self.level is not None and self.level < self.logger.getEffectiveLevel():
            self.orig_level = self.logger.level
            self.logger.setLevel(self.level)
        # First in line: a swallowed record must not reach the filter that
        # turns logged callback errors into test failures.
        if self not in self.logger.filters:
            self.logger.filters.insert(0, self)
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop watching; raise `Exception` if a required message never came."""
        self.logger.removeFilter(self)
        if self.orig_level is not None:
            self.logger.setLevel(self.orig_level)
        if typ is not None or not self.required:
            return
        if not self.matched:
            raise Exception(f"did not get expected log message matching {self.regex.pattern!r}")
        if self.deprecated_level_matched >= self.matched:
            warnings.warn(
                "ExpectLog matched messages below WARNING without a level argument",
                DeprecationWarning,
                stacklevel=2,
            )


_T = TypeVar("_T")


def setup_with_context_manager(testcase: unittest.TestCase, cm: AbstractContextManager[_T]) -> _T:
    """Enter ``cm`` for the rest of a test; return what it returns on entry.

    Meant for ``setUp``: ``cm`` is exited (with no exception) by a cleanup
    registered on ``testcase``, so it stays in effect through the test and
    its ``tearDown``.  For example, to change warning filters for a test::

        def setUp(self):
            setup_with_context_manager(self, warnings.catch_warnings())
            warnings.simplefilter("ignore", DeprecationWarning)
            super().setUp()

    .. versionadded:: 6.3
    """
    value = cm.__enter__()
    testcase.addCleanup(cm.__exit__, None, None, None)
    return value


def main(**kwargs: Any) -> None:
    """Run tests with `unittest.main`, parsing Tornado options and logging flags first.

    The command line is parsed by `tornado.options` (so ``--logging=debug``
    and the application's own options work), then the remaining arguments
    name the tests, as for ``python -m unittest``.  With no test named,
    the ``all()`` function of the ``__main__`` module provides the suite;
    ``python -m tornado.testing`` without a test name exits with an error.

    Options added here: ``--exception_on_interrupt`` (default true; false
    makes Ctrl-C kill the process at once instead of raising
    `KeyboardInterrupt`), and ``--verbose``, ``--quiet``, ``--failfast``,
    ``--catch``, ``--buffer`` (as for unittest).  ``kwargs`` are passed to
    `unittest.main` (e.g. ``verbosity=2``).  Exits the process (`SystemExit`)
    with unittest's status.

    Example, in ``tests/runtests.py``::

        def all():
            return unittest.defaultTestLoader.discover("tests")

        if __name__ == "__main__":
            tornado.testing.main()
    """
    from tornado.options import define, options, parse_command_line

    # main() may run more than once in a process (tests of the runner).
    if "exception_on_interrupt" not in options:
        define(
            "exception_on_interrupt",
            type=bool,
            default=True,
            help="If true (default), ctrl-c raises KeyboardInterrupt, which prints a "
            "traceback but cannot interrupt every operation; if false, ctrl-c kills "
            "the process at once",
        )
        for flag, help_text in [
            ("verbose", "show each test as it runs (unittest verbosity 2)"),
            ("quiet", "show less output (unittest verbosity 0)"),
            ("failfast", "stop at the first failure"),
            ("catch", "on ctrl-c, finish the running test and report results"),
            ("buffer", "buffer stdout and stderr during tests"),
        ]:
            define(flag, type=bool, help=help_text)

    argv = [sys.argv[0], *parse_command_line(sys.argv)]
    if not options.exception_on_interrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    if options.verbose:
        kwargs["verbosity"] = 2
    if options.quiet:
        kwargs["verbosity"] = 0
    for flag in ("failfast", "catch", "buffer"):
        if options[flag]:
            kwargs[flag] = True

    if len(argv) > 1:
        # Tests named on the command line replace the default suite.
        unittest.main(module=None, argv=argv, **kwargs)
    elif __name__ == "__main__":
        print("No tests specified", file=sys.stderr)
        sys.exit(1)
    else:
        unittest.main(defaultTest="all", argv=argv, **kwargs)


if __name__ == "__main__":
    main()
