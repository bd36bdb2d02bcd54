"""tornado.process: Subprocess with real child processes, fork_processes in a real subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tornado.iostream import StreamClosedError
from tornado.process import CalledProcessError, Subprocess, cpu_count, task_id

PY = sys.executable


def test_cpu_count_and_task_id() -> None:
    assert cpu_count() >= 1
    assert task_id() is None


@pytest.mark.asyncio
async def test_subprocess_stdin_stdout_streams() -> None:
    proc = Subprocess(
        [PY, "-u", "-c", "import sys\nfor line in sys.stdin: print(line.strip().upper())"],
        stdin=Subprocess.STREAM,
        stdout=Subprocess.STREAM,
    )
    try:
        await proc.stdin.write(b"hello\n")
        assert await proc.stdout.read_until(b"\n") == b"HELLO\n"
        await proc.stdin.write(b"world\n")
        assert await proc.stdout.read_until(b"\n") == b"WORLD\n"
        proc.stdin.close()
        assert await proc.stdout.read_until_close() == b""
        assert await proc.wait_for_exit() == 0
        assert proc.returncode == 0
    finally:
        proc.stdin.close()
        proc.stdout.close()


@pytest.mark.asyncio
async def test_subprocess_stderr_stream() -> None:
    proc = Subprocess(
        [PY, "-c", "import sys; sys.stderr.write('oops'); sys.exit(3)"], stderr=Subprocess.STREAM
    )
    try:
        assert await proc.stderr.read_until_close() == b"oops"
        with pytest.raises(CalledProcessError) as info:
            await proc.wait_for_exit()
        assert info.value.returncode == 3
    finally:
        proc.stderr.close()


@pytest.mark.asyncio
async def test_wait_for_exit_without_raise_and_exit_callback() -> None:
    proc = Subprocess([PY, "-c", "raise SystemExit(7)"])
    assert await proc.wait_for_exit(raise_error=False) == 7
    other = Subprocess([PY, "-c", "pass"])
    done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    other.set_exit_callback(done.set_result)
    assert await done == 0


@pytest.mark.asyncio
async def test_killed_subprocess_reports_negative_signal() -> None:
    proc = Subprocess(
        [PY, "-c", "import time\nwhile True: time.sleep(1)"], stdout=Subprocess.STREAM
    )
    try:
        exit_code = proc.wait_for_exit(raise_error=False)
        proc.proc.send_signal(signal.SIGTERM)
        assert await exit_code == -signal.SIGTERM
        # The child's end of the pipe closed with it.
        with pytest.raises(StreamClosedError):
            await proc.stdout.read_bytes(1)
    finally:
        proc.stdout.close()


@pytest.mark.asyncio
async def test_many_subprocesses_exit_concurrently() -> None:
    procs = [Subprocess([PY, "-c", f"raise SystemExit({i})"]) for i in range(5)]
    codes = await asyncio.gather(*(p.wait_for_exit(raise_error=False) for p in procs))
    assert codes == [0, 1, 2, 3, 4]


@pytest.mark.asyncio
async def test_sigchld_handler_reaps_and_uninitialize_restores() -> None:
    before = signal.getsignal(signal.SIGCHLD)
    Subprocess.initialize()
    try:
        assert signal.getsignal(signal.SIGCHLD) is not before
        proc = Subprocess([PY, "-c", "raise SystemExit(4)"])
        assert await proc.wait_for_exit(raise_error=False) == 4
    finally:
        Subprocess.uninitialize()
    assert signal.getsignal(signal.SIGCHLD) == before
    assert not Subprocess._initialized


def test_subprocess_popen_errors_close_pipes() -> None:
    before = set(os.listdir("/proc/self/fd"))

    async def main() -> None:
        with pytest.raises(FileNotFoundError):
            Subprocess(["/nonexistent/program"], stdin=Subprocess.STREAM, stdout=Subprocess.STREAM)

    asyncio.run(main())
    assert set(os.listdir("/proc/self/fd")) <= before


FORK_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from tornado.process import fork_processes, task_id
    out = sys.argv[1]
    marker = os.path.join(out, "crashed-once")
    tid = fork_processes(3, max_restarts=5)
    assert tid == task_id()
    with open(os.path.join(out, "child-%d-%d" % (tid, os.getpid())), "w"):
        pass
    if tid == 1 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)   # an abnormal exit: the parent restarts task 1
    sys.exit(0)
    """
)


def test_fork_processes_runs_children_and_restarts_failed_one(tmp_path: Path) -> None:
    script = tmp_path / "fork.py"
    script.write_text(FORK_SCRIPT)
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run([PY, str(script), str(out)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir() if p.name.startswith("child-"))
    ids = sorted(int(n.split("-")[1]) for n in names)
    # Tasks 0, 1, 2 once each, plus task 1 again after its crash.
    assert ids == [0, 1, 1, 2]


def test_fork_processes_gives_up_after_max_restarts(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(
        "import os\nfrom tornado.process import fork_processes\n"
        "fork_processes(2, max_restarts=2)\nos._exit(1)\n"
    )
    result = subprocess.run([PY, str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Too many child restarts" in result.stderr
