"""``tools check``: the repository invariants that CI enforces.

Every rule returns a list of human-readable problems; an empty list means
the rule holds.  The rules are:

- every distribution has the same version, and ``tornado.version`` /
  ``version_info`` agree with it;
- every requirement on a sibling is an exact ``==`` pin on that version;
- the declared sibling dependencies match the design table and form an
  acyclic graph;
- the ``tornado.*`` imports of every module (module- and function-level,
  found in the AST) and of every test stay within the declared dependency
  closure, and every declared dependency is needed by some import;
- ``tornado/__init__.py`` has exactly one owner, ``tornado/platform`` at
  most one, and no module is shipped by two distributions;
- ``tornado.__all__`` lists every public top-level module shipped;
- every distribution that ships modules has ``py.typed`` and a README;
- the dependency graph embedded in README.md is current.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

from packaging.utils import canonicalize_name

from tools import design, graph
from tools.repo import (
    NAMESPACE,
    Distribution,
    Repo,
    closure,
    find_cycle,
    read_package_version,
    tornado_imports,
)
from tools.versioning import version_info_for

Rule = Callable[[Repo], list[str]]


def _rel(repo: Repo, path: Path) -> str:
    try:
        return str(path.relative_to(repo.root))
    except ValueError:
        return str(path)


def check_versions(repo: Repo) -> list[str]:
    """All distributions share one version, which ``tornado/__init__.py`` repeats."""
    problems: list[str] = []
    versions = {d.version for d in repo.distributions.values()}
    if len(versions) > 1:
        listing = ", ".join(f"{n}={d.version}" for n, d in sorted(repo.distributions.items()))
        problems.append(f"distributions disagree on the version: {listing}")
    owner = repo.distributions.get(design.NAMESPACE_OWNER)
    if owner is None:
        return [*problems, f"the namespace owner {design.NAMESPACE_OWNER} is missing"]
    init = owner.src / NAMESPACE / "__init__.py"
    if not init.is_file():
        return [*problems, f"{_rel(repo, init)} is missing"]
    version, info = read_package_version(init)
    if version != owner.version:
        problems.append(
            f"{_rel(repo, init)}: version = {version!r} but {owner.name} is {owner.version!r}"
        )
    try:
        expected_info = version_info_for(owner.version)
    except ValueError as e:
        return [*problems, f"{owner.name}: {e}"]
    if info != expected_info:
        problems.append(
            f"{_rel(repo, init)}: version_info = {info} but {owner.version!r} needs {expected_info}"
        )
    return problems


def check_pins(repo: Repo) -> list[str]:
    """Every requirement on a sibling is ``==`` its version, with no extras or markers."""
    problems: list[str] = []
    for name, dist in sorted(repo.distributions.items()):
        for req in repo.sibling_requirements(dist):
            target = repo.distributions[canonicalize_name(req.name)]
            spec = str(req.specifier)
            if spec != f"=={target.version}" or req.marker is not None:
                problems.append(
                    f"{name}: requirement {str(req)!r} must be exactly "
                    f"'{req.name}=={target.version}'"
                )
    return problems


def check_graph(repo: Repo) -> list[str]:
    """The declared graph equals the design table and has no cycle."""
    problems: list[str] = []
    declared = repo.declared_graph()
    for name in sorted(set(declared) | set(design.DESIGN_DEPENDENCIES)):
        if name not in declared:
            problems.append(f"{name}: in the design table but missing from packages/")
            continue
        if name not in design.DESIGN_DEPENDENCIES:
            problems.append(f"{name}: not in the design table (tools/design.py)")
            continue
        want = set(design.DESIGN_DEPENDENCIES[name])
        if declared[name] != want:
            extra = sorted(declared[name] - want)
            missing = sorted(want - declared[name])
            problems.append(
                f"{name}: declared dependencies differ from the design"
                + (f"; not in the design: {', '.join(extra)}" if extra else "")
                + (f"; missing: {', '.join(missing)}" if missing else "")
            )
    cycle = find_cycle(declared)
    if cycle:
        problems.append("dependency cycle: " + " -> ".join(cycle))
    return problems


def _namespace_attributes(repo: Repo) -> set[str]:
    """Top-level names that ``tornado/__init__.py`` defines (``from tornado import version``)."""
    owner = repo.distributions.get(design.NAMESPACE_OWNER)
    init = owner.src / NAMESPACE / "__init__.py" if owner else None
    if init is None or not init.is_file():
        return set()
    names: set[str] = set()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _owner_of(
    module: str, owners: dict[str, list[str]], namespace_attributes: set[str]
) -> str | None:
    """The distribution that provides *module* or its nearest shipped parent package."""
    parts = module.split(".")
    # Stop above the bare namespace: `tornado.httputil` is not "provided" by
    # tornado/__init__.py just because the namespace package exists.
    while len(parts) > 1:
        candidates = owners.get(".".join(parts))
        if candidates:
            return candidates[0]
        parts.pop()
    if module == NAMESPACE or module.split(".")[1] in namespace_attributes:
        return design.NAMESPACE_OWNER
    return None


def _uses(repo: Repo, dist: Distribution, files: list[Path]) -> dict[str, list[str]]:
    """Map each distribution that *files* import from to "file:line module" references."""
    owners = repo.module_owners()
    attributes = _namespace_attributes(repo)
    used: dict[str, list[str]] = {}
    for f in files:
        src_root = dist.src if f.is_relative_to(dist.src) else None
        for ref in tornado_imports(f, src_root):
            owner = _owner_of(ref.module, owners, attributes)
            where = f"{_rel(repo, ref.file)}:{ref.lineno} imports {ref.module}"
            used.setdefault(owner or f"<nobody ships {ref.module}>", []).append(where)
    return used


def check_imports(repo: Repo) -> list[str]:
    """Imports stay inside the declared closure; every declared dependency is used."""
    problems: list[str] = []
    declared = repo.declared_graph()
    for name, dist in sorted(repo.distributions.items()):
        allowed = closure(declared, name) | {name}
        for files, what in ((dist.module_files, "module"), (dist.test_files, "test")):
            for owner, refs in sorted(_uses(repo, dist, files).items()):
                if owner.startswith("<nobody"):
                    problems.extend(f"{name}: {r}, which no distribution ships" for r in refs)
                elif owner not in allowed:
                    problems.extend(
                        f"{name}: {r} from {owner}, an undeclared dependency ({what} code)"
                        for r in refs
                    )
        if not dist.module_files or name == design.META_PACKAGE:
            continue  # a distribution without modules yet cannot use anything
        imported = set(_uses(repo, dist, dist.module_files)) - {name}
        for dep in sorted(declared[name]):
            others: set[str] = set()
            for other in declared[name] - {dep}:
                others |= closure(declared, other) | {other}
            reach = (closure(declared, dep) | {dep}) - others
            if not imported & reach:
                problems.append(
                    f"{name}: declares {dep} but imports nothing that only {dep} provides"
                )
    return problems


def check_ownership(repo: Repo) -> list[str]:
    """One owner for ``tornado/__init__.py``, at most one per shared subpackage, no shared modules."""
    problems: list[str] = []
    owners = repo.module_owners()
    root_owners = owners.get(NAMESPACE, [])
    if root_owners != [design.NAMESPACE_OWNER]:
        problems.append(
            f"tornado/__init__.py must be shipped by {design.NAMESPACE_OWNER} alone; "
            f"shipped by: {', '.join(root_owners) or 'nobody'}"
        )
    for module, dists in sorted(owners.items()):
        if module != NAMESPACE and len(dists) > 1:
            problems.append(f"{module} is shipped by several distributions: {', '.join(dists)}")
    declared = repo.declared_graph()
    # A shared subpackage (tornado/platform) may have an __init__.py owner; every
    # other distribution with modules in it must depend on that owner.
    for name, dist in sorted(repo.distributions.items()):
        for module in dist.module_names():
            package = module.rsplit(".", 1)[0]
            if package == NAMESPACE or module == package:
                continue
            pkg_owners = owners.get(package, [])
            if (
                pkg_owners
                and pkg_owners[0] != name
                and pkg_owners[0] not in closure(declared, name)
            ):
                problems.append(
                    f"{name} ships {module} but does not depend on {pkg_owners[0]}, "
                    f"which owns {package.replace('.', '/')}/__init__.py"
                )
    for init in (repo.root / "packages").glob("*/src/tornado/**/__init__.py"):
        if not _extends_path(init):
            problems.append(f"{_rel(repo, init)} must extend __path__ (pkgutil style)")
    return problems


def _extends_path(init: Path) -> bool:
    """True if *init* assigns ``__path__`` from a call that is given ``__path__`` and ``__name__``."""
    for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__path__" for t in node.targets)
            and isinstance(node.value, ast.Call)
        ):
            names = {a.id for a in node.value.args if isinstance(a, ast.Name)}
            if {"__path__", "__name__"} <= names:
                return True
    return False


def check_namespace_all(repo: Repo) -> list[str]:
    """``tornado.__all__`` names every public top-level module that is shipped."""
    owner = repo.distributions.get(design.NAMESPACE_OWNER)
    if owner is None:
        return []
    init = owner.src / NAMESPACE / "__init__.py"
    listed: set[str] | None = None
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            listed = set(ast.literal_eval(node.value))
    if listed is None:
        return [f"{_rel(repo, init)} has no literal __all__"]
    shipped = {
        m.split(".")[1]
        for m in repo.module_owners()
        if m.count(".") >= 1 and not m.split(".")[1].startswith("_")
    } - design.NOT_IN_NAMESPACE_ALL
    # Names of modules not shipped yet are allowed: a skeleton lists the
    # whole stack before its distributions have modules.
    problems = []
    if shipped - listed:
        problems.append(
            f"tornado.__all__ misses shipped modules: {', '.join(sorted(shipped - listed))}"
        )
    return problems


def check_files(repo: Repo) -> list[str]:
    """Each distribution has a README; each one with modules has ``py.typed``."""
    problems: list[str] = []
    for name, dist in sorted(repo.distributions.items()):
        if not (dist.path / "README.md").is_file():
            problems.append(f"{name}: README.md is missing")
        if name != design.META_PACKAGE and not (dist.src / NAMESPACE / "py.typed").is_file():
            problems.append(f"{name}: src/tornado/py.typed is missing")
    return problems


def check_readme_graph(repo: Repo) -> list[str]:
    """README.md embeds the current Mermaid graph between the graph markers."""
    readme = repo.root / "README.md"
    if not readme.is_file():
        return ["README.md is missing"]
    current = graph.extract_embedded(readme.read_text(encoding="utf-8"))
    if current is None:
        return [f"README.md has no {graph.START_MARKER} ... {graph.END_MARKER} block"]
    if current.strip() != graph.mermaid(repo).strip():
        return ["README.md's dependency graph is stale: run `hatch run graph --write`"]
    return []


RULES: list[Rule] = [
    check_versions,
    check_pins,
    check_graph,
    check_imports,
    check_ownership,
    check_namespace_all,
    check_files,
    check_readme_graph,
]


def run_checks(repo: Repo) -> list[str]:
    """Run every rule and return all problems found."""
    problems: list[str] = []
    for rule in RULES:
        problems.extend(rule(repo))
    return problems


def main(repo: Repo) -> int:
    """Print the problems (or a success line); return the exit status."""
    problems = run_checks(repo)
    if problems:
        print(f"tools check: {len(problems)} problem(s)")
        for p in problems:
            print(f"  - {p}")
        return 1
    print(f"tools check: OK ({len(repo.distributions)} distributions)")
    return 0
