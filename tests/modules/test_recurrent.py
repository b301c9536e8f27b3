"""Tests of the plain-torch recurrent module."""

import itertools
import warnings

import pytest
import torch
from torch import nn

from skdeep.modules._interface import FeatureModule
from skdeep.modules._recurrent import CELLS, SUMMARIES, RecurrentNet

N_FEATURES = 3
LENGTHS = [7, 3, 5, 1, 6]
T_MAX = 7


def _net(cell="lstm", dtype=torch.float64, seed=0, **params):
    torch.manual_seed(seed)
    params = {"hidden_size": 5, **params}
    return RecurrentNet(N_FEATURES, 2, cell=cell, **params).to(dtype).eval()


def _padded_batch(dtype=torch.float64, fill=0.0, seed=1):
    """Right-padded sequences, their lengths, and each sequence alone."""
    gen = torch.Generator().manual_seed(seed)
    alone = [torch.randn(t, N_FEATURES, generator=gen, dtype=dtype) for t in LENGTHS]
    x = torch.full((len(LENGTHS), T_MAX, N_FEATURES), fill, dtype=dtype)
    for i, seq in enumerate(alone):
        x[i, : len(seq)] = seq
    return x, torch.tensor(LENGTHS), alone


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("summary", SUMMARIES)
def test_shapes(cell, bidirectional, num_layers, summary):
    net = _net(
        cell,
        bidirectional=bidirectional,
        num_layers=num_layers,
        summary=summary,
        hidden_layer_sizes=(4,) if num_layers == 2 else (),
    )
    assert isinstance(net, FeatureModule)
    x, lengths, _ = _padded_batch()
    width = 5 * (2 if bidirectional else 1)
    expected_embed = 4 if num_layers == 2 else width
    assert net.summary_size == width
    assert net.n_features_out == expected_embed
    for lens in (None, lengths):
        assert net(x, lens).shape == (5, 2)
        assert net.embed(x, lens).shape == (5, expected_embed)
        assert net.summarize(x, lens).shape == (5, width)
        assert net.outputs(x, lens).shape == (5, T_MAX, width)


@pytest.mark.parametrize(
    ("cell", "bidirectional", "summary"),
    list(itertools.product(CELLS, [False, True], SUMMARIES)),
)
def test_padding_never_leaks(cell, bidirectional, summary):
    net = _net(cell, bidirectional=bidirectional, summary=summary, num_layers=2)
    x, lengths, alone = _padded_batch()
    with torch.no_grad():
        batch = net.summarize(x, lengths)
        batch_out = net(x, lengths)
        for i, seq in enumerate(alone):
            single = net.summarize(seq[None], None)
            own_length = net.summarize(seq[None], torch.tensor([len(seq)]))
            torch.testing.assert_close(batch[i], single[0], rtol=0, atol=1e-12)
            torch.testing.assert_close(own_length, single, rtol=0, atol=1e-12)
            torch.testing.assert_close(
                batch_out[i], net(seq[None])[0], rtol=0, atol=1e-12
            )


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("summary", SUMMARIES)
def test_padding_never_leaks_float32(cell, summary):
    net = _net(cell, dtype=torch.float32, bidirectional=True, summary=summary)
    x, lengths, alone = _padded_batch(dtype=torch.float32)
    with torch.no_grad():
        batch = net(x, lengths)
        for i, seq in enumerate(alone):
            torch.testing.assert_close(
                batch[i], net(seq[None])[0], rtol=1e-5, atol=1e-6
            )


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("summary", SUMMARIES)
@pytest.mark.parametrize("fill", [1e6, float("nan"), float("inf")])
def test_garbage_padding_is_ignored(cell, summary, fill):
    net = _net(cell, bidirectional=True, summary=summary)
    x, lengths, _ = _padded_batch()
    dirty, _, _ = _padded_batch(fill=fill)
    with torch.no_grad():
        clean_out = net(x, lengths)
        dirty_out = net(dirty, lengths)
        dirty_steps = net.outputs(dirty, lengths)
    assert torch.equal(clean_out, dirty_out)
    assert torch.isfinite(dirty_steps).all()
    for i, length in enumerate(LENGTHS):
        assert (dirty_steps[i, length:] == 0).all()


def test_gradient_ignores_padding():
    net = _net("gru", bidirectional=True, summary="mean")
    x, lengths, _ = _padded_batch()
    x.requires_grad_(True)
    net(x, lengths).sum().backward()
    for i, length in enumerate(LENGTHS):
        assert (x.grad[i, length:] == 0).all()
        assert (x.grad[i, :length] != 0).any()


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("summary", SUMMARIES)
def test_full_lengths_match_no_lengths(cell, summary):
    net = _net(cell, bidirectional=True, num_layers=2, summary=summary)
    x, _, _ = _padded_batch()
    full = torch.full((len(x),), T_MAX, dtype=torch.int64)
    with torch.no_grad():
        torch.testing.assert_close(net(x, full), net(x), rtol=0, atol=1e-12)
        torch.testing.assert_close(
            net.outputs(x, full), net.outputs(x), rtol=0, atol=1e-12
        )


def test_last_summary_is_final_states():
    """The "last" summary: forward state at the last valid step, backward at 0."""
    net = _net("lstm", bidirectional=True, summary="last", num_layers=2)
    x, lengths, _ = _padded_batch()
    with torch.no_grad():
        steps = net.outputs(x, lengths)
        last = net.summarize(x, lengths)
    for i, length in enumerate(LENGTHS):
        torch.testing.assert_close(last[i, :5], steps[i, length - 1, :5])
        torch.testing.assert_close(last[i, 5:], steps[i, 0, 5:])


def test_summaries_pool_valid_steps():
    x, lengths, _ = _padded_batch()
    nets = {s: _net("rnn", summary=s) for s in SUMMARIES}
    with torch.no_grad():
        steps = nets["mean"].outputs(x, lengths)
        mean = nets["mean"].summarize(x, lengths)
        biggest = nets["max"].summarize(x, lengths)
    for i, length in enumerate(LENGTHS):
        torch.testing.assert_close(mean[i], steps[i, :length].mean(0))
        torch.testing.assert_close(biggest[i], steps[i, :length].amax(0))
    # Tanh states are below 1, so a max over padding zeros would show.
    assert (biggest < 0).any()


@pytest.mark.parametrize(("cell", "gates"), [("rnn", 1), ("gru", 3), ("lstm", 4)])
def test_cost_per_sample_hand_count(cell, gates):
    net = RecurrentNet(
        3,
        2,
        cell=cell,
        hidden_size=4,
        num_layers=2,
        bidirectional=True,
        hidden_layer_sizes=(6,),
        n_steps=10,
    )
    layer0 = 2 * gates * 4 * (3 + 4)  # two directions, input 3
    layer1 = 2 * gates * 4 * (8 + 4)  # input: both directions' states
    head = 8 * 6 + 6 * 2
    # One time step: the steps run one after another (see the docstring).
    assert net.cost_per_sample() == layer0 + layer1 + head


@pytest.mark.parametrize("hidden_layer_sizes", [(), (8,)])
def test_dropout_only_in_train_mode(hidden_layer_sizes):
    net = _net("gru", num_layers=2, dropout=0.5, hidden_layer_sizes=hidden_layer_sizes)
    assert net.rnn.dropout == 0.5
    x, lengths, _ = _padded_batch()
    with torch.no_grad():
        net.train()
        assert not torch.equal(net(x, lengths), net(x, lengths))
        net.eval()
        torch.testing.assert_close(net(x, lengths), net(x, lengths), rtol=0, atol=0)


def test_summary_dropout_without_hidden_layers():
    net = _net("rnn", dropout=0.5)
    assert isinstance(net.summary_dropout, nn.Dropout)
    x, _, _ = _padded_batch()
    net.train()
    with torch.no_grad():
        assert not torch.equal(net(x), net(x))
        # transform-style features are the summary, not dropped.
        assert torch.equal(net.embed(x), net.embed(x))


def test_single_layer_dropout_no_torch_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = RecurrentNet(2, 1, cell="lstm", dropout=0.3, hidden_layer_sizes=(4,))
    assert net.rnn.dropout == 0
    assert isinstance(net.summary_dropout, nn.Identity)


def test_gru_learns_first_step_sign():
    torch.manual_seed(0)
    x = torch.randn(256, 6, 2)
    y = (x[:, 0].sum(1) > 0).long()
    lengths = torch.randint(1, 7, (256,))
    net = RecurrentNet(2, 2, cell="gru", hidden_size=16)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.03)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(60):
        optimizer.zero_grad()
        loss = loss_fn(net(x, lengths), y)
        loss.backward()
        optimizer.step()
    x_test = torch.randn(256, 6, 2)
    y_test = (x_test[:, 0].sum(1) > 0).long()
    lengths_test = torch.randint(1, 7, (256,))
    with torch.no_grad():
        accuracy = (net(x_test, lengths_test).argmax(1) == y_test).float().mean()
    assert accuracy > 0.9


def test_invalid_cell_lists_names():
    with pytest.raises(ValueError, match=r"'rnn', 'lstm', 'gru'.*'elman'"):
        RecurrentNet(2, 1, cell="elman")


def test_invalid_summary_lists_names():
    with pytest.raises(ValueError, match="'last', 'mean', 'max'"):
        RecurrentNet(2, 1, summary="first")


@pytest.mark.parametrize("bad", [[0, 2], [3, 8], [2]])
def test_invalid_lengths_raise(bad):
    net = _net("gru")
    x = torch.zeros(2, 3, N_FEATURES, dtype=torch.float64)
    with pytest.raises(ValueError, match="lengths"):
        net(x, torch.tensor(bad))


def test_lengths_from_other_dtype_and_extra_repr():
    net = _net("gru", summary="max")
    x, lengths, _ = _padded_batch()
    with torch.no_grad():
        torch.testing.assert_close(net(x, lengths.int()), net(x, lengths))
    assert "cell='gru'" in repr(net)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("summary", SUMMARIES)
def test_cuda_matches_cpu(summary):
    net = _net("lstm", bidirectional=True, summary=summary)
    x, lengths, _ = _padded_batch()
    with torch.no_grad():
        cpu = net(x, lengths)
        gpu = net.cuda()(x.cuda(), lengths.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu)


# -- the masked path: a forward-only float32 LSTM on the CPU ------------------


def _force_path(monkeypatch, masks: bool) -> None:
    monkeypatch.setattr(RecurrentNet, "_masks_padding", lambda self, x: masks)


def test_masked_path_chosen_only_where_it_is_faster(monkeypatch):
    x32 = torch.zeros(2, 3, N_FEATURES)
    onednn = torch.backends.mkldnn.is_available()
    assert _net("lstm", dtype=torch.float32)._masks_padding(x32) == onednn
    assert not _net("lstm", dtype=torch.float64)._masks_padding(x32.double())
    assert not _net("gru", dtype=torch.float32)._masks_padding(x32)
    bidirectional = _net("lstm", dtype=torch.float32, bidirectional=True)
    assert not bidirectional._masks_padding(x32)
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    assert not _net("lstm", dtype=torch.float32)._masks_padding(x32)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("fill", [0.0, float("nan"), float("inf")])
def test_masking_matches_packing(monkeypatch, cell, num_layers, fill):
    """Float64, where masking runs torch's plain loop: the two paths agree to
    rounding in every summary, per-step output and parameter gradient, even
    with garbage in the padding."""
    x, lengths, _ = _padded_batch(fill=fill)
    results = {}
    for masks in (False, True):
        _force_path(monkeypatch, masks)
        for summary in SUMMARIES:
            net = _net(cell, num_layers=num_layers, summary=summary)
            out = net(x, lengths)
            out.square().sum().backward()
            grads = [p.grad for p in net.parameters()]
            with torch.no_grad():
                steps = net.outputs(x, lengths)
            results[masks, summary] = (out.detach(), steps, grads)
    for summary in SUMMARIES:
        packed, masked = results[False, summary], results[True, summary]
        torch.testing.assert_close(masked[0], packed[0], rtol=0, atol=1e-12)
        torch.testing.assert_close(masked[1], packed[1], rtol=0, atol=1e-12)
        for g_masked, g_packed in zip(masked[2], packed[2], strict=True):
            assert torch.isfinite(g_masked).all()
            torch.testing.assert_close(g_masked, g_packed, rtol=0, atol=1e-12)


def test_masked_path_input_gradient_ignores_padding(monkeypatch):
    _force_path(monkeypatch, True)
    net = _net("lstm", summary="last")
    x, lengths, _ = _padded_batch()
    x.requires_grad_(True)
    net(x, lengths).sum().backward()
    for i, length in enumerate(LENGTHS):
        assert (x.grad[i, length:] == 0).all()
        assert (x.grad[i, :length] != 0).any()


@pytest.mark.parametrize("summary", SUMMARIES)
def test_float32_lstm_alone_and_in_batch(summary):
    """The float32 LSTM's own path (oneDNN where torch has it) keeps padding
    out: each sequence matches itself alone and the packed float64 result."""
    net = _net("lstm", dtype=torch.float32, num_layers=2, summary=summary)
    x, lengths, alone = _padded_batch(dtype=torch.float32, fill=float("nan"))
    with torch.no_grad():
        batch = net(x, lengths)
        reference = net.double()(x.double().nan_to_num(0.0), lengths)
        net.float()
        for i, seq in enumerate(alone):
            torch.testing.assert_close(
                batch[i], net(seq[None])[0], rtol=1e-5, atol=1e-6
            )
    torch.testing.assert_close(batch.double(), reference, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="needs oneDNN")
@pytest.mark.parametrize("summary", SUMMARIES)
def test_float32_masked_gradients_match_packing(monkeypatch, summary):
    """oneDNN's own backward pass (float32) against packing's, in train mode."""
    x, lengths, _ = _padded_batch(dtype=torch.float32, fill=float("nan"))
    grads = {}
    for masks in (True, False):
        if not masks:
            _force_path(monkeypatch, False)
        net = _net("lstm", dtype=torch.float32, num_layers=2, summary=summary).train()
        assert net._masks_padding(x) == masks
        net(x, lengths).square().sum().backward()
        grads[masks] = [p.grad for p in net.parameters()]
    for g_masked, g_packed in zip(grads[True], grads[False], strict=True):
        torch.testing.assert_close(g_masked, g_packed, rtol=1e-4, atol=1e-6)
