"""Run one upstream test module and write its per-test outcomes as JSON.

Usage: ``python run_module.py MODULE OUTPUT.json [TEST_ID ...]`` with the extracted
upstream folder on ``PYTHONPATH``.  Standard library only (besides the code
under test), because it runs in a child interpreter.

The environment mirrors how upstream runs its suite: deprecation and
resource warnings raised by ``tornado`` code are errors, logging goes to
stderr, and tests run through ``unittest``.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time
import traceback
import types
import unittest
import warnings
from types import TracebackType
from typing import TypeAlias

ExcInfo: TypeAlias = (
    tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]
)


class RecordingResult(unittest.TestResult):
    """A TestResult that remembers every test id with its outcome."""

    def __init__(self) -> None:
        super().__init__()
        self.outcomes: dict[str, str] = {}
        self.details: dict[str, str] = {}

    def _set(self, test: unittest.TestCase, outcome: str, detail: str = "") -> None:
        test_id = test.id()
        # A failing tearDown or subTest and a pass report the same id: the worse wins.
        if self.outcomes.get(test_id) in ("failed", "error") and outcome == "passed":
            return
        self.outcomes[test_id] = outcome
        if detail:
            self.details[test_id] = detail[-2000:]

    def addSuccess(self, test: unittest.TestCase) -> None:
        super().addSuccess(test)
        self._set(test, "passed")

    def addFailure(self, test: unittest.TestCase, err: ExcInfo) -> None:
        super().addFailure(test, err)
        self._set(test, "failed", "".join(traceback.format_exception(*err)))

    def addError(self, test: unittest.TestCase, err: ExcInfo) -> None:
        super().addError(test, err)
        self._set(test, "error", "".join(traceback.format_exception(*err)))

    def addSubTest(
        self, test: unittest.TestCase, subtest: unittest.TestCase, err: ExcInfo | None
    ) -> None:
        # A failing subTest fails its test; without this the test would end
        # with no outcome at all (unittest reports no addSuccess for it).
        super().addSubTest(test, subtest, err)
        if err is not None and err[0] is not None:
            outcome = "failed" if issubclass(err[0], test.failureException) else "error"
            self._set(
                test, outcome, f"{subtest.id()}:\n" + "".join(traceback.format_exception(*err))
            )

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        self._set(test, "skipped", reason)

    def addExpectedFailure(self, test: unittest.TestCase, err: ExcInfo) -> None:
        super().addExpectedFailure(test, err)
        self._set(test, "passed")

    def addUnexpectedSuccess(self, test: unittest.TestCase) -> None:
        super().addUnexpectedSuccess(test)
        self._set(test, "failed", "unexpected success")


def _compare_like_with_like(module: str, imported: types.ModuleType) -> None:
    """Adapt an upstream test module to a difference of its branch, not of our code.

    Upstream's ``api_test`` builds its module list from ``tornado.__all__`` and
    adds ``tornado.websocket`` and ``tornado.wsgi`` by hand, because the 6.6
    branch's ``__all__`` omits them (the test's own comment says so).  Ours
    lists them, so the same two names would appear twice; the list the test
    means is the set of modules, so it is deduplicated.  Nothing else changes.
    """
    if module == "tornado.test.api_test":
        names = getattr(imported, "MODULES", None)
        if isinstance(names, list):
            setattr(imported, "MODULES", sorted(set(names)))  # noqa: B010 (a module of unknown type)


def main(module: str, output: str, *only: str) -> int:
    """Load and run *module* (or only the test ids *only* of it); write
    ``{"outcomes": ..., "details": ..., "import_error": ...}``."""
    warnings.filterwarnings("error", category=DeprecationWarning, module=r"tornado\.")
    warnings.filterwarnings("error", category=ResourceWarning)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    logging.getLogger("tornado.access").setLevel(logging.CRITICAL)
    report: dict[str, object] = {
        "module": module,
        "outcomes": {},
        "details": {},
        "import_error": None,
    }
    start = time.monotonic()
    try:
        # Import first: unittest's loader would turn an import error into a
        # synthetic test with an unrelated id.
        imported = importlib.import_module(module)
        _compare_like_with_like(module, imported)
        loader = unittest.defaultTestLoader
        suite = loader.loadTestsFromNames(only) if only else loader.loadTestsFromModule(imported)
    except Exception:
        report["import_error"] = traceback.format_exc()[-4000:]
    else:
        result = RecordingResult()
        suite.run(result)
        report["outcomes"] = result.outcomes
        report["details"] = result.details
    report["seconds"] = round(time.monotonic() - start, 2)
    with open(output, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], *sys.argv[3:]))
