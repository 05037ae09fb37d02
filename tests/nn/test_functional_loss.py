"""Fused losses against PyTorch: cross_entropy, nll_loss, binary_cross_entropy(_with_logits)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from nn.functional.loss import _cross_entropy_composed
from tests.helpers import check_op

REDUCTIONS = ["none", "sum", "mean"]
# (input shape, target shape): (N, C), K-dimensional (N, C, d1, d2), unbatched (C,)
CLASS_SHAPES = [((5, 4), (5,)), ((3, 4, 2, 3), (3, 2, 3)), ((4,), ())]


def _class_inputs(shape, t_shape, ignore=True, weight=True):
    """make_inputs: logits, int64 targets (one of them ignore_index=-100 when batched) and,
    optionally, class weights."""
    def make(rng, dtype):
        x = rng.uniform(-3, 3, shape)
        t = rng.integers(0, shape[-1] if len(shape) == 1 else shape[1], t_shape)
        if ignore and t.ndim:
            t.reshape(-1)[1] = -100
        arrays = [x, t.astype(np.int64)]
        if weight:
            arrays.append(rng.uniform(0.2, 2.0, shape[0] if len(shape) == 1 else shape[1]))
        return arrays
    return make


# -- cross_entropy, class indices -----------------------------------------------------------
@pytest.mark.parametrize("shape,t_shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_indices(shape, t_shape, reduction, smoothing, weighted):
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    if weighted:
        def ours(x, t, w):
            return F.cross_entropy(x, t, weight=w, **kw)

        def ref(x, t, w):
            return TF.cross_entropy(x, t, weight=w, **kw)
    else:
        def ours(x, t):
            return F.cross_entropy(x, t, **kw)

        def ref(x, t):
            return TF.cross_entropy(x, t, **kw)
    check_op(ours, ref, make_inputs=_class_inputs(shape, t_shape, weight=weighted),
             grad_inputs=(0,))


@pytest.mark.parametrize("ignore_index,targets", [(-100, [0, 2, 1, 2, -100, 2]),
                                                  (2, [0, 2, 1, 2, 0, 2])])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_ignore_index(ignore_index, targets, smoothing):
    def make(rng, dtype):
        return [rng.standard_normal((6, 3)), np.array(targets)]
    kw = dict(ignore_index=ignore_index, label_smoothing=smoothing)
    check_op(lambda x, t: F.cross_entropy(x, t, **kw),
             lambda x, t: TF.cross_entropy(x, t, **kw), make_inputs=make)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_all_ignored_mean_is_nan(smoothing, weighted):
    def make(rng, dtype):
        return [rng.standard_normal((3, 4)), np.full(3, -100), rng.uniform(0.5, 1, 4)]
    kw = dict(label_smoothing=smoothing)
    check_op(lambda x, t, w: F.cross_entropy(x, t, weight=w if weighted else None, **kw),
             lambda x, t, w: TF.cross_entropy(x, t, weight=w if weighted else None, **kw),
             make_inputs=make, grad_inputs=(0,), gradcheck=False, layouts=("contiguous",))
    out = F.cross_entropy(ag.zeros(3, 4), ag.tensor([-100] * 3), label_smoothing=smoothing)
    assert np.isnan(out.item())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_extreme_logits(reduction, smoothing):
    # logits of +-1e4: finite, exact losses and gradients (no exp overflow)
    def make(rng, dtype):
        x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [-1e4, -1e4, -1e4],
                      [1e4, 1e4, -1e4]])
        return [x, np.array([0, 2, 1, 0]), np.array([0.5, 1.0, 2.0])]
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    check_op(lambda x, t, w: F.cross_entropy(x, t, weight=w, **kw),
             lambda x, t, w: TF.cross_entropy(x, t, weight=w, **kw),
             make_inputs=make, grad_inputs=(0,), gradcheck=False)


def test_cross_entropy_extreme_logits_finite():
    x = ag.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(x, ag.tensor([1, 0]), reduction="none")
    loss.sum().backward()
    assert np.isfinite(loss.data).all() and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(loss.data, [2e4, 2e4 + np.log(2)], rtol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_cross_entropy_matches_composed_oracle(reduction, smoothing, weighted):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5, 3))
    t = rng.integers(0, 5, (4, 3))
    t[0, 1] = -100
    w = ag.tensor(rng.uniform(0.2, 2, 5)) if weighted else None
    kw = dict(weight=w, reduction=reduction, label_smoothing=smoothing)
    xa, xb = ag.tensor(x, requires_grad=True), ag.tensor(x, requires_grad=True)
    fused = F.cross_entropy(xa, ag.tensor(t), **kw)
    composed = _cross_entropy_composed(xb, ag.tensor(t), **kw)
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12, atol=1e-12)
    g = ag.tensor(rng.standard_normal(fused.shape))
    ga, = ag.grad(fused, [xa], g)
    gb, = ag.grad(composed, [xb], g)
    np.testing.assert_allclose(ga.data, gb.data, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("smoothing,weighted", [(0.0, False), (0.2, True)])
def test_cross_entropy_gradgradcheck(reduction, smoothing, weighted):
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    t = ag.tensor([1, -100, 3])
    w = ag.tensor(rng.uniform(0.5, 2, 4)) if weighted else None
    assert ag.autograd.gradgradcheck(
        lambda x: F.cross_entropy(x, t, weight=w, reduction=reduction,
                                  label_smoothing=smoothing), [x])


def test_cross_entropy_second_derivative_matches_torch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4))
    t = np.array([1, 0, 3])
    xa, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ga, = ag.grad(F.cross_entropy(xa, ag.tensor(t), label_smoothing=0.1), [xa],
                  create_graph=True)
    gt, = torch.autograd.grad(TF.cross_entropy(xt, torch.tensor(t), label_smoothing=0.1), [xt],
                              create_graph=True)
    (ha,) = ag.grad((ga * ga).sum(), [xa])
    (ht,) = torch.autograd.grad((gt * gt).sum(), [xt])
    np.testing.assert_allclose(ha.data, ht.numpy(), rtol=1e-10, atol=1e-12)


# -- cross_entropy, class probabilities ------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3, 2), (4,)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probabilities(shape, reduction, smoothing, weighted):
    c = shape[0] if len(shape) == 1 else shape[1]
    kw = dict(reduction=reduction, label_smoothing=smoothing)

    def make(rng, dtype):
        return [rng.uniform(-3, 3, shape), rng.uniform(0, 1, shape), rng.uniform(0.2, 2, c)]
    # gradients reach the logits, the soft targets and the weights, as in PyTorch
    check_op(lambda x, y, w: F.cross_entropy(x, y, weight=w if weighted else None, **kw),
             lambda x, y, w: TF.cross_entropy(x, y, weight=w if weighted else None, **kw),
             make_inputs=make, grad_inputs=(0, 1, 2) if weighted else (0, 1))


def test_cross_entropy_probabilities_extreme_logits():
    def make(rng, dtype):
        x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]])
        return [x, np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])]
    check_op(lambda x, y: F.cross_entropy(x, y), lambda x, y: TF.cross_entropy(x, y),
             make_inputs=make, gradcheck=False)


# -- nll_loss ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,t_shape", CLASS_SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(shape, t_shape, reduction, weighted):
    def ours(x, t, w):
        return F.nll_loss(x, t, weight=w if weighted else None, reduction=reduction)

    def ref(x, t, w):
        return TF.nll_loss(x, t, weight=w if weighted else None, reduction=reduction)
    check_op(ours, ref, make_inputs=_class_inputs(shape, t_shape), grad_inputs=(0,))


def test_nll_loss_ignore_index_and_all_ignored():
    def make(rng, dtype):
        return [rng.standard_normal((4, 3)), np.array([0, 1, 1, 2])]
    check_op(lambda x, t: F.nll_loss(x, t, ignore_index=1),
             lambda x, t: TF.nll_loss(x, t, ignore_index=1), make_inputs=make)
    check_op(lambda x, t: F.nll_loss(x, t * 0 - 100), lambda x, t: TF.nll_loss(x, t * 0 - 100),
             make_inputs=make, gradcheck=False)


def test_nll_loss_gradgradcheck():
    x = ag.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    w = ag.tensor([0.5, 1.0, 2.0, 1.5])
    assert ag.autograd.gradgradcheck(lambda x: F.nll_loss(x, ag.tensor([1, 3, -100]), w), [x])


@pytest.mark.filterwarnings("ignore:size_average and reduce")
def test_legacy_reduction_flags():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((4, 3)), np.array([0, 1, 2, 1])
    for kw in (dict(size_average=False), dict(reduce=False), dict(size_average=True)):
        ours = F.cross_entropy(ag.tensor(x), ag.tensor(t), **kw)
        ref = TF.cross_entropy(torch.tensor(x), torch.tensor(t), **kw)
        np.testing.assert_allclose(ours.data, ref.numpy(), rtol=1e-12)


# -- binary_cross_entropy ----------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (4,), (3, 4)], ids=str)
def test_binary_cross_entropy(reduction, weight_shape):
    def make(rng, dtype):
        w = rng.uniform(0.2, 2, weight_shape or (4,))
        return [rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4)), w]
    w_on = weight_shape is not None
    # gradients reach the probabilities and the targets
    check_op(lambda p, y, w: F.binary_cross_entropy(p, y, w if w_on else None,
                                                    reduction=reduction),
             lambda p, y, w: TF.binary_cross_entropy(p, y, w if w_on else None,
                                                     reduction=reduction),
             make_inputs=make, grad_inputs=(0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_at_zero_and_one(reduction):
    # log is clamped at -100; the gradient divides by max(p (1 - p), 1e-12), as in PyTorch
    def make(rng, dtype):
        return [np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.0, 1.0, 0.3])]
    check_op(lambda p, y: F.binary_cross_entropy(p, y, reduction=reduction),
             lambda p, y: TF.binary_cross_entropy(p, y, reduction=reduction),
             make_inputs=make, grad_inputs=(0,), gradcheck=False)
    out = F.binary_cross_entropy(ag.tensor([0.0, 1.0]), ag.tensor([1.0, 0.0]), reduction="none")
    assert out.data.tolist() == [100.0, 100.0]


def test_binary_cross_entropy_gradgradcheck():
    rng = np.random.default_rng(0)
    p = ag.tensor(rng.uniform(0.1, 0.9, (2, 3)), requires_grad=True)
    y = ag.tensor(rng.uniform(0, 1, (2, 3)), requires_grad=True)
    assert ag.autograd.gradgradcheck(lambda p, y: F.binary_cross_entropy(p, y), [p, y])


# -- binary_cross_entropy_with_logits --------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_shape", [None, (4,), (3, 4), (1, 1)], ids=str)
def test_binary_cross_entropy_with_logits(reduction, weighted, pos_shape):
    def make(rng, dtype):
        return [rng.uniform(-4, 4, (3, 4)), rng.uniform(0, 1, (3, 4)),
                rng.uniform(0.2, 2, (4,)), rng.uniform(0.5, 3, pos_shape or (4,))]
    pos_on = pos_shape is not None

    def call(fn):
        def run(x, y, w, pw):
            return fn(x, y, weight=w if weighted else None, reduction=reduction,
                      pos_weight=pw if pos_on else None)
        return run
    # pos_weight broadcasts to target; PyTorch differentiates input and target only
    check_op(call(F.binary_cross_entropy_with_logits), call(TF.binary_cross_entropy_with_logits),
             make_inputs=make, grad_inputs=(0, 1))


def test_binary_cross_entropy_with_logits_weight_gradients():
    # ours also differentiates weight and pos_weight (composed): gradcheck them
    rng = np.random.default_rng(0)
    x, y = ag.tensor(rng.standard_normal((3, 4))), ag.tensor(rng.uniform(0, 1, (3, 4)))
    w = ag.tensor(rng.uniform(0.5, 2, (4,)), requires_grad=True)
    pw = ag.tensor(rng.uniform(0.5, 2, (3, 1)), requires_grad=True)
    assert ag.autograd.gradcheck(
        lambda w, pw: F.binary_cross_entropy_with_logits(x, y, w, pos_weight=pw), [w, pw])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_extreme(reduction):
    def make(rng, dtype):
        return [np.array([1e4, -1e4, 1e4, -1e4, 0.0]), np.array([1.0, 0.0, 0.0, 1.0, 0.5]),
                np.array([2.0])]
    check_op(lambda x, y, pw: F.binary_cross_entropy_with_logits(
                 x, y, reduction=reduction, pos_weight=pw),
             lambda x, y, pw: TF.binary_cross_entropy_with_logits(
                 x, y, reduction=reduction, pos_weight=pw),
             make_inputs=make, grad_inputs=(0, 1), gradcheck=False)


def test_binary_cross_entropy_with_logits_gradgradcheck():
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = ag.tensor(rng.uniform(0, 1, (2, 3)))
    pw = ag.tensor([1.0, 2.0, 0.5])
    assert ag.autograd.gradgradcheck(
        lambda x: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw), [x])


# -- cross_entropy on (N, C): the one-pass row kernels and the numpy pass agree ----------------
@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-6), (np.float64, 1e-13)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing,weighted", [(0.0, False), (0.0, True), (0.3, True)])
@pytest.mark.parametrize("shape", [(6, 4), (1, 3), (5, 1)], ids=str)
def test_cross_entropy_row_kernels_match_numpy_pass(monkeypatch, shape, reduction, smoothing,
                                                    weighted, dtype, tol):
    from autograd.ops import loss as loss_ops
    rng = np.random.default_rng(5)
    x = rng.uniform(-4, 4, shape).astype(dtype)
    t = rng.integers(0, shape[1], shape[0])
    t[-1] = -100
    w = ag.tensor(rng.uniform(0.2, 2, shape[1]).astype(dtype)) if weighted else None
    g = rng.standard_normal(shape[0] if reduction == "none" else ()).astype(dtype)
    results = []
    for limit in (loss_ops.ROWS_KERNEL_MAX, 0):          # kernels, then the numpy pass
        monkeypatch.setattr(loss_ops, "ROWS_KERNEL_MAX", limit)
        xt = ag.tensor(x, requires_grad=True)
        out = F.cross_entropy(xt, ag.tensor(t), weight=w, reduction=reduction,
                              label_smoothing=smoothing)
        out.backward(ag.tensor(g))
        results.append((out.data, xt.grad.data))
    (loss_k, dx_k), (loss_n, dx_n) = results
    np.testing.assert_allclose(loss_k, loss_n, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx_k, dx_n, rtol=tol, atol=tol)
    assert loss_k.dtype == dx_k.dtype == dtype


def test_cross_entropy_large_rows_use_numpy_pass_and_match_torch():
    from autograd.ops import loss as loss_ops
    shape = (80, 120)
    assert shape[0] * shape[1] > loss_ops.ROWS_KERNEL_MAX
    check_op(lambda x, t, w: F.cross_entropy(x, t, weight=w, label_smoothing=0.1),
             lambda x, t, w: TF.cross_entropy(x, t, weight=w, label_smoothing=0.1),
             make_inputs=_class_inputs(shape, (80,)), grad_inputs=(0,), gradcheck=False)


def test_cross_entropy_nan_logits_give_nan_like_torch():
    x = np.array([[0.5, np.nan, 1.0], [0.1, 0.2, 0.3]], np.float32)
    ours = F.cross_entropy(ag.tensor(x), ag.tensor([0, 2]), reduction="none").data
    ref = TF.cross_entropy(torch.tensor(x), torch.tensor([0, 2]), reduction="none").numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    assert np.isnan(ours[0]) and np.isfinite(ours[1])


# -- errors ------------------------------------------------------------------------------------
def test_errors_name_the_op_and_shapes():
    x = ag.randn(4, 3)
    with pytest.raises(ValueError, match=r"cross_entropy.*\(4, 3\).*\(3,\)"):
        F.cross_entropy(x, ag.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"cross_entropy.*\(4, 3, 2\).*\(4, 3\)"):
        F.cross_entropy(ag.randn(4, 3, 2), ag.tensor(np.zeros((4, 3), np.int64)))
    with pytest.raises(IndexError, match=r"cross_entropy: target 3 is out of bounds.*\(4, 3\)"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 3]))
    with pytest.raises(IndexError, match=r"nll_loss: target -1 is out of bounds.*\(4, 3\)"):
        F.nll_loss(x, ag.tensor([0, 1, 2, -1]))
    with pytest.raises(ValueError, match=r"nll_loss.*batch_size \(4\).*\(2,\)"):
        F.nll_loss(x, ag.tensor([0, 1]))
    with pytest.raises(RuntimeError, match=r"cross_entropy.*integer.*\(4, 3\).*float32.*\(4,\)"):
        F.cross_entropy(x, ag.tensor([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(RuntimeError, match=r"cross_entropy.*\(4, 3\).*\(4, 2\)"):
        F.cross_entropy(x, ag.rand(4, 2))
    with pytest.raises(RuntimeError, match=r"cross_entropy: weight.*3 elements.*\(2,\)"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 0]), weight=ag.ones(2))
    with pytest.raises(ValueError, match="cross_entropy.*reduction"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy: label_smoothing"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="cross_entropy.*weight"):
        F.cross_entropy(x, ag.tensor([0, 1, 2, 0]), weight=ag.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match=r"binary_cross_entropy.*\(3,\).*\(4, 3\)"):
        F.binary_cross_entropy(ag.rand(4, 3), ag.rand(3))
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: all elements of input.*\(2,\)"):
        F.binary_cross_entropy(ag.tensor([0.5, 1.5]), ag.tensor([0.0, 1.0]))
    with pytest.raises(RuntimeError, match=r"with_logits: pos_weight of shape \(2,\).*\(4, 3\)"):
        F.binary_cross_entropy_with_logits(x, ag.rand(4, 3), pos_weight=ag.ones(2))
