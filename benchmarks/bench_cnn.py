"""CNNClassifier vs a hand-written PyTorch loop, plain skorch and sktime.

Side by side in one run, float32, on

* (a) digits: ``load_digits`` / 16 as 1x8x8 images, 75/25 split; LeNet-5,
  batch 64, 30 epochs;
* (b) a generated 1-D set the size of a UCR problem: 1,000 training and 500
  test series, 1 channel x 150 steps, 5 classes (a sine of a class-specific
  frequency, random phase and amplitude, in unit noise); FCN (Wang et al.
  2017), batch 16, 100 epochs;
* (c) 10,000 training and 2,000 test random 3x32x32 images (unit noise plus
  a weak per-class colour shift, 10 classes); the 2-D ResNet preset
  (ResNet-8), batch 128, 2 epochs;
* (d) (b)'s series with the 1-D ResNet preset (Wang et al. 2017), batch 16,
  100 epochs: the network sktime's ``ResNetClassifierTorch`` builds.

Methods (all but sktime train the same :class:`skdeep.modules.ConvNet`; all
use Adam lr=1e-3, no L2 penalty, every epoch run):

* ``hand``: the reference, a minimal loop over preloaded float32 tensors
  (``randperm`` + index slicing, ``zero_grad`` / forward /
  ``CrossEntropyLoss`` / ``backward`` / ``step``) with ``torch.optim.Adam``
  at its defaults (on the CPU: the per-parameter for-loop implementation);
  its inference function is ``module(torch.from_numpy(X)).argmax(1)`` under
  ``inference_mode``, the module in eval mode;
* ``hand-fused``: the same loop with ``Adam(fused=True)`` (what skdeep uses);
* ``hand-cl`` (``--channels-last``, image cases a and c): ``hand-fused``
  with the module and the inputs in ``torch.channels_last``;
* ``skdeep``: ``CNNClassifier(architecture, batch_size, max_iter, alpha=0,
  tol=0, n_iter_no_change=max_iter + 1, random_state=0, device="cpu",
  dtype="float32")``, its other parameters at their defaults. Two defaults
  cost time the hand loop does not spend: the fit ends on the weights of
  the epoch with the lowest training loss (a ``state_dict`` copy at every
  improving epoch), and, for nets with batch norm (resnet, fcn), it
  recomputes the batch-norm statistics over the training rows (at most
  2,048, drawn at random) after the last epoch (one extra forward pass, in
  chunks of the training batch size);
* ``skdeep-bare``: the same estimator with both of those switched off (the
  private class switches ``_keep_best_epoch`` and
  ``_recalibrate_batch_norm`` set on the instance): what they cost;
* ``skorch``: a plain ``skorch.NeuralNetClassifier(ConvNet, ...)``
  (``train_split=None``, shuffled);
* ``sktime`` (cases b and d, when ``sktime`` is importable; it is not a
  skdeep dependency): ``FCNClassifierTorch(filter_sizes=(128, 256, 128),
  kernel_sizes=(8, 5, 3))`` on (b), ``ResNetClassifierTorch(n_filters=(64,
  128, 128), kernel_size=(8, 5, 3))`` on (d), both with
  ``optimizer="Adam", lr=1e-3, callbacks=None`` (no ReduceLROnPlateau), the
  same batch size and epochs. Its own network (the same layers; its own
  initialisation) and its own loop: a per-sample ``Dataset``, a
  ``DataLoader`` that does not shuffle, and a ``loss.item()`` per batch.

Reported per case: fit time and its ratio to ``hand`` (ratios are taken
within a repeat, then the median over repeats), test accuracy, the time to
predict the whole test set and its ratio to the hand inference function,
the median latency of ``predict(X[:1])``, the time of skdeep's batch-norm
recalibration pass, and the peak RSS increase of a 1-epoch ``fit`` measured
in a fresh subprocess per method. Targets: fit <= 1.05x ``hand``, batch
predict <= 1.5x the hand inference function.

Threads: ``--threads 1 2`` runs each table under ``torch.set_num_threads``
(default: the process setting). skdeep then applies its policy
(``skdeep._threads.num_threads`` with the module's ``cost_per_sample()``); the
hand loops, skorch and sktime train under exactly the number of threads
skdeep picks for the step.

``--quick`` shrinks every case (fewer rows, shorter series, 1-2 epochs, one
repeat, fewer latency calls, memory on the last case only) to check that the
script runs, in about a minute; its numbers mean little.

Run time at the defaults on a 2-core CPU, extrapolated from ``--quick``:
(a) ~2 min, (c) ~15 min, (b) ~1-1.5 h and (d) ~2-3 h (100 epochs of batch
16, six methods, three repeats); trim with ``--case``, ``--repeats`` and
``--methods``.

Usage::

    python benchmarks/bench_cnn.py [--case a|b|c|d|all] [--repeats N]
                                   [--threads 1 2] [--channels-last]
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
    median,
    memory_table,
    run_child,
    time_call,
    torch_threads,
)
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from skdeep import CNNClassifier
from skdeep._threads import num_threads
from skdeep.modules import ConvNet

CASES = {
    "a": {
        "title": "(a) digits 1x8x8 (1347 train), LeNet-5, batch 64, 30 epochs",
        "data": "digits",
        "architecture": "lenet5",
        "batch_size": 64,
        "epochs": 30,
        "repeats": 5,
        "latency_calls": 2000,
        "predict_calls": 20,
    },
    "b": {
        "title": (
            "(b) generated series 1000 train x 1 channel x 150 steps, FCN, "
            "batch 16, 100 epochs"
        ),
        "data": "signals",
        "n_train": 1000,
        "n_test": 500,
        "length": 150,
        "architecture": "fcn",
        "batch_size": 16,
        "epochs": 100,
        "repeats": 3,
        "latency_calls": 1000,
        "predict_calls": 10,
        "sktime": "fcn",
    },
    "c": {
        "title": (
            "(c) random images 10000 train x 3x32x32, ResNet-8 (2-D preset), "
            "batch 128, 2 epochs"
        ),
        "data": "images",
        "n_train": 10000,
        "n_test": 2000,
        "size": 32,
        "architecture": "resnet",
        "batch_size": 128,
        "epochs": 2,
        "repeats": 3,
        "latency_calls": 500,
        "predict_calls": 5,
    },
    "d": {
        "title": (
            "(d) (b)'s series, 1-D ResNet preset (Wang et al.), batch 16, 100 epochs"
        ),
        "data": "signals",
        "n_train": 1000,
        "n_test": 500,
        "length": 150,
        "architecture": "resnet",
        "batch_size": 16,
        "epochs": 100,
        "repeats": 3,
        "latency_calls": 1000,
        "predict_calls": 10,
        "sktime": "resnet",
    },
}

# --quick: the same cases, small enough that the script runs in about a minute.
QUICK = {
    "a": {"epochs": 2},
    "b": {"n_train": 64, "n_test": 32, "length": 48, "epochs": 2},
    "c": {"n_train": 256, "n_test": 64, "epochs": 1},
    "d": {"n_train": 64, "n_test": 32, "length": 48, "epochs": 1},
}
QUICK_ALL = {"repeats": 1, "latency_calls": 100, "predict_calls": 2}

METHODS = ("hand", "hand-fused", "hand-cl", "skdeep", "skdeep-bare", "skorch", "sktime")


def case_spec(case: str, quick: bool) -> dict:
    spec = dict(CASES[case])
    if quick:
        spec.update(QUICK_ALL, **QUICK[case])
        spec["title"] += (
            " [--quick: " + ", ".join(f"{k}={v}" for k, v in QUICK[case].items()) + "]"
        )
    return spec


# -- data ---------------------------------------------------------------------


def load_case(spec: dict):
    """``(X_train, X_test, y_train, y_test)``: float32 (n, C, L) or (n, C, H, W)."""
    if spec["data"] == "digits":
        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).reshape(-1, 1, 8, 8)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=0, stratify=y
        )
    else:
        n = spec["n_train"] + spec["n_test"]
        make = make_signals if spec["data"] == "signals" else make_images
        X, y = make(n, spec)
        X_train, X_test = X[: spec["n_train"]], X[spec["n_train"] :]
        y_train, y_test = y[: spec["n_train"]], y[spec["n_train"] :]
    return (
        np.ascontiguousarray(X_train, dtype=np.float32),
        np.ascontiguousarray(X_test, dtype=np.float32),
        y_train.astype(np.int64),
        y_test.astype(np.int64),
    )


def make_signals(n: int, spec: dict, n_classes: int = 5, seed: int = 0):
    """One-channel series: a sine of ``2 + class`` cycles in unit noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    t = np.arange(spec["length"]) / spec["length"]
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    amplitude = rng.uniform(0.5, 1.5, (n, 1))
    X = amplitude * np.sin(2 * np.pi * (2 + y[:, None]) * t + phase)
    X += rng.standard_normal(X.shape)
    return X[:, None, :].astype(np.float32), y


def make_images(n: int, spec: dict, n_classes: int = 10, seed: int = 0):
    """Unit-noise RGB images shifted by 0.1 x a per-class colour."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    colours = np.random.default_rng(seed + 1).standard_normal((n_classes, 3))
    size = spec["size"]
    X = rng.standard_normal((n, 3, size, size), dtype=np.float32)
    X += (0.1 * colours[y]).astype(np.float32)[:, :, None, None]
    return X, y


def cost_per_sample(spec: dict, input_shape, n_classes: int) -> int:
    return ConvNet(input_shape, n_classes, spec["architecture"]).cost_per_sample()


# -- the methods ----------------------------------------------------------------


class HandLoop:
    """The minimal PyTorch training loop and inference function."""

    def __init__(self, spec, epochs, threads, fused=False, channels_last=False):
        self.architecture, self.batch_size = spec["architecture"], spec["batch_size"]
        self.epochs, self.threads, self.fused = epochs, threads, fused
        self.format = torch.channels_last if channels_last else None

    def fit(self, X, y):
        n, bs = len(X), self.batch_size
        if n % bs == 1:  # batch norm cannot train on a last batch of one row
            raise ValueError(f"{n} rows in batches of {bs} leave a batch of 1.")
        torch.manual_seed(0)
        module = ConvNet(X.shape[1:], int(y.max()) + 1, self.architecture)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        if self.format is not None:
            module = module.to(memory_format=self.format)
            Xt = Xt.contiguous(memory_format=self.format)
        optimizer = torch.optim.Adam(
            module.parameters(), lr=1e-3, fused=True if self.fused else None
        )
        criterion = nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(0)
        with torch_threads(self.threads):
            module.train()
            for _ in range(self.epochs):
                order = torch.randperm(n, generator=generator)
                for start in range(0, n, bs):
                    index = order[start : start + bs]
                    xb = Xt[index]
                    if self.format is not None:
                        xb = xb.contiguous(memory_format=self.format)
                    optimizer.zero_grad(set_to_none=True)
                    loss = criterion(module(xb), yt[index])
                    loss.backward()
                    optimizer.step()
        module.eval()
        self.module_ = module
        return self

    def predict(self, X):
        with torch.inference_mode():
            x = torch.from_numpy(X)
            if self.format is not None:
                x = x.contiguous(memory_format=self.format)
            return self.module_(x).argmax(1).numpy()


def skdeep_method(spec, epochs, bare=False) -> EstimatorMethod:
    """The estimator with the hand loop's settings: Adam 1e-3, no L2, every epoch."""
    return EstimatorMethod(
        CNNClassifier(
            spec["architecture"],
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

    def fit(self, X, y):
        from skorch import NeuralNetClassifier

        torch.manual_seed(0)
        self.net = NeuralNetClassifier(
            ConvNet,
            module__input_shape=X.shape[1:],
            module__out_features=int(y.max()) + 1,
            module__architecture=self.spec["architecture"],
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
            self.net.fit(X, y)
        return self

    def predict(self, X):
        return self.net.predict(X)


def sktime_class(kind: str):
    """sktime's classifier for ``kind`` ("fcn" or "resnet"), or the import error."""
    module, name = {
        "fcn": ("sktime.classification.deep_learning.fcn", "FCNClassifierTorch"),
        "resnet": (
            "sktime.classification.deep_learning.resnet",
            "ResNetClassifierTorch",
        ),
    }[kind]
    try:
        return getattr(importlib.import_module(module), name)
    except Exception as exc:  # ImportError, or sktime failing on import
        return f"{type(exc).__name__}: {exc}"


class SktimeMethod:
    def __init__(self, spec, epochs, threads):
        kind, self.threads = spec["sktime"], threads
        if kind == "fcn":
            shape = {"filter_sizes": (128, 256, 128), "kernel_sizes": (8, 5, 3)}
        else:
            shape = {"n_filters": (64, 128, 128), "kernel_size": (8, 5, 3)}
        self.est = sktime_class(kind)(
            **shape,
            num_epochs=epochs,
            batch_size=spec["batch_size"],
            optimizer="Adam",
            lr=1e-3,
            callbacks=None,
            verbose=False,
            random_state=0,
        )

    def fit(self, X, y):
        with warnings.catch_warnings(), torch_threads(self.threads):
            warnings.simplefilter("ignore")  # padding="same" with even kernels
            self.est.fit(X, y)
        return self

    def predict(self, X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.est.predict(X)


def make_method(name, spec, epochs, threads):
    if name == "hand":
        return HandLoop(spec, epochs, threads)
    if name == "hand-fused":
        return HandLoop(spec, epochs, threads, fused=True)
    if name == "hand-cl":
        return HandLoop(spec, epochs, threads, fused=True, channels_last=True)
    if name == "skdeep":
        return skdeep_method(spec, epochs)
    if name == "skdeep-bare":
        return skdeep_method(spec, epochs, bare=True)
    if name == "skorch":
        return SkorchMethod(spec, epochs, threads)
    if name == "sktime":
        return SktimeMethod(spec, epochs, threads)
    raise ValueError(name)


def case_methods(spec, wanted, channels_last) -> tuple[tuple[str, ...], list[str]]:
    """The methods that apply to a case, and notes on those left out."""
    names, notes = [], []
    for name in METHODS:
        if name != "hand" and name not in wanted:
            continue
        if name == "hand-cl" and not (channels_last and spec["data"] != "signals"):
            continue
        if name == "sktime":
            if "sktime" not in spec:
                continue
            found = sktime_class(spec["sktime"])
            if isinstance(found, str):
                notes.append(f"sktime skipped (not importable: {found[:120]}).")
                continue
        names.append(name)
    return tuple(names), notes


# -- one table ------------------------------------------------------------------


def run_table(spec, data, threads, repeats, methods):
    """Time every method side by side under ``torch.set_num_threads(threads)``."""
    X_train, _, y_train, _ = data
    bs, epochs = spec["batch_size"], spec["epochs"]
    torch.set_num_threads(threads)
    cost = cost_per_sample(spec, X_train.shape[1:], int(y_train.max()) + 1)
    step_threads = num_threads(min(bs, len(X_train)) * cost)

    def build(name, n_epochs=epochs):
        return make_method(name, spec, n_epochs, step_threads)

    note, table, fitted, times = compare_methods(
        build, methods, data, spec, threads, repeats, cost, step_threads
    )
    if "skdeep" in fitted:
        note += " " + recalibration_note(fitted["skdeep"].est, X_train, times)
    return note, table


def recalibration_note(est, X, times) -> str:
    """Time skdeep's batch-norm recalibration pass alone, on the training rows."""
    from skdeep._net import TensorData

    net = est.net_
    if not hasattr(net, "recalibrate_batch_norm"):
        return "(skdeep has no batch-norm recalibration.)"
    norms = nn.modules.batchnorm._BatchNorm
    if not any(isinstance(m, norms) for m in net.module_.modules()):
        return "The net has no batch norm: skdeep recalibrates nothing."
    data = TensorData((torch.from_numpy(X),))
    threads = num_threads(min(len(X), 8192) * est._cost)
    with torch_threads(threads):
        seconds = time_call(lambda: net.recalibrate_batch_norm(data))
    share = seconds / median(times["skdeep"])
    return (
        f"skdeep's batch-norm recalibration pass over the {len(X)} training rows "
        f"takes {seconds:.2f} s alone ({share:.1%} of its median fit)."
    )


# -- peak memory of fit, one fresh process per method --------------------------


def memory_child(args):
    """Runs in a fresh process: load the data, fit one method, report RSS."""
    import json

    spec = case_spec(args.case, args.quick)
    data = np.load(args.data)
    X, y = data["X"], data["y"]
    del data
    torch.set_num_threads(args.threads[0])
    cost = cost_per_sample(spec, X.shape[1:], int(y.max()) + 1)
    threads = num_threads(min(spec["batch_size"], len(X)) * cost)
    name = args.memory_child
    method = make_method(name, spec, 1, threads)
    warm = slice(0, min(len(X), 4 * spec["batch_size"]))
    small = make_method(name, spec, 1, threads)
    result = fit_peak_rss(lambda: small.fit(X[warm], y[warm]), lambda: method.fit(X, y))
    print(json.dumps(result))


def run_memory(case, spec, data, threads, methods, quick):
    X_train, _, y_train, _ = data
    n_classes = int(y_train.max()) + 1
    module = ConvNet(X_train.shape[1:], n_classes, spec["architecture"])
    n_params = sum(p.numel() for p in module.parameters())
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "data.npz")
        np.savez(path, X=X_train, y=y_train)
        for name in methods:
            argv = [os.path.abspath(__file__), "--_memory-child", name]
            argv += ["--case", case, "--data", path, "--threads", str(threads)]
            results[name] = run_child(argv + (["--quick"] if quick else []))
    note = (
        f"X_train = {X_train.nbytes / 2**20:.0f} MB float32; params + grads + "
        f"Adam moments = {n_params * 16 / 2**20:.1f} MB ({n_params} params). A "
        "fresh process per method, 1 epoch, torch.set_num_threads("
        f"{threads}); a 1-epoch fit on {min(len(X_train), 4 * spec['batch_size'])}"
        " rows first maps the libraries' kernels and starts thread pools; 'peak "
        "increase' is VmHWM during the real fit minus RSS just before it (skdeep's "
        "includes its batch-norm recalibration pass, in chunks of the batch size)."
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
    parser.add_argument(
        "--channels-last",
        action="store_true",
        help="add hand-cl: the fused hand loop in channels_last (cases a, c)",
    )
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: a smoke test (~1 min)"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=METHODS,
        default=[m for m in METHODS if m != "hand-cl"],
        help="subset to run ('hand', the reference, is always included; "
        "hand-cl needs --channels-last)",
    )
    parser.add_argument("--_memory-child", dest="memory_child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return memory_child(args)

    wanted = set(args.methods) | ({"hand-cl"} if args.channels_last else set())
    print(f"# skdeep CNN benchmark\n\n{machine_info()}\n")
    cases = list(CASES) if args.case == "all" else [args.case]
    for case in cases:
        spec = case_spec(case, args.quick)
        data = load_case(spec)
        repeats = args.repeats or spec["repeats"]
        methods, notes = case_methods(spec, wanted, args.channels_last)
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
