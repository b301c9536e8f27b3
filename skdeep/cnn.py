"""Convolutional networks: ``CNNClassifier``, ``CNNRegressor``."""

from math import prod
from numbers import Integral

import numpy as np
from sklearn.utils.validation import validate_data

from ._base import FLOAT_DTYPES, BaseNet, checked_shape, set_params_from
from ._compat import Interval, StrOptions
from ._docs import fill_doc
from ._registry import get_activation
from ._supervised import NetClassifier, NetRegressor
from .modules import ARCHITECTURES, ConvNet

__all__ = ["CNNClassifier", "CNNRegressor"]

_CNN_CONSTRAINTS = {
    "architecture": [StrOptions(set(ARCHITECTURES)), "array-like"],
    "hidden_layer_sizes": [
        "array-like",
        Interval(Integral, 1, None, closed="left"),
        None,
    ],
    "input_shape": ["array-like", None],
    "kernel_size": [Interval(Integral, 1, None, closed="left")],
    "pooling": [StrOptions({"max", "avg"}), None],
}


class _CNNMixin:
    """The CNN family: images and signals through a :class:`ConvNet`."""

    _architecture_params = (
        *BaseNet._architecture_params,
        "architecture",
        "input_shape",
        "kernel_size",
        "pooling",
    )

    def _check_X(self, X, *, reset):
        name = type(self).__name__
        if not reset:
            if self._is_plain_samples(X):  # single-row predict: ~50 us less
                return (X.reshape(len(X), *self.input_shape_),)
            ndim = getattr(X, "ndim", None)
            if ndim in (2, 3, 4) and (ndim == 2) != self._rows:
                raise ValueError(
                    f"{name} was fitted on "
                    + (
                        "2-D rows"
                        if self._rows
                        else f"samples of shape {self.input_shape_}"
                    )
                    + f"; got X with {ndim} dimensions."
                )
        X = validate_data(self, X, reset=reset, allow_nd=True, dtype=FLOAT_DTYPES)
        rows = X.ndim == 2
        if rows:
            shape = (1, X.shape[1])
            if self.input_shape is not None:
                shape = checked_shape(self.input_shape)
            if prod(shape) != X.shape[1]:
                raise ValueError(
                    f"input_shape={shape} holds {prod(shape)} values per row, but "
                    f"X has {X.shape[1]} columns."
                )
            X = X.reshape(len(X), *shape)
        elif X.ndim not in (3, 4):
            raise ValueError(
                f"{name} takes 2-D rows, 3-D signals (n, C, L) or 4-D images "
                f"(n, C, H, W); got X with {X.ndim} dimensions."
            )
        elif self.input_shape is not None and tuple(self.input_shape) != X.shape[1:]:
            raise ValueError(
                f"input_shape={tuple(self.input_shape)} is for 2-D rows; X already "
                f"has samples of shape {X.shape[1:]}: leave input_shape=None."
            )
        if X.ndim not in (3, 4):
            raise ValueError(
                f"input_shape must be (C, L) or (C, H, W), got {self.input_shape!r}."
            )
        if reset:
            self.input_shape_ = X.shape[1:]
            self._rows = rows
        elif X.shape[1:] != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {X.shape[1:]}, but {name} was fitted on "
                f"samples of shape {self.input_shape_}."
            )
        return (X,)

    def _is_plain_samples(self, X) -> bool:
        """A finite float ndarray laid out as at fit: nothing to convert."""
        shape = (prod(self.input_shape_),) if self._rows else self.input_shape_
        return (
            type(X) is np.ndarray
            and X.dtype in FLOAT_DTYPES
            and X.shape[1:] == shape
            and len(X) > 0
            and not hasattr(self, "feature_names_in_")
            and np.isfinite(X).all()
        )

    def _build_module(self, input_shape, n_outputs):
        sizes = self.hidden_layer_sizes
        if sizes is not None:
            sizes = self._hidden_sizes()
        architecture = self.architecture
        if not isinstance(architecture, str):  # the module checks the values
            architecture = list(np.atleast_1d(architecture).tolist())
        return ConvNet(
            input_shape,
            n_outputs,
            architecture,
            kernel_size=self.kernel_size,
            pooling=self.pooling,
            hidden_layer_sizes=sizes,
            activation=get_activation(self.activation),
            dropout=self.dropout,
            batch_norm=self.batch_norm,
        )


CNN_PARAMS = """\
architecture : str or sequence of int, default="lenet5"
        The convolutional body: ``"lenet5"``, ``"alexnet"``, ``"vgg"``,
        ``"resnet"``, ``"fcn"`` (small variants that fit small inputs, see
        :class:`~skdeep.modules.ConvNet` for their layers and sources), or
        the output channels of successive conv blocks (each a convolution
        of ``kernel_size`` with "same" padding, [batch norm], the activation
        and a ``pooling`` of 2). Every body ends in global average pooling.
    hidden_layer_sizes : tuple of int or None, default=None
        The dense head on the pooled features; ``None`` is the preset's own
        (120, 84 for LeNet-5; 256, 256 for AlexNet and VGG; none for ResNet,
        FCN and explicit specs).
    activation : str or type of torch.nn.Module, default="relu"
        Activation of the convolutions and the head."""

CNN_SHAPE_PARAMS = """\
input_shape : tuple of int or None, default=None
        ``(C, L)`` or ``(C, H, W)``: how each row of a 2-D X is read. With
        ``None``, a 2-D X is a one-channel signal ``(n, 1, n_features)``;
        3-D and 4-D X are used as they are.
    kernel_size : int, default=3
        Kernel size of an explicit ``architecture`` (presets fix theirs).
    pooling : {"max", "avg"} or None, default="max"
        Pooling after each block of an explicit ``architecture``."""

CNN_SHAPE = """\
Shape:
        - X: ``(n, C, L)`` signals, ``(n, C, H, W)`` images, or ``(n, F)``
          rows read through ``input_shape``
        - ``transform(X)``: ``(n, n_features_out)``, the last hidden layer of
          the head, or the pooled convolutional features without one"""


@fill_doc(cnn_params=CNN_PARAMS, cnn_shape_params=CNN_SHAPE_PARAMS, cnn_shape=CNN_SHAPE)
class CNNClassifier(_CNNMixin, NetClassifier):
    """Convolutional network classifier for 1-D signals and 2-D images.

    Parameters
    ----------
    {cnn_params}
    {cnn_shape_params}
    {net_params}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight``:
        a dict's keys must be classes of y and its values finite and >= 0
        (no dict for a multilabel y).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for a multilabel indicator y).
    input_shape_ : tuple of int
        Shape of one sample as the network reads it, ``(C, L)`` or
        ``(C, H, W)``.
    {net_attributes}

    See Also
    --------
    CNNRegressor : The same network for regression.
    DNNClassifier : A multi-layer perceptron on flat rows.

    Notes
    -----
    {cnn_shape}

    {threads_note}

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeep import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = CNNClassifier("lenet5", input_shape=(1, 8, 8), max_iter=5,
    ...                     random_state=0).fit(X[:500] / 16, y[:500])
    >>> clf.transform(X[:3] / 16).shape
    (3, 84)
    """

    _parameter_constraints: dict = {
        **NetClassifier._parameter_constraints,
        **_CNN_CONSTRAINTS,
    }

    def __init__(
        self,
        architecture="lenet5",
        hidden_layer_sizes=None,
        activation="relu",
        *,
        input_shape=None,
        kernel_size=3,
        pooling="max",
        dropout=0.0,
        batch_norm=False,
        optimizer="adam",
        learning_rate=None,
        momentum=0.9,
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        lr_schedule=None,
        class_weight=None,
        dtype=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        set_params_from(self, locals())


@fill_doc(cnn_params=CNN_PARAMS, cnn_shape_params=CNN_SHAPE_PARAMS, cnn_shape=CNN_SHAPE)
class CNNRegressor(_CNNMixin, NetRegressor):
    """Convolutional network regressor for 1-D signals and 2-D images.

    Parameters
    ----------
    {cnn_params}
    {cnn_shape_params}
    {net_params}
    {regression_loss}

    Attributes
    ----------
    input_shape_ : tuple of int
        Shape of one sample as the network reads it.
    {net_attributes}

    See Also
    --------
    CNNClassifier : The same network for classification.

    Notes
    -----
    {cnn_shape}

    {threads_note}
    """

    _parameter_constraints: dict = {
        **NetRegressor._parameter_constraints,
        **_CNN_CONSTRAINTS,
    }

    def __init__(
        self,
        architecture="lenet5",
        hidden_layer_sizes=None,
        activation="relu",
        *,
        input_shape=None,
        kernel_size=3,
        pooling="max",
        dropout=0.0,
        batch_norm=False,
        optimizer="adam",
        learning_rate=None,
        momentum=0.9,
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        lr_schedule=None,
        loss="squared_error",
        dtype=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        set_params_from(self, locals())
