"""Name -> torch class tables: activations, optimizers and losses.

This is the one place to add a name. Lookups raise a ``ValueError`` that
lists the valid names.
"""

from dataclasses import dataclass, field

import torch
from torch import nn

__all__ = [
    "ACTIVATIONS",
    "CLASSIFICATION_LOSSES",
    "OPTIMIZERS",
    "REGRESSION_LOSSES",
    "get_activation",
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
