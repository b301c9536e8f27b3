"""Property-based tests: whatever data comes in, a clear answer comes out.

Each estimator is fed random shapes, dtypes and values (NaN, infinity, huge
and tiny numbers, empty axes, constant columns, object and string arrays,
lists, data frames, sparse matrices), random targets, sample weights and
class weights. The outcome must be either a fitted model whose outputs are
finite, or a ``ValueError`` / ``TypeError`` with a message raised by skdeep
or scikit-learn: never an exception from inside torch, numpy, scipy or
skorch. Hypothesis runs derandomized, so CI sees the same examples each time.
"""

import os
import traceback
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from sklearn.base import clone, is_classifier, is_regressor

from skdeep import (
    RBM,
    CNNClassifier,
    CNNRegressor,
    DBNClassifier,
    DBNRegressor,
    DBNTransformer,
    DNNClassifier,
    DNNRegressor,
    RNNClassifier,
    RNNRegressor,
    SlidingWindowTransformer,
)

ESTIMATORS = {
    "DNNClassifier": DNNClassifier((3,), max_iter=2),
    "DNNRegressor": DNNRegressor((3,), max_iter=2),
    "CNNClassifier": CNNClassifier([2], hidden_layer_sizes=(3,), max_iter=2),
    "CNNRegressor": CNNRegressor([2], max_iter=2),
    "RNNClassifier": RNNClassifier("gru", 3, max_iter=2),
    "RNNRegressor": RNNRegressor("rnn", 3, hidden_layer_sizes=(3,), max_iter=2),
    "DBNClassifier": DBNClassifier((3,), max_iter=2, pretrain_max_iter=1),
    "DBNRegressor": DBNRegressor((3,), max_iter=2, pretrain_max_iter=1),
    "RBM": RBM(3, max_iter=2),
    "DBNTransformer": DBNTransformer((3, 2), max_iter=1),
    "SlidingWindowTransformer": SlidingWindowTransformer(),
}
SUPERVISED = {n for n, e in ESTIMATORS.items() if is_classifier(e) or is_regressor(e)}

#: Where an exception may come from: a message of ours or scikit-learn's.
OURS = ("/skdeep/", "/sklearn/")
#: Values spliced into X, y and the weights.
SPECIAL = [np.nan, np.inf, -np.inf, 1e300, -1e300, 1e-300, 5e-324, 0.0, 1e38, 7.0]
#: SKDEEP_FUZZ_EXAMPLES=500 searches deeper than CI's quick, repeatable pass.
FUZZ = settings(
    max_examples=int(os.environ.get("SKDEEP_FUZZ_EXAMPLES", 100)),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def often(value, *others, times=4):
    """``value`` ``times`` as often as each of ``others``: most examples stay
    valid in most respects, so one odd aspect at a time gets tested."""
    return st.sampled_from([value] * times + list(others))


@st.composite
def arrays(draw, *, nd=False):
    """An X-like: random shape, values, dtype and container.

    ``nd``: the estimator also takes 3-D samples, so they come as often.
    """
    n = draw(often(5, 0, 1, 2, 3, 8, times=3))
    ndim = draw(often(2, 1, 3, times=8 if not nd else 2))
    shape = (n, *[draw(often(3, 0, 1, 2)) for _ in range(ndim - 1)])
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    X = rng.randn(*shape) * draw(often(1.0, 1e-3, 1e3, 1e-300, 1e300, times=6))
    if X.size and draw(often(False, True, times=2)):  # a few special cells
        for _ in range(draw(st.integers(1, 3))):
            X.flat[draw(st.integers(0, X.size - 1))] = draw(st.sampled_from(SPECIAL))
    layout = draw(often("plain", "constant column", "constant", "01", times=3))
    if layout == "constant column" and X.ndim > 1 and X.shape[1]:
        X[:, 0] = draw(st.sampled_from([0.0, 1.0, -3.0]))
    elif layout == "constant":
        X[...] = draw(st.sampled_from([0.0, 1.0, 1e300]))
    elif layout == "01":  # the RBMs' Bernoulli range
        X = rng.rand(*shape)
    kind = draw(
        often(
            "f64",
            *("f32", "f16", "int", "bool", "object", "str", "complex", "list"),
            *("frame", "sparse", "mixed"),
            times=8,
        )
    )
    with np.errstate(all="ignore"):
        if kind == "f32":
            X = X.astype(np.float32)
        elif kind == "f16":
            X = X.astype(np.float16)
        elif kind == "int":
            X = np.nan_to_num(X).clip(-1e6, 1e6).astype(np.int64)
        elif kind == "bool":
            X = X > 0
        elif kind == "object":
            X = X.astype(object)
        elif kind == "str":
            X = X.astype(str)
        elif kind == "complex":
            X = X + 1j
        elif kind == "list":
            X = X.tolist()
        elif kind == "frame" and X.ndim == 2:
            X = pd.DataFrame(X, columns=[f"c{j}" for j in range(X.shape[1])])
        elif kind == "sparse" and X.ndim == 2:
            X = sp.csr_matrix(np.nan_to_num(X))
        elif kind == "mixed" and X.size:
            X = X.astype(object)
            X.flat[0] = "a"
    return X


@st.composite
def targets(draw, n_samples, *, classifier):
    """A y: labels of every kind, real values, special values, bad lengths."""
    m = max(0, n_samples + draw(often(0, 1, -1, times=12)))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    natural = "labels" if classifier else "float"
    kind = draw(
        often(
            natural,
            *("int", "str", "mixed", "float", "constant", "multilabel"),
            *("multioutput", "special", "list", "bool", "object float", "sparse"),
            times=12,
        )
    )
    if kind == "labels":
        return rng.randint(0, draw(st.integers(2, 3)), m)
    if kind == "int":
        return rng.randint(0, draw(st.integers(1, 4)), m)
    if kind == "str":
        return np.array(["a", "b", "c"])[rng.randint(0, 3, m)]
    if kind == "mixed":
        return np.array(["a", 1, 2.5, None], dtype=object)[rng.randint(0, 4, m)]
    if kind == "constant":
        return np.full(m, draw(st.sampled_from([0.0, 1.0, 1e300])))
    if kind == "multilabel":
        return rng.randint(0, 2, (m, 2))
    if kind == "multioutput":
        return rng.randn(m, 2)
    if kind == "special":
        y = rng.randn(m)
        if m:
            y[draw(st.integers(0, m - 1))] = draw(st.sampled_from(SPECIAL))
        return y
    if kind == "list":
        return rng.randint(0, 2, m).tolist()
    if kind == "bool":
        return rng.rand(m) > 0.5
    if kind == "object float":
        return rng.randn(m).astype(object)
    if kind == "sparse":
        return sp.csr_matrix(rng.randint(0, 2, (m, 2)))
    return rng.randn(m) * draw(often(1.0, 1e-300, 1e30))


@st.composite
def weights(draw, n_samples, name):
    kind = draw(often("none", "random", "zeros", "special", times=6))
    if kind == "none" or n_samples == 0:
        return None
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    weight = rng.rand(n_samples) * 3
    if kind == "zeros":
        weight[rng.rand(n_samples) < 0.5] = 0
    elif kind == "special":
        special = [*SPECIAL, -1.0]
        if name.startswith("DBN"):  # huge weights repeat rows: see the report
            special = [v for v in special if not v > 100]
        weight[draw(st.integers(0, n_samples - 1))] = draw(st.sampled_from(special))
    return weight


@st.composite
def settings_of(draw, name):
    """A few parameters that shape what fit does with the data."""
    estimator = clone(ESTIMATORS[name])
    params = {}
    if "random_state" in estimator.get_params():
        params["random_state"] = 0
    if name in SUPERVISED and draw(often(False, True)):
        params["early_stopping"] = True
        params["validation_fraction"] = draw(st.sampled_from([0.1, 0.3, 0.5]))
    if is_classifier(estimator) and draw(often(False, True)):
        params["class_weight"] = draw(
            st.sampled_from(
                ["balanced", {0: 1.0, 1: 2.0}, {"a": 0.5, "b": 1.0}, {0: np.nan, 1: 1}]
            )
        )
    if name in ("RBM", "DBNClassifier", "DBNRegressor"):
        params["visible_units"] = draw(often("auto", "bernoulli"))
    return estimator.set_params(**params)


def assert_ours(exc):
    """The error is a ValueError or TypeError with a message, raised by us."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = frames[-1].filename if frames else "?"
    assert isinstance(exc, ValueError | TypeError), f"{type(exc).__name__}: {exc}"
    assert str(exc).strip(), f"{type(exc).__name__} without a message at {where}"
    assert any(part in where for part in OURS), (
        f"{type(exc).__name__} from inside {where}: {exc}"
    )


def outputs(estimator, X) -> list:
    """Every output method's result on X (predict, probabilities, features)."""
    methods = ["predict", "predict_proba", "transform"]
    return [getattr(estimator, m)(X) for m in methods if hasattr(estimator, m)]


def assert_fitted_and_finite(estimator, X):
    n = len(X) if not sp.issparse(X) else X.shape[0]
    for out in outputs(estimator, X):
        out = out.toarray() if sp.issparse(out) else np.asarray(out)
        assert len(out) == n
        if out.dtype.kind == "f":
            assert np.isfinite(out).all(), f"non-finite output:\n{out}"


def has_an_empty_step_axis(name, X) -> bool:
    # Reported, not fixed here (rnn.py): 3-D X with 0 steps or 0 features
    # fails inside torch; see test_errors.test_rnn_empty_step_axes (xfail).
    return name.startswith("RNN") and np.ndim(X) == 3 and 0 in np.shape(X)[1:]


def checked_fit(estimator, X, y=None, sample_weight=None):
    """Fit; return whether it fitted, asserting any error is a clear one of ours."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            if y is None:
                estimator.fit(X)
            else:
                estimator.fit(X, y, sample_weight=sample_weight)
        except (ValueError, TypeError) as exc:
            assert_ours(exc)
            return False
        except Exception as exc:  # anything else is a failure of the test
            raise AssertionError(
                f"{type(exc).__name__} escaped fit: {exc}\n{traceback.format_exc()}"
            ) from None
        assert_fitted_and_finite(estimator, X)
        return True


@pytest.mark.parametrize("name", list(ESTIMATORS))
@FUZZ
@given(data=st.data())
def test_fit_on_random_data(name, data):
    estimator = data.draw(settings_of(name), label="estimator")
    X = data.draw(arrays(nd=name[:3] in ("CNN", "RNN")), label="X")
    assume(not has_an_empty_step_axis(name, X))
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    if name in SUPERVISED:
        classifier = is_classifier(estimator)
        y = data.draw(targets(n, classifier=classifier), label="y")
        weight = data.draw(weights(n, name), label="sample_weight")
        note(f"{estimator!r}")
        checked_fit(estimator, X, y, weight)
    else:
        note(f"{estimator!r}")
        checked_fit(estimator, X)


@pytest.fixture(scope="module")
def fitted():
    """Each estimator fitted on clean data (2-D rows, 3 features)."""
    rng = np.random.RandomState(0)
    X = rng.rand(20, 3)
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, estimator in ESTIMATORS.items():
            estimator = clone(estimator)
            if "random_state" in estimator.get_params():
                estimator.set_params(random_state=0)
            if is_classifier(estimator):
                models[name] = estimator.fit(X, np.tile(["a", "b"], 10))
            elif is_regressor(estimator):
                models[name] = estimator.fit(X, X.sum(axis=1))
            else:
                models[name] = estimator.fit(X)
    return models


@pytest.mark.parametrize("name", list(ESTIMATORS))
@FUZZ
@given(X=arrays())
def test_outputs_on_random_data(fitted, name, X):
    """Predict-time data: finite outputs of the right length, or a clear error."""
    assume(not has_an_empty_step_axis(name, X))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            results = outputs(fitted[name], X)
        except (ValueError, TypeError) as exc:
            assert_ours(exc)
            return
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    for out in results:
        out = np.asarray(out)
        assert len(out) == n
        if out.dtype.kind == "f":
            assert np.isfinite(out).all(), f"non-finite output:\n{out}"
