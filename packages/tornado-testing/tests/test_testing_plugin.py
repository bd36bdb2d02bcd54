"""The pytest plugin, exercised through real inner pytest sessions (subprocesses)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

# The run_inner fixture (conftest.py) runs an inner pytest session and returns
# an InnerRun (return code, stdout/stderr LineMatchers, assert_outcomes).
RunInner = Callable[..., Any]

INI_STRICT = """
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
asyncio_default_test_loop_scope = function
filterwarnings = error
"""

INI_AUTO = INI_STRICT.replace("strict", "auto")


def run(run_inner: RunInner, source: str, *args: str, ini: str = INI_STRICT) -> Any:
    return run_inner(source, *args, ini=ini)


class TestCoroutineTests:
    def test_unmarked_coroutine_runs_on_the_io_loop_fixture(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            import asyncio
            from tornado.ioloop import IOLoop

            async def test_on_loop(io_loop):
                assert asyncio.get_running_loop() is io_loop.asyncio_loop
                assert IOLoop.current() is io_loop
                await asyncio.sleep(0)

            async def test_without_requesting_the_loop():
                assert IOLoop.current() is not None
            """,
        )
        result.assert_outcomes(passed=2)

    def test_works_without_pytest_asyncio(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            import asyncio

            async def test_it(io_loop):
                await asyncio.sleep(0)
            """,
            "-p",
            "no:asyncio",
            ini="[pytest]\nfilterwarnings = error\n",
        )
        result.assert_outcomes(passed=1)

    def test_generator_test_marked_gen_test(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            import pytest
            from tornado import gen

            @pytest.mark.gen_test
            def test_yield_style(io_loop):
                value = yield gen.maybe_future(3)
                assert value == 3

            @pytest.mark.gen_test
            @pytest.mark.parametrize("n", [1, 2])
            def test_parametrized(n):
                yield gen.moment
                assert n in (1, 2)
            """,
        )
        result.assert_outcomes(passed=3)

    def test_failure_in_test_body_is_reported(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            import asyncio

            async def test_fails():
                await asyncio.sleep(0)
                assert 1 == 2, "inner mismatch"
            """,
        )
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["*inner mismatch*"])

    def test_sync_test_can_use_the_loop(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            import asyncio

            def test_sync(io_loop):
                assert io_loop.run_sync(lambda: asyncio.sleep(0, "done")) == "done"
            """,
        )
        result.assert_outcomes(passed=1)

    def test_returning_a_value_warns(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            async def test_returns():
                return 5
            """,
            ini=INI_STRICT.replace("filterwarnings = error\n", ""),
        )
        result.assert_outcomes(passed=1, warnings=1)
        result.stdout.fnmatch_lines(["*should return None*"])


class TestTimeouts:
    STUCK = """
        import asyncio
        import pytest

        {decorator}
        async def test_stuck():
            await asyncio.Event().wait()  # waiting here
        """

    def test_marker_timeout_names_test_and_line(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            self.STUCK.format(decorator="@pytest.mark.gen_test(timeout=0.05)"),
        )
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(
            [
                "*TimeoutError: test_sample.py::test_stuck timed out after 0.05 seconds while waiting at:",
                "*await asyncio.Event().wait()  # waiting here",
            ]
        )

    def test_marker_timeout_positional(self, run_inner: RunInner) -> None:
        result = run(run_inner, self.STUCK.format(decorator="@pytest.mark.gen_test(0.04)"))
        result.stdout.fnmatch_lines(["*timed out after 0.04 seconds*"])

    def test_command_line_option(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            self.STUCK.format(decorator=""),
            "--async-test-timeout=0.03",
        )
        result.stdout.fnmatch_lines(["*timed out after 0.03 seconds*"])

    def test_ini_setting(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            self.STUCK.format(decorator=""),
            ini=INI_STRICT + "async_test_timeout = 0.06\n",
        )
        result.stdout.fnmatch_lines(["*timed out after 0.06 seconds*"])

    def test_environment_beats_ini_and_option_beats_environment(
        self, run_inner: RunInner, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("ASYNC_TEST_TIMEOUT", "0.07")
        ini = INI_STRICT + "async_test_timeout = 50\n"
        result = run(run_inner, self.STUCK.format(decorator=""), ini=ini)
        result.stdout.fnmatch_lines(["*timed out after 0.07 seconds*"])
        result = run(
            run_inner,
            self.STUCK.format(decorator=""),
            "--async-test-timeout=0.02",
            ini=ini,
        )
        result.stdout.fnmatch_lines(["*timed out after 0.02 seconds*"])

    def test_marker_beats_command_line(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            self.STUCK.format(decorator="@pytest.mark.gen_test(timeout=0.02)"),
            "--async-test-timeout=50",
        )
        result.stdout.fnmatch_lines(["*timed out after 0.02 seconds*"])


class TestFailuresBelongToTheirTest:
    def test_exception_in_callback_fails_the_right_test(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            import asyncio

            async def test_bad(io_loop):
                def explode():
                    raise ZeroDivisionError("in a callback")

                io_loop.add_callback(explode)
                await asyncio.Event().wait()  # only the failure ends this

            async def test_good(io_loop):
                await asyncio.sleep(0)
            """,
        )
        result.assert_outcomes(passed=1, failed=1)
        result.stdout.fnmatch_lines(
            ["FAILED test_sample.py::test_bad - ZeroDivisionError: in a callback"]
        )
        result.stdout.no_fnmatch_line("*timed out*")

    def test_leaked_task_failing_on_cancel_errors_at_teardown(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            import asyncio

            TASKS = []

            async def test_leaks():
                async def stubborn():
                    try:
                        await asyncio.Event().wait()
                    except asyncio.CancelledError:
                        raise LookupError("cleanup went wrong") from None

                TASKS.append(asyncio.ensure_future(stubborn()))
                await asyncio.sleep(0)
            """,
        )
        result.assert_outcomes(passed=1, errors=1)
        result.stdout.fnmatch_lines(["*LookupError: cleanup went wrong*"])


class TestCoexistenceWithPytestAsyncio:
    SOURCE = """
        import asyncio
        import pytest
        from tornado.ioloop import IOLoop

        def runner_of(request):
            return type(request.node).__module__.split(".")[0]

        @pytest.mark.asyncio
        async def test_marked_asyncio(request):
            assert runner_of(request) == "pytest_asyncio"
            assert IOLoop.current(instance=False) is None

        async def test_unmarked_with_loop(io_loop):
            assert asyncio.get_running_loop() is io_loop.asyncio_loop

        @pytest.mark.gen_test
        async def test_marked_gen_test(request):
            assert runner_of(request) == "_pytest"
            assert IOLoop.current(instance=False) is not None

        async def test_unmarked_plain(request):
            RUNNERS.append(runner_of(request))

        RUNNERS = []

        def test_report():
            print("plain unmarked test ran under:", RUNNERS)
        """

    def test_strict_mode(self, run_inner: RunInner) -> None:
        result = run(run_inner, self.SOURCE, "-s")
        result.assert_outcomes(passed=5)
        result.stdout.fnmatch_lines(["*plain unmarked test ran under: ?'_pytest'?*"])

    def test_auto_mode(self, run_inner: RunInner) -> None:
        result = run(run_inner, self.SOURCE, "-s", ini=INI_AUTO)
        result.assert_outcomes(passed=5)
        result.stdout.fnmatch_lines(["*plain unmarked test ran under: ?'pytest_asyncio'?*"])

    def test_both_marks_are_an_error(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            import pytest

            @pytest.mark.asyncio
            @pytest.mark.gen_test
            async def test_confused():
                pass
            """,
        )
        assert result.ret != 0
        result.stderr.fnmatch_lines(["*marked both asyncio (pytest-asyncio) and gen_test*"])

    def test_user_io_loop_fixture_of_asyncio_test_is_left_alone(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            import pytest

            @pytest.fixture
            def io_loop():
                return "not a tornado loop"

            @pytest.mark.asyncio
            async def test_marked(io_loop):
                assert io_loop == "not a tornado loop"
            """,
        )
        result.assert_outcomes(passed=1)


class TestUnittestCollection:
    def test_async_test_cases_under_pytest(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            import asyncio
            from tornado.testing import AsyncTestCase, gen_test

            class TestCase(AsyncTestCase):
                @gen_test
                async def test_coroutine(self):
                    await asyncio.sleep(0)

                def test_callback_style(self):
                    self.io_loop.add_callback(self.stop, 1)
                    assert self.wait() == 1

                def test_callback_failure(self):
                    self.io_loop.add_callback(lambda: 1 / 0)
                    self.wait()

                async def test_undecorated(self):
                    pass

                @gen_test(timeout=0.05)
                async def test_stuck(self):
                    await asyncio.Event().wait()
            """,
        )
        result.assert_outcomes(passed=2, failed=3)
        result.stdout.fnmatch_lines_random(
            [
                "FAILED *test_callback_failure - ZeroDivisionError*",
                "E * test methods should be decorated with tornado.testing.gen_test",
                "E *TimeoutError: test_sample.TestCase.test_stuck timed out after 0.05 seconds*",
            ]
        )


class TestFixtures:
    def test_fixtures_are_listed(self, run_inner: RunInner) -> None:
        result = run(run_inner, "def test_nothing(): pass\n", "--fixtures")
        for name in (
            "io_loop",
            "app",
            "http_server",
            "http_server_port",
            "base_url",
            "http_client",
            "fetch",
            "https_server",
            "https_server_port",
            "https_base_url",
            "https_client",
            "https_fetch",
            "ssl_options",
            "http_server_client",
            "http_port",
            "https_port",
        ):
            result.stdout.fnmatch_lines([f"{name} -- *"])

    def test_missing_app_fixture_is_explained(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            def test_needs_app(app):
                pass
            """,
        )
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["*need an `app` fixture*"])

    def test_help_shows_option(self, run_inner: RunInner) -> None:
        result = run(run_inner, "", "--help")
        result.stdout.fnmatch_lines(["*--async-test-timeout=SECONDS*", "*async_test_timeout*"])

    def test_io_loop_is_closed_after_the_test(self, run_inner: RunInner) -> None:
        result = run(
            run_inner,
            """
            LOOPS = []

            async def test_first(io_loop):
                LOOPS.append(io_loop)

            async def test_second(io_loop):
                assert LOOPS[0].asyncio_loop.is_closed()
                assert io_loop is not LOOPS[0]
            """,
        )
        result.assert_outcomes(passed=2)


class TestHTTPFixtures:
    SOURCE = """
        import pytest
        from tornado.httpclient import HTTPClientError
        from tornado.web import Application, RequestHandler

        class Hello(RequestHandler):
            def get(self):
                self.write("hello " + self.request.protocol)

        @pytest.fixture
        def app():
            return Application([("/", Hello)])

        @pytest.fixture
        def http_server_options():
            return {"xheaders": True}

        async def test_fetch(fetch):
            response = await fetch("/")
            assert response.body == b"hello http"
            missing = await fetch("/nope")
            assert missing.code == 404
            with pytest.raises(HTTPClientError):
                await fetch("/nope", raise_error=True)

        async def test_fetch_full_url(fetch, base_url):
            response = await fetch(base_url + "/")
            assert response.code == 200

        async def test_client_and_base_url(http_client, base_url, http_server_port, http_server):
            assert base_url == f"http://127.0.0.1:{http_server_port}"
            assert http_server.xheaders
            response = await http_client.fetch(base_url + "/")
            assert response.code == 200

        async def test_https(https_fetch, https_base_url, https_server_port, https_port):
            assert https_base_url == f"https://127.0.0.1:{https_server_port}"
            assert https_port == https_server_port
            response = await https_fetch("/")
            assert response.body == b"hello https"

        async def test_https_client(https_client, https_base_url):
            response = await https_client.fetch(https_base_url + "/")
            assert response.code == 200

        async def test_tornasync_client(http_server_client):
            response = await http_server_client.fetch("/")
            assert response.code == 200
            with pytest.raises(HTTPClientError):
                await http_server_client.fetch("/nope")

        @pytest.mark.gen_test
        def test_pytest_tornado_style(http_client, base_url, http_port):
            assert base_url.endswith(str(http_port))
            response = yield http_client.fetch(base_url)
            assert response.code == 200

        def test_sync_test_with_server(io_loop, http_client, base_url):
            response = io_loop.run_sync(lambda: http_client.fetch(base_url + "/"))
            assert response.code == 200
        """

    def test_http_fixtures(self, run_inner: RunInner) -> None:
        result = run(run_inner, self.SOURCE)
        result.assert_outcomes(passed=8)

    def test_http_fixtures_in_auto_mode(self, run_inner: RunInner) -> None:
        result = run(run_inner, self.SOURCE, ini=INI_AUTO)
        result.assert_outcomes(passed=8)


def test_installing_the_distribution_registers_the_plugin(request: pytest.FixtureRequest) -> None:
    from importlib.metadata import entry_points

    registered = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert registered.get("tornado-testing") == "tornado._pytest_plugin"
    assert request.config.pluginmanager.hasplugin("tornado-testing")
