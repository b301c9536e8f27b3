"""
Vanishing gradients in a deep network
=====================================

Back-propagation carries the gradient of the loss from the output layer
down to the first one, multiplying it at every layer it crosses by that
layer's weights and by the derivative of its activation. The sigmoid's
derivative is at most 0.25, so through a stack of sigmoid layers the
gradient shrinks geometrically: the layers near the input barely change,
and a deep sigmoid network hardly learns at all. ReLU passes the gradient
of every active unit unchanged and, with weights initialised for it (He
initialisation, which skdeep applies before every rectifier), keeps both
the signal and its gradient the same size from layer to layer. Batch
normalisation is the other remedy: it rescales each layer's inputs so that
neither the signal nor its gradient dies out, even through sigmoids.

Three networks of eight hidden layers of 64 units learn the 8x8 digits:
``"sigmoid"``, ``"relu"`` and sigmoid with ``batch_norm=True``.
:class:`~skdeep.GradientNormRecorder` records the mean gradient
norm of every weight matrix in each epoch. The left panel draws it against
the layer's depth during the first epoch, on a log scale
(:class:`~skdeep.plotting.GradientNormDisplay` with ``kind="layers"``); the
right panel the training loss of the three nets
(:class:`~skdeep.plotting.TrainingCurveDisplay`).
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
from sklearn.model_selection import train_test_split

from skdeep import DNNClassifier, GradientNormRecorder
from skdeep.modules import MLP
from skdeep.plotting import GradientNormDisplay, TrainingCurveDisplay

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

# %%
# Three deep networks
# -------------------
#
# The digits, pixels scaled to [0, 1] (float32, skdeep's fast path), three
# quarters to train. Every net has the same eight hidden layers of 64 units,
# the same seed, Adam (the default optimizer) and mini-batches of 32 rows,
# and trains a fixed 30 epochs (``n_iter_no_change=30``; the warnings that
# some have not converged are expected and silenced). The recorder listens
# to every training step, which costs a little speed.

X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

depth = 8
nets = {
    "sigmoid": DNNClassifier((64,) * depth, "sigmoid"),
    "relu": DNNClassifier((64,) * depth, "relu"),
    "sigmoid + batch_norm": DNNClassifier((64,) * depth, "sigmoid", batch_norm=True),
}
colors = {"sigmoid": "tab:red", "relu": "tab:blue", "sigmoid + batch_norm": "tab:green"}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # fixed epochs
    for net in nets.values():
        net.set_params(
            batch_size=32,
            max_iter=30,
            n_iter_no_change=30,
            random_state=0,
            callbacks=[GradientNormRecorder()],
        )
        net.fit(X_train, y_train)

# %%
# The gradient, layer by layer
# ----------------------------
#
# ``history_[:, "grad_norms"]`` holds one dict per epoch, from parameter
# name to the mean L2 norm of its gradient over the epoch's batches, in the
# module's order (input layer first, the output layer ``head.weight``
# last). With ``parameters="weights"`` (the default) the recorder keeps the
# weight matrices of the dense layers only, not the batch-norm scales.

print("gradient norm of each dense layer's weights in the first epoch")
print("(layers 1-8 hidden, 9 the output):")
for name, net in nets.items():
    first = np.array(list(net.history_[0, "grad_norms"].values()))
    print(f"{name:>21}: " + " ".join(f"{v:.0e}" for v in first))
    print(
        f"{'':>21}  first hidden layer / last hidden layer: {first[0] / first[-2]:.0e}"
    )

print("\ntraining loss at epochs 1, 10, 30, and test accuracy:")
for name, net in nets.items():
    loss = net.loss_curve_
    print(
        f"{name:>21}: {loss[0]:.3f} {loss[9]:.3f} {loss[-1]:.3f}"
        f"   test accuracy {net.score(X_test, y_test):.3f}"
    )

# %%
# In the sigmoid net the gradient shrinks about four times at every layer
# (the sigmoid's slope is at most 0.25, and its weights, below, do not make
# up for it): the first hidden layer gets about 3e-5 of what the last one
# gets, so it practically does not train. Its loss stays at ``log(10) = 2.30``, the
# loss of guessing, for all 30 epochs, and its test accuracy is chance.
#
# The ReLU net's gradient is the same size at every layer, and it learns
# fastest of the three: its training loss is 0.04 after 10 epochs and 0.001
# after 30 (it has memorised the training set; test accuracy 0.97). The
# activation is only half of the reason; the other half is the
# initial weights. skdeep initialises each dense layer for the activation
# that follows it: before a ReLU, with a variance of ``2 / fan_in`` (He
# initialisation), which is what keeps the size of the signal through a
# layer that zeroes half its inputs. The weights of a freshly built module
# show it (:class:`skdeep.modules.MLP` is the module behind
# :class:`~skdeep.DNNClassifier`):

torch.manual_seed(0)
for activation in (torch.nn.ReLU, torch.nn.Sigmoid):
    module = MLP(64, 10, (64,) * depth, activation)
    hidden = [m for m in module.features if isinstance(m, torch.nn.Linear)]
    spread = [float(m.weight.detach().var() * m.in_features) for m in hidden]
    print(
        f"{activation.__name__:>7}: weight variance x fan_in, hidden layers: "
        + " ".join(f"{v:.1f}" for v in spread)
    )

# %%
# About 2 before a ReLU, about 1 before a sigmoid (Glorot initialisation,
# ``2 / (fan_in + fan_out)``). PyTorch's own default for ``nn.Linear`` is
# ``1 / (3 fan_in)``, six times less than He's: under it a ReLU layer
# shrinks its signal about 2.4 times, and the same eight-layer ReLU net
# learns slowly (built that way, it still has a training loss of 0.54 after
# 30 epochs, and 0.69 test accuracy). Glorot's weights do not rescue the
# sigmoid net: no initialisation undoes a slope of at most 0.25 at every
# layer, which is the textbook vanishing gradient.
#
# Batch normalisation standardises each hidden layer's pre-activations over
# the batch, so each sigmoid works near its steepest point whatever the
# weights: the gradient reaches the first layer undiminished, and the
# sigmoid net learns: more slowly than the ReLU net (loss 0.40 after 10
# epochs, 0.15 after 30), to as good a test accuracy, about 0.98 (the ReLU
# net's is 0.97).

fig, (ax_norms, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.3), layout="constrained")
for name, net in nets.items():
    GradientNormDisplay.from_estimator(
        net, kind="layers", ax=ax_norms, name=name, epoch=1, color=colors[name]
    )
    TrainingCurveDisplay.from_estimator(net, ax=ax_loss, name=name, color=colors[name])
ax_norms.set_xticks(range(1, depth + 2), [*range(1, depth + 1), "out"], rotation=0)
ax_norms.set_xlabel("dense layer (input to output)")
ax_norms.set_ylabel("gradient L2 norm (first epoch)")
ax_norms.set_title(f"Gradient reaching each of {depth} hidden layers")
ax_loss.axhline(np.log(10), color="grey", linestyle=":", label="guessing, log(10)")
ax_loss.legend(fontsize="small")
ax_loss.set_title("Training loss")
fig.savefig(out / "vanishing_gradients.png", dpi=100)

# %%
# Recurrent networks meet the same problem along time rather than depth: a
# plain RNN multiplies the gradient by the same recurrent weights at every
# step it goes back. See ``plot_rnn_vanishing_gradient.py`` for the plain
# RNN against LSTM and GRU cells.

print(f"saved {out / 'vanishing_gradients.png'}")
