"""Deep (multi-layer perceptron) networks: ``DNNClassifier``, ``DNNRegressor``."""

from ._base import set_params_from
from ._docs import fill_doc
from ._registry import get_activation
from ._supervised import NetClassifier, NetRegressor
from .modules import MLP

__all__ = ["DNNClassifier", "DNNRegressor"]


class _DNNMixin:
    """The DNN family's module: an :class:`~skdeep.modules.MLP`."""

    def _build_module(self, input_shape, n_outputs):
        sizes = self._hidden_sizes()
        return MLP(
            input_shape[0],
            n_outputs,
            hidden_layer_sizes=sizes,
            activation=get_activation(self.activation),
            dropout=self._dropout_rates(len(sizes)),
            batch_norm=self.batch_norm,
        )


@fill_doc
class DNNClassifier(_DNNMixin, NetClassifier):
    """Multi-layer perceptron classifier on PyTorch.

    A drop-in for scikit-learn's ``MLPClassifier`` with dropout, batch
    normalisation, any torch optimizer, batch modes from full-batch to
    stochastic, GPU training, and ``transform`` to the learned features.

    Parameters
    ----------
    {mlp_params}
    {net_params}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight``:
        a dict's keys must be classes of y and its values finite and >= 0
        (no dict for a multilabel y).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for a multilabel indicator y).
    {net_attributes}

    See Also
    --------
    DNNRegressor : The same network for regression.
    sklearn.neural_network.MLPClassifier : scikit-learn's numpy MLP.

    Notes
    -----
    The module outputs logits; ``predict_proba`` applies the softmax (a
    sigmoid per label for multilabel targets).

    {threads_note}

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skdeep import DNNClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DNNClassifier(hidden_layer_sizes=(32,), max_iter=300,
    ...                     random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
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
class DNNRegressor(_DNNMixin, NetRegressor):
    """Multi-layer perceptron regressor on PyTorch.

    A drop-in for scikit-learn's ``MLPRegressor`` with dropout, batch
    normalisation, robust losses, any torch optimizer, GPU training, and
    ``transform`` to the learned features.

    Parameters
    ----------
    {mlp_params}
    {net_params}
    {regression_loss}

    Attributes
    ----------
    {net_attributes}

    See Also
    --------
    DNNClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : scikit-learn's numpy MLP.

    Notes
    -----
    {threads_note}

    Examples
    --------
    >>> import numpy as np
    >>> from skdeep import DNNRegressor
    >>> X = np.linspace(-1, 1, 200).reshape(-1, 1)
    >>> reg = DNNRegressor(hidden_layer_sizes=(32,), max_iter=500,
    ...                    learning_rate=0.01, random_state=0)
    >>> reg.fit(X, X.ravel() ** 2).score(X, X.ravel() ** 2) > 0.9
    True
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
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
