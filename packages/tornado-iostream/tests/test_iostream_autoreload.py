"""tornado.autoreload in real subprocesses: a changed file re-executes the program."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tornado import autoreload

# Run 1 starts autoreload, then (after the first poll recorded the mtimes)
# gives the watched file a new mtime; autoreload must re-exec the program.
# Run 2 sees the counter and exits.  os.utime sets an explicit mtime, so no
# sleep is needed to get past the file system's timestamp resolution.
SCRIPT = textwrap.dedent(
    """
    import os, sys
    from tornado import autoreload
    from tornado.ioloop import IOLoop, PeriodicCallback

    counter, watched = sys.argv[1], sys.argv[2]
    runs = int(open(counter).read() or 0) + 1 if os.path.exists(counter) else 1
    with open(counter, "w") as f:
        f.write(str(runs))
    if runs > 1:
        print("restarted with", sys.argv[1:], flush=True)
        sys.exit(0)

    autoreload.watch(watched)
    autoreload.add_reload_hook(lambda: print("hook ran", flush=True))
    polls = 0

    def touch():
        global polls
        polls += 1
        if polls == 2:
            st = os.stat(watched)
            os.utime(watched, (st.st_atime, st.st_mtime + 10))

    async def main():
        autoreload.start(check_time=20)
        PeriodicCallback(touch, 20).start()
        await __import__("asyncio").Event().wait()

    import asyncio
    asyncio.run(main())
    """
)


def test_start_reexecutes_when_watched_file_changes(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    watched = tmp_path / "config.txt"
    watched.write_text("v1")
    counter = tmp_path / "runs"
    result = subprocess.run(
        [sys.executable, str(script), str(counter), str(watched)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "hook ran" in result.stdout
    assert f"restarted with ['{counter}', '{watched}']" in result.stdout
    assert counter.read_text() == "2"


def test_wrapper_runs_script_until_success(tmp_path: Path) -> None:
    script = tmp_path / "ok.py"
    script.write_text("import sys\nprint('args', sys.argv[1:])\n")
    result = subprocess.run(
        [sys.executable, "-m", "tornado.autoreload", "--until-success", str(script), "a", "b"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "args ['a', 'b']" in result.stdout


def test_wrapper_runs_module_until_success(tmp_path: Path) -> None:
    (tmp_path / "mymod.py").write_text("import sys\nprint('module', __name__, sys.argv[1:])\n")
    result = subprocess.run(
        [sys.executable, "-m", "tornado.autoreload", "--until-success", "-m", "mymod", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert "module __main__ ['x']" in result.stdout


def test_wrapper_without_target_prints_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tornado.autoreload"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "Usage" in result.stderr


def test_watch_and_hooks_register() -> None:
    autoreload.watch("/some/file")
    assert "/some/file" in autoreload._watched_files
    autoreload._watched_files.discard("/some/file")
