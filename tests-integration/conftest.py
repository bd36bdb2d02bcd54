"""Fixtures for the install-isolation tests: wheels built once, fresh venvs per test."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
    """A folder with the wheel (and sdist) of every distribution, built from this
    checkout, and the wheels of the third-party packages they require (e.g.
    tornado-http2's h2), downloaded from the package index: environments
    install from this folder alone, so no sibling ever comes from the index."""
    out = tmp_path_factory.mktemp("wheelhouse")
    for dist in repo.distributions.values():
        build_distribution(dist, out)
    third_party = sorted(
        {
            str(requirement)
            for dist in repo.distributions.values()
            for requirement in dist.requirements
            if requirement.name not in repo.distributions
        }
    )
    if third_party:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
             "--dest", str(out), *third_party],
            check=True,
        )  # fmt: skip
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


# --- Production recipes (test_production_*.py): real peers on free ports ---


def _free_port() -> int:
    # For peers that cannot be told "port 0" and report back (redis-server,
    # nginx, gunicorn): ask the kernel for a free port and release it.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def free_port() -> Callable[[], int]:
    """Factory of free TCP port numbers on 127.0.0.1."""
    return _free_port


def _require_binary(name: str) -> str:
    # Skip only when the peer program is not installed (CI installs it
    # through .ci/run); any other failure to start it fails the test.
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package {name}; .ci/run installs it)")
    return path


def _stop_group(proc: subprocess.Popen[str]) -> None:
    # Each peer runs in its own session: signalling the group reaches the
    # workers it forked too.
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real redis-server on a free port, without persistence; its URL."""
    binary = _require_binary("redis-server")
    port = _free_port()
    proc = subprocess.Popen(
        # No persistence (--save '' --appendonly no): nothing outlives the test.
        [
            *(binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        # redis-server logs this line once it listens.
        for line in proc.stdout:
            if "Ready to accept connections" in line:
                break
        else:
            pytest.fail(f"redis-server exited with {proc.wait()} before listening")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop_group(proc)


class ChatDemo:
    """A running demos/chat/app.py (one process or a parent with workers)."""

    def __init__(self, proc: subprocess.Popen[str], port: int, pids: list[int], log: Path) -> None:
        self.proc = proc
        #: The port it listens on.
        self.port = port
        #: The pids of the processes that serve (the workers, or the one process).
        self.pids = pids
        #: Its standard error.
        self.log = log


@pytest.fixture
def chat_demo(tmp_path: Path) -> Iterator[Callable[..., ChatDemo]]:
    """Factory: start the chat demo (or ``demo="websocket_chat"``) with
    extra command-line arguments and wait until every process serves; all are stopped afterwards, and none
    may have printed a traceback."""
    started: list[ChatDemo] = []

    def start(*args: str, demo: str = "chat") -> ChatDemo:
        log = tmp_path / f"{demo}{len(started)}.log"
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, str(ROOT / "demos" / demo / "app.py"), "--port", "0", *args],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                start_new_session=True,
            )
        assert proc.stdout is not None
        first = proc.stdout.readline()
        banner = r"(?:serving on|websocket chat on) http://[^:]+:(\d+)/(?: with (\d+) processes)?$"
        match = re.match(banner, first)
        assert match is not None, first + log.read_text()
        port, workers = int(match.group(1)), match.group(2)
        pids = [proc.pid]
        if workers is not None:
            # Each worker reports once it is subscribed and serving.
            pids = []
            for _ in range(int(workers)):
                line = proc.stdout.readline()
                ready = re.match(r"process \d+ pid (\d+) ready on port (\d+)$", line)
                assert ready is not None and int(ready.group(2)) == port, line + log.read_text()
                pids.append(int(ready.group(1)))
        running = ChatDemo(proc, port, pids, log)
        started.append(running)
        return running

    yield start
    for demo in started:
        _stop_group(demo.proc)
    for demo in started:
        # The demo logs at WARNING and up: a 5xx answer or a bus failure
        # would show as ERROR.
        log = demo.log.read_text()
        assert "Traceback" not in log and "ERROR" not in log, log


@pytest.fixture
def peer_binary() -> Callable[[str], str]:
    """Look up a peer program (nginx, redis-server, ...): its path, or skip
    the test when it is not installed."""
    return _require_binary


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Factory: start a command in its own session (text pipes as given);
    every process group started is stopped afterwards."""
    started: list[subprocess.Popen[str]] = []

    def start(command: list[str], **kwargs: Any) -> subprocess.Popen[str]:
        proc = subprocess.Popen(command, text=True, start_new_session=True, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        _stop_group(proc)
