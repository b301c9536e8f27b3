"""Deep belief networks: ``DBNTransformer``, ``DBNClassifier``, ``DBNRegressor``."""

from numbers import Integral, Real
from typing import Self

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import (
    FLOAT_DTYPES,
    preserved_dtypes,
    restored_on_error,
    set_params_from,
)
from ._compat import Interval, InvalidParameterError, StrOptions, _fit_context
from ._docs import fill_doc
from ._net import DivergedError, TrainingInterrupted
from ._registry import OPTIMIZERS
from ._supervised import NetClassifier, NetRegressor
from .dnn import _DNNMixin
from .rbm import RBM

__all__ = ["DBNClassifier", "DBNRegressor", "DBNTransformer"]

# RBM knobs a DBNTransformer takes as one value for all layers or one each.
_LAYER_KNOBS = (
    "cd_steps",
    "persistent",
    "optimizer",
    "learning_rate",
    "momentum",
    "alpha",
    "batch_size",
    "max_iter",
)


def _one_or_per_layer(*constraints) -> list:
    """One value for all layers (checked here) or a list (checked per RBM)."""
    return [*constraints, list, tuple]


class DBNTransformer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Deep belief network: RBMs stacked and trained greedily, layer by layer.

    Layer k is an :class:`RBM` trained on the hidden probabilities of the
    (frozen) layer k-1; ``transform`` returns the top layer's hidden
    probabilities. The first layer's visible units are Bernoulli (data in
    [0, 1]) or Gaussian (real-valued data, standardised inside that RBM);
    the layers above see probabilities, so theirs are Bernoulli.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Hidden units of each RBM, bottom to top.
    visible_units : {"auto", "bernoulli", "gaussian"}, default="auto"
        Visible units of the first RBM; ``"auto"`` is Bernoulli for X in
        [0, 1] and Gaussian otherwise (see :class:`RBM`).
    cd_steps : int or list of int, default=1
        Gibbs steps per update; one value for all layers or one per layer
        (so are the knobs below).
    persistent : bool or list of bool, default=True
        Persistent chains (PCD) rather than chains restarted at the data.
    optimizer : str, optimizer class, or list of them, default="sgd"
        Optimizer of each RBM (the nets' registry names).
    learning_rate : float, None or list, default=None
        Step size of each RBM; ``None`` is 0.1 for Bernoulli and 0.01 for
        Gaussian visible units.
    momentum : float or list of float, default=0.9
        Momentum of the ``"momentum"`` / ``"nesterov"`` optimizers.
    alpha : float or list of float, default=0.0
        Weight decay on each RBM's couplings.
    batch_size : int or list of int, default=10
        Rows per update.
    max_iter : int or list of int, default=10
        Epochs of each RBM.
    dtype : {"float32", "float64"} or None, default=None
        Precision of training and outputs; ``None`` follows X (see
        :class:`RBM`).
    device : str or torch.device, default="auto"
        ``"auto"`` is CUDA when available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds every layer (each gets its own seed drawn from it).
    verbose : int, default=0
        Passed to each RBM.

    Attributes
    ----------
    rbms_ : list of RBM
        The fitted layers, bottom to top; each a usable :class:`RBM`.
    n_iter_ : int
        Epochs trained, summed over the layers (``rbms_[k].n_iter_`` each).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X had string column names.

    See Also
    --------
    RBM : One layer.
    DBNClassifier : The stack fine-tuned by back-propagation.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeep import DBNTransformer
    >>> X = load_digits().data / 16
    >>> dbn = DBNTransformer((32, 16), max_iter=2, random_state=0).fit(X)
    >>> dbn.transform(X).shape
    (1797, 16)
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "visible_units": [StrOptions({"auto", "bernoulli", "gaussian"})],
        "cd_steps": _one_or_per_layer(Interval(Integral, 1, None, closed="left")),
        "persistent": _one_or_per_layer("boolean"),
        "optimizer": _one_or_per_layer(StrOptions(set(OPTIMIZERS)), type),
        "learning_rate": _one_or_per_layer(
            Interval(Real, 0, None, closed="neither"), None
        ),
        "momentum": _one_or_per_layer(Interval(Real, 0, 1, closed="both")),
        "alpha": _one_or_per_layer(Interval(Real, 0, None, closed="left")),
        "batch_size": _one_or_per_layer(Interval(Integral, 1, None, closed="left")),
        "max_iter": _one_or_per_layer(Interval(Integral, 1, None, closed="left")),
        "dtype": [StrOptions({"float32", "float64"}), None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 128),
        *,
        visible_units="auto",
        cd_steps=1,
        persistent=True,
        optimizer="sgd",
        learning_rate=None,
        momentum=0.9,
        alpha=0.0,
        batch_size=10,
        max_iter=10,
        dtype=None,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        set_params_from(self, locals())

    def _layer_params(self) -> list[dict]:
        """The keyword arguments of each layer's RBM."""
        sizes = list(np.atleast_1d(self.hidden_layer_sizes))
        if not sizes or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
            for s in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must hold at least one positive integer, got "
                f"{self.hidden_layer_sizes!r}."
            )
        per_layer = {}
        for knob in _LAYER_KNOBS:
            value = getattr(self, knob)
            if isinstance(value, list | tuple):
                if len(value) != len(sizes):
                    raise ValueError(
                        f"{knob} has {len(value)} values for {len(sizes)} layers; "
                        "give one value, or one per layer."
                    )
                per_layer[knob] = list(value)
            else:
                per_layer[knob] = [value] * len(sizes)
        return [
            {
                "n_components": int(size),
                "visible_units": self.visible_units if k == 0 else "bernoulli",
                **{knob: values[k] for knob, values in per_layer.items()},
            }
            for k, size in enumerate(sizes)
        ]

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Train the RBMs greedily, bottom to top.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data: in [0, 1] for Bernoulli visible units, standardised
            for Gaussian ones.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted network.
        """
        with restored_on_error(self):
            layers = self._layer_params()
            X = validate_data(self, X, dtype=FLOAT_DTYPES)
            self.rbms_ = self._fit_layers(X, layers)
        self.n_iter_ = sum(rbm.n_iter_ for rbm in self.rbms_)
        self._n_features_out = layers[-1]["n_components"]
        return self

    def _fit_layers(self, X, layers: list[dict]) -> list:
        """Train one RBM per layer on the layer below's hidden probabilities."""
        seeds = check_random_state(self.random_state)
        # The estimator the user fitted: a DBNClassifier pretrains through one.
        owner = getattr(self, "_log_owner", None) or type(self).__name__
        rbms, hidden = [], X
        for k, params in enumerate(layers):
            rbm = RBM(
                **params,
                dtype=self.dtype,
                device=self.device,
                random_state=seeds.randint(np.iinfo(np.int32).max),
                verbose=self.verbose,
            )
            rbm._log_stage = (
                f"{owner}: pretraining layer {k + 1} of {len(layers)} "
                f"(RBM, {hidden.shape[1]} -> {params['n_components']} units)"
            )
            try:
                rbm.fit(hidden)
            except InvalidParameterError as exc:  # a per-layer value: say whose
                raise InvalidParameterError(
                    f"{str(exc).replace(' of RBM ', ' of DBNTransformer ')} "
                    f"(layer {k + 1})"
                ) from None
            except TrainingInterrupted:
                # A part of the stack is not the network asked for: the
                # whole fit is undone, and Ctrl-C propagates as usual.
                raise KeyboardInterrupt from None
            except DivergedError as exc:
                raise DivergedError(
                    f"{exc.quantity} of the RBM of layer {k + 1}",
                    exc.value,
                    exc.epoch,
                    "Use a lower learning_rate.",
                ) from None
            finally:
                del rbm._log_stage  # a label for this fit only, not state
            hidden = rbm.transform(hidden)
            rbms.append(rbm)
        return rbms

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Hidden probabilities of the top layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to transform; any finite values.

        Returns
        -------
        h : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            Top-layer hidden probabilities, in the training precision.
        """
        check_is_fitted(self)
        h = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
        for rbm in self.rbms_:
            h = rbm.transform(h)
        return h

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = preserved_dtypes(self)
        return tags


class _DBNMixin(_DNNMixin):
    """A DNN whose hidden layers start from a greedily pretrained RBM stack."""

    @property
    def _log_stage(self) -> str | None:
        if self.pretrain and len(np.atleast_1d(self.hidden_layer_sizes)):
            return f"{type(self).__name__}: fine-tuning"
        return None

    def _initialize_weights(self, module, data, seed):
        self.dbn_ = None
        if not self.pretrain:
            return
        sizes = [layer.out_features for layer in _linear_layers(module)[:-1]]
        if not sizes:
            return
        dbn = DBNTransformer(
            sizes,
            visible_units=self.visible_units,
            learning_rate=self.pretrain_learning_rate,
            batch_size=self.pretrain_batch_size,
            max_iter=self.pretrain_max_iter,
            dtype=self._dtype.name,
            device=self.device_,
            random_state=seed,
            verbose=self.verbose,
        )
        dbn._log_owner = type(self).__name__
        rows = slice(None) if data.rows is None else data.rows.numpy()
        X = data.inputs[0].cpu().numpy()[rows]
        weight = None if data.weight is None else data.weight.cpu().numpy()[rows]
        try:
            self.dbn_ = dbn.fit(_pretraining_rows(X, weight, seed))
        except DivergedError as exc:  # name the parameter this estimator has
            raise DivergedError(
                exc.quantity,
                exc.value,
                exc.epoch,
                "Use a lower pretrain_learning_rate.",
            ) from None
        finally:
            del dbn._log_owner  # a label for this fit only, not state
        first = dbn.rbms_[0]
        with torch.no_grad():
            for k, (linear, rbm) in enumerate(
                zip(_linear_layers(module), dbn.rbms_, strict=False)
            ):
                weight = rbm.module_.weight
                bias = rbm.module_.hidden_bias
                if k == 0 and first.visible_units_ == "gaussian":
                    # The RBM saw standardised X, the net sees X: fold the
                    # standardisation into the first layer.
                    scale = torch.as_tensor(first.scale_, dtype=weight.dtype)
                    mean = torch.as_tensor(first.mean_, dtype=weight.dtype)
                    weight = weight / scale.to(weight.device)
                    bias = bias - weight @ mean.to(weight.device)
                linear.weight.copy_(weight)
                linear.bias.copy_(bias)


# Pretraining repeats rows by their sample weights up to this many times the
# rows in all; beyond, the weights are taken relative to their mean.
MAX_REPEAT = 10


def _pretraining_rows(X: np.ndarray, weight, seed: int) -> np.ndarray:
    """The rows the RBMs pretrain on: X, each row repeated by its weight.

    Integer weights repeat rows exactly (0 drops one), so a weighted fit
    pretrains as the repeated rows would (up to ``MAX_REPEAT`` times the
    rows in all). Other weights count relative to their mean, a fractional
    part adding one more copy with that probability, so their scale does
    not matter. The rows are put in an order that depends
    on their values only, so neither X's row order nor how its duplicates
    are spread matters.
    """
    if weight is not None:
        rng = np.random.RandomState(seed)
        whole = (weight == np.floor(weight)).all()
        if not whole or weight.sum() > MAX_REPEAT * len(weight):
            # Fractional weights count relative to their mean (as in the
            # fine-tuning loss, where only their ratios matter), and so do
            # integers that would repeat rows past any sense (and memory).
            weight = weight / weight[weight > 0].mean()
        whole = np.floor(weight)
        counts = (whole + (rng.rand(len(weight)) < weight - whole)).astype(np.intp)
        if not counts.any():
            counts[np.argmax(weight)] = 1
        X = X.repeat(counts, axis=0)
    key = X @ np.random.RandomState(0).rand(X.shape[1])
    return X[np.argsort(key, kind="stable")]


def _linear_layers(module) -> list[torch.nn.Linear]:
    return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


_DBN_CONSTRAINTS = {
    "pretrain": ["boolean"],
    "pretrain_max_iter": [Interval(Integral, 1, None, closed="left")],
    "pretrain_learning_rate": [Interval(Real, 0, None, closed="neither"), None],
    "pretrain_batch_size": [Interval(Integral, 1, None, closed="left")],
    "visible_units": [StrOptions({"auto", "bernoulli", "gaussian"})],
}


@fill_doc
class DBNClassifier(_DBNMixin, NetClassifier):
    """Deep belief network classifier: RBM-pretrained MLP, fine-tuned.

    The hidden layers are pretrained greedily as a stack of RBMs
    (:class:`DBNTransformer`), their weights copied into an MLP with sigmoid
    units, an output layer added, and the whole network fine-tuned by
    back-propagation with every knob of the DNN family. ``pretrain`` is one
    grid axis: ``False`` trains the same network from a random start.

    Parameters
    ----------
    {dbn_params}
    {net_params}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight``:
        a dict's keys must be classes of y and its values finite and >= 0
        (no dict for a multilabel y).

    Attributes
    ----------
    dbn_ : DBNTransformer or None
        The pretrained stack (``None`` when ``pretrain=False``).
    {net_attributes}

    See Also
    --------
    DBNRegressor : The same network for regression.
    DBNTransformer : The unsupervised stack alone.

    Notes
    -----
    {threads_note}
    """

    _parameter_constraints: dict = {
        **NetClassifier._parameter_constraints,
        **_DBN_CONSTRAINTS,
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 128),
        activation="sigmoid",
        *,
        pretrain=True,
        pretrain_max_iter=10,
        pretrain_learning_rate=None,
        pretrain_batch_size=10,
        visible_units="auto",
        dropout=0.0,
        batch_norm=False,
        optimizer="adam",
        learning_rate=None,
        momentum=0.9,
        alpha=1e-4,
        batch_size=32,
        max_iter=200,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        lr_schedule=None,
        class_weight=None,
        dtype=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        set_params_from(self, locals())


@fill_doc
class DBNRegressor(_DBNMixin, NetRegressor):
    """Deep belief network regressor: RBM-pretrained MLP, fine-tuned.

    The hidden layers are pretrained greedily as a stack of RBMs
    (:class:`DBNTransformer`), their weights copied into an MLP with sigmoid
    units, an output layer added, and the whole network fine-tuned by
    back-propagation with every knob of the DNN family. ``pretrain`` is one
    grid axis: ``False`` trains the same network from a random start.

    Parameters
    ----------
    {dbn_params}
    {net_params}
    {regression_loss}

    Attributes
    ----------
    dbn_ : DBNTransformer or None
        The pretrained stack (``None`` when ``pretrain=False``).
    {net_attributes}

    See Also
    --------
    DBNClassifier : The same network for classification.
    DBNTransformer : The unsupervised stack alone.

    Notes
    -----
    {threads_note}
    """

    _parameter_constraints: dict = {
        **NetRegressor._parameter_constraints,
        **_DBN_CONSTRAINTS,
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 128),
        activation="sigmoid",
        *,
        pretrain=True,
        pretrain_max_iter=10,
        pretrain_learning_rate=None,
        pretrain_batch_size=10,
        visible_units="auto",
        dropout=0.0,
        batch_norm=False,
        optimizer="adam",
        learning_rate=None,
        momentum=0.9,
        alpha=1e-4,
        batch_size=32,
        max_iter=200,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        lr_schedule=None,
        loss="squared_error",
        dtype=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        set_params_from(self, locals())
