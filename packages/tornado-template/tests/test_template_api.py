"""Unit tests of tornado.template's API: loaders, caching, errors, namespace."""

from __future__ import annotations

import builtins
import itertools
import logging
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tornado import escape, template
from tornado.template import DictLoader, Loader, ParseError, Template, filter_whitespace

# ----------------------------------------------------------------------
# filter_whitespace


@pytest.mark.parametrize(
    ("mode", "text", "expected"),
    [
        ("all", " a \n\n\t b ", " a \n\n\t b "),
        ("single", " a \n\n\t b ", " a\nb "),
        ("single", "a\t\t  b", "a b"),
        ("single", "x  \r\n  y", "x\ny"),
        ("oneline", " a \n\n\t b ", " a b "),
        ("oneline", "", ""),
        ("single", "", ""),
    ],
)
def test_filter_whitespace_modes(mode: str, text: str, expected: str) -> None:
    assert filter_whitespace(mode, text) == expected


def test_filter_whitespace_rejects_unknown_mode() -> None:
    with pytest.raises(Exception, match="invalid whitespace mode compact"):
        filter_whitespace("compact", "x")


def test_template_rejects_unknown_whitespace_mode() -> None:
    with pytest.raises(Exception, match="invalid whitespace mode nope"):
        Template("x", whitespace="nope")


def test_loader_whitespace_overrides_name_default() -> None:
    loader = DictLoader({"a.html": "a   b\n\n  c"}, whitespace="all")
    assert loader.load("a.html").generate() == b"a   b\n\n  c"


def test_explicit_whitespace_beats_loader_whitespace() -> None:
    loader = DictLoader({}, whitespace="all")
    assert Template("a   b", name="x.txt", loader=loader, whitespace="oneline").generate() == b"a b"


# ----------------------------------------------------------------------
# Template basics


def test_generate_returns_bytes_and_accepts_bytes_source() -> None:
    t = Template("caf\u00e9 {{ x }}".encode())
    assert t.generate(x="\u00e9") == "caf\u00e9 \u00e9".encode()


def test_code_is_python_that_compiles_and_renders_the_same() -> None:
    t = Template("{% for i in range(3) %}{{ i }}<{% apply f %}x{% end %}>{% end %}")
    code = compile(t.code, "<test>", "exec")
    namespace: dict[str, Any] = {}
    assert isinstance(t.code, str)
    assert "def _tt_execute" in t.code
    # Every generated line says where it comes from.
    assert all("  # <string>:" in line for line in t.code.splitlines())
    # The code object compiled from .code renders like the template itself.
    namespace.update(
        _tt_escapers=[template._escape_xhtml],
        _tt_to_bytes=template._to_bytes,
        _tt_utf8=escape.utf8,
        f=bytes.upper,
    )
    exec(code, namespace)
    assert namespace["_tt_execute"]() == t.generate(f=bytes.upper) == b"0<X>1<X>2<X>"


def test_code_is_compiled_once_per_template(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_compile = builtins.compile

    def counting_compile(source: Any, filename: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(filename)
        return real_compile(source, filename, *args, **kwargs)

    # The module looks compile() up as a global before falling back to builtins.
    monkeypatch.setattr(template, "compile", counting_compile, raising=False)
    t = Template("{{ x }}", name="once.html")
    for x in range(3):
        assert t.generate(x=x) == str(x).encode()
    assert calls == ["once_html.generated.py"]


def test_default_namespace() -> None:
    t = Template(
        "{{ escape is xhtml_escape }} {{ url_escape is u }} {{ json_encode is j }} {{ squeeze is s }} "
        "{{ linkify is lk }} {{ datetime is dt }} {{ _tt_utf8 is utf8 }} {{ _tt_string_types }} {{ __name__ }}",
        name="ns.test.html",
    )
    import datetime

    out = t.generate(
        u=escape.url_escape,
        j=escape.json_encode,
        s=escape.squeeze,
        lk=escape.linkify,
        dt=datetime,
        utf8=escape.utf8,
    )
    assert (
        out
        == b"True True True True True True True (&lt;class &#x27;str&#x27;&gt;, &lt;class &#x27;bytes&#x27;&gt;) ns_test_html"
    )


def test_default_autoescape_constant() -> None:
    assert template._DEFAULT_AUTOESCAPE == "xhtml_escape"
    assert Template("").autoescape == "xhtml_escape"
    assert DictLoader({}).autoescape == "xhtml_escape"


def test_compress_whitespace_and_whitespace_conflict() -> None:
    with pytest.raises(Exception, match="cannot set both whitespace and compress_whitespace"):
        Template("x", compress_whitespace=False, whitespace="single")


def test_kwargs_override_loader_namespace() -> None:
    loader = DictLoader(
        {"a": "{{ greet }}, {{ who }}"}, namespace={"greet": "hello", "who": "loader"}
    )
    assert loader.load("a").generate(who="kwarg") == b"hello, kwarg"


def test_namespace_xhtml_escape_replacement_is_used() -> None:
    loader = DictLoader({"a": "{{ x }}"}, namespace={"xhtml_escape": lambda b: b.upper()})
    assert loader.load("a").generate(x="<b>") == b"<B>"


def test_template_can_render_another_template_while_running() -> None:
    inner = Template("<{{ x }}>", name="inner.html")
    outer = Template("[{% raw render(x='a&b') %}]", name="outer.html")
    assert outer.generate(render=lambda **kw: inner.generate(**kw)) == b"[<a&amp;b>]"


# ----------------------------------------------------------------------
# The escaping fast path is an optimisation only: same bytes, same errors.


_ESCAPE_VALUES: list[Any] = [
    "",
    "plain",
    "<a href=\"x\">'&'</a>",
    "caf\u00e9 \u2603 \U0001f600",
    "a<\ud800",
    "\udcff",
    b"<bytes & more>",
    b"\xff",
    42,
    -7,
    10**30,
    1.5,
    float("nan"),
    float("-inf"),
    True,
    None,
    [1, "<"],
    escape.xhtml_escape,
    type("StrSub", (str,), {"__str__": lambda self: "other"})("<sub>"),
    type("IntSub", (int,), {"__str__": lambda self: "<intsub>"})(3),
]


def _outcome(function: Any, value: Any) -> Any:
    try:
        return function(value)
    except Exception as e:
        return (type(e), str(e))


@pytest.mark.parametrize("value", _ESCAPE_VALUES, ids=repr)
def test_fast_xhtml_escaper_matches_generic_path(value: Any) -> None:
    assert _outcome(template._escape_xhtml, value) == _outcome(
        lambda v: template._escape_with(escape.xhtml_escape, v), value
    )


# ----------------------------------------------------------------------
# Loaders: caching, reset, relative paths, thread safety


def test_dict_loader_caches_by_resolved_name() -> None:
    loader = DictLoader({"a/page.html": "{% include 'part.html' %}", "a/part.html": "part"})
    page = loader.load("a/page.html")
    assert loader.load("a/page.html") is page
    # The include was loaded through the same cache, under its resolved name.
    assert sorted(loader.templates) == ["a/page.html", "a/part.html"]
    assert loader.load("part.html", parent_path="a/page.html") is loader.templates["a/part.html"]


def test_loader_caches_until_reset(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("one {{ x }}")
    loader = Loader(str(tmp_path))
    first = loader.load("t.txt")
    (tmp_path / "t.txt").write_text("two {{ x }}")
    assert loader.load("t.txt") is first
    assert first.generate(x=1) == b"one 1"
    loader.reset()
    again = loader.load("t.txt")
    assert again is not first
    assert again.generate(x=1) == b"two 1"


def test_loader_root_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("A")
    monkeypatch.chdir(tmp_path)
    loader = Loader("sub")
    assert loader.root == str(tmp_path / "sub")
    monkeypatch.chdir("/")
    assert loader.load("a.txt").generate() == b"A"


def test_loader_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Loader(str(tmp_path)).load("missing.html")


def test_dict_loader_missing_name() -> None:
    with pytest.raises(KeyError):
        DictLoader({}).load("missing.html")


@pytest.mark.parametrize(
    ("name", "parent", "expected"),
    [
        ("b.html", None, "b.html"),
        ("b.html", "a.html", "b.html"),
        ("b.html", "x/y/a.html", "x/y/b.html"),
        ("../b.html", "x/y/a.html", "x/b.html"),
        ("./b.html", "x/a.html", "x/b.html"),
        ("/abs.html", "x/a.html", "/abs.html"),
        ("b.html", "<string>", "b.html"),
        ("b.html", "/abs/a.html", "b.html"),
    ],
)
def test_dict_loader_resolve_path(name: str, parent: str | None, expected: str) -> None:
    assert DictLoader({}).resolve_path(name, parent) == expected


def test_loader_resolve_path(tmp_path: Path) -> None:
    loader = Loader(str(tmp_path))
    assert loader.resolve_path("b.html", "x/y/a.html") == "x/y/b.html"
    assert loader.resolve_path("../b.html", "x/y/a.html") == "x/b.html"
    assert loader.resolve_path("b.html") == "b.html"
    assert loader.resolve_path("/etc/b.html", "x/a.html") == "/etc/b.html"
    # Outside the root, the name stays as written.
    assert loader.resolve_path("../../b.html", "a.html") == "../../b.html"


def test_base_loader_is_abstract() -> None:
    loader = template.BaseLoader()
    with pytest.raises(NotImplementedError):
        loader.load("x")


class _CountingLoader(DictLoader):
    def __init__(self, templates: dict[str, str], barrier: threading.Barrier) -> None:
        super().__init__(templates)
        self.barrier = barrier
        self.created: list[str] = []

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        # Hold every thread here so that they all reach the cache together.
        if parent_path is None:
            self.barrier.wait()
        return super().resolve_path(name, parent_path)

    def _create_template(self, name: str) -> Template:
        self.created.append(name)
        return super()._create_template(name)


def test_loader_is_thread_safe() -> None:
    threads_count = 8
    loader = _CountingLoader(
        {"page.html": "{% include 'part.html' %}{{ n }}", "part.html": "part:"},
        threading.Barrier(threads_count),
    )
    results: list[tuple[Template, bytes]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            t = loader.load("page.html")
            out = t.generate(n=n)
            with lock:
                results.append((t, out))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    # Each template was created once, and every thread got the same object.
    assert sorted(loader.created) == ["page.html", "part.html"]
    assert len({id(t) for t, _ in results}) == 1
    assert sorted(out for _, out in results) == sorted(b"part:%d" % n for n in range(threads_count))


def test_reset_while_other_thread_holds_template() -> None:
    loader = DictLoader({"a": "{{ 1 }}"})
    held = loader.load("a")
    loader.reset()
    assert loader.templates == {}
    assert held.generate() == b"1"


# ----------------------------------------------------------------------
# Errors


def test_parse_error_attributes_and_str() -> None:
    with pytest.raises(ParseError) as info:
        Template("line1\nline2\n{% bogus %}", name="err.html")
    error = info.value
    assert (error.message, error.filename, error.lineno) == (
        "unknown operator: 'bogus'",
        "err.html",
        3,
    )
    assert str(error) == "unknown operator: 'bogus' at err.html:3"
    assert error.args == ("unknown operator: 'bogus'",)


def test_parse_error_defaults() -> None:
    error = ParseError("broken")
    assert (error.filename, error.lineno) == (None, 0)
    assert str(error) == "broken at None:0"


def test_parse_error_in_included_template_names_that_template() -> None:
    loader = DictLoader(
        {"main.html": "{% include 'inc/bad.html' %}", "inc/bad.html": "\n\n{% end %}"}
    )
    with pytest.raises(ParseError) as info:
        loader.load("main.html")
    assert (info.value.filename, info.value.lineno) == ("inc/bad.html", 3)


def test_syntax_error_logs_numbered_code(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="tornado.application"),
        pytest.raises(SyntaxError) as info,
    ):
        Template("ok\n{{ 1 + }}", name="bad.html")
    assert info.value.filename == "bad_html.generated.py"
    assert info.value.text is not None and info.value.text.rstrip().endswith("# bad.html:2")
    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith("bad.html code:\n")
    lines = message.splitlines()[1:]
    # Numbered, right-aligned to the widest number.
    assert lines[0].startswith("1  def _tt_execute():")
    assert all(line.split("  ", 1)[0].strip().isdigit() for line in lines)


def test_runtime_error_traceback_shows_template_line() -> None:
    loader = DictLoader(
        {
            "page.html": "<p>\n{% include 'row.html' %}\n</p>",
            "row.html": "\n\n{{ user.nmae }}",
        }
    )
    t = loader.load("page.html")
    with pytest.raises(AttributeError) as info:
        t.generate(user=object())
    formatted = "".join(traceback.format_exception(info.value))
    assert 'File "page_html.generated.py"' in formatted
    assert "_tt_tmp = user.nmae  # row.html:3 (via page.html:2)" in formatted


def test_traceback_source_belongs_to_the_template_that_failed() -> None:
    # Two templates with one name: each traceback must show its own code.
    first = Template("{{ first_missing }}", name="same.html")
    second = Template("\n{{ second_missing }}", name="same.html")
    for t, expected in (
        (first, "first_missing  # same.html:1"),
        (second, "second_missing  # same.html:2"),
    ):
        with pytest.raises(NameError) as info:
            t.generate()
        assert expected in "".join(traceback.format_exception(info.value))


def test_missing_autoescape_function_raises_at_first_expression() -> None:
    t = Template("text only", autoescape="nowhere")
    assert t.generate() == b"text only"
    with pytest.raises(NameError, match="name 'nowhere' is not defined"):
        Template("{{ 1 }}", autoescape="nowhere").generate()


def test_autoescape_name_assigned_by_template_is_looked_up_in_place() -> None:
    t = Template(
        "{% from tornado.escape import url_escape as esc %}{% autoescape esc %}{{ 'a b' }}"
    )
    assert t.generate() == b"a+b"
    assert t.generate(esc=lambda b: b"wrong") == b"a+b"


# ----------------------------------------------------------------------
# Standalone: importing the engine does not start the event-loop machinery.


def test_import_does_not_pull_in_event_loop() -> None:
    code = (
        "import sys, tornado.template\n"
        "bad = sorted(m for m in sys.modules if m in ('asyncio', 'tornado.ioloop', 'tornado.concurrent',"
        " 'tornado.gen', 'tornado.iostream') or m.startswith('asyncio.'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == ""


@given(st.one_of(st.text(), st.binary(), st.integers(), st.floats(), st.booleans(), st.none()))
def test_fast_xhtml_escaper_matches_generic_path_on_any_value(value: Any) -> None:
    assert _outcome(template._escape_xhtml, value) == _outcome(
        lambda v: template._escape_with(escape.xhtml_escape, v), value
    )


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_filter_whitespace_single_leaves_no_runs(text: str) -> None:
    single = filter_whitespace("single", text)
    oneline = filter_whitespace("oneline", text)
    # No two whitespace characters in a row survive oneline, and single
    # keeps every line break run as exactly one newline.
    assert not any(a.isspace() and b.isspace() for a, b in itertools.pairwise(oneline))
    assert "\n\n" not in single and " \n" not in single and "\n " not in single
    assert single.replace("\n", " ").split() == text.split() == oneline.split()


def test_adjacent_text_becomes_one_append() -> None:
    # Comments split the text into pieces; the generated code joins them.
    t = Template("a{# x #}b{% comment y %}c{{ 1 }}d")
    assert t.code.count("_tt_append(b'") == 2
    assert "_tt_append(b'abc')" in t.code
    assert t.generate() == b"abc1d"


def test_templates_render_concurrently() -> None:
    t = DictLoader({"row.html": "{% for i in range(n) %}<{{ i }}>{% end %}"}).load("row.html")
    barrier = threading.Barrier(4)
    outputs: dict[int, bytes] = {}

    def work(n: int) -> None:
        barrier.wait()
        outputs[n] = t.generate(n=n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outputs == {n: b"".join(b"<%d>" % i for i in range(n)) for n in range(4)}
