"""GradientNormRecorder and the matplotlib displays of skdeep.plotting."""

import copy
import subprocess
import sys
import warnings

import matplotlib
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from skdeep import (
    RBM,
    CNNClassifier,
    DBNClassifier,
    DBNTransformer,
    DNNClassifier,
    DNNRegressor,
    RNNClassifier,
)
from skdeep.callbacks import GradientNormRecorder
from skdeep.plotting import (
    FilterDisplay,
    GradientNormDisplay,
    GridSearchDisplay,
    TrainingCurveDisplay,
)

matplotlib.use("Agg")
import matplotlib.pyplot as plt

# Fixed-epoch fits are the point here, not convergence.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:300] / 16).astype(np.float32), y[:300]


def fit(estimator, X, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def sigmoid_net(digits):
    """A deep sigmoid net with early stopping, a schedule and the recorder."""
    net = DNNClassifier(
        hidden_layer_sizes=(16,) * 4,
        activation="sigmoid",
        max_iter=4,
        n_iter_no_change=4,
        early_stopping=True,
        lr_schedule="cosine",
        callbacks=[GradientNormRecorder()],
        random_state=0,
    )
    return fit(net, *digits)


@pytest.fixture(scope="module")
def relu_net(digits):
    net = DNNClassifier(
        hidden_layer_sizes=(16,) * 4,
        max_iter=4,
        callbacks=[GradientNormRecorder()],
        random_state=0,
    )
    return fit(net, *digits)


# GradientNormRecorder --------------------------------------------------------


@pytest.mark.parametrize(
    "make, names",
    [
        (
            lambda: DNNRegressor((8,), max_iter=2),
            ["features.0.weight", "head.weight"],
        ),
        (
            lambda: CNNClassifier(input_shape=(1, 8, 8), max_iter=2),
            [
                "body.0.weight",
                "body.3.weight",
                "head.features.0.weight",
                "head.features.2.weight",
                "head.head.weight",
            ],
        ),
        (
            lambda: RNNClassifier(input_shape=(8, 8), max_iter=2, clip_grad_norm=1.0),
            ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "head.head.weight"],
        ),
        (
            lambda: DBNClassifier((8,), max_iter=2, pretrain_max_iter=1),
            ["features.0.weight", "head.weight"],
        ),
    ],
)
def test_recorder_one_dict_per_epoch(digits, make, names):
    X, y = digits
    est = make().set_params(callbacks=[GradientNormRecorder()], random_state=0)
    fit(est, X, y.astype(float) if isinstance(est, DNNRegressor) else y)
    recorded = est.history_[:, "grad_norms"]
    assert len(recorded) == est.n_iter_ == 2
    for norms in recorded:
        assert list(norms) == names  # forward order
        values = np.array(list(norms.values()))
        assert np.isfinite(values).all() and (values > 0).all()
        assert all(type(v) is float for v in norms.values())


def test_recorder_weights_are_layer_weights_not_norm_scales(digits):
    est = fit(
        DNNClassifier(
            hidden_layer_sizes=(8, 8),
            batch_norm=True,
            max_iter=1,
            callbacks=[GradientNormRecorder()],
            random_state=0,
        ),
        *digits,
    )
    batch_norms = [
        f"{name}.weight"
        for name, m in est.module_.named_modules()
        if isinstance(m, torch.nn.BatchNorm1d)
    ]
    assert batch_norms == ["features.1.weight", "features.4.weight"]
    recorded = est.history_[-1, "grad_norms"]
    assert list(recorded) == ["features.0.weight", "features.3.weight", "head.weight"]
    everything = fit(
        est.set_params(callbacks=[GradientNormRecorder("all")]), *digits
    ).history_[-1, "grad_norms"]
    assert set(batch_norms) < set(everything)


def test_recorder_all_parameters_and_bad_selection(digits):
    est = fit(
        DNNClassifier(
            (8,), max_iter=1, callbacks=[GradientNormRecorder("all")], random_state=0
        ),
        *digits,
    )
    names = list(est.history_[-1, "grad_norms"])
    assert names == [n for n, _ in est.module_.named_parameters()]
    bad = DNNClassifier((8,), max_iter=1, callbacks=[GradientNormRecorder("bias")])
    with pytest.raises(ValueError, match="'bias'"):
        bad.fit(*digits)


class _StartModule(Callback):
    def on_train_begin(self, net, **kwargs):
        self.module_ = copy.deepcopy(net.module_)


def test_recorder_measures_the_gradient(digits):
    # One full batch per epoch: epoch 1's norm is that of the loss gradient
    # at the initial weights.
    X, y = digits
    est = fit(
        DNNClassifier(
            (8,),
            batch_size="full",
            max_iter=1,
            callbacks=[("start", _StartModule()), GradientNormRecorder()],
            random_state=0,
        ),
        X,
        y,
    )
    module = dict(est.net_.callbacks_)["start"].module_.train()
    loss = torch.nn.functional.cross_entropy(
        module(torch.as_tensor(X)), torch.as_tensor(y)
    )
    loss.backward()
    recorded = est.history_[0, "grad_norms"]
    for name, param in module.named_parameters():
        if name.endswith("weight"):
            assert recorded[name] == pytest.approx(float(param.grad.norm()), rel=1e-4)


def test_recorder_keeps_the_early_stopped_epoch(digits):
    est = fit(
        DNNClassifier(
            (8,),
            max_iter=50,
            n_iter_no_change=1,
            tol=10.0,  # nothing counts as progress: stops at epoch 2
            callbacks=[GradientNormRecorder()],
            random_state=0,
        ),
        *digits,
    )
    assert est.n_iter_ < 50
    assert len(est.history_[:, "grad_norms"]) == est.n_iter_


def test_vanishing_gradient_in_a_deep_sigmoid_net(sigmoid_net, relu_net):
    def ratio(est):
        norms = GradientNormDisplay.from_estimator(est, kind="layers").lines_
        values = norms["layers"].get_ydata()
        return values[0] / values[-1]

    assert ratio(sigmoid_net) < 0.05  # the input layer learns 20x slower
    assert ratio(relu_net) > 5 * ratio(sigmoid_net)


# TrainingCurveDisplay ---------------------------------------------------------


def test_training_curves_hold_the_history(sigmoid_net):
    disp = TrainingCurveDisplay.from_estimator(sigmoid_net, learning_rate=True)
    lines = disp.lines_
    assert set(lines) == {"train_loss", "valid_loss", "valid_score", "learning_rate"}
    np.testing.assert_allclose(lines["train_loss"].get_ydata(), sigmoid_net.loss_curve_)
    np.testing.assert_allclose(
        lines["valid_score"].get_ydata(), sigmoid_net.validation_scores_
    )
    np.testing.assert_allclose(
        lines["learning_rate"].get_ydata(), sigmoid_net.history_[:, "lr"]
    )
    assert list(lines["train_loss"].get_xdata()) == [1, 2, 3, 4]
    assert lines["valid_score"].axes is disp.score_ax_ is not disp.ax_
    assert disp.lr_ax_.get_yscale() == "log"
    assert disp.figure_ is disp.ax_.figure


def test_two_estimators_on_one_axes(sigmoid_net, relu_net):
    first = TrainingCurveDisplay.from_estimator(sigmoid_net, name="sigmoid")
    second = TrainingCurveDisplay.from_estimator(relu_net, ax=first.ax_, name="relu")
    assert second.score_ax_ is first.score_ax_  # the twin axes is reused
    assert len(first.figure_.axes) == 2
    legends = [a.get_legend() for a in first.figure_.axes if a.get_legend()]
    assert len(legends) == 1
    texts = [t.get_text() for t in legends[0].get_texts()]
    assert "sigmoid: train loss" in texts and "relu: train loss" in texts
    assert "sigmoid: validation score" in texts


def test_training_curves_of_other_estimators(digits):
    X, y = digits
    mlp = fit(
        MLPClassifier((8,), max_iter=3, early_stopping=True, random_state=0), X, y
    )
    disp = TrainingCurveDisplay.from_estimator(mlp)
    np.testing.assert_allclose(disp.lines_["train_loss"].get_ydata(), mlp.loss_curve_)
    assert "valid_score" in disp.lines_ and "valid_loss" not in disp.lines_
    with pytest.raises(ValueError, match="no learning rates"):
        disp.plot(learning_rate=True)

    rbm = fit(RBM(n_components=4, max_iter=2, random_state=0), X)
    disp = TrainingCurveDisplay.from_estimator(rbm)
    np.testing.assert_allclose(
        disp.lines_["train_loss"].get_ydata(), rbm.reconstruction_error_curve_
    )
    assert disp.ax_.get_ylabel() == "reconstruction error"
    assert disp.score_ax_.get_ylabel() == "pseudo-log-likelihood"

    dbn = fit(DBNTransformer((4,), max_iter=1, random_state=0), X)
    with pytest.raises(ValueError, match=r"rbms_\[k\]"):
        TrainingCurveDisplay.from_estimator(dbn)
    TrainingCurveDisplay.from_estimator(dbn.rbms_[0])


def test_pipelines_searches_and_unfitted_estimators(digits):
    X, y = digits
    net = DNNClassifier((8,), max_iter=2, random_state=0)
    with pytest.raises(NotFittedError):
        TrainingCurveDisplay.from_estimator(net)
    with pytest.raises(NotFittedError):
        TrainingCurveDisplay.from_estimator(make_pipeline(StandardScaler(), net))
    pipe = fit(make_pipeline(StandardScaler(), net), X, y)
    disp = TrainingCurveDisplay.from_estimator(pipe)
    assert disp.estimator_name == "DNNClassifier"
    np.testing.assert_allclose(
        disp.lines_["train_loss"].get_ydata(), pipe[-1].loss_curve_
    )
    search = fit(GridSearchCV(net, {"alpha": [0.0, 1e-3]}, cv=2, refit=False), X, y)
    with pytest.raises(ValueError, match="refit=False"):
        TrainingCurveDisplay.from_estimator(search)


# GradientNormDisplay -----------------------------------------------------------


def test_gradient_norms_over_epochs(sigmoid_net):
    disp = GradientNormDisplay.from_estimator(sigmoid_net)
    recorded = sigmoid_net.history_[:, "grad_norms"]
    assert list(disp.lines_) == list(recorded[0])
    for name, line in disp.lines_.items():
        np.testing.assert_allclose(line.get_ydata(), [r[name] for r in recorded])
    assert disp.ax_.get_yscale() == "log"


def test_gradient_norms_over_layers(sigmoid_net, relu_net):
    recorded = sigmoid_net.history_[:, "grad_norms"]
    disp = GradientNormDisplay.from_estimator(sigmoid_net, kind="layers", epoch=2)
    line = disp.lines_["layers"]
    assert list(line.get_xdata()) == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(line.get_ydata(), list(recorded[1].values()))
    labels = [t.get_text() for t in disp.ax_.get_xticklabels()]
    assert labels == list(recorded[0])
    GradientNormDisplay.from_estimator(
        relu_net, kind="layers", ax=disp.ax_, name="relu"
    )
    texts = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert texts == ["DNNClassifier", "relu"]
    mean = GradientNormDisplay.from_estimator(sigmoid_net, kind="layers")
    np.testing.assert_allclose(
        mean.lines_["layers"].get_ydata()[0],
        np.mean([r["features.0.weight"] for r in recorded]),
    )


def test_gradient_norm_errors(sigmoid_net, digits):
    plain = fit(DNNClassifier((8,), max_iter=1, random_state=0), *digits)
    with pytest.raises(ValueError, match=r"callbacks=\[GradientNormRecorder\(\)\]"):
        GradientNormDisplay.from_estimator(plain)
    rbm = fit(RBM(n_components=2, max_iter=1), digits[0])
    with pytest.raises(ValueError, match=r"RBM.*back-propagation"):
        GradientNormDisplay.from_estimator(rbm)
    with pytest.raises(ValueError, match="'depth'"):
        GradientNormDisplay.from_estimator(sigmoid_net, kind="depth")
    with pytest.raises(ValueError, match="epoch=9"):
        GradientNormDisplay.from_estimator(sigmoid_net, kind="layers", epoch=9)


# FilterDisplay -----------------------------------------------------------------


def test_rbm_filters(digits):
    X, _ = digits
    rbm = fit(RBM(n_components=6, max_iter=1, random_state=0), X)
    disp = FilterDisplay.from_estimator(rbm, n_filters=5, n_cols=3)
    assert disp.axes_.shape == (2, 3)
    assert len(disp.images_) == 5
    assert not disp.axes_[1, 2].axison
    image = disp.images_[1]
    np.testing.assert_allclose(image.get_array(), rbm.components_[1].reshape(8, 8))
    low, high = image.get_clim()
    assert low == -high == -np.abs(rbm.components_[1]).max()  # symmetric per filter
    dbn = fit(DBNTransformer((6, 4), max_iter=1, random_state=0), X)
    disp = FilterDisplay.from_estimator(dbn, layer=1, image_shape=(2, 3))
    np.testing.assert_allclose(
        disp.images_[0].get_array(), dbn.rbms_[1].components_[0].reshape(2, 3)
    )
    glob = FilterDisplay(filters=rbm.components_, image_shape=(8, 8)).plot(
        scale="global"
    )
    assert glob.images_[0].get_clim() == glob.images_[5].get_clim()


def test_dense_and_convolutional_filters(sigmoid_net, digits):
    X, y = digits
    disp = FilterDisplay.from_estimator(sigmoid_net)
    assert len(disp.images_) == 16
    weight = sigmoid_net.module_.features[0].weight.detach().numpy()
    np.testing.assert_allclose(disp.images_[3].get_array(), weight[3].reshape(8, 8))
    assert FilterDisplay.from_estimator(sigmoid_net, layer=1).images_[
        0
    ].get_array().shape == (4, 4)
    sixty = fit(DNNClassifier((4,), max_iter=1, random_state=0), X[:, :60], y)
    with pytest.raises(ValueError, match="60 weights"):
        FilterDisplay.from_estimator(sixty)
    FilterDisplay.from_estimator(sixty, image_shape=(6, 10))
    cnn = fit(CNNClassifier(input_shape=(1, 8, 8), max_iter=1, random_state=0), X, y)
    disp = FilterDisplay.from_estimator(cnn, layer=1)  # 16 kernels over 6 channels
    kernels = cnn.module_.body[3].weight.detach().double().mean(dim=1).numpy()
    np.testing.assert_allclose(disp.images_[2].get_array(), kernels[2])
    signal = fit(CNNClassifier(input_shape=(1, 64), max_iter=1, random_state=0), X, y)
    disp = FilterDisplay.from_estimator(signal)
    assert disp.images_[0].get_ydata().shape == (5,)  # 1-D kernels as lines
    rnn = fit(RNNClassifier(input_shape=(8, 8), max_iter=1, random_state=0), X, y)
    with pytest.raises(ValueError, match="RNNClassifier is recurrent"):
        FilterDisplay.from_estimator(rnn)
    with pytest.raises(ValueError, match="layer=7"):
        FilterDisplay.from_estimator(cnn, layer=7)


# GridSearchDisplay -------------------------------------------------------------


@pytest.fixture(scope="module")
def search(digits):
    X, y = digits
    pipe = Pipeline(
        [("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=50))]
    )
    grid = {
        "clf__C": [1.0, 0.01, 0.1],
        "clf__fit_intercept": [True, False],
        "scale__with_mean": [True, False],
    }
    return fit(GridSearchCV(pipe, grid, cv=2), X, y)


def test_grid_search_best_over_other_parameters(search):
    disp = GridSearchDisplay.from_estimator(
        search, x="clf__C", hue="param_clf__fit_intercept"
    )
    assert set(disp.lines_) == {(None, "True"), (None, "False")}
    results = search.cv_results_
    for (_, hue), line in disp.lines_.items():
        assert [t.get_text() for t in disp.ax_.get_xticklabels()] == [
            "0.01",
            "0.1",
            "1",
        ]
        for position, c in enumerate([0.01, 0.1, 1.0]):
            rows = [
                i
                for i, params in enumerate(results["params"])
                if params["clf__C"] == c and str(params["clf__fit_intercept"]) == hue
            ]
            best = max(results["mean_test_score"][i] for i in rows)
            assert line.get_ydata()[position] == best  # best over scale__with_mean
            row = disp.best_index_[None, hue][position]
            assert results["mean_test_score"][row] == best
    bars = disp.errorbars_[None, "True"]
    assert bars.has_yerr


def test_grid_search_columns(search):
    disp = GridSearchDisplay.from_estimator(
        search, x="clf__fit_intercept", hue="clf__C", col="scale__with_mean"
    )
    assert disp.axes_.shape == (2,)
    assert len(disp.lines_) == 2 * 3
    assert all(len(line.get_xdata()) == 2 for line in disp.lines_.values())
    assert disp.axes_[0].get_title() == "scale__with_mean = True"


def test_grid_search_value_labels():
    results = {
        "param_layers": np.ma.masked_array(
            [(8,), (16, 16), None, "deep", StandardScaler()],
            mask=[False] * 5,
            dtype=object,
        ),
        "param_alpha": np.ma.masked_array([1, 1, 1, 1, 2], mask=[0, 0, 0, 0, 1]),
        "mean_test_score": [0.1, 0.2, 0.3, 0.4, 0.5],
    }
    disp = GridSearchDisplay.from_cv_results(results, x="layers", hue="alpha")
    labels = [t.get_text() for t in disp.ax_.get_xticklabels()]
    assert labels == ["(8,)", "(16, 16)", "None", "deep", "StandardScaler()"]
    assert set(disp.lines_) == {(None, "1"), (None, "(not set)")}
    assert not disp.errorbars_[None, "1"].has_yerr  # no std column


def test_grid_search_errors(search):
    with pytest.raises(ValueError, match=r"x='dropout'.*clf__C"):
        GridSearchDisplay.from_estimator(search, x="dropout")
    with pytest.raises(ValueError, match="hue='clf__c'"):
        GridSearchDisplay.from_estimator(search, x="clf__C", hue="clf__c")
    with pytest.raises(ValueError, match="score='mean_test_accuracy'"):
        GridSearchDisplay.from_estimator(search, x="clf__C", score="mean_test_accuracy")
    with pytest.raises(ValueError, match="same parameter"):
        GridSearchDisplay.from_estimator(search, x="clf__C", col="param_clf__C")
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="2 values"):
        GridSearchDisplay.from_estimator(
            search, x="clf__C", col="scale__with_mean", ax=ax
        )
    with pytest.raises(NotFittedError):
        GridSearchDisplay.from_estimator(GridSearchCV(StandardScaler(), {}), x="a")


# the public path ----------------------------------------------------------------


def test_displays_live_at_their_public_path():
    import skdeep.plotting

    displays = [
        TrainingCurveDisplay,
        GradientNormDisplay,
        FilterDisplay,
        GridSearchDisplay,
    ]
    assert sorted(skdeep.plotting.__all__) == sorted(d.__name__ for d in displays)
    for display in displays:
        assert display.__module__ == "skdeep.plotting"
        assert getattr(skdeep.plotting, display.__name__) is display
    assert repr(FilterDisplay(filters=np.zeros((1, 4)))).startswith(
        "<skdeep.plotting.FilterDisplay object"
    )


# matplotlib stays optional -----------------------------------------------------


def test_plotting_imports_without_matplotlib():
    code = """
import sys
sys.modules["matplotlib"] = None
import skdeep.plotting as p
disp = p.TrainingCurveDisplay(epochs=[1], train_loss=[1.0])
try:
    disp.plot()
except ImportError as exc:
    print(exc)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert 'pip install "skdeep[plot]"' in out.stdout
