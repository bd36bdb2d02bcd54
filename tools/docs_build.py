"""Build the documentation site, check its internal links, optionally serve it.

``python -m tools docs [--serve [PORT]]`` (``hatch run docs`` /
``hatch run docs-serve``): runs Sphinx's HTML builder on ``docs/`` into
``build/docs/html`` with warnings as errors (``-W --keep-going``), then
checks every internal link of the output with `check_links`: each relative
``href``/``src`` must name a file of the build, and each ``#fragment`` an
``id`` in the target page.  Sphinx's own ``linkcheck`` builder is made for
external links (it fetches them); ours needs no network and takes a second.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "docs"
OUTPUT = REPO / "build" / "docs" / "html"
DOCTREES = REPO / "build" / "docs" / "doctrees"


class _Page(HTMLParser):
    """Collects the ids and the links of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif (name == "href" and tag in ("a", "link")) or (
                name == "src" and tag in ("img", "script")
            ):
                self.links.append(value)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def check_links(root: Path) -> list[str]:
    """Every broken internal link under ``root`` as ``page: link (why)``, sorted."""
    pages = {p: _parse(p) for p in sorted(root.rglob("*.html"))}
    problems = []
    for page_path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            # External (http:, mailto:, ...) and protocol-relative links are not ours to check.
            if parts.scheme or parts.netloc:
                continue
            if parts.path:
                target = (page_path.parent / unquote(parts.path)).resolve()
                if target.is_dir():
                    target = target / "index.html"
            else:
                target = page_path
            rel = page_path.relative_to(root)
            if not target.is_file():
                problems.append(f"{rel}: {link} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{rel}: {link} (no id {parts.fragment!r} in the target)")
    return sorted(problems)


def build(source: Path = SOURCE, output: Path = OUTPUT, extra: list[str] | None = None) -> int:
    """Run sphinx-build (warnings as errors); return its exit status.

    The HTML folder is emptied first, so a page or file left over from an
    earlier build cannot satisfy the link check, and every page is read
    afresh (``-E``): Sphinx cannot tell that a page's autodoc output changed
    with our extension in ``docs/_ext``, and a full build takes under a minute.
    """
    shutil.rmtree(output, ignore_errors=True)
    # Two worker processes: the CI machine has two cores.
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-W",
        "--keep-going",
        "-q",
        "-E",
        "-j",
        "2",
        "-d",
        str(DOCTREES),
        str(source),
        str(output),
        *(extra or []),
    ]
    return subprocess.run(command, cwd=REPO, check=False).returncode


def serve(root: Path, port: int) -> None:
    """Serve ``root`` on http://127.0.0.1:<port>/ until interrupted."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=os.fspath(root))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(
            f"docs: serving {root} on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(serve_port: int | None = None, sphinx_args: list[str] | None = None) -> int:
    """Build, check the links, and serve when ``serve_port`` is given (0: any free port)."""
    status = build(extra=sphinx_args)
    if status != 0:
        print(f"docs: sphinx-build failed (exit status {status})", file=sys.stderr)
        return status
    problems = check_links(OUTPUT)
    for problem in problems:
        print(f"docs: broken link: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"docs: built {OUTPUT} (internal links checked)")
    if serve_port is not None:
        serve(OUTPUT, serve_port)
    return 0
