"""scikit-learn's conformance suite over every public estimator."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdeep import DNNClassifier, DNNRegressor

# Small nets and few epochs keep the suite fast; each still has to learn the
# toy problems the checks pose (checks on accuracy and R^2 included).
ESTIMATORS = [
    DNNClassifier(hidden_layer_sizes=(16,), max_iter=50, learning_rate=0.01),
    DNNRegressor(hidden_layer_sizes=(16,), max_iter=50, learning_rate=0.01),
]

# The check demands weighted and repeated fits agree to rtol=1e-7, below one
# float32 ulp (6e-8..1.2e-7): summing the same gradients in another row order
# already differs by that much. The nets train in float32 by design; the
# property itself is tested at float32 precision in
# test_sample_weight_equivalent_to_repeated_rows below.
FLOAT32_EXACTNESS = (
    "float32 training cannot agree to rtol=1e-7 across row orders; "
    "tested at float32 tolerance in test_common.py"
)


def expected_failed_checks(estimator):
    return {"check_sample_weight_equivalence_on_dense_data": FLOAT32_EXACTNESS}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_sample_weight_equivalent_to_repeated_rows(estimator):
    # The property of check_sample_weight_equivalence_on_dense_data, at the
    # precision float32 arithmetic allows; a wrong weighting (e.g. a penalty
    # scaled by the batch size) is off by 1e-2, far outside this tolerance.
    rng = np.random.RandomState(42)
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15)
    sw = rng.randint(0, 5, size=15)
    X_rep, y_rep = X.repeat(sw, axis=0), y.repeat(sw)
    order = rng.permutation(15)
    weighted = clone(estimator).set_params(random_state=0)
    repeated = clone(estimator).set_params(random_state=0)
    weighted.fit(X[order], y[order], sample_weight=sw[order])
    repeated.fit(X_rep, y_rep)
    method = "predict_proba" if hasattr(weighted, "predict_proba") else "predict"
    np.testing.assert_allclose(
        getattr(weighted, method)(X), getattr(repeated, method)(X), rtol=1e-4, atol=1e-6
    )
