"""``tools build``: sdists and wheels of every distribution, verified.

1. ``uv build`` makes the sdist and wheel of each distribution into ``dist/``.
2. Each sdist is built again into a wheel on its own, in an isolated build
   environment, and that wheel must hold the same files as the direct one:
   this is what a user who installs from the sdist gets.
3. Every artifact's metadata is validated (what ``twine check`` would refuse:
   unparsable or missing core fields, a missing long description or content
   type, a file name that disagrees with the metadata).
"""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from packaging.metadata import InvalidMetadata, Metadata
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from tools.repo import Distribution, Repo


def uv_command() -> list[str]:
    """How to run uv: the `uv` Python package's binary, else uv on PATH.

    Raises RuntimeError when neither exists.
    """
    try:
        from uv import find_uv_bin

        return [find_uv_bin()]
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return [found]
    raise RuntimeError("uv is needed to build: `pip install uv`")


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")


def build_distribution(dist: Distribution, out_dir: Path) -> tuple[Path, Path]:
    """Build the sdist and the wheel of *dist* into *out_dir*; return their paths."""
    before = set(out_dir.glob("*"))
    _run(
        [
            *uv_command(),
            "build",
            "--quiet",
            "--sdist",
            "--wheel",
            "--out-dir",
            str(out_dir),
            str(dist.path),
        ]
    )
    new = set(out_dir.glob("*")) - before
    norm = dist.name.replace("-", "_")
    sdists = list(out_dir.glob(f"{norm}-{dist.version}.tar.gz"))
    wheels = list(out_dir.glob(f"{norm}-{dist.version}-*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        raise RuntimeError(
            f"{dist.name}: expected one sdist and one wheel, got {sorted(map(str, new))}"
        )
    return sdists[0], wheels[0]


def wheel_from_sdist(sdist: Path, work: Path) -> Path:
    """Build a wheel from *sdist* alone, in an isolated environment; return its path."""
    out = work / sdist.name.removesuffix(".tar.gz")
    out.mkdir(parents=True, exist_ok=True)
    _run([*uv_command(), "build", "--quiet", "--wheel", "--out-dir", str(out), str(sdist)])
    wheels = list(out.glob("*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"{sdist.name}: building a wheel from the sdist gave {wheels}")
    return wheels[0]


def wheel_files(wheel: Path) -> set[str]:
    """Names in *wheel*, without RECORD (its hashes differ between builds)."""
    with zipfile.ZipFile(wheel) as zf:
        return {n for n in zf.namelist() if not n.endswith(".dist-info/RECORD")}


def _validate_metadata(raw: str, artifact: str, name: str, version: str) -> list[str]:
    problems: list[str] = []
    try:
        meta = Metadata.from_email(raw, validate=True)
    except (InvalidMetadata, ExceptionGroup) as e:
        return [f"{artifact}: invalid metadata: {e}"]
    if canonicalize_name(meta.name) != canonicalize_name(name) or str(meta.version) != version:
        problems.append(
            f"{artifact}: metadata says {meta.name} {meta.version}, file name says {name} {version}"
        )
    if not meta.summary:
        problems.append(f"{artifact}: no Summary")
    if not meta.requires_python:
        problems.append(f"{artifact}: no Requires-Python")
    if not meta.description or not meta.description.strip():
        problems.append(f"{artifact}: no long description (README)")
    if meta.description_content_type != "text/markdown":
        problems.append(
            f"{artifact}: Description-Content-Type is {meta.description_content_type!r}"
        )
    # The body, when present, is the description: make sure it parsed as one.
    email.parser.Parser().parsestr(raw)
    return problems


def validate_wheel(wheel: Path) -> list[str]:
    """Problems with *wheel*'s metadata (empty when it would pass ``twine check``)."""
    name, version, _build, _tags = parse_wheel_filename(wheel.name)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta_files = [n for n in names if n.endswith(".dist-info/METADATA")]
        if len(meta_files) != 1:
            return [f"{wheel.name}: expected one METADATA file, found {meta_files}"]
        problems = _validate_metadata(
            zf.read(meta_files[0]).decode("utf-8"), wheel.name, name, str(version)
        )
        for required in ("WHEEL", "RECORD"):
            if not any(n.endswith(f".dist-info/{required}") for n in names):
                problems.append(f"{wheel.name}: no {required}")
    return problems


def validate_sdist(sdist: Path) -> list[str]:
    """Problems with *sdist*'s PKG-INFO."""
    name, version = parse_sdist_filename(sdist.name)
    with tarfile.open(sdist) as tf:
        infos = [
            m for m in tf.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
        ]
        if len(infos) != 1:
            return [f"{sdist.name}: expected one top-level PKG-INFO"]
        extracted = tf.extractfile(infos[0])
        assert extracted is not None
        raw = extracted.read().decode("utf-8")
    return _validate_metadata(raw, sdist.name, name, str(version))


def build_all(repo: Repo, out_dir: Path, verify_sdists: bool = True) -> list[str]:
    """Build and verify every distribution into *out_dir*; return the problems found."""
    out_dir.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tools-build-") as tmp:
        for dist in repo.distributions.values():
            sdist, wheel = build_distribution(dist, out_dir)
            problems += validate_sdist(sdist) + validate_wheel(wheel)
            if verify_sdists:
                rebuilt = wheel_from_sdist(sdist, Path(tmp))
                if wheel_files(rebuilt) != wheel_files(wheel):
                    diff = wheel_files(rebuilt) ^ wheel_files(wheel)
                    problems.append(
                        f"{sdist.name}: the wheel built from it differs from {wheel.name}: {sorted(diff)}"
                    )
            print(f"  built {sdist.name} and {wheel.name}", file=sys.stderr)
    return problems


def main(repo: Repo, out_dir: Path | None, verify_sdists: bool) -> int:
    """Build everything and print the outcome; exit status 1 on any problem."""
    out = out_dir or repo.root / "dist"
    try:
        problems = build_all(repo, out, verify_sdists)
    except RuntimeError as e:
        print(f"tools build: {e}")
        return 1
    if problems:
        print(f"tools build: {len(problems)} problem(s)")
        for p in problems:
            print(f"  - {p}")
        return 1
    print(f"tools build: {len(repo.distributions)} sdists and wheels in {out}, all verified")
    return 0
