"""The documentation site's pages agree with the repository they describe.

One page per distribution (``docs/packages/<dist>.rst``) naming its install
line, its extras and its dependencies from its ``pyproject.toml``, with an API
page (``docs/api/<module>.rst``, an ``automodule``) for each public module it
ships; plus the site's tooling: the docs environment and scripts, the CI
step, the README's pointer.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
DISTS = sorted(p.name for p in (REPO / "packages").iterdir() if (p / "pyproject.toml").is_file())


def _public_modules(dist: str) -> list[str]:
    src = REPO / "packages" / dist / "src"
    found = []
    for path in sorted(src.rglob("*.py")) if src.is_dir() else []:
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts) or ".".join(parts) == "tornado.platform":
            continue
        found.append(".".join(parts))
    return found


def test_twelve_distributions() -> None:
    assert len(DISTS) == 12


@pytest.mark.parametrize("dist", DISTS)
def test_distribution_page(dist: str) -> None:
    page = (DOCS / "packages" / f"{dist}.rst").read_text(encoding="utf-8")
    project = tomllib.loads((REPO / "packages" / dist / "pyproject.toml").read_text())["project"]
    assert f"pip install {dist}\n" in page
    for extra in project.get("optional-dependencies", {}):
        assert f"pip install '{dist}[{extra}]'" in page, extra
    for requirement in project.get("dependencies", []):
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name is not None
        assert name.group(0) in page, requirement
    for module in _public_modules(dist):
        assert f"   ../api/{module}\n" in page, module
        api = (DOCS / "api" / f"{module}.rst").read_text(encoding="utf-8")
        assert f".. automodule:: {module}\n" in api
        assert f"<dist-{dist}>" in api


def test_index_lists_every_distribution() -> None:
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    for dist in DISTS:
        assert f"   packages/{dist}\n" in index


def test_every_api_page_belongs_to_a_distribution() -> None:
    shipped = {m for d in DISTS for m in _public_modules(d)}
    pages = {p.stem for p in (DOCS / "api").glob("*.rst")}
    assert pages == shipped


def test_tooling_is_wired() -> None:
    hatch = tomllib.loads((REPO / "hatch.toml").read_text())
    docs_env = hatch["envs"]["docs"]
    assert docs_env["workspace"]["members"] == ["packages/*"]
    assert {"docs", "docs-serve", "docs-coverage"} <= set(docs_env["scripts"])
    assert {"docs", "docs-serve"} <= set(hatch["envs"]["default"]["scripts"])
    ci = (REPO / ".ci" / "run").read_text()
    assert ci.index('step "documentation"') < ci.index('step "type check"')
    assert "hatch run docs-coverage" in ci
    readme = (REPO / "README.md").read_text()
    assert "hatch run docs" in readme and "hatch run docs-serve" in readme


def test_every_page_is_in_a_toctree() -> None:
    # Sphinx warns about an orphan page too; this names the index's lists.
    index = (DOCS / "index.rst").read_text(encoding="utf-8")
    for folder in ("guides", "features"):
        for page in sorted((DOCS / folder).glob("*.md")):
            assert f"   {folder}/{page.stem}\n" in index, page
