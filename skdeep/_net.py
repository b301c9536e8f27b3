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
import copy
import math
import signal
import threading
from collections.abc import Iterator

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer
from torch.nn.modules.batchnorm import _BatchNorm

from ._log import EpochLog
from ._registry import make_optimizer
from ._threads import inference_rows

__all__ = [
    "BatchIterator",
    "DivergedError",
    "SkdeepNet",
    "TensorData",
    "TrainingInterrupted",
    "build_net",
]

_BATCH_EVENTS = ("on_batch_begin", "on_batch_end")

# Training diverged when an epoch's loss exceeds this many times the lowest
# epoch loss of the same fit call (in its first epoch: the loss it started
# from), or is not finite: far beyond any noisy epoch, and reached within a
# few epochs by a real blow-up.
EXPLOSION = 1e4

# Batch-norm statistics are recomputed after training on at most this many
# training rows (a random subset beyond it): their means and variances are
# then within a few percent of the whole set's (training's own running
# averages follow ~10 batches), and the pass costs a bounded share of a fit
# on large data (a whole pass was 12% of a 2-epoch fit on 10,000 images).
RECALIBRATION_ROWS = 2048


class DivergedError(ValueError):
    """Training diverged: a monitored loss became NaN or infinite, or the
    training loss exceeded ``EXPLOSION`` times its lowest epoch value in the
    same fit call (in the first epoch, the loss the call started from).

    Attributes
    ----------
    quantity : str
        What diverged (``"train loss"``, ``"reconstruction error"``...).
    value : float
        Its value.
    epoch : int
        The epoch (1-based, counted over the estimator's life).
    """

    def __init__(self, quantity: str, value: float, epoch: int, hint: str):
        self.quantity, self.value, self.epoch = quantity, value, epoch
        super().__init__(
            f"The {quantity} became {value} at epoch {epoch}: training diverged. {hint}"
        )


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training after at least one completed epoch.

    The estimator keeps the completed epochs (``n_iter_``, ``loss_curve_``
    and ``history_`` agree; the weights are the best completed epoch's);
    the interrupt then propagates, so a script, a grid search or the
    ``skdeep`` command stops while a notebook keeps the model.
    """


class TensorData:
    """Tensors made once on the training device, and the rows a split uses.

    Parameters
    ----------
    inputs : tuple of torch.Tensor
        The module's inputs for all rows, first dimension the sample:
        ``(X,)``, or ``(X, lengths)`` for right-padded sequences.
    y : torch.Tensor or None
        Targets of all rows.
    weight : torch.Tensor or None
        Per-sample weights; ``None`` when all are equal.
    rows : torch.Tensor or None
        Indices of this split's rows, or ``None`` for all of them (no copy).
    lengths : torch.Tensor or None
        Sequence lengths on the CPU, for padded sequences: a batch is then
        trimmed to its longest row (on the host, so no device sync).
    """

    def __init__(self, inputs, y=None, weight=None, rows=None, lengths=None):
        self.inputs, self.y, self.weight = tuple(inputs), y, weight
        self.rows, self.lengths = rows, lengths

    @property
    def device(self) -> torch.device:
        return self.inputs[0].device

    def __len__(self) -> int:
        return len(self.inputs[0]) if self.rows is None else len(self.rows)

    def subset(self, rows: torch.Tensor) -> "TensorData":
        """The same tensors, restricted to ``rows`` (CPU indices)."""
        return TensorData(self.inputs, self.y, self.weight, rows, self.lengths)

    def take(self, index, host_index=None) -> tuple:
        """``(inputs, y, weight)`` of the given rows (a slice is a view).

        ``index`` lives on the data's device; ``host_index`` is the same
        rows on the CPU (defaults to ``index``), for trimming padded rows.
        """
        host = index if host_index is None else host_index
        if torch.is_tensor(host) and host.device.type != "cpu":
            host = host.cpu()
        # Tensors kept on the CPU (sequence lengths, which packing reads on
        # the host) take the host index: no device round trip.
        first = self.inputs[0]
        if self.lengths is not None:  # gather only the batch's longest steps
            lengths = self.lengths[host]
            longest = int(lengths.max()) if len(lengths) else 0
            first = first[index, :longest]
        else:
            first = first[index]
        inputs = [first] + [
            t[host] if t.device.type == "cpu" else t[index] for t in self.inputs[1:]
        ]
        y = None if self.y is None else self.y[index]
        w = None if self.weight is None else self.weight[index]
        return tuple(inputs), y, w

    def chunks(self, rows: int) -> Iterator[tuple]:
        """``take`` of successive chunks of at most ``rows`` rows, in order."""
        order, device = self.rows, self.device
        n = len(self)
        if order is None and n <= rows:
            yield self.take(slice(None))
            return
        for start in range(0, n, rows):
            if order is None:
                yield self.take(slice(start, start + rows))
            else:
                host = order[start : start + rows]
                yield self.take(host.to(device, non_blocking=True), host)


class BatchIterator:
    """Mini-batches of a :class:`TensorData` by index slicing.

    One batch covering every row is the data itself; without shuffling the
    batches are views. ``min_batch=2`` folds a last batch of one row into the
    one before it, since batch normalisation cannot train on a single row
    (``batch_size`` itself is at least ``min_batch``: the estimator checks).
    The order is drawn on the CPU from ``generator``, so it does not depend
    on the device.
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
            yield data.take(slice(None))
            return
        if self.shuffle:
            order = torch.randperm(len(data), generator=self.generator)
            if data.rows is not None:
                order = data.rows[order]
        else:
            order = data.rows
        device_order = None
        if order is not None:
            device_order = order.to(data.device, non_blocking=True)
        for start, stop in bounds:
            if order is None:
                yield data.take(slice(start, stop))
            else:
                yield data.take(device_order[start:stop], order[start:stop])


def _listens_to(callback, events) -> bool:
    return any(
        getattr(type(callback), event) is not getattr(Callback, event)
        for event in events
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
    * ``shuffle``, ``min_batch`` and ``generator`` for the batches;
    * ``clip_grad_norm``: clip the gradients' global norm before each step;
    * ``divergence_hint``: what the error says to do when the loss diverges;
    * ``stage``: the line that heads the epoch table when ``verbose``.

    Each epoch records ``train_loss`` (and ``valid_loss`` / ``valid_score``)
    and ``lr``, the learning rate the epoch trained with.
    """

    momentum = 0.9
    weight_decay = 0.0
    clip_grad_norm = None
    constant_loss_ = None
    score = None
    shuffle = True
    min_batch = 1
    generator = None
    stage = ""

    @property
    def _default_callbacks(self):
        # Losses are recorded per epoch by ``run_single_epoch`` itself, so
        # skorch's per-batch PassthroughScoring callbacks are not needed;
        # PrintLog formats a table every epoch even when silent: only if asked.
        callbacks = [("epoch_timer", EpochTimer())]
        if self.verbose:
            callbacks.append(("print_log", EpochLog(self.stage)))
        return callbacks

    def __getstate__(self):
        state = super().__getstate__()
        # ``module`` is the very instance ``module_`` was built from. skorch
        # pickles ``module_`` so that it loads on a CPU-only machine; pickled
        # again as ``module``, it would double the size and fail to load there.
        state["module"] = None
        # A learning-rate scheduler holds the optimizer, hence the weights:
        # pickled outside skorch's CUDA-to-CPU path, it would double the size
        # and fail to load without CUDA. It is rebuilt at the next fit.
        for key in ("callbacks", "callbacks_"):
            if state.get(key):
                state[key] = [_without_scheduler(item) for item in state[key]]
        return state

    def partial_fit(self, X, y=None, classes=None, **fit_params):
        """skorch's ``partial_fit``, except that Ctrl-C is not swallowed.

        A callback stops training by raising ``KeyboardInterrupt`` (skorch's
        way, early stopping's too): that ends the loop quietly. A real Ctrl-C
        (SIGINT, seen by a handler installed for the call) drops the
        interrupted epoch's incomplete history row, still notifies the train
        end (early stopping restores its best weights), then propagates.
        """
        if not self.initialized_:
            self.initialize()
        self.notify("on_train_begin", X=X, y=y)
        try:
            with _sigint_seen() as ctrl_c:
                self.fit_loop(X, y, **fit_params)
        except KeyboardInterrupt:
            if ctrl_c:
                if self.history and "dur" not in self.history[-1]:
                    del self.history[-1]  # the epoch EpochTimer did not close
                    self._load_best_weights()  # not the cut epoch's steps
                if self.history:  # else nothing trained: the fit is undone
                    self.notify("on_train_end", X=X, y=y)
                raise
        self.notify("on_train_end", X=X, y=y)
        return self

    def _load_best_weights(self) -> None:
        stopper = dict(self.callbacks_).get("early_stopping")
        best = getattr(stopper, "best_model_weights_", None)
        if getattr(stopper, "load_best", False) and best is not None:
            self.module_.load_state_dict(best)

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
        callbacks = [cb for _, cb in self.callbacks_]
        # Each kind of per-batch work (a loss sync, a parameter list) is paid
        # for only when some callback listens to it.
        self.batch_events_ = any(_listens_to(cb, _BATCH_EVENTS) for cb in callbacks)
        self.grad_events_ = any(
            _listens_to(cb, ("on_grad_computed",)) for cb in callbacks
        )
        self.call_best_loss_ = math.inf  # the first epoch of a call sets it
        self.call_start_loss_ = None

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
            self.history.record("lr", self.optimizer_.param_groups[0]["lr"])
        else:
            loss = self._valid_epoch(iterator)
        # References: this call's lowest epoch loss (a new data set moves it)
        # and, for the first epoch, which may blow up before any lower loss
        # is seen, where the call started: the loss before its first step
        # (on the first batch) or a constant prediction's on the training
        # rows, whichever is higher (a net far off on unscaled X starts high
        # without diverging).
        start = max(self.call_start_loss_ or 0.0, self.constant_loss_ or 0.0)
        best = min(self.call_best_loss_, start or math.inf)
        self._record(prefix + "_loss", loss, lower_is_better=True)
        exploded = training and loss > EXPLOSION * max(best, 1e-3)
        if training:
            self.call_best_loss_ = min(self.call_best_loss_, loss)
        if not math.isfinite(loss) or exploded:
            raise DivergedError(
                f"{prefix} loss", loss, len(self.history), self.divergence_hint
            )

    divergence_hint = "Use a lower learning_rate (or standardise X / y)."

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
                self.history.record_batch("train_batch_size", len(batch[1]))
                self.notify("on_batch_end", batch=batch, training=True, loss=loss)
        self.history.record("train_batch_count", len(losses))
        stacked = torch.stack(losses)
        if torch.is_tensor(sizes[0]):
            sizes = torch.stack(sizes)
        else:
            sizes = torch.tensor(sizes, dtype=stacked.dtype, device=stacked.device)
        mean = stacked @ sizes / _positive(sizes.sum())
        if self.call_start_loss_ is None:  # the loss before the call's first step
            self.call_start_loss_, mean = torch.stack([stacked[0], mean]).tolist()
            return mean
        return float(mean)  # the only device sync of the epoch

    def _train_batch(self, inputs, y, weight):
        """One optimisation step; returns the detached loss and batch weight."""
        optimizer = self.optimizer_
        optimizer.zero_grad(set_to_none=True)
        loss = self.batch_loss(self.module_(*inputs), y, weight)
        loss.backward()
        if self.clip_grad_norm is not None:
            # Scales by min(1, max / norm) on the device: no sync.
            torch.nn.utils.clip_grad_norm_(
                self.module_.parameters(), self.clip_grad_norm, foreach=True
            )
        if self.grad_events_:
            self.notify(
                "on_grad_computed",
                named_parameters=list(self.module_.named_parameters()),
                batch=(inputs, y, weight),
                training=True,
            )
        optimizer.step()
        size = len(y) if weight is None else weight.sum()
        return loss.detach(), size

    def _valid_epoch(self, data) -> float:
        output = self.infer(data)
        rows = data.rows.to(data.device)
        y = data.y[rows]
        weight = None if data.weight is None else data.weight[rows]
        loss = self.batch_loss(output, y, weight).item()
        if self.score is not None:
            self._record("valid_score", self.valid_score(output, y, weight), False)
        return loss

    @torch.no_grad()
    def constant_loss(self, data: TensorData) -> float | None:
        """The loss of the best constant output on ``data``: a floor to beat.

        Class frequencies as logits (cross-entropy), label frequencies
        (multilabel), the mean (squared error, Huber) or the median
        (absolute error) of the targets; ``None`` for another criterion.
        """
        rows = slice(None) if data.rows is None else data.rows.to(data.device)
        y = data.y[rows]
        weight = None if data.weight is None else data.weight[rows]
        w = torch.ones(len(y), dtype=self.module_dtype, device=y.device)
        w = w if weight is None else weight
        criterion = self.criterion_
        if isinstance(criterion, torch.nn.CrossEntropyLoss):
            n_classes = int(y.max()) + 1  # classes beyond weigh nothing
            counts = torch.zeros(n_classes, dtype=w.dtype, device=w.device)
            counts.index_add_(0, y, w)
            output = torch.log(counts / counts.sum()).clamp_min(-1e4)
        elif isinstance(criterion, torch.nn.BCEWithLogitsLoss):
            share = (w @ y / w.sum()).clamp(1e-6, 1 - 1e-6)
            output = torch.log(share / (1 - share))
        elif isinstance(criterion, torch.nn.L1Loss):
            output = y.median(dim=0).values
        elif isinstance(criterion, torch.nn.MSELoss | torch.nn.HuberLoss):
            output = w @ y / w.sum()
        else:
            return None
        return float(self.batch_loss(output.expand(len(y), -1), y, weight))

    @property
    def module_dtype(self) -> torch.dtype:
        return next(self.module_.parameters()).dtype

    @torch.no_grad()
    def recalibrate_batch_norm(self, data: TensorData):
        """Recompute every batch norm's statistics on the rows of ``data``.

        The running averages kept during training follow the last few
        mini-batches; on small data they can be far from the statistics of
        the whole training set, which is what evaluation should use. Each
        batch norm sees the rows in training mode (normalised by their own
        statistics, as in training) in shuffled chunks of the training batch
        size, and keeps the row-weighted average of the chunks' means and
        variances; dropout stays off. It costs one forward pass over the
        training rows, or over ``RECALIBRATION_ROWS`` of them drawn at random
        when there are more; if interrupted, the old statistics stay.
        """
        module = self.module_
        norms = [m for m in module.modules() if isinstance(m, _BatchNorm)]
        if not norms or len(data) < 2:
            return
        saved = [copy.deepcopy(norm.state_dict()) for norm in norms]
        momenta = [norm.momentum for norm in norms]
        # Chunks in a shuffled order (sorted X would bias each chunk), each
        # weighing by its rows: momentum m / seen makes the running values
        # the row-weighted average over the chunks.
        order = torch.randperm(len(data), generator=self.generator)
        order = order[:RECALIBRATION_ROWS]
        if data.rows is not None:
            order = data.rows[order]
        module.eval()
        for norm in norms:
            norm.reset_running_stats()
            norm.train()
        seen = 0
        try:
            for inputs, _, _ in data.subset(order).chunks(max(self.batch_size, 2)):
                rows = len(inputs[0])
                if rows < 2:
                    continue
                seen += rows
                for norm in norms:
                    norm.momentum = rows / seen
                module(*inputs)
        except BaseException:  # Ctrl-C included: keep the statistics of before
            for norm, state in zip(norms, saved, strict=True):
                norm.load_state_dict(state)
            raise
        finally:
            for norm, momentum in zip(norms, momenta, strict=True):
                norm.momentum = momentum
            module.eval()

    def infer(
        self,
        data: TensorData,
        *,
        features: bool = False,
        chunk_rows: int | None = None,
    ) -> torch.Tensor:
        """The module's output (``embed`` with ``features=True``) for ``data``.

        Runs in evaluation mode, in chunks of rows that bound memory (on a
        CPU, that fit the caches: :func:`~skdeep._threads.inference_rows`).
        """
        module = self.module_
        if chunk_rows is None:
            chunk_rows = inference_rows(
                module.cost_per_sample(), data.device, padded=data.lengths is not None
            )
        if module.training:  # eval() walks every submodule: not per call
            module.eval()
        forward = module.embed if features else module
        with torch.inference_mode():
            if data.rows is None and data.lengths is None and len(data) <= chunk_rows:
                return forward(*data.inputs)  # the common case, ~5 us sooner
            if data.lengths is None or len(data) <= chunk_rows:  # nothing to sort
                return _cat(forward(*x) for x, _, _ in data.chunks(chunk_rows))
            # Sequences shortest first: each chunk is trimmed to its own
            # longest, so little padding is computed where it is not packed.
            rows = torch.arange(len(data)) if data.rows is None else data.rows
            by_length = torch.argsort(data.lengths[rows], stable=True)
            chunks = data.subset(rows[by_length]).chunks(chunk_rows)
            in_length_order = _cat(forward(*x) for x, _, _ in chunks)
            outputs = torch.empty_like(in_length_order)
            outputs[by_length.to(outputs.device)] = in_length_order
            return outputs


def _cat(outputs: Iterator[torch.Tensor]) -> torch.Tensor:
    outputs = list(outputs)
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs)


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
    net.stage = getattr(estimator, "_log_stage", None) or (
        f"{type(estimator).__name__}: training"
    )
    return net


class _Flag:
    def __init__(self):
        self.value = False

    def __bool__(self) -> bool:
        return self.value


@contextlib.contextmanager
def _sigint_seen():
    """A flag that turns true when SIGINT (Ctrl-C) arrives inside the block.

    The handler records the signal and defers to the one it replaced
    (Python's raises ``KeyboardInterrupt``). Signals reach the main thread
    only, so elsewhere nothing is installed and the flag stays false.
    """
    flag = _Flag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None or previous is signal.SIG_IGN:
        # Ignored, or handled outside Python (which we could not put back).
        yield flag
        return

    def handler(signum, frame):
        if not callable(previous):  # SIG_DFL: the program would stop
            flag.value = True
            raise KeyboardInterrupt
        try:
            previous(signum, frame)  # the program's own handler decides
        except KeyboardInterrupt:
            flag.value = True
            raise

    signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _without_scheduler(item):
    named = isinstance(item, tuple)
    callback = item[1] if named else item
    if getattr(callback, "lr_scheduler_", None) is not None:
        callback = copy.copy(callback)
        callback.lr_scheduler_ = None
    return (item[0], callback) if named else callback


def _weighted_mean(values, weight):
    if weight is None:
        return values.mean(dim=0)
    return torch.tensordot(weight, values, dims=1) / _positive(weight.sum())


def _positive(total: torch.Tensor) -> torch.Tensor:
    """A sum of weights, kept from zero so that 0 / 0 gives 0, not NaN."""
    return total.clamp_min(torch.finfo(total.dtype).tiny)
