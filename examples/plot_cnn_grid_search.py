"""
Grid search over CNN architectures
==================================

A ``CNNClassifier`` is a scikit-learn estimator, so ``GridSearchCV`` tunes
its architecture like any other parameter: here the LeNet-5 preset, an
explicit spec of two conv blocks (``[16, 32]``: 16 then 32 channels, each
conv 3x3, batch norm, ReLU, max pool) and a small ResNet, crossed with
dropout and the optimizer, on 1,000 of the 8x8 digit images with 3-fold
cross-validation. ``learning_rate=None`` gives each optimizer its own
default rate (0.01 for SGD, 0.001 for Adam). The heatmap shows the mean
cross-validated accuracy of the 12 candidates; the best one is then scored
on the 797 digits the search never saw.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skdeep import CNNClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # few epochs
# One intra-op thread: on a small machine shared with other work, a second
# thread can make ResNet's larger steps many times slower, not faster.
torch.set_num_threads(1)
out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

X, y = load_digits(return_X_y=True)
images = (X / 16).astype("float32").reshape(-1, 1, 8, 8)  # float32: the fast path
X_search, y_search = images[:1000], y[:1000]
X_test, y_test = images[1000:], y[1000:]

architectures = {"lenet5": "lenet5", "[16, 32]": [16, 32], "resnet": "resnet"}
grid = {
    "architecture": list(architectures.values()),
    "dropout": [0.0, 0.3],
    "optimizer": ["sgd", "adam"],
}
cnn = CNNClassifier(batch_norm=True, batch_size=32, max_iter=12, random_state=0)
search = GridSearchCV(cnn, grid, cv=3).fit(X_search, y_search)

results = search.cv_results_
print("mean CV accuracy (std) of each candidate, best first:")
for i in np.argsort(results["rank_test_score"], kind="stable"):
    params = results["params"][i]
    print(
        f"  architecture={params['architecture']!s:>8}  "
        f"dropout={params['dropout']:.1f}  optimizer={params['optimizer']:>4}: "
        f"{results['mean_test_score'][i]:.3f} ({results['std_test_score'][i]:.3f})"
    )
print(f"best: {search.best_params_}")
test_accuracy = search.score(X_test, y_test)
print(f"best candidate, refitted on all 1000: test accuracy {test_accuracy:.3f}")

# One row per architecture, one column per (optimizer, dropout).
columns = [(opt, d) for opt in grid["optimizer"] for d in grid["dropout"]]
scores = np.empty((len(architectures), len(columns)))
for params, score in zip(results["params"], results["mean_test_score"], strict=True):
    row = [str(a) for a in architectures.values()].index(str(params["architecture"]))
    scores[row, columns.index((params["optimizer"], params["dropout"]))] = score

fig, ax = plt.subplots(figsize=(8, 4))
image = ax.imshow(scores, cmap="viridis", aspect="auto")
for (row, col), score in np.ndenumerate(scores):
    best = score == scores.max()
    ax.text(
        col,
        row,
        f"{score:.3f}",
        ha="center",
        va="center",
        color="black" if score > scores.min() + 0.5 * np.ptp(scores) else "white",
        fontweight="bold" if best else "normal",
    )
ax.set_xticks(range(len(columns)))
ax.set_xticklabels([f"{opt}\ndropout={d}" for opt, d in columns])
ax.set_yticks(range(len(architectures)))
ax.set_yticklabels(list(architectures))
ax.set_xlabel("optimizer and dropout")
ax.set_ylabel("architecture")
ax.set_title(
    f"Mean 3-fold CV accuracy on 1,000 digits ({cnn.max_iter} epochs)\n"
    f"best (bold) refitted: test accuracy {test_accuracy:.3f}"
)
fig.colorbar(image, ax=ax, label="mean CV accuracy")
fig.tight_layout()
fig.savefig(out / "cnn_grid_search.png", dpi=100)
print(f"saved {out / 'cnn_grid_search.png'}")
