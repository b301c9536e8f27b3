"""Restricted Boltzmann machine with Bernoulli or Gaussian visible units."""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._interface import FeatureModule

__all__ = ["RBM", "bernoulli"]


def bernoulli(p: Tensor) -> Tensor:
    """0/1 samples with probabilities ``p``.

    ``uniform < p`` draws the same distribution as ``torch.bernoulli`` and is
    3-4 times faster on the CPU, where sampling is a third of a CD step.
    """
    return (torch.rand_like(p) < p).to(p.dtype)


class RBM(FeatureModule):
    """Restricted Boltzmann machine: binary hidden units, Bernoulli or
    unit-variance Gaussian visible units.

    Energy ``E(v, h) = -b.v - c.h - h.W.v`` for Bernoulli visible units and
    ``E(v, h) = ||v - b||^2 / 2 - c.h - h.W.v`` for Gaussian ones (data
    standardised to unit variance). Marginalising ``h`` gives the free energy
    :meth:`free_energy`; its gradient, contrasting data with model samples,
    is the contrastive-divergence update, so any ``torch.optim`` optimizer
    can train the machine on ``free_energy(v_data) - free_energy(v_model)``.

    Parameters
    ----------
    n_visible : int
        Number of visible units (features).
    n_hidden : int
        Number of hidden units (components).
    visible_units : {"bernoulli", "gaussian"}, default="bernoulli"
        Distribution of the visible units.

    Attributes
    ----------
    weight : nn.Parameter of shape (n_hidden, n_visible)
        Coupling between hidden and visible units (``W``).
    hidden_bias : nn.Parameter of shape (n_hidden,)
        Hidden biases (``c``).
    visible_bias : nn.Parameter of shape (n_visible,)
        Visible biases (``b``).

    Shape:
        - Visible: ``(n, n_visible)``
        - Hidden: ``(n, n_hidden)``
    """

    def __init__(
        self, n_visible: int, n_hidden: int, visible_units: str = "bernoulli"
    ) -> None:
        super().__init__()
        if visible_units not in ("bernoulli", "gaussian"):
            raise ValueError(
                "visible_units must be 'bernoulli' or 'gaussian', "
                f"got {visible_units!r}."
            )
        self.visible_units = visible_units
        self.weight = nn.Parameter(torch.empty(n_hidden, n_visible))
        self.hidden_bias = nn.Parameter(torch.empty(n_hidden))
        self.visible_bias = nn.Parameter(torch.empty(n_visible))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Small random couplings and zero biases, as BernoulliRBM starts.
        nn.init.normal_(self.weight, std=0.01)
        nn.init.zeros_(self.hidden_bias)
        nn.init.zeros_(self.visible_bias)

    def extra_repr(self) -> str:
        n_hidden, n_visible = self.weight.shape
        return (
            f"n_visible={n_visible}, n_hidden={n_hidden}, "
            f"visible_units={self.visible_units!r}"
        )

    @property
    def n_features_out(self) -> int:
        return self.weight.shape[0]

    def forward(self, v: Tensor) -> Tensor:
        """Hidden probabilities ``P(h = 1 | v)``."""
        return torch.sigmoid(F.linear(v, self.weight, self.hidden_bias))

    def embed(self, v: Tensor) -> Tensor:
        """The learned features: the hidden probabilities."""
        return self(v)

    def cost_per_sample(self) -> int:
        return self.weight.numel()

    def visible_mean(self, h: Tensor) -> Tensor:
        """``E[v | h]``: probabilities (Bernoulli) or means (Gaussian)."""
        activation = F.linear(h, self.weight.t(), self.visible_bias)
        return (
            torch.sigmoid(activation)
            if self.visible_units == "bernoulli"
            else activation
        )

    def sample_hidden(self, v: Tensor) -> Tensor:
        return bernoulli(self(v))

    def sample_visible(self, h: Tensor) -> Tensor:
        mean = self.visible_mean(h)
        if self.visible_units == "bernoulli":
            return bernoulli(mean)
        return mean + torch.randn_like(mean)

    def gibbs(self, v: Tensor, steps: int = 1) -> Tensor:
        """Run ``steps`` full Gibbs steps ``v -> h -> v`` from ``v``."""
        for _ in range(steps):
            v = self.sample_visible(self.sample_hidden(v))
        return v

    def free_energy(self, v: Tensor) -> Tensor:
        """``F(v) = -log sum_h exp(-E(v, h))``, one value per row."""
        hidden = F.softplus(F.linear(v, self.weight, self.hidden_bias)).sum(dim=1)
        if self.visible_units == "bernoulli":
            return -(v @ self.visible_bias) - hidden
        return 0.5 * ((v - self.visible_bias) ** 2).sum(dim=1) - hidden

    def pseudo_log_likelihood(self, v: Tensor) -> Tensor:
        """Exact pseudo-log-likelihood ``sum_i log P(v_i | v_-i)`` per row.

        Every feature is flipped (``v_i -> 1 - v_i``) at once: the flip moves
        each hidden unit's input by ``W[:, i] * (1 - 2 v_i)``, so the free
        energy of all ``n_visible`` flipped copies costs one broadcast, not
        ``n_visible`` forward passes. Bernoulli units only.
        """
        x = F.linear(v, self.weight, self.hidden_bias)  # (n, hidden)
        delta = 1 - 2 * v  # (n, visible)
        flipped_x = x[:, None, :] + delta[:, :, None] * self.weight.t()[None]
        softplus_change = (F.softplus(flipped_x) - F.softplus(x)[:, None, :]).sum(2)
        # F(flipped) - F(v) for every feature i: (n, visible)
        energy_gap = -delta * self.visible_bias - softplus_change
        return F.logsigmoid(energy_gap).sum(dim=1)
