"""Tests for tornado.log."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import subprocess
import sys
import textwrap
import unittest.mock
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tornado.log import (
    LogFormatter,
    access_log,
    app_log,
    define_logging_options,
    enable_pretty_logging,
    gen_log,
)
from tornado.options import Error, OptionParser

LINE_PREFIX = re.compile(r"^\[(?P<level>[DIWEC]) \d{6} \d\d:\d\d:\d\d test_core_log:\d+\] ")


def test_logger_names() -> None:
    assert access_log.name == "tornado.access"
    assert app_log.name == "tornado.application"
    assert gen_log.name == "tornado.general"


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A private logger, so tests never touch the root logger's handlers.

    It propagates, so pytest does not attach its capture handlers to it.
    """
    log = logging.getLogger(f"test.tornado.log.{uuid.uuid4().hex}")
    log.setLevel(logging.DEBUG)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def _format(
    formatter: logging.Formatter,
    msg: str,
    *args: object,
    level: int = logging.INFO,
    exc_info: Any = None,
) -> str:
    # Format a record directly rather than through a logger, so pytest's
    # own capture handlers never see (and choke on) deliberately bad records.
    record = logging.LogRecord("test", level, __file__, 42, msg, args, exc_info)
    return formatter.format(record)


def test_default_format() -> None:
    formatter = LogFormatter(color=False)
    line = _format(formatter, "hello %s", "world")
    match = LINE_PREFIX.match(line)
    assert match is not None, line
    assert match.group("level") == "I"
    assert line.endswith(" test_core_log:42] hello world")
    line = _format(formatter, "careful", level=logging.WARNING)
    match = LINE_PREFIX.match(line)
    assert match is not None and match.group("level") == "W"


def test_default_format_through_a_logger(logger: logging.Logger) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LogFormatter(color=False))
    logger.addHandler(handler)
    logger.error("via logger")
    assert LINE_PREFIX.match(stream.getvalue())
    assert stream.getvalue().endswith("] via logger\n")


def test_no_colour_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    line = _format(LogFormatter(color=True), "plain", level=logging.ERROR)
    assert "\033" not in line
    assert LINE_PREFIX.match(line)


def test_multiline_message_is_indented() -> None:
    lines = _format(LogFormatter(color=False), "first\nsecond\nthird").split("\n")
    assert lines[0].endswith("] first")
    assert lines[1:] == ["    second", "    third"]


def test_exception_is_appended_and_indented() -> None:
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        exc_info = sys.exc_info()
    lines = _format(LogFormatter(color=False), "it failed", exc_info=exc_info).split("\n")
    assert lines[0].endswith("] it failed")
    assert lines[1] == "    Traceback (most recent call last):"
    assert lines[-1] == "    ZeroDivisionError: boom"
    assert all(line.startswith("    ") for line in lines[1:])


def test_bad_message_arguments_are_reported_not_raised() -> None:
    line = _format(LogFormatter(color=False), "%d items", "not a number")
    assert "Bad message (TypeError(" in line
    assert "not a number" in line


def test_custom_format_and_datefmt() -> None:
    formatter = LogFormatter(fmt="%(levelname)s|%(asctime)s|%(message)s", datefmt="%Y", color=False)
    line = _format(formatter, "msg", level=logging.DEBUG)
    assert re.fullmatch(r"DEBUG\|\d{4}\|msg", line)


def test_brace_and_dollar_styles() -> None:
    brace = LogFormatter(fmt="{color}{levelname}{end_color}:{message}", style="{", color=False)
    dollar = LogFormatter(fmt="${levelname}:${message}", style="$", color=False)
    assert _format(brace, "brace") == "INFO:brace"
    assert _format(dollar, "dollar") == "INFO:dollar"


def test_unknown_style_is_rejected() -> None:
    with pytest.raises(ValueError, match="'#'"):
        LogFormatter(style="#")


def test_colour_on_a_terminal() -> None:
    # Colour detection needs a real terminal on sys.stderr and curses, whose
    # state is process-wide: run it in a child with stderr on a pseudo-tty.
    script = textwrap.dedent(
        """
        import logging, os, pty, sys
        from tornado.log import LogFormatter
        parent, child = pty.openpty()
        sys.stderr = os.fdopen(child, "w")
        formatter = LogFormatter(fmt="%(color)s%(message)s%(end_color)s")
        plain = LogFormatter(fmt="%(color)s%(message)s%(end_color)s", color=False)
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, 5):
            record = logging.LogRecord("n", level, "x.py", 1, "m", None, None)
            print(repr(formatter.format(record)))
            print(repr(plain.format(record)))
        sys.stderr.close()
        os.close(parent)
        """
    )
    env = dict(os.environ, TERM="xterm")
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    lines = [eval(line) for line in result.stdout.splitlines()]
    coloured = lines[0::2]
    plain = lines[1::2]
    # xterm's terminfo: setaf n is ESC [ 3n m, sgr0 is ESC ( B ESC [ m.
    end = "\x1b(B\x1b[m"
    assert coloured[:4] == [f"\x1b[3{n}mm{end}" for n in (4, 2, 3, 1)]
    # Level 5 has no colour assigned.
    assert coloured[4] == "m"
    assert plain == ["m"] * 5


def test_curses_and_colorama_are_module_data() -> None:
    # As in Tornado: the imported module, or None where it is unavailable.
    import importlib.util

    import tornado.log

    for name in ("curses", "colorama"):
        value = vars(tornado.log)[name]
        if importlib.util.find_spec(name) is None:
            assert value is None
        else:
            assert value is importlib.import_module(name)


def test_colour_detection_obeys_curses_set_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    import tornado.log

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    monkeypatch.setattr(tornado.log, "curses", None)
    monkeypatch.setattr(tornado.log, "colorama", None)
    # Neither route is available: no colour, no error.
    formatter = LogFormatter(fmt="%(color)s%(message)s%(end_color)s")
    record = logging.LogRecord("n", logging.ERROR, "x.py", 1, "m", None, None)
    assert formatter.format(record) == "m"


# --- enable_pretty_logging ------------------------------------------------------


@pytest.fixture
def parser() -> OptionParser:
    p = OptionParser()
    define_logging_options(p)
    return p


def test_define_logging_options_defaults(parser: OptionParser) -> None:
    assert parser.logging == "info"
    assert parser.log_to_stderr is None
    assert parser.log_file_prefix is None
    assert parser.log_file_max_size == 100 * 1000 * 1000
    assert parser.log_file_num_backups == 10
    assert parser.log_rotate_when == "midnight"
    assert parser.log_rotate_interval == 1
    assert parser.log_rotate_mode == "size"


def test_define_logging_options_twice_is_an_error(parser: OptionParser) -> None:
    with pytest.raises(Error, match="Option 'logging' already defined"):
        define_logging_options(parser)


def test_logging_none_leaves_logger_alone(parser: OptionParser, logger: logging.Logger) -> None:
    parser.logging = "none"
    enable_pretty_logging(parser, logger)
    assert logger.level == logging.DEBUG
    assert logger.handlers == []


def test_level_and_stderr_handler(parser: OptionParser, logger: logging.Logger) -> None:
    parser.logging = "warning"
    enable_pretty_logging(parser, logger)
    assert logger.level == logging.WARNING
    assert len(logger.handlers) == 1
    handler = logger.handlers[0]
    assert type(handler) is logging.StreamHandler
    assert isinstance(handler.formatter, LogFormatter)


def test_bad_level_names_the_value(parser: OptionParser, logger: logging.Logger) -> None:
    parser.logging = "chatty"
    with pytest.raises(ValueError, match="'chatty' for option 'logging'"):
        enable_pretty_logging(parser, logger)


def test_no_stderr_handler_when_logger_already_has_one(
    parser: OptionParser, logger: logging.Logger
) -> None:
    existing = logging.NullHandler()
    logger.addHandler(existing)
    enable_pretty_logging(parser, logger)
    assert logger.handlers == [existing]
    parser.log_to_stderr = True
    enable_pretty_logging(parser, logger)
    assert len(logger.handlers) == 2


def test_log_to_stderr_false_adds_no_handler(parser: OptionParser, logger: logging.Logger) -> None:
    parser.log_to_stderr = False
    enable_pretty_logging(parser, logger)
    assert logger.handlers == []


def test_size_rotating_file(parser: OptionParser, logger: logging.Logger, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    parser.log_file_prefix = str(path)
    parser.log_file_max_size = 200
    parser.log_file_num_backups = 2
    enable_pretty_logging(parser, logger)
    # A file was configured, so no stderr handler is added by default.
    assert len(logger.handlers) == 1
    handler = logger.handlers[0]
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    for i in range(20):
        logger.info("line %d \u00e9", i)
    handler.flush()
    content = path.read_text("utf-8")
    assert "\033" not in content
    assert LINE_PREFIX.match(content)
    assert (tmp_path / "app.log.1").exists()
    assert (tmp_path / "app.log.2").exists()
    assert not (tmp_path / "app.log.3").exists()


def test_time_rotating_file(parser: OptionParser, logger: logging.Logger, tmp_path: Path) -> None:
    path = tmp_path / "timed.log"
    parser.log_file_prefix = str(path)
    parser.log_rotate_mode = "time"
    parser.log_rotate_when = "H"
    parser.log_rotate_interval = 3
    parser.log_to_stderr = True
    enable_pretty_logging(parser, logger)
    handlers = logger.handlers
    assert len(handlers) == 2
    timed = handlers[0]
    assert isinstance(timed, logging.handlers.TimedRotatingFileHandler)
    assert timed.when == "H"
    assert timed.interval == 3 * 60 * 60
    logger.error("to file")
    timed.flush()
    assert "to file" in path.read_text("utf-8")


def test_bad_rotate_mode(parser: OptionParser, logger: logging.Logger, tmp_path: Path) -> None:
    parser.log_file_prefix = str(tmp_path / "x.log")
    parser.log_rotate_mode = "weekly"
    with pytest.raises(ValueError, match=r"log_rotate_mode.*'weekly'"):
        enable_pretty_logging(parser, logger)
    assert not (tmp_path / "x.log").exists()


@pytest.fixture
def root_logger_state() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield root
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_parse_callback_configures_root_logger(
    parser: OptionParser, root_logger_state: logging.Logger
) -> None:
    root_logger_state.setLevel(logging.DEBUG)
    # Not final: the parse callbacks (and so enable_pretty_logging) do not run.
    parser.parse_command_line(["prog", "--logging=error"], final=False)
    assert root_logger_state.level == logging.DEBUG
    parser.parse_command_line(["prog", "--logging=error", "--log-to-stderr=false"])
    assert root_logger_state.level == logging.ERROR


def test_enable_pretty_logging_uses_global_options_by_default(
    root_logger_state: logging.Logger,
) -> None:
    import tornado.options

    mock = tornado.options.options.mockable()
    with (
        unittest.mock.patch.object(mock, "logging", "critical"),
        unittest.mock.patch.object(mock, "log_to_stderr", False),
    ):
        enable_pretty_logging()
    assert root_logger_state.level == logging.CRITICAL
    assert tornado.options.options.logging == "info"


def test_curses_is_loaded_on_first_use() -> None:
    # Importing tornado.log must not load the curses extension (it costs a
    # few milliseconds of every import); the first attribute use does, and
    # from then on tornado.log.curses is the ordinary module.
    script = textwrap.dedent(
        """
        import sys
        import tornado.log
        print("_curses" in sys.modules)
        tornado.log.curses.tigetnum
        print("_curses" in sys.modules, tornado.log.curses is sys.modules["curses"])
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.split() == ["False", "True", "True"]


def test_curses_already_imported_is_reused() -> None:
    script = textwrap.dedent(
        """
        import curses, sys
        import tornado.log
        print(tornado.log.curses is curses, type(tornado.log.curses).__name__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["True", "module"]


def test_curses_blocked_is_none() -> None:
    # sys.modules["curses"] = None is how a Python without curses looks.
    script = textwrap.dedent(
        """
        import sys
        sys.modules["curses"] = None
        import tornado.log
        print(tornado.log.curses)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["None"]
