"""``tools bump VERSION``: rewrite every version and sibling pin at once.

The files are edited as text (not re-serialised TOML) so comments and
layout survive; afterwards ``tools check`` must pass.
"""

from __future__ import annotations

import re

from tools import design
from tools.repo import NAMESPACE, Repo
from tools.versioning import parse, version_info_for

_PROJECT_VERSION_RE = re.compile(r'^(version\s*=\s*")[^"]*(")', re.MULTILINE)


def _pin_re(names: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf'"({alternatives})\s*==\s*[^"]*"')


def bump(repo: Repo, new_version: str) -> list[str]:
    """Set every distribution to *new_version*; return the files changed (repo-relative).

    Raises ValueError if *new_version* is not a PEP 440 version.
    """
    parse(new_version)
    changed: list[str] = []
    pins = _pin_re(list(repo.distributions))
    for dist in repo.distributions.values():
        text = dist.pyproject.read_text(encoding="utf-8")
        new, count = _PROJECT_VERSION_RE.subn(rf"\g<1>{new_version}\g<2>", text, count=1)
        if count != 1:
            raise ValueError(f'{dist.pyproject}: no static `version = "..."` line')
        new = pins.sub(lambda m: f'"{m.group(1)}=={new_version}"', new)
        if new != text:
            dist.pyproject.write_text(new, encoding="utf-8")
            changed.append(str(dist.pyproject.relative_to(repo.root)))
    init = repo.distributions[design.NAMESPACE_OWNER].src / NAMESPACE / "__init__.py"
    text = init.read_text(encoding="utf-8")
    new = re.sub(
        r'^version\s*=\s*"[^"]*"', f'version = "{new_version}"', text, count=1, flags=re.MULTILINE
    )
    new = re.sub(
        r"^version_info\s*=\s*\([^)]*\)",
        f"version_info = {version_info_for(new_version)!r}",
        new,
        count=1,
        flags=re.MULTILINE,
    )
    if new != text:
        init.write_text(new, encoding="utf-8")
        changed.append(str(init.relative_to(repo.root)))
    return changed


def main(repo: Repo, new_version: str) -> int:
    """Bump and report; exit status 2 for an invalid version."""
    try:
        changed = bump(repo, new_version)
    except ValueError as e:
        print(f"tools bump: {e}")
        return 2
    print(f"tools bump: {new_version} ({len(changed)} file(s) changed)")
    for f in changed:
        print(f"  {f}")
    return 0
