"""Plain torch modules behind the estimators; no scikit-learn needed."""

from ._mlp import MLP
from ._rbm import RBM

__all__ = ["MLP", "RBM"]
