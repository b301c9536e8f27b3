"""RNNClassifier vs a hand-written PyTorch loop, plain skorch and sktime.

Side by side in one run, float32, on

* (a) digits rows: ``load_digits`` / 16 read as sequences of 8 steps x 8
  features (one image row a step), 75/25 split; GRU-64, batch 64, 30 epochs;
* (b) 2,000 training and 500 test generated sequences of 100 steps x 12
  features, 5 classes; LSTM-100, batch 64, 10 epochs;
* (c) 2,000 training and 500 test generated sequences of 7-60 steps x 8
  features, 4 classes, given as a list of ``(T_i, F)`` arrays; LSTM-64,
  batch 64, 10 epochs, padded once (then packed or masked per batch).

The generated sequences are unit noise plus a sine whose frequency and
direction in feature space depend on the class (random phase and amplitude).

Methods (all but sktime train the same :class:`skdeep.modules.RecurrentNet`,
summary "last" and a linear read-out; all use Adam lr=1e-3, no L2 penalty,
every epoch run):

* ``hand``: the reference, a minimal loop over preloaded float32 tensors
  (``randperm`` + index slicing, ``zero_grad`` / forward /
  ``CrossEntropyLoss`` / ``backward`` / ``step``) with ``torch.optim.Adam``
  at its defaults (on the CPU: the per-parameter for-loop implementation).
  For (c) it pads the list once into ``(n, T_max, F)`` plus lengths and
  gives each batch its lengths, trimmed to the batch's longest sequence
  (``X[index, :longest]``); the module masks the padding (case (c)'s
  forward-only float32 LSTM on the CPU; see ``hand-packed``) or packs it.
  Its inference function pads
  the same way (no lengths when every sequence has the same length, as
  skdeep) and runs ``module(x, lengths).argmax(1)`` under
  ``inference_mode``, the module in eval mode;
* ``hand-fused``: the same loop with ``Adam(fused=True)`` (what skdeep uses);
* ``hand-packed`` ((c) only): the plain hand loop with a module that always
  packs. ``RecurrentNet`` runs a forward-only float32 LSTM on the CPU on the
  padded batch through oneDNN (padding zeroed, the summary read at each
  sequence's own last step) instead of packing it; this row shows what the
  usual hand-written packing loop costs;
* ``skdeep``: ``RNNClassifier(cell, hidden_size, batch_size, max_iter,
  alpha=0, tol=0, n_iter_no_change=max_iter + 1, random_state=0,
  device="cpu", dtype="float32")``, its other parameters at their defaults
  (it ends on the weights of the epoch with the lowest training loss: a
  ``state_dict`` copy at every improving epoch); 3-D X for (a) and (b), the
  list for (c);
* ``skdeep-bare``: the same, without that best-epoch restore (the private
  class switches ``_keep_best_epoch`` and ``_recalibrate_batch_norm`` set
  on the instance; these nets have no batch norm);
* ``skorch``: a plain ``skorch.NeuralNetClassifier(RecurrentNet, ...)``
  (``train_split=None``, shuffled); for (c) X is ``{"x": padded, "lengths":
  lengths}``, so batches are padded to ``T_max`` and the module masks the
  padding, as for ``hand``;
* (a) only, when ``sktime`` is importable (it is not a skdeep dependency):
  ``sktime-rnn``, ``SimpleRNNClassifierTorch(hidden_dim=64,
  activation_hidden="tanh", optimizer="Adam", lr=1e-3, callbacks=None)``
  (the issue's match; an Elman RNN, so ``skdeep-rnn``, ``RNNClassifier(
  cell="rnn")``, is timed next to it), and ``sktime-gru``,
  ``GRUClassifier(hidden_dim=64, n_layers=1, batch_first=True)`` (Adam,
  lr=1e-3), the same cell as ``skdeep``; both with the same batch size and
  epochs, on X as ``(n, F, T)``, sktime's layout. Their own networks and
  initialisation, and their own loop: a per-sample ``Dataset``, a
  ``DataLoader`` that does not shuffle, a ``loss.item()`` per batch.

Reported per case: fit time and its ratio to ``hand`` (ratios are taken
within a repeat, then the median over repeats), test accuracy, the time to
predict the whole test set and its ratio to the hand inference function,
the median latency of ``predict(X[:1])``, and the peak RSS increase of a
1-epoch ``fit`` measured in a fresh subprocess per method. Targets: fit <=
1.05x ``hand``, batch predict <= 1.5x the hand inference function.

Threads: ``--threads 1 2`` runs each table under ``torch.set_num_threads``
(default: the process setting). skdeep then applies its policy
(``skdeep._threads.num_threads`` with the module's ``cost_per_sample()``, which
counts ``n_steps`` = the longest sequence); the hand loops, skorch and
sktime train under exactly the number of threads skdeep picks for the step.

``--quick`` shrinks every case (fewer sequences, 1-2 epochs, one repeat,
fewer latency calls, memory on the last case only) to check that the script
runs, in about a minute; its numbers mean little.

Run time at the defaults on a 2-core CPU: about 6 minutes ((a) about 3
with sktime installed, (b) 2, (c) 1).

Usage::

    python benchmarks/bench_rnn.py [--case a|b|c|all] [--repeats N]
                                   [--threads 1 2]
                                   [--methods hand-fused skdeep ...]
                                   [--no-memory] [--quick]
"""

import argparse
import importlib
import os
import sys
import tempfile
import warnings

import numpy as np
import torch
from _common import (
    EstimatorMethod,
    compare_methods,
    fit_peak_rss,
    machine_info,
    memory_table,
    run_child,
    torch_threads,
)
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from skdeep import RNNClassifier
from skdeep._threads import num_threads
from skdeep.modules import RecurrentNet

CASES = {
    "a": {
        "title": "(a) digits rows, 8 steps x 8 features (1347 train), GRU-64, "
        "batch 64, 30 epochs",
        "data": "digits",
        "cell": "gru",
        "hidden_size": 64,
        "batch_size": 64,
        "epochs": 30,
        "repeats": 5,
        "latency_calls": 2000,
        "predict_calls": 20,
    },
    "b": {
        "title": "(b) generated 2000 train x 100 steps x 12 features, LSTM-100, "
        "batch 64, 10 epochs",
        "data": "sequences",
        "n_train": 2000,
        "n_test": 500,
        "steps": (100, 100),
        "n_features": 12,
        "n_classes": 5,
        "cell": "lstm",
        "hidden_size": 100,
        "batch_size": 64,
        "epochs": 10,
        "repeats": 3,
        "latency_calls": 1000,
        "predict_calls": 10,
    },
    "c": {
        "title": "(c) generated 2000 train, 7-60 steps x 8 features (a list, "
        "padded once), LSTM-64, batch 64, 10 epochs",
        "data": "sequences",
        "n_train": 2000,
        "n_test": 500,
        "steps": (7, 60),
        "n_features": 8,
        "n_classes": 4,
        "cell": "lstm",
        "hidden_size": 64,
        "batch_size": 64,
        "epochs": 10,
        "repeats": 3,
        "latency_calls": 1000,
        "predict_calls": 10,
    },
}

# --quick: the same cases, small enough that the script runs in about a minute.
QUICK = {
    "a": {"epochs": 2},
    "b": {"n_train": 256, "n_test": 64, "steps": (40, 40), "epochs": 1},
    "c": {"n_train": 256, "n_test": 64, "epochs": 1},
}
QUICK_ALL = {"repeats": 1, "latency_calls": 100, "predict_calls": 2}

METHODS = (
    "hand",
    "hand-fused",
    "hand-packed",
    "skdeep",
    "skdeep-bare",
    "skorch",
    "skdeep-rnn",
    "sktime-rnn",
    "sktime-gru",
)
SKTIME = {
    "sktime-rnn": (
        "sktime.classification.deep_learning.rnn",
        "SimpleRNNClassifierTorch",
    ),
    "sktime-gru": ("sktime.classification.deep_learning.gru", "GRUClassifier"),
}


def case_spec(case: str, quick: bool) -> dict:
    spec = dict(CASES[case])
    if quick:
        spec.update(QUICK_ALL, **QUICK[case])
        changed = ", ".join(f"{k}={v}" for k, v in QUICK[case].items())
        spec["title"] += f" [--quick: {changed}]"
    return spec


# -- data ---------------------------------------------------------------------


def load_case(spec: dict):
    """``(X_train, X_test, y_train, y_test)``: float32 ``(n, T, F)`` arrays, or
    lists of ``(T_i, F)`` arrays when the lengths vary; int64 y."""
    if spec["data"] == "digits":
        X, y = load_digits(return_X_y=True)
        X = np.ascontiguousarray((X / 16.0).reshape(-1, 8, 8), dtype=np.float32)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=0, stratify=y
        )
        return X_train, X_test, y_train.astype(np.int64), y_test.astype(np.int64)
    n = spec["n_train"] + spec["n_test"]
    X, y = make_sequences(n, spec)
    cut = spec["n_train"]
    return X[:cut], X[cut:], y[:cut], y[cut:]


def make_sequences(n: int, spec: dict, seed: int = 0):
    """Unit noise plus a sine of a class's frequency along a class's direction."""
    rng = np.random.default_rng(seed)
    n_features, n_classes = spec["n_features"], spec["n_classes"]
    directions = np.random.default_rng(seed + 1).standard_normal(
        (n_classes, n_features)
    )
    directions /= np.linalg.norm(directions, axis=1, keepdims=True) / 2
    y = rng.integers(0, n_classes, n)
    low, high = spec["steps"]
    lengths = rng.integers(low, high + 1, n)
    X = []
    for label, length in zip(y, lengths, strict=True):
        t = np.arange(length)[:, None]
        wave = rng.uniform(0.5, 1.5) * np.sin(
            2 * np.pi * (1 + label) * t / 20 + rng.uniform(0, 2 * np.pi)
        )
        noise = rng.standard_normal((length, n_features))
        X.append((wave * directions[label] + noise).astype(np.float32))
    if low == high:
        X = np.stack(X)
    return X, y.astype(np.int64)


def pad(X):
    """``(x, lengths)`` tensors: a 3-D array as it is (no lengths); a list
    padded once with zeros, with its lengths unless all are equal."""
    if isinstance(X, np.ndarray):
        return torch.from_numpy(X), None
    lengths = np.array([len(x) for x in X])
    padded = np.zeros((len(X), lengths.max(), X[0].shape[1]), np.float32)
    for row, x in zip(padded, X, strict=True):
        row[: len(x)] = x
    if (lengths == lengths[0]).all():
        return torch.from_numpy(padded), None
    return torch.from_numpy(padded), torch.from_numpy(lengths)


def shape_of(X) -> tuple[int, int]:
    """``(T_max, F)`` of a 3-D array or a list of sequences."""
    if isinstance(X, np.ndarray):
        return X.shape[1], X.shape[2]
    return max(len(x) for x in X), X[0].shape[1]


class PackingRecurrentNet(RecurrentNet):
    """``RecurrentNet`` that packs variable-length batches in every case."""

    def _masks_padding(self, x):
        return False


def make_module(spec, X, n_classes, cell=None, packs=False) -> RecurrentNet:
    n_steps, n_features = shape_of(X)
    return (PackingRecurrentNet if packs else RecurrentNet)(
        n_features,
        n_classes,
        cell=cell or spec["cell"],
        hidden_size=spec["hidden_size"],
        n_steps=n_steps,
    )


# -- the methods ----------------------------------------------------------------


class HandLoop:
    """The minimal PyTorch training loop and inference function."""

    def __init__(self, spec, epochs, threads, fused=False, packs=False):
        self.spec, self.batch_size = spec, spec["batch_size"]
        self.epochs, self.threads, self.fused = epochs, threads, fused
        self.packs = packs

    def fit(self, X, y):
        torch.manual_seed(0)
        module = make_module(self.spec, X, int(y.max()) + 1, packs=self.packs)
        optimizer = torch.optim.Adam(
            module.parameters(), lr=1e-3, fused=True if self.fused else None
        )
        criterion = nn.CrossEntropyLoss()
        Xt, lengths = pad(X)
        yt = torch.from_numpy(y)
        generator = torch.Generator().manual_seed(0)
        n, bs = len(Xt), self.batch_size
        with torch_threads(self.threads):
            module.train()
            for _ in range(self.epochs):
                order = torch.randperm(n, generator=generator)
                for start in range(0, n, bs):
                    index = order[start : start + bs]
                    optimizer.zero_grad(set_to_none=True)
                    if lengths is None:
                        output = module(Xt[index])
                    else:
                        batch_lengths = lengths[index]
                        longest = int(batch_lengths.max())
                        output = module(Xt[index, :longest], batch_lengths)
                    loss = criterion(output, yt[index])
                    loss.backward()
                    optimizer.step()
        module.eval()
        self.module_ = module
        return self

    def predict(self, X):
        x, lengths = pad(X)
        with torch.inference_mode():
            return self.module_(x, lengths).argmax(1).numpy()


def skdeep_method(spec, epochs, bare=False, cell=None) -> EstimatorMethod:
    """The estimator with the hand loop's settings: Adam 1e-3 (not the RNNs'
    default 0.01), no L2, every epoch."""
    return EstimatorMethod(
        RNNClassifier(
            cell or spec["cell"],
            spec["hidden_size"],
            batch_size=spec["batch_size"],
            max_iter=epochs,
            learning_rate=1e-3,
            alpha=0.0,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            random_state=0,
            device="cpu",
            dtype="float32",
        ),
        bare,
    )


class SkorchMethod:
    def __init__(self, spec, epochs, threads):
        self.spec, self.epochs, self.threads = spec, epochs, threads

    @staticmethod
    def _inputs(X):
        x, lengths = pad(X)
        if lengths is None:
            return x.numpy()
        return {"x": x.numpy(), "lengths": lengths.numpy()}

    def fit(self, X, y):
        from skorch import NeuralNetClassifier

        n_steps, n_features = shape_of(X)
        torch.manual_seed(0)
        self.net = NeuralNetClassifier(
            RecurrentNet,
            module__n_features=n_features,
            module__out_features=int(y.max()) + 1,
            module__cell=self.spec["cell"],
            module__hidden_size=self.spec["hidden_size"],
            module__n_steps=n_steps,
            criterion=nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            lr=1e-3,
            batch_size=self.spec["batch_size"],
            max_epochs=self.epochs,
            train_split=None,
            iterator_train__shuffle=True,
            device="cpu",
            verbose=0,
        )
        with torch_threads(self.threads):
            self.net.fit(self._inputs(X), y)
        return self

    def predict(self, X):
        return self.net.predict(self._inputs(X))


def sktime_class(name: str):
    """sktime's classifier for a method name, or the import error as a str."""
    module, attr = SKTIME[name]
    try:
        return getattr(importlib.import_module(module), attr)
    except Exception as exc:  # ImportError, or sktime failing on import
        return f"{type(exc).__name__}: {exc}"


class SktimeMethod:
    """sktime on X as ``(n, F, T)``, its layout (a transposed view of ours)."""

    def __init__(self, name, spec, epochs, threads):
        self.threads = threads
        common = {
            "hidden_dim": spec["hidden_size"],
            "num_epochs": epochs,
            "batch_size": spec["batch_size"],
            "lr": 1e-3,
            "verbose": False,
            "random_state": 0,
        }
        if name == "sktime-rnn":
            self.est = sktime_class(name)(
                **common,
                activation_hidden="tanh",
                optimizer="Adam",
                callbacks=None,
            )
        else:  # GRUClassifier: Adam by default, no scheduler
            self.est = sktime_class(name)(**common, n_layers=1, batch_first=True)

    def fit(self, X, y):
        with warnings.catch_warnings(), torch_threads(self.threads):
            warnings.simplefilter("ignore")
            self.est.fit(X.transpose(0, 2, 1), y)
        return self

    def predict(self, X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.est.predict(X.transpose(0, 2, 1))


def make_method(name, spec, epochs, threads):
    if name == "hand":
        return HandLoop(spec, epochs, threads)
    if name == "hand-fused":
        return HandLoop(spec, epochs, threads, fused=True)
    if name == "hand-packed":
        return HandLoop(spec, epochs, threads, packs=True)
    if name == "skdeep":
        return skdeep_method(spec, epochs)
    if name == "skdeep-bare":
        return skdeep_method(spec, epochs, bare=True)
    if name == "skdeep-rnn":
        return skdeep_method(spec, epochs, cell="rnn")
    if name == "skorch":
        return SkorchMethod(spec, epochs, threads)
    if name in SKTIME:
        return SktimeMethod(name, spec, epochs, threads)
    raise ValueError(name)


def case_methods(spec, wanted) -> tuple[tuple[str, ...], list[str]]:
    """The methods that apply to a case, and notes on those left out."""
    names, notes = [], []
    digits = spec["data"] == "digits"
    varying = not digits and spec["steps"][0] != spec["steps"][1]
    for name in METHODS:
        if name != "hand" and name not in wanted:
            continue
        if name == "hand-packed" and not varying:
            continue
        if name in SKTIME or name == "skdeep-rnn":
            if not digits:
                continue
            if name in SKTIME:
                found = sktime_class(name)
                if isinstance(found, str):
                    notes.append(f"{name} skipped (not importable: {found[:120]}).")
                    continue
        names.append(name)
    if "skdeep-rnn" in names and "sktime-rnn" not in names:
        names.remove("skdeep-rnn")  # only there to sit next to sktime-rnn
    return tuple(names), notes


# -- one table ------------------------------------------------------------------


def run_table(spec, data, threads, repeats, methods):
    """Time every method side by side under ``torch.set_num_threads(threads)``."""
    X_train, _, y_train, _ = data
    bs, epochs = spec["batch_size"], spec["epochs"]
    torch.set_num_threads(threads)
    cost = make_module(spec, X_train, int(y_train.max()) + 1).cost_per_sample()
    step_threads = num_threads(min(bs, len(X_train)) * cost)

    def build(name, n_epochs=epochs):
        return make_method(name, spec, n_epochs, step_threads)

    note, table, _, _ = compare_methods(
        build, methods, data, spec, threads, repeats, cost, step_threads
    )
    if "sktime-rnn" in methods:
        note += (
            " sktime-rnn is an Elman RNN: compare it with skdeep-rnn (cell='rnn'),"
            " and sktime-gru with skdeep."
        )
    return note, table


# -- peak memory of fit, one fresh process per method --------------------------


def memory_child(args):
    """Runs in a fresh process: load the data, fit one method, report RSS."""
    import json

    spec = case_spec(args.case, args.quick)
    data = np.load(args.data)
    X, y = data["X"], data["y"]
    if "lengths" in data:  # a list of sequences, saved padded
        X = [x[:length] for x, length in zip(X, data["lengths"], strict=True)]
    del data
    torch.set_num_threads(args.threads[0])
    cost = make_module(spec, X, int(y.max()) + 1).cost_per_sample()
    threads = num_threads(min(spec["batch_size"], len(X)) * cost)
    name = args.memory_child
    method = make_method(name, spec, 1, threads)
    warm = slice(0, min(len(X), 4 * spec["batch_size"]))
    small = make_method(name, spec, 1, threads)
    result = fit_peak_rss(lambda: small.fit(X[warm], y[warm]), lambda: method.fit(X, y))
    print(json.dumps(result))


def run_memory(case, spec, data, threads, methods, quick):
    X_train, _, y_train, _ = data
    module = make_module(spec, X_train, int(y_train.max()) + 1)
    n_params = sum(p.numel() for p in module.parameters())
    x, lengths = pad(X_train)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.npz")
        extra = {} if lengths is None else {"lengths": lengths.numpy()}
        np.savez(path, X=x.numpy(), y=y_train, **extra)
        for name in methods:
            argv = [os.path.abspath(__file__), "--_memory-child", name]
            argv += ["--case", case, "--data", path, "--threads", str(threads)]
            results[name] = run_child(argv + (["--quick"] if quick else []))
    note = (
        f"X_train = {x.numel() * 4 / 2**20:.0f} MB float32 (padded); params + "
        f"grads + Adam moments = {n_params * 16 / 2**20:.1f} MB ({n_params} "
        "params). A fresh process per method, 1 epoch, torch.set_num_threads("
        f"{threads}); a 1-epoch fit on {min(len(X_train), 4 * spec['batch_size'])}"
        " rows first maps the libraries' kernels and starts thread pools; 'peak "
        "increase' is VmHWM during the real fit minus RSS just before it."
    )
    return note, memory_table(results)


# -- main -------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[torch.get_num_threads()]
    )
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: a smoke test (~1 min)"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=list(METHODS),
        help="subset to run ('hand', the reference, is always included)",
    )
    parser.add_argument("--_memory-child", dest="memory_child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return memory_child(args)

    print(f"# skdeep RNN benchmark\n\n{machine_info()}\n")
    cases = list(CASES) if args.case == "all" else [args.case]
    for case in cases:
        spec = case_spec(case, args.quick)
        data = load_case(spec)
        repeats = args.repeats or spec["repeats"]
        methods, notes = case_methods(spec, set(args.methods))
        print(f"## {spec['title']}\n")
        for line in notes:
            print(f"{line}\n")
        for threads in args.threads:
            print(f"[{case}] threads={threads}", file=sys.stderr)
            note, table = run_table(spec, data, threads, repeats, methods)
            print(f"{note}\n\n{table}\n", flush=True)
        if not args.no_memory and (not args.quick or case == cases[-1]):
            print(f"[{case}] memory", file=sys.stderr)
            note, table = run_memory(
                case, spec, data, max(args.threads), methods, args.quick
            )
            print(f"### Peak memory of fit\n\n{note}\n\n{table}\n", flush=True)


if __name__ == "__main__":
    main()
