"""Every public name of upstream Tornado 6.6.1 exists on ours, with the same kind and parameters.

The record (``fixtures/api_surface.json``) holds facts observed on upstream by
our own describer (``tools/api_surface.py``), made by
``python -m tools.fixtures.make_api_fixtures``.  Ours may carry more: extra
names, and extra keyword-only parameters with defaults.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import api_surface

RECORD_PATH = Path(__file__).parent / "fixtures" / "api_surface.json"


@pytest.fixture(scope="module")
def record() -> dict[str, dict[str, str]]:
    document = json.loads(RECORD_PATH.read_text(encoding="utf-8"))
    assert document["tornado_version"] == "6.6.1"
    modules: dict[str, dict[str, str]] = document["modules"]
    return modules


@pytest.fixture(scope="module")
def ours() -> dict[str, dict[str, str]]:
    return api_surface.describe()


def test_record_covers_the_module_map(record: dict[str, dict[str, str]]) -> None:
    assert set(record) == set(api_surface.MODULES)
    assert sum(len(facts) for facts in record.values()) > 1100


@pytest.mark.parametrize("modname", api_surface.MODULES)
def test_module_surface_matches_upstream(
    modname: str, record: dict[str, dict[str, str]], ours: dict[str, dict[str, str]]
) -> None:
    problems = api_surface.compare({modname: record[modname]}, ours)
    assert problems == [], "\n".join(problems)
