"""
Learned features: a trained network feeding another model
=========================================================

The hidden layers of a trained classifier turn the raw input into features
in which the classes are easy to separate: the output layer is only a
linear model on the last of them. Every skdeep network has ``transform``,
which returns those last-hidden-layer activations (or, for a CNN or an
RNN without dense hidden layers, its pooled convolutional features or its
summary of the sequence), so its features can feed any other model.

A ``DNNClassifier`` is trained on half of the 8x8 digits. The other half
plays the part of new data with only a few labels of its own. The first
figure projects the new digits onto two dimensions (PCA), from their raw
pixels and from the net's 32 features, coloured by digit. The second
trains a logistic regression and a 1-nearest-neighbour classifier on
1 to 20 labelled examples per digit of the new data, on raw pixels and on
the learned features, and scores them on the rest of it.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import silhouette_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from skdeep import DNNClassifier

# The nets train a fixed number of epochs; that they could go on is expected.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

# %%
# A net trained on one half, features for the other
# -------------------------------------------------
#
# Pixels scaled to [0, 1], float32 (skdeep's fast path). The net has two
# hidden layers, 128 and 32 units, and learns from the 898 digits of half
# ``A``. ``transform`` on half ``B`` returns the 32 activations of the last
# hidden layer, in evaluation mode (no dropout), one row per digit;
# ``get_feature_names_out`` names them after the estimator, as scikit-learn
# transformers do, and ``set_output(transform="pandas")`` would return them
# as a DataFrame with those columns.

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_a, X_b, y_a, y_b = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)

net = DNNClassifier((128, 32), max_iter=100, random_state=0).fit(X_a, y_a)
features_b = net.transform(X_b)
names = net.get_feature_names_out()
print(f"net trained on {len(X_a)} digits in {net.n_iter_} epochs")
print(f"transform(X_b): {features_b.shape}, {features_b.dtype}")
print(f"feature names: {names[0]}, {names[1]}, ..., {names[-1]}")
print(f"the net itself on half B: accuracy {net.score(X_b, y_b):.3f}")

# %%
# Two projections of the new digits
# ---------------------------------
#
# PCA keeps the two directions of largest variance. Two dimensions are
# few for ten classes, and neither projection separates all of them; but in
# the learned features the digits are tighter and further apart, in the
# plane and in all 32 dimensions. The silhouette score measures that: for
# each point, how much closer it is to its own digit than to the nearest
# other one, from -1 to 1 (clusters that do not overlap), averaged.

for name, Z in [("raw pixels", X_b), ("learned features", features_b)]:
    pca = PCA(n_components=2, random_state=0).fit(Z)
    print(
        f"{name:>16}: silhouette by digit {silhouette_score(Z, y_b):.2f} in "
        f"{Z.shape[1]} dimensions, {silhouette_score(pca.transform(Z), y_b):.2f} "
        f"in the PCA plane, which holds {pca.explained_variance_ratio_.sum():.0%} "
        "of the variance"
    )

fig_pca, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
for ax, Z, title in [
    (axes[0], X_b, "raw pixels (64)"),
    (axes[1], features_b, "learned features, net.transform (32)"),
]:
    projected = PCA(n_components=2, random_state=0).fit_transform(Z)
    points = ax.scatter(*projected.T, c=y_b, cmap="tab10", s=8, vmin=-0.5, vmax=9.5)
    for digit in range(10):  # the digit at the middle of its points
        ax.annotate(
            str(digit),
            np.median(projected[y_b == digit], axis=0),
            fontsize=14,
            weight="bold",
            ha="center",
            va="center",
        )
    ax.set_title(f"PCA of half B: {title}")
    ax.set_xticks([])
    ax.set_yticks([])
fig_pca.colorbar(points, ax=axes, ticks=range(10), label="digit")
fig_pca.savefig(out / "transform_features_pca.png", dpi=100)

# %%
# Few labels on the new half
# --------------------------
#
# For each number of labelled examples per digit, 10 random draws of that
# many digits of half ``B`` train the two models; the rest of half ``B``
# scores them. The same draws are used for pixels and features. These are
# 200 tiny fits, on which BLAS threads cost more time than they save (many
# times more when other processes share the cores): they run on one.

rng = np.random.RandomState(0)
per_class = [1, 2, 5, 10, 20]
models = {
    "logistic regression": lambda: LogisticRegression(max_iter=1000),
    "1-nearest neighbour": lambda: KNeighborsClassifier(n_neighbors=1),
}
inputs = {"raw pixels": X_b, "learned features": features_b}
accuracy = {(m, i): np.zeros((len(per_class), 10)) for m in models for i in inputs}
with threadpool_limits(limits=1):
    for row, k in enumerate(per_class):
        for draw in range(10):
            labelled = np.concatenate(
                [
                    rng.choice(np.flatnonzero(y_b == d), k, replace=False)
                    for d in range(10)
                ]
            )
            rest = np.setdiff1d(np.arange(len(y_b)), labelled)
            for (model, data), scores in accuracy.items():
                Z = inputs[data]
                fitted = models[model]().fit(Z[labelled], y_b[labelled])
                scores[row, draw] = fitted.score(Z[rest], y_b[rest])

print("\nmean accuracy on the rest of half B (10 draws)")
print(f"{'labels per digit:':<40}" + "".join(f"{k:>7d}" for k in per_class))
for (model, data), scores in accuracy.items():
    means = scores.mean(axis=1)
    print(f"{model + ', ' + data:<40}" + "".join(f"{m:7.3f}" for m in means))

# %%
# With one labelled digit of each class, a model on raw pixels gets about
# two thirds of the rest right; on the learned features, more than four
# fifths. The gap narrows as labels are added: with 20 per class both are
# past 90%, raw pixels still behind. The labels the features need were
# spent on half ``A``: the net learnt there what tells the digits apart,
# and the new model only has to learn where each digit's cluster lies.
# Features learnt without labels come from ``RBM`` and ``DBNTransformer``
# instead (see ``plot_dbn_pipeline.py``).

fig, ax = plt.subplots(figsize=(7, 4.3), layout="constrained")
styles = {"logistic regression": "-", "1-nearest neighbour": "--"}
colors = {"raw pixels": "tab:grey", "learned features": "tab:green"}
for (model, data), scores in accuracy.items():
    ax.errorbar(
        per_class,
        scores.mean(axis=1),
        yerr=scores.std(axis=1),
        color=colors[data],
        linestyle=styles[model],
        marker="o",
        capsize=3,
        label=f"{model}, {data}",
    )
ax.set_xscale("log")
ax.set_xticks(per_class, [str(k) for k in per_class])
ax.set_xlabel("labelled examples per digit")
ax.set_ylabel("accuracy on the rest of half B")
ax.set_title("Few labels: raw pixels vs the net's features")
ax.legend(fontsize="small")
fig.savefig(out / "transform_features_few_labels.png", dpi=100)

# %%
# Features for what the net was trained on
# ----------------------------------------
#
# The features are good at what the net's training asked for. A net trained
# only on the digits 0 to 4 of half ``A``, whose features then serve the
# digits 5 to 9 of half ``B``, has never had to tell a 5 from an 8: with
# 5 labels per digit, its features do worse than the raw pixels.

unseen = y_b >= 5
net_04 = DNNClassifier((128, 32), max_iter=100, random_state=0)
net_04.fit(X_a[y_a < 5], y_a[y_a < 5])
X_new, y_new = X_b[unseen], y_b[unseen]
transfer = {"raw pixels": X_new, "features of the 0-4 net": net_04.transform(X_new)}
scores = {data: [] for data in transfer}
with threadpool_limits(limits=1):
    for _ in range(10):
        labelled = np.concatenate(
            [
                rng.choice(np.flatnonzero(y_new == d), 5, replace=False)
                for d in range(5, 10)
            ]
        )
        rest = np.setdiff1d(np.arange(len(y_new)), labelled)
        for data, Z in transfer.items():
            clf = LogisticRegression(max_iter=1000).fit(Z[labelled], y_new[labelled])
            scores[data].append(clf.score(Z[rest], y_new[rest]))
print("\ndigits 5-9 of half B, 5 labels per digit, logistic regression (10 draws):")
for data, values in scores.items():
    print(f"  {data:<24}: {np.mean(values):.3f}")

# %%
# A net as a pipeline step
# ------------------------
#
# A classifier with ``transform`` can also be an intermediate step of a
# ``Pipeline``: ``fit`` trains the net on the pipeline's ``y`` and hands its
# features to the next step, so the whole is fitted, scored, cross-validated
# and grid-searched like one model (``features__dropout`` would be a grid
# parameter). Here a 1-nearest-neighbour classifier on the net's features,
# fitted on all of half ``A`` with its labels.

pipeline = Pipeline(
    [
        ("features", DNNClassifier((128, 32), max_iter=100, random_state=0)),
        ("knn", KNeighborsClassifier(n_neighbors=1)),
    ]
).fit(X_a, y_a)
raw_knn = KNeighborsClassifier(n_neighbors=1).fit(X_a, y_a)
print("\nall of half A labelled, accuracy on half B:")
print(f"  Pipeline(net -> 1-NN): {pipeline.score(X_b, y_b):.3f}")
print(f"  1-NN on raw pixels:    {raw_knn.score(X_b, y_b):.3f}")

# %%
# With every label of half ``A`` at hand, the raw pixels do better here:
# with plenty of labelled examples, the nearest neighbour in pixels is hard
# to beat on these small, centred images. The learned features pay off
# where labels are few, as above.

print(f"saved the figures in {out}")
