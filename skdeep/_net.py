"""The training loop: a skorch net whose epochs run on preloaded tensors.

skorch runs ``fit``, the callbacks, the history and early stopping once per
epoch. What it would do per batch (a per-sample ``Dataset``, a ``DataLoader``
collating rows, a ``.item()`` sync and history records per step) is replaced
here by index slicing of tensors made once on the training device and a step
that does nothing else. Batch events are still sent when a callback listens
for them (a progress bar, gradient clipping), so nothing is lost, only not
paid for when unused.
"""

import contextlib
import math
from collections.abc import Iterator

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PrintLog

from ._registry import make_optimizer

__all__ = [
    "BatchIterator",
    "DivergedError",
    "SkdeepNet",
    "TensorData",
    "build_net",
    "num_threads",
]

_BATCH_EVENTS = ("on_batch_begin", "on_batch_end", "on_grad_computed")

# Multiply-adds per training step below which one intra-op thread is used.
# Measured on a 2-core machine (benchmarks/bench_threads.py): idle, a second
# thread gains 5-25% below this size (and 35-45% above it); with another
# process on the other core it costs 1.4-8x at every size. So only steps this
# big risk it; smaller ones stay immune.
SMALL_STEP_WORK = 10_000_000


class DivergedError(ValueError):
    """The training loss became NaN or infinite."""


class TensorData:
    """Tensors made once on the training device, and the rows a split uses.

    Parameters
    ----------
    X, y : torch.Tensor
        All training rows.
    weight : torch.Tensor or None
        Per-sample weights; ``None`` when all are equal.
    rows : torch.Tensor or None
        Indices of this split's rows, or ``None`` for all of them (no copy).
    """

    def __init__(self, X, y, weight=None, rows=None):
        self.X, self.y, self.weight, self.rows = X, y, weight, rows

    def __len__(self) -> int:
        return len(self.X) if self.rows is None else len(self.rows)

    def subset(self, rows: torch.Tensor) -> "TensorData":
        return TensorData(self.X, self.y, self.weight, rows)

    def take(self, index):
        """``(X, y, weight)`` of the given rows (a slice is a view)."""
        y = None if self.y is None else self.y[index]
        w = None if self.weight is None else self.weight[index]
        return self.X[index], y, w


class BatchIterator:
    """Mini-batches of a :class:`TensorData` by index slicing.

    One batch covering every row is the data itself; without shuffling the
    batches are views. ``min_batch=2`` folds a last batch of one row into the
    one before it, since batch normalisation cannot train on a single row
    (``batch_size`` itself is at least ``min_batch``: the estimator checks).
    """

    def __init__(self, data, batch_size, shuffle, generator, min_batch=1):
        self.data = data
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.min_batch = min_batch

    def _bounds(self) -> list[tuple[int, int]]:
        n, size = len(self.data), self.batch_size
        starts = list(range(0, n, size))
        if len(starts) > 1 and n - starts[-1] < self.min_batch:
            starts.pop()
        return list(zip(starts, [*starts[1:], n], strict=True))

    def __len__(self) -> int:
        return len(self._bounds())

    def __iter__(self) -> Iterator[tuple]:
        data, bounds = self.data, self._bounds()
        if len(bounds) == 1 and data.rows is None:
            yield data.X, data.y, data.weight
            return
        if self.shuffle:
            order = torch.randperm(len(data), generator=self.generator)
            order = order.to(data.X.device, non_blocking=True)
            if data.rows is not None:
                order = data.rows[order]
        else:
            order = data.rows
        for start, stop in bounds:
            index = slice(start, stop) if order is None else order[start:stop]
            yield data.take(index)


def _listens_to_batches(callback) -> bool:
    return any(
        getattr(type(callback), event) is not getattr(Callback, event)
        for event in _BATCH_EVENTS
    )


class SkdeepNet(NeuralNet):
    """A skorch ``NeuralNet`` training on :class:`TensorData` splits.

    ``partial_fit`` takes ``X=(train, valid)``, two :class:`TensorData` (the
    second may be ``None``). The estimator configures it through plain
    attributes, all picklable:

    * ``optimizer`` (a name or class), ``lr`` (``None``: the optimizer's
      default), ``momentum`` and ``weight_decay`` (applied to weights only);
    * ``score`` (``"accuracy"``, ``"subset_accuracy"``, ``"r2"`` or ``None``)
      for the validation split;
    * ``shuffle``, ``min_batch`` and ``generator`` for the batches.
    """

    momentum = 0.9
    weight_decay = 0.0
    score = None
    shuffle = True
    min_batch = 1
    generator = None

    @property
    def _default_callbacks(self):
        # Losses are recorded per epoch by ``run_single_epoch`` itself, so
        # skorch's per-batch PassthroughScoring callbacks are not needed;
        # PrintLog formats a table every epoch even when silent: only if asked.
        callbacks = [("epoch_timer", EpochTimer())]
        if self.verbose:
            callbacks.append(("print_log", PrintLog()))
        return callbacks

    def __getstate__(self):
        state = super().__getstate__()
        # ``module`` is the very instance ``module_`` was built from. skorch
        # pickles ``module_`` so that it loads on a CPU-only machine; pickled
        # again as ``module``, it would double the size and fail to load there.
        state["module"] = None
        return state

    def initialize_criterion(self):
        super().initialize_criterion()
        # The same loss per sample, for weighted batches.
        self.per_sample_criterion_ = type(self.criterion_)(reduction="none")
        return self

    def initialize_optimizer(self, triggered_directly=None):
        params = [p for p in self.module_.parameters() if p.requires_grad]
        if self.weight_decay:  # decay the weights, not biases or norms
            decay = [p for p in params if p.ndim > 1]
            no_decay = [p for p in params if p.ndim <= 1]
            groups = [
                {"params": decay, "weight_decay": self.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ]
            groups = [group for group in groups if group["params"]]
        else:  # one group: a fused step then costs one kernel launch fewer
            groups = [{"params": params}]
        self.optimizer_ = make_optimizer(
            self.optimizer,
            groups,
            learning_rate=self.lr,
            momentum=self.momentum,
            device=torch.device(self.device),
        )
        return self

    def initialize_history(self):
        super().initialize_history()
        self.best_values_ = {}
        return self

    def batch_loss(self, output, y, weight):
        """Mean loss of a batch, weighted by ``weight`` when given."""
        if weight is None:
            return self.criterion_(output, y)
        per_sample = self.per_sample_criterion_(output, y)
        if per_sample.ndim > 1:
            per_sample = per_sample.flatten(1).mean(1)
        # A batch of zero-weight rows weighs nothing: loss 0, no gradient.
        return per_sample @ weight / _positive(weight.sum())

    def valid_score(self, output, y, weight) -> float:
        """The validation score scikit-learn's estimator would report."""
        if self.score == "r2":  # averaged over outputs, as r2_score does
            residual = _weighted_mean((y - output) ** 2, weight)
            total = _weighted_mean((y - _weighted_mean(y, weight)) ** 2, weight)
            r2 = torch.where(total > 0, 1 - residual / total, 0.0)
            return float(r2.mean())
        if self.score == "subset_accuracy":
            correct = ((output > 0) == (y > 0.5)).all(dim=1)
        else:
            correct = output.argmax(dim=1) == y
        return float(_weighted_mean(correct.to(output.dtype), weight))

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.batch_events_ = any(_listens_to_batches(cb) for _, cb in self.callbacks_)

    def get_split_datasets(self, X, y=None, **fit_params):
        return X

    def get_iterator(self, dataset, training=False):
        if not training:
            return dataset
        return BatchIterator(
            dataset, self.batch_size, self.shuffle, self.generator, self.min_batch
        )

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        if training:
            loss = self._train_epoch(iterator)
        else:
            loss = self._valid_epoch(iterator)
        self._record(prefix + "_loss", loss, lower_is_better=True)
        if not math.isfinite(loss):
            epoch = len(self.history)
            raise DivergedError(
                f"The {prefix} loss became {loss} at epoch {epoch}: training "
                "diverged. Use a lower learning_rate (or standardise X / y)."
            )

    def _record(self, key, value, lower_is_better):
        """Record an epoch value and whether it is the best so far."""
        best = self.best_values_.get(key)
        improved = best is None or (value < best if lower_is_better else value > best)
        if improved:
            self.best_values_[key] = value
        self.history.record(key, value)
        self.history.record(key + "_best", bool(improved))

    def _train_epoch(self, batches) -> float:
        self.module_.train()
        events = self.batch_events_
        losses, sizes = [], []
        for batch in batches:
            if events:
                self.notify("on_batch_begin", batch=batch, training=True)
            loss, size = self._train_batch(*batch)
            losses.append(loss)
            sizes.append(size)
            if events:
                self.history.record_batch("train_loss", loss.item())
                self.history.record_batch("train_batch_size", len(batch[0]))
                self.notify("on_batch_end", batch=batch, training=True, loss=loss)
        self.history.record("train_batch_count", len(losses))
        stacked = torch.stack(losses)
        if torch.is_tensor(sizes[0]):
            sizes = torch.stack(sizes)
        else:
            sizes = torch.tensor(sizes, dtype=stacked.dtype, device=stacked.device)
        # The only device sync of the epoch.
        return float(stacked @ sizes / _positive(sizes.sum()))

    def _train_batch(self, X, y, weight):
        """One optimisation step; returns the detached loss and batch weight."""
        optimizer = self.optimizer_
        optimizer.zero_grad(set_to_none=True)
        loss = self.batch_loss(self.module_(X), y, weight)
        loss.backward()
        if self.batch_events_:
            self.notify(
                "on_grad_computed",
                named_parameters=list(self.module_.named_parameters()),
                batch=(X, y, weight),
                training=True,
            )
        optimizer.step()
        size = len(X) if weight is None else weight.sum()
        return loss.detach(), size

    def _valid_epoch(self, data) -> float:
        X, y, weight = data.take(data.rows)
        output = self.predict_output(X)
        loss = self.batch_loss(output, y, weight).item()
        if self.score is not None:
            self._record("valid_score", self.valid_score(output, y, weight), False)
        return loss

    def predict_output(
        self, X: torch.Tensor, *, features: bool = False, chunk_rows: int = 8192
    ) -> torch.Tensor:
        """Forward ``X`` in evaluation mode, in chunks that bound memory.

        ``features=True`` stops at the last hidden layer (``module_.features``).
        """
        module = self.module_
        if module.training:  # eval() walks every submodule: not per call
            module.eval()
        forward = module.features if features else module
        with torch.inference_mode():
            if len(X) <= chunk_rows:
                return forward(X)
            chunks = range(0, len(X), chunk_rows)
            return torch.cat([forward(X[i : i + chunk_rows]) for i in chunks])


def build_net(net_class, module, criterion, estimator, batch_size):
    """An initialised ``net_class`` configured from an estimator's parameters.

    Reads the parameters every family shares: ``optimizer``,
    ``learning_rate``, ``momentum``, ``alpha`` (weight decay), ``verbose``
    and the resolved ``device_``.
    """
    net = net_class(
        module=module,
        criterion=criterion,
        optimizer=estimator.optimizer,
        lr=estimator.learning_rate,
        batch_size=batch_size,
        train_split=None,
        verbose=estimator.verbose,
        device=estimator.device_,
    )
    net.momentum = estimator.momentum
    net.weight_decay = estimator.alpha
    return net


def _weighted_mean(values, weight):
    if weight is None:
        return values.mean(dim=0)
    return torch.tensordot(weight, values, dims=1) / _positive(weight.sum())


def _positive(total: torch.Tensor) -> torch.Tensor:
    """A sum of weights, kept from zero so that 0 / 0 gives 0, not NaN."""
    return total.clamp_min(torch.finfo(total.dtype).tiny)


def num_threads(step_work: float) -> int:
    """Intra-op threads for a training step of ``step_work`` multiply-adds.

    Never more than ``torch.get_num_threads()``, which already reflects
    ``OMP_NUM_THREADS``, a user's ``torch.set_num_threads`` and the limit
    joblib gives each ``GridSearchCV(n_jobs=...)`` worker.
    """
    available = torch.get_num_threads()
    return 1 if step_work < SMALL_STEP_WORK else available


@contextlib.contextmanager
def torch_threads(n: int):
    """Use ``n`` intra-op threads inside the block, then restore."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            torch.set_num_threads(before)
