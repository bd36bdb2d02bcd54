"""AsyncTestCase and gen_test, run through unittest so failures can be inspected."""

from __future__ import annotations

import asyncio
import logging
import unittest
from collections.abc import Generator
from typing import Any

import pytest

from tornado import gen
from tornado.ioloop import IOLoop
from tornado.testing import AsyncTestCase, ExpectLog, gen_test


def run_case(case: type[unittest.TestCase], name: str) -> unittest.TestResult:
    """Run one test of ``case`` and return the result."""
    result = unittest.TestResult()
    case(name).run(result)
    return result


def single_problem(result: unittest.TestResult) -> str:
    """The one error or failure of ``result`` (its formatted traceback)."""
    problems = result.errors + result.failures
    assert len(problems) == 1, problems
    return problems[0][1]


def assert_passed(result: unittest.TestResult) -> None:
    assert result.wasSuccessful(), result.errors + result.failures
    assert result.testsRun == 1


class Recorder:
    """Collects what inner tests observed, for assertions outside them."""

    seen: dict[str, Any] = {}


class Seen:
    handlers: list[logging.Handler] = []


class TestStopWait:
    def test_wait_returns_positional_argument_of_stop(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> None:
                self.io_loop.add_callback(self.stop, "value")
                Recorder.seen["value"] = self.wait()

        assert_passed(run_case(Case, "test_it"))
        assert Recorder.seen["value"] == "value"

    def test_wait_returns_keyword_arguments_as_dict(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> None:
                self.io_loop.add_callback(lambda: self.stop(a=1, b=2))
                Recorder.seen["kwargs"] = self.wait()

        assert_passed(run_case(Case, "test_it"))
        assert Recorder.seen["kwargs"] == {"a": 1, "b": 2}

    def test_stop_before_wait_returns_at_once(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> None:
                self.stop(7)
                Recorder.seen["early"] = self.wait()

        assert_passed(run_case(Case, "test_it"))
        assert Recorder.seen["early"] == 7

    def test_several_rounds_and_condition(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> None:
                counter = []

                def tick() -> None:
                    counter.append(1)
                    self.stop()
                    if len(counter) < 3:
                        self.io_loop.add_callback(tick)

                self.io_loop.add_callback(tick)
                self.wait(condition=lambda: len(counter) == 3)
                Recorder.seen["ticks"] = len(counter)
                self.io_loop.add_callback(self.stop, "second round")
                Recorder.seen["second"] = self.wait()

        assert_passed(run_case(Case, "test_it"))
        assert Recorder.seen["ticks"] == 3
        assert Recorder.seen["second"] == "second round"

    def test_wait_times_out_with_failure_exception(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> None:
                self.wait(timeout=0.01)

        result = run_case(Case, "test_it")
        assert len(result.failures) == 1
        assert "Async operation timed out after 0.01 seconds" in result.failures[0][1]

    def test_wait_timeout_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ASYNC_TEST_TIMEOUT", "0.02")

        class Case(AsyncTestCase):
            def test_it(self) -> None:
                self.wait()

        result = run_case(Case, "test_it")
        assert "timed out after 0.02 seconds" in single_problem(result)

    def test_timeout_of_first_wait_does_not_carry_over(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> None:
                self.io_loop.add_callback(self.stop)
                self.wait(timeout=0.05)
                # The first deadline must be gone: this wait ends by stop().
                self.io_loop.add_callback(self.stop, "ok")
                Recorder.seen["after"] = self.wait(timeout=10)

        assert_passed(run_case(Case, "test_it"))
        assert Recorder.seen["after"] == "ok"


class TestLoopLifecycle:
    def test_each_test_gets_a_new_current_loop_closed_afterwards(self) -> None:
        loops: list[IOLoop] = []

        class Case(AsyncTestCase):
            def test_a(self) -> None:
                loops.append(self.io_loop)
                assert IOLoop.current() is self.io_loop
                assert asyncio.get_event_loop() is self.io_loop.asyncio_loop

            test_b = test_a

        assert_passed(run_case(Case, "test_a"))
        assert_passed(run_case(Case, "test_b"))
        assert loops[0] is not loops[1]
        assert all(loop.asyncio_loop.is_closed() for loop in loops)

    def test_get_new_ioloop_may_return_an_existing_loop_which_stays_open(self) -> None:
        existing = asyncio.new_event_loop()
        asyncio.set_event_loop(existing)
        try:

            class Case(AsyncTestCase):
                def get_new_ioloop(self) -> IOLoop:
                    return IOLoop.current()

                def test_it(self) -> None:
                    Recorder.seen["wrapped"] = self.io_loop.asyncio_loop

            assert_passed(run_case(Case, "test_it"))
            assert Recorder.seen["wrapped"] is existing
            assert not existing.is_closed()
        finally:
            asyncio.set_event_loop(None)
            existing.close()

    def test_setup_and_teardown_of_other_bases_are_called(self) -> None:
        events: list[str] = []

        class Base(unittest.TestCase):
            def setUp(self) -> None:
                events.append("base setUp")

            def tearDown(self) -> None:
                events.append("base tearDown")

        class Case(AsyncTestCase, Base):
            def test_it(self) -> None:
                events.append("test")

        assert_passed(run_case(Case, "test_it"))
        assert events == ["base setUp", "test", "base tearDown"]

    def test_instantiating_without_method_name_works(self) -> None:
        # pytest 8.2+ instantiates test classes with the default name.
        class Case(AsyncTestCase):
            def test_it(self) -> None:
                pass

        Case()


class TestCallbackFailures:
    def test_exception_in_callback_is_raised_by_wait(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> None:
                self.io_loop.add_callback(lambda: 1 / 0)
                self.wait()

        assert "ZeroDivisionError" in single_problem(run_case(Case, "test_it"))

    def test_exception_in_callback_fails_only_the_test_that_caused_it(self) -> None:
        class Case(AsyncTestCase):
            def test_bad(self) -> None:
                empty: dict[str, int] = {}
                self.io_loop.add_callback(lambda: empty["missing"])
                self.io_loop.run_sync(lambda: None)

            def test_good(self) -> None:
                self.io_loop.add_callback(self.stop, 1)
                assert self.wait() == 1

        result = unittest.TestResult()
        unittest.TestSuite([Case("test_bad"), Case("test_good")]).run(result)
        problems = result.errors + result.failures
        assert len(problems) == 1
        assert problems[0][0].id().endswith("test_bad")
        assert "KeyError: 'missing'" in problems[0][1]

    def test_exception_in_spawned_coroutine_aborts_gen_test(self) -> None:
        class Case(AsyncTestCase):
            @gen_test(timeout=30)
            async def test_it(self) -> None:
                async def broken() -> None:
                    raise ValueError("from the background")

                self.io_loop.spawn_callback(broken)
                # Never resolved: only the failure can end this test early.
                await asyncio.Event().wait()

        problem = single_problem(run_case(Case, "test_it"))
        assert "ValueError: from the background" in problem
        assert "timed out" not in problem

    def test_expected_callback_error_does_not_fail_the_test(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> None:
                def explode() -> None:
                    raise ZeroDivisionError("expected")

                with ExpectLog("tornado.application", "Exception in callback", level=40):
                    self.io_loop.add_callback(explode)
                    self.io_loop.add_callback(self.stop)
                    self.wait()

        assert_passed(run_case(Case, "test_it"))

    def test_watching_adds_no_log_handler(self) -> None:
        # A handler would count as "logging configured" and hide the output of
        # unconfigured test runs.
        app_log = logging.getLogger("tornado.application")
        before = list(app_log.handlers)

        class Case(AsyncTestCase):
            def test_it(self) -> None:
                Seen.handlers = list(app_log.handlers)

        assert_passed(run_case(Case, "test_it"))
        assert Seen.handlers == before

    def test_exception_in_raw_asyncio_callback_fails_the_test(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> None:
                def boom() -> None:
                    raise RuntimeError("raw asyncio")

                self.io_loop.asyncio_loop.call_soon(boom)
                self.wait()

        assert "RuntimeError: raw asyncio" in single_problem(run_case(Case, "test_it"))


class TestReturnValues:
    def test_undecorated_coroutine_test_is_an_error(self) -> None:
        class Case(AsyncTestCase):
            async def test_it(self) -> None:
                pass

        problem = single_problem(run_case(Case, "test_it"))
        assert "should be decorated with tornado.testing.gen_test" in problem

    def test_undecorated_generator_test_is_an_error(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> Generator[None]:
                yield

        assert "should be decorated" in single_problem(run_case(Case, "test_it"))

    def test_skipped_undecorated_generator_is_just_skipped(self) -> None:
        class Case(AsyncTestCase):
            @unittest.skip("not now")
            def test_it(self) -> Generator[None]:
                yield

        result = run_case(Case, "test_it")
        assert not result.errors
        assert len(result.skipped) == 1

    def test_other_return_value_is_an_error(self) -> None:
        class Case(AsyncTestCase):
            def test_it(self) -> int:
                return 42

        assert "Return value from test method ignored: 42" in single_problem(
            run_case(Case, "test_it")
        )


class TestGenTest:
    def test_native_coroutine_runs_on_the_test_loop(self) -> None:
        class Case(AsyncTestCase):
            @gen_test
            async def test_it(self) -> None:
                await asyncio.sleep(0)
                Recorder.seen["running"] = IOLoop.current() is self.io_loop

        assert_passed(run_case(Case, "test_it"))
        assert Recorder.seen["running"] is True

    def test_generator_in_gen_style(self) -> None:
        class Case(AsyncTestCase):
            @gen_test
            def test_it(self) -> Generator[Any, Any, None]:
                value = yield gen.moment
                Recorder.seen["gen"] = value
                yield asyncio.sleep(0)

        assert_passed(run_case(Case, "test_it"))

    def test_with_arguments_and_options(self) -> None:
        class Case(AsyncTestCase):
            @gen_test(timeout=10)
            async def helper(self, a: int, *, b: int) -> None:
                Recorder.seen["args"] = (a, b)

            def test_it(self) -> None:
                self.helper(1, b=2)

        assert_passed(run_case(Case, "test_it"))
        assert Recorder.seen["args"] == (1, 2)

    def test_exception_in_test_coroutine_fails_it(self) -> None:
        class Case(AsyncTestCase):
            @gen_test
            async def test_it(self) -> None:
                await asyncio.sleep(0)
                raise AssertionError("inner failure")

        result = run_case(Case, "test_it")
        assert len(result.failures) == 1
        assert "inner failure" in result.failures[0][1]

    def test_timeout_names_the_test_and_the_waiting_line(self) -> None:
        class Case(AsyncTestCase):
            @gen_test(timeout=0.05)
            async def test_stuck(self) -> None:
                await asyncio.Event().wait()  # the line the report must show

        problem = single_problem(run_case(Case, "test_stuck"))
        assert "TimeoutError" in problem
        assert "Case.test_stuck timed out after 0.05 seconds" in problem
        assert "await asyncio.Event().wait()  # the line the report must show" in problem

    def test_timeout_follows_nested_awaits(self) -> None:
        class Case(AsyncTestCase):
            @gen_test(timeout=0.05)
            async def test_stuck(self) -> None:
                await self.inner()

            async def inner(self) -> None:
                await asyncio.Event().wait()  # inner wait

        problem = single_problem(run_case(Case, "test_stuck"))
        assert "await self.inner()" in problem
        assert "# inner wait" in problem

    def test_timeout_of_generator_test_shows_the_yield(self) -> None:
        class Case(AsyncTestCase):
            @gen_test(timeout=0.05)
            def test_stuck(self) -> Generator[Any, Any, None]:
                yield asyncio.Event().wait()  # stuck here

        problem = single_problem(run_case(Case, "test_stuck"))
        assert "timed out after 0.05 seconds" in problem
        assert "# stuck here" in problem

    def test_timeout_runs_the_finally_blocks_of_the_test(self) -> None:
        class Case(AsyncTestCase):
            @gen_test(timeout=0.05)
            async def test_stuck(self) -> None:
                try:
                    await asyncio.Event().wait()
                finally:
                    Recorder.seen["cleaned"] = True

        single_problem(run_case(Case, "test_stuck"))
        assert Recorder.seen["cleaned"] is True

    def test_environment_variable_sets_default_timeout(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ASYNC_TEST_TIMEOUT", "0.03")

        class Case(AsyncTestCase):
            @gen_test
            async def test_stuck(self) -> None:
                await asyncio.Event().wait()

        assert "timed out after 0.03 seconds" in single_problem(run_case(Case, "test_stuck"))

    def test_explicit_timeout_wins_over_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ASYNC_TEST_TIMEOUT", "100")

        class Case(AsyncTestCase):
            @gen_test(timeout=0.02)
            async def test_stuck(self) -> None:
                await asyncio.Event().wait()

        assert "timed out after 0.02 seconds" in single_problem(run_case(Case, "test_stuck"))

    def test_timeout_is_tornado_timeout_error(self) -> None:
        from tornado.util import TimeoutError as TornadoTimeoutError

        caught: list[BaseException] = []

        class Case(AsyncTestCase):
            def test_it(self) -> None:
                @gen_test(timeout=0.02)
                async def inner(self: AsyncTestCase) -> None:
                    await asyncio.Event().wait()

                try:
                    inner(self)
                except TornadoTimeoutError as e:
                    caught.append(e)

        assert_passed(run_case(Case, "test_it"))
        assert "inner (in " in str(caught[0])

    def test_returning_a_value_is_an_error(self) -> None:
        class Case(AsyncTestCase):
            @gen_test
            async def test_it(self) -> int:
                return 3

        assert "Return value from test method ignored: 3" in single_problem(
            run_case(Case, "test_it")
        )


class TestLeakedTasks:
    def test_pending_task_is_cancelled_at_teardown(self) -> None:
        tasks: list[asyncio.Task[bool]] = []

        class Case(AsyncTestCase):
            @gen_test
            async def test_it(self) -> None:
                tasks.append(asyncio.ensure_future(asyncio.Event().wait()))

        assert_passed(run_case(Case, "test_it"))
        assert tasks[0].cancelled()

    def test_leaked_task_failing_on_cancellation_fails_the_test(self) -> None:
        class Case(AsyncTestCase):
            @gen_test
            async def test_it(self) -> None:
                async def stubborn() -> None:
                    try:
                        await asyncio.Event().wait()
                    except asyncio.CancelledError:
                        raise LookupError("cleanup went wrong") from None

                # Deliberately left running when the test ends.
                Recorder.seen["stubborn"] = asyncio.ensure_future(stubborn())
                await asyncio.sleep(0)

        assert "LookupError: cleanup went wrong" in single_problem(run_case(Case, "test_it"))
