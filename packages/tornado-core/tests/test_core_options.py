"""Tests for tornado.options."""

from __future__ import annotations

import datetime
import io
import os
import subprocess
import sys
import textwrap
import unittest.mock
from pathlib import Path
from typing import Any

import pytest

import tornado.options
from tornado.options import Error, OptionParser


@pytest.fixture
def parser() -> OptionParser:
    return OptionParser()


def _write(path: Path, text: str) -> str:
    path.write_text(textwrap.dedent(text), "utf-8")
    return str(path)


# --- define ---------------------------------------------------------------------


def test_default_values_and_inferred_types(parser: OptionParser) -> None:
    parser.define("port", default=80)
    parser.define("name", default="x")
    parser.define("ratio", default=0.5)
    parser.define("untyped")
    assert (parser.port, parser.name, parser.ratio, parser.untyped) == (80, "x", 0.5, None)
    parser.parse_command_line(["prog", "--port=81", "--ratio=2", "--untyped=7"])
    assert parser.port == 81
    assert parser.ratio == 2.0 and isinstance(parser.ratio, float)
    # No default and no type: a string.
    assert parser.untyped == "7"


def test_multiple_defaults_to_empty_list_of_str(parser: OptionParser) -> None:
    parser.define("tags", multiple=True)
    assert parser.tags == []
    parser.parse_command_line(["prog", "--tags=a,b,c"])
    assert parser.tags == ["a", "b", "c"]


def test_redefinition_is_an_error_naming_option_and_file(parser: OptionParser) -> None:
    parser.define("some_option")
    with pytest.raises(Error) as info:
        parser.define("some-option")
    message = str(info.value)
    assert "Option 'some-option' already defined in" in message
    assert "test_core_options.py" in message


def test_help_is_always_defined(parser: OptionParser) -> None:
    assert "help" in parser
    assert parser.help is None


def test_group_defaults_to_defining_file(parser: OptionParser) -> None:
    parser.define("a")
    parser.define("b", group="database")
    assert parser.groups() == {"", __file__, "database"}
    assert parser.group_dict("database") == {"b": None}
    assert parser.group_dict(__file__) == {"a": None}
    assert parser.group_dict("") == {"help": None, "a": None, "b": None}


# --- parse_command_line ---------------------------------------------------------


def test_parse_returns_remaining_arguments(parser: OptionParser) -> None:
    parser.define("port", default=80)
    assert parser.parse_command_line(["prog", "--port=1", "file", "--port=2"]) == [
        "file",
        "--port=2",
    ]
    assert parser.port == 1
    assert parser.parse_command_line(["prog", "--port=3", "--", "--port=4", "x"]) == [
        "--port=4",
        "x",
    ]
    assert parser.port == 3
    assert parser.parse_command_line(["prog"]) == []


def test_parse_uses_sys_argv_by_default(
    parser: OptionParser, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser.define("port", default=80)
    monkeypatch.setattr(sys, "argv", ["prog", "--port=5", "rest"])
    assert parser.parse_command_line() == ["rest"]
    assert parser.port == 5


def test_single_dash_and_dash_underscore_equivalence(parser: OptionParser) -> None:
    parser.define("max_body_size", default=1)
    parser.define("log-level", default="a")
    parser.parse_command_line(["prog", "-max-body-size=2", "--log_level=b"])
    assert parser.max_body_size == 2
    assert parser["max-body-size"] == 2
    assert parser.log_level == "b"
    assert "max-body-size" in parser and "max_body_size" in parser


@pytest.mark.parametrize(
    ("arg", "value"),
    [
        ("--debug", True),
        ("--debug=true", True),
        ("--debug=True", True),
        ("--debug=1", True),
        ("--debug=yes", True),
        ("--debug=false", False),
        ("--debug=FALSE", False),
        ("--debug=0", False),
        ("--debug=f", False),
    ],
)
def test_bool_values(parser: OptionParser, arg: str, value: bool) -> None:
    parser.define("debug", default=False)
    parser.parse_command_line(["prog", arg])
    assert parser.debug is value


def test_option_without_value_requires_bool(parser: OptionParser) -> None:
    parser.define("port", default=80)
    with pytest.raises(Error, match="Option 'port' requires a value"):
        parser.parse_command_line(["prog", "--port", "8000"])


def test_unknown_option_prints_help_and_raises(
    parser: OptionParser, capsys: pytest.CaptureFixture[str]
) -> None:
    parser.define("port", default=80)
    with pytest.raises(Error, match="Unrecognized command line option: 'no-such'"):
        parser.parse_command_line(["prog", "--no_such=1"])
    assert "--port" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "arg", "expected"),
    [
        (int, "42", 42),
        (int, "-3", -3),
        (float, "1e3", 1000.0),
        (str, "caf\u00e9", "caf\u00e9"),
        (datetime.datetime, "2013-04-28 05:16:00", datetime.datetime(2013, 4, 28, 5, 16)),
        (datetime.datetime, "2013-04-28 05:16", datetime.datetime(2013, 4, 28, 5, 16)),
        (datetime.datetime, "2013-04-28T05:16", datetime.datetime(2013, 4, 28, 5, 16)),
        (datetime.datetime, "20130428 05:16:07", datetime.datetime(2013, 4, 28, 5, 16, 7)),
        (datetime.datetime, "20130428 05:16", datetime.datetime(2013, 4, 28, 5, 16)),
        (datetime.datetime, "2013-04-28", datetime.datetime(2013, 4, 28)),
        (datetime.datetime, "20130428", datetime.datetime(2013, 4, 28)),
        (datetime.datetime, "Sun Apr 28 05:16:00 2013", datetime.datetime(2013, 4, 28, 5, 16)),
        (datetime.datetime, "05:16:07", datetime.datetime(1900, 1, 1, 5, 16, 7)),
        (datetime.datetime, "05:16", datetime.datetime(1900, 1, 1, 5, 16)),
        (datetime.timedelta, "45", datetime.timedelta(seconds=45)),
        (datetime.timedelta, "1.5", datetime.timedelta(seconds=1.5)),
        (datetime.timedelta, "1h", datetime.timedelta(hours=1)),
        (datetime.timedelta, "1h 30m", datetime.timedelta(hours=1, minutes=30)),
        (datetime.timedelta, "2 days", datetime.timedelta(days=2)),
        (datetime.timedelta, "1w2d", datetime.timedelta(weeks=1, days=2)),
        (datetime.timedelta, "10min 5sec", datetime.timedelta(minutes=10, seconds=5)),
        (datetime.timedelta, "250ms", datetime.timedelta(milliseconds=250)),
        (datetime.timedelta, "7us", datetime.timedelta(microseconds=7)),
        (datetime.timedelta, "-1.5s", datetime.timedelta(seconds=-1.5)),
        (datetime.timedelta, ".5h", datetime.timedelta(minutes=30)),
        (datetime.timedelta, "1e1 seconds", datetime.timedelta(seconds=10)),
    ],
)
def test_typed_values(parser: OptionParser, kind: type, arg: str, expected: Any) -> None:
    parser.define("value", type=kind)
    parser.parse_command_line(["prog", "--value=" + arg])
    assert parser.value == expected
    assert type(parser.value) is kind


@pytest.mark.parametrize(
    ("kind", "arg", "fragment"),
    [
        (int, "abc", "Invalid value 'abc' for option 'value' (expected int)"),
        (int, "", "Invalid value '' for option 'value'"),
        (float, "1.2.3", "Invalid value '1.2.3' for option 'value' (expected float)"),
        (datetime.datetime, "yesterday", "Unrecognized date/time format: 'yesterday'"),
        (datetime.timedelta, "5 fortnights", "Unknown time unit 'fortnights'"),
        (datetime.timedelta, "soon", "Unrecognized duration: 'soon'"),
        (datetime.timedelta, "", "Unrecognized duration: ''"),
    ],
)
def test_bad_values_name_option_and_value(
    parser: OptionParser, kind: type, arg: str, fragment: str
) -> None:
    parser.define("value", type=kind, default=None)
    with pytest.raises(Error) as info:
        parser.parse_command_line(["prog", "--value=" + arg])
    assert fragment in str(info.value)
    assert "'value'" in str(info.value)
    # Also a ValueError, like the conversion that failed.
    assert isinstance(info.value, ValueError)
    assert parser.value is None


def test_custom_type_is_called_with_the_string(parser: OptionParser) -> None:
    parser.define("path", type=Path)
    parser.parse_command_line(["prog", "--path=/tmp/x"])
    assert parser.path == Path("/tmp/x")


def test_multiple_values(parser: OptionParser) -> None:
    parser.define("ports", type=int, multiple=True)
    parser.define("ratios", type=float, multiple=True)
    parser.define("names", type=str, multiple=True)
    parser.parse_command_line(
        ["prog", "--ports=80,1000:1003,7:7", "--ratios=0.5,2", "--names=a, b,,c"]
    )
    assert parser.ports == [80, 1000, 1001, 1002, 1003, 7]
    assert parser.ratios == [0.5, 2.0]
    assert parser.names == ["a", " b", "", "c"]


def test_multiple_bad_range(parser: OptionParser) -> None:
    parser.define("ports", type=int, multiple=True)
    with pytest.raises(Error, match="Invalid value 'x' for option 'ports'"):
        parser.parse_command_line(["prog", "--ports=1:x"])


def test_parse_callbacks_run_only_on_final_parse(parser: OptionParser) -> None:
    calls: list[str] = []
    parser.define("port", default=80)
    parser.add_parse_callback(lambda: calls.append("one"))
    parser.add_parse_callback(lambda: calls.append("two"))
    parser.parse_command_line(["prog"], final=False)
    assert calls == []
    parser.parse_command_line(["prog"])
    assert calls == ["one", "two"]
    parser.run_parse_callbacks()
    assert calls == ["one", "two", "one", "two"]


def test_option_callback_on_parse_and_set(parser: OptionParser) -> None:
    seen: list[Any] = []
    parser.define("level", type=int, callback=seen.append)
    parser.define("levels", type=int, multiple=True, callback=seen.append)
    parser.parse_command_line(["prog", "--level=3", "--levels=1:2"])
    parser.level = 9
    assert seen == [3, [1, 2], 9]


def test_help_prints_and_exits(parser: OptionParser, capsys: pytest.CaptureFixture[str]) -> None:
    parser.define("port", default=80, help="the port")
    with pytest.raises(SystemExit) as info:
        parser.parse_command_line(["prog", "--help"])
    assert info.value.code == 0
    err = capsys.readouterr().err
    assert "--port" in err and "the port" in err


def test_help_false_does_nothing(parser: OptionParser) -> None:
    parser.parse_command_line(["prog", "--help=false"])
    assert parser.help is False


# --- print_help -----------------------------------------------------------------


def test_print_help_layout(parser: OptionParser, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["server.py"])
    parser.define("zeta", default=1, help="last one", group="g1")
    parser.define("alpha_beta", default="", help="first one", metavar="VALUE", group="g1")
    parser.define(
        "verbose_description",
        help="word " * 20,
        group="g2",
    )
    parser.define("a_very_long_option_name_that_overflows", type=bool, group="g2")
    out = io.StringIO()
    parser.print_help(out)
    expected = (
        "Usage: server.py [OPTIONS]\n"
        "\n"
        "Options:\n"
        "\n"
        "  --help                           show this help information\n"
        "\n"
        "g1 options:\n"
        "\n"
        "  --alpha-beta=VALUE               first one\n"
        "  --zeta                           last one (default 1)\n"
        "\n"
        "g2 options:\n"
        "\n"
        "  --a-very-long-option-name-that-overflows \n"
        "  --verbose-description            " + "word " * 8 + "word\n"
        "                                   " + "word " * 8 + "word\n"
        "                                   word word\n"
        "\n"
    )
    assert out.getvalue() == expected


def test_print_help_defaults_to_stderr(
    parser: OptionParser, capsys: pytest.CaptureFixture[str]
) -> None:
    parser.print_help()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--help" in captured.err


def test_print_help_long_label_with_help_goes_on_next_line(parser: OptionParser) -> None:
    parser.define("an_option_name_longer_than_thirty_chars", help="described", group="g")
    out = io.StringIO()
    parser.print_help(out)
    lines = out.getvalue().splitlines()
    index = lines.index("  --an-option-name-longer-than-thirty-chars ")
    assert lines[index + 1] == " " * 35 + "described"


# --- access ---------------------------------------------------------------------


def test_attribute_and_item_access(parser: OptionParser) -> None:
    parser.define("port", default=80)
    parser.port = 81
    assert parser["port"] == 81
    parser["port"] = 82
    assert parser.port == 82
    with pytest.raises(AttributeError, match="Unrecognized option 'no-such'"):
        parser.no_such  # noqa: B018
    with pytest.raises(AttributeError, match="Unrecognized option 'no-such'"):
        parser.no_such = 1
    with pytest.raises(KeyError):
        parser["no_such"]
    with pytest.raises(KeyError):
        parser["no_such"] = 1
    assert "no_such" not in parser


def test_iteration_and_dicts(parser: OptionParser) -> None:
    parser.define("b_opt", default=2, group="g")
    parser.define("a_opt", default=1)
    assert list(parser) == ["help", "b_opt", "a_opt"]
    assert list(parser.items()) == [("help", None), ("b_opt", 2), ("a_opt", 1)]
    assert parser.as_dict() == {"help": None, "b_opt": 2, "a_opt": 1}
    assert parser.group_dict("g") == {"b_opt": 2}


@pytest.mark.parametrize(
    ("kwargs", "value", "fragment"),
    [
        ({"default": 1}, "1", "Option 'opt' is required to be a int (<class 'str'> given)"),
        ({"type": str}, 1, "Option 'opt' is required to be a str (<class 'int'> given)"),
        ({"type": int, "multiple": True}, 1, "Option 'opt' is required to be a list of int"),
        ({"type": int, "multiple": True}, [1, "2"], "Option 'opt' is required to be a list of int"),
    ],
)
def test_set_checks_type(
    parser: OptionParser, kwargs: dict[str, Any], value: Any, fragment: str
) -> None:
    parser.define("opt", **kwargs)
    before = parser.opt
    with pytest.raises(Error) as info:
        parser.opt = value
    assert str(info.value) == fragment
    assert parser.opt == before


def test_set_accepts_none_and_subclasses(parser: OptionParser) -> None:
    parser.define("opt", type=int, default=1)
    parser.define("many", type=int, multiple=True)
    parser.opt = None
    assert parser.opt is None
    parser.opt = True  # bool is a subclass of int
    parser.many = [1, None]
    assert parser.many == [1, None]


# --- mockable -------------------------------------------------------------------


def test_mockable_with_patch_object(parser: OptionParser) -> None:
    parser.define("port", default=80)
    with unittest.mock.patch.object(parser.mockable(), "port", 8080):
        assert parser.port == 8080
    assert parser.port == 80


def test_parser_and_mockable_survive_copying(parser: OptionParser) -> None:
    import copy

    parser.define("port", default=80)
    assert copy.copy(parser).port == 80
    mock = copy.copy(parser.mockable())
    assert mock.port == 80


def test_mockable_reuse_is_an_error(parser: OptionParser) -> None:
    parser.define("port", default=80)
    mock = parser.mockable()
    mock.port = 1
    assert mock.port == 1
    with pytest.raises(Error, match="already mocked"):
        mock.port = 2
    del mock.port
    assert parser.port == 80


# --- parse_config_file ----------------------------------------------------------


def test_config_file(parser: OptionParser, tmp_path: Path) -> None:
    parser.define("port", default=80)
    parser.define("host", default="localhost")
    parser.define("debug", default=False)
    parser.define("ids", type=int, multiple=True)
    parser.define("names", type=str, multiple=True)
    parser.define("when", type=datetime.datetime)
    parser.define("timeout", type=datetime.timedelta)
    parser.define("max_size", default=0)
    parser.define("where", type=str)
    path = _write(
        tmp_path / "app.conf",
        """
        import os
        port = 443
        host = "example.com"
        debug = True
        ids = [1, 2]
        names = "a,b"
        when = "2020-01-02"
        timeout = "1h"
        max_size = "1024"
        where = os.path.basename(__file__)
        unrelated_global = object()
        """,
    )
    parser.parse_config_file(path)
    assert parser.port == 443
    assert parser.host == "example.com"
    assert parser.debug is True
    assert parser.ids == [1, 2]
    assert parser.names == ["a", "b"]
    assert parser.when == datetime.datetime(2020, 1, 2)
    assert parser.timeout == datetime.timedelta(hours=1)
    # Dashes and underscores are equivalent here too; strings are parsed.
    assert parser.max_size == 1024
    assert parser.where == "app.conf"


def test_config_file_int_range_string(parser: OptionParser, tmp_path: Path) -> None:
    parser.define("ids", type=int, multiple=True)
    parser.parse_config_file(_write(tmp_path / "c.py", "ids = '1:3,9'\n"))
    assert parser.ids == [1, 2, 3, 9]


def test_config_file_bad_values(parser: OptionParser, tmp_path: Path) -> None:
    parser.define("port", default=80)
    parser.define("ids", type=int, multiple=True)
    with pytest.raises(Error, match=r"Option 'port' is required to be a int \(<class 'float'>"):
        parser.parse_config_file(_write(tmp_path / "a.py", "port = 1.5\n"))
    with pytest.raises(Error, match="Invalid value 'eighty' for option 'port'"):
        parser.parse_config_file(_write(tmp_path / "b.py", "port = 'eighty'\n"))
    with pytest.raises(
        Error, match="Option 'ids' is required to be a list of int or a comma-separated string"
    ):
        parser.parse_config_file(_write(tmp_path / "c.py", "ids = 5\n"))


def test_config_file_errors_propagate(parser: OptionParser, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        parser.parse_config_file(str(tmp_path / "missing.py"))
    path = _write(tmp_path / "broken.py", "x = (\n")
    with pytest.raises(SyntaxError) as info:
        parser.parse_config_file(path)
    assert info.value.filename == path


def test_config_file_runs_callbacks_when_final(parser: OptionParser, tmp_path: Path) -> None:
    calls: list[int] = []
    parser.add_parse_callback(lambda: calls.append(1))
    path = _write(tmp_path / "c.py", "x = 1\n")
    parser.parse_config_file(path, final=False)
    assert calls == []
    parser.parse_config_file(path)
    assert calls == [1]


# --- the global parser ----------------------------------------------------------


def test_global_options_have_logging_options() -> None:
    for name in (
        "logging",
        "log_to_stderr",
        "log_file_prefix",
        "log_file_max_size",
        "log_file_num_backups",
        "log_rotate_when",
        "log_rotate_interval",
        "log_rotate_mode",
    ):
        assert name in tornado.options.options
    groups = tornado.options.options.groups()
    assert any(g.endswith(os.path.join("tornado", "log.py")) for g in groups)


def test_module_level_functions_in_a_fresh_process(tmp_path: Path) -> None:
    # The global parser is process-wide state; exercise it in a child.
    config = _write(tmp_path / "server.conf", "port = 9000\n")
    script = textwrap.dedent(
        f"""
        import io, sys
        import tornado.options
        from tornado.options import define, options, parse_command_line
        define("port", default=80, help="listen port")
        define("name", default="n")
        calls = []
        tornado.options.add_parse_callback(lambda: calls.append(options.port))
        tornado.options.parse_config_file({config!r}, final=False)
        rest = parse_command_line(["prog", "--name=x", "--logging=none", "arg"])
        out = io.StringIO()
        tornado.options.print_help(out)
        print(options.port, options.name, rest, calls, "--port" in out.getvalue())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "9000 x ['arg'] [9000] True"


def test_global_help_exits(tmp_path: Path) -> None:
    script = "import tornado.options; tornado.options.parse_command_line(['prog', '--help'])"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0
    assert "--logging=debug|info|warning|error|none" in result.stderr
    assert "log.py options:" in result.stderr
