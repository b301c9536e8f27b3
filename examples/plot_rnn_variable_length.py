"""
Sequences of different lengths
==============================

An ``RNNClassifier`` takes a plain list of ``(T_i, F)`` arrays as ``X``, here
1,000 sequences of 5 to 60 steps and 2 features. Feature 0 drifts up
(class "rising") or down (class "falling") by 0.02 per step under noise of
standard deviation 1; feature 1 is noise. The list is padded to the longest
sequence and *packed*, so a GRU reads each sequence up to its own end and
the padding never reaches the result: a sequence gets the same prediction
alone as inside a batch (up to float32 rounding).

A short sequence holds little evidence: over 10 steps the drift moves 0.2,
a fifth of the noise. The figure shows the test accuracy by length, next to
the best possible rule (the sign of ``sum_t t * x_t``, which knows how the
data were made), and next to the same GRU given the sequences zero-padded
to 60 steps as one 3-D array: it then reads the zeros as data, and the
shorter the sequence, the more zeros it reads.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skdeep import RNNClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed epochs
out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

rng = np.random.RandomState(0)
y = rng.choice(["falling", "rising"], size=1000)
X = []
for label in y:
    x = rng.randn(rng.randint(5, 61), 2)  # 5 to 60 steps of 2 features
    x[:, 0] += (1 if label == "rising" else -1) * 0.02 * np.arange(len(x))
    X.append(x.astype("float32"))  # float32: the fast path
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

clf = RNNClassifier(
    "gru", 16, learning_rate=0.01, batch_size=32, max_iter=20, random_state=0
).fit(X_train, y_train)  # the list itself: no padding to do
print(f"GRU on the list of sequences: test accuracy {clf.score(X_test, y_test):.3f}")

# The same prediction alone as in the batch: packing keeps the padding out.
in_batch = clf.predict_proba(X_test)
alone = np.vstack([clf.predict_proba([x]) for x in X_test])
print(
    "max |P(alone) - P(in the batch)| over the test sequences: "
    f"{np.abs(alone - in_batch).max():.1e} (float32 rounding)"
)

# What packing saves us from: the sequences zero-padded to 60 steps by hand.
padded = np.zeros((len(X_test), 60, 2), dtype="float32")
for row, x in zip(padded, X_test, strict=True):
    row[: len(x)] = x
print(
    "zero-padded 3-D array instead: max |P(padded) - P(list)| "
    f"{np.abs(clf.predict_proba(padded) - in_batch).max():.2f}, test accuracy "
    f"{clf.score(padded, y_test):.3f}"
)

lengths = np.array([len(x) for x in X_test])
best_rule = np.array(
    ["rising" if (np.arange(len(x)) * x[:, 0]).sum() > 0 else "falling" for x in X_test]
)
predictions = {
    "GRU, list of sequences (packed)": clf.predict(X_test),
    "GRU, zero-padded 3-D array": clf.predict(padded),
    "best possible rule": best_rule,
}
buckets = [(5, 15), (15, 25), (25, 35), (35, 45), (45, 61)]
print("test accuracy by length:")
masks = [(lengths >= lo) & (lengths < hi) for lo, hi in buckets]
accuracy = {}
for name, prediction in predictions.items():
    accuracy[name] = [np.mean(prediction[m] == y_test[m]) for m in masks]
    print(f"  {name:>32}: " + " ".join(f"{a:.2f}" for a in accuracy[name]))

fig = plt.figure(figsize=(12, 5.5), layout="constrained")
left, right = fig.subfigures(1, 2, width_ratios=[1, 1.1])
seq_axes = left.subplots(4, 1, sharex=True, sharey=True)
p_rising = in_batch[:, list(clf.classes_).index("rising")]
shown = np.argsort(lengths, kind="stable")[[10, 110, 200, 290]]  # short to long
for ax, i in zip(seq_axes, shown, strict=True):
    color = "tab:blue" if y_test[i] == "rising" else "tab:orange"
    ax.plot(X_test[i][:, 0], ".-", color=color, lw=0.8, ms=3)
    ax.set_title(
        f"{lengths[i]} steps, {y_test[i]}: P(rising) = {p_rising[i]:.2f}",
        fontsize=9,
        loc="right",
        pad=2,
    )
    ax.set_xlim(-1, 60)
seq_axes[-1].set_xlabel("time step")
left.supylabel("feature 0")
left.suptitle("Four test sequences and the GRU's P(rising)")

ax_acc = right.subplots()
centers = [(lo + hi - 1) / 2 for lo, hi in buckets]
styles = {
    "GRU, list of sequences (packed)": dict(color="tab:green", marker="o"),
    "GRU, zero-padded 3-D array": dict(color="tab:red", marker="s"),
    "best possible rule": dict(color="k", linestyle="--"),
}
for name, values in accuracy.items():
    ax_acc.plot(centers, values, label=name, **styles[name])
ax_acc.axhline(0.5, color="grey", linestyle=":", label="chance")
ax_acc.set_xticks(centers)
ax_acc.set_xticklabels([f"{lo}-{hi - 1}" for lo, hi in buckets])
ax_acc.set_ylim(0.3, 1.03)
ax_acc.set_xlabel("sequence length (steps)")
ax_acc.set_ylabel("test accuracy")
ax_acc.set_title("Accuracy by sequence length")
ax_acc.legend(fontsize=8, loc="lower right")
fig.savefig(out / "rnn_variable_length.png", dpi=100)
print(f"saved {out / 'rnn_variable_length.png'}")
