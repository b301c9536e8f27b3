"""Contrastive-divergence training of an RBM inside the skorch net.

The CD-k update is the gradient of ``F(v_data) - F(v_model)`` (free energy,
model sample held fixed). Its closed form, ``dF/dW = -P(h|v) v^T``, needs the
hidden probabilities of both phases, which the sampling computes anyway; so
the step writes that gradient into ``.grad`` and lets any ``torch.optim``
optimizer apply it. Autograd through the free energy would give the same
numbers (``tests/test_rbm.py`` checks it) at the price of recomputing both
phases' hidden activations: six matrix products a step instead of four.
"""

import math

import torch

from ._net import DivergedError, SkdeepNet
from .modules._rbm import bernoulli

__all__ = ["RBMNet", "pseudo_log_likelihood", "set_cd_gradients"]

# An RBM diverged when a coupling grows past this: trained machines keep
# theirs within tens.
MAX_WEIGHT = 1e4
# Rows on which the per-epoch monitoring metrics are computed.
MONITOR_ROWS = 256
# The exact pseudo-likelihood of a row costs n_visible * n_hidden softplus
# evaluations: the per-epoch curve uses as many monitoring rows as fit in
# this budget (at least 32), so it stays a small fraction of an epoch.
PLL_MONITOR_ELEMENTS = 2**20
# Rows per chunk of the exact pseudo-likelihood: it holds a
# (rows, n_visible, n_hidden) tensor.
PLL_CHUNK_ELEMENTS = 2**24


class RBMNet(SkdeepNet):
    """Trains ``module_`` (an :class:`~skdeep.modules.RBM`) by CD-k / PCD-k.

    ``partial_fit`` takes ``X=(train, monitor)``: a :class:`TensorData`
    with the training rows (inputs ``(v,)``), and a tensor of rows for the
    monitoring curve.
    The estimator sets ``cd_steps`` and ``persistent``.
    """

    cd_steps = 1
    persistent = False
    chain_ = None

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        if training:
            self.module_.train()
            for (v_data,), _, _ in iterator:
                self._cd_step(v_data)
            return
        error, pll = self.monitor(iterator)
        self._record("reconstruction_error", error, lower_is_better=True)
        if pll is not None:
            self._record("pseudo_likelihood", pll, lower_is_better=False)
        if not math.isfinite(error):
            raise DivergedError(
                "reconstruction error", error, len(self.history), self.divergence_hint
            )
        # A Bernoulli machine's reconstruction error stays bounded while its
        # weights blow up: those are what diverges.
        largest = float(self.module_.weight.detach().abs().max())
        if not largest < MAX_WEIGHT:
            raise DivergedError(
                "largest weight", largest, len(self.history), self.divergence_hint
            )

    def get_iterator(self, dataset, training=False):
        if not training:
            return dataset  # the monitoring rows, a tensor
        return super().get_iterator(dataset, training=True)

    def __getstate__(self):
        state = super().__getstate__()
        if self.chain_ is not None:  # loadable where CUDA is absent
            state["chain_"] = self.chain_.cpu()
        return state

    @torch.no_grad()
    def _cd_step(self, v_data: torch.Tensor) -> None:
        rbm = self.module_
        p_data = rbm(v_data)
        rows = len(v_data)
        # The persistent chain keeps the rows of a full batch; a short last
        # batch runs on its first rows and writes them back.
        chain = self.chain_ if self.persistent else None
        if chain is not None and len(chain) >= rows:
            chain = chain.to(v_data.device)
            h = chain[:rows]
        else:
            chain, h = None, bernoulli(p_data)
        for step in range(self.cd_steps):
            v_model = rbm.sample_visible(h)
            p_model = rbm(v_model)
            if step < self.cd_steps - 1 or self.persistent:
                h = bernoulli(p_model)
        if self.persistent:
            if chain is None:
                chain = h
            else:
                chain[:rows] = h
            self.chain_ = chain
        set_cd_gradients(rbm, v_data, p_data, v_model, p_model)
        self.optimizer_.step()

    @torch.no_grad()
    def monitor(self, v: torch.Tensor) -> tuple[float, float | None]:
        """Reconstruction error and mean pseudo-log-likelihood of rows ``v``."""
        rbm = self.module_
        rbm.eval()
        reconstruction = rbm.visible_mean(rbm(v))
        error = float(((reconstruction - v) ** 2).sum(dim=1).mean())
        if rbm.visible_units != "bernoulli":
            return error, None
        rows = max(32, PLL_MONITOR_ELEMENTS // rbm.weight.numel())
        return error, float(pseudo_log_likelihood(rbm, v[:rows]).mean())


@torch.no_grad()
def set_cd_gradients(rbm, v_data, p_data, v_model, p_model) -> None:
    """Write ``d/dtheta [mean F(v_data) - mean F(v_model)]`` into ``.grad``.

    ``p_data`` and ``p_model`` are ``P(h = 1 | v)`` of the two phases. The
    same for Bernoulli and Gaussian visible units.
    """
    n = len(v_data)
    # (p_model' v_model - p_data' v_data) / n, the second product accumulated
    # into the first (one pass less over the n_hidden x n_visible result).
    grad = torch.mm(p_model.t(), v_model)
    rbm.weight.grad = grad.addmm_(p_data.t(), v_data, beta=1 / n, alpha=-1 / n)
    rbm.hidden_bias.grad = (p_model - p_data).mean(dim=0)
    rbm.visible_bias.grad = (v_model - v_data).mean(dim=0)


@torch.no_grad()
def pseudo_log_likelihood(rbm, v: torch.Tensor) -> torch.Tensor:
    """:meth:`RBM.pseudo_log_likelihood` of ``v``, in memory-bounded chunks."""
    n_hidden, n_visible = rbm.weight.shape
    rows = max(1, PLL_CHUNK_ELEMENTS // (n_hidden * n_visible))
    return torch.cat(
        [rbm.pseudo_log_likelihood(v[i : i + rows]) for i in range(0, len(v), rows)]
    )
