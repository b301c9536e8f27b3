"""skdeep: classic deep-learning families as scikit-learn estimators."""

from ._persist import ModelFileError, load, save
from ._windows import SlidingWindowTransformer, make_windows
from .callbacks import GradientNormRecorder
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
    "GradientNormRecorder",
    "ModelFileError",
    "RNNClassifier",
    "RNNRegressor",
    "SlidingWindowTransformer",
    "load",
    "make_windows",
    "save",
]
__version__ = "0.1.0"
