"""Sphinx extension: resolve a short reference to a name of another of our modules.

Docstrings name things of sibling modules by their short name (`IOLoop`,
`HTTPClientError.code`), as upstream Tornado's do.  The Python domain only
looks in the current module and class, so those references would not
resolve.  Here, a reference that found nothing is looked up

1. as a member inherited by the class it is written in (`prepare` in a
   `WebSocketHandler` method is `RequestHandler.prepare`), or by the class it
   names (`Resolver.configure` is `Configurable.configure`), through the
   class's MRO;
2. else as the end of a dotted name of ours (``tornado.<module>...<target>``),
   classes and functions first, then attributes and data: when exactly one
   documented object matches, the reference links to it.

When neither finds exactly one target, the reference stays unresolved and
nitpicky mode reports it.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.nodes import make_refnode

_CALLABLE_KINDS = ("class", "exception", "function", "method", "classmethod", "staticmethod")


def _class_in(modname: str | None, dotted: str) -> type | None:
    """The class ``dotted`` names inside module ``modname``, if it is one."""
    if not modname:
        return None
    try:
        obj: Any = importlib.import_module(modname)
        for part in dotted.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj if inspect.isclass(obj) else None


def _through_mro(cls: type, attr: str, objects: dict[str, Any]) -> str | None:
    for klass in cls.__mro__:
        name = f"{klass.__module__}.{klass.__qualname__}.{attr}"
        if name in objects:
            return name
    return None


def _by_suffix(target: str, objects: dict[str, Any]) -> str | None:
    suffix = "." + target
    matches = [
        (name, obj)
        for name, obj in objects.items()
        if name.startswith("tornado.") and name.endswith(suffix) and not obj.aliased
    ]
    preferred = [m for m in matches if m[1].objtype in _CALLABLE_KINDS]
    for group in (preferred, matches):
        if len(group) == 1:
            return group[0][0]
        if group:
            return None
    return None


def _resolve(app: Sphinx, env: Any, node: Any, contnode: nodes.Element) -> nodes.Element | None:
    if node.get("refdomain") != "py":
        return None
    target: str = node.get("reftarget", "")
    target = target.removesuffix("()").lstrip(".~")
    if not target or target.startswith("tornado."):
        return None
    objects: dict[str, Any] = env.domains["py"].objects
    modname = node.get("py:module")
    found = None
    head, _, attr = target.rpartition(".")
    if head:
        cls = _class_in(modname, head)
        if cls is None:
            full = _by_suffix(head, objects)
            if full is not None:
                # Find the module part of the full name by importing prefixes.
                parts = full.split(".")
                for i in range(len(parts) - 1, 0, -1):
                    cls = _class_in(".".join(parts[:i]), ".".join(parts[i:]))
                    if cls is not None:
                        break
        if cls is not None:
            found = _through_mro(cls, attr, objects)
    elif node.get("py:class"):
        cls = _class_in(modname, node["py:class"])
        if cls is not None:
            found = _through_mro(cls, target, objects)
    if found is None:
        found = _by_suffix(target, objects)
    if found is None:
        return None
    obj = objects[found]
    return make_refnode(app.builder, node["refdoc"], obj.docname, obj.node_id, contnode, found)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("missing-reference", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
