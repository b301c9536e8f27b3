"""skdeep: classic deep-learning families as scikit-learn estimators."""

from .dbn import DBNClassifier, DBNRegressor, DBNTransformer
from .dnn import DNNClassifier, DNNRegressor
from .rbm import RBM

__all__ = [
    "RBM",
    "DBNClassifier",
    "DBNRegressor",
    "DBNTransformer",
    "DNNClassifier",
    "DNNRegressor",
]
__version__ = "0.1.0"
