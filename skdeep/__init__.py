"""skdeep: classic deep-learning families as scikit-learn estimators."""

from .dnn import DNNClassifier, DNNRegressor

__all__ = ["DNNClassifier", "DNNRegressor"]
__version__ = "0.1.0"
