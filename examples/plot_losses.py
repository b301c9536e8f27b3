"""
Loss functions: cross-entropy, squared error and robust regression
==================================================================

The loss is what gradient descent minimises, and its gradient is what
back-propagation carries to every weight, so the choice of loss decides
what a network learns from each example.

*Classification.* Squared error on a predicted probability looks
reasonable but trains badly: through the sigmoid (or softmax) of the
output unit, its gradient with respect to the logit vanishes when the net
is confidently wrong, exactly when it should learn most. Cross-entropy,
the loss skdeep's classifiers train with, grows without bound there and
its gradient stays large. The first figure draws both losses and their
gradients against the probability the net gives the true class.

*Regression.* Squared error makes every point pull on the fit in
proportion to its residual, so a few gross outliers drag the whole curve;
the absolute error pulls with the same force whatever the residual, and
the Huber loss is squared for small residuals and absolute for large ones.
The second figure fits ``DNNRegressor(loss=...)`` with each of the three
to a noisy curve with a few large outliers, and measures each fit against
the clean curve.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.exceptions import ConvergenceWarning
from torch import nn

from skdeep import DNNRegressor

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

# %%
# Squared error and cross-entropy on a classifier's output
# --------------------------------------------------------
#
# Take one example of the positive class and an output unit with logit
# ``z``; the net's probability for the true class is ``p = sigmoid(z)``.
# (A two-class softmax is the sigmoid of the difference of the two logits,
# so this is also a ``DNNClassifier``'s case, with ``z`` that difference.)
# The two losses, computed by torch's own functions, and their gradients
# with respect to ``z`` by autograd:
#
# * cross-entropy ``-log p``, gradient ``p - 1``;
# * squared error ``(1 - p)^2``, gradient ``-2 (1 - p) p (1 - p)``: the
#   sigmoid's derivative ``p (1 - p)`` multiplies it, and goes to 0 as
#   ``p`` goes to 0.

z = torch.linspace(-9, 9, 1801, dtype=torch.float64, requires_grad=True)
target = torch.ones_like(z)
p = torch.sigmoid(z)
losses = {
    "cross-entropy": F.binary_cross_entropy_with_logits(z, target, reduction="none"),
    "squared error": F.mse_loss(p, target, reduction="none"),
}
gradients = {
    name: torch.autograd.grad(loss.sum(), z)[0].numpy()  # d loss_i / d z_i
    for name, loss in losses.items()
}
p = p.detach().numpy()
losses = {name: loss.detach().numpy() for name, loss in losses.items()}

print("p(true class)   cross-entropy: loss  |dL/dz|   squared error: loss  |dL/dz|")
for level in [0.001, 0.01, 0.1, 0.5, 0.9, 0.99]:
    i = np.argmin(np.abs(p - level))
    ce, se = "cross-entropy", "squared error"
    print(
        f"{p[i]:13.3f}   {losses[ce][i]:19.3f}  {abs(gradients[ce][i]):7.3f}"
        f"   {losses[se][i]:19.3f}  {abs(gradients[se][i]):7.4f}"
    )

# %%
# A net that gives the true class a probability of 0.001 gets a gradient
# of 0.999 on its logit from the cross-entropy, and about 0.002 from the
# squared error, less than at ``p = 0.9``: with squared error, a unit that
# saturates on the wrong side is all but stuck. This is why classifiers are
# trained with cross-entropy (the negative log-likelihood of the labels),
# and why skdeep's modules output logits and leave the softmax to the loss
# (``torch.nn.CrossEntropyLoss``), which computes ``-log p`` from ``z``
# without ever rounding ``p`` to 0.

colors = {"cross-entropy": "tab:blue", "squared error": "tab:orange"}
fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for name, color in colors.items():
    ax_loss.plot(p, losses[name], color=color, label=name)
    ax_grad.plot(p, np.abs(gradients[name]), color=color, label=name)
ax_loss.set_ylim(0, 5)
ax_loss.set_ylabel("loss")
ax_loss.set_title("Loss of one example")
ax_grad.set_ylabel(r"$|\partial L / \partial z|$")
ax_grad.set_title("Gradient with respect to the logit $z$")
for ax in (ax_loss, ax_grad):
    ax.set_xlabel("predicted probability of the true class, $p = \\sigma(z)$")
    ax.axvspan(0, 0.1, color="tab:red", alpha=0.1)
    ax.legend()
ax_grad.annotate(
    "confidently wrong:\nsquared error's\ngradient vanishes",
    (0.01, 0.02),
    (0.12, 0.45),
    arrowprops={"arrowstyle": "->"},
    fontsize=9,
)
fig.savefig(out / "losses_classification.png", dpi=100)

# %%
# Regression with outliers
# ------------------------
#
# 150 noisy samples of a smooth curve; 15 of them (10%) are gross errors,
# shifted up by 4 to 8. ``DNNRegressor``'s ``loss`` takes
# ``"squared_error"`` (``nn.MSELoss``), ``"absolute_error"``
# (``nn.L1Loss``) and ``"huber"`` (``nn.HuberLoss``, with torch's default
# ``delta=1``: squared below a residual of 1 in the units of ``y``,
# absolute above). Each of the three losses as a function of the residual:

residual = torch.linspace(-4, 4, 401, dtype=torch.float64)
regression_losses = {
    "squared_error": nn.MSELoss(reduction="none"),
    "absolute_error": nn.L1Loss(reduction="none"),
    "huber": nn.HuberLoss(reduction="none"),
}
loss_of_residual = {
    name: loss(residual, torch.zeros_like(residual)).numpy()
    for name, loss in regression_losses.items()
}

rng = np.random.RandomState(0)


def curve(x):
    """The clean curve the data are noisy samples of."""
    return np.sin(1.5 * x) + 0.3 * x


x = np.sort(rng.uniform(-3, 3, 150))
y = curve(x) + 0.2 * rng.randn(150)
outliers = rng.choice(150, 15, replace=False)
y[outliers] += rng.uniform(4, 8, 15)
X = x.reshape(-1, 1).astype("float32")  # float32: the fast path
X_plot = np.linspace(-3, 3, 400).reshape(-1, 1).astype("float32")

# %%
# The same network for each loss: two hidden layers of 32 tanh units,
# trained with Adam on the full batch for 600 epochs (the same budget for
# all three, so ``n_iter_no_change=600``; the warning that the fit may not
# have converged is expected and silenced).

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed epochs
fits = {}
print("\nerror of each fit against the clean curve (on 400 points in [-3, 3]):")
for loss in regression_losses:
    reg = DNNRegressor(
        (32, 32),
        "tanh",
        loss=loss,
        learning_rate=0.01,
        batch_size="full",
        max_iter=600,
        n_iter_no_change=600,
        random_state=0,
    ).fit(X, y)
    fits[loss] = reg.predict(X_plot)
    error = fits[loss] - curve(X_plot.ravel())
    rmse, bias = np.sqrt(np.mean(error**2)), np.mean(error)
    fits[loss] = (fits[loss], rmse)
    print(f"  {loss:>14}: RMSE {rmse:.3f}, mean error (bias) {bias:+.3f}")

# %%
# The squared-error fit is lifted towards the outliers, by about their
# share times their size (10% of +6 on average), and bends to reach some of
# them; the absolute-error fit ignores them and follows the clean curve; the
# Huber fit, whose outliers each pull with a force capped at ``delta``, is
# in between, close to the absolute error. The price of the robust losses:
# with clean Gaussian noise, the squared error is the most efficient
# estimate of the mean.

loss_colors = {
    "squared_error": "tab:orange",
    "absolute_error": "tab:blue",
    "huber": "tab:green",
}
fig_reg, (ax_rho, ax_fit) = plt.subplots(
    1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [1, 2]}, layout="constrained"
)
for name, color in loss_colors.items():
    ax_rho.plot(residual.numpy(), loss_of_residual[name], color=color, label=name)
ax_rho.set_ylim(0, 6)
ax_rho.set_xlabel("residual $y - \\hat y$")
ax_rho.set_ylabel("loss")
ax_rho.set_title("Loss of one residual")
ax_rho.legend()

inliers = np.setdiff1d(np.arange(len(x)), outliers)
ax_fit.scatter(x[inliers], y[inliers], s=12, color="grey", label="data")
ax_fit.scatter(x[outliers], y[outliers], s=30, marker="x", color="k", label="outliers")
ax_fit.plot(X_plot, curve(X_plot), "k--", linewidth=1, label="clean curve")
for name, color in loss_colors.items():
    prediction, rmse = fits[name]
    ax_fit.plot(
        X_plot, prediction, color=color, linewidth=2, label=f"{name}: RMSE {rmse:.2f}"
    )
ax_fit.set_xlabel("x")
ax_fit.set_ylabel("y")
ax_fit.set_title("DNNRegressor(loss=...) fits; RMSE against the clean curve")
ax_fit.legend(fontsize=8, ncols=2, loc="upper left")
fig_reg.savefig(out / "losses_regression.png", dpi=100)
print(f"saved the figures in {out}")
