"""The one place that imports private scikit-learn API.

A future rename in scikit-learn is then a one-line fix here.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import _check_sample_weight, _check_y

__all__ = [
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_sample_weight",
    "_check_y",
    "_fit_context",
]
