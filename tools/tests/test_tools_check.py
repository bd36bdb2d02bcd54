"""Tests of ``tools check``, ``bump`` and ``graph`` on a copy of the repository skeleton."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tools import bump, check, graph
from tools.__main__ import main as tools_main
from tools.repo import Repo, find_cycle, tornado_imports
from tools.versioning import version_info_for

REAL_ROOT = Path(__file__).resolve().parents[2]


def _skeleton_files(src: str, names: list[str]) -> list[str]:
    """copytree ignore function: keep metadata and namespace __init__ files only."""
    ignored = []
    for n in names:
        if n in ("tests", "__pycache__", "dist", "build") or (
            n.endswith(".py") and n != "__init__.py"
        ):
            ignored.append(n)
    return ignored


@pytest.fixture
def skeleton(tmp_path: Path) -> Path:
    """A repository with every distribution's metadata, README and py.typed, but no modules."""
    root = tmp_path / "repo"
    shutil.copytree(REAL_ROOT / "packages", root / "packages", ignore=_skeleton_files)
    shutil.copy(REAL_ROOT / "hatch.toml", root / "hatch.toml")
    shutil.copy(REAL_ROOT / "README.md", root / "README.md")
    # Subpackage __init__ files of later distributions are not part of the skeleton.
    for init in (root / "packages").glob("*/src/tornado/*/__init__.py"):
        init.unlink()
    graph.write_embedded(root / "README.md", Repo.load(root))
    return root


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _add_minimal_modules(root: Path) -> None:
    """One module per layer, each importing what justifies its declared dependency."""
    src = root / "packages"
    _write(src / "tornado-core/src/tornado/escape.py", "def utf8(x): return x\n")
    _write(src / "tornado-ioloop/src/tornado/ioloop.py", "from tornado.escape import utf8\n")
    _write(src / "tornado-template/src/tornado/template.py", "from tornado import escape\n")


def test_skeleton_passes(skeleton: Path) -> None:
    assert check.run_checks(Repo.load(skeleton)) == []


def test_real_repository_passes_version_pin_graph_and_ownership_rules() -> None:
    repo = Repo.load(REAL_ROOT)
    for rule in (check.check_versions, check.check_pins, check.check_graph, check.check_ownership):
        assert rule(repo) == [], rule.__name__


def test_broken_pin_fails(skeleton: Path) -> None:
    pyproject = skeleton / "packages/tornado-web/pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(re.sub(r'"tornado-http==[^"]*"', '"tornado-http>=6.0"', text))
    problems = check.run_checks(Repo.load(skeleton))
    assert any(
        "tornado-web" in p and "tornado-http" in p and "must be exactly" in p for p in problems
    )
    assert tools_main(["--root", str(skeleton), "check"]) == 1


def test_version_mismatch_fails(skeleton: Path) -> None:
    pyproject = skeleton / "packages/tornado-auth/pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(re.sub(r'^version = "[^"]*"', 'version = "9.9.9"', text, flags=re.M))
    problems = check.check_versions(Repo.load(skeleton))
    assert len(problems) == 1 and "tornado-auth=9.9.9" in problems[0]


def test_undeclared_module_level_import_fails(skeleton: Path) -> None:
    _add_minimal_modules(skeleton)
    assert check.check_imports(Repo.load(skeleton)) == []
    _write(
        skeleton / "packages/tornado-template/src/tornado/template.py",
        "from tornado import escape\nimport tornado.ioloop\n",
    )
    problems = check.check_imports(Repo.load(skeleton))
    assert problems == [
        "tornado-template: packages/tornado-template/src/tornado/template.py:2 imports "
        "tornado.ioloop from tornado-ioloop, an undeclared dependency (module code)"
    ]


def test_undeclared_function_level_import_fails(skeleton: Path) -> None:
    _add_minimal_modules(skeleton)
    _write(
        skeleton / "packages/tornado-template/src/tornado/template.py",
        "from tornado import escape\n\ndef f():\n    from tornado.ioloop import IOLoop\n    return IOLoop\n",
    )
    problems = check.check_imports(Repo.load(skeleton))
    assert len(problems) == 1 and "template.py:4" in problems[0] and "tornado-ioloop" in problems[0]


def test_undeclared_import_in_tests_fails(skeleton: Path) -> None:
    _add_minimal_modules(skeleton)
    _write(skeleton / "packages/tornado-core/tests/test_x.py", "import tornado.template\n")
    problems = check.check_imports(Repo.load(skeleton))
    assert len(problems) == 1 and "(test code)" in problems[0]


def test_import_of_a_module_nobody_ships_fails(skeleton: Path) -> None:
    _add_minimal_modules(skeleton)
    _write(
        skeleton / "packages/tornado-ioloop/src/tornado/ioloop.py",
        "from tornado.escape import utf8\nfrom tornado.nosuchmodule import x\n",
    )
    problems = check.check_imports(Repo.load(skeleton))
    assert problems == [
        "tornado-ioloop: packages/tornado-ioloop/src/tornado/ioloop.py:2 imports "
        "tornado.nosuchmodule.x, which no distribution ships"
    ]


def test_unused_declared_dependency_fails(skeleton: Path) -> None:
    _add_minimal_modules(skeleton)
    _write(skeleton / "packages/tornado-ioloop/src/tornado/ioloop.py", "import asyncio\n")
    problems = check.check_imports(Repo.load(skeleton))
    assert problems == [
        "tornado-ioloop: declares tornado-core but imports nothing that only tornado-core provides"
    ]


def test_relative_imports_resolve(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _write(
        src / "tornado/platform/asyncio.py",
        "from .. import ioloop\nfrom ..util import x\nfrom . import other\n",
    )
    found = [r.module for r in tornado_imports(src / "tornado/platform/asyncio.py", src)]
    assert found == ["tornado.ioloop", "tornado.util.x", "tornado.platform.other"]


def test_graph_mismatch_and_cycle_fail(skeleton: Path) -> None:
    pyproject = skeleton / "packages/tornado-core/pyproject.toml"
    version = Repo.load(skeleton).distributions["tornado-core"].version
    text = pyproject.read_text().replace(
        "dependencies = [\n]", f'dependencies = [\n    "tornado-web=={version}",\n]'
    )
    pyproject.write_text(text)
    problems = check.check_graph(Repo.load(skeleton))
    assert any(
        "tornado-core: declared dependencies differ from the design; not in the design: tornado-web"
        in p
        for p in problems
    )
    assert any(p.startswith("dependency cycle: ") and "tornado-web" in p for p in problems)


def test_find_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]


def test_second_namespace_owner_fails(skeleton: Path) -> None:
    _write(skeleton / "packages/tornado-web/src/tornado/__init__.py", "")
    problems = check.check_ownership(Repo.load(skeleton))
    assert any("tornado/__init__.py must be shipped by tornado-core alone" in p for p in problems)


def test_module_shipped_twice_fails(skeleton: Path) -> None:
    _write(skeleton / "packages/tornado-web/src/tornado/escape.py", "")
    _write(skeleton / "packages/tornado-core/src/tornado/escape.py", "")
    problems = check.check_ownership(Repo.load(skeleton))
    assert problems == [
        "tornado.escape is shipped by several distributions: tornado-core, tornado-web"
    ]


def test_shared_subpackage_needs_dependency_on_its_owner(skeleton: Path) -> None:
    init = '__path__ = __import__("pkgutil").extend_path(__path__, __name__)\n'
    _write(skeleton / "packages/tornado-iostream/src/tornado/platform/__init__.py", init)
    _write(skeleton / "packages/tornado-ioloop/src/tornado/platform/asyncio.py", "")
    problems = check.check_ownership(Repo.load(skeleton))
    assert problems == [
        "tornado-ioloop ships tornado.platform.asyncio but does not depend on "
        "tornado-iostream, which owns tornado/platform/__init__.py"
    ]


def test_stale_readme_graph_fails(skeleton: Path) -> None:
    readme = skeleton / "README.md"
    readme.write_text(readme.read_text().replace("tornado_auth -->", "tornado_auth -.->"))
    assert check.check_readme_graph(Repo.load(skeleton)) == [
        "README.md's dependency graph is stale: run `hatch run graph --write`"
    ]
    assert graph.write_embedded(readme, Repo.load(skeleton)) is True
    assert check.check_readme_graph(Repo.load(skeleton)) == []


def test_shipped_module_missing_from_namespace_all_fails(skeleton: Path) -> None:
    _write(skeleton / "packages/tornado-web/src/tornado/brand_new.py", "")
    assert check.check_namespace_all(Repo.load(skeleton)) == [
        "tornado.__all__ misses shipped modules: brand_new"
    ]


def test_missing_py_typed_fails(skeleton: Path) -> None:
    (skeleton / "packages/tornado-http/src/tornado/py.typed").unlink()
    assert check.check_files(Repo.load(skeleton)) == [
        "tornado-http: src/tornado/py.typed is missing"
    ]


def test_bump_rewrites_every_version_and_pin(skeleton: Path) -> None:
    changed = bump.bump(Repo.load(skeleton), "7.1.0rc2")
    assert len(changed) == 13  # twelve pyprojects and tornado/__init__.py
    repo = Repo.load(skeleton)
    assert {d.version for d in repo.distributions.values()} == {"7.1.0rc2"}
    assert check.run_checks(repo) == []
    init = (skeleton / "packages/tornado-core/src/tornado/__init__.py").read_text()
    assert 'version = "7.1.0rc2"' in init
    assert "version_info = (7, 1, 0, -18)" in init
    meta = (skeleton / "packages/tornado/pyproject.toml").read_text()
    assert meta.count("==7.1.0rc2") == 11


def test_bump_refuses_invalid_version(skeleton: Path) -> None:
    assert tools_main(["--root", str(skeleton), "bump", "not-a-version"]) == 2
    assert check.run_checks(Repo.load(skeleton)) == []


def test_version_info_orders_like_versions() -> None:
    ordered = [
        "6.5.0",
        "7.0.0.dev0",
        "7.0.0a1",
        "7.0.0b2",
        "7.0.0rc1",
        "7.0.0",
        "7.0.0.post1",
        "7.0.1",
    ]
    infos = [version_info_for(v) for v in ordered]
    assert infos == sorted(infos)
    assert len(set(infos)) == len(infos)
    assert version_info_for("7.0.0.dev0") >= (6, 5)
