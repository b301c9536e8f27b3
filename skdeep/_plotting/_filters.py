"""``FilterDisplay``: input-layer weights as a grid of small images."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from ._common import _fitted_model, _pyplot


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

    __module__ = "skdeep.plotting"  # the public path, in docs and reprs

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
