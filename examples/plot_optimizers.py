"""
Optimizers: momentum, adaptive rates, Adam
==========================================

Plain stochastic gradient descent moves every weight by the same multiple
of its gradient. The optimizers that followed change that step:

* ``"momentum"`` keeps a running sum of past gradients (a velocity), so the
  steps build up speed along a consistent direction and cancel out across
  oscillations; ``"nesterov"`` evaluates the gradient after the momentum
  step, a look-ahead that corrects overshooting sooner.
* ``"adagrad"`` divides each weight's step by the root of the sum of its
  squared past gradients: rarely updated weights take larger steps, but
  every rate only ever shrinks. ``"rmsprop"`` uses a moving average of the
  squared gradients instead, so the rates can recover.
* ``"adam"`` combines both: a moving average of the gradients (momentum)
  divided by the root of a moving average of their squares (RMSProp), with
  a correction of both averages' start at zero. ``"adamw"`` applies the
  L2 penalty (``alpha``) to the weights directly instead of adding it to
  the gradient, where Adam's scaling would weaken it.

All of them train the same net on the 8x8 digits, each with skdeep's
default learning rate for it (``learning_rate=None``). The first figure
shows their training loss per epoch. The second shows a learning-rate
schedule (``lr_schedule``), which changes the rate from epoch to epoch.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skdeep import DNNClassifier
from skdeep.plotting import TrainingCurveDisplay

# Every net below trains a fixed number of epochs (n_iter_no_change ==
# max_iter); the warnings that some have not converged are expected.
warnings.filterwarnings("ignore", category=ConvergenceWarning)
out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

# %%
# Seven optimizers, each at its default rate
# ------------------------------------------
#
# One hidden layer of 100 units, mini-batches of 32 rows, 30 epochs, the
# same seed (hence the same initial weights and the same batches) for all.
# ``learning_rate=None`` gives each optimizer its own default: 0.01 for the
# SGD family and Adagrad, 0.001 for RMSProp, Adam and AdamW. This is what
# makes ``optimizer`` a grid axis that needs no grid over rates.

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)  # float32: the fast path
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

optimizers = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
common = dict(batch_size=32, max_iter=30, n_iter_no_change=30, random_state=0)
nets = {
    name: DNNClassifier((100,), optimizer=name, **common).fit(X_train, y_train)
    for name in optimizers
}

print("optimizer   rate    loss after 1, 5, 30 epochs    test accuracy")
for name, net in nets.items():
    loss = net.loss_curve_
    print(
        f"{name:>9}  {net.history_[0, 'lr']:.0e}"
        f"    {loss[0]:.3f}  {loss[4]:.3f}  {loss[-1]:.4f}"
        f"           {net.score(X_test, y_test):.3f}"
    )

# %%
# Plain SGD at 0.01 is by far the slowest: after 30 epochs its loss (0.45)
# is where the others are after five. Momentum and Nesterov reach a loss
# some six times lower than SGD's with the same rate (their curves nearly
# coincide, Nesterov's dashed): along a steady direction the velocity builds
# up to about ``1 / (1 - momentum) = 10`` times the plain step. Adagrad and
# RMSProp make large steps from the first epoch (dividing by the root of the
# squared gradients makes the step size independent of the gradient's
# scale), Adagrad's then slowing as its rates decay. RMSProp, Adam and
# AdamW, with a rate ten times smaller than SGD's, end lowest. Adam starts
# more slowly than RMSProp: it corrects its moving averages for starting at
# zero, so its steps are about its rate, 0.001, from the first one, while
# RMSProp's uncorrected average of squares starts small and makes its first
# steps several times larger. AdamW differs from Adam only in how it applies
# the L2 penalty, which is weak at the default ``alpha=1e-4``, so their
# curves almost coincide. The test accuracies differ much less than the
# losses: the digits are easy, and a ranking on one seed and one data set is
# no general verdict.

colors = plt.get_cmap("tab10").colors
fig, ax = plt.subplots(figsize=(8.5, 4.5), layout="constrained")
for (name, net), color in zip(nets.items(), colors, strict=False):
    style = "--" if name == "nesterov" else "-"  # on top of momentum's curve
    TrainingCurveDisplay.from_estimator(
        net, ax=ax, name=name, color=color, linestyle=style
    )
for line in ax.get_lines():  # "adam: train loss" -> "adam (0.976)"
    name = line.get_label().split(":")[0]
    line.set_label(f"{name} ({nets[name].score(X_test, y_test):.3f})")
ax.legend(
    title="optimizer (test accuracy)",
    fontsize="small",
    loc="center left",
    bbox_to_anchor=(1.01, 0.5),
)
ax.set_yscale("log")
ax.set_ylabel("training loss (log scale)")
ax.set_title("Seven optimizers, each at its default learning rate")
fig.savefig(out / "optimizers.png", dpi=100)

# %%
# Learning-rate schedules
# -----------------------
#
# A large rate makes fast progress at first, then keeps the weights
# bouncing around a minimum instead of settling into it. A schedule starts
# large and ends small: ``"step"`` divides the rate by 10 after each third
# of ``max_iter``, ``"cosine"`` lowers it smoothly to zero over
# ``max_iter`` epochs, and ``"plateau"`` divides it by 5 when the monitored
# loss stops improving. Here Adam runs at 0.03, thirty times its default,
# with and without a schedule. The rate of each epoch is recorded in
# ``history_[:, "lr"]``, which ``TrainingCurveDisplay(learning_rate=True)``
# draws on a second, logarithmic axis.

schedules = {"constant": None, '"step"': "step", '"cosine"': "cosine"}
scheduled = {
    name: DNNClassifier((100,), learning_rate=0.03, lr_schedule=schedule, **common).fit(
        X_train, y_train
    )
    for name, schedule in schedules.items()
}
print("\nAdam at 0.03     loss after 10, 20, 30 epochs    test accuracy")
for name, net in scheduled.items():
    loss = net.loss_curve_
    print(
        f"{name:>10}      {loss[9]:.4f}  {loss[19]:.4f}  {loss[-1]:.4f}"
        f"              {net.score(X_test, y_test):.3f}"
    )

# %%
# At a constant 0.03 the loss falls fast but not steadily: when steps
# overshoot it jumps back up, again and again (it is 0.015 at epoch 10 and
# no lower at epoch 20), and after its lowest point, about 0.004 a few
# epochs from the end, it jumps to 0.25 at the last epoch: where such a
# curve stands when training stops is partly luck. (``fit`` keeps the
# weights of the epoch with the lowest training loss, so this net's test
# accuracy, 0.980, is that of its best epoch's weights, not of the last
# epoch's.) The schedules follow the same path while their rate is high,
# then their smaller steps settle: once the rate has dropped, their loss
# falls slowly and steadily, and ends at 0.004 (step) and 0.003 (cosine).
# Their test accuracy is no better here (0.976 and 0.978 against the
# constant rate's 0.980; one seed, one split): what the schedules buy is a
# training loss that ends low instead of wherever the last jump left it.
# With the small default rates of the first figure a schedule has nothing
# to calm and only slows training down: ``lr_schedule="cosine"`` at Adam's
# default rate ends these 30 epochs with a higher training loss than the
# constant rate. A schedule pays off with a rate too large to end with.

fig_schedule, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
for (name, net), color in zip(
    scheduled.items(), ["tab:grey", "tab:orange", "tab:purple"], strict=True
):
    display = TrainingCurveDisplay.from_estimator(
        net, ax=ax, name=name, learning_rate=True, color=color
    )
ax.set_yscale("log")
ax.set_ylabel("training loss (log scale)")
ax.set_title("Adam at a rate of 0.03, with and without a schedule")
fig_schedule.savefig(out / "lr_schedules.png", dpi=100)
print(f"saved {out / 'optimizers.png'} and {out / 'lr_schedules.png'}")
