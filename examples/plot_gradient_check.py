"""
Forward and back-propagation, checked by finite differences
===========================================================

A trained ``DNNClassifier`` is a plain function: its torch module
``est.module_`` maps a batch of inputs to logits by a chain of matrix
products and activations (the *forward pass*), and the loss is one more
function on top. Back-propagation computes the gradient of that loss with
respect to every weight by applying the chain rule layer by layer from the
output back to the input (the *backward pass*). This example makes both
passes visible on a small net trained on the iris data:

* the forward pass written out as matrix products and ``tanh``, layer by
  layer, gives the same logits as ``est.module_(X)``;
* the backward pass written out with the textbook formulas gives the same
  gradient as torch's autograd;
* both agree with central finite differences,
  ``(L(w + eps) - L(w - eps)) / (2 eps)`` for each weight ``w`` in turn,
  which need nothing but the forward pass.

The figure plots the autograd gradient of each of the net's 64 parameters
against its finite-difference estimate (all on the line ``y = x``), and the
relative difference between the two, in float64 and in float32.
"""

import copy
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import softmax
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from torch import nn

from skdeep import DNNClassifier

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

# %%
# A small net, trained in float64
# -------------------------------
#
# Two hidden layers of 5 and 4 tanh units on the four standardised iris
# measurements. X stays float64, so the net trains and computes in float64,
# which finite differences need: the difference ``L(w + eps) - L(w - eps)``
# is about ``eps`` times the gradient, and float32's rounding error of the
# loss (about 1e-7) would swamp it. tanh rather than ReLU because ReLU has a
# kink at 0, where a finite difference that straddles it is not a
# derivative.

# The check holds at any point of weight space: 300 epochs are enough for a
# fair net, converged or not.
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed epochs
X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)  # float64
est = DNNClassifier(
    (5, 4), "tanh", learning_rate=0.01, max_iter=300, random_state=0
).fit(X, y)
module = est.module_
print(f"training accuracy {est.score(X, y):.3f} after {est.n_iter_} epochs")
print(f"module parameters are {next(module.parameters()).dtype}:")
for name, parameter in module.named_parameters():
    print(f"  {name:<18} {tuple(parameter.shape)}")

# %%
# The loss on a few samples
# -------------------------
#
# The eight training rows the net fits worst (the lowest predicted
# probability of their class), and their classes as the indices into
# ``classes_`` that the module's outputs follow. The loss is the mean
# cross-entropy of the logits, what the classifier trains on (without the
# L2 penalty ``alpha``, which the optimizer adds). Rows the net fits well
# would do too, but their gradient entries are tiny (down to 1e-8 for the
# eight best-fitted rows), below what finite differences resolve with a
# relative precision of 1e-8.

classes = np.searchsorted(est.classes_, y)  # column of each row's class
log_proba = est.predict_log_proba(X)[np.arange(len(X)), classes]
rows = np.argsort(log_proba)[:8]
x_batch, target = X[rows], classes[rows]
print(f"the 8 rows' probabilities of their class: {np.exp(log_proba[rows]).round(2)}")
x_tensor, target_tensor = torch.as_tensor(x_batch), torch.as_tensor(target)


def batch_loss(net):
    """Mean cross-entropy of ``net``'s logits on the eight rows."""
    dtype = next(net.parameters()).dtype
    return F.cross_entropy(net(x_tensor.to(dtype)), target_tensor)


# %%
# The forward pass by hand
# ------------------------
#
# Each ``nn.Linear`` computes ``a = h W^T + b``; the hidden ones are followed
# by ``tanh``, the last one (``head``) gives the logits. The softmax of the
# logits is ``predict_proba``.

linears = [layer for layer in module.modules() if isinstance(layer, nn.Linear)]
weights = [layer.weight.detach().numpy() for layer in linears]
biases = [layer.bias.detach().numpy() for layer in linears]

activations = [x_batch]  # h_0 = x, then each hidden layer's output
for W, b in zip(weights[:-1], biases[:-1], strict=True):
    activations.append(np.tanh(activations[-1] @ W.T + b))
logits = activations[-1] @ weights[-1].T + biases[-1]

with torch.no_grad():
    module_logits = module(x_tensor).numpy()
print(
    "\nforward pass by hand vs est.module_(X): largest difference "
    f"{np.abs(logits - module_logits).max():.1e}"
)
print(
    "softmax of those logits vs est.predict_proba(X): largest difference "
    f"{np.abs(softmax(logits, axis=1) - est.predict_proba(x_batch)).max():.1e}"
)

# %%
# The backward pass by hand
# -------------------------
#
# With ``P`` the softmax of the logits and ``Y`` the one-hot targets, the
# gradient of the mean cross-entropy with respect to the logits is
# ``delta = (P - Y) / n``. Going back through a linear layer ``a = h W^T +
# b`` gives ``dL/dW = delta^T h`` and ``dL/db = sum of delta over the rows``,
# and the gradient that reaches ``h`` is ``delta W``; through ``h = tanh(a)``
# it is multiplied by ``tanh'(a) = 1 - h^2``, giving the previous layer's
# ``delta``. That is all of back-propagation for this net.

n = len(x_batch)
delta = (softmax(logits, axis=1) - np.eye(len(est.classes_))[target]) / n
manual = {}
for i in reversed(range(len(linears))):
    manual[i] = (delta.T @ activations[i], delta.sum(axis=0))
    if i > 0:
        delta = (delta @ weights[i]) * (1 - activations[i] ** 2)
manual_gradient = np.concatenate(
    [np.concatenate([dW.ravel(), db]) for dW, db in (manual[i] for i in sorted(manual))]
)

# %%
# Autograd and finite differences
# -------------------------------
#
# ``loss.backward()`` lets torch run the backward pass and fills each
# parameter's ``.grad``. The finite differences nudge one parameter at a
# time by ``eps = 1e-6`` each way and evaluate the loss again (128 forward
# passes for 64 parameters); a copy of the module is used, so the fitted
# estimator is left untouched.


def autograd_gradient(net):
    """The gradient of the batch loss, all parameters flattened, by autograd."""
    net.zero_grad()
    batch_loss(net).backward()
    return torch.cat([p.grad.ravel() for p in net.parameters()]).double().numpy()


def finite_difference_gradient(net, eps=1e-6):
    """The same gradient by central differences, one parameter at a time."""
    estimates = []
    with torch.no_grad():
        for parameter in net.parameters():
            flat = parameter.view(-1)
            for i in range(flat.numel()):
                value = flat[i].item()
                flat[i] = value + eps
                loss_plus = batch_loss(net).item()
                flat[i] = value - eps
                loss_minus = batch_loss(net).item()
                flat[i] = value
                estimates.append((loss_plus - loss_minus) / (2 * eps))
    return np.array(estimates)


def relative_error(a, b):
    """``|a - b| / max(|a|, |b|)``, entry by entry."""
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)


net64 = copy.deepcopy(module)
auto64 = autograd_gradient(net64)
finite64 = finite_difference_gradient(net64)
error64 = relative_error(auto64, finite64)

net32 = copy.deepcopy(module).float()  # the same weights, rounded to float32
auto32 = autograd_gradient(net32)
error32 = {
    eps: relative_error(auto32, finite_difference_gradient(net32, eps))
    for eps in [1e-6, 1e-3]
}

print(
    f"\n{auto64.size} parameters; gradient entries from "
    f"{np.abs(auto64).min():.1e} to {np.abs(auto64).max():.1e} in size"
)
print(
    f"backward pass by hand vs autograd: largest relative difference "
    f"{relative_error(manual_gradient, auto64).max():.1e}"
)
print("autograd vs finite differences, relative difference per entry:")
print(
    f"  float64, eps=1e-6: largest {error64.max():.1e}, median "
    f"{np.median(error64):.1e}; of the whole vector, ||a - f|| / ||a|| = "
    f"{np.linalg.norm(auto64 - finite64) / np.linalg.norm(auto64):.1e}"
)
for eps, error in error32.items():
    print(
        f"  float32, eps={eps:.0e}: largest {error.max():.1e}, median "
        f"{np.median(error):.1e}"
    )

# %%
# The backward pass by hand and autograd agree to rounding: they are the
# same formulas. In float64, autograd and the finite differences agree to
# about 1e-9, and to a few 1e-6 on the smallest entries: that is the accuracy of
# the finite difference itself, whose truncation error is of order
# ``eps^2`` and whose rounding error is of order ``1e-16 / eps`` in absolute
# terms (so larger, relatively, for small entries). In float32 the loss is
# rounded to about 1e-7, so with ``eps = 1e-6`` the finite differences are
# mostly noise, and even with a step of ``1e-3`` they agree only to about
# 1e-3 on most entries (median 1.5e-3), and not at all on the smallest
# (relative differences up to 1): a float32 net trains just as well, but
# cannot be checked this way.
#
# What does the check prove? Finite differences use only the forward pass,
# so agreement says that the gradient back-propagation computes is the
# derivative of the loss exactly as the forward pass computes it, for every
# parameter, at this point of weight space. That is the standard test of a
# hand-written backward pass or a new layer (here, of the formulas above).
# It says nothing about whether the net is a good model, or whether the
# optimizer uses the gradient well.

names = [name for name, _ in module.named_parameters()]
sizes = [p.numel() for p in module.parameters()]
labels = np.repeat(names, sizes)
index = np.arange(auto64.size)

fig, (ax_scatter, ax_error) = plt.subplots(
    1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [1, 1.5]}
)
colors = plt.cm.tab10(np.arange(len(names)))
for name, color in zip(names, colors, strict=True):
    mask = labels == name
    ax_scatter.scatter(finite64[mask], auto64[mask], s=18, color=color, label=name)
    first = name == names[0]
    label = "float64, eps = 1e-6 (colours: tensors)" if first else None
    ax_error.scatter(index[mask], error64[mask], s=14, color=color, label=label)
limit = 1.1 * np.abs(auto64).max()
ax_scatter.plot([-limit, limit], [-limit, limit], "k:", linewidth=1, label="y = x")
ax_scatter.set_xlabel("finite difference (float64, eps = 1e-6)")
ax_scatter.set_ylabel("autograd")
ax_scatter.set_title("dL/dw for each of the 64 parameters")
ax_scatter.legend(fontsize=7, loc="upper left")
ax_scatter.set_aspect("equal")

ax_error.scatter(
    index, error32[1e-3], s=10, marker="x", color="grey", label="float32, eps = 1e-3"
)
ax_error.set_yscale("log")
ax_error.set_xlabel("parameter (in module order; colours as on the left)")
ax_error.set_ylabel("|autograd - finite difference| / max(|.|)")
ax_error.set_title(
    f"Relative difference: max {error64.max():.0e} in float64, "
    f"{error32[1e-3].max():.0e} in float32"
)
ax_error.legend(fontsize=8, loc="center right")
fig.tight_layout()
fig.savefig(out / "gradient_check.png", dpi=100)
print(f"saved {out / 'gradient_check.png'}")
