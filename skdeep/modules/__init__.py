"""Plain torch modules behind the estimators; no scikit-learn needed."""

from ._mlp import MLP

__all__ = ["MLP"]
