"""DBNTransformer, DBNClassifier, DBNRegressor."""

import signal

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

from skdeep import RBM, DBNClassifier, DBNRegressor, DBNTransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits01():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.25, random_state=0)


def test_greedy_stack(digits01):
    X_train, X_test, _, _ = digits01
    dbn = DBNTransformer(
        (32, 16), max_iter=[3, 2], learning_rate=[0.05, 0.1], random_state=0
    ).fit(X_train)
    bottom, top = dbn.rbms_
    assert isinstance(bottom, RBM) and isinstance(top, RBM)
    assert (bottom.n_iter_, top.n_iter_, dbn.n_iter_) == (3, 2, 5)
    assert (bottom.learning_rate, top.learning_rate) == (0.05, 0.1)
    # Layer 2 was trained on the hidden probabilities of the frozen layer 1.
    assert top.n_features_in_ == 32 and top.visible_units == "bernoulli"
    expected = top.transform(bottom.transform(X_test))
    np.testing.assert_allclose(dbn.transform(X_test), expected, rtol=1e-6)
    assert list(dbn.get_feature_names_out())[:1] == ["dbntransformer0"]


def test_per_layer_knob_of_the_wrong_length():
    with pytest.raises(ValueError, match="cd_steps has 3 values for 2 layers"):
        X = np.random.RandomState(0).rand(10, 3)
        DBNTransformer((4, 2), cd_steps=[1, 2, 3]).fit(X)


def test_dbn_features_beat_raw_pixels(nudged_digits):
    # scikit-learn's RBM example, with a two-layer DBN as the feature extractor.
    X_train, X_test, y_train, y_test = nudged_digits
    raw = LogisticRegression(C=100, max_iter=100).fit(X_train, y_train)
    raw_score = raw.score(X_test, y_test)
    dbn = DBNTransformer((256, 128), learning_rate=0.06, max_iter=20, random_state=0)
    plain = make_pipeline(dbn, LogisticRegression(C=100, max_iter=100))
    assert plain.fit(X_train, y_train).score(X_test, y_test) > raw_score + 0.04
    # Standardised, the saturated top-layer probabilities suit the linear
    # model better still.
    scaled = make_pipeline(
        plain[0], StandardScaler(), LogisticRegression(C=100, max_iter=100)
    )
    scaled.steps[0] = ("fitted_dbn", FunctionTransformer(plain[0].transform))
    assert scaled.fit(X_train, y_train).score(X_test, y_test) > raw_score + 0.08


def test_dbn_classifier_on_digits(digits01):
    X_train, X_test, y_train, y_test = digits01
    # Over seeds 0, 1, 2 this configuration scores 0.978, 0.971, 0.973.
    params = dict(learning_rate=0.003, batch_size=16, max_iter=60, random_state=0)
    pretrained = DBNClassifier(**params).fit(X_train, y_train)
    assert pretrained.score(X_test, y_test) >= 0.97


def test_pretrained_weights_are_the_starting_point(digits01):
    X_train, _, y_train, _ = digits01
    clf = DBNClassifier(
        (16, 8), learning_rate=1e-6, max_iter=1, pretrain_max_iter=2, random_state=0
    ).fit(X_train, y_train)
    linear = [m for m in clf.module_.modules() if isinstance(m, torch.nn.Linear)]
    for layer, rbm in zip(linear, clf.dbn_.rbms_, strict=False):
        np.testing.assert_allclose(
            layer.weight.detach().numpy(), rbm.components_, atol=1e-4
        )
        np.testing.assert_allclose(
            layer.bias.detach().numpy(), rbm.intercept_hidden_, atol=1e-4
        )
    scratch = DBNClassifier((16, 8), pretrain=False, max_iter=1, random_state=0)
    assert scratch.fit(X_train, y_train).dbn_ is None


def test_pretrain_is_a_grid_axis(digits01):
    X_train, _, y_train, _ = digits01
    search = GridSearchCV(
        DBNClassifier(
            (32,),
            learning_rate=0.01,
            batch_size=32,
            max_iter=30,
            pretrain_max_iter=2,
            random_state=0,
        ),
        {"pretrain": [True, False], "pretrain_learning_rate": [0.01, 0.1]},
        cv=2,
        n_jobs=2,
    ).fit(X_train[:600], y_train[:600])
    assert len(search.cv_results_["params"]) == 4
    assert set(search.cv_results_["param_pretrain"]) == {True, False}
    assert search.best_score_ > 0.8


def test_dbn_regressor_with_gaussian_units():
    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.randn(300)
    reg = DBNRegressor(
        (32,),
        visible_units="gaussian",
        pretrain_learning_rate=0.01,
        pretrain_max_iter=3,
        learning_rate=0.01,
        max_iter=200,
        random_state=0,
    ).fit(X, y)
    assert reg.score(X, y) > 0.9
    assert reg.transform(X).shape == (300, 32)


def test_bernoulli_pretraining_rejects_unscaled_data():
    X = np.random.RandomState(0).randn(30, 4)
    with pytest.raises(ValueError, match="visible_units='gaussian'"):
        DBNClassifier((4,), visible_units="bernoulli").fit(X, np.arange(30) % 2)


def test_default_dbn_after_a_standard_scaler():
    # The habit of most scikit-learn users: standardised X gives Gaussian
    # visible units (visible_units="auto"), trained at their default rate.
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    model = make_pipeline(StandardScaler(), DBNClassifier(random_state=0))
    assert model.fit(X_train, y_train).score(X_test, y_test) >= 0.97
    assert model[-1].dbn_.rbms_[0].visible_units_ == "gaussian"


def test_rbm_after_minmax_on_float32_digits():
    # MinMaxScaler in float32 overshoots 1 by a rounding step: still Bernoulli.
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    model = make_pipeline(
        StandardScaler(),
        MinMaxScaler(),
        RBM(n_components=64, random_state=0),
        LogisticRegression(max_iter=1000),
    )
    assert model.fit(X, y).score(X, y) > 0.9
    assert model[2].visible_units_ == "bernoulli"


def test_gaussian_pretraining_folds_the_standardisation_into_the_first_layer():
    X = np.random.RandomState(0).randn(120, 5) * [1, 10, 100, 1, 1] + 50
    y = (X[:, 0] > 50).astype(int)
    clf = DBNClassifier((6,), max_iter=1, learning_rate=1e-9, random_state=0)
    clf.fit(X, y)
    rbm = clf.dbn_.rbms_[0]
    assert rbm.visible_units_ == "gaussian"
    # The net's first layer on raw X equals the RBM's hidden units on X.
    linear = clf.module_.features[0]
    with torch.no_grad():
        hidden = torch.sigmoid(linear(torch.as_tensor(X))).numpy()
    np.testing.assert_allclose(hidden, rbm.transform(X), rtol=1e-6, atol=1e-9)


def test_ctrl_c_in_pretraining_undoes_the_whole_fit(monkeypatch):
    from skdeep._contrastive import RBMNet

    X = np.random.RandomState(0).rand(40, 6)
    y = np.arange(40) % 2
    step = RBMNet._cd_step
    calls = []

    def interrupted_step(net, v):  # Ctrl-C in the second layer's 2nd epoch
        calls.append(1)
        if len(calls) == 12:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C
        step(net, v)

    monkeypatch.setattr(RBMNet, "_cd_step", interrupted_step)
    for estimator, data in [
        (DBNTransformer((4, 3), batch_size=10, max_iter=2), (X,)),
        (DBNClassifier((4, 3), pretrain_batch_size=10, pretrain_max_iter=2), (X, y)),
    ]:
        calls.clear()
        with pytest.raises(KeyboardInterrupt):
            estimator.fit(*data)
        assert not hasattr(estimator, "rbms_") and not hasattr(estimator, "net_")
        assert not hasattr(estimator, "n_features_in_")


def test_verbose_log_is_plain_text_and_names_each_stage(capsys):
    X = np.random.RandomState(0).rand(40, 6).astype(np.float32)
    y = np.arange(40) % 2
    clf = DBNClassifier(
        (4, 3), max_iter=2, pretrain_max_iter=2, verbose=1, random_state=0
    ).fit(X, y)
    out = capsys.readouterr().out
    assert "\x1b[" not in out  # captured output is not a terminal: no colours
    stages = [line for line in out.splitlines() if line.startswith("DBNClassifier")]
    assert stages == [
        "DBNClassifier: pretraining layer 1 of 2 (RBM, 6 -> 4 units)",
        "DBNClassifier: pretraining layer 2 of 2 (RBM, 4 -> 3 units)",
        "DBNClassifier: fine-tuning",
    ]
    # One table per stage ("Restoring best model from epoch N." may follow).
    headers = [line for line in out.splitlines() if line.split()[:1] == ["epoch"]]
    assert len(headers) == 3
    # The labels belong to that fit, not to the fitted state.
    assert not hasattr(clf.dbn_, "_log_owner")
    assert not any(hasattr(rbm, "_log_stage") for rbm in clf.dbn_.rbms_)
