"""The tornado package itself: version, lazy submodule attributes, __all__."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tornado


def test_version_info_orders_above_6_5() -> None:
    assert tornado.version_info >= (6, 5)
    assert tornado.version.startswith(".".join(map(str, tornado.version_info[:2])))


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def test_import_tornado_imports_no_submodule() -> None:
    out = _run(
        "import sys, tornado; print(sorted(m for m in sys.modules if m.startswith('tornado.')))"
    )
    assert out == "[]"


def test_attribute_access_imports_the_submodule() -> None:
    out = _run("import tornado; print(tornado.escape.xhtml_escape('<'), tornado.util.ObjectDict)")
    assert out == "&lt; <class 'tornado.util.ObjectDict'>"


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        tornado.nonexistent  # noqa: B018


def test_all_lists_importable_names_only() -> None:
    assert "escape" in tornado.__all__ and "web" in tornado.__all__
    assert len(set(tornado.__all__)) == len(tornado.__all__)
