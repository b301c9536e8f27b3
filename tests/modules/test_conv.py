"""Tests of the plain-torch convolutional module."""

import pytest
import torch
from torch import nn

from skdeep.modules._conv import ARCHITECTURES, ConvNet
from skdeep.modules._interface import FeatureModule

SHAPES = [(1, 24), (3, 150), (1, 8, 8), (3, 32, 32)]
CONVS = (nn.Conv1d, nn.Conv2d)
NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
# Width of embed() with the preset's own head: its last hidden layer, or the
# last conv width when it has none (resnet: 128 in 1-D, 64 in 2-D).
EMBED_WIDTH = {
    ("lenet5", 1): 84,
    ("lenet5", 2): 84,
    ("alexnet", 1): 256,
    ("alexnet", 2): 256,
    ("vgg", 1): 256,
    ("vgg", 2): 256,
    ("resnet", 1): 128,
    ("resnet", 2): 64,
    ("fcn", 1): 128,
    ("fcn", 2): 128,
}


def _convs(net):
    return [m for m in net.body.modules() if isinstance(m, CONVS)]


def _count(module, types):
    return sum(isinstance(m, types) for m in module.modules())


def test_architectures():
    assert ARCHITECTURES == ("lenet5", "alexnet", "vgg", "resnet", "fcn")
    assert issubclass(ConvNet, FeatureModule)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_preset_shapes(architecture, shape):
    torch.manual_seed(0)
    net = ConvNet(shape, 3, architecture)
    x = torch.randn(2, *shape)
    with torch.no_grad():
        out, features = net(x), net.embed(x)
    assert out.shape == (2, 3)
    assert net.n_features_out == EMBED_WIDTH[architecture, len(shape) - 1]
    assert features.shape == (2, net.n_features_out)
    assert torch.isfinite(out).all()
    first = net.first_conv
    assert isinstance(first, CONVS[len(shape) - 2])
    assert first.in_channels == shape[0]
    assert first.weight.shape[1] == shape[0]
    assert net.cost_per_sample() > 0


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (1, 1, 1), (1, 2, 3)], ids=str)
@pytest.mark.parametrize("architecture", ["lenet5", "resnet", "fcn", (4, 4)])
def test_tiny_inputs_work_without_a_minimum(architecture, shape):
    # A table of one or two features is a 1-D signal of length 1 or 2.
    net = ConvNet(shape, 2, architecture, hidden_layer_sizes=(4,)).eval()
    assert net(torch.randn(3, *shape)).shape == (3, 2)


@pytest.mark.parametrize("architecture", ["alexnet", "vgg"])
@pytest.mark.parametrize(
    ("shape", "size", "least"),
    [((1, 3), "3", "4"), ((1, 3, 3), "3x3", "4x4"), ((2, 8, 2), "8x2", "4x4")],
)
def test_too_small_input_raises(architecture, shape, size, least):
    with pytest.raises(ValueError, match=architecture) as info:
        ConvNet(shape, 2, architecture)
    message = str(info.value)
    assert f"at least {least}" in message
    assert f"got {size}" in message
    ConvNet((shape[0],) + (4,) * (len(shape) - 1), 2, architecture)  # minimum: fine


@pytest.mark.parametrize(
    "input_shape", [(), (5,), (1, 2, 3, 4), (0, 8), (1, -1), (1, 2.5), (True, 8), 8]
)
def test_bad_input_shape(input_shape):
    with pytest.raises(ValueError, match="input_shape"):
        ConvNet(input_shape, 2)


def test_unknown_architecture_lists_names():
    with pytest.raises(ValueError, match="lenet") as info:
        ConvNet((1, 8, 8), 2, "googlenet")
    assert all(name in str(info.value) for name in ARCHITECTURES)
    assert "googlenet" in str(info.value)


@pytest.mark.parametrize("spec", [(), (4, 0), (4, -2), (4, 2.5), ("a",), (True,), 7])
def test_bad_spec(spec):
    with pytest.raises(ValueError, match="positive ints"):
        ConvNet((1, 8), 2, spec)


@pytest.mark.parametrize(
    ("param", "value"),
    [("kernel_size", 0), ("kernel_size", 2.0), ("pooling", "median")],
)
def test_bad_kernel_or_pooling(param, value):
    with pytest.raises(ValueError, match=param):
        ConvNet((1, 8), 2, (4,), **{param: value})


@pytest.mark.parametrize("shape", [(2, 20), (2, 9, 7)], ids=str)
@pytest.mark.parametrize(
    ("pooling", "pool_type"),
    [("max", (nn.MaxPool1d, nn.MaxPool2d)), ("avg", (nn.AvgPool1d, nn.AvgPool2d))],
)
def test_explicit_spec_builds_the_blocks_asked_for(shape, pooling, pool_type):
    net = ConvNet(shape, 3, [4, 8, 16], kernel_size=5, pooling=pooling)
    convs = _convs(net)
    assert [c.in_channels for c in convs] == [2, 4, 8]
    assert [c.out_channels for c in convs] == [4, 8, 16]
    dims = len(shape) - 1
    assert all(type(c) is CONVS[dims - 1] for c in convs)
    assert all(c.kernel_size == (5,) * dims for c in convs)
    assert _count(net.body, pool_type) == 3
    assert _count(net.body, nn.ReLU) == 3
    assert _count(net, NORMS) == 0
    assert net.n_conv_features == net.n_features_out == 16
    assert net.head.head.in_features == 16
    assert net.architecture == (4, 8, 16)
    # Pools halve each axis rounding up: 20 -> 10 -> 5 -> 3; 9x7 -> ... -> 2x1.
    with torch.no_grad():
        maps = net.body(torch.randn(1, *shape))
    assert maps.shape[2:] == ((3,) if dims == 1 else (2, 1))


def test_explicit_spec_without_pooling_keeps_the_size():
    net = ConvNet((1, 6, 5), 2, (3, 3), kernel_size=4, pooling=None)
    assert _count(net.body, (nn.MaxPool2d, nn.AvgPool2d)) == 0
    with torch.no_grad():
        assert net.body(torch.randn(1, 1, 6, 5)).shape == (1, 3, 6, 5)


def test_explicit_spec_with_hidden_layers():
    net = ConvNet((1, 8), 2, (4,), hidden_layer_sizes=(10, 6))
    assert net.n_conv_features == 4
    assert net.n_features_out == 6
    assert net.embed(torch.randn(3, 1, 8)).shape == (3, 6)


def test_cost_per_sample_hand_count():
    # 1-D: conv 1->2 (k=3) at length 8, pool to 4, conv 2->3 at length 4,
    # pool to 2, global mean, linear 3->2.
    net = ConvNet((1, 8), 2, (2, 3), kernel_size=3, pooling="max")
    assert net.cost_per_sample() == 2 * 8 * 1 * 3 + 3 * 4 * 2 * 3 + 3 * 2
    # 2-D, no pooling, a hidden layer: conv 2->4 (3x3) at 5x6, linear 4->7->3.
    net = ConvNet((2, 5, 6), 3, (4,), pooling=None, hidden_layer_sizes=(7,))
    assert net.cost_per_sample() == 4 * 30 * 2 * 9 + 4 * 7 + 7 * 3
    # An even kernel pads to the same size: conv 1->2 (k=4) at length 6.
    net = ConvNet((1, 6), 1, (2,), kernel_size=4, pooling=None)
    assert net.cost_per_sample() == 2 * 6 * 4 + 2 * 1


def test_cost_per_sample_scales_with_the_input():
    # FCN does not pool and has no dense head: the cost is linear in length.
    assert (
        ConvNet((1, 48), 2, "fcn").cost_per_sample()
        == 2 * ConvNet((1, 24), 2, "fcn").cost_per_sample() - 128 * 2
    )
    lenet = ConvNet((1, 8, 8), 10)
    head = 16 * 120 + 120 * 84 + 84 * 10
    assert lenet.cost_per_sample() == 6 * 64 * 25 + 16 * 16 * 6 * 25 + head


def test_construction_leaves_no_trace():
    # The dry run counting the cost must not touch modes or batch-norm stats.
    net = ConvNet((1, 24), 2, "fcn")
    assert all(m.training for m in net.modules())
    for norm in (m for m in net.modules() if isinstance(m, NORMS)):
        assert norm.num_batches_tracked == 0
        assert torch.equal(norm.running_mean, torch.zeros_like(norm.running_mean))


@pytest.mark.parametrize("architecture", [*ARCHITECTURES, (4, 8)])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_batch_norm_only_where_documented(architecture, batch_norm):
    net = ConvNet((1, 8, 8), 2, architecture, batch_norm=batch_norm)
    always = architecture in ("resnet", "fcn")
    in_body = _count(net.body, nn.BatchNorm2d)
    assert (in_body > 0) == (always or batch_norm)
    if in_body:
        assert in_body == len(_convs(net))  # every convolution, shortcuts too
    head_norms = _count(net.head, nn.BatchNorm1d)
    assert head_norms == (len(net.head.features) // 3 if batch_norm else 0)
    assert _count(net, nn.BatchNorm1d) == head_norms  # no 1-D norm in a 2-D body


def test_resnet_residual_structure():
    net1 = ConvNet((2, 24), 2, "resnet")
    assert [c.kernel_size[0] for c in _convs(net1)][:3] == [8, 5, 3]
    assert [c.out_channels for c in _convs(net1) if c.kernel_size[0] == 8] == [
        64,
        128,
        128,
    ]
    net2 = ConvNet((3, 32, 32), 2, "resnet")
    with torch.no_grad():
        assert net2.eval().body(torch.randn(1, 3, 32, 32)).shape == (1, 64, 8, 8)


@pytest.mark.parametrize("hidden", [(), (16,)])
def test_dropout_in_training_mode_only(hidden):
    torch.manual_seed(0)
    net = ConvNet((1, 16), 2, (8,), hidden_layer_sizes=hidden, dropout=0.5)
    assert _count(net, nn.Dropout) == 1
    x = torch.randn(6, 1, 16)
    with torch.no_grad():
        assert not torch.allclose(net(x), net(x))
        net.eval()
        assert torch.equal(net(x), net(x))
    plain = ConvNet((1, 16), 2, (8,), hidden_layer_sizes=hidden)
    assert _count(plain, nn.Dropout) == 0


def test_embed_is_the_pooled_features_without_a_head():
    net = ConvNet((1, 12), 2, "fcn", dropout=0.3).eval()
    x = torch.randn(4, 1, 12)
    with torch.no_grad():
        features = net.embed(x)
        assert torch.allclose(features, net.body(x).mean(2))
        assert torch.allclose(net(x), net.head.head(features))


@pytest.mark.parametrize("architecture", ["lenet5", "resnet", (3, 5)])
def test_float64(architecture):
    torch.manual_seed(0)
    net = ConvNet((2, 10), 3, architecture).double().eval()
    x = torch.randn(4, 2, 10, dtype=torch.float64)
    out = net(x)
    assert out.dtype == torch.float64
    assert net.embed(x).dtype == torch.float64
    out.sum().backward()
    assert net.first_conv.weight.grad.dtype == torch.float64
    with torch.no_grad():
        out32 = net.float()(x.float())
    assert torch.allclose(out.detach().float(), out32, atol=1e-5)


def test_gradients_are_exact_in_float64():
    torch.manual_seed(0)
    net = ConvNet((1, 5, 4), 2, (2,), kernel_size=2).double()
    x = torch.randn(3, 1, 5, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(net, (x,))


def test_learns_a_small_problem():
    # Class = frequency of a noisy sinusoid with a random phase: which pattern
    # occurs, not where, which is what global average pooling keeps.
    gen = torch.Generator().manual_seed(0)
    n, length = 32, 32
    y = torch.arange(n) % 2
    t = torch.arange(length) / length
    phase = torch.rand(n, 1, generator=gen) * 6.3
    freq = torch.where(y == 1, 6.0, 2.0)[:, None]
    x = torch.sin(6.283 * freq * t + phase) + 0.2 * torch.randn(
        n, length, generator=gen
    )
    x = x[:, None, :]
    torch.manual_seed(0)
    net = ConvNet((1, length), 2, (8, 8), kernel_size=5)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(60):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (net.eval()(x).argmax(1) == y).float().mean()
    assert accuracy == 1.0


@pytest.mark.parametrize("shape", [(2, 24), (1, 8, 8)], ids=str)
@pytest.mark.parametrize("architecture", [*ARCHITECTURES, (4, 6)])
def test_eval_output_independent_of_batch(architecture, shape):
    torch.manual_seed(0)
    net = ConvNet(shape, 3, architecture, batch_norm=True).eval()
    x = torch.randn(5, *shape)
    with torch.no_grad():
        batch = net(x)
        alone = torch.cat([net(x[i : i + 1]) for i in range(len(x))])
        assert torch.allclose(batch, alone, atol=1e-5, rtol=1e-4)
        assert torch.allclose(net.embed(x)[2:3], net.embed(x[2:3]), atol=1e-5)


def test_extra_repr():
    text = repr(ConvNet((1, 8, 8), 2, (4, 8)))
    assert "input_shape=(1, 8, 8)" in text
    assert "architecture=(4, 8)" in text


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_cuda(architecture):
    net = ConvNet((1, 8, 8), 2, architecture).cuda()
    out = net(torch.randn(4, 1, 8, 8, device="cuda"))
    out.sum().backward()
    assert out.device.type == "cuda"
