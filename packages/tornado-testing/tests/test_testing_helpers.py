"""ExpectLog, bind_unused_port, get_async_test_timeout and main()."""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import sys
import textwrap
import unittest
from collections.abc import Iterator
from pathlib import Path

import pytest

from tornado.testing import (
    ExpectLog,
    bind_unused_port,
    get_async_test_timeout,
    setup_with_context_manager,
)


@pytest.fixture
def logger() -> logging.Logger:
    """A logger of its own with a handler that records what gets through."""
    log = logging.getLogger("tornado_testing_tests.expectlog")
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def emitted(logger: logging.Logger) -> Iterator[list[str]]:
    handler = Collect()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


class TestExpectLog:
    def test_orig_level_is_the_level_the_block_lowered(self, logger: logging.Logger) -> None:
        expectation = ExpectLog(logger, "quiet", level=logging.DEBUG)
        assert expectation.orig_level is None
        with expectation:
            assert expectation.orig_level == logging.INFO
            assert logger.level == logging.DEBUG
            logger.debug("quiet one")
        assert logger.level == logging.INFO
        assert expectation.matched == 1
        # A level the logger already lets through changes nothing.
        untouched = ExpectLog(logger, "loud", level=logging.WARNING)
        with untouched:
            logger.warning("loud one")
        assert untouched.orig_level is None
        assert logger.level == logging.INFO

    def test_deprecated_level_matched_counts_low_matches_without_level(
        self, logger: logging.Logger
    ) -> None:
        with pytest.warns(DeprecationWarning), ExpectLog(logger, "info") as expectation:
            logger.info("info one")
            logger.info("info two")
        assert (expectation.matched, expectation.deprecated_level_matched) == (2, 2)
        with ExpectLog(logger, "mixed") as mixed:
            logger.info("mixed info")
            logger.warning("mixed warning")
        assert (mixed.matched, mixed.deprecated_level_matched) == (2, 1)
        with ExpectLog(logger, "levelled", level=logging.INFO) as levelled:
            logger.info("levelled info")
        assert levelled.deprecated_level_matched == 0

    def test_matching_records_are_swallowed_and_counted(
        self, logger: logging.Logger, emitted: list[str]
    ) -> None:
        with ExpectLog(logger, "expected") as expectation:
            logger.warning("expected one")
            logger.error("expected %s", "two")
            logger.warning("something else")
        assert expectation.matched == 2
        assert emitted == ["something else"]

    def test_regex_is_anchored_at_the_start(
        self, logger: logging.Logger, emitted: list[str]
    ) -> None:
        with ExpectLog(logger, "needle", required=False) as expectation:
            logger.warning("hay needle")
        assert expectation.matched == 0
        assert emitted == ["hay needle"]

    def test_logger_by_name(self, logger: logging.Logger, emitted: list[str]) -> None:
        with ExpectLog(logger.name, "by name"):
            logger.warning("by name")
        assert emitted == []

    def test_root_logger_by_empty_name(self) -> None:
        with ExpectLog("", "root message") as expectation:
            logging.getLogger().warning("root message")
        assert expectation.logger is logging.getLogger()
        assert expectation.matched == 1

    def test_required_message_missing_raises(self, logger: logging.Logger) -> None:
        with (
            pytest.raises(Exception, match="did not get expected log message"),
            ExpectLog(logger, "never logged"),
        ):
            logger.warning("another message")

    def test_not_required_message_missing_is_fine(self, logger: logging.Logger) -> None:
        with ExpectLog(logger, "never logged", required=False) as expectation:
            pass
        assert expectation.matched == 0

    def test_exception_in_block_is_not_masked(self, logger: logging.Logger) -> None:
        with pytest.raises(KeyError), ExpectLog(logger, "never logged"):
            raise KeyError("original")

    def test_logged_stack(self, logger: logging.Logger) -> None:
        with ExpectLog(logger, "with traceback") as expectation:
            try:
                raise ZeroDivisionError("for the traceback")
            except ZeroDivisionError:
                logger.exception("with traceback")
        assert expectation.logged_stack

    def test_level_restricts_matches(self, logger: logging.Logger, emitted: list[str]) -> None:
        app_log = logging.getLogger("tornado.application")
        with (
            ExpectLog(app_log, "expected log message .* came at level WARNING"),
            ExpectLog(logger, "msg", level=logging.ERROR) as expectation,
        ):
            logger.error("msg at error")
            logger.warning("msg at warning")
        assert expectation.matched == 1
        assert emitted == ["msg at warning"]

    def test_level_lowers_the_logger_level_temporarily(
        self, logger: logging.Logger, emitted: list[str]
    ) -> None:
        with ExpectLog(logger, "debug detail", level=logging.DEBUG) as expectation:
            logger.debug("debug detail")
        assert expectation.matched == 1
        assert logger.level == logging.INFO

    def test_match_below_warning_without_level_is_deprecated(self, logger: logging.Logger) -> None:
        with (
            pytest.warns(DeprecationWarning, match="without a level"),
            ExpectLog(logger, "info detail"),
        ):
            logger.info("info detail")

    def test_records_of_child_loggers_are_not_seen(self, logger: logging.Logger) -> None:
        child = logging.getLogger(logger.name + ".child")
        with ExpectLog(logger, "from child", required=False) as expectation:
            child.warning("from child")
        assert expectation.matched == 0


class TestBindUnusedPort:
    def test_ipv4_default(self) -> None:
        sock, port = bind_unused_port()
        with sock:
            assert sock.family == socket.AF_INET
            assert sock.getsockname() == ("127.0.0.1", port)
            sock.listen()
            with socket.create_connection(("127.0.0.1", port)):
                pass

    def test_ipv6(self) -> None:
        try:
            sock, port = bind_unused_port(address="::1")
        except OSError:
            pytest.skip("no IPv6 loopback on this host")
        with sock:
            assert sock.family == socket.AF_INET6
            assert sock.getsockname()[1] == port

    @pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="no SO_REUSEPORT")
    def test_reuse_port_allows_a_second_socket(self) -> None:
        first, port = bind_unused_port(reuse_port=True)
        with first:
            second = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            with second:
                second.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                second.bind(("127.0.0.1", port))

    def test_ports_differ(self) -> None:
        a, port_a = bind_unused_port()
        b, port_b = bind_unused_port()
        with a, b:
            assert port_a != port_b


class TestSetupWithContextManager:
    def test_context_lasts_until_the_cleanups(self) -> None:
        events: list[str] = []

        @contextlib.contextmanager
        def tracked() -> Iterator[str]:
            events.append("enter")
            yield "value"
            events.append("exit")

        class Case(unittest.TestCase):
            def setUp(self) -> None:
                events.append(setup_with_context_manager(self, tracked()))

            def test_it(self) -> None:
                events.append("test")

            def tearDown(self) -> None:
                events.append("tearDown")

        result = unittest.TestResult()
        Case("test_it").run(result)
        assert result.wasSuccessful()
        assert events == ["enter", "value", "test", "tearDown", "exit"]


class TestAsyncTestTimeout:
    def test_default_is_five_seconds(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("ASYNC_TEST_TIMEOUT", raising=False)
        assert get_async_test_timeout() == 5

    def test_environment_variable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ASYNC_TEST_TIMEOUT", "12.5")
        assert get_async_test_timeout() == 12.5

    def test_invalid_environment_variable_is_ignored(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ASYNC_TEST_TIMEOUT", "soon")
        assert get_async_test_timeout() == 5


SAMPLE_TESTS = textwrap.dedent(
    """
    import unittest

    from tornado.testing import AsyncTestCase, gen_test, main


    class Sample(AsyncTestCase):
        @gen_test
        async def test_passes(self):
            pass

        def test_fails(self):
            self.assertEqual(1, 2)


    def all():
        return unittest.defaultTestLoader.loadTestsFromTestCase(Sample)


    if __name__ == "__main__":
        main()
    """
)


class TestMain:
    def run(self, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        (tmp_path / "sample_tests.py").write_text(SAMPLE_TESTS)
        return subprocess.run(
            [sys.executable, *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def test_script_runs_its_all_suite(self, tmp_path: Path) -> None:
        proc = self.run(tmp_path, "sample_tests.py", "--verbose")
        assert proc.returncode == 1
        assert "test_passes" in proc.stderr
        assert "FAILED (failures=1)" in proc.stderr

    def test_named_test_replaces_the_suite(self, tmp_path: Path) -> None:
        proc = self.run(tmp_path, "sample_tests.py", "sample_tests.Sample.test_passes")
        assert proc.returncode == 0, proc.stderr
        assert "Ran 1 test" in proc.stderr

    def test_module_entry_point_with_options(self, tmp_path: Path) -> None:
        proc = self.run(
            tmp_path,
            "-m",
            "tornado.testing",
            "--exception_on_interrupt=false",
            "--logging=warning",
            "sample_tests.Sample.test_passes",
        )
        assert proc.returncode == 0, proc.stderr
        assert "OK" in proc.stderr

    def test_module_entry_point_without_tests_fails(self, tmp_path: Path) -> None:
        proc = self.run(tmp_path, "-m", "tornado.testing")
        assert proc.returncode == 1
        assert "No tests specified" in proc.stderr

    def test_errors_logged_during_tests_stay_visible(self, tmp_path: Path) -> None:
        (tmp_path / "logging_tests.py").write_text(
            textwrap.dedent(
                """
                from tornado.log import app_log
                from tornado.testing import AsyncTestCase, gen_test

                class Logs(AsyncTestCase):
                    @gen_test
                    async def test_logs(self):
                        app_log.error("this error must be visible")
                """
            )
        )
        proc = self.run(tmp_path, "-m", "unittest", "logging_tests")
        assert proc.returncode == 0, proc.stderr
        assert "this error must be visible" in proc.stderr

    def test_unknown_option_is_rejected(self, tmp_path: Path) -> None:
        proc = self.run(tmp_path, "sample_tests.py", "--no_such_option")
        assert proc.returncode != 0
        assert "Unrecognized command line option" in proc.stderr
