"""Windows over a series: make_windows, SlidingWindowTransformer, forecasting."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import make_pipeline

from skdeep import RNNRegressor, SlidingWindowTransformer, make_windows


def ar2_series(n_steps=1500, seed=0):
    """x_t = 0.6 x_{t-1} - 0.3 x_{t-2} + e_t, e_t ~ N(0, 1), in float32."""
    noise = np.random.RandomState(seed).randn(n_steps)
    x = np.zeros(n_steps)
    for t in range(2, n_steps):
        x[t] = 0.6 * x[t - 1] - 0.3 * x[t - 2] + noise[t]
    return x.astype(np.float32)


def test_make_windows_univariate():
    X, y = make_windows(np.arange(7.0), 3, horizon=2)
    np.testing.assert_array_equal(X, [[0, 1, 2], [1, 2, 3], [2, 3, 4]])
    np.testing.assert_array_equal(y, [4, 5, 6])
    assert X.flags.c_contiguous and X.flags.writeable


def test_make_windows_multivariate():
    series = np.arange(20.0).reshape(10, 2)  # step t is [2t, 2t + 1]
    X, y = make_windows(series, 3)
    assert X.shape == (7, 6) and y.shape == (7, 2)
    np.testing.assert_array_equal(X[0], [0, 1, 2, 3, 4, 5])  # step by step
    np.testing.assert_array_equal(y[0], [6, 7])
    X3, y0 = make_windows(series, 3, target=0, flatten=False)
    assert X3.shape == (7, 3, 2) and y0.shape == (7,)
    np.testing.assert_array_equal(X3.reshape(7, 6), X)
    np.testing.assert_array_equal(y0, y[:, 0])
    _, y1 = make_windows(series, 3, target=[1])
    assert y1.shape == (7, 1)


def test_make_windows_keeps_float32():
    X, y = make_windows(np.ones(10, dtype=np.float32), 4)
    assert X.dtype == y.dtype == np.float32


@pytest.mark.parametrize("window", [1, 3, 8])
@pytest.mark.parametrize("horizon", [1, 2, 5])
def test_no_future_value_in_a_window(window, horizon):
    # Values are their own time stamps: every value in a window is older
    # than the target, by exactly `horizon` steps for the newest one.
    times = np.arange(40.0)
    series = np.column_stack([times, times])
    X, y = make_windows(series, window, horizon=horizon, target=0)
    assert (X < y[:, None]).all()
    np.testing.assert_array_equal(X.max(axis=1), y - horizon)
    # Shortening the windows in a pipeline keeps the newest steps.
    Xt = SlidingWindowTransformer(1, n_features=2).fit_transform(X)
    np.testing.assert_array_equal(Xt, np.column_stack([y - horizon] * 2))


@pytest.mark.parametrize("horizon", [1, 3])
def test_time_series_split_gap(horizon):
    # The gaps that SlidingWindowTransformer's docstring explains.
    window, times = 4, np.arange(60.0)
    X, y = make_windows(times, window, horizon=horizon)
    origin = X[:, -1]  # when each forecast is made
    for gap in (0, horizon - 1, window + horizon - 1):
        for train, test in TimeSeriesSplit(4, gap=gap).split(X):
            # A training window never holds a test target, whatever the gap.
            assert X[train].max() < y[test].min()
            if gap >= horizon - 1:  # training targets are known at test time
                assert y[train].max() <= origin[test].min()
            else:
                assert y[train].max() > origin[test].min()
            if gap >= window + horizon - 1:  # no shared value at all
                used_train = set(X[train].ravel()) | set(y[train])
                used_test = set(X[test].ravel()) | set(y[test])
                assert not used_train & used_test


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(window=0), "window must be an int >= 1; got 0"),
        (dict(window=2.5), "window must be an int >= 1"),
        (dict(window=True), "window must be an int >= 1"),
        (dict(window=3, horizon=0), "horizon must be an int >= 1; got 0"),
        (dict(window=8), r"window=8 and horizon=1 need .* at least .* 9 steps"),
        (dict(window=4, horizon=5), r"at least window \+ horizon = 9 steps; .* 8"),
        (dict(window=2, target=2), r"target=2 must be None, or an int"),
        (dict(window=2, target="a"), r"target='a'"),
    ],
)
def test_make_windows_errors(kwargs, match):
    series = np.arange(16.0).reshape(8, 2)
    with pytest.raises(ValueError, match=match):
        make_windows(series, **kwargs)


def test_make_windows_rejects_bad_series():
    with pytest.raises(ValueError, match=r"series must be 1-D .* got 3 dim"):
        make_windows(np.zeros((4, 2, 2)), 2)
    with pytest.raises(ValueError, match="NaN"):
        make_windows(np.array([0.0, np.nan, 1.0, 2.0]), 2)


# SlidingWindowTransformer --------------------------------------------------------


def test_transformer_keeps_last_steps_and_names():
    X, _ = make_windows(np.arange(45.0).reshape(15, 3), 4)  # 4 steps x 3
    wt = SlidingWindowTransformer(2, n_features=3).fit(X)
    assert (wt.n_steps_in_, wt.window_, wt.n_features_in_) == (4, 2, 12)
    np.testing.assert_array_equal(wt.transform(X), X[:, 6:])
    names = ["x0_t-1", "x1_t-1", "x2_t-1", "x0_t", "x1_t", "x2_t"]
    assert list(wt.get_feature_names_out()) == names
    all_names = SlidingWindowTransformer(n_features=3).fit(X).get_feature_names_out()
    assert list(all_names[:3]) == ["x0_t-3", "x1_t-3", "x2_t-3"]
    given = [f"c{i}" for i in range(12)]
    assert list(wt.get_feature_names_out(given)) == given[6:]
    # The output is a copy: writing to it leaves X alone.
    wt.transform(X)[:] = -1
    assert X.min() >= 0


def test_transformer_output_feeds_an_rnn():
    # (n, window * F) rows read as (window, F) sequences: the 3-D windows.
    series = np.random.RandomState(0).randn(80, 2).astype(np.float32)
    X, y = make_windows(series, 6, target=0)
    X3, _ = make_windows(series, 6, target=0, flatten=False)
    Xt = SlidingWindowTransformer(4, n_features=2).fit_transform(X)
    np.testing.assert_array_equal(Xt.reshape(-1, 4, 2), X3[:, 2:])
    pipe = make_pipeline(
        SlidingWindowTransformer(4, n_features=2),
        RNNRegressor("gru", 4, input_shape=(4, 2), max_iter=2, random_state=0),
    )
    with pytest.warns(UserWarning, match="maximum iterations"):
        assert pipe.fit(X, y).predict(X[:5]).shape == (5,)


def test_transformer_pandas():
    pd = pytest.importorskip("pandas")
    X, _ = make_windows(np.arange(20.0), 3)
    frame = pd.DataFrame(X, columns=["lag2", "lag1", "lag0"])
    wt = SlidingWindowTransformer(2).set_output(transform="pandas").fit(frame)
    out = wt.transform(frame)
    assert list(out.columns) == ["lag1", "lag0"]
    np.testing.assert_array_equal(out.to_numpy(), X[:, 1:])
    windows = SlidingWindowTransformer(2).set_output(transform="pandas")
    default = windows.fit_transform(X)
    assert list(default.columns) == ["x0_t-1", "x0_t"]


@pytest.mark.parametrize(
    "params, n_columns, match",
    [
        (dict(window=5), 4, r"window=5 is longer than the rows of X: .* 4 steps"),
        (dict(window=2, n_features=3), 4, "n_features=3 must divide the 4 columns"),
        (dict(window=3, n_features=2), 4, r"window=3 .* 2 steps of n_features=2"),
        (dict(window=0), 4, "'window' parameter of SlidingWindowTransformer must be"),
        (dict(n_features=0), 4, "'n_features' parameter of SlidingWindowTransformer"),
    ],
)
def test_transformer_errors(params, n_columns, match):
    X = np.zeros((5, n_columns))
    with pytest.raises(ValueError, match=match):
        SlidingWindowTransformer(**params).fit(X)


def test_transformer_input_checks():
    wt = SlidingWindowTransformer(2).fit(np.zeros((5, 4)))
    expected = "X has 3 features, but SlidingWindowTransformer"
    with pytest.raises(ValueError, match=expected):
        wt.transform(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="input_features has 2 names"):
        wt.get_feature_names_out(["a", "b"])


# Forecasting ---------------------------------------------------------------


def test_grid_search_picks_a_window_over_time_series_split():
    # An AR(2) series needs two lags: one is not enough, and the search
    # compares the windows on the same rows and targets.
    X, y = make_windows(ar2_series(600), 8)
    pipe = make_pipeline(SlidingWindowTransformer(), LinearRegression())
    grid = {"slidingwindowtransformer__window": [1, 2, 8]}
    search = GridSearchCV(pipe, grid, cv=TimeSeriesSplit(4)).fit(X, y)
    assert search.best_params_["slidingwindowtransformer__window"] > 1
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] < scores[1] - 0.05


def test_rnn_forecasts_ar2_as_well_as_a_linear_ar_model():
    # Train on the first 80% of the windows, test on the rest. The linear
    # model (an AR(8) fitted by least squares on the same rows) is close to
    # optimal here: its test MSE is about the noise variance, 1.
    # Measured (data seed 0, model seed 0): linear 0.9693, GRU 0.9691 (ratio
    # 1.000) in 17 epochs, ~1 s; over data seeds 0-2 x model seeds 0-2 the
    # worst ratio was 1.045. Without early stopping the GRU overfits: 100
    # epochs at learning_rate=0.01 gave ratios of 1.29-1.38.
    X, y = make_windows(ar2_series(1500, seed=0), 16)
    cut = int(0.8 * len(X))
    linear = make_pipeline(SlidingWindowTransformer(8), LinearRegression())
    rnn = make_pipeline(
        SlidingWindowTransformer(8),
        RNNRegressor(
            "gru",
            16,
            learning_rate=0.003,
            batch_size=64,
            max_iter=200,
            early_stopping=True,
            random_state=0,
        ),
    )
    mse = {}
    for name, model in [("linear", linear), ("rnn", rnn)]:
        model.fit(X[:cut], y[:cut])
        mse[name] = mean_squared_error(y[cut:], model.predict(X[cut:]))
    assert 0.8 < mse["linear"] < 1.2
    assert mse["rnn"] <= 1.10 * mse["linear"], mse
