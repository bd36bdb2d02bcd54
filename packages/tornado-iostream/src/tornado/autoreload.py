"""Restart the process when a source file changes (a development aid).

`start` polls the files of every imported module (and those given to
`watch`) from the current IOLoop; when one changes, the reload hooks run
and the process re-executes itself with the same command line.

Run a script under it from outside, so that even a script that fails at
import time is restarted once it is fixed::

    python -m tornado.autoreload path/to/script.py [args...]
    python -m tornado.autoreload -m package.module [args...]

``--until-success`` stops waiting for changes once the script exits
cleanly.  Reloading is disabled in workers forked by
`tornado.process.fork_processes`: re-executing would lose the listening
sockets they share.
"""

from __future__ import annotations

import functools
import os
import runpy
import sys
import traceback
import types
import weakref
from collections.abc import Callable
from typing import Any

from tornado import ioloop, process
from tornado.log import gen_log

__all__ = ["add_reload_hook", "main", "start", "wait", "watch"]

# As in Tornado: the module, or None on a platform without it.
try:
    import signal
except ImportError:
    signal = None  # type: ignore[assignment]


_watched_files: set[str] = set()
_reload_hooks: list[Callable[[], None]] = []
_reload_attempted = False
_io_loops: weakref.WeakKeyDictionary[ioloop.IOLoop, bool] = weakref.WeakKeyDictionary()
# Set by main(): the command line to re-execute is the wrapper's own, so a
# script that failed to import still comes back under the wrapper.
_autoreload_is_main = False
_original_argv: list[str] | None = None
_original_spec: Any = None


def start(check_time: int = 500) -> None:
    """Poll for changed files every ``check_time`` milliseconds from the current IOLoop.

    Calling it again on the same IOLoop does nothing.
    """
    io_loop = ioloop.IOLoop.current()
    if io_loop in _io_loops:
        return
    _io_loops[io_loop] = True
    if len(_io_loops) > 1:
        gen_log.warning("tornado.autoreload started more than once in the same process")
    modify_times: dict[str, float] = {}
    callback = functools.partial(_reload_on_update, modify_times)
    scheduler = ioloop.PeriodicCallback(callback, check_time)
    scheduler.start()


def wait() -> None:
    """Run a new IOLoop that does nothing but wait for a file to change, then reload.

    Used when the program has exited (or failed): the wrapper waits here
    until the code is edited.
    """
    io_loop = ioloop.IOLoop()
    io_loop.add_callback(start)
    io_loop.start()


def watch(filename: str) -> None:
    """Also reload when ``filename`` (any file, not just a module) changes."""
    _watched_files.add(filename)


def add_reload_hook(fn: Callable[[], None]) -> None:
    """Call ``fn()`` just before reloading (for example to close sockets or flush logs).

    Files opened with close-on-exec (the default for Python's sockets and
    files) need no hook.
    """
    _reload_hooks.append(fn)


def _reload_on_update(modify_times: dict[str, float]) -> None:
    if _reload_attempted:
        # Re-exec failed once; keep serving rather than trying in a loop.
        return
    if process.task_id() is not None:
        return
    for module in list(sys.modules.values()):
        if not isinstance(module, types.ModuleType):
            continue
        path = getattr(module, "__file__", None)
        if not path:
            continue
        if path.endswith((".pyc", ".pyo")):
            path = path[:-1]
        _check_file(modify_times, path)
    for path in _watched_files:
        _check_file(modify_times, path)


def _check_file(modify_times: dict[str, float], path: str) -> None:
    try:
        modified = os.stat(path).st_mtime
    except OSError:
        return
    if path not in modify_times:
        modify_times[path] = modified
        return
    if modify_times[path] != modified:
        gen_log.info("%s modified; restarting server", path)
        _reload()


def _reload() -> None:
    global _reload_attempted
    _reload_attempted = True
    for fn in _reload_hooks:
        fn()
    if signal is not None and hasattr(signal, "setitimer"):  # not on Windows
        # Timers and their signals survive exec; clear them, or the new
        # process may be killed by an alarm it never set.
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
    spec: Any
    if _autoreload_is_main:
        assert _original_argv is not None
        argv = _original_argv
        spec = _original_spec
    else:
        argv = sys.argv
        spec = getattr(sys.modules["__main__"], "__spec__", None)
    if spec is not None and getattr(spec, "name", "__main__") != "__main__":
        # Started with "python -m module": restart the same way.
        args = ["-m", str(spec.name), *argv[1:]]
    else:
        args = list(argv)
    # The process image is replaced: buffered output would be lost.
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(sys.executable, [sys.executable, *args])
    except OSError:
        # execv fails on some platforms while threads run; spawn and exit.
        import subprocess

        subprocess.Popen([sys.executable, *args])
        os._exit(0)


_USAGE = """\
Usage:
  python -m tornado.autoreload [--until-success] -m module.to.run [args...]
  python -m tornado.autoreload [--until-success] path/to/script.py [args...]
"""


def main() -> None:
    """Run the script or module named on the command line, reloading it when files change.

    If it raises, the traceback is printed and the files it mentions are
    watched, so the fix triggers the reload.  When it exits cleanly, the
    wrapper waits for changes too, unless ``--until-success`` was given.
    """
    global _autoreload_is_main, _original_argv, _original_spec
    _autoreload_is_main = True
    _original_argv = list(sys.argv)
    _original_spec = getattr(sys.modules["__main__"], "__spec__", None)
    original_argv = sys.argv
    args = sys.argv[1:]
    until_success = False
    if args and args[0] == "--until-success":
        until_success = True
        args = args[1:]
    mode: str
    if len(args) >= 2 and args[0] == "-m":
        mode, target = "module", args[1]
        sys.argv = [target, *args[2:]]
    elif args and not args[0].startswith("-"):
        mode, target = "script", args[0]
        sys.argv = list(args)
    else:
        print(_USAGE, file=sys.stderr)
        sys.exit(1)
    exit_status: int | str | None = 0
    try:
        if mode == "module":
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        exit_status = e.code
        gen_log.info("Script exited with status %s", e.code)
    except Exception as e:
        exit_status = 1
        gen_log.warning("Script exited with uncaught exception", exc_info=True)
        # Watch every file in the traceback, not just modules that were
        # imported: the error may be a syntax error in a file never loaded.
        for filename, _lineno, _name, _line in traceback.extract_tb(e.__traceback__):
            watch(filename)
        if isinstance(e, SyntaxError) and e.filename:
            watch(e.filename)
    else:
        gen_log.info("Script exited normally")
    sys.argv = original_argv
    if mode == "module":
        # Watch the module's source even if it failed before registering.
        import importlib.util

        try:
            spec = importlib.util.find_spec(target)
        except (ImportError, ValueError):
            spec = None
        if spec is not None and spec.origin:
            watch(spec.origin)
    else:
        watch(target)
    if until_success and not exit_status:
        return
    wait()


if __name__ == "__main__":
    # When run as "python -m tornado.autoreload", this file is __main__ and a
    # second copy of the module would be imported by `import tornado.autoreload`;
    # run the canonical one so its globals are the ones used.
    from tornado import autoreload

    autoreload.main()
