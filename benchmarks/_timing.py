"""Side-by-side timing for benchmarks: interleaved rounds, medians, machine description.

The machine is shared and noisy, so every comparison is a ratio of medians measured in the
same run, with the contenders interleaved round by round.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime


def machine() -> str:
    """One line naming the machine, Python and date."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {sys.version.split()[0]}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def _per_call(fn: Callable[[], object], number: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(number):
        fn()
    return (time.perf_counter_ns() - start) / number


def compare(
    contenders: dict[str, Callable[[], object]], *, number: int = 2000, rounds: int = 25
) -> dict[str, float]:
    """Median nanoseconds per call of each contender, measured interleaved."""
    for fn in contenders.values():  # warm caches, lazy classes, generated code
        _per_call(fn, max(10, number // 10))
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(_per_call(fn, number))
    return {name: statistics.median(values) for name, values in samples.items()}


def table(rows: list[tuple[str, str, str]], header: tuple[str, str, str]) -> str:
    """A small Markdown table."""
    lines = [f"| {' | '.join(header)} |", f"|{'---|' * len(header)}"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)
