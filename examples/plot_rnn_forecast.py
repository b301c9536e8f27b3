"""
Forecasting a time series with a recurrent network
==================================================

``make_windows(series, window=24)`` cuts one series into rows of 24 past
values (``X``) and the value that follows each (``y``). The same rows feed
an ``RNNRegressor`` (a 2-D ``X`` is read as univariate sequences: 24 steps
of one value) and a linear autoregressive model, ``LinearRegression`` on the
24 lags. Both forecast one step ahead; the first 80% of the series trains,
the last 20% tests, in time order.

Two generated series, each a 24-step seasonal sine plus a random part:

* **linear**: the random part is an AR(2) process. A linear model on the
  lags is already the best forecast there is, so the LSTM can only match it.
* **nonlinear**: the random part is a threshold AR process, with one rule
  below zero and another above it. A linear model averages the two rules;
  the LSTM learns much of both: it removes more than half of the linear
  model's error above the noise floor, though not all of it from 1,600
  training steps.

The dashed line is the noise floor: the variance of the random shocks,
the mean squared error of a perfect forecast. A linear baseline is the
first thing to beat before trusting a network's forecasts.
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error

from skdeep import RNNRegressor, make_windows

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # fixed epochs
out = Path(sys.argv[1] if len(sys.argv) > 1 else "skdeep-output")
out.mkdir(parents=True, exist_ok=True)

n_steps, n_train, window, noise = 2000, 1600, 24, 0.3


def make_series(kind, seed=0):
    """A seasonal sine (period 24) plus an AR(2) or a threshold AR process."""
    rng = np.random.RandomState(seed)
    shocks = noise * rng.randn(n_steps)
    z = np.zeros(n_steps)
    for t in range(2, n_steps):
        if kind == "linear":
            z[t] = 1.3 * z[t - 1] - 0.6 * z[t - 2]
        elif z[t - 1] < 0:  # threshold AR: one rule below zero...
            z[t] = 1.2 * z[t - 1] - 0.5 * z[t - 2]
        else:  # ...another above
            z[t] = -0.7 * z[t - 1] + 1.0
        z[t] += shocks[t]
    return 1.5 * np.sin(2 * np.pi * np.arange(n_steps) / 24) + z


fig, axes = plt.subplots(2, 2, figsize=(12, 6.5), gridspec_kw={"width_ratios": [3, 1]})
for (ax_series, ax_bar), kind in zip(axes, ["linear", "nonlinear"], strict=True):
    series = make_series(kind)
    mean, std = series[:n_train].mean(), series[:n_train].std()
    series = ((series - mean) / std).astype("float32")  # float32: the fast path
    floor = (noise / std) ** 2  # the shocks' variance, in standardised units

    X, y = make_windows(series, window)  # row i: steps i..i+23, y[i]: step i+24
    first_test = n_train - window  # the first row whose target is a test step
    X_train, y_train = X[:first_test], y[:first_test]
    X_test, y_test = X[first_test:], y[first_test:]

    models = {
        "linear AR(24)": LinearRegression(),
        "LSTM(32)": RNNRegressor(
            "lstm",
            32,
            learning_rate=0.01,
            batch_size=32,
            max_iter=40,
            n_iter_no_change=40,  # run all 40 epochs of the cosine schedule
            lr_schedule="cosine",
            random_state=0,
        ),
    }
    forecasts, mse = {}, {}
    for name, model in models.items():
        forecasts[name] = model.fit(X_train, y_train).predict(X_test)
        mse[name] = mean_squared_error(y_test, forecasts[name])
    print(
        f"{kind:>9} series: test MSE "
        + ", ".join(f"{name} {value:.4f}" for name, value in mse.items())
        + f"; noise floor {floor:.4f}"
    )

    last = np.arange(len(y_test))[-72:]  # the last 72 test steps
    ax_series.plot(last, y_test[last], "k.-", lw=0.8, ms=3, label="series")
    for (name, forecast), color in zip(
        forecasts.items(), ["tab:orange", "tab:blue"], strict=True
    ):
        ax_series.plot(last, forecast[last], color=color, label=f"{name} forecast")
    ax_series.set_xlabel("test step")
    ax_series.set_ylabel("value (standardised)")
    ax_series.set_title(
        f"{kind.capitalize()} series: one-step forecasts, last 72 steps"
    )
    ax_series.set_ylim(-2.6, 3.2)  # room for the legend
    ax_series.legend(loc="upper left", fontsize=8, ncol=3)

    ax_bar.bar(list(mse), list(mse.values()), color=["tab:orange", "tab:blue"])
    for i, value in enumerate(mse.values()):
        ax_bar.text(i, value, f"{value:.3f}", ha="center", va="bottom")
    ax_bar.axhline(floor, color="k", linestyle="--", label="noise floor")
    ax_bar.set_ylim(0, 1.35 * max(mse.values()))
    ax_bar.set_ylabel("test MSE")
    ax_bar.set_title("Test error")
    ax_bar.legend(loc="upper right", fontsize=8)
fig.tight_layout()
fig.savefig(out / "rnn_forecast.png", dpi=100)
print(f"saved {out / 'rnn_forecast.png'}")
