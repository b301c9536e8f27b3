"""Matplotlib displays for skdeep estimators (the optional ``plot`` extra).

Four scikit-learn style ``Display`` objects: the constructor takes plain
data, ``from_estimator`` reads it from a fitted estimator (or the last step
of a fitted ``Pipeline``, or a fitted search's ``best_estimator_``) and
draws it, and ``plot`` returns the display with its matplotlib artists as
attributes ending in ``_``.

* :class:`TrainingCurveDisplay`: loss, validation score and learning rate
  per epoch.
* :class:`GradientNormDisplay`: gradient norms per layer, recorded by
  :class:`~skdeep.callbacks.GradientNormRecorder`.
* :class:`FilterDisplay`: input-layer weights as a grid of small images.
* :class:`GridSearchDisplay`: a search's score against one parameter.

matplotlib is imported when something is drawn, so this module imports
without it.
"""

from __future__ import annotations

import math
import numbers
import weakref
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "FilterDisplay",
    "GradientNormDisplay",
    "GridSearchDisplay",
    "TrainingCurveDisplay",
]

# The twin axes a display added to an axes ({"score": ax, "lr": ax}) and the
# layer names on an axes' x ticks: found again when a second estimator is
# drawn on the same axes.
_TWINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LAYER_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "skdeep.plotting draws with matplotlib, which is not installed: "
            'pip install "skdeep[plot]" (or pip install matplotlib).'
        ) from exc
    return plt


def _line_kwargs(kwargs: dict) -> dict:
    # One spelling per property ("ls" -> "linestyle"), so that ours override.
    from matplotlib.cbook import normalize_kwargs
    from matplotlib.lines import Line2D

    return normalize_kwargs(kwargs, Line2D)


def _fitted_model(estimator, arg: str = "estimator"):
    """The fitted model to read: a pipeline's last step, a search's best."""
    check_is_fitted(estimator)
    if isinstance(estimator, Pipeline):
        return _fitted_model(estimator[-1], arg)
    if hasattr(estimator, "cv_results_"):
        if not hasattr(estimator, "best_estimator_"):
            raise ValueError(
                f"{arg} is a {type(estimator).__name__} fitted with refit=False: "
                "it has no best_estimator_ to plot. Refit the search, or pass "
                "one of its fitted estimators."
            )
        return _fitted_model(estimator.best_estimator_, arg)
    return estimator


def _history_column(history, key: str):
    """``key`` of every epoch (NaN where missing), or None if never recorded."""
    values = [row.get(key) for row in history]
    if all(value is None for value in values):
        return None
    return np.array([np.nan if v is None else float(v) for v in values])


class TrainingCurveDisplay:
    """Training curves: loss per epoch, validation score, learning rate.

    The loss is on the left y axis; the validation score on a twin axis on
    the right; the learning rate, when asked for, on a second right-hand
    twin axis, log-scaled, whose spine sits further right when there is a
    score axis too. Each ``plot`` call draws its curves in one colour: the
    training loss solid, the validation loss dashed, the score dotted, the
    learning rate dash-dotted. Calling ``plot`` again with the same ``ax``
    (and another ``name``) adds a second estimator to the same axes and
    legend.

    Parameters
    ----------
    epochs : array-like of shape (n_epochs,)
        Epoch numbers.
    train_loss : array-like of shape (n_epochs,)
        Training loss per epoch.
    valid_loss, valid_score, learning_rate : array-like of shape (n_epochs,),\
            default=None
        Validation loss, validation score and learning rate per epoch
        (NaN where an epoch has none).
    estimator_name : str, default=None
        Name used in the legend; none when ``None``.
    loss_label, score_label : str, default="train loss", "validation score"
        What the loss and the score are: an ``RBM`` shows its reconstruction
        error and pseudo-log-likelihood under these names.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The axes of the loss.
    score_ax_, lr_ax_ : matplotlib Axes or None
        The twin axes of the score and of the learning rate.
    figure_ : matplotlib Figure
    lines_ : dict of str to Line2D
        Under ``"train_loss"``, ``"valid_loss"``, ``"valid_score"``,
        ``"learning_rate"``: the curves drawn.

    Examples
    --------
    >>> from skdeep.plotting import TrainingCurveDisplay
    >>> disp = TrainingCurveDisplay(epochs=[1, 2, 3], train_loss=[1.0, 0.6, 0.5],
    ...                             valid_score=[0.7, 0.8, 0.82]).plot(name="net")
    >>> sorted(disp.lines_)
    ['train_loss', 'valid_score']
    """

    def __init__(
        self,
        *,
        epochs,
        train_loss,
        valid_loss=None,
        valid_score=None,
        learning_rate=None,
        estimator_name: str | None = None,
        loss_label: str = "train loss",
        score_label: str = "validation score",
    ):
        self.epochs = epochs
        self.train_loss = train_loss
        self.valid_loss = valid_loss
        self.valid_score = valid_score
        self.learning_rate = learning_rate
        self.estimator_name = estimator_name
        self.loss_label = loss_label
        self.score_label = score_label

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        name=None,
        learning_rate: bool = False,
        **plot_kwargs,
    ) -> TrainingCurveDisplay:
        """Draw the training curves of a fitted estimator.

        Reads ``history_`` (skdeep estimators: ``train_loss``, ``valid_loss``,
        ``valid_score``, ``lr``; for an ``RBM``: ``reconstruction_error`` and
        ``pseudo_likelihood``), else ``loss_curve_`` and
        ``validation_scores_`` (scikit-learn's ``MLPClassifier``). A
        ``DBNTransformer`` trains one RBM per layer: pass ``dbn.rbms_[k]``.

        Parameters
        ----------
        estimator : estimator, Pipeline or search
            Fitted; a pipeline's last step or a search's ``best_estimator_``
            is read.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when ``None``.
        name : str, default=None
            Legend name; the estimator's class name when ``None``.
        learning_rate : bool, default=False
            Also draw the learning rate (log scale, right-hand axis).
        **plot_kwargs
            Passed to :meth:`plot`, then to ``Axes.plot``.

        Returns
        -------
        display : TrainingCurveDisplay
        """
        model = _fitted_model(estimator)
        data = _training_curves(model)
        disp = cls(**data, estimator_name=type(model).__name__)
        return disp.plot(ax=ax, name=name, learning_rate=learning_rate, **plot_kwargs)

    def plot(
        self,
        ax=None,
        *,
        name: str | None = None,
        learning_rate: bool = False,
        **line_kwargs,
    ) -> TrainingCurveDisplay:
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on (the twin axes of an earlier call on it are
            reused); a new figure when ``None``.
        name : str, default=None
            Legend name; ``estimator_name`` when ``None``.
        learning_rate : bool, default=False
            Also draw the learning rate.
        **line_kwargs
            Passed to ``Axes.plot`` for every curve.

        Returns
        -------
        display : TrainingCurveDisplay
        """
        plt = _pyplot()
        if learning_rate and self.learning_rate is None:
            raise ValueError(
                "learning_rate=True, but this display has no learning rates "
                "(skdeep estimators record them in history_ as 'lr')."
            )
        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        name = self.estimator_name if name is None else name
        prefix = f"{name}: " if name else ""
        kwargs = _line_kwargs(line_kwargs)
        epochs = np.asarray(self.epochs)
        lines = {}
        (lines["train_loss"],) = ax.plot(
            epochs,
            np.asarray(self.train_loss),
            label=prefix + self.loss_label,
            **kwargs,
        )
        kwargs["color"] = lines["train_loss"].get_color()
        if self.valid_loss is not None:
            (lines["valid_loss"],) = ax.plot(
                epochs,
                np.asarray(self.valid_loss),
                label=prefix + "validation loss",
                **{**kwargs, "linestyle": "--"},
            )
        twins = _TWINS.setdefault(ax, {})
        if self.valid_score is not None:
            score_ax = twins.get("score") or ax.twinx()
            twins["score"] = score_ax
            score_ax.set_ylabel(self.score_label)
            (lines["valid_score"],) = score_ax.plot(
                epochs,
                np.asarray(self.valid_score),
                label=prefix + self.score_label,
                **{**kwargs, "linestyle": ":"},
            )
        if learning_rate:
            lr_ax = twins.get("lr") or ax.twinx()
            twins["lr"] = lr_ax
            lr_ax.set_yscale("log")
            lr_ax.set_ylabel("learning rate")
            (lines["learning_rate"],) = lr_ax.plot(
                epochs,
                np.asarray(self.learning_rate),
                label=prefix + "learning rate",
                **{**kwargs, "linestyle": "-."},
            )
        if "lr" in twins:  # beside the score axis, not on top of it
            position = 1.18 if "score" in twins else 1.0
            twins["lr"].spines["right"].set_position(("axes", position))
        _epoch_axis(ax)
        ax.set_ylabel("loss" if self.loss_label == "train loss" else self.loss_label)
        _legend([ax, *twins.values()])
        self.ax_, self.figure_, self.lines_ = ax, ax.figure, lines
        self.score_ax_, self.lr_ax_ = twins.get("score"), twins.get("lr")
        return self


def _epoch_axis(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.25
    ax.set_xlabel("epoch")


def _legend(axes: list) -> None:
    """One legend for the lines of an axes and its twins, on the top one."""
    handles = [
        line
        for a in axes
        for line in a.get_lines()
        if not line.get_label().startswith("_")
    ]
    for a in axes:
        if a.get_legend() is not None:
            a.get_legend().remove()
    axes[-1].legend(handles=handles, fontsize="small")


def _training_curves(model) -> dict:
    name = type(model).__name__
    if hasattr(model, "rbms_"):
        raise ValueError(
            f"A {name} trains one RBM per layer, each with its own curves: "
            f"plot them one at a time, TrainingCurveDisplay.from_estimator("
            f"estimator.rbms_[k])."
        )
    history = getattr(model, "history_", None)
    if history:
        epochs = np.array([row["epoch"] for row in history])
        if any("train_loss" in row for row in history):
            return {
                "epochs": epochs,
                "train_loss": _history_column(history, "train_loss"),
                "valid_loss": _history_column(history, "valid_loss"),
                "valid_score": _history_column(history, "valid_score"),
                "learning_rate": _history_column(history, "lr"),
            }
        if any("reconstruction_error" in row for row in history):  # an RBM
            return {
                "epochs": epochs,
                "train_loss": _history_column(history, "reconstruction_error"),
                "valid_score": _history_column(history, "pseudo_likelihood"),
                "loss_label": "reconstruction error",
                "score_label": "pseudo-log-likelihood",
            }
    loss = getattr(model, "loss_curve_", None)
    if loss is not None:  # scikit-learn's MLPClassifier / MLPRegressor
        scores = getattr(model, "validation_scores_", None)
        return {
            "epochs": np.arange(1, len(loss) + 1),
            "train_loss": np.asarray(loss, dtype=float),
            "valid_score": None if scores is None else np.asarray(scores, dtype=float),
        }
    raise ValueError(
        f"estimator ({name}) has no training curves to plot: no history_ with "
        "'train_loss' or 'reconstruction_error', and no loss_curve_."
    )


class GradientNormDisplay:
    """Gradient norms per layer, as recorded by ``GradientNormRecorder``.

    ``kind="epochs"`` draws one line per parameter over the epochs;
    ``kind="layers"`` draws the norm against the layer's depth (input layer
    first), one line per call, so that two estimators share an axes: a
    vanishing gradient shows as a line falling towards the input. Both use
    a log y axis.

    Parameters
    ----------
    epochs : array-like of shape (n_epochs,)
        Epoch numbers.
    norms : dict of str to array-like of shape (n_epochs,)
        Per parameter name, in the module's (forward) order: the mean
        gradient L2 norm of each epoch.
    estimator_name : str, default=None
        Name used in the legend.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : dict of str to Line2D
        ``kind="epochs"``: one line per parameter name; ``kind="layers"``:
        one line, under ``"layers"``.

    Examples
    --------
    >>> from skdeep.plotting import GradientNormDisplay
    >>> disp = GradientNormDisplay(
    ...     epochs=[1, 2], norms={"features.0.weight": [1e-3, 2e-3],
    ...                           "head.weight": [0.1, 0.2]})
    >>> disp.plot(kind="layers", name="sigmoid").lines_["layers"].get_ydata()
    array([0.0015, 0.15  ])
    """

    def __init__(self, *, epochs, norms: dict, estimator_name: str | None = None):
        self.epochs = epochs
        self.norms = norms
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(
        cls, estimator, *, kind: str = "epochs", ax=None, name=None, **plot_kwargs
    ) -> GradientNormDisplay:
        """Draw the gradient norms an estimator recorded while fitting.

        Parameters
        ----------
        estimator : estimator, Pipeline or search
            Fitted with ``callbacks=[GradientNormRecorder()]``.
        kind : {"epochs", "layers"}, default="epochs"
            See :meth:`plot`.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when ``None``.
        name : str, default=None
            Legend name; the estimator's class name when ``None``.
        **plot_kwargs
            Passed to :meth:`plot` (``epoch=``, line properties).

        Returns
        -------
        display : GradientNormDisplay
        """
        model = _fitted_model(estimator)
        history = getattr(model, "history_", None) or []
        rows = [row for row in history if "grad_norms" in row]
        if not rows and "callbacks" not in model.get_params(deep=False):
            raise ValueError(
                f"estimator ({type(model).__name__}) has no gradient norms: only "
                "estimators trained by back-propagation (skdeep's DNN, CNN, RNN "
                "and DBN classifiers and regressors) record them."
            )
        if not rows:
            raise ValueError(
                f"estimator ({type(model).__name__}) recorded no gradient norms: "
                "fit it with callbacks=[GradientNormRecorder()] (from "
                "skdeep.callbacks import GradientNormRecorder)."
            )
        names = list(dict.fromkeys(n for row in rows for n in row["grad_norms"]))
        norms = {
            n: np.array([row["grad_norms"].get(n, np.nan) for row in rows])
            for n in names
        }
        epochs = np.array([row["epoch"] for row in rows])
        disp = cls(epochs=epochs, norms=norms, estimator_name=type(model).__name__)
        return disp.plot(ax=ax, kind=kind, name=name, **plot_kwargs)

    def plot(
        self,
        ax=None,
        *,
        kind: str = "epochs",
        name: str | None = None,
        epoch: int | None = None,
        **line_kwargs,
    ) -> GradientNormDisplay:
        """Draw the norms.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure when ``None``.
        kind : {"epochs", "layers"}, default="epochs"
            ``"epochs"``: one line per parameter over the epochs.
            ``"layers"``: x is the layer index 1..L (tick labels: the
            parameter names), y the norm averaged over the epochs.
        name : str, default=None
            Legend name; ``estimator_name`` when ``None``.
        epoch : int, default=None
            ``kind="layers"`` only: show this epoch instead of the mean.
        **line_kwargs
            Passed to ``Axes.plot``.

        Returns
        -------
        display : GradientNormDisplay
        """
        if kind not in ("epochs", "layers"):
            raise ValueError(f"kind must be 'epochs' or 'layers', got {kind!r}.")
        if epoch is not None and kind != "layers":
            raise ValueError("epoch= picks the epoch of kind='layers'.")
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        name = self.estimator_name if name is None else name
        epochs = np.asarray(self.epochs)
        names = list(self.norms)
        norms = np.array([np.asarray(self.norms[n], dtype=float) for n in names])
        kwargs = _line_kwargs(line_kwargs)
        if kind == "epochs":
            prefix = f"{name}: " if name else ""
            self.lines_ = {
                n: ax.plot(epochs, values, label=prefix + n, **kwargs)[0]
                for n, values in zip(names, norms, strict=True)
            }
            _epoch_axis(ax)
            ax.set_ylabel("mean gradient L2 norm")
        else:
            if epoch is None:
                values, what = np.nanmean(norms, axis=1), "mean over epochs"
            else:
                at = np.flatnonzero(epochs == epoch)
                if not len(at):
                    raise ValueError(
                        f"epoch={epoch!r} was not recorded; the recorded epochs "
                        f"run from {epochs.min()} to {epochs.max()}."
                    )
                values, what = norms[:, at[0]], f"epoch {epoch}"
            depth = np.arange(1, len(names) + 1)
            kwargs.setdefault("marker", "o")
            (line,) = ax.plot(depth, values, label=name or "gradient norm", **kwargs)
            self.lines_ = {"layers": line}
            # Parameter names as ticks while every line on the axes agrees.
            before = _LAYER_NAMES.get(ax)
            shown = names
            if before is not None and before != names:
                shown = [str(i) for i in range(1, max(len(before), len(names)) + 1)]
            _LAYER_NAMES[ax] = shown
            ax.set_xticks(np.arange(1, len(shown) + 1), shown, rotation=30, ha="right")
            ax.set_xlabel("layer (input to output)")
            ax.set_ylabel(f"gradient L2 norm ({what})")
        ax.set_yscale("log")
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class FilterDisplay:
    """Input-layer weights drawn as a grid of small images.

    Each filter has its own colour scale, symmetric around 0 (``scale=
    "filter"``, so a faint filter is as visible as a strong one), or one
    scale shared by all (``scale="global"``): mid-grey is 0 either way.
    Rows of a 2-D ``filters`` with ``image_shape=None`` are 1-D kernels and
    are drawn as small line plots.

    Parameters
    ----------
    filters : ndarray of shape (n_filters, height, width) or \
            (n_filters, n_features)
        The filters.
    image_shape : tuple of (int, int), default=None
        Shape the rows of a 2-D ``filters`` are reshaped to.

    Attributes
    ----------
    figure_ : matplotlib Figure
    axes_ : ndarray of matplotlib Axes of shape (n_rows, n_cols)
        Axes past the last filter are switched off.
    images_ : ndarray of AxesImage (or Line2D for 1-D kernels)
        One per filter.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeep.plotting import FilterDisplay
    >>> filters = np.random.RandomState(0).randn(6, 16)
    >>> disp = FilterDisplay(filters=filters, image_shape=(4, 4)).plot(n_cols=3)
    >>> disp.axes_.shape, disp.images_[0].get_array().shape
    ((2, 3), (4, 4))
    """

    def __init__(self, *, filters, image_shape: tuple[int, int] | None = None):
        self.filters = filters
        self.image_shape = image_shape

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        image_shape: tuple[int, int] | None = None,
        n_filters: int | None = None,
        layer: int | None = None,
        **plot_kwargs,
    ) -> FilterDisplay:
        """Draw the filters of a fitted estimator's input layer.

        * ``RBM`` (and anything with ``components_``): the rows of
          ``components_``; ``DBNTransformer``: those of ``rbms_[layer]``.
        * DNN and DBN estimators (and scikit-learn's MLPs): the weight rows
          of the ``layer``-th dense layer.
        * CNN estimators: the ``layer``-th convolution's kernels, averaged
          over their input channels; 1-D kernels as line plots.

        Parameters
        ----------
        estimator : estimator, Pipeline or search
            Fitted.
        image_shape : tuple of (int, int), default=None
            Shape of a dense layer's rows; ``None`` infers a square when the
            row length is a square number.
        n_filters : int, default=None
            Draw the first ``n_filters`` filters; all when ``None``.
        layer : int, default=None
            Which RBM, dense layer or convolution (0-based); the first
            when ``None``.
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : FilterDisplay
        """
        model = _fitted_model(estimator)
        filters, kernels = _filters_of(model, 0 if layer is None else layer)
        if kernels:
            if image_shape is not None:
                raise ValueError(
                    "image_shape reshapes dense weights; convolution kernels "
                    f"keep their own shape {filters.shape[1:]}."
                )
        elif image_shape is None:
            side = math.isqrt(filters.shape[1])
            if side * side != filters.shape[1]:
                raise ValueError(
                    f"The filters of {type(model).__name__} have "
                    f"{filters.shape[1]} weights, not a square number: pass "
                    "image_shape=(height, width)."
                )
            image_shape = (side, side)
        if n_filters is not None:
            filters = filters[:n_filters]
        return cls(filters=filters, image_shape=image_shape).plot(**plot_kwargs)

    def plot(
        self,
        *,
        n_cols: int | None = None,
        cmap="gray",
        scale: str = "filter",
        figure=None,
    ) -> FilterDisplay:
        """Draw the grid.

        Parameters
        ----------
        n_cols : int, default=None
            Columns of the grid; about the square root of the number of
            filters when ``None``.
        cmap : str or Colormap, default="gray"
            Colour map of the images.
        scale : {"filter", "global"}, default="filter"
            A colour scale per filter, or one for all; symmetric around 0.
        figure : matplotlib Figure, default=None
            Figure to draw into; a new one when ``None``.

        Returns
        -------
        display : FilterDisplay
        """
        plt = _pyplot()
        if scale not in ("filter", "global"):
            raise ValueError(f"scale must be 'filter' or 'global', got {scale!r}.")
        filters = np.asarray(self.filters, dtype=float)
        if filters.ndim == 2 and self.image_shape is not None:
            shape = tuple(self.image_shape)
            if len(shape) != 2 or math.prod(shape) != filters.shape[1]:
                raise ValueError(
                    f"image_shape={self.image_shape!r} does not hold the "
                    f"{filters.shape[1]} weights of a filter."
                )
            filters = filters.reshape(len(filters), *shape)
        if filters.ndim not in (2, 3) or not len(filters):
            raise ValueError(
                "filters must be a non-empty array of shape (n_filters, height, "
                f"width) or (n_filters, n_features), got shape {filters.shape}."
            )
        n = len(filters)
        n_cols = n_cols or math.ceil(math.sqrt(n))
        n_rows = math.ceil(n / n_cols)
        if figure is None:
            size = (min(12, 1.1 * n_cols), min(12, 1.1 * n_rows))
            figure = plt.figure(figsize=size)
        axes = figure.subplots(n_rows, n_cols, squeeze=False)
        # Symmetric around 0, never 0 wide (an all-zero filter stays grey).
        peaks = np.abs(filters.reshape(n, -1)).max(axis=1)
        if scale == "global":
            peaks[:] = peaks.max()
        peaks[peaks == 0] = 1.0
        images = np.empty(n, dtype=object)
        for k, ax in enumerate(axes.flat):
            ax.set_axis_off()
            if k >= n:
                continue
            if filters.ndim == 3:
                images[k] = ax.imshow(
                    filters[k], cmap=cmap, vmin=-peaks[k], vmax=peaks[k]
                )
            else:
                ax.axhline(0, color="0.75", linewidth=0.5)
                (images[k],) = ax.plot(filters[k])
                ax.set_ylim(-1.05 * peaks[k], 1.05 * peaks[k])
        figure.subplots_adjust(wspace=0.05, hspace=0.05)
        self.figure_, self.axes_, self.images_ = figure, axes, images
        return self


def _pick(layers: list, layer: int, what: str, name: str):
    if not (
        isinstance(layer, numbers.Integral) and -len(layers) <= layer < len(layers)
    ):
        raise ValueError(
            f"layer={layer!r} is not one of the {len(layers)} {what} of {name}."
        )
    return layers[layer]


def _filters_of(model, layer: int) -> tuple[np.ndarray, bool]:
    """The filters of ``layer``, and whether they are convolution kernels.

    Rows ``(n, features)`` of a dense layer or an RBM, or kernels ``(n, h,
    w)`` / ``(n, length)`` averaged over their input channels.
    """
    name = type(model).__name__
    if hasattr(model, "rbms_"):  # DBNTransformer
        rbm = _pick(model.rbms_, layer, "RBMs", name)
        return np.asarray(rbm.components_), False
    if hasattr(model, "components_"):
        return np.asarray(_pick([model.components_], layer, "layers", name)), False
    module = getattr(model, "module_", None)
    if isinstance(module, torch.nn.Module):
        modules = list(module.modules())
        if any(isinstance(m, torch.nn.RNNBase) for m in modules):
            raise ValueError(
                f"{name} is recurrent: its input weights are not filters. "
                "FilterDisplay draws RBM, DBN, DNN and CNN estimators."
            )
        convs = [m for m in modules if isinstance(m, torch.nn.Conv1d | torch.nn.Conv2d)]
        dense = [m for m in modules if isinstance(m, torch.nn.Linear)]
        if convs or dense:
            found = convs or dense
            what = "convolutions" if convs else "dense layers"
            weight = _pick(found, layer, what, name).weight.detach()
            weight = weight.to("cpu", torch.float64)
            if convs:  # one image per kernel, whatever the input channels
                return weight.mean(dim=1).numpy(), True
            return weight.numpy(), False
    if hasattr(model, "coefs_"):  # scikit-learn's MLP: (in, out) matrices
        return np.asarray(_pick(model.coefs_, layer, "dense layers", name)).T, False
    raise ValueError(
        f"estimator ({name}) has no filters to draw: FilterDisplay reads RBM, "
        "DBNTransformer, DNN, DBN and CNN estimators."
    )


class GridSearchDisplay:
    """A search's score against one parameter, by up to two more parameters.

    The values of ``x`` are categories, evenly spaced, labelled with
    readable text (numbers in increasing order, other values in the order
    the search met them). One series per value of ``hue``, one subplot per
    value of ``col``. Where the search varied other parameters too, each
    point is the best candidate over them: the highest score (the lowest
    for a ``*_time`` column). A ``mean_*`` score gets error bars of its
    ``std_*`` column (across folds). Parameters absent from part of a
    search (a list of grids) take the value "(not set)" there.

    Parameters
    ----------
    cv_results : dict or DataFrame
        A search's ``cv_results_``.
    x : str
        Parameter along the x axis, with or without the ``param_`` prefix
        (``"dropout"``, ``"net__dropout"``, ``"param_net__dropout"``).
    hue : str, default=None
        Parameter whose values are separate series.
    col : str, default=None
        Parameter whose values are separate subplots.
    score : str, default="mean_test_score"
        Column of ``cv_results`` to draw.

    Attributes
    ----------
    figure_ : matplotlib Figure
    axes_ : ndarray of matplotlib Axes
        One per value of ``col`` (one when ``col`` is ``None``).
    ax_ : matplotlib Axes
        The first of ``axes_``.
    lines_ : dict of tuple to Line2D
        Per ``(col value, hue value)`` (their labels, ``None`` for a role
        not used): the series drawn.
    errorbars_ : dict of tuple to ErrorbarContainer
        The same series with their error bars.
    best_index_ : dict of tuple to ndarray of int
        Per series, the ``cv_results`` row each point shows (-1: none).

    Examples
    --------
    >>> from skdeep.plotting import GridSearchDisplay
    >>> results = {"param_alpha": [0.1, 0.1, 1.0, 1.0],
    ...            "param_solver": ["a", "b", "a", "b"],
    ...            "mean_test_score": [0.5, 0.7, 0.6, 0.4],
    ...            "std_test_score": [0.1, 0.1, 0.1, 0.1]}
    >>> disp = GridSearchDisplay.from_cv_results(results, x="alpha")
    >>> disp.lines_[None, None].get_ydata()  # best over solver
    array([0.7, 0.6])
    """

    def __init__(
        self,
        *,
        cv_results,
        x: str,
        hue: str | None = None,
        col: str | None = None,
        score: str = "mean_test_score",
    ):
        self.cv_results = cv_results
        self.x = x
        self.hue = hue
        self.col = col
        self.score = score

    @classmethod
    def from_estimator(
        cls,
        search,
        *,
        x: str,
        hue: str | None = None,
        col: str | None = None,
        score: str = "mean_test_score",
        ax=None,
        **plot_kwargs,
    ) -> GridSearchDisplay:
        """Draw a fitted ``GridSearchCV`` or ``RandomizedSearchCV``.

        Parameters are those of the class and :meth:`plot`; ``search``
        must be fitted (it needs ``cv_results_``).

        Returns
        -------
        display : GridSearchDisplay
        """
        check_is_fitted(search)
        if not hasattr(search, "cv_results_"):
            raise ValueError(
                "search must be a fitted GridSearchCV or RandomizedSearchCV "
                f"(with cv_results_), got {type(search).__name__}."
            )
        return cls.from_cv_results(
            search.cv_results_, x=x, hue=hue, col=col, score=score, ax=ax, **plot_kwargs
        )

    @classmethod
    def from_cv_results(
        cls,
        cv_results,
        *,
        x: str,
        hue: str | None = None,
        col: str | None = None,
        score: str = "mean_test_score",
        ax=None,
        **plot_kwargs,
    ) -> GridSearchDisplay:
        """Draw a search's ``cv_results_``; see the class for the parameters.

        Returns
        -------
        display : GridSearchDisplay
        """
        disp = cls(cv_results=cv_results, x=x, hue=hue, col=col, score=score)
        return disp.plot(ax=ax, **plot_kwargs)

    def plot(self, ax=None, **errorbar_kwargs) -> GridSearchDisplay:
        """Draw the scores.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            Axes to draw on, one per value of ``col``; a new figure when
            ``None``.
        **errorbar_kwargs
            Passed to ``Axes.errorbar``.

        Returns
        -------
        display : GridSearchDisplay
        """
        plt = _pyplot()
        results = self.cv_results
        keys = _param_keys(results, {"x": self.x, "hue": self.hue, "col": self.col})
        if self.score not in results:
            options = sorted(k for k in results.keys() if str(k).startswith("mean_"))
            raise ValueError(
                f"score={self.score!r} is not a column of cv_results; "
                f"columns: {options}."
            )
        scores = np.asarray(results[self.score], dtype=float)
        std_key = "std_" + self.score[5:] if self.score.startswith("mean_") else None
        std = np.asarray(results[std_key], dtype=float) if std_key in results else None
        labels = {role: _labels(results[key]) for role, key in keys.items()}
        levels = {
            role: _levels(results[key], labels[role]) for role, key in keys.items()
        }
        cols = levels.get("col", [None])
        hues = levels.get("hue", [None])
        xs = levels["x"]
        best = _best_rows(scores, labels, lower=self.score.endswith("_time"))
        if ax is None:
            _, axes = plt.subplots(
                1,
                len(cols),
                sharey=True,
                squeeze=False,
                figsize=(max(5.0, 3.6 * len(cols)), 3.8),
                layout="constrained",
            )
            axes = axes[0]
        else:
            axes = np.ravel(np.asarray(ax, dtype=object))
            if len(axes) != len(cols):
                raise ValueError(
                    f"ax holds {len(axes)} axes, but col={self.col!r} has "
                    f"{len(cols)} values: pass one axes per value."
                )
        position = np.arange(len(xs), dtype=float)
        dodge = 0.08 if std is not None and len(hues) > 1 else 0.0
        long = max(len(label) for label in xs) > 8
        self.lines_, self.errorbars_, self.best_index_ = {}, {}, {}
        for a, c in zip(axes, cols, strict=True):
            for j, h in enumerate(hues):
                rows = np.array([best.get((c, h, v), -1) for v in xs])
                found = rows >= 0
                y = np.where(found, scores[rows], np.nan)
                err = None if std is None else np.where(found, std[rows], np.nan)
                container = a.errorbar(
                    position + dodge * (j - (len(hues) - 1) / 2),
                    y,
                    yerr=err,
                    **{"marker": "o", "capsize": 3, "label": h, **errorbar_kwargs},
                )
                self.lines_[c, h] = container.lines[0]
                self.errorbars_[c, h] = container
                self.best_index_[c, h] = rows
            a.set_xticks(
                position,
                xs,
                rotation=30 if long else 0,
                ha="right" if long else "center",
            )
            a.set_xlabel(_short(keys["x"]))
            if c is not None:
                a.set_title(f"{_short(keys['col'])} = {c}")
            if "hue" in keys:
                a.legend(title=_short(keys["hue"]), fontsize="small")
        axes[0].set_ylabel(self.score)
        self.axes_, self.ax_, self.figure_ = axes, axes[0], axes[0].figure
        return self


_UNSET = "(not set)"


def _short(key: str) -> str:
    return key.removeprefix("param_")


def _param_keys(results, names: dict[str, str | None]) -> dict[str, str]:
    """``param_`` column of each role's parameter; errors name the argument."""
    searched = sorted(_short(k) for k in results.keys() if str(k).startswith("param_"))
    keys = {}
    for role, name in names.items():
        if name is None:
            continue
        key = name if str(name).startswith("param_") else f"param_{name}"
        if key not in results:
            raise ValueError(
                f"{role}={name!r} is not a parameter of the search; its "
                f"parameters are: {searched}."
            )
        keys[role] = key
    roles = list(keys)
    for i, role in enumerate(roles):
        for other in roles[i + 1 :]:
            if keys[role] == keys[other]:
                raise ValueError(
                    f"{role}={names[role]!r} and {other}={names[other]!r} are the "
                    "same parameter; give each role its own."
                )
    return keys


def _values(column) -> list:
    """The column's values as Python objects, ``_UNSET`` where masked."""
    if isinstance(column, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(column)
        return [_UNSET if m else v for v, m in zip(column.data, mask, strict=True)]
    return list(column)


def _labels(column) -> list[str]:
    return [_label(v) for v in _values(column)]


def _levels(column, labels: list[str]) -> list[str]:
    """Distinct labels: by value when all are numbers, else as first met."""
    values = _values(column)
    first = dict(zip(labels, values, strict=True))
    numeric = all(
        isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)
        for v in first.values()
    )
    order = sorted(first, key=lambda k: float(first[k])) if numeric else list(first)
    return order


def _label(value: Any) -> str:
    """Readable text of a parameter value."""
    if value is _UNSET or isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_) or value is None:
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):g}"
    if isinstance(value, tuple | list):
        inner = ", ".join(_label(v) for v in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, type) or (
        callable(value)
        and hasattr(value, "__name__")
        and not isinstance(value, BaseEstimator)
    ):
        return value.__name__
    text = " ".join(str(value).split())
    return text if len(text) <= 40 else text[:37] + "..."


def _best_rows(scores: np.ndarray, labels: dict, *, lower: bool) -> dict:
    """Per (col, hue, x) labels, the row with the best score (NaN is worst)."""
    n = len(scores)
    cols = labels.get("col", [None] * n)
    hues = labels.get("hue", [None] * n)
    best: dict = {}
    for i in range(n):
        key, s = (cols[i], hues[i], labels["x"][i]), scores[i]
        if key not in best:
            best[key] = i
            continue
        old = scores[best[key]]
        if (np.isnan(old) and not np.isnan(s)) or (s < old if lower else s > old):
            best[key] = i
    return best
