"""Sphinx configuration of the documentation site (``hatch run docs``).

The modules are imported from the workspace's editable installs (the ``docs``
hatch environment), so autodoc reads the docstrings of exactly the code in
this checkout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# tools/ (the docs coverage check, the release tooling named in the pages) is
# importable from the repository root.
sys.path.insert(0, str(ROOT))
# Our own extensions (docs/_ext).
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import tornado  # noqa: E402  (after the path setup above)

project = "Tornado micro-packages"
author = "the tornado micro-packages authors"
copyright = "2026, " + author
version = release = tornado.version

extensions = [
    "sphinx.ext.autodoc",
    "myst_parser",
    "instance_members",
    "short_refs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "samples/README.md"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# autodoc: every public member, in source order, with its signature's type
# hints kept in the signature (the reference mirrors the code).
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
    "member-order": "bysource",
}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_inherit_docstrings = True

html_theme = "furo"
html_title = f"Tornado micro-packages {release}"
html_static_path: list[str] = []
html_show_sourcelink = False


# The changelog page shows the released sections (CHANGELOG.md) and, above
# them, what the next release will say: towncrier's draft of the fragments in
# CHANGELOG.d, written here at every build (it is never committed).
UNRELEASED = ROOT / "build" / "docs" / "unreleased.md"


def _write_unreleased() -> None:
    draft = subprocess.run(
        [sys.executable, "-m", "towncrier", "build", "--draft", "--version", "next"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # towncrier prints a few progress lines before the draft itself.
    start = draft.find("## next")
    text = draft[start:] if start >= 0 else "No unreleased changes.\n"
    UNRELEASED.parent.mkdir(parents=True, exist_ok=True)
    if not UNRELEASED.exists() or UNRELEASED.read_text(encoding="utf-8") != text:
        UNRELEASED.write_text(text, encoding="utf-8")


_write_unreleased()

# Cross-references must resolve.  Docstrings write references with single
# backquotes (`IOLoop.current`), as upstream's do: the default role makes
# them Python references.  With nitpicky, every reference that finds no
# target is a warning (an error with -W), except references to
#
# * the standard library, builtins and the third-party libraries we use: we
#   have no inventory of theirs (intersphinx would fetch one over the
#   network at each build), so they are left unlinked;
# * private names of ours (``tornado.web._HandlerDelegate``, type variables),
#   which type hints and private bases mention but the reference leaves out.
default_role = "py:obj"
nitpicky = True
_FOREIGN = sorted(
    set(sys.stdlib_module_names)
    | {n for n in dir(__import__("builtins")) if not n.startswith("_")}
    | {"timedelta", "datetime"}  # `from datetime import timedelta` in type hints
    | {
        "h2",
        "pycurl",
        "pycares",
        "twisted",
        "httptools",
        "websockets",
        "redis",
        "typing_extensions",
    }
)
nitpick_ignore_regex = [
    ("py:.*", r"(?:%s)(?:\..*)?" % "|".join(_FOREIGN)),
    ("py:.*", r"(?:.*\.)?_\w*(?:\..*)?"),
]
