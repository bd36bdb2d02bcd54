"""The public surface of the ``tornado`` modules as plain facts, and a check of ours against a record.

Strategy: a *fact* is one line per public name, ``dotted.name -> descriptor``,
where the descriptor says what kind of object the name is and, for callables,
its parameters (names, kinds, defaults; annotations left out)::

    tornado.web.RequestHandler              class(tornado.web.RequestHandler's public bases)
    tornado.web.RequestHandler.get_argument method(self, name, default=..., strip=True)
    tornado.web.RequestHandler.request      attribute
    tornado.web.RequestHandler.settings     property

`describe` computes the facts of whatever ``tornado`` is importable, so the
same code records upstream's surface (in a throwaway environment, see
``tools/fixtures/make_api_fixtures.py``) and reads ours; `compare` lists what a
record has that ours lacks or describes differently.  Ours may have more: a
name upstream lacks, or a keyword-only parameter with a default after
upstream's parameters, is accepted.

What counts as public, per module: names without a leading underscore that
the module assigns at its top level (constants, aliases), or that it defines
(classes and functions whose ``__module__`` is the module); names a module only
imports are the other module's.  Per class: its own dictionary and those of
its private bases from our namespace (a public base's members are listed
under that base), plus the attributes its methods assign on ``self``.

Standard library only: the recording half runs in an environment that has
nothing of ours.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import textwrap
import types
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

#: The modules whose surface is recorded (upstream 6.6's module map).
MODULES: tuple[str, ...] = (
    "tornado",
    "tornado.auth",
    "tornado.autoreload",
    "tornado.concurrent",
    "tornado.curl_httpclient",
    "tornado.escape",
    "tornado.gen",
    "tornado.http1connection",
    "tornado.httpclient",
    "tornado.httpserver",
    "tornado.httputil",
    "tornado.ioloop",
    "tornado.iostream",
    "tornado.locale",
    "tornado.locks",
    "tornado.log",
    "tornado.netutil",
    "tornado.options",
    "tornado.platform.asyncio",
    "tornado.platform.caresresolver",
    "tornado.platform.twisted",
    "tornado.process",
    "tornado.queues",
    "tornado.routing",
    "tornado.simple_httpclient",
    "tornado.tcpclient",
    "tornado.tcpserver",
    "tornado.template",
    "tornado.testing",
    "tornado.util",
    "tornado.web",
    "tornado.websocket",
    "tornado.wsgi",
)

#: Names a module creates on first access (a module ``__getattr__``), which
#: no listing of its dictionary shows.
LAZY_NAMES: dict[str, tuple[str, ...]] = {
    "tornado.platform.asyncio": ("AnyThreadEventLoopPolicy",),
}

#: Imported names that are part of a module's surface although the import
#: carries no "re-export" comment (upstream 6.6 lists them so).
UNMARKED_REEXPORTS: dict[str, tuple[str, ...]] = {
    "tornado.httputil": ("responses",),
    "tornado.locale": ("LOCALE_NAMES",),
    "tornado.web": ("URLSpec",),
}

#: Dunder methods that vary with the Python version, not with the library.
_VOLATILE_DUNDERS = frozenset({"__annotate__", "__annotate_func__"})


class _Elided:
    """Stands for a default whose repr is not a stable fact (objects, containers)."""

    def __repr__(self) -> str:
        return "..."


_ELIDED = _Elided()


def _stable_default(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value  # int enums (socket.AF_UNSPEC) keep their repr: it is part of the contract
    if type(value) in (str, bytes) and len(value) <= 40:
        return value
    return _ELIDED


def signature_text(func: Callable[..., Any]) -> str:
    """``(a, b=1, *args, c, **kw)``: the parameters of *func* without annotations.

    Defaults other than None, numbers, booleans and short strings read ``...``.
    """
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return "(?)"
    params = [
        p.replace(
            annotation=inspect.Parameter.empty,
            default=p.default if p.default is p.empty else _stable_default(p.default),
        )
        for p in sig.parameters.values()
    ]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def _top_level_assignments(tree: ast.Module) -> set[str]:
    """Names bound by assignment at module level, inside top-level ``if``/``try`` too."""
    found: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        stmt = pending.pop()
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                found.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            found.add(stmt.target.id)
        elif isinstance(stmt, ast.If):
            pending.extend(stmt.body + stmt.orelse)
        elif isinstance(stmt, ast.Try):
            pending.extend(stmt.body + stmt.orelse + stmt.finalbody)
            for handler in stmt.handlers:
                pending.extend(handler.body)
    return found


def _marked_reexports(source: str, tree: ast.Module) -> set[str]:
    """Names of ``from x import y`` statements whose text says they are re-exported."""
    lines = source.splitlines()
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom):
            text = "\n".join(lines[stmt.lineno - 1 : stmt.end_lineno or stmt.lineno])
            if "re-export" in text:
                names.update(a.asname or a.name for a in stmt.names)
    return names


def _attributes_set_on_self(cls: type) -> set[str]:
    """Attribute names a class's methods assign on ``self``, and bare annotations in its body."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return set()
    body = ast.parse(source).body
    if not body or not isinstance(body[0], ast.ClassDef):
        return set()
    names: set[str] = set()
    for stmt in body[0].body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(stmt):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            ):
                names.add(node.attr)
    return names


def _ours(obj: Any) -> bool:
    return str(getattr(obj, "__module__", "") or "").startswith("tornado")


def _dotted(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _public(name: str) -> bool:
    return not name.startswith("_")


def _class_facts(prefix: str, cls: type) -> Iterator[tuple[str, str]]:
    bases = ", ".join(_dotted(b) for b in cls.__bases__ if b is not object)
    yield prefix, f"class({bases})"
    members: dict[str, Any] = {}
    instance_only: set[str] = set()
    for klass in reversed(cls.__mro__):
        if klass is cls or (_ours(klass) and not _public(klass.__name__)):
            instance_only |= _attributes_set_on_self(klass)
            members.update(vars(klass))
    for name in instance_only - members.keys():
        members[name] = None
    for name in sorted(members):
        value = members[name]
        dunder = name.startswith("__") and name.endswith("__")
        if name in _VOLATILE_DUNDERS or not (dunder or _public(name)):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            if _ours(value.__func__):
                yield (
                    f"{prefix}.{name}",
                    type(value).__name__ + signature_text(value.__func__),
                )
        elif inspect.isfunction(value):
            if _ours(value):
                yield f"{prefix}.{name}", "method" + signature_text(value)
        elif dunder:
            # Data dunders (__dict__, __slots__, ...) depend on the Python version.
            continue
        elif isinstance(value, property):
            yield f"{prefix}.{name}", "property"
        elif inspect.isclass(value) and _ours(value):
            yield from _class_facts(f"{prefix}.{name}", value)
        else:
            yield f"{prefix}.{name}", "attribute"


def module_facts(modname: str) -> dict[str, str]:
    """The facts of one module (ImportError when it cannot be imported)."""
    module = importlib.import_module(modname)
    source = Path(inspect.getfile(module)).read_text(encoding="utf-8")
    tree = ast.parse(source)
    assigned = _top_level_assignments(tree)
    reexported = _marked_reexports(source, tree) | set(UNMARKED_REEXPORTS.get(modname, ()))
    facts = {f"{modname}.{name}": "lazy attribute" for name in LAZY_NAMES.get(modname, ())}
    for name, value in vars(module).items():
        if not _public(name):
            continue
        if isinstance(value, types.ModuleType) and name not in assigned:
            continue
        prefix = f"{modname}.{name}"
        native = (
            getattr(value, "__module__", None) == modname
            and getattr(value, "__name__", None) == name
        )
        routine = inspect.isclass(value) or inspect.isfunction(value)
        if native and inspect.isclass(value):
            facts.update(_class_facts(prefix, value))
        elif native and inspect.isfunction(value):
            facts[prefix] = "function" + signature_text(value)
        elif name in assigned:
            facts[prefix] = f"alias of {_dotted(value)}" if routine else "data"
        elif name in reexported:
            facts[prefix] = f"import of {_dotted(value)}" if routine else "data"
    return facts


def describe(modules: Iterable[str] = MODULES) -> dict[str, dict[str, str]]:
    """Facts per importable module (a module whose optional dependency is missing is left out)."""
    out: dict[str, dict[str, str]] = {}
    for modname in modules:
        try:
            out[modname] = dict(sorted(module_facts(modname).items()))
        except ImportError:
            continue
    return out


def _split_call(descriptor: str) -> tuple[str, list[str]] | None:
    """``("method", ["self", "x=None"])`` for a callable's descriptor, None for other kinds."""
    head, sep, rest = descriptor.partition("(")
    if not sep or head not in ("method", "function", "classmethod", "staticmethod"):
        return None
    inner = rest[:-1]
    return head, ([p.strip() for p in inner.split(", ")] if inner else [])


def _without_extra_keywords(ours: list[str], recorded: list[str]) -> list[str]:
    """*ours* less the keyword-only parameters with defaults that *recorded* does not name."""
    known = {p.split("=")[0] for p in recorded}
    kept: list[str] = []
    keyword_only = False
    for param in ours:
        if param == "*" or (param.startswith("*") and not param.startswith("**")):
            keyword_only = True
        elif keyword_only and "=" in param and param.split("=")[0] not in known:
            continue
        kept.append(param)
    # A bare "*" left with no keyword-only parameter after it marks nothing.
    if "*" in kept and "*" not in recorded:
        at = kept.index("*")
        if at + 1 == len(kept) or kept[at + 1].startswith("**"):
            del kept[at]
    return kept


def _compatible(recorded: str, ours: str) -> bool:
    """Equal, or ours only adds keyword-only parameters that have defaults."""
    if recorded == ours:
        return True
    theirs, mine = _split_call(recorded), _split_call(ours)
    if theirs is None or mine is None or theirs[0] != mine[0]:
        return False
    return _without_extra_keywords(mine[1], theirs[1]) == theirs[1]


def compare(record: dict[str, dict[str, str]], ours: dict[str, dict[str, str]]) -> list[str]:
    """What *record* has that *ours* lacks or describes differently, one line each."""
    problems: list[str] = []
    for modname, facts in record.items():
        if modname not in ours:
            problems.append(f"{modname}: module missing (or fails to import)")
            continue
        mine = ours[modname]
        for name, descriptor in facts.items():
            if name not in mine:
                problems.append(f"{name}: missing (upstream: {descriptor})")
            elif not _compatible(descriptor, mine[name]):
                problems.append(f"{name}: ours is {mine[name]}, upstream's is {descriptor}")
    return problems


def extras(record: dict[str, dict[str, str]], ours: dict[str, dict[str, str]]) -> list[str]:
    """Names ours has that *record* does not (informational: extras are allowed)."""
    found: list[str] = []
    for modname, facts in ours.items():
        recorded = record.get(modname, {})
        found.extend(f"{name}: {d}" for name, d in facts.items() if name not in recorded)
    return found


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.api_surface [--json]``: print the facts of the importable ``tornado``."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    facts = describe()
    if "--json" in args:
        print(json.dumps(facts, indent=1, sort_keys=True))
    else:
        for modname, lines in facts.items():
            print(f"[{modname}]")
            for name, descriptor in lines.items():
                print(f"{name}: {descriptor}")
            print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
