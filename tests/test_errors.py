"""Bad input gets a clear error naming the problem, never a torch traceback."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skdeep import DNNClassifier, DNNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

rng = np.random.RandomState(0)
X = rng.randn(40, 3)
y = np.tile([0, 1], 20)


def fit(X=X, y=y, sample_weight=None, **params):
    params = {"max_iter": 2, "random_state": 0, **params}
    return DNNClassifier(**params).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"activation": "swishy"}, "'activation' parameter .* must be a str among"),
        ({"optimizer": "adamm"}, "'optimizer' parameter .* must be a str among"),
        ({"dropout": 1.0}, "'dropout' parameter"),
        ({"dropout": -0.1}, "'dropout' parameter"),
        ({"dropout": [0.1, 0.2]}, "one such rate per hidden layer"),
        ({"dropout": [1.5]}, "dropout must be one rate in"),
        ({"hidden_layer_sizes": (10, -1)}, "positive integers"),
        ({"hidden_layer_sizes": 0}, "'hidden_layer_sizes' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"batch_size": "half"}, "'batch_size' parameter"),
        ({"learning_rate": 0.0}, "'learning_rate' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"device": "tpu:0"}, "Unknown device"),
        (
            {"batch_norm": True, "batch_size": 1},
            "batch normalisation, which needs at least 2",
        ),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        fit(**params)


def test_unknown_loss_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"'loss' parameter .* str among .*huber"):
        DNNRegressor(loss="l1").fit(X, y)


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="checks the CPU-only message"
)
def test_cuda_requested_without_cuda():
    with pytest.raises(ValueError, match="CUDA is not available"):
        fit(device="cuda")


@pytest.mark.parametrize(
    "X_bad, match",
    [
        (X[:, 0], "Expected 2D array"),
        (X[:, :, None], "Found array with dim 3"),
        (np.where(X > 1, np.nan, X), "Input X contains NaN"),
        (np.where(X > 1, np.inf, X), "Input X contains infinity"),
        (np.empty((0, 3)), "0 sample"),
        (np.empty((40, 0)), "0 feature"),
    ],
)
def test_bad_X(X_bad, match):
    with pytest.raises(ValueError, match=match):
        fit(X=X_bad)


def test_bad_y():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fit(y=y[:-1])
    with pytest.raises(ValueError, match="only one class"):
        fit(y=np.zeros(40))
    with pytest.raises(ValueError, match="Unknown label type"):
        fit(y=rng.randn(40))
    with pytest.raises(ValueError, match="Input y contains NaN"):
        DNNRegressor(max_iter=1).fit(X, np.where(y > 0, np.nan, 1.0))


def test_feature_count_differs_at_predict_time():
    clf = fit()
    with pytest.raises(ValueError, match="X has 4 features, but DNNClassifier is "):
        clf.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.predict(np.full((2, 3), np.nan))


def test_unfitted():
    with pytest.raises(NotFittedError):
        DNNClassifier().predict(X)
    with pytest.raises(NotFittedError):
        DNNRegressor().transform(X)


def test_unseen_labels_in_partial_fit():
    clf = DNNClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"labels not in classes_ \[0, 1\]: \[7\]"):
        clf.partial_fit(X, np.full(40, 7))


def test_sample_weight_errors():
    with pytest.raises(ValueError, match="at least one non-zero"):
        fit(sample_weight=np.zeros(40))
    with pytest.raises(ValueError, match="Negative values in data"):
        fit(sample_weight=-np.ones(40))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(39,\)"):
        fit(sample_weight=np.ones(39))


def test_diverging_loss_says_where_and_what_to_do():
    X_big = X * 1e6
    reg = DNNRegressor(optimizer="sgd", learning_rate=10.0, max_iter=50)
    with pytest.raises(ValueError, match=r"loss became .* at epoch \d+.*learning_rate"):
        reg.fit(X_big, X_big[:, 0] * 1e6)
    assert not hasattr(reg, "net_")  # a diverged net is not left as fitted


def test_early_stopping_on_too_few_samples():
    with pytest.raises(ValueError, match="cannot hold out validation_fraction"):
        fit(X=X[:3], y=y[:3], early_stopping=True)


def test_zero_weight_batches_weigh_nothing():
    weights = np.ones(40)
    weights[:10] = 0  # the first batches are all zero-weight rows
    fit(sample_weight=weights, batch_size=5, shuffle=False)
    fit(sample_weight=weights, batch_size=1)
    DNNRegressor(batch_size=1, max_iter=2).fit(X, X[:, 0], sample_weight=weights)


def test_negative_strides_are_fine():
    X32 = X.astype(np.float32)
    clf = fit(X=X32[::-1], y=y[::-1])
    assert clf.predict(X32[::-1]).shape == (40,)


def test_warm_start_restarts_the_optimizer_not_the_architecture():
    clf = fit(warm_start=True, learning_rate=1e-3)
    clf.set_params(learning_rate=0.5, optimizer="sgd").fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["lr"] == 0.5
    assert type(clf.net_.optimizer_).__name__ == "SGD"
    with pytest.raises(ValueError, match="cannot change between fits"):
        clf.set_params(hidden_layer_sizes=(7,)).fit(X, y)


def test_partial_fit_classes_cannot_change():
    clf = DNNClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"differs from the classes"):
        clf.partial_fit(X, y, classes=[0, 1, 2])


def test_callbacks_must_be_skorch_callbacks():
    with pytest.raises(TypeError, match="skorch Callback"):
        fit(callbacks=[1])
