"""RBM vs scikit-learn's BernoulliRBM, side by side in one run.

Both train PCD-1 with plain SGD on the same rows (n_components=256,
learning_rate=0.05, batch_size=64 unless told otherwise). Reported: seconds
per epoch and its ratio (BernoulliRBM / ours, so > 1 means skdeep is
faster), and the exact pseudo-log-likelihood of held-out rows, computed by
one function for both models' weights.

    python benchmarks/bench_rbm.py                 # digits and 60000x784
    python benchmarks/bench_rbm.py --case large --epochs 5 --batch-sizes 64 256 1024
    python benchmarks/bench_rbm.py --threads 1     # both libraries on one thread
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from threadpoolctl import threadpool_limits

from skdeep import RBM
from skdeep.modules import RBM as RBMModule


def digits():
    X = load_digits().data / 16
    return train_test_split(X.astype(np.float32), test_size=0.2, random_state=0)


def large(n=60000, d=784, prototypes=20, noise=0.08, seed=0):
    """Binary rows with structure: noisy copies of a few random prototypes."""
    rng = np.random.RandomState(seed)
    centres = rng.rand(prototypes, d) < 0.3
    rows = centres[rng.randint(prototypes, size=n)]
    flips = rng.rand(n, d) < noise
    X = np.logical_xor(rows, flips).astype(np.float32)
    return train_test_split(X, test_size=2000, random_state=0)


def held_out_pll(components, hidden, visible, X_test) -> float:
    module = RBMModule(components.shape[1], components.shape[0])
    with torch.no_grad():
        module.weight.copy_(torch.as_tensor(components))
        module.hidden_bias.copy_(torch.as_tensor(hidden))
        module.visible_bias.copy_(torch.as_tensor(visible))
        v = torch.as_tensor(X_test[:500], dtype=torch.float32)
        return float(module.pseudo_log_likelihood(v).mean())


def run_case(name, X_train, X_test, epochs, batch_sizes, threads):
    print(
        f"\n### {name}: {X_train.shape[0]}x{X_train.shape[1]}, {epochs} epochs, "
        f"{threads or 'default'} thread(s)\n"
    )
    print(
        "| batch | BernoulliRBM s/epoch | skdeep RBM s/epoch | speed-up | "
        "PLL BernoulliRBM | PLL skdeep |"
    )
    print("|---|---|---|---|---|---|")
    params = dict(n_components=256, learning_rate=0.05)
    RBM(8, max_iter=1).fit(X_train[:100])  # warm-up: torch's lazy imports
    for batch_size in batch_sizes:
        with threadpool_limits(threads):
            if threads:
                torch.set_num_threads(threads)
            start = time.perf_counter()
            theirs = BernoulliRBM(
                **params, batch_size=batch_size, n_iter=epochs, random_state=0
            ).fit(X_train)
            sk = (time.perf_counter() - start) / epochs
            start = time.perf_counter()
            ours = RBM(
                **params,
                batch_size=batch_size,
                max_iter=epochs,
                device="cpu",
                random_state=0,
            ).fit(X_train)
            us = (time.perf_counter() - start) / epochs
        pll_sk = held_out_pll(
            theirs.components_,
            theirs.intercept_hidden_,
            theirs.intercept_visible_,
            X_test,
        )
        pll_us = held_out_pll(
            ours.components_, ours.intercept_hidden_, ours.intercept_visible_, X_test
        )
        print(
            f"| {batch_size} | {sk:.3f} | {us:.3f} | {sk / us:.2f}x | "
            f"{pll_sk:.2f} | {pll_us:.2f} |",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["digits", "large", "all"], default="all")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--large-epochs", type=int, default=5)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.case in ("digits", "all"):
        run_case("digits", *digits(), args.epochs, args.batch_sizes, args.threads)
    if args.case in ("large", "all"):
        run_case(
            "binary 60000x784",
            *large(),
            args.large_epochs,
            args.batch_sizes,
            args.threads,
        )


if __name__ == "__main__":
    main()
