"""A read-only model of the monorepo: its distributions, their metadata and modules.

Everything else in ``tools`` works from this model, so it is the one place
that knows the layout ``packages/<dist>/pyproject.toml`` and
``packages/<dist>/src/tornado/...``.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PACKAGES_DIR = "packages"
NAMESPACE = "tornado"


class RepoError(Exception):
    """The repository is not laid out the way the tools expect."""


def find_root(start: Path | None = None) -> Path:
    """Return the repository root: the nearest folder holding ``hatch.toml`` and ``packages/``.

    Raises `RepoError` when there is none above *start* (default: the cwd).
    """
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "hatch.toml").is_file() and (candidate / PACKAGES_DIR).is_dir():
            return candidate
    raise RepoError(f"no repository root (hatch.toml + {PACKAGES_DIR}/) above {here}")


@dataclass
class Distribution:
    """One distribution under ``packages/``."""

    name: str
    path: Path
    version: str
    #: Requirements on other distributions, as written in ``pyproject.toml``.
    requirements: list[Requirement]
    #: Module files (absolute paths) under ``src/tornado``.
    module_files: list[Path] = field(default_factory=list)
    #: Test files (absolute paths) under ``tests/``.
    test_files: list[Path] = field(default_factory=list)

    @property
    def pyproject(self) -> Path:
        """Path of this distribution's ``pyproject.toml``."""
        return self.path / "pyproject.toml"

    @property
    def src(self) -> Path:
        """The ``src`` folder (which holds the ``tornado`` portion)."""
        return self.path / "src"

    def module_names(self) -> list[str]:
        """Dotted names of the modules this distribution ships (``tornado.web``, ...)."""
        return [module_name(self.src, f) for f in self.module_files]


def module_name(src: Path, file: Path) -> str:
    """The dotted module name of *file* relative to *src*."""
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _python_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def load_distribution(path: Path) -> Distribution:
    """Read one distribution folder.  Raises `RepoError` for a malformed ``pyproject.toml``."""
    try:
        data = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise RepoError(f"{path / 'pyproject.toml'}: {e}") from e
    project = data.get("project", {})
    name = project.get("name")
    version = project.get("version")
    if not isinstance(name, str) or not isinstance(version, str):
        raise RepoError(f"{path / 'pyproject.toml'}: [project] needs a static name and version")
    requirements = [Requirement(r) for r in project.get("dependencies", [])]
    return Distribution(
        name=canonicalize_name(name),
        path=path,
        version=version,
        requirements=requirements,
        module_files=_python_files(path / "src" / NAMESPACE),
        test_files=_python_files(path / "tests"),
    )


@dataclass
class Repo:
    """The monorepo: its root and its distributions by name."""

    root: Path
    distributions: dict[str, Distribution]

    @classmethod
    def load(cls, root: Path | None = None) -> Repo:
        """Load the repository at *root* (default: found from the cwd)."""
        root = find_root(root)
        dists: dict[str, Distribution] = {}
        for pyproject in sorted((root / PACKAGES_DIR).glob("*/pyproject.toml")):
            dist = load_distribution(pyproject.parent)
            dists[dist.name] = dist
        if not dists:
            raise RepoError(f"no distributions under {root / PACKAGES_DIR}")
        return cls(root=root, distributions=dists)

    def sibling_requirements(self, dist: Distribution) -> list[Requirement]:
        """The requirements of *dist* that name another distribution of this repo."""
        return [r for r in dist.requirements if canonicalize_name(r.name) in self.distributions]

    def declared_graph(self) -> dict[str, set[str]]:
        """Direct sibling dependencies of every distribution, as declared."""
        return {
            name: {canonicalize_name(r.name) for r in self.sibling_requirements(d)}
            for name, d in self.distributions.items()
        }

    def module_owners(self) -> dict[str, list[str]]:
        """Map every shipped module name to the distributions that ship it."""
        owners: dict[str, list[str]] = {}
        for name, dist in self.distributions.items():
            for module in dist.module_names():
                owners.setdefault(module, []).append(name)
        return owners

    def sources(self) -> Iterator[tuple[Distribution, Path]]:
        """Every module file of every distribution."""
        for dist in self.distributions.values():
            for f in dist.module_files:
                yield dist, f


def closure(graph: dict[str, set[str]], start: str) -> set[str]:
    """Everything reachable from *start* in *graph*, *start* itself excluded."""
    seen: set[str] = set()
    stack = list(graph.get(start, ()))
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(graph.get(node, ()))
    seen.discard(start)
    return seen


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one dependency cycle in *graph* as a list of nodes, or None if it is acyclic."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@dataclass(frozen=True)
class ImportRef:
    """One import of a ``tornado.*`` module found in a source file."""

    module: str
    file: Path
    lineno: int


def tornado_imports(file: Path, src_root: Path | None = None) -> list[ImportRef]:
    """Every ``tornado.*`` module that *file* imports, at any nesting level.

    Function-level imports count as much as module-level ones.  Relative
    imports are resolved against the file's own package, which needs
    *src_root* (the folder that holds ``tornado/``).  ``from tornado import x``
    is reported as ``tornado.x``: for a namespace split across
    distributions, the name after ``import`` is the module that is needed.
    """
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    package: list[str] = []
    if src_root is not None:
        package = module_name(src_root, file).split(".")
        if file.name != "__init__.py":
            package = package[:-1]
    found: list[ImportRef] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == NAMESPACE or alias.name.startswith(NAMESPACE + "."):
                    found.append(ImportRef(alias.name, file, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if not package or node.level > len(package):
                    continue
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target != NAMESPACE and not target.startswith(NAMESPACE + "."):
                continue
            for alias in node.names:
                # `from tornado import web` needs tornado.web; for `from tornado.web
                # import RequestHandler` the owner lookup walks up from
                # tornado.web.RequestHandler to the module that is shipped.
                found.append(ImportRef(f"{target}.{alias.name}", file, node.lineno))
    return found


_VERSION_RE = re.compile(r'^version\s*=\s*"([^"]*)"', re.MULTILINE)
_VERSION_INFO_RE = re.compile(r"^version_info\s*=\s*\(([^)]*)\)", re.MULTILINE)


def read_package_version(init_file: Path) -> tuple[str | None, tuple[int, ...] | None]:
    """Read ``version`` and ``version_info`` from ``tornado/__init__.py`` without importing it."""
    text = init_file.read_text(encoding="utf-8")
    version_match = _VERSION_RE.search(text)
    info_match = _VERSION_INFO_RE.search(text)
    info = None
    if info_match:
        info = tuple(int(x) for x in info_match.group(1).replace(" ", "").split(",") if x)
    return (version_match.group(1) if version_match else None), info
