"""The training loop's pieces: batches by index slicing, tensors made once."""

import numpy as np
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

from skdeep import _net
from skdeep._base import to_tensor
from skdeep._net import BatchIterator, TensorData


@given(
    n=st.integers(1, 300),
    batch_size=st.integers(1, 320),
    shuffle=st.booleans(),
    min_batch=st.sampled_from([1, 2]),
    split=st.booleans(),
)
def test_every_row_once_per_epoch(n, batch_size, shuffle, min_batch, split):
    assume(batch_size >= min_batch)  # the estimator rejects smaller batches
    X = torch.arange(n, dtype=torch.float32)[:, None]
    data = TensorData((X,), torch.arange(n))
    if split:
        data = data.subset(torch.arange(0, n, 2))
    batches = BatchIterator(
        data, batch_size, shuffle, torch.Generator().manual_seed(0), min_batch
    )
    seen = [int(v) for xb, yb, _ in batches for v in yb]
    assert sorted(seen) == sorted(range(0, n, 2) if split else range(n))
    sizes = [len(yb) for _, yb, _ in batches]
    assert len(sizes) == len(batches)
    if len(sizes) > 1:
        assert min(sizes) >= min_batch


def test_float32_input_is_not_copied():
    X = np.random.RandomState(0).rand(10, 3).astype(np.float32)
    assert to_tensor(X, torch.device("cpu")).data_ptr() == X.ctypes.data
    readonly = X.copy()
    readonly.setflags(write=False)
    assert to_tensor(readonly, torch.device("cpu")).data_ptr() == readonly.ctypes.data


def test_cpu_inference_runs_in_cache_sized_chunks_with_the_same_result(monkeypatch):
    from skdeep import CNNClassifier, _threads

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert _threads.inference_rows(7e3, cpu) == 8192  # a small net: one chunk
    assert _threads.inference_rows(4e7, cpu) == 25  # an FCN on 150 steps
    assert _threads.inference_rows(1e9, cpu) == 16  # never below 16 rows
    assert _threads.inference_rows(4e7, cuda) == 8192
    rng = np.random.RandomState(0)
    X = rng.randn(100, 1, 40).astype(np.float32)
    est = CNNClassifier("fcn", max_iter=1, random_state=0).fit(X, np.arange(100) % 2)
    chunks = []
    infer = _net.SkdeepNet.infer

    def recording(net, data, **kwargs):
        chunks.append(kwargs["chunk_rows"])
        return infer(net, data, **kwargs)

    monkeypatch.setattr(_net.SkdeepNet, "infer", recording)
    small = est.predict_proba(X)
    monkeypatch.setattr(_threads, "CPU_INFERENCE_WORK", 1e30)
    whole = est.predict_proba(X)
    assert chunks[0] < 100 and chunks[1] == 8192
    np.testing.assert_allclose(small, whole, rtol=1e-6, atol=1e-7)


def test_padded_sequences_infer_in_length_order_and_come_back_in_order(monkeypatch):
    """Chunks of sequences sorted by length, each trimmed to its longest;
    the outputs return in the caller's order, for a whole set and a subset."""
    from skdeep import RNNClassifier, _threads

    cpu = torch.device("cpu")
    assert _threads.inference_rows(2e4, cpu, padded=True) == 128
    assert _threads.inference_rows(1e9, cpu, padded=True) == 16
    assert _threads.inference_rows(2e4, torch.device("cuda"), padded=True) == 8192
    rng = np.random.RandomState(0)
    X = [rng.randn(t, 2) for t in rng.randint(1, 30, 60)]
    y = np.arange(60) % 2
    est = RNNClassifier("gru", 4, max_iter=1, random_state=0).fit(X, y)
    alone = np.vstack([est.predict_proba([x]) for x in X])
    trimmed = []
    forward = est.module_.forward

    def recording(x, lengths=None):
        trimmed.append((x.shape[1], None if lengths is None else int(lengths.max())))
        return forward(x, lengths)

    monkeypatch.setattr(est.module_, "forward", recording)
    monkeypatch.setattr(_threads, "PADDED_CHUNK_ROWS", 7)
    np.testing.assert_allclose(est.predict_proba(X), alone, rtol=1e-12)
    assert len(trimmed) == 9  # ceil(60 / 7) chunks, shortest sequences first
    assert all(steps == longest for steps, longest in trimmed)
    assert [steps for steps, _ in trimmed] == sorted(steps for steps, _ in trimmed)
    assert trimmed[0][0] < trimmed[-1][0] == max(len(x) for x in X)
    # A subset of rows, as a validation split passes them.
    data = est._to_data(est._check_X(X, reset=False), cpu)
    rows = torch.tensor([50, 3, 17, 40, 8, 29, 0, 33, 12])
    subset = est.net_.infer(data.subset(rows), chunk_rows=4)
    whole = est.net_.infer(data)
    torch.testing.assert_close(subset, whole[rows], rtol=0, atol=1e-12)
