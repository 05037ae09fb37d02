"""The fused activation and softmax primitives (autograd/ops/activation.py, ops/softmax.py) and
their numba kernels (autograd/kernels/activation.py, kernels/softmax.py):

- exp32, the kernels' vectorisable float32 exp, within 1 ulp of the correctly rounded exp over
  a dense sample of every float32 bit pattern (normal, denormal, saturating; nan and inf);
  erf32 within 4e-7 of erf; the compiled kernels equal their plain-Python py_func bit for bit
  (no fastmath, no contraction);
- softmax, log_softmax, logsumexp (float32 kernel rows, and numpy for other dims and float64)
  against PyTorch: values, gradients (random upstream gradient, also a broadcast one), second
  derivatives through SoftmaxBackward / LogSoftmaxBackward, special rows (inf, nan, all -inf);
- gelu (exact and tanh) against PyTorch and against nn.functional's composed gelu (the oracle),
  first, second and third derivatives; gradcheck and gradgradcheck in float64;
- relu: values and gradients against PyTorch, the saved dead-unit mask, a select backward
  (inf or nan upstream gives 0 where dead), in-place relu_, create_graph.
"""
import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from autograd.autograd import gradcheck, gradgradcheck
from autograd.kernels import activation as kact
from autograd.kernels import softmax as ksoft
from autograd.ops.activation import GeluBackward, Relu
from nn.functional.activation import _gelu_composed
from tests.helpers import check_op

F32, F64 = np.float32, np.float64
INF, NAN = float("inf"), float("nan")
TOL = {F32: dict(rtol=1e-5, atol=1e-6), F64: dict(rtol=1e-10, atol=1e-12)}


def _ulps(a, b):
    """|a - b| in units in the last place of float32 (bit patterns of the same sign)."""
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


def _grads(fn, x, g, create_graph=False):
    """(y, dx) of fn at x with upstream g, ours (ag) or torch's."""
    if isinstance(x, torch.Tensor):
        xt = x.detach().clone().requires_grad_(True)
        y = fn(xt)
        dx, = torch.autograd.grad(y, xt, g, create_graph=create_graph)
        return y, dx, xt
    xt = ag.tensor(x, requires_grad=True)
    y = fn(xt)
    dx, = ag.grad(y, xt, ag.tensor(g), create_graph=create_graph)
    return y, dx, xt


# -- float32 math ----------------------------------------------------------------------------

def _dense_float32_sample():
    """Every 4099th float32 bit pattern, and the edges of exp's range."""
    bits = np.arange(0, 2 ** 32, 4099, dtype=np.uint64).astype(np.uint32)
    edges = np.array([0.0, -0.0, 1e-45, -1e-45, 1e-38, 88.72283, 88.72284, 88.7229, 89.0, 89.5,
                      -87.33654, -87.3366, -103.2789, -103.9720, -103.9721, -104.0, -104.5,
                      -150.0, 0.34657359, -0.34657359, 3.4028235e38, -3.4028235e38], F32)
    around = np.concatenate([np.nextafter(edges, F32(INF)), np.nextafter(edges, F32(-INF))])
    return np.concatenate([bits.view(F32), edges, around.astype(F32)])


def test_exp32_within_one_ulp_over_the_float32_range():
    x = _dense_float32_sample()
    y = np.empty_like(x)
    kact.exp_float32(x, y)
    with np.errstate(over="ignore"):
        want = np.exp(x.astype(F64)).astype(F32)          # float64 exp, rounded once
    finite = ~np.isnan(x)
    assert np.all(np.isnan(y[~finite]))
    assert _ulps(y[finite], want[finite]).max() <= 1
    special = np.array([0.0, -INF, INF, NAN, 1e-30, -200.0, 100.0], F32)
    out = np.empty_like(special)
    kact.exp_float32(special, out)
    assert out[0] == 1.0 and out[1] == 0.0 and out[2] == INF and np.isnan(out[3])
    assert out[4] == 1.0 and out[5] == 0.0 and out[6] == INF


def test_exp32_denormal_results_round_correctly():
    x = np.linspace(-103.9, -87.4, 20001, dtype=F32)       # exp(x) is denormal here
    y = np.empty_like(x)
    kact.exp_float32(x, y)
    want = np.exp(x.astype(F64)).astype(F32)
    assert np.all(want < np.finfo(F32).tiny)
    assert _ulps(y, want).max() <= 1


def test_erf32_max_abs_error():
    from scipy.special import erf
    x = np.concatenate([np.linspace(-6, 6, 200001, dtype=F32), np.array([INF, -INF], F32)])
    y = np.empty_like(x)
    kact.gelu(x, y, False)                                # erf32, seen through x Phi(x)
    got = y.astype(F64)
    want = x.astype(F64) * 0.5 * (1.0 + erf(x.astype(F64) / np.sqrt(2.0)))
    finite = np.isfinite(x)
    # gelu = x (1 + erf) / 2: an erf error e shows as |x| e / 2
    err = np.abs(got[finite] - want[finite]) / np.maximum(np.abs(x[finite]) / 2, 1e-30)
    assert err.max() < 5e-7


def _compiled_and_plain(kernel, inputs, out_like, flags=()):
    """kernel(*inputs, out, *flags) compiled and as its plain-Python py_func."""
    compiled, plain = np.empty_like(out_like), np.empty_like(out_like)
    kernel(*inputs, compiled, *flags)
    with np.errstate(all="ignore"), kact.plain_helpers():
        kernel.py_func(*inputs, plain, *flags)
    return compiled, plain


def test_kernels_equal_their_plain_python_reference():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(160) * 6).astype(F32)
    x[:6] = [0.0, -0.0, INF, -INF, NAN, -95.0]
    g = rng.standard_normal(160).astype(F32)
    cases = [(kact.exp_float32, (x,), ()), (kact.gelu, (x,), (False,)),
             (kact.gelu, (x,), (True,)), (kact.gelu_backward, (x, g), (False,)),
             (kact.gelu_backward, (x, g), (True,))]
    rows, rows_g = x[8:].reshape(8, 19), g[8:].reshape(8, 19)
    cases += [(ksoft.softmax_forward, (rows,), ()), (ksoft.softmax_backward, (rows, rows_g), ()),
              (ksoft.log_softmax_backward, (rows, rows_g), ())]
    for kernel, inputs, flags in cases:
        compiled, plain = _compiled_and_plain(kernel, inputs, inputs[0], flags)
        np.testing.assert_array_equal(compiled, plain, err_msg=kernel.__name__)
    # the row's log sum is libm's logf compiled, numpy's log in Python: 1 ulp apart at most
    compiled, plain = _compiled_and_plain(ksoft.log_softmax_forward, (rows,), rows)
    np.testing.assert_allclose(compiled, plain, rtol=0, atol=2.4e-7 * np.abs(plain).max())
    out = [np.empty(8, F32), np.empty(8, F32)]
    ksoft.logsumexp_forward(rows, out[0])
    with np.errstate(all="ignore"), kact.plain_helpers():
        ksoft.logsumexp_forward.py_func(rows, out[1])
    np.testing.assert_allclose(out[0], out[1], rtol=2.4e-7, atol=0)


# -- the softmax family ----------------------------------------------------------------------

SOFTMAX = [
    ("softmax", functools.partial(ag.softmax, dim=-1), functools.partial(torch.softmax, dim=-1)),
    ("log_softmax", functools.partial(ag.log_softmax, dim=-1),
     functools.partial(torch.log_softmax, dim=-1)),
    ("logsumexp", functools.partial(ag.logsumexp, dim=-1),
     functools.partial(torch.logsumexp, dim=-1)),
]
# rows shorter than the halving's 16-wide tail, odd lengths, one element, long rows
SHAPES = [(5, 7), (3, 4, 130), (2, 1), (4, 64), (2, 3, 17), (33,)]


@pytest.mark.parametrize("name,ours,ref", SOFTMAX, ids=[s[0] for s in SOFTMAX])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_softmax_family_matches_torch(name, ours, ref, shape):
    check_op(ours, ref, [shape], low=-8.0, high=8.0, gradcheck=shape[-1] <= 17)


@pytest.mark.parametrize("name,ours,ref", SOFTMAX, ids=[s[0] for s in SOFTMAX])
def test_softmax_family_other_dims_and_broadcast_upstream(name, ours, ref):
    dim_ours = functools.partial(ours.func, dim=1)
    dim_ref = functools.partial(ref.func, dim=1)
    check_op(dim_ours, dim_ref, [(3, 5, 4)], low=-5.0, high=5.0, gradcheck=False)
    x = np.random.default_rng(1).uniform(-3, 3, (6, 40)).astype(F32)
    xt = ag.tensor(x, requires_grad=True)
    ours(xt).sum().backward()                             # a broadcast upstream gradient
    xr = torch.from_numpy(x).requires_grad_(True)
    ref(xr).sum().backward()
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,ours,ref", SOFTMAX, ids=[s[0] for s in SOFTMAX])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_softmax_family_special_rows_match_torch(name, ours, ref, dtype):
    x = np.array([[0.0, -INF, 1.0], [-INF, -INF, -INF], [INF, 1.0, 2.0], [NAN, 0.0, 1.0],
                  [1e4, -1e4, 1e4 - 1.0], [-1e4, -1e4 + 2.0, -1e4], [-INF, INF, 0.0]], dtype)
    want = ref(torch.from_numpy(x)).numpy()
    got = ours(ag.tensor(x)).data
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, equal_nan=True)


@pytest.mark.parametrize("name,ours,ref", SOFTMAX[:2], ids=[s[0] for s in SOFTMAX[:2]])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_softmax_second_derivatives_match_torch(name, ours, ref, dtype):
    rng = np.random.default_rng(2)
    x = rng.uniform(-3, 3, (4, 37)).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    v = rng.standard_normal(x.shape).astype(dtype)
    _, dx, xt = _grads(ours, x, g, create_graph=True)
    _, dx_ref, xr = _grads(ref, torch.from_numpy(x), torch.from_numpy(g), create_graph=True)
    np.testing.assert_allclose(dx.data, dx_ref.detach().numpy(), **TOL[dtype])
    ddx, = ag.grad(dx, xt, ag.tensor(v))
    ddx_ref, = torch.autograd.grad(dx_ref, xr, torch.from_numpy(v))
    np.testing.assert_allclose(ddx.data, ddx_ref.numpy(), rtol=1e-4 if dtype == F32 else 1e-9,
                               atol=1e-5 if dtype == F32 else 1e-11)


def _recording(f):
    """f with recording forced on: gradgradcheck evaluates its finite differences under
    no_grad, where the first-order gradient it differentiates would not be recorded."""
    def call(*args):
        with ag.enable_grad():
            return f(*args)
    return call


@pytest.mark.parametrize("name,ours,ref", SOFTMAX, ids=[s[0] for s in SOFTMAX])
def test_softmax_family_gradgradcheck(name, ours, ref):
    x = ag.tensor(np.random.default_rng(3).uniform(-2, 2, (3, 5)), requires_grad=True)
    assert gradcheck(ours, (x,))
    assert gradgradcheck(_recording(ours), (x,))


# -- gelu ------------------------------------------------------------------------------------

GELU_VALUES = [-1e3, -20.0, -10.5, -10.0, -5.0, -3.0, -1e-3, -0.0, 0.0, 1e-3, 0.5, 3.0, 5.0,
               10.0, 20.0, 1e3]


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_gelu_matches_torch_and_the_composed_oracle(approximate, dtype):
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(-6, 6, 300), GELU_VALUES]).astype(dtype).reshape(4, -1)
    g = rng.standard_normal(x.shape).astype(dtype)
    ours = functools.partial(F.gelu, approximate=approximate)
    y, dx, _ = _grads(ours, x, g)
    y_c, dx_c, _ = _grads(functools.partial(_gelu_composed, approximate=approximate), x, g)
    y_t, dx_t, _ = _grads(functools.partial(TF.gelu, approximate=approximate),
                          torch.from_numpy(x), torch.from_numpy(g))
    assert y.dtype == dtype and dx.dtype == dtype
    # float32: erf's 4e-7 absolute error (ours and torch's) shows in x Phi(x) as |x| 2e-7
    tol = dict(rtol=2e-6, atol=2e-6) if dtype == F32 else dict(rtol=1e-10, atol=1e-12)
    for want in (y_c.data, y_t.detach().numpy()):
        np.testing.assert_allclose(y.data, want, **tol)
    for want in (dx_c.data, dx_t.numpy()):
        np.testing.assert_allclose(dx.data, want, **tol)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_non_finite_inputs(approximate):
    x = np.array([NAN, INF, -INF, 0.0], F32)
    y, dx, _ = _grads(functools.partial(F.gelu, approximate=approximate), x, np.ones(4, F32))
    assert np.isnan(y.data[0]) and np.isnan(dx.data[0]) and y.data[3] == 0.0
    assert y.data[1] == INF                                # (PyTorch's erf form gives nan)
    assert np.isnan(y.data[2])                             # -inf * 0, as PyTorch
    assert np.isnan(dx.data[1]) and np.isnan(dx.data[2])   # inf * 0, as PyTorch


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_gelu_higher_derivatives_match_the_composed_oracle(approximate, dtype):
    rng = np.random.default_rng(5)
    x = rng.uniform(-4, 4, (3, 11)).astype(dtype)
    g, v, w = (rng.standard_normal(x.shape).astype(dtype) for _ in range(3))
    results = []
    for fn in (F.gelu, _gelu_composed):
        xt = ag.tensor(x, requires_grad=True)
        gt = ag.tensor(g, requires_grad=True)
        y = fn(xt, approximate=approximate)
        dx, = ag.grad(y, xt, gt, create_graph=True)
        ddx, ddg = ag.grad(dx, (xt, gt), ag.tensor(v), create_graph=True)
        dddx, = ag.grad(ddx, xt, ag.tensor(w))
        results.append((dx.data, ddx.data, ddg.data, dddx.data))
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == F32 else dict(rtol=1e-9, atol=1e-11)
    for ours, oracle in zip(*results):
        np.testing.assert_allclose(ours, oracle, **tol)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck_and_gradgradcheck(approximate):
    x = ag.tensor(np.random.default_rng(6).uniform(-3, 3, (2, 5)), requires_grad=True)
    fn = functools.partial(F.gelu, approximate=approximate)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(_recording(fn), (x,))


def test_gelu_records_its_fused_backward_and_rejects_bad_input():
    x = ag.randn(3, requires_grad=True)
    dx, = ag.grad(F.gelu(x), x, ag.ones(3), create_graph=True)
    assert dx.grad_fn.fn is GeluBackward
    assert F.gelu(ag.randn(2, 3, dtype=ag.float32)).dtype == ag.float32
    with pytest.raises(RuntimeError, match="gelu.*approximate"):
        F.gelu(ag.randn(3), approximate="fast")


# -- relu ------------------------------------------------------------------------------------

def test_relu_matches_torch():
    check_op(ag.relu, torch.relu, [(4, 33)], low=-2.0, high=2.0)
    check_op(lambda x: x.relu(), torch.relu, [(2, 3, 5)], gradcheck=False)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
def test_relu_mask_and_select_backward(dtype):
    x = np.array([[-1.0, 0.0, -0.0, NAN, 2.0, 1e-30]], dtype)
    g = np.array([[INF, NAN, 1.0, 3.0, NAN, 5.0]], dtype)
    xt = ag.tensor(x, requires_grad=True)
    y = F.relu(xt)
    assert y.grad_fn.fn is Relu
    dead, = y.grad_fn.saved_tensors                          # what autograd.health reads
    np.testing.assert_array_equal(dead.data, [[True, True, True, False, False, False]])
    np.testing.assert_array_equal(y.data, np.array([[0.0, 0.0, 0.0, NAN, 2.0, 1e-30]], dtype))
    y.backward(ag.tensor(g))
    xr = torch.from_numpy(x).requires_grad_(True)
    torch.relu(xr).backward(torch.from_numpy(g))
    np.testing.assert_array_equal(xt.grad.data, [[0.0, 0.0, 0.0, 3.0, NAN, 5.0]])
    np.testing.assert_array_equal(xt.grad.data, xr.grad.numpy())
    assert y.dtype == dtype and xt.grad.dtype == dtype


def test_relu_inplace_integers_and_create_graph():
    x = ag.tensor([[-1.0, 2.0], [3.0, -4.0]], requires_grad=True)
    h = x * 1.0
    out = h.relu_()
    assert out is h
    np.testing.assert_array_equal(h.data, [[0.0, 2.0], [3.0, 0.0]])
    dx, = ag.grad(h.sum() ** 2, x, create_graph=True)      # d/dx (sum relu)^2
    np.testing.assert_array_equal(dx.data, [[0.0, 10.0], [10.0, 0.0]])
    ddx, = ag.grad(dx.sum(), x)
    np.testing.assert_array_equal(ddx.data, [[0.0, 4.0], [4.0, 0.0]])
    ints = ag.relu(ag.tensor([-2, 0, 3]))
    assert ints.dtype == ag.int64 and ints.tolist() == [0, 0, 3]
    with ag.no_grad():
        np.testing.assert_array_equal(ag.relu(ag.tensor([-1.0, 1.0])).data, [0.0, 1.0])
