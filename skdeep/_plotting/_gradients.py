"""``GradientNormDisplay``: the norms ``GradientNormRecorder`` recorded."""

from __future__ import annotations

import weakref

import numpy as np

from ._common import _axes, _epoch_axis, _fitted_model, _line_kwargs

# The layer names on an axes' x ticks: found again when a second estimator is
# drawn on the same axes.
_LAYER_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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

    __module__ = "skdeep.plotting"  # the public path, in docs and reprs

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
        ax = _axes(ax)
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
