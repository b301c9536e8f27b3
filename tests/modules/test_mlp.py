"""The MLP module: its layers are initialised for their activation."""

import pytest
import torch
from torch import nn

from skdeep.modules import MLP


def _scaled_variances(module: MLP) -> list[float]:
    """Each hidden Linear's weight variance times its fan-in."""
    return [
        float(layer.weight.var() * layer.in_features)
        for layer in module.features
        if isinstance(layer, nn.Linear)
    ]


@pytest.mark.parametrize(
    ("activation", "expected"),
    [(nn.ReLU, 2.0), (nn.Tanh, (5 / 3) ** 2 * 2 * 256 / 512), (nn.SELU, 1.0)],
)
def test_hidden_weights_keep_the_signal_variance(activation, expected):
    torch.manual_seed(0)
    module = MLP(256, 10, (256, 256), activation=activation)
    for value in _scaled_variances(module):
        assert value == pytest.approx(expected, rel=0.05)
    assert all(
        torch.count_nonzero(layer.bias) == 0
        for layer in module.features
        if isinstance(layer, nn.Linear)
    )


def test_a_deep_relu_stack_keeps_its_signal():
    # He initialisation: the activations neither vanish nor explode through
    # ten ReLU layers (torch's default shrinks them 2.4 times per layer).
    torch.manual_seed(0)
    module = MLP(64, 10, (64,) * 10)
    out = module.embed(torch.randn(512, 64))
    assert 0.3 < float(out.pow(2).mean()) < 3.0
