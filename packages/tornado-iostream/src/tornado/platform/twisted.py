"""Bridges between Twisted and Tornado (``pip install tornado-iostream[twisted]``).

Importing this module teaches `tornado.gen.convert_yielded` about Twisted's
``Deferred``: a ``@gen.coroutine`` may ``yield`` one, and native coroutines
may ``await gen.convert_yielded(deferred)``.  The result comes back as the
value of the ``yield``; a failure is raised there as the exception Twisted
caught, with its traceback while Twisted still holds it.  (A bare ``await
deferred`` inside ``async def`` is Twisted's business and does not run on
asyncio; importing this module does not change that.)

Both libraries run on one asyncio event loop when Twisted's asyncio reactor
is installed, so their sockets, timers and callbacks interleave freely.

.. deprecated:: 6.0
   Not recommended for new code: Tornado and Twisted both integrate with
   `asyncio`, which is the way to combine them.
"""

from __future__ import annotations

import warnings
from typing import Any, cast

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from tornado import gen
from tornado.concurrent import Future, future_set_exc_info
from tornado.ioloop import IOLoop

__all__ = ["install"]


def install() -> None:
    """Install Twisted's ``AsyncioSelectorReactor`` as the global Twisted reactor.

    The reactor runs on the asyncio event loop that is running (or, called
    before any loop runs, on a new loop that becomes the current one, which
    `IOLoop.current` then wraps), so Twisted code and Tornado code share it.
    Call it early, before anything imports ``twisted.internet.reactor``;
    Twisted raises ``ReactorAlreadyInstalledError`` if a reactor is already
    installed.

    .. deprecated:: 5.1
       Kept for code that must also run on old Tornado versions; call
       ``twisted.internet.asyncioreactor.install()`` directly instead.

    .. versionchanged:: 6.0.3
       Restored, installing the asyncio reactor (before 6.0 it installed a
       reactor built on the `IOLoop`).
    """
    from twisted.internet import asyncioreactor

    asyncioreactor.install()  # type: ignore[no-untyped-call]


def _deferred_to_future(deferred: Deferred[Any]) -> Future[Any]:
    """A future that settles when *deferred* fires (`convert_yielded` for Deferreds).

    The Deferred's chain is consumed: its result, or ``None`` after a
    failure, is what later callbacks on it see, so Twisted does not report
    the failure as unhandled.  Cancelling the future cancels the Deferred.
    """
    future: Future[Any] = IOLoop.current().asyncio_loop.create_future()

    def on_result(value: Any) -> None:
        if not future.done():
            future.set_result(value)

    def on_failure(failure: Failure) -> None:
        if future.done():
            return  # cancelled by its waiter (which cancelled the Deferred)
        error = cast(BaseException, failure.value)  # always set on a Failure
        # ``tb`` is gone once Twisted cleaned the failure (it fired before
        # anyone listened); the exception is still the original one.
        if failure.tb is not None:
            error = error.with_traceback(failure.tb)
        future_set_exc_info(future, (type(error), error, error.__traceback__))

    def on_future_done(f: Future[Any]) -> None:
        if f.cancelled():
            deferred.cancel()

    deferred.addCallbacks(on_result, on_failure)
    future.add_done_callback(on_future_done)
    return future


gen.convert_yielded.register(Deferred, _deferred_to_future)


def __getattr__(name: str) -> Any:
    # TwistedResolver left upstream's public API in 6.5; code written for
    # 6.2-6.4 may still name it, so it resolves here, with a warning.
    if name == "TwistedResolver":
        warnings.warn(
            "tornado.platform.twisted.TwistedResolver is deprecated: use the "
            "default resolver (tornado.netutil.DefaultLoopResolver)",
            DeprecationWarning,
            stacklevel=2,
        )
        from tornado.platform._twisted_resolver import TwistedResolver

        return TwistedResolver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
