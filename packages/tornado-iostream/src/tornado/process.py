"""Multi-process servers and non-blocking subprocesses.

* `fork_processes` forks worker processes (sharing listening sockets) and
  restarts those that die abnormally; `task_id` tells a worker which one it is.
* `Subprocess` wraps `subprocess.Popen` with `~tornado.iostream.PipeIOStream`
  pipes and an awaitable exit status.

Unix only.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from tornado.concurrent import Future, future_set_exception_unless_cancelled
from tornado.concurrent import future_set_result_unless_cancelled as _set_result
from tornado.iostream import PipeIOStream
from tornado.log import gen_log
from tornado.util import errno_from_exception

__all__ = ["CalledProcessError", "Subprocess", "cpu_count", "fork_processes", "task_id"]


#: Re-exported: raised by `Subprocess.wait_for_exit` for a non-zero exit status.
CalledProcessError = subprocess.CalledProcessError

_task_id: int | None = None


def cpu_count() -> int:
    """The number of processors on this machine (1 if it cannot be determined)."""
    count = os.cpu_count()
    if count:
        return count
    gen_log.error("Could not detect number of processors; assuming 1")
    return 1


def _reseed_random() -> None:
    # Forked children inherit the parent's random state; without reseeding
    # every worker would produce the same "random" numbers.
    import random

    random.seed(int.from_bytes(os.urandom(16), "big"))


def fork_processes(num_processes: int | None, max_restarts: int | None = None) -> int:
    """Fork ``num_processes`` workers (None or <= 0: one per CPU); return this worker's id.

    Each child returns from this call with its task id (0 to
    ``num_processes - 1``, also available from `task_id`).  The parent
    never returns: it waits for the children, restarts any that exit with
    an error or a signal (at most ``max_restarts`` times, default 100), and
    calls ``sys.exit(0)`` once all have exited cleanly.

    Call it before creating any IOLoop, and share listening sockets by
    binding them (`tornado.netutil.bind_sockets`) before forking.

    Raises `RuntimeError` if restarts exceed ``max_restarts``, or if called
    in a worker.
    """
    global _task_id
    if sys.platform == "win32":
        raise RuntimeError("fork not available on windows")
    if _task_id is not None:
        raise RuntimeError("fork_processes called from a child process")
    if max_restarts is None:
        max_restarts = 100
    if num_processes is None or num_processes <= 0:
        num_processes = cpu_count()
    gen_log.info("Starting %d processes", num_processes)
    children: dict[int, int] = {}

    def start_child(i: int) -> int | None:
        global _task_id
        pid = os.fork()
        if pid == 0:
            _reseed_random()
            _task_id = i
            return i
        children[pid] = i
        return None

    for i in range(num_processes):
        child_id = start_child(i)
        if child_id is not None:
            return child_id
    num_restarts = 0
    while children:
        pid, status = os.wait()
        if pid not in children:
            continue
        child_id = children.pop(pid)
        if os.WIFSIGNALED(status):
            gen_log.warning(
                "child %d (pid %d) killed by signal %d, restarting",
                child_id,
                pid,
                os.WTERMSIG(status),
            )
        elif os.WEXITSTATUS(status) != 0:
            gen_log.warning(
                "child %d (pid %d) exited with status %d, restarting",
                child_id,
                pid,
                os.WEXITSTATUS(status),
            )
        else:
            gen_log.info("child %d (pid %d) exited normally", child_id, pid)
            continue
        num_restarts += 1
        if num_restarts > max_restarts:
            raise RuntimeError("Too many child restarts, giving up")
        new_id = start_child(child_id)
        if new_id is not None:
            return new_id
    # All children exited cleanly: the parent's work is done.  sys.exit
    # rather than returning, so the caller's server code never runs here.
    sys.exit(0)


def task_id() -> int | None:
    """This worker's id from `fork_processes`, or None if not in a forked worker."""
    return _task_id


def _pidfd_open(pid: int) -> int | None:
    # None where pidfds do not exist (non-Linux, old kernels, seccomp).
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return None
    try:
        fd: int = pidfd_open(pid)
    except OSError:
        return None
    return fd


class Subprocess:
    """`subprocess.Popen` with non-blocking pipes and an awaitable exit.

    Takes the `subprocess.Popen` arguments, except that ``stdin``,
    ``stdout`` and ``stderr`` may be `Subprocess.STREAM`: that attribute is
    then a `~tornado.iostream.PipeIOStream`.  Other attributes (``pid``,
    and the standard streams not set to STREAM) are those of the
    ``Popen`` object, available as ``proc``.

    Exit notification (`set_exit_callback`, `wait_for_exit`) relies on a
    ``SIGCHLD`` handler installed by `Subprocess.initialize` on the running
    asyncio loop (done automatically; main thread only).

    .. versionchanged:: 5.0
       The ``io_loop`` argument was removed.
    """

    #: Pass as ``stdin``, ``stdout`` or ``stderr`` to get a `PipeIOStream`.
    STREAM = object()

    _initialized = False
    _loop: asyncio.AbstractEventLoop | None = None
    _old_sigchld: Any = signal.SIG_DFL
    _waiting: dict[int, Subprocess] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from tornado.ioloop import IOLoop

        self.io_loop = IOLoop.current()
        # Pipe ends the child gets; closed here once it has them.
        to_close: list[int] = []
        self.stdin: PipeIOStream | Any = None
        self.stdout: PipeIOStream | Any = None
        self.stderr: PipeIOStream | Any = None
        streams: list[PipeIOStream] = []
        try:
            if kwargs.get("stdin") is Subprocess.STREAM:
                read_end, write_end = os.pipe()
                kwargs["stdin"] = read_end
                to_close.append(read_end)
                self.stdin = PipeIOStream(write_end)
                streams.append(self.stdin)
            for name in ("stdout", "stderr"):
                if kwargs.get(name) is Subprocess.STREAM:
                    read_end, write_end = os.pipe()
                    kwargs[name] = write_end
                    to_close.append(write_end)
                    stream = PipeIOStream(read_end)
                    setattr(self, name, stream)
                    streams.append(stream)
            self.proc = subprocess.Popen(*args, **kwargs)
        except BaseException:
            for stream in streams:
                stream.close()
            raise
        finally:
            for fd in to_close:
                os.close(fd)
        self.pid = self.proc.pid
        if self.stdin is None:
            self.stdin = self.proc.stdin
        if self.stdout is None:
            self.stdout = self.proc.stdout
        if self.stderr is None:
            self.stderr = self.proc.stderr
        self._exit_callback: Callable[[int], None] | None = None
        #: The exit code once the process has exited and been reaped (negative: killed by that signal), else None.
        self.returncode: int | None = None

    def set_exit_callback(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(returncode)`` on the IOLoop when the process exits.

        The return code is negative (``-signum``) for a process killed by a
        signal.  Set at most one callback per process.

        Exits are noticed through a pidfd (``os.pidfd_open``, Linux 5.3+)
        watched by the event loop, which needs no signal handler and works
        on every loop, uvloop included; elsewhere a ``SIGCHLD`` handler is
        installed (see `Subprocess.initialize`).
        """
        self._exit_callback = callback
        Subprocess._waiting[self.pid] = self
        pidfd = _pidfd_open(self.pid)
        if pidfd is None:
            Subprocess.initialize()
        else:
            # The process's IOLoop: the loop may not be running yet.
            loop = self.io_loop.asyncio_loop

            def on_exit() -> None:
                loop.remove_reader(pidfd)
                os.close(pidfd)
                Subprocess._try_cleanup_process(self.pid)

            loop.add_reader(pidfd, on_exit)
        # It may have exited before anything watched it.
        Subprocess._try_cleanup_process(self.pid)

    def wait_for_exit(self, raise_error: bool = True) -> Future[int]:
        """Wait for the process to exit; the future yields its return code.

        With ``raise_error`` (the default) a non-zero status fails the future
        with `CalledProcessError` instead.  Uses `set_exit_callback`, so do
        not set one as well.

        .. versionadded:: 4.2
        """
        # The subprocess's loop, not the running one: this may be called
        # before the loop runs (as with `set_exit_callback`).
        future: Future[int] = self.io_loop.asyncio_loop.create_future()

        def callback(ret: int) -> None:
            if ret != 0 and raise_error:
                future_set_exception_unless_cancelled(future, CalledProcessError(ret, "unknown"))
            else:
                _set_result(future, ret)

        self.set_exit_callback(callback)
        return future

    @classmethod
    def initialize(cls) -> None:
        """Install the ``SIGCHLD`` handler that reaps exited subprocesses.

        Called by `set_exit_callback` where pidfds are unavailable; may be
        called directly (then both mechanisms run, which is harmless).  A
        no-op when already installed for the running loop.  Must run on the
        main thread.  The handler reaps only processes started by
        `Subprocess` that have an exit callback.

        .. versionchanged:: 5.0
           The ``io_loop`` argument was removed.
        """
        # The current IOLoop's asyncio loop: it need not be running yet (a
        # synchronous test or setup code calls this before starting it).
        from tornado.ioloop import IOLoop

        loop = IOLoop.current().asyncio_loop
        if cls._initialized and cls._loop is loop:
            return
        if cls._initialized:
            cls.uninitialize()

        def on_sigchld(signum: int, frame: object) -> None:
            # Runs between bytecodes of whatever the loop is doing: hand the
            # work to the loop (thread- and signal-safe entry point).
            if not loop.is_closed():
                loop.call_soon_threadsafe(cls._cleanup)

        cls._old_sigchld = signal.signal(signal.SIGCHLD, on_sigchld)
        cls._loop = loop
        cls._initialized = True

    @classmethod
    def uninitialize(cls) -> None:
        """Restore the ``SIGCHLD`` handler that `initialize` replaced."""
        if not cls._initialized:
            return
        signal.signal(signal.SIGCHLD, cls._old_sigchld)
        cls._loop = None
        cls._initialized = False

    @classmethod
    def _cleanup(cls) -> None:
        for pid in list(cls._waiting):
            cls._try_cleanup_process(pid)

    @classmethod
    def _try_cleanup_process(cls, pid: int) -> None:
        try:
            ret_pid, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            # Someone else reaped it (e.g. a Popen.wait() call); its status is lost.
            ret_pid, status = pid, 255 << 8
        except OSError as e:
            gen_log.warning("waitpid(%d) failed: %s", pid, errno_from_exception(e))
            return
        if ret_pid == 0:
            return
        subproc = cls._waiting.pop(pid, None)
        if subproc is not None:
            subproc.io_loop.add_callback(subproc._set_returncode, status)

    def _set_returncode(self, status: int) -> None:
        self.returncode = os.waitstatus_to_exitcode(status)
        # Tell Popen the child is reaped, so it neither waits on it again nor
        # warns that it is "still running" when collected.
        self.proc.returncode = self.returncode
        callback = self._exit_callback
        if callback is not None:
            self._exit_callback = None
            callback(self.returncode)
