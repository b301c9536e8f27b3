"""Helpers shared by the benchmarks: timing, thread control, a busy core, tables.

The benchmarks compare methods *side by side in one run*: every repeat runs
every method once, in a rotated order, and ratios are taken within a repeat
before the median is taken over repeats. That keeps the numbers meaningful on
a small, noisy machine where absolute times drift by tens of percent.
"""

import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

__all__ = [
    "busy_core",
    "fit_peak_rss",
    "fit_side_by_side",
    "latencies",
    "machine_info",
    "markdown_table",
    "median",
    "memory_table",
    "peak_rss_mb",
    "ratio_cell",
    "reset_peak_rss",
    "results_table",
    "rss_mb",
    "run_child",
    "time_call",
    "time_per_call",
    "time_predictions",
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


# -- side by side: fits, predictions, ratios, memory ------------------------------


def fit_side_by_side(
    build: Callable[[str], object], names: Sequence[str], X, y, repeats: int
) -> tuple[dict[str, list[float]], dict[str, object]]:
    """Fit every method once per repeat, the order rotated from repeat to repeat.

    ``build(name)`` returns a fresh method (an object with ``fit(X, y)``).
    Returns the fit times per method and the method fitted last.
    """
    names = list(names)
    times: dict[str, list[float]] = {name: [] for name in names}
    fitted: dict[str, object] = {}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            method = build(name)
            times[name].append(time_call(lambda m=method: m.fit(X, y)))
            fitted[name] = method
        print(
            f"  repeat {r + 1}/{repeats}: "
            + ", ".join(f"{n} {times[n][-1]:.2f}s" for n in names),
            file=sys.stderr,
            flush=True,
        )
    return times, fitted


def time_predictions(
    fitted: dict[str, object],
    X_test,
    *,
    predict_calls: int,
    latency_calls: int,
    rounds: int = 5,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds of ``predict(X_test)`` and of single-row ``predict(X_test[:1])``.

    Methods are interleaved in ``rounds`` rounds; every round first warms the
    method's single-row path with 20 calls.
    """
    batch: dict[str, list[float]] = {name: [] for name in fitted}
    one_row: dict[str, list[float]] = {name: [] for name in fitted}
    x1 = X_test[:1]
    for _ in range(rounds):
        for name, m in fitted.items():
            for _ in range(max(1, predict_calls // rounds)):
                batch[name].append(time_call(lambda m=m: m.predict(X_test)))
            for _ in range(20):
                m.predict(x1)
            one_row[name] += latencies(
                lambda m=m: m.predict(x1), max(1, latency_calls // rounds)
            )
    return batch, one_row


def ratio_cell(values: Sequence[float], reference: Sequence[float]) -> str:
    """``median (min-max)`` of the per-repeat ratios ``values / reference``."""
    ratios = [v / r for v, r in zip(values, reference, strict=True)]
    return f"{median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def fit_peak_rss(warm_fit: Callable[[], object], fit: Callable[[], object]) -> dict:
    """In a fresh process: RSS before and VmHWM during ``fit``, in MiB.

    ``warm_fit`` (a tiny fit) runs first, so the libraries' lazily mapped
    code and the thread pools are resident before the measured fit.
    """
    gc.collect()
    start = rss_mb()
    warm_fit()
    gc.collect()
    before = rss_mb()
    if not reset_peak_rss():
        raise SystemExit("cannot reset VmHWM (/proc/self/clear_refs)")
    elapsed = time_call(fit)
    return {
        "start": start,
        "before": before,
        "peak": peak_rss_mb(),
        "after": rss_mb(),
        "s": elapsed,
    }


def run_child(argv: Sequence[str]) -> dict | str:
    """Run ``python argv...``; the JSON object on its last stdout line, or the
    tail of its stderr when it failed."""
    out = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return "failed: " + out.stderr.strip()[-300:].replace("\n", " ")
    return json.loads(out.stdout.strip().splitlines()[-1])


def results_table(
    times: dict[str, list[float]],
    batch: dict[str, list[float]],
    one_row: dict[str, list[float]],
    accuracy: dict[str, float],
    reference: str = "hand",
) -> str:
    """Fit time and ratio, accuracy, batch and single-row predict per method.

    Fit ratios are per-repeat ratios to ``reference``'s fit; predict ratios
    are ratios of medians to ``reference``'s predict (its inference function).
    """
    ref_batch, ref_one = median(batch[reference]), median(one_row[reference])
    rows = []
    for name in times:
        b, one = median(batch[name]), median(one_row[name])
        rows.append(
            [
                name,
                f"{median(times[name]):.2f}",
                ratio_cell(times[name], times[reference]),
                f"{accuracy[name]:.4f}",
                f"{b * 1e3:.1f}",
                f"{b / ref_batch:.2f}",
                f"{one * 1e6:.0f}",
                f"{one / ref_one:.2f}",
            ]
        )
    headers = [
        "method",
        "fit s",
        f"fit / {reference} (min-max)",
        "test acc",
        "predict test ms",
        f"predict / {reference} fn",
        "1-row predict us",
        f"1-row / {reference} fn",
    ]
    return markdown_table(headers, rows)


def memory_table(results: dict[str, dict | str], reference: str = "hand") -> str:
    """Peak RSS of fit per method (``fit_peak_rss`` results, or an error)."""
    ref = results.get(reference)
    ref_increase = ref["peak"] - ref["before"] if isinstance(ref, dict) else None
    rows = []
    for name, res in results.items():
        if not isinstance(res, dict):
            rows.append([name, res, "", "", "", "", ""])
            continue
        increase = res["peak"] - res["before"]
        # Below a megabyte the reference's increase is noise, not a base.
        ratio = (
            f"{increase / ref_increase:.2f}"
            if ref_increase is not None and ref_increase >= 1
            else "-"
        )
        rows.append(
            [
                name,
                f"{res['start']:.0f}",
                f"{res['before']:.0f}",
                f"{res['peak']:.0f}",
                f"{increase:.0f}",
                ratio,
                f"{res['s']:.2f}",
            ]
        )
    headers = [
        "method",
        "RSS with data MB",
        "RSS before fit MB",
        "peak RSS in fit MB",
        "peak increase MB",
        f"increase / {reference}'s",
        "fit s",
    ]
    return markdown_table(headers, rows)


class EstimatorMethod:
    """A skdeep estimator in a side-by-side table: fit quietly, predict.

    ``bare=True`` switches off the best-epoch restore and the batch-norm
    recalibration, to show what those two defaults cost.
    """

    def __init__(self, estimator, bare: bool = False):
        self.est = estimator
        if bare:
            estimator._keep_best_epoch = False
            estimator._recalibrate_batch_norm = False

    def fit(self, X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: all epochs run
            self.est.fit(X, y)
        return self

    def predict(self, X):
        return self.est.predict(X)


def compare_methods(
    build: Callable,
    methods: Sequence[str],
    data: tuple,
    spec: dict,
    threads: int,
    repeats: int,
    cost: float,
    step_threads: int,
) -> tuple[str, str, dict, dict]:
    """Warm up, fit side by side, time predictions: the note and table of a case.

    ``build(name, n_epochs=...)`` makes a method; ``cost`` is the module's
    multiply-adds per sample and ``step_threads`` the threads training used.
    Returns the note, the results table, the fitted methods and fit times.
    """
    from skdeep._threads import SMALL_STEP_WORK, inference_rows, num_threads

    X_train, X_test, y_train, y_test = data
    bs = spec["batch_size"]
    # Warm-up: one epoch of each method on a slice (lazy init, kernel caches).
    warm = slice(0, min(len(X_train), 512))
    for name in methods:
        build(name, 1).fit(X_train[warm], y_train[warm]).predict(X_test[:1])

    times, fitted = fit_side_by_side(build, methods, X_train, y_train, repeats)
    batch, one_row = time_predictions(
        fitted,
        X_test,
        predict_calls=spec["predict_calls"],
        latency_calls=spec["latency_calls"],
    )
    accuracy = {
        name: float(np.mean(m.predict(X_test) == y_test)) for name, m in fitted.items()
    }
    table = results_table(times, batch, one_row, accuracy)
    rows = inference_rows(cost, torch.device("cpu"))
    note = (
        f"torch.set_num_threads({threads}); step work batch*cost = {bs}*{cost} = "
        f"{bs * cost:.2e} multiply-adds (SMALL_STEP_WORK = {SMALL_STEP_WORK:.0e}) "
        f"-> skdeep trains with {step_threads} thread(s), so hand/skorch/sktime "
        f"train with {step_threads}; skdeep predicts the test set with "
        f"{num_threads(min(len(X_test), rows) * cost)} and one row with "
        f"{num_threads(cost)} thread(s), the other methods predict with "
        f"{threads}. {repeats} repeat(s)."
    )
    return note, table, fitted, times
