"""Multi-layer perceptron."""

import math
from collections.abc import Sequence

from torch import Tensor, nn

from ._interface import FeatureModule

__all__ = ["MLP"]


class MLP(FeatureModule):
    """A stack of fully connected layers with a linear output head.

    Each hidden layer is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]``;
    the head is a plain ``Linear`` producing logits (classification) or
    values (regression): no softmax, since the losses apply it themselves.

    Parameters
    ----------
    in_features : int
        Width of the input.
    out_features : int
        Width of the output (classes, labels or regression targets).
    hidden_layer_sizes : sequence of int, default=(100,)
        Width of each hidden layer; empty for a linear model.
    activation : type of nn.Module, default=nn.ReLU
        Activation class, instantiated once per hidden layer. The weights
        before it are initialised for it (:func:`init_linear`): He for
        rectifiers, Glorot for tanh and sigmoid.
    dropout : float or sequence of float, default=0.0
        Dropout rate after each hidden layer: one rate for all, or one each.
    batch_norm : bool, default=False
        Whether to batch-normalise each hidden layer before its activation.

    Attributes
    ----------
    features : nn.Sequential
        The hidden layers: input -> last hidden activations.
    head : nn.Linear
        The output layer.

    Shape:
        - Input: ``(n, in_features)``
        - Output: ``(n, out_features)``
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: type[nn.Module] = nn.ReLU,
        dropout: float | Sequence[float] = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        sizes = list(hidden_layer_sizes)
        rates = _per_layer(dropout, len(sizes))
        layers: list[nn.Module] = []
        width = in_features
        for size, rate in zip(sizes, rates, strict=True):
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(activation())
            if rate > 0:
                layers.append(nn.Dropout(rate))
            width = size
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, out_features)
        self.n_features_out = width
        # The head keeps torch's default, smaller start: outputs begin near a
        # constant, so the first loss is the targets' own spread.
        for layer in self.features:
            if isinstance(layer, nn.Linear):
                init_linear(layer, activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))

    def embed(self, x: Tensor) -> Tensor:
        """The last hidden layer's activations (``x`` itself without one)."""
        return self.features(x)

    def cost_per_sample(self) -> int:
        return sum(m.weight.numel() for m in self.modules() if isinstance(m, nn.Linear))


# He initialisation for the rectifier family, Glorot for the squashing ones:
# each keeps the signal's variance through a layer of its activation, so deep
# nets start trainable. (torch's own Linear default, variance 1 / (3 fan_in),
# shrinks a ReLU net's signal 2.4 times per layer: 8 layers of 64 units did
# not learn the digits in 30 epochs.)
_RECTIFIERS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Softplus)
_GLOROT_GAINS = {nn.Tanh: 5 / 3, nn.Sigmoid: 1.0, nn.Identity: 1.0}


def init_linear(layer: nn.Linear, activation: type[nn.Module]) -> None:
    """Initialise a linear layer for the activation that follows it.

    He (uniform, fan-in) before rectifiers, LeCun before SELU, Glorot
    (uniform) before tanh, sigmoid and no activation; zero biases. Any other
    activation class keeps torch's default initialisation.
    """
    weight = layer.weight
    if not isinstance(activation, type):
        return
    if issubclass(activation, _RECTIFIERS):
        nn.init.kaiming_uniform_(weight, nonlinearity="relu")
    elif issubclass(activation, nn.SELU):
        bound = math.sqrt(3 / weight.shape[1])
        nn.init.uniform_(weight, -bound, bound)
    elif activation in _GLOROT_GAINS:
        nn.init.xavier_uniform_(weight, gain=_GLOROT_GAINS[activation])
    else:
        return
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def _per_layer(value: float | Sequence[float], n_layers: int) -> list[float]:
    """Expand one value into one per layer, or check a per-layer sequence."""
    if isinstance(value, Sequence):
        if len(value) != n_layers:
            raise ValueError(
                f"Got {len(value)} dropout rates for {n_layers} hidden layers; "
                "give one rate, or one per hidden layer."
            )
        return [float(v) for v in value]
    return [float(value)] * n_layers
