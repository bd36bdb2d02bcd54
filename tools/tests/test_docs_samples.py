"""Every code sample of the guides (``docs/samples/``) runs, and does what the page says.

A sample declares what running it shows, in comments the guides display:

* ``# output: <line>``: a script; run it, and these lines must appear in its
  standard output, in this order (other lines may come between them);
* ``# expect: <METHOD> <path> -> <text>``: a server; start it on a free port
  (its first argument), wait for its ``serving on`` line, send each request,
  and the response body must contain ``<text>`` (or, for a three-digit
  ``<text>``, the response status must be it);
* ``test_*.py``: a test module; it must pass under the runner it is written
  for (``unittest`` or pytest with the tornado-testing plugin).

Each sample runs in a subprocess of this interpreter, with a copy of the
samples folder as its working directory, so the pages show exactly what
runs.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "docs" / "samples"
ALL = sorted(p.name for p in SAMPLES.glob("*.py"))

_OUTPUT = re.compile(r"^# output: (.*)$", re.M)
_EXPECT = re.compile(r"^# expect: (GET|POST) (\S+) -> (.*)$", re.M)
# A safety net for a sample that hangs, not a measurement: every sample
# finishes in about a second.
_LIMIT = 120


def _kind(name: str) -> str:
    text = (SAMPLES / name).read_text(encoding="utf-8")
    if name.startswith("test_"):
        return "test"
    if _EXPECT.search(text):
        return "server"
    if _OUTPUT.search(text):
        return "script"
    return "import"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    target = tmp_path / "samples"
    shutil.copytree(SAMPLES, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_every_sample_is_shown_on_a_page() -> None:
    pages = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (REPO / "docs").rglob("*")
        if p.suffix in (".md", ".rst")
    )
    unshown = [name for name in ALL if f"samples/{name}" not in pages]
    assert unshown == []


def test_every_sample_declares_what_it_does() -> None:
    # A sample with nothing to check would only be imported: allowed only for
    # one that needs outside credentials (it says so in its docstring).
    imported_only = [name for name in ALL if _kind(name) == "import"]
    for name in imported_only:
        assert "only imports" in (SAMPLES / name).read_text(encoding="utf-8"), name


@pytest.mark.parametrize("name", [n for n in ALL if _kind(n) == "script"])
def test_script_sample(name: str, workdir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, name], cwd=workdir, capture_output=True, text=True, timeout=_LIMIT
    )
    assert proc.returncode == 0, proc.stderr
    wanted = _OUTPUT.findall((SAMPLES / name).read_text(encoding="utf-8"))
    lines = iter(line.rstrip() for line in proc.stdout.splitlines())
    for want in wanted:
        assert any(line == want for line in lines), (
            f"{name}: {want!r} missing (in order) from:\n{proc.stdout}"
        )


def _request(method: str, url: str) -> tuple[int, str]:
    data = b"x=1" if method == "POST" else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method)) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


@pytest.fixture
def server(workdir: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    name: str = request.param
    port = _free_port()
    log = (workdir / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, name, str(port)],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert proc.stdout is not None
        # The sample prints this line once it listens; EOF means it died.
        first = proc.stdout.readline()
        assert first.startswith("serving on"), (first, (workdir / "server.log").read_text())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=_LIMIT)
        if proc.stdout is not None:
            proc.stdout.close()
        log.close()


@pytest.mark.parametrize("server", [n for n in ALL if _kind(n) == "server"], indirect=True, ids=str)
def test_server_sample(server: str, request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.params["server"]
    for method, path, want in _EXPECT.findall((SAMPLES / name).read_text(encoding="utf-8")):
        status, body = _request(method, server + path)
        if re.fullmatch(r"\d{3}", want):
            assert status == int(want), (method, path, status, body)
        else:
            assert status == 200 and want in body, (method, path, status, body)


@pytest.mark.parametrize("name", [n for n in ALL if _kind(n) == "test"])
def test_test_sample(name: str, workdir: Path) -> None:
    module = name.removesuffix(".py")
    if "unittest" in name:
        command = [sys.executable, "-m", "unittest", "-v", module]
    else:
        # Plain pytest in a folder without configuration, as a user runs it;
        # the tornado-testing plugin is registered by its entry point.
        (workdir / "pytest.ini").write_text(
            "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        )
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", name]
    proc = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=_LIMIT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"Ran [1-9]\d* tests|[1-9]\d* passed", proc.stdout + proc.stderr)


def test_import_only_sample_builds_its_app(workdir: Path) -> None:
    # auth_google.py cannot sign in without credentials; check it imports
    # and builds its application.
    proc = subprocess.run(
        [sys.executable, "-c", "import auth_google; auth_google.make_app()"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=_LIMIT,
    )
    assert proc.returncode == 0, proc.stderr
