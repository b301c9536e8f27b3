"""The estimator base every supervised net uses unchanged.

It validates with scikit-learn's machinery, turns X and y into tensors once,
seeds everything from ``random_state``, builds the module of the family
(``_build_module``), the optimizer and a :class:`~skdeep._net.SkdeepNet`,
trains, and turns the skorch history into fitted attributes. The classifier
and regressor halves live in ``_supervised.py``.
"""

import contextlib
import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from skorch.callbacks import Callback, EarlyStopping, ProgressBar

from ._compat import Interval, StrOptions
from ._net import (
    DivergedError,
    SkdeepNet,
    TensorData,
    build_net,
    num_threads,
    torch_threads,
)
from ._registry import ACTIVATIONS, OPTIMIZERS

__all__ = ["BaseNet", "NetState"]


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
    """``"auto"`` is CUDA when present, else the CPU; others must exist."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"Unknown device {device!r}: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available here; use "
            "device='auto' or 'cpu'."
        )
    return resolved


@contextlib.contextmanager
def seeded(seed: int, device: torch.device):
    """Seed torch inside the block, leaving the caller's generators as they were."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type=device.type):
        torch.manual_seed(seed)
        yield


class NetState:
    """Fitted state held by a skorch net ``net_``: shared by every estimator.

    ``module_`` and ``history_`` are views of ``net_``, so a pickle holds the
    weights once, through skorch's path that maps CUDA tensors to the CPU
    where CUDA is absent; ``device_`` follows that mapping.
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


class BaseNet(NetState, BaseEstimator):
    """Shared parameters, fit wiring and inference of the supervised nets.

    Subclasses (through the classifier / regressor halves) provide
    ``_build_module(input_shape, n_outputs, hidden_sizes, dropout)``,
    ``_encode_y``, the criterion and the validation score; a family may
    override ``_check_X`` to reshape inputs (images, sequences) and
    ``_initialize_weights`` to start from pretrained weights (DBN).
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
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": [list, None],
    }

    def __init__(
        self,
        *,
        hidden_layer_sizes,
        activation,
        dropout,
        batch_norm,
        optimizer,
        learning_rate,
        momentum,
        alpha,
        batch_size,
        max_iter,
        shuffle,
        early_stopping,
        validation_fraction,
        n_iter_no_change,
        tol,
        device,
        random_state,
        verbose,
        warm_start,
        callbacks,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    # -- checks -------------------------------------------------------------

    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers, got {sizes!r}."
            )
        return sizes

    def _dropout_rates(self, n_layers: int) -> float | list[float]:
        if isinstance(self.dropout, Real):
            return float(self.dropout)
        rates = [float(r) for r in self.dropout]
        if len(rates) != n_layers or not all(0 <= r < 1 for r in rates):
            raise ValueError(
                "dropout must be one rate in [0, 1) or one such rate per hidden "
                f"layer ({n_layers}), got {self.dropout!r}."
            )
        return rates

    def _check_X(self, X, *, reset: bool) -> np.ndarray:
        """Validate X alone (prediction time); families reshape here."""
        if not reset and self._is_plain_input(X):
            X = X.astype(np.float32, copy=False)
            if np.isfinite(X).all():
                return X
        return validate_data(self, X, reset=reset, dtype=np.float32)

    def _is_plain_input(self, X) -> bool:
        """Whether X needs none of ``validate_data``'s conversions.

        ``validate_data`` costs ~100 us, four times a small net's forward
        pass, so a single-row predict skips it for a finite float ndarray of
        the fitted width when no feature names were seen. Anything else
        (and any error message) goes through ``validate_data``.
        """
        return (
            type(X) is np.ndarray
            and X.dtype in (np.float32, np.float64)
            and X.ndim == 2
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
        )

    def _check_X_y(self, X, y, *, reset: bool):
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=np.float32,
            multi_output=True,
            y_numeric=self._y_numeric,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size == "full":
            return n_samples
        return min(self.batch_size, n_samples)

    # -- training -----------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, *, incremental: bool, classes=None):
        reset = not hasattr(self, "net_") or not (incremental or self.warm_start)
        sizes = self._hidden_sizes()
        dropout = self._dropout_rates(len(sizes))
        X, y = self._check_X_y(X, y, reset=reset)
        targets = self._encode_y(y, reset=reset, classes=classes)
        weight = self._sample_weight(sample_weight, X, y)
        if reset:
            self._seeds = check_random_state(self.random_state)
            self.device_ = str(resolve_device(self.device))
        device = torch.device(self.device_)
        seed = int(self._seeds.randint(np.iinfo(np.int32).max))
        early_stopping = self.early_stopping and not incremental
        data = TensorData(
            to_tensor(X, device),
            to_tensor(targets, device),
            None if weight is None else to_tensor(weight, device),
        )
        train, valid = self._split(data, y, early_stopping, seed)
        batch_size = self._batch_size(len(train))
        if self.batch_norm and batch_size < 2:
            raise ValueError(
                "batch_norm=True needs at least 2 rows per batch (batch "
                f"normalisation cannot train on one row); got batch_size="
                f"{self.batch_size!r} with {len(train)} training samples."
            )

        architecture = (sizes, dropout, self.activation, self.batch_norm)
        with seeded(seed, device):
            if reset:
                module = self._build_module(
                    X.shape[1:], self.n_outputs_, sizes, dropout
                )
                self._initialize_weights(module, X, seed)
                self.net_ = self._make_net(module, batch_size)
                self._architecture = architecture
            elif not incremental:
                self._restart_optimizer(architecture)
            net = self.net_
            net.batch_size = batch_size
            net.max_epochs = 1 if incremental else self.max_iter
            net.shuffle = self.shuffle
            net.score = self._score_name() if early_stopping else None
            net.generator = torch.Generator().manual_seed(seed)
            net.callbacks = self._callbacks(early_stopping)
            net.initialize_callbacks()
            work = batch_size * sum(p.numel() for p in net.module_.parameters())
            epochs_before = len(net.history)
            try:
                with torch_threads(num_threads(work)):
                    net.partial_fit((train, valid))
            except DivergedError:
                # A diverged net is no model: leave the estimator unfitted.
                del self.net_
                raise
        self._set_fitted_attributes(net, early_stopping)
        self._warn_if_not_converged(net, epochs_before, incremental)
        return self

    def _restart_optimizer(self, architecture) -> None:
        """A warm-start fit: same weights, a new optimizer and loss.

        As ``MLPClassifier`` does, the optimizer starts afresh from the
        current parameters (rate, momentum, alpha), so a warm-start schedule
        of learning rates works; a different architecture cannot reuse the
        weights and is refused.
        """
        if architecture != self._architecture:
            raise ValueError(
                "warm_start=True keeps the trained weights, so hidden_layer_sizes, "
                "dropout, activation and batch_norm cannot change between fits; "
                "set warm_start=False to train the new architecture."
            )
        net = self.net_
        net.optimizer, net.lr = self.optimizer, self.learning_rate
        net.momentum, net.weight_decay = self.momentum, self.alpha
        net.criterion = self._criterion()
        net.initialize_criterion()
        net.initialize_optimizer()

    def _initialize_weights(self, module, X: np.ndarray, seed: int) -> None:
        """Start ``module`` from other weights than torch's default init."""

    def _make_net(self, module, batch_size) -> SkdeepNet:
        net = build_net(SkdeepNet, module, self._criterion(), self, batch_size)
        net.min_batch = 2 if self.batch_norm else 1
        return net.initialize()

    def _callbacks(self, early_stopping: bool) -> list:
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
                    load_best=early_stopping,
                ),
            )
        ]
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
        if not early_stopping:
            return data, None
        n = len(data)
        stratify = y if self._stratify else None
        try:
            train, valid = train_test_split(
                np.arange(n),
                test_size=self.validation_fraction,
                random_state=seed,
                stratify=stratify,
            )
        except ValueError as exc:
            raise ValueError(
                f"early_stopping=True cannot hold out validation_fraction="
                f"{self.validation_fraction} of {n} samples: {exc}"
            ) from None
        device = data.X.device
        return (
            data.subset(torch.as_tensor(train, device=device)),
            data.subset(torch.as_tensor(valid, device=device)),
        )

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
        self._n_params = sum(p.numel() for p in net.module_.parameters())
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
            stacklevel=5,  # the caller of fit, past _fit_context
        )

    # -- inference ----------------------------------------------------------

    def _forward(self, X, *, features: bool = False) -> torch.Tensor:
        """The module's output (or last hidden layer) for X, on the CPU."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        Xt = to_tensor(X, torch.device(self.device_))
        with torch_threads(num_threads(min(len(X), 8192) * self._n_params)):
            return self.net_.predict_output(Xt, features=features).cpu()
