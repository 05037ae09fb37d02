"""Shared by the recurrent-layer tests: build a layer of ours and PyTorch's with the same
weights, run both on the same data (padded or packed, with or without initial states), and
compare outputs, final states and every gradient (random upstream gradients)."""
import numpy as np
import torch

import autograd as ag
import nn
from tests.nn.module_helpers import TOL, TORCH_DTYPE, _compare, copy_torch_state

CLASSES = {"RNN_TANH": ("RNN", {"nonlinearity": "tanh"}),
           "RNN_RELU": ("RNN", {"nonlinearity": "relu"}),
           "LSTM": ("LSTM", {}), "GRU": ("GRU", {})}


def make_pair(mode, dtype, seed=0, **kwargs):
    """Our layer and PyTorch's for mode ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'), same weights."""
    cls, extra = CLASSES[mode]
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, cls)(**extra, **kwargs).to(TORCH_DTYPE[dtype])
    ours = getattr(nn, cls)(**extra, **kwargs).to(ag.float64 if dtype == np.float64
                                                   else ag.float32)
    copy_torch_state(ours, theirs)
    return ours, theirs


def _flat(result):
    out, state = result
    states = tuple(state) if isinstance(state, (tuple, list)) else (state,)
    return out, states


def run_and_compare(ours, theirs, x, hx=None, *, lengths=None, enforce_sorted=True,
                    dtype=np.float32, seed=1, tol=None, where=""):
    """x: the padded input array (layout as the layers expect), hx: tuple of state arrays or
    None, lengths: pack x (pack_padded_sequence) with these lengths first.
    Compares output (padded), final states and the gradients of x, hx and every parameter."""
    tol = dict(TOL[dtype]) if tol is None else tol
    bf = getattr(theirs, "batch_first", False)
    ax = ag.tensor(x.copy(), requires_grad=True)
    tx = torch.tensor(x.copy(), requires_grad=True)
    ahx = None if hx is None else [ag.tensor(h.copy(), requires_grad=True) for h in hx]
    thx = None if hx is None else [torch.tensor(h.copy(), requires_grad=True) for h in hx]
    a_in, t_in = ax, tx
    if lengths is not None:
        a_in = nn.utils.rnn.pack_padded_sequence(ax, lengths, batch_first=bf,
                                                 enforce_sorted=enforce_sorted)
        t_in = torch.nn.utils.rnn.pack_padded_sequence(tx, torch.tensor(lengths),
                                                       batch_first=bf,
                                                       enforce_sorted=enforce_sorted)

    def states(h):
        return None if h is None else (h[0] if len(h) == 1 else tuple(h))
    a_out, a_states = _flat(ours(a_in, states(ahx)))
    t_out, t_states = _flat(theirs(t_in, states(thx)))
    if lengths is not None:
        a_out = nn.utils.rnn.pad_packed_sequence(a_out, batch_first=bf)[0]
        t_out = torch.nn.utils.rnn.pad_packed_sequence(t_out, batch_first=bf)[0]
    rng = np.random.default_rng(seed)
    a_all, t_all = (a_out,) + a_states, (t_out,) + t_states
    grads = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in t_all]
    for k, (a, t) in enumerate(zip(a_all, t_all)):
        _compare(f"{where} result {k}", a, t, tol)
    torch.autograd.backward(list(t_all), [torch.tensor(g) for g in grads])
    ag.backward(list(a_all), [ag.tensor(g) for g in grads])
    _compare(f"{where} grad of input", ax.grad, tx.grad, tol)
    for k, (a, t) in enumerate(zip(ahx or (), thx or ())):
        _compare(f"{where} grad of state {k}", a.grad, t.grad, tol)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        _compare(f"{where} grad of {name}", p.grad, t_params[name].grad, tol)
    return a_all


def random_input(rng, dtype, steps, batch, size, batch_first=False, unbatched=False):
    shape = (steps, size) if unbatched else (batch, steps, size) if batch_first else \
        (steps, batch, size)
    return rng.uniform(-1, 1, shape).astype(dtype)


def random_states(rng, dtype, layer, unbatched, batch, sizes):
    lead = (layer,) if unbatched else (layer, batch)
    return tuple(rng.uniform(-1, 1, lead + (s,)).astype(dtype) for s in sizes)
