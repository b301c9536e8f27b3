"""skdeep: classic deep-learning families as scikit-learn estimators."""

from ._windows import WindowTransformer, make_windows
from .cnn import CNNClassifier, CNNRegressor
from .dbn import DBNClassifier, DBNRegressor, DBNTransformer
from .dnn import DNNClassifier, DNNRegressor
from .rbm import RBM
from .rnn import RNNClassifier, RNNRegressor

__all__ = [
    "RBM",
    "CNNClassifier",
    "CNNRegressor",
    "DBNClassifier",
    "DBNRegressor",
    "DBNTransformer",
    "DNNClassifier",
    "DNNRegressor",
    "RNNClassifier",
    "RNNRegressor",
    "WindowTransformer",
    "make_windows",
]
__version__ = "0.1.0"
