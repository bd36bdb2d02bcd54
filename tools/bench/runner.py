"""``tools bench``: run workloads under ours, upstream Tornado and references; print ratios.

Ours is the interpreter running this command (the workspace environment,
whose ``tornado`` resolves to ``packages/*/src``).  Upstream is a throwaway
virtual environment in the user cache folder holding ``tornado==6.6.1`` and
Jinja2, created on first use from the package index; it is never the
project's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools.repo import Repo
from tools.venvs import Venv

UPSTREAM_VERSION = "6.6.1"
#: Installed beside upstream: Jinja2 as a reference, uvloop so loop-bound
#: workloads can run on both loops on both sides.
REFERENCE_PACKAGES = ["jinja2==3.1.6", "uvloop"]
WORKLOADS = Path(__file__).with_name("workloads")


@dataclass(frozen=True)
class Workload:
    """One workload script and the arguments it takes on each side."""

    script: str
    args: tuple[str, ...]
    #: (label, args) of a third-party reference run in the upstream environment.
    reference: tuple[str, tuple[str, ...]] | None = None
    #: Modules of ours that must exist for the workload to make sense.
    needs: tuple[str, ...] = ()


SUITES: dict[str, list[Workload]] = {
    "template": [
        Workload(
            "template_render.py",
            ("tornado",),
            reference=("Jinja2", ("jinja2",)),
            needs=("tornado.template",),
        ),
    ],
    "ioloop": [
        Workload("ioloop_ops.py", ("asyncio",), needs=("tornado.ioloop",)),
        Workload("ioloop_ops.py", ("uvloop",), needs=("tornado.ioloop",)),
    ],
    "iostream": [
        Workload(
            "iostream_echo.py",
            ("tornado",),
            needs=("tornado.iostream", "tornado.tcpserver", "tornado.tcpclient"),
        ),
    ],
    "web": [
        Workload("web_requests.py", ("tornado",), needs=("tornado.web", "tornado.httpserver")),
        Workload("web_layer.py", ("tornado",), needs=("tornado.web",)),
    ],
    "websocket": [
        Workload(
            "websocket_echo.py", ("tornado",), needs=("tornado.websocket", "tornado.httpserver")
        ),
    ],
    "asgi": [
        # Ours only: upstream has no tornado.asgi (the script prints nothing there).
        Workload("asgi_servers.py", ("tornado",), needs=("tornado.asgi",)),
    ],
    "http2": [
        # Ours only: upstream has no tornado.http2 (the script prints nothing there).
        Workload("http2_servers.py", ("tornado",), needs=("tornado.http2",)),
    ],
    "processes": [
        # One and two forked workers of the deployment guide's recipe, on
        # ours and on upstream alike.
        Workload(
            "processes_scaling.py",
            ("tornado",),
            needs=("tornado.process", "tornado.web", "tornado.httpserver"),
        ),
    ],
    "import": [
        Workload("import_time.py", ("tornado.template",), needs=("tornado.template",)),
        Workload("import_time.py", ("tornado.web",), needs=("tornado.web",)),
    ],
}


@dataclass
class Row:
    """One case's figures across the sides."""

    case: str
    unit: str
    ours: float | None = None
    upstream: float | None = None
    reference: dict[str, float] = field(default_factory=dict)

    @property
    def lower_is_better(self) -> bool:
        """Times are better low, rates high."""
        return self.unit in ("ms", "s", "us")

    def speedup(self, other: float | None) -> float | None:
        """How many times faster ours is than *other* (> 1 means ours wins)."""
        if self.ours is None or other is None or self.ours == 0 or other == 0:
            return None
        return other / self.ours if self.lower_is_better else self.ours / other


def cache_dir() -> Path:
    """Where the throwaway upstream environment lives (outside the repository)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tornado-microbench"


def upstream_env() -> Venv:
    """The upstream Tornado environment, created and filled on first use."""
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    path = cache_dir() / f"upstream-tornado-{UPSTREAM_VERSION}-py{py}"
    venv = Venv(path, use_index=True)
    if not venv.python.exists():
        venv = Venv.create(path, use_index=True)
    # A no-op when satisfied; picks up references added since the env was made.
    venv.install(f"tornado=={UPSTREAM_VERSION}", *REFERENCE_PACKAGES)
    return venv


def run_script(python: str, script: str, args: tuple[str, ...]) -> list[dict[str, object]]:
    """Run one workload script under *python*; return its JSON result lines.

    Raises RuntimeError with the script's stderr if it fails.
    """
    proc = subprocess.run(
        [python, str(WORKLOADS / script), *args],
        capture_output=True,
        text=True,
        cwd=WORKLOADS,
        env={**os.environ, "PYTHONPATH": str(WORKLOADS)},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} under {python} failed:\n{proc.stderr}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _where_tornado(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import tornado, os; print(os.path.dirname(tornado.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def run_suites(repo: Repo, names: list[str]) -> list[Row]:
    """Run the named suites on every side and collect the rows."""
    ours_python = sys.executable
    upstream = upstream_env()
    if not _where_tornado(ours_python).startswith(str(repo.root / "packages")):
        raise RuntimeError(f"{ours_python} does not import our tornado from {repo.root}/packages")
    if _where_tornado(str(upstream.python)).startswith(str(repo.root)):
        raise RuntimeError("the upstream environment imports our packages")
    shipped = set(repo.module_owners())
    rows: dict[str, Row] = {}
    for suite in names:
        for workload in SUITES[suite]:
            if not set(workload.needs) <= shipped:
                print(
                    f"  (skipping {workload.script} {' '.join(workload.args)}: needs {workload.needs})",
                    file=sys.stderr,
                )
                continue
            sides: list[tuple[str, str, tuple[str, ...]]] = [
                ("ours", ours_python, workload.args),
                ("upstream", str(upstream.python), workload.args),
            ]
            if workload.reference:
                label, ref_args = workload.reference
                sides.append((label, str(upstream.python), ref_args))
            for side, python, args in sides:
                for result in run_script(python, workload.script, args):
                    case, unit = str(result["case"]), str(result["unit"])
                    value = float(str(result["value"]))
                    row = rows.setdefault(case, Row(case, unit))
                    if side == "ours":
                        row.ours = value
                    elif side == "upstream":
                        row.upstream = value
                    else:
                        row.reference[side] = value
    return list(rows.values())


def format_table(rows: list[Row]) -> str:
    """A Markdown table: figures per side and how many times faster ours is."""
    refs = sorted({label for r in rows for label in r.reference})
    head = ["case", "unit", "ours", f"upstream {UPSTREAM_VERSION}", "ours vs upstream"]
    for label in refs:
        head += [label, f"ours vs {label}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def fmt(v: float | None) -> str:
        if v is None:
            return "-"
        return f"{v:,.1f}" if v >= 100 else f"{v:.3g}"

    def ratio(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}x"

    for r in rows:
        cells = [r.case, r.unit, fmt(r.ours), fmt(r.upstream), ratio(r.speedup(r.upstream))]
        for label in refs:
            cells += [fmt(r.reference.get(label)), ratio(r.speedup(r.reference.get(label)))]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("ratios are speed-ups: above 1.00x ours is faster (for times: takes less).")
    return "\n".join(lines)


def main(repo: Repo, argv: list[str]) -> int:
    """Parse the options, run the matrix and/or the named suites, print.

    Exit status 2 for an unknown suite, 1 if a micro-benchmark fails or the
    matrix measured nothing.
    """
    from tools.bench import matrix

    suites, opts = matrix.parse_options(argv)
    known = ["matrix", *SUITES]
    unknown = [s for s in suites if s not in known]
    if unknown:
        print(f"tools bench: unknown suite(s) {unknown}; known: {known}")
        return 2
    status = 0
    if "matrix" in suites:
        status = matrix.main(repo.root, opts)
    micro = [s for s in suites if s != "matrix"]
    if micro:
        try:
            rows = run_suites(repo, micro)
        except (RuntimeError, subprocess.CalledProcessError) as e:
            print(f"tools bench: {e}")
            return 1
        print(format_table(rows))
    return status
