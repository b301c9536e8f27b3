"""
A 1-D convolutional network on time series
==========================================

Each series holds one bump at a random place in Gaussian noise; its class
is the bump's *shape*: a square (class 0) or a triangle (class 1) of the same
energy, so neither the bump's energy nor its place tells the classes apart.
A convolution slides the same filters along the series, so it sees the
shape wherever it sits; a dense layer on the raw values must learn every
position separately. Compared: ``CNNClassifier("lenet5")`` on the series
(a 2-D X is read as one-channel signals ``(n, 1, L)``) and scikit-learn's
``MLPClassifier`` on the same rows.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skdeep import CNNClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed epochs
out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)


def bump_series(n, length=64, width=16, noise=0.4, seed=0):
    """Noisy series with one square (class 0) or triangle (class 1) bump,
    and where each bump starts."""
    rng = np.random.RandomState(seed)
    y = rng.randint(2, size=n)
    X = noise * rng.randn(n, length)
    triangle = 1.5 * (1 - np.abs(np.linspace(-1, 1, width)))
    square = np.full(width, np.sqrt(np.mean(triangle**2)))  # the same energy
    starts = rng.randint(length - width + 1, size=n)
    for row, label, start in zip(X, y, starts, strict=True):
        row[start : start + width] += triangle if label else square
    return X.astype("float32"), y, starts  # float32: the fast path


X, y, starts = bump_series(600)
X_train, X_test, y_train, y_test, starts_train, _ = train_test_split(
    X, y, starts, test_size=0.25, random_state=0
)

models = {
    "MLPClassifier\n(raw rows)": MLPClassifier(max_iter=500, random_state=0),
    "CNNClassifier\n(1-D LeNet-5)": CNNClassifier(
        "lenet5",
        batch_norm=True,
        batch_size=32,
        max_iter=60,
        n_iter_no_change=60,  # run all 60 epochs of the cosine schedule
        lr_schedule="cosine",
        random_state=0,
    ),
}
scores = {}
for name, model in models.items():
    scores[name] = model.fit(X_train, y_train).score(X_test, y_test)
    print(f"{name.splitlines()[0]:>14}: test accuracy {scores[name]:.3f}")

fig = plt.figure(figsize=(10, 4.2), layout="constrained")
left, right = fig.subfigures(1, 2, width_ratios=[1.8, 1])
steps = np.arange(X.shape[1])
for ax, label, name, color in zip(
    left.subplots(2, 1, sharex=True),
    [0, 1],
    ["square", "triangle"],
    ["tab:blue", "tab:orange"],
    strict=True,
):
    rows = np.flatnonzero(y_train == label)[:3]
    for level, i in enumerate(rows):
        offset = 3 * level  # one series per level
        ax.plot(steps, X_train[i] + offset, color=color)
        start = starts_train[i]
        ax.fill_between(
            [start, start + 15], offset - 1.0, offset + 1.9, color=color, alpha=0.15
        )
    ax.set_yticks([])
    ax.set_title(f"class {label}: a {name} bump (shaded), anywhere", fontsize=10)
ax.set_xlabel("time step")
left.suptitle("Three training series of each class")
ax_bar = right.subplots()
ax_bar.bar(list(scores), list(scores.values()), color=["grey", "tab:green"])
ax_bar.axhline(0.5, color="k", linestyle=":", label="chance")
for i, score in enumerate(scores.values()):
    ax_bar.text(i, score + 0.01, f"{score:.3f}", ha="center")
ax_bar.set_ylim(0.4, 1.05)
ax_bar.set_ylabel("test accuracy")
ax_bar.set_title("Square or triangle?")
ax_bar.legend(loc="upper left")
fig.savefig(out / "cnn_signals.png", dpi=100)
print(f"saved {out / 'cnn_signals.png'}")
