"""Helpers every display shares: the fitted model to read, matplotlib.

matplotlib is imported inside the helpers that draw, never at import time,
so that ``skdeep.plotting`` imports without it.
"""

from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted


def _pyplot():
    """``matplotlib.pyplot``, or an ImportError that says how to install it."""
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


def _axes(ax):
    """``ax``, or the axes of a new figure (constrained layout) when ``None``."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(layout="constrained")
    return ax


def _epoch_axis(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.25
    ax.set_xlabel("epoch")
