"""Sphinx extension: list the public members autodoc cannot see on a class.

Autodoc documents what a class's ``__dict__`` holds, its annotations and the
attributes that carry a ``#:`` comment.  Two kinds of public name escape it:

* attributes that only the methods assign (``self.request = request``), and
* members inherited from a *private* base of ours (``_HTTPConnection``): the
  public name lives on the subclass, but autodoc skips inherited members.

Both count as the class's public surface (``tools/api_surface.py`` records
them, and upstream's snapshot lists them), so this extension appends an entry
for each to the class's docstring: methods with their own docstring, and
attributes with a pointer to the class description when it names them
(````name````), or an honest "no description yet".  The names of that last
kind go to ``undescribed.txt`` in the output folder, which
``tools docs-coverage`` reports (so missing prose stays visible).
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

from tools import api_surface

_facts_cache: dict[str, dict[str, str]] = {}
#: Full names of the entries this extension wrote (in this reading process).
_emitted: set[str] = set()
_NO_DESCRIPTION = "Instance attribute (no description yet)."


def _facts(modname: str) -> dict[str, str]:
    if modname not in _facts_cache:
        try:
            _facts_cache[modname] = api_surface.module_facts(modname)
        except ImportError:  # an extra's library is missing: autodoc fails on it too
            _facts_cache[modname] = {}
    return _facts_cache[modname]


def _seen_by_autodoc(cls: type) -> set[str]:
    """Names surely documented by autodoc: the class's own dictionary."""
    return set(vars(cls))


def _doc_comment(cls: type, attr: str) -> str:
    """The ``#:`` comment lines just above an assignment of ``self.<attr>``.

    Looked for in the class's source and in its bases'; autodoc would show
    such a comment itself, but its source analysis does not reach every
    module.
    """
    # ``self.x = ...``, ``self.x: T = ...`` or ``local = self.x = ...``.
    assignment = re.compile(rf"^\s*(?:\w+\s*=\s*)?self\.{re.escape(attr)}\s*(?::[^=]*)?=(?!=)")
    # The whole MRO: a subclass that assigns an attribute its base describes
    # (WebSocketProtocol13.client_terminated) takes the base's comment.
    for klass in cls.__mro__:
        try:
            lines = inspect.getsource(klass).splitlines()
        except (OSError, TypeError):
            continue
        for i, line in enumerate(lines):
            if not assignment.match(line):
                continue
            comment: list[str] = []
            j = i - 1
            while j >= 0 and lines[j].strip().startswith("#:"):
                comment.insert(0, lines[j].strip()[2:].strip())
                j -= 1
            if comment:
                return " ".join(comment)
    return ""


def _argument_text(doc: str, attr: str) -> str:
    """The text of ``:arg attr:`` (or ``:param attr:``) in a docstring, joined on one line."""
    lines = doc.splitlines()
    field = re.compile(rf"^\s*:(?:arg|param)\s+(?:\S+\s+)?{re.escape(attr)}:\s*(.*)$")
    for i, line in enumerate(lines):
        m = field.match(line)
        if not m:
            continue
        text = [m.group(1)]
        for follow in lines[i + 1 :]:
            if not follow.strip() or follow.lstrip().startswith(":"):
                break
            text.append(follow.strip())
        return " ".join(t for t in text if t)
    return ""


def _indent(text: str, prefix: str = "   ") -> list[str]:
    return [prefix + line if line else "" for line in text.splitlines()]


def process_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    if what not in ("class", "exception") or not inspect.isclass(obj):
        return
    modname, _, _ = name.rpartition(".")
    while modname and modname not in _facts_cache:
        try:
            importlib.import_module(modname)
            break
        except ImportError:
            modname = modname.rpartition(".")[0]
    facts = _facts(modname)
    prefix = name + "."
    own = {
        fact[len(prefix) :]: descriptor
        for fact, descriptor in facts.items()
        if fact.startswith(prefix) and "." not in fact[len(prefix) :]
    }
    seen = _seen_by_autodoc(obj)
    class_doc = inspect.getdoc(obj) or ""
    added: list[str] = []
    for attr, descriptor in sorted(own.items()):
        if attr in seen or attr.startswith("__"):
            continue
        if descriptor.startswith("method"):
            member = getattr(obj, attr, None)
            try:
                signature = str(inspect.signature(member)) if member is not None else "()"
            except (TypeError, ValueError):
                signature = "(...)"
            # Drop ``self`` from the shown signature, as autodoc does.
            signature = signature.replace("(self, ", "(", 1).replace("(self)", "()", 1)
            origin = next((k for k in obj.__mro__ if attr in vars(k)), obj)
            added += ["", f".. py:method:: {attr}{signature}", "   :no-index:", ""]
            doc = inspect.getdoc(member) or ""
            added += _indent(doc) if doc else []
            added += ["", f"   (Inherited from the private ``{origin.__qualname__}``.)"]
        elif descriptor == "attribute":
            added += ["", f".. py:attribute:: {attr}", "   :no-index:", ""]
            comment = _doc_comment(obj, attr)
            argument = _argument_text(class_doc, attr)
            if comment:
                added += _indent(comment)
            elif argument:
                added += _indent(f"Set from the ``{attr}`` argument: {argument}")
            elif f"``{attr}``" in class_doc:
                added.append("   Instance attribute; see the class description above.")
            else:
                added.append(f"   {_NO_DESCRIPTION}")
        _emitted.add(f"{name}.{attr}")
    if added:
        lines += [
            "",
            ".. rubric:: Members set on instances or inherited from private bases",
            *added,
        ]


def _doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    """Keep each entry of ours that autodoc did not also write, and index it.

    Ours are written with ``:no-index:`` (autodoc may document the same
    attribute further down, from an annotation or a ``#:`` comment, and two
    indexed entries would be a duplicate-object warning); here, with the whole
    page known, an entry without a twin gets its anchor and its inventory
    entry, and one with a twin is dropped.
    """
    signatures: dict[str, list[addnodes.desc_signature]] = {}
    for sig in doctree.findall(addnodes.desc_signature):
        if sig.get("module") is None or not sig.get("fullname"):
            continue
        full = f"{sig['module']}.{sig['fullname']}"
        signatures.setdefault(full, []).append(sig)
    domain = app.env.domains["py"]
    for full, sigs in signatures.items():
        ours = [s for s in sigs if full in _emitted and not s["ids"]]
        if not ours:
            continue
        others = [s for s in sigs if s["ids"]]
        for sig in ours[1:] if not others else ours:
            sig.parent.parent.remove(sig.parent)
        if others:
            continue
        sig = ours[0]
        desc = sig.parent
        sig["ids"].append(full)
        doctree.note_explicit_target(sig)
        domain.note_object(full, desc["objtype"], full, location=sig)  # type: ignore[attr-defined]
        if _NO_DESCRIPTION in desc.astext():
            app.env.tornado_undescribed.add(full)  # type: ignore[attr-defined]


def _init_env(app: Sphinx) -> None:
    # One set per build, shared by the parallel readers' merge below.
    if not hasattr(app.env, "tornado_undescribed"):
        app.env.tornado_undescribed = set()  # type: ignore[attr-defined]


def _merge(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    env.tornado_undescribed |= getattr(other, "tornado_undescribed", set())


def _purge(app: Sphinx, env: Any, docname: str) -> None:
    # Names are not tracked per page; a full re-read rebuilds the set.
    pass


def _write(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None:
        return
    names = sorted(getattr(app.env, "tornado_undescribed", set()))
    Path(app.outdir, "undescribed.txt").write_text("".join(f"{n}\n" for n in names))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _init_env)
    app.connect("autodoc-process-docstring", process_docstring)
    app.connect("doctree-read", _doctree_read)
    app.connect("env-merge-info", _merge)
    app.connect("env-purge-doc", _purge)
    app.connect("build-finished", _write)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
