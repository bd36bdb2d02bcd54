"""Import time of a module in a fresh interpreter, median of many runs.

Usage: ``python import_time.py MODULE [RUNS]`` prints one JSON result line.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from _harness import emit

CHILD = "import time; t = time.perf_counter(); import {m}; print(time.perf_counter() - t)"


def main() -> None:
    module = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 21
    # Users import from cached bytecode: allow writing it (some machines set
    # PYTHONDONTWRITEBYTECODE) and let two warm-up runs fill the cache.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples = []
    for i in range(runs + 2):
        out = subprocess.run(
            [sys.executable, "-c", CHILD.format(m=module)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
        if i >= 2:
            samples.append(float(out) * 1000)
    emit(f"import {module}", statistics.median(samples), "ms")


if __name__ == "__main__":
    main()
