"""GPU side-by-side: skdeep vs a hand-written PyTorch loop, and the RBM.

Run where CUDA is present: ``python benchmarks/bench_gpu.py``. Prints
markdown tables of seconds and ratios measured in the same process.
"""

import time

import numpy as np
import torch
from sklearn.datasets import make_classification

from skdeep import RBM, DNNClassifier
from skdeep.modules import MLP


def sync():
    torch.cuda.synchronize()


def hand_loop(X, y, sizes, batch_size, epochs, seed=0):
    torch.manual_seed(seed)
    device = torch.device("cuda")
    model = MLP(X.shape[1], int(y.max()) + 1, sizes).to(device)
    Xt, yt = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device)
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    for _ in range(epochs):
        order = torch.randperm(len(Xt), device=device)
        for start in range(0, len(Xt), batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad()
            loss_fn(model(Xt[index]), yt[index]).backward()
            optimizer.step()
    sync()
    return model


def timed(fn):
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def main():
    print(f"device: {torch.cuda.get_device_name()}")
    X, y = make_classification(
        60000, 784, n_informative=200, n_classes=10, random_state=0
    )
    X = X.astype(np.float32)
    sizes, batch, epochs = (512, 256), 128, 3
    hand_loop(X[:2000], y[:2000], sizes, batch, 1)  # warm-up: CUDA context, kernels
    rows = []
    for _ in range(3):
        hand = timed(lambda: hand_loop(X, y, sizes, batch, epochs))
        ours = timed(
            lambda: DNNClassifier(
                sizes,
                batch_size=batch,
                max_iter=epochs,
                tol=0,
                device="cuda",
                alpha=0,
                random_state=0,
            ).fit(X, y)
        )
        rows.append((hand, ours))
    hand, ours = np.median(rows, axis=0)
    print("\n| case (b) on GPU, 3 epochs | seconds | ratio to hand loop |")
    print("|---|---|---|")
    print(f"| hand-written loop (Adam) | {hand:.2f} | 1.00 |")
    print(f"| DNNClassifier | {ours:.2f} | {ours / hand:.2f} |")

    V = (np.random.RandomState(0).rand(60000, 784) < 0.2).astype(np.float32)
    print("\n| RBM 60000x784 binary, 256 hidden, PCD-1, SGD | s/epoch |")
    print("|---|---|")
    for batch_size in (64, 256, 1024):
        rbm = RBM(
            256,
            learning_rate=0.05,
            batch_size=batch_size,
            max_iter=1,
            device="cuda",
            random_state=0,
        )
        rbm.fit(V[:1000])  # warm-up
        seconds = timed(lambda: rbm.fit(V))  # noqa: B023
        print(f"| batch {batch_size} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
