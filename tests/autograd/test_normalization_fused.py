"""The fused normalisation primitives (autograd/ops/normalization.py) against their composed
oracles (nn.functional.normalization._*_composed) and PyTorch: outputs, gradients (random
upstream gradient), running statistics, float32 and float64, gradcheck and gradgradcheck in
float64. Sizes include rows longer than a vector loop's step and not a multiple of it."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from autograd.autograd import gradcheck, gradgradcheck
from autograd.kernels import normalization as kernels
from nn.functional.normalization import (_batch_norm_composed, _group_norm_composed,
                                         _instance_norm_composed, _layer_norm_composed)

F32, F64 = np.float32, np.float64
TOL = {F32: dict(rtol=1e-4, atol=2e-5), F64: dict(rtol=1e-10, atol=1e-11)}


def _case(name, shape, affine):
    """(ours(x, w, b), composed(x, w, b), torch(x, w, b), weight shape) for one op."""
    c = shape[1] if len(shape) > 1 else shape[0]
    if name == "batch_norm":
        return (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                lambda x, w, b: _batch_norm_composed(x, None, None, w, b, training=True),
                lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), (c,))
    if name == "layer_norm":
        ns = shape[-1:] if len(shape) < 3 else shape[-2:]
        return (lambda x, w, b: F.layer_norm(x, ns, w, b),
                lambda x, w, b: _layer_norm_composed(x, ns, w, b),
                lambda x, w, b: TF.layer_norm(x, ns, w, b), ns)
    if name == "group_norm":
        groups = 3 if c % 3 == 0 else 2
        return (lambda x, w, b: F.group_norm(x, groups, w, b),
                lambda x, w, b: _group_norm_composed(x, groups, w, b),
                lambda x, w, b: TF.group_norm(x, groups, w, b), (c,))
    return (lambda x, w, b: F.instance_norm(x, None, None, w, b),
            lambda x, w, b: _instance_norm_composed(x, None, None, w, b),
            lambda x, w, b: TF.instance_norm(x, None, None, w, b), (c,))


CASES = [
    ("batch_norm", (6, 5)),               # (N, C): one position per channel and row
    ("batch_norm", (4, 3, 70)),           # rows of several vectors, with a tail
    ("batch_norm", (3, 4, 5, 6)),
    ("batch_norm", (2, 3, 2, 3, 2)),
    ("layer_norm", (5, 7)),               # rows shorter than a vector: the tail only
    ("layer_norm", (4, 130)),             # several vectors and a tail
    ("layer_norm", (2, 3, 4, 20)),        # normalized_shape (4, 20)
    ("group_norm", (3, 6, 25)),
    ("group_norm", (2, 4, 9, 9)),
    ("group_norm", (4, 6)),
    ("instance_norm", (3, 4, 70)),
    ("instance_norm", (2, 3, 5, 4)),
]
IDS = [f"{n}-{'x'.join(map(str, s))}" for n, s in CASES]


def _inputs(shape, wshape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.5, 2.0, shape).astype(dtype)
    w = rng.uniform(0.5, 1.5, wshape).astype(dtype)
    b = rng.normal(0.0, 1.0, wshape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    return x, w, b, g


def _run_ours(fn, x, w, b, g, affine):
    xt = ag.tensor(x, requires_grad=True)
    wt = ag.tensor(w, requires_grad=True) if affine else None
    bt = ag.tensor(b, requires_grad=True) if affine else None
    y = fn(xt, wt, bt)
    y.backward(ag.tensor(g))
    return [y.data, xt.grad.data] + ([wt.grad.data, bt.grad.data] if affine else [])


def _run_torch(fn, x, w, b, g, affine):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True) if affine else None
    bt = torch.tensor(b, requires_grad=True) if affine else None
    y = fn(xt, wt, bt)
    y.backward(torch.tensor(g))
    return [t.detach().numpy() for t in [y, xt.grad] + ([wt.grad, bt.grad] if affine else [])]


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
@pytest.mark.parametrize("name,shape", CASES, ids=IDS)
def test_fused_matches_composed_and_torch(name, shape, affine, dtype):
    ours, composed, ref, wshape = _case(name, shape, affine)
    x, w, b, g = _inputs(shape, wshape, dtype)
    fused = _run_ours(ours, x, w, b, g, affine)
    oracle = _run_ours(composed, x, w, b, g, affine)
    want = _run_torch(ref, x, w, b, g, affine)
    for what, a, c, t in zip(["y", "dx", "dw", "db"], fused, oracle, want):
        assert a.dtype == dtype and a.shape == t.shape, what
        np.testing.assert_allclose(a, c, **TOL[dtype], err_msg=f"{what}: fused vs composed")
        np.testing.assert_allclose(a, t, **TOL[dtype], err_msg=f"{what}: fused vs torch")


@pytest.mark.parametrize("name,shape", CASES, ids=IDS)
def test_gradcheck_and_gradgradcheck(name, shape):
    ours, _, _, wshape = _case(name, shape, True)
    x, w, b, _ = _inputs(shape, wshape, F64, seed=1)
    inputs = [ag.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert gradcheck(ours, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)
    small = np.prod(shape) <= 200                        # gradgradcheck on the small ones
    if small:
        assert gradgradcheck(ours, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("name,shape", [c for c in CASES if np.prod(c[1]) > 200],
                         ids=[i for i, c in zip(IDS, CASES) if np.prod(c[1]) > 200])
def test_second_order_matches_torch(name, shape):
    """d/d(x, w) of <dx, v> (create_graph=True) against PyTorch on the larger shapes."""
    ours, _, ref, wshape = _case(name, shape, True)
    x, w, b, g = _inputs(shape, wshape, F64, seed=2)
    v = np.random.default_rng(3).standard_normal(shape)

    def second(lib, fn):
        mk = (lambda a: ag.tensor(a, requires_grad=True)) if lib is ag else \
            (lambda a: torch.tensor(a, requires_grad=True))
        xt, wt, bt = mk(x), mk(w), mk(b)
        y = fn(xt, wt, bt)
        grad = ag.grad if lib is ag else torch.autograd.grad
        gx, = grad([y], [xt], [lib.tensor(g)], create_graph=True)
        return grad([(gx * lib.tensor(v)).sum()], [xt, wt])

    got, want = second(ag, ours), second(torch, ref)
    for a, t in zip(got, want):
        np.testing.assert_allclose(a.data, t.detach().numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name,shape", CASES, ids=IDS)
def test_create_graph_path_equals_kernel_path(name, shape):
    """Under create_graph=True backward uses Tensor operations; the first-order values must
    equal the kernel's."""
    ours, _, _, wshape = _case(name, shape, True)
    x, w, b, g = _inputs(shape, wshape, F64, seed=4)
    results = []
    for create_graph in (False, True):
        xt, wt, bt = (ag.tensor(a, requires_grad=True) for a in (x, w, b))
        y = ours(xt, wt, bt)
        grads = ag.grad([y], [xt, wt, bt], [ag.tensor(g)], create_graph=create_graph)
        assert grads[0].requires_grad == create_graph          # dx depends on x
        results.append([gr.data for gr in grads])
    for a, c in zip(*results):
        np.testing.assert_allclose(a, c, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 70), (2, 3, 4, 5)], ids=str)
def test_batch_norm_running_stats_fused_composed_torch(shape, dtype):
    rng = np.random.default_rng(5)
    stats = {k: (ag.zeros(3, dtype=dtype), ag.ones(3, dtype=dtype)) for k in ("f", "c")}
    trm, trv = torch.from_numpy(np.zeros(3, dtype)), torch.from_numpy(np.ones(3, dtype))
    for _ in range(3):
        x = rng.normal(1.0, 2.0, shape).astype(dtype)
        F.batch_norm(ag.tensor(x), *stats["f"], training=True, momentum=0.3)
        _batch_norm_composed(ag.tensor(x), *stats["c"], training=True, momentum=0.3)
        TF.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.3)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == F32 else dict(rtol=1e-13, atol=1e-13)
    for fused, composed, want in zip(stats["f"], stats["c"], (trm, trv)):
        assert fused.dtype == dtype
        np.testing.assert_allclose(fused.data, composed.data, **tol)
        np.testing.assert_allclose(fused.data, want.numpy(), **tol)


def test_instance_norm_running_stats_fused_composed_torch():
    rng = np.random.default_rng(6)
    stats = {k: (ag.zeros(4, dtype=ag.float64), ag.ones(4, dtype=ag.float64)) for k in "fc"}
    trm, trv = torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)
    for _ in range(3):
        x = rng.normal(1.0, 2.0, (3, 4, 70))
        F.instance_norm(ag.tensor(x), *stats["f"], momentum=0.2)
        _instance_norm_composed(ag.tensor(x), *stats["c"], momentum=0.2)
        TF.instance_norm(torch.tensor(x), trm, trv, momentum=0.2)
    for fused, composed, want in zip(stats["f"], stats["c"], (trm, trv)):
        np.testing.assert_allclose(fused.data, composed.data, rtol=1e-13)
        np.testing.assert_allclose(fused.data, want.numpy(), rtol=1e-13)


@pytest.mark.parametrize("name", ["batch_norm", "layer_norm", "group_norm"])
def test_non_contiguous_input_and_gradient(name):
    shape = (4, 6, 70)
    ours, _, ref, wshape = _case(name, shape, True)
    x, w, b, g = _inputs((70, 6, 4), wshape, F64, seed=7)
    xt = ag.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    wt, bt = ag.tensor(w, requires_grad=True), ag.tensor(b, requires_grad=True)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    y = ours(xt.permute(2, 1, 0), wt, bt)
    ty = ref(tx.permute(2, 1, 0), tw, tb)
    gt = ag.tensor(g).permute(2, 1, 0)                    # a non-contiguous upstream grad
    y.backward(gt)
    ty.backward(torch.tensor(g).permute(2, 1, 0))
    for a, t in [(y, ty), (xt.grad, tx.grad), (wt.grad, tw.grad), (bt.grad, tb.grad)]:
        np.testing.assert_allclose(a.data, t.detach().numpy(), **TOL[F64])


def test_float32_stays_float32_and_nan_propagates():
    x = np.random.default_rng(8).standard_normal((4, 6, 5)).astype(F32)
    x[1, 2, 3] = np.nan
    for fn, bad in [(lambda t: F.layer_norm(t, (5,)), (1, 2)),
                    (lambda t: F.group_norm(t, 3), (1, slice(2, 4)))]:
        y = fn(ag.tensor(x)).data
        assert y.dtype == F32
        assert np.isnan(y[bad]).all()
        mask = np.ones(y.shape, bool)
        mask[bad] = False
        assert np.isfinite(y[mask]).all()
    y = F.batch_norm(ag.tensor(x), None, None, training=True).data
    assert np.isnan(y[:, 2]).all() and np.isfinite(y[:, [0, 1, 3, 4, 5]]).all()


def test_float16_uses_the_composed_path():
    x = np.random.default_rng(9).standard_normal((4, 6)).astype(np.float16)
    y = F.layer_norm(ag.tensor(x), (6,))
    assert y.dtype == np.float16
    want = TF.layer_norm(torch.tensor(x, dtype=torch.float32), (6,)).numpy()
    np.testing.assert_allclose(y.data.astype(F32), want, atol=3e-3)


def test_inplace_change_of_input_is_detected():
    x = ag.randn(4, 3, 5, requires_grad=True)
    h = x * 1.0
    y = F.batch_norm(h, None, None, training=True)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()



def test_bias_written_in_place_before_backward_is_fine():
    """b is not needed by backward (only its shape): an update to it is no error, as in
    PyTorch; w is needed, and an update to it is reported."""
    x = ag.randn(4, 3, 5, requires_grad=True)
    w, b = ag.ones(3, requires_grad=True), ag.zeros(3, requires_grad=True)
    y = F.batch_norm(x, None, None, w, b, training=True)
    with ag.no_grad():
        b.add_(1.0)
    y.sum().backward()
    np.testing.assert_allclose(b.grad.data, np.full(3, 20.0))
    y = F.group_norm(x, 3, w, b)
    with ag.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()

# -- the kernels against plain numpy -------------------------------------------------------
def _numpy_norm(x3, axes, w, b, eps, g):
    """y, dx, x_hat*g and g, for x3 normalised over axes (float64 reference)."""
    mu = x3.mean(axes, keepdims=True)
    rstd = 1 / np.sqrt(x3.var(axes, keepdims=True) + eps)
    xh = (x3 - mu) * rstd
    gw = g * w
    dx = rstd * (gw - gw.mean(axes, keepdims=True) - xh * (gw * xh).mean(axes, keepdims=True))
    return xh * w + b, dx, g * xh


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "python"])
@pytest.mark.parametrize("rows,k,groups,runs", [(3, 5, 1, 5), (4, 130, 2, 130), (6, 64, 3, 64),
                                               (6, 64, 3, 4), (4, 70, 2, 2), (3, 9, 3, 1)])
def test_row_kernels(rows, k, groups, runs, compiled):
    # runs < k: each weight value covers a run of k / runs elements (a channel's positions)
    rng = np.random.default_rng(10)
    x = rng.normal(1, 3, (rows, k))
    g = rng.standard_normal((rows, k))
    w, b = rng.uniform(0.5, 2, (groups, runs)), rng.standard_normal((groups, runs))
    fwd = kernels.row_norm_forward if compiled else kernels.row_norm_forward.py_func
    bwd = kernels.row_norm_backward if compiled else kernels.row_norm_backward.py_func
    y, dx = np.empty_like(x), np.empty_like(x)
    mean, rstd, var = np.empty(rows), np.empty(rows), np.empty(rows)
    dw, db = np.zeros((groups, runs)), np.zeros((groups, runs))
    fwd(x, w, b, 1e-5, y, mean, rstd, var)
    bwd(x, g, w, mean, rstd, dx, dw, db)
    m = k // runs
    wr = np.repeat(w, m, axis=1)[np.arange(rows) % groups]
    br = np.repeat(b, m, axis=1)[np.arange(rows) % groups]
    y_ref, dx_ref, gxh = _numpy_norm(x, (1,), wr, br, 1e-5, g)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(var, x.var(1), rtol=1e-12)
    for gi in range(groups):
        dw_ref = gxh[gi::groups].sum(0).reshape(runs, m).sum(1)
        db_ref = g[gi::groups].sum(0).reshape(runs, m).sum(1)
        np.testing.assert_allclose(dw[gi], dw_ref, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(db[gi], db_ref, rtol=1e-10, atol=1e-12)


def test_row_kernel_sums_keep_nan_and_inf():
    """The row kernels' sums may be reordered (fastmath=REASSOC) but NaN and Inf propagate:
    a row holding either gets NaN statistics and outputs, the other rows are untouched
    (float32, rows of several vectors and a tail)."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((4, 70)).astype(F32)
    x[1, 33], x[2, 69] = np.nan, np.inf
    w, b = np.ones((1, 70), F32), np.zeros((1, 70), F32)
    y, mean, rstd, var = np.empty_like(x), np.empty(4, F32), np.empty(4, F32), np.empty(4)
    kernels.row_norm_forward(x, w, b, 1e-5, y, mean, rstd, var)
    assert np.isnan(var[1:3]).all() and np.isnan(y[1:3]).all()
    assert np.isfinite(y[[0, 3]]).all()
    np.testing.assert_allclose(var[[0, 3]], x[[0, 3]].astype(np.float64).var(1), rtol=1e-12)


def test_jit_accepts_reassociation_only():
    from autograd.kernels._jit import REASSOC, jit
    jit(fastmath=REASSOC)(lambda a: a)
    for flags in (True, {"reassoc", "nnan"}, {"fast"}):
        with pytest.raises(ValueError, match="fastmath"):
            jit(fastmath=flags)(lambda a: a)


@pytest.mark.parametrize("compiled", [True, False], ids=["numba", "python"])
@pytest.mark.parametrize("n,c,m", [(5, 3, 1), (3, 2, 70), (2, 4, 9)])
def test_column_kernels(n, c, m, compiled):
    rng = np.random.default_rng(11)
    x = rng.normal(1, 3, (n, c, m))
    g = rng.standard_normal((n, c, m))
    w, b = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    fwd = kernels.column_norm_forward if compiled else kernels.column_norm_forward.py_func
    bwd = kernels.column_norm_backward if compiled else kernels.column_norm_backward.py_func
    y, dx = np.empty((n, c * m)), np.empty((n, c * m))
    mean, rstd, var, dw, db = (np.empty(c) for _ in range(5))
    fwd(x.reshape(n, -1), w, b, 1e-5, y, mean, rstd, var, np.empty(c * m), 0, c)
    bwd(x.reshape(n, -1), g.reshape(n, -1), w, mean, rstd, dx, dw, db, np.empty(c * m),
        np.empty(c * m), 0, c)
    y_ref, dx_ref, gxh = _numpy_norm(x, (0, 2), w[:, None], b[:, None], 1e-5, g)
    np.testing.assert_allclose(y, y_ref.reshape(n, -1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, dx_ref.reshape(n, -1), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(var, x.var((0, 2)), rtol=1e-12)
    np.testing.assert_allclose(dw, gxh.sum((0, 2)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db, g.sum((0, 2)), rtol=1e-10, atol=1e-12)


# -- the ReLU backward and float32 erf fast paths (autograd/ops/unary.py) ------------------
@pytest.mark.parametrize("upstream", [np.inf, -np.inf, np.nan], ids=["inf", "-inf", "nan"])
def test_relu_backward_with_non_finite_upstream_matches_torch(upstream):
    x = np.array([-1.0, 0.0, 2.0, np.nan, -3.0], F32)
    g = np.array([upstream, upstream, 1.0, 2.0, 3.0], F32)    # non-finite where relu is flat
    xt, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ag.relu(xt).backward(ag.tensor(g))
    torch.relu(tx).backward(torch.tensor(g))
    np.testing.assert_array_equal(xt.grad.data, tx.grad.numpy())
    assert xt.grad.dtype == F32


def test_relu_backward_fast_and_recorded_paths_agree():
    x = np.random.default_rng(12).standard_normal((6, 7))
    x[0, :3] = 0.0
    g = np.random.default_rng(13).standard_normal((6, 7))
    grads = []
    for create_graph in (False, True):
        xt = ag.tensor(x, requires_grad=True)
        grads.append(ag.grad([ag.relu(xt)], [xt], [ag.tensor(g)], create_graph=create_graph)[0])
    np.testing.assert_array_equal(grads[0].data, grads[1].data)
    np.testing.assert_array_equal(grads[0].data, np.where(x > 0, g, 0.0))


def test_erf_float32_accuracy():
    x = np.concatenate([np.linspace(-6, 6, 20001), [0.0, -0.0, 1e-30, -1e-30, 3.9, 4.1, 1e30,
                                                   np.inf, -np.inf, np.nan]]).astype(F32)
    got = ag.erf(ag.tensor(x)).data
    want = torch.erf(torch.tensor(x, dtype=torch.float64)).numpy()
    assert got.dtype == F32
    np.testing.assert_allclose(got, want, rtol=0, atol=5e-7, equal_nan=True)
    np.testing.assert_array_equal(np.signbit(got[x == 0]), np.signbit(x[x == 0]))
