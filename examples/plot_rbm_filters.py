"""
RBM filters of handwritten digits
=================================

A restricted Boltzmann machine trained by persistent contrastive divergence
on the 8x8 digits (pixels scaled to [0, 1]). Each hidden unit's couplings to
the 64 pixels, ``components_[k]``, drawn as an 8x8 image, is the stroke
pattern that unit detects.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from skdeep import RBM

out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

X = (load_digits().data / 16).astype("float32")  # float32 trains fastest
rbm = RBM(n_components=64, learning_rate=0.05, max_iter=20, random_state=0).fit(X)
curve = [round(v, 1) for v in rbm.pseudo_likelihood_curve_]
print(f"pseudo-likelihood per epoch: {curve}")

fig, axes = plt.subplots(8, 8, figsize=(6, 6))
for component, ax in zip(rbm.components_, axes.ravel(), strict=True):
    ax.imshow(component.reshape(8, 8), cmap="gray_r", interpolation="nearest")
    ax.set_axis_off()
fig.suptitle("64 RBM filters learned from the digits")
fig.savefig(out / "rbm_filters.png", dpi=100)
print(f"saved {out / 'rbm_filters.png'}")
