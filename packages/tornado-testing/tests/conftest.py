"""Inner pytest sessions that load the tornado-testing plugin, run in subprocesses.

pytest's ``pytester`` plugin can only be enabled from the rootdir's conftest
(or the command line), which this package does not own, so the inner
sessions are run here with `subprocess` directly; `pytest.LineMatcher`
checks their output.  Each runs in its own folder with its own ini file,
so the monorepo's configuration does not leak in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import pytest

PLUGIN_MODULE = "tornado._pytest_plugin"


def registered_by_entry_point() -> bool:
    """Whether the installed tornado-testing declares the plugin as a ``pytest11`` entry point."""
    return any(ep.value == PLUGIN_MODULE for ep in entry_points(group="pytest11"))


@dataclass
class InnerRun:
    """The outcome of an inner pytest session."""

    ret: int
    stdout: pytest.LineMatcher
    stderr: pytest.LineMatcher

    def outcomes(self) -> dict[str, int]:
        """The counts of the final summary line (``{"passed": 2, "failed": 1}``)."""
        return pytest.RunResult.parse_summary_nouns(self.stdout.lines)

    def assert_outcomes(self, **expected: int) -> None:
        """Check the summary counts; unnamed main outcomes must be zero."""
        actual = self.outcomes()
        keys = {"passed", "failed", "errors", "skipped", *expected}
        got = {key: actual.get(key, 0) for key in keys}
        want = {key: expected.get(key, 0) for key in keys}
        assert got == want, "\n".join(self.stdout.lines[-40:])


RunInner = Callable[..., InnerRun]


@pytest.fixture
def run_inner(tmp_path: Path) -> RunInner:
    """Run ``pytest`` on a test module in a fresh folder; return an `InnerRun`.

    Call as ``run_inner(source, *args, ini=...)``.  Once tornado-testing's
    ``pytest11`` entry point is installed, pytest loads the plugin by itself
    (as users get it); in an environment installed before the entry point
    existed, ``-p`` loads it.
    """
    counter = 0

    def run(source: str, *args: str, ini: str) -> InnerRun:
        nonlocal counter
        counter += 1
        folder = tmp_path / f"run{counter}"
        folder.mkdir()
        (folder / "pytest.ini").write_text(ini)
        (folder / "test_sample.py").write_text(textwrap.dedent(source))
        plugin = [] if registered_by_entry_point() else ["-p", PLUGIN_MODULE]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                *plugin,
                "-p",
                "no:cacheprovider",
                f"--basetemp={folder / 'tmp'}",
                *args,
            ],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return InnerRun(
            proc.returncode,
            pytest.LineMatcher(proc.stdout.splitlines()),
            pytest.LineMatcher(proc.stderr.splitlines()),
        )

    return run
