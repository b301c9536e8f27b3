"""Data loading and the grid comparison behind the ``skdeep`` command.

:func:`load_data` reads a bundled data set or a CSV file and guesses the
task; :func:`make_model` builds ``Pipeline(StandardScaler, net)``;
:func:`run_grid` cross-validates every candidate of :func:`grid` and
:func:`rank_results`, :func:`format_table` and :func:`write_results` turn the rows,
laid out as ``GridSearchCV.cv_results_``, into a table or a CSV file.
A CSV file that is empty, has no rows or has missing values is refused with
a one-line message. Errors meant for the user raise :class:`CLIError`.
"""

import argparse
import csv
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from sklearn import datasets
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ParameterGrid, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ._files import CLIError, replaced_atomically
from .dnn import DNNClassifier, DNNRegressor

__all__ = [
    "DATASETS",
    "DEFAULT_GRID",
    "TASKS",
    "CLIError",
    "format_table",
    "grid",
    "load_data",
    "make_model",
    "name_list",
    "rank_results",
    "read_csv",
    "refuse_missing_values",
    "run_grid",
    "show",
    "write_results",
]

DATASETS: dict[str, tuple[Callable, str]] = {
    "digits": (datasets.load_digits, "classify"),
    "iris": (datasets.load_iris, "classify"),
    "wine": (datasets.load_wine, "classify"),
    "breast_cancer": (datasets.load_breast_cancer, "classify"),
    "diabetes": (datasets.load_diabetes, "regress"),
}

TASKS = ["auto", "classify", "regress"]

# 3 x 2 x 3 x 2 = 36 candidates x 3 folds x 100 epochs: 1-2 minutes for
# `skdeep compare` on digits with a 2-core CPU. `skdeep fit` defaults to the
# first value of each.
DEFAULT_GRID: dict[str, list] = {
    "dropout": [0.0, 0.2, 0.5],
    "activation": ["relu", "tanh"],
    "optimizer": ["adam", "momentum", "sgd"],
    "batch_size": ["auto", 32],
    "hidden_layer_sizes": [(100,)],
}


def show(value) -> str:
    """A parameter value as typed on the command line: ``64,32``, ``0.5``."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


# -- data and models ----------------------------------------------------------


def load_data(args: argparse.Namespace) -> tuple:
    """``(X, y, task, name)`` from ``--data`` or ``--csv`` and ``--target``."""
    if args.csv is not None:
        if getattr(args, "data", None) is not None:
            raise CLIError("give either --data or --csv, not both", code=2)
        if args.target is None:
            raise CLIError("--csv needs --target COLUMN", code=2)
        return _load_csv(args.csv, args.target, args.task)
    if args.target is not None:
        raise CLIError("--target needs --csv", code=2)
    name = args.data or "digits"
    loader, task = DATASETS[name]
    X, y = loader(return_X_y=True)
    return X, y, task, name


def _load_csv(path: str, target: str, task: str) -> tuple:
    """``(X, y, task, name)`` from a CSV file; features must be numeric."""
    frame, types = read_csv(path)
    if target not in frame.columns:
        raise CLIError(
            f"unknown column {target!r} in {path}; columns: {name_list(frame.columns)}"
        )
    refuse_missing_values(frame, path)
    X, y = frame.drop(columns=[target]), frame[target]
    text = [c for c in X.columns if not types.is_numeric_dtype(X[c])]
    if text:
        raise CLIError(
            f"non-numeric feature columns in {path}: "
            f"{name_list(text)}; encode them as numbers first"
        )
    numeric = types.is_numeric_dtype(y) and not types.is_bool_dtype(y)
    if task == "auto":  # integer targets with at most 20 values are classes
        few = numeric and (y.dropna() % 1 == 0).all() and y.nunique() <= 20
        task = "regress" if numeric and not few else "classify"
    if task == "regress" and not numeric:
        raise CLIError(f"target {target!r} is not numeric: use --task classify")
    return X, y.to_numpy(), task, Path(path).name


def name_list(columns, most: int = 10) -> str:
    """The first ``most`` column names, comma-separated, for error messages."""
    names = [str(c) for c in columns]
    return ", ".join(names[:most] + (["..."] if len(names) > most else []))


def read_csv(path: str) -> tuple:
    """The CSV file as a DataFrame, and ``pandas.api.types``."""
    try:
        import pandas as pd
    except ImportError:
        raise CLIError("reading CSV files needs pandas: pip install pandas") from None
    if not Path(path).is_file():
        raise CLIError(f"no such file: {path}")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise CLIError(f"{path} is empty: expected a header line and rows") from None
    except pd.errors.ParserError as exc:
        raise CLIError(f"cannot read {path} as CSV: {exc}") from None
    if len(frame) == 0:  # a header line alone
        raise CLIError(f"{path} has a header but no rows")
    return frame, pd.api.types


def refuse_missing_values(frame, path: str):
    """Name each column of ``frame`` with missing values, and how many."""
    counts = frame.isna().sum()
    counts = counts[counts > 0]
    if len(counts):
        columns = [
            f"column {str(c)!r} ({n} row{'s' if n > 1 else ''})"
            for c, n in counts.items()
        ]
        raise CLIError(
            f"{path} has missing values: {name_list(columns, most=5)}; "
            "fill them in or drop those rows first"
        )


def make_model(task: str, **params) -> Pipeline:
    """``Pipeline(StandardScaler, net)``; a regressor also standardises y.

    The nets train in float32, the fast path, whatever the CSV's precision.
    """
    params = {"dtype": "float32", **params}
    if task == "classify":
        net = DNNClassifier(**params)
    else:
        net = TransformedTargetRegressor(
            DNNRegressor(**params), transformer=StandardScaler()
        )
    return Pipeline([("scale", StandardScaler()), ("net", net)])


# -- the grid -------------------------------------------------------------------


def grid(args: argparse.Namespace) -> ParameterGrid:
    """The candidates: every combination of the ``DEFAULT_GRID`` flags' values."""
    return ParameterGrid({name: getattr(args, name) for name in DEFAULT_GRID})


def run_grid(task, X, y, cv, scoring, args) -> list[dict]:
    """Cross-validate each candidate in turn, under a progress bar."""
    from tqdm import tqdm

    fixed = {"max_iter": args.max_iter, "random_state": args.random_state}
    results = []
    bar = tqdm(
        grid(args),
        desc="compare",
        unit="cand",
        file=sys.stderr,
        disable=args.quiet,
        dynamic_ncols=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # short runs by design
        for params in bar:
            model = make_model(task, **fixed, **params)
            results.append(_evaluate(model, X, y, cv, scoring, args.n_jobs, params))
            best = np.nanmax([r["mean_test_score"] for r in results] + [-np.inf])
            bar.set_postfix(best=f"{best:.4f}", refresh=False)
    return results


def _evaluate(model, X, y, cv, scoring, n_jobs, params) -> dict:
    """One candidate's cross-validation as a row of ``cv_results_``."""
    row = {"params": params}
    try:
        scores = cross_validate(
            model, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs, error_score="raise"
        )
    except (ValueError, RuntimeError) as exc:  # a diverged or impossible fit
        row["error"] = str(exc)
        nan = np.full(cv.get_n_splits(), np.nan)
        scores = {"fit_time": nan, "score_time": nan, "test_score": nan}
    for key in ("fit_time", "score_time", "test_score"):
        row[f"mean_{key}"] = float(np.mean(scores[key]))
        row[f"std_{key}"] = float(np.std(scores[key]))
    for i, score in enumerate(scores["test_score"]):
        row[f"split{i}_test_score"] = float(score)
    return row


def rank_results(results: list[dict]):
    """Add ``rank_test_score`` as GridSearchCV does (failures last), sort."""
    means = np.array([r["mean_test_score"] for r in results])
    means = np.where(np.isnan(means), np.nanmin(means) - 1, means)
    for row, rank in zip(results, rankdata(-means, method="min"), strict=True):
        row["rank_test_score"] = int(rank)
    results.sort(key=lambda r: r["rank_test_score"])


def format_table(results: list[dict], scoring: str) -> str:
    """Rank, mean and std of the score, mean fit time, then the parameters."""
    names = list(results[0]["params"])
    header = ["rank", f"mean {scoring}", "std", "fit time (s)"] + [
        "hidden" if n == "hidden_layer_sizes" else n for n in names
    ]
    rows = [header] + [
        [
            str(r["rank_test_score"]),
            f"{r['mean_test_score']:.4f}",
            f"{r['std_test_score']:.4f}",
            f"{r['mean_fit_time']:.2f}",
        ]
        + [show(r["params"][n]) for n in names]
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.rjust(w) if i < 4 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


def write_results(results: list[dict], directory: str) -> Path:
    """Write ``DIR/cv_results.csv`` with the columns of ``cv_results_``."""
    path = Path(directory) / "cv_results.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(results[0]["params"])
    splits = [k for k in results[0] if k.startswith("split")]
    fields = [
        "mean_fit_time",
        "std_fit_time",
        "mean_score_time",
        "std_score_time",
        *[f"param_{n}" for n in names],
        "params",
        *splits,
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
    ]
    with (
        replaced_atomically(path) as temporary,
        temporary.open("w", newline="") as handle,
    ):
        writer = csv.DictWriter(handle, fields, extrasaction="ignore")
        writer.writeheader()
        for row in results:
            params = {f"param_{n}": show(row["params"][n]) for n in names}
            writer.writerow({**row, **params})
    return path
