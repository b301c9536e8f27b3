"""Safe model files: ``save`` / ``load`` round trips, and what loading refuses."""

import io
import json
import os
import pickle
import subprocess
import sys
import zipfile

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, is_classifier, is_regressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from skorch.callbacks import EpochTimer

import skdeep
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
)
from skdeep._compare import make_model
from skdeep._persist import FORMAT_VERSION, ModelFileError, load, save

pd = pytest.importorskip("pandas")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {"max_iter": 2, "random_state": 0}
METHODS = (
    "predict",
    "predict_proba",
    "predict_log_proba",
    "transform",
    "score_samples",
    "reconstruct",
)


def estimators():
    """One small instance of every public estimator."""
    return [
        DNNClassifier((5,), dropout=0.1, **SMALL),
        DNNRegressor((5, 3), batch_norm=True, **SMALL),
        CNNClassifier([2], input_shape=(1, 4), **SMALL),
        CNNRegressor([2], **SMALL),
        RNNClassifier(hidden_size=3, **SMALL),
        RNNRegressor("gru", hidden_size=3, bidirectional=True, **SMALL),
        RBM(3, **SMALL),
        DBNTransformer((3, 2), **SMALL),
        DBNClassifier((3,), pretrain_max_iter=1, **SMALL),
        DBNRegressor((3,), pretrain=False, **SMALL),
    ]


def data(dtype=np.float64):
    rng = np.random.RandomState(0)
    X = rng.rand(30, 4).astype(dtype)
    labels = np.where(X[:, 0] + X[:, 1] > 1, "yes", "no")
    return X, labels, X @ [1.0, -2.0, 0.5, 0.0]


def fitted(estimator, X, labels, values):
    if is_classifier(estimator):
        return estimator.fit(X, labels)
    if is_regressor(estimator):
        return estimator.fit(X, values)
    return estimator.fit(X)


def round_trip(estimator, **kwargs):
    buffer = io.BytesIO()
    save(estimator, buffer)
    buffer.seek(0)
    return load(buffer, **kwargs)


def assert_same(a, b, where="estimator"):
    """Equal values of equal types: arrays with their dtype, estimators by state."""
    assert type(a) is type(b), where
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, BaseEstimator):
        state_a = {k: v for k, v in vars(a).items() if k != "net_"}
        state_b = {k: v for k, v in vars(b).items() if k != "net_"}
        assert state_a.keys() == state_b.keys(), where
        for key in state_a:
            assert_same(state_a[key], state_b[key], f"{where}.{key}")
        if hasattr(a, "net_"):
            assert _timeless(a.history_) == _timeless(b.history_), where
            assert_same(a.module_.state_dict(), b.module_.state_dict(), where)
            assert not b.module_.training
    elif isinstance(a, np.random.RandomState):
        assert_same(a.get_state(), b.get_state(), where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a.cpu(), b.cpu()), where
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def _timeless(history) -> list[dict]:
    """The history without epoch durations (which differ between runs)."""
    return [{k: v for k, v in epoch.items() if k != "dur"} for epoch in history]


def assert_same_outputs(a, b, X):
    for method in METHODS:
        if hasattr(a, method):
            assert_same(getattr(a, method)(X), getattr(b, method)(X), method)


# -- round trips ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("estimator", estimators(), ids=lambda e: type(e).__name__)
def test_round_trip_keeps_state_and_outputs(estimator, dtype):
    X, labels, values = data(dtype)
    estimator = fitted(estimator, X, labels, values)
    loaded = round_trip(estimator)
    assert_same(estimator, loaded)
    assert loaded.get_params() == estimator.get_params()
    assert_same_outputs(estimator, loaded, X)
    if hasattr(estimator, "transform"):
        assert loaded.transform(X).dtype == dtype


def test_unfitted_estimator_round_trips():
    estimator = DNNClassifier((7, 3), activation="tanh", class_weight={0: 1, 1: 2.5})
    loaded = round_trip(estimator)
    assert loaded.get_params() == estimator.get_params()
    assert not hasattr(loaded, "net_")


def test_string_labels_and_pandas_feature_names(tmp_path):
    X, labels, _ = data()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    classifier = DNNClassifier((4,), **SMALL).fit(frame, pd.Series(labels))
    assert classifier.classes_.dtype == object
    save(classifier, tmp_path / "model.skdeep")
    loaded = load(tmp_path / "model.skdeep")
    assert_same(classifier, loaded)
    assert loaded.feature_names_in_.tolist() == ["a", "b", "c", "d"]
    with pytest.warns(UserWarning, match="feature names"):
        loaded.predict(X)  # the names are checked as before
    assert_same_outputs(classifier, loaded, frame)


def test_multilabel_and_multioutput():
    X, _, values = data()
    Y = (X[:, :3] > 0.5).astype(int)
    classifier = DNNClassifier((4,), **SMALL).fit(X, Y)
    assert_same_outputs(classifier, round_trip(classifier), X)
    regressor = DNNRegressor((4,), **SMALL).fit(X, np.c_[values, -values])
    assert_same_outputs(regressor, round_trip(regressor), X)


def test_variable_length_sequences():
    rng = np.random.RandomState(0)
    X = [rng.randn(rng.randint(2, 7), 2) for _ in range(20)]
    y = [int(x[0, 0] > 0) for x in X]
    classifier = RNNClassifier("lstm", hidden_size=3, **SMALL).fit(X, y)
    loaded = round_trip(classifier)
    assert_same(classifier, loaded)
    assert_same(classifier.predict_proba(X), loaded.predict_proba(X))
    assert_same(classifier.transform(X[:5]), loaded.transform(X[:5]))


def test_parameters_given_as_torch_classes_and_objects():
    X, labels, _ = data()
    classifier = DNNClassifier(
        (4,),
        activation=torch.nn.Tanh,
        optimizer=torch.optim.RMSprop,
        device=torch.device("cpu"),
        random_state=np.random.RandomState(3),
        max_iter=2,
    ).fit(X, labels)
    loaded = round_trip(classifier)
    assert loaded.activation is torch.nn.Tanh
    assert loaded.optimizer is torch.optim.RMSprop
    assert loaded.device == torch.device("cpu")
    assert_same(classifier, loaded)
    assert_same_outputs(classifier, loaded, X)


def test_pipelines_as_the_command_builds_them():
    X, labels, values = data(np.float32)
    frame = pd.DataFrame(X, columns=list("abcd"))
    for task, y in [("classify", labels), ("regress", 100 * values)]:
        model = make_model(task, hidden_layer_sizes=(4,), **SMALL).fit(frame, y)
        loaded = round_trip(model)
        assert_same(model.predict(frame), loaded.predict(frame))
        assert list(loaded.feature_names_in_) == list("abcd")
        assert_same(model[-1], loaded[-1])


def test_pipeline_of_sklearn_and_skdeep_steps():
    X, labels, _ = data()
    model = make_pipeline(StandardScaler(), RBM(3, **SMALL), LogisticRegression()).fit(
        X, labels
    )
    loaded = round_trip(model)
    assert_same_outputs(model, loaded, X)
    for step, loaded_step in zip(model, loaded, strict=True):
        assert_same(step, loaded_step)


def test_every_public_estimator_is_allowed():
    from skdeep._persist import estimator_classes

    public = [
        name
        for name in skdeep.__all__
        if isinstance(getattr(skdeep, name), type)
        and issubclass(getattr(skdeep, name), BaseEstimator)
    ]
    assert {f"skdeep.{name}" for name in public} <= set(estimator_classes())


def test_forecasting_pipeline():
    rng = np.random.RandomState(0)
    X, y = rng.rand(30, 6), rng.rand(30)
    model = make_pipeline(
        skdeep.SlidingWindowTransformer(4), RNNRegressor("gru", hidden_size=3, **SMALL)
    ).fit(X, y)
    assert_same(model.predict(X), round_trip(model).predict(X))


def test_set_output_survives():
    X, _, _ = data()
    rbm = RBM(3, **SMALL).set_output(transform="pandas").fit(X)
    out = round_trip(rbm).transform(X)
    assert isinstance(out, pd.DataFrame)
    assert_same(out.to_numpy(), rbm.transform(X).to_numpy())


@pytest.mark.parametrize(
    "estimator",
    [
        DNNClassifier((5,), dropout=0.3, **SMALL),
        RBM(3, optimizer="adam", **SMALL),
        DBNClassifier((3,), pretrain_max_iter=1, **SMALL),
    ],
    ids=lambda e: type(e).__name__,
)
def test_training_continues_as_it_would_have(estimator):
    """Optimizer state, seeds, history and the RBM's chain are kept."""
    X, labels, values = data()
    estimator = fitted(estimator, X, labels, values)
    loaded = round_trip(estimator)
    for model in (estimator, loaded):
        if isinstance(model, RBM):
            model.partial_fit(X)
        else:
            model.partial_fit(X, labels)
    assert_same(estimator, loaded)
    assert_same_outputs(estimator, loaded, X)
    if isinstance(estimator, RBM):
        assert_same(estimator.gibbs(X), loaded.gibbs(X))


def test_warm_start_fit_after_loading():
    X, _, values = data()
    regressor = DNNRegressor((4,), warm_start=True, **SMALL).fit(X, values)
    loaded = round_trip(regressor)
    regressor.fit(X, values)
    loaded.fit(X, values)
    assert_same(regressor, loaded)


def test_loading_leaves_the_torch_generator_alone():
    X, labels, _ = data()
    buffer = io.BytesIO()
    save(DNNClassifier((5,), **SMALL).fit(X, labels), buffer)
    before = torch.get_rng_state()
    buffer.seek(0)
    load(buffer)
    assert torch.equal(torch.get_rng_state(), before)


def test_load_never_unpickles(monkeypatch, tmp_path):
    X, labels, _ = data()
    model = make_pipeline(StandardScaler(), DBNClassifier((3,), **SMALL))
    save(model.fit(X, labels), tmp_path / "model.skdeep")

    def refuse(*args, **kwargs):
        raise AssertionError("the load path unpickled something")

    for owner, name in [
        (pickle, "load"),
        (pickle, "loads"),
        (pickle, "Unpickler"),
        (torch, "load"),
        (joblib, "load"),
        (np, "load"),
    ]:
        monkeypatch.setattr(owner, name, refuse)
    assert_same_outputs(model, load(tmp_path / "model.skdeep"), X)


# -- devices ------------------------------------------------------------------------


def _edit(buffer: io.BytesIO, change) -> io.BytesIO:
    """A copy of a model file whose skdeep.json went through ``change``."""
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as archive:
        document = json.loads(archive.read("skdeep.json"))
        tensors = archive.read("tensors.safetensors")
    change(document)
    edited = io.BytesIO()
    with zipfile.ZipFile(edited, "w") as archive:
        archive.writestr("skdeep.json", json.dumps(document))
        archive.writestr("tensors.safetensors", tensors)
    edited.seek(0)
    return edited


def _root(document) -> dict:
    return document["root"]["__estimator__"]


def test_a_model_saved_on_a_gpu_loads_on_the_cpu(monkeypatch):
    """As saved from CUDA (device_ "cuda:0"), on a machine without CUDA."""
    X, labels, _ = data()
    classifier = DBNClassifier((3,), pretrain_max_iter=1, **SMALL).fit(X, labels)
    buffer = io.BytesIO()
    save(classifier, buffer)

    def on_gpu(document):
        _root(document)["attributes"]["device_"] = "cuda:0"
        dbn = _root(document)["attributes"]["dbn_"]["__estimator__"]
        for rbm in dbn["attributes"]["rbms_"]:
            rbm["__estimator__"]["attributes"]["device_"] = "cuda:0"

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = load(_edit(buffer, on_gpu))
    assert loaded.device_ == "cpu" and loaded.dbn_.rbms_[0].device_ == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())
    assert_same_outputs(classifier, loaded, X)


def test_device_argument():
    X, labels, _ = data()
    classifier = DNNClassifier((5,), **SMALL).fit(X, labels)
    loaded = round_trip(classifier, device="cpu")
    assert loaded.device_ == "cpu"
    assert_same_outputs(classifier, loaded, X)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            round_trip(classifier, device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_model_round_trip_and_cpu_only_load(tmp_path):
    X, labels, _ = data(np.float32)
    classifier = DNNClassifier((8,), device="cuda", **SMALL).fit(X, labels)
    save(classifier, tmp_path / "model.skdeep")
    loaded = load(tmp_path / "model.skdeep")
    assert loaded.device_.startswith("cuda")
    assert_same_outputs(classifier, loaded, X)
    on_cpu = load(tmp_path / "model.skdeep", device="cpu")
    assert next(on_cpu.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(
        on_cpu.predict_proba(X), classifier.predict_proba(X), rtol=1e-5, atol=1e-6
    )
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "p.npy", on_cpu.predict_proba(X))
    script = (
        "import numpy as np, torch, skdeep._persist as p\n"
        "assert not torch.cuda.is_available()\n"
        f"m = p.load({str(tmp_path / 'model.skdeep')!r})\n"
        "assert m.device_ == 'cpu'\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        f"assert (m.predict_proba(X) == np.load({str(tmp_path / 'p.npy')!r})).all()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# -- what save refuses -------------------------------------------------------------


class _Subclass(DNNClassifier):
    pass


class _MyAdam(torch.optim.Adam):
    pass


@pytest.mark.parametrize(
    "estimator, message",
    [
        (DNNClassifier(callbacks=[EpochTimer()]), "callbacks"),
        (DNNClassifier(optimizer=_MyAdam), "_MyAdam is code"),
        (DNNClassifier(activation=lambda: None), "not plain data"),
        (make_pipeline(FunctionTransformer(np.log1p), DNNRegressor()), "Function"),
        (_Subclass(), "_Subclass is not one of the classes"),
        ("not an estimator", "takes an estimator"),
    ],
)
def test_save_refuses_code(tmp_path, estimator, message):
    path = tmp_path / "model.skdeep"
    with pytest.raises(ModelFileError, match=message):
        save(estimator, path)
    assert not path.exists()


# -- what load refuses ---------------------------------------------------------------


class _Payload:
    """Unpickling it writes ``marker``: the proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


@pytest.mark.parametrize("writer", ["pickle", "joblib", "torch"])
def test_load_refuses_a_crafted_file_without_running_it(tmp_path, writer):
    marker = tmp_path / "marker"
    path = tmp_path / "model.skdeep"
    if writer == "pickle":
        path.write_bytes(pickle.dumps(_Payload(marker)))
    elif writer == "joblib":
        joblib.dump({"model": _Payload(marker)}, path)
    else:  # a zip holding a pickle
        torch.save({"model": _Payload(marker)}, path)
    with pytest.raises(ModelFileError, match="not a skdeep model file") as error:
        load(path)
    if writer != "torch":
        assert "pickle" in str(error.value) and "arbitrary code" in str(error.value)
    assert not marker.exists()
    unsafe = {
        "pickle": lambda: pickle.loads(path.read_bytes()),
        "joblib": lambda: joblib.load(path),
        "torch": lambda: torch.load(path, weights_only=False),
    }
    unsafe[writer]()
    assert marker.read_text() == "ran"  # the payload was real


def _saved_model() -> io.BytesIO:
    X, labels, _ = data()
    model = make_pipeline(StandardScaler(), DNNClassifier((3,), **SMALL))
    buffer = io.BytesIO()
    save(model.fit(X, labels), buffer)
    return buffer


def _net(document) -> dict:
    return _root(document)["params"]["steps"][1]["__tuple__"][1]["__estimator__"]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(format_version=FORMAT_VERSION + 1), "upgrade"),
        (lambda d: d.update(format_version="1"), "no valid format version"),
        (lambda d: d.pop("format_version"), "no valid format version"),
        (lambda d: d.update(format="pickle"), "not a skdeep model file"),
        (lambda d: _root(d).update({"class": "os.system"}), "unknown class 'os.sys"),
        (
            lambda d: _net(d).update(
                {"class": "sklearn.preprocessing.FunctionTransfo"}
            ),
            "unknown class",
        ),
        (
            lambda d: _net(d)["params"].update(optimizer={"__type__": "builtins.exec"}),
            "refused the class 'builtins.exec'",
        ),
        (
            lambda d: _net(d)["params"].update(verbose={"__reduce__": ["os.system"]}),
            "unknown kind of value",
        ),
        (
            lambda d: _net(d)["attributes"].update(__class__="x"),
            "refused the attribute name",
        ),
        (lambda d: _net(d)["params"].update(command="rm"), "no parameters"),
        (
            lambda d: _net(d)["params"].update(hidden_layer_sizes=[9]),
            "damaged or inconsistent|differ from the values",
        ),
        (
            lambda d: _net(d)["attributes"].update(classes_={"__array__": "999"}),
            "no tensor",
        ),
        (lambda d: d.update(root=[1]), "root is not an estimator"),
    ],
)
def test_load_refuses_tampered_files(change, message):
    with pytest.raises(ModelFileError, match=message):
        load(_edit(_saved_model(), change))


def test_load_refuses_other_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.skdeep")
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"hello, world")
    with pytest.raises(ModelFileError, match="not a skdeep model file"):
        load(garbage)
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("skdeep.json", "{}")
        archive.writestr("tensors.safetensors", b"not tensors")
    with pytest.raises(ModelFileError, match="damaged"):
        load(broken)


def test_file_layout():
    """A zip of JSON and safetensors; every tensor on the CPU by construction."""
    from safetensors.numpy import load as load_tensors

    with zipfile.ZipFile(_saved_model()) as archive:
        assert sorted(archive.namelist()) == ["skdeep.json", "tensors.safetensors"]
        document = json.loads(archive.read("skdeep.json"))
        tensors = load_tensors(archive.read("tensors.safetensors"))
    assert document["format"] == "skdeep-model"
    assert document["format_version"] == FORMAT_VERSION
    assert _root(document)["class"] == "sklearn.pipeline.Pipeline"
    assert _net(document)["class"] == "skdeep.DNNClassifier"
    assert set(_net(document)["net"]["module"]) == {
        "features.0.weight",
        "features.0.bias",
        "head.weight",
        "head.bias",
    }
    assert all(isinstance(t, np.ndarray) for t in tensors.values())


def test_another_version_warns():
    def older(document):
        document["versions"]["skdeep"] = "0.0.1"

    with pytest.warns(UserWarning, match="written with skdeep 0.0.1"):
        load(_edit(_saved_model(), older))


def test_save_refuses_parameters_changed_since_fit():
    X, labels, _ = data()
    classifier = DNNClassifier((3,), activation="relu", **SMALL).fit(X, labels)
    classifier.set_params(activation="tanh")  # would load as another network
    with pytest.raises(ModelFileError, match="activation differ"):
        save(classifier, io.BytesIO())


def test_load_refuses_files_that_shadow_methods_or_bloat():
    buffer = _saved_model()

    def shadow(document):
        attributes = _net(document)["attributes"]
        attributes["predict_proba"] = attributes["n_iter_"]

    with pytest.raises(ModelFileError, match="not a stored attribute"):
        load(_edit(buffer, shadow))

    def huge(document):  # weights of (3,), parameters of a 10^5 x 10^5 layer
        _net(document)["params"]["hidden_layer_sizes"] = {"__tuple__": [10**5]}
        _net(document)["attributes"]["_fitted_architecture"] = None

    with pytest.raises(ModelFileError, match="do not fit"):
        load(_edit(buffer, huge))
    # A compressed tensors member could unpack to far more than the file.
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data_bytes in members.items():
            archive.writestr(name, data_bytes)
    packed.seek(0)
    with pytest.raises(ModelFileError, match="not stored as save"):
        load(packed)
    damaged = bytearray(_saved_model().getvalue())
    damaged[len(damaged) // 3] ^= 0xFF
    with pytest.raises(ModelFileError):
        load(io.BytesIO(bytes(damaged)))
