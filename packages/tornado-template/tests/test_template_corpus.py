"""Our engine against upstream Tornado's recorded behaviour on the corpus.

``template_corpus.py`` holds the cases; ``fixtures/template_fixtures.json``
holds what upstream Tornado 6 produced for each (recorded by
``tools/fixtures/make_template_fixtures.py``).  Output must be identical
byte for byte; errors must have the same type, message, template file and
line.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tornado import template

HERE = Path(__file__).parent


def _load_corpus() -> Any:
    spec = importlib.util.spec_from_file_location("template_corpus", HERE / "template_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("template_corpus", module)
    spec.loader.exec_module(module)
    return module


CORPUS = _load_corpus()
FIXTURES: dict[str, Any] = json.loads(
    (HERE / "fixtures" / "template_fixtures.json").read_text("utf-8")
)
CASES = {case["id"]: case for case in CORPUS.CASES}

_SET_REPR = re.compile(r"\{('[^']*'(?:, '[^']*')*)\}")


def _normalize_sets(text: str) -> str:
    """Sort the items of set reprs in a message.

    Upstream prints the blocks an ``else`` or ``break`` may belong to as a
    Python set, whose order depends on the hash seed of the process.
    """
    return _SET_REPR.sub(lambda m: "{%s}" % ", ".join(sorted(m.group(1).split(", "))), text)


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    result = dict(result)
    for key in ("message", "str"):
        if isinstance(result.get(key), str):
            result[key] = _normalize_sets(result[key])
    return result


def test_corpus_is_large_and_fully_recorded() -> None:
    assert len(CASES) == len(CORPUS.CASES), "duplicate case ids"
    assert len(CASES) >= 60
    assert set(CASES) == set(FIXTURES["cases"]), (
        "fixtures are stale: rerun tools/fixtures/make_template_fixtures.py"
    )
    assert FIXTURES["tornado_version"].startswith("6.")


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_matches_upstream(case_id: str, tmp_path: Path) -> None:
    expected = FIXTURES["cases"][case_id]
    actual = CORPUS.run_case(template, CASES[case_id], str(tmp_path))
    assert _comparable(actual) == _comparable(expected)
