"""``tools typecheck``: mypy over the merged ``tornado`` namespace.

mypy does not merge pkgutil-style portions of one package that live in
several source folders, so this assembles a view of all of them (symlinks
under ``build/typecheck/tornado``) and checks that with ``mypy.ini``.
"""

from __future__ import annotations

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
            dest.symlink_to(f)
            if f.suffix == ".py":
                targets.append(str(dest.relative_to(repo.root)))
    return targets


def main(repo: Repo, extra: list[str]) -> int:
    """Run mypy on the merged view plus ``tools``; return mypy's exit status."""
    targets = assemble(repo)
    cmd = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", *targets, "tools", *extra]
    env_path = str(repo.root / "build" / "typecheck")
    proc = subprocess.run(
        cmd, cwd=repo.root, env={**__import__("os").environ, "MYPYPATH": env_path}
    )
    return proc.returncode
