"""The pytest plugin of tornado-testing: fixtures and coroutine tests on Tornado's loop.

Installing tornado-testing registers this module with pytest (entry point
``pytest11``, plugin name ``tornado-testing``); nothing needs configuring.
The package README documents the fixtures; this docstring states the rule
that decides who runs a coroutine test function, since pytest-asyncio may be
installed too.

A coroutine (``async def``) test function, or a generator function marked
``gen_test``, is run by this plugin on the ``io_loop`` fixture when:

1. it has no explicit ``asyncio`` mark (tests marked for pytest-asyncio are
   always left to it), and
2. one of the following holds:

   a. it is marked ``@pytest.mark.gen_test`` (optionally with ``timeout``);
   b. it uses the ``io_loop`` fixture, directly or through another fixture
      (``http_client``, ``fetch``, ``http_server``, ...): those objects are
      bound to our loop, so the test must run on it;
   c. pytest-asyncio is not active, or runs in strict mode (where it leaves
      unmarked coroutines alone).

So in pytest-asyncio's *auto* mode, a plain ``async def`` test that uses no
Tornado fixture stays pytest-asyncio's, and everything else is ours.  A test
carrying both an explicit ``asyncio`` mark and ``gen_test`` is an error.

The timeout of a test, in seconds, is the first of: the ``gen_test`` mark's
``timeout``; the ``--async-test-timeout`` command-line option; the
``ASYNC_TEST_TIMEOUT`` environment variable; the ``async_test_timeout`` ini
setting; 5.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import warnings
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.process import Subprocess
from tornado.testing import (
    _bundled_certificate,
    _cancel_leaked_tasks,
    _CoroutineRun,
    _FailureWatch,
    _TimeoutDescription,
    bind_unused_port,
    get_async_test_timeout,
)

_OWNED_BY_TORNADO = pytest.StashKey[bool]()
_MARKER = "gen_test"
_LOOP_FIXTURE = "io_loop"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--async-test-timeout`` and the ``async_test_timeout`` ini setting."""
    group = parser.getgroup("tornado-testing", "Tornado coroutine tests")
    group.addoption(
        "--async-test-timeout",
        type=float,
        default=None,
        dest="async_test_timeout",
        metavar="SECONDS",
        help="default timeout of coroutine tests run on the tornado io_loop "
        "(default: $ASYNC_TEST_TIMEOUT, else the async_test_timeout ini value, else 5)",
    )
    parser.addini(
        "async_test_timeout",
        type="string",
        default="",
        help="default timeout in seconds of coroutine tests run on the tornado io_loop",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``gen_test`` marker."""
    config.addinivalue_line(
        "markers",
        "gen_test(timeout=None): run this coroutine (or tornado.gen generator) test on the "
        "tornado io_loop fixture, failing it after `timeout` seconds",
    )


# ---------------------------------------------------------------------------
# Deciding which tests are ours (see the module docstring).


def _test_function(item: pytest.Item) -> Any:
    function = getattr(item, "obj", None)
    return getattr(function, "__func__", function)


def _is_coroutine_test(item: pytest.Item) -> bool:
    function = _test_function(item)
    if inspect.iscoroutinefunction(function):
        return True
    return inspect.isgeneratorfunction(function) and item.get_closest_marker(_MARKER) is not None


def _explicit_asyncio_mark(item: pytest.Item) -> bool:
    """Whether the test itself, its parametrization or a parent carries ``asyncio``.

    In auto mode pytest-asyncio adds that mark to the item itself, so the
    item's own markers cannot tell; the function object's marks can.
    """
    if any(mark.name == "asyncio" for mark in getattr(_test_function(item), "pytestmark", [])):
        return True
    callspec = getattr(item, "callspec", None)
    if callspec is not None and any(mark.name == "asyncio" for mark in callspec.marks):
        return True
    return item.parent is not None and item.parent.get_closest_marker("asyncio") is not None


def _pytest_asyncio_auto_mode(config: pytest.Config) -> bool:
    if not config.pluginmanager.hasplugin("asyncio"):
        return False
    mode = config.getoption("asyncio_mode", None) or config.getini("asyncio_mode")
    return bool(mode == "auto")


def _is_ours(item: pytest.Item, auto_mode: bool) -> bool:
    if not isinstance(item, pytest.Function) or not _is_coroutine_test(item):
        return False
    if _explicit_asyncio_mark(item):
        if item.get_closest_marker(_MARKER) is not None:
            raise pytest.UsageError(
                f"{item.nodeid} is marked both asyncio (pytest-asyncio) and gen_test "
                "(tornado-testing); keep one"
            )
        return False
    if item.get_closest_marker(_MARKER) is not None or _LOOP_FIXTURE in item.fixturenames:
        return True
    return not auto_mode


def _as_plain_function(item: pytest.Function) -> pytest.Function:
    """Rebuild an item pytest-asyncio took over in auto mode as a plain `pytest.Function`.

    The new item gets its marks from the test function again, so the
    ``asyncio`` mark pytest-asyncio added to the old item is gone.
    """
    assert item.parent is not None
    return pytest.Function.from_parent(
        item.parent,
        name=item.name,
        callspec=getattr(item, "callspec", None),
        fixtureinfo=item._fixtureinfo,
        originalname=item.originalname,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> list[pytest.Item | pytest.Collector] | None:
    """Collect generator test functions marked ``gen_test`` (pytest-tornado style).

    pytest refuses generator tests; marked ones are `tornado.gen` coroutines.
    """
    if not (inspect.isgeneratorfunction(obj) and collector.istestfunction(obj, name)):
        return None
    marks = getattr(obj, "pytestmark", [])
    if not any(m.name == _MARKER for m in marks) and collector.get_closest_marker(_MARKER) is None:
        return None
    # _genfunctions is how pytest itself turns a function into items (with
    # parametrization); there is no public equivalent.
    return list(collector._genfunctions(name, obj))


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Claim the coroutine tests this plugin runs (see the module docstring)."""
    auto_mode = _pytest_asyncio_auto_mode(config)
    for index, item in enumerate(items):
        if not _is_ours(item, auto_mode):
            continue
        assert isinstance(item, pytest.Function)
        if type(item) is not pytest.Function and type(item).__module__.startswith("pytest_asyncio"):
            item = _as_plain_function(item)
            items[index] = item
        item.stash[_OWNED_BY_TORNADO] = True
        if _LOOP_FIXTURE not in item.fixturenames:
            item.fixturenames.append(_LOOP_FIXTURE)


# ---------------------------------------------------------------------------
# Running them.


def _float_or_none(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _timeout_for(item: pytest.Function) -> float:
    marker = item.get_closest_marker(_MARKER)
    if marker is not None:
        value = marker.kwargs.get("timeout", marker.args[0] if marker.args else None)
        if value is not None:
            return float(value)
    option = item.config.getoption("async_test_timeout", None)
    if option is not None:
        return float(option)
    if _float_or_none(os.environ.get("ASYNC_TEST_TIMEOUT")) is not None:
        return get_async_test_timeout()
    ini = _float_or_none(item.config.getini("async_test_timeout"))
    if ini is not None:
        return ini
    return get_async_test_timeout()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a claimed coroutine test on its ``io_loop`` under the timeout."""
    if not pyfuncitem.stash.get(_OWNED_BY_TORNADO, False):
        return None
    io_loop = pyfuncitem.funcargs[_LOOP_FIXTURE]
    assert isinstance(io_loop, IOLoop), "the io_loop fixture must return a tornado IOLoop"
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    function = pyfuncitem.obj
    started: list[object] = []

    def start() -> Any:
        result = function(**arguments)
        started.append(result)
        return result

    starter = gen.coroutine(start) if inspect.isgeneratorfunction(function) else start
    timeout = _timeout_for(pyfuncitem)
    run = _CoroutineRun(
        io_loop,
        starter,
        timeout,
        _TimeoutDescription(pyfuncitem.nodeid, timeout),
        lambda: started[0] if started else None,
    )
    failures: list[BaseException] = []

    def on_failure(error: BaseException) -> None:
        failures.append(error)
        run.abort(error)

    watch = _FailureWatch(io_loop, on_failure)
    watch.start()
    try:
        result = run.run()
    finally:
        watch.stop()
    if failures:
        # The coroutine finished in the same loop iteration as the failing
        # callback ran; the failure still belongs to this test.
        raise failures[0]
    if result is not None:
        warnings.warn(
            pytest.PytestReturnNotNoneWarning(
                f"Test functions should return None, but {pyfuncitem.nodeid} returned "
                f"{type(result)!r}."
            ),
            stacklevel=1,
        )
    return True


# ---------------------------------------------------------------------------
# Fixtures.


@pytest.fixture
def io_loop() -> Iterator[IOLoop]:
    """A new `tornado.ioloop.IOLoop` for the test, current while it runs.

    Coroutine tests run on it.  Afterwards, tasks still pending on it are
    cancelled (errors they end with fail the test at teardown) and it is
    closed.  Override this fixture to use another loop.
    """
    loop: IOLoop = IOLoop(make_current=False)
    asyncio.set_event_loop(loop.asyncio_loop)
    try:
        yield loop
    finally:
        errors = _cancel_leaked_tasks(loop, get_async_test_timeout())
        Subprocess.uninitialize()
        asyncio.set_event_loop(None)
        loop.close(all_fds=True)
    if errors:
        raise errors[0]


@pytest.fixture
def app() -> Any:
    """The application under test: define this fixture in your tests or conftest.py.

    It returns a `tornado.web.Application` (or any request callback
    `~tornado.httpserver.HTTPServer` accepts).  This default fails the test
    with a message saying so.
    """
    pytest.fail(
        "the tornado-testing HTTP fixtures need an `app` fixture that returns the "
        "tornado.web.Application to test; define one in your test module or conftest.py",
        pytrace=False,
    )


@pytest.fixture
def http_server_options() -> dict[str, Any]:
    """Extra keyword arguments for the `~tornado.httpserver.HTTPServer` (none by default)."""
    return {}


@pytest.fixture
def ssl_options() -> Any:
    """``ssl_options`` of the HTTPS server: the self-signed test certificate bundled
    with tornado-testing (for 127.0.0.1 and localhost; never use it elsewhere).

    Override to return another dict or an `ssl.SSLContext`.
    """
    return {
        "certfile": _bundled_certificate("test.crt"),
        "keyfile": _bundled_certificate("test.key"),
    }


class _ListeningSocket:
    """A socket bound to a free port of 127.0.0.1, closed at teardown unless served."""

    def __init__(self) -> None:
        self.socket, self.port = bind_unused_port()

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def _tornado_http_socket() -> Iterator[_ListeningSocket]:
    listening = _ListeningSocket()
    yield listening
    listening.close()


@pytest.fixture
def _tornado_https_socket() -> Iterator[_ListeningSocket]:
    listening = _ListeningSocket()
    yield listening
    listening.close()


def _serve(
    io_loop: IOLoop, app: Any, listening: _ListeningSocket, options: dict[str, Any]
) -> Iterator[Any]:
    from tornado.httpserver import HTTPServer

    server = HTTPServer(app, **options)
    server.add_sockets([listening.socket])
    yield server
    server.stop()
    io_loop.run_sync(server.close_all_connections, timeout=get_async_test_timeout())


@pytest.fixture
def http_server_port(_tornado_http_socket: _ListeningSocket) -> int:
    """The port (on 127.0.0.1) the ``http_server`` fixture listens on."""
    return _tornado_http_socket.port


@pytest.fixture
def http_server(
    io_loop: IOLoop,
    app: Any,
    _tornado_http_socket: _ListeningSocket,
    http_server_options: dict[str, Any],
) -> Iterator[Any]:
    """An `~tornado.httpserver.HTTPServer` serving the ``app`` fixture on 127.0.0.1.

    It listens on ``http_server_port`` with the ``http_server_options``;
    afterwards it stops and its open connections are closed.
    """
    yield from _serve(io_loop, app, _tornado_http_socket, http_server_options)


@pytest.fixture
def base_url(http_server: Any, http_server_port: int) -> str:
    """``http://127.0.0.1:<port>`` of the running ``http_server`` (no trailing slash)."""
    return f"http://127.0.0.1:{http_server_port}"


@pytest.fixture
def https_server_port(_tornado_https_socket: _ListeningSocket) -> int:
    """The port (on 127.0.0.1) the ``https_server`` fixture listens on."""
    return _tornado_https_socket.port


@pytest.fixture
def https_server(
    io_loop: IOLoop,
    app: Any,
    _tornado_https_socket: _ListeningSocket,
    http_server_options: dict[str, Any],
    ssl_options: Any,
) -> Iterator[Any]:
    """An HTTPS `~tornado.httpserver.HTTPServer` serving ``app`` with ``ssl_options``."""
    options = {**http_server_options, "ssl_options": ssl_options}
    yield from _serve(io_loop, app, _tornado_https_socket, options)


@pytest.fixture
def https_base_url(https_server: Any, https_server_port: int) -> str:
    """``https://127.0.0.1:<port>`` of the running ``https_server``."""
    return f"https://127.0.0.1:{https_server_port}"


def _new_client(defaults: dict[str, Any] | None = None) -> Any:
    from tornado.httpclient import AsyncHTTPClient

    return AsyncHTTPClient(force_instance=True, defaults=defaults)


@pytest.fixture
def http_client(io_loop: IOLoop) -> Iterator[Any]:
    """A new `~tornado.httpclient.AsyncHTTPClient` on ``io_loop``, closed afterwards."""
    client = _new_client()
    yield client
    client.close()


@pytest.fixture
def https_client(io_loop: IOLoop) -> Iterator[Any]:
    """Like ``http_client``, but accepting the self-signed test certificate."""
    client = _new_client({"validate_cert": False})
    yield client
    client.close()


Fetch = Callable[..., Awaitable[Any]]


def _fetcher(client: Any, base: str) -> Fetch:
    async def fetch(path: str, raise_error: bool = False, **kwargs: Any) -> Any:
        """Fetch ``path`` (relative to the test server, or a full URL); return the response.

        Non-200 responses are returned unless ``raise_error`` is true, as
        with `tornado.testing.AsyncHTTPTestCase.fetch`; other keyword
        arguments go to `~tornado.httpclient.AsyncHTTPClient.fetch`.
        """
        url = path if path.lower().startswith(("http://", "https://")) else base + path
        return await client.fetch(url, raise_error=raise_error, **kwargs)

    return fetch


@pytest.fixture
def fetch(http_client: Any, base_url: str) -> Fetch:
    """``await fetch("/path", **kwargs)``: request the ``http_server``, return the response.

    ``path`` is relative to ``base_url`` (a full URL is used as it is);
    keyword arguments go to `~tornado.httpclient.AsyncHTTPClient.fetch`.
    Unlike the client, error statuses are returned, not raised, unless
    ``raise_error=True`` is passed.
    """
    return _fetcher(http_client, base_url)


@pytest.fixture
def https_fetch(https_client: Any, https_base_url: str) -> Fetch:
    """``fetch`` for the ``https_server``."""
    return _fetcher(https_client, https_base_url)


class HTTPServerClient:
    """A client for one test server whose `fetch` takes paths (pytest-tornasync's shape)."""

    def __init__(self, client: Any, base: str) -> None:
        self._client = client
        self._base = base

    def get_url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on the server."""
        return self._base + path

    async def fetch(self, path: str, **kwargs: Any) -> Any:
        """Fetch ``path`` from the server with the client's defaults (errors raise)."""
        return await self._client.fetch(self.get_url(path), **kwargs)


@pytest.fixture
def http_server_client(http_client: Any, base_url: str) -> HTTPServerClient:
    """pytest-tornasync's client: ``await http_server_client.fetch("/path")``.

    Unlike ``fetch``, error statuses raise `~tornado.httpclient.HTTPClientError`
    (the client's default), as in pytest-tornasync.
    """
    return HTTPServerClient(http_client, base_url)


# pytest-tornado's names for the same fixtures.


@pytest.fixture
def http_port(http_server_port: int) -> int:
    """pytest-tornado's name for ``http_server_port``."""
    return http_server_port


@pytest.fixture
def https_port(https_server_port: int) -> int:
    """pytest-tornado's name for ``https_server_port``."""
    return https_server_port
