"""Training-step time vs intra-op threads, to justify and tune SMALL_STEP_WORK.

skdeep trains with one intra-op thread when ``batch_size * n_params`` (the
"step work", multiply-adds of one forward pass) is below
``skdeep._threads.SMALL_STEP_WORK``, else with ``torch.get_num_threads()``
threads (``skdeep._threads.num_threads``). This script times the step skdeep
runs (``zero_grad`` / forward / ``CrossEntropyLoss`` / ``backward`` /
``Adam(fused=True).step``; ``--adam forloop`` for torch's default CPU
Adam; with ``--predict`` also a forward pass under ``inference_mode``,
which uses the same policy with ``rows * n_params``)
for MLPs ``h -> h -> h -> 10`` whose step work spans ~1e5 to ~1e8 (and
the two nets of ``bench_dnn.py``; with ``--recurrent``, also recurrent nets
``cell-hidden-steps-features@batch``, whose step work is the batch times
``RecurrentNet.cost_per_sample()``, one time step), with 1
and 2 threads, on an idle machine and while another process keeps one core
busy. 1- and 2-thread timings alternate inside every repeat; the table shows
medians and the 2-thread / 1-thread ratio (< 1: the second thread helps).

The crossover reported is the smallest step work from which 2 threads are
faster than 1 at every larger size tried (per batch size, then overall).

Usage::

    python benchmarks/bench_threads.py [--repeats N] [--batch 32 256]
                                       [--work 1e5 3e5 ...] [--no-busy]
                                       [--predict] [--adam fused forloop]
                                       [--nets 64-256-128@64 ...]
                                       [--recurrent lstm-64-60-8@64 ...]

``--work`` and ``--nets`` with no values leave the MLPs out.
"""

import argparse
import math
import sys

import torch
from _common import (
    busy_core,
    machine_info,
    markdown_table,
    median,
    time_per_call,
)
from torch import nn

from skdeep._threads import SMALL_STEP_WORK
from skdeep.modules import MLP, RecurrentNet

DEFAULT_WORK = [1e5, 3e5, 1e6, 2e6, 4e6, 1e7, 3e7, 1e8]


def width_for(work: float, batch: int) -> int:
    """Width ``h`` of an MLP h-h-h-10 with ``batch * params`` close to ``work``."""
    # params = (h*h + h) * 2 + 10*h + 10 = 2h^2 + 12h + 10
    target = work / batch
    return max(2, round((-12 + math.sqrt(144 + 8 * (target - 10))) / 4))


def make_step(n_in, hidden, batch: int, predict: bool, adam: str = "fused"):
    """A step of an MLP (``n_in`` features, ``hidden`` widths), or of a
    recurrent net when ``n_in`` is ``(cell, steps, features)`` and ``hidden``
    its hidden size; and the module's cost per sample (the policy's weight)."""
    torch.manual_seed(0)
    if isinstance(n_in, tuple):
        cell, steps, features = n_in
        module = RecurrentNet(features, 10, cell=cell, hidden_size=hidden)
        params = module.cost_per_sample()
        X = torch.randn(batch, steps, features)
    else:
        module = MLP(n_in, 10, hidden)
        params = sum(p.numel() for p in module.parameters())
        X = torch.randn(batch, n_in)
    y = torch.randint(0, 10, (batch,))
    if predict:
        module.eval()

        def step():
            with torch.inference_mode():
                module(X)

        return step, params
    kwargs = {"fused": True} if adam == "fused" else {"foreach": False}
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-4, **kwargs)
    criterion = nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        criterion(module(X), y).backward()
        optimizer.step()

    return step, params


def configs(args) -> list[tuple[str, int, tuple, int, bool]]:
    """``(net, n_in, hidden, batch, on_grid)``: the h-h-h grid, then named nets."""
    out = []
    for batch in args.batch:
        for work in args.work:
            h = width_for(work, batch)
            out.append((f"h-h-h-10, h={h}", h, (h, h), batch, True))
    for spec in args.nets:
        sizes, batch = spec.split("@")
        sizes = [int(v) for v in sizes.split("-")]
        out.append(
            (spec.split("@")[0] + "-10", sizes[0], tuple(sizes[1:]), int(batch), False)
        )
    for spec in args.recurrent:
        name, batch = spec.split("@")
        cell, hidden, steps, features = name.split("-")
        n_in = (cell, int(steps), int(features))
        out.append(
            (
                f"{cell}-{hidden}, {steps}x{features}",
                n_in,
                int(hidden),
                int(batch),
                False,
            )
        )
    return out


def measure(step, repeats: int, min_time: float) -> dict[int, float]:
    """Median seconds per step for 1 and 2 threads, alternated per repeat."""
    out = {1: [], 2: []}
    for threads in (1, 2):  # warm both thread pools and the kernels
        torch.set_num_threads(threads)
        time_per_call(step, min_time=0.02)
    for r in range(repeats):
        for threads in (1, 2) if r % 2 == 0 else (2, 1):
            torch.set_num_threads(threads)
            out[threads].append(time_per_call(step, min_time=min_time))
    return {t: median(v) for t, v in out.items()}


def crossover(results: list[tuple[float, float]]) -> float | None:
    """Smallest work from which every larger size has ratio < 1."""
    results = sorted(results)
    best = None
    for work, ratio in reversed(results):
        if ratio >= 1:
            break
        best = work
    return best


def run(args, predict: bool, adam: str = "fused"):
    what = "forward (predict)" if predict else f"training step, Adam {adam}"
    modes = [False] + ([] if args.no_busy else [True])
    nets = configs(args)
    timings = {}
    for busy in modes:
        with busy_core(busy):
            for i, (net, n_in, hidden, batch, _) in enumerate(nets):
                step, params = make_step(n_in, hidden, batch, predict, adam)
                t = measure(step, args.repeats, args.min_time)
                timings[(busy, i)] = (t, params)
                print(
                    f"  busy={busy} {net} batch={batch} work={batch * params:.1e}: "
                    f"1 thr {t[1] * 1e6:.0f} us, 2 thr {t[2] * 1e6:.0f} us",
                    file=sys.stderr,
                    flush=True,
                )
    rows = []
    for i, (net, _, _, batch, _) in enumerate(nets):
        t, params = timings[(False, i)]
        row = [
            f"{batch * params:.1e}",
            batch,
            net,
            f"{t[1] * 1e6:.0f}",
            f"{t[2] * 1e6:.0f}",
            f"{t[2] / t[1]:.2f}",
        ]
        if True in modes:
            tb = timings[(True, i)][0]
            row += [
                f"{tb[1] * 1e6:.0f}",
                f"{tb[2] * 1e6:.0f}",
                f"{tb[2] / tb[1]:.2f}",
                f"{tb[2] / t[1]:.2f}",
            ]
        row.append("1" if batch * params < SMALL_STEP_WORK else "2")
        rows.append(row)
    headers = ["step work", "batch", "net", "idle 1 thr us", "idle 2 thr us"]
    headers.append("idle 2/1")
    if True in modes:
        headers += ["busy 1 thr us", "busy 2 thr us", "busy 2/1"]
        headers.append("busy 2 thr / idle 1 thr")
    headers.append("skdeep threads (of 2)")
    print(f"## {what}\n")
    print(markdown_table(headers, rows))
    print()
    for busy in modes if any(c[-1] for c in nets) else ():
        label = "other core busy" if busy else "idle"
        points = [
            (batch, batch * timings[(busy, i)][1], timings[(busy, i)][0])
            for i, (_, _, _, batch, on_grid) in enumerate(nets)
            if on_grid
        ]
        points = [(b, w, t[2] / t[1]) for b, w, t in points]
        per_batch = []
        for batch in args.batch:
            c = crossover([(w, r) for b, w, r in points if b == batch])
            per_batch.append(f"batch {batch}: {'none' if c is None else f'{c:.1e}'}")
        c_all = crossover([(w, r) for _, w, r in points])
        overall = "none in range" if c_all is None else f"{c_all:.1e}"
        print(
            f"* crossover on the h-h-h grid ({label}), 2 threads faster from "
            f"step work: {overall} ({'; '.join(per_batch)})"
        )
    print(f"* current SMALL_STEP_WORK = {SMALL_STEP_WORK:.1e}\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--work", type=float, nargs="*", default=DEFAULT_WORK)
    parser.add_argument("--min-time", type=float, default=0.1)
    parser.add_argument(
        "--nets",
        nargs="*",
        default=["64-256-128@64", "784-512-256@128"],
        help="extra nets 'in-hidden...@batch' (default: bench_dnn's (a) and (b))",
    )
    parser.add_argument(
        "--recurrent",
        nargs="*",
        default=[],
        help="recurrent nets 'cell-hidden-steps-features@batch', e.g. "
        "lstm-64-60-8@64 (bench_rnn's case (c) at full length)",
    )
    parser.add_argument("--no-busy", action="store_true")
    parser.add_argument("--predict", action="store_true", help="also forward only")
    parser.add_argument(
        "--adam",
        nargs="+",
        choices=["fused", "forloop"],
        default=["fused"],
        help="Adam implementation(s) of the training step (skdeep uses fused)",
    )
    args = parser.parse_args(argv)
    print(f"# Threads vs step size\n\n{machine_info()}\n")
    for adam in args.adam:
        run(args, predict=False, adam=adam)
    if args.predict:
        run(args, predict=True)
    torch.set_num_threads(2)


if __name__ == "__main__":
    main()
