"""nn.RNNCell / nn.LSTMCell / nn.GRUCell and nn.functional.rnn's cells against PyTorch:
batched and unbatched, with and without states, without bias; outputs and every gradient in
float32 and float64; gradcheck and gradgradcheck of the composed cells in float64."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn
from autograd.autograd import gradcheck, gradgradcheck
from nn.functional import rnn as cells
from tests.nn.module_helpers import TOL, TORCH_DTYPE, _compare, copy_torch_state

CELLS = {"RNNCell_tanh": ("RNNCell", {"nonlinearity": "tanh"}),
         "RNNCell_relu": ("RNNCell", {"nonlinearity": "relu"}),
         "LSTMCell": ("LSTMCell", {}), "GRUCell": ("GRUCell", {})}
B, IN, H = 4, 3, 5


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_matches_torch(kind, with_hx, batched, bias, dtype):
    cls, extra = CELLS[kind]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(IN, H, bias=bias, **extra).to(TORCH_DTYPE[dtype])
    ours = getattr(nn, cls)(IN, H, bias=bias, **extra).to(
        ag.float64 if dtype == np.float64 else ag.float32)
    copy_torch_state(ours, theirs)
    rng = np.random.default_rng(1)
    lead = (B,) if batched else ()
    x = rng.uniform(-1, 1, lead + (IN,)).astype(dtype)
    n_states = 2 if cls == "LSTMCell" else 1
    states = [rng.uniform(-1, 1, lead + (H,)).astype(dtype) for _ in range(n_states)]
    ax, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ahs = [ag.tensor(s, requires_grad=True) for s in states]
    ths = [torch.tensor(s, requires_grad=True) for s in states]
    if not with_hx:
        a_out, t_out = ours(ax), theirs(tx)
    elif n_states == 2:
        a_out, t_out = ours(ax, tuple(ahs)), theirs(tx, tuple(ths))
    else:
        a_out, t_out = ours(ax, ahs[0]), theirs(tx, ths[0])
    a_out = a_out if isinstance(a_out, tuple) else (a_out,)
    t_out = t_out if isinstance(t_out, tuple) else (t_out,)
    tol = TOL[dtype]
    grads = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_out]
    for k, (a, t) in enumerate(zip(a_out, t_out)):
        _compare(f"{kind} output {k}", a, t, tol)
    torch.autograd.backward(list(t_out), [torch.tensor(g) for g in grads])
    ag.backward(list(a_out), [ag.tensor(g) for g in grads])
    _compare(f"{kind} grad x", ax.grad, tx.grad, tol)
    if with_hx:
        for a, t in zip(ahs, ths):
            _compare(f"{kind} grad state", a.grad, t.grad, tol)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _compare(f"{kind} grad {name}", p.grad, t_params[name].grad, tol)


def _weights(rng, gates):
    return [ag.tensor(rng.uniform(-0.6, 0.6, s), requires_grad=True)
            for s in ((gates * 3, 2), (gates * 3, 3), (gates * 3,), (gates * 3,))]


@pytest.mark.parametrize("name,gates", [("rnn_tanh_cell", 1), ("rnn_relu_cell", 1),
                                        ("lstm_cell", 4), ("gru_cell", 3)])
def test_functional_cells_gradcheck(name, gates):
    rng = np.random.default_rng(gates)
    x = ag.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    h = ag.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    c = ag.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    ws = _weights(rng, gates)
    fn = getattr(cells, name)
    if name == "lstm_cell":
        def f(x, h, c, *w):
            return fn(x, (h, c), *w)
        args = [x, h, c, *ws]
    else:
        f, args = fn, [x, h, *ws]
    assert gradcheck(f, args)
    assert gradgradcheck(f, args)


def test_cell_errors():
    with pytest.raises(ValueError, match="1D or 2D"):
        nn.GRUCell(3, 4)(ag.randn(2, 2, 3))
    with pytest.raises(RuntimeError, match="input_size"):
        nn.GRUCell(3, 4)(ag.randn(2, 5))
    with pytest.raises(RuntimeError, match="hidden of shape"):
        nn.RNNCell(3, 4)(ag.randn(2, 3), ag.zeros(3, 4))
    with pytest.raises(TypeError, match="tuple"):
        nn.LSTMCell(3, 4)(ag.randn(2, 3), ag.zeros(2, 4))
    with pytest.raises(RuntimeError, match="lstm_cell"):
        cells.lstm_cell(ag.randn(2, 3), (ag.zeros(2, 4), ag.zeros(2, 4)), ag.randn(12, 3),
                        ag.randn(12, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
