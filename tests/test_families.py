"""Base behaviours every supervised family inherits, over one list of families.

A new family joins by adding a line to ``FAMILIES``. Each test pins a
behaviour that a one-line slip in the shared base would break (dropout left
in eval mode, ``shuffle`` ignored, the best epoch not restored, ...).
"""

import pickle
import signal

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from skdeep import CNNClassifier, DBNClassifier, DNNClassifier, RNNClassifier
from skdeep._net import DivergedError, TrainingInterrupted

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

# (estimator, an architecture parameter and another value for it)
FAMILIES = [
    (DNNClassifier((16,), max_iter=20), "hidden_layer_sizes", (8,)),
    (CNNClassifier([4], max_iter=20), "architecture", [6]),
    (RNNClassifier("gru", 8, max_iter=20), "cell", "lstm"),
    (
        DBNClassifier((16,), max_iter=20, pretrain_max_iter=2),
        "hidden_layer_sizes",
        (8,),
    ),
]
IDS = [type(e).__name__ for e, _, _ in FAMILIES]


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def make(estimator, **params):
    return clone(estimator).set_params(random_state=0, **params)


class Recorder(Callback):
    """Records, per training batch, the batch size and the modules' mode."""

    def initialize(self):
        self.sizes, self.modes = [], []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            self.sizes.append(len(batch[1]))
            self.modes.append(all(m.training for m in net.module_.modules()))


class Interrupt(Callback):
    """Ctrl-C in the middle of epoch ``epoch`` (1-based, over the life)."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, net, training=None, **kwargs):
        if training and len(net.history) == self.epoch:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C


class Snapshots(Callback):
    """The module's weights after each epoch."""

    def initialize(self):
        self.states = []
        return self

    def on_epoch_end(self, net, **kwargs):
        state = net.module_.state_dict()
        self.states.append({k: v.clone() for k, v in state.items()})


def recorded(estimator, name):
    return dict(estimator.net_.callbacks_)[name]


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_warm_start_continues_and_refuses_a_new_architecture(
    iris, estimator, param, other
):
    X, y = iris
    clf = make(estimator, warm_start=True, max_iter=4).fit(X, y)
    clf.set_params(max_iter=3).fit(X, y)
    assert clf.n_iter_ == 7 and len(clf.loss_curve_) == 7
    before = clf.predict_proba(X)
    clf.set_params(**{param: other})
    with pytest.raises(ValueError, match=param):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_partial_fit_maps_labels_through_the_first_classes(
    iris, estimator, param, other
):
    X, y = iris
    clf = make(estimator, learning_rate=0.01)
    without_0 = y != 0
    for _ in range(30):  # batches without class 0 keep labels 1 and 2
        clf.partial_fit(X[without_0], y[without_0], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2] and clf.n_iter_ == 30
    # Encoded per batch, labels 1 and 2 would train classes 0 and 1.
    assert 0 not in clf.predict(X[without_0])
    assert clf.score(X[without_0], y[without_0]) > 0.7


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_seeds_pickles_and_clones_repeat(iris, estimator, param, other):
    X, y = iris
    first = make(estimator).fit(X, y)
    proba = first.predict_proba(X)
    np.testing.assert_array_equal(make(estimator).fit(X, y).predict_proba(X), proba)
    np.testing.assert_array_equal(clone(first).fit(X, y).predict_proba(X), proba)
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    other_seed = make(estimator).set_params(random_state=1).fit(X, y)
    assert not np.array_equal(other_seed.predict_proba(X), proba)


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_shuffle_dropout_and_training_mode(iris, estimator, param, other):
    X, y = iris
    params = dict(batch_size=16, max_iter=3, dropout=0.2)
    shuffled = make(estimator, callbacks=[("rec", Recorder())], **params).fit(X, y)
    in_order = make(estimator, shuffle=False, **params).fit(X, y)
    assert not np.array_equal(shuffled.predict_proba(X), in_order.predict_proba(X))
    modes = recorded(shuffled, "rec").modes
    assert modes and all(modes)  # dropout and batch norm train in train mode
    # ...and predict in eval mode: repeated predictions agree.
    np.testing.assert_array_equal(shuffled.predict_proba(X), shuffled.predict_proba(X))


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_optimizer_settings_reach_the_optimizer(iris, estimator, param, other):
    X, y = iris
    clf = make(estimator, optimizer=torch.optim.SGD, learning_rate=0.0123, alpha=0.01)
    group = clf.fit(X, y).net_.optimizer_.param_groups[0]
    assert group["lr"] == 0.0123 and group["weight_decay"] == 0.01
    assert clf.history_[-1, "lr"] == 0.0123


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_early_stopping_trains_without_the_validation_rows_and_keeps_the_best(
    iris, estimator, param, other
):
    X, y = iris
    clf = make(
        estimator,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=3,
        max_iter=30,
        batch_size=10,
        callbacks=[("rec", Recorder()), ("snap", Snapshots())],
    ).fit(X, y)
    rows_per_epoch = sum(recorded(clf, "rec").sizes) / clf.n_iter_
    assert rows_per_epoch == 120  # 150 rows less the 30 held out
    best = int(np.argmax(clf.validation_scores_))
    assert clf.best_validation_score_ == clf.validation_scores_[best]
    for key, value in clf.module_.state_dict().items():
        torch.testing.assert_close(value, recorded(clf, "snap").states[best][key])


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_precision_follows_X(iris, estimator, param, other):
    X, y = iris
    for X_in, dtype in [(X, torch.float64), (X.astype(np.float32), torch.float32)]:
        clf = make(estimator, max_iter=2).fit(X_in, y)
        assert {p.dtype for p in clf.module_.parameters()} == {dtype}
        assert clf.transform(X_in).dtype == X_in.dtype
        assert clf.predict_proba(X_in).dtype == np.float64
    forced = make(estimator, max_iter=2, dtype="float32").fit(X, y)
    assert forced.transform(X).dtype == np.float32


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_thread_setting_is_left_as_it_was(iris, estimator, param, other):
    X, y = iris
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        clf = make(estimator, max_iter=2).fit(X, y)
        assert torch.get_num_threads() == 2
        clf.predict(X)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_a_diverging_warm_start_keeps_the_trained_model(iris, estimator, param, other):
    X, y = iris
    clf = make(estimator, warm_start=True).fit(X, y)
    before, n_iter = clf.predict_proba(X), clf.n_iter_
    clf.set_params(optimizer="sgd", learning_rate=1e30, batch_size=1)
    with pytest.raises(DivergedError):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.n_iter_ == n_iter
    # partial_fit keeps the optimizer it has (as MLPClassifier's does):
    # make that one diverge.
    clf.net_.optimizer_.param_groups[0]["lr"] = 1e300  # to inf in one epoch
    with pytest.raises(DivergedError):
        clf.partial_fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.n_iter_ == n_iter
    fresh = clone(clf).set_params(warm_start=False)
    with pytest.raises(DivergedError):
        fresh.fit(X, y)
    assert not hasattr(fresh, "net_") and not hasattr(fresh, "n_iter_")


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_lr_schedule_sets_each_epochs_rate(iris, estimator, param, other):
    X, y = iris
    clf = make(estimator, lr_schedule="step", learning_rate=0.01, max_iter=6, tol=0)
    rates = clf.fit(X, y).history_[:, "lr"]
    np.testing.assert_allclose(rates, [0.01] * 2 + [0.001] * 2 + [0.0001] * 2)


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_multilabel_predict_is_probability_above_half(iris, estimator, param, other):
    X, y = iris
    Y = np.column_stack([y == 0, y == 2, X[:, 0] > 0]).astype(int)
    clf = make(estimator, max_iter=1, learning_rate=1e-4).fit(X, Y)
    proba = clf.predict_proba(X)
    assert ((proba > 0.5) & (proba < 0.62)).any()  # where 0.5 on logits differs
    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_transform_and_feature_names(iris, estimator, param, other):
    X, y = iris
    clf = make(estimator, max_iter=2).fit(X, y)
    features = clf.transform(X)
    names = clf.get_feature_names_out()
    assert features.shape == (150, len(names)) and np.isfinite(features).all()
    frame = clf.set_output(transform="pandas").transform(X)
    assert list(frame.columns) == list(names)


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_ctrl_c_keeps_completed_epochs_and_propagates(iris, estimator, param, other):
    X, y = iris
    clf = make(estimator, batch_size=16, callbacks=[Interrupt(3)])
    with pytest.raises(TrainingInterrupted), pytest.warns(UserWarning, match="2 comp"):
        clf.fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == len(clf.history_) == 2
    assert np.isfinite(clf.predict_proba(X)).all()
    # Interrupted in its first epoch, a fresh fit leaves nothing fitted...
    first = make(estimator, batch_size=16, callbacks=[Interrupt(1)])
    with pytest.raises(KeyboardInterrupt) as caught:
        first.fit(X, y)
    assert not isinstance(caught.value, TrainingInterrupted)
    assert not hasattr(first, "net_") and not hasattr(first, "n_iter_")
    # ...and a continued fit leaves the model as it was.
    before = clf.predict_proba(X)
    clf.set_params(warm_start=True, callbacks=[Interrupt(3)])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.n_iter_ == 2


class StopAt(Callback):
    """skorch's way for a callback to end training: raise KeyboardInterrupt."""

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise KeyboardInterrupt


@pytest.mark.parametrize("estimator, param, other", FAMILIES, ids=IDS)
def test_a_callback_may_stop_training_quietly(iris, estimator, param, other):
    X, y = iris
    clf = make(estimator, callbacks=[StopAt()]).fit(X, y)
    assert clf.n_iter_ == 2
    stopped = make(estimator, n_iter_no_change=2, tol=1e9).fit(X, y)  # early stop
    assert stopped.n_iter_ == 3
