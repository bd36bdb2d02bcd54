"""The template corpus: our own templates and the arguments they render with.

This module is data.  It is read by two programs:

* ``tools/fixtures/make_template_fixtures.py`` renders every case with
  upstream Tornado 6 in a throwaway environment and records what it produced
  (output bytes, or the error raised) in ``fixtures/template_fixtures.json``;
* ``test_template_corpus.py`` renders every case with our engine and compares.

It must therefore import nothing but the standard library, and it is loaded by
file path (it is not a test module and not a package).

A case is a dict with:

``id``
    unique name, used by the fixtures file.
``templates``
    template name -> source text.
``main``
    the name to render; defaults to the first key of ``templates``.
``mode``
    ``"template"``: ``Template(source, name=main, **template_kwargs)`` with
    no loader; ``"dict"``: ``DictLoader(templates, **loader_kwargs)``;
    ``"files"``: the templates are written below a fresh directory and loaded
    with ``Loader(directory, **loader_kwargs)``.  Defaults to ``"dict"``.
``loader_root``
    for ``"files"``: the loader's root, relative to the directory the
    templates are written to (default: that directory).
``encode_source``
    for ``"template"``: pass the source as UTF-8 bytes.
``template_kwargs`` / ``loader_kwargs``
    keyword arguments of the constructor (``loader_kwargs`` may carry a
    ``namespace``).
``args``
    keyword arguments of ``generate``.
"""

from __future__ import annotations

import base64
import datetime
import logging
import os
import re
import traceback
from typing import Any


class Row:
    """A plain object with attributes, for attribute access in templates."""

    def __init__(self, ident: int, name: str) -> None:
        self.id = ident
        self.name = name


class Markup(str):
    """A str subclass whose ``__str__`` differs from its value."""

    def __str__(self) -> str:
        return "STR-OF-MARKUP"


class Modules:
    """Stands in for the ``_tt_modules`` object that tornado.web provides."""

    def Template(self, name: str, **kwargs: Any) -> str:
        return "<tpl %s %s>" % (name, sorted(kwargs.items()))

    def Hello(self, who: str) -> str:
        return "<b>Hello & %s</b>" % who

    def Raw(self) -> bytes:
        return b"<raw bytes>"


def _shout(value: Any) -> str:
    return "SHOUT(%r)" % (value,)


def _upper(value: Any) -> Any:
    return value.upper()


def _wrap(value: Any) -> str:
    return "[%r]" % (value,)


def _to_bytes(value: bytes) -> bytes:
    return b"<" + value + b">"


def _times21(value: Any) -> Any:
    return value * 21


def _kaboom() -> None:
    raise ValueError("kaboom from a helper")


ROWS = [Row(1, "Ann & Bob"), Row(2, "<script>"), Row(3, 'say "hi"')]

CASES: list[dict[str, Any]] = [
    # ------------------------------------------------------------------
    # expressions and escaping
    {
        "id": "expr_plain",
        "mode": "template",
        "templates": {"<string>": "Hello {{ name }}!"},
        "args": {"name": "World"},
    },
    {
        "id": "expr_escape_all_specials",
        "mode": "template",
        "templates": {"<string>": "<p>{{ s }}</p>"},
        "args": {"s": "a & b < c > d \"e\" 'f'"},
    },
    {
        "id": "expr_types",
        "mode": "template",
        "templates": {"<string>": "{{ i }}|{{ f }}|{{ n }}|{{ b }}|{{ lst }}|{{ t }}|{{ d }}"},
        "args": {
            "i": 42,
            "f": 1.5,
            "n": None,
            "b": b"by<tes",
            "lst": [1, "<x>"],
            "t": True,
            "d": {"k": "v"},
        },
    },
    {
        "id": "expr_str_subclass",
        "mode": "template",
        "templates": {"<string>": "{{ m }}/{% raw m %}"},
        "args": {"m": Markup("<m>")},
    },
    {
        "id": "expr_unicode",
        "mode": "template",
        "templates": {"<string>": "caf\u00e9 {{ s }} \u2603 {{ len(s) }}"},
        "args": {"s": "\u00fc\u00f1\u00ee<\u00e7\u00f8d\u00e9>"},
    },
    {
        "id": "expr_raw_bytes_non_utf8",
        "mode": "template",
        "templates": {"<string>": "{% raw b %}|{% raw s %}"},
        "args": {"b": b"\xff\xfe<", "s": "<\u00e9>"},
    },
    {
        "id": "expr_complex_python",
        "mode": "template",
        "templates": {
            "<string>": "{{ ', '.join(str(x * 2) for x in xs if x % 2) }} {{ {'a': 1}['a'] }} {{ xs[1:3] }} {{ 'yes' if ok else 'no' }}"
        },
        "args": {"xs": [1, 2, 3, 4, 5], "ok": False},
    },
    {
        "id": "expr_multiline",
        "mode": "template",
        "templates": {"<string>": "a{{ x +\n  y }}b\n{{ x }}"},
        "args": {"x": 1, "y": 2},
    },
    {
        "id": "expr_tuple",
        "mode": "template",
        "templates": {"<string>": "{{ 1, '<' }}|{% raw 2, 3 %}|{{ x if x else 'no' }}"},
        "args": {"x": 0},
    },
    {
        "id": "expr_trailing_python_comment",
        "mode": "template",
        "templates": {"<string>": "{{ x # the value }}|{% set y = 2 # two %}{{ y }}"},
        "args": {"x": 1},
    },
    {
        "id": "expr_dict_literal_brace",
        "mode": "template",
        "templates": {"<string>": "{{ {'k': '}'}['k'] }}|{{ {'a': {'b': 1}}['a'] }}"},
        "args": {},
    },
    {
        "id": "expr_brace_inside",
        "mode": "template",
        "templates": {"<string>": "{{ {'k': '}'}['k'] }}|{{ '}}' if 0 else 1 }}"},
        "args": {},
    },
    {
        "id": "expr_default_namespace",
        "mode": "template",
        "templates": {
            "<string>": (
                "{% raw escape('<a>') %} {% raw xhtml_escape('&') %} {{ url_escape('a b/c?') }} "
                "{% raw json_encode({'x': '</script>'}) %} {{ squeeze('  a \\n  b  ') }} "
                "{% raw linkify('see http://example.com/x?a=1&b=2 now') %} "
                "{{ datetime.date(2020, 1, 2).isoformat() }} {{ __name__ }} "
                "{{ _tt_string_types == (str, bytes) }} {% raw _tt_utf8('u') %}"
            )
        },
        "args": {},
    },
    {
        "id": "expr_name_of_html_template",
        "mode": "dict",
        "templates": {"dir/page.v2.html": "{{ __name__ }}"},
        "args": {},
    },
    {
        "id": "expr_kwargs_shadow_namespace",
        "mode": "template",
        "templates": {"<string>": "{{ s }}|{% raw squeeze('a   b') %}"},
        "args": {"s": "<x>", "xhtml_escape": _wrap, "squeeze": _upper},
    },
    {
        "id": "expr_datetime_module",
        "mode": "template",
        "templates": {
            "<string>": "{{ when.strftime('%Y-%m-%d') }} {{ datetime.timedelta(days=1) }}"
        },
        "args": {"when": datetime.datetime(2024, 2, 29, 13, 5)},
    },
    # ------------------------------------------------------------------
    # literal escapes and comments
    {
        "id": "literal_escapes",
        "mode": "template",
        "templates": {"<string>": "{{! x }} {%! if %} {#! c #} {{!}}{%!%}"},
        "args": {"x": 1},
    },
    {
        "id": "literal_lone_braces",
        "mode": "template",
        "templates": {"<string>": "a { b {x} } {{ 1 }} {- c -} {"},
        "args": {},
    },
    {
        "id": "comment_hash",
        "mode": "template",
        "templates": {"<string>": "a{# a comment {{ not_evaluated }} #}b{#\nmulti\nline\n#}c"},
        "args": {},
    },
    {
        "id": "comment_directive",
        "mode": "template",
        "templates": {"<string>": "x{% comment this {{ is }} ignored %}y"},
        "args": {},
    },
    # ------------------------------------------------------------------
    # control flow
    {
        "id": "if_elif_else",
        "mode": "template",
        "templates": {
            "<string>": "{% for n in ns %}{% if n < 0 %}neg{% elif n == 0 %}zero{% elif n < 10 %}small{% else %}big{% end %},{% end %}"
        },
        "args": {"ns": [-5, 0, 3, 99]},
    },
    {
        "id": "for_nested_tuple_unpack",
        "mode": "template",
        "templates": {
            "<string>": "{% for k, v in sorted(d.items()) %}[{{ k }}:{% for c in v %}{{ c }}{% end %}]{% end %}"
        },
        "args": {"d": {"b": "xy", "a": "<>"}},
    },
    {
        "id": "for_else",
        "mode": "template",
        "templates": {
            "<string>": "{% for x in xs %}{{ x }}{% else %}empty{% end %}/{% for x in ys %}{{ x }}{% if x == 2 %}{% break %}{% end %}{% else %}done{% end %}"
        },
        "args": {"xs": [], "ys": [1, 2, 3]},
    },
    {
        "id": "while_loop",
        "mode": "template",
        "templates": {
            "<string>": "{% set i = 0 %}{% while i < 5 %}{% set i += 1 %}{% if i == 2 %}{% continue %}{% end %}{{ i }}{% end %}"
        },
        "args": {},
    },
    {
        "id": "break_continue_nested",
        "mode": "template",
        "templates": {
            "<string>": "{% for i in range(4) %}{% for j in range(4) %}{% if j > i %}{% break %}{% end %}{% if (i + j) % 2 %}{% continue %}{% end %}{{ i }}{{ j }} {% end %}|{% end %}"
        },
        "args": {},
    },
    {
        "id": "try_except_else_finally",
        "mode": "template",
        "templates": {
            "<string>": (
                "{% try %}{{ 1 / d }}{% except ZeroDivisionError as e %}caught {{ type(e).__name__ }}"
                "{% else %}no error{% finally %} finally{% end %}"
            )
        },
        "args": {"d": 0},
    },
    {
        "id": "try_else_path",
        "mode": "template",
        "templates": {
            "<string>": "{% try %}{{ 10 // d }}{% except Exception %}err{% else %} ok{% finally %} fin{% end %}"
        },
        "args": {"d": 3},
    },
    {
        "id": "set_statements",
        "mode": "template",
        "templates": {
            "<string>": "{% set a, b = 1, '<2>' %}{{ a }}{{ b }}{% set c = [a] * 3 %}{{ c }}{% set c[0] = 9 %}{{ c }}"
        },
        "args": {},
    },
    {
        "id": "import_and_from",
        "mode": "template",
        "templates": {
            "<string>": "{% import math %}{% from os.path import basename, dirname %}{{ math.floor(2.7) }} {{ basename('/a/b.txt') }} {{ dirname('/a/b.txt') }}"
        },
        "args": {},
    },
    {
        "id": "end_with_trailing_words",
        "mode": "template",
        "templates": {
            "<string>": "{% if x %}yes{% end if %}{% for i in [1] %}{{ i }}{% end for %}"
        },
        "args": {"x": 1},
    },
    {
        "id": "tag_spacing_variants",
        "mode": "template",
        "templates": {
            "<string>": "{%if x%}A{%end%}{%   if not x   %}B{%   else   %}C{%   end   %}{{x}}{{   x   }}"
        },
        "args": {"x": 7},
    },
    {
        "id": "whole_table",
        "mode": "template",
        "templates": {
            "<string>": (
                "<table>\n{% for row in rows %}  <tr class=\"{{ 'odd' if row.id % 2 else 'even' }}\">"
                "<td>{{ row.id }}</td><td>{{ row.name }}</td></tr>\n{% end %}</table>\n"
            )
        },
        "args": {"rows": ROWS},
    },
    # ------------------------------------------------------------------
    # autoescape
    {
        "id": "autoescape_none_kwarg",
        "mode": "template",
        "templates": {"<string>": "{{ s }}"},
        "template_kwargs": {"autoescape": None},
        "args": {"s": "<b>&</b>"},
    },
    {
        "id": "autoescape_directive_none",
        "mode": "template",
        "templates": {"<string>": "{{ s }}\n{% autoescape None %}\n{{ s }}"},
        "args": {"s": "<i>"},
    },
    {
        "id": "autoescape_directive_custom",
        "mode": "template",
        "templates": {"<string>": "{% autoescape shout %}{{ s }}|{{ n }}|{{ b }}"},
        "args": {"s": "<s>", "n": 3, "b": b"bb", "shout": _shout},
    },
    {
        "id": "autoescape_directive_switch_twice",
        "mode": "template",
        "templates": {
            "<string>": "{% autoescape None %}{{ s }}{% autoescape xhtml_escape %}{{ s }}"
        },
        "args": {"s": "<&>"},
    },
    {
        "id": "autoescape_kwarg_custom_name",
        "mode": "template",
        "templates": {"<string>": "{{ s }}"},
        "template_kwargs": {"autoescape": "url_escape"},
        "args": {"s": "a b&c"},
    },
    {
        "id": "autoescape_loader_none",
        "mode": "dict",
        "templates": {"a.html": "{{ s }}{% include 'b.html' %}", "b.html": "|{{ s }}"},
        "loader_kwargs": {"autoescape": None},
        "args": {"s": "<&>"},
    },
    {
        "id": "autoescape_per_file_in_include",
        "mode": "dict",
        "templates": {
            "a.html": "{{ s }}{% include 'b.html' %}{{ s }}",
            "b.html": "{% autoescape None %}[{{ s }}]",
        },
        "args": {"s": "<&>"},
    },
    {
        "id": "autoescape_function_returns_bytes",
        "mode": "template",
        "templates": {"<string>": "{% autoescape to_bytes %}{{ s }}"},
        "args": {"s": "x", "to_bytes": _to_bytes},
    },
    {
        "id": "raw_directive",
        "mode": "template",
        "templates": {"<string>": "{% raw s %}|{% raw n %}|{% raw None %}|{% raw '&' * 2 %}"},
        "args": {"s": "<b>", "n": 5},
    },
    # ------------------------------------------------------------------
    # apply
    {
        "id": "apply_upper",
        "mode": "template",
        "templates": {"<string>": "a{% apply upper %}b{{ s }}c{% end %}d"},
        "args": {"s": "<x>", "upper": _upper},
    },
    {
        "id": "apply_sees_argument_type",
        "mode": "template",
        "templates": {"<string>": "{% apply wrap %}in {{ 1 }}{% end %}"},
        "args": {"wrap": _wrap},
    },
    {
        "id": "apply_nested_and_in_loop",
        "mode": "template",
        "templates": {
            "<string>": "{% for i in range(2) %}{% apply wrap %}{{ i }}{% apply upper %}x{{ i }}{% end %}{% end %}{% end %}"
        },
        "args": {"wrap": _wrap, "upper": _upper},
    },
    {
        "id": "apply_expression",
        "mode": "template",
        "templates": {
            "<string>": "{% apply (lambda b: b.decode().strip().title()) %}  a   \n\n  b  {{ x }}   c {% end %}!"
        },
        "args": {"x": "  y  "},
    },
    {
        "id": "apply_returns_bytes",
        "mode": "template",
        "templates": {"<string>": "{% apply to_bytes %}body{% end %}"},
        "args": {"to_bytes": _to_bytes},
    },
    # ------------------------------------------------------------------
    # modules
    {
        "id": "module_calls",
        "mode": "dict",
        "templates": {
            "page.html": "{% module Hello('<w>') %}|{% module Template('foo.html', arg=42) %}|{% module Raw() %}"
        },
        "loader_kwargs": {"namespace": {"_tt_modules": Modules()}},
        "args": {},
    },
    {
        "id": "module_via_generate_kwarg",
        "mode": "template",
        "templates": {"<string>": "<{% module Hello(name) %}>"},
        "args": {"_tt_modules": Modules(), "name": "you"},
    },
    # ------------------------------------------------------------------
    # whitespace
    {
        "id": "ws_default_string_is_all",
        "mode": "template",
        "templates": {"<string>": "a   b\n\n\n   c\t\td  \n"},
        "args": {},
    },
    {
        "id": "ws_default_html_is_single",
        "mode": "template",
        "templates": {"page.html": "a   b\n\n\n   c\t\td  \n  <p>\n\n  x  </p>\n"},
        "args": {},
    },
    {
        "id": "ws_default_js_is_single",
        "mode": "template",
        "templates": {"app.js": "var  x =  1;\n\n\n   var y;\n"},
        "args": {},
    },
    {
        "id": "ws_default_txt_is_all",
        "mode": "template",
        "templates": {"note.txt": "a   b\n\n\n   c\n"},
        "args": {},
    },
    {
        "id": "ws_kwarg_oneline",
        "mode": "template",
        "templates": {
            "page.html": "<ul>\n  {% for i in xs %}\n    <li>{{ i }}</li>\n  {% end %}\n</ul>\n"
        },
        "template_kwargs": {"whitespace": "oneline"},
        "args": {"xs": [1, 2]},
    },
    {
        "id": "ws_kwarg_all_on_html",
        "mode": "template",
        "templates": {
            "page.html": "<ul>\n  {% for i in xs %}\n    <li>{{ i }}</li>\n  {% end %}\n</ul>\n"
        },
        "template_kwargs": {"whitespace": "all"},
        "args": {"xs": [1, 2]},
    },
    {
        "id": "ws_single_around_tags",
        "mode": "template",
        "templates": {
            "page.html": "<ul>\n  {% for i in xs %}\n    <li>{{ i }}</li>\n  {% end %}\n</ul>\n"
        },
        "args": {"xs": [1, 2]},
    },
    {
        "id": "ws_compress_true",
        "mode": "template",
        "templates": {"<string>": "a  \n\n  b    c\n"},
        "template_kwargs": {"compress_whitespace": True},
        "args": {},
    },
    {
        "id": "ws_compress_false_on_html",
        "mode": "template",
        "templates": {"x.html": "a  \n\n  b    c\n"},
        "template_kwargs": {"compress_whitespace": False},
        "args": {},
    },
    {
        "id": "ws_directive",
        "mode": "template",
        "templates": {
            "page.html": "a   b\n\n{% whitespace oneline %}\nc   d\n\n e\n{% whitespace all %}\nf   g\n\n\nh{% whitespace single %}  i\n\n\nj\n"
        },
        "args": {},
    },
    {
        "id": "ws_pre_is_preserved",
        "mode": "template",
        "templates": {
            "page.html": "<div>   x\n\n</div><pre>\n  keep   this\n\n</pre>   after\n\n  {{ 1 }}   tail\n\n"
        },
        "args": {},
    },
    {
        "id": "ws_split_by_comment",
        "mode": "template",
        "templates": {"page.html": "a   {# c #}   b\n  {# d #}\n\n  c"},
        "args": {},
    },
    {
        "id": "ws_not_applied_to_expression_values",
        "mode": "template",
        "templates": {"page.html": "[{{ s }}]  [{% raw s %}]"},
        "template_kwargs": {"whitespace": "oneline"},
        "args": {"s": "a   \n\n  b"},
    },
    {
        "id": "ws_loader_whitespace",
        "mode": "dict",
        "templates": {"a.txt": "x   y\n\n z{% include 'b.html' %}", "b.html": "  p   q\n\n"},
        "loader_kwargs": {"whitespace": "oneline"},
        "args": {},
    },
    {
        "id": "ws_include_uses_own_mode",
        "mode": "dict",
        "templates": {
            "a.txt": "x   y\n\n{% include 'b.html' %}\n\n   z",
            "b.html": "  p   q\n\n  r",
        },
        "args": {},
    },
    {
        "id": "ws_unicode_whitespace",
        "mode": "template",
        "templates": {"p.html": "a\u00a0\u00a0b \u3000 c\r\n\r\n d\x0b\x0ce"},
        "args": {},
    },
    {
        "id": "ws_oneline_unicode",
        "mode": "template",
        "templates": {"p.html": "a\u00a0\u00a0b \u3000 c\r\n\r\n d\x0b\x0ce"},
        "template_kwargs": {"whitespace": "oneline"},
        "args": {},
    },
    # ------------------------------------------------------------------
    # include
    {
        "id": "include_sees_locals",
        "mode": "dict",
        "templates": {
            "list.html": "<ul>{% for item in items %}{% include 'item.html' %}{% end %}</ul>",
            "item.html": "<li>{{ item }}</li>",
        },
        "args": {"items": ["a", "<b>"]},
    },
    {
        "id": "include_set_leaks_back",
        "mode": "dict",
        "templates": {
            "a.html": "{% include 'b.html' %}{{ v }}",
            "b.html": "{% set v = 'from-b' %}",
        },
        "args": {},
    },
    {
        "id": "include_nested",
        "mode": "dict",
        "templates": {
            "a.html": "A[{% include 'b.html' %}]",
            "b.html": "B[{% include 'c.html' %}]",
            "c.html": "C{{ x }}",
        },
        "args": {"x": 1},
    },
    {
        "id": "include_relative_dict",
        "mode": "dict",
        "templates": {
            "sub/a.html": "{% include 'b.html' %}|{% include '../top.html' %}|{% include './b.html' %}",
            "sub/b.html": "sub-b",
            "b.html": "top-b",
            "top.html": "top",
        },
        "main": "sub/a.html",
        "args": {},
    },
    {
        "id": "include_quoted_variants",
        "mode": "dict",
        "templates": {"a.html": '{% include "b.html" %}{% include b.html %}', "b.html": "b"},
        "args": {},
    },
    {
        "id": "include_in_string_template_with_loader_files",
        "mode": "files",
        "templates": {
            "dir/main.html": "main:{% include 'part.html' %}:{% include '/abs.html' %}",
            "dir/part.html": "part",
            "abs.html": "abs",
        },
        "main": "dir/main.html",
        "args": {},
    },
    # ------------------------------------------------------------------
    # blocks and extends
    {
        "id": "extends_basic",
        "mode": "dict",
        "templates": {
            "child.html": '{% extends "base.html" %}{% block title %}Child <title>{% end %}{% block body %}{{ msg }}{% end %}',
            "base.html": "<title>{% block title %}Default{% end %}</title><body>{% block body %}{% end %}</body><foot>{% block foot %}base foot{% end %}</foot>",
        },
        "args": {"msg": "<hi>"},
    },
    {
        "id": "extends_three_levels",
        "mode": "dict",
        "templates": {
            "c.html": "{% extends 'b.html' %}{% block x %}C-x{% end %}",
            "b.html": "{% extends 'a.html' %}{% block x %}B-x{% end %}{% block y %}B-y{% end %}",
            "a.html": "[{% block x %}A-x{% end %}][{% block y %}A-y{% end %}][{% block z %}A-z{% end %}]",
        },
        "args": {},
    },
    {
        "id": "extends_child_outside_content_ignored",
        "mode": "dict",
        "templates": {
            "child.html": "ignored text {{ never }}\n{% extends 'base.html' %}\nmore ignored\n{% block b %}kept{% end %}\n{% set z = 1 %}",
            "base.html": "<{% block b %}{% end %}>",
        },
        "args": {},
    },
    {
        "id": "extends_block_in_loop",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}{% block item %}<b>{{ s }}</b>{% end %}",
            "base.html": "{% for s in items %}{% block item %}{{ s }}{% end %},{% end %}",
        },
        "args": {"items": ["x", "<y>"]},
    },
    {
        "id": "extends_nested_blocks",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}{% block inner %}NEW-INNER{% end %}",
            "base.html": "{% block outer %}(outer {% block inner %}inner{% end %}){% end %}",
        },
        "args": {},
    },
    {
        "id": "extends_override_outer_drops_inner",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}{% block outer %}[new outer {% block inner %}child-inner{% end %}]{% end %}",
            "base.html": "{% block outer %}(outer {% block inner %}inner{% end %}){% end %}|{% block inner %}again{% end %}",
        },
        "args": {},
    },
    {
        "id": "extends_child_autoescape_none",
        "mode": "dict",
        "templates": {
            "child.html": "{% autoescape None %}{% extends 'base.html' %}{% block b %}{{ s }}{% end %}",
            "base.html": "{{ s }}|{% block b %}{% end %}",
        },
        "args": {"s": "<&>"},
    },
    {
        "id": "extends_whitespace_of_each_file",
        "mode": "dict",
        "templates": {
            "child.txt": "{% extends 'base.html' %}{% block b %}c   c\n\n\nc{% end %}",
            "base.html": "b   b\n\n\n{% block b %}{% end %}\n\n   b",
        },
        "args": {},
    },
    {
        "id": "extends_block_from_include",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}{% block part %}CHILD-PART{% end %}",
            "base.html": "base[{% include 'inc.html' %}]",
            "inc.html": "inc({% block part %}inc-default{% end %})",
        },
        "args": {},
    },
    {
        "id": "extends_child_include_defines_block",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}{% include 'blocks.html' %}",
            "blocks.html": "{% block a %}from-include{% end %}",
            "base.html": "<{% block a %}base{% end %}>",
        },
        "args": {},
    },
    {
        "id": "extends_duplicate_block_last_wins",
        "mode": "dict",
        "templates": {"base.html": "{% block a %}first{% end %}|{% block a %}second{% end %}"},
        "args": {},
    },
    {
        "id": "extends_relative_files",
        "mode": "files",
        "templates": {
            "pages/child.html": "{% extends '../layouts/base.html' %}{% block main %}page{% end %}",
            "layouts/base.html": "layout[{% block main %}{% end %}]{% include 'footer.html' %}",
            "layouts/footer.html": "(layout footer)",
            "footer.html": "(root footer)",
        },
        "main": "pages/child.html",
        "args": {},
    },
    {
        "id": "extends_block_sees_kwargs_and_loop_vars",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}{% block row %}{{ i }}:{{ prefix }}{% end %}",
            "base.html": "{% for i in range(3) %}{% block row %}{% end %};{% end %}",
        },
        "args": {"prefix": "p"},
    },
    {
        "id": "files_include_outside_root",
        "mode": "files",
        "templates": {
            "root/page.html": "[{% include '../outside.html' %}]",
            "outside.html": "outside",
        },
        "loader_root": "root",
        "main": "page.html",
        "args": {},
    },
    {
        "id": "files_include_sibling_dir_sharing_prefix",
        "mode": "files",
        "templates": {"r/page.html": "[{% include '../rx/a.html' %}]", "rx/a.html": "sibling"},
        "loader_root": "r",
        "main": "page.html",
        "args": {},
    },
    {
        "id": "files_nested_relative_chain",
        "mode": "files",
        "templates": {
            "a/b/page.html": "{% include '../c/part.html' %}",
            "a/c/part.html": "part({% include 'leaf.html' %})",
            "a/c/leaf.html": "leaf",
        },
        "main": "a/b/page.html",
        "args": {},
    },
    {
        "id": "dict_absolute_name_not_relative",
        "mode": "dict",
        "templates": {
            "sub/page.html": "{% include '/x.html' %}",
            "/x.html": "abs",
            "sub/x.html": "rel",
        },
        "main": "sub/page.html",
        "args": {},
    },
    {
        "id": "include_of_extending_template",
        "mode": "dict",
        "templates": {
            "page.html": "[{% include 'child.html' %}]",
            "child.html": "{% extends 'base.html' %}{% block b %}child{% end %}",
            "base.html": "base({% block b %}{% end %})",
        },
        "args": {},
    },
    {
        "id": "extends_twice",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'one.html' %}{% extends 'two.html' %}{% block b %}C{% end %}",
            "one.html": "one[{% block b %}1{% end %}]{% block c %}one-c{% end %}",
            "two.html": "two[{% block b %}2{% end %}]{% block c %}two-c{% end %}",
        },
        "args": {},
    },
    {
        "id": "block_defined_twice_across_levels_in_loop",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'mid.html' %}{% block cell %}<{{ v }}>{% end %}",
            "mid.html": "{% extends 'base.html' %}{% block row %}{% for v in r %}{% block cell %}{{ v }}{% end %}{% end %};{% end %}",
            "base.html": "{% for r in rows %}{% block row %}{% end %}{% end %}",
        },
        "args": {"rows": [[1, "&"], [3]]},
    },
    {
        "id": "block_in_plain_template",
        "mode": "template",
        "templates": {"<string>": "a{% block x %}b{{ 1 }}{% end %}c"},
        "args": {},
    },
    {
        "id": "files_loader_basic",
        "mode": "files",
        "templates": {
            "index.html": "<h1>{{ title }}</h1>\n\n\n  {% for x in xs %}{{ x }} {% end %}\n"
        },
        "args": {"title": "T & T", "xs": [1, 2]},
    },
    {
        "id": "files_loader_non_ascii_source",
        "mode": "files",
        "templates": {"u.txt": "\u00e9t\u00e9 \u2603 {{ s }}\n"},
        "args": {"s": "\u00fc"},
    },
    {
        "id": "files_loader_autoescape_none_namespace",
        "mode": "files",
        "templates": {"a.html": "{{ s }} {{ helper(2) }}"},
        "loader_kwargs": {"autoescape": None, "namespace": {"helper": _times21}},
        "args": {"s": "<raw>"},
    },
    # ------------------------------------------------------------------
    # corners of the lexer and of block structure
    {
        "id": "lex_triple_brace",
        "mode": "template",
        "templates": {"<string>": "a{{{ x }}}b"},
        "args": {"x": 1},
    },
    {
        "id": "lex_quadruple_brace",
        "mode": "template",
        "templates": {"<string>": "{{{{ x }}}}"},
        "args": {"x": 1},
    },
    {
        "id": "lex_brace_hash",
        "mode": "template",
        "templates": {"<string>": "{{#{ c #}|{#{ c #}"},
        "args": {},
    },
    {
        "id": "lex_brace_percent",
        "mode": "template",
        "templates": {"<string>": "{{% if 1 %}x{% end %}"},
        "args": {},
    },
    {
        "id": "lex_percent_brace",
        "mode": "template",
        "templates": {"<string>": "{%{ x %}"},
        "args": {},
    },
    {
        "id": "lex_expression_with_percent",
        "mode": "template",
        "templates": {"<string>": "{{ 7 % 4 }}{{ '%}' }}"},
        "args": {},
    },
    {
        "id": "lex_tab_after_operator",
        "mode": "template",
        "templates": {"<string>": "{% if\tx %}yes{% end %}"},
        "args": {"x": 1},
    },
    {
        "id": "lex_newline_in_tag",
        "mode": "template",
        "templates": {"<string>": "{% if x\n %}yes{% end\n %}|{% set y\n= 2 %}{{ y }}"},
        "args": {"x": 1},
    },
    {
        "id": "lex_brace_at_end",
        "mode": "template",
        "templates": {"<string>": "ends with {"},
        "args": {},
    },
    {
        "id": "lex_double_brace_at_end",
        "mode": "template",
        "templates": {"<string>": "ends with {{"},
        "args": {},
    },
    {
        "id": "lex_bang_at_end",
        "mode": "template",
        "templates": {"<string>": "ends with {%!"},
        "args": {},
    },
    {
        "id": "ws_pre_split_by_literal_escape",
        "mode": "template",
        "templates": {"page.html": "<pre>  a  </pre>  {{!  b  }}   c   \n\n"},
        "args": {},
    },
    {
        "id": "ws_directive_does_not_leak_from_include",
        "mode": "dict",
        "templates": {
            "a.html": "x   y\n\n{% include 'b.html' %}p   q\n\n",
            "b.html": "{% whitespace all %}m   n\n\n",
        },
        "args": {},
    },
    {
        "id": "break_inside_block_inside_loop",
        "mode": "template",
        "templates": {
            "<string>": "{% for i in range(5) %}{% block b %}{{ i }}{% if i == 2 %}{% break %}{% end %}{% end %}{% end %}"
        },
        "args": {},
    },
    {
        "id": "while_else_and_try_in_loop",
        "mode": "template",
        "templates": {
            "<string>": "{% set n = 3 %}{% while n %}{% set n -= 1 %}{% try %}{{ 6 // n }}{% except ZeroDivisionError %}z{% continue %}{% end %},{% else %}!{% end %}"
        },
        "args": {},
    },
    {
        "id": "extends_inside_if_is_ignored",
        "mode": "dict",
        "templates": {
            "child.html": "{% if True %}{% extends 'base.html' %}{% end %}child",
            "base.html": "base",
        },
        "args": {},
    },
    {
        "id": "extends_without_loader",
        "mode": "template",
        "templates": {"t.html": "{% extends 'base.html' %}"},
        "args": {},
    },
    {
        "id": "include_without_loader",
        "mode": "template",
        "templates": {"t.html": "{% include 'x.html' %}"},
        "args": {},
    },
    {
        "id": "extends_apply_and_module_in_child_block",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}{% block b %}{% apply upper %}{{ s }}{% module Hello(s) %}{% end %}{% end %}",
            "base.html": "[{% block b %}{% end %}]",
        },
        "loader_kwargs": {"namespace": {"_tt_modules": Modules(), "upper": _upper}},
        "args": {"s": "<q>"},
    },
    {
        "id": "template_source_bytes",
        "mode": "template",
        "templates": {"b.html": "caf\u00e9   {{ x }}\n\n"},
        "encode_source": True,
        "args": {"x": "\u00e9"},
    },
    {
        "id": "template_compress_and_whitespace",
        "mode": "template",
        "templates": {"<string>": "a   b"},
        "template_kwargs": {"compress_whitespace": True, "whitespace": "all"},
        "args": {},
    },
    {
        "id": "template_name_with_dots_runtime_error",
        "mode": "template",
        "templates": {"a.b.c": "\n{{ missing_name }}"},
        "args": {},
    },
    {
        "id": "err_try_without_except",
        "mode": "template",
        "templates": {"t.html": "{% try %}x{% end %}"},
        "args": {},
    },
    {
        "id": "err_whitespace_empty_mode",
        "mode": "template",
        "templates": {"t.html": "{% whitespace %}"},
        "args": {},
    },
    {
        "id": "err_multiline_tag_line",
        "mode": "template",
        "templates": {"t.html": "{% frob\n\n %}"},
        "args": {},
    },
    {
        "id": "err_multiline_empty_expression_line",
        "mode": "template",
        "templates": {"t.html": "x\n{{\n\n}}"},
        "args": {},
    },
    {
        "id": "err_else_in_apply_in_if",
        "mode": "template",
        "templates": {"t.html": "{% if 1 %}{% apply f %}{% else %}{% end %}{% end %}"},
        "args": {},
    },
    {
        "id": "rt_in_base_body",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}{% block b %}x{% end %}",
            "base.html": "{% block b %}{% end %}\n\n{{ 1 // 0 }}",
        },
        "args": {},
    },
    {
        "id": "rt_in_plain_block",
        "mode": "template",
        "templates": {"t.html": "\n{% block b %}\n{{ 1 // 0 }}{% end %}"},
        "args": {},
    },
    {
        "id": "rt_lone_surrogate",
        "mode": "template",
        "templates": {"t.html": "{{ s }}"},
        "args": {"s": "a<b\ud800"},
    },
    {
        "id": "rt_lone_surrogate_raw",
        "mode": "template",
        "templates": {"t.html": "{% raw s %}"},
        "args": {"s": "a<b\ud800"},
    },
    {
        "id": "rt_bad_utf8_bytes_escaped",
        "mode": "template",
        "templates": {"t.html": "{{ b }}"},
        "args": {"b": b"\xff"},
    },
    {
        "id": "rt_autoescape_unknown_name",
        "mode": "template",
        "templates": {"t.html": "\n{{ 1 }}"},
        "template_kwargs": {"autoescape": "no_such_escape"},
        "args": {},
    },
    {
        "id": "autoescape_set_in_template",
        "mode": "template",
        "templates": {
            "t.html": "{% set my_escape = lambda b: b'[' + b + b']' %}{{ 'x' }}{% autoescape my_escape %}"
        },
        "args": {},
    },
    {
        "id": "autoescape_builtin_function",
        "mode": "template",
        "templates": {"t.html": "{% autoescape repr %}{{ 'x' }}"},
        "args": {},
    },
    {
        "id": "autoescape_expression",
        "mode": "template",
        "templates": {"t.html": "{% autoescape (lambda b: b[::-1]) %}{{ 'abc' }}"},
        "args": {},
    },
    {
        "id": "empty_if_body",
        "mode": "template",
        "templates": {"<string>": "{% if 1 %}{% end %}ok"},
        "args": {},
    },
    {
        "id": "empty_for_body_with_comment",
        "mode": "template",
        "templates": {"<string>": "{% for x in [1] %}{% comment c %}{# d #}{% end %}ok"},
        "args": {},
    },
    {
        "id": "empty_if_branch_before_else",
        "mode": "template",
        "templates": {"<string>": "{% if x %}{% else %}b{% end %}"},
        "args": {"x": 0},
    },
    {
        "id": "empty_try_and_except",
        "mode": "template",
        "templates": {"<string>": "{% try %}{% except %}{% end %}ok"},
        "args": {},
    },
    {
        "id": "empty_apply",
        "mode": "template",
        "templates": {"<string>": "[{% apply f %}{% end %}]"},
        "args": {"f": _wrap},
    },
    {
        "id": "empty_block_in_if",
        "mode": "template",
        "templates": {"<string>": "{% if 1 %}{% block b %}{% end %}{% end %}ok"},
        "args": {},
    },
    {
        "id": "empty_while_body_via_set",
        "mode": "template",
        "templates": {"<string>": "{% set n = 2 %}{% while n %}{% set n -= 1 %}{% end %}{{ n }}"},
        "args": {},
    },
    {
        "id": "try_output_kept_before_error",
        "mode": "template",
        "templates": {"<string>": "{% try %}a{{ 'b' }}{{ 1 // 0 }}c{% except %}E{% end %}"},
        "args": {},
    },
    # ------------------------------------------------------------------
    # parse errors (message, file name and line)
    {
        "id": "err_empty_expression",
        "mode": "template",
        "templates": {"<string>": "a\n{{ }}"},
        "args": {},
    },
    {
        "id": "err_missing_end_expression",
        "mode": "template",
        "templates": {"<string>": "a {{ x"},
        "args": {},
    },
    {
        "id": "err_missing_end_block",
        "mode": "template",
        "templates": {"t.html": "{% if x %}\nyes\n"},
        "args": {},
    },
    {
        "id": "err_extra_end",
        "mode": "template",
        "templates": {"t.html": "a\nb\n{% end %}"},
        "args": {},
    },
    {
        "id": "err_unknown_operator",
        "mode": "template",
        "templates": {"t.html": "\n\n{% frobnicate x %}"},
        "args": {},
    },
    {
        "id": "err_empty_block_tag",
        "mode": "template",
        "templates": {"<string>": "{%  %}"},
        "args": {},
    },
    {
        "id": "err_missing_end_block_tag",
        "mode": "template",
        "templates": {"<string>": "x\n{% if y"},
        "args": {},
    },
    {
        "id": "err_missing_end_comment",
        "mode": "template",
        "templates": {"<string>": "x {# never closed"},
        "args": {},
    },
    {
        "id": "err_elif_outside_if",
        "mode": "template",
        "templates": {"t.html": "{% elif x %}"},
        "args": {},
    },
    {
        "id": "err_except_outside_try",
        "mode": "template",
        "templates": {"t.html": "\n{% except %}"},
        "args": {},
    },
    {
        "id": "err_elif_attached_to_for",
        "mode": "template",
        "templates": {"t.html": "{% for x in y %}\n{% elif x %}\n{% end %}"},
        "args": {},
    },
    {
        "id": "err_except_attached_to_if",
        "mode": "template",
        "templates": {"t.html": "{% if x %}{% except %}{% end %}"},
        "args": {},
    },
    {
        "id": "err_extends_missing_path",
        "mode": "template",
        "templates": {"t.html": "{% extends %}"},
        "args": {},
    },
    {
        "id": "err_extends_empty_quotes",
        "mode": "template",
        "templates": {"t.html": "{% extends '' %}"},
        "args": {},
    },
    {
        "id": "err_include_missing_path",
        "mode": "template",
        "templates": {"t.html": "{% include %}"},
        "args": {},
    },
    {
        "id": "err_set_missing_expression",
        "mode": "template",
        "templates": {"t.html": "{% set %}"},
        "args": {},
    },
    {
        "id": "err_import_missing",
        "mode": "template",
        "templates": {"t.html": "{% import %}"},
        "args": {},
    },
    {
        "id": "err_from_missing",
        "mode": "template",
        "templates": {"t.html": "{% from %}"},
        "args": {},
    },
    {"id": "err_raw_missing", "mode": "template", "templates": {"t.html": "{% raw %}"}, "args": {}},
    {
        "id": "err_module_missing",
        "mode": "template",
        "templates": {"t.html": "{% module %}"},
        "args": {},
    },
    {
        "id": "err_apply_missing",
        "mode": "template",
        "templates": {"t.html": "{% apply %}x{% end %}"},
        "args": {},
    },
    {
        "id": "err_apply_missing_line",
        "mode": "template",
        "templates": {"t.html": "{% apply %}\n\nx{% end %}"},
        "args": {},
    },
    {
        "id": "err_block_missing_name_line",
        "mode": "template",
        "templates": {"t.html": "{% block %}\nx\n{% end %}"},
        "args": {},
    },
    {
        "id": "err_block_missing_name",
        "mode": "template",
        "templates": {"t.html": "{% block %}x{% end %}"},
        "args": {},
    },
    {
        "id": "err_if_missing_condition",
        "mode": "template",
        "templates": {"t.html": "{% if %}x{% end %}"},
        "args": {},
    },
    {
        "id": "err_whitespace_bad_mode",
        "mode": "template",
        "templates": {"t.html": "a\n\n{% whitespace sometimes %}"},
        "args": {},
    },
    {
        "id": "err_autoescape_missing",
        "mode": "template",
        "templates": {"t.html": "{% autoescape %}{{ 1 }}"},
        "args": {},
    },
    {
        "id": "err_else_outside",
        "mode": "template",
        "templates": {"t.html": "x\n{% else %}"},
        "args": {},
    },
    {
        "id": "err_finally_outside",
        "mode": "template",
        "templates": {"t.html": "{% finally %}"},
        "args": {},
    },
    {
        "id": "err_end_inside_expression_tag",
        "mode": "template",
        "templates": {"t.html": "{% for x in y %}{{ x }}"},
        "args": {},
    },
    {
        "id": "err_missing_end_nested_reports_inner",
        "mode": "template",
        "templates": {"t.html": "{% for x in y %}\n{% if x %}\n{% end %}\n"},
        "args": {},
    },
    {
        "id": "err_break_outside_loop",
        "mode": "template",
        "templates": {"t.html": "{% if 1 %}{% break %}{% end %}"},
        "args": {},
    },
    {
        "id": "err_continue_in_apply_in_loop",
        "mode": "template",
        "templates": {"t.html": "{% for i in x %}{% apply f %}{% continue %}{% end %}{% end %}"},
        "args": {},
    },
    {
        "id": "err_in_included_file",
        "mode": "dict",
        "templates": {"main.html": "ok\n{% include 'bad.html' %}", "bad.html": "fine\nfine\n{{ }}"},
        "args": {},
    },
    {
        "id": "err_in_parent_file",
        "mode": "dict",
        "templates": {"child.html": "{% extends 'base.html' %}", "base.html": "\n\n\n{% end %}"},
        "args": {},
    },
    {
        "id": "err_line_after_multiline_expr",
        "mode": "template",
        "templates": {"t.html": "{{ a +\n b }}\n{% bogus %}"},
        "args": {},
    },
    {
        "id": "err_line_after_comment",
        "mode": "template",
        "templates": {"t.html": "{#\n\n#}{% end %}"},
        "args": {},
    },
    # ------------------------------------------------------------------
    # runtime errors: the exception and the template line it points at
    {
        "id": "rt_zero_division",
        "mode": "template",
        "templates": {"t.html": "a\nb\n{{ 1 / 0 }}"},
        "args": {},
    },
    {
        "id": "rt_name_error",
        "mode": "template",
        "templates": {"<string>": "\n{% for x in nothing %}{% end %}"},
        "args": {},
    },
    {
        "id": "rt_in_include",
        "mode": "dict",
        "templates": {"a.html": "1\n2\n{% include 'b.html' %}", "b.html": "x\n{{ y.missing }}"},
        "args": {"y": 5},
    },
    {
        "id": "rt_in_child_block",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}\n\n{% block b %}\n{{ helper() }}{% end %}",
            "base.html": "base\n{% block b %}{% end %}",
        },
        "args": {"helper": _kaboom},
    },
    {
        "id": "rt_in_apply",
        "mode": "template",
        "templates": {"t.html": "{% apply f %}\nx\n{% end %}"},
        "args": {"f": _kaboom},
    },
    {
        "id": "rt_helper_called_from_block",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}\n{% block b %}\n\n{{ helper() }}{% end %}",
            "base.html": "base\n{% block b %}{% end %}",
        },
        "args": {"helper": _kaboom},
    },
    {
        "id": "rt_in_nested_include_in_block",
        "mode": "dict",
        "templates": {
            "child.html": "{% extends 'base.html' %}{% block b %}\n{% include 'inc.html' %}{% end %}",
            "base.html": "\n\n{% block b %}{% end %}",
            "inc.html": "\n\n\n{{ 1 // 0 }}",
        },
        "args": {},
    },
    {
        "id": "rt_in_set",
        "mode": "template",
        "templates": {"t.html": "{% set q = {}['k'] %}"},
        "args": {},
    },
    {
        "id": "rt_autoescape_returns_int",
        "mode": "template",
        "templates": {"t.html": "{% autoescape f %}\n{{ 1 }}"},
        "args": {"f": len},
    },
    {
        "id": "rt_include_missing_template",
        "mode": "dict",
        "templates": {"a.html": "{% include 'nope.html' %}"},
        "args": {},
    },
    {
        "id": "rt_extends_missing_template",
        "mode": "dict",
        "templates": {"a.html": "{% extends 'nope.html' %}"},
        "args": {},
    },
    {
        "id": "rt_module_missing_namespace",
        "mode": "template",
        "templates": {"t.html": "{% module X() %}"},
        "args": {},
    },
    # ------------------------------------------------------------------
    # Python syntax errors inside tags surface when the code is compiled
    {
        "id": "syntax_error_expression",
        "mode": "template",
        "templates": {"t.html": "a\n{{ 1 + }}"},
        "args": {},
    },
    {
        "id": "syntax_error_statement",
        "mode": "template",
        "templates": {"t.html": "\n\n{% set = 3 %}"},
        "args": {},
    },
]


# ----------------------------------------------------------------------
# Running a case.  Both the fixture script (under upstream Tornado) and our
# test (under our engine) call this, so the two observe exactly the same way.

_ANNOTATION = re.compile(r"#\s*([^#]*:\d+(?: \(via [^)]*\))*)\s*$")


def _annotation(line: str | None) -> str | None:
    """Return the ``name:lineno (via ...)`` comment that ends a generated line."""
    if not line:
        return None
    match = _ANNOTATION.search(line)
    return match.group(1) if match else None


def _describe_error(exc: BaseException, phase: str, logged: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {"phase": phase, "error": type(exc).__name__}
    if type(exc).__name__ == "ParseError":
        result.update(
            message=exc.message,  # type: ignore[attr-defined]
            filename=exc.filename,  # type: ignore[attr-defined]
            lineno=exc.lineno,  # type: ignore[attr-defined]
            str=str(exc),
        )
    elif isinstance(exc, SyntaxError):
        result.update(filename=exc.filename, where=_annotation(exc.text))
    else:
        # The innermost frame of generated template code, if any: that is
        # where a user looks for the template line.
        frames = [
            frame
            for frame in traceback.extract_tb(exc.__traceback__)
            if frame.filename.endswith(".generated.py")
        ]
        last = frames[-1] if frames else None
        result.update(
            str=str(exc),
            frame_file=last.filename if last else None,
            where=_annotation(last.line) if last else None,
        )
    # Only the first line: the rest is the generated code, which differs.
    result["logged"] = [message.split("\n", 1)[0] for message in logged]
    return result


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_case(template_module: Any, case: dict[str, Any], workdir: str) -> dict[str, Any]:
    """Render ``case`` with ``template_module`` (a ``tornado.template``).

    Returns the observable result: the output (as text when it is UTF-8,
    else base64) or a description of the error and when it was raised.
    ``workdir`` is an empty directory for the ``"files"`` mode.
    """
    templates: dict[str, str] = case["templates"]
    main = case.get("main", next(iter(templates)))
    mode = case.get("mode", "dict")
    capture = _Capture()
    logger = logging.getLogger("tornado.application")
    logger.addHandler(capture)
    phase = "load"
    try:
        try:
            if mode == "template":
                source: str | bytes = templates[main]
                if case.get("encode_source"):
                    source = templates[main].encode("utf-8")
                tmpl = template_module.Template(
                    source, name=main, **case.get("template_kwargs", {})
                )
            elif mode == "dict":
                loader = template_module.DictLoader(templates, **case.get("loader_kwargs", {}))
                tmpl = loader.load(main)
            elif mode == "files":
                for name, source in templates.items():
                    path = os.path.join(workdir, name)
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, "wb") as f:
                        f.write(source.encode("utf-8"))
                root = os.path.join(workdir, case.get("loader_root", ""))
                loader = template_module.Loader(root, **case.get("loader_kwargs", {}))
                tmpl = loader.load(main)
            else:
                raise AssertionError("unknown mode %r" % mode)
            phase = "generate"
            output = tmpl.generate(**case.get("args", {}))
        except Exception as exc:
            return _describe_error(exc, phase, capture.messages)
    finally:
        logger.removeHandler(capture)
    try:
        return {"output": output.decode("utf-8")}
    except UnicodeDecodeError:
        return {"output_b64": base64.b64encode(output).decode("ascii")}
