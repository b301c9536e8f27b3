"""
Pretraining a deep belief network, or not
=========================================

The same sigmoid network (64-256-128-10) trained on the digits twice: once
from a random start, once from the weights of a greedily pretrained stack of
RBMs (``pretrain=True``, the default). Each fit holds out 10% of the training
rows and records the accuracy on them after every epoch
(``validation_scores_``); the curves show where pretraining starts and how
fast each network learns. On data this small, pretraining buys a head start
(the first epochs), not a better final network: the historical case for it
was deep sigmoid nets with little labelled data.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skdeep import DBNClassifier

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    (X / 16).astype("float32"), y, test_size=0.25, random_state=0  # float32: fast
)

fig, ax = plt.subplots(figsize=(6, 4))
for pretrain in (True, False):
    clf = DBNClassifier(
        pretrain=pretrain,
        learning_rate=0.01,
        batch_size=32,
        max_iter=40,
        early_stopping=True,
        n_iter_no_change=40,  # run every epoch, to draw the whole curve
        random_state=0,
    ).fit(X_train, y_train)
    label = f"pretrain={pretrain}: test accuracy {clf.score(X_test, y_test):.3f}"
    print(label)
    ax.plot(range(1, clf.n_iter_ + 1), clf.validation_scores_, label=label)
ax.set_xlabel("epoch of fine-tuning")
ax.set_ylabel("validation accuracy")
ax.set_title("DBN fine-tuning with and without RBM pretraining")
ax.legend()
fig.tight_layout()
fig.savefig(out / "dbn_pretraining.png", dpi=100)
print(f"saved {out / 'dbn_pretraining.png'}")
