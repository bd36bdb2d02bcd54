"""``tools fragments``: source changes since the last release that carry no news fragment.

A release is a git tag ``v<version>``; ``towncrier build`` deletes the
fragments it consumed, so every fragment present in ``CHANGELOG.d/<dist>/``
belongs to the unreleased changes.  A distribution whose ``src/`` changed
since the last release tag (or since the first commit, before any release)
must have at least one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tools.repo import Repo

FRAGMENT_DIR = "CHANGELOG.d"


def _git(repo: Repo, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo.root, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def last_release(repo: Repo) -> str | None:
    """The newest ``v*`` tag reachable from HEAD, or None before the first release."""
    try:
        return _git(repo, "describe", "--tags", "--abbrev=0", "--match", "v*").strip() or None
    except RuntimeError:
        return None


def changed_files(repo: Repo, since: str | None) -> set[str]:
    """Repo-relative paths changed since *since* (committed, staged, unstaged or untracked)."""
    files: set[str] = set()
    if since:
        files |= set(_git(repo, "diff", "--name-only", f"{since}..HEAD").split())
    else:
        files |= (
            set(_git(repo, "ls-tree", "-r", "--name-only", "HEAD").split())
            if _has_head(repo)
            else set()
        )
    files |= set(_git(repo, "diff", "--name-only", "HEAD").split()) if _has_head(repo) else set()
    files |= set(_git(repo, "ls-files", "--others", "--exclude-standard").split())
    return files


def _has_head(repo: Repo) -> bool:
    try:
        _git(repo, "rev-parse", "--verify", "HEAD")
    except RuntimeError:
        return False
    return True


def fragments_for(repo: Repo, dist_name: str) -> list[Path]:
    """The news fragments waiting in *dist_name*'s section."""
    folder = repo.root / FRAGMENT_DIR / dist_name
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def missing_fragments(repo: Repo, since: str | None) -> list[str]:
    """Distributions whose source changed since *since* with no fragment, as messages."""
    changed = changed_files(repo, since)
    problems: list[str] = []
    for name, dist in sorted(repo.distributions.items()):
        src = str(dist.src.relative_to(repo.root)) + "/"
        # The empty py.typed marker is packaging, not a change users see.
        touched = sorted(f for f in changed if f.startswith(src) and not f.endswith("/py.typed"))
        if touched and not fragments_for(repo, name):
            problems.append(
                f"{name}: {len(touched)} source file(s) changed since "
                f"{since or 'the first commit'} but {FRAGMENT_DIR}/{name}/ has no fragment"
            )
    return problems


def main(repo: Repo, since: str | None) -> int:
    """Report missing fragments; exit status 1 when there are any."""
    ref = since or last_release(repo)
    try:
        problems = missing_fragments(repo, ref)
    except RuntimeError as e:
        print(f"tools fragments: {e}")
        return 1
    if problems:
        print(f"tools fragments: {len(problems)} distribution(s) changed without a news fragment")
        for p in problems:
            print(f"  - {p}")
        return 1
    print(f"tools fragments: OK (since {ref or 'the first commit'})")
    return 0
