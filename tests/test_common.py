"""scikit-learn's conformance suite over every public estimator."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdeep import (
    RBM,
    DBNClassifier,
    DBNRegressor,
    DBNTransformer,
    DNNClassifier,
    DNNRegressor,
)

# Small nets and few epochs keep the suite fast; each still has to learn the
# toy problems the checks pose (checks on accuracy and R^2 included).
# The RBM family runs with Gaussian visible units: the checks feed arbitrary
# real data, which Bernoulli units reject by design (fit requires [0, 1];
# tests/test_rbm.py covers that path).
SMALL_NET = dict(hidden_layer_sizes=(16,), max_iter=50, learning_rate=0.01)
SMALL_DBN = dict(
    SMALL_NET, visible_units="gaussian", pretrain_max_iter=2, pretrain_batch_size=32
)
ESTIMATORS = [
    DNNClassifier(**SMALL_NET),
    DNNRegressor(**SMALL_NET),
    RBM(n_components=8, visible_units="gaussian", learning_rate=0.01, max_iter=3),
    DBNTransformer((8, 4), visible_units="gaussian", learning_rate=0.01, max_iter=2),
    DBNClassifier(**SMALL_DBN),
    DBNRegressor(**SMALL_DBN),
]
# Weighted and repeated rows agree where training is deterministic: the
# DBNs' pretraining samples Gibbs chains over mini-batches and weighs no rows
# (sample_weight weighs the fine-tuning loss), so they run without it here.
DETERMINISTIC = [
    DNNClassifier(**SMALL_NET),
    DNNRegressor(**SMALL_NET),
    DBNClassifier(**SMALL_DBN, pretrain=False),
    DBNRegressor(**SMALL_DBN, pretrain=False),
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


PRETRAINING_UNWEIGHTED = (
    "RBM pretraining is stochastic and unweighted; sample_weight weighs the "
    "fine-tuning loss (documented)"
)


def expected_failed_checks(estimator):
    if not hasattr(estimator, "predict"):
        return {}
    reason = FLOAT32_EXACTNESS
    if getattr(estimator, "pretrain", False):
        reason = f"{PRETRAINING_UNWEIGHTED}; {FLOAT32_EXACTNESS}"
    return {"check_sample_weight_equivalence_on_dense_data": reason}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", DETERMINISTIC, ids=lambda e: type(e).__name__)
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
