"""The internal link check of ``tools docs``."""

from __future__ import annotations

from pathlib import Path

from tools.docs_build import check_links


def _page(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html><body>{body}</body></html>")


def test_good_links_pass(tmp_path: Path) -> None:
    _page(
        tmp_path / "index.html",
        '<a href="api/web.html#tornado.web.Application">A</a>'
        '<a href="#top">top</a><a id="top"></a><a href="https://example.org/x#y">ext</a>'
        '<a href="mailto:a@b">m</a><link href="_static/s.css"><img src="_static/i.png">'
        '<a href="api/">folder</a>',
    )
    _page(
        tmp_path / "api" / "web.html",
        '<dt id="tornado.web.Application">x</dt><a href="../index.html">up</a>',
    )
    _page(tmp_path / "api" / "index.html", "")
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "s.css").write_text("")
    (tmp_path / "_static" / "i.png").write_bytes(b"")
    assert check_links(tmp_path) == []


def test_broken_links_are_reported(tmp_path: Path) -> None:
    _page(
        tmp_path / "index.html",
        '<a href="missing.html">1</a><a href="other.html#nope">2</a><a href="#gone">3</a>'
        '<script src="_static/absent.js"></script>',
    )
    _page(tmp_path / "other.html", '<p id="here"></p>')
    assert check_links(tmp_path) == [
        "index.html: #gone (no id 'gone' in the target)",
        "index.html: _static/absent.js (no such file)",
        "index.html: missing.html (no such file)",
        "index.html: other.html#nope (no id 'nope' in the target)",
    ]
