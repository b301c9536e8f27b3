"""
Activation functions and their derivatives
==========================================

A hidden unit computes ``h = g(w . x + b)``: without the non-linear
activation ``g``, a stack of layers would collapse to a single linear map.
Back-propagation multiplies the gradient by ``g'`` at every layer it
crosses, so the derivative matters as much as the function. The first
figure draws four classic activations, ``"sigmoid"``, ``"tanh"``,
``"relu"`` and ``"leaky_relu"`` (the torch modules skdeep builds for those
names), with their derivatives computed by torch's autograd. The second
shows the softmax, which turns a classifier's output logits into class
probabilities. The third compares the four activations in a one- and a
three-hidden-layer network with ``GridSearchCV`` on the 8x8 digits: the
deep sigmoid net is the one that fails to learn in the same number of
epochs.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from torch import nn

from skdeep import DNNClassifier
from skdeep.plotting import GridSearchDisplay

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

# %%
# The functions and their derivatives
# -----------------------------------
#
# Each activation is evaluated on a grid of inputs ``z`` that requires a
# gradient; ``torch.autograd.grad`` of the sum of the outputs then gives the
# derivative at every grid point (each output depends only on its own input).
# These are the same ``torch.nn`` modules a ``DNNClassifier`` puts after
# each hidden layer; ``nn.LeakyReLU`` has its default negative slope, 0.01.

activations = {
    "sigmoid": nn.Sigmoid(),
    "tanh": nn.Tanh(),
    "relu": nn.ReLU(),
    "leaky_relu": nn.LeakyReLU(),
}
z = torch.linspace(-5, 5, 1001, dtype=torch.float64, requires_grad=True)
curves = {}
for name, function in activations.items():
    value = function(z)
    (derivative,) = torch.autograd.grad(value.sum(), z)
    curves[name] = (value.detach().numpy(), derivative.numpy())
    low, high = derivative.min().item(), derivative.max().item()
    print(f"{name:>10}: derivative between {low:.4g} and {high:.4g} on [-5, 5]")

# %%
# The sigmoid's derivative ``s(z) (1 - s(z))`` is at most 0.25 (at
# ``z = 0``) and nearly zero once ``|z|`` passes 4: every sigmoid layer a
# gradient crosses shrinks it by a factor 4 or more, and a saturated unit
# passes almost nothing. tanh is a rescaled sigmoid, ``2 s(2z) - 1``,
# centred on zero with a derivative of at most 1, but it saturates too.
# ReLU's derivative is exactly 1 for every active unit, so it does not
# shrink the gradient, but it is 0 for an inactive one; leaky ReLU keeps a
# small slope there (0.01) so that no unit stops learning for good.
# The example ``plot_vanishing_gradients.py`` measures what this does to the
# gradient of each layer of a deep network.

z_grid = z.detach().numpy()
fig, axes = plt.subplots(1, 4, figsize=(15, 3.6), layout="constrained")
for ax, (name, (value, derivative)) in zip(axes, curves.items(), strict=True):
    ax.plot(z_grid, value, color="tab:blue", label="$g(z)$")
    ax.plot(z_grid, derivative, color="tab:red", linestyle="--", label="$g'(z)$")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.axvline(0, color="grey", linewidth=0.5)
    ax.set_title(f'activation="{name}"')
    ax.set_xlabel("z")
    ax.set_ylim(-1.2, 2.0)
axes[0].axhline(0.25, color="tab:red", linestyle=":", linewidth=1)
axes[0].annotate("max g' = 0.25", (0, 0.25), (0.4, 0.55), color="tab:red", fontsize=9)
axes[3].annotate("g' = 0.01", (-3, 0.01), (-4.6, 0.35), color="tab:red", fontsize=9)
axes[0].legend(loc="upper left")
fig.savefig(out / "activations.png", dpi=100)

# %%
# The softmax on a classifier's outputs
# -------------------------------------
#
# The output layer of a classifier has one unit per class, with no
# activation: it outputs *logits*, any real numbers. The softmax turns them
# into probabilities, ``p_k = exp(z_k) / sum_j exp(z_j)``: all positive,
# summing to one, in the order of the logits. Adding the same number to
# every logit changes nothing, and for two classes the softmax is the
# sigmoid of the difference of the two logits. Below, three logits: the
# second and third are fixed at 1 and 0, and the first one varies. Far to
# the left, the first class drops out and the other two share the
# probability as two classes do: ``p_2`` tends to ``sigmoid(1 - 0) = 0.73``.

logit = torch.linspace(-5, 5, 201, dtype=torch.float64)
logits = torch.stack([logit, torch.ones_like(logit), torch.zeros_like(logit)], dim=1)
probabilities = torch.softmax(logits, dim=1).numpy()

fig_softmax, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
for k, label in enumerate(["$z_1$ (varies)", "$z_2 = 1$", "$z_3 = 0$"]):
    ax.plot(logit.numpy(), probabilities[:, k], label=f"$p_{k + 1}$, logit {label}")
ax.plot(logit.numpy(), probabilities.sum(axis=1), "k:", label="sum of the three")
ax.set_xlabel("first logit $z_1$")
ax.set_ylabel("softmax probability")
ax.set_title("Softmax of the logits $(z_1, 1, 0)$")
ax.legend(fontsize=8)
fig_softmax.savefig(out / "softmax.png", dpi=100)

# %%
# skdeep's classifiers train on the logits: ``torch.nn.CrossEntropyLoss``
# applies the (log-)softmax itself, more stably than a softmax layer
# followed by a logarithm would. So ``est.module_`` outputs logits, and
# ``predict_proba`` applies the softmax to them. This is checked below on a
# trained net, once the grid search has fitted one.

# %%
# The activations compared on digits
# -----------------------------------
#
# ``activation`` is an ordinary parameter, so ``GridSearchCV`` compares the
# four, each in a net with one hidden layer of 64 units and one with three,
# by 3-fold cross-validation on 1,000 of the digits (pixels scaled to
# [0, 1]; float32 X, skdeep's fast path). Every candidate trains for the
# same 40 epochs of SGD with momentum (``n_iter_no_change=40``: no early
# stop); the warnings that they have not fully converged in that budget are
# expected and silenced.

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed epochs
X, y = load_digits(return_X_y=True)
X = (X / 16).astype("float32")
X_search, y_search = X[:1000], y[:1000]
X_test, y_test = X[1000:], y[1000:]

net = DNNClassifier(
    optimizer="momentum",
    batch_size=32,
    max_iter=40,
    n_iter_no_change=40,
    random_state=0,
)
grid = {
    "activation": list(activations),
    "hidden_layer_sizes": [(64,), (64, 64, 64)],
}
search = GridSearchCV(net, grid, cv=3).fit(X_search, y_search)

results = search.cv_results_
print("\nmean CV accuracy (std) of each candidate:")
for params, mean, std in zip(
    results["params"],
    results["mean_test_score"],
    results["std_test_score"],
    strict=True,
):
    print(
        f"  {params['activation']:>10}, hidden_layer_sizes="
        f"{params['hidden_layer_sizes']!s:<12}: {mean:.3f} ({std:.3f})"
    )
print(f"best: {search.best_params_}")
print(
    f"best candidate, refitted on all 1000: test accuracy "
    f"{search.score(X_test, y_test):.3f}"
)

# %%
# With one hidden layer, the four activations end close together, the
# sigmoid a little behind (0.86 against 0.89-0.90). With three, tanh, ReLU
# and leaky ReLU do slightly better than with one (about 0.90), while the
# sigmoid net falls to 0.13, barely above chance (0.1 for ten classes). On
# its way to the first layer, the gradient crosses three sigmoid layers,
# and each multiplies it by a derivative of at most 0.25, so the first
# layers get a far smaller gradient than the last one, and in 40 epochs the
# net has not started to learn: refitted on the search data, its training
# loss goes from 2.33 at the first epoch to 2.31 at the last, and at its
# lowest only matches ``log 10 = 2.30``, the loss of a uniform guess over
# the ten classes. The weights are
# not to blame: skdeep initialises each layer for its activation (Glorot
# before a sigmoid or tanh, He before a ReLU), so each starts as trainable
# as its activation allows; the sigmoid's small derivative is what is left.

deep_sigmoid = clone(net).set_params(
    activation="sigmoid", hidden_layer_sizes=(64, 64, 64)
)
curve = deep_sigmoid.fit(X_search, y_search).loss_curve_
print(
    f"\ndeep sigmoid net: training loss {curve[0]:.3f} at epoch 1, "
    f"{min(curve):.3f} at best, {curve[-1]:.3f} at epoch {len(curve)} "
    f"(log 10 = {np.log(10):.3f})"
)

display = GridSearchDisplay.from_estimator(
    search, x="activation", hue="hidden_layer_sizes"
)
display.ax_.axhline(0.1, color="k", linestyle=":", linewidth=1, label="chance")
display.ax_.legend(title="hidden_layer_sizes", fontsize=8)
display.ax_.set_ylabel("mean CV accuracy (3 folds)")
display.ax_.set_title("Digits, 40 epochs of SGD with momentum")
display.figure_.savefig(out / "activations_grid_search.png", dpi=100)

# %%
# The logits and ``predict_proba``
# --------------------------------
#
# The best net's torch module applied to the test digits gives the logits;
# their softmax is what ``predict_proba`` returns.

best = search.best_estimator_
with torch.no_grad():
    test_logits = best.module_(torch.as_tensor(X_test, device=best.device_))
softmax_of_logits = torch.softmax(test_logits.double(), dim=1).cpu().numpy()
gap = np.abs(softmax_of_logits - best.predict_proba(X_test)).max()
print(f"\nlargest |softmax(module_(X)) - predict_proba(X)| on the test set: {gap:.1e}")
print(f"saved the figures in {out}")
