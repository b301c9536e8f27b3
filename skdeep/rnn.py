"""Recurrent networks: ``RNNClassifier``, ``RNNRegressor``."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

from ._base import FLOAT_DTYPES, BaseNet, checked_shape, set_params_from
from ._compat import Interval, StrOptions
from ._docs import fill_doc
from ._registry import get_activation
from ._supervised import NetClassifier, NetRegressor
from .modules import CELLS, SUMMARIES, RecurrentNet

__all__ = ["RNNClassifier", "RNNRegressor"]

_RNN_CONSTRAINTS = {
    "cell": [StrOptions(set(CELLS))],
    "hidden_size": [Interval(Integral, 1, None, closed="left")],
    "num_layers": [Interval(Integral, 1, None, closed="left")],
    "bidirectional": ["boolean"],
    "summary": [StrOptions(set(SUMMARIES))],
    "input_shape": ["array-like", None],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
}


def _is_sequence_list(X) -> bool:
    """A list (or tuple) of 2-D arrays: sequences that may differ in length."""
    return isinstance(X, list | tuple) and len(X) > 0 and np.ndim(X[0]) == 2


def _refuse_ragged_rows(X) -> None:
    """A list of 1-D sequences of different lengths gets a clear message."""
    lengths = {np.shape(x)[0] if np.ndim(x) == 1 else None for x in X[:1000]}
    if len(lengths) > 1 and None not in lengths:
        raise ValueError(
            "X is a list of 1-D arrays of different lengths: give each "
            "sequence as a (T_i, F) array, e.g. x[:, None] for one feature."
        )


class _RNNMixin:
    """The RNN family: sequences through a :class:`RecurrentNet`."""

    _architecture_params = (
        *BaseNet._architecture_params,
        "cell",
        "hidden_size",
        "num_layers",
        "bidirectional",
        "summary",
        "input_shape",
    )

    def _check_X(self, X, *, reset):
        name = type(self).__name__
        if not reset and self._is_plain_steps(X):  # single-row predict: ~50 us less
            return (X,)
        # getattr, not np.ndim: array-likes may refuse numpy functions.
        steps = _is_sequence_list(X) or getattr(X, "ndim", 2) >= 3
        if isinstance(X, list | tuple) and X and not steps:
            _refuse_ragged_rows(X)
        if steps or (not reset and self._layout == "steps"):
            inputs = self._check_sequences(X, name)
            layout, n_features = "steps", inputs[0].shape[2]
        else:
            X = validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES)
            shape = (X.shape[1], 1)
            if self.input_shape is not None:
                shape = checked_shape(self.input_shape)
            if len(shape) != 2 or shape[0] * shape[1] != X.shape[1]:
                raise ValueError(
                    f"input_shape={shape} must be (T, F) with T * F = {X.shape[1]}, "
                    "the columns of X."
                )
            inputs = (X.reshape(len(X), *shape),)
            layout, n_features = "rows", None
        if reset:
            self._layout = layout
            if layout == "steps":
                self.n_features_in_ = n_features
                if hasattr(self, "feature_names_in_"):
                    del self.feature_names_in_
        elif layout != self._layout:
            fitted, got = "2-D rows (one sequence per row)", "sequences"
            if self._layout == "steps":
                fitted, got = (
                    "sequences (3-D X or a list of (T_i, F) arrays)",
                    "2-D rows",
                )
            raise ValueError(
                f"{name} was fitted on {fitted}; got {got}: give X as at fit."
            )
        elif layout == "steps" and n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features per step, but {name} was fitted "
                f"with {self.n_features_in_}."
            )
        return inputs

    def _check_sequences(self, X, name) -> tuple:
        """3-D X, or a list of ``(T_i, F)`` arrays padded with their lengths."""
        if not _is_sequence_list(X):
            X = check_array(X, allow_nd=True, dtype=FLOAT_DTYPES, input_name="X")
            if X.ndim != 3:
                raise ValueError(
                    f"{name} takes 2-D rows (n, T), 3-D sequences (n, T, F) or a "
                    f"list of (T_i, F) arrays; got X with {X.ndim} dimensions."
                )
            if 0 in X.shape[1:]:
                raise ValueError(
                    f"X has shape {X.shape}: sequences need at least one step "
                    "and one feature."
                )
            return (X,)
        sequences = [np.asarray(x) for x in X]
        for i, x in enumerate(sequences):
            if x.ndim != 2:
                raise ValueError(
                    f"X[{i}] has shape {x.shape}: each sequence must be a "
                    "(T_i, F) array."
                )
            if len(x) == 0:
                raise ValueError(f"X[{i}] is an empty sequence (0 steps).")
            if x.shape[1] == 0:
                raise ValueError(f"X[{i}] has no features (shape {x.shape}).")
            if x.shape[1] != sequences[0].shape[1]:
                raise ValueError(
                    f"X[{i}] has {x.shape[1]} features per step, but X[0] has "
                    f"{sequences[0].shape[1]}: every sequence needs the same "
                    "features."
                )
        lengths = np.array([len(x) for x in sequences], dtype=np.int64)
        padded = _pad_float_sequences(sequences, lengths)
        if padded is None:  # other dtypes, or non-finite values
            try:  # one check of all the values, not one per sequence (~30 us each)
                steps = check_array(
                    np.concatenate(sequences), dtype=FLOAT_DTYPES, input_name="X"
                )
            except ValueError:  # say which sequence is at fault
                for i, x in enumerate(sequences):
                    check_array(x, dtype=FLOAT_DTYPES, input_name=f"X[{i}]")
                raise
            padded = _pad(np.split(steps, np.cumsum(lengths)[:-1]), lengths)
        if (lengths == lengths[0]).all():  # no padding: the faster unpacked path
            return (padded,)
        return padded, lengths

    def _is_plain_steps(self, X) -> bool:
        """A finite float 3-D ndarray of the fitted width: nothing to convert."""
        return (
            self._layout == "steps"
            and type(X) is np.ndarray
            and X.dtype in FLOAT_DTYPES
            and X.ndim == 3
            and len(X) > 0
            and X.shape[1] > 0
            and X.shape[2] == self.n_features_in_
            and np.isfinite(X).all()
        )

    def _build_module(self, input_shape, n_outputs):
        n_steps, n_features = input_shape
        return RecurrentNet(
            n_features,
            n_outputs,
            cell=self.cell,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            summary=self.summary,
            hidden_layer_sizes=self._hidden_sizes(),
            activation=get_activation(self.activation),
            dropout=float(self.dropout),
            batch_norm=self.batch_norm,
            n_steps=n_steps,
        )


RNN_PARAMS = """\
cell : {"rnn", "lstm", "gru"}, default="lstm"
        The recurrent cell: ``"rnn"`` (Elman, tanh), whose gradients vanish
        over long sequences; ``"lstm"`` and ``"gru"``, whose gates carry them.
    hidden_size : int, default=64
        Width of each recurrent layer's state, per direction.
    num_layers : int, default=1
        Stacked recurrent layers.
    bidirectional : bool, default=False
        Read each sequence forwards and backwards (states concatenated).
    summary : {"last", "mean", "max"}, default="last"
        How the top layer's states become one vector: the final state
        (both directions' ends when bidirectional), or the mean / max over
        the valid steps.
    hidden_layer_sizes : tuple of int, default=()
        The dense head on the summary; ``()`` is a linear read-out.
    activation : str or type of torch.nn.Module, default="relu"
        Activation of the head's hidden layers.
    input_shape : tuple of int or None, default=None
        ``(T, F)``: how each row of a 2-D X is read. With ``None``, a 2-D X
        holds univariate sequences ``(n, T)``.
    clip_grad_norm : float or None, default=None
        Clip the gradients' global norm to this value before each step
        (without a device sync), against exploding gradients."""

RNN_SHAPE = """\
Shape:
        - X: ``(n, T, F)`` sequences, ``(n, T)`` univariate sequences (or
          rows read through ``input_shape``), or a list of ``(T_i, F)``
          arrays of different lengths (padded, then packed or masked, so
          padding never reaches the result)
        - ``transform(X)``: ``(n, n_features_out)``, the summary vector, or
          the head's last hidden layer when it has one

    A model fitted on 3-D X or a list takes sequences of any length at
    predict time with the same ``F`` (``n_features_in_``); one fitted on 2-D
    rows takes rows of the same width. ``dropout`` applies between
    recurrent layers and in the head."""


@fill_doc(rnn_params=RNN_PARAMS, rnn_shape=RNN_SHAPE)
class RNNClassifier(_RNNMixin, NetClassifier):
    """Recurrent network classifier: RNN, LSTM or GRU, sequence to label.

    Parameters
    ----------
    {rnn_params}
    {net_params}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight``:
        a dict's keys must be classes of y and its values finite and >= 0
        (no dict for a multilabel y).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for a multilabel indicator y).
    {net_attributes}

    See Also
    --------
    RNNRegressor : The same network for regression.

    Notes
    -----
    {rnn_shape}

    {threads_note}

    Examples
    --------
    >>> import numpy as np
    >>> from skdeep import RNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = [rng.randn(rng.randint(3, 9), 2) for _ in range(60)]
    >>> y = [int(x[0, 0] > 0) for x in X]
    >>> clf = RNNClassifier(cell="gru", max_iter=5, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **NetClassifier._parameter_constraints,
        **_RNN_CONSTRAINTS,
    }

    def __init__(
        self,
        cell="lstm",
        hidden_size=64,
        *,
        num_layers=1,
        bidirectional=False,
        summary="last",
        hidden_layer_sizes=(),
        activation="relu",
        input_shape=None,
        clip_grad_norm=None,
        dropout=0.0,
        batch_norm=False,
        optimizer="adam",
        learning_rate=0.01,
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


@fill_doc(rnn_params=RNN_PARAMS, rnn_shape=RNN_SHAPE)
class RNNRegressor(_RNNMixin, NetRegressor):
    """Recurrent network regressor: RNN, LSTM or GRU, sequence to value(s).

    Parameters
    ----------
    {rnn_params}
    {net_params}
    {regression_loss}

    Attributes
    ----------
    {net_attributes}

    See Also
    --------
    RNNClassifier : The same network for classification.

    Notes
    -----
    {rnn_shape}

    {threads_note}
    """

    _parameter_constraints: dict = {
        **NetRegressor._parameter_constraints,
        **_RNN_CONSTRAINTS,
    }

    def __init__(
        self,
        cell="lstm",
        hidden_size=64,
        *,
        num_layers=1,
        bidirectional=False,
        summary="last",
        hidden_layer_sizes=(),
        activation="relu",
        input_shape=None,
        clip_grad_norm=None,
        dropout=0.0,
        batch_norm=False,
        optimizer="adam",
        learning_rate=0.01,
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


def _pad(sequences: list, lengths: np.ndarray) -> np.ndarray:
    """``(n, max(lengths), F)``: the sequences right-padded with zeros."""
    shape = (len(sequences), lengths.max(), sequences[0].shape[1])
    padded = np.zeros(shape, sequences[0].dtype)
    for row, x in zip(padded, sequences, strict=True):
        row[: len(x)] = x
    return padded


def _pad_float_sequences(sequences: list, lengths: np.ndarray) -> np.ndarray | None:
    """The padded sequences when all are finite float32 or all float64 (the
    common case: one copy, no conversion); ``None`` for anything else."""
    dtype = sequences[0].dtype
    if dtype not in (np.float32, np.float64) or any(
        x.dtype != dtype for x in sequences
    ):
        return None
    padded = _pad(sequences, lengths)
    return padded if np.isfinite(padded).all() else None
