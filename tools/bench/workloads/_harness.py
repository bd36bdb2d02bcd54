"""Timing helpers shared by the workload scripts (standard library only)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable


def rate(fn: Callable[[], object], min_time: float = 0.2, repeats: int = 5) -> float:
    """Best observed calls per second of *fn*, timeit style (calibrated batch, best of *repeats*)."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            break
        number *= 2 if elapsed == 0 else max(2, int(min_time / elapsed * 1.2))
    best = elapsed
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, time.perf_counter() - start)
    return number / best


def emit(case: str, value: float, unit: str) -> None:
    """Print one result line for the runner."""
    print(json.dumps({"case": case, "value": value, "unit": unit}))
    sys.stdout.flush()
