"""Grid searches on a Dask cluster through joblib's ``"dask"`` backend.

One ``LocalCluster`` of two worker processes, one thread each, serves the
module: searches there score and predict as with ``n_jobs=1``, estimators
travel unfitted in a few hundred bytes, a worker's thread limit holds during
training, and ``skdeep compare --scheduler`` runs on it.
"""

import logging
import pickle
import socket
import sys
from contextlib import contextmanager

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_validate
from skorch.callbacks import Callback

from skdeep import (
    RBM,
    CNNClassifier,
    DBNClassifier,
    DNNClassifier,
    RNNClassifier,
    _compare,
)
from skdeep._files import CLIError
from skdeep._threads import SMALL_STEP_WORK
from skdeep.cli import main

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")
cloudpickle = pytest.importorskip("cloudpickle")

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"  # short fits by design
)

THREADS_PER_WORKER = 1


@pytest.fixture(scope="module")
def client():
    """A client of two worker processes with one thread each."""
    # Functions defined here travel by value: the workers cannot import tests/.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=THREADS_PER_WORKER,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            distributed.Client(cluster, set_as_default=False) as client,
        ):
            yield client
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X[:240] / 16).astype(np.float32), y[:240]


@contextmanager
def one_thread():
    """Train as a worker does: fits repeat exactly under the same threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS_PER_WORKER)
    try:
        yield
    finally:
        torch.set_num_threads(before)


SEARCHES = {
    "dnn": (
        DNNClassifier((16,), max_iter=5, random_state=0),
        {"dropout": [0.0, 0.3], "activation": ["relu", "tanh"]},
    ),
    "cnn": (
        CNNClassifier((4, 8), input_shape=(1, 8, 8), max_iter=3, random_state=0),
        {"dropout": [0.0, 0.3], "optimizer": ["adam", "sgd"]},
    ),
}


@pytest.mark.parametrize("family", list(SEARCHES))
def test_search_on_dask_equals_n_jobs_1(client, digits, family):
    X, y = digits
    estimator, grid = SEARCHES[family]
    with one_thread():
        local = GridSearchCV(estimator, grid, cv=2, n_jobs=1).fit(X, y)
        local_folds = cross_validate(estimator, X, y, cv=2, return_estimator=True)
    with joblib.parallel_backend("dask", client=client):
        remote = GridSearchCV(estimator, grid, cv=2, n_jobs=-1).fit(X, y)
        remote_folds = cross_validate(estimator, X, y, cv=2, return_estimator=True)
    for key in ("params", "split0_test_score", "split1_test_score", "rank_test_score"):
        assert list(remote.cv_results_[key]) == list(local.cv_results_[key]), key
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        remote.best_estimator_.predict_proba(X), local.best_estimator_.predict_proba(X)
    )
    # Fitted on the workers and shipped back: the very same nets.
    for mine, theirs in zip(
        local_folds["estimator"], remote_folds["estimator"], strict=True
    ):
        np.testing.assert_array_equal(mine.predict_proba(X), theirs.predict_proba(X))


@pytest.mark.parametrize(
    "estimator",
    [
        DNNClassifier(),
        CNNClassifier(input_shape=(1, 8, 8)),
        RNNClassifier(cell="gru"),
        DBNClassifier(),
        RBM(),
        GridSearchCV(DNNClassifier(), {"dropout": [0.0, 0.5]}),
    ],
    ids=lambda e: type(e).__name__,
)
def test_unfitted_estimators_ship_cheaply(estimator):
    data = pickle.dumps(estimator)
    assert len(data) < 2_000  # parameters only: a few hundred bytes
    assert b"torch" not in data  # no tensor, module or optimizer inside


class _RecordThreads(Callback):
    """Puts torch's intra-op thread count of each epoch in the history."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("threads", torch.get_num_threads())


def _fit_reporting_threads() -> tuple[list[int], int]:
    """Threads during each epoch of a fit big enough for every thread, after."""
    X, y = load_digits(return_X_y=True)
    # 64 -> 1024 -> 1024 -> 10 on 200-row batches: far above SMALL_STEP_WORK,
    # so skdeep takes every thread torch offers (the worker's limit, here).
    assert 200 * 1024 * (64 + 1024 + 10) > SMALL_STEP_WORK
    net = DNNClassifier(
        (1024, 1024),
        max_iter=2,
        batch_size=200,
        random_state=0,
        callbacks=[_RecordThreads()],
    ).fit(X[:400].astype(np.float32), y[:400])
    return [epoch["threads"] for epoch in net.history_], torch.get_num_threads()


def test_threads_per_worker_are_respected(client):
    during, _ = _fit_reporting_threads()  # here, every thread torch has
    assert set(during) == {torch.get_num_threads()}
    workers = list(client.nthreads())
    assert len(workers) == 2
    for worker in workers:
        during, after = client.submit(
            _fit_reporting_threads, workers=[worker], pure=False
        ).result()
        assert len(during) == 2
        assert max(during) <= THREADS_PER_WORKER and after <= THREADS_PER_WORKER


def _fit_threads_under(threads: int) -> list[int]:
    torch.set_num_threads(threads)
    return _fit_reporting_threads()[0]


def test_a_worker_without_a_nanny_runs_each_task_on_one_thread():
    # No nanny sets OMP_NUM_THREADS in an in-process worker: with two task
    # threads sharing one torch pool, skdeep keeps each task to one thread;
    # a one-thread worker keeps the threads its user gave torch.
    before = torch.get_num_threads()
    try:
        for task_threads, expected in ((2, {1}), (1, {2})):
            with (
                distributed.LocalCluster(
                    n_workers=1,
                    threads_per_worker=task_threads,
                    processes=False,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                ) as cluster,
                distributed.Client(cluster, set_as_default=False) as client,
            ):
                during = client.submit(_fit_threads_under, 2, pure=False).result()
            assert set(during) == expected
    finally:
        torch.set_num_threads(before)


def _iris_rows(out: str) -> list[list[str]]:
    """``skdeep compare``'s table rows without the fit-time column."""
    lines = [line.split() for line in out.strip().splitlines()[1:]]
    return [row[:3] + row[4:] for row in lines]


def test_compare_on_the_scheduler_matches_a_local_run(client, capsys):
    grid = ["--data", "iris", "--dropout", "0", "0.2", "--activation", "relu", "tanh"]
    fast = ["--max-iter", "3", "--cv", "2", "--optimizer", "adam", "--batch-size", "32"]
    address = client.scheduler.address
    assert main(["compare", *grid, *fast, "--scheduler", address]) == 0
    out, err = capsys.readouterr()
    assert f"on the Dask scheduler {address}: 2 workers, 2 threads" in err
    assert "4/4" in err  # the progress bar counts finished candidates
    with one_thread():
        assert main(["compare", *grid, *fast, "--quiet"]) == 0
    assert _iris_rows(out) == _iris_rows(capsys.readouterr().out)


def test_unreachable_scheduler_is_a_one_line_error(capsys, monkeypatch):
    monkeypatch.setattr(_compare, "SCHEDULER_TIMEOUT", 1)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"
    code = main(["compare", "--data", "iris", "--scheduler", address, "--quiet"])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith(
        f"skdeep: error: --scheduler {address}: cannot reach a Dask scheduler there"
    )
    assert err.count("\n") == 1


def test_scheduler_local_starts_a_cluster_for_the_run(capsys):
    argv = ["compare", "--data", "iris", "--dropout", "0", "--scheduler", "local"]
    fast = [
        "--max-iter",
        "2",
        "--cv",
        "2",
        "--activation",
        "relu",
        "--batch-size",
        "32",
    ]
    assert main([*argv, *fast, "--optimizer", "adam"]) == 0
    out, err = capsys.readouterr()
    assert "on the Dask scheduler tcp://127.0.0.1:" in err
    assert len(_iris_rows(out)) == 1


def test_a_worker_without_a_module_is_a_clear_error(client):
    import importlib

    address = client.scheduler.address
    with pytest.raises(CLIError, match="a worker cannot import 'no_such_module'"):
        with _compare.dask_client(address) as remote:
            remote.submit(importlib.import_module, "no_such_module").result()
