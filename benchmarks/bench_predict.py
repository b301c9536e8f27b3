"""Where the time of a single-row ``DNNClassifier.predict`` goes.

For the two models of ``bench_dnn.py`` (64-256-128-10 and 784-512-256-10),
fitted for one epoch, this times ``predict(X[:1])`` next to the minimal
inference function (``torch.from_numpy`` -> module in eval mode under
``inference_mode`` -> ``argmax``) at 1 and at 2 threads, and the pieces of
skdeep's path: ``check_is_fitted``, ``_check_X``, the parameter count, a
``torch.set_num_threads`` round trip, and the forward pass at the thread
count skdeep's policy picks. All timings are medians of single calls,
methods interleaved.

Usage::

    python benchmarks/bench_predict.py [--calls N] [--threads 1 2]
"""

import argparse
import warnings

import numpy as np
import torch
from _common import latencies, machine_info, markdown_table, median
from sklearn.utils.validation import check_is_fitted

from skdeep import DNNClassifier
from skdeep._threads import num_threads

MODELS = {
    "64-256-128-10": (64, (256, 128)),
    "784-512-256-10": (784, (512, 256)),
}


def fitted(n_features, hidden):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, n_features)).astype(np.float32)
    y = rng.integers(0, 10, 512)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = DNNClassifier(
            hidden_layer_sizes=hidden,
            max_iter=1,
            batch_size=128,
            random_state=0,
            device="cpu",
        ).fit(X, y)
    return est, X[:1].copy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    print(f"# Single-row predict latency\n\n{machine_info()}\n")
    for name, (n_features, hidden) in MODELS.items():
        est, x1 = fitted(n_features, hidden)
        module = est.module_
        module.eval()
        n_params = sum(p.numel() for p in module.parameters())
        rows = []
        for threads in args.threads:
            torch.set_num_threads(threads)
            policy = num_threads(n_params)

            def hand(module=module, x1=x1):
                with torch.inference_mode():
                    return module(torch.from_numpy(x1)).argmax(1).numpy()

            def forward_at(n, module=module, x1=x1, threads=threads):
                def call():
                    torch.set_num_threads(n)
                    with torch.inference_mode():
                        module(torch.from_numpy(x1))
                    torch.set_num_threads(threads)

                return call

            def round_trip(threads=threads):
                torch.set_num_threads(1)
                torch.set_num_threads(threads)

            pieces = {
                "hand inference fn": hand,
                "skdeep predict": lambda est=est, x1=x1: est.predict(x1),
                "  check_is_fitted": lambda est=est: check_is_fitted(est),
                "  _check_X": lambda est=est, x1=x1: est._check_X(x1, reset=False),
                "  set_num_threads(1) + back": round_trip,
                "  forward at 1 thread (+switch)": forward_at(1),
                f"  forward at {threads} thread(s)": forward_at(threads),
            }
            times = {k: [] for k in pieces}
            for _ in range(5):
                for k, fn in pieces.items():
                    for _ in range(50):
                        fn()
                    times[k] += latencies(fn, args.calls // 5)
            base = median(times["hand inference fn"])
            for k in pieces:
                t = median(times[k])
                rows.append([threads, policy, k, f"{t * 1e6:.1f}", f"{t / base:.2f}"])
        print(f"## MLP {name} ({n_params} params)\n")
        headers = [
            "torch threads",
            "skdeep predict threads",
            "what",
            "median us",
            "/ hand",
        ]
        print(markdown_table(headers, rows))
        print()
    torch.set_num_threads(max(args.threads))


if __name__ == "__main__":
    main()
