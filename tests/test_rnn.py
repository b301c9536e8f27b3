"""RNNClassifier: accuracy, variable-length sequences, long range, clipping,
summaries and errors.

Accuracy thresholds sit below values measured on a 2-core CPU (noted next
to each); float32 X keeps the fits fast, float64 X makes exactness checks
exact.
"""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from skorch.callbacks import Callback

from skdeep import RNNClassifier
from skdeep.modules import RecurrentNet

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: on 2 shared cores a step big enough for the
    thread policy to take two threads ran up to ~100x slower when the other
    core was busy, which would make these timings meaningless."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def variable_length(n, seed=0, dtype=np.float32):
    """Sequences of 5 to 60 steps and 2 features; the class is whether the
    mean of feature 0 over the sequence is positive."""
    rng = np.random.RandomState(seed)
    X = []
    for _ in range(n):
        x = rng.randn(rng.randint(5, 61), 2)
        x[:, 0] += rng.choice([-1, 1]) * rng.uniform(0.1, 0.6)
        X.append(x.astype(dtype))
    y = np.array([int(x[:, 0].mean() > 0) for x in X])
    return X, y


@pytest.fixture(scope="module")
def sequences():
    X, y = variable_length(400)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def first_steps_decide(n=400, n_steps=100, seed=0):
    """100 steps of one feature: steps 0..2 hold the class's sign (+1 / -1),
    the other 97 are standard normal noise."""
    rng = np.random.RandomState(seed)
    y = rng.randint(2, size=n)
    X = rng.randn(n, n_steps, 1)
    X[:, :3, 0] = np.where(y == 1, 1.0, -1.0)[:, None]
    return X.astype(np.float32), y


# -- accuracy ---------------------------------------------------------------


def test_gru_reads_digits_row_by_row():
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)  # each row: 8 steps of 8 pixels
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    clf = RNNClassifier(
        "gru",
        64,
        input_shape=(8, 8),
        learning_rate=0.01,
        batch_size=32,
        max_iter=40,
        n_iter_no_change=40,  # run all 40 epochs of the cosine schedule
        lr_schedule="cosine",
        random_state=0,
    ).fit(X_train, y_train)
    # Measured 0.9867 (random_state 0..5: 0.980 to 0.991), ~2 s.
    assert clf.score(X_test, y_test) >= 0.97


def test_rows_with_input_shape_are_the_3d_sequences():
    X, y = load_digits(return_X_y=True)
    X, y = (X[:200] / 16).astype(np.float32), y[:200]
    params = dict(cell="gru", hidden_size=8, max_iter=2, random_state=0)
    rows = RNNClassifier(input_shape=(8, 8), **params).fit(X, y)
    steps = RNNClassifier(**params).fit(X.reshape(-1, 8, 8), y)
    np.testing.assert_array_equal(
        rows.predict_proba(X), steps.predict_proba(X.reshape(-1, 8, 8))
    )


def test_variable_length_lists_are_learned(sequences):
    X_train, X_test, y_train, y_test = sequences
    clf = RNNClassifier(
        "gru", 16, learning_rate=0.01, batch_size=32, max_iter=15, random_state=0
    ).fit(X_train, y_train)
    assert clf.n_features_in_ == 2
    # Measured 0.99 (random_state 0..2: 0.97 to 0.99), ~1 s.
    assert clf.score(X_test, y_test) > 0.9


@pytest.mark.parametrize("summary", ["last", "mean", "max"])
def test_float32_lstm_learns_variable_length_lists_with_masked_padding(
    sequences, monkeypatch, summary
):
    """The default cell on a float32 list: on a CPU with oneDNN the padded
    batch is masked, not packed; it learns, and each sequence alone gets its
    prediction in the batch."""
    X_train, X_test, y_train, y_test = sequences
    paths = []
    masks = RecurrentNet._masks_padding

    def spy(net, x):
        paths.append(masks(net, x))
        return paths[-1]

    monkeypatch.setattr(RecurrentNet, "_masks_padding", spy)
    clf = RNNClassifier(
        hidden_size=16, summary=summary, batch_size=32, max_iter=15, random_state=0
    ).fit(X_train, y_train)
    assert clf.module_.cell == "lstm" and clf._dtype == np.float32
    assert paths and all(paths) == torch.backends.mkldnn.is_available()
    # Measured 0.97-0.98 (last), 0.93-0.96 (mean), 0.95-0.97 (max), seeds 0-2.
    assert clf.score(X_test, y_test) > 0.9
    batch = clf.predict_proba(X_test[:40])
    alone = np.vstack([clf.predict_proba([x]) for x in X_test[:40]])
    np.testing.assert_allclose(alone, batch, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "bidirectional, num_layers, summary",
    [(False, 1, "last"), (True, 1, "last"), (True, 2, "mean"), (False, 2, "max")],
)
def test_a_sequence_alone_and_in_a_padded_batch_agree(
    bidirectional, num_layers, summary
):
    X, y = variable_length(120, dtype=np.float64)
    clf = RNNClassifier(
        "gru",
        8,
        bidirectional=bidirectional,
        num_layers=num_layers,
        summary=summary,
        max_iter=3,
        random_state=0,
    ).fit(X, y)
    batch = clf.predict_proba(X[:30])  # lengths 5..60: all but one padded
    alone = np.vstack([clf.predict_proba([x]) for x in X[:30]])
    np.testing.assert_allclose(alone, batch, rtol=1e-12)


@pytest.mark.parametrize(
    "bidirectional, num_layers", [(True, 1), (False, 2), (True, 2)]
)
def test_bidirectional_and_stacked_nets_train(sequences, bidirectional, num_layers):
    X_train, X_test, y_train, y_test = sequences
    clf = RNNClassifier(
        "gru",
        16,
        bidirectional=bidirectional,
        num_layers=num_layers,
        learning_rate=0.01,
        batch_size=32,
        max_iter=15,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.module_.rnn.num_layers == num_layers
    assert clf.module_.rnn.bidirectional == bidirectional
    # Measured 0.99 / 0.95 / 0.98 in the order above (random_state 0..2: 0.95
    # to 0.99); the majority class is 0.52 of the test set.
    assert clf.score(X_test, y_test) > 0.9


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_carry_the_first_steps_across_100_steps(cell):
    """The class sits in steps 0..2 and the summary is the last state, so the
    net must carry it across 97 steps of noise: what the gates are for."""
    X, y = first_steps_decide()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0
    )
    scores = [
        RNNClassifier(
            cell,
            16,
            learning_rate=0.01,
            batch_size=32,
            max_iter=30,
            n_iter_no_change=30,
            random_state=seed,
        )
        .fit(X_train, y_train)
        .score(X_test, y_test)
        for seed in range(3)
    ]
    # Measured (random_state 0, 1, 2): lstm 0.46 / 0.47 / 0.41, gru 1.0 /
    # 0.46 / 0.43, so this fails today. The same nets with the chrono
    # initialisation of the gate biases (Tallec & Ollivier 2018; forget /
    # update gate bias log U(1, 99)) reach lstm 0.99 / 1.0 / 0.99 and gru
    # 1.0 / 1.0 / 1.0 within these 30 epochs, and a plain torch loop with
    # torch's default initialisation fails as the estimator does: the
    # default initialisation, not the training loop, is what stops them.
    # (The plain "rnn" cell: 0.54 / 1.0 / 0.49, a coin toss per seed too.)
    assert min(scores) > 0.9, scores


# -- gradient clipping ------------------------------------------------------


class StepSizes(Callback):
    """The norm of each training step's change of all parameters."""

    def initialize(self):
        self.sizes = []
        return self

    @staticmethod
    def _flat(net):
        return torch.cat([p.detach().flatten() for p in net.module_.parameters()])

    def on_batch_begin(self, net, training=None, **kwargs):
        if training:
            self.before = self._flat(net).clone()

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            self.sizes.append(float((self._flat(net) - self.before).norm()))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_clip_grad_norm_bounds_every_sgd_step(cell):
    rng = np.random.RandomState(0)
    X, y = rng.randn(64, 10, 3), np.arange(64) % 2  # float64: exact norms
    params = dict(
        cell=cell,
        hidden_size=8,
        optimizer="sgd",  # plain SGD: a step is learning_rate * gradient
        learning_rate=1.0,
        alpha=0.0,  # weight decay would add to the clipped gradient
        batch_size=16,
        max_iter=2,
        random_state=0,
    )
    clip = 1e-3
    clipped = RNNClassifier(
        clip_grad_norm=clip, callbacks=[("steps", StepSizes())], **params
    ).fit(X, y)
    free = RNNClassifier(callbacks=[("steps", StepSizes())], **params).fit(X, y)
    clipped_steps = dict(clipped.net_.callbacks_)["steps"].sizes
    free_steps = dict(free.net_.callbacks_)["steps"].sizes
    assert len(clipped_steps) == len(free_steps) == 8
    # Unclipped, every gradient is far larger than the clip...
    assert min(free_steps) > 10 * clip
    # ...so every clipped step is learning_rate * clip_grad_norm long.
    np.testing.assert_allclose(clipped_steps, 1.0 * clip, rtol=1e-4)


# -- summaries --------------------------------------------------------------


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("summary", ["last", "mean", "max"])
def test_summaries_train_and_transform(sequences, summary, bidirectional):
    X_train, X_test, y_train, y_test = sequences
    clf = RNNClassifier(
        "gru",
        8,
        summary=summary,
        bidirectional=bidirectional,
        learning_rate=0.01,
        batch_size=32,
        max_iter=10,
        random_state=0,
    ).fit(X_train, y_train)
    # Measured 0.92 (max) to 0.98 (last) over the six combinations; the
    # majority class is 0.52 of the test set.
    assert clf.score(X_test, y_test) > 0.85
    width = 8 * (2 if bidirectional else 1)
    features = clf.transform(X_test)
    assert features.shape == (len(X_test), width) and np.isfinite(features).all()
    names = clf.get_feature_names_out()
    assert list(names) == [f"rnnclassifier{i}" for i in range(width)]


# -- errors -----------------------------------------------------------------

_rng = np.random.RandomState(0)
STEPS = _rng.randn(20, 5, 3).astype(np.float32)
LABELS = np.arange(20) % 2


def fit_small(X, y=LABELS, **params):
    return RNNClassifier("gru", 4, max_iter=1, random_state=0, **params).fit(X, y)


def _with_nan(X):
    X = X.copy()
    X[2, 3, 1] = np.nan
    return X


@pytest.mark.parametrize(
    "X, y, match",
    [
        (
            [_rng.randn(4, 3), _rng.randn(6, 3), _rng.randn(5, 2)],
            [0, 1, 0],
            r"X\[2\] has 2 features per step, but X\[0\] has 3",
        ),
        ([_rng.randn(4, 3), np.empty((0, 3))], [0, 1], r"X\[1\] is an empty sequence"),
        (STEPS.reshape(20, 5, 3, 1), LABELS, "got X with 4 dimensions"),
        (_with_nan(STEPS), LABELS, "Input X contains NaN"),
        (list(_with_nan(STEPS)), LABELS, r"Input X\[2\] contains NaN"),
    ],
    ids=["mixed-features", "empty-sequence", "4d", "nan-3d", "nan-list"],
)
def test_bad_input_at_fit(X, y, match):
    with pytest.raises(ValueError, match=match):
        fit_small(X, y)


def test_bad_input_at_predict():
    clf = fit_small(STEPS)
    assert clf.predict(_rng.randn(4, 9, 3)).shape == (4,)  # other lengths: fine
    for X in (STEPS[:, :, :2], list(STEPS[:, :, :2])):
        with pytest.raises(ValueError, match=r"2 features per step, but .* with 3"):
            clf.predict(X)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clf.predict(_with_nan(STEPS))
    with pytest.raises(ValueError, match="4 dimensions"):
        clf.predict(STEPS.reshape(20, 5, 3, 1))
    with pytest.raises(ValueError, match=r"X\[0\] is an empty sequence"):
        clf.predict([np.empty((0, 3))])


def test_sequence_lists_of_any_numeric_dtype_read_alike():
    """Float lists are padded without a conversion pass; other dtypes and mixed
    lists take the converting check: the same sequences, the same padded X."""
    clf = fit_small(STEPS)
    rng = np.random.RandomState(1)
    ints = [rng.randint(-3, 4, (t, 3)) for t in (4, 9, 1, 6)]
    as64 = [x.astype(np.float64) for x in ints]
    mixed = [x.astype(np.float32 if i % 2 else np.float64) for i, x in enumerate(ints)]
    padded, lengths = clf._check_X(as64, reset=False)
    assert padded.dtype == np.float64 and lengths.tolist() == [4, 9, 1, 6]
    for X in (ints, mixed, [x.astype(np.float32) for x in ints]):
        other, other_lengths = clf._check_X(X, reset=False)
        np.testing.assert_array_equal(other, padded)
        assert other.dtype in (np.float32, np.float64)
        np.testing.assert_array_equal(other_lengths, lengths)
        assert (other[2, 1:] == 0).all()  # zero padding past the length
    np.testing.assert_allclose(clf.predict_proba(ints), clf.predict_proba(as64))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_value_in_a_float_list_names_its_sequence(bad, dtype):
    clf = fit_small(STEPS)
    X = [x.astype(dtype) for x in STEPS[:5]]
    X[3][2, 0] = bad
    word = "NaN" if np.isnan(bad) else "infinity"
    with pytest.raises(ValueError, match=rf"Input X\[3\] contains {word}"):
        clf.predict(X)
