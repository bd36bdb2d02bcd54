"""``tools typecheck``: mypy over the merged ``tornado`` namespace.

mypy does not merge pkgutil-style portions of one package that live in
several source folders, so this assembles a view of all of them (symlinks
under ``build/typecheck/tornado``) and checks that with ``mypy.ini``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tools.repo import NAMESPACE, Repo


def assemble(repo: Repo) -> list[str]:
    """Build the merged view; return the module paths to check (relative to the root)."""
    view = repo.root / "build" / "typecheck"
    if view.exists():
        shutil.rmtree(view)
    targets: list[str] = []
    for dist in repo.distributions.values():
        portion = dist.src / NAMESPACE
        for f in [*dist.module_files, portion / "py.typed"]:
            if not f.exists():
                continue
            dest = view / f.relative_to(dist.src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if f.name == "py.typed" and dest.exists():
                continue  # every distribution ships the same empty marker
            dest.symlink_to(f)
            if f.suffix == ".py":
                targets.append(str(dest.relative_to(repo.root)))
    return targets


def main(repo: Repo, extra: list[str]) -> int:
    """Run mypy on the merged view plus ``tools``; return the worst exit status.

    The benchmark workloads run as top-level scripts (they import their
    ``_harness`` sibling directly), so they are checked in a second pass from
    their own folder.
    """
    targets = assemble(repo)
    config = str(repo.root / "mypy.ini")
    env = {**os.environ, "MYPYPATH": str(repo.root / "build" / "typecheck")}
    mypy = [sys.executable, "-m", "mypy", "--config-file", config, *extra]
    workloads = repo.root / "tools" / "bench" / "workloads"
    first = subprocess.run(
        [*mypy, *targets, "tools", "--exclude", "tools/bench/workloads/"], cwd=repo.root, env=env
    )
    scripts = sorted(p.name for p in workloads.glob("*.py"))
    second = subprocess.run([*mypy, "--explicit-package-bases", *scripts], cwd=workloads, env=env)
    return max(first.returncode, second.returncode)
