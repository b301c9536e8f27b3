"""Deep belief networks: ``DBNTransformer``, ``DBNClassifier``, ``DBNRegressor``."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import to_tensor
from ._compat import Interval, StrOptions, _fit_context
from ._docs import fill_doc
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
    [0, 1]) or Gaussian (standardised data); the layers above see
    probabilities, so theirs are Bernoulli.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Hidden units of each RBM, bottom to top.
    visible_units : {"bernoulli", "gaussian"}, default="bernoulli"
        Visible units of the first RBM.
    cd_steps : int or list of int, default=1
        Gibbs steps per update; one value for all layers or one per layer
        (so are the knobs below).
    persistent : bool or list of bool, default=True
        Persistent chains (PCD) rather than chains restarted at the data.
    optimizer : str, optimizer class, or list of them, default="sgd"
        Optimizer of each RBM (the nets' registry names).
    learning_rate : float, None or list, default=0.1
        Step size of each RBM; ``None`` is the optimizer's default.
    momentum : float or list of float, default=0.9
        Momentum of the ``"momentum"`` / ``"nesterov"`` optimizers.
    alpha : float or list of float, default=0.0
        Weight decay on each RBM's couplings.
    batch_size : int or list of int, default=10
        Rows per update.
    max_iter : int or list of int, default=10
        Epochs of each RBM.
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
    feature_names_in_ : ndarray of shape (n_features_in_,)
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
        "hidden_layer_sizes": ["array-like"],
        "visible_units": [StrOptions({"bernoulli", "gaussian"})],
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
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_layer_sizes=(256, 128),
        *,
        visible_units="bernoulli",
        cd_steps=1,
        persistent=True,
        optimizer="sgd",
        learning_rate=0.1,
        momentum=0.9,
        alpha=0.0,
        batch_size=10,
        max_iter=10,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.visible_units = visible_units
        self.cd_steps = cd_steps
        self.persistent = persistent
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _layer_params(self) -> list[dict]:
        """The keyword arguments of each layer's RBM."""
        sizes = list(np.atleast_1d(self.hidden_layer_sizes))
        if not sizes:
            raise ValueError("hidden_layer_sizes needs at least one layer.")
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
    def fit(self, X, y=None):
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
        layers = self._layer_params()
        X = validate_data(self, X, dtype=np.float32)
        seeds = check_random_state(self.random_state)
        self.rbms_ = []
        hidden = X
        for params in layers:
            rbm = RBM(
                **params,
                device=self.device,
                random_state=seeds.randint(np.iinfo(np.int32).max),
                verbose=self.verbose,
            )
            hidden = rbm.fit(hidden).transform(hidden)
            self.rbms_.append(rbm)
        self.n_iter_ = sum(rbm.n_iter_ for rbm in self.rbms_)
        self._n_features_out = layers[-1]["n_components"]
        return self

    def transform(self, X) -> np.ndarray:
        """Hidden probabilities of the top layer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to transform; any finite values.

        Returns
        -------
        h : ndarray of shape (n_samples, hidden_layer_sizes[-1]), dtype float32
            Top-layer hidden probabilities.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        h = to_tensor(X, torch.device(self.rbms_[0].device_))
        with torch.inference_mode():
            for rbm in self.rbms_:
                h = rbm.module_(h)
        return h.cpu().numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class _DBNMixin(_DNNMixin):
    """A DNN whose hidden layers start from a greedily pretrained RBM stack."""

    def _initialize_weights(self, module, X, seed):
        self.dbn_ = None
        if not self.pretrain:
            return
        sizes = [layer.out_features for layer in _linear_layers(module)[:-1]]
        if not sizes:
            return
        self.dbn_ = DBNTransformer(
            sizes,
            visible_units=self.visible_units,
            learning_rate=self.pretrain_learning_rate,
            batch_size=self.pretrain_batch_size,
            max_iter=self.pretrain_max_iter,
            device=self.device_,
            random_state=seed,
            verbose=self.verbose,
        ).fit(X)
        with torch.no_grad():
            for linear, rbm in zip(
                _linear_layers(module), self.dbn_.rbms_, strict=False
            ):
                linear.weight.copy_(rbm.module_.weight)
                linear.bias.copy_(rbm.module_.hidden_bias)


def _linear_layers(module) -> list[torch.nn.Linear]:
    return [m for m in module.modules() if isinstance(m, torch.nn.Linear)]


_DBN_CONSTRAINTS = {
    "pretrain": ["boolean"],
    "pretrain_max_iter": [Interval(Integral, 1, None, closed="left")],
    "pretrain_learning_rate": [Interval(Real, 0, None, closed="neither")],
    "pretrain_batch_size": [Interval(Integral, 1, None, closed="left")],
    "visible_units": [StrOptions({"bernoulli", "gaussian"})],
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
        Weights of the classes in the loss, multiplied into ``sample_weight``.

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
        pretrain_learning_rate=0.1,
        pretrain_batch_size=10,
        visible_units="bernoulli",
        dropout=0.0,
        batch_norm=False,
        optimizer="adam",
        learning_rate=None,
        momentum=0.9,
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        class_weight=None,
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            optimizer=optimizer,
            learning_rate=learning_rate,
            momentum=momentum,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            shuffle=shuffle,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            callbacks=callbacks,
        )
        self.pretrain = pretrain
        self.pretrain_max_iter = pretrain_max_iter
        self.pretrain_learning_rate = pretrain_learning_rate
        self.pretrain_batch_size = pretrain_batch_size
        self.visible_units = visible_units
        self.class_weight = class_weight


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
    loss : {{"squared_error", "absolute_error", "huber"}}, default="squared_error"
        Training loss.

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
        pretrain_learning_rate=0.1,
        pretrain_batch_size=10,
        visible_units="bernoulli",
        dropout=0.0,
        batch_norm=False,
        optimizer="adam",
        learning_rate=None,
        momentum=0.9,
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        loss="squared_error",
        device="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            optimizer=optimizer,
            learning_rate=learning_rate,
            momentum=momentum,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            shuffle=shuffle,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            device=device,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            callbacks=callbacks,
        )
        self.pretrain = pretrain
        self.pretrain_max_iter = pretrain_max_iter
        self.pretrain_learning_rate = pretrain_learning_rate
        self.pretrain_batch_size = pretrain_batch_size
        self.visible_units = visible_units
        self.loss = loss
