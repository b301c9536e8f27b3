"""``TrainingCurveDisplay``: loss, validation score and learning rate."""

from __future__ import annotations

import numpy as np

from ._common import _axes, _epoch_axis, _fitted_model, _line_kwargs

# The twin axes a display added to an axes ({"score": ax, "lr": ax}) live on
# that axes, found again when a second estimator is drawn there. (Not in a
# weak-keyed table: each twin refers back to its axes, which would keep every
# figure alive.)
_TWINS = "_skdeep_twins"


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

    __module__ = "skdeep.plotting"  # the public path, in docs and reprs

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
        if learning_rate and self.learning_rate is None:
            raise ValueError(
                "learning_rate=True, but this display has no learning rates "
                "(skdeep estimators record them in history_ as 'lr')."
            )
        ax = _axes(ax)
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
        twins = ax.__dict__.setdefault(_TWINS, {})
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
