"""skorch callbacks for skdeep estimators: ``GradientNormRecorder``."""

import torch
from skorch.callbacks import Callback
from torch import nn

# torch's base class of every convolution (1-3 d, transposed, lazy).
from torch.nn.modules.conv import _ConvNd

__all__ = ["GradientNormRecorder"]

_SELECTIONS = ("weights", "all")


def _layer_weights(module: nn.Module) -> set[str]:
    """The parameter names of the layer weights of ``module``.

    The ``weight`` of each ``nn.Linear`` and convolution, and the
    ``weight_*`` matrices of each recurrent layer (``weight_ih_l0``,
    ``weight_hh_l0``, ...): the layers that transform the signal, not the
    scales of batch or layer normalisation.
    """
    names = set()
    for prefix, layer in module.named_modules():
        if isinstance(layer, nn.RNNBase):
            own = [
                name
                for name, _ in layer.named_parameters(recurse=False)
                if name.startswith("weight_")
            ]
        elif isinstance(layer, nn.Linear | _ConvNd):
            own = ["weight"]
        else:
            continue
        names.update(f"{prefix}.{name}" if prefix else name for name in own)
    return names


class GradientNormRecorder(Callback):
    """Record each parameter's gradient norm, averaged over an epoch's batches.

    After every training step's ``backward()`` the L2 norm of each selected
    parameter's gradient is added to a running sum kept on the training
    device (no device sync per batch). At the end of the epoch the means are
    written to the net's history as ``"grad_norms"``: a dict from parameter
    name to a float, in the module's order (input layer first). Since
    skdeep estimators deep-copy their ``callbacks`` when fitting, read the
    results from the estimator's ``history_``, not from this object.

    Parameters
    ----------
    parameters : {"weights", "all"}, default="weights"
        ``"weights"`` records the weights of the layers that transform the
        signal, one entry per weight matrix: the ``weight`` of each
        ``nn.Linear`` and convolution, and a recurrent layer's
        ``weight_ih_l0`` / ``weight_hh_l0`` (per layer and direction). The
        scales of batch and layer normalisation are not layer weights and
        are left out. ``"all"`` records every parameter that has a gradient
        (biases and normalisation parameters too).

    Notes
    -----
    The norms are those the optimizer sees: with ``clip_grad_norm`` set
    (RNN estimators), they are measured after clipping.

    Only ``on_grad_computed`` is sent for it, so the cost is one norm
    kernel per recorded parameter and step, read from the device once per
    epoch.

    Only nets trained by back-propagation send gradients: the contrastive
    divergence of ``RBM`` and ``DBNTransformer`` records nothing, while
    ``DBNClassifier`` / ``DBNRegressor`` record their fine-tuning.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdeep import DNNClassifier
    >>> from skdeep.callbacks import GradientNormRecorder
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DNNClassifier((8,), learning_rate=0.05, tol=1e-3, random_state=0,
    ...                     callbacks=[GradientNormRecorder()]).fit(X, y)
    >>> norms = clf.history_[:, "grad_norms"]  # one dict per epoch
    >>> len(norms) == clf.n_iter_
    True
    >>> list(norms[-1])
    ['features.0.weight', 'head.weight']
    """

    def __init__(self, parameters: str = "weights"):
        self.parameters = parameters

    def initialize(self):
        if self.parameters not in _SELECTIONS:
            raise ValueError(
                "GradientNormRecorder(parameters=...) must be one of "
                f"{_SELECTIONS}, got {self.parameters!r}."
            )
        self._reset()
        return self

    def _reset(self) -> None:
        self.sums_: dict[str, torch.Tensor] = {}
        self.counts_: dict[str, int] = {}
        self.recorded_ = True  # nothing pending

    def on_train_begin(self, net, **kwargs):
        # The names of the parameters to record, once per fit.
        module = net.module_
        if self.parameters == "all":
            self.selected_ = {name for name, _ in module.named_parameters()}
        else:
            self.selected_ = _layer_weights(module)

    def on_epoch_begin(self, net, **kwargs):
        self._reset()

    def on_grad_computed(self, net, named_parameters, batch=None, **kwargs):
        if not kwargs.get("training", True):
            return
        sums, counts, selected = self.sums_, self.counts_, self.selected_
        with torch.no_grad():
            for name, param in named_parameters:
                if param.grad is None or name not in selected:
                    continue
                norm = torch.linalg.vector_norm(param.grad.detach())
                # Stays a tensor on the device: summing does not sync.
                sums[name] = sums[name] + norm if name in sums else norm
                counts[name] = counts.get(name, 0) + 1
        self.recorded_ = False

    def on_epoch_end(self, net, **kwargs):
        self._record(net)

    def on_train_end(self, net, **kwargs):
        # Early stopping ends training by raising inside ``on_epoch_end``,
        # possibly before this callback's turn: record that last epoch here.
        if net.history and "grad_norms" not in net.history[-1]:
            self._record(net)
        # No device tensors left in the fitted net: it pickles to any machine.
        self._reset()

    def _record(self, net) -> None:
        if self.recorded_ or not self.sums_:
            return
        names = list(self.sums_)
        # One transfer (one sync) for all the epoch's means.
        means = torch.stack([self.sums_[n] / self.counts_[n] for n in names]).tolist()
        net.history.record("grad_norms", dict(zip(names, means, strict=True)))
        self.recorded_ = True
