"""The sample project (tests-integration/sample_project) runs under plain pytest.

It is written the way a user would: an application module and a tests
folder, one file using the pytest plugin's fixtures and one using
`AsyncHTTPTestCase`.  It is run as a stand-alone pytest session, in a fresh
environment where only the meta-package (and pytest) is installed: the
plugin must come with tornado-testing's entry point alone.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.build import uv_command
from tools.venvs import Venv

SAMPLE = Path(__file__).resolve().parent / "sample_project"
EXPECTED_TESTS = 12


def copy_sample(destination: Path) -> Path:
    """Copy the user's files of the sample (not the guard conftest at its root)."""
    project = destination / "greeter"
    shutil.copytree(
        SAMPLE,
        project,
        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "conftest.py"),
    )
    # The tests folder's conftest (the `app` fixture) belongs to the sample.
    shutil.copy(SAMPLE / "tests" / "conftest.py", project / "tests" / "conftest.py")
    return project


def run_pytest(python: Path | str, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pytest", "-v", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.integration
def test_sample_project_with_only_the_meta_package(
    make_venv: Callable[[], Venv], tmp_path: Path
) -> None:
    venv = make_venv()
    venv.install("tornado")
    # pytest itself, from uv's cache (the workspace environment put it there):
    # these tests install nothing from the network.
    subprocess.run(
        [
            *uv_command(),
            "pip",
            "install",
            "--quiet",
            "--offline",
            "--python",
            str(venv.python),
            "pytest",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    installed = venv.installed()
    assert "tornado-testing" in installed
    assert not {"pytest-asyncio", "pytest-tornado", "pytest-tornasync"} & set(installed)

    project = copy_sample(tmp_path)
    proc = run_pytest(venv.python, project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{EXPECTED_TESTS} passed" in proc.stdout
    assert "tornado-testing" in proc.stdout  # listed among the plugins


def test_sample_project_reports_a_broken_app(tmp_path: Path) -> None:
    """The same project in the workspace environment, with a bug planted in the app."""
    project = copy_sample(tmp_path)
    source = project / "greeter.py"
    source.write_text(source.read_text().replace('"Hello, " + ', '"Bye, " + '))
    # pytest-asyncio is installed in the workspace; the sample does not use it.
    proc = run_pytest(sys.executable, project, "-p", "no:asyncio")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "tests/test_with_fixtures.py::test_hello FAILED" in proc.stdout
    assert "tests/test_unittest_style.py::GreeterTest::test_hello FAILED" in proc.stdout
    assert "passed" in proc.stdout
