"""Data shared by the test modules."""

import signal

import numpy as np
import pytest
from scipy.ndimage import shift
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


@pytest.fixture(autouse=True, scope="session")
def _ctrl_c_reaches_python():
    """Python's Ctrl-C handler, even when pytest was started in the
    background (``cmd &``), which starts it with SIGINT ignored: the Ctrl-C
    tests raise SIGINT as a terminal would deliver it."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


@pytest.fixture(scope="session")
def nudged_digits():
    """Digits in [0, 1], each image also shifted one pixel four ways.

    scikit-learn's RBM example uses this set: the shifted copies make raw
    pixels a poor representation for a linear model, which learned features
    fix.
    """
    X, y = load_digits(return_X_y=True)
    # float32: the fast path the accuracy tests of the RBM family run on.
    images = (X.reshape(-1, 8, 8) / 16).astype(np.float32)
    moves = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]
    X = np.concatenate(
        [shift(images, (0, *move), order=0).reshape(len(X), -1) for move in moves]
    )
    y = np.tile(y, len(moves))
    return train_test_split(X, y, test_size=0.2, random_state=0)
