"""Throwaway virtual environments made with uv: for install tests and benchmarks."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools.build import uv_command


@dataclass
class Venv:
    """A virtual environment that installs from *find_links* (and the index only if allowed)."""

    path: Path
    find_links: Path | None = None
    use_index: bool = False
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, path: Path, python: str = sys.executable, **kwargs: object) -> Venv:
        """Create a fresh environment at *path* on the interpreter *python*."""
        subprocess.run(
            [*uv_command(), "venv", "--quiet", "--python", python, str(path)],
            check=True,
            capture_output=True,
        )
        return cls(path, **kwargs)  # type: ignore[arg-type]

    @property
    def python(self) -> Path:
        """The environment's interpreter."""
        return self.path / "bin" / "python"

    def install(self, *requirements: str) -> None:
        """Install *requirements*; without `use_index`, from `find_links` alone.

        Raises subprocess.CalledProcessError (with uv's output) when it fails.
        """
        cmd = [*uv_command(), "pip", "install", "--quiet", "--python", str(self.python)]
        if not self.use_index:
            cmd.append("--no-index")
        if self.find_links is not None:
            cmd += ["--find-links", str(self.find_links)]
        subprocess.run([*cmd, *requirements], check=True, capture_output=True, text=True)

    def installed(self) -> dict[str, str]:
        """Every installed distribution name and version, as `pip list` reports it."""
        proc = subprocess.run(
            [*uv_command(), "pip", "list", "--python", str(self.python), "--format", "json"],
            check=True,
            capture_output=True,
            text=True,
        )
        return {d["name"]: d["version"] for d in json.loads(proc.stdout)}

    def run(self, code: str, cwd: Path | None = None) -> str:
        """Run *code* with the environment's interpreter; return stdout.

        Raises RuntimeError with the child's stderr when it exits non-zero.
        """
        proc = subprocess.run(
            [str(self.python), "-c", code], capture_output=True, text=True, cwd=cwd
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{self.python} -c ... failed:\n{proc.stderr}")
        return proc.stdout
