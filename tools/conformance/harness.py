"""Fetch upstream's tests, run them module by module, compare with the known failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tools.repo import Repo

UPSTREAM_VERSION = "6.6.1"
HERE = Path(__file__).resolve().parent
KNOWN_FAILURES = HERE / "known_failures.txt"
RUN_MODULE = HERE / "run_module.py"
#: A known failure whose reason starts with this may also pass (timing-
#: dependent upstream tests); every other entry must fail.
FLAKY_MARK = "[flaky]"


def default_cache() -> Path:
    """The download cache, outside the repository."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tornado-conformance"


def fetch_upstream_tests(cache: Path, version: str = UPSTREAM_VERSION) -> Path:
    """Download the sdist (once) and extract only ``tornado/test/``; return the folder to put on the path.

    Raises RuntimeError when the download fails.
    """
    target = cache / f"upstream-tests-{version}"
    marker = target / ".complete"
    if marker.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / f"tornado-{version}.tar.gz"
    if not sdist.exists():
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    "--dest",
                    tmp,
                    f"tornado=={version}",
                ],
                capture_output=True,
                text=True,
            )
            downloaded = list(Path(tmp).glob("tornado-*.tar.gz"))
            if proc.returncode != 0 or len(downloaded) != 1:
                raise RuntimeError(
                    f"could not download the tornado {version} sdist:\n{proc.stderr}"
                )
            downloaded[0].replace(sdist)
    prefix = f"tornado-{version}/tornado/test/"
    with tarfile.open(sdist) as tf:
        members = [
            m for m in tf.getmembers() if m.name.startswith(prefix) and (m.isfile() or m.isdir())
        ]
        for m in members:
            m.name = m.name.removeprefix(f"tornado-{version}/")
        tf.extractall(target, members=members, filter="data")
    marker.write_text(version)
    return target


def test_modules(upstream: Path) -> list[str]:
    """The upstream test modules (``tornado.test.*_test``), sorted."""
    return sorted(
        f"tornado.test.{p.stem}" for p in (upstream / "tornado" / "test").glob("*_test.py")
    )


# find_spec locates a module without running it, so modules of optional
# extras (caresresolver without pycares) are located all the same.
_WHERE = """
import importlib.util, json, sys
out = {}
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
        out[name] = spec.origin if spec and spec.origin else "NOT FOUND"
    except Exception as e:
        out[name] = "ERROR " + repr(e)
print(json.dumps(out))
"""


def verify_resolution(repo: Repo, upstream: Path, env: dict[str, str]) -> list[str]:
    """Problems if any of our modules, or tornado.test, resolve to the wrong place."""
    ours = sorted(repo.module_owners())
    proc = subprocess.run(
        [sys.executable, "-c", _WHERE, *ours, "tornado.test"],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        return [f"could not inspect module locations: {proc.stderr}"]
    where: dict[str, str] = json.loads(proc.stdout)
    problems = []
    packages = str(repo.root / "packages")
    for name in ours:
        if not where[name].startswith(packages):
            problems.append(f"{name} resolves to {where[name]}, not into {packages}")
    if not where["tornado.test"].startswith(str(upstream)):
        problems.append(f"tornado.test resolves to {where['tornado.test']}, not into {upstream}")
    return problems


@dataclass
class ModuleResult:
    """Outcomes of one upstream test module."""

    module: str
    outcomes: dict[str, str] = field(default_factory=dict)
    import_error: str | None = None
    timed_out: bool = False
    details: dict[str, str] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        """How many tests ended with *outcome*."""
        return sum(1 for o in self.outcomes.values() if o == outcome)

    def failing_ids(self) -> list[str]:
        """Ids that failed or errored; the module id itself if it did not import or timed out."""
        if self.import_error is not None or self.timed_out:
            return [self.module]
        return sorted(t for t, o in self.outcomes.items() if o in ("failed", "error"))


def run_module(
    module: str,
    env: dict[str, str],
    timeout: float,
    python: str | Path = sys.executable,
    only: list[str] | None = None,
) -> ModuleResult:
    """Run one module (or only the test ids *only* of it) in a child interpreter with a time limit."""
    with tempfile.TemporaryDirectory(prefix="conformance-") as tmp:
        out = Path(tmp) / "result.json"
        try:
            proc = subprocess.run(
                [str(python), str(RUN_MODULE), module, str(out), *(only or [])],
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            return ModuleResult(module, timed_out=True)
        if not out.exists():
            return ModuleResult(
                module,
                import_error=f"the runner crashed (exit {proc.returncode}):\n{proc.stderr[-4000:]}",
            )
        data = json.loads(out.read_text(encoding="utf-8"))
    return ModuleResult(
        module,
        outcomes=data["outcomes"],
        import_error=data["import_error"],
        details=data["details"],
    )


def load_known_failures(path: Path) -> dict[str, str]:
    """Parse the known-failures list: ``{id: reason}``.  Raises ValueError for a line without a reason."""
    known: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        test_id, sep, reason = line.partition("#")
        if not sep or not reason.strip():
            raise ValueError(f"{path}:{lineno}: every known failure needs a reason after '#'")
        known[test_id.strip()] = reason.strip()
    return known


def _module_of(test_id: str) -> str:
    """``tornado.test.x_test.Class.test_y`` (or the module id itself) -> ``tornado.test.x_test``."""
    return ".".join(test_id.split(".")[:3])


def compare(results: list[ModuleResult], known: dict[str, str]) -> tuple[list[str], list[str]]:
    """(unexpected failures, listed entries that now pass), judged only for modules that ran.

    While a module does not import (or times out), its individual listed
    tests are neither failing nor passing: only the module entry counts.
    An entry whose reason starts with `FLAKY_MARK` may pass or fail.
    """
    failing = {t for r in results for t in r.failing_ids()}
    by_module = {r.module: r for r in results}
    unexpected = sorted(failing - set(known))
    fixed = []
    for test_id in sorted(known):
        result = by_module.get(_module_of(test_id))
        if result is None or test_id in failing or known[test_id].startswith(FLAKY_MARK):
            continue
        module_broken = result.import_error is not None or result.timed_out
        if test_id != result.module and module_broken:
            continue
        fixed.append(test_id)
    return unexpected, fixed


def rerun_failures(
    test_ids: list[str], env: dict[str, str], timeout: float
) -> tuple[list[str], list[str]]:
    """Run each failing test once more on its own: (still failing, passed on the rerun).

    Upstream has timing-dependent tests (timeouts of tens of milliseconds)
    that a loaded machine fails now and then; one rerun in a fresh
    interpreter tells those from real failures.  Module ids (import errors,
    timeouts) are not rerun.
    """
    by_module: dict[str, list[str]] = {}
    for test_id in test_ids:
        if test_id != _module_of(test_id):
            by_module.setdefault(_module_of(test_id), []).append(test_id)
    still = [t for t in test_ids if t == _module_of(t)]
    passed: list[str] = []
    for module, ids in by_module.items():
        result = run_module(module, env, timeout, only=ids)
        for test_id in ids:
            (passed if result.outcomes.get(test_id) == "passed" else still).append(test_id)
    return sorted(still), sorted(passed)


def summary(results: list[ModuleResult]) -> str:
    """The one-line summary."""
    passed = sum(r.count("passed") for r in results)
    failed = sum(r.count("failed") for r in results)
    errors = sum(r.count("error") + (1 if r.import_error or r.timed_out else 0) for r in results)
    skipped = sum(r.count("skipped") for r in results)
    total = passed + failed + errors + skipped
    return f"conformance: {passed} passed, {failed} failed, {errors} errors, {skipped} skipped of {total}"


def write_report(results: list[ModuleResult], path: Path) -> None:
    """The machine-readable report: per module counts and failing test names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    report = {
        r.module: {
            "passed": r.count("passed"),
            "failed": r.count("failed"),
            "errors": r.count("error"),
            "skipped": r.count("skipped"),
            "import_error": r.import_error,
            "timed_out": r.timed_out,
            "failing": r.failing_ids(),
            "passing": sorted(t for t, o in r.outcomes.items() if o == "passed"),
            "details": r.details,
        }
        for r in results
    }
    path.write_text(json.dumps(report, indent=1, sort_keys=True), encoding="utf-8")


#: Third-party packages of our test environment that upstream's suite uses
#: when present; the baseline environment gets the same ones, so both sides
#: skip (or run) the same tests.
BASELINE_PACKAGES = ("pycurl>=7.45", "pycares>=5", "hypothesis>=6.100", "twisted>=24.10")


def baseline_python(cache: Path, version: str = UPSTREAM_VERSION) -> Path:
    """An interpreter of a throwaway environment with upstream Tornado *version* installed.

    Made with uv in *cache* on first use (outside the repository); upstream
    is never installed anywhere else.
    """
    from tools.venvs import Venv

    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    path = cache / f"upstream-tornado-{version}-py{py}"
    venv = Venv(path, use_index=True)
    if not venv.python.exists():
        venv = Venv.create(path, use_index=True)
    venv.install(f"tornado=={version}", *BASELINE_PACKAGES)
    return venv.python


def baseline_or_none(cache: Path) -> Path | None:
    """`baseline_python`, or None (with a warning) when it cannot be made: the baseline is informational."""
    try:
        return baseline_python(cache)
    except (subprocess.CalledProcessError, OSError) as e:
        detail = getattr(e, "stderr", None) or e
        print(f"tools conformance: WARNING: no upstream baseline: {detail}")
        return None


def run_baseline(
    python: Path, modules: list[str], timeout: float, path: Path | None = None
) -> list[ModuleResult]:
    """Run *modules* under *python*, where ``tornado.test`` is upstream's own.

    *path* (tests only) is put on ``PYTHONPATH``; otherwise it is cleared so
    nothing of ours can be imported.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    return [run_module(name, env, timeout, python) for name in modules]


@dataclass
class Coverage:
    """Of the tests upstream passes, how many pass on ours, per module."""

    per_module: dict[str, tuple[int, int]]  # module -> (ours of those, upstream passed)

    @property
    def covered(self) -> int:
        """Tests that pass on both sides."""
        return sum(c for c, _ in self.per_module.values())

    @property
    def upstream_passed(self) -> int:
        """Tests that pass on upstream."""
        return sum(u for _, u in self.per_module.values())

    def lines(self) -> list[str]:
        """The summary line, then one line per module below 100%, lowest first."""
        total = self.upstream_passed
        share = 100.0 * self.covered / total if total else 100.0
        out = [
            f"conformance vs upstream: {self.covered} of the {total} tests upstream passes "
            f"here pass on ours ({share:.1f}%)"
        ]
        rows = sorted((c / u, m, c, u) for m, (c, u) in self.per_module.items() if u and c < u)
        out += [f"  {m}: {c} of {u} ({100 * r:.1f}%)" for r, m, c, u in rows]
        return out


def coverage(ours: list[ModuleResult], upstream: list[ModuleResult]) -> Coverage:
    """Compare our outcomes with upstream's on the same modules."""
    by_module = {r.module: r for r in ours}
    per_module = {}
    for base in upstream:
        passed = {t for t, o in base.outcomes.items() if o == "passed"}
        mine = by_module.get(base.module)
        ours_passed = (
            {t for t, o in mine.outcomes.items() if o == "passed"} if mine is not None else set()
        )
        per_module[base.module] = (len(passed & ours_passed), len(passed))
    return Coverage(per_module)


def main(
    repo: Repo,
    upstream: Path | None,
    modules: list[str],
    timeout: float,
    report: Path | None,
    known_failures: Path,
    baseline: Path | None = None,
    baseline_path: Path | None = None,
) -> int:
    """Run the conformance suite; exit status 1 on unexpected failures or stale known failures.

    With *baseline* (an interpreter that has upstream Tornado installed),
    the same modules run on upstream first and the share of upstream's
    passes that also pass on ours is printed (informational, not gating).
    """
    try:
        folder = upstream or fetch_upstream_tests(default_cache())
    except RuntimeError as e:
        print(f"tools conformance: {e}")
        return 1
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
    }
    problems = verify_resolution(repo, folder, env)
    if problems:
        print("tools conformance: refusing to run:")
        for p in problems:
            print(f"  - {p}")
        return 1
    # "web_test" is short for "tornado.test.web_test".
    names = [m if "." in m else f"tornado.test.{m}" for m in modules] or test_modules(folder)
    upstream_results = None
    if baseline is not None:
        print(f"upstream baseline ({baseline}):", flush=True)
        upstream_results = run_baseline(baseline, names, timeout, baseline_path)
        write_report(
            upstream_results,
            (report or repo.root / "build" / "conformance" / "report.json").with_name(
                "baseline.json"
            ),
        )
        print("  " + summary(upstream_results).replace("conformance:", "upstream:"), flush=True)
    results = []
    for name in names:
        result = run_module(name, env, timeout)
        state = (
            "import error"
            if result.import_error
            else "timed out"
            if result.timed_out
            else (
                f"{result.count('passed')} passed, {result.count('failed')} failed, "
                f"{result.count('error')} errors, {result.count('skipped')} skipped"
            )
        )
        print(f"  {name}: {state}", flush=True)
        results.append(result)
    write_report(results, report or repo.root / "build" / "conformance" / "report.json")
    print(summary(results))
    if upstream_results is not None:
        for line in coverage(results, upstream_results).lines():
            print(line)
    try:
        known = load_known_failures(known_failures)
    except ValueError as e:
        print(f"tools conformance: {e}")
        return 1
    unexpected, fixed = compare(results, known)
    if unexpected:
        unexpected, flaky = rerun_failures(unexpected, env, timeout)
        for t in flaky:
            print(f"  FLAKY (failed, then passed when rerun alone): {t}")
    for t in unexpected:
        print(f"  NEW FAILURE (not in {known_failures.name}): {t}")
    for t in fixed:
        print(f"  NOW PASSES (remove it from {known_failures.name}): {t}")
    return 1 if unexpected or fixed else 0
