"""Run every tornado-ioloop test on asyncio's default loop and on uvloop.

Async tests get their loop from pytest-asyncio, whose loop-factory hook
parametrizes them over both implementations.  Synchronous tests that build
their own loops (``IOLoop()``, ``run_sync``) take the ``loop_policy`` fixture,
which installs the matching event loop policy for the test's duration.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable, Iterator, Mapping

import pytest

try:
    import uvloop
except ImportError:  # uvloop does not exist on Windows
    uvloop = None

LOOP_FACTORIES: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop
}
if uvloop is not None:
    LOOP_FACTORIES["uvloop"] = uvloop.new_event_loop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    return LOOP_FACTORIES


def _make_policy(name: str) -> asyncio.AbstractEventLoopPolicy:
    if name == "uvloop":
        assert uvloop is not None
        return uvloop.EventLoopPolicy()  # type: ignore[no-any-return]
    return asyncio.DefaultEventLoopPolicy()


@pytest.fixture(params=sorted(LOOP_FACTORIES))
def loop_policy(request: pytest.FixtureRequest) -> Iterator[str]:
    """Install the event loop policy of one loop implementation; yield its name."""
    with warnings.catch_warnings():
        # Policies are deprecated from Python 3.14 on; they are still how
        # IOLoop() (asyncio.new_event_loop) picks the implementation.
        warnings.simplefilter("ignore", DeprecationWarning)
        old = asyncio.get_event_loop_policy()
        asyncio.set_event_loop_policy(_make_policy(request.param))
    try:
        yield request.param
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_event_loop_policy(old)
