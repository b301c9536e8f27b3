"""``GridSearchDisplay``: a search's score against one parameter."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._common import _pyplot


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

    __module__ = "skdeep.plotting"  # the public path, in docs and reprs

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
