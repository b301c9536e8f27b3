"""Safe model files: :func:`save` and :func:`load`.

A model file is a zip archive of two members:

* ``skdeep.json``: the format name and version, the versions of skdeep,
  scikit-learn, torch and numpy that wrote it, and the object tree. Each
  estimator is its class name (from an allow-list), its ``get_params()`` and
  its fitted attributes, as plain JSON values; a fitted torch-backed
  estimator also has its net: the module's input shape, the names of its
  weights, the training history, the optimizer state and (RBM) the
  persistent chain.
* ``tensors.safetensors``: every numeric array and tensor of the tree
  (weights, optimizer state, fitted arrays such as ``classes_`` or a
  scaler's ``mean_``), on the CPU, in the safetensors format. The JSON
  refers to them by key.

Loading reads JSON and safetensors only: no pickle, no ``torch.load``, no
``eval``, no import by name. Class names resolve through two tables,
:func:`estimator_classes` (the public skdeep estimators and
:data:`SKLEARN_ESTIMATORS`) and :func:`skdeep._plain.type_classes` (torch
optimizers and activations, for parameters given as classes); anything else
is refused with :class:`ModelFileError`, as are a wrong or missing format
version and files of another format (a pickle or joblib file, which can run
code when loaded). A torch-backed estimator is rebuilt from its parameters
by the family's own module builder and its weights loaded strictly, on the
device it was saved from when that exists here, else on the CPU (or on
``device=``). ``skdeep._plain`` holds the JSON encoding of values.
"""

import json
import os
import re
import warnings
import zipfile
import zlib
from functools import cache
from typing import BinaryIO

import numpy as np
import sklearn
import torch
from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays
from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)
from skorch.history import History
from torch import nn

from ._base import BaseNet, TorchEstimator, resolve_device
from ._plain import (
    ModelFileError,
    PlainReader,
    PlainWriter,
    as_list,
    as_mapping,
    name_of,
)
from .rbm import RBM

__all__ = ["FORMAT_VERSION", "ModelFileError", "estimator_classes", "load", "save"]

FORMAT = "skdeep-model"
#: Incremented when the layout of the JSON tree or the meaning of a key changes;
#: a file of another version is refused, never guessed at.
FORMAT_VERSION = 1
JSON_NAME = "skdeep.json"
TENSORS_NAME = "tensors.safetensors"
_MAX_JSON_BYTES = 64 * 2**20

#: scikit-learn classes a model file may hold: what the ``skdeep`` command
#: and typical pipelines around a net use, each with plain fitted state.
#: Not ``FunctionTransformer`` and the like: they hold code.
SKLEARN_ESTIMATORS: dict[str, type] = {
    "sklearn.pipeline.Pipeline": Pipeline,
    "sklearn.compose.TransformedTargetRegressor": TransformedTargetRegressor,
    "sklearn.preprocessing.StandardScaler": StandardScaler,
    "sklearn.preprocessing.MinMaxScaler": MinMaxScaler,
    "sklearn.preprocessing.MaxAbsScaler": MaxAbsScaler,
    "sklearn.preprocessing.RobustScaler": RobustScaler,
    "sklearn.decomposition.PCA": PCA,
    "sklearn.linear_model.LinearRegression": LinearRegression,
    "sklearn.linear_model.LogisticRegression": LogisticRegression,
    "sklearn.linear_model.Ridge": Ridge,
    "sklearn.dummy.DummyClassifier": DummyClassifier,
    "sklearn.dummy.DummyRegressor": DummyRegressor,
}


@cache
def estimator_classes() -> dict[str, type]:
    """Name -> class of every estimator a model file may hold.

    Every public skdeep estimator (the classes in ``skdeep.__all__``) and
    :data:`SKLEARN_ESTIMATORS`. Only these exact classes: a subclass may
    override any method, so it is refused.
    """
    import skdeep

    public = {
        f"skdeep.{name}": obj
        for name in skdeep.__all__
        if isinstance(obj := getattr(skdeep, name), type)
        and issubclass(obj, BaseEstimator)
    }
    return {**public, **SKLEARN_ESTIMATORS}


# -- save ---------------------------------------------------------------------


def save(estimator: BaseEstimator, file: str | os.PathLike | BinaryIO) -> None:
    """Write a fitted (or unfitted) estimator to a safe model file.

    Parameters
    ----------
    estimator : estimator
        An skdeep estimator, or a scikit-learn ``Pipeline`` /
        ``TransformedTargetRegressor`` of allowed classes around one (see
        :func:`estimator_classes`). Parameters given as classes must be
        ``torch.optim`` optimizers or ``torch.nn`` activations; skorch
        ``callbacks`` are code and are refused (``set_params(callbacks=None)``
        first: a fitted estimator predicts the same without them).
    file : str, path-like or binary file object
        Where to write (conventionally ``*.skdeep``); overwritten.

    Raises
    ------
    ModelFileError
        If the estimator holds a class or value that a model file cannot
        store as plain data. Nothing is written then.
    """
    if not isinstance(estimator, BaseEstimator):
        raise ModelFileError(
            f"save takes an estimator, got a {type(estimator).__name__}."
        )
    writer = _Writer()
    root = writer.value(estimator, type(estimator).__name__)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "root": root,
    }
    text = json.dumps(document, indent=1, allow_nan=False)
    tensors = save_arrays(writer.arrays, metadata={"format": FORMAT})
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr(JSON_NAME, text, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(TENSORS_NAME, tensors, compress_type=zipfile.ZIP_STORED)


def _versions() -> dict[str, str]:
    import skdeep

    return {
        "skdeep": skdeep.__version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


class _Writer(PlainWriter):
    """Plain data, plus estimators of the allow-list and their nets."""

    def other(self, value, where: str):
        if isinstance(value, BaseEstimator):
            return {"__estimator__": self._estimator(value, where)}
        return super().other(value, where)

    def _estimator(self, estimator: BaseEstimator, where: str) -> dict:
        cls = type(estimator)
        name = name_of(estimator_classes(), cls)
        if name is None:
            raise ModelFileError(
                f"{where}: {cls.__module__}.{cls.__qualname__} is not one of the "
                "classes a safe model file may hold: "
                f"{', '.join(sorted(estimator_classes()))}."
            )
        params = estimator.get_params(deep=False)
        if params.get("callbacks"):
            raise ModelFileError(
                f"{where}.callbacks holds skorch callbacks, which are code that a "
                "safe model file cannot hold; save the estimator after "
                "set_params(callbacks=None) (it predicts the same)."
            )
        block = {
            "class": name,
            "params": {k: self.value(v, f"{where}.{k}") for k, v in params.items()},
            "attributes": {
                k: self.value(v, f"{where}.{k}")
                for k, v in vars(estimator).items()
                if k not in params and k != "net_"
            },
        }
        if isinstance(estimator, TorchEstimator) and hasattr(estimator, "net_"):
            if isinstance(estimator, BaseNet):
                _check_architecture(estimator, where)
            block["net"] = self._net(estimator.net_, f"{where}.net_")
        return block

    def _net(self, net, where: str) -> dict:
        module = net.module_
        state = {
            name: self.value(tensor, f"{where}.module_.{name}")["__tensor__"]
            for name, tensor in module.state_dict().items()
        }
        chain = getattr(net, "chain_", None)
        return {
            "input_shape": self.value(_input_shape(module), where),
            "module": state,
            "batch_size": int(net.batch_size),
            "history": self.value(list(net.history_), f"{where}.history_"),
            "best_values": self.value(dict(net.best_values_), where),
            "optimizer": self.value(net.optimizer_.state_dict(), f"{where}.optimizer_"),
            "chain": None if chain is None else self.value(chain, where),
        }


def _input_shape(module: nn.Module) -> tuple:
    """One sample's shape, as the family's module builder took it."""
    if hasattr(module, "input_shape"):  # ConvNet
        return tuple(int(d) for d in module.input_shape)
    if hasattr(module, "rnn"):  # RecurrentNet: (T, F)
        return (module.n_steps, int(module.rnn.input_size))
    if hasattr(module, "visible_bias"):  # RBM
        return (int(module.weight.shape[1]),)
    first = next(m for m in module.modules() if isinstance(m, nn.Linear))  # MLP
    return (int(first.in_features),)


# -- load ---------------------------------------------------------------------


def load(
    file: str | os.PathLike | BinaryIO, *, device: str | torch.device | None = None
) -> BaseEstimator:
    """Read an estimator written by :func:`save`; no code in the file runs.

    Parameters
    ----------
    file : str, path-like or binary file object
        A model file written by :func:`save`.
    device : str, torch.device or None, default=None
        Where the torch modules go: ``None`` puts each where it was saved
        from when that device exists here, else on the CPU (so a model
        trained on a GPU loads on a CPU-only machine); ``"cpu"``,
        ``"cuda"``, ``"auto"``... put them all there.

    Returns
    -------
    estimator : estimator
        The estimator as saved: the same parameters and fitted attributes,
        the same predictions. Its optimizer state, history, random state
        and (RBM) persistent chain are restored too, so ``partial_fit`` and
        ``warm_start`` continue as the saved estimator would have.

    Raises
    ------
    ModelFileError
        If the file is not a skdeep model file (a pickle or joblib file is
        refused: loading one can run arbitrary code), has another format
        version, names a class outside the allow-list, or is damaged.
    """
    target = None if device is None else resolve_device(device)
    document, arrays = _read(file)
    _check_document(document)
    reader = _Reader(arrays, target)
    root = document["root"]
    if not (isinstance(root, dict) and list(root) == ["__estimator__"]):
        raise ModelFileError("the file's root is not an estimator.")
    try:
        return reader.value(root, "root")
    except ModelFileError:
        raise
    except (
        ArithmeticError,
        AttributeError,
        LookupError,
        RecursionError,
        RuntimeError,
        TypeError,
        ValueError,
    ) as exc:  # what a consistent-looking but wrong tree makes the builders raise
        raise ModelFileError(
            f"the model file is damaged or inconsistent ({type(exc).__name__}: {exc})"
        ) from exc


_NOT_A_MODEL = (
    "not a skdeep model file (a zip of skdeep.json and tensors.safetensors, "
    "written by skdeep.save)"
)
# First bytes of a pickle (protocol 2 and up) and of joblib's compressed files.
_PICKLE_STARTS = (
    b"\x80",
    b"ZF",
    b"\x78",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
    b"\x04\x22M\x18",
)


def _check_architecture(estimator, where: str) -> None:
    """The parameters that shape the module must be those it was fitted with."""
    fitted = getattr(estimator, "_fitted_architecture", None)
    if fitted is None:
        return
    changed = [k for k, v in estimator._architecture().items() if fitted.get(k) != v]
    if changed:
        raise ModelFileError(
            f"{where}: {', '.join(changed)} differ from the values the network "
            "was fitted with; set them back (or refit) before saving."
        )


def _check_shapes(estimator, input_shape, state: dict, where: str) -> None:
    """The module the parameters build has the file's tensor shapes.

    Built on torch's meta device (no memory), so that a file whose
    parameters describe a huge network cannot exhaust memory on load.
    """
    try:
        with torch.device("meta"):
            module = estimator._build_module(input_shape, estimator.n_outputs_)
    except Exception:  # some builders may need real tensors: skip the check
        return
    # Scalars (batch norm's counters) travel as one-element arrays.
    expected = {k: tuple(v.shape) or (1,) for k, v in module.state_dict().items()}
    found = {k: tuple(v.shape) or (1,) for k, v in state.items()}
    if expected != found:
        raise ModelFileError(f"{where}: the weights do not fit the network.")


def _read(file) -> tuple[dict, dict]:
    """The JSON document and the arrays of a model file (path or file object)."""
    if hasattr(file, "read"):
        return _read_open(file)
    with open(file, "rb") as handle:  # a missing file: FileNotFoundError
        return _read_open(handle)


def _read_open(handle) -> tuple[dict, dict]:
    if not zipfile.is_zipfile(handle):
        raise ModelFileError(_NOT_A_MODEL + _pickle_hint(handle))
    with zipfile.ZipFile(handle) as archive:
        names = set(archive.namelist())
        if JSON_NAME not in names or TENSORS_NAME not in names:
            raise ModelFileError(_NOT_A_MODEL + f": the zip lacks {JSON_NAME}.")
        if archive.getinfo(JSON_NAME).file_size > _MAX_JSON_BYTES:
            raise ModelFileError(f"{JSON_NAME} is larger than a model file's ever is.")
        info = archive.getinfo(TENSORS_NAME)
        # save() stores the tensors uncompressed: a compressed member could
        # unpack to far more than the file's size (a zip bomb).
        if (
            info.compress_type != zipfile.ZIP_STORED
            or info.file_size > info.compress_size
        ):
            raise ModelFileError(f"{TENSORS_NAME} is not stored as save() stores it.")
        try:
            text = archive.read(JSON_NAME)
            tensors = archive.read(TENSORS_NAME)
        except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError) as exc:
            raise ModelFileError(f"the model file is damaged: {exc}") from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError included
        raise ModelFileError(f"the model file is damaged: {exc}") from None
    try:
        arrays = load_arrays(tensors)
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise ModelFileError(f"the model file's tensors are damaged: {exc}") from None
    if not isinstance(document, dict):
        raise ModelFileError(_NOT_A_MODEL + ".")
    return document, arrays


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _pickle_hint(handle) -> str:
    handle.seek(0)
    start = handle.read(8)
    if start.startswith(_PICKLE_STARTS):
        return (
            "; it looks like a pickle or joblib file, which skdeep does not load "
            "because loading one can run arbitrary code."
        )
    return "."


def _check_document(document: dict) -> None:
    if document.get("format") != FORMAT:
        raise ModelFileError(_NOT_A_MODEL + ": skdeep.json does not name the format.")
    version = document.get("format_version")
    if type(version) is not int:
        raise ModelFileError(
            f"the model file has no valid format version ({version!r})."
        )
    if version != FORMAT_VERSION:
        newer = (
            " (a newer skdeep wrote it: upgrade)" if version > FORMAT_VERSION else ""
        )
        raise ModelFileError(
            f"the model file has format version {version}; this skdeep reads "
            f"version {FORMAT_VERSION}{newer}."
        )
    if "root" not in document:
        raise ModelFileError("the model file holds no estimator.")
    saved = document.get("versions")
    saved = saved if isinstance(saved, dict) else {}
    for package, current in _versions().items():
        if package in ("skdeep", "scikit-learn") and saved.get(package) != current:
            warnings.warn(
                f"This model file was written with {package} {saved.get(package)}; "
                f"this is {package} {current}. Check its predictions.",
                UserWarning,
                stacklevel=3,
            )


_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Reader(PlainReader):
    """Plain data, plus estimators of the allow-list, their nets on ``device``."""

    def __init__(self, arrays: dict[str, np.ndarray], device: torch.device | None):
        super().__init__(arrays)
        self.device = device

    def _estimator(self, payload, where):
        if not isinstance(payload, dict) or not {
            "class",
            "params",
            "attributes",
        } <= set(payload):
            raise ModelFileError(
                f"{where}: an estimator needs class, params, attributes."
            )
        name = payload["class"]
        cls = estimator_classes().get(name) if isinstance(name, str) else None
        if cls is None:
            raise ModelFileError(
                f"{where}: refused the unknown class {name!r}; a model file may hold "
                f"only {', '.join(sorted(estimator_classes()))}."
            )
        where = f"{where}<{name}>"
        allowed = set(cls._get_param_names())
        params = as_mapping(payload["params"], where)
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise ModelFileError(f"{where}: {name} has no parameters {unknown}.")
        estimator = cls(**{k: self.value(v, f"{where}.{k}") for k, v in params.items()})
        for key, item in as_mapping(payload["attributes"], where).items():
            if not _ATTRIBUTE.match(key) or key.startswith("__") or key in allowed:
                raise ModelFileError(f"{where}: refused the attribute name {key!r}.")
            if key == "net_" or hasattr(cls, key):  # methods, properties, ...
                raise ModelFileError(f"{where}: {key} is not a stored attribute.")
            vars(estimator)[key] = self.value(item, f"{where}.{key}")
        if payload.get("net") is not None:
            if not isinstance(estimator, TorchEstimator):
                raise ModelFileError(f"{where}: {name} has no net.")
            self._net(estimator, as_mapping(payload["net"], where), f"{where}.net_")
        return estimator

    def _net(self, estimator, block: dict, where: str) -> None:
        """Rebuild ``net_``: the module from the parameters, then its state."""
        estimator.device_ = str(self._device_for(getattr(estimator, "device_", "cpu")))
        input_shape = tuple(self.value(block["input_shape"], where))
        state = {
            name: self._tensor(key, f"{where}.module_.{name}")
            for name, key in as_mapping(block["module"], where).items()
        }
        batch_size = block["batch_size"]
        # The modules start from a random init that the state replaces: it
        # must not move the caller's torch generator.
        with torch.random.fork_rng(devices=[]):
            if isinstance(estimator, BaseNet):
                _check_architecture(estimator, where)
                _check_shapes(estimator, input_shape, state, where)
                module = estimator._build_module(input_shape, estimator.n_outputs_)
                module = module.to(estimator._torch_dtype)
                module.load_state_dict(state, strict=True)
                net = estimator._make_net(module, batch_size)
            elif isinstance(estimator, RBM):
                net = estimator._make_net(input_shape[0], batch_size)
                net.module_.load_state_dict(state, strict=True)
            else:
                raise ModelFileError(
                    f"{where}: cannot rebuild a {type(estimator).__name__}."
                )
        net.history_ = History(self.value(block["history"], f"{where}.history_"))
        net.best_values_ = self.value(block["best_values"], where)
        optimizer = self.value(block["optimizer"], f"{where}.optimizer_")
        _load_optimizer_state(net.optimizer_, optimizer)
        if block.get("chain") is not None:
            net.chain_ = self.value(block["chain"], where).to(net.device)
        net.module_.eval()
        estimator.net_ = net

    def _device_for(self, saved) -> torch.device:
        if self.device is not None:
            return self.device
        try:
            device = torch.device(saved)
        except (RuntimeError, TypeError):
            return torch.device("cpu")
        return device if _available(device) else torch.device("cpu")

    DECODERS = {**PlainReader.DECODERS, "__estimator__": _estimator}


def _load_optimizer_state(optimizer: torch.optim.Optimizer, state: dict) -> None:
    """Load a saved optimizer state, keeping the implementation flags (fused,
    foreach, capturable) that the fresh optimizer chose for this device."""
    fresh = optimizer.state_dict()["param_groups"]
    groups = as_list(state["param_groups"], "optimizer")
    if len(groups) != len(fresh):
        raise ModelFileError("the optimizer state does not match the module.")
    for group, new in zip(groups, fresh, strict=True):
        for flag in ("fused", "foreach", "capturable", "differentiable"):
            if flag in new:
                group[flag] = new[flag]
    optimizer.load_state_dict({"state": state["state"], "param_groups": groups})


def _available(device: torch.device) -> bool:
    if device.type == "cpu":
        return True
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        return (device.index or 0) < count
    if device.type == "mps":
        return torch.backends.mps.is_available()
    return False
