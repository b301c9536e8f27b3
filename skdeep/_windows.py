"""Windows over a series, for forecasting with any regressor.

Forecasting is cut in two, so that each piece keeps scikit-learn's contract:

* :func:`make_windows` slides a window over one series, once, before any
  estimator sees it: each row of its ``X`` is the history up to one time
  step, and ``y`` holds the value ``horizon`` steps later. It is a function,
  not a transformer, because it makes ``y`` and a pipeline step cannot.
* :class:`SlidingWindowTransformer` is the pipeline step: it keeps the last
  ``window`` steps of each history row, so the window's length is a
  hyper-parameter that ``GridSearchCV`` tunes on the very same targets.

A transformer whose rows are time steps, each row's output the window
ending at it, would read other rows; scikit-learn's order and subset checks
(rightly) fail it. Here each row carries its own history, so a row's output
depends on that row alone.
"""

from collections.abc import Sequence
from numbers import Integral
from typing import Self

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import FLOAT_DTYPES
from ._compat import Interval, _fit_context

__all__ = ["SlidingWindowTransformer", "make_windows"]


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be an int >= 1; got {value!r}.")
    return int(value)


def _lag_names(n_steps: int, n_features: int) -> list[str]:
    """``x0_t-2, x1_t-2, x0_t-1, ..., x1_t``: step by step, oldest first."""
    return [
        f"x{f}_t" if lag == 0 else f"x{f}_t-{lag}"
        for lag in range(n_steps - 1, -1, -1)
        for f in range(n_features)
    ]


def make_windows(
    series: ArrayLike,
    window: int,
    *,
    horizon: int = 1,
    target: int | Sequence[int] | None = None,
    flatten: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut one series into windows of past values and the values to forecast.

    Row ``i`` of ``X`` holds the ``window`` steps ``series[i : i + window]``
    and ``y[i]`` is ``series[i + window + horizon - 1]``: ``horizon`` steps
    after the window's last step. No window holds a value at or after its
    target's time, and the rows are in time order, as ``TimeSeriesSplit``
    expects (see :class:`SlidingWindowTransformer` for the split's ``gap``).

    Parameters
    ----------
    series : array-like of shape (n_steps,) or (n_steps, n_features)
        One series, oldest step first: univariate, or ``n_features``
        values per step.
    window : int
        Steps in each window. To compare window lengths on the same
        targets, make the longest here and shorten it with
        :class:`SlidingWindowTransformer`.
    horizon : int, default=1
        How many steps after the window's last step the target lies:
        ``1`` forecasts the next step.
    target : int, sequence of int or None, default=None
        The columns of a 2-D series to forecast; ``None`` forecasts every
        column (``y`` has the series' shape). An int gives a 1-D ``y``.
    flatten : bool, default=True
        Return 2-D ``X``, each row the window's steps one after the other
        (all features of the oldest step first); ``False`` returns 3-D
        ``(n_windows, window, n_features)`` sequences.

    Returns
    -------
    X : ndarray of shape (n_windows, window * n_features) or \
(n_windows, window, n_features)
        The windows, ``n_windows = n_steps - window - horizon + 1``. For a
        univariate series, 2-D ``X`` is ``(n_windows, window)``: univariate
        sequences for :class:`~skdeep.RNNRegressor`, lags for a linear
        model. A multivariate 2-D ``X`` is read by
        ``RNNRegressor(input_shape=(window, n_features))``.
    y : ndarray of shape (n_windows,) or (n_windows, n_targets)
        The value ``horizon`` steps after each window.

    Raises
    ------
    ValueError
        If ``series`` is not 1-D or 2-D or holds NaN or infinity, if
        ``window`` or ``horizon`` is not an int >= 1, if the series has
        fewer than ``window + horizon`` steps, or if ``target`` names no
        column of the series.

    See Also
    --------
    SlidingWindowTransformer : Shortens the windows inside a pipeline.

    Notes
    -----
    The window to forecast past the series' end has no target yet, so it is
    not among the rows; it is ``series[-window:].reshape(1, -1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeep import make_windows
    >>> X, y = make_windows(np.arange(6.0), window=3)
    >>> X
    array([[0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    >>> y
    array([3., 4., 5.])
    >>> X, y = make_windows(np.arange(12.0).reshape(6, 2), 2, horizon=2, target=0)
    >>> X.shape, y
    ((3, 4), array([ 6.,  8., 10.]))
    """
    window = _check_positive_int(window, "window")
    horizon = _check_positive_int(horizon, "horizon")
    values = check_array(
        series, ensure_2d=False, allow_nd=True, dtype=FLOAT_DTYPES, input_name="series"
    )
    if values.ndim not in (1, 2):
        raise ValueError(
            "series must be 1-D (n_steps,) or 2-D (n_steps, n_features), one "
            f"series; got {values.ndim} dimensions."
        )
    if values.ndim == 1:
        values = values[:, np.newaxis]
        univariate = True
    else:
        univariate = False
    n_steps, n_features = values.shape
    if n_steps < window + horizon:
        raise ValueError(
            f"window={window} and horizon={horizon} need a series of at least "
            f"window + horizon = {window + horizon} steps; the series has "
            f"{n_steps}."
        )
    if target is None:
        targets = values[:, 0] if univariate else values
    else:
        try:
            columns = np.arange(n_features)[target]
        except (IndexError, TypeError, ValueError):
            raise ValueError(
                f"target={target!r} must be None, or an int or a sequence of int "
                f"among the series' {n_features} columns."
            ) from None
        targets = values[:, columns]
    # (n_windows, n_features, window) views of the steps before the last
    # ``horizon``: the last of them is the target of the last window.
    windows = np.lib.stride_tricks.sliding_window_view(
        values[: n_steps - horizon], window, axis=0
    )
    X = np.ascontiguousarray(windows.transpose(0, 2, 1))
    if flatten:
        X = X.reshape(len(X), window * n_features)
    y = targets[window + horizon - 1 :].copy()
    return X, y


class SlidingWindowTransformer(TransformerMixin, BaseEstimator):
    """Keep the last ``window`` steps of each history: the pipeline step.

    Each row of ``X`` is the history before one forecast, ``n_steps`` steps
    of ``n_features`` values, oldest first (the rows :func:`make_windows`
    returns). The transformer keeps the last ``window`` steps of every row.
    Made once with the longest window, the rows let a pipeline try shorter
    windows on the same targets, so ``GridSearchCV`` compares them fairly::

        X, y = make_windows(series, window=24)
        pipe = make_pipeline(SlidingWindowTransformer(), RNNRegressor("gru"))
        grid = {"slidingwindowtransformer__window": [4, 8, 16, 24]}
        search = GridSearchCV(pipe, grid, cv=TimeSeriesSplit(5)).fit(X, y)

    Each row's output depends on that row alone: rows may be shuffled,
    subset or split in any way.

    Parameters
    ----------
    window : int or None, default=None
        Steps to keep, the most recent ones; ``None`` keeps them all.
    n_features : int, default=1
        Values per step (``F``): each row of ``X`` holds ``n_steps *
        n_features`` columns, all features of the oldest step first.

    Attributes
    ----------
    n_steps_in_ : int
        Steps in each row seen during :meth:`fit`.
    window_ : int
        Steps kept: ``window``, or ``n_steps_in_`` when it is ``None``.
    n_features_in_ : int
        Number of columns seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns seen during :meth:`fit`. Defined only when
        ``X`` has feature names that are all strings.

    See Also
    --------
    make_windows : Cuts one series into the history rows and targets.
    sklearn.model_selection.TimeSeriesSplit : Cross-validation in time order.

    Notes
    -----
    Shape:
        - X: ``(n, n_steps * F)``, ``n_steps`` steps of ``F = n_features``
          values each, oldest first
        - ``transform(X)``: ``(n, window * F)``, the last ``window`` steps;
          :class:`~skdeep.RNNRegressor` reads it directly when ``F = 1``
          and with ``input_shape=(window, F)`` otherwise. Without feature
          names in ``X``, the output's names read ``x0_t-2`` (feature 0,
          two steps before the last one, ``x0_t``).

    **Relation to TimeSeriesSplit.** Rows made by :func:`make_windows` are
    in the time order of their targets, so ``TimeSeriesSplit`` trains on
    earlier rows and tests on later ones. Splitting the rows is the same as
    splitting the series first and windowing each part, the test part
    starting ``window + horizon - 1`` steps early for its first window.
    Rows overlap in time (row ``i`` holds steps ``i`` to ``i + window -
    1``, its target is step ``i + window + horizon - 1``), so the ``gap``
    of the split decides what the training rows saw:

    - ``gap=0``: no training window holds a test target (a training
      window ends before any later row's target), but with ``horizon > 1``
      the last ``horizon - 1`` training targets lie after the first test
      window's last step: values not yet observed when that forecast is
      made.
    - ``gap=horizon - 1``: every training target was observed by the time
      of the first test forecast, as when a model is deployed. Use it.
    - ``gap=window + horizon - 1``: training and test rows share no value
      at all, neither input nor target.

    A window never holds a value at or after its target's time, so no
    split or shuffle leaks the target itself; the ``gap`` is what keeps the
    test in the training data's future.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
    >>> from sklearn.pipeline import make_pipeline
    >>> from skdeep import RNNRegressor, SlidingWindowTransformer, make_windows
    >>> rng = np.random.RandomState(0)
    >>> series = np.zeros(300)
    >>> for t in range(2, 300):
    ...     series[t] = 0.6 * series[t - 1] - 0.3 * series[t - 2] + rng.randn()
    >>> X, y = make_windows(series, window=6)
    >>> SlidingWindowTransformer(2).fit(X).get_feature_names_out()
    array(['x0_t-1', 'x0_t'], dtype=object)
    >>> pipe = make_pipeline(SlidingWindowTransformer(), LinearRegression())
    >>> grid = {"slidingwindowtransformer__window": [1, 2, 6]}
    >>> search = GridSearchCV(pipe, grid, cv=TimeSeriesSplit(3)).fit(X, y)
    >>> search.best_params_["slidingwindowtransformer__window"] > 1
    True
    >>> rnn = make_pipeline(
    ...     SlidingWindowTransformer(4),
    ...     RNNRegressor("gru", 8, max_iter=3, random_state=0),
    ... )
    >>> rnn.fit(X[:250], y[:250]).predict(X[250:]).shape
    (44,)
    """

    _parameter_constraints: dict = {
        "window": [Interval(Integral, 1, None, closed="left"), None],
        "n_features": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, window=None, *, n_features=1):
        self.window = window
        self.n_features = n_features

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Learn the number of steps in each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps * n_features)
            History rows, oldest step first.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=FLOAT_DTYPES)
        n_columns = X.shape[1]
        if n_columns % self.n_features:
            raise ValueError(
                f"n_features={self.n_features} must divide the {n_columns} "
                "columns of X: each row holds n_steps steps of n_features "
                "values, oldest step first."
            )
        n_steps = n_columns // self.n_features
        if self.window is not None and self.window > n_steps:
            raise ValueError(
                f"window={self.window} is longer than the rows of X: they hold "
                f"{n_columns} feature(s), {n_steps} steps of n_features="
                f"{self.n_features}. Make longer rows with make_windows(series, "
                f"window={self.window}) or lower window."
            )
        self.n_steps_in_ = n_steps
        self.window_ = n_steps if self.window is None else self.window
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Keep the last ``window_`` steps of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_steps * n_features)
            History rows, oldest step first, as many steps as in :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, `window_` * n_features)
            The last ``window_`` steps, oldest first, in X's float precision.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
        return X[:, self._first_column() :].copy()

    def get_feature_names_out(
        self, input_features: ArrayLike | None = None
    ) -> np.ndarray:
        """Names of the kept columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Names of the columns of X. ``None`` uses ``feature_names_in_``
            when fit saw names, else lag names: ``x0_t`` is feature 0 at the
            last step, ``x0_t-1`` the step before.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The names of the last ``window_`` steps' columns.
        """
        check_is_fitted(self)
        names_in = getattr(self, "feature_names_in_", None)
        if input_features is None:
            if names_in is None:
                names = _lag_names(self.n_steps_in_, self.n_features)
            else:
                names = list(names_in)
        else:
            names = [str(name) for name in np.asarray(input_features).ravel()]
            if len(names) != self.n_features_in_:
                raise ValueError(
                    f"input_features has {len(names)} names, but "
                    f"{type(self).__name__} was fitted on {self.n_features_in_} "
                    "columns."
                )
            if names_in is not None and names != list(names_in):
                raise ValueError(
                    "input_features is not equal to feature_names_in_, the names "
                    "of the columns fit saw."
                )
        return np.asarray(names[self._first_column() :], dtype=object)

    def _first_column(self) -> int:
        return (self.n_steps_in_ - self.window_) * self.n_features

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
