"""scikit-learn's conformance suite over every public estimator.

Each estimator runs twice: default-constructed, as users get it, and with
small non-default settings that reach other code paths (other optimizers,
batch modes, early stopping, Gaussian units, float32 training). No check is
listed as an expected failure.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

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

DEFAULTS = [
    DNNClassifier(),
    DNNRegressor(),
    RBM(),
    DBNTransformer(),
    DBNClassifier(),
    DBNRegressor(),
    CNNClassifier(),
    CNNRegressor(),
    RNNClassifier(),
    RNNRegressor(),
    SlidingWindowTransformer(),
]

# Other paths through the same code: each still has to learn the toy
# problems the checks pose (checks on accuracy and R^2 included). Settings
# whose results cannot match the weighted-vs-repeated-rows check by nature
# (mini-batches, dropout and batch norm draw or average per row; float32
# rounds) are tested in the family test modules instead.
SMALL_NET = dict(hidden_layer_sizes=(16,), max_iter=50, learning_rate=0.01)
VARIANTS = [
    DNNClassifier(**SMALL_NET, optimizer="nesterov", lr_schedule="cosine"),
    DNNRegressor(**SMALL_NET | dict(max_iter=100), optimizer="rmsprop",
                 lr_schedule="step"),
    RBM(n_components=8, visible_units="gaussian", cd_steps=2, persistent=False),
    DBNTransformer((8, 4), optimizer="adam", learning_rate=0.01, max_iter=2),
    DBNClassifier(**SMALL_NET, pretrain_max_iter=2, pretrain_batch_size=32),
    DBNRegressor(**SMALL_NET, pretrain=False, loss="huber"),
    CNNClassifier([4, 8], max_iter=50, learning_rate=0.01, pooling="avg"),
    CNNRegressor("lenet5", (16,), max_iter=100, learning_rate=0.01),
    RNNClassifier("gru", 16, bidirectional=True, summary="mean", max_iter=50),
    RNNRegressor(
        "rnn", 16, num_layers=2, clip_grad_norm=1.0, max_iter=100, learning_rate=0.01
    ),
    SlidingWindowTransformer(2),
]


@parametrize_with_checks(DEFAULTS + VARIANTS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
