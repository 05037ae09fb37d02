"""Pooling, unpooling and resampling against PyTorch: one line per case."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import autograd as ag
import nn.functional as F
from tests.helpers import TOL, check_op


def distinct(*shape):
    """Inputs without ties (values 0.1 apart, shuffled): max-pool gradients are well defined
    under finite differences."""
    def make(rng, dtype):
        n = int(np.prod(shape))
        return [(rng.permutation(n).reshape(shape) * 0.1 - n * 0.05).astype(dtype)]
    return make


def pooled(name, shape, **kw):
    """(ours, PyTorch's) F.<name>(x, **kw)."""
    return (lambda x: getattr(F, name)(x, **kw), lambda x: getattr(TF, name)(x, **kw))


MAX = [  # (op, shape, kwargs)
    ("max_pool1d", (2, 3, 9), dict(kernel_size=3)),
    ("max_pool1d", (2, 3, 10), dict(kernel_size=2, stride=3, padding=1)),     # stride > kernel
    ("max_pool1d", (1, 2, 11), dict(kernel_size=3, padding=1, dilation=2)),
    ("max_pool1d", (2, 2, 8), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ("max_pool1d", (2, 2, 8), dict(kernel_size=3, stride=2, ceil_mode=False)),
    ("max_pool1d", (3, 9), dict(kernel_size=2, return_indices=True)),          # unbatched
    ("max_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2)),
    ("max_pool2d", (2, 2, 7, 8), dict(kernel_size=2, stride=3)),
    ("max_pool2d", (1, 2, 7, 9), dict(kernel_size=3, padding=1, dilation=2)),
    ("max_pool2d", (2, 2, 6, 7), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
    ("max_pool2d", (1, 2, 6, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (1, 2, 6, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=False)),
    ("max_pool2d", (2, 2, 5, 5), dict(kernel_size=2, stride=2, ceil_mode=True,
                                      return_indices=True)),
    ("max_pool2d", (1, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2,
                                      ceil_mode=True, return_indices=True)),
    ("max_pool2d", (3, 5, 6), dict(kernel_size=2, return_indices=True)),       # unbatched
    ("max_pool2d", (2, 3, 8, 7), dict(kernel_size=2, return_indices=True)),    # 2x2 pairs
    ("max_pool3d", (1, 2, 5, 6, 7), dict(kernel_size=2)),
    ("max_pool3d", (2, 1, 5, 5, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                         return_indices=True)),
    ("max_pool3d", (1, 1, 6, 5, 7), dict(kernel_size=(2, 3, 2), stride=(3, 1, 2),
                                         dilation=(1, 2, 2))),
]


@pytest.mark.parametrize("name,shape,kw", MAX, ids=[f"{m[0]}-{m[1]}-{m[2]}" for m in MAX])
def test_max_pool(name, shape, kw):
    check_op(*pooled(name, shape, **kw), make_inputs=distinct(*shape))


@pytest.mark.parametrize("name,shape,kw", [
    ("max_pool1d", (1, 2, 7), dict(kernel_size=3, stride=1, padding=1)),
    ("max_pool2d", (2, 2, 5, 6), dict(kernel_size=3, stride=1, padding=1)),
    ("max_pool3d", (1, 1, 4, 4, 5), dict(kernel_size=2, stride=1, ceil_mode=True)),
    ("adaptive_max_pool2d", (1, 2, 5, 7), dict(output_size=(3, 4))),
    ("max_pool2d", (2, 2, 6, 5), dict(kernel_size=2)),                          # 2x2 pairs
], ids=str)
def test_max_pool_ties_take_first_max(name, shape, kw):
    # constant inputs: every window is a tie; PyTorch's CPU kernel keeps the first maximum
    check_op(*pooled(name, shape, return_indices=True, **kw), gradcheck=False,
             make_inputs=lambda rng, dtype: [np.full(shape, 1.5, dtype)])


@pytest.mark.parametrize("kernel,stride", [(3, 1), (2, 2)])
def test_max_pool_nan_propagates(kernel, stride):
    x = np.arange(2 * 6 * 6, dtype=np.float32).reshape(1, 2, 6, 6)
    x[0, 0, 1, 1] = x[0, 1, 4, 3] = x[0, 1, 5, 2] = np.nan
    x[0, 0, 4:, 4:] = -np.inf
    ours, oi = F.max_pool2d(ag.tensor(x), kernel, stride, return_indices=True)
    ref, ri = TF.max_pool2d(torch.tensor(x), kernel, stride, return_indices=True)
    np.testing.assert_array_equal(ours.data, ref.numpy())
    np.testing.assert_array_equal(oi.data, ri.numpy())


AVG = [
    ("avg_pool1d", (2, 3, 9), dict(kernel_size=3)),
    ("avg_pool1d", (2, 2, 10), dict(kernel_size=2, stride=3, padding=1)),
    ("avg_pool1d", (1, 2, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                   count_include_pad=False)),
    ("avg_pool1d", (3, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2)),
    ("avg_pool2d", (2, 2, 7, 8), dict(kernel_size=2, stride=3, padding=1)),
    ("avg_pool2d", (1, 2, 6, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (1, 2, 6, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                      count_include_pad=False)),
    ("avg_pool2d", (1, 2, 5, 7), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1),
                                      count_include_pad=False)),
    ("avg_pool2d", (2, 2, 6, 6), dict(kernel_size=3, padding=1, divisor_override=5)),
    ("avg_pool2d", (1, 2, 7, 7), dict(kernel_size=2, stride=2, ceil_mode=True,
                                      divisor_override=3)),
    ("avg_pool2d", (3, 5, 6), dict(kernel_size=2)),                                # unbatched
    ("avg_pool3d", (1, 2, 5, 6, 7), dict(kernel_size=2)),
    ("avg_pool3d", (2, 1, 5, 5, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                         count_include_pad=False)),
    ("avg_pool3d", (1, 1, 5, 4, 6), dict(kernel_size=(2, 3, 2), stride=(3, 1, 2),
                                         padding=(1, 1, 0), divisor_override=7)),
]


@pytest.mark.parametrize("name,shape,kw", AVG, ids=[f"{m[0]}-{m[1]}-{m[2]}" for m in AVG])
def test_avg_pool(name, shape, kw):
    check_op(*pooled(name, shape, **kw), [shape])


ADAPTIVE = [
    ("adaptive_avg_pool1d", (2, 3, 7), dict(output_size=3)),
    ("adaptive_avg_pool1d", (1, 2, 5), dict(output_size=7)),                     # upsampling
    ("adaptive_avg_pool2d", (2, 2, 7, 9), dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", (1, 3, 7, 5), dict(output_size=(None, 2))),
    ("adaptive_avg_pool2d", (2, 2, 5, 6), dict(output_size=1)),                  # global
    ("adaptive_avg_pool2d", (3, 5, 6), dict(output_size=(4, 4))),                # unbatched
    ("adaptive_avg_pool3d", (1, 2, 5, 6, 7), dict(output_size=(2, 4, 3))),
]


@pytest.mark.parametrize("name,shape,kw", ADAPTIVE, ids=str)
def test_adaptive_avg_pool(name, shape, kw):
    check_op(*pooled(name, shape, **kw), [shape])


@pytest.mark.parametrize("name,shape,kw", [
    ("adaptive_max_pool1d", (2, 3, 7), dict(output_size=3, return_indices=True)),
    ("adaptive_max_pool2d", (2, 2, 7, 9), dict(output_size=(3, 4))),
    ("adaptive_max_pool2d", (1, 3, 7, 5), dict(output_size=(5, 4), return_indices=True)),
    ("adaptive_max_pool2d", (2, 5, 6), dict(output_size=(None, 4), return_indices=True)),
    ("adaptive_max_pool3d", (1, 2, 5, 6, 7), dict(output_size=(2, 4, 3))),
], ids=str)
def test_adaptive_max_pool(name, shape, kw):
    check_op(*pooled(name, shape, **kw), make_inputs=distinct(*shape))


# -- unpooling ---------------------------------------------------------------------------------
UNPOOL = [  # (dims, shape, pool kwargs, unpool output_size)
    (2, (2, 3, 6, 8), dict(kernel_size=2), None),
    (2, (1, 2, 7, 9), dict(kernel_size=3, stride=2, padding=1), (7, 9)),
    (2, (2, 2, 7, 7), dict(kernel_size=2, stride=2), (2, 2, 7, 7)),   # odd: size given
    (1, (2, 3, 9), dict(kernel_size=3, stride=2), None),
    (3, (1, 2, 4, 6, 5), dict(kernel_size=2), (4, 6, 5)),
]


def _round_trip(fns, dims, kw, output_size):
    pool, unpool = getattr(fns, f"max_pool{dims}d"), getattr(fns, f"max_unpool{dims}d")

    def run(x):
        y, idx = pool(x, return_indices=True, **kw)
        return unpool(y, idx, kw["kernel_size"], kw.get("stride"), kw.get("padding", 0),
                      output_size)
    return run


@pytest.mark.parametrize("dims,shape,kw,size", UNPOOL, ids=str)
def test_max_unpool_round_trip(dims, shape, kw, size):
    # overlapping windows can share an argmax: unpool writes it once, but its gradient (a
    # gather, as PyTorch's) reaches it once per window, so only PyTorch parity is checked
    overlap = kw.get("stride", kw["kernel_size"]) < kw["kernel_size"]
    check_op(_round_trip(F, dims, kw, size), _round_trip(TF, dims, kw, size),
             make_inputs=distinct(*shape), gradcheck=not overlap)


def test_max_unpool2d_given_indices():
    # overlapping indices (3x3 windows, stride 1, constant input): the last write wins
    def make(rng, dtype):
        x = rng.standard_normal((1, 2, 4, 4))
        _, idx = TF.max_pool2d(torch.ones(1, 2, 6, 6), 3, 1, return_indices=True)
        return [x.astype(dtype), idx.numpy()]
    check_op(lambda x, i: F.max_unpool2d(x, i, 3, 1, output_size=(6, 6)),
             lambda x, i: TF.max_unpool2d(x, i, 3, 1, output_size=(6, 6)), make_inputs=make,
             layouts=("contiguous",))


# -- interpolate -------------------------------------------------------------------------------
INTERP = [  # (shape, kwargs)
    ((2, 3, 4, 5), dict(scale_factor=2)),
    ((1, 2, 5, 7), dict(size=(9, 4))),                           # up and down
    ((1, 2, 6, 7), dict(scale_factor=1.7)),
    ((1, 2, 9, 8), dict(scale_factor=(0.6, 0.45))),
    ((1, 2, 4, 5), dict(scale_factor=2.5, recompute_scale_factor=True)),
    ((2, 3, 7), dict(scale_factor=1.5)),                         # 3-d nearest
    ((2, 3, 7), dict(size=4)),
    ((1, 2, 3, 4, 5), dict(size=(5, 2, 7))),                     # 5-d nearest
    ((1, 2, 4, 5), dict(size=(8, 11), mode="bilinear", align_corners=True)),
    ((1, 2, 4, 5), dict(size=(8, 11), mode="bilinear", align_corners=False)),
    ((1, 2, 9, 7), dict(size=(4, 3), mode="bilinear", align_corners=True)),
    ((1, 2, 9, 7), dict(size=(4, 3), mode="bilinear", align_corners=False)),
    ((2, 2, 5, 6), dict(scale_factor=1.7, mode="bilinear")),
    ((2, 2, 5, 6), dict(scale_factor=(0.6, 2.3), mode="bilinear", align_corners=True)),
    ((1, 2, 5, 6), dict(scale_factor=2.5, mode="bilinear", recompute_scale_factor=True)),
    ((1, 2, 5, 6), dict(size=(1, 6), mode="bilinear", align_corners=True)),
    ((2, 3, 6), dict(size=10, mode="linear")),
    ((2, 3, 6), dict(scale_factor=0.7, mode="linear", align_corners=True)),
    ((1, 1, 3, 4, 3), dict(size=(5, 3, 4), mode="trilinear")),
    ((1, 2, 5, 6), dict(scale_factor=1.07)),                     # m = n: 4-d copies
    ((1, 2, 5, 6), dict(scale_factor=2.02)),                     # m = 2n: 4-d takes o >> 1
    ((1, 2, 9, 5), dict(scale_factor=(2.02, 1.07))),
    ((1, 2, 5, 6), dict(scale_factor=1.07, mode="bilinear")),    # m = n: a copy
    ((1, 2, 5), dict(scale_factor=2.02, mode="linear")),
]


@pytest.mark.parametrize("shape,kw", INTERP, ids=str)
def test_interpolate(shape, kw):
    check_op(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [shape])


# 'nearest' with a non-integer scale_factor and m = n or 2n: 3-d and 5-d input take
# src(o) = floor(o / s) (4-d input: o, o >> 1). Values against PyTorch; gradients against the
# adjoint of PyTorch's forward (its CPU backward for 3-d / 5-d takes the 4-d shortcuts).
NEAREST_SCALED = [  # (shape, kwargs)
    ((2, 3, 9), dict(scale_factor=2.02)),                        # src [0, 0, 0, 1, 1, 2, ...]
    ((2, 3, 5), dict(scale_factor=1.07)),                        # src [0, 0, 1, 2, 3]
    ((1, 2, 7), dict(scale_factor=2.3)),
    ((1, 2, 7), dict(scale_factor=2.02, recompute_scale_factor=False)),
    ((1, 2, 5), dict(scale_factor=1.07, recompute_scale_factor=True)),   # n / m = 1: a copy
    ((1, 2, 5, 6), dict(scale_factor=2.02)),                     # 4-d: o >> 1
    ((1, 2, 9, 5), dict(scale_factor=(1.07, 2.02))),             # 4-d: o and o >> 1
    ((1, 2, 5, 5, 5), dict(scale_factor=2.02)),
    ((1, 1, 5, 4, 6), dict(scale_factor=(1.07, 2.02, 1.5))),
    ((2, 1, 3, 4, 5), dict(scale_factor=1.07)),
]


def _nearest_adjoint(shape, kw, g):
    """J^T g for PyTorch's forward: interpolating the flat index of every input element (exact
    in float64) gives the source of every output element; dx[i] = sum of g over sources i."""
    code = torch.arange(int(np.prod(shape)), dtype=torch.float64).reshape(shape)
    src = TF.interpolate(code, **kw).numpy().astype(np.int64).ravel()
    return np.bincount(src, weights=g.ravel().astype(np.float64),
                       minlength=code.numel()).reshape(shape)


@pytest.mark.parametrize("shape,kw", NEAREST_SCALED, ids=str)
def test_interpolate_nearest_scale_factor(shape, kw):
    check_op(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [shape],
             grad=False)
    rng = np.random.default_rng(0)
    for dtype in (np.float32, np.float64):
        x = ag.tensor(rng.uniform(-2, 2, shape).astype(dtype), requires_grad=True)
        y = F.interpolate(x, **kw)
        g = rng.standard_normal(y.shape).astype(dtype)
        y.backward(ag.tensor(g))
        assert x.grad.dtype == dtype
        np.testing.assert_allclose(x.grad.data, _nearest_adjoint(shape, kw, g), **TOL[dtype])
    x = ag.tensor(rng.uniform(-2, 2, shape), requires_grad=True)
    assert ag.autograd.gradcheck(lambda t: F.interpolate(t, **kw), [x])


@pytest.mark.parametrize("name,kw", [("upsample_nearest", dict(scale_factor=2)),
                                     ("upsample_bilinear", dict(size=(7, 9))),
                                     ("upsample", dict(scale_factor=1.5, mode="bilinear"))])
def test_upsample_aliases(name, kw):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                  # PyTorch: "upsample is deprecated"
        check_op(*pooled(name, None, **kw), [(1, 2, 4, 5)], layouts=("contiguous",))


# -- higher order ------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 3, 2, padding=1),
    lambda x: F.max_pool2d(x, 2),
    lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False),
    lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    lambda x: F.adaptive_max_pool2d(x, (3, 2)),
    lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2,
                             output_size=x.shape[-2:]),
    lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
    lambda x: F.interpolate(x, size=(7, 3)),
], ids=["max", "max_2x2", "avg", "adaptive_avg", "adaptive_max", "unpool", "bilinear", "nearest"])
def test_double_backward(fn):
    rng = np.random.default_rng(0)
    x = ag.tensor((rng.permutation(40).reshape(1, 2, 4, 5) * 0.1), requires_grad=True)
    # the pooling is piecewise linear in x: multiply by x so the second derivative is not 0
    assert ag.autograd.gradgradcheck(lambda t: fn(t) * fn(t), [x])


def test_max_pool_double_backward_matches_torch():
    rng = np.random.default_rng(1)
    x = (rng.permutation(60).reshape(1, 3, 4, 5) * 0.1).astype(np.float64)
    xs = ag.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    (g,) = ag.grad((F.max_pool2d(xs, 2) ** 2).sum(), [xs], create_graph=True)
    (gt,) = torch.autograd.grad((TF.max_pool2d(xt, 2) ** 2).sum(), [xt], create_graph=True)
    (h,) = ag.grad((g * g).sum(), [xs])
    (ht,) = torch.autograd.grad((gt * gt).sum(), [xt])
    np.testing.assert_allclose(h.data, ht.numpy())


@pytest.mark.parametrize("name,shape,kw", [
    ("max_pool1d", (2, 1, 2), dict(kernel_size=2, stride=1, padding=1, dilation=3)),
    ("max_pool2d", (1, 1, 1, 1), dict(kernel_size=2, stride=(2, 3), padding=1,
                                      dilation=(3, 1), ceil_mode=True)),
])
def test_max_pool_windows_of_padding_only(name, shape, kw):
    # with dilation every tap of a window can fall in the padding: -inf and an index past
    # the plane, as PyTorch; such a window read no input, so its gradient reaches none
    # (the scatter must not write there: it is another plane, or past the buffer)
    x = (np.arange(np.prod(shape)) + 1.0).reshape(shape)
    xs, xt = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, idx = getattr(F, name)(xs, return_indices=True, **kw)
    yt, idx_t = getattr(TF, name)(xt, return_indices=True, **kw)
    np.testing.assert_array_equal(y.data, yt.detach().numpy())
    np.testing.assert_array_equal(idx.data, idx_t.numpy())
    assert np.isneginf(y.data).any()
    g = np.where(np.isneginf(y.data), 1.0, 0.0)
    y.backward(ag.tensor(g))
    np.testing.assert_array_equal(xs.grad.data, np.zeros(shape))
    # double backward: the gather (the scatter's adjoint) reads 0 there, not outside the plane
    v = ag.ones(*y.shape, dtype=ag.float64, requires_grad=True)
    (h,) = ag.grad((getattr(F, name)(xs, **kw) * v).sum(), [xs], create_graph=True)
    (dv,) = ag.grad((h * h).sum(), [v])
    inside = ~np.isneginf(y.data)
    flat_idx = idx.data.reshape(shape[0] * shape[1], -1)
    h_want = np.zeros((flat_idx.shape[0], x[0, 0].size))
    for p, row in enumerate(flat_idx):
        for j, i in enumerate(row):
            if inside.reshape(flat_idx.shape)[p, j]:
                h_want[p, i] += 1
    np.testing.assert_array_equal(h.data, h_want.reshape(shape))
    dv_want = np.where(inside.reshape(flat_idx.shape),
                       2 * np.take_along_axis(h_want, np.where(inside.reshape(flat_idx.shape),
                                                               flat_idx, 0), axis=1), 0)
    np.testing.assert_array_equal(dv.data, dv_want.reshape(y.shape))


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("call,match", [
    (lambda x: F.max_pool2d(x, 7), r"max_pool2d.*\(1, 2, 5, 5\).*too small"),
    (lambda x: F.max_pool2d(x, 3, padding=2), r"max_pool2d: pad should be at most half.*"
                                              r"\(1, 2, 5, 5\)"),
    (lambda x: F.avg_pool2d(x, 2, padding=2), r"avg_pool2d: pad should be at most half"),
    (lambda x: F.max_pool2d(x, 2, stride=0), r"max_pool2d: stride"),
    (lambda x: F.max_pool2d(x, 0), r"max_pool2d: kernel size"),
    (lambda x: F.max_pool2d(x, 2, dilation=0), r"max_pool2d: dilation"),
    (lambda x: F.max_pool2d(x, (2, 2, 2)), r"max_pool2d: kernel_size must"),
    (lambda x: F.max_pool3d(x[0], 2), r"max_pool3d: expected a 4-d .* got shape \(2, 5, 5\)"),
    (lambda x: F.max_pool1d(x[0, 0, 0], 2), r"max_pool1d: expected .* got shape \(5,\)"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), r"avg_pool2d: divisor_override"),
    (lambda x: F.max_unpool2d(x, ag.full((1, 2, 5, 5), 100, dtype=ag.int64), 2),
     r"max_unpool2d: found an invalid max index 100 .*10x10"),
    (lambda x: F.max_unpool2d(x, ag.zeros(1, 2, 4, 4, dtype=ag.int64), 2),
     r"max_unpool2d: indices .* shape \(1, 2, 4, 4\)"),
    (lambda x: F.interpolate(x, size=3, mode="bilinear", align_corners=None, scale_factor=2),
     r"interpolate: exactly one"),
    (lambda x: F.interpolate(x, size=3, align_corners=True), r"interpolate: align_corners"),
    (lambda x: F.interpolate(x, size=3, mode="linear"), r"interpolate: .* linear mode needs"),
])
def test_errors(call, match):
    x = ag.randn(1, 2, 5, 5)
    with pytest.raises((RuntimeError, ValueError, NotImplementedError), match=match):
        call(x)


def test_indices_are_int64_and_each_window_sends_one_gradient():
    x = ag.randn(1, 1, 4, 4, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.data.sum() == 4.0 and np.count_nonzero(x.grad.data) == 4
    assert F.max_pool2d(x.detach(), 2, return_indices=True)[1].dtype == ag.int64
