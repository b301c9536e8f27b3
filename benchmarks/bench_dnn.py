"""DNNClassifier vs a hand-written PyTorch loop, plain skorch and MLPClassifier.

Side by side in one run, on

* (a) digits: ``load_digits``, standardised, float32, 75/25 split; an MLP
  64-256-128-10, Adam, batch 64, 50 epochs;
* (b) ``make_classification(60000, 784, n_informative=200, n_classes=10)``,
  float32, 75/25 split; an MLP 784-512-256-10, Adam, batch 128, 3 epochs.

Methods (all the same :class:`skdeep.modules.MLP`, Adam lr=1e-3, no L2, every
epoch run):

* ``skdeep``: ``DNNClassifier(..., alpha=0, tol=0, n_iter_no_change=big)``;
* ``hand``: the reference, a minimal loop over preloaded float32 tensors
  (``randperm`` + index slicing, ``zero_grad`` / forward / ``CrossEntropyLoss``
  / ``backward`` / ``step``) with ``torch.optim.Adam`` at its defaults (on the
  CPU: the per-parameter for-loop implementation);
* ``hand-fused``: the same loop with ``Adam(fused=True)`` (what skdeep uses);
* ``skorch``: a plain ``skorch.NeuralNetClassifier`` (``train_split=None``);
* ``sklearn``: ``MLPClassifier(solver="adam", alpha=0, tol=0, ...)`` on float32.

Reported per case and thread setting: median fit time and its ratio to
``hand`` (ratios are taken within a repeat, then the median over repeats),
test accuracy, the time to predict the whole test set, the median latency of
``predict(X[:1])`` (for ``hand``/``hand-fused`` a minimal inference function:
``torch.from_numpy`` -> module in eval mode under ``inference_mode`` ->
``argmax``) and, for (b), the peak RSS increase of ``fit`` measured in a fresh
subprocess per method.

Threads: ``--threads 1 2`` runs the whole table once per
``torch.set_num_threads`` setting. skdeep then applies its own policy
(``skdeep._threads.num_threads``: one thread when ``batch_size * n_params <
SMALL_STEP_WORK``); the hand loops and skorch train under exactly the number
of threads skdeep ends up using for the step, and MLPClassifier's BLAS is
limited to it with threadpoolctl. ``--busy`` repeats everything while another
process keeps one core busy.

Usage::

    python benchmarks/bench_dnn.py [--case a|b|all] [--repeats N]
                                   [--threads 1 2] [--busy] [--no-idle]
                                   [--no-memory]
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from _common import (
    busy_core,
    latencies,
    machine_info,
    markdown_table,
    median,
    peak_rss_mb,
    reset_peak_rss,
    rss_mb,
    time_call,
    torch_threads,
)
from sklearn.datasets import load_digits, make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits
from torch import nn

from skdeep import DNNClassifier
from skdeep._threads import SMALL_STEP_WORK, num_threads
from skdeep.modules import MLP

CASES = {
    "a": {
        "title": "(a) digits, MLP 64-256-128-10, batch 64, 50 epochs",
        "hidden": (256, 128),
        "batch_size": 64,
        "epochs": 50,
        "repeats": 5,
        "latency_calls": 2000,
        "predict_calls": 20,
    },
    "b": {
        "title": (
            "(b) make_classification 60000x784 (45000 train), "
            "MLP 784-512-256-10, batch 128, 3 epochs"
        ),
        "hidden": (512, 256),
        "batch_size": 128,
        "epochs": 3,
        "repeats": 3,
        "latency_calls": 1000,
        "predict_calls": 5,
    },
}

METHODS = ("hand", "hand-fused", "skdeep", "skdeep-float64", "skorch", "sklearn")


# -- data ---------------------------------------------------------------------


def load_case(case: str):
    """``(X_train, X_test, y_train, y_test)``: float32 X, int64 y."""
    if case == "a":
        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=0, stratify=y
        )
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    else:
        X, y = make_classification(
            n_samples=60000,
            n_features=784,
            n_informative=200,
            n_classes=10,
            random_state=0,
        )
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=0, stratify=y
        )
    return (
        np.ascontiguousarray(X_train, dtype=np.float32),
        np.ascontiguousarray(X_test, dtype=np.float32),
        y_train.astype(np.int64),
        y_test.astype(np.int64),
    )


def n_params(n_features: int, hidden, n_classes: int) -> int:
    return sum(p.numel() for p in MLP(n_features, n_classes, hidden).parameters())


# -- the methods ----------------------------------------------------------------


class HandLoop:
    """The minimal PyTorch training loop and inference function."""

    def __init__(self, hidden, batch_size, epochs, threads, fused=False):
        self.hidden, self.batch_size, self.epochs = hidden, batch_size, epochs
        self.threads, self.fused = threads, fused

    def fit(self, X, y):
        torch.manual_seed(0)
        n_classes = int(y.max()) + 1
        module = MLP(X.shape[1], n_classes, self.hidden)
        optimizer = torch.optim.Adam(
            module.parameters(), lr=1e-3, fused=True if self.fused else None
        )
        criterion = nn.CrossEntropyLoss()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        generator = torch.Generator().manual_seed(0)
        n, bs = len(Xt), self.batch_size
        with torch_threads(self.threads):
            module.train()
            for _ in range(self.epochs):
                order = torch.randperm(n, generator=generator)
                for start in range(0, n, bs):
                    index = order[start : start + bs]
                    optimizer.zero_grad(set_to_none=True)
                    loss = criterion(module(Xt[index]), yt[index])
                    loss.backward()
                    optimizer.step()
        module.eval()
        self.module_ = module
        return self

    def predict(self, X):
        with torch.inference_mode():
            return self.module_(torch.from_numpy(X)).argmax(1).numpy()


class SkdeepMethod:
    def __init__(self, hidden, batch_size, epochs, threads):
        self.est = DNNClassifier(
            hidden_layer_sizes=hidden,
            batch_size=batch_size,
            max_iter=epochs,
            optimizer="adam",
            alpha=0.0,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            random_state=0,
            device="cpu",
        )

    def fit(self, X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: all epochs run
            self.est.fit(X, y)
        return self

    def predict(self, X):
        return self.est.predict(X)


class SkdeepFloat64Method(SkdeepMethod):
    """The same estimator given float64 X: it trains in float64, as sklearn."""

    def fit(self, X, y):
        return super().fit(X.astype(np.float64), y)

    def predict(self, X):
        return super().predict(X.astype(np.float64))


class SkorchMethod:
    def __init__(self, hidden, batch_size, epochs, threads):
        from skorch import NeuralNetClassifier

        self.threads = threads
        self.hidden = hidden
        self.make = lambda n_features, n_classes: NeuralNetClassifier(
            MLP,
            module__in_features=n_features,
            module__out_features=n_classes,
            module__hidden_layer_sizes=hidden,
            criterion=nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=1e-3,
            batch_size=batch_size,
            max_epochs=epochs,
            train_split=None,
            iterator_train__shuffle=True,
            device="cpu",
            verbose=0,
        )

    def fit(self, X, y):
        torch.manual_seed(0)
        self.net = self.make(X.shape[1], int(y.max()) + 1)
        with torch_threads(self.threads):
            self.net.fit(X, y)
        return self

    def predict(self, X):
        return self.net.predict(X)


class SklearnMethod:
    def __init__(self, hidden, batch_size, epochs, threads):
        from sklearn.neural_network import MLPClassifier

        self.threads = threads
        self.est = MLPClassifier(
            hidden_layer_sizes=hidden,
            solver="adam",
            learning_rate_init=1e-3,
            batch_size=batch_size,
            max_iter=epochs,
            alpha=0.0,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            early_stopping=False,
            shuffle=True,
            random_state=0,
        )

    def fit(self, X, y):
        with warnings.catch_warnings(), threadpool_limits(self.threads, "blas"):
            warnings.simplefilter("ignore")
            self.est.fit(X, y)
        return self

    def predict(self, X):
        # The BLAS limit is set around the whole table (``run_table``): a
        # threadpoolctl context per call costs milliseconds itself.
        return self.est.predict(X)


def make_method(name, hidden, batch_size, epochs, threads):
    if name == "hand":
        return HandLoop(hidden, batch_size, epochs, threads)
    if name == "hand-fused":
        return HandLoop(hidden, batch_size, epochs, threads, fused=True)
    if name == "skdeep":
        return SkdeepMethod(hidden, batch_size, epochs, threads)
    if name == "skdeep-float64":
        return SkdeepFloat64Method(hidden, batch_size, epochs, threads)
    if name == "skorch":
        return SkorchMethod(hidden, batch_size, epochs, threads)
    if name == "sklearn":
        return SklearnMethod(hidden, batch_size, epochs, threads)
    raise ValueError(name)


# -- one table ------------------------------------------------------------------


def run_table(case, data, threads, repeats, busy, methods=METHODS):
    """Time every method side by side under ``torch.set_num_threads(threads)``."""
    torch.set_num_threads(threads)
    params = n_params(data[0].shape[1], CASES[case]["hidden"], 10)
    step_threads = num_threads(min(CASES[case]["batch_size"], len(data[0])) * params)
    with threadpool_limits(step_threads, "blas"):
        return _run_table(case, data, threads, repeats, busy, methods)


def _run_table(case, data, threads, repeats, busy, methods):
    spec = CASES[case]
    X_train, X_test, y_train, y_test = data
    hidden, bs, epochs = spec["hidden"], spec["batch_size"], spec["epochs"]
    params = n_params(X_train.shape[1], hidden, 10)
    torch.set_num_threads(threads)
    # What skdeep's policy picks for the training step at this setting; the
    # hand loops, skorch and MLPClassifier's BLAS run under the same number.
    step_threads = num_threads(min(bs, len(X_train)) * params)
    predict_threads = num_threads(1 * params)

    def build(name, n_epochs=epochs):
        return make_method(name, hidden, bs, n_epochs, step_threads)

    # Warm-up: one epoch of each method on a slice (lazy init, kernel caches).
    warm = slice(0, min(len(X_train), 2000))
    for name in methods:
        build(name, 1).fit(X_train[warm], y_train[warm]).predict(X_test[:1])

    times = {name: [] for name in methods}
    fitted = {}
    for r in range(repeats):
        order = methods[r % len(methods) :] + methods[: r % len(methods)]
        for name in order:
            method = build(name)
            times[name].append(time_call(lambda m=method: m.fit(X_train, y_train)))
            fitted[name] = method
        print(
            f"  repeat {r + 1}/{repeats}: "
            + ", ".join(f"{n} {times[n][-1]:.2f}s" for n in methods),
            file=sys.stderr,
            flush=True,
        )

    # Predictions: the whole test set, then single rows, methods interleaved.
    batch_ms = {name: [] for name in methods}
    one_row = {name: [] for name in methods}
    x1 = X_test[:1]
    rounds = 5
    for _ in range(rounds):
        for name in methods:
            m = fitted[name]
            for _ in range(max(1, spec["predict_calls"] // rounds)):
                batch_ms[name].append(time_call(lambda m=m: m.predict(X_test)) * 1e3)
            for _ in range(20):  # warm this method's path again
                m.predict(x1)
            one_row[name] += latencies(
                lambda m=m: m.predict(x1), spec["latency_calls"] // rounds
            )

    rows = []
    hand_t = times["hand"]
    hand_1 = median(one_row["hand"])
    for name in methods:
        ratios = [t / h for t, h in zip(times[name], hand_t, strict=True)]
        acc = float(np.mean(fitted[name].predict(X_test) == y_test))
        lat = median(one_row[name])
        rows.append(
            [
                name,
                f"{median(times[name]):.2f}",
                f"{median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})",
                f"{acc:.4f}",
                f"{median(batch_ms[name]):.1f}",
                f"{lat * 1e6:.0f}",
                f"{lat / hand_1:.2f}",
            ]
        )
    headers = [
        "method",
        "fit s",
        "fit / hand (min-max)",
        "test acc",
        "predict test ms",
        "1-row predict us",
        "1-row / hand",
    ]
    note = (
        f"torch.set_num_threads({threads}){', other core busy' if busy else ''}; "
        f"step work batch*params = {bs}*{params} = {bs * params:.2e} "
        f"(SMALL_STEP_WORK = {SMALL_STEP_WORK:.0e}) -> skdeep trains with "
        f"{step_threads} thread(s), so hand/skorch/sklearn-BLAS use "
        f"{step_threads}; skdeep predicts one row with {predict_threads} "
        f"thread(s), the hand inference function with {threads}. "
        f"{repeats} repeats."
    )
    return note, markdown_table(headers, rows)


# -- peak memory of fit, one fresh process per method --------------------------


def memory_child(args):
    """Runs in a fresh process: load the data, fit one method, report RSS."""
    data = np.load(args.data)
    X, y = data["X"], data["y"]
    name = args.memory_child
    spec = CASES["b"]
    torch.set_num_threads(args.threads[0])
    params = n_params(X.shape[1], spec["hidden"], 10)
    step_threads = num_threads(spec["batch_size"] * params)
    method = make_method(
        name, spec["hidden"], spec["batch_size"], args.epochs, step_threads
    )
    del data
    gc.collect()
    start_rss = rss_mb()
    # A tiny fit first: loads the libraries' lazily mapped code (MKL, oneDNN
    # kernels) and starts the thread pools, which are not the fit's memory.
    make_method(name, spec["hidden"], spec["batch_size"], 1, step_threads).fit(
        X[:256], y[:256]
    )
    gc.collect()
    before = rss_mb()
    if not reset_peak_rss():
        raise SystemExit("cannot reset VmHWM (/proc/self/clear_refs)")
    start = time.perf_counter()
    method.fit(X, y)
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "start": start_rss,
                "before": before,
                "peak": peak_rss_mb(),
                "after": rss_mb(),
                "s": elapsed,
            }
        )
    )


def run_memory(data, threads, epochs):
    X_train, _, y_train, _ = data
    spec = CASES["b"]
    params = n_params(X_train.shape[1], spec["hidden"], 10)
    data_mb = (X_train.nbytes + y_train.nbytes) / 2**20
    copy_mb = X_train.size * 4 / 2**20
    # parameters + gradients + Adam's two moments, float32
    state_mb = params * 4 * 4 / 2**20
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "b.npz")
        np.savez(path, X=X_train, y=y_train)
        for name in METHODS:
            out = subprocess.run(
                [
                    sys.executable,
                    os.path.abspath(__file__),
                    "--_memory-child",
                    name,
                    "--data",
                    path,
                    "--threads",
                    str(threads),
                    "--epochs",
                    str(epochs),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode != 0:
                rows.append([name, "failed: " + out.stderr.strip()[-200:]] + [""] * 5)
                continue
            res = json.loads(out.stdout.strip().splitlines()[-1])
            increase = res["peak"] - res["before"]
            rows.append(
                [
                    name,
                    f"{res['start']:.0f}",
                    f"{res['before'] - res['start']:.0f}",
                    f"{res['before']:.0f}",
                    f"{res['peak']:.0f}",
                    f"{increase:.0f}",
                    f"{increase / (copy_mb + state_mb):.2f}",
                ]
            )
    headers = [
        "method",
        "RSS with data MB",
        "warm-up tiny fit +MB",
        "RSS before fit MB",
        "peak RSS in fit MB",
        "peak increase MB",
        "increase / (f32 copy + params&Adam)",
    ]
    note = (
        f"X_train+y_train = {data_mb:.0f} MB (float32 X: {X_train.nbytes / 2**20:.0f}"
        f" MB), one float32 copy of X = {copy_mb:.0f} MB, params+grads+Adam "
        f"moments = {state_mb:.1f} MB ({params} params); a fresh process per "
        f"method, {epochs} epoch(s), torch.set_num_threads({threads}). 'RSS with "
        "data' is the child after imports and loading X; a 1-epoch fit on 256 rows "
        "then maps the libraries' kernels and starts thread pools ('warm-up'); "
        "'peak increase' is VmHWM during the real fit minus RSS just before it."
    )
    return note, markdown_table(headers, rows)


# -- main -------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=["a", "b", "all"], default="all")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--busy", action="store_true", help="also run with another core kept busy"
    )
    parser.add_argument("--no-idle", action="store_true", help="only the busy runs")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        help="subset to run ('hand', the reference, is always included)",
    )
    parser.add_argument("--epochs", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--_memory-child", dest="memory_child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return memory_child(args)

    print(f"# skdeep DNN benchmark\n\n{machine_info()}\n")
    cases = ["a", "b"] if args.case == "all" else [args.case]
    modes = ([] if args.no_idle else [False]) + ([True] if args.busy else [])
    for case in cases:
        spec = CASES[case]
        data = load_case(case)
        repeats = args.repeats or spec["repeats"]
        print(f"## {spec['title']}\n")
        for busy in modes:
            with busy_core(busy):
                for threads in args.threads:
                    print(f"[{case}] threads={threads} busy={busy}", file=sys.stderr)
                    methods = tuple(
                        m for m in METHODS if m == "hand" or m in args.methods
                    )
                    note, table = run_table(case, data, threads, repeats, busy, methods)
                    print(f"{note}\n\n{table}\n", flush=True)
        if case == "b" and not args.no_memory:
            note, table = run_memory(data, max(args.threads), args.epochs)
            print(f"### Peak memory of fit\n\n{note}\n\n{table}\n", flush=True)


if __name__ == "__main__":
    main()
