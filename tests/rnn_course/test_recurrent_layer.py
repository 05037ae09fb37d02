"""RecurrentLayer (any cell over time) against torch.nn.RNN/LSTM/GRU; the variant layers on
nn.RNNBase against RecurrentLayer of the same cells (padded and packed); higher order."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn
from autograd.autograd import gradcheck, gradgradcheck
from nn.rnn_variants import (CoupledLSTM, CoupledLSTMCell, LeakyRNN, LeakyRNNCell,
                             PeepholeLSTM, PeepholeLSTMCell, RecurrentLayer, SkipRNN,
                             SkipRNNCell)
from tests.rnn_course import torch_ref as R

IN, H, T, B = 3, 4, 5, 2
TORCH = {"LSTM": (nn.LSTMCell, torch.nn.LSTM, 2), "GRU": (nn.GRUCell, torch.nn.GRU, 1),
         "RNN": (nn.RNNCell, torch.nn.RNN, 1)}


def _flat(state):
    return (state,) if isinstance(state, (ag.Tensor, torch.Tensor)) else tuple(state)


def _pack(states):
    return states[0] if len(states) == 1 else tuple(states)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", list(TORCH))
@pytest.mark.parametrize("layers, bidirectional, batch_first, with_state",
                         [(1, False, False, False), (2, True, True, True),
                          (2, False, False, True)])
def test_layer_of_torch_cells_matches_torch(kind, layers, bidirectional, batch_first,
                                            with_state, dtype):
    cell, torch_cls, n_states = TORCH[kind]
    torch.manual_seed(0)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    theirs = torch_cls(IN, H, num_layers=layers, bidirectional=bidirectional,
                       batch_first=batch_first).to(tdt)
    ours = RecurrentLayer(cell, IN, H, num_layers=layers, bidirectional=bidirectional,
                          batch_first=batch_first, dtype=ag.float64 if dtype == np.float64
                          else ag.float32)
    R.copy_layer_to_cells(theirs, ours)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (B, T, IN) if batch_first else (T, B, IN)).astype(dtype)
    k = layers * (2 if bidirectional else 1)
    states = R.random_arrays(rng, [(k, B, H)] * n_states, dtype) if with_state else []
    ax, *ah = R.to_ours([x] + states)
    tx, *th = R.to_torch([x] + states)
    a_out, a_state = ours(ax, _pack(ah) if ah else None)
    t_out, t_state = theirs(tx, _pack(th) if th else None)
    a_all, t_all = (a_out,) + _flat(a_state), (t_out,) + _flat(t_state)
    grads = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_all]
    for j, (a, t) in enumerate(zip(a_all, t_all)):
        R.assert_close(f"{kind} result {j}", a, t, dtype)
    ag.backward(list(a_all), [ag.tensor(g) for g in grads])
    torch.autograd.backward(list(t_all), [torch.tensor(g) for g in grads])
    R.assert_close("grad x", ax.grad, tx.grad, dtype)
    for a, t in zip(ah, th):
        R.assert_close("grad state", a.grad, t.grad, dtype)
    directions = 2 if bidirectional else 1
    t_params = dict(theirs.named_parameters())
    for j, c in enumerate(ours.cells):
        suffix = f"_l{j // directions}" + ("_reverse" if j % directions else "")
        for name, p in c.named_parameters():
            R.assert_close(f"grad {name}{suffix}", p.grad, t_params[name + suffix].grad, dtype)


VARIANTS = {  # layer on nn.RNNBase, its cell, the cell's keyword arguments, states
    "peephole": (PeepholeLSTM, PeepholeLSTMCell, {}, 2),
    "coupled": (CoupledLSTM, CoupledLSTMCell, {}, 2),
    "leaky_fixed": (LeakyRNN, LeakyRNNCell, {"mu": 0.6}, 1),
    "leaky_learned": (LeakyRNN, LeakyRNNCell, {"mu": 0.6, "learn_mu": True}, 1),
    "skip": (SkipRNN, SkipRNNCell, {"skip": 3}, 3),
}


def _same_weights(base, layer, directions):
    """Copy the RNNBase layer's weights (weight_ih_l0_reverse, ...) into the cells."""
    params = dict(base.named_parameters())
    for j, c in enumerate(layer.cells):
        suffix = f"_l{j // directions}" + ("_reverse" if j % directions else "")
        R.load_arrays(c, [params[n + suffix].data for n, _ in c.named_parameters()])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_layers_match_the_cell_loop(name, dtype):
    base_cls, cell_cls, kwargs, n_states = VARIANTS[name]
    adt = ag.float64 if dtype == np.float64 else ag.float32
    ag.manual_seed(3)
    base = base_cls(IN, H, num_layers=2, bidirectional=True, batch_first=True, dtype=adt,
                    **kwargs)
    layer = RecurrentLayer(cell_cls, IN, H, num_layers=2, bidirectional=True, batch_first=True,
                           dtype=adt, **kwargs)
    _same_weights(base, layer, 2)
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, (B, T, IN)).astype(dtype)
    states = R.random_arrays(rng, [(4, B, H)] * n_states, dtype)
    results = []
    for model in (base, layer):
        ax, *ah = R.to_ours([x] + states)
        out, state = model(ax, _pack(ah))
        outs = (out,) + _flat(state)
        grads = np.random.default_rng(5)
        ag.backward(list(outs), [ag.tensor(grads.standard_normal(o.shape).astype(dtype))
                                 for o in outs])
        params = [p.grad for p in model.parameters()]
        results.append(([o.data for o in outs], ax.grad, [a.grad for a in ah], params))
    (bo, bx, bh, bp), (lo, lx, lh, lp) = results
    for a, b in zip(bo + [bx] + bh, lo + [lx] + lh):
        R.assert_close(name, a, b.data if isinstance(b, ag.Tensor) else b, dtype)
    by_name = dict(zip([n for n, _ in base.named_parameters()], bp))
    for j, c in enumerate(layer.cells):
        suffix = f"_l{j // 2}" + ("_reverse" if j % 2 else "")
        for (n, p) in c.named_parameters():
            R.assert_close(f"{name} grad {n}{suffix}", p.grad, by_name[n + suffix], dtype)


@pytest.mark.parametrize("name", ["peephole", "skip"])
def test_variant_layers_on_packed_sequences(name):
    """A packed batch of unsorted lengths gives each sequence what it gets alone."""
    base_cls, _, kwargs, _ = VARIANTS[name]
    ag.manual_seed(0)
    base = base_cls(IN, H, bidirectional=True, batch_first=True, dtype=ag.float64, **kwargs)
    lengths = [3, 5, 2]
    x = ag.randn(3, 5, IN, dtype=ag.float64)
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                               enforce_sorted=False)
    out, state = base(packed)
    padded, got = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    assert got.tolist() == lengths
    for b, n in enumerate(lengths):
        alone, alone_state = base(x[b:b + 1, :n])
        np.testing.assert_allclose(padded.data[b, :n], alone.data[0], rtol=1e-12, atol=1e-13)
        assert not padded.data[b, n:].any()
        for s, a in zip(_flat(state), _flat(alone_state)):
            np.testing.assert_allclose(s.data[:, b], a.data[:, 0], rtol=1e-12, atol=1e-13)


def test_unbatched_input():
    layer = RecurrentLayer(nn.LSTMCell, IN, H, num_layers=2, dtype=ag.float64)
    x = ag.randn(T, IN, dtype=ag.float64)
    out, (h, c) = layer(x)
    ref, (rh, rc) = layer(x.unsqueeze(1))
    assert out.shape == (T, H) and h.shape == (2, H)
    np.testing.assert_allclose(out.data, ref.data[:, 0], rtol=1e-12)
    out2, _ = layer(x, (h, c))
    assert out2.shape == (T, H)


def test_gradients_of_gradients_through_the_loop():
    ag.manual_seed(1)
    layer = RecurrentLayer(PeepholeLSTMCell, 2, 2, bidirectional=True, dtype=ag.float64)
    x = ag.randn(3, 1, 2, dtype=ag.float64, requires_grad=True)
    assert gradcheck(lambda x: layer(x)[0], [x])
    assert gradgradcheck(lambda x: layer(x)[0], [x])
    # a double-backward penalty on the input gradient reaches the weights
    out, _ = layer(x)
    gx, = ag.grad(out.pow(2).sum(), [x], create_graph=True)
    gx.pow(2).sum().backward()
    assert layer.cells[0].weight_ci.grad is not None


def test_dropout_between_layers():
    ag.manual_seed(2)
    layer = RecurrentLayer(nn.GRUCell, IN, H, num_layers=2, dropout=0.5)
    x = ag.randn(T, B, IN)
    layer.eval()
    a, b = layer(x)[0], layer(x)[0]
    np.testing.assert_array_equal(a.data, b.data)
    layer.train()
    assert not np.allclose(layer(x)[0].data, a.data)


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell instance"):
        RecurrentLayer(nn.LSTMCell(IN, H), num_layers=2)
    with pytest.raises(TypeError, match="input_size and hidden_size"):
        RecurrentLayer(nn.LSTMCell)
    with pytest.raises(RuntimeError, match=r"RecurrentLayer: expected a float input.*\(4,\)"):
        RecurrentLayer(nn.GRUCell, IN, H)(ag.randn(4))
    with pytest.raises(RuntimeError, match="GRUCell.*input_size"):
        RecurrentLayer(nn.GRUCell, IN, H)(ag.randn(T, B, IN + 1))
    with pytest.raises(RuntimeError, match=r"RecurrentLayer: each initial state.*\(5, 2, 4\)"):
        RecurrentLayer(nn.GRUCell, IN, H, num_layers=2)(ag.randn(T, B, IN), ag.randn(5, B, H))
    with pytest.raises(ValueError, match="skip"):
        SkipRNN(IN, H, skip=0)
    with pytest.raises(ValueError, match="mu"):
        LeakyRNN(IN, H, mu=-0.1)


def test_leaky_layer_learned_mu_starts_at_mu():
    layer = LeakyRNN(IN, H, num_layers=2, mu=0.9, learn_mu=True)
    names = [n for n, _ in layer.named_parameters() if n.startswith("mu_logit")]
    assert names == ["mu_logit_l0", "mu_logit_l1"]
    for n in names:
        np.testing.assert_allclose(getattr(layer, n).sigmoid().data, 0.9, rtol=1e-6)
