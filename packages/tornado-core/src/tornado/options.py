"""A command-line and config-file option parser with global, typed options.

Each module defines the options it needs, next to the code that uses them::

    from tornado.options import define, options

    define("port", default=8888, help="run on the given port")
    define("mysql_host", default="127.0.0.1:3306", group="database")

    def connect():
        return Database(options.mysql_host)

and the program's entry point parses them once, before using them::

    tornado.options.parse_command_line()
    # or
    tornado.options.parse_config_file("/etc/server.conf")

Command-line options are written ``--name=value``; a bool option may be
given as a bare ``--name``, meaning true.  Dashes and underscores in names
are interchangeable (``--mysql-host`` sets ``mysql_host``).  Options with
``multiple=True`` take comma-separated lists, and integer lists accept
inclusive ranges such as ``1:3``.  Parsing stops at the first argument that
does not start with ``-`` (or after ``--``); the remaining arguments are
returned.

A config file is Python source: every global it assigns whose name is a
defined option sets that option.

``--help`` prints every option, grouped by the file that defined it (or
by its ``group``), and exits.

The functions at module level act on the global parser `options`;
create an `OptionParser` for an independent set.  The logging options of
`tornado.log.define_logging_options` are defined on the global parser, so
``parse_command_line`` also configures logging unless ``--logging=none``.
"""

from __future__ import annotations

import datetime
import numbers
import os
import re
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from tornado.escape import _unicode
from tornado.log import define_logging_options
from tornado.util import exec_in

__all__ = [
    "Error",
    "OptionParser",
    "add_parse_callback",
    "define",
    "options",
    "parse_command_line",
    "parse_config_file",
    "print_help",
]


class Error(Exception):
    """Exception raised for errors in defining, parsing or setting options."""


class _InvalidValueError(Error, ValueError):
    """A value that cannot be converted to the option's type.

    Also a `ValueError`, since that is what callers that convert values
    themselves (``int("x")``) are used to catching.
    """


def _normalize_name(name: str) -> str:
    # Dashes are canonical internally; users may write either.
    return name.replace("_", "-")


_THIS_FILE = os.path.normcase(__file__)


def _caller_file() -> str:
    """File name of the nearest caller outside this module ("" if none)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.normcase(frame.f_code.co_filename) == _THIS_FILE:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return ""
    return frame.f_code.co_filename


class OptionParser:
    """A collection of options, with methods to define, parse and read them.

    Options are read and written as attributes (``parser.port``) or items
    (``parser["port"]``); reading or writing an option that was never
    defined raises `AttributeError` (or `KeyError` for items).  Setting an
    option checks the value's type and raises `Error` on a mismatch.

    Most programs use the global instance `options` through the
    module-level functions; separate instances are mainly useful in tests.

    A parser always defines ``help``: ``--help`` prints the help text and
    exits the process.
    """

    def __init__(self) -> None:
        """Create a parser with only the ``help`` option defined."""
        # Our __setattr__ sets options, so internal state goes straight
        # into the instance dictionary.
        self.__dict__["_options"] = {}
        self.__dict__["_parse_callbacks"] = []
        # Defined with an empty file name so that it is listed first, under
        # no heading, whoever creates the parser.
        self._add_option(
            _Option(
                "help",
                type=bool,
                help="show this help information",
                callback=self._help_callback,
            )
        )

    _options: dict[str, _Option]
    _parse_callbacks: list[Callable[[], None]]

    def _get_option(self, name: str) -> _Option:
        # Read the table through __dict__: on a half-built instance (e.g.
        # one made by copy or pickle) self._options would recurse into
        # __getattr__.
        table: dict[str, _Option] = self.__dict__.get("_options", {})
        option = table.get(_normalize_name(name))
        if option is None:
            raise AttributeError(f"Unrecognized option {_normalize_name(name)!r}")
        return option

    def __getattr__(self, name: str) -> Any:
        """Return the value of option ``name``; `AttributeError` if undefined."""
        return self._get_option(name).value()

    def __setattr__(self, name: str, value: Any) -> None:
        """Set option ``name`` to ``value``, checking its type.

        Raises `AttributeError` for an undefined option and `Error` for a
        value of the wrong type.
        """
        self._get_option(name).set(value)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the names of all options, as they were defined."""
        return (option.name for option in self._options.values())

    def __contains__(self, name: str) -> bool:
        """Whether an option called ``name`` (dashes or underscores) exists."""
        return _normalize_name(name) in self._options

    def __getitem__(self, name: str) -> Any:
        """Return the value of option ``name``; `KeyError` if undefined."""
        try:
            return self._get_option(name).value()
        except AttributeError as e:
            raise KeyError(name) from e

    def __setitem__(self, name: str, value: Any) -> None:
        """Set option ``name``; `KeyError` if undefined, `Error` for a bad value."""
        try:
            option = self._get_option(name)
        except AttributeError as e:
            raise KeyError(name) from e
        option.set(value)

    def items(self) -> Iterable[tuple[str, Any]]:
        """Return a list of ``(name, value)`` pairs for every option.

        .. versionadded:: 3.1
        """
        return [(option.name, option.value()) for option in self._options.values()]

    def groups(self) -> set[str]:
        """Return the set of group names (by default, defining file names).

        .. versionadded:: 3.1
        """
        return {option.group_name for option in self._options.values()}

    def group_dict(self, group: str) -> dict[str, Any]:
        """Return ``{name: value}`` for the options in ``group``.

        An empty or None ``group`` selects every option.  Handy for passing
        a group of options as keyword arguments, e.g. application settings::

            app = Application(handlers, **options.group_dict("application"))

        .. versionadded:: 3.1
        """
        return {
            option.name: option.value()
            for option in self._options.values()
            if not group or option.group_name == group
        }

    def as_dict(self) -> dict[str, Any]:
        """Return ``{name: value}`` for every option.

        .. versionadded:: 3.1
        """
        return {option.name: option.value() for option in self._options.values()}

    def define(
        self,
        name: str,
        default: Any = None,
        type: type | None = None,
        help: str | None = None,
        metavar: str | None = None,
        multiple: bool = False,
        group: str | None = None,
        callback: Callable[[Any], None] | None = None,
    ) -> None:
        """Define a new option.

        ``type`` is ``str``, ``int``, ``float``, ``bool``,
        `datetime.datetime`, `datetime.timedelta` or any callable that
        converts a string; when omitted it is the type of ``default``, or
        ``str`` if there is no default or ``multiple`` is set.  With
        ``multiple`` true the value is a list, given on the command line
        as comma-separated items (and ``lo:hi`` ranges for integer types).

        ``help`` and ``metavar`` are shown by `print_help`.  ``group`` sets
        the heading the option is listed under in the help; by default it
        is the file that called ``define``.  ``callback`` is called with
        the new value every time the option is parsed or set.

        Raises `Error` if an option with the same name (ignoring the
        dash/underscore difference) is already defined.
        """
        file_name = _caller_file()
        if type is None:
            type = default.__class__ if default is not None and not multiple else str
        self._add_option(
            _Option(
                name,
                default=default,
                type=type,
                help=help,
                metavar=metavar,
                multiple=multiple,
                file_name=file_name,
                group_name=group or file_name,
                callback=callback,
            )
        )

    def _add_option(self, option: _Option) -> None:
        normalized = _normalize_name(option.name)
        existing = self._options.get(normalized)
        if existing is not None:
            raise Error(f"Option {normalized!r} already defined in {existing.file_name}")
        self._options[normalized] = option

    def parse_command_line(self, args: list[str] | None = None, final: bool = True) -> list[str]:
        """Parse options from ``args`` (``sys.argv`` by default) and return the rest.

        ``args[0]`` is the program name and is skipped.  Options have the
        form ``--name=value`` (one leading dash works too); a bool option
        may be given as ``--name`` alone.  Parsing stops at the first
        argument that does not start with ``-``, or after ``--``; those
        remaining arguments are returned.

        With ``final`` true (the default) the parse callbacks run
        afterwards (this is how logging gets configured); pass False when
        more parsing (e.g. a config file) follows.

        Raises `Error` for an unknown option (after printing the help), a
        missing value, or a value the option's type cannot parse; the
        message names the option.
        """
        if args is None:
            args = sys.argv
        remaining: list[str] = []
        for index in range(1, len(args)):
            arg = args[index]
            if not arg.startswith("-"):
                remaining = args[index:]
                break
            if arg == "--":
                remaining = args[index + 1 :]
                break
            name, has_value, value = arg.lstrip("-").partition("=")
            name = _normalize_name(name)
            option = self._options.get(name)
            if option is None:
                self.print_help()
                raise Error(f"Unrecognized command line option: {name!r}")
            if not has_value:
                if option.type is not bool:
                    raise Error(f"Option {name!r} requires a value")
                value = "true"
            option.parse(value)
        if final:
            self.run_parse_callbacks()
        return remaining

    def parse_config_file(self, path: str, final: bool = True) -> None:
        """Set options from the Python config file at ``path``.

        The file is executed as Python code (with ``__file__`` set to its
        absolute path); each global it defines whose name is an option sets
        that option.  A string given for a non-string or ``multiple``
        option is parsed as on the command line (so ``port = "80"`` and
        ``ids = "1:3"`` work); other values must already have the option's
        type.  Other globals are ignored.

        With ``final`` true (the default) the parse callbacks run
        afterwards.

        Raises `OSError` if the file cannot be read, whatever the file's
        code raises (such as `SyntaxError`), and `Error` for values of the
        wrong type, naming the option.

        .. versionchanged:: 5.1
           Strings are parsed for non-string options.
        """
        config: dict[str, Any] = {"__file__": os.path.abspath(path)}
        with open(path, "rb") as f:
            source = f.read()
        # Compile with the real path so errors in the file point at it.
        exec_in(compile(source, path, "exec", dont_inherit=True), config, config)
        for key, value in config.items():
            option = self._options.get(_normalize_name(key))
            if option is None:
                continue
            if option.multiple and not isinstance(value, list | str):
                raise Error(
                    f"Option {option.name!r} is required to be a list of "
                    f"{option.type.__name__} or a comma-separated string"
                )
            if type(value) is str and (option.type is not str or option.multiple):
                option.parse(value)
            else:
                option.set(value)
        if final:
            self.run_parse_callbacks()

    def print_help(self, file: IO[str] | None = None) -> None:
        """Print the usage and every option, grouped, to ``file`` (stderr)."""
        out = file if file is not None else sys.stderr
        print(f"Usage: {sys.argv[0]} [OPTIONS]", file=out)
        print("\nOptions:\n", file=out)
        by_group: dict[str, list[_Option]] = {}
        for option in self._options.values():
            by_group.setdefault(option.group_name, []).append(option)
        for group_name in sorted(by_group):
            if group_name:
                print(f"\n{os.path.normpath(group_name)} options:\n", file=out)
            for option in sorted(by_group[group_name], key=lambda o: o.name):
                self._print_option(option, out)
        print(file=out)

    @staticmethod
    def _print_option(option: _Option, out: IO[str]) -> None:
        # The command line spells names with dashes.
        label = _normalize_name(option.name)
        if option.metavar:
            label += "=" + option.metavar
        description = option.help or ""
        if option.default is not None and option.default != "":
            description += f" (default {option.default})"
        # Labels take a 30-character column; descriptions wrap so lines
        # stay within 79 characters.
        lines = textwrap.wrap(description, 44)
        if len(label) > 30 or not lines:
            lines.insert(0, "")
        print(f"  --{label:<30} {lines[0]}", file=out)
        for line in lines[1:]:
            print(f"{'':<34} {line}", file=out)

    def _help_callback(self, value: bool) -> None:
        if value:
            self.print_help()
            sys.exit(0)

    def add_parse_callback(self, callback: Callable[[], None]) -> None:
        """Register ``callback`` to run after a final parse of the options."""
        self._parse_callbacks.append(callback)

    def run_parse_callbacks(self) -> None:
        """Run every registered parse callback, in registration order."""
        for callback in self._parse_callbacks:
            callback()

    def mockable(self) -> _Mockable:
        """Return a wrapper for temporarily replacing option values in tests.

        Use it with `unittest.mock.patch.object`, which needs an object
        whose attributes it can set and delete::

            with mock.patch.object(options.mockable(), "port", 8080):
                assert options.port == 8080

        .. versionadded:: 3.1
        """
        return _Mockable(self)


class _Mockable:
    """Attribute proxy that `mock.patch` can set and delete (see `OptionParser.mockable`)."""

    def __init__(self, options: OptionParser) -> None:
        self.__dict__["_options"] = options
        self.__dict__["_originals"] = {}

    def __getattr__(self, name: str) -> Any:
        # Through __dict__, so a half-built copy raises instead of recursing.
        options = self.__dict__.get("_options")
        if options is None:
            raise AttributeError(name)
        return getattr(options, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # Setting twice would lose the value to restore.
        if name in self._originals:
            raise Error(f"Option {name!r} is already mocked; use a new mockable() object")
        self._originals[name] = getattr(self._options, name)
        setattr(self._options, name, value)

    def __delattr__(self, name: str) -> None:
        setattr(self._options, name, self._originals.pop(name))


_DATETIME_FORMATS = (
    "%a %b %d %H:%M:%S %Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d %H:%M",
    "%Y-%m-%d",
    "%Y%m%d",
    "%H:%M:%S",
    "%H:%M",
)

_TIMEDELTA_UNITS = {
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "d": "days",
    "day": "days",
    "days": "days",
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "m": "minutes",
    "min": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "s": "seconds",
    "sec": "seconds",
    "second": "seconds",
    "seconds": "seconds",
    "ms": "milliseconds",
    "millisecond": "milliseconds",
    "milliseconds": "milliseconds",
    "us": "microseconds",
    "microsecond": "microseconds",
    "microseconds": "microseconds",
}

# One "<number><unit>" term of a duration such as "1h 30m" or "2.5 days".
_TIMEDELTA_TERM = re.compile(
    r"\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-z]*)\s*", re.IGNORECASE
)


def _parse_datetime(value: str) -> datetime.datetime:
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt)
        except ValueError:
            pass
    raise ValueError(f"Unrecognized date/time format: {value!r}")


def _parse_timedelta(value: str) -> datetime.timedelta:
    total = datetime.timedelta()
    position = 0
    if not value.strip():
        raise ValueError(f"Unrecognized duration: {value!r}")
    while position < len(value):
        match = _TIMEDELTA_TERM.match(value, position)
        if match is None:
            raise ValueError(f"Unrecognized duration: {value!r}")
        unit_name = match.group(2).lower() or "seconds"
        unit = _TIMEDELTA_UNITS.get(unit_name)
        if unit is None:
            raise ValueError(f"Unknown time unit {match.group(2)!r} in {value!r}")
        total += datetime.timedelta(**{unit: float(match.group(1))})
        position = match.end()
    return total


def _parse_bool(value: str) -> bool:
    # Anything but an explicit "false" spelling is true, so "--flag=yes"
    # and "--flag=1" both enable a flag.
    return value.lower() not in ("false", "0", "f")


def _parse_str(value: str) -> str:
    return _unicode(value)


_PARSERS: dict[Any, Callable[[str], Any]] = {
    datetime.datetime: _parse_datetime,
    datetime.timedelta: _parse_timedelta,
    bool: _parse_bool,
    str: _parse_str,
}


class _Option:
    """One defined option: its metadata and current value."""

    # Distinguishes "never set" from an explicit None.
    _UNSET: Any = object()

    def __init__(
        self,
        name: str,
        default: Any = None,
        type: type = str,
        help: str | None = None,
        metavar: str | None = None,
        multiple: bool = False,
        file_name: str = "",
        group_name: str = "",
        callback: Callable[[Any], None] | None = None,
    ) -> None:
        if default is None and multiple:
            default = []
        self.name = name
        self.type = type
        self.help = help
        self.metavar = metavar
        self.multiple = multiple
        self.file_name = file_name
        self.group_name = group_name
        self.callback = callback
        self.default = default
        self._value: Any = _Option._UNSET

    def value(self) -> Any:
        """The option's current value, or its default if never set."""
        return self.default if self._value is _Option._UNSET else self._value

    def _convert(self, text: str) -> Any:
        converter = _PARSERS.get(self.type, self.type)
        try:
            return converter(text)
        except Error:
            raise
        except Exception as e:
            raise _InvalidValueError(
                f"Invalid value {text!r} for option {self.name!r} "
                f"(expected {self.type.__name__}): {e}"
            ) from e

    def parse(self, value: str) -> Any:
        """Convert the string ``value`` to the option's type and store it.

        Raises `Error` (also a `ValueError`) naming the option and value
        if the conversion fails.
        """
        if self.multiple:
            items: list[Any] = []
            for part in value.split(","):
                if issubclass(self.type, numbers.Integral):
                    items.extend(self._parse_int_range(part))
                else:
                    items.append(self._convert(part))
            self._value = items
        else:
            self._value = self._convert(value)
        if self.callback is not None:
            self.callback(self._value)
        return self.value()

    def _parse_int_range(self, part: str) -> range:
        # "lo:hi" is inclusive at both ends.
        low_text, _, high_text = part.partition(":")
        low = self._convert(low_text)
        high = self._convert(high_text) if high_text else low
        return range(low, high + 1)

    def set(self, value: Any) -> None:
        """Store an already-typed value.

        Raises `Error` naming the option if ``value`` (or, for a multiple
        option, any item of the list) is not an instance of the option's
        type; None is always accepted.
        """
        if self.multiple:
            if not isinstance(value, list) or any(
                item is not None and not isinstance(item, self.type) for item in value
            ):
                raise Error(
                    f"Option {self.name!r} is required to be a list of {self.type.__name__}"
                )
        elif value is not None and not isinstance(value, self.type):
            raise Error(
                f"Option {self.name!r} is required to be a {self.type.__name__} "
                f"({type(value)} given)"
            )
        self._value = value
        if self.callback is not None:
            self.callback(self._value)


#: The global option parser.  Options defined with `define` live here.
options = OptionParser()


def define(
    name: str,
    default: Any = None,
    type: type | None = None,
    help: str | None = None,
    metavar: str | None = None,
    multiple: bool = False,
    group: str | None = None,
    callback: Callable[[Any], None] | None = None,
) -> None:
    """Define an option on the global parser; see `OptionParser.define`."""
    options.define(
        name,
        default=default,
        type=type,
        help=help,
        metavar=metavar,
        multiple=multiple,
        group=group,
        callback=callback,
    )


def parse_command_line(args: list[str] | None = None, final: bool = True) -> list[str]:
    """Parse the global options from the command line; see `OptionParser.parse_command_line`."""
    return options.parse_command_line(args, final=final)


def parse_config_file(path: str, final: bool = True) -> None:
    """Parse the global options from a config file; see `OptionParser.parse_config_file`."""
    options.parse_config_file(path, final=final)


def print_help(file: IO[str] | None = None) -> None:
    """Print the help for the global options; see `OptionParser.print_help`."""
    options.print_help(file)


def add_parse_callback(callback: Callable[[], None]) -> None:
    """Register a callback on the global parser; see `OptionParser.add_parse_callback`."""
    options.add_parse_callback(callback)


define_logging_options(options)
