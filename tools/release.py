"""``tools release VERSION``: bump, assemble the changelog, build; on a clean tree only."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tools import build, bump, check
from tools.repo import Repo


def is_dirty(root: Path) -> bool:
    """True when the work tree has uncommitted or untracked (not ignored) changes."""
    proc = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    )
    return bool(proc.stdout.strip())


def main(repo: Repo, version: str, out_dir: Path | None) -> int:
    """Run the release steps in order, stopping at the first failure."""
    if is_dirty(repo.root):
        print("tools release: the work tree is dirty; commit or stash first")
        return 1
    if bump.main(repo, version):
        return 1
    repo = Repo.load(repo.root)  # re-read the bumped metadata
    if check.main(repo):
        return 1
    proc = subprocess.run(["towncrier", "build", "--yes", "--version", version], cwd=repo.root)
    if proc.returncode != 0:
        print("tools release: towncrier build failed")
        return 1
    if build.main(repo, out_dir, verify_sdists=True):
        return 1
    print(f"tools release: {version} is ready; review, commit and tag v{version}")
    return 0
