"""Helpers shared by the benchmarks: timing, thread control, a busy core, tables.

The benchmarks compare methods *side by side in one run*: every repeat runs
every method once, in a rotated order, and ratios are taken within a repeat
before the median is taken over repeats. That keeps the numbers meaningful on
a small, noisy machine where absolute times drift by tens of percent.
"""

import contextlib
import gc
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence

import torch

__all__ = [
    "busy_core",
    "latencies",
    "machine_info",
    "markdown_table",
    "median",
    "peak_rss_mb",
    "reset_peak_rss",
    "rss_mb",
    "time_call",
    "time_per_call",
    "torch_threads",
]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def time_call(fn: Callable[[], object]) -> float:
    """Wall time of one call, in seconds, after a garbage collection."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_per_call(
    fn: Callable[[], object], *, min_time: float = 0.2, min_calls: int = 3
) -> float:
    """Seconds per call of ``fn``, calling it until ``min_time`` has passed."""
    calls = 0
    start = time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if calls >= min_calls and elapsed >= min_time:
            return elapsed / calls


def latencies(fn: Callable[[], object], calls: int) -> list[float]:
    """Seconds of each of ``calls`` separate calls (for a median latency)."""
    out = []
    perf = time.perf_counter
    for _ in range(calls):
        start = perf()
        fn()
        out.append(perf() - start)
    return out


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """``torch.set_num_threads(n)`` inside the block, restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def busy_core(enabled: bool = True) -> Iterator[subprocess.Popen | None]:
    """Keep one core busy with a CPU-burning child process inside the block.

    The child is a pure-Python spin loop (``while True: pass``) and is killed,
    by its own pid, when the block ends.
    """
    if not enabled:
        yield None
        return
    proc = subprocess.Popen(
        [sys.executable, "-c", "while True: pass"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.3)  # let it get scheduled and spinning
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def rss_mb() -> float:
    """Current resident set size of this process, in MiB (Linux)."""
    return _status_kb("VmRSS") / 1024


def peak_rss_mb() -> float:
    """Peak resident set size (VmHWM) since start or the last reset, in MiB."""
    return _status_kb("VmHWM") / 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def machine_info() -> str:
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical "
        f"cores, Python {platform.python_version()}, torch {torch.__version__} "
        f"(intra-op default {torch.get_num_threads()} threads)"
    )


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [
        max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h))
        for i, h in enumerate(headers)
    ]

    def line(values):
        return (
            "| "
            + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))
            + " |"
        )

    out = [line([str(h) for h in headers])]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out.extend(line(r) for r in cells)
    return "\n".join(out)
