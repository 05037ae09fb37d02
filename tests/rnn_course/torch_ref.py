"""PyTorch versions of the variant cells (the oracle for tests) and weight copying helpers."""
import numpy as np
import torch
import torch.nn.functional as TF

import autograd as ag
import nn


def peephole(x, hx, w_ih, w_hh, b_ih, b_hh, w_ci, w_cf, w_co):
    h, c = hx
    a_i, a_f, a_g, a_o = (TF.linear(x, w_ih, b_ih) + TF.linear(h, w_hh, b_hh)).chunk(4, 1)
    i = torch.sigmoid(a_i + w_ci * c)
    f = torch.sigmoid(a_f + w_cf * c)
    o = torch.sigmoid(a_o + w_co * c)
    c2 = f * c + i * torch.tanh(a_g)
    return o * torch.tanh(c2), c2


def coupled(x, hx, w_ih, w_hh, b_ih, b_hh):
    h, c = hx
    a_f, a_g, a_o = (TF.linear(x, w_ih, b_ih) + TF.linear(h, w_hh, b_hh)).chunk(3, 1)
    f = torch.sigmoid(a_f)
    c2 = f * c + (1 - f) * torch.tanh(a_g)
    return torch.sigmoid(a_o) * torch.tanh(c2), c2


def leaky(x, h, w_ih, w_hh, b_ih, b_hh, mu):
    g = torch.tanh(TF.linear(x, w_ih, b_ih) + TF.linear(h, w_hh, b_hh))
    return mu * h + (1 - mu) * g


def skip(x, hx, w_ih, w_hh, w_hs, b_ih, b_hh):
    a = TF.linear(x, w_ih, b_ih) + TF.linear(hx[0], w_hh, b_hh) + TF.linear(hx[-1], w_hs)
    return (torch.tanh(a),) + tuple(hx[:-1])


def to_torch(arrays, requires_grad=True):
    return [torch.tensor(a.copy(), requires_grad=requires_grad) for a in arrays]


def to_ours(arrays, requires_grad=True):
    return [ag.tensor(a.copy(), requires_grad=requires_grad) for a in arrays]


def load_arrays(module, arrays):
    """Set a module's parameters, in named_parameters order, from numpy arrays."""
    params = list(module.parameters())
    assert len(params) == len(arrays)
    with ag.no_grad():
        for p, a in zip(params, arrays):
            assert tuple(p.shape) == a.shape, (p.shape, a.shape)
            p.copy_(ag.tensor(a.astype(p.dtype)))


def copy_layer_to_cells(theirs, ours):
    """torch.nn.RNN/LSTM/GRU weights -> our RecurrentLayer of PyTorch-style cells."""
    directions = 2 if theirs.bidirectional else 1
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    for k, cell in enumerate(ours.cells):
        suffix = f"_l{k // directions}" + ("_reverse" if k % directions else "")
        load_arrays(cell, [state[name + suffix] for name, _ in cell.named_parameters()])


def random_arrays(rng, shapes, dtype, scale=1.0):
    return [(scale * rng.uniform(-1, 1, s)).astype(dtype) for s in shapes]


def assert_close(name, ours, theirs, dtype):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    ours = ours.data if isinstance(ours, ag.Tensor) else ours
    assert ours.dtype == np.dtype(dtype), f"{name}: dtype {ours.dtype}, expected {dtype}"
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours, theirs, err_msg=name, **tol)


def make_pair(mode, dtype, seed=0, **kwargs):
    """Our nn.RNN/LSTM/GRU and PyTorch's with the same weights; mode 'RNN_TANH', 'LSTM', 'GRU'."""
    cls = {"RNN_TANH": "RNN", "LSTM": "LSTM", "GRU": "GRU"}[mode]
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, cls)(**kwargs).to(torch.float64 if dtype == np.float64
                                                 else torch.float32)
    ours = getattr(nn, cls)(**kwargs, dtype=ag.float64 if dtype == np.float64 else ag.float32)
    state = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: ag.tensor(v) for k, v in state.items()})
    return ours, theirs
