"""The classifier and regressor halves of the supervised nets.

They own what differs between the two: target encoding, the loss, the
validation score and the prediction methods. A family (DNN, CNN, RNN, DBN)
subclasses one of them and adds ``_build_module`` and its own parameters.
"""

from numbers import Real
from typing import Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import (
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ._base import BaseNet, preserved_dtypes
from ._compat import StrOptions, _check_sample_weight, _fit_context
from ._registry import CLASSIFICATION_LOSSES, REGRESSION_LOSSES

__all__ = ["NetClassifier", "NetRegressor"]


class _SupervisedNet(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseNet):
    """fit / partial_fit and sample weights, shared by both halves."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Train the network on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values: class labels (or a label indicator matrix) for
            classifiers, real values for regressors.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss; ``None`` weighs all equally.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Activations of the last hidden layer: the features the net learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The last hidden layer's activations (the module's pooled or
            summary features when it has no hidden layer), in the precision
            the net trained in.
        """
        return self._forward(X, features=True).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = preserved_dtypes(self)
        return tags

    def _sample_weight(self, sample_weight, X, y):
        class_weight = getattr(self, "class_weight", None)
        if sample_weight is None and class_weight is None:
            return None  # the unweighted (faster) loss
        weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        what = "sample_weight"
        if class_weight is not None:
            weight = weight * self._class_weights(y)
            what = "sample_weight times class_weight"
        if not np.any(weight > 0):
            raise ValueError(
                f"Every sample's weight ({what}) is zero: at least one sample "
                "needs a positive weight."
            )
        # The loss divides by the sum, in the training precision (float32 on
        # an accelerator): a sum past float32's range would make it NaN.
        with np.errstate(over="ignore"):
            total = weight.sum()
        if not total <= np.finfo(np.float32).max:
            raise ValueError(
                f"The weights ({what}) sum to {total:.3g}, beyond the float32 "
                "range the loss may be computed in; divide them by a common "
                "factor (the loss depends on their ratios)."
            )
        return weight


class NetClassifier(ClassifierMixin, _SupervisedNet):
    """Classification: labels through ``classes_``, logits out of the module.

    Binary and multiclass targets train with cross-entropy on class indices;
    a label indicator matrix (multilabel) trains with one sigmoid per label.
    """

    _parameter_constraints: dict = {
        **BaseNet._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }
    _y_numeric = False

    @property
    def _stratify(self) -> bool:
        return not self._multilabel

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        classes: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ) -> Self:
        """Train one epoch over (X, y), continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a label indicator matrix.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever appear; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.

        Returns
        -------
        self : object
            The estimator.
        """
        if not hasattr(self, "net_") and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            # Each batch would be balanced on its own: as SGDClassifier, refuse.
            raise ValueError(
                "class_weight='balanced' cannot be used with partial_fit (each "
                "batch would be balanced on its own); pass a dict of weights, "
                "e.g. from sklearn.utils.class_weight.compute_class_weight."
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _encode_y(self, y, *, reset, classes):
        if classes is not None:
            classes = _checked_classes(classes)
        _check_label_types(y, "y")
        if reset:
            check_classification_targets(y)
            self._multilabel = type_of_target(y) == "multilabel-indicator"
            if self._multilabel:
                self.classes_ = np.arange(y.shape[1])
            else:
                self.classes_ = np.unique(y if classes is None else classes)
                if len(self.classes_) < 2:
                    raise ValueError(
                        f"{type(self).__name__} needs samples of at least 2 "
                        "classes in the data, but the data contains only one "
                        f"class: {self.classes_.tolist()[0]!r}."
                    )
            self.n_outputs_ = len(self.classes_)
        elif classes is not None and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"classes={classes.tolist()} differs from the classes of the "
                f"first partial_fit call, {self.classes_.tolist()}."
            )
        if self._multilabel:
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"y has {y.shape[1:]} labels; the net was fitted with "
                    f"{len(self.classes_)}."
                )
            return y.astype(np.float64)
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(
                "y must be one label per sample (or a label indicator matrix), "
                f"got shape {y.shape}."
            )
        kinds, known = _label_kinds(y), _label_kinds(self.classes_)
        if kinds != known:
            source = "the classes" if classes is not None else "classes_"
            raise ValueError(
                f"y holds {' and '.join(sorted(kinds))} labels, but {source} "
                f"{self.classes_.tolist()} are {' and '.join(sorted(known))}s."
            )
        index = np.searchsorted(self.classes_, y)
        index = np.minimum(index, len(self.classes_) - 1)
        unseen = self.classes_[index] != y
        if unseen.any():
            raise ValueError(
                f"y contains labels not in classes_ {self.classes_.tolist()}: "
                f"{np.unique(y[unseen]).tolist()}."
            )
        return index.astype(np.int64)

    def _class_weights(self, y) -> np.ndarray:
        """Per-sample weights from ``class_weight``, which is checked first."""
        class_weight = self.class_weight
        if isinstance(class_weight, dict):
            if self._multilabel:
                raise ValueError(
                    "class_weight as a dict weighs the classes of single-label "
                    "targets, but y is a label indicator matrix (multilabel): "
                    "use class_weight='balanced' or sample_weight."
                )
            known = set(self.classes_.tolist())
            unknown = [key for key in class_weight if key not in known]
            if unknown:
                raise ValueError(
                    f"class_weight has keys that are not classes: {unknown}; "
                    f"the classes are {self.classes_.tolist()}."
                )
            bad = {
                key: value
                for key, value in class_weight.items()
                if not isinstance(value, Real) or not 0 <= value < np.inf
            }
            if bad:
                raise ValueError(
                    f"class_weight values must be finite numbers >= 0, got {bad}."
                )
        return compute_sample_weight(class_weight, y)

    def _criterion(self):
        name = "binary_log_loss" if self._multilabel else "log_loss"
        return CLASSIFICATION_LOSSES[name]

    def _score_name(self) -> str:
        return "subset_accuracy" if self._multilabel else "accuracy"

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict class labels (a label indicator matrix when multilabel).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted labels.
        """
        output = self._forward(X)
        if self._multilabel:
            return (output > 0).numpy().astype(np.int64)
        return self.classes_[output.argmax(dim=1).numpy()]

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities: softmax of the logits (sigmoid per label).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns in the order of ``classes_``.
        """
        # float64 here, so each row sums to one to double precision.
        logits = self._forward(X).numpy().astype(np.float64)
        return expit(logits) if self._multilabel else softmax(logits, axis=1)

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class.
        """
        logits = self._forward(X).numpy().astype(np.float64)
        return log_expit(logits) if self._multilabel else log_softmax(logits, axis=1)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class NetRegressor(RegressorMixin, _SupervisedNet):
    """Regression: one or several real-valued outputs."""

    _parameter_constraints: dict = {
        **BaseNet._parameter_constraints,
        "loss": [StrOptions(set(REGRESSION_LOSSES))],
    }
    _y_numeric = True
    _stratify = False

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Train one epoch over (X, y), continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _encode_y(self, y, *, reset, classes):
        y = y.reshape(len(y), -1).astype(np.float64)
        if reset:
            self.n_outputs_ = y.shape[1]
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y.shape[1]} outputs; the net was fitted with "
                f"{self.n_outputs_}."
            )
        return y

    def _criterion(self):
        return REGRESSION_LOSSES[self.loss]

    def _score_name(self) -> str:
        return "r2"

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predict target values.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values, float64.
        """
        output = self._forward(X).numpy().astype(np.float64)
        return output.ravel() if self.n_outputs_ == 1 else output

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _label_kinds(labels: np.ndarray) -> set[str]:
    """``{"string"}``, ``{"number"}`` or both: what kinds of labels an array holds."""
    if labels.dtype.kind in "US":
        return {"string"}
    if labels.dtype.kind != "O":
        return {"number"}
    return {"string" if isinstance(v, str) else "number" for v in labels.ravel()}


def _check_label_types(labels: np.ndarray, name: str) -> None:
    """Labels must be all strings or all numbers (numpy cannot sort a mix)."""
    if labels.dtype.kind == "O" and len(_label_kinds(labels)) > 1:
        kinds = sorted({type(v).__name__ for v in labels.ravel()})
        raise ValueError(
            f"{name} mixes label types ({', '.join(kinds)}): labels must be all "
            f"strings or all numbers, e.g. {name}.astype(str)."
        )


def _checked_classes(classes) -> np.ndarray:
    """``partial_fit``'s ``classes``: a 1-D array of distinct labels of one kind."""
    raw = np.asarray(classes, dtype=object)
    if raw.ndim != 1 or len(raw) == 0:
        raise ValueError(
            "classes must be a non-empty 1-D array-like of labels, got an array "
            f"of shape {raw.shape}."
        )
    _check_label_types(raw, "classes")
    classes = np.asarray(list(raw))
    if classes.ndim != 1:
        raise ValueError(f"classes must be a 1-D array-like of labels, got {raw!r}.")
    if classes.dtype.kind == "f" and not np.isfinite(classes).all():
        raise ValueError(f"classes must be finite labels, got {classes.tolist()}.")
    return np.unique(classes)
