"""The conformance harness on a fake upstream test folder."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from tools.conformance import harness
from tools.repo import Repo

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = textwrap.dedent("""\
    import unittest

    class Sample(unittest.TestCase):
        def test_passes(self):
            self.assertEqual(1 + 1, 2)

        def test_fails(self):
            self.assertEqual(1 + 1, 3)

        @unittest.skip("not here")
        def test_skipped(self):
            pass

        def test_errors(self):
            raise RuntimeError("boom")

        def test_subtests(self):
            for i in range(3):
                with self.subTest(i=i):
                    self.assertNotEqual(i, 1)
    """)


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    """A fake extracted upstream folder: tornado/test with three modules."""
    folder = tmp_path / "upstream"
    tests = folder / "tornado" / "test"
    tests.mkdir(parents=True)
    (tests / "__init__.py").write_text("")
    (tests / "sample_test.py").write_text(SAMPLE)
    (tests / "broken_test.py").write_text("import tornado.no_such_module\n")
    (tests / "helper.py").write_text("x = 1\n")  # not a *_test module: not run
    return folder


def _run(
    upstream: Path, tmp_path: Path, known: str, *modules: str, timeout: float = 120
) -> tuple[int, dict[str, dict[str, object]]]:
    known_file = tmp_path / "known.txt"
    known_file.write_text(known)
    report = tmp_path / "report.json"
    status = harness.main(Repo.load(ROOT), upstream, list(modules), timeout, report, known_file)
    return status, json.loads(report.read_text())


def test_counts_and_unlisted_failures(
    upstream: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, report = _run(upstream, tmp_path, "")
    out = capsys.readouterr().out
    assert status == 1
    assert "conformance: 1 passed, 2 failed, 2 errors, 1 skipped of 6" in out
    sample = report["tornado.test.sample_test"]
    assert (sample["passed"], sample["failed"], sample["errors"], sample["skipped"]) == (1, 2, 1, 1)
    assert sample["failing"] == [
        "tornado.test.sample_test.Sample.test_errors",
        "tornado.test.sample_test.Sample.test_fails",
        "tornado.test.sample_test.Sample.test_subtests",
    ]
    assert report["tornado.test.broken_test"]["failing"] == ["tornado.test.broken_test"]
    assert "No module named 'tornado.no_such_module'" in str(
        report["tornado.test.broken_test"]["import_error"]
    )
    assert "NEW FAILURE (not in known.txt): tornado.test.sample_test.Sample.test_fails" in out
    assert set(report) == {"tornado.test.sample_test", "tornado.test.broken_test"}


def test_listed_failures_make_it_green(upstream: Path, tmp_path: Path) -> None:
    known = (
        "tornado.test.sample_test.Sample.test_fails  # asserts arithmetic we disagree with\n"
        "tornado.test.sample_test.Sample.test_errors  # raises on purpose\n"
        "tornado.test.sample_test.Sample.test_subtests  # one subtest fails on purpose\n"
        "tornado.test.broken_test  # imports a module nobody ships\n"
    )
    status, _ = _run(upstream, tmp_path, known)
    assert status == 0


def test_listed_test_that_passes_fails_the_run(
    upstream: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    known = (
        "tornado.test.sample_test.Sample.test_fails  # x\n"
        "tornado.test.sample_test.Sample.test_errors  # x\n"
        "tornado.test.sample_test.Sample.test_subtests  # x\n"
        "tornado.test.sample_test.Sample.test_passes  # stale entry\n"
    )
    status, _ = _run(upstream, tmp_path, known, "tornado.test.sample_test")
    assert status == 1
    assert (
        "NOW PASSES (remove it from known.txt): tornado.test.sample_test.Sample.test_passes"
        in capsys.readouterr().out
    )


def test_flaky_entry_may_pass(upstream: Path, tmp_path: Path) -> None:
    known = (
        "tornado.test.sample_test.Sample.test_fails  # x\n"
        "tornado.test.sample_test.Sample.test_errors  # x\n"
        "tornado.test.sample_test.Sample.test_subtests  # x\n"
        "tornado.test.sample_test.Sample.test_passes  # [flaky] depends on timing\n"
    )
    status, _ = _run(upstream, tmp_path, known, "tornado.test.sample_test")
    assert status == 0


def test_known_failure_without_reason_is_refused(upstream: Path, tmp_path: Path) -> None:
    status, _ = _run(upstream, tmp_path, "tornado.test.broken_test\n", "tornado.test.broken_test")
    assert status == 1


def test_hanging_module_is_stopped_and_reported(upstream: Path, tmp_path: Path) -> None:
    (upstream / "tornado/test/hang_test.py").write_text(
        textwrap.dedent("""\
        import threading, unittest

        class Hang(unittest.TestCase):
            def test_hangs(self):
                threading.Event().wait()
        """)
    )
    status, report = _run(upstream, tmp_path, "", "tornado.test.hang_test", timeout=3)
    assert status == 1
    assert report["tornado.test.hang_test"]["timed_out"] is True


def test_refuses_when_tornado_test_is_not_upstream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "nothing"
    empty.mkdir()
    (status,) = (
        harness.main(
            Repo.load(ROOT),
            empty,
            ["tornado.test.x_test"],
            10,
            tmp_path / "r.json",
            harness.KNOWN_FAILURES,
        ),
    )
    assert status == 1
    assert "refusing to run" in capsys.readouterr().out


def test_baseline_comparison_counts_upstream_passes_only(
    upstream: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A second fake folder plays upstream: there, test_fails passes and
    # test_passes is skipped.
    other = tmp_path / "other"
    tests = other / "tornado" / "test"
    tests.mkdir(parents=True)
    (tests / "__init__.py").write_text("")
    (tests / "sample_test.py").write_text(
        SAMPLE.replace("self.assertEqual(1 + 1, 3)", "pass").replace(
            "def test_passes(self):",
            "@unittest.skip('upstream skips it')\n    def test_passes(self):",
        )
    )
    known_file = tmp_path / "known.txt"
    known_file.write_text("")
    status = harness.main(
        Repo.load(ROOT),
        upstream,
        ["tornado.test.sample_test"],
        120,
        tmp_path / "report.json",
        known_file,
        baseline=Path(sys.executable),
        baseline_path=other,
    )
    out = capsys.readouterr().out
    assert status == 1
    assert "upstream: 1 passed, 1 failed, 1 errors, 2 skipped of 5" in out
    # Upstream passes only test_fails, which fails on ours: 0 of 1.
    assert (
        "conformance vs upstream: 0 of the 1 tests upstream passes here pass on ours (0.0%)" in out
    )
    assert "  tornado.test.sample_test: 0 of 1 (0.0%)" in out
    baseline = json.loads((tmp_path / "baseline.json").read_text())
    assert baseline["tornado.test.sample_test"]["passing"] == [
        "tornado.test.sample_test.Sample.test_fails"
    ]


def test_coverage_treats_a_module_that_does_not_import_as_zero() -> None:
    ours = [
        harness.ModuleResult("tornado.test.a_test", {"t.a.x": "passed", "t.a.y": "failed"}),
        harness.ModuleResult("tornado.test.b_test", import_error="ImportError: nope"),
    ]
    upstream = [
        harness.ModuleResult("tornado.test.a_test", {"t.a.x": "passed", "t.a.y": "passed"}),
        harness.ModuleResult("tornado.test.b_test", {"t.b.x": "passed", "t.b.z": "skipped"}),
    ]
    result = harness.coverage(ours, upstream)
    assert (result.covered, result.upstream_passed) == (1, 3)
    assert result.per_module == {"tornado.test.a_test": (1, 2), "tornado.test.b_test": (0, 1)}
    assert result.lines() == [
        "conformance vs upstream: 1 of the 3 tests upstream passes here pass on ours (33.3%)",
        "  tornado.test.b_test: 0 of 1 (0.0%)",
        "  tornado.test.a_test: 1 of 2 (50.0%)",
    ]


def test_failure_that_passes_on_a_rerun_is_reported_as_flaky(
    upstream: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran-once"
    (upstream / "tornado/test/timing_test.py").write_text(
        textwrap.dedent(f"""\
            import os, unittest

            class Timing(unittest.TestCase):
                def test_first_run_fails(self):
                    first = not os.path.exists({str(marker)!r})
                    open({str(marker)!r}, "w").close()
                    self.assertFalse(first, "too slow this time")

                def test_always_fails(self):
                    self.fail("really broken")
            """)
    )
    status, report = _run(upstream, tmp_path, "", "tornado.test.timing_test")
    out = capsys.readouterr().out
    assert status == 1  # test_always_fails still fails on its rerun
    assert (
        "FLAKY (failed, then passed when rerun alone): tornado.test.timing_test.Timing.test_first_run_fails"
        in out
    )
    assert (
        "NEW FAILURE (not in known.txt): tornado.test.timing_test.Timing.test_always_fails" in out
    )
    assert (
        "NEW FAILURE (not in known.txt): tornado.test.timing_test.Timing.test_first_run_fails"
        not in out
    )
    # The report keeps what the full run saw.
    assert report["tornado.test.timing_test"]["failed"] == 2


def test_short_module_names_and_api_test_module_list(upstream: Path, tmp_path: Path) -> None:
    # Upstream's api_test adds tornado.websocket and tornado.wsgi to
    # tornado.__all__ by hand; ours lists them already, and the runner
    # deduplicates the list so the snapshot comparison is like with like.
    (upstream / "tornado" / "test" / "api_test.py").write_text(
        textwrap.dedent("""\
            import unittest
            import tornado

            MODULES = sorted(
                ["tornado"] + [f"tornado.{n}" for n in tornado.__all__]
                + ["tornado.websocket", "tornado.wsgi"]
            )

            class Snapshot(unittest.TestCase):
                def test_no_duplicates(self):
                    self.assertIn("tornado.wsgi", MODULES)
                    self.assertEqual(len(MODULES), len(set(MODULES)))
            """)
    )
    status, report = _run(upstream, tmp_path, "", "api_test")
    assert status == 0
    assert report["tornado.test.api_test"]["passed"] == 1
