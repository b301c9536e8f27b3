"""DNNClassifier / DNNRegressor: learning, batch modes, state and round trips."""

import io
import pickle
import signal
import sys
import warnings

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits, load_iris, make_classification
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron
from sklearn.metrics import recall_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from skdeep import DNNClassifier, DNNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# -- learning ------------------------------------------------------------------


def test_digits_accuracy_default_configuration(digits):
    X_train, X_test, y_train, y_test = digits
    clf = DNNClassifier(max_iter=100, random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.97


def test_diabetes_beats_dummy_and_matches_mlp():
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    dummy = DummyRegressor().fit(X_train, y_train).score(X_test, y_test)
    ours = DNNRegressor(
        hidden_layer_sizes=(64,), learning_rate=0.01, max_iter=500, random_state=0
    ).fit(X_train, y_train)
    mlp = MLPRegressor(
        hidden_layer_sizes=(64,), learning_rate_init=0.01, max_iter=500, random_state=0
    ).fit(X_train, y_train)
    r2, r2_mlp = ours.score(X_test, y_test), mlp.score(X_test, y_test)
    assert r2 > dummy + 0.3
    assert r2 > r2_mlp - 0.05


def test_xor_needs_a_hidden_layer():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    perceptron = Perceptron(max_iter=1000, tol=None, random_state=0).fit(X, y)
    assert perceptron.score(X, y) <= 0.75  # no line separates XOR
    dnn = DNNClassifier(
        hidden_layer_sizes=(8,),
        activation="tanh",
        learning_rate=0.05,
        batch_size="full",
        max_iter=500,
        tol=0,
        random_state=0,
    ).fit(X, y)
    assert dnn.score(X, y) == 1.0


def test_multilabel(iris):
    X, y = iris
    Y = np.column_stack([y == 0, y == 1, y >= 1]).astype(int)
    clf = DNNClassifier(max_iter=100, learning_rate=0.01, random_state=0).fit(X, Y)
    assert clf.predict(X).shape == Y.shape
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and ((proba >= 0) & (proba <= 1)).all()
    assert (clf.predict(X) == Y).all(axis=1).mean() > 0.9


def test_multioutput_regression():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 3)
    Y = np.column_stack([X[:, 0] - X[:, 1], X[:, 2] * 2])
    reg = DNNRegressor(max_iter=300, learning_rate=0.01, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (200, 2)
    assert reg.score(X, Y) > 0.9


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber"])
def test_regression_losses_learn(loss):
    rng = np.random.RandomState(0)
    X = rng.randn(200, 2)
    y = X[:, 0] + 0.5 * X[:, 1]
    reg = DNNRegressor(loss=loss, max_iter=200, learning_rate=0.01, random_state=0)
    assert reg.fit(X, y).score(X, y) > 0.9


def test_class_weight_balanced_helps_minority():
    X, y = make_classification(
        600, 10, weights=[0.9, 0.1], class_sep=0.5, random_state=0
    )
    params = dict(hidden_layer_sizes=(16,), max_iter=50, random_state=0)
    plain = DNNClassifier(**params).fit(X, y)
    balanced = DNNClassifier(class_weight="balanced", **params).fit(X, y)
    assert recall_score(y, balanced.predict(X)) > recall_score(y, plain.predict(X))


def test_zero_sample_weight_equals_dropping_rows(iris):
    X, y = iris
    keep = np.arange(len(y)) % 3 != 0
    params = dict(batch_size="full", max_iter=30, random_state=0)
    dropped = DNNClassifier(**params).fit(X[keep], y[keep])
    zeroed = DNNClassifier(**params).fit(X, y, sample_weight=keep.astype(float))
    np.testing.assert_allclose(
        dropped.predict_proba(X), zeroed.predict_proba(X), rtol=1e-4, atol=1e-6
    )


# -- batch modes, optimizers, activations ----------------------------------------


@pytest.mark.parametrize(
    "batch_size, batches", [("full", 1), (1, 150), (32, 5), ("auto", 1)]
)
def test_batch_modes(iris, batch_size, batches):
    X, y = iris
    clf = DNNClassifier(batch_size=batch_size, max_iter=2, random_state=0).fit(X, y)
    assert clf.history_[-1, "train_batch_count"] == batches


def test_batch_norm_folds_a_last_single_row(iris):
    X, y = iris
    clf = DNNClassifier(batch_norm=True, batch_size=149, max_iter=3, random_state=0)
    clf.fit(X, y)  # 150 = 149 + 1: the single row joins the previous batch
    assert clf.history_[-1, "train_batch_count"] == 1


@pytest.mark.parametrize(
    "optimizer, lr",
    [("sgd", 0.01), ("momentum", 0.01), ("adam", 0.001), ("adadelta", 1.0)],
)
def test_learning_rate_none_is_the_optimizers_default(iris, optimizer, lr):
    X, y = iris
    clf = DNNClassifier(optimizer=optimizer, max_iter=1, random_state=0).fit(X, y)
    assert clf.net_.optimizer_.param_groups[0]["lr"] == lr


def test_optimizer_and_activation_classes(iris):
    X, y = iris
    clf = DNNClassifier(
        optimizer=torch.optim.Adamax,
        activation=torch.nn.Hardtanh,
        learning_rate=0.01,
        max_iter=100,
        random_state=0,
    ).fit(X, y)
    assert isinstance(clf.net_.optimizer_, torch.optim.Adamax)
    assert any(isinstance(m, torch.nn.Hardtanh) for m in clf.module_.modules())
    assert clf.score(X, y) > 0.9


def test_per_layer_dropout_and_transform(iris):
    X, y = iris
    clf = DNNClassifier(
        hidden_layer_sizes=(20, 10), dropout=[0.5, 0.1], max_iter=5, random_state=0
    ).fit(X, y)
    rates = [m.p for m in clf.module_.modules() if isinstance(m, torch.nn.Dropout)]
    assert rates == [0.5, 0.1]
    assert clf.transform(X).shape == (150, 10)
    assert list(clf.get_feature_names_out()) == [f"dnnclassifier{i}" for i in range(10)]


# -- training state ----------------------------------------------------------------


def test_fitted_attributes(iris):
    X, y = iris
    clf = DNNClassifier(max_iter=7, tol=0, random_state=0).fit(X, y)
    assert clf.n_iter_ == 7 and len(clf.loss_curve_) == 7
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None
    assert clf.n_features_in_ == 4 and clf.device_ == "cpu"
    assert list(clf.classes_) == [0, 1, 2]


def test_early_stopping_stops_and_records_each_epochs_score(digits):
    # That the best epoch's weights are restored is checked against weight
    # snapshots, in every family, in tests/test_families.py.
    X_train, _, y_train, _ = digits
    clf = DNNClassifier(
        early_stopping=True, n_iter_no_change=3, max_iter=200, random_state=0
    ).fit(X_train, y_train)
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == clf.n_iter_
    best = int(np.argmax(clf.validation_scores_))
    assert clf.n_iter_ == best + 1 + 3  # stopped after 3 epochs without gain


def test_converged_training_stops_on_the_training_loss(iris):
    X, y = iris
    clf = DNNClassifier(tol=0.5, n_iter_no_change=2, max_iter=100, random_state=0)
    assert clf.fit(X, y).n_iter_ < 100


def test_max_iter_reached_warns(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        DNNClassifier(max_iter=2, random_state=0).fit(X, y)


def test_warm_start_and_partial_fit_continue(iris):
    X, y = iris
    clf = DNNClassifier(max_iter=3, tol=0, warm_start=True, random_state=0)
    clf.fit(X, y).fit(X, y)
    assert clf.n_iter_ == 6 and len(clf.loss_curve_) == 6
    inc = DNNClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        inc.partial_fit(X, y)
    inc.partial_fit(X[:50], y[:50], classes=[0, 1, 2]).partial_fit(X, y)
    assert inc.n_iter_ == 2 and list(inc.classes_) == [0, 1, 2]


def test_keyboard_interrupt_keeps_trained_epochs(iris):
    class Interrupt(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 3:
                signal.raise_signal(signal.SIGINT)  # Ctrl-C

    X, y = iris
    clf = DNNClassifier(max_iter=50, callbacks=[Interrupt()], random_state=0)
    with pytest.raises(KeyboardInterrupt), pytest.warns(UserWarning, match="3 comp"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert clf.predict(X).shape == (150,)


def test_an_ignored_ctrl_c_stays_ignored(iris, monkeypatch):
    """A process that ignores SIGINT (started with nohup or in the
    background) trains on: skdeep installs no handler of its own."""
    seen = []

    class Interrupt(Callback):
        def on_epoch_end(self, net, **kwargs):
            seen.append(signal.getsignal(signal.SIGINT))
            signal.raise_signal(signal.SIGINT)

    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        X, y = iris
        clf = DNNClassifier(max_iter=3, callbacks=[Interrupt()], random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        after = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, before)
    assert clf.n_iter_ == 3
    assert seen == [signal.SIG_IGN] * 3 and after is signal.SIG_IGN


def test_user_callbacks_receive_batches_and_stay_untouched(iris):
    class CountBatches(Callback):
        def initialize(self):
            self.batches_ = 0
            return self

        def on_batch_end(self, net, **kwargs):
            self.batches_ += 1

    X, y = iris
    counter = CountBatches()
    clf = DNNClassifier(batch_size=50, max_iter=2, callbacks=[counter], random_state=0)
    clf.fit(X, y)
    assert not hasattr(counter, "batches_")  # the user's object is not mutated
    assert dict(clf.net_.callbacks_)["CountBatches"].batches_ == 6


def test_verbose_prints_epochs(iris, capsys):
    X, y = iris
    DNNClassifier(max_iter=2, verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert out.startswith("DNNClassifier: training\n")
    assert "train_loss" in out
    assert "\x1b[" not in out


def test_verbose_table_leaves_out_per_layer_records(iris, capsys):
    from skdeep import GradientNormRecorder

    clf = DNNClassifier(max_iter=2, verbose=1, callbacks=[GradientNormRecorder()])
    clf.set_params(random_state=0).fit(*iris)
    out = capsys.readouterr().out
    assert "train_loss" in out and "grad_norms" not in out and "{" not in out
    assert len(clf.history_[:, "grad_norms"]) == 2  # recorded all the same


def test_verbose_colours_the_best_values_on_a_terminal(iris, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    DNNClassifier(max_iter=2, verbose=1, random_state=0).fit(*iris)
    assert "\x1b[" in terminal.getvalue()


# -- reproducibility and round trips -------------------------------------------


def test_random_state_repeats_and_leaves_global_rng_alone(iris):
    X, y = iris
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    params = dict(dropout=0.2, max_iter=5, random_state=7)
    a = DNNClassifier(**params).fit(X, y).predict_proba(X)
    b = clone(DNNClassifier(**params)).fit(X, y).predict_proba(X)
    assert torch.rand(1) == before
    np.testing.assert_array_equal(a, b)
    c = DNNClassifier(**{**params, "random_state": 8}).fit(X, y).predict_proba(X)
    assert not np.allclose(a, c)


def test_pickle_joblib_clone_round_trips(iris, tmp_path):
    X, y = iris
    clf = DNNClassifier(max_iter=5, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(clf)).predict_proba(X), expected
    )
    joblib.dump(clf, tmp_path / "model.joblib")
    np.testing.assert_array_equal(
        joblib.load(tmp_path / "model.joblib").predict_proba(X), expected
    )
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.module_ is restored.net_.module_
    assert not hasattr(clone(clf), "net_")
    assert len(pickle.dumps(DNNClassifier())) < 2000  # cheap before fit
    # The weights travel once (with Adam's two moments): not a second copy
    # through the net's ``module`` parameter, outside skorch's CUDA mapping.
    big = DNNClassifier((256, 256), max_iter=1, random_state=0).fit(X, y)
    weight_bytes = sum(p.numel() * p.element_size() for p in big.module_.parameters())
    assert len(pickle.dumps(big)) < 3.5 * weight_bytes


def test_pandas_keeps_feature_names_and_set_output(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    clf = DNNClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    clf.fit(frame, pd.Series(y))
    assert list(clf.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    out = clf.set_output(transform="pandas").transform(frame)
    assert list(out.columns) == [f"dnnclassifier{i}" for i in range(5)]


def test_pipeline(iris):
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), DNNClassifier(max_iter=300, random_state=0))
    assert pipe.fit(X, y).score(X, y) > 0.95


def test_grid_search_over_the_textbook_axes():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    grid = {
        "dropout": [0, 0.5],
        "activation": ["relu", "tanh", "sigmoid"],
        "optimizer": ["sgd", "momentum", "adam"],
        "batch_size": ["full", 1, 32],
    }
    search = GridSearchCV(
        DNNClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0),
        grid,
        cv=2,
        n_jobs=2,
    ).fit(X, y)
    results = search.cv_results_
    assert len(results["params"]) == 54
    assert sorted(results["rank_test_score"])[0] == 1
    assert np.ptp(results["mean_test_score"]) > 0.1  # the axes matter
    assert search.best_params_ in results["params"]


def test_same_results_in_parallel_workers(iris):
    X, y = iris
    grid = {"dropout": [0, 0.3], "optimizer": ["sgd", "adam"]}
    est = DNNClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    serial = GridSearchCV(est, grid, cv=2, n_jobs=1).fit(X, y)
    parallel = GridSearchCV(est, grid, cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    np.testing.assert_array_equal(serial.predict_proba(X), parallel.predict_proba(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_and_cpu_unpickle(iris, tmp_path):
    import os
    import subprocess
    import sys

    from skdeep import RBM

    X, y = iris
    clf = DNNClassifier(device="cuda", max_iter=5, random_state=0).fit(X, y)
    rbm = RBM(4, visible_units="gaussian", device="cuda", max_iter=2).fit(X)
    joblib.dump(rbm, tmp_path / "rbm.joblib")
    assert clf.device_.startswith("cuda")
    joblib.dump(clf, tmp_path / "gpu.joblib")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "p.npy", clf.predict_proba(X))
    script = (
        "import joblib, numpy as np, warnings; warnings.simplefilter('ignore');"
        f"m = joblib.load(r'{tmp_path / 'gpu.joblib'}');"
        f"X = np.load(r'{tmp_path / 'X.npy'}'); p = np.load(r'{tmp_path / 'p.npy'}');"
        "assert m.device_ == 'cpu', m.device_;"
        f"r = joblib.load(r'{tmp_path / 'rbm.joblib'}'); r.partial_fit(X[:, :4]);"
        "np.testing.assert_allclose(m.predict_proba(X), p, rtol=1e-4, atol=1e-6)"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}  # a CPU-only process
    subprocess.run([sys.executable, "-c", script], check=True, env=env)


@pytest.mark.parametrize("weighted", [False, True])
def test_validation_scores_match_sklearns_metrics(weighted):
    from sklearn.metrics import accuracy_score, r2_score

    from skdeep._net import SkdeepNet

    rng = np.random.RandomState(0)
    y, out = rng.randn(50, 2), rng.randn(50, 2)
    w = rng.rand(50) if weighted else None
    net = SkdeepNet(module=torch.nn.Identity(), criterion=torch.nn.MSELoss)
    tensor = lambda a: None if a is None else torch.as_tensor(a)  # noqa: E731
    net.score = "r2"
    got = net.valid_score(tensor(out), tensor(y), tensor(w))
    assert got == pytest.approx(r2_score(y, out, sample_weight=w), rel=1e-6)
    labels, logits = rng.randint(3, size=50), rng.randn(50, 3)
    net.score = "accuracy"
    got = net.valid_score(tensor(logits), tensor(labels), tensor(w))
    expected = accuracy_score(labels, logits.argmax(1), sample_weight=w)
    assert got == pytest.approx(expected, rel=1e-6)


def test_a_net_no_better_than_a_constant_says_so():
    # A step size far too small: the net stays where it started, above the
    # class-frequency prediction's loss.
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    scaled = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning, match="never beat a constant"):
        DNNClassifier(learning_rate=1e-7, max_iter=20, random_state=0).fit(scaled, y)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*never beat a constant")
        assert DNNClassifier(random_state=0).fit(scaled, y).score(scaled, y) > 0.95


def test_batch_norm_statistics_are_those_of_all_training_rows(iris):
    X, y = iris
    X = np.vstack([X, X[:52]])  # 202 rows: a last chunk of 2 must weigh little
    y = np.concatenate([y, y[:52]])
    clf = DNNClassifier((8,), batch_norm=True, batch_size=200, max_iter=5)
    clf.set_params(random_state=0).fit(X[np.argsort(X[:, 0])], y[np.argsort(X[:, 0])])
    linear, norm = clf.module_.features[0], clf.module_.features[1]
    with torch.no_grad():
        pre = linear(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(norm.running_mean.numpy(), pre.mean(0), atol=1e-10)
    np.testing.assert_allclose(norm.running_var.numpy(), pre.var(0), rtol=0.05)


def test_batch_norm_statistics_of_large_data_come_from_a_sample(monkeypatch):
    from skdeep import _net

    monkeypatch.setattr(_net, "RECALIBRATION_ROWS", 100)
    rows_seen = []
    recalibrate = _net.SkdeepNet.recalibrate_batch_norm

    def counting(net, data):
        norm = net.module_.features[1]
        hook = norm.register_forward_hook(lambda m, x, out: rows_seen.append(len(out)))
        try:
            return recalibrate(net, data)
        finally:
            hook.remove()

    monkeypatch.setattr(_net.SkdeepNet, "recalibrate_batch_norm", counting)
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(1000, 3), rng.randn(1000, 3) + 4])
    y = np.repeat([0, 1], 1000)
    clf = DNNClassifier((4,), batch_norm=True, batch_size=50, max_iter=2)
    clf.set_params(random_state=0).fit(X, y)
    linear, norm = clf.module_.features[0], clf.module_.features[1]
    with torch.no_grad():
        pre = linear(torch.as_tensor(X)).numpy()
    # Close to the whole set's statistics (the rows are drawn from both
    # halves, not taken in order), yet not equal to them: 100 rows were used.
    std = pre.std(0)
    assert sum(rows_seen) == 100  # the recalibration pass saw the sample only
    assert np.all(np.abs(norm.running_mean.numpy() - pre.mean(0)) < 0.3 * std)
    assert not np.allclose(norm.running_mean.numpy(), pre.mean(0), atol=1e-6)


def test_a_net_far_off_at_the_start_is_not_a_blow_up():
    # Unscaled X (around 500): the first loss is far above a constant
    # prediction's (~1), yet the net then trains, and no divergence is read.
    rng = np.random.RandomState(0)
    X = rng.normal(loc=500, size=(100, 2))
    y = X[:, 0] - 500 + 0.1 * rng.normal(size=100)
    reg = DNNRegressor((16,), max_iter=30, random_state=0).fit(X, y)
    assert reg.loss_curve_[0] > 1e4 * reg.net_.constant_loss_
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


def test_a_first_epoch_blow_up_from_a_normal_start_raises(iris):
    X, _ = iris
    reg = DNNRegressor((64,), optimizer="sgd", learning_rate=10.0, batch_size=10)
    with pytest.raises(ValueError, match="at epoch 1: training diverged"):
        reg.set_params(random_state=0).fit(X, X[:, 0])


def test_ctrl_c_handler_is_put_back_and_new_data_is_not_divergence(iris):
    X, _ = iris
    before = signal.getsignal(signal.SIGINT)
    reg = DNNRegressor((8,), warm_start=True, random_state=0).fit(X, 0.01 * X[:, 0])
    assert signal.getsignal(signal.SIGINT) is before
    # A warm start on targets 500 times larger: a new loss scale, not a
    # blow-up (the lowest loss of the first fit is no reference for it).
    first = reg.n_iter_
    reg.fit(X, 5 * X[:, 0] + 3)
    assert reg.loss_curve_[-1] < 0.9 * reg.loss_curve_[first]
