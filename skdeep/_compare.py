"""Data loading and the grid comparison behind the ``skdeep`` command.

:func:`load_data` reads a bundled data set or a CSV file and guesses the
task; :func:`make_model` builds ``Pipeline(StandardScaler, net)`` for a
family of :data:`~skdeep._cli_families.FAMILIES`; :func:`run_grid`
cross-validates every candidate, one after the other or, given a Dask client
(:func:`dask_client`), spread over the cluster's workers through joblib's
``"dask"`` backend; :func:`rank_results`, :func:`format_table` and
:func:`write_results` turn the rows, laid out as ``GridSearchCV.cv_results_``,
into a table or a CSV file. A CSV file that is empty, has no rows or has
missing values is refused with a one-line message. Errors meant for the user
raise :class:`CLIError`.
"""

import argparse
import contextlib
import csv
import logging
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from scipy.stats import rankdata
from sklearn import datasets
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ._cli_families import FAMILIES, show
from ._files import CLIError, replaced_atomically

__all__ = [
    "DATASETS",
    "TASKS",
    "CLIError",
    "dask_client",
    "format_table",
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


def make_model(task: str, family: str = "dnn", **params) -> Pipeline:
    """``Pipeline(StandardScaler, net)``; a regressor also standardises y.

    ``family`` is a key of :data:`~skdeep._cli_families.FAMILIES`. The nets
    train in float32, the fast path, whatever the CSV's precision.
    """
    params = {"dtype": "float32", **params}
    net = FAMILIES[family].estimator(task)(**params)
    if task != "classify":
        net = TransformedTargetRegressor(net, transformer=StandardScaler())
    return Pipeline([("scale", StandardScaler()), ("net", net)])


# -- the grid -------------------------------------------------------------------

# Seconds to wait for a Dask scheduler: an unreachable one fails fast.
SCHEDULER_TIMEOUT = 5


@contextlib.contextmanager
def dask_client(address: str | None) -> Iterator:
    """A ``distributed.Client`` of the scheduler at ``address``, closed after.

    ``None`` yields ``None`` (no cluster); ``"local"`` starts a
    ``LocalCluster`` of worker processes on this machine for the block.
    """
    if address is None:
        yield None
        return
    try:
        from distributed import Client, KilledWorker, LocalCluster
    except ImportError:
        raise CLIError(
            '--scheduler needs Dask\'s distributed package: pip install "skdeep[dask]"'
        ) from None
    with contextlib.ExitStack() as stack:
        if address == "local":
            target = stack.enter_context(
                LocalCluster(dashboard_address=None, silence_logs=logging.ERROR)
            )
        else:
            _reach(address)
            target = address
        client = stack.enter_context(
            Client(target, timeout=SCHEDULER_TIMEOUT, set_as_default=False)
        )
        try:
            yield client
        except KilledWorker as exc:  # a worker died (out of memory, killed)
            raise CLIError(f"--scheduler {address}: {exc}") from None
        except ImportError as exc:  # raised on a worker, re-raised here
            raise CLIError(
                f"--scheduler {address}: a worker cannot import {exc.name!r}: "
                "install skdeep (same versions as here) where the workers run"
            ) from None


def _reach(address: str) -> None:
    """Connect to ``address`` once, or raise :class:`CLIError` naming it.

    A ``Client`` that fails to connect lingers until exit and then reports a
    traceback while closing; this plain connection fails cleanly instead.
    """
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    async def probe():
        arguments = Security().get_connection_args("client")  # TLS from config
        comm = await connect(address, timeout=SCHEDULER_TIMEOUT, **arguments)
        await comm.close()

    try:
        asyncio.run(probe())
    except (OSError, ValueError, TypeError) as exc:  # refused, timed out, bad
        raise CLIError(
            f"--scheduler {address}: cannot reach a Dask scheduler there ({exc})"
        ) from None


def run_grid(
    task: str,
    X,
    y,
    cv,
    scoring: str,
    args: argparse.Namespace,
    candidates,
    fixed: dict,
    client=None,
) -> list[dict]:
    """Cross-validate each candidate of ``candidates`` under a progress bar.

    In turn (each candidate's folds over ``args.n_jobs`` processes), or with
    a Dask ``client`` as one task per candidate and fold on the cluster's
    workers. ``fixed`` holds the parameters every candidate shares
    (``input_shape``). Returns a ``cv_results_`` row per candidate, in the
    order of ``candidates``.
    """
    from tqdm import tqdm

    fixed = {
        "family": args.family,
        "max_iter": args.max_iter,
        "random_state": args.random_state,
        **fixed,
    }
    candidates = list(candidates)
    terminal = sys.stderr.isatty()
    with (
        tqdm(
            total=len(candidates),
            desc="compare",
            unit="cand",
            # A log file gets one plain line per candidate, not redraws.
            file=sys.stderr if terminal else _Lines(sys.stderr),
            disable=args.quiet,
            dynamic_ncols=terminal,
            ascii=not terminal,
            ncols=None if terminal else 100,
            mininterval=0.1 if terminal else 0,
        ) as bar,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)  # short runs by design
        if client is not None:
            models = [make_model(task, **fixed, **params) for params in candidates]
            return _run_on_dask(
                client, candidates, models, X, y, cv, scoring, args, bar
            )
        results = []
        for params in candidates:
            model = make_model(task, **fixed, **params)
            results.append(_evaluate(model, X, y, cv, scoring, args.n_jobs, params))
            _advance(bar, results)
    return results


def _advance(bar, done: list[dict]) -> None:
    """One more candidate done: the bar moves and shows the best mean score."""
    best = np.nanmax([r["mean_test_score"] for r in done] + [-np.inf])
    bar.set_postfix(best=f"{best:.4f}", refresh=False)
    bar.update()


def _run_on_dask(client, candidates, models, X, y, cv, scoring, args, bar):
    """Every fold of every model as one task, through joblib's Dask backend.

    The models travel unfitted (a few hundred bytes each); joblib scatters X,
    y and each fold's indices to the cluster once. Folds come back as they
    finish; a candidate's row is made when its last fold is in. Returns the
    rows in the order of ``candidates`` (whose models are ``models``); a
    fold that fails fails its candidate, as in turn.
    """
    import joblib

    folds = list(cv.split(X, y))
    jobs = (
        joblib.delayed(_fold_on_worker)(i, k, model, X, y, fold, scoring, args.quiet)
        for i, model in enumerate(models)
        for k, fold in enumerate(folds)
    )
    scores = [[None] * len(folds) for _ in models]
    results, done = [None] * len(models), []
    with joblib.parallel_backend("dask", client=client):
        parallel = joblib.Parallel(return_as="generator_unordered", batch_size=1)
        for i, k, outcome in parallel(jobs):
            scores[i][k] = outcome
            if all(fold is not None for fold in scores[i]):
                results[i] = _row(candidates[i], scores[i], len(folds))
                done.append(results[i])
                _advance(bar, done)
    return results


def _fold_on_worker(i, k, model, X, y, fold, scoring, quiet) -> tuple:
    """``(i, k, scores)`` of one fold, or ``(i, k, message)`` if it failed.

    Runs where the worker runs it; the command's warning filters stay in its
    own process, so they are set again here (a worker's warnings go to its
    log, which is the terminal for ``--scheduler local``).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Warning if quiet else ConvergenceWarning)
        try:
            # n_jobs=1: else joblib sends the single fold on as a nested task.
            scores = cross_validate(
                model, X, y, cv=[fold], scoring=scoring, n_jobs=1, error_score="raise"
            )
        except (ValueError, RuntimeError) as exc:  # a diverged or impossible fit
            return i, k, str(exc)
    return i, k, scores


def _evaluate(model, X, y, cv, scoring, n_jobs, params) -> dict:
    """One candidate's cross-validation as a row of ``cv_results_``."""
    try:
        scores = cross_validate(
            model, X, y, cv=cv, scoring=scoring, n_jobs=n_jobs, error_score="raise"
        )
    except (ValueError, RuntimeError) as exc:  # a diverged or impossible fit
        return _row(params, [str(exc)], cv.get_n_splits())
    return _row(params, [scores], cv.get_n_splits())


def _row(params: dict, parts: list, n_splits: int) -> dict:
    """A row of ``cv_results_`` from ``cross_validate`` results of its folds.

    ``parts`` holds the results of all folds at once or of one fold each; a
    part that is a string is the message of a failed fold, which fails the
    candidate (nan scores, ``"error"``).
    """
    row = {"params": params}
    failed = [part for part in parts if isinstance(part, str)]
    if failed:
        row["error"] = failed[0]
        nan = np.full(n_splits, np.nan)
        scores = {"fit_time": nan, "score_time": nan, "test_score": nan}
    else:
        scores = {
            key: np.concatenate([part[key] for part in parts])
            for key in ("fit_time", "score_time", "test_score")
        }
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


class _Lines:
    """A stream for tqdm that turns each redraw into a line of its own."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip("\n")
        if text.strip():
            self.stream.write(text + "\n")

    def flush(self) -> None:
        self.stream.flush()
