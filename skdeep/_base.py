"""The estimator base: the family contract and the one fit / predict skeleton.

:class:`TorchEstimator` is what every skdeep estimator shares (the RBM
too): fitted state held by a skorch net, seeding, device, precision, the
thread policy and a fit that leaves nothing half-done when it fails.
:class:`BaseNet` is the contract of a supervised family: it declares every
hook a family or a task half provides, and runs validation, tensors,
training and inference for all of them. A family (``dnn.py``, ``cnn.py``,
...) adds its parameters, its ``_architecture_params`` and
``_build_module``; the task halves (``_supervised.py``) add target
encoding, the loss and the prediction methods.
"""

import contextlib
import copy
import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from skorch.callbacks import Callback, EarlyStopping, ProgressBar
from torch.nn.modules.batchnorm import _BatchNorm

from ._compat import Interval, StrOptions, _check_y
from ._net import SkdeepNet, TensorData, TrainingInterrupted, build_net
from ._registry import ACTIVATIONS, LR_SCHEDULES, OPTIMIZERS, make_lr_schedule
from ._threads import inference_rows, num_threads, torch_threads
from .modules import FeatureModule

__all__ = [
    "FLOAT_DTYPES",
    "BaseNet",
    "TorchEstimator",
    "checked_shape",
    "interruptible",
    "preserved_dtypes",
    "restored_on_error",
    "set_params_from",
]

# validate_data keeps float32 and float64 and turns anything else to float64.
FLOAT_DTYPES = (np.float64, np.float32)
_TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def preserved_dtypes(estimator) -> list[str]:
    """The ``preserves_dtype`` tag: X's float precision on the CPU, unless
    ``dtype`` forces one; float32 on an accelerator."""
    if estimator.dtype is not None:
        return [estimator.dtype]
    try:
        on_cpu = resolve_device(estimator.device).type == "cpu"
    except ValueError:  # reported by fit
        on_cpu = True
    return ["float64", "float32"] if on_cpu else ["float32"]


def checked_shape(shape, name: str = "input_shape") -> tuple[int, ...]:
    """A sample shape given by a user: positive integers only."""
    values = tuple(np.atleast_1d(np.asarray(shape, dtype=object)).tolist())
    if not values or not all(
        isinstance(d, Integral) and not isinstance(d, bool) and d >= 1 for d in values
    ):
        raise ValueError(f"{name} must hold positive integers, got {shape!r}.")
    return tuple(int(d) for d in values)


def set_params_from(estimator, params: dict) -> None:
    """Store an ``__init__``'s arguments unchanged: ``set_params_from(self, locals())``.

    Every estimator keeps its explicit ``__init__`` signature (scikit-learn
    reads its parameters from it) and stores them with this one line instead
    of a forwarding chain repeated in each family.
    """
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


def to_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A tensor sharing ``array``'s memory on the CPU (no copy), else on ``device``."""
    if any(stride < 0 for stride in array.strides):  # torch refuses them
        array = np.ascontiguousarray(array)
    if array.flags.writeable:
        return torch.as_tensor(array, device=device)
    with warnings.catch_warnings():
        # Read-only arrays (memmaps) are fine: nothing writes to X.
        warnings.filterwarnings("ignore", message="The given NumPy array is not")
        return torch.as_tensor(array, device=device)


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` is CUDA when present, else the CPU; others must exist here.

    A device torch knows by name but cannot allocate on (``"mps"`` or
    ``"xla"`` in a build without them, a CUDA index past the last GPU) and
    ``"meta"`` (tensors without data, nothing to train) are refused with a
    ``ValueError`` naming ``device``, before any data reaches them.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"Unknown device: device={device!r} ({exc}).") from None
    if resolved.type == "cpu":
        return resolved
    if resolved.type == "meta":
        raise ValueError(
            f"device={device!r} holds no data (a meta tensor has a shape, no "
            "values), so nothing can train on it; use device='auto' or 'cpu'."
        )
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} but CUDA is not available here; use "
                "device='auto' or 'cpu'."
            )
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise ValueError(
                f"device={device!r} but this machine has {count} CUDA device(s), "
                f"'cuda:0' to 'cuda:{count - 1}'."
            )
        return resolved
    return _probed(resolved, device)


def _probed(resolved: torch.device, device) -> torch.device:
    """``resolved`` if torch can allocate there, else a ``ValueError``."""
    try:  # mps, xla, xpu...: an empty tensor tells whether the build has them
        torch.empty(0, device=resolved)
    except Exception as exc:  # NotImplementedError, AssertionError, RuntimeError...
        reason = str(exc).strip().split(". ")[0].splitlines()
        reason = f": {reason[0]}" if reason else ""
        raise ValueError(
            f"device={device!r} is not available in this PyTorch build or on "
            f"this machine ({type(exc).__name__}{reason}); use device='auto' "
            "or 'cpu'."
        ) from None
    return resolved


def _numeric_targets(y: np.ndarray, name: str) -> np.ndarray:
    """A regressor's y as numbers, or a ``ValueError`` that says it is not."""
    if y.dtype.kind in "biuf":
        return y
    try:
        numbers = y.astype(np.float64)
    except (TypeError, ValueError):
        values = y.ravel().tolist()
        example = next((v for v in values if not _is_number(v)), values[0])
        raise ValueError(
            f"{name} needs numeric targets y, got {y.dtype} values such as "
            f"{example!r}; a classifier takes labels."
        ) from None
    if not np.isfinite(numbers).all():  # object arrays escape check_array's check
        what = "NaN" if np.isnan(numbers).any() else "infinity"
        raise ValueError(f"Input y contains {what}.")
    return numbers


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _too_few_validation_rows(fraction, n: int, n_valid: int, n_classes: int) -> str:
    """Why early stopping cannot hold out ``n_valid`` of ``n`` rows, and the fix."""
    needed = max(2, n_classes)
    rule = "at least 2 held-out rows"
    if n_classes > 1:
        rule = f"at least one held-out and one training row per class ({n_classes})"
    if needed + n_classes <= n:
        low, high = needed / n, (n - n_classes) / n
        fix = f"use a validation_fraction between {low:.3g} and {high:.3g}, "
    else:
        fix = f"{needed + n_classes} samples or more, "
    return (
        f"early_stopping=True cannot hold out validation_fraction={fraction} of "
        f"{n} samples ({n_valid} held-out row(s)): the validation score needs "
        f"{rule} (one row cannot rank epochs: its R² is 0 at every epoch). "
        f"Otherwise {fix}or early_stopping=False."
    )


def _check_validation_rows(estimator, data: TensorData, y, train, valid) -> None:
    """Refuse a split whose validation score could never change."""
    fraction = estimator.validation_fraction
    if estimator._y_numeric:
        held_out = np.asarray(y)[valid].reshape(len(valid), -1)
        if (held_out == held_out[:1]).all():
            raise ValueError(
                f"early_stopping=True held out {len(valid)} rows "
                f"(validation_fraction={fraction}) whose targets are all equal: "
                "their R² is 0 whatever the weights, so early stopping would "
                "keep the first epoch. Use a larger validation_fraction or "
                "early_stopping=False."
            )
    if data.weight is not None:
        weight = data.weight.cpu().numpy()
        for rows, side in [(valid, "held-out"), (train, "training")]:
            if not (weight[rows] > 0).any():
                raise ValueError(
                    f"early_stopping=True split the data (validation_fraction="
                    f"{fraction}) so that every {side} row has zero sample "
                    "weight. Use a larger validation_fraction, other weights or "
                    "early_stopping=False."
                )


@contextlib.contextmanager
def seeded(seed: int, device: torch.device):
    """Seed torch inside the block, leaving the caller's generators as they were."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type=device.type):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def restored_on_error(estimator, *, copied=()):
    """If the block raises, restore ``estimator``'s attributes as they were.

    A :class:`TrainingInterrupted` (Ctrl-C after a completed epoch) keeps
    the new state; any other exception, a plain ``KeyboardInterrupt``
    included, restores the old one.

    Attributes named in ``copied`` are changed in place by the block, so a
    deep copy of them is kept instead of a reference.
    """
    before = dict(vars(estimator))
    for name in copied:
        if name in before:
            before[name] = copy.deepcopy(before[name])
    try:
        yield
    except TrainingInterrupted:
        raise  # the completed epochs are kept
    except BaseException:  # errors, and Ctrl-C before any completed epoch
        vars(estimator).clear()
        vars(estimator).update(before)
        raise


@contextlib.contextmanager
def interruptible(estimator, net, epochs_before: int):
    """Turn Ctrl-C after a completed epoch into :class:`TrainingInterrupted`.

    The block trains ``net`` and then sets the fitted attributes; if it is
    interrupted after an epoch of this call completed, the attributes are
    set from the completed epochs, a warning says so, and the interrupt
    propagates as a :class:`TrainingInterrupted` that keeps them.
    """
    try:
        yield
    except KeyboardInterrupt:
        completed = len(net.history) - epochs_before
        if completed == 0:
            raise  # nothing to keep: the fit puts the estimator back
        estimator._set_fitted_attributes(net, net.score is not None)
        message = (
            f"{type(estimator).__name__}: training interrupted after "
            f"{completed} completed epoch(s) of this call; the estimator keeps "
            f"them (n_iter_={estimator.n_iter_})."
        )
        warnings.warn(message, UserWarning, stacklevel=2)
        raise TrainingInterrupted(message) from None


class TorchEstimator(BaseEstimator):
    """What every skdeep estimator shares.

    * Fitted state held by a skorch net ``net_``: ``module_`` and
      ``history_`` are views of it, so a pickle holds the weights once,
      through skorch's path that maps CUDA tensors to the CPU where CUDA is
      absent (``device_`` follows that mapping).
    * :meth:`_start_fit`: the generator every fit call draws its seed from
      (``random_state``), the device, and the precision.
    * :meth:`_fit_call`: a fit that puts the estimator back as it was if it
      raises (a diverged ``warm_start`` fit or ``partial_fit`` keeps the old
      model), and :func:`seeded` / the thread policy around training.

    Subclasses declare ``device``, ``random_state`` and, optionally,
    ``dtype`` parameters.
    """

    @property
    def module_(self) -> torch.nn.Module:
        """The trained torch module."""
        return self.net_.module_

    @property
    def history_(self):
        """The skorch ``History``: one record per epoch."""
        return self.net_.history_

    def __sklearn_is_fitted__(self) -> bool:
        # check_is_fitted's own scan of vars() costs ~4 us a predict call.
        return hasattr(self, "net_")

    def __setstate__(self, state):
        super().__setstate__(state)
        if "net_" in state:
            self.device_ = str(self.net_.device)

    def _start_fit(self, reset: bool, X_dtype=np.float64) -> tuple[int, torch.device]:
        """This call's seed and the device; on a fresh fit, also the precision.

        ``dtype=None`` follows X on the CPU as scikit-learn does (float32
        stays float32, anything else is float64); on an accelerator it is
        float32, where float64 is many times slower.
        """
        if reset:
            self._seeds = check_random_state(self.random_state)
            device = resolve_device(self.device)
            self.device_ = str(device)
            dtype = getattr(self, "dtype", None)
            if dtype is None:
                on_cpu = device.type == "cpu"
                dtype = "float64" if on_cpu and X_dtype != np.float32 else "float32"
            self._dtype = np.dtype(dtype)
        seed = int(self._seeds.randint(np.iinfo(np.int32).max))
        return seed, torch.device(self.device_)

    @property
    def _torch_dtype(self) -> torch.dtype:
        return _TORCH_DTYPES[self._dtype.name]

    def _fit_call(self, *, continuing: bool):
        """Run a fit; if it raises, put the estimator back as before the call.

        ``continuing`` (warm start, ``partial_fit``) means the fitted net is
        trained in place, so it is copied first; a fresh fit builds a new
        net, and only the attributes need restoring.
        """
        return restored_on_error(self, copied=("net_", "_seeds") if continuing else ())

    def _to_data(self, inputs: tuple, device: torch.device, y=None, weight=None):
        """The inputs (``(X,)`` or ``(X, lengths)``) as tensors on ``device``."""
        X = inputs[0].astype(self._dtype, copy=False)
        tensors = [to_tensor(X, device)]
        lengths = None
        if len(inputs) > 1:  # lengths stay on the CPU, where packing reads them
            lengths = torch.as_tensor(inputs[1], dtype=torch.int64)
            tensors.append(lengths)
        return TensorData(
            tensors,
            None if y is None else to_tensor(y, device),
            None if weight is None else to_tensor(weight, device),
            lengths=lengths,
        )


class BaseNet(TorchEstimator, ABC):
    """The contract of a supervised family, and its fit / predict skeleton.

    A family provides:

    * ``_architecture_params``: the names of the parameters that shape the
      module. A ``warm_start`` fit or ``partial_fit`` refuses a change of
      any of them (the trained weights would not fit the new module).
    * :meth:`_build_module`: the torch module (a
      :class:`~skdeep.modules.FeatureModule`) for an input shape and an
      output width, from the family's own parameters.
    * optionally :meth:`_check_X` (how X is read: tables, images,
      sequences) and :meth:`_initialize_weights` (a start other than
      torch's default initialisation, e.g. DBN pretraining).

    A task half (classifier, regressor) provides :meth:`_encode_y`,
    :meth:`_criterion`, :meth:`_score_name`, :meth:`_sample_weight`,
    ``_y_numeric`` and ``_stratify``.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS)), type],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "batch_norm": ["boolean"],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto", "full"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES)), None],
        "dtype": [StrOptions(set(_TORCH_DTYPES)), None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": [list, None],
    }

    # The loop clips gradients to this global norm; a family that offers
    # clipping (RNN) declares it as a parameter, which overrides this.
    clip_grad_norm = None

    #: After a fit, recompute the batch-norm statistics on all training rows
    #: (the running averages of the last mini-batches can be far off on
    #: small data); after ``partial_fit`` the running averages stay.
    _recalibrate_batch_norm = True
    #: Without early stopping, end a fit on the weights of the epoch with the
    #: lowest training loss (with early stopping: the best validation score).
    _keep_best_epoch = True

    #: Parameters that shape the module (the warm-start check compares them).
    _architecture_params: tuple[str, ...] = (
        "hidden_layer_sizes",
        "activation",
        "dropout",
        "batch_norm",
    )

    # -- the family's hooks -----------------------------------------------------

    @abstractmethod
    def _build_module(self, input_shape: tuple, n_outputs: int) -> FeatureModule:
        """The untrained module for inputs of ``input_shape`` (one sample's
        shape, e.g. ``(n_features,)``, ``(C, H, W)``, ``(T, F)``) and
        ``n_outputs`` outputs, from the family's parameters."""

    def _check_X(self, X, *, reset: bool) -> tuple[np.ndarray, ...]:
        """X validated and shaped for the module: ``(X,)`` or ``(X, lengths)``.

        The default reads 2-D tables. A single-row predict of a plain finite
        float ndarray skips ``validate_data`` (~100 us, several times a small
        net's forward pass); anything else, and every error, goes through it.
        """
        if not reset and self._is_plain_input(X) and np.isfinite(X).all():
            return (X,)
        return (validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES),)

    def _initialize_weights(self, module, data: TensorData, seed: int) -> None:
        """Start ``module`` from other weights than torch's default init.

        ``data`` holds the training rows (without a validation split's) as
        tensors on the training device.
        """

    # -- the task's hooks -----------------------------------------------------

    _y_numeric: bool
    _stratify: bool

    @abstractmethod
    def _encode_y(self, y, *, reset: bool, classes=None) -> np.ndarray:
        """Targets as the criterion wants them; sets ``n_outputs_`` on reset."""

    @abstractmethod
    def _criterion(self) -> type[torch.nn.Module]:
        """The loss class (mean reduction; ``reduction="none"`` must work)."""

    @abstractmethod
    def _score_name(self) -> str:
        """The validation score (``"accuracy"``, ``"r2"``...)."""

    @abstractmethod
    def _sample_weight(self, sample_weight, X, y) -> np.ndarray | None:
        """Per-sample weights (``None``: all equal, the faster loss)."""

    # -- checks -------------------------------------------------------------

    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
            for s in sizes
        ):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers, got {sizes!r}."
            )
        return tuple(int(s) for s in sizes)

    def _dropout_rates(self, n_layers: int) -> float | list[float]:
        """``dropout`` as one rate, or one per hidden layer of the dense head."""
        if isinstance(self.dropout, Real):
            return float(self.dropout)
        rates = [float(r) for r in self.dropout]
        if len(rates) != n_layers or not all(0 <= r < 1 for r in rates):
            raise ValueError(
                "dropout must be one rate in [0, 1) or one such rate per hidden "
                f"layer ({n_layers}), got {self.dropout!r}."
            )
        return rates

    def _is_plain_input(self, X) -> bool:
        """Whether X needs none of ``validate_data``'s conversions."""
        return (
            type(X) is np.ndarray
            and X.dtype in FLOAT_DTYPES
            and X.ndim == 2
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
        )

    def _check_y(self, y, n_samples: int) -> np.ndarray:
        if y is None:  # validate_data's words, which a conformance check expects
            raise ValueError(
                f"This {type(self).__name__} estimator requires y to be passed, "
                "but the target y is None."
            )
        # Not validate_data(X="no_validation"): that would reset the feature
        # names that X's validation just recorded. Numeric targets are
        # converted here rather than by _check_y, to say what is wrong.
        y = _check_y(y, multi_output=True, y_numeric=False, estimator=self)
        if hasattr(y, "toarray"):  # a sparse (CSR) y, e.g. a label indicator matrix
            y = y.toarray()
        check_consistent_length(np.empty((n_samples, 0)), y)
        if self._y_numeric:
            y = _numeric_targets(y, type(self).__name__)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return y

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size == "full":
            return n_samples
        return min(self.batch_size, n_samples)

    def _architecture(self) -> dict:
        return {
            name: _frozen(getattr(self, name)) for name in self._architecture_params
        }

    # -- training -----------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, *, incremental: bool, classes=None):
        reset = not (hasattr(self, "net_") and (incremental or self.warm_start))
        if not reset:
            self._check_same_architecture()
        with self._fit_call(continuing=not reset):
            inputs = self._check_X(X, reset=reset)
            y = self._check_y(y, len(inputs[0]))
            targets = self._encode_y(y, reset=reset, classes=classes)
            weight = self._sample_weight(sample_weight, inputs[0], y)
            seed, device = self._start_fit(reset, inputs[0].dtype)
            if targets.dtype.kind == "f":
                targets = targets.astype(self._dtype, copy=False)
            if weight is not None:
                weight = weight.astype(self._dtype, copy=False)
            data = self._to_data(inputs, device, targets, weight)
            with seeded(seed, device):
                self._train(data, y, seed, reset, incremental)
        return self

    def _train(self, data: TensorData, y, seed: int, reset: bool, incremental: bool):
        early_stopping = self.early_stopping and not incremental
        train, valid = self._split(data, y, early_stopping, seed)
        batch_size = self._batch_size(len(train))
        if reset:
            input_shape = tuple(data.inputs[0].shape[1:])
            try:
                module = self._build_module(input_shape, self.n_outputs_)
            except RuntimeError as exc:  # e.g. the allocator, for huge layers
                raise ValueError(
                    f"Cannot build the network for these parameters: {exc}"
                ) from None
            module = module.to(self._torch_dtype)
            self._initialize_weights(module, train, seed)
            self.net_ = self._make_net(module, batch_size)
            self._fitted_architecture = self._architecture()
        if self.net_.min_batch > batch_size:
            raise ValueError(
                "This network has batch normalisation, which needs at least 2 "
                "rows per batch (it cannot train on one row); got batch_size="
                f"{self.batch_size!r} with {len(train)} training samples."
            )
        elif not incremental:
            self._restart_optimizer()
        net = self.net_
        net.batch_size = batch_size
        net.max_epochs = 1 if incremental else self.max_iter
        net.shuffle = self.shuffle
        net.score = self._score_name() if early_stopping else None
        net.generator = torch.Generator().manual_seed(seed)
        net.clip_grad_norm = self.clip_grad_norm
        net.callbacks = self._callbacks(early_stopping, incremental)
        net.initialize_callbacks()
        self._cost = net.module_.cost_per_sample()
        epochs_before = len(net.history)
        net.constant_loss_ = net.constant_loss(train)  # a scale for divergence
        with interruptible(self, net, epochs_before):
            with torch_threads(num_threads(batch_size * self._cost)):
                net.partial_fit((train, valid))
                if not incremental and self._recalibrate_batch_norm:
                    net.recalibrate_batch_norm(train)
            self._set_fitted_attributes(net, early_stopping)
        self._warn_if_not_converged(net, epochs_before, incremental)
        if not incremental:
            self._warn_if_no_better_than_constant(net, train, epochs_before)

    def _check_same_architecture(self) -> None:
        now = self._architecture()
        changed = [k for k, v in now.items() if self._fitted_architecture[k] != v]
        if changed:
            raise ValueError(
                f"warm_start=True and partial_fit keep the trained weights, so "
                f"{', '.join(changed)} cannot change between fits; set "
                "warm_start=False (or fit anew) to train the new architecture."
            )

    def _restart_optimizer(self) -> None:
        """A warm-start fit: same weights, a new optimizer and loss.

        As ``MLPClassifier`` does, the optimizer starts afresh from the
        current parameters (rate, momentum, alpha), so a warm-start schedule
        of learning rates works.
        """
        net = self.net_
        net.optimizer, net.lr = self.optimizer, self.learning_rate
        net.momentum, net.weight_decay = self.momentum, self.alpha
        net.criterion = self._criterion()
        net.initialize_criterion()
        net.initialize_optimizer()

    def _make_net(self, module, batch_size) -> SkdeepNet:
        net = build_net(SkdeepNet, module, self._criterion(), self, batch_size)
        # Batch norm (asked for, or part of a preset) cannot train on one row.
        batch_norm = any(isinstance(m, _BatchNorm) for m in module.modules())
        net.min_batch = 2 if batch_norm else 1
        return net.initialize()

    def _callbacks(self, early_stopping: bool, incremental: bool) -> list:
        monitor = "valid_score" if early_stopping else "train_loss"
        callbacks = [
            (
                "early_stopping",
                EarlyStopping(
                    monitor=monitor,
                    lower_is_better=not early_stopping,
                    patience=self.n_iter_no_change,
                    threshold=self.tol,
                    threshold_mode="abs",
                    load_best=early_stopping or self._keep_best_epoch,
                ),
            )
        ]
        if self.lr_schedule is not None and not incremental:
            schedule = make_lr_schedule(
                self.lr_schedule,
                monitor=monitor,
                lower_is_better=not early_stopping,
                max_iter=self.max_iter,
                patience=self.n_iter_no_change,
                tol=self.tol,
            )
            callbacks.append(("lr_schedule", schedule))
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        extra = list(self.callbacks or [])
        for item in extra:
            callback = item[1] if isinstance(item, tuple) and len(item) == 2 else item
            if not isinstance(callback, Callback):
                raise TypeError(
                    "callbacks must hold skorch Callback instances or "
                    f"(name, Callback) pairs, got {item!r}."
                )
        # Copies: fitting must not change the objects the user passed.
        return callbacks + copy.deepcopy(extra)

    def _split(self, data: TensorData, y, early_stopping: bool, seed: int):
        """Training and validation rows; the validation score must mean something.

        The held-out rows (``ceil(validation_fraction * n)``, as
        ``train_test_split`` counts them) must be at least 2 and, for a
        stratified split, at least one per class, with one per class left to
        train on; a regressor's held-out targets must not all be equal (their
        R² is 0 whatever the weights), nor may either side's rows all weigh
        zero. Otherwise a ``ValueError`` names ``validation_fraction``: a score
        stuck at one value would stop training early and restore the weights
        of the first epoch, silently.
        """
        if not early_stopping:
            return data, None
        n = len(data)
        fraction = self.validation_fraction
        n_valid = int(np.ceil(fraction * n))
        stratify = y if self._stratify else None
        n_classes = 1
        if stratify is not None:
            labels, counts = np.unique(stratify, return_counts=True)
            n_classes = len(labels)
            if counts.min() < 2:
                raise ValueError(
                    "early_stopping=True holds out a stratified validation_fraction="
                    f"{fraction} of the training data, which needs at least 2 "
                    f"samples of each class; class {labels[counts.argmin()]!r} has "
                    f"{counts.min()}. Use early_stopping=False or more samples."
                )
        needed = max(2, n_classes)
        if n_valid < needed or n - n_valid < n_classes:
            raise ValueError(_too_few_validation_rows(fraction, n, n_valid, n_classes))
        train, valid = train_test_split(
            np.arange(n), test_size=n_valid, random_state=seed, stratify=stratify
        )
        _check_validation_rows(self, data, y, train, valid)
        return data.subset(torch.as_tensor(train)), data.subset(torch.as_tensor(valid))

    def _set_fitted_attributes(self, net, early_stopping: bool):
        history = net.history
        self.n_iter_ = len(history)
        self.loss_curve_ = [float(v) for v in history[:, "train_loss"]]
        if early_stopping:
            self.validation_scores_ = [
                float(epoch["valid_score"])
                for epoch in history
                if "valid_score" in epoch
            ]
            self.best_validation_score_ = max(self.validation_scores_)
            self.best_loss_ = None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.best_loss_ = min(self.loss_curve_)
        self._n_features_out = net.module_.n_features_out
        net.module_.eval()

    def _warn_if_not_converged(self, net, epochs_before: int, incremental: bool):
        trained = len(net.history) - epochs_before
        stopper = dict(net.callbacks_)["early_stopping"]
        stopped_early = stopper.misses_ >= stopper.patience
        if incremental or trained < self.max_iter or stopped_early:
            return
        warnings.warn(
            f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached "
            "and the optimization hasn't converged yet.",
            ConvergenceWarning,
            stacklevel=6,  # the caller of fit, past _fit_context
        )

    def _warn_if_no_better_than_constant(self, net, train, epochs_before: int):
        """Warn when no epoch's training loss beat a constant prediction's.

        Such a net learned nothing (unscaled X, a rate too high or too low,
        training stopped too soon): it scores below predicting the majority
        class or the mean, and says so instead of returning silently.
        """
        constant = net.constant_loss_
        best = min(self.loss_curve_[epochs_before:], default=None)
        if constant is None or best is None or best < constant:
            return
        warnings.warn(
            f"{type(self).__name__}: the training loss never beat a constant "
            f"prediction's ({best:.4g} >= {constant:.4g}): the network learned "
            "nothing. Standardise X (StandardScaler), change learning_rate, or "
            "raise n_iter_no_change / max_iter.",
            ConvergenceWarning,
            stacklevel=6,  # the caller of fit, past _fit_context
        )

    # -- inference ----------------------------------------------------------

    def _forward(self, X, *, features: bool = False) -> torch.Tensor:
        """The module's output (or ``embed``, its features) for X, on the CPU."""
        check_is_fitted(self)
        inputs = self._check_X(X, reset=False)
        device = torch.device(self.device_)
        data = self._to_data(inputs, device)
        rows = inference_rows(self._cost, device, padded=data.lengths is not None)
        with torch_threads(num_threads(min(len(data), rows) * self._cost)):
            return self.net_.infer(data, features=features, chunk_rows=rows).cpu()


def _frozen(value):
    """A value comparable with ``==`` (arrays and lists become tuples)."""
    if isinstance(value, np.ndarray):
        return tuple(value.tolist())
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value
