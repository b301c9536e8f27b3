"""
The perceptron and XOR
======================

A network without a hidden layer, ``DNNClassifier(hidden_layer_sizes=())``,
is a linear model: its logits are ``W x + b`` and ``predict_proba`` passes
them through a softmax, so for two classes it is logistic regression, and
the boundary between its classes (where both logits are equal) is a
straight line. It learns the truth tables of AND and OR, whose two classes
a line separates. XOR is the classic counter-example (Minsky and Papert,
1969): its ones, ``(0, 1)`` and ``(1, 0)``, sit on one diagonal of the
square and its zeros on the other, and no line puts both diagonals on
different sides. Adding one hidden layer of 4 tanh units lets the net bend
its boundary, and XOR is learned.

Every net trains by plain batch gradient descent (``optimizer="sgd"``,
``batch_size="full"``: one step per epoch on all 4 rows). The figure shows
the probability of class 1 that each net gives across the plane (the black
line is where it is 0.5) with the 4 training points marked by class.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from skdeep import DNNClassifier

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

# %%
# The truth tables
# ----------------
#
# The four input pairs, and the output of each boolean function for them.
# float32 X is skdeep's fast path.

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
tables = {
    "AND": np.array([0, 0, 0, 1]),
    "OR": np.array([0, 1, 1, 1]),
    "XOR": np.array([0, 1, 1, 0]),
}


def gradient_descent_net(hidden_layer_sizes, activation="tanh", random_state=0):
    """A net trained by full-batch gradient descent until its loss stalls."""
    return DNNClassifier(
        hidden_layer_sizes,
        activation,
        optimizer="sgd",
        learning_rate=0.5,
        batch_size="full",
        max_iter=2000,
        random_state=random_state,
    )


# %%
# The perceptron on AND, OR and XOR
# ---------------------------------
#
# On XOR, the best a linear logistic model can do is to give up: by the
# symmetry of the four points, its loss is lowest with all weights at zero,
# where every point gets probability 0.5 (a loss of ``log 2 = 0.693``, what
# predicting the class frequencies gives). skdeep notices a fit that never
# beats that constant prediction and warns; the warning is caught and printed
# here because it is the point of the example.

panels = []
for name, y in tables.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = gradient_descent_net(()).fit(X, y)
    panels.append((f"{name}, no hidden layer", net, y))
    print(
        f"{name:>3}, no hidden layer: {np.sum(net.predict(X) == y)}/4 correct, "
        f"final loss {net.loss_curve_[-1]:.4f} after {net.n_iter_} epochs"
    )
    for warning in caught:
        print(f"     warning: {warning.message}")

# %%
# One hidden layer on XOR
# -----------------------
#
# Four tanh units between input and output. Each hidden unit draws its own
# line across the plane; the output layer combines them, so the boundary it
# draws can separate the two diagonals.

y_xor = tables["XOR"]
net = gradient_descent_net((4,), "tanh").fit(X, y_xor)
panels.append(("XOR, one hidden layer (4 tanh)", net, y_xor))
print(
    f"XOR, one hidden layer (4 tanh units): {np.sum(net.predict(X) == y_xor)}/4 "
    f"correct, final loss {net.loss_curve_[-1]:.4f} after {net.n_iter_} epochs"
)

# %%
# That a hidden layer *can* represent XOR does not mean gradient descent
# always finds it: from some random starts it ends in a poor local minimum.
# Over ten seeds, tanh units find a solution 9 times here, ReLU units only
# 5 times. A ReLU unit gets no gradient from a point where its input is
# negative, since it outputs 0 there whatever its weights; one that is
# negative on all four points is "dead" and never recovers. XOR needs at
# least two live units (two lines). The ReLU nets that fail here keep two
# or three, as many as some of the solved ones, but their lines are in the
# wrong places, and nothing pulls them right (``transform`` gives the
# hidden activations, printed below for the first failed ReLU net). The
# failed nets raise no warning (with some points right, their loss beats
# the constant prediction's ``log 2``), so only the counts below show them.

failed_relu = []
for activation in ["tanh", "relu"]:
    solved, live = [], []
    for seed in range(10):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the failures are counted below
            seed_net = gradient_descent_net((4,), activation, seed).fit(X, y_xor)
        solved.append(seed_net.score(X, y_xor) == 1.0)
        live.append(int(np.sum(np.any(seed_net.transform(X) != 0, axis=0))))
        if activation == "relu" and not solved[-1]:
            failed_relu.append(seed_net)
    print(f"XOR, 4 {activation} units: solved for {sum(solved)} of 10 seeds")
    if activation == "relu":
        for outcome, keep in [("solved", True), ("failed", False)]:
            counts = [n for n, s in zip(live, solved, strict=True) if s == keep]
            print(f"    live units left in the {outcome} nets: {counts}")

failed = failed_relu[0]
print("\nthe first failed ReLU net: hidden activations, then P(class 1)")
for point, hidden, proba, label in zip(
    X, failed.transform(X), failed.predict_proba(X)[:, 1], y_xor, strict=True
):
    print(
        f"    {point.astype(int)} (class {label}): "
        + " ".join(f"{h:5.2f}" for h in hidden)
        + f"  ->  {proba:.2f}"
    )

# %%
# In that net, ``(0, 0)`` and ``(0, 1)`` get the same hidden activations,
# all zero or nearly: the output layer, a linear model on those
# activations, can only give them the same probability, 0.5, though their
# classes differ. The two live units fire on the other two points (at
# ``(0, 1)`` one of them is a few thousandths above zero, which prints as
# 0.00), so ``(0, 0)`` and ``(0, 1)`` pass them almost no gradient,
# nothing moves a line between those two points, and gradient descent
# stalls: the loss stops improving and training ends after fewer than two
# hundred epochs, where the solved nets train for some five hundred. It is
# a true dead end: trained for all 2,000 epochs (``n_iter_no_change=2000``),
# this net ends at a loss of ``(log 2) / 2 = 0.35``, two points right and
# two at 0.5.

# %%
# Decision regions
# ----------------
#
# Each panel colours the plane by the net's probability of class 1; the
# black line is the decision boundary (probability 0.5). The perceptron's
# boundary on XOR is wherever its near-zero weights happen to put it: it
# predicts 0.5 everywhere, up to rounding.

grid = np.linspace(-0.5, 1.5, 201, dtype="float32")
xx, yy = np.meshgrid(grid, grid)
plane = np.column_stack([xx.ravel(), yy.ravel()])

fig, axes = plt.subplots(1, 4, figsize=(15, 4.2), sharey=True, layout="constrained")
for ax, (title, net, y) in zip(axes, panels, strict=True):
    proba = net.predict_proba(plane)[:, 1].reshape(xx.shape)
    image = ax.contourf(
        xx, yy, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r", vmin=0, vmax=1
    )
    if proba.min() < 0.5 < proba.max():
        ax.contour(xx, yy, proba, levels=[0.5], colors="k", linewidths=1.5)
    for label, marker, color in [(0, "o", "tab:blue"), (1, "s", "tab:red")]:
        rows = y == label
        ax.scatter(
            X[rows, 0],
            X[rows, 1],
            marker=marker,
            s=120,
            color=color,
            edgecolor="k",
            label=f"class {label}",
            zorder=3,
        )
    correct = np.sum(net.predict(X) == y)
    ax.set_title(f"{title}\n{correct}/4 correct (accuracy {correct / 4:.2f})")
    ax.set_xlabel("$x_1$")
    ax.set_aspect("equal")
axes[0].set_ylabel("$x_2$")
axes[0].legend(loc="upper left", fontsize=8)
fig.colorbar(image, ax=axes, shrink=0.8, label="P(class 1)")
fig.savefig(out / "perceptron_xor.png", dpi=100)
print(f"saved {out / 'perceptron_xor.png'}")
