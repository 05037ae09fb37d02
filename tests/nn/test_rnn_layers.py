"""nn.RNN / nn.LSTM / nn.GRU against PyTorch after copying weights: 1 and 2 layers,
bidirectional, batch_first both ways, with and without initial states, unbatched input,
projection, no bias; outputs, final states and every gradient, float32 and float64, on the
fused path and on the composed path."""
import numpy as np
import pytest

import autograd as ag
import nn
from tests.nn.rnn_helpers import make_pair, random_input, random_states, run_and_compare

MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]
DTYPES = [np.float32, np.float64]
PATHS = ["fused", "composed"]
T, B, IN, H = 5, 3, 4, 5

CASES = [  # (num_layers, bidirectional, batch_first, initial states)
    (1, False, False, False),
    (1, False, True, True),
    (2, False, False, True),
    (1, True, False, True),
    (2, True, True, False),
    (2, True, False, True),
]


def _state_sizes(mode, hidden, proj=0):
    return (proj or hidden, hidden) if mode == "LSTM" else (hidden,)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layers,bidir,batch_first,with_hx", CASES, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_layer_matches_torch(mode, layers, bidir, batch_first, with_hx, dtype, path):
    ours, theirs = make_pair(mode, dtype, input_size=IN, hidden_size=H, num_layers=layers,
                             bidirectional=bidir, batch_first=batch_first)
    ours.fused = path == "fused"
    rng = np.random.default_rng(layers * 7 + bidir * 3 + batch_first)
    x = random_input(rng, dtype, T, B, IN, batch_first)
    hx = random_states(rng, dtype, layers * (1 + bidir), False, B, _state_sizes(mode, H)) \
        if with_hx else None
    run_and_compare(ours, theirs, x, hx, dtype=dtype, where=f"{mode} {path}")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_unbatched_input(mode, dtype, path):
    ours, theirs = make_pair(mode, dtype, input_size=IN, hidden_size=H, num_layers=2,
                             bidirectional=True)
    ours.fused = path == "fused"
    rng = np.random.default_rng(3)
    x = random_input(rng, dtype, T, B, IN, unbatched=True)
    for hx in (None, random_states(rng, dtype, 4, True, B, _state_sizes(mode, H))):
        out = run_and_compare(ours, theirs, x, hx, dtype=dtype, where=f"{mode} unbatched")
        assert out[0].shape == (T, 2 * H) and out[1].shape == (4, H)
        ours.zero_grad()
        theirs.zero_grad()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layers,bidir,batch_first,with_hx", CASES[2:], ids=str)
def test_lstm_projection(layers, bidir, batch_first, with_hx, dtype, path):
    proj = 3
    ours, theirs = make_pair("LSTM", dtype, input_size=IN, hidden_size=H, num_layers=layers,
                             bidirectional=bidir, batch_first=batch_first, proj_size=proj)
    ours.fused = path == "fused"
    rng = np.random.default_rng(11)
    x = random_input(rng, dtype, T, B, IN, batch_first)
    hx = random_states(rng, dtype, layers * (1 + bidir), False, B, (proj, H)) \
        if with_hx else None
    out = run_and_compare(ours, theirs, x, hx, dtype=dtype, where=f"LSTM proj {path}")
    assert out[1].shape == (layers * (1 + bidir), B, proj)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("mode", MODES)
def test_no_bias(mode, path):
    ours, theirs = make_pair(mode, np.float64, input_size=IN, hidden_size=H, num_layers=2,
                             bias=False, bidirectional=True)
    ours.fused = path == "fused"
    assert [n for n, _ in ours.named_parameters()] == \
        [n for n, _ in theirs.named_parameters()]
    rng = np.random.default_rng(5)
    run_and_compare(ours, theirs, random_input(rng, np.float64, T, B, IN), None,
                    dtype=np.float64, where=f"{mode} no bias")


@pytest.mark.parametrize("mode", MODES)
def test_dropout_between_layers(mode):
    """dropout=1 zeroes the second layer's input in training (deterministic, as PyTorch);
    eval mode ignores dropout."""
    for train in (True, False):
        ours, theirs = make_pair(mode, np.float64, input_size=IN, hidden_size=H, num_layers=2,
                                 dropout=1.0 if train else 0.5)
        ours.train(train)
        theirs.train(train)
        rng = np.random.default_rng(2)
        run_and_compare(ours, theirs, random_input(rng, np.float64, T, B, IN), None,
                        dtype=np.float64, where=f"{mode} dropout train={train}")


def test_dropout_is_random_and_scaled():
    ag.manual_seed(0)
    lstm = nn.LSTM(4, 6, num_layers=2, dropout=0.5)
    x = ag.randn(7, 3, 4)
    a, _ = lstm(x)
    b, _ = lstm(x)
    assert not np.allclose(a.data, b.data)
    lstm.eval()
    c, _ = lstm(x)
    d, _ = lstm(x)
    np.testing.assert_array_equal(c.data, d.data)


@pytest.mark.parametrize("mode", MODES)
def test_parameters_layout_and_init(mode):
    hidden = 64
    ours, theirs = make_pair(mode, np.float32, input_size=10, hidden_size=hidden, num_layers=2,
                             bidirectional=True)
    ag.manual_seed(0)
    fresh = type(ours)(10, hidden, num_layers=2, bidirectional=True,
                       **({"nonlinearity": ours.nonlinearity} if mode.startswith("RNN")
                          else {}))
    bound = 1 / np.sqrt(hidden)
    for (name, p), (t_name, tp) in zip(fresh.named_parameters(), theirs.named_parameters()):
        assert name == t_name and tuple(p.shape) == tuple(tp.shape)
        assert p.dtype == np.float32
        assert np.abs(p.data).max() <= bound
    values = np.concatenate([p.data.ravel() for p in fresh.parameters()])
    assert abs(values.std() - bound / np.sqrt(3)) < 0.02 * bound
    assert len(fresh.all_weights) == 4 and len(fresh._flat_weights) == 16


def test_repr_matches_torch():
    import torch
    for ours, theirs in [
            (nn.LSTM(2, 3, proj_size=2, num_layers=2, dropout=0.5),
             torch.nn.LSTM(2, 3, proj_size=2, num_layers=2, dropout=0.5)),
            (nn.GRU(2, 3, bias=False, batch_first=True, bidirectional=True),
             torch.nn.GRU(2, 3, bias=False, batch_first=True, bidirectional=True)),
            (nn.RNN(2, 3, nonlinearity="relu"), torch.nn.RNN(2, 3, nonlinearity="relu")),
            (nn.RNNCell(2, 3, nonlinearity="relu"), torch.nn.RNNCell(2, 3, nonlinearity="relu")),
            (nn.LSTMCell(2, 3, bias=False), torch.nn.LSTMCell(2, 3, bias=False))]:
        assert repr(ours) == repr(theirs)


def test_float32_stays_float32():
    lstm = nn.LSTM(3, 4, bidirectional=True)
    x = ag.randn(5, 2, 3, requires_grad=True)
    out, (h, c) = lstm(x)
    assert out.dtype == np.float32 and h.dtype == np.float32 and c.dtype == np.float32
    (out.sum() + h.sum()).backward()
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in lstm.parameters())
