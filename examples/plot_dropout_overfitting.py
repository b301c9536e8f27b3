"""
Over-fitting, and dropout against it
====================================

A network with far more weights than training examples can fit its
training set exactly, noise included. Its training loss then keeps falling
while the loss on data it has not seen turns and rises: it has stopped
learning the task and started memorising the sample. Here a wide net (two
hidden layers of 256 units, about 85,000 weights) learns from 500 digits
whose labels are partly wrong, the noise a net can memorise.

Dropout zeroes each hidden unit with probability ``p`` at every training
step, so no unit can rely on a particular other one being there: the net
has to learn features that work in many thinned sub-networks, which makes
memorising single examples hard. The figure shows the training loss (on
the noisy labels), the loss on clean held-out digits and the held-out
accuracy, epoch by epoch, for the same net without regularisation, with
``dropout=0.5``, and with an L2 penalty (``alpha``) for comparison.
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
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from skdeep import DNNClassifier
from skdeep.plotting import TrainingCurveDisplay

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

# %%
# Little data, noisy labels
# -------------------------
#
# 500 digits train (pixels scaled to [0, 1], float32, skdeep's fast path);
# the other 1,297 are held out with their true labels. 30% of the training
# labels are redrawn at random, so nearly that many are wrong (a tenth of
# the redrawn ones land on the right digit by chance). A model that learns
# the digits gets those rows "wrong" and a held-out accuracy near the clean
# one; a model that memorises the sample gets them "right".

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=500, stratify=y, random_state=0
)
rng = np.random.RandomState(0)
redrawn = rng.rand(len(y_train)) < 0.3
y_noisy = y_train.copy()
y_noisy[redrawn] = rng.randint(10, size=redrawn.sum())
wrong = y_noisy != y_train
print(f"{wrong.sum()} of the {len(y_train)} training labels are wrong")

# %%
# Scoring held-out data after every epoch
# ---------------------------------------
#
# ``early_stopping=True`` would hold out part of the training data and keep
# the best epoch's weights, which is itself a cure for over-fitting (see
# below). To watch over-fitting happen, the nets here train on all 500 rows
# for a fixed 100 epochs, and a small skorch callback scores the held-out
# digits after each epoch, in evaluation mode (dropout off). It records the
# loss and the accuracy in ``history_`` under the names skdeep uses for a
# validation split, so :class:`~skdeep.plotting.TrainingCurveDisplay` draws
# them with the training loss.


class HeldOutScore(Callback):
    """Cross-entropy and accuracy on (X, y) after each epoch, in ``history_``."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def on_epoch_end(self, net, **kwargs):
        module = net.module_
        device = next(module.parameters()).device
        X = torch.as_tensor(self.X, device=device)
        y = torch.as_tensor(self.y, device=device)
        module.eval()  # dropout off, as in predict
        with torch.no_grad():
            logits = module(X)
        module.train()
        net.history.record("valid_loss", F.cross_entropy(logits, y).item())
        net.history.record("valid_score", (logits.argmax(1) == y).float().mean().item())


# %%
# Three nets, one difference each
# -------------------------------
#
# The same architecture, seed, Adam optimizer and mini-batches of 32 rows.
# ``n_iter_no_change=100`` lets every net run all 100 epochs (the warning
# that the training loss still moves at the end is expected and silenced).

common = dict(
    hidden_layer_sizes=(256, 256),
    batch_size=32,
    max_iter=100,
    n_iter_no_change=100,
    random_state=0,
    callbacks=[HeldOutScore(X_test, y_test)],
)
nets = {
    "no regularisation": DNNClassifier(alpha=0.0, **common),
    "dropout=0.5": DNNClassifier(dropout=0.5, alpha=0.0, **common),
    "L2, alpha=0.01": DNNClassifier(alpha=0.01, **common),
}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # fixed epochs
    for net in nets.values():
        net.fit(X_train, y_noisy)

print(
    "\n                    fits the  wrong labels  held-out loss     held-out accuracy"
    "\n                    training   memorised    lowest    end   best (epoch)   end"
)
for name, net in nets.items():
    predicted = net.predict(X_train)
    losses = np.array(net.history_[:, "valid_loss"])
    scores = np.array(net.history_[:, "valid_score"])
    print(
        f"{name:>18}: {np.mean(predicted == y_noisy):8.3f}"
        f"  {np.mean(predicted[wrong] == y_noisy[wrong]):10.3f}"
        f"  {losses.min():9.3f} {losses[-1]:6.3f}"
        f"  {scores.max():7.3f} ({scores.argmax() + 1:3d})"
        f"  {net.score(X_test, y_test):6.3f}"
    )

# %%
# The curves
# ----------
#
# Without regularisation, the training loss goes to almost zero: the net
# ends up fitting every training label, wrong ones included. The held-out
# loss bottoms out at 0.56, then climbs by half, to 0.83, and the held-out
# accuracy falls about thirteen points from its peak of 0.90 (epoch 9) to
# 0.77 as the wrong labels are learnt.
#
# With dropout, the held-out loss hardly turns up: its lowest is 0.46 and it
# ends at 0.49, while the training loss falls much more slowly. Dropout
# slows memorisation rather than forbidding it: by the end this net has
# fitted three in five of the wrong labels, and its accuracy has drifted
# some three points below its peak (0.91 at epoch 23), which is why dropout
# is usually combined with early stopping. The L2 penalty, which keeps the
# weights small, fits only about one in seven of the wrong labels here, and
# its held-out loss turns up only a little (lowest 0.59, last 0.61), its
# accuracy slipping from 0.91 (epoch 15) to 0.89. ``fit`` ends on the
# weights of the epoch with the lowest training loss, whose held-out
# accuracy is the last column above and the figure's titles: 0.77 without
# regularisation, 0.88 with dropout, 0.89 with L2.

fig, axes = plt.subplots(1, 3, figsize=(14, 4.3), sharey=True, layout="constrained")
for ax, (name, net), color in zip(
    axes, nets.items(), ["tab:red", "tab:blue", "tab:green"], strict=True
):
    display = TrainingCurveDisplay.from_estimator(net, ax=ax, name="", color=color)
    display.score_ax_.get_legend().remove()
    display.score_ax_.set_ylim(0.5, 1)
    display.score_ax_.set_ylabel("held-out accuracy")
    ax.set_title(f"{name}: held-out accuracy {net.score(X_test, y_test):.3f}")
axes[0].set_ylim(0, 2.5)
styles = {
    "train loss (noisy labels)": "-",
    "held-out loss": "--",
    "held-out accuracy (right axis)": ":",
}
fig.legend(
    [plt.Line2D([], [], color="k", linestyle=style) for style in styles.values()],
    list(styles),
    loc="outside lower center",
    ncols=3,
)
fig.savefig(out / "dropout_overfitting.png", dpi=100)

# %%
# Other cures
# -----------
#
# * ``early_stopping=True`` holds out ``validation_fraction`` of the
#   training rows, stops when their score has not improved for
#   ``n_iter_no_change`` epochs and keeps the best epoch's weights: the
#   "best epoch" column above, without the held-out data.
# * More data: the over-fitting here comes from few rows and noisy labels;
#   with clean labels the same net has no wrong labels to memorise.
# * ``dropout`` and ``alpha`` are ordinary parameters, so
#   ``GridSearchCV`` tunes them (see ``plot_dnn_digits.py``).

print(f"saved {out / 'dropout_overfitting.png'}")
