"""A template language that compiles to Python.

A template is text with three kinds of markup in it::

    {{ expression }}            the value of a Python expression, escaped
    {% directive ... %}         control flow, inheritance, inclusion, settings
    {# comment #}               dropped from the output

Templates are translated into the source of one Python function, compiled
once, and run by `Template.generate`, which returns the output as `bytes`::

    t = Template("<html>{{ title }}</html>")
    t.generate(title="Hello")           # b'<html>Hello</html>'

A `Loader` reads templates from a directory and keeps each compiled template
for later use; a `DictLoader` does the same from a dict of sources::

    loader = Loader("/srv/templates")
    loader.load("page.html").generate(user=user)

Inside ``{{ }}`` and ``{% %}`` any Python expression or statement may be
used: ``if``/``for``/``while``/``try`` translate directly into Python, so
``{% for p in [p for p in people if p.age > 23] %}`` works as it reads.
Functions reach a template through ``generate``'s keyword arguments or the
loader's ``namespace``.  Every template also sees ``escape`` and
``xhtml_escape`` (HTML escaping), ``url_escape``, ``json_encode``,
``squeeze``, ``linkify`` and the ``datetime`` module.  Names that start with
``_tt_`` are reserved for the template system.

Directives
----------

``{% apply function %}...{% end %}``
    Run ``function`` on the output of the enclosed part (it receives bytes)
    and write what it returns.
``{% autoescape function %}``
    Escape expressions of this file with ``function`` (a name from the
    namespace), or not at all with ``None``.  It applies to the whole file.
``{% block name %}...{% end %}``
    A replaceable region, for use with ``{% extends %}``.
``{% comment ... %}``
    Dropped from the output.
``{% extends "path" %}``
    Render the named parent template instead, with the ``{% block %}``
    regions of this template replacing those of the parent.  Everything
    outside blocks in the child is ignored.
``{% for x in y %}``, ``{% while cond %}``, ``{% if %}``/``{% elif %}``/``{% else %}``
    Python's loops and conditionals; each is closed by ``{% end %}``.
    ``{% break %}`` and ``{% continue %}`` work inside loops.
``{% try %}``/``{% except %}``/``{% else %}``/``{% finally %}``
    Python's exception handling, also closed by ``{% end %}``.
``{% from x import y %}``, ``{% import module %}``
    Python's import statements.
``{% include "path" %}``
    Insert another template here, as if its text were copied in: it sees
    the local variables of the place it is included from.
``{% module expr %}``
    Write the unescaped result of ``_tt_modules.expr`` (the UI modules of
    `tornado.web`).
``{% raw expr %}``
    Write the value of ``expr`` without escaping it.
``{% set x = y %}``
    A Python assignment.
``{% whitespace mode %}``
    Handle the whitespace of the rest of this file with ``mode``, one of
    ``all``, ``single`` and ``oneline`` (see `filter_whitespace`).

``{{!``, ``{%!`` and ``{#!`` write ``{{``, ``{%`` and ``{#`` literally.

Errors
------

Malformed markup raises `ParseError`, which names the template and line.
Python syntax errors inside tags raise `SyntaxError` when the template is
compiled; the generated code is then logged to ``tornado.application``.  An
exception raised while a template runs carries a traceback through the
generated code, whose every line ends with a comment naming the template
line it came from (``# page.html:12``, or ``# item.html:3 (via
page.html:12)`` inside included templates and inherited blocks).
"""

from __future__ import annotations

import builtins
import contextlib
import datetime
import keyword
import os.path
import posixpath
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn, TypeAlias

from tornado import escape
from tornado.util import ObjectDict, exec_in

__all__ = [
    "BaseLoader",
    "DictLoader",
    "Loader",
    "ParseError",
    "Template",
    "filter_whitespace",
]

_DEFAULT_AUTOESCAPE = "xhtml_escape"


class _UnsetMarker:
    """Type of `_UNSET`, the "argument not given" marker."""


_UNSET = _UnsetMarker()

_Escaper: TypeAlias = Callable[[Any], Any]

_SINGLE_SPACE_RUNS = re.compile(r"[\t ]+")
_NEWLINE_RUNS = re.compile(r"\s*\n\s*")
_WHITESPACE_RUNS = re.compile(r"\s+")


def filter_whitespace(mode: str, text: str) -> str:
    """Transform the whitespace of ``text`` according to ``mode``.

    ``mode`` is one of:

    * ``"all"``: return ``text`` unchanged;
    * ``"single"``: collapse each run of whitespace to one character: a
      newline if the run contains one, else a space;
    * ``"oneline"``: collapse each run of whitespace, newlines included, to
      one space.

    Raises `Exception` (``invalid whitespace mode ...``) for any other mode.

    .. versionadded:: 4.3
    """
    if mode == "all":
        return text
    if mode == "single":
        # Tabs and spaces first, so that a run around a newline shrinks to
        # exactly that newline in the second step.
        text = _SINGLE_SPACE_RUNS.sub(" ", text)
        return _NEWLINE_RUNS.sub("\n", text)
    if mode == "oneline":
        return _WHITESPACE_RUNS.sub(" ", text)
    raise Exception("invalid whitespace mode %s" % mode)


class ParseError(Exception):
    """Raised for template syntax errors.

    ``filename`` and ``lineno`` say where the error is; ``str()`` of the
    error reads ``"<message> at <filename>:<lineno>"``.

    .. versionchanged:: 4.3
       Added ``filename`` and ``lineno`` attributes.
    """

    def __init__(self, message: str, filename: str | None = None, lineno: int = 0) -> None:
        super().__init__(message)
        #: What is wrong, without the location.
        self.message = message
        self.filename = filename
        self.lineno = lineno

    def __str__(self) -> str:
        return "%s at %s:%d" % (self.message, self.filename, self.lineno)


# ----------------------------------------------------------------------
# Turning values into output bytes.
#
# An expression's value becomes bytes first (str and bytes as they are, in
# UTF-8; anything else through str()), then goes through the autoescape
# function, whose result is converted to bytes again.  The escaper for the
# default ``xhtml_escape`` does the same in one step for the common case of
# a str value.  That fast path is taken only when the namespace's
# ``xhtml_escape`` really is tornado.escape's (compared at each generate),
# and an unencodable str falls back to the slow path so that the error is
# the same.

_utf8 = escape.utf8


def _to_bytes(value: Any) -> bytes:
    """Convert the value of an expression to output bytes (no escaping)."""
    cls = value.__class__
    if cls is str:
        return value.encode("utf-8")  # type: ignore[no-any-return]
    if cls is bytes:
        return value  # type: ignore[no-any-return]
    if isinstance(value, str | bytes):
        return _utf8(value)
    return _utf8(str(value))


def _escape_with(function: Callable[[bytes], Any], value: Any) -> Any:
    """Escape ``value`` with an arbitrary autoescape ``function``."""
    return _utf8(function(_to_bytes(value)))


# escape's str-only escaper: the fast path below already knows it has a str.
_html_escape = escape._escape_str
_core_xhtml_escape = escape.xhtml_escape


def _escape_xhtml(value: Any) -> Any:
    """Escape ``value`` as ``_escape_with(tornado.escape.xhtml_escape, value)``."""
    cls = value.__class__
    if cls is str:
        try:
            return _html_escape(value).encode("utf-8")
        except UnicodeEncodeError:
            pass
    elif cls is int or cls is float:
        # Digits, signs, dots and letters: nothing to escape.
        return str(value).encode("ascii")
    return _utf8(_core_xhtml_escape(_to_bytes(value)))


def _make_escaper(namespace: dict[str, Any], name: str) -> _Escaper:
    """Return the one-argument escaper for autoescape function ``name``."""
    try:
        function = namespace[name]
    except KeyError:
        try:
            function = builtins.__dict__[name]
        except KeyError:
            return _missing_escaper(name)
    if function is _core_xhtml_escape:
        return _escape_xhtml

    def escaper(value: Any) -> Any:
        return _utf8(function(_to_bytes(value)))

    return escaper


def _missing_escaper(name: str) -> _Escaper:
    # The generated code would have raised NameError at the first escaped
    # expression; raise it there too, not before the template starts.
    def escaper(value: Any) -> Any:
        raise NameError("name %r is not defined" % name, name=name)

    return escaper


def _is_simple_name(text: str | None) -> bool:
    return text is not None and text.isidentifier() and not keyword.iskeyword(text)


class Template:
    """A compiled template.

    ``template_string`` is the source (`str`, or `bytes` in UTF-8).
    ``name`` names it in error messages and tracebacks; a name ending in
    ``.html`` or ``.js`` selects the ``single`` whitespace mode by default.
    ``loader`` resolves ``{% include %}`` and ``{% extends %}`` and provides
    the namespace and defaults.  ``autoescape`` names the escaping function
    (default ``"xhtml_escape"``, or the loader's; None disables escaping).
    ``whitespace`` is a mode for `filter_whitespace`; the older
    ``compress_whitespace`` (true for ``single``, false for ``all``) cannot
    be combined with it.

    The template is parsed and compiled here: this raises `ParseError` for
    malformed markup, `SyntaxError` for bad Python inside tags (after
    logging the generated code), and whatever the loader raises for a
    missing included or parent template.

    .. versionchanged:: 4.3
       Added ``whitespace``; deprecated ``compress_whitespace``.
    """

    def __init__(
        self,
        template_string: str | bytes,
        name: str = "<string>",
        loader: BaseLoader | None = None,
        compress_whitespace: bool | _UnsetMarker = _UNSET,
        autoescape: str | _UnsetMarker | None = _UNSET,
        whitespace: str | None = None,
    ) -> None:
        self.name = escape.native_str(name)

        if compress_whitespace is not _UNSET:
            if whitespace is not None:
                raise Exception("cannot set both whitespace and compress_whitespace")
            whitespace = "single" if compress_whitespace else "all"
        if whitespace is None:
            if loader is not None and loader.whitespace:
                whitespace = loader.whitespace
            elif name.endswith((".html", ".js")):
                whitespace = "single"
            else:
                whitespace = "all"
        # Reject a bad mode now, not when the first text is filtered.
        filter_whitespace(whitespace, "")

        self.autoescape: str | None
        if not isinstance(autoescape, _UnsetMarker):
            self.autoescape = autoescape
        elif loader is not None:
            self.autoescape = loader.autoescape
        else:
            self.autoescape = _DEFAULT_AUTOESCAPE

        #: Names every rendering of this template sees (from the loader).
        self.namespace: dict[str, Any] = loader.namespace if loader is not None else {}
        reader = _TemplateReader(name, escape.to_unicode(template_string), whitespace)
        #: The parsed template (the root of its node tree).
        self.file = _File(self, _parse(reader, self))
        generated = _generate_python(self, loader)
        #: The Python source the template was compiled to.
        self.code: str = generated.code
        self._escape_names = generated.escape_names
        self.loader = loader
        self._code_filename = "%s.generated.py" % self.name.replace(".", "_")
        # linecache asks this for the source of the generated code when a
        # traceback through a template is formatted.
        self._source_loader = ObjectDict(get_source=lambda module_name: self.code)
        try:
            # dont_inherit: the template must not pick up this module's
            # ``from __future__`` flags.
            #: The code object of `code`.
            self.compiled = compile(self.code, self._code_filename, "exec", dont_inherit=True)
        except Exception:
            # Imported here: logging is only needed on this error path, and
            # keeping it out of `import tornado.template` halves import time.
            from tornado.log import app_log

            app_log.error("%s code:\n%s", self.name, _format_code(self.code).rstrip())
            raise

    def generate(self, **kwargs: Any) -> bytes:
        """Render the template with ``kwargs`` as its variables.

        ``kwargs`` are added to (and override) the loader's namespace and
        the default one.  Returns the output as bytes.  Whatever the
        template's code raises propagates, with a traceback that points at
        the template line.
        """
        namespace: dict[str, Any] = {
            "escape": escape.xhtml_escape,
            "xhtml_escape": escape.xhtml_escape,
            "url_escape": escape.url_escape,
            "json_encode": escape.json_encode,
            "squeeze": escape.squeeze,
            "linkify": escape.linkify,
            "datetime": datetime,
            "_tt_utf8": escape.utf8,
            "_tt_string_types": (str, bytes),
            "__name__": self.name.replace(".", "_"),
            "__loader__": self._source_loader,
        }
        namespace.update(self.namespace)
        namespace.update(kwargs)
        namespace["_tt_to_bytes"] = _to_bytes
        namespace["_tt_escape_with"] = _escape_with
        namespace["_tt_escapers"] = [_make_escaper(namespace, name) for name in self._escape_names]
        exec_in(self.compiled, namespace)
        execute: Callable[[], bytes] = namespace["_tt_execute"]
        # Another template with the same name may have left its generated
        # source in linecache; drop it so a traceback shows ours.
        _linecache_cache().pop(self._code_filename, None)
        return execute()


def _linecache_cache() -> dict[str, Any]:
    """linecache's cache, imported on first render rather than at import time."""
    import linecache

    return linecache.cache


class BaseLoader:
    """Base class for template loaders.

    A loader resolves template names, creates each template once and keeps
    it (`load`), and gives its templates their defaults: ``autoescape``
    (the name of the escaping function, or None), ``namespace`` (a dict of
    names every template sees) and ``whitespace`` (a mode for
    `filter_whitespace`; by default, chosen from the template's name).

    Subclasses implement `resolve_path` and ``_create_template``.  Loading
    is thread-safe.

    .. versionchanged:: 4.3
       Added ``whitespace``.
    """

    def __init__(
        self,
        autoescape: str | None = _DEFAULT_AUTOESCAPE,
        namespace: dict[str, Any] | None = None,
        whitespace: str | None = None,
    ) -> None:
        self.autoescape = autoescape
        self.namespace = namespace or {}
        self.whitespace = whitespace
        #: Compiled templates by name (the cache that `reset` empties).
        self.templates: dict[str, Template] = {}
        # Reentrant: compiling a template loads the templates it includes or
        # extends through the same loader, on the same thread.
        #: Guards `templates` when several threads load at once.
        self.lock = threading.RLock()

    def reset(self) -> None:
        """Forget every loaded template, so that the next `load` reads it anew."""
        with self.lock:
            self.templates = {}

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        """Turn ``name``, relative to template ``parent_path``, into a template name.

        Raises `NotImplementedError` here; subclasses implement it.
        """
        raise NotImplementedError()

    def load(self, name: str, parent_path: str | None = None) -> Template:
        """Return the template ``name`` (relative to ``parent_path``), compiled once.

        Raises what creating the template raises (`ParseError`,
        `SyntaxError`, or the loader's error for a missing template).
        """
        name = self.resolve_path(name, parent_path=parent_path)
        with self.lock:
            template = self.templates.get(name)
            if template is None:
                template = self._create_template(name)
                self.templates[name] = template
            return template

    def _create_template(self, name: str) -> Template:
        raise NotImplementedError()


def _is_relative_to_parent(name: str, parent_path: str) -> bool:
    # Templates made from strings are named like "<string>"; absolute names
    # (leading "/") are never relative.
    return not parent_path.startswith(("<", "/")) and not name.startswith("/")


class Loader(BaseLoader):
    """A template loader that reads templates from ``root_directory``.

    Names are paths relative to the root; a name used inside a template
    (by ``{% include %}`` or ``{% extends %}``) is relative to that
    template's directory.  Keyword arguments are those of `BaseLoader`.
    Loading a missing file raises `FileNotFoundError`.
    """

    def __init__(self, root_directory: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: The absolute path of the folder templates are read from.
        self.root = os.path.abspath(root_directory)

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        """Resolve ``name`` against the directory of ``parent_path``.

        The result is a path relative to the root when it lies inside the
        root; otherwise ``name`` is returned as given.
        """
        if parent_path and _is_relative_to_parent(name, parent_path):
            parent_dir = os.path.dirname(os.path.abspath(os.path.join(self.root, parent_path)))
            candidate = os.path.abspath(os.path.join(parent_dir, name))
            if candidate.startswith(self.root):
                name = candidate[len(self.root) + 1 :]
        return name

    def _create_template(self, name: str) -> Template:
        path = os.path.join(self.root, name)
        with open(path, "rb") as f:
            return Template(f.read(), name=name, loader=self)


class DictLoader(BaseLoader):
    """A template loader that takes template sources from a dict.

    ``dict`` maps template names to sources; names used inside a template
    are relative to that template's name, as paths.  Keyword arguments are
    those of `BaseLoader`.  Loading a name that is not in the dict raises
    `KeyError`.
    """

    def __init__(self, dict: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dict = dict

    def resolve_path(self, name: str, parent_path: str | None = None) -> str:
        """Resolve ``name`` against the directory part of ``parent_path``."""
        if parent_path and _is_relative_to_parent(name, parent_path):
            name = posixpath.normpath(posixpath.join(posixpath.dirname(parent_path), name))
        return name

    def _create_template(self, name: str) -> Template:
        return Template(self.dict[name], name=name, loader=self)


# ----------------------------------------------------------------------
# The syntax tree.  Each node knows how to write its Python code; blocks
# and includes are expanded in place, so one template becomes one function.


class _Node:
    def each_child(self) -> Iterable[_Node]:
        return ()

    def generate(self, writer: _CodeWriter) -> None:
        raise NotImplementedError()

    def find_named_blocks(
        self, loader: BaseLoader | None, named_blocks: dict[str, _NamedBlock]
    ) -> None:
        for child in self.each_child():
            child.find_named_blocks(loader, named_blocks)

    def code_fragments(self) -> Iterator[tuple[str, str]]:
        """Yield (kind, code) for every piece of Python in this subtree."""
        for child in self.each_child():
            yield from child.code_fragments()


class _ChunkList(_Node):
    def __init__(self, chunks: list[_Node]) -> None:
        self.chunks = chunks

    def each_child(self) -> Iterable[_Node]:
        return self.chunks

    def generate(self, writer: _CodeWriter) -> None:
        for chunk in self.chunks:
            chunk.generate(writer)


class _File(_Node):
    def __init__(self, template: Template, body: _ChunkList) -> None:
        self.template = template
        self.body = body
        self.line = 0

    def each_child(self) -> Iterable[_Node]:
        return (self.body,)

    def generate(self, writer: _CodeWriter) -> None:
        writer.write_line("def _tt_execute():", self.line)
        with writer.indent():
            writer.write_line("_tt_buffer = []", self.line)
            writer.write_line("_tt_append = _tt_buffer.append", self.line)
            writer.write_line("_tt_bytes = _tt_to_bytes", self.line)
            writer.write_escaper_bindings(self.line)
            self.body.generate(writer)
            writer.write_line("return b''.join(_tt_buffer)", self.line)


class _Text(_Node):
    def __init__(self, value: str, line: int, whitespace: str) -> None:
        self.value = value
        self.line = line
        self.whitespace = whitespace

    def generate(self, writer: _CodeWriter) -> None:
        value = self.value
        # Whitespace inside <pre> is content; leave such text alone.
        if "<pre>" not in value:
            value = filter_whitespace(self.whitespace, value)
        if value:
            writer.write_text(value.encode("utf-8"), self.line)


class _Expression(_Node):
    def __init__(self, expression: str, line: int, raw: bool = False) -> None:
        self.expression = expression
        self.line = line
        self.raw = raw

    def code_fragments(self) -> Iterator[tuple[str, str]]:
        yield ("expression", self.expression)

    def generate(self, writer: _CodeWriter) -> None:
        # A separate assignment keeps the expression's own syntax: a tuple
        # without parentheses, a trailing comment, or a syntax error all
        # behave as in a plain Python statement.
        writer.write_line("_tt_tmp = %s" % self.expression, self.line)
        autoescape = writer.current_template.autoescape
        if self.raw or not autoescape:
            writer.write_line("_tt_append(_tt_bytes(_tt_tmp))", self.line)
        elif autoescape in writer.generic_escapes or not _is_simple_name(autoescape):
            writer.write_line("_tt_append(_tt_escape_with(%s, _tt_tmp))" % autoescape, self.line)
        else:
            writer.write_line(
                "_tt_append(_tt_esc%d(_tt_tmp))" % writer.escaper_index(autoescape), self.line
            )


class _Module(_Expression):
    def __init__(self, expression: str, line: int) -> None:
        super().__init__("_tt_modules." + expression, line, raw=True)


class _Statement(_Node):
    def __init__(self, statement: str, line: int) -> None:
        self.statement = statement
        self.line = line

    def code_fragments(self) -> Iterator[tuple[str, str]]:
        yield ("statement", self.statement)

    def generate(self, writer: _CodeWriter) -> None:
        writer.write_line(self.statement, self.line)


class _IntermediateControlBlock(_Statement):
    """``else``/``elif``/``except``/``finally``: a clause of the enclosing block."""

    def generate(self, writer: _CodeWriter) -> None:
        writer.end_clause(self.line)
        writer.write_line("%s:" % self.statement, self.line, writer.indent_level - 1)
        writer.start_clause()


class _ControlBlock(_Node):
    def __init__(self, statement: str, line: int, body: _ChunkList) -> None:
        self.statement = statement
        self.line = line
        self.body = body

    def each_child(self) -> Iterable[_Node]:
        return (self.body,)

    def code_fragments(self) -> Iterator[tuple[str, str]]:
        yield ("statement", self.statement)
        yield from self.body.code_fragments()

    def generate(self, writer: _CodeWriter) -> None:
        writer.write_line("%s:" % self.statement, self.line)
        with writer.indent():
            writer.start_clause()
            self.body.generate(writer)
            writer.end_clause(self.line)


class _ApplyBlock(_Node):
    def __init__(self, method: str, line: int, body: _ChunkList) -> None:
        self.method = method
        self.line = line
        self.body = body

    def each_child(self) -> Iterable[_Node]:
        return (self.body,)

    def code_fragments(self) -> Iterator[tuple[str, str]]:
        yield ("expression", self.method)
        yield from self.body.code_fragments()

    def generate(self, writer: _CodeWriter) -> None:
        function_name = "_tt_apply%d" % writer.next_apply_number()
        writer.write_line("def %s():" % function_name, self.line)
        with writer.indent():
            writer.write_line("_tt_buffer = []", self.line)
            writer.write_line("_tt_append = _tt_buffer.append", self.line)
            self.body.generate(writer)
            writer.write_line("return b''.join(_tt_buffer)", self.line)
        writer.write_line(
            "_tt_append(_tt_utf8(%s(%s())))" % (self.method, function_name), self.line
        )


class _NamedBlock(_Node):
    def __init__(self, name: str, body: _ChunkList, template: Template, line: int) -> None:
        self.name = name
        self.body = body
        self.template = template
        self.line = line

    def each_child(self) -> Iterable[_Node]:
        return (self.body,)

    def find_named_blocks(
        self, loader: BaseLoader | None, named_blocks: dict[str, _NamedBlock]
    ) -> None:
        named_blocks[self.name] = self
        super().find_named_blocks(loader, named_blocks)

    def generate(self, writer: _CodeWriter) -> None:
        # Render the most derived definition of this block, in the context
        # (autoescape, line annotations) of the template that defines it.
        block = writer.named_blocks[self.name]
        writer.note_fragments(block.body)
        with writer.include(block.template, self.line):
            block.body.generate(writer)


class _ExtendsBlock(_Node):
    def __init__(self, name: str) -> None:
        self.name = name

    # generate() is inherited and raises NotImplementedError: an extends
    # directive only takes effect at the top level of a template.


class _IncludeBlock(_Node):
    def __init__(self, name: str, reader: _TemplateReader, line: int) -> None:
        self.name = name
        self.template_name = reader.name
        self.line = line

    def _load(self, loader: BaseLoader | None) -> Template:
        if loader is None:
            raise AssertionError()
        return loader.load(self.name, self.template_name)

    def find_named_blocks(
        self, loader: BaseLoader | None, named_blocks: dict[str, _NamedBlock]
    ) -> None:
        self._load(loader).file.find_named_blocks(loader, named_blocks)

    def generate(self, writer: _CodeWriter) -> None:
        included = self._load(writer.loader)
        writer.note_fragments(included.file)
        with writer.include(included, self.line):
            included.file.body.generate(writer)


# ----------------------------------------------------------------------
# Code generation.


class _GeneratedCode:
    def __init__(self, code: str, escape_names: list[str]) -> None:
        self.code = code
        self.escape_names = escape_names


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WALRUS_TARGET = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*:=")


class _CodeWriter:
    def __init__(
        self,
        loader: BaseLoader | None,
        named_blocks: dict[str, _NamedBlock],
        current_template: Template,
        generic_escapes: frozenset[str],
    ) -> None:
        self.loader = loader
        self.named_blocks = named_blocks
        self.current_template = current_template
        self.generic_escapes = generic_escapes
        self.lines: list[str] = []
        self.indent_level = 0
        self.include_stack: list[tuple[Template, int]] = []
        self.escape_names: list[str] = []
        self.assigned_names: set[str] = set()
        self._apply_count = 0
        self._clause_starts: list[int] = []
        self._pending_text: list[bytes] = []
        self._pending_line = 0
        self._escaper_binding_slot: int | None = None
        self._escaper_binding_indent = 0

    def start_clause(self) -> None:
        """Mark the start of a suite (the body of a block or clause)."""
        self._flush_text()
        self._clause_starts.append(len(self.lines))

    def end_clause(self, line: int) -> None:
        """End the current suite, with ``pass`` if it produced no code."""
        self._flush_text()
        if len(self.lines) == self._clause_starts.pop():
            self.write_line("pass", line)

    def next_apply_number(self) -> int:
        number = self._apply_count
        self._apply_count += 1
        return number

    def escaper_index(self, name: str) -> int:
        if name not in self.escape_names:
            self.escape_names.append(name)
        return self.escape_names.index(name)

    def note_fragments(self, node: _Node) -> None:
        """Record names that Python code in ``node`` may assign."""
        for kind, code in node.code_fragments():
            if kind == "statement":
                self.assigned_names.update(_IDENTIFIER.findall(code))
            else:
                self.assigned_names.update(_WALRUS_TARGET.findall(code))

    def write_escaper_bindings(self, line: int) -> None:
        # The escapers in use are known only at the end; keep a slot.
        self._flush_text()
        self._escaper_binding_slot = len(self.lines)
        self._escaper_binding_indent = self.indent_level
        self._escaper_binding_line = line

    def finish(self) -> str:
        self._flush_text()
        if self._escaper_binding_slot is not None:
            bindings = [
                self._format_line(
                    "_tt_esc%d = _tt_escapers[%d]" % (i, i),
                    self._escaper_binding_line,
                    self._escaper_binding_indent,
                )
                for i in range(len(self.escape_names))
            ]
            self.lines[self._escaper_binding_slot : self._escaper_binding_slot] = bindings
        return "\n".join(self.lines) + "\n"

    @contextlib.contextmanager
    def indent(self) -> Iterator[None]:
        self._flush_text()
        self.indent_level += 1
        try:
            yield
        finally:
            self._flush_text()
            self.indent_level -= 1

    @contextlib.contextmanager
    def include(self, template: Template, line: int) -> Iterator[None]:
        self._flush_text()
        self.include_stack.append((self.current_template, line))
        self.current_template = template
        try:
            yield
        finally:
            self._flush_text()
            self.current_template, _ = self.include_stack.pop()

    def write_text(self, value: bytes, line: int) -> None:
        # Adjacent text (split by comments, say) becomes one append.
        if not self._pending_text:
            self._pending_line = line
        self._pending_text.append(value)

    def _flush_text(self) -> None:
        if self._pending_text:
            text = b"".join(self._pending_text)
            self._pending_text = []
            self.lines.append(
                self._format_line("_tt_append(%r)" % text, self._pending_line, self.indent_level)
            )

    def write_line(self, code: str, line: int, indent: int | None = None) -> None:
        self._flush_text()
        self.lines.append(
            self._format_line(code, line, self.indent_level if indent is None else indent)
        )

    def _format_line(self, code: str, line: int, indent: int) -> str:
        annotation = "%s:%d" % (self.current_template.name, line)
        if self.include_stack:
            annotation += " (via %s)" % ", ".join(
                "%s:%d" % (template.name, template_line)
                for template, template_line in reversed(self.include_stack)
            )
        return "    " * indent + code + "  # " + annotation


def _ancestors(template: Template, loader: BaseLoader | None) -> list[_File]:
    """The template's file followed by those of its parents, nearest first."""
    files = [template.file]
    for chunk in template.file.body.chunks:
        if isinstance(chunk, _ExtendsBlock):
            if loader is None:
                raise ParseError("{% extends %} block found, but no template loader")
            parent = loader.load(chunk.name, template.name)
            files.extend(_ancestors(parent, loader))
    return files


def _generate_python(template: Template, loader: BaseLoader | None) -> _GeneratedCode:
    files = _ancestors(template, loader)
    # Root first, so that definitions in more derived templates win.
    files.reverse()
    named_blocks: dict[str, _NamedBlock] = {}
    for file in files:
        file.find_named_blocks(loader, named_blocks)
    generic_escapes: frozenset[str] = frozenset()
    while True:
        writer = _CodeWriter(loader, named_blocks, files[0].template, generic_escapes)
        for file in files:
            writer.note_fragments(file)
        files[0].generate(writer)
        code = writer.finish()
        # A template that assigns the name of its escaping function (say
        # with {% set %} or {% import %}) must see its own binding, so such
        # names are looked up in place instead of once per render.
        conflicts = writer.assigned_names.intersection(writer.escape_names)
        if not conflicts:
            return _GeneratedCode(code, writer.escape_names)
        generic_escapes = generic_escapes | conflicts


def _format_code(code: str) -> str:
    lines = code.splitlines()
    width = len(str(len(lines)))
    return "".join("%*d  %s\n" % (width, number, line) for number, line in enumerate(lines, 1))


# ----------------------------------------------------------------------
# Parsing.


class _TemplateReader:
    def __init__(self, name: str, text: str, whitespace: str) -> None:
        self.name = name
        self.text = text
        self.whitespace = whitespace
        self.line = 1
        self.pos = 0

    def find(self, needle: str, start: int = 0) -> int:
        """Index of ``needle`` relative to the current position, or -1."""
        index = self.text.find(needle, self.pos + start)
        return -1 if index == -1 else index - self.pos

    def consume(self, count: int | None = None) -> str:
        if count is None:
            count = len(self.text) - self.pos
        end = self.pos + count
        self.line += self.text.count("\n", self.pos, end)
        consumed = self.text[self.pos : end]
        self.pos = end
        return consumed

    def remaining(self) -> int:
        return len(self.text) - self.pos

    def char(self, offset: int) -> str:
        return self.text[self.pos + offset]

    def raise_parse_error(self, message: str) -> NoReturn:
        raise ParseError(message, self.name, self.line)


# Clauses that continue an open block, and the blocks each may continue.
_INTERMEDIATE_BLOCKS: dict[str, frozenset[str]] = {
    "else": frozenset({"if", "for", "while", "try"}),
    "elif": frozenset({"if"}),
    "except": frozenset({"try"}),
    "finally": frozenset({"try"}),
}
_LOOP_BLOCKS = frozenset({"for", "while"})


def _set_repr(names: frozenset[str]) -> str:
    # The error messages show the allowed blocks as a Python set.
    return "{%s}" % ", ".join(repr(name) for name in sorted(names))


def _find_tag_start(reader: _TemplateReader) -> int:
    """Offset of the next ``{{``, ``{%`` or ``{#`` tag, or -1 at the end."""
    search_from = 0
    while True:
        brace = reader.find("{", search_from)
        if brace == -1 or brace + 1 == reader.remaining():
            return -1
        following = reader.char(brace + 1)
        if following not in "{%#":
            search_from = brace + 1
            continue
        # With three or more braces in a row, the tag starts at the last
        # two: "{{{ x }}}" is a literal brace around an expression.
        if following == "{" and brace + 2 < reader.remaining() and reader.char(brace + 2) == "{":
            search_from = brace + 1
            continue
        return brace


def _parse(
    reader: _TemplateReader,
    template: Template,
    in_block: str | None = None,
    in_loop: str | None = None,
) -> _ChunkList:
    body = _ChunkList([])
    while True:
        start = _find_tag_start(reader)
        if start == -1:
            if in_block:
                reader.raise_parse_error("Missing {%% end %%} block for %s" % in_block)
            if reader.remaining():
                line = reader.line
                body.chunks.append(_Text(reader.consume(), line, reader.whitespace))
            return body

        # "{{!", "{%!" and "{#!" stand for the two characters themselves.
        if start + 2 < reader.remaining() and reader.char(start + 2) == "!":
            line = reader.line
            body.chunks.append(_Text(reader.consume(start + 2), line, reader.whitespace))
            reader.consume(1)
            continue

        if start > 0:
            line = reader.line
            body.chunks.append(_Text(reader.consume(start), line, reader.whitespace))

        opening = reader.consume(2)
        line = reader.line

        if opening == "{#":
            end = reader.find("#}")
            if end == -1:
                reader.raise_parse_error("Missing end comment #}")
            reader.consume(end)
            reader.consume(2)
            continue

        if opening == "{{":
            end = reader.find("}}")
            if end == -1:
                reader.raise_parse_error("Missing end expression }}")
            contents = reader.consume(end).strip()
            reader.consume(2)
            if not contents:
                reader.raise_parse_error("Empty expression")
            body.chunks.append(_Expression(contents, line))
            continue

        end = reader.find("%}")
        if end == -1:
            reader.raise_parse_error("Missing end block %}")
        contents = reader.consume(end).strip()
        reader.consume(2)
        if not contents:
            reader.raise_parse_error("Empty block tag ({% %})")
        operator, _, suffix = contents.partition(" ")
        suffix = suffix.strip()

        allowed_parents = _INTERMEDIATE_BLOCKS.get(operator)
        if allowed_parents is not None:
            if not in_block:
                reader.raise_parse_error(
                    "%s outside %s block" % (operator, _set_repr(allowed_parents))
                )
            if in_block not in allowed_parents:
                reader.raise_parse_error(
                    "%s block cannot be attached to %s block" % (operator, in_block)
                )
            body.chunks.append(_IntermediateControlBlock(contents, line))
            continue

        if operator == "end":
            if not in_block:
                reader.raise_parse_error("Extra {% end %} block")
            return body

        if operator in (
            "extends",
            "include",
            "set",
            "import",
            "from",
            "comment",
            "autoescape",
            "whitespace",
            "raw",
            "module",
        ):
            if operator == "comment":
                continue
            if operator == "autoescape":
                # Applies to the whole file, wherever it appears.
                template.autoescape = None if suffix == "None" else suffix
                continue
            if operator == "whitespace":
                filter_whitespace(suffix, "")  # raises for an unknown mode
                reader.whitespace = suffix
                continue
            block: _Node
            if operator == "extends":
                path = suffix.strip('"').strip("'")
                if not path:
                    reader.raise_parse_error("extends missing file path")
                block = _ExtendsBlock(path)
            elif operator == "include":
                path = suffix.strip('"').strip("'")
                if not path:
                    reader.raise_parse_error("include missing file path")
                block = _IncludeBlock(path, reader, line)
            elif operator == "set":
                if not suffix:
                    reader.raise_parse_error("set missing statement")
                block = _Statement(suffix, line)
            elif operator in ("import", "from"):
                if not suffix:
                    reader.raise_parse_error("import missing statement")
                block = _Statement(contents, line)
            elif operator == "raw":
                block = _Expression(suffix, line, raw=True)
            else:
                block = _Module(suffix, line)
            body.chunks.append(block)
            continue

        if operator in ("apply", "block", "try", "if", "for", "while"):
            # A loop makes break/continue legal in its body, and an apply
            # block (a function of its own) makes them illegal again.
            if operator in _LOOP_BLOCKS:
                inner_loop: str | None = operator
            elif operator == "apply":
                inner_loop = None
            else:
                inner_loop = in_loop
            block_body = _parse(reader, template, operator, inner_loop)
            if operator == "apply":
                if not suffix:
                    reader.raise_parse_error("apply missing method name")
                block = _ApplyBlock(suffix, line, block_body)
            elif operator == "block":
                if not suffix:
                    reader.raise_parse_error("block missing name")
                block = _NamedBlock(suffix, block_body, template, line)
            else:
                block = _ControlBlock(contents, line, block_body)
            body.chunks.append(block)
            continue

        if operator in ("break", "continue"):
            if not in_loop:
                reader.raise_parse_error(
                    "%s outside %s block" % (operator, _set_repr(_LOOP_BLOCKS))
                )
            body.chunks.append(_Statement(contents, line))
            continue

        reader.raise_parse_error("unknown operator: %r" % operator)
