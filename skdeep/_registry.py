"""Name -> torch class tables: activations, optimizers and losses.

This is the one place to add a name. Lookups raise a ``ValueError`` that
lists the valid names.
"""

from dataclasses import dataclass, field

import torch
from skorch.callbacks import LRScheduler
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "CLASSIFICATION_LOSSES",
    "LR_SCHEDULES",
    "OPTIMIZERS",
    "REGRESSION_LOSSES",
    "get_activation",
    "make_lr_schedule",
    "make_optimizer",
]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "identity": nn.Identity,
    "sigmoid": nn.Sigmoid,
    "logistic": nn.Sigmoid,  # scikit-learn's name
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "softplus": nn.Softplus,
}


@dataclass(frozen=True)
class OptimizerSpec:
    """How a named optimizer is built.

    ``fused`` marks the classes whose single-kernel update exists on CPU and
    CUDA; the others keep torch's own choice (``foreach`` on CUDA).
    """

    cls: type[torch.optim.Optimizer]
    default_lr: float
    kwargs: dict = field(default_factory=dict)
    uses_momentum: bool = False
    fused: bool = False


OPTIMIZERS: dict[str, OptimizerSpec] = {
    "sgd": OptimizerSpec(torch.optim.SGD, 0.01, fused=True),
    "momentum": OptimizerSpec(torch.optim.SGD, 0.01, uses_momentum=True, fused=True),
    "nesterov": OptimizerSpec(
        torch.optim.SGD, 0.01, {"nesterov": True}, uses_momentum=True, fused=True
    ),
    "adagrad": OptimizerSpec(torch.optim.Adagrad, 0.01, fused=True),
    "adadelta": OptimizerSpec(torch.optim.Adadelta, 1.0),
    "rmsprop": OptimizerSpec(torch.optim.RMSprop, 0.001),
    "adam": OptimizerSpec(torch.optim.Adam, 0.001, fused=True),
    "adamw": OptimizerSpec(torch.optim.AdamW, 0.001, fused=True),
    "nadam": OptimizerSpec(torch.optim.NAdam, 0.002),
    "radam": OptimizerSpec(torch.optim.RAdam, 0.001),
}

CLASSIFICATION_LOSSES: dict[str, type[nn.Module]] = {
    "log_loss": nn.CrossEntropyLoss,
    "binary_log_loss": nn.BCEWithLogitsLoss,  # multilabel targets
}

REGRESSION_LOSSES: dict[str, type[nn.Module]] = {
    "squared_error": nn.MSELoss,
    "absolute_error": nn.L1Loss,
    "huber": nn.HuberLoss,
}


def _lookup(table: dict, name: str, what: str):
    try:
        return table[name]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(table))
        raise ValueError(f"Unknown {what} {name!r}; valid names: {valid}.") from None


def get_activation(activation: str | type[nn.Module]) -> type[nn.Module]:
    """Return the ``nn.Module`` class for an activation name or class."""
    if isinstance(activation, type) and issubclass(activation, nn.Module):
        try:  # each layer builds its own: the class must need no arguments
            activation()
        except TypeError as exc:
            raise TypeError(
                f"activation={activation.__name__} must be an nn.Module class "
                f"built without arguments: {exc}"
            ) from None
        return activation
    return _lookup(ACTIVATIONS, activation, "activation")


def make_optimizer(
    optimizer: str | type[torch.optim.Optimizer],
    param_groups: list[dict],
    *,
    learning_rate: float | None,
    momentum: float,
    device: torch.device,
) -> torch.optim.Optimizer:
    """Build an optimizer by name, or from a ``torch.optim.Optimizer`` subclass.

    ``learning_rate=None`` picks the optimizer's own default. Fused kernels
    are used where torch has them for ``device``: they make the per-step
    cost of small nets a fraction of the default loop over parameters.
    """
    if isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer):
        kwargs = {} if learning_rate is None else {"lr": learning_rate}
        return optimizer(param_groups, **kwargs)
    spec = _lookup(OPTIMIZERS, optimizer, "optimizer")
    kwargs = dict(spec.kwargs)
    kwargs["lr"] = spec.default_lr if learning_rate is None else learning_rate
    if spec.uses_momentum:
        kwargs["momentum"] = momentum
    if spec.fused and device.type in ("cpu", "cuda"):
        kwargs["fused"] = True
    return spec.cls(param_groups, **kwargs)


def _plateau(monitor, lower_is_better, max_iter, patience, tol):
    # Divide the rate by 5 (as MLPClassifier's "adaptive" rate does) once
    # the monitored value has not improved by tol for half the early-stopping
    # patience, so the rate drops before training stops.
    return LRScheduler(
        "ReduceLROnPlateau",
        monitor=monitor,
        mode="min" if lower_is_better else "max",
        factor=0.2,
        patience=max(1, patience // 2),
        threshold=tol,
        threshold_mode="abs",
        event_name=None,
    )


def _cosine(monitor, lower_is_better, max_iter, patience, tol):
    return LRScheduler(
        "CosineAnnealingLR", T_max=max_iter, last_epoch=-1, event_name=None
    )


def _step(monitor, lower_is_better, max_iter, patience, tol):
    # A tenth of the rate after each third of the epochs.
    return LRScheduler(
        "StepLR",
        step_size=max(1, max_iter // 3),
        gamma=0.1,
        last_epoch=-1,
        event_name=None,
    )


#: ``lr_schedule`` names -> skorch ``LRScheduler`` factories. Each takes the
#: monitored history key, its direction, ``max_iter``, the early-stopping
#: patience and ``tol``. A schedule starts anew at each fit, with the
#: optimizer (``last_epoch=-1``).
LR_SCHEDULES = {"plateau": _plateau, "cosine": _cosine, "step": _step}


def make_lr_schedule(
    name: str,
    *,
    monitor: str,
    lower_is_better: bool,
    max_iter: int,
    patience: int,
    tol: float,
) -> LRScheduler:
    """The skorch callback of a named learning-rate schedule."""
    factory = _lookup(LR_SCHEDULES, name, "lr_schedule")
    return factory(monitor, lower_is_better, max_iter, patience, tol)
