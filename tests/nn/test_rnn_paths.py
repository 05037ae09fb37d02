"""The two paths of the recurrent layers: the fused scans (autograd.ops.scan) agree with the
composed cells, values and gradients; gradcheck of the scans in float64; gradients of
gradients on both paths (the fused layers differentiate their composed recomputation under
create_graph=True; a scan called directly, with none, raises a clear error); bad inputs give
clear errors."""
import numpy as np
import pytest

import autograd as ag
import nn
from autograd.autograd import gradcheck, gradgradcheck
from autograd.ops.scan import gru_scan, lstm_scan, rnn_scan

MODES = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def _layer(mode, **kwargs):
    if mode.startswith("RNN"):
        return nn.RNN(nonlinearity=mode[4:].lower(), **kwargs)
    return getattr(nn, mode)(**kwargs)


def _run(layer, x, hx, g_out, g_states):
    for p in layer.parameters():
        p.grad = None
    x = ag.tensor(x.data, requires_grad=True)
    out, states = layer(x, hx)
    states = states if isinstance(states, tuple) else (states,)
    loss = (out * g_out).sum()
    for s, g in zip(states, g_states):
        loss = loss + (s * g).sum()
    loss.backward()
    return [out.data, *[s.data for s in states], x.grad.data,
            *[p.grad.data for p in layer.parameters()]]


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
@pytest.mark.parametrize("mode", MODES + ["LSTM_PROJ"])
def test_fused_and_composed_agree(mode, dtype):
    """A longer sequence than the PyTorch tests, 2 bidirectional layers, with dropout off."""
    ag.manual_seed(0)
    proj = {"proj_size": 3} if mode == "LSTM_PROJ" else {}
    layer = _layer(mode.replace("_PROJ", ""), input_size=4, hidden_size=6, num_layers=2,
                   bidirectional=True, dtype=dtype, **proj)
    x = ag.randn(17, 3, 4, dtype=dtype)
    out_size = 3 if proj else 6
    g_out = ag.randn(17, 3, 2 * out_size, dtype=dtype)
    sizes = (out_size, 6) if mode.startswith("LSTM") else (6,)
    g_states = [ag.randn(4, 3, s, dtype=dtype) for s in sizes]
    hx = tuple(ag.randn(4, 3, s, dtype=dtype) for s in sizes)
    hx = hx if len(hx) == 2 else hx[0]
    fused = _run(layer, x, hx, g_out, g_states)
    layer.fused = False
    composed = _run(layer, x, hx, g_out, g_states)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == ag.float32 else dict(rtol=1e-11, atol=1e-12)
    for k, (a, b) in enumerate(zip(fused, composed)):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, err_msg=f"{mode} item {k}", **tol)


@pytest.mark.parametrize("mode,used", [(m, u) for m in MODES for u in ("output", "h_n")] +
                         [("LSTM", "c_n")])
def test_fused_gradients_of_a_single_output(mode, used, monkeypatch):
    """A loss of one output only (the others get no gradient: the scans take None for them,
    not zeros made by the engine): the fused and composed paths agree."""
    from autograd.ops import scan, scan_gru, scan_lstm
    seen = []
    for module in (scan, scan_gru, scan_lstm):
        for name in ("output_grad", "state_grad"):
            real = getattr(module, name)
            monkeypatch.setattr(module, name, lambda g, ref, real=real:
                                seen.append(g is None) or real(g, ref))
    ag.manual_seed(1)
    layer = _layer(mode, input_size=3, hidden_size=5, dtype=ag.float64)
    x = ag.randn(6, 2, 3, dtype=ag.float64)
    grads = []
    for fused in (True, False):
        layer.fused = fused
        for p in layer.parameters():
            p.grad = None
        xt = ag.tensor(x.data, requires_grad=True)
        out, states = layer(xt)
        h_n, c_n = states if mode == "LSTM" else (states, None)
        (dict(output=out, h_n=h_n, c_n=c_n)[used] ** 2).sum().backward()
        grads.append([xt.grad.data] + [p.grad.data for p in layer.parameters()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)
    assert sorted(seen) == [False] + [True] * (len(seen) - 1)     # the used output's only


def test_fused_scan_context_selects_the_composed_path():
    lstm = nn.LSTM(3, 4)
    x = ag.randn(5, 2, 3)

    assert lstm(x)[0].grad_fn.name() == "LSTMScanBackward"
    with nn.rnn.fused_scan(False):
        assert lstm(x)[0].grad_fn.name() == "StackBackward"
    assert nn.rnn.fused_scan_enabled()
    lstm.fused = False
    assert lstm(x)[0].grad_fn.name() == "StackBackward"


# -- gradcheck of the scans in float64 on tiny sizes --------------------------------------------
def _params(rng, gates, hidden, inputs, proj=None):
    k = 1 / np.sqrt(hidden)

    def t(*shape):
        return ag.tensor(rng.uniform(-k, k, shape), requires_grad=True)
    return [t(gates * hidden, inputs), t(gates * hidden, proj or hidden),
            t(gates * hidden), t(gates * hidden)]


SIZE_CASES = [(None, False), (None, True), ([3, 2, 2, 1], False), ([3, 2, 2, 1], True)]


def _x(rng, sizes, inputs=2):
    """A padded (3 steps, batch 3) input, or packed rows for sizes."""
    shape = (3, 3, inputs) if sizes is None else (sum(sizes), inputs)
    return ag.tensor(rng.standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("sizes,reverse", SIZE_CASES, ids=str)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_gradcheck_rnn_scan(nonlinearity, sizes, reverse):
    rng = np.random.default_rng(0)
    x = _x(rng, sizes)
    h0 = ag.tensor(rng.standard_normal((3, 3)) * 0.5, requires_grad=True)
    params = _params(rng, 1, 3, 2)
    assert gradcheck(lambda *a: rnn_scan(*a, batch_sizes=sizes, reverse=reverse,
                                         nonlinearity=nonlinearity), [x, h0, *params])


@pytest.mark.parametrize("proj", [None, 2])
@pytest.mark.parametrize("sizes,reverse", SIZE_CASES, ids=str)
def test_gradcheck_lstm_scan(sizes, reverse, proj):
    rng = np.random.default_rng(1)
    x = _x(rng, sizes)
    h0 = ag.tensor(rng.standard_normal((3, proj or 3)) * 0.5, requires_grad=True)
    c0 = ag.tensor(rng.standard_normal((3, 3)) * 0.5, requires_grad=True)
    params = _params(rng, 4, 3, 2, proj)
    w_hr = ag.tensor(rng.uniform(-0.5, 0.5, (proj, 3)), requires_grad=True) if proj else None
    assert gradcheck(lambda x, h, c, a, b, d, e, *hr: lstm_scan(
        x, h, c, a, b, d, e, hr[0] if hr else None, batch_sizes=sizes, reverse=reverse),
        [x, h0, c0, *params] + ([w_hr] if proj else []))


@pytest.mark.parametrize("sizes,reverse", SIZE_CASES, ids=str)
def test_gradcheck_gru_scan(sizes, reverse):
    rng = np.random.default_rng(2)
    x = _x(rng, sizes)
    h0 = ag.tensor(rng.standard_normal((3, 3)) * 0.5, requires_grad=True)
    params = _params(rng, 3, 3, 2)
    assert gradcheck(lambda *a: gru_scan(*a, batch_sizes=sizes, reverse=reverse),
                     [x, h0, *params])


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize("states", [False, True])
@pytest.mark.parametrize("sizes,reverse", SIZE_CASES, ids=str)
@pytest.mark.parametrize("scan,gates", [(rnn_scan, 1), (lstm_scan, 4), (gru_scan, 3)],
                         ids=["rnn", "lstm", "gru"])
def test_small_and_large_products_agree(scan, gates, sizes, reverse, states, frozen,
                                        monkeypatch):
    """The input and weight gradients of a small scan come from one kernel call
    (tile_gemm.linear_grads), of a large one from BLAS and weight_product (forced here:
    MIN_WORK = 0); both the same, with and without initial states, packed or reversed, and
    with x and W_ih frozen (no dx, no dW_ih wanted)."""
    from autograd.kernels import scan_threads

    def grads():
        rng = np.random.default_rng(3)
        x = _x(rng, sizes)
        initial = [ag.tensor(rng.standard_normal((3, 3)), requires_grad=True)
                   for _ in range(2 if gates == 4 else 1)] if states else \
            [None] * (2 if gates == 4 else 1)
        params = _params(rng, gates, 3, 2)
        if frozen:
            x, params[0] = x.detach(), params[0].detach()
        out = scan(x, *initial, *params, batch_sizes=sizes, reverse=reverse)
        (out[0] * ag.tensor(rng.standard_normal(out[0].shape))).sum().backward()
        return [None if t.grad is None else t.grad.data
                for t in [x, *initial, *params] if t is not None]

    small = grads()
    assert (small[0] is None) == frozen
    monkeypatch.setattr(scan_threads, "MIN_WORK", 0)
    for a, b in zip(small, grads(), strict=True):
        if a is None:
            assert b is None
            continue
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_scans_without_bias():
    rng = np.random.default_rng(3)
    x = ag.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h0 = ag.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = _params(rng, 4, 3, 2)[:2]
    assert gradcheck(lambda x, h, a, b: lstm_scan(x, h, h * 0.5, a, b), [x, h0, *w])
    w = _params(rng, 3, 3, 2)[:2]
    assert gradcheck(lambda x, h, a, b: gru_scan(x, h, a, b), [x, h0, *w])


# -- higher order -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_fused_layers_give_gradients_of_gradients(mode):
    # create_graph=True through a fused layer (2 layers, both directions, packed, initial
    # states): the same first and second derivatives as the composed path, and gradgradcheck
    ag.manual_seed(1)
    layer = _layer(mode, input_size=2, hidden_size=3, num_layers=2, bidirectional=True,
                   dtype=ag.float64)
    x = ag.randn(4, 3, 2, dtype=ag.float64, requires_grad=True)
    states = 2 if mode == "LSTM" else 1
    hx = tuple(ag.randn(4, 3, 3, dtype=ag.float64, requires_grad=True) for _ in range(states))
    hx = hx if mode == "LSTM" else hx[0]
    inputs = [x] + list(hx if mode == "LSTM" else (hx,)) + list(layer.parameters())

    def second_derivatives(fused):
        layer.fused = fused
        packed = nn.utils.rnn.pack_padded_sequence(x, [4, 3, 2])
        out, _ = layer(packed, hx)
        first = ag.grad(out.data.pow(2).sum(), inputs, create_graph=True)
        total = sum((g * g).sum() for g in first)
        return first, ag.grad(total, inputs)
    first, second = second_derivatives(True)
    first_ref, second_ref = second_derivatives(False)
    for ours, ref in zip(first + second, first_ref + second_ref):
        np.testing.assert_allclose(ours.data, ref.data, rtol=1e-10, atol=1e-12)
    layer.fused = True

    def f(x):
        out, _ = layer(x)
        return out
    assert gradgradcheck(f, [x])


@pytest.mark.parametrize("scan, gates", [(rnn_scan, 1), (lstm_scan, 4), (gru_scan, 3)])
def test_scans_called_directly_refuse_create_graph(scan, gates):
    x = ag.randn(4, 2, 2, dtype=ag.float64, requires_grad=True)
    w_ih = ag.randn(gates * 3, 2, dtype=ag.float64, requires_grad=True)
    w_hh = ag.randn(gates * 3, 3, dtype=ag.float64, requires_grad=True)
    out = scan(x, w_ih=w_ih, w_hh=w_hh)[0]
    with pytest.raises(RuntimeError, match="once-differentiable.*fused_scan"):
        ag.grad(out.sum(), [x], create_graph=True)


@pytest.mark.parametrize("mode", MODES)
def test_composed_path_has_second_derivatives(mode):
    ag.manual_seed(0)
    layer = _layer(mode, input_size=2, hidden_size=2, num_layers=2, bidirectional=True,
                   dtype=ag.float64)
    layer.fused = False
    x = ag.randn(3, 2, 2, dtype=ag.float64, requires_grad=True)

    def f(x):
        out, _ = layer(x)
        return out
    assert gradgradcheck(f, [x])
    with nn.rnn.fused_scan(False):
        layer.fused = True
        g, = ag.grad(f(x).pow(2).sum(), [x], create_graph=True)
        g.sum().backward()


# -- errors -------------------------------------------------------------------------------------
def test_bad_inputs_give_clear_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match="input_size.*Expected 3, got 5"):
        lstm(ag.randn(6, 2, 5))
    with pytest.raises(ValueError, match="2D or 3D"):
        lstm(ag.randn(6, 2, 1, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 2, 4\), got \[2, 3, 4\]"):
        lstm(ag.randn(6, 2, 3), (ag.zeros(2, 3, 4), ag.zeros(2, 2, 4)))
    with pytest.raises(RuntimeError, match=r"hidden\[1\] size"):
        lstm(ag.randn(6, 2, 3), (ag.zeros(2, 2, 4), ag.zeros(2, 2, 5)))
    with pytest.raises(TypeError, match="tuple of 2"):
        lstm(ag.randn(6, 2, 3), ag.zeros(2, 2, 4))
    with pytest.raises(RuntimeError, match="3-D"):
        nn.GRU(3, 4)(ag.randn(6, 2, 3), ag.zeros(2, 4))
    with pytest.raises(RuntimeError, match="dtype"):
        nn.GRU(3, 4)(ag.randn(6, 2, 3, dtype=ag.float64))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="proj_size"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(ValueError, match="proj_size has to be smaller"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)
    with pytest.raises(RuntimeError, match="lstm_scan.*w_ih"):
        lstm_scan(ag.randn(3, 2, 3), ag.zeros(2, 4), ag.zeros(2, 4), ag.randn(16, 2),
                  ag.randn(16, 4))
    with pytest.raises(RuntimeError, match="gru_scan.*padded input"):
        gru_scan(ag.randn(5, 3), ag.zeros(2, 4), ag.randn(12, 3), ag.randn(12, 4))
    with pytest.raises(RuntimeError, match="gru_scan.*h0 of shape"):
        gru_scan(ag.randn(5, 3, 3), ag.zeros(2, 4), ag.randn(12, 3), ag.randn(12, 4))
    with pytest.raises(RuntimeError, match="rnn_scan.*non-increasing"):
        rnn_scan(ag.randn(5, 3), ag.zeros(2, 4), ag.randn(4, 3), ag.randn(4, 4),
                 batch_sizes=[1, 2, 2])
    with pytest.raises(RuntimeError, match="rnn_scan.*same dtype"):
        rnn_scan(ag.randn(2, 2, 3), ag.zeros(2, 4, dtype=ag.float64), ag.randn(4, 3),
                 ag.randn(4, 4))


# -- a custom cell plugs into the layer loop ----------------------------------------------------
class _StepOnlyElman(nn.rnn.Recurrence):
    """The Elman cell written as a step only (no fused scan), with its own weight names."""
    name = "STEP_ONLY"

    def weight_shapes(self, input_size, hidden_size, proj_size, bias):
        return [("w_in", (hidden_size, input_size)), ("w_rec", (hidden_size, hidden_size)),
                ("b", (hidden_size,))]

    def step(self, x, state, w):
        return ((x.matmul(w["w_in"].t()) + state[0].matmul(w["w_rec"].t()) + w["b"]).tanh(),)


@pytest.mark.parametrize("packed", [False, True])
def test_custom_recurrence_uses_the_layer_loop(packed):
    """A Recurrence with only a step gets layers, directions, packing and initial states
    from RNNBase; here it equals nn.RNN with the same weights (b = b_ih + b_hh)."""
    ag.manual_seed(0)
    ours = nn.RNNBase(_StepOnlyElman(), 3, 4, num_layers=2, bidirectional=True,
                      dtype=ag.float64)
    assert [n for n, _ in ours.named_parameters()][:4] == \
        ["w_in_l0", "w_rec_l0", "b_l0", "w_in_l0_reverse"]
    ref = nn.RNN(3, 4, num_layers=2, bidirectional=True, dtype=ag.float64)
    with ag.no_grad():
        for k in range(4):
            suffix = f"_l{k // 2}" + ("_reverse" if k % 2 else "")
            getattr(ref, "weight_ih" + suffix).copy_(getattr(ours, "w_in" + suffix))
            getattr(ref, "weight_hh" + suffix).copy_(getattr(ours, "w_rec" + suffix))
            getattr(ref, "bias_ih" + suffix).copy_(getattr(ours, "b" + suffix))
            getattr(ref, "bias_hh" + suffix).zero_()
    x = ag.randn(5, 3, 3, dtype=ag.float64)
    h0 = ag.randn(4, 3, 4, dtype=ag.float64)
    if packed:
        x = nn.utils.rnn.pack_padded_sequence(x, [2, 5, 4], enforce_sorted=False)
    out_a, h_a = ours(x, h0)
    out_b, h_b = ref(x, h0)
    if packed:
        out_a, out_b = out_a.data, out_b.data
    np.testing.assert_allclose(out_a.data, out_b.data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_a.data, h_b.data, rtol=1e-12, atol=1e-12)


class _OldScanElman(nn.rnn.recurrence.ElmanRecurrence):
    """A scan returning its final states (B, size), as before they were (1, B, size)."""

    def scan(self, x, state, w, sizes, reverse, recompute=None):
        out, finals = super().scan(x, state, w, sizes, reverse, recompute)
        return out, tuple(f.squeeze(0) for f in finals)


def test_a_scan_must_return_stacked_final_states():
    layer = nn.RNNBase(_OldScanElman(), 3, 4)
    with pytest.raises(RuntimeError, match=r"_OldScanElman.scan must return final states of "
                                           r"shape \(1, B, size\), got \(2, 4\)"):
        layer(ag.randn(5, 2, 3))


@pytest.mark.parametrize("scan", ["rnn", "lstm", "gru"])
def test_inplace_change_of_a_saved_input_is_caught(scan):
    x = ag.randn(3, 2, 2, requires_grad=True)
    h0 = ag.randn(2, 3, requires_grad=True)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[scan]
    w_ih, w_hh = ag.randn(3 * gates, 2, requires_grad=True), ag.randn(3 * gates, 3,
                                                                     requires_grad=True)
    if scan == "lstm":
        out = lstm_scan(x, h0, h0 * 1.0, w_ih, w_hh)[0]
    else:
        out = (rnn_scan if scan == "rnn" else gru_scan)(x, h0, w_ih, w_hh)[0]
    with ag.no_grad():
        h0.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("scan", ["rnn", "lstm", "gru"])
def test_inplace_change_of_the_output_is_caught(scan):
    # the backward reads the outputs (hs): the saved output is version-checked
    x = ag.randn(3, 2, 2, requires_grad=True)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[scan]
    w_ih, w_hh = ag.randn(3 * gates, 2, requires_grad=True), ag.randn(3 * gates, 3,
                                                                     requires_grad=True)
    scan_fn = {"rnn": rnn_scan, "lstm": lstm_scan, "gru": gru_scan}[scan]
    out = scan_fn(x, None, *([None] if scan == "lstm" else []), w_ih, w_hh)[0]
    with ag.no_grad():
        out.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_saved_arrays_are_freed_and_retain_graph_works():
    lstm = nn.LSTM(2, 3, dtype=ag.float64)
    x = ag.randn(4, 2, 2, dtype=ag.float64, requires_grad=True)
    out, _ = lstm(x)
    out.sum().backward(retain_graph=True)
    first = x.grad.data.copy()
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)
    assert out.grad_fn._saved is None and out.grad_fn._arrays is None   # freed
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        out.sum().backward()
