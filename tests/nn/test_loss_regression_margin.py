"""Regression, distribution and margin losses (and the distances) against torch.nn.functional:
values and gradients of every float input, float32 and float64, gradcheck in float64."""
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from autograd.autograd import gradgradcheck
from tests.helpers import check_op

REDUCTIONS = ["none", "sum", "mean"]
# (input shape, target shape): batched, 1-d, 0-d, empty
PAIR_SHAPES = [((3, 4), (3, 4)), ((5,), (5,)), ((), ()), ((0, 3), (0, 3))]


def _fn(ours, theirs, **kw):
    """The two sides of check_op with the same keyword arguments."""
    return (lambda *a, **k: ours(*a, **kw, **k)), (lambda *a, **k: theirs(*a, **kw, **k))


def _pm1(rng, shape):
    """A target of +1 and -1 (both present when there is room)."""
    y = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
    if y.size >= 2:
        y.reshape(-1)[:2] = (1.0, -1.0)
    return y


# -- mse, l1, smooth_l1, huber ------------------------------------------------------------------
POINTWISE = [
    ("mse_loss", {}), ("l1_loss", {}),
    ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}), ("smooth_l1_loss", {"beta": 0.0}),
    ("smooth_l1_loss", {"beta": 2.5}),
    ("huber_loss", {}), ("huber_loss", {"delta": 0.4}), ("huber_loss", {"delta": 3.0}),
]


@pytest.mark.parametrize("name,kw", POINTWISE, ids=str)
@pytest.mark.parametrize("shapes", PAIR_SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_losses(name, kw, shapes, reduction):
    ours, theirs = _fn(getattr(F, name), getattr(TF, name), reduction=reduction, **kw)
    check_op(ours, theirs, list(shapes))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_losses_weighted(name, reduction):
    ours, theirs = _fn(getattr(F, name), getattr(TF, name), reduction=reduction)
    def make(rng, dtype):
        return [rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (3, 4)),
                rng.uniform(0.1, 2, (3, 4))]
    check_op(lambda x, y, w: ours(x, y, weight=w), lambda x, y, w: theirs(x, y, weight=w),
             make_inputs=make)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
@pytest.mark.parametrize("shapes", [((3, 4), (4,)), ((3, 1), (3,)), ((2,), (3, 1))], ids=str)
def test_pointwise_losses_broadcast_with_a_warning(name, shapes):
    """PyTorch broadcasts input against target and warns that the sizes differ."""
    ours, theirs = _fn(getattr(F, name), getattr(TF, name), reduction="none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(ours, theirs, list(shapes), layouts=("contiguous",))
    with pytest.warns(UserWarning, match=rf"{name}: using a target size \(.*different"):
        getattr(F, name)(ag.zeros(*shapes[0]), ag.zeros(*shapes[1]))


def test_pointwise_losses_float32_target_int():
    x = ag.tensor([0.5, -1.0, 2.0], requires_grad=True)
    out = F.mse_loss(x, ag.tensor([1, 0, 2]))
    want = TF.mse_loss(torch.tensor([0.5, -1.0, 2.0]), torch.tensor([1, 0, 2]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.item(), want.item(), rtol=1e-6)


@pytest.mark.parametrize("name,kw", POINTWISE, ids=str)
def test_pointwise_losses_infinite_and_nan(name, kw):
    """inf and nan differences: the same values and gradients as PyTorch (no nan from the
    branch that is not taken)."""
    def make(rng, dtype):
        x = rng.uniform(-2, 2, 6)
        x[:3] = [np.inf, -np.inf, np.nan]
        return [x, rng.uniform(-2, 2, 6)]
    ours, theirs = _fn(getattr(F, name), getattr(TF, name), reduction="none", **kw)
    with np.errstate(invalid="ignore"):
        check_op(ours, theirs, make_inputs=make, gradcheck=False)


@pytest.mark.parametrize("name", ["mse_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_losses_gradgradcheck(name):
    rng = np.random.default_rng(3)
    x = ag.tensor(rng.uniform(-2, 2, (3, 4)), requires_grad=True)
    y = ag.tensor(rng.uniform(-2, 2, (3, 4)), requires_grad=True)
    gradgradcheck(lambda a, b: getattr(F, name)(a, b, reduction="none"), [x, y])


# -- kl_div -------------------------------------------------------------------------------------
def _kl_inputs(shape, log_target, zeros=False):
    def make(rng, dtype):
        x = np.log(rng.uniform(0.05, 1.0, shape))
        y = rng.uniform(-3, 0, shape) if log_target else rng.uniform(0.05, 1.0, shape)
        if zeros and y.size:
            y.reshape(-1)[::3] = 0.0
        return [x, y]
    return make


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 2), (5,), (), (0, 4)], ids=str)
@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(shape, reduction, log_target):
    ours, theirs = _fn(F.kl_div, TF.kl_div, reduction=reduction, log_target=log_target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_op(ours, theirs, make_inputs=_kl_inputs(shape, log_target))


def test_kl_div_zero_target():
    """0 log 0 = 0: values and input gradients as PyTorch; the target gradient at y = 0 is
    finite (-x; PyTorch's xlogy gives nan)."""
    ours, theirs = _fn(F.kl_div, TF.kl_div, reduction="sum")
    check_op(ours, theirs, make_inputs=_kl_inputs((3, 4), False, zeros=True), grad_inputs=(0,))
    x = ag.tensor([-1.0, -0.5], requires_grad=True)
    y = ag.tensor([0.0, 0.5], requires_grad=True)
    F.kl_div(x, y, reduction="sum").backward()
    np.testing.assert_allclose(y.grad.data, [1.0, np.log(0.5) + 1 + 0.5], rtol=1e-6)
    assert np.isfinite(x.grad.data).all()


def test_kl_div_mean_warns_and_batchmean_divides_by_the_batch():
    x = ag.tensor(np.log(np.full((4, 5), 0.2)))
    y = ag.tensor(np.full((4, 5), 0.3))
    with pytest.warns(UserWarning, match="kl_div: reduction 'mean'"):
        mean = F.kl_div(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = F.kl_div(x, y, reduction="batchmean")
        total = F.kl_div(x, y, reduction="sum")
    np.testing.assert_allclose(batch.item(), total.item() / 4)
    np.testing.assert_allclose(mean.item(), total.item() / 20)
    with pytest.raises(ValueError, match="kl_div: 'avg'"):
        F.kl_div(x, y, reduction="avg")


def test_kl_div_gradgradcheck():
    make = _kl_inputs((3, 4), False)
    x, y = (ag.tensor(a, requires_grad=True) for a in make(np.random.default_rng(1), None))
    gradgradcheck(lambda a, b: F.kl_div(a, b, reduction="batchmean"), [x, y])


# -- gaussian_nll_loss --------------------------------------------------------------------------
@pytest.mark.parametrize("var_shape", [(3, 4), (3,), (3, 1), (1, 4)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_loss(var_shape, reduction, full):
    def make(rng, dtype):
        return [rng.uniform(-2, 2, (3, 4)), rng.uniform(-2, 2, (3, 4)),
                rng.uniform(0.1, 2.0, var_shape)]
    ours, theirs = _fn(F.gaussian_nll_loss, TF.gaussian_nll_loss, reduction=reduction,
                       full=full)
    check_op(ours, theirs, make_inputs=make)


@pytest.mark.parametrize("eps", [1e-6, 0.05])
def test_gaussian_nll_loss_var_clamped_off_the_tape(eps):
    """var below eps is clamped for the value; its gradient is the one at the clamped value,
    as PyTorch (the clamp is not recorded)."""
    def make(rng, dtype):
        var = rng.uniform(0.001, 0.2, (4, 3))
        var[0, 0] = 0.0
        return [rng.uniform(-1, 1, (4, 3)), rng.uniform(-1, 1, (4, 3)), var]
    ours, theirs = _fn(F.gaussian_nll_loss, TF.gaussian_nll_loss, eps=eps, reduction="none")
    check_op(ours, theirs, make_inputs=make, gradcheck=False)


@pytest.mark.parametrize("var", [0.7, 2])
def test_gaussian_nll_loss_scalar_var(var):
    ours, theirs = _fn(F.gaussian_nll_loss, TF.gaussian_nll_loss, reduction="none")
    check_op(lambda x, y: ours(x, y, var), lambda x, y: theirs(x, y, float(var)),
             [(2, 3), (2, 3)])


def test_gaussian_nll_loss_errors():
    x = ag.zeros(3, 4)
    for bad in [ag.ones(3, 2), ag.ones(1, 1), ag.ones(()), ag.ones(4)]:
        pattern = re.escape(f"gaussian_nll_loss: var of shape {tuple(bad.shape)} is of "
                            "incorrect size for input of shape (3, 4)")
        with pytest.raises(ValueError, match=pattern):
            F.gaussian_nll_loss(x, x, bad)
    with pytest.raises(ValueError, match="gaussian_nll_loss: var.*negative"):
        F.gaussian_nll_loss(x, x, -ag.ones(3, 4))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var has a negative"):
        F.gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match="gaussian_nll_loss: 'avg'"):
        F.gaussian_nll_loss(x, x, 1.0, reduction="avg")


# -- poisson_nll_loss ---------------------------------------------------------------------------
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_poisson_nll_loss(log_input, full, reduction):
    def make(rng, dtype):
        x = rng.uniform(-1.5, 1.5, (4, 3)) if log_input else rng.uniform(0.2, 4, (4, 3))
        return [x, rng.integers(0, 6, (4, 3)).astype(np.float64)]
    ours, theirs = _fn(F.poisson_nll_loss, TF.poisson_nll_loss, log_input=log_input, full=full,
                       reduction=reduction)
    # PyTorch's target gradient of the full loss is nan at y = 0 (log 0 under a mask)
    check_op(ours, theirs, make_inputs=make, grad_inputs=(0,) if full else None)


def test_poisson_nll_loss_target_gradient_full():
    def make(rng, dtype):
        return [rng.uniform(-1, 1, (4, 3)), rng.uniform(0.3, 5, (4, 3))]
    ours, theirs = _fn(F.poisson_nll_loss, TF.poisson_nll_loss, full=True, reduction="none")
    check_op(ours, theirs, make_inputs=make)


# -- margin_ranking, hinge_embedding, soft_margin -----------------------------------------------
@pytest.mark.parametrize("shape", [(6,), (), (0,)], ids=str)
@pytest.mark.parametrize("margin", [0.0, 0.5])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_loss(shape, margin, reduction):
    def make(rng, dtype):
        return [rng.uniform(-1, 1, shape), rng.uniform(-1, 1, shape), _pm1(rng, shape)]
    ours, theirs = _fn(F.margin_ranking_loss, TF.margin_ranking_loss, margin=margin,
                       reduction=reduction)
    check_op(ours, theirs, make_inputs=make)


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((5,), (5,)),
                                    ((), ()), ((0, 2), (0, 2))], ids=str)
@pytest.mark.parametrize("margin", [1.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_hinge_embedding_loss(shapes, margin, reduction):
    def make(rng, dtype):
        return [rng.uniform(-0.5, 2, shapes[0]), _pm1(rng, shapes[1])]
    ours, theirs = _fn(F.hinge_embedding_loss, TF.hinge_embedding_loss, margin=margin,
                       reduction=reduction)
    check_op(ours, theirs, make_inputs=make)


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((5,), (5,)),
                                    ((), ()), ((0, 2), (0, 2))], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_soft_margin_loss(shapes, reduction):
    def make(rng, dtype):
        return [rng.uniform(-2, 2, shapes[0]), _pm1(rng, shapes[1])]
    ours, theirs = _fn(F.soft_margin_loss, TF.soft_margin_loss, reduction=reduction)
    # PyTorch has no target gradient (it refuses a target requiring grad); ours is
    # dl/dy = -x sigmoid(-y x), checked by gradcheck
    check_op(ours, theirs, make_inputs=make, grad_inputs=(0,))
    x, y = (ag.tensor(a, requires_grad=True) for a in make(np.random.default_rng(2), None))
    ag.autograd.gradcheck(lambda a, b: F.soft_margin_loss(a, b, reduction=reduction), [x, y])


def test_soft_margin_loss_extreme_is_finite():
    x = ag.tensor([200.0, -200.0, 0.0], requires_grad=True)
    out = F.soft_margin_loss(x, ag.tensor([-1.0, -1.0, 1.0]), reduction="sum")
    out.backward()
    np.testing.assert_allclose(out.item(), 200 + np.log(2), rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, [1.0, 0.0, -0.5], atol=1e-7)


# -- cosine_embedding ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 5), (5,), (0, 3)], ids=str)
@pytest.mark.parametrize("margin", [0.0, 0.3])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cosine_embedding_loss(shape, margin, reduction):
    def make(rng, dtype):
        return [rng.uniform(-1, 1, shape), rng.uniform(-1, 1, shape), _pm1(rng, shape[:-1])]
    ours, theirs = _fn(F.cosine_embedding_loss, TF.cosine_embedding_loss, margin=margin,
                       reduction=reduction)
    check_op(ours, theirs, make_inputs=make)


def test_cosine_embedding_loss_int_target():
    def make(rng, dtype):
        return [rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (3, 4)), np.array([1, -1, 1])]
    ours, theirs = _fn(F.cosine_embedding_loss, TF.cosine_embedding_loss, reduction="none")
    check_op(ours, theirs, make_inputs=make)


def test_cosine_embedding_loss_zero_vector_is_finite():
    """|x|^2 + 1e-12 keeps a zero vector finite: cos = 0 (its gradient is ~1e6 / |x2|)."""
    x1 = ag.zeros(2, 3, requires_grad=True)
    x2 = ag.tensor([[1.0, 2.0, 2.0], [0.5, 0.5, 0.0]], requires_grad=True)
    loss = F.cosine_embedding_loss(x1, x2, ag.tensor([1, -1]), reduction="none")
    loss.sum().backward()
    np.testing.assert_array_equal(loss.data, [1.0, 0.0])
    assert np.isfinite(x1.grad.data).all() and np.isfinite(x2.grad.data).all()


# -- distances and triplets ---------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((4, 5), (5,)), ((5,), (5,)), ((), ()),
                                    ((2, 3, 4), (3, 4)), ((0, 3), (0, 3))], ids=str)
@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(shapes, p, keepdim):
    ours, theirs = _fn(F.pairwise_distance, TF.pairwise_distance, p=p, keepdim=keepdim)
    check_op(ours, theirs, list(shapes))


@pytest.mark.parametrize("shapes,dim", [(((4, 5), (4, 5)), 1), (((4, 5), (5,)), 1),
                                        (((3, 4, 2), (3, 4, 2)), 1), (((3, 4, 2), (4, 2)), -1),
                                        (((6,), (6,)), 0), (((0, 3), (0, 3)), 1)], ids=str)
def test_cosine_similarity(shapes, dim):
    ours, theirs = _fn(F.cosine_similarity, TF.cosine_similarity, dim=dim)
    check_op(ours, theirs, list(shapes))


@pytest.mark.parametrize("eps", [1e-8, 0.5])
def test_cosine_similarity_small_norms_clamped_off_the_tape(eps):
    def make(rng, dtype):
        x1 = rng.uniform(-1, 1, (4, 3))
        x1[0] *= 1e-3
        x1[1] = 0.0
        return [x1, rng.uniform(-1, 1, (4, 3))]
    ours, theirs = _fn(F.cosine_similarity, TF.cosine_similarity, eps=eps)
    check_op(ours, theirs, make_inputs=make, gradcheck=False)


@pytest.mark.parametrize("shape", [(4, 5), (5,), (0, 3)], ids=str)
@pytest.mark.parametrize("p", [2, 1, 3.0])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_loss(shape, p, swap, reduction):
    def make(rng, dtype):
        a = rng.uniform(-1, 1, shape)
        return [a, a + rng.uniform(-0.6, 0.6, shape), rng.uniform(-1, 1, shape)]
    ours, theirs = _fn(F.triplet_margin_loss, TF.triplet_margin_loss, margin=0.8, p=p,
                       swap=swap, reduction=reduction)
    check_op(ours, theirs, make_inputs=make)


@pytest.mark.parametrize("distance", [None, "cosine"])
@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_with_distance_loss(distance, swap, reduction):
    ours_d = theirs_d = None
    if distance == "cosine":
        def ours_d(a, b):
            return 1 - F.cosine_similarity(a, b)

        def theirs_d(a, b):
            return 1 - TF.cosine_similarity(a, b)
    check_op(lambda a, p, n: F.triplet_margin_with_distance_loss(
                 a, p, n, distance_function=ours_d, margin=0.5, swap=swap, reduction=reduction),
             lambda a, p, n: TF.triplet_margin_with_distance_loss(
                 a, p, n, distance_function=theirs_d, margin=0.5, swap=swap,
                 reduction=reduction),
             [(4, 5), (4, 5), (4, 5)])


def test_margin_losses_gradgradcheck():
    rng = np.random.default_rng(5)
    a, p, n = (ag.tensor(rng.uniform(-1, 1, (3, 4)), requires_grad=True) for _ in range(3))
    gradgradcheck(lambda x, y, z: F.triplet_margin_loss(x, y, z, swap=True), [a, p, n])
    y = ag.tensor(_pm1(rng, (3,)))
    gradgradcheck(lambda u, v: F.cosine_embedding_loss(u, v, y, margin=0.1), [a, p])
    gradgradcheck(lambda u, v: F.cosine_similarity(u, v), [a, p])


# -- multilabel_soft_margin, multi_margin, multilabel_margin ------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (5,), (0, 3)], ids=str)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_soft_margin_loss(shape, weighted, reduction):
    def make(rng, dtype):
        arrays = [rng.uniform(-3, 3, shape), rng.integers(0, 2, shape).astype(np.float64)]
        return arrays + ([rng.uniform(0.2, 2, shape[-1])] if weighted else [])
    ours, theirs = _fn(F.multilabel_soft_margin_loss, TF.multilabel_soft_margin_loss,
                       reduction=reduction)
    check_op(ours, theirs, make_inputs=make)


@pytest.mark.parametrize("shape,t_shape", [((5, 4), (5,)), ((4,), ()), ((4,), (1,)),
                                           ((0, 4), (0,))], ids=str)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_loss(shape, t_shape, p, weighted, reduction):
    if shape[0] == 0 and reduction != "none":
        # PyTorch returns uninitialised memory for an empty batch; ours: sum 0, mean nan
        out = [F.multi_margin_loss(ag.zeros(shape), ag.zeros(t_shape, dtype=ag.int64), p=p,
                                   reduction=reduction).item()]
        np.testing.assert_equal(out, [0.0 if reduction == "sum" else np.nan])
        return

    def make(rng, dtype):
        arrays = [rng.uniform(-1, 1, shape), rng.integers(0, shape[-1], t_shape)]
        return arrays + ([rng.uniform(0.2, 2, shape[-1])] if weighted else [])
    ours, theirs = _fn(F.multi_margin_loss, TF.multi_margin_loss, p=p, margin=0.9,
                       reduction=reduction)
    if weighted:
        check_op(lambda x, t, w: ours(x, t, weight=w), lambda x, t, w: theirs(x, t, weight=w),
                 make_inputs=make, grad_inputs=(0,))
    else:
        check_op(ours, theirs, make_inputs=make, grad_inputs=(0,))


@pytest.mark.parametrize("targets", [[[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0],
                                      [2, 2, -1, 0]], [0, 3, -1, 2]], ids=["batched", "1d"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_margin_loss(targets, reduction):
    def make(rng, dtype):
        t = np.array(targets)
        return [rng.uniform(-1, 1, t.shape), t]
    ours, theirs = _fn(F.multilabel_margin_loss, TF.multilabel_margin_loss, reduction=reduction)
    check_op(ours, theirs, make_inputs=make)


# -- float32 stays float32, legacy flags, errors ------------------------------------------------
def test_float32_stays_float32():
    x = ag.randn(3, 4)
    y = ag.randn(3, 4)
    t = ag.tensor(np.array([1.0, -1.0, 1.0], np.float32))
    outs = [F.mse_loss(x, y), F.smooth_l1_loss(x, y, beta=0.5), F.huber_loss(x, y),
            F.kl_div(x, y.abs(), reduction="batchmean"), F.gaussian_nll_loss(x, y, y.abs()),
            F.poisson_nll_loss(x, y.abs(), full=True), F.cosine_embedding_loss(x, y, t),
            F.triplet_margin_loss(x, y, -y), F.cosine_similarity(x, y),
            F.margin_ranking_loss(x[:, 0], y[:, 0], t), F.soft_margin_loss(x, y.sign())]
    assert all(o.dtype == np.float32 for o in outs)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "kl_div",
                                  "poisson_nll_loss", "soft_margin_loss",
                                  "margin_ranking_loss", "hinge_embedding_loss"])
def test_legacy_size_average_and_reduce(name):
    rng = np.random.default_rng(0)
    n_in = 3 if name == "margin_ranking_loss" else 2
    arrays = [rng.uniform(0.1, 1, 4) for _ in range(n_in - 1)] + [_pm1(rng, 4)]
    for flags in [dict(size_average=False), dict(reduce=False), dict(size_average=True)]:
        ours = getattr(F, name)(*[ag.tensor(a) for a in arrays], **flags)
        want = getattr(TF, name)(*[torch.tensor(a) for a in arrays], **flags)
        np.testing.assert_allclose(ours.data, want.numpy(), rtol=1e-12)


def test_errors_name_the_loss_and_the_shapes():
    x34, x35 = ag.zeros(3, 4), ag.zeros(3, 5)
    with pytest.raises(RuntimeError, match=r"mse_loss: input of shape \(3, 4\), target of "
                                           r"shape \(3, 5\) cannot be broadcast"):
        F.mse_loss(x34, x35)
    with pytest.raises(RuntimeError, match=r"kl_div: input of shape \(3, 4\), target.*\(3, 5\)"):
        F.kl_div(x34, x35, reduction="sum")
    with pytest.raises(ValueError, match=r"mse_loss: weight of shape \(4,\).*\(3, 4\)"):
        F.mse_loss(x34, x34, weight=ag.ones(4))
    with pytest.raises(RuntimeError, match="smooth_l1_loss: beta must be non-negative"):
        F.smooth_l1_loss(x34, x34, beta=-1.0)
    with pytest.raises(RuntimeError, match="huber_loss: delta must be positive"):
        F.huber_loss(x34, x34, delta=0.0)
    with pytest.raises(ValueError, match="l1_loss: 'avg' is not a valid value for reduction"):
        F.l1_loss(x34, x34, reduction="avg")
    with pytest.raises(RuntimeError, match=r"mse_loss: expected a floating point input.*int64"):
        F.mse_loss(ag.tensor([1, 2]), ag.tensor([1, 2]))
    with pytest.raises(RuntimeError, match=r"margin_ranking_loss: all input tensors.*input1 "
                                           r"\(3,\), input2 \(3, 1\), target \(3,\)"):
        F.margin_ranking_loss(ag.zeros(3), ag.zeros(3, 1), ag.ones(3))
    with pytest.raises(RuntimeError, match=r"cosine_embedding_loss: a 1-d target expects 2-d "
                                           r"inputs.*input1 \(4,\)"):
        F.cosine_embedding_loss(ag.zeros(4), ag.zeros(4), ag.ones(4))
    with pytest.raises(RuntimeError, match=r"cosine_embedding_loss: input1 of shape \(3, 4\), "
                                           r"input2 of shape \(3, 5\)"):
        F.cosine_embedding_loss(x34, x35, ag.ones(3))
    with pytest.raises(RuntimeError, match=r"cosine_embedding_loss: cosine of shape \(3,\), "
                                           r"target of shape \(2,\)"):
        F.cosine_embedding_loss(x34, x34, ag.ones(2))
    with pytest.raises(RuntimeError, match=r"triplet_margin_loss: anchor of shape \(3, 4\), "
                                           r"positive of shape \(3, 5\)"):
        F.triplet_margin_loss(x34, x35, x34)
    with pytest.raises(RuntimeError, match=r"triplet_margin_loss: the anchor.*anchor \(3, 4\), "
                                           r"positive \(4,\)"):
        F.triplet_margin_loss(x34, ag.zeros(4), x34)
    with pytest.raises(ValueError, match="triplet_margin_loss: margin must be greater than 0"):
        F.triplet_margin_loss(x34, x34, x34, margin=0.0)
    with pytest.raises(RuntimeError, match=r"soft_margin_loss: target of shape \(3,\).*\(3, 1\)"):
        F.soft_margin_loss(ag.zeros(3, 1), ag.ones(3))
    with pytest.raises(RuntimeError, match=r"hinge_embedding_loss: input of shape \(3, 4\), "
                                           r"target of shape \(3,\)"):
        F.hinge_embedding_loss(x34, ag.ones(3))
    with pytest.raises(RuntimeError, match=r"pairwise_distance: x1 of shape \(3, 4\), x2 of "
                                           r"shape \(3, 5\)"):
        F.pairwise_distance(x34, x35)
    with pytest.raises(RuntimeError, match=r"cosine_similarity: x1 of shape \(3, 4\)"):
        F.cosine_similarity(x34, x35)
    with pytest.raises(ValueError, match=r"multi_margin_loss: inconsistent target size.*3 "
                                         r"target.*\(3, 4\).*\(2,\)"):
        F.multi_margin_loss(x34, ag.tensor([0, 1]))
    with pytest.raises(IndexError, match=r"multi_margin_loss: target out of range for 4"):
        F.multi_margin_loss(x34, ag.tensor([0, 1, 4]))
    with pytest.raises(ValueError, match="multi_margin_loss: only p == 1 and p == 2"):
        F.multi_margin_loss(x34, ag.tensor([0, 1, 2]), p=3)
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: expected target of the "
                                         r"input's shape \(3, 4\)"):
        F.multilabel_margin_loss(x34, ag.tensor([0, 1, 2]))
