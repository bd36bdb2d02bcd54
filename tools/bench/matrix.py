"""The HTTP server matrix of ``tools bench``: every server, every loop, one table.

One run measures, side by side and under the same load generator:

- upstream Tornado 6.6.1 (a throwaway environment in the user cache),
- ours in pure Python (``TORNADO_NO_SPEEDUPS=1``) and ours with speedups
  (httptools importable), both from the interpreter running this command,
- aiohttp and uvicorn + Starlette (one throwaway "peers" environment),
- a raw `asyncio.Protocol` writing canned replies (the ceiling),

each on the default asyncio loop and on uvloop.  The server process is
pinned to core 0 (``taskset -c 0``) and wrk to core 1; throughput cases are
wrk runs of ``--duration`` seconds, interleaved over ``--rounds`` rounds
(each round starts every server afresh) and reduced to the median.  The
memory cases start a fresh server per measurement, open
``--memory-connections`` idle keep-alive or waiting long-poll connections
with `workloads/hold_client.py`, and report the server's RSS growth per
connection.  The import row times a full-stack import in a fresh
interpreter from compiled bytecode, median of several.

Nothing here asserts a figure: the table is for people.  The machine may be
shared, so figures move between runs; the ratios of one run are what to read.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import re
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tools.venvs import Venv

UPSTREAM_VERSION = "6.6.1"
WORKLOADS = Path(__file__).with_name("workloads")
APPS = WORKLOADS / "http_apps.py"
HOLD_CLIENT = WORKLOADS / "hold_client.py"
PEER_PACKAGES = ["aiohttp", "uvicorn", "starlette", "uvloop", "httptools", "jinja2"]
UPSTREAM_PACKAGES = [f"tornado=={UPSTREAM_VERSION}", "uvloop"]

#: Modules a typical application imports: the "full stack" of the import row.
FULL_STACK = (
    "tornado.web",
    "tornado.httpserver",
    "tornado.httpclient",
    "tornado.simple_httpclient",
    "tornado.websocket",
    "tornado.template",
    "tornado.locks",
    "tornado.queues",
)

SERVER_CORE = "0"
CLIENT_CORE = "1"


@dataclass(frozen=True)
class WorkloadSpec:
    """One row kind of the table."""

    key: str
    label: str
    unit: str
    kind: str  # "wrk", "memory" or "import"
    app: str = "full"
    path: str = "/"
    #: wrk arguments beyond the common ones.
    wrk_args: tuple[str, ...] = ()
    #: a Lua script for wrk (its text), or "".
    lua: str = ""
    #: hold_client mode for memory workloads.
    mode: str = ""

    @property
    def lower_is_better(self) -> bool:
        """Rates are better high; sizes and times low."""
        return self.unit != "req/s"


TEMPLATE_JSON_LUA = """
local paths = {"/page", "/json"}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[n % 2 + 1])
end
"""

POST_LUA = """
wrk.method = "POST"
wrk.body = string.rep("x", 65536)
wrk.headers["Content-Type"] = "application/octet-stream"
"""

WORKLOAD_SPECS: dict[str, WorkloadSpec] = {
    spec.key: spec
    for spec in (
        WorkloadSpec("hello", "RequestHandler hello world (keep-alive)", "req/s", "wrk"),
        WorkloadSpec(
            "close",
            "hello world, `Connection: close`",
            "req/s",
            "wrk",
            wrk_args=("-H", "Connection: close"),
        ),
        WorkloadSpec("bare", "bare HTTPServer callback", "req/s", "wrk", app="bare"),
        WorkloadSpec(
            "template",
            "template page + JSON handler (alternating)",
            "req/s",
            "wrk",
            lua=TEMPLATE_JSON_LUA,
        ),
        WorkloadSpec("post", "POST 64 KiB body", "req/s", "wrk", path="/upload", lua=POST_LUA),
        WorkloadSpec("chunked", "chunked response (16 x 1 KiB)", "req/s", "wrk", path="/stream"),
        WorkloadSpec("idle", "RSS per idle keep-alive connection", "KiB", "memory", mode="idle"),
        WorkloadSpec(
            "longpoll", "RSS per waiting long-poll connection", "KiB", "memory", mode="wait"
        ),
        WorkloadSpec("import", "full-stack import (bytecode compiled)", "ms", "import"),
    )
}
LOOPS = ("asyncio", "uvloop")


@dataclass
class Side:
    """One server column: how to start it, and why it cannot run if it cannot."""

    key: str
    label: str
    server: str  # http_apps.py SERVER argument
    python: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    unavailable: str = ""
    #: the column is a peer framework (counts for "best peer").
    peer: bool = False
    #: this side has an import row.
    imports: bool = False


SIDE_KEYS = ("upstream", "pure", "speedups", "aiohttp", "uvicorn", "raw")
OURS = ("pure", "speedups")


@dataclass
class Options:
    """What to run, as parsed from the command line."""

    rounds: int = 2
    duration: int = 5
    connections: int = 50
    workloads: list[str] = field(default_factory=lambda: list(WORKLOAD_SPECS))
    servers: list[str] = field(default_factory=lambda: list(SIDE_KEYS))
    loops: list[str] = field(default_factory=lambda: list(LOOPS))
    memory_connections: int = 10_000
    import_runs: int = 15
    pin: bool = True


def _csv(known: tuple[str, ...] | list[str]) -> object:
    def parse(text: str) -> list[str]:
        names = [n.strip() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in known]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {unknown or text!r}; choose from {', '.join(known)}"
            )
        return names

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The options of ``tools bench``."""
    p = argparse.ArgumentParser(
        prog="tools bench",
        description="HTTP server matrix (default) and the older micro-benchmark suites.",
    )
    p.add_argument(
        "suites",
        nargs="*",
        help="'matrix' (default) and/or micro-benchmark suites: template, ioloop, iostream, "
        "web, websocket, import",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a fast look: 1 round of 2 s, 1,000 memory connections, 5 import runs",
    )
    p.add_argument("--rounds", type=int, default=None, help="rounds per throughput case (2)")
    p.add_argument("--duration", type=int, default=None, help="seconds per wrk run (5)")
    p.add_argument("--connections", type=int, default=None, help="wrk connections (50)")
    p.add_argument(
        "--workloads",
        type=_csv(tuple(WORKLOAD_SPECS)),  # type: ignore[arg-type]
        default=None,
        help="comma-separated: " + ",".join(WORKLOAD_SPECS),
    )
    p.add_argument(
        "--servers",
        type=_csv(SIDE_KEYS),  # type: ignore[arg-type]
        default=None,
        help="comma-separated: " + ",".join(SIDE_KEYS),
    )
    p.add_argument(
        "--loops",
        type=_csv(LOOPS),  # type: ignore[arg-type]
        default=None,
        help="comma-separated: asyncio,uvloop",
    )
    p.add_argument(
        "--memory-connections",
        type=int,
        default=None,
        help="connections per memory case (10,000)",
    )
    p.add_argument("--import-runs", type=int, default=None, help="fresh interpreters (15)")
    p.add_argument("--no-pin", action="store_true", help="do not use taskset")
    return p


def parse_options(argv: list[str]) -> tuple[list[str], Options]:
    """Split the command line into suite names and matrix options.

    ``--quick`` sets smaller defaults; explicit options win over it.
    Raises SystemExit (argparse) on bad input.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    opts = Options()
    if args.quick:
        opts.rounds, opts.duration = 1, 2
        opts.memory_connections, opts.import_runs = 1_000, 5
    for name in ("rounds", "duration", "connections", "memory_connections", "import_runs"):
        value = getattr(args, name)
        if value is not None:
            if value < 1:
                parser.error(f"--{name.replace('_', '-')} must be at least 1")
            setattr(opts, name, value)
    for name in ("workloads", "servers", "loops"):
        if getattr(args, name) is not None:
            setattr(opts, name, getattr(args, name))
    opts.pin = not args.no_pin
    return list(args.suites) or ["matrix"], opts


# --- environments -----------------------------------------------------------


def cache_dir() -> Path:
    """Where the throwaway environments live (outside the repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tornado-microbench"


def _pyver() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _ensure_venv(path: Path, requirements: list[str]) -> Venv:
    venv = Venv(path, use_index=True)
    if not venv.python.exists():
        venv = Venv.create(path, use_index=True)
    venv.install(*requirements)  # a no-op when satisfied
    return venv


def upstream_python() -> Path:
    """Upstream Tornado's interpreter: the conformance cache's environment if
    it is there, else our own throwaway one (made on first use)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache"))
    shared = base / "tornado-conformance" / f"upstream-tornado-{UPSTREAM_VERSION}-py{_pyver()}"
    if (shared / "bin" / "python").exists():
        # Borrowed: only add what the matrix needs when it is missing.
        probe = subprocess.run(
            [str(shared / "bin" / "python"), "-c", "import tornado, uvloop"], capture_output=True
        )
        if probe.returncode == 0:
            return shared / "bin" / "python"
    own = cache_dir() / f"upstream-tornado-{UPSTREAM_VERSION}-py{_pyver()}"
    return _ensure_venv(own, [*UPSTREAM_PACKAGES, "jinja2==3.1.6"]).python


#: The modules each peer column imports (checked in the peers' environment).
PEER_NEEDS = {"aiohttp": ("aiohttp", "jinja2"), "uvicorn": ("uvicorn", "starlette", "jinja2")}


def import_problem(python: str, modules: tuple[str, ...]) -> str:
    """Why *python* cannot import *modules* (its last line of stderr), or ''."""
    proc = subprocess.run(
        [python, "-c", f"import {', '.join(modules)}"], capture_output=True, text=True
    )
    if proc.returncode == 0:
        return ""
    return (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1][:150]


def peer_python() -> tuple[Path | None, dict[str, str]]:
    """The peers' interpreter and, per peer column, why it cannot run (absent when it can).

    Installs everything at once; if that fails, package by package, so one
    peer that will not install does not take the others with it; then asks
    the environment whether each peer imports.
    """
    path = cache_dir() / f"peers-py{_pyver()}"
    install_errors: dict[str, str] = {}
    try:
        venv = _ensure_venv(path, PEER_PACKAGES)
    except (subprocess.CalledProcessError, RuntimeError, OSError):
        try:
            venv = _ensure_venv(path, [])
        except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
            return None, dict.fromkeys(PEER_NEEDS, f"no environment: {e}")
        for package in PEER_PACKAGES:
            try:
                venv.install(package)
            except subprocess.CalledProcessError as e:
                last = ((e.stderr or "").strip().splitlines() or ["install failed"])[-1]
                install_errors[package] = last[:120]
    reasons: dict[str, str] = {}
    for side, modules in PEER_NEEDS.items():
        problem = import_problem(str(venv.python), modules)
        if problem:
            failed = [m for m in modules if m in install_errors]
            reasons[side] = (
                f"cannot install {failed[0]}: {install_errors[failed[0]]}" if failed else problem
            )
    return venv.python, reasons


def versions(python: str, names: list[str]) -> dict[str, str]:
    """Installed versions of *names* under *python* (missing ones left out)."""
    code = (
        "import json, importlib.metadata as m\n"
        "out = {}\n"
        f"for n in {names!r}:\n"
        "    try: out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True)
    return json.loads(proc.stdout) if proc.returncode == 0 else {}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "PYTHONPATH",
            "TORNADO_NO_SPEEDUPS",
            "TORNADO_NO_EXTENSION",
            "PYTHONDONTWRITEBYTECODE",
        )
    }
    env.update(extra)
    return env


def prepare_sides(keys: list[str], repo_root: Path) -> tuple[list[Side], list[str]]:
    """The columns to run, each with its interpreter or a reason; plus notes."""
    notes: list[str] = []
    ours = sys.executable
    where = subprocess.run(
        [ours, "-c", "import tornado, os; print(os.path.dirname(tornado.__file__))"],
        capture_output=True,
        text=True,
        env=_clean_env(),
    ).stdout.strip()
    ours_reason = (
        "" if where.startswith(str(repo_root)) else f"{ours} imports tornado from {where!r}"
    )
    sides: dict[str, Side] = {}
    up, up_reason = "", "not requested"
    try:
        if "upstream" in keys:
            up = str(upstream_python())
            up_where = subprocess.run(
                [up, "-c", "import tornado; print(tornado.version)"], capture_output=True, text=True
            ).stdout.strip()
            up_reason = (
                "" if up_where == UPSTREAM_VERSION else f"upstream env has tornado {up_where!r}"
            )
    except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
        up, up_reason = "", f"cannot build the upstream env: {e}"
    sides["upstream"] = Side(
        "upstream",
        f"upstream {UPSTREAM_VERSION}",
        "tornado",
        up,
        _clean_env(),
        up_reason,
        imports=True,
    )
    sides["pure"] = Side(
        "pure",
        "ours pure",
        "tornado",
        ours,
        _clean_env(TORNADO_NO_SPEEDUPS="1"),
        ours_reason,
        imports=True,
    )
    has_httptools = (
        subprocess.run([ours, "-c", "import httptools"], capture_output=True).returncode == 0
    )
    sides["speedups"] = Side(
        "speedups",
        "ours speedups",
        "tornado",
        ours,
        _clean_env(),
        ours_reason or ("" if has_httptools else "httptools is not importable in our environment"),
        imports=True,
    )
    peers = [k for k in keys if k in ("aiohttp", "uvicorn")]
    peer_py: Path | None = None
    reasons: dict[str, str] = {}
    if peers:
        peer_py, reasons = peer_python()
    vers = versions(str(peer_py), PEER_PACKAGES) if peer_py else {}
    aio = f"aiohttp {vers['aiohttp']}" if "aiohttp" in vers else "aiohttp"
    uvi = (
        f"uvicorn {vers['uvicorn']} + Starlette {vers['starlette']}"
        if "uvicorn" in vers and "starlette" in vers
        else "uvicorn + Starlette"
    )
    sides["aiohttp"] = Side(
        "aiohttp",
        aio,
        "aiohttp",
        str(peer_py or ""),
        _clean_env(),
        reasons.get("aiohttp", ""),
        peer=True,
    )
    sides["uvicorn"] = Side(
        "uvicorn",
        uvi,
        "uvicorn",
        str(peer_py or ""),
        _clean_env(),
        reasons.get("uvicorn", ""),
        peer=True,
    )
    sides["raw"] = Side("raw", "raw asyncio Protocol", "raw", ours, _clean_env())
    # Whether our two columns really run the parsers they are named after
    # (a private flag of tornado-http, read only to label the table).
    for key in ("pure", "speedups"):
        side = sides[key]
        if key in keys and not side.unavailable:
            probe = subprocess.run(
                [ours, "-c", "from tornado._http1_fast import SPEEDUPS; print(SPEEDUPS)"],
                capture_output=True,
                text=True,
                env=side.env,
            )
            flag = probe.stdout.strip()
            if probe.returncode != 0:
                notes.append(f"{side.label}: cannot tell which parser runs (tornado._http1_fast)")
            elif flag != str(key == "speedups"):
                notes.append(f"{side.label}: tornado._http1_fast.SPEEDUPS is {flag}")
    ours_vers = versions(ours, ["tornado-http", "httptools", "uvloop"])
    up_vers = versions(up, ["tornado", "uvloop"]) if up else {}
    notes.append(
        "versions: ours "
        + ", ".join(f"{k} {v}" for k, v in ours_vers.items())
        + (f"; upstream env uvloop {up_vers.get('uvloop', '-')}" if up else "")
        + (f"; peers env uvloop {vers.get('uvloop', '-')}" if vers else "")
    )
    if vers.get("httptools"):
        notes.append(
            f"uvicorn parses with httptools {vers['httptools']}; ours with speedups with the "
            "httptools of our environment; `bare` runs aiohttp's low-level web.Server and a bare "
            "ASGI callable on uvicorn (no Starlette)."
        )
    return [sides[k] for k in keys], notes


# --- processes --------------------------------------------------------------


def pinned(cmd: list[str], core: str, pin: bool) -> list[str]:
    """*cmd* under ``taskset -c core`` when pinning is on and possible."""
    return ["taskset", "-c", core, *cmd] if pin else cmd


def raise_nofile(wanted: int) -> int:
    """Raise this process's RLIMIT_NOFILE soft limit toward *wanted* (children
    inherit it); return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class ServerError(RuntimeError):
    """A server did not start or misbehaved; the message goes into the cell."""


@contextlib.contextmanager
def server_process(side: Side, loop: str, app: str, pin: bool) -> Iterator[tuple[int, int]]:
    """Start ``http_apps.py`` for *side*; yield (pid, port); kill it afterwards.

    Raises ServerError with the end of its stderr if it exits or prints no
    port within 30 s.
    """
    assert side.python
    with (
        tempfile.TemporaryFile("w+") as err,
        subprocess.Popen(
            pinned([side.python, str(APPS), side.server, loop, app], SERVER_CORE, pin),
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            env=side.env,
            cwd=WORKLOADS,
        ) as proc,
    ):
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            line = proc.stdout.readline() if ready else ""
            if not line.strip().isdigit():
                proc.kill()
                proc.wait()
                err.seek(0)
                tail = err.read().strip().splitlines()[-1:] or ["no output"]
                raise ServerError(f"server did not start: {tail[0][:150]}")
            yield proc.pid, int(line)
        finally:
            # SIGKILL: a graceful shutdown would wait for the long polls.
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@contextlib.contextmanager
def holding(port: int, count: int, mode: str, pin: bool) -> Iterator[None]:
    """Run `workloads/hold_client.py` until it holds *count* connections in
    *mode*; keep them open for the ``with`` body, then let it go.

    Raises ServerError if the client fails or is not ready within 300 s.
    """
    with subprocess.Popen(
        pinned([sys.executable, str(HOLD_CLIENT), str(port), str(count), mode], CLIENT_CORE, pin),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as client:
        assert client.stdout is not None and client.stdin is not None
        try:
            ready, _, _ = select.select([client.stdout], [], [], 300)
            line = client.stdout.readline() if ready else ""
            if not line.startswith("{"):
                client.kill()
                _, err = client.communicate()
                raise ServerError(f"client failed: {(err.strip().splitlines() or ['timeout'])[-1]}")
            yield
        finally:
            if client.poll() is None:
                client.kill()
            client.communicate()


@dataclass
class WrkResult:
    """What one wrk run reports."""

    rate: float
    requests: int
    socket_errors: int
    non_2xx: int


def parse_wrk(text: str) -> WrkResult:
    """Read wrk's summary.  Raises ValueError when it has no Requests/sec line."""
    rate = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.MULTILINE)
    if rate is None:
        raise ValueError(f"cannot read wrk output:\n{text}")
    total = re.search(r"^\s*(\d+) requests in ", text, re.MULTILINE)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return WrkResult(
        rate=float(rate.group(1)),
        requests=int(total.group(1)) if total else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def run_wrk(port: int, spec: WorkloadSpec, duration: int, connections: int, pin: bool) -> WrkResult:
    """One wrk run of *spec* against 127.0.0.1:*port*, wrk pinned to the other core."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        extra = list(spec.wrk_args)
        if spec.lua:
            lua.write(spec.lua)
            lua.flush()
            extra += ["-s", lua.name]
        cmd = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            *extra,
            f"http://127.0.0.1:{port}{spec.path}",
        ]
        proc = subprocess.run(
            pinned(cmd, CLIENT_CORE, pin),
            capture_output=True,
            text=True,
            timeout=duration * 3 + 30,
        )
    if proc.returncode != 0:
        raise ServerError(f"wrk failed: {proc.stderr.strip()[:150]}")
    return parse_wrk(proc.stdout)


def rss_kib(pid: int) -> int:
    """Resident set size of *pid* in KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ServerError(f"no VmRSS for pid {pid}")


def http_get(port: int, path: str) -> bytes:
    """One GET on a fresh connection; raises ServerError on a non-200 answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise ServerError(f"GET {path}: {response.status}")
        return body
    finally:
        conn.close()


def measure_memory(
    side: Side, loop: str, spec: WorkloadSpec, count: int, pin: bool, settle: float = 0.5
) -> float:
    """RSS growth per connection (KiB) of a fresh server holding *count* connections.

    *settle* seconds pass before each RSS reading, so buffers freed and
    callbacks scheduled by the last requests are done with.
    """
    with server_process(side, loop, "full", pin) as (pid, port), contextlib.ExitStack() as stack:
        # Warm the code paths the connections use, so the growth is per
        # connection and not first-use imports and caches.
        for _ in range(20):
            http_get(port, "/")
            http_get(port, "/count")
        base = 0
        if spec.mode == "wait":
            # A few long polls first, left waiting until the end: some
            # servers never forget a disconnected one, so the count only
            # grows and the target is base + count.
            base = 20
            stack.enter_context(holding(port, base, "wait", pin=False))
            _wait_for_count(port, base)
        time.sleep(settle)
        before = rss_kib(pid)
        with holding(port, count, spec.mode, pin):
            if spec.mode == "wait":
                _wait_for_count(port, base + count)
            time.sleep(settle)
            after = rss_kib(pid)
    return (after - before) / count


def _wait_for_count(port: int, count: int, limit: float = 120) -> None:
    """Poll /count until the server says *count* requests wait (benchmark
    plumbing, not a test: polling is the only way to ask the server)."""
    deadline = time.monotonic() + limit
    seen = -1
    while time.monotonic() < deadline:
        seen = int(http_get(port, "/count"))
        if seen >= count:
            return
        time.sleep(0.1)
    raise ServerError(f"only {seen} of {count} long polls arrived")


IMPORT_CHILD = "import time; t = time.perf_counter(); import {mods}; print(time.perf_counter() - t)"


def import_sample(side: Side, pin: bool, modules: tuple[str, ...] = FULL_STACK) -> float:
    """Milliseconds one fresh interpreter of *side* takes to import *modules*.

    Raises ServerError with the child's last line of stderr if it fails.
    """
    assert side.python
    child = IMPORT_CHILD.format(mods=", ".join(modules))
    proc = subprocess.run(
        pinned([side.python, "-c", child], SERVER_CORE, pin),
        capture_output=True,
        text=True,
        env=side.env,
    )
    if proc.returncode != 0:
        raise ServerError(f"import failed: {proc.stderr.strip().splitlines()[-1:]}")
    return float(proc.stdout) * 1000


def measure_import(
    side: Side, runs: int, pin: bool, modules: tuple[str, ...] = FULL_STACK
) -> float:
    """Median milliseconds to import *modules* in a fresh interpreter (bytecode
    already compiled by two unmeasured runs)."""
    for _ in range(2):
        import_sample(side, pin, modules)
    return statistics.median(import_sample(side, pin, modules) for _ in range(runs))


# --- the run ----------------------------------------------------------------


@dataclass
class Cell:
    """One figure of the table, or why there is none."""

    samples: list[float] = field(default_factory=list)
    reason: str = ""

    @property
    def value(self) -> float | None:
        """The median of the samples (None when there are none)."""
        return statistics.median(self.samples) if self.samples else None


#: (workload key, loop) -> side key -> cell.  Loop is "" for the import row.
Results = dict[tuple[str, str], dict[str, Cell]]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_matrix(opts: Options, sides: list[Side], notes: list[str]) -> Results:
    """Run every requested case; failures become reasons, never exceptions."""
    results: Results = {}
    specs = [WORKLOAD_SPECS[k] for k in opts.workloads]
    wrk_specs = [s for s in specs if s.kind == "wrk"]
    mem_specs = [s for s in specs if s.kind == "memory"]

    def cell(spec: WorkloadSpec, loop: str, side: Side) -> Cell:
        return results.setdefault((spec.key, loop), {}).setdefault(side.key, Cell())

    runnable = [s for s in sides if not s.unavailable]
    for side in sides:
        if side.unavailable:
            for spec in specs:
                for loop in [""] if spec.kind == "import" else opts.loops:
                    cell(spec, loop, side).reason = side.unavailable
    if wrk_specs and shutil.which("wrk") is None:
        for spec in wrk_specs:
            for loop in opts.loops:
                for side in runnable:
                    cell(spec, loop, side).reason = "wrk is not installed (apt-get install wrk)"
        wrk_specs = []
    apps = sorted({s.app for s in wrk_specs})
    for rnd in range(opts.rounds):
        # Every other round runs the sides in reverse, so no side always
        # follows the same neighbour or meets the same part of a slow patch.
        order = runnable if rnd % 2 == 0 else runnable[::-1]
        for side in order:
            for loop in opts.loops:
                for app in apps:
                    todo = [s for s in wrk_specs if s.app == app]
                    _log(f"  round {rnd + 1}/{opts.rounds}: {side.label} on {loop} ({app})")
                    try:
                        with server_process(side, loop, app, opts.pin) as (_, port):
                            warm = WorkloadSpec("warm", "", "req/s", "wrk", app=app)
                            run_wrk(port, warm, 1, opts.connections, opts.pin)
                            for spec in todo:
                                c = cell(spec, loop, side)
                                try:
                                    r = run_wrk(
                                        port, spec, opts.duration, opts.connections, opts.pin
                                    )
                                except (ServerError, ValueError, subprocess.TimeoutExpired) as e:
                                    c.reason = str(e).splitlines()[0][:150]
                                    continue
                                if r.non_2xx:
                                    c.reason = f"{r.non_2xx} non-2xx answers"
                                    continue
                                if r.requests == 0:
                                    # A stall longer than the run; other rounds may do.
                                    notes.append(
                                        f"{side.label}, {spec.key} on {loop}, round {rnd + 1}: "
                                        f"no answer in {opts.duration} s"
                                    )
                                    continue
                                c.samples.append(r.rate)
                                if r.socket_errors:
                                    notes.append(
                                        f"{side.label}, {spec.key} on {loop}, round {rnd + 1}: "
                                        f"{r.socket_errors} socket errors in {r.requests} requests"
                                    )
                    except ServerError as e:
                        for spec in todo:
                            cell(spec, loop, side).reason = str(e)
        for spec in mem_specs:
            for side in order:
                for loop in opts.loops:
                    _log(
                        f"  round {rnd + 1}/{opts.rounds}: {spec.key} x{opts.memory_connections}, {side.label} on {loop}"
                    )
                    c = cell(spec, loop, side)
                    try:
                        c.samples.append(
                            measure_memory(side, loop, spec, opts.memory_connections, opts.pin)
                        )
                    except (ServerError, OSError, subprocess.TimeoutExpired) as e:
                        c.reason = str(e).splitlines()[0][:150]
    if "import" in opts.workloads:
        spec = WORKLOAD_SPECS["import"]
        importing = []
        for side in runnable:
            c = cell(spec, "", side)
            if not side.imports:
                c.reason = "-"
                continue
            try:
                # Two unmeasured runs write the bytecode caches.
                import_sample(side, opts.pin)
                import_sample(side, opts.pin)
                importing.append(side)
            except ServerError as e:
                c.reason = str(e)
        _log(f"  import: {', '.join(s.label for s in importing)}, interleaved")
        # Interleaved, so a burst of other work on the machine hits every side.
        for _ in range(opts.import_runs):
            for side in importing:
                c = cell(spec, "", side)
                try:
                    c.samples.append(import_sample(side, opts.pin))
                except ServerError as e:
                    c.reason = str(e)
    return results


# --- the table --------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if unit == "req/s":
        return f"{value:,.0f}"
    return f"{value:.1f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def format_table(results: Results, sides: list[Side], opts: Options) -> str:
    """The Markdown table: one row per workload and loop, one column per
    side, then ours ÷ upstream and ours ÷ the best peer."""
    head = ["workload", "loop", *(s.label for s in sides)]
    keys = {s.key for s in sides}
    ratio_cols: list[tuple[str, str, str]] = []  # (label, ours key, other key or "peer")
    for ours in OURS:
        if ours in keys and "upstream" in keys:
            ratio_cols.append((f"{ours} ÷ upstream", ours, "upstream"))
    peers = [s for s in sides if s.peer]
    if peers:
        for ours in OURS:
            if ours in keys:
                ratio_cols.append((f"{ours} ÷ best peer", ours, "peer"))
    head += [label for label, _, _ in ratio_cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = list(WORKLOAD_SPECS)
    for (wkey, loop), cells in sorted(
        results.items(),
        key=lambda kv: (order.index(kv[0][0]), LOOPS.index(kv[0][1]) if kv[0][1] else -1),
    ):
        spec = WORKLOAD_SPECS[wkey]
        row = [f"{spec.label}, {spec.unit}", loop or "-"]
        for side in sides:
            c = cells.get(side.key)
            if c is None or (c.value is None and c.reason == "-"):
                row.append("-")
            elif c.value is None:
                row.append(f"n/a ({c.reason or 'not run'})")
            else:
                row.append(_fmt(c.value, spec.unit))
        for _, ours, other in ratio_cols:
            mine = cells[ours].value if ours in cells else None
            if other == "peer":
                values = [
                    (cells[p.key].value, p.label)
                    for p in peers
                    if p.key in cells and cells[p.key].value is not None
                ]
                if not values:
                    row.append("-")
                    continue
                best = (min if spec.lower_is_better else max)(values, key=lambda v: v[0] or 0.0)
                text = _ratio(mine, best[0])
                row.append(text if text == "-" else f"{text} ({best[1].split()[0]})")
            else:
                theirs = cells[other].value if other in cells else None
                row.append(_ratio(mine, theirs))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def describe(
    opts: Options,
    sides: list[Side],
    notes: list[str],
    soft_nofile: int,
    load: tuple[float, float] | None = None,
) -> str:
    """The text printed under the table: setup, how to read it, notes.

    *load* is the 1-minute load average at the start and the end of the run.
    """
    wrk = (
        subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        if shutil.which("wrk")
        else None
    )
    wrk_version = (
        (wrk.stdout + wrk.stderr).split()[1]
        if wrk and (wrk.stdout + wrk.stderr).split()[1:]
        else "missing"
    )
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    lines = [
        "",
        f"Setup: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, wrk {wrk_version} "
        f"-t1 -c{opts.connections}, {opts.duration} s per run, median of {opts.rounds} round(s); "
        + (
            f"server pinned to core {SERVER_CORE} and wrk to core {CLIENT_CORE} (taskset)"
            if opts.pin
            else "not pinned"
        )
        + f"; memory: {opts.memory_connections:,} connections, fresh server each, RLIMIT_NOFILE {soft_nofile}; "
        f"import: median of {opts.import_runs} fresh interpreters, modules {', '.join(FULL_STACK)}.",
        "Ratios are ours ÷ the other: above 1.00x ours serves more for req/s; below 1.00x ours "
        "uses less for KiB and ms.  The raw asyncio Protocol column is a ceiling (canned "
        "replies), not a peer.",
        "Figures are noisy when the machine is shared with other work; compare columns of the "
        "same run, not runs."
        + (
            f"  Load average (1 min) on {os.cpu_count()} cores: {load[0]:.1f} at the start, "
            f"{load[1]:.1f} at the end."
            if load
            else ""
        ),
    ]
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines)


def main(repo_root: Path, opts: Options) -> int:
    """Run the matrix and print the table; 0 unless nothing could run."""
    early_notes = []
    if opts.pin and shutil.which("taskset") is None:
        opts.pin = False
        early_notes.append("taskset is not installed: nothing pinned")
    load_start = os.getloadavg()[0]
    # The server and the holding client are separate processes: each needs
    # one descriptor per connection and a few more.
    wanted = opts.memory_connections + 256
    soft = raise_nofile(wanted)
    if soft < opts.memory_connections + 128:
        opts.memory_connections = max(1, soft - 128)
    _log("tools bench: preparing environments")
    sides, notes = prepare_sides(opts.servers, repo_root)
    notes[:0] = early_notes
    if soft < wanted:
        notes.append(
            f"RLIMIT_NOFILE is {soft}; memory cases capped at {opts.memory_connections} connections"
        )
    for side in sides:
        if side.unavailable:
            notes.append(f"{side.label}: n/a, {side.unavailable}")
    results = run_matrix(opts, sides, notes)
    print(format_table(results, sides, opts))
    print(describe(opts, sides, notes, soft, (load_start, os.getloadavg()[0])))
    return (
        0 if any(c.value is not None for cells in results.values() for c in cells.values()) else 1
    )
