"""Sequence-to-one recurrent network: Elman RNN, LSTM or GRU and a dense head."""

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ._interface import FeatureModule
from ._mlp import MLP

__all__ = ["CELLS", "SUMMARIES", "RecurrentNet"]

#: Recurrent cell name -> (torch layer class, gates per step).
CELLS: dict[str, tuple[type[nn.RNNBase], int]] = {
    "rnn": (nn.RNN, 1),
    "lstm": (nn.LSTM, 4),
    "gru": (nn.GRU, 3),
}

#: Ways of turning a sequence of hidden states into one vector.
SUMMARIES: tuple[str, ...] = ("last", "mean", "max")


class RecurrentNet(FeatureModule):
    """A recurrent network that reads a sequence and outputs one vector.

    The sequence ``x`` of shape ``(n, T, F)`` runs through a stack of
    ``num_layers`` recurrent layers (optionally bidirectional); the top
    layer's hidden states are summarised into one vector per sequence, which
    a dense head (an :class:`~skdeep.modules.MLP`) maps to logits or values.

    Variable-length sequences are right-padded to a common ``T`` and passed
    with their ``lengths``. They are packed before the recurrent layers, or,
    for a forward-only float32 LSTM on a CPU with oneDNN, run padded through
    torch's faster fused kernel with the padding zeroed and masked out of
    the summary. Either way padding never reaches the result or the gradients:
    a sequence gives the same output alone as inside a padded batch, in
    both directions.

    Parameters
    ----------
    n_features : int
        Features per time step (``F``).
    out_features : int
        Width of the output (classes, labels or regression targets).
    cell : {"rnn", "lstm", "gru"}, default="lstm"
        Recurrent cell. ``"rnn"`` is the Elman network
        ``h_t = tanh(W x_t + U h_{t-1} + b)``, whose gradients vanish (or
        explode) over long sequences; ``"lstm"`` (long short-term memory)
        adds a cell state behind input, forget and output gates, and
        ``"gru"`` (gated recurrent unit) an update and a reset gate, which
        let the gradient flow across many steps.
    hidden_size : int, default=64
        Width of each recurrent layer's hidden state, per direction.
    num_layers : int, default=1
        Number of stacked recurrent layers.
    bidirectional : bool, default=False
        Whether each layer also reads the sequence backwards; the two
        directions' states are concatenated.
    summary : {"last", "mean", "max"}, default="last"
        How the top layer's hidden states become one vector: ``"last"`` is
        the final hidden state (forward direction at the last valid step;
        for a bidirectional net concatenated with the backward direction at
        step 0, where it ends), ``"mean"`` and ``"max"`` pool the top
        layer's outputs over the valid steps.
    hidden_layer_sizes : sequence of int, default=()
        Widths of the dense head's hidden layers; empty for a linear read-out.
    activation : type of nn.Module, default=nn.ReLU
        Activation class of the dense head's hidden layers.
    dropout : float, default=0.0
        Dropout rate between recurrent layers (when ``num_layers > 1``) and
        after each hidden layer of the head; without hidden layers, on the
        summary before the output layer.
    batch_norm : bool, default=False
        Whether to batch-normalise the head's hidden layers.
    n_steps : int, default=None
        Longest sequence length the network is built for; only used by
        :meth:`cost_per_sample` (``None`` counts one step).

    Attributes
    ----------
    rnn : nn.RNN, nn.LSTM or nn.GRU
        The recurrent layers (batch first); per-layer weights are
        ``rnn.weight_ih_l{k}`` and ``rnn.weight_hh_l{k}`` (``_reverse`` for
        the backward direction).
    head : MLP
        The dense head, from the summary to the output.
    summary_dropout : nn.Dropout or nn.Identity
        Dropout on the summary, used only when the head has no hidden layer.
    summary_size : int
        Width of the summary: ``hidden_size`` times 2 if bidirectional.
    n_features_out : int
        Width of :meth:`embed`'s output: the head's last hidden layer, or the
        summary without one.

    Shape:
        - Input: ``(n, T, F)``, batch first; lengths: ``(n,)`` int64 with
          values in ``[1, T]``, on any device, or ``None`` for all ``T``
        - Output: ``(n, out_features)``
        - Embedding: ``(n, n_features_out)``
        - Per-step outputs (:meth:`outputs`): ``(n, T, summary_size)``

    Examples
    --------
    >>> import torch
    >>> net = RecurrentNet(3, 2, cell="gru", hidden_size=8, bidirectional=True)
    >>> x = torch.randn(4, 5, 3)
    >>> net(x, torch.tensor([5, 2, 3, 1])).shape
    torch.Size([4, 2])
    >>> net.embed(x).shape
    torch.Size([4, 16])
    """

    def __init__(
        self,
        n_features: int,
        out_features: int,
        *,
        cell: str = "lstm",
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        summary: str = "last",
        hidden_layer_sizes: Sequence[int] = (),
        activation: type[nn.Module] = nn.ReLU,
        dropout: float = 0.0,
        batch_norm: bool = False,
        n_steps: int | None = None,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(
                f"cell must be one of {', '.join(map(repr, CELLS))}; got {cell!r}."
            )
        if summary not in SUMMARIES:
            raise ValueError(
                f"summary must be one of {', '.join(map(repr, SUMMARIES))}; "
                f"got {summary!r}."
            )
        rnn_class, self._gates = CELLS[cell]
        self.cell = cell
        self.summary = summary
        self.n_steps = n_steps
        # torch warns about (and ignores) dropout with a single layer.
        self.rnn = rnn_class(
            n_features,
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self._n_directions = 2 if bidirectional else 1
        self.summary_size = hidden_size * self._n_directions
        self.head = MLP(
            self.summary_size,
            out_features,
            hidden_layer_sizes,
            activation,
            dropout,
            batch_norm,
        )
        use_summary_dropout = not list(hidden_layer_sizes) and dropout > 0
        self.summary_dropout = (
            nn.Dropout(dropout) if use_summary_dropout else nn.Identity()
        )
        self.n_features_out = self.head.n_features_out
        self.chrono_init()

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self.head.head(self.summary_dropout(self.embed(x, lengths)))

    def embed(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The head's last hidden layer (the summary itself without one)."""
        return self.head.features(self.summarize(x, lengths))

    def summarize(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """One vector per sequence, shape ``(n, summary_size)``.

        See the ``summary`` parameter for what it holds.
        """
        lengths = self._check_lengths(x, lengths)
        if self.summary == "last":
            return self._last_states(x, lengths)
        out = self._outputs(x, lengths)
        if lengths is None:
            return out.mean(dim=1) if self.summary == "mean" else out.amax(dim=1)
        lengths = lengths.to(out.device)
        if self.summary == "mean":
            # Padded outputs are zero, so the sum runs over valid steps only.
            return out.sum(dim=1) / lengths.to(out.dtype).unsqueeze(1)
        padding = _padding_mask(lengths, out.shape[1])
        return out.masked_fill(padding.unsqueeze(2), float("-inf")).amax(dim=1)

    def outputs(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The top layer's hidden state at every step, ``(n, T, summary_size)``.

        For a bidirectional net the forward direction's states come first.
        Steps past a sequence's length are zero.
        """
        return self._outputs(x, self._check_lengths(x, lengths))

    def _outputs(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        """:meth:`outputs` with ``lengths`` already checked."""
        if lengths is None:
            return self.rnn(x)[0]
        if self._masks_padding(x):
            out, padding = self._run_masked(x, lengths)
            return out.masked_fill(padding, 0.0)
        packed_out, _ = self.rnn(self._pack(x, lengths))
        out, _ = pad_packed_sequence(
            packed_out, batch_first=True, total_length=x.shape[1]
        )
        return out

    @torch.no_grad()
    def chrono_init(self) -> None:
        """Gate biases that let a gated cell remember over ``n_steps`` steps.

        Chrono initialisation (Tallec and Ollivier, "Can recurrent neural
        networks warp time?", ICLR 2018): the LSTM forget gate's bias is
        ``log(u)`` with ``u ~ U(1, n_steps - 1)`` and its input gate's bias
        the opposite; the GRU update gate's bias is ``log(u)``. With
        torch's default biases (near zero) a gate forgets half its state at
        every step, so what the first steps said is gone after a few dozen:
        on a task decided by the first 3 of 100 steps, LSTM and GRU stayed
        at chance for most seeds, and learned it with these biases. The
        plain ``"rnn"`` cell has no gate and keeps its default.
        """
        horizon = max(self.n_steps or 1, 2)
        for name, bias in self.rnn.named_parameters():
            if self.cell == "rnn" or not name.startswith("bias"):
                continue
            size = bias.shape[0] // self._gates
            if name.startswith("bias_hh"):  # the input-side bias carries it
                if self.cell == "lstm":
                    bias[: 2 * size] = 0.0
                else:
                    bias[size : 2 * size] = 0.0
                continue
            keep = torch.log(torch.empty(size).uniform_(1, max(horizon - 1, 1)))
            if self.cell == "lstm":  # gates i, f, g, o
                bias[size : 2 * size] = keep
                bias[:size] = -keep
            else:  # gates r, z, n: z keeps the old state
                bias[size : 2 * size] = keep

    def cost_per_sample(self) -> int:
        """Multiply-adds of one sample for one time step, plus the head.

        ``sum(gates * hidden_size * (layer_input + hidden_size))`` over
        layers and directions (gates: 1 rnn, 3 gru, 4 lstm; layer input:
        ``n_features`` for the first layer, the summary width above it),
        plus the head's matrix products. One step, not ``n_steps``: the
        steps run one after another, so a thread pool can only split the
        work of one step, which is what the thread policy weighs.
        """
        per_step = sum(
            weight.numel()
            for name, weight in self.rnn.named_parameters()
            if name.startswith(("weight_ih", "weight_hh"))
        )
        return per_step + self.head.cost_per_sample()

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, summary={self.summary!r}, n_steps={self.n_steps}"

    def _masks_padding(self, x: Tensor) -> bool:
        """Whether padded steps are masked instead of packed away.

        On a CPU, torch runs a padded float32 LSTM batch through oneDNN's
        fused kernel, and a packed one through a loop over steps: on 7-60
        step sequences the padded batch trained 4-5x and predicted 2.2-2.5x
        faster, padding included (GRU and Elman cells, float64, or oneDNN
        off: 0.6-1.2x, so those keep packing). Only a forward-only stack
        may mask: its state at a valid step never sees later steps, while
        a backward direction starts at each sequence's own end.
        """
        return (
            self.cell == "lstm"
            and self._n_directions == 1
            and x.device.type == "cpu"
            and x.dtype == torch.float32
            and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled
        )

    def _check_lengths(self, x: Tensor, lengths: Tensor | None) -> Tensor | None:
        """``lengths`` as CPU int64, checked against ``x``."""
        if lengths is None:
            return None
        n_steps = x.shape[1]
        lengths = torch.as_tensor(lengths).to("cpu", torch.int64)
        if lengths.shape != (x.shape[0],):
            raise ValueError(
                f"lengths must have shape ({x.shape[0]},); got {tuple(lengths.shape)}."
            )
        # pack_padded_sequence silently reads past T for a too-long length.
        if len(lengths) and (lengths.min() < 1 or lengths.max() > n_steps):
            raise ValueError(f"lengths must lie in [1, {n_steps}].")
        return lengths

    def _last_states(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        """The top layer's final state per sequence, ``(n, summary_size)``."""
        if lengths is not None and self._masks_padding(x):
            out, _ = self._run_masked(x, lengths)
            return out[torch.arange(len(x)), lengths - 1]
        _, hidden = self.rnn(x if lengths is None else self._pack(x, lengths))
        if isinstance(hidden, tuple):  # LSTM: (h_n, c_n)
            hidden = hidden[0]
        # h_n is (num_layers * directions, n, hidden): take the top layer.
        top = hidden[-self._n_directions :]
        return top.transpose(0, 1).reshape(x.shape[0], self.summary_size)

    def _run_masked(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Top-layer outputs of the padded batch, its padding zeroed first
        (so garbage there cannot reach the gradients), and the ``(n, T, 1)``
        padding mask. Outputs at padded steps are not meaningful."""
        padding = _padding_mask(lengths, x.shape[1]).unsqueeze(2)
        out, _ = self.rnn(x.masked_fill(padding, 0.0))
        return out, padding

    @staticmethod
    def _pack(x: Tensor, lengths: Tensor):
        return pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)


def _padding_mask(lengths: Tensor, n_steps: int) -> Tensor:
    """``(n, n_steps)``, True at the steps past each sequence's length."""
    steps = torch.arange(n_steps, device=lengths.device)
    return steps.unsqueeze(0) >= lengths.unsqueeze(1)
