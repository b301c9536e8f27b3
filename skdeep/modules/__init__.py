"""Plain torch modules behind the estimators; no scikit-learn needed."""

from ._conv import ARCHITECTURES, ConvNet
from ._interface import FeatureModule
from ._mlp import MLP
from ._rbm import RBM
from ._recurrent import CELLS, SUMMARIES, RecurrentNet

__all__ = [
    "ARCHITECTURES",
    "CELLS",
    "MLP",
    "RBM",
    "SUMMARIES",
    "ConvNet",
    "FeatureModule",
    "RecurrentNet",
]
