"""Logging support for Tornado.

Tornado logs to three standard-library loggers:

* ``tornado.access``: one line per HTTP request handled;
* ``tornado.application``: errors from application code (uncaught
  exceptions in request handlers and callbacks);
* ``tornado.general``: everything else, mostly protocol errors and
  warnings from Tornado itself.

Tornado never configures logging on import.  `enable_pretty_logging`
(which ``tornado.options.parse_command_line`` calls unless the ``logging``
option is ``none``) attaches a handler using `LogFormatter`, which writes
compact, optionally coloured lines such as
``[I 240102 13:45:06 web:2348] 200 GET / (127.0.0.1) 0.52ms``.
"""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import Mapping
from string import Template
from typing import TYPE_CHECKING, Any

from tornado.escape import _unicode

# As in Tornado, these hold the module, or None where it is unavailable
# (curses on Windows, colorama unless installed); colour detection reads
# them here, so setting one to None turns that route off.
try:
    import colorama  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:
    colorama = None


def _lazy_curses() -> types.ModuleType | None:
    """The `curses` module, loaded when one of its attributes is first used,
    or None where this Python has none (Windows).

    Loading curses (its C extension links the terminfo library) costs a few
    milliseconds of every import of Tornado, and only `LogFormatter` with
    colour on a terminal needs it; so the module is registered with the
    standard library's lazy loader (`importlib.util.LazyLoader`), which
    executes it on first attribute access, instead of being imported here.
    """
    if "curses" in sys.modules:  # already imported, or blocked (None)
        return sys.modules["curses"]
    import importlib.util

    try:
        spec = importlib.util.find_spec("curses")
        # Windows builds carry the curses package without its extension.
        if spec is None or spec.loader is None or importlib.util.find_spec("_curses") is None:
            return None
    except (ImportError, ValueError):
        return None
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["curses"] = module
    loader.exec_module(module)
    return module


curses = _lazy_curses()

if TYPE_CHECKING:
    from tornado.options import OptionParser

__all__ = [
    "LogFormatter",
    "access_log",
    "app_log",
    "define_logging_options",
    "enable_pretty_logging",
    "gen_log",
]

#: Per-request access log (``tornado.access``).
access_log = logging.getLogger("tornado.access")
#: Errors from application code (``tornado.application``).
app_log = logging.getLogger("tornado.application")
#: Tornado's own messages (``tornado.general``).
gen_log = logging.getLogger("tornado.general")


def _stderr_supports_color() -> bool:
    """Whether ``sys.stderr`` is a terminal that can show colours."""
    try:
        if not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
            return False
        if curses is not None:
            curses.setupterm()
            colors: int = curses.tigetnum("colors")
            return colors > 0
        if colorama is None:
            return False
        # colorama translates ANSI codes only on the stream it wrapped.
        wrapped = getattr(colorama.initialise, "wrapped_stderr", None)
        return wrapped is not None and sys.stderr is wrapped
    except Exception:
        # A missing or broken terminfo database, an exotic stream object:
        # logging must not fail because of colour detection.
        return False


def _safe_unicode(value: Any) -> str:
    """Return ``value`` as text; undecodable bytes become their repr."""
    try:
        return _unicode(value)  # type: ignore[no-any-return]
    except UnicodeDecodeError:
        return repr(value)


class LogFormatter(logging.Formatter):
    """Log formatter used by Tornado's default logging configuration.

    Compared with `logging.Formatter` it adds:

    * colour by level, when ``color`` is true and ``sys.stderr`` is a
      terminal that supports it (through ``curses``, or ``colorama`` when
      that has wrapped stderr, typically on Windows);
    * a compact timestamp on every line;
    * robustness against messages that are undecodable bytes (they are
      shown as a repr instead of raising);
    * multi-line messages and tracebacks indented by four spaces, so every
      record stays visually one block.

    ``fmt`` may use the extra fields ``%(color)s`` and ``%(end_color)s``,
    which hold the terminal codes that start and end the colour for the
    record's level (empty strings when colour is off).  ``style`` is the
    formatting style of ``fmt``: ``"%"`` (the default), ``"{"`` or
    ``"$"``, as for `logging.Formatter`.  ``colors`` maps log levels to
    curses colour numbers (ANSI 0-7).

    Raises `ValueError` for an unknown ``style``.

    .. versionchanged:: 4.2
       Added the ``fmt``, ``datefmt``, ``style`` and ``colors`` arguments.
    """

    DEFAULT_FORMAT = (
        "%(color)s[%(levelname)1.1s %(asctime)s %(module)s:%(lineno)d]%(end_color)s %(message)s"
    )
    DEFAULT_DATE_FORMAT = "%y%m%d %H:%M:%S"
    DEFAULT_COLORS = {
        logging.DEBUG: 4,  # blue
        logging.INFO: 2,  # green
        logging.WARNING: 3,  # yellow
        logging.ERROR: 1,  # red
        logging.CRITICAL: 5,  # magenta
    }

    def __init__(
        self,
        fmt: str = DEFAULT_FORMAT,
        datefmt: str = DEFAULT_DATE_FORMAT,
        style: str = "%",
        color: bool = True,
        colors: Mapping[int, int] = DEFAULT_COLORS,
    ) -> None:
        """Create a formatter; see the class documentation for the arguments."""
        if style not in ("%", "{", "$"):
            raise ValueError(f"Style must be one of '%', '{{', '$', not {style!r}")
        # The base class validates fmt against the fields of a LogRecord,
        # which do not include color/end_color, so only pass it datefmt and
        # do the formatting ourselves.
        super().__init__(datefmt=datefmt)
        self._fmt = fmt
        self._fmt_style = style
        self._colors: dict[int, str] = {}
        self._normal = ""
        if color and _stderr_supports_color():
            self._colors, self._normal = self._terminal_colors(colors)

    @staticmethod
    def _terminal_colors(colors: Mapping[int, int]) -> tuple[dict[int, str], str]:
        if curses is None:
            # Only reached with colorama, which understands plain ANSI.
            ansi = {level: "\033[2;3%dm" % code for level, code in colors.items()}
            return ansi, "\033[0m"
        set_foreground = curses.tigetstr("setaf") or curses.tigetstr("setf") or b""
        by_level = {
            level: str(curses.tparm(set_foreground, code), "ascii")
            for level, code in colors.items()
        }
        normal = curses.tigetstr("sgr0")
        return by_level, str(normal, "ascii") if normal is not None else ""

    def _render(self, fields: Mapping[str, Any]) -> str:
        assert self._fmt is not None
        if self._fmt_style == "{":
            return self._fmt.format(**fields)
        if self._fmt_style == "$":
            return Template(self._fmt).substitute(fields)
        return self._fmt % fields

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` as text, appending its traceback if it has one."""
        try:
            message = record.getMessage()
            if not isinstance(message, str):
                raise TypeError(f"message is {type(message)!r}, not str")
            record.message = _safe_unicode(message)
        except Exception as e:
            # A broken message (bad %-args, a failing __str__) must not
            # stop the log line, which may be reporting the real problem.
            record.message = f"Bad message ({e!r}): {record.__dict__!r}"

        record.asctime = self.formatTime(record, self.datefmt)
        # LogRecord attributes are the format's fields; these two are ours.
        if record.levelno in self._colors:
            record.__dict__["color"] = self._colors[record.levelno]
            record.__dict__["end_color"] = self._normal
        else:
            record.__dict__["color"] = record.__dict__["end_color"] = ""

        formatted = self._render(record.__dict__)

        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            # Decode the traceback line by line: one undecodable line then
            # shows as a repr without collapsing the others.
            lines = [formatted.rstrip()]
            lines.extend(_safe_unicode(line) for line in record.exc_text.split("\n"))
            formatted = "\n".join(lines)
        return formatted.replace("\n", "\n    ")


def _level_from_name(name: str) -> int:
    level = logging.getLevelName(name.upper())
    if not isinstance(level, int):
        raise ValueError(
            f"Invalid value {name!r} for option 'logging': expected debug, info, "
            "warning, error, critical or none"
        )
    return level


def enable_pretty_logging(options: Any = None, logger: logging.Logger | None = None) -> None:
    """Configure ``logger`` (the root logger by default) from ``options``.

    ``options`` is an object with the attributes registered by
    `define_logging_options` (by default the global
    ``tornado.options.options``).  Sets the level from ``logging``
    (doing nothing at all when it is None or ``"none"``), adds a rotating
    file handler when ``log_file_prefix`` is set, and a coloured stderr
    handler when ``log_to_stderr`` is true, or when it is None and the
    logger has no handlers yet.

    Raises `ValueError` if ``logging`` is not a level name or
    ``log_rotate_mode`` is neither ``"size"`` nor ``"time"``.
    """
    if options is None:
        import tornado.options

        options = tornado.options.options
    if options.logging is None or options.logging.lower() == "none":
        return
    if logger is None:
        logger = logging.getLogger()
    logger.setLevel(_level_from_name(options.logging))

    if options.log_file_prefix:
        # Imported here: logging.handlers pulls in socket and pickle, which
        # importing tornado.log (e.g. through tornado.template) should not.
        from logging.handlers import RotatingFileHandler, TimedRotatingFileHandler

        rotate_mode = options.log_rotate_mode
        channel: logging.Handler
        if rotate_mode == "size":
            channel = RotatingFileHandler(
                filename=options.log_file_prefix,
                mode="a",
                maxBytes=options.log_file_max_size,
                backupCount=options.log_file_num_backups,
                encoding="utf-8",
            )
        elif rotate_mode == "time":
            channel = TimedRotatingFileHandler(
                filename=options.log_file_prefix,
                when=options.log_rotate_when,
                interval=options.log_rotate_interval,
                backupCount=options.log_file_num_backups,
                encoding="utf-8",
            )
        else:
            raise ValueError(
                'The value of log_rotate_mode option should be "size" or "time", '
                f"not {rotate_mode!r}."
            )
        # Escape codes have no place in a file.
        channel.setFormatter(LogFormatter(color=False))
        logger.addHandler(channel)

    if options.log_to_stderr or (options.log_to_stderr is None and not logger.handlers):
        stderr_channel = logging.StreamHandler()
        stderr_channel.setFormatter(LogFormatter())
        logger.addHandler(stderr_channel)


def define_logging_options(options: OptionParser | None = None) -> None:
    """Define the logging options on ``options`` (the global options by default).

    The options are ``logging``, ``log_to_stderr``, ``log_file_prefix``,
    ``log_file_max_size``, ``log_file_num_backups``, ``log_rotate_when``,
    ``log_rotate_interval`` and ``log_rotate_mode``.  Also registers a parse
    callback that calls `enable_pretty_logging` with these options, so
    logging is configured once the command line or config file is parsed.

    ``tornado.options`` calls this for its global parser; call it yourself
    for a parser of your own.  Raises ``tornado.options.Error`` if any of
    the options is already defined on ``options``.

    .. versionadded:: 4.2
    """
    if options is None:
        import tornado.options

        options = tornado.options.options
    options.define(
        "logging",
        default="info",
        help="Log level (debug, info, warning, error); 'none' leaves the "
        "logging configuration alone.",
        metavar="debug|info|warning|error|none",
    )
    options.define(
        "log_to_stderr",
        type=bool,
        default=None,
        help="Write log lines to stderr, coloured when it is a terminal. Default: only "
        "when --log_file_prefix is unset and no handler is configured yet.",
    )
    options.define(
        "log_file_prefix",
        type=str,
        default=None,
        metavar="PATH",
        help="Log to this file (with rotation). Each process needs its own path, for "
        "example one that includes the port number.",
    )
    options.define(
        "log_file_max_size",
        type=int,
        default=100 * 1000 * 1000,
        help="Size in bytes at which a log file is rotated (log_rotate_mode=size).",
    )
    options.define(
        "log_file_num_backups",
        type=int,
        default=10,
        help="Number of rotated log files to keep.",
    )
    options.define(
        "log_rotate_when",
        type=str,
        default="midnight",
        help="Unit of the rotation interval for log_rotate_mode=time, as for "
        "TimedRotatingFileHandler: S, M, H, D, W0-W6 or midnight.",
    )
    options.define(
        "log_rotate_interval",
        type=int,
        default=1,
        help="Rotation interval for log_rotate_mode=time, in units of log_rotate_when.",
    )
    options.define(
        "log_rotate_mode",
        type=str,
        default="size",
        help="Rotate log files by size or by time: 'size' or 'time'.",
    )
    parser = options
    parser.add_parse_callback(lambda: enable_pretty_logging(parser))
