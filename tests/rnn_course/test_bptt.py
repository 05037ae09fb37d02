"""BPTT diagnostics: the recorded ||dL/dh_t|| against PyTorch, the gamma^(T-t) law, vanishing
in a tanh RNN but not through LSTM/GRU gates; truncated BPTT cuts gradients at chunk ends."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn
import optim
from nn.rnn_variants import LeakyRNN, PeepholeLSTMCell, RecurrentLayer, SkipRNN
from nn.utils.bptt import detach_state, hidden_grad_norms, truncated_bptt, unroll
from tests.rnn_course.torch_ref import make_pair

IN, H, T, B = 3, 5, 12, 4
TORCH_CELLS = {"RNN_TANH": torch.nn.RNNCell, "LSTM": torch.nn.LSTMCell, "GRU": torch.nn.GRUCell}


def _torch_unroll(theirs, mode, x):
    """PyTorch's layer unrolled with its own cells, every state retained: (out, states[k])."""
    directions = 2 if theirs.bidirectional else 1
    params = dict(theirs.named_parameters())
    states = []
    for layer in range(theirs.num_layers):
        outs = []
        for d in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            cell = TORCH_CELLS[mode](x.shape[-1], theirs.hidden_size).to(x.dtype)
            with torch.no_grad():
                for name, p in cell.named_parameters():
                    p.copy_(params[name + suffix])
            state, seq, kept = None, [None] * x.shape[0], [None] * x.shape[0]
            for t in (range(x.shape[0] - 1, -1, -1) if d else range(x.shape[0])):
                state = cell(x[t], state)
                parts = (state,) if isinstance(state, torch.Tensor) else state
                for s in parts:
                    s.retain_grad()
                kept[t], seq[t] = parts, parts[0]
            states.append(kept)
            outs.append(torch.stack(seq, 0))
        x = torch.cat(outs, -1)
    return x, states


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, True)])
def test_grad_norms_match_torch(mode, layers, bidirectional):
    ours, theirs = make_pair(mode, np.float64, input_size=IN, hidden_size=H, num_layers=layers,
                             bidirectional=bidirectional)
    x = np.random.default_rng(0).uniform(-1, 1, (T, B, IN))
    trace = unroll(ours, ag.tensor(x))
    t_out, t_states = _torch_unroll(theirs, mode, torch.tensor(x))
    np.testing.assert_allclose(trace.output.data, t_out.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    (trace.output[-1] ** 2).sum().backward()            # a loss on the last step
    (t_out[-1] ** 2).sum().backward()
    for k in range(len(t_states)):
        layer, d = divmod(k, 2 if bidirectional else 1)
        for which in range(len(t_states[k][0])):
            want = np.array([np.linalg.norm(s[which].grad.numpy()) for s in t_states[k]])
            got = trace.grad_norms(layer=layer, direction=d, which=which)
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-14,
                                       err_msg=f"{mode} k={k} state {which}")


@pytest.mark.parametrize("mode", ["RNN_TANH", "LSTM", "GRU"])
def test_unroll_agrees_with_the_fused_layer(mode):
    ours, _ = make_pair(mode, np.float32, input_size=IN, hidden_size=H, batch_first=True)
    x = ag.tensor(np.random.default_rng(1).uniform(-1, 1, (B, T, IN)).astype(np.float32))
    out, state = ours(x)
    out.sum().backward()
    fused = [p.grad.data.copy() for p in ours.parameters()]
    ours.zero_grad()
    trace = unroll(ours, x)
    assert trace.output.shape == out.shape and trace.output.dtype == ag.float32
    np.testing.assert_allclose(trace.output.data, out.data, rtol=1e-5, atol=1e-6)
    for a, b in zip((trace.state,) if mode != "LSTM" else trace.state,
                    (state,) if mode != "LSTM" else state):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-5, atol=1e-6)
    trace.output.sum().backward()
    for p, g in zip(ours.parameters(), fused):
        np.testing.assert_allclose(p.grad.data, g, rtol=1e-4, atol=1e-5)
    assert trace.grad_norms(per_sample=True).shape == (T, B)


@pytest.mark.parametrize("gamma", [0.8, 1.25])
def test_gamma_power_law(gamma):
    """ReLU RNN in its linear region with W_hh = gamma I: dL/dh_t = gamma^(T-1-t) dL/dh_{T-1}
    exactly, the course's vanishing (gamma < 1) and exploding (gamma > 1) gradients."""
    rnn = nn.RNN(IN, H, nonlinearity="relu", dtype=ag.float64)
    with ag.no_grad():
        rnn.weight_hh_l0.copy_(ag.eye(H, dtype=ag.float64) * gamma)
        rnn.weight_ih_l0.fill_(0.1)
        rnn.bias_ih_l0.fill_(0.1)
        rnn.bias_hh_l0.fill_(0.0)
    x = ag.rand(30, B, IN, dtype=ag.float64)            # positive: every unit stays active
    norms = hidden_grad_norms(rnn, x, lambda out, h: out[-1].sum())
    want = norms[-1] * gamma ** np.arange(29, -1, -1)
    np.testing.assert_allclose(norms, want, rtol=1e-10)


def test_vanishing_in_tanh_rnn_not_through_gates():
    """T = 60, loss on the last step: the tanh RNN's gradient at t = 0 is gone, while an LSTM
    whose forget gates start open (bias +4) and a GRU whose update gates start near 1 (bias
    +4) keep it within a small factor."""
    ag.manual_seed(0)
    x = ag.randn(60, B, IN)

    def ratio(model):
        norms = hidden_grad_norms(model, x, lambda out, h: out[-1].sum(),
                                  which=1 if isinstance(model, nn.LSTM) else 0)
        return norms[0] / norms[-1]
    rnn, lstm, gru = nn.RNN(IN, 16), nn.LSTM(IN, 16), nn.GRU(IN, 16)
    with ag.no_grad():
        lstm.bias_ih_l0[16:32] = 4.0                     # f gate block
        gru.bias_ih_l0[16:32] = 4.0                      # z gate block
    assert ratio(rnn) < 1e-6
    assert ratio(lstm) > 0.05
    assert ratio(gru) > 0.05


def test_leaky_units_and_skip_connections_carry_gradients_further():
    """T = 40, loss on the last step: the leaky unit (mu = 0.9, an identity path of weight mu)
    and skips of d = 5 steps (T / d products instead of T) keep far more of dL/dh_0 than the
    tanh RNN they extend (same weights; mu = 0 is that RNN exactly)."""
    ag.manual_seed(0)
    x = ag.randn(40, B, IN)

    def ratio(make):
        ag.manual_seed(1)
        norms = hidden_grad_norms(make(), x, lambda out, h: out[-1].sum())
        return norms[0] / norms[-1]
    plain = ratio(lambda: nn.RNN(IN, 16))
    assert plain < 1e-10
    assert ratio(lambda: LeakyRNN(IN, 16, mu=0.0)) == pytest.approx(plain, rel=1e-4)
    assert ratio(lambda: LeakyRNN(IN, 16, mu=0.9)) > 1e-3
    assert ratio(lambda: SkipRNN(IN, 16, skip=5)) > 1e-5


def test_unroll_recurrent_layer_and_single_cell():
    ag.manual_seed(1)
    layer = RecurrentLayer(PeepholeLSTMCell, IN, H, num_layers=2, bidirectional=True,
                           batch_first=True)
    x = ag.randn(B, T, IN)
    trace = unroll(layer, x)
    ref, (h, c) = layer(x)
    np.testing.assert_allclose(trace.output.data, ref.data, rtol=1e-6)
    assert trace.state[0].shape == h.shape == (4, B, H)
    trace.output[:, -1].sum().backward()
    assert trace.grad_norms(layer=0, direction=1).shape == (T,)
    assert trace.grad_norms(which=1)[-1] > 0

    cell = nn.GRUCell(IN, H)
    norms = hidden_grad_norms(cell, x, lambda out, h: out[:, -1].sum(), batch_first=True)
    assert norms.shape == (T,) and (norms > 0).all()


def test_unroll_bad_input():
    with pytest.raises(RuntimeError, match="unroll: expected a padded batch"):
        unroll(nn.GRU(IN, H), ag.randn(T, IN))
    with pytest.raises(TypeError, match="unroll: expected an nn.RNNBase"):
        unroll(lambda x, h: x, ag.randn(T, B, IN))


def test_detach_state():
    h = ag.randn(2, 3, requires_grad=True) * 2
    d = detach_state((h, [h]))
    assert isinstance(d, tuple) and isinstance(d[1], list)
    assert not d[0].requires_grad and d[0].grad_fn is None and detach_state(None) is None
    with pytest.raises(TypeError, match="detach_state"):
        detach_state(3)


def _chunk_loss(out, span):
    return (out ** 2).mean()


def test_truncated_bptt_full_chunk_is_full_bptt():
    ag.manual_seed(2)
    lstm = nn.LSTM(IN, H, dtype=ag.float64)
    x = ag.randn(T, B, IN, dtype=ag.float64)
    truncated_bptt(lstm, x, T, _chunk_loss)
    tb = [p.grad.data.copy() for p in lstm.parameters()]
    lstm.zero_grad()
    _chunk_loss(lstm(x)[0], None).backward()
    for p, g in zip(lstm.parameters(), tb):
        np.testing.assert_allclose(p.grad.data, g, rtol=1e-12, atol=1e-14)


def test_truncated_bptt_matches_torch_and_cuts_the_graph():
    ours, theirs = make_pair("LSTM", np.float64, input_size=IN, hidden_size=H)
    xs = np.random.default_rng(3).uniform(-1, 1, (T, B, IN))
    x = ag.tensor(xs, requires_grad=True)
    losses, state = truncated_bptt(ours, x, 5, _chunk_loss)      # chunks 0-4, 5-9, 10-11
    assert len(losses) == 3 and state[0].grad_fn is None
    tx = torch.tensor(xs, requires_grad=True)
    t_state, t_losses = None, []
    for start in range(0, T, 5):
        out, t_state = theirs(tx[start:start + 5], t_state)
        loss = (out ** 2).mean()
        loss.backward()
        t_losses.append(loss.item())
        t_state = tuple(s.detach() for s in t_state)
    np.testing.assert_allclose(losses, t_losses, rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, t_params[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12)

    # a loss on the last chunk only: no gradient reaches the inputs of earlier chunks
    x.grad = None
    truncated_bptt(ours, x, 5, lambda out, span: (out ** 2).mean() * (span.start == 10))
    assert not x.grad.data[:10].any() and x.grad.data[10:].any()
    x.grad = None
    (ours(x)[0][10:] ** 2).mean().backward()                      # full BPTT reaches them
    assert x.grad.data[:10].any()


def test_truncated_bptt_trains_with_an_optimizer():
    """Predict the previous input (a one-step memory) with chunks of 10 steps."""
    ag.manual_seed(4)
    model = nn.GRU(1, 8, batch_first=True)
    head = nn.Linear(8, 1)
    opt = optim.Adam(list(model.parameters()) + list(head.parameters()), lr=0.03)
    rng = np.random.default_rng(4)

    def run(x, state=None):
        out, state = model(x, state)
        return head(out), state
    errors = []
    for _ in range(60):
        xs = rng.uniform(-1, 1, (16, 40, 1)).astype(np.float32)
        target = ag.tensor(np.concatenate([np.zeros((16, 1, 1), np.float32), xs[:, :-1]], 1))
        losses, _ = truncated_bptt(run, ag.tensor(xs), 10,
                                   lambda y, span, target=target:
                                   ((y - target[:, span]) ** 2).mean(), opt, batch_first=True)
        errors.append(np.mean(losses))
    assert np.mean(errors[:5]) > 0.2 and np.mean(errors[-5:]) < 0.02, errors[::10]
