"""The variant cells against PyTorch versions of the same equations (values and every
gradient, float32 and float64), against torch.nn cells where a variant reduces to one,
gradcheck in float64, and bad inputs."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn
from autograd.autograd import gradcheck, gradgradcheck
from nn.rnn_variants import (CoupledLSTMCell, LeakyRNNCell, PeepholeLSTMCell, SkipRNNCell,
                             coupled_lstm_cell, leaky_rnn_cell, peephole_lstm_cell,
                             skip_rnn_cell)
from tests.rnn_course import torch_ref as R

IN, H, B = 3, 4, 5
MU = np.linspace(0.1, 0.9, H)


def _torch_leaky_learned(x, s, p):
    return (R.leaky(x, s[0], *p[:4], torch.sigmoid(p[4])),)


SPECS = {
    # name: (make our cell, number of states, PyTorch step on (x, states, params) -> states)
    "peephole": (lambda dt=None: PeepholeLSTMCell(IN, H, dtype=dt), 2,
                 lambda x, s, p: R.peephole(x, s, *p)),
    "coupled": (lambda dt=None: CoupledLSTMCell(IN, H, dtype=dt), 2,
                lambda x, s, p: R.coupled(x, s, *p)),
    "leaky_fixed": (lambda dt=None: LeakyRNNCell(IN, H, mu=MU, dtype=dt), 1,
                    lambda x, s, p: (R.leaky(x, s[0], *p, torch.tensor(MU, dtype=x.dtype)),)),
    "leaky_learned": (lambda dt=None: LeakyRNNCell(IN, H, mu=0.7, learn_mu=True,
                                                       dtype=dt), 1,
                      _torch_leaky_learned),
    "skip": (lambda dt=None: SkipRNNCell(IN, H, skip=3, dtype=dt), 3,
             lambda x, s, p: R.skip(x, s, p[0], p[1], p[4], p[2], p[3])),
}


def _as_tuple(state):
    return (state,) if isinstance(state, ag.Tensor) else tuple(state)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(SPECS))
def test_cell_matches_torch(name, dtype):
    make, n_states, torch_step = SPECS[name]
    rng = np.random.default_rng(0)
    cell = make(ag.float64 if dtype == np.float64 else ag.float32)
    params = R.random_arrays(rng, [tuple(p.shape) for p in cell.parameters()], dtype, 0.8)
    R.load_arrays(cell, params)
    x = rng.uniform(-1, 1, (B, IN)).astype(dtype)
    states = R.random_arrays(rng, [(B, H)] * n_states, dtype)
    ax, *astates = R.to_ours([x] + states)
    tx, *tstates = R.to_torch([x] + states)
    tparams = R.to_torch(params)
    hx = astates[0] if n_states == 1 else tuple(astates)
    ours = _as_tuple(cell(ax, hx))
    theirs = torch_step(tx, tuple(tstates), tparams)
    grads = R.random_arrays(rng, [(B, H)] * n_states, dtype)
    for k, (a, t) in enumerate(zip(ours, theirs)):
        R.assert_close(f"{name} state {k}", a, t, dtype)
    ag.backward(list(ours), [ag.tensor(g) for g in grads])
    torch.autograd.backward(list(theirs), [torch.tensor(g) for g in grads])
    R.assert_close(f"{name} grad x", ax.grad, tx.grad, dtype)
    for k, (a, t) in enumerate(zip(astates, tstates)):
        if t.grad is None:           # the skip cell's oldest state only feeds W_hs
            assert a.grad is None or not a.grad.data.any()
        else:
            R.assert_close(f"{name} grad state {k}", a.grad, t.grad, dtype)
    for (pname, p), t in zip(cell.named_parameters(), tparams):
        R.assert_close(f"{name} grad {pname}", p.grad, t.grad, dtype)


@pytest.mark.parametrize("name", list(SPECS))
def test_cell_unbatched_and_default_state(name):
    make, n_states, _ = SPECS[name]
    cell = make(ag.float64)
    x = ag.randn(B, IN, dtype=ag.float64)
    zeros = tuple(ag.zeros(B, H, dtype=ag.float64) for _ in range(n_states))
    batched = _as_tuple(cell(x, zeros[0] if n_states == 1 else zeros))
    default = _as_tuple(cell(x))
    single = _as_tuple(cell(x[1], zeros[0][1] if n_states == 1 else tuple(z[1] for z in zeros)))
    for a, b, s in zip(batched, default, single):
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_allclose(s.data, a.data[1], rtol=1e-12, atol=1e-14)
        assert s.shape == (H,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_variants_reduce_to_torch_cells(dtype):
    """Peephole with V = 0 is LSTMCell; coupled is LSTMCell whose input-gate rows are minus
    its forget-gate rows (sigmoid(-a) = 1 - sigmoid(a)); leaky with mu = 0 and skip with
    W_hs = 0 are RNNCell; leaky with mu = 1 keeps h."""
    torch.manual_seed(0)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    adt = ag.float64 if dtype == np.float64 else ag.float32
    lstm, rnn = torch.nn.LSTMCell(IN, H).to(tdt), torch.nn.RNNCell(IN, H).to(tdt)
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (B, IN)).astype(dtype)
    h, c = R.random_arrays(rng, [(B, H), (B, H)], dtype)
    th, tc = lstm(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
    trnn = rnn(torch.tensor(x), torch.tensor(h))
    w = [p.detach().numpy() for p in lstm.parameters()]
    ax, ah, ac = R.to_ours([x, h, c], requires_grad=False)

    peep = PeepholeLSTMCell(IN, H).to(adt)
    R.load_arrays(peep, w + [np.zeros(H, dtype)] * 3)
    for a, t in zip(peep(ax, (ah, ac)), (th, tc)):
        R.assert_close("peephole V=0", a, t, dtype)

    coupled = CoupledLSTMCell(IN, H).to(adt)
    lstm_w = [p.detach().numpy().copy() for p in lstm.parameters()]
    for k in range(4):              # input-gate block := -forget-gate block
        lstm_w[k][:H] = -lstm_w[k][H:2 * H]
    with torch.no_grad():
        for p, a in zip(lstm.parameters(), lstm_w):
            p.copy_(torch.tensor(a))
    th, tc = lstm(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
    R.load_arrays(coupled, [a[H:] for a in lstm_w])
    for a, t in zip(coupled(ax, (ah, ac)), (th, tc)):
        R.assert_close("coupled", a, t, dtype)

    rnn_w = [p.detach().numpy() for p in rnn.parameters()]
    leaky0 = LeakyRNNCell(IN, H, mu=0.0).to(adt)
    R.load_arrays(leaky0, rnn_w)
    R.assert_close("leaky mu=0", leaky0(ax, ah), trnn, dtype)
    leaky1 = LeakyRNNCell(IN, H, mu=1.0).to(adt)
    R.assert_close("leaky mu=1", leaky1(ax, ah), h, dtype)
    skip = SkipRNNCell(IN, H, skip=2).to(adt)
    R.load_arrays(skip, rnn_w + [np.zeros((H, H), dtype)])
    out = skip(ax, (ah, ag.tensor(rng.uniform(-1, 1, (B, H)).astype(dtype))))
    R.assert_close("skip W_hs=0", out[0], trnn, dtype)
    R.assert_close("skip shifts its history", out[1], h, dtype)


def _f64(rng, *shapes):
    return [ag.tensor(rng.uniform(-1, 1, s), requires_grad=True) for s in shapes]


def test_gradcheck_functional_cells():
    rng = np.random.default_rng(2)
    b, i, h = 2, 3, 2
    x, h0, c0 = _f64(rng, (b, i), (b, h), (b, h))
    p4 = _f64(rng, (4 * h, i), (4 * h, h), (4 * h,), (4 * h,), (h,), (h,), (h,))
    assert gradcheck(lambda x, h0, c0, *p: peephole_lstm_cell(x, (h0, c0), *p),
                     [x, h0, c0, *p4])
    p3 = _f64(rng, (3 * h, i), (3 * h, h), (3 * h,), (3 * h,))
    assert gradcheck(lambda x, h0, c0, *p: coupled_lstm_cell(x, (h0, c0), *p), [x, h0, c0, *p3])
    p1 = _f64(rng, (h, i), (h, h), (h,), (h,), (h,))
    assert gradcheck(lambda x, h0, w1, w2, b1, b2, m: leaky_rnn_cell(x, h0, w1, w2, b1, b2,
                                                                      m.sigmoid()),
                     [x, h0, *p1])
    h1, h2 = _f64(rng, (b, h), (b, h))
    ws = _f64(rng, (h, i), (h, h), (h, h), (h,), (h,))
    assert gradcheck(lambda x, a, b_, c, *w: skip_rnn_cell(x, (a, b_, c), *w),
                     [x, h0, h1, h2, *ws])
    assert gradgradcheck(lambda x, h0, c0, *p: peephole_lstm_cell(x, (h0, c0), *p)[0],
                         [x, h0, c0, *p4])


def test_mu_fixed_is_a_buffer_and_learned_mu_trains():
    fixed = LeakyRNNCell(IN, H, mu=0.25)
    assert "mu" in dict(fixed.named_buffers()) and "mu" in fixed.state_dict()
    assert not any(n.startswith("mu") for n, _ in fixed.named_parameters())
    assert fixed.mu.dtype == ag.float32
    learned = LeakyRNNCell(IN, H, mu=0.25, learn_mu=True)
    np.testing.assert_allclose(learned.current_mu().data, 0.25, rtol=1e-6)
    learned(ag.randn(B, IN), ag.randn(B, H)).sum().backward()
    assert learned.mu_logit.grad is not None and np.abs(learned.mu_logit.grad.data).sum() > 0
    learned.mu_logit.data[:] = 3.0
    learned.reset_parameters()
    np.testing.assert_allclose(learned.current_mu().data, 0.25, rtol=1e-6)
    out = learned.to(ag.float64)(ag.randn(B, IN, dtype=ag.float64))
    assert out.dtype == ag.float64


def test_float32_stays_float32():
    x = ag.randn(B, IN)
    for make, _, _ in SPECS.values():
        for s in _as_tuple(make()(x)):
            assert s.dtype == ag.float32


def test_bad_inputs():
    with pytest.raises(ValueError, match="mu"):
        LeakyRNNCell(IN, H, mu=1.5)
    with pytest.raises(ValueError, match="mu"):
        LeakyRNNCell(IN, H, mu=1.0, learn_mu=True)
    with pytest.raises(ValueError, match="mu"):
        LeakyRNNCell(IN, H, mu=[0.5, 0.5])
    with pytest.raises(ValueError, match="skip"):
        SkipRNNCell(IN, H, skip=0)
    with pytest.raises(RuntimeError, match="PeepholeLSTMCell.*input_size"):
        PeepholeLSTMCell(IN, H)(ag.randn(B, IN + 1))
    with pytest.raises(TypeError, match="PeepholeLSTMCell: hx"):
        PeepholeLSTMCell(IN, H)(ag.randn(B, IN), ag.randn(B, H))
    with pytest.raises(TypeError, match="SkipRNNCell: hx.*skip=3"):
        SkipRNNCell(IN, H, skip=3)(ag.randn(B, IN), (ag.randn(B, H),) * 2)
    with pytest.raises(RuntimeError, match="CoupledLSTMCell.*hidden"):
        CoupledLSTMCell(IN, H)(ag.randn(B, IN), (ag.randn(B, H + 1), ag.randn(B, H + 1)))
    with pytest.raises(RuntimeError, match=r"coupled_lstm_cell: .*w_ih \(3\*H, I\)"):
        coupled_lstm_cell(ag.randn(B, IN), (ag.randn(B, H), ag.randn(B, H)),
                          ag.randn(4 * H, IN), ag.randn(4 * H, H))
    with pytest.raises(RuntimeError, match="skip_rnn_cell"):
        skip_rnn_cell(ag.randn(B, IN), (ag.randn(B, H), ag.randn(B, H)), ag.randn(H, IN),
                      ag.randn(H, H), ag.randn(H, H + 1))


def test_cells_are_modules_with_torch_style_repr():
    assert repr(PeepholeLSTMCell(3, 4)) == "PeepholeLSTMCell(3, 4)"
    assert repr(SkipRNNCell(3, 4, skip=5)) == "SkipRNNCell(3, 4, skip=5)"
    assert "learn_mu=True" in repr(LeakyRNNCell(3, 4, learn_mu=True))
    assert isinstance(PeepholeLSTMCell(3, 4), nn.Module)
