"""Convolutional networks for 1-D signals and 2-D images, with classic presets."""

from collections.abc import Callable, Sequence
from numbers import Integral, Real

import torch
from torch import Tensor, nn

from ._interface import FeatureModule
from ._mlp import MLP

__all__ = ["ARCHITECTURES", "ConvNet"]

#: Names of the preset architectures, for ``ConvNet(architecture=...)``.
ARCHITECTURES: tuple[str, ...] = ("lenet5", "alexnet", "vgg", "resnet", "fcn")

#: Preset -> hidden layer widths of its dense head (``hidden_layer_sizes=None``).
_PRESET_HEADS: dict[str, tuple[int, ...]] = {
    "lenet5": (120, 84),
    "alexnet": (256, 256),
    "vgg": (256, 256),
    "resnet": (),
    "fcn": (),
}

#: Preset -> smallest input size it accepts along every spatial axis.
_MIN_SIZES: dict[str, int] = {
    "lenet5": 1,
    "alexnet": 4,
    "vgg": 4,
    "resnet": 1,
    "fcn": 1,
}

_POOLINGS = ("max", "avg", None)


class ConvNet(FeatureModule):
    """A convolutional network: a conv body, global average pooling, a dense head.

    The body is a preset or an explicit stack of convolution blocks, in 1-D
    (signals ``(n, C, L)``) or 2-D (images ``(n, C, H, W)``) following the
    length of ``input_shape``. Its output is averaged over the spatial axes
    (global average pooling), so the number of pooled features is the body's
    last channel count whatever the input size, and a dense head (an
    :class:`~skdeep.modules.MLP`) maps them to logits or values. Every
    convolution keeps the size of its input ("same" zero padding) unless it
    is strided, and every pooling halves each axis rounding up (a size of 1
    stays 1), so every preset is valid on any input of at least its minimum
    size (see Notes), 8x8 digit images and 24-step series included.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C, L)`` for 1-D signals or ``(C, H, W)`` for 2-D images: channels
        and spatial size of one sample. The size counts for the presets'
        minimum sizes and for :meth:`cost_per_sample`; the network itself
        accepts any spatial size (of the same number of axes and channels).
    out_features : int
        Width of the output (classes, labels or regression targets).
    architecture : str or sequence of int, default="lenet5"
        A preset name, one of :data:`ARCHITECTURES` (see Notes), or the
        output channels of successive conv blocks, each block being
        ``conv(kernel_size, "same" padding) -> [batch norm] -> activation ->
        [pooling of 2]``.
    kernel_size : int, default=3
        Kernel size of the explicit spec's convolutions (along every axis);
        ignored by the presets, whose kernels are part of their definition.
    pooling : {"max", "avg"} or None, default="max"
        Pooling after each block of the explicit spec (size 2, stride 2), or
        none; ignored by the presets.
    hidden_layer_sizes : sequence of int, default=None
        Widths of the dense head's hidden layers; ``None`` takes the
        preset's own head (``(120, 84)`` for lenet5, ``(256, 256)`` for
        alexnet and vgg, none for resnet, fcn and explicit specs).
    activation : type of nn.Module, default=nn.ReLU
        Activation class, instantiated once per use: it replaces ReLU
        everywhere, in the body of every preset and in the dense head.
    dropout : float or sequence of float, default=0.0
        Dropout rate after each hidden layer of the head (one rate, or one
        per hidden layer); without hidden layers, on the pooled features
        before the output layer.
    batch_norm : bool, default=False
        Whether to batch-normalise each convolution of lenet5, alexnet, vgg
        and explicit specs (before the activation) and the head's hidden
        layers. resnet and fcn always batch-normalise their convolutions:
        it is part of their definition.

    Attributes
    ----------
    body : nn.Sequential
        The convolutional layers: input -> last feature maps.
    pool : nn.Module
        Global average pooling: feature maps ``(n, c, ...)`` -> vectors
        ``(n, c)`` of width ``n_conv_features``.
    dropout : nn.Dropout or nn.Identity
        Dropout on the pooled features (only when the head has no hidden
        layer and ``dropout > 0``).
    head : MLP
        The dense head: pooled features -> output.
    n_conv_features : int
        Width of the pooled convolutional features.
    n_features_out : int
        Width of :meth:`embed`: the head's last hidden layer, or
        ``n_conv_features`` when the head has none.
    first_conv : nn.Conv1d or nn.Conv2d
        The first convolution; its ``weight`` holds the first-layer filters.

    Shape:
        - Input: ``(n, C, L)`` or ``(n, C, H, W)``
        - Output: ``(n, out_features)``
        - Embedding: ``(n, n_features_out)``

    Notes
    -----
    The presets are small variants of the classic networks, made to fit
    small inputs: "same" padding instead of shrinking convolutions, global
    average pooling instead of flattening a fixed-size map. Each works in
    1-D (kernels ``k``) and 2-D (kernels ``k x k``). ``conv c@k`` is a
    convolution with ``c`` output channels and kernel ``k``, followed by
    [batch norm] and the activation; ``pool`` halves each axis.

    * ``"lenet5"`` (LeCun et al. 1998): conv 6@5, average pool, conv 16@5,
      average pool; head 120, 84 (the original's C5 and F6). The original's
      subsampling layers are average pools (here without their trainable
      coefficient), its second convolution is padded so that 8x8 images
      keep a 2x2 map. Any input size.
    * ``"alexnet"`` (Krizhevsky et al. 2012): conv 32@5, max pool, conv
      64@5, max pool, conv 96@3, conv 96@3, conv 64@3, max pool; head 256,
      256 (the original's two dense hidden layers). Channels are about a
      quarter of the original's, and its 11x11 stride-4 first convolution
      becomes a 5x5 one; the pools keep its overlapping 3-wide, stride-2
      windows (padded by 1). Inputs of at least 4 per axis.
    * ``"vgg"`` (Simonyan & Zisserman 2015): three stages of two conv@3 and
      a max pool, with 32, 64 and 128 channels; head 256, 256. Inputs of
      at least 4 per axis.
    * ``"resnet"``, always batch-normalised. 1-D (Wang et al. 2017, the
      time-series ResNet): three residual blocks of 64, 128 and 128
      channels, each conv@8, conv@5, conv@3 with batch norm, added to a
      shortcut (a 1x1 convolution with batch norm where the width changes,
      else the identity) before the last activation; no pooling. 2-D (He et
      al. 2016, the CIFAR ResNet with one basic block per stage, ResNet-8):
      conv 16@3, then basic blocks (two conv@3 with batch norm and a
      shortcut) of 16, 32 and 64 channels, the last two with stride 2. No
      head. Any input size.
    * ``"fcn"`` (Wang et al. 2017, the fully convolutional network): conv
      128@8, conv 256@5, conv 128@3, each with batch norm; no pooling, no
      head. Any input size (in 2-D the 8x8 and 5x5 kernels are costly).

    alexnet and vgg need at least 4 along every spatial axis, so that at
    least two of their three pools halve the map: on smaller inputs they
    would be plain stacks of convolutions over a single pixel. Smaller
    inputs raise a ValueError; use lenet5, resnet, fcn or an explicit spec.

    Global average pooling makes the pooled features nearly invariant to
    where a pattern sits (only the zero padding at the edges tells
    positions apart): the networks learn which patterns occur, not where.

    References
    ----------
    .. [1] Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based
       learning applied to document recognition", Proc. IEEE, 1998.
    .. [2] A. Krizhevsky, I. Sutskever and G. E. Hinton, "ImageNet
       classification with deep convolutional neural networks", NIPS 2012.
    .. [3] K. Simonyan and A. Zisserman, "Very deep convolutional networks
       for large-scale image recognition", ICLR 2015.
    .. [4] K. He, X. Zhang, S. Ren and J. Sun, "Deep residual learning for
       image recognition", CVPR 2016.
    .. [5] Z. Wang, W. Yan and T. Oates, "Time series classification from
       scratch with deep neural networks: a strong baseline", IJCNN 2017.

    Examples
    --------
    >>> import torch
    >>> from skdeep.modules._conv import ConvNet
    >>> net = ConvNet((1, 8, 8), 10, "lenet5")
    >>> net(torch.zeros(4, 1, 8, 8)).shape
    torch.Size([4, 10])
    >>> net.embed(torch.zeros(4, 1, 8, 8)).shape
    torch.Size([4, 84])
    >>> net.first_conv.weight.shape
    torch.Size([6, 1, 5, 5])
    >>> ConvNet((2, 24), 3, [8, 16], kernel_size=5, pooling=None).n_features_out
    16
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        out_features: int,
        architecture: str | Sequence[int] = "lenet5",
        *,
        kernel_size: int = 3,
        pooling: str | None = "max",
        hidden_layer_sizes: Sequence[int] | None = None,
        activation: type[nn.Module] = nn.ReLU,
        dropout: float | Sequence[float] = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.input_shape = _check_input_shape(input_shape)
        if not _is_positive_int(kernel_size):
            raise ValueError(
                f"kernel_size must be a positive int, got {kernel_size!r}."
            )
        if pooling not in _POOLINGS:
            raise ValueError(f"pooling must be 'max', 'avg' or None, got {pooling!r}.")
        layers = _Layers(len(self.input_shape) - 1, activation)
        channels = self.input_shape[0]
        if isinstance(architecture, str):
            body, width = _build_preset(
                architecture, self.input_shape, layers, batch_norm
            )
            head_sizes = _PRESET_HEADS[architecture]
            self.architecture: str | tuple[int, ...] = architecture
        else:
            spec = _check_spec(architecture)
            body = []
            for width in spec:
                body += layers.block(
                    channels, width, kernel_size, norm=batch_norm, pool=pooling
                )
                channels = width
            head_sizes = ()
            self.architecture = spec
        if hidden_layer_sizes is not None:
            head_sizes = tuple(hidden_layer_sizes)
        self.body = nn.Sequential(*body)
        self.pool = _GlobalAvgPool()
        pooled_dropout = not head_sizes and isinstance(dropout, Real) and dropout > 0
        self.dropout = nn.Dropout(float(dropout)) if pooled_dropout else nn.Identity()
        self.head = MLP(
            width,
            out_features,
            hidden_layer_sizes=head_sizes,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
        )
        self.n_conv_features = width
        self.n_features_out = self.head.n_features_out
        # Images run channels-last: on CPU a ResNet-8 trained 1.8x faster
        # and LeNet-5 1.1x (benchmarks/bench_cnn.py --channels-last).
        self.memory_format = torch.channels_last if len(self.input_shape) == 3 else None
        if self.memory_format is not None:
            self.body.to(memory_format=self.memory_format)
        self._cost = self._count_multiply_adds()

    @property
    def first_conv(self) -> nn.Conv1d | nn.Conv2d:
        """The first convolution; ``first_conv.weight`` holds its filters,
        of shape ``(out_channels, C, k)`` or ``(out_channels, C, kh, kw)``."""
        return next(m for m in self.body.modules() if isinstance(m, _CONVS))

    def conv_features(self, x: Tensor) -> Tensor:
        """The globally pooled conv features: shape ``(n, n_conv_features)``."""
        if self.memory_format is not None:
            x = x.contiguous(memory_format=self.memory_format)
        return self.pool(self.body(x))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.dropout(self.conv_features(x)))

    def embed(self, x: Tensor) -> Tensor:
        """The head's last hidden layer, or the pooled conv features without one."""
        return self.head.embed(self.conv_features(x))

    def cost_per_sample(self) -> int:
        """Multiply-adds of convolutions and linear layers for one sample of
        ``input_shape``, counted once at construction by a dry run."""
        return self._cost

    def extra_repr(self) -> str:
        return f"input_shape={self.input_shape}, architecture={self.architecture!r}"

    def _count_multiply_adds(self) -> int:
        """Run one zero sample through the network (in eval mode, without
        gradients, so no state changes) and count each convolution's and
        linear layer's multiply-adds from its output size."""
        total = 0

        def count(
            module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor
        ) -> None:
            nonlocal total
            # Each output value costs one multiply-add per weight of its filter.
            total += output[0].numel() * module.weight[0].numel()

        hooks = [
            m.register_forward_hook(count)
            for m in self.modules()
            if isinstance(m, (*_CONVS, nn.Linear))
        ]
        was_training = self.training
        weight = next(self.parameters())
        try:
            self.eval()
            with torch.no_grad():
                self(weight.new_zeros((1, *self.input_shape)))
        finally:
            self.train(was_training)
            for hook in hooks:
                hook.remove()
        return total


_CONVS = (nn.Conv1d, nn.Conv2d)


class _GlobalAvgPool(nn.Module):
    """The mean over all spatial axes: ``(n, c, ...) -> (n, c)``.

    A plain mean rather than ``nn.AdaptiveAvgPool2d(1)``, whose CUDA
    backward pass has no deterministic implementation.
    """

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(2).mean(2)


class _Layers:
    """Layer factory for one number of spatial axes (1 or 2) and activation."""

    def __init__(self, dims: int, activation: type[nn.Module]) -> None:
        self.dims = dims
        self.activation = activation
        self._conv = _CONVS[dims - 1]
        self._pad = (nn.ZeroPad1d, nn.ZeroPad2d)[dims - 1]
        self.norm = (nn.BatchNorm1d, nn.BatchNorm2d)[dims - 1]
        self._max_pool = (nn.MaxPool1d, nn.MaxPool2d)[dims - 1]
        self._avg_pool = (nn.AvgPool1d, nn.AvgPool2d)[dims - 1]

    def conv(
        self, c_in: int, c_out: int, kernel: int, stride: int = 1, *, bias: bool = True
    ) -> nn.Module:
        """A convolution whose output size is ``ceil(size / stride)``.

        Odd kernels are padded by ``(kernel - 1) // 2`` on both sides; even
        kernels (stride 1) by one less on the left than on the right, by a
        padding layer, as torch's ``padding="same"`` does internally.
        """
        if kernel % 2 == 0:
            if stride != 1:
                raise ValueError("Even kernels only support stride 1.")
            left = (kernel - 1) // 2
            return nn.Sequential(
                self._pad((left, kernel - 1 - left) * self.dims),
                self._conv(c_in, c_out, kernel, bias=bias),
            )
        return self._conv(
            c_in, c_out, kernel, stride, padding=(kernel - 1) // 2, bias=bias
        )

    def pool(self, kind: str) -> nn.Module:
        """A pool that halves each axis, rounding up (a size of 1 stays 1).

        ``"max"`` and ``"avg"`` use windows of 2 (averaging the part of a
        window inside the input), ``"overlap"`` max windows of 3, stride 2.
        """
        if kind == "overlap":
            return self._max_pool(3, stride=2, padding=1)
        pool = self._max_pool if kind == "max" else self._avg_pool
        return pool(2, ceil_mode=True)

    def block(
        self, c_in: int, c_out: int, kernel: int, *, norm: bool, pool: str | None = None
    ) -> list[nn.Module]:
        """``conv -> [batch norm] -> activation -> [pool]``."""
        layers = [self.conv(c_in, c_out, kernel, bias=not norm)]
        if norm:
            layers.append(self.norm(c_out))
        layers.append(self.activation())
        if pool is not None:
            layers.append(self.pool(pool))
        return layers


class _ResidualBlock(nn.Module):
    """Convolutions with batch norm, added to a shortcut, then the activation.

    ``x -> conv k_1 (stride) -> BN -> act -> ... -> conv k_last -> BN``, plus
    the shortcut: the identity, or a 1x1 convolution (same stride) and batch
    norm where the width or the size changes.
    """

    def __init__(
        self,
        layers: _Layers,
        c_in: int,
        c_out: int,
        kernels: Sequence[int],
        stride: int = 1,
    ) -> None:
        super().__init__()
        residual: list[nn.Module] = []
        width = c_in
        for i, kernel in enumerate(kernels):
            if i:
                residual.append(layers.activation())
            residual.append(
                layers.conv(width, c_out, kernel, stride if i == 0 else 1, bias=False)
            )
            residual.append(layers.norm(c_out))
            width = c_out
        self.residual = nn.Sequential(*residual)
        if c_in == c_out and stride == 1:
            self.shortcut: nn.Module = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                layers.conv(c_in, c_out, 1, stride, bias=False), layers.norm(c_out)
            )
        self.activation = layers.activation()

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(self.residual(x) + self.shortcut(x))


_Builder = Callable[[_Layers, int, bool], tuple[list[nn.Module], int]]


def _lenet5(layers: _Layers, c: int, norm: bool) -> tuple[list[nn.Module], int]:
    return [
        *layers.block(c, 6, 5, norm=norm, pool="avg"),
        *layers.block(6, 16, 5, norm=norm, pool="avg"),
    ], 16


def _alexnet(layers: _Layers, c: int, norm: bool) -> tuple[list[nn.Module], int]:
    return [
        *layers.block(c, 32, 5, norm=norm, pool="overlap"),
        *layers.block(32, 64, 5, norm=norm, pool="overlap"),
        *layers.block(64, 96, 3, norm=norm),
        *layers.block(96, 96, 3, norm=norm),
        *layers.block(96, 64, 3, norm=norm, pool="overlap"),
    ], 64


def _vgg(layers: _Layers, c: int, norm: bool) -> tuple[list[nn.Module], int]:
    body: list[nn.Module] = []
    for width in (32, 64, 128):
        body += layers.block(c, width, 3, norm=norm)
        body += layers.block(width, width, 3, norm=norm, pool="max")
        c = width
    return body, c


def _resnet(layers: _Layers, c: int, norm: bool) -> tuple[list[nn.Module], int]:
    if layers.dims == 1:  # Wang et al. 2017; batch norm is part of the design
        stages = [(64, 1), (128, 1), (128, 1)]
        kernels, body = (8, 5, 3), []
    else:  # He et al. 2016, CIFAR-style
        stages = [(16, 1), (32, 2), (64, 2)]
        kernels, body = (3, 3), layers.block(c, 16, 3, norm=True)
        c = 16
    for width, stride in stages:
        body.append(_ResidualBlock(layers, c, width, kernels, stride))
        c = width
    return body, c


def _fcn(layers: _Layers, c: int, norm: bool) -> tuple[list[nn.Module], int]:
    return [
        *layers.block(c, 128, 8, norm=True),
        *layers.block(128, 256, 5, norm=True),
        *layers.block(256, 128, 3, norm=True),
    ], 128


_PRESETS: dict[str, _Builder] = {
    "lenet5": _lenet5,
    "alexnet": _alexnet,
    "vgg": _vgg,
    "resnet": _resnet,
    "fcn": _fcn,
}


def _build_preset(
    name: str, input_shape: tuple[int, ...], layers: _Layers, batch_norm: bool
) -> tuple[list[nn.Module], int]:
    """A preset's body and last width, after checking the name and input size."""
    if name not in _PRESETS:
        valid = ", ".join(repr(n) for n in ARCHITECTURES)
        raise ValueError(
            f"Unknown architecture {name!r}; use one of {valid}, or a sequence "
            "of positive ints (the output channels of successive conv blocks)."
        )
    minimum, spatial = _MIN_SIZES[name], input_shape[1:]
    if min(spatial) < minimum:
        size = "x".join(map(str, spatial))
        least = "x".join([str(minimum)] * len(spatial))
        raise ValueError(
            f"architecture={name!r} needs an input of at least {least}, got "
            f"{size} (input_shape={input_shape}); use 'lenet5', 'resnet', "
            "'fcn' or an explicit spec for smaller inputs."
        )
    return _PRESETS[name](layers, input_shape[0], batch_norm)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value > 0


def _as_tuple(value: object) -> tuple:
    """The items of an iterable (a list, tuple or array), else ``()``."""
    try:
        return tuple(value)
    except TypeError:
        return ()


def _check_input_shape(input_shape: object) -> tuple[int, ...]:
    shape = _as_tuple(input_shape)
    if len(shape) not in (2, 3) or not all(map(_is_positive_int, shape)):
        raise ValueError(
            "input_shape must be (C, L) for 1-D signals or (C, H, W) for 2-D "
            f"images, with positive ints; got {input_shape!r}."
        )
    return tuple(int(v) for v in shape)


def _check_spec(architecture: object) -> tuple[int, ...]:
    spec = _as_tuple(architecture)
    if not spec or not all(map(_is_positive_int, spec)):
        raise ValueError(
            "An explicit architecture must be a non-empty sequence of positive "
            "ints (the output channels of successive conv blocks); "
            f"got {architecture!r}."
        )
    return tuple(int(v) for v in spec)
