"""nn.utils.rnn (pad_sequence, pack_padded_sequence both ways, pad_packed_sequence,
pack_sequence, unpad/unpack) against torch.nn.utils.rnn, gradients through packing, and the
recurrent layers on packed sequences against PyTorch's."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn
from nn.utils import rnn as R
from tests.nn.rnn_helpers import make_pair, random_input, random_states, run_and_compare

TR = torch.nn.utils.rnn
LENGTHS = {"sorted": [5, 5, 3, 2], "unsorted": [2, 5, 1, 4, 5, 3], "single": [4]}


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.data


def _same_packed(ours, theirs):
    np.testing.assert_array_equal(_np(ours.data), _np(theirs.data))
    np.testing.assert_array_equal(_np(ours.batch_sizes), _np(theirs.batch_sizes))
    for a, b in ((ours.sorted_indices, theirs.sorted_indices),
                 (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(_np(a), _np(b))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("case", ["sorted", "unsorted", "single"])
def test_pack_and_pad_match_torch(case, batch_first):
    lengths = LENGTHS[case]
    rng = np.random.default_rng(0)
    steps, batch = max(lengths) + 1, len(lengths)
    shape = (batch, steps, 3) if batch_first else (steps, batch, 3)
    x = rng.standard_normal(shape).astype(np.float32)
    for enforce in ([True, False] if case != "unsorted" else [False]):
        ours = R.pack_padded_sequence(ag.tensor(x), lengths, batch_first, enforce)
        theirs = TR.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths), batch_first,
                                         enforce)
        _same_packed(ours, theirs)
        for total in (None, steps + 2):
            a, al = R.pad_packed_sequence(ours, batch_first, -1.5, total)
            t, tl = TR.pad_packed_sequence(theirs, batch_first, -1.5, total)
            np.testing.assert_array_equal(a.data, t.numpy())
            np.testing.assert_array_equal(al.data, tl.numpy())
            assert al.dtype == np.int64


def test_unsorted_ties_in_large_batch_are_stable():
    """Batch of 20 with tied lengths: torch.sort (descending) is not stable from 17 elements
    on, so sorted_indices may differ from PyTorch's; ours orders ties by index, and
    batch_sizes and the round trip pad(pack(x)) are PyTorch's."""
    lengths = [5, 4, 3, 2, 2, 1, 1, 1, 1, 5, 4, 5, 3, 4, 5, 4, 4, 3, 3, 5]
    rng = np.random.default_rng(4)
    x = rng.standard_normal((max(lengths), len(lengths), 3)).astype(np.float32)
    ours = R.pack_padded_sequence(ag.tensor(x), lengths, enforce_sorted=False)
    theirs = TR.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths),
                                     enforce_sorted=False)
    np.testing.assert_array_equal(_np(ours.batch_sizes), _np(theirs.batch_sizes))
    order = _np(ours.sorted_indices)
    np.testing.assert_array_equal(np.sort(order), np.arange(len(lengths)))
    by_length = np.asarray(lengths)[order]
    assert np.all(np.diff(by_length) <= 0)                          # non-increasing lengths
    assert np.all(np.diff(order)[np.diff(by_length) == 0] > 0)      # ties by increasing index
    np.testing.assert_array_equal(order[_np(ours.unsorted_indices)], np.arange(len(lengths)))
    a, al = R.pad_packed_sequence(ours, padding_value=-1.5)
    t, tl = TR.pad_packed_sequence(theirs, padding_value=-1.5)
    np.testing.assert_array_equal(a.data, t.numpy())
    np.testing.assert_array_equal(al.data, tl.numpy())
    ours_lstm, theirs_lstm = make_pair("LSTM", np.float32, input_size=3, hidden_size=4)
    run_and_compare(ours_lstm, theirs_lstm, x, lengths=lengths, enforce_sorted=False,
                    dtype=np.float32, where="LSTM packed, 20 tied lengths")


def test_pack_padded_requires_sorted_lengths():
    x = ag.zeros(5, 3, 2)
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        R.pack_padded_sequence(x, [2, 5, 1])
    with pytest.raises(RuntimeError, match="greater than 0"):
        R.pack_padded_sequence(x, [3, 2, 0])
    with pytest.raises(RuntimeError, match="expected 3 lengths"):
        R.pack_padded_sequence(x, [3, 2])
    with pytest.raises(RuntimeError, match="exceeds"):
        R.pack_padded_sequence(x, [6, 2, 1])
    packed = R.pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(ValueError, match="total_length"):
        R.pad_packed_sequence(packed, total_length=2)


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((n, 2, 3)) for n in (3, 1, 4, 4)]
    ours = R.pad_sequence([ag.tensor(a) for a in arrays], batch_first, 7.0, padding_side)
    theirs = TR.pad_sequence([torch.tensor(a) for a in arrays], batch_first, 7.0,
                             padding_side)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    tokens = [np.array([3, 1, 2]), np.array([5])]
    ours = R.pad_sequence([ag.tensor(a) for a in tokens], batch_first, -1)
    theirs = TR.pad_sequence([torch.tensor(a) for a in tokens], batch_first, -1)
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    assert ours.dtype == np.int64


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack(enforce_sorted):
    rng = np.random.default_rng(2)
    sizes = (4, 3, 1) if enforce_sorted else (2, 4, 1, 3)
    arrays = [rng.standard_normal((n, 3)).astype(np.float32) for n in sizes]
    ours = R.pack_sequence([ag.tensor(a) for a in arrays], enforce_sorted)
    theirs = TR.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted)
    _same_packed(ours, theirs)
    for a, t in zip(R.unpack_sequence(ours), TR.unpack_sequence(theirs)):
        np.testing.assert_array_equal(a.data, t.numpy())
    padded, lengths = R.pad_packed_sequence(ours, batch_first=True)
    for a, b in zip(R.unpad_sequence(padded, lengths, batch_first=True), arrays):
        np.testing.assert_array_equal(a.data, b)


def test_gradients_flow_through_packing():
    """d/dx of sum(w * pad(pack(x))): w at the valid positions, zero at the padding."""
    rng = np.random.default_rng(3)
    lengths = [2, 4, 1]
    x = rng.standard_normal((4, 3, 2))
    w = rng.standard_normal((4, 3, 2))
    ax, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a = R.pad_packed_sequence(R.pack_padded_sequence(ax, lengths, enforce_sorted=False))[0]
    t = TR.pad_packed_sequence(TR.pack_padded_sequence(tx, torch.tensor(lengths),
                                                       enforce_sorted=False))[0]
    (a * ag.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(ax.grad.data, tx.grad.numpy())
    seqs = [ag.tensor(rng.standard_normal((n, 2)), requires_grad=True) for n in lengths]
    padded = R.pad_sequence(seqs, batch_first=True)
    (padded * 2.0).sum().backward()
    assert all(np.all(s.grad.data == 2.0) for s in seqs)


def test_packed_sequence_api():
    packed = R.pack_sequence([ag.ones(3, 2), ag.ones(2, 2)])
    assert isinstance(packed, tuple) and packed.sorted_indices is None
    assert packed.double().data.dtype == np.float64 and packed.to(ag.float64).batch_sizes is \
        packed.batch_sizes
    data, batch_sizes, _, _ = packed
    assert batch_sizes.tolist() == [2, 2, 1] and data.shape == (5, 2)
    again = R.PackedSequence(data, batch_sizes, ag.tensor([1, 0]))
    assert again.unsorted_indices.tolist() == [1, 0]


MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


@pytest.mark.parametrize("path", ["fused", "composed"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bidir,with_hx,enforce", [(False, False, True), (True, True, False),
                                                   (False, True, False),
                                                   (True, False, True)], ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_layers_on_packed_sequences(mode, bidir, with_hx, enforce, dtype, path):
    lengths = [6, 4, 4, 1] if enforce else [3, 6, 1, 4, 6]
    ours, theirs = make_pair(mode, dtype, input_size=3, hidden_size=4, num_layers=2,
                             bidirectional=bidir)
    ours.fused = path == "fused"
    rng = np.random.default_rng(len(lengths) + bidir)
    x = random_input(rng, dtype, max(lengths), len(lengths), 3)
    sizes = (4, 4) if mode == "LSTM" else (4,)
    hx = random_states(rng, dtype, 2 * (1 + bidir), False, len(lengths), sizes) \
        if with_hx else None
    run_and_compare(ours, theirs, x, hx, lengths=lengths, enforce_sorted=enforce,
                    dtype=dtype, where=f"{mode} packed {path}")


@pytest.mark.parametrize("path", ["fused", "composed"])
def test_projected_lstm_on_packed_batch_first(path):
    ours, theirs = make_pair("LSTM", np.float64, input_size=3, hidden_size=5, num_layers=2,
                             bidirectional=True, batch_first=True, proj_size=2)
    ours.fused = path == "fused"
    rng = np.random.default_rng(9)
    lengths = [2, 5, 3]
    x = random_input(rng, np.float64, 5, 3, 3, batch_first=True)
    hx = random_states(rng, np.float64, 4, False, 3, (2, 5))
    run_and_compare(ours, theirs, x, hx, lengths=lengths, enforce_sorted=False,
                    dtype=np.float64, where="LSTM proj packed")


def test_packed_output_keeps_packing():
    gru = nn.GRU(3, 4)
    packed = R.pack_sequence([ag.randn(3, 3), ag.randn(5, 3)], enforce_sorted=False)
    out, h = gru(packed)
    assert isinstance(out, R.PackedSequence) and out.data.shape == (8, 4)
    assert out.batch_sizes is packed.batch_sizes and h.shape == (1, 2, 4)
    np.testing.assert_array_equal(out.unsorted_indices.data, packed.unsorted_indices.data)
