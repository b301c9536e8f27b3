"""
A deep belief network as a feature extractor
============================================

``DBNTransformer`` learns features without labels; a linear model on top of
them classifies. The experiment of scikit-learn's RBM example: the digits,
each also shifted by one pixel in four directions, so that raw pixels are a
poor representation for a linear model. Compared: logistic regression on raw
pixels, on one RBM's features, and on a two-layer DBN's features.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy.ndimage import shift
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeep import RBM, DBNTransformer

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

X, y = load_digits(return_X_y=True)
images = (X.reshape(-1, 8, 8) / 16).astype(np.float32)  # float32: the fast path
moves = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]
X = np.concatenate([shift(images, (0, *m), order=0).reshape(len(X), -1) for m in moves])
y = np.tile(y, len(moves))
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)

models = {
    "raw pixels": LogisticRegression(C=100, max_iter=100),
    "RBM(100)": make_pipeline(
        RBM(n_components=100, learning_rate=0.06, max_iter=10, random_state=0),
        LogisticRegression(C=100, max_iter=100),
    ),
    "DBN(256, 128)": make_pipeline(
        DBNTransformer((256, 128), learning_rate=0.06, max_iter=20, random_state=0),
        StandardScaler(),  # the top layer's probabilities saturate near 0 and 1
        LogisticRegression(C=100, max_iter=100),
    ),
}
scores = {}
for name, model in models.items():
    scores[name] = model.fit(X_train, y_train).score(X_test, y_test)
    print(f"{name:>14}: test accuracy {scores[name]:.3f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.bar(list(scores), list(scores.values()), color=["grey", "tab:blue", "tab:green"])
ax.set_ylim(0.5, 1)
ax.set_ylabel("test accuracy")
ax.set_title("Logistic regression on learned features")
fig.tight_layout()
fig.savefig(out / "dbn_pipeline.png", dpi=100)
print(f"saved {out / 'dbn_pipeline.png'}")
