"""The training loop's pieces: batches by index slicing, tensors made once."""

import numpy as np
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

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
