"""How many intra-op threads a training step uses."""

import contextlib
import sys

import torch

__all__ = ["SMALL_STEP_WORK", "inference_rows", "num_threads", "torch_threads"]

# Multiply-adds per inference chunk on a CPU. A chunk's activations beyond
# this outgrow the caches: an FCN predicted 500 series of 150 steps in half
# the time in chunks of 16 than in one; a 2-D ResNet-8 on 32x32 images was
# fastest near 256 rows. Small nets still predict in one chunk.
CPU_INFERENCE_WORK = 1e9

# Rows per inference chunk of padded sequences on a CPU. A float32 LSTM runs
# the padding (oneDNN: faster than packing), so chunks of similar lengths
# help: 500 sequences of 7-60 steps took 7.1 ms in chunks of 64-128 rows
# sorted by length, 8.0 in chunks of 256 and 10 in one. The thread policy
# then weighs one chunk, so an LSTM step under 1e7 / 128 multiply-adds per
# row predicts on one thread.
PADDED_CHUNK_ROWS = 128

# Multiply-adds per training step below which one intra-op thread is used.
# Measured on a 2-core machine (benchmarks/bench_threads.py): idle, a second
# thread gains 5-25% below this size (and 35-45% above it); with another
# process on the other core it costs 1.4-8x at every size. So only steps this
# big risk it; smaller ones stay immune.
SMALL_STEP_WORK = 10_000_000


def num_threads(step_work: float) -> int:
    """Intra-op threads for a training step of ``step_work`` multiply-adds.

    Never more than ``torch.get_num_threads()``, which already reflects
    ``OMP_NUM_THREADS``, a user's ``torch.set_num_threads`` and the limit
    joblib gives each ``GridSearchCV(n_jobs=...)`` worker; one in a Dask
    worker that runs several tasks at once (one per worker thread, all in
    one torch thread pool).
    """
    if step_work < SMALL_STEP_WORK or _dask_worker_threads() > 1:
        return 1
    return torch.get_num_threads()


def _dask_worker_threads() -> int:
    """The task threads of the Dask worker running this code; 0 outside one."""
    distributed = sys.modules.get("distributed")  # never imported for this
    if distributed is None:
        return 0
    try:
        return int(distributed.get_worker().state.nthreads)
    except ValueError:
        return 0


@contextlib.contextmanager
def torch_threads(n: int):
    """Use ``n`` intra-op threads inside the block, then restore."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            torch.set_num_threads(before)


def inference_rows(
    cost_per_sample: float, device: torch.device, *, padded: bool = False
) -> int:
    """Rows per inference chunk: memory-bound chunks on a GPU, cache-sized
    ones on a CPU (at least 16 rows, so per-call overhead stays small).

    ``padded``: the rows are right-padded sequences of different lengths,
    taken shortest first, each chunk trimmed to its own longest. On a CPU a
    chunk of at most ``PADDED_CHUNK_ROWS`` rows then carries little padding.
    """
    if device.type != "cpu":
        return 8192
    rows = int(min(8192, max(16, CPU_INFERENCE_WORK // max(cost_per_sample, 1))))
    return min(rows, PADDED_CHUNK_ROWS) if padded else rows
