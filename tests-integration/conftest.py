"""Fixtures for the install-isolation tests: wheels built once, fresh venvs per test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tools.build import build_distribution
from tools.repo import Repo
from tools.venvs import Venv

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Repo:
    """The repository under test."""
    return Repo.load(ROOT)


@pytest.fixture(scope="session")
def wheelhouse(repo: Repo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the wheel (and sdist) of every distribution, built from this checkout."""
    out = tmp_path_factory.mktemp("wheelhouse")
    for dist in repo.distributions.values():
        build_distribution(dist, out)
    return out


@pytest.fixture
def make_venv(wheelhouse: Path, tmp_path: Path) -> Callable[[], Venv]:
    """Factory of fresh environments that install from the wheelhouse alone."""
    count = 0

    def make() -> Venv:
        nonlocal count
        count += 1
        return Venv.create(tmp_path / f"venv{count}", find_links=wheelhouse)

    return make
