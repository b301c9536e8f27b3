"""Why the nets keep their best epoch and recompute batch-norm statistics.

A fully convolutional network (``CNNClassifier("fcn")``, batch norm in every
block) on GunPoint, a UCR time-series problem with 50 training and 150 test
series of 150 steps, over several seeds. Configurations: mini-batches of 16
for 100 epochs ending on the last epoch's weights with the running batch-norm
averages (what a plain training loop gives), then with the batch-norm
statistics recomputed on all training rows, with the best training-loss
epoch's weights, with both, and the estimator's defaults (``batch_size="auto"``
is the whole set here) without and with both.

GunPoint ships inside sktime's package (an optional benchmark dependency):
``pip install sktime``. Run: ``python benchmarks/bench_small_data.py``.
"""

import argparse
import time
import warnings
from importlib import resources

import numpy as np

from skdeep import CNNClassifier
from skdeep._base import BaseNet

MINI_BATCHES = dict(batch_size=16, max_iter=100, n_iter_no_change=10**6)
# name: (parameters, recompute batch-norm statistics, keep the best epoch)
CONFIGS = {
    "batch 16, last epoch, running statistics": (MINI_BATCHES, False, False),
    "batch 16, statistics recomputed": (MINI_BATCHES, True, False),
    "batch 16, best epoch": (MINI_BATCHES, False, True),
    "batch 16, both": (MINI_BATCHES, True, True),
    "defaults without either": ({}, False, False),
    "defaults (both)": ({}, True, True),
}


def load_gunpoint(part: str):
    """``(X, y)``: X of shape (n, 1, 150), float32."""
    root = resources.files("sktime") / "datasets" / "data" / "GunPoint"
    X, y = [], []
    for line in (root / f"GunPoint_{part}.ts").read_text().splitlines():
        if not line.strip() or line.startswith(("#", "@")):
            continue
        values, label = line.rsplit(":", 1)
        X.append([float(v) for v in values.split(",")])
        y.append(int(label))
    return np.array(X, dtype=np.float32)[:, None, :], np.array(y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    X_train, y_train = load_gunpoint("TRAIN")
    X_test, y_test = load_gunpoint("TEST")
    print("| configuration | test accuracy per seed | mean | min |")
    print("|---|---|---|---|")
    for name, (params, recompute, best) in CONFIGS.items():
        BaseNet._recalibrate_batch_norm = recompute
        BaseNet._keep_best_epoch = best
        scores = []
        start = time.perf_counter()
        for seed in range(args.seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf = CNNClassifier("fcn", random_state=seed, **params)
                scores.append(clf.fit(X_train, y_train).score(X_test, y_test))
        row = " ".join(f"{s:.3f}" for s in scores)
        print(
            f"| {name} | {row} | {np.mean(scores):.3f} | {min(scores):.3f} |"
            f"  <!-- {time.perf_counter() - start:.0f} s -->",
            flush=True,
        )


if __name__ == "__main__":
    main()
