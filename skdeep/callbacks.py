"""skorch callbacks for skdeep estimators: ``GradientNormRecorder``."""

import torch
from skorch.callbacks import Callback

__all__ = ["GradientNormRecorder"]

_SELECTIONS = ("weights", "all")


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
        ``"weights"`` records the parameters whose name's last component
        starts with ``weight``: dense and convolutional weights, recurrent
        ``weight_ih_l0`` / ``weight_hh_l0``, and also batch-norm scales.
        ``"all"`` records every parameter that has a gradient (biases too).

    Notes
    -----
    The norms are those the optimizer sees: with ``clip_grad_norm`` set
    (RNN estimators), they are measured after clipping.

    The callback listens to a batch event, so the estimator also sends its
    other per-batch events and records per-batch losses in the history
    (which reads each batch's loss from the device): a little slower.

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

    def _selected(self, name: str) -> bool:
        return self.parameters == "all" or name.rsplit(".", 1)[-1].startswith("weight")

    def on_epoch_begin(self, net, **kwargs):
        self._reset()

    def on_grad_computed(self, net, named_parameters, batch=None, **kwargs):
        if not kwargs.get("training", True):
            return
        sums, counts = self.sums_, self.counts_
        with torch.no_grad():
            for name, param in named_parameters:
                if param.grad is None or not self._selected(name):
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
