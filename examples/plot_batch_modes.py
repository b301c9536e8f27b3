"""
Batch, stochastic and mini-batch gradient descent
=================================================

Gradient descent steps against the gradient of the loss. *Batch* gradient
descent computes that gradient exactly, on every training row, before each
step: one accurate, expensive step per epoch. *Stochastic* gradient descent
(SGD) estimates it from a single row: a step per row, each cheap and
noisy. *Mini-batch* gradient descent averages the gradient over a small
batch of rows: the steps are less noisy than SGD's, and a batch of rows
costs little more than one row, since the computer processes the rows of a
batch together.

In skdeep the three are values of ``batch_size``: ``"full"``, ``1`` and any
``n`` (here 32), trained here with plain SGD (``optimizer="sgd"``) at the
same learning rate on 1,000 digits. The figure draws the training loss against
the epochs (passes over the data) and against the seconds of training
(the cumulative ``history_[:, "dur"]``).
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

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

# %%
# Three batch modes, about the same time each
# -------------------------------------------
#
# 1,000 digits train (pixels scaled to [0, 1], float32), the rest test. The
# net has one hidden layer of 64 units; every mode starts from the same
# weights (same ``random_state``) with the same learning rate, 0.1 (ten
# times SGD's default): large enough for the noise of single-row steps to
# matter. An epoch of batch gradient descent is one step, an epoch of SGD
# 1,000 steps, so the modes get very different numbers of epochs, chosen to
# take roughly the same time. ``n_iter_no_change`` equal to ``max_iter``
# runs every epoch (the warnings that some have not converged are silenced).

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=1000, stratify=y, random_state=0
)

modes = {  # name: (batch_size, epochs, colour)
    'batch, batch_size="full"': ("full", 1000, "tab:red"),
    "mini-batch, batch_size=32": (32, 100, "tab:green"),
    "stochastic, batch_size=1": (1, 8, "tab:blue"),
}
nets = {}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # fixed epochs
    for name, (batch_size, epochs, _) in modes.items():
        nets[name] = DNNClassifier(
            (64,),
            optimizer="sgd",
            learning_rate=0.1,
            batch_size=batch_size,
            max_iter=epochs,
            n_iter_no_change=epochs,
            random_state=0,
        ).fit(X_train, y_train)

print("                            epochs   steps  seconds  final loss  test accuracy")
for name, net in nets.items():
    steps = sum(net.history_[:, "train_batch_count"])
    seconds = sum(net.history_[:, "dur"])
    print(
        f"{name:>26}: {net.n_iter_:6d} {steps:7d} {seconds:8.2f}"
        f"  {net.loss_curve_[-1]:10.3f}  {net.score(X_test, y_test):13.3f}"
    )

# %%
# Per epoch and per second
# ------------------------
#
# Per epoch (left, both axes log scale), SGD is far ahead: in one pass over
# the data it takes 1,000 steps where batch gradient descent takes one, and
# each of its noisy steps still goes downhill on average. Batch gradient
# descent needs nearly 100 epochs to get where SGD is after one. The noise
# shows too: the full-batch and mini-batch losses fall (nearly) smoothly,
# while SGD's goes up as well as down from one epoch to the next, as
# single-row gradients push the weights around the way down. (Each point is
# the mean loss over the epoch's steps, so within a long SGD epoch it lags
# behind the weights.)
#
# Per second (right), the order changes. On a net this small the cost of a
# step hardly depends on how many rows it holds, so an epoch of SGD, 1,000
# separate steps each paying that fixed cost for one row, is by far the
# slowest epoch, and one of batch gradient descent the cheapest, though it
# buys only one step. Mini-batches of 32 take about as many steps per
# second as SGD, each averaging the gradients of 32 rows: they reach a low
# loss first, which is why mini-batch gradient descent is the usual choice.
#
# Where the balance lies depends on the machine and the net: on a GPU, or
# with a larger net, a batch of hundreds of rows costs hardly more than
# one row, and larger batches (``"auto"`` is ``min(200, n_samples)``) pay
# off. The learning rate interacts with the batch size too: the noisier the
# steps, the smaller the rate they tolerate (at 0.3, SGD here no longer
# converges while the others do better still). ``plot_optimizers.py``
# compares optimizers, each with its default rate.

fig, (ax_epochs, ax_time) = plt.subplots(
    1, 2, figsize=(12, 4.3), sharey=True, layout="constrained"
)
for name, net in nets.items():
    color = modes[name][2]
    epochs = np.arange(1, net.n_iter_ + 1)
    seconds = np.cumsum(net.history_[:, "dur"])
    ax_epochs.plot(epochs, net.loss_curve_, color=color, marker=".", label=name)
    ax_time.plot(seconds, net.loss_curve_, color=color, marker=".", label=name)
ax_epochs.set_xscale("log")
ax_epochs.set_yscale("log")
ax_epochs.set_xlabel("epoch (log scale)")
ax_epochs.set_ylabel("training loss (log scale)")
ax_epochs.set_title("Loss per epoch")
ax_time.legend()
ax_time.set_xlabel("training time (s), cumulative history_[:, 'dur']")
ax_time.set_title("Loss per second of training")
fig.savefig(out / "batch_modes.png", dpi=100)
print(f"saved {out / 'batch_modes.png'}")
