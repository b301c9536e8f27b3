"""Restricted Boltzmann machine transformer: ``RBM``."""

from numbers import Integral, Real
from typing import Self

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import (
    FLOAT_DTYPES,
    TorchEstimator,
    interruptible,
    preserved_dtypes,
    seeded,
    set_params_from,
    to_tensor,
)
from ._compat import Interval, StrOptions, _fit_context
from ._contrastive import MONITOR_ROWS, RBMNet, pseudo_log_likelihood
from ._net import build_net
from ._registry import OPTIMIZERS
from ._threads import num_threads, torch_threads
from .modules import RBM as RBMModule

__all__ = ["RBM", "visible_units_of"]

#: Default learning rate of each visible unit type (``learning_rate=None``):
#: Gaussian units see standardised, unbounded data and need smaller steps.
DEFAULT_LEARNING_RATES = {"bernoulli": 0.1, "gaussian": 0.01}


def visible_units_of(X: np.ndarray) -> str:
    """``"bernoulli"`` for X in [0, 1] up to float rounding, else ``"gaussian"``."""
    tol = _rounding(X.dtype)
    return "bernoulli" if X.min() >= -tol and X.max() <= 1 + tol else "gaussian"


def _rounding(dtype) -> float:
    # A few ulps of 1: what a MinMaxScaler's float arithmetic can overshoot by.
    return 16 * float(np.finfo(dtype).eps)


class RBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, TorchEstimator):
    """Restricted Boltzmann machine with Bernoulli or Gaussian visible units.

    Trained by contrastive divergence (CD-k, or persistent PCD-k) with any
    torch optimizer. A drop-in for scikit-learn's ``BernoulliRBM`` (same
    fitted attributes, same ``transform``), plus Gaussian visible units for
    standardised real-valued data, k-step chains, momentum / Adam / weight
    decay, GPU training, and an exact, deterministic ``score_samples``.

    Parameters
    ----------
    n_components : int, default=256
        Number of hidden units.
    visible_units : {"auto", "bernoulli", "gaussian"}, default="auto"
        ``"bernoulli"`` for data in [0, 1] (``fit`` checks the range, up to
        float rounding); ``"gaussian"`` for real-valued data, standardised
        internally (the fitted ``mean_`` and ``scale_`` are applied in
        ``transform``, ``gibbs``, ``score_samples`` and undone in
        ``inverse_transform`` and ``reconstruct``), so it trains at the
        default rate on any scale. ``"auto"`` picks Bernoulli when the
        training X lies in [0, 1], Gaussian otherwise (``visible_units_``).
    cd_steps : int, default=1
        Gibbs steps per update (the k of CD-k).
    persistent : bool, default=True
        Keep the Gibbs chain between updates (PCD, as ``BernoulliRBM``)
        instead of restarting it at the data (CD).
    optimizer : str or type of torch.optim.Optimizer, default="sgd"
        Any name of the nets' registry (``"sgd"``, ``"momentum"``,
        ``"adam"``, ...) or a ``torch.optim.Optimizer`` subclass.
    learning_rate : float or None, default=None
        Step size; ``None`` is 0.1 for Bernoulli and 0.01 for Gaussian
        visible units.
    momentum : float, default=0.9
        Momentum of ``optimizer="momentum"`` / ``"nesterov"``.
    alpha : float, default=0.0
        Weight decay on the couplings ``components_`` (L2).
    batch_size : int, default=10
        Rows per update.
    max_iter : int, default=10
        Epochs over the training data.
    dtype : {"float32", "float64"} or None, default=None
        Precision of training and outputs; ``None`` follows X (float32 X
        stays float32, anything else is float64) on the CPU, and is float32
        on an accelerator.
    device : str or torch.device, default="auto"
        ``"auto"`` is CUDA when available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and the Gibbs sampling.
    verbose : int, default=0
        ``1`` prints the monitoring curve each epoch.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Couplings ``W`` between hidden and visible units.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases (in standardised units for Gaussian visible units).
    visible_units_ : {"bernoulli", "gaussian"}
        The visible units trained.
    mean_, scale_ : ndarray of shape (n_features,) or None
        Per-feature mean and scale that standardise X for Gaussian visible
        units (from the first ``fit`` / ``partial_fit`` call); ``None`` for
        Bernoulli units.
    n_iter_ : int
        Epochs trained.
    reconstruction_error_curve_ : list of float
        Per epoch: mean squared distance between rows and their mean-field
        reconstruction ``E[v | P(h | v)]``, on up to 256 training rows (in
        standardised units for Gaussian visible units).
    pseudo_likelihood_curve_ : list of float or None
        Per epoch, Bernoulli units only: mean exact pseudo-log-likelihood of
        the same rows.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X had string column names.
    device_ : str
        The device the machine was trained on.
    net_ : skorch.NeuralNet
        The skorch net holding the module, optimizer and history.
    module_ : skdeep.modules.RBM
        The trained torch module.
    history_ : skorch.History
        One record per epoch.

    See Also
    --------
    DBNTransformer : RBMs stacked greedily.
    sklearn.neural_network.BernoulliRBM : scikit-learn's numpy RBM.

    Notes
    -----
    ``score_samples`` returns, for Bernoulli units, the exact
    pseudo-log-likelihood ``sum_i log P(v_i | v_-i)``: every feature flipped
    in turn, which ``BernoulliRBM.score_samples`` estimates by flipping one
    random feature (times ``n_features``). It is deterministic and depends on
    each row alone. For Gaussian units it returns the negative free energy
    ``-F(v)`` of the standardised row, the log-density up to a constant
    (the model's unknown log-partition): comparable between rows of one
    model, not between models.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skdeep import RBM
    >>> X = load_digits().data / 16
    >>> rbm = RBM(n_components=32, max_iter=2, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (1797, 32)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "visible_units": [StrOptions({"auto", "bernoulli", "gaussian"})],
        "cd_steps": [Interval(Integral, 1, None, closed="left")],
        "persistent": ["boolean"],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=256,
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

    # -- fitted state (views of the module, never stale) ---------------------

    @property
    def components_(self) -> np.ndarray:
        return self.module_.weight.detach().cpu().numpy().copy()

    @property
    def intercept_hidden_(self) -> np.ndarray:
        return self.module_.hidden_bias.detach().cpu().numpy().copy()

    @property
    def intercept_visible_(self) -> np.ndarray:
        return self.module_.visible_bias.detach().cpu().numpy().copy()

    # -- training -----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: object = None) -> Self:
        """Train the machine on X for ``max_iter`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data: in [0, 1] for Bernoulli units, any real values
            for Gaussian ones.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted machine.
        """
        return self._fit(X, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: ArrayLike, y: object = None) -> Self:
        """Train one epoch over X, continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The machine.
        """
        return self._fit(X, incremental=True)

    def _fit(self, X, *, incremental: bool):
        reset = not (incremental and hasattr(self, "net_"))
        with self._fit_call(continuing=not reset):
            X = validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES)
            seed, device = self._start_fit(reset, X.dtype)
            if reset:
                self._fit_visible_units(X)
            v = self._visible(X, training=True)
            data = self._to_data((v,), device)
            rows = np.random.RandomState(seed).permutation(len(v))[:MONITOR_ROWS]
            monitor = data.inputs[0][torch.as_tensor(rows, device=device)]
            batch_size = min(self.batch_size, len(v))
            with seeded(seed, device):
                if reset:
                    self.net_ = self._make_net(v.shape[1], batch_size)
                net = self.net_
                net.batch_size = batch_size
                net.max_epochs = 1 if incremental else self.max_iter
                net.generator = torch.Generator().manual_seed(seed)
                self._cost = net.module_.cost_per_sample()
                with interruptible(self, net, len(net.history)):
                    with torch_threads(num_threads(batch_size * self._cost)):
                        net.partial_fit((data, monitor))
                    self._set_fitted_attributes(net)
        return self

    def _set_fitted_attributes(self, net, early_stopping: bool = False) -> None:
        history = net.history
        self.n_iter_ = len(history)
        self.reconstruction_error_curve_ = list(history[:, "reconstruction_error"])
        self.pseudo_likelihood_curve_ = (
            list(history[:, "pseudo_likelihood"])
            if self.visible_units_ == "bernoulli"
            else None
        )
        self._n_features_out = self.n_components

    def _fit_visible_units(self, X: np.ndarray) -> None:
        units = self.visible_units
        self.visible_units_ = visible_units_of(X) if units == "auto" else units
        self.mean_ = self.scale_ = None
        if self.visible_units_ == "gaussian":
            self.mean_ = X.mean(axis=0)
            std = X.std(axis=0)
            # Constant features keep their scale (as StandardScaler does).
            self.scale_ = np.where(std > 10 * np.finfo(X.dtype).eps, std, 1.0)

    def _visible(self, X: np.ndarray, *, training: bool = False) -> np.ndarray:
        """X as the visible units see it: standardised, or checked in [0, 1]."""
        X = X.astype(self._dtype, copy=False)
        if self.visible_units_ == "gaussian":
            return ((X - self.mean_) / self.scale_).astype(self._dtype, copy=False)
        if training:
            tol = _rounding(X.dtype)
            if X.min() < -tol or X.max() > 1 + tol:
                raise ValueError(
                    "Bernoulli visible units need X in [0, 1], got values in "
                    f"[{X.min():.3g}, {X.max():.3g}]: scale it (MinMaxScaler) or "
                    "use visible_units='gaussian' (or 'auto') for real-valued data."
                )
            X = np.clip(X, 0.0, 1.0)  # float rounding only
        return X

    def _unstandardise(self, v: np.ndarray) -> np.ndarray:
        if self.visible_units_ != "gaussian":
            return v
        return (v * self.scale_ + self.mean_).astype(v.dtype, copy=False)

    def _make_net(self, n_features: int, batch_size: int) -> RBMNet:
        module = RBMModule(n_features, self.n_components, self.visible_units_)
        module = module.to(self._torch_dtype)
        rate = self.learning_rate
        if rate is None:
            rate = DEFAULT_LEARNING_RATES[self.visible_units_]
        net = build_net(RBMNet, module, torch.nn.MSELoss, self, batch_size)
        net.lr = rate
        net.cd_steps = self.cd_steps
        net.persistent = self.persistent
        net.divergence_hint = f"Use a lower learning_rate (it was {rate})."
        return net.initialize()

    # -- inference ----------------------------------------------------------

    def _tensor(self, X, *, hidden: bool = False) -> torch.Tensor:
        """Visible rows (standardised for Gaussian units), or hidden rows."""
        check_is_fitted(self)
        if hidden:
            X = check_array(X, dtype=self._dtype)
            if X.shape[1] != self.n_components:
                raise ValueError(
                    f"X has {X.shape[1]} columns; expected {self.n_components} "
                    "(one per hidden unit)."
                )
        else:
            X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
            X = self._visible(X)
        return to_tensor(X, torch.device(self.device_))

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Hidden-unit probabilities ``P(h = 1 | v)``: the learned features.

        Any finite values are accepted, so rows scaled by a ``MinMaxScaler``
        fitted elsewhere may fall slightly outside [0, 1].

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to transform.

        Returns
        -------
        h : ndarray of shape (n_samples, n_components)
            Hidden probabilities, in the training precision.
        """
        v = self._tensor(X)
        with torch.inference_mode():
            return self.module_(v).cpu().numpy()

    def inverse_transform(self, X: ArrayLike) -> np.ndarray:
        """Visible means ``E[v | h]`` of hidden values (probabilities or states).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Hidden-unit values.

        Returns
        -------
        v : ndarray of shape (n_samples, n_features), in the training precision
            Visible probabilities (Bernoulli) or means (Gaussian).
        """
        h = self._tensor(X, hidden=True)
        with torch.inference_mode():
            return self._unstandardise(self.module_.visible_mean(h).cpu().numpy())

    def reconstruct(self, X: ArrayLike) -> np.ndarray:
        """Mean-field reconstruction ``E[v | P(h | v)]`` of the rows of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to reconstruct.

        Returns
        -------
        v : ndarray of shape (n_samples, n_features), in the training precision
            The reconstructions.
        """
        v = self._tensor(X)
        with torch.inference_mode():
            v = self.module_.visible_mean(self.module_(v))
        return self._unstandardise(v.cpu().numpy())

    def gibbs(self, v: ArrayLike) -> np.ndarray:
        """One Gibbs sampling step ``v -> h -> v'`` (as ``BernoulliRBM.gibbs``).

        Successive calls draw fresh samples; the sequence repeats for a given
        ``random_state``.

        Parameters
        ----------
        v : array-like of shape (n_samples, n_features)
            Values of the visible units to start from.

        Returns
        -------
        v_new : ndarray of shape (n_samples, n_features), in the training precision
            Visible units after one Gibbs step: 0/1 states (Bernoulli) or
            real values (Gaussian).
        """
        v = self._tensor(v)
        device = torch.device(self.device_)
        with seeded(int(self._seeds.randint(np.iinfo(np.int32).max)), device):
            with torch.inference_mode():
                v = self.module_.gibbs(v)
        return self._unstandardise(v.cpu().numpy())

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """Exact pseudo-log-likelihood of each row (Bernoulli units); the
        negative free energy ``-F(v)`` for Gaussian units (see Notes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
            One score per row; higher is more likely.
        """
        v = self._tensor(X)
        with torch.inference_mode():
            if self.visible_units_ == "bernoulli":
                scores = pseudo_log_likelihood(self.module_, v)
            else:
                scores = -self.module_.free_energy(v)
        return scores.cpu().numpy().astype(np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = preserved_dtypes(self)
        return tags
