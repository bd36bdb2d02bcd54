"""Tests of ``tools fragments``, ``tools release``'s guard and ``tools build``'s validation."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from tools import build, fragments, release
from tools.repo import Repo


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A two-distribution repository with one commit and a v1.0 release tag."""
    root = tmp_path / "r"
    for name in ("tornado-core", "tornado-web"):
        pkg = root / "packages" / name
        (pkg / "src/tornado").mkdir(parents=True)
        (pkg / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "1.0"\n')
        (pkg / "src/tornado/mod.py").write_text("x = 1\n")
    (root / "hatch.toml").write_text("")
    (root / "CHANGELOG.d").mkdir()
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    _git(root, "tag", "v1.0")
    return root


def test_no_changes_since_release_is_clean(git_repo: Path) -> None:
    repo = Repo.load(git_repo)
    assert fragments.last_release(repo) == "v1.0"
    assert fragments.missing_fragments(repo, "v1.0") == []
    assert release.is_dirty(git_repo) is False


def test_source_change_without_fragment_is_reported(git_repo: Path) -> None:
    (git_repo / "packages/tornado-web/src/tornado/mod.py").write_text("x = 2\n")
    repo = Repo.load(git_repo)
    assert fragments.missing_fragments(repo, "v1.0") == [
        "tornado-web: 1 source file(s) changed since v1.0 but CHANGELOG.d/tornado-web/ has no fragment"
    ]
    assert fragments.main(repo, None) == 1
    assert release.is_dirty(git_repo) is True
    (git_repo / "CHANGELOG.d/tornado-web").mkdir()
    (git_repo / "CHANGELOG.d/tornado-web/5.bugfix.md").write_text("Fixed x.\n")
    assert fragments.missing_fragments(repo, "v1.0") == []


def test_release_refuses_a_dirty_tree(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (git_repo / "untracked.txt").write_text("x")
    assert release.main(Repo.load(git_repo), "1.1", None) == 1
    assert "dirty" in capsys.readouterr().out
    # Nothing was bumped.
    assert 'version = "1.0"' in (git_repo / "packages/tornado-core/pyproject.toml").read_text()


def _wheel(path: Path, metadata: str) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("x-1.0.dist-info/METADATA", metadata)
        zf.writestr("x-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
        zf.writestr("x-1.0.dist-info/RECORD", "")
    return path


GOOD_METADATA = (
    "Metadata-Version: 2.4\nName: x\nVersion: 1.0\nSummary: s\nRequires-Python: >=3.11\n"
    "Description-Content-Type: text/markdown\n\n# x\n\nreadme\n"
)


def test_validate_wheel_accepts_complete_metadata(tmp_path: Path) -> None:
    assert build.validate_wheel(_wheel(tmp_path / "x-1.0-py3-none-any.whl", GOOD_METADATA)) == []


def test_validate_wheel_reports_missing_readme_and_wrong_name(tmp_path: Path) -> None:
    meta = (
        GOOD_METADATA.replace("Description-Content-Type: text/markdown\n", "").split("\n\n")[0]
        + "\n"
    )
    problems = build.validate_wheel(_wheel(tmp_path / "y-1.0-py3-none-any.whl", meta))
    assert "y-1.0-py3-none-any.whl: metadata says x 1.0, file name says y 1.0" in problems
    assert "y-1.0-py3-none-any.whl: no long description (README)" in problems
    assert any("Description-Content-Type is None" in p for p in problems)


def test_validate_wheel_reports_invalid_metadata(tmp_path: Path) -> None:
    meta = GOOD_METADATA.replace("Version: 1.0", "Version: not a version")
    problems = build.validate_wheel(_wheel(tmp_path / "x-1.0-py3-none-any.whl", meta))
    assert len(problems) == 1 and "invalid metadata" in problems[0]
