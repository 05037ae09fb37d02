"""nn.functional linear maps and normalisation against torch.nn.functional."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from autograd.autograd import gradgradcheck
from nn.functional.linear import _linear_composed
from tests.helpers import check_op

F32, F64 = np.float32, np.float64


# -- linear, bilinear ----------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [
    [(4, 3), (5, 3), (5,)],
    [(2, 4, 3), (5, 3), (5,)],           # batch dims: one GEMM over 8 rows
    [(2, 3, 2, 3), (5, 3), (5,)],
    [(3,), (5, 3), (5,)],                # unbatched
    [(0, 3), (5, 3), (5,)],              # size-0 batch
    [(4, 3), (5, 3)],                    # no bias
    [(2, 4, 3), (3,)],                   # 1-d weight: one output, the dim dropped
], ids=str)
@pytest.mark.parametrize("linear", [F.linear, _linear_composed], ids=["fused", "composed"])
def test_linear(shapes, linear):
    check_op(linear, TF.linear, shapes)


def test_linear_double_backward():
    x, w, b = (ag.randn(*s, dtype=ag.float64, requires_grad=True) for s in [(2, 4, 3), (5, 3),
                                                                             (5,)])
    assert gradgradcheck(F.linear, (x, w, b))


def _matmul_nodes(t):
    """Count the MatMul nodes reachable from t's grad_fn."""
    seen, stack, count = set(), [t.grad_fn], 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or not hasattr(node, "edges"):
            continue
        seen.add(id(node))
        count += node.name() in ("MatMulBackward", "AffineBackward")
        stack.extend(e[0] for e in node.edges if e is not None)
    return count


@pytest.mark.parametrize("linear", [F.linear, _linear_composed], ids=["fused", "composed"])
@pytest.mark.parametrize("strided", [False, True])
def test_linear_batched_is_one_gemm(strided, linear):
    x = ag.randn(4, 6, 3, requires_grad=True)
    x_in = x.transpose(0, 1) if strided else x          # a non-contiguous (6, 4, 3)
    w = ag.randn(5, 3, requires_grad=True)
    y = linear(x_in, w)
    assert y.shape == x_in.shape[:-1] + (5,) and _matmul_nodes(y) == 1


def test_linear_errors():
    with pytest.raises(RuntimeError, match=r"linear.*\(2, 3\).*in_features=3.*\(4, 5\)"):
        F.linear(ag.randn(2, 3), ag.randn(4, 5))
    with pytest.raises(RuntimeError, match=r"linear.*bias.*\(3,\).*out_features=4"):
        F.linear(ag.randn(2, 5), ag.randn(4, 5), ag.randn(3))
    with pytest.raises(RuntimeError, match=r"linear.*dtype.*float32.*float64"):
        F.linear(ag.randn(2, 5), ag.randn(4, 5, dtype=ag.float64))


@pytest.mark.parametrize("shapes", [
    [(4, 3), (4, 2), (5, 3, 2), (5,)],
    [(2, 4, 3), (2, 4, 2), (5, 3, 2), (5,)],
    [(4, 3), (4, 2), (5, 3, 2)],
    [(3,), (2,), (5, 3, 2), (5,)],
    [(0, 3), (0, 2), (5, 3, 2), (5,)],
], ids=str)
def test_bilinear(shapes):
    check_op(F.bilinear, TF.bilinear, shapes)


def test_bilinear_errors():
    with pytest.raises(RuntimeError, match=r"bilinear.*\(2, 3\).*\(3, 2\)"):
        F.bilinear(ag.randn(2, 3), ag.randn(3, 2), ag.randn(5, 3, 2))
    with pytest.raises(RuntimeError, match=r"bilinear.*in1_features=4"):
        F.bilinear(ag.randn(2, 3), ag.randn(2, 2), ag.randn(5, 4, 2))


# -- batch_norm ----------------------------------------------------------------------------
BN_SHAPES = [(4, 3), (4, 3, 5), (2, 3, 2, 2), (2, 3, 2, 1, 2)]


@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_train(shape, affine):
    shapes = [shape] + ([(shape[1],), (shape[1],)] if affine else [])
    check_op(lambda x, *wb: F.batch_norm(x, None, None, *wb, training=True),
             lambda x, *wb: TF.batch_norm(x, None, None, *wb, training=True), shapes)


def _bn_eval_inputs(shape):
    def make(rng, dtype):
        c = shape[1]
        return [rng.uniform(-2, 2, shape), rng.uniform(-1, 1, c), rng.uniform(0.5, 2, c),
                rng.uniform(0.5, 2, c), rng.uniform(-1, 1, c)]
    return make


@pytest.mark.parametrize("shape", BN_SHAPES + [(0, 3)], ids=str)
def test_batch_norm_eval(shape):
    # x, running_mean, running_var (constants), weight, bias
    check_op(lambda x, m, v, w, b: F.batch_norm(x, m, v, w, b, training=False),
             lambda x, m, v, w, b: TF.batch_norm(x, m, v, w, b, training=False),
             make_inputs=_bn_eval_inputs(shape), grad_inputs=(0, 3, 4))


def test_batch_norm_eval_without_affine():
    check_op(lambda x, m, v: F.batch_norm(x, m, v), lambda x, m, v: TF.batch_norm(x, m, v),
             make_inputs=lambda rng, dt: _bn_eval_inputs((4, 3, 2))(rng, dt)[:3],
             grad_inputs=(0,))


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("shape,momentum", [((5, 3), 0.1), ((4, 3, 6), 0.3),
                                            ((2, 3, 2, 2), 1.0)], ids=str)
def test_batch_norm_running_stats(dtype, shape, momentum):
    rng = np.random.default_rng(0)
    rm, rv = ag.zeros(3, dtype=dtype), ag.ones(3, dtype=dtype)
    trm, trv = torch.from_numpy(np.zeros(3, dtype)), torch.from_numpy(np.ones(3, dtype))
    for _ in range(4):
        x = rng.normal(1.0, 2.0, shape).astype(dtype)
        version = rm._version
        F.batch_norm(ag.tensor(x), rm, rv, training=True, momentum=momentum)
        TF.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=momentum)
        assert rm._version > version and rm.dtype == dtype
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == F32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rm.data, trm.numpy(), **tol)
    np.testing.assert_allclose(rv.data, trv.numpy(), **tol)   # unbiased variance


def test_batch_norm_cumulative_average_matches_module():
    # BatchNorm(momentum=None) averages all batches: momentum 1 / num_batches_tracked
    rng = np.random.default_rng(1)
    bn = torch.nn.BatchNorm1d(3, momentum=None, affine=False)
    rm, rv = ag.zeros(3, dtype=ag.float64), ag.ones(3, dtype=ag.float64)
    bn.double()
    for k in range(1, 5):
        x = rng.normal(0.5, 1.5, (6, 3))
        bn(torch.tensor(x))
        F.batch_norm(ag.tensor(x), rm, rv, training=True, momentum=1.0 / k)
    np.testing.assert_allclose(rm.data, bn.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.data, bn.running_var.numpy(), rtol=1e-12)


def test_batch_norm_size_zero_batch_keeps_stats():
    rm, rv = ag.zeros(3), ag.ones(3)
    y = F.batch_norm(ag.randn(0, 3), rm, rv, training=True)
    assert y.shape == (0, 3)
    np.testing.assert_array_equal(rm.data, 0.0)
    np.testing.assert_array_equal(rv.data, 1.0)


def test_batch_norm_errors():
    with pytest.raises(RuntimeError, match=r"batch_norm.*running_mean.*\(4,\).*3.*\(2, 3\)"):
        F.batch_norm(ag.randn(2, 3), ag.zeros(4), ag.ones(4), training=True)
    with pytest.raises(RuntimeError, match=r"batch_norm.*weight.*\(4,\).*\(2, 3, 5\)"):
        F.batch_norm(ag.randn(2, 3, 5), None, None, ag.ones(4), training=True)
    with pytest.raises(ValueError, match=r"batch_norm.*more than 1 value.*\(1, 3\)"):
        F.batch_norm(ag.randn(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="batch_norm.*evaluation mode"):
        F.batch_norm(ag.randn(2, 3), None, None, training=False)
    with pytest.raises(ValueError, match=r"batch_norm.*\(3,\)"):
        F.batch_norm(ag.randn(3), ag.zeros(3), ag.ones(3))
    with pytest.raises(TypeError, match="batch_norm.*momentum"):
        F.batch_norm(ag.randn(2, 3), ag.zeros(3), ag.ones(3), training=True, momentum=None)


# -- layer_norm ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape,ns,affine", [
    ((4, 5), (5,), True),
    ((2, 3, 4), (3, 4), True),           # several trailing dims
    ((2, 3, 4), (2, 3, 4), True),
    ((2, 3, 4), (4,), False),
    ((5,), (5,), True),
    ((0, 5), (5,), True),
], ids=str)
def test_layer_norm(shape, ns, affine):
    shapes = [shape] + ([ns, ns] if affine else [])
    check_op(lambda x, *wb: F.layer_norm(x, ns, *wb, eps=1e-5),
             lambda x, *wb: TF.layer_norm(x, ns, *wb, eps=1e-5), shapes)


def test_layer_norm_weight_only():
    check_op(lambda x, w: F.layer_norm(x, (4,), w), lambda x, w: TF.layer_norm(x, (4,), w),
             [(3, 4), (4,)])


def test_layer_norm_errors():
    with pytest.raises(RuntimeError, match=r"layer_norm.*\[4\].*\[\*, 4\].*\[2, 3\]"):
        F.layer_norm(ag.randn(2, 3), (4,))
    with pytest.raises(RuntimeError, match=r"layer_norm.*weight.*\(3,\).*\(2,\)"):
        F.layer_norm(ag.randn(2, 3), (3,), ag.ones(2))


# -- group_norm, instance_norm -------------------------------------------------------------
# groups of at least 3 values: with 2, x_hat = +-1 and the gradient is 0 up to rounding
@pytest.mark.parametrize("shape", [(3, 12), (2, 12, 3), (2, 12, 2, 2), (0, 12, 3)], ids=str)
@pytest.mark.parametrize("groups", [1, 2, 4, 12])
def test_group_norm(shape, groups):
    if len(shape) == 2 and groups == 12:
        groups = 3                               # 2-d input: one value per channel
    check_op(lambda x, w, b: F.group_norm(x, groups, w, b),
             lambda x, w, b: TF.group_norm(x, groups, w, b), [shape, (12,), (12,)])


def test_group_norm_without_affine():
    check_op(lambda x: F.group_norm(x, 2), lambda x: TF.group_norm(x, 2), [(3, 6, 4)])


def test_group_norm_errors():
    with pytest.raises(RuntimeError, match=r"group_norm.*divisible.*\[2, 3\].*num_groups=2"):
        F.group_norm(ag.randn(2, 3), 2)
    with pytest.raises(RuntimeError, match=r"group_norm.*weight.*\[3\].*\[2, 4, 2\]"):
        F.group_norm(ag.randn(2, 4, 2), 2, ag.ones(3))


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 2, 3), (1, 3, 4)], ids=str)
@pytest.mark.parametrize("affine", [False, True])
def test_instance_norm(shape, affine):
    shapes = [shape] + ([(3,), (3,)] if affine else [])
    check_op(lambda x, *wb: F.instance_norm(x, None, None, *wb),
             lambda x, *wb: TF.instance_norm(x, None, None, *wb), shapes)


def test_instance_norm_running_stats():
    rng = np.random.default_rng(2)
    rm, rv = ag.zeros(3, dtype=ag.float64), ag.ones(3, dtype=ag.float64)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for _ in range(3):
        x = rng.normal(1.0, 2.0, (4, 3, 5))
        y = F.instance_norm(ag.tensor(x), rm, rv, momentum=0.2)
        ty = TF.instance_norm(torch.tensor(x), trm, trv, momentum=0.2)
        np.testing.assert_allclose(y.data, ty.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.data, trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.data, trv.numpy(), rtol=1e-12)


def test_instance_norm_running_stats_used():
    check_op(lambda x, m, v, w, b: F.instance_norm(x, m, v, w, b, use_input_stats=False),
             lambda x, m, v, w, b: TF.instance_norm(x, m, v, w, b, use_input_stats=False),
             make_inputs=_bn_eval_inputs((2, 3, 4)), grad_inputs=(0, 3, 4))


def test_instance_norm_errors():
    with pytest.raises(ValueError, match=r"instance_norm.*spatial.*\(2, 3, 1\)"):
        F.instance_norm(ag.randn(2, 3, 1))


# -- normalize, local_response_norm --------------------------------------------------------
def _away_from_zero(shape):
    return lambda rng, dtype: [rng.uniform(0.3, 2, shape) * rng.choice([-1, 1], shape)]


@pytest.mark.parametrize("shape,p,dim", [((3, 4), 2.0, 1), ((3, 4), 1.0, -1), ((2, 3, 4), 3.0, 1),
                                         ((5,), 2.0, 0), ((0, 4), 2.0, 1)], ids=str)
def test_normalize(shape, p, dim):
    check_op(lambda x: F.normalize(x, p, dim), lambda x: TF.normalize(x, p, dim),
             make_inputs=_away_from_zero(shape))


@pytest.mark.parametrize("shape,size", [((2, 5, 3), 3), ((2, 5, 3), 2), ((2, 4, 2, 3), 3),
                                        ((1, 3, 2, 2, 2), 4)], ids=str)
def test_local_response_norm(shape, size):
    check_op(lambda x: F.local_response_norm(x, size, alpha=0.3, beta=0.75, k=1.5),
             lambda x: TF.local_response_norm(x, size, alpha=0.3, beta=0.75, k=1.5), [shape])


# -- higher order --------------------------------------------------------------------------
SECOND_ORDER = {
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         [(4, 3, 2), (3,), (3,)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    "linear": (F.linear, [(2, 4, 3), (5, 3), (5,)]),
    "bilinear": (F.bilinear, [(4, 3), (4, 2), (5, 3, 2), (5,)]),
}


@pytest.mark.parametrize("name", list(SECOND_ORDER))
def test_gradgradcheck(name):
    fn, shapes = SECOND_ORDER[name]
    rng = np.random.default_rng(0)
    xs = [ag.tensor(rng.uniform(-2, 2, s), requires_grad=True) for s in shapes]
    assert ag.autograd.gradgradcheck(fn, xs)
