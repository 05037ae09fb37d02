"""The convolutions' column copies split over OpenBLAS's threads (kernels/conv_threads.py):
each thread writes only its channels' (or images') part, so the results are bitwise those
of the serial kernels, kernel by kernel and through conv forward + backward."""
import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from autograd.kernels import blas_threads as BT
from autograd.kernels import conv_batch_last as KB
from autograd.kernels import conv_flat as KF
from autograd.kernels import conv_tile as KT
from autograd.kernels import conv_shift as KS
from autograd.kernels import conv_threads as CT

pytestmark = pytest.mark.usefixtures("two_blas_threads")
DTYPES = [np.float32, np.float64]


@pytest.fixture
def split():
    old, CT.FORCE = CT.FORCE, True
    yield
    CT.FORCE = old


def _geo(kernel, stride, out):
    return np.array(kernel + stride + (1, 1, 1) + out, np.int64)


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("stride", [1, 2])
def test_batch_last_columns_and_scatter_add(dtype, stride):
    rng = np.random.default_rng(0)
    xp = rng.standard_normal((5, 1, 9, 9, 3)).astype(dtype)        # (C, ED, EH, EW, N)
    out = (1, (9 - 3) // stride + 1, (9 - 3) // stride + 1)
    geo = _geo((1, 3, 3), (1, stride, stride), out)
    r0, r1 = 1, out[1]
    width = (r1 - r0) * out[2] * 3
    cols, want = np.full((45, width), -1, dtype), np.full((45, width), -1, dtype)
    CT.columns(xp, geo, r0, r1, cols)
    KB.columns.py_func(xp, geo, r0, r1, want)
    np.testing.assert_array_equal(cols, want)
    got, ref = xp.copy(), xp.copy()
    CT.scatter_add(cols, geo, r0, r1, got)
    KB.scatter_add.py_func(cols, geo, r0, r1, ref)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_last_pack_and_unpack(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 1, 6, 7)).astype(dtype)
    lo = np.array([0, 1, 2], np.int64)
    xp, want = np.full((5, 1, 9, 10, 3), np.nan, dtype), np.full((5, 1, 9, 10, 3), np.nan, dtype)
    CT.pack(x, lo, xp)
    KB.pack.py_func(x, lo, want, 0, 5)
    np.testing.assert_array_equal(xp, want)
    bias = rng.standard_normal(5).astype(dtype)
    for has_bias in (True, False):
        y, y_want = np.full(x.shape, np.nan, dtype), np.full(x.shape, np.nan, dtype)
        CT.unpack(xp, lo, bias, has_bias, y)
        KB.unpack.py_func(xp, lo, bias, has_bias, y_want, 0, 5)
        np.testing.assert_array_equal(y, y_want)


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize("dtype", DTYPES)
def test_flat_pack_and_unpack_images(dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 3, 1, 4, 5)).astype(dtype)
    before, ext = np.array([0, 1, 1], np.int64), np.array([1, 6, 7], np.int64)
    xf, want = (np.full((3, 5 * 42 + 9), np.nan, dtype) for _ in range(2))
    CT.flat_pack(x, before, ext, xf)
    KF.pack_images.py_func(x, before, ext, 0, 5, want)
    np.testing.assert_array_equal(xf, want)
    yf = rng.standard_normal((3, 5 * 42 + 32)).astype(dtype)
    bias = rng.standard_normal(3).astype(dtype)
    out = (1, 3, 4)                       # the kept positions of each 1x6x7 block
    for start, stop in [(0, 5), (1, 4)]:
        y, y_want = (np.full((5, 3) + out, np.nan, dtype) for _ in range(2))
        CT.unpack_images(yf, ext, bias, True, start, stop, y)
        KF.unpack_images.py_func(yf, ext, bias, True, start, stop, y_want)
        np.testing.assert_array_equal(y, y_want)


def _flat_input(dtype, room):
    """12 images 3 x 20 x 20 in the flat layout of a 'same' 3x3 convolution (xf with `room`
    positions: the tiles' KT.room(total), else total), its tap offsets and position count."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((12, 3, 1, 20, 20)).astype(dtype)
    gaps, ext, offs = KF.flat_plan((1, 20, 20), (1, 20, 20), (1, 3, 3), (0, 1, 1), (1, 1, 1))
    total = 12 * int(np.prod(ext))
    xf = np.empty((3, room(total) + max(offs) + 1), dtype)
    KF.flat_pack(x, np.array(gaps), np.array(ext), xf)
    return xf, np.array(offs, np.int64), total, rng


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize("dtype", DTYPES)
def test_flat_conv(dtype, split_calls):
    # ranges of whole blocks on the pool's threads = one serial call over all positions
    xf, offs, total, rng = _flat_input(dtype, lambda total: total)
    assert total > 2 * KF.BLOCK
    w3 = rng.standard_normal((8, 3, 9)).astype(dtype)
    one, split = np.zeros((8, total), dtype), np.zeros((8, total), dtype)
    KF.flat_conv(xf, w3, offs, 1, 0, total, one)
    CT.flat_conv(xf, w3, offs, 1, total, split)
    np.testing.assert_array_equal(split, one)
    assert split_calls


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize("dtype", DTYPES)
def test_tile_conv(dtype, split_calls):
    # register tiles: ranges of whole tiles on the pool's threads (the last one partial) =
    # one serial call, and both = the flat loop to rounding (12 output channels: tiles of 8
    # and 4)
    xf, offs, total, rng = _flat_input(dtype, KT.room)
    assert total % KT.WIDTH and total > 2 * KT.WIDTH
    w3 = rng.standard_normal((12, 3, 9)).astype(dtype)
    one, split = np.zeros((12, KT.room(total)), dtype), np.zeros((12, KT.room(total)), dtype)
    KT.tile_conv(xf, w3, offs, 1, 0, total, one)
    CT.tile_conv(xf, w3, offs, 1, total, split)
    np.testing.assert_array_equal(split, one)
    assert split_calls
    loop = np.zeros((12, total), dtype)
    KF.flat_conv(xf, w3, offs, 1, 0, total, loop)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(one[:, :total], loop, rtol=tol, atol=tol)


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize("dtype", DTYPES)
def test_tile_weight_and_pack_last(dtype, split_calls):
    # runs of 8 output channels (12: a run of 8 and one of 4) on the pool's threads, and the
    # channels-last pack by images, = one serial call each
    rng = np.random.default_rng(7)
    x = rng.standard_normal((6, 32, 1, 9, 9)).astype(dtype)
    gaps, ext, offs = KF.flat_plan((1, 9, 9), (1, 9, 9), (1, 3, 3), (0, 1, 1), (1, 1, 1))
    total = 6 * int(np.prod(ext))
    one, split = (np.empty((total + max(offs) + 1, 32), dtype) for _ in range(2))
    KT.pack_last(x, np.array(gaps), np.array(ext), 0, 6, one)
    CT.pack_last(x, np.array(gaps), np.array(ext), split)
    np.testing.assert_array_equal(split, one)
    gq = rng.standard_normal((12, total)).astype(dtype)
    offs = np.array(offs, np.int64)
    dw_one, dw_split = np.zeros((9, 12, 32), dtype), np.zeros((9, 12, 32), dtype)
    KT.tile_weight(gq, one, offs, 1, 0, 12, dw_one)
    CT.tile_weight(gq, one, offs, 1, dw_split)
    np.testing.assert_array_equal(dw_split, dw_one)
    assert split_calls


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize("dtype", DTYPES)
def test_flat_columns(dtype):
    xf = np.random.default_rng(1).standard_normal((7, 60)).astype(dtype)
    offs = np.array([0, 1, 6, 7], np.int64)
    cols, want = np.full((28, 40), -1, dtype), np.full((28, 40), -1, dtype)
    CT.flat_columns(xf, offs, 5, 4, 29, cols)
    KS.flat_columns.py_func(xf, offs, 5, 4, 29, want)
    np.testing.assert_array_equal(cols, want)


@pytest.mark.usefixtures("split")
@pytest.mark.parametrize("dtype", DTYPES)
def test_flat_gather(dtype):
    # 2x2 kernel, images of 3x3 in a flat block of 4x4 (one gap row and column)
    rng = np.random.default_rng(2)
    offs, gaps, ext = (np.array(v, np.int64) for v in ([0, 1, 4, 5], [0, 1, 1], [1, 4, 4]))
    n_img, n_ch, block = 5, 3, 16
    z = rng.standard_normal((n_ch * 4, n_img * block)).astype(dtype)
    bias = rng.standard_normal(n_ch).astype(dtype)
    for start, stop in [(1, 5), (2, 3), (0, 1)]:           # images split; one image's channels
        got, want = (np.zeros((n_img, n_ch, 1, 3, 3), dtype) for _ in range(2))
        CT.flat_gather(z, offs, gaps, ext, 0, bias, start, stop, got)
        KS.flat_gather.py_func(z, offs, gaps, ext, 0, bias, start, stop, want)
        np.testing.assert_array_equal(got, want)


def _conv_run(force, dtype, shape, cout, stride, groups, taps=3):
    old, CT.FORCE = CT.FORCE, force
    try:
        rng = np.random.default_rng(0)
        nsp = len(shape) - 2
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nsp]
        x = ag.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
        w = ag.tensor(rng.standard_normal((cout, shape[1] // groups) + (taps,) * nsp)
                      .astype(dtype), requires_grad=True)
        b = ag.tensor(rng.standard_normal(cout).astype(dtype), requires_grad=True)
        y = conv(x, w, b, stride=stride, padding=1, groups=groups)
        y.backward(ag.tensor(rng.standard_normal(y.shape).astype(dtype)))
        return [y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]
    finally:
        CT.FORCE = old


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, cout, stride, groups", [
    ((6, 32, 12, 12), 32, 1, 1),         # shifted GEMMs
    ((6, 32, 12, 12), 32, 2, 1),         # batch-last columns, strided
    ((5, 64, 4, 4), 32, 1, 1),           # batch-last columns, small image
    ((4, 32, 10, 10), 64, 1, 2),         # groups
    ((3, 16, 6, 6, 6), 32, 1, 1),        # conv3d
    ((4, 64, 30), 32, 2, 1),             # conv1d
])
def test_conv_split_is_bitwise_serial(monkeypatch, split_calls, dtype, shape, cout, stride,
                                      groups):
    calls = split_calls
    got = _conv_run(True, dtype, shape, cout, stride, groups)
    assert calls                                            # the split path ran
    for got_part, want in zip(got, _conv_run(False, dtype, shape, cout, stride, groups)):
        np.testing.assert_array_equal(got_part, want)


def test_split_only_when_enabled_large_and_contiguous(monkeypatch):
    monkeypatch.setattr(CT, "FORCE", None)
    a = np.zeros((4, 6), np.float32)
    monkeypatch.setattr(BT, "ENABLED", False)
    assert not CT._splits(1 << 30, (a,))                    # TAPEGRAD_BLAS_THREADS=0
    monkeypatch.setattr(BT, "ENABLED", True)
    assert CT._splits(CT.MIN_ELEMENTS, (a,))
    assert not CT._splits(CT.MIN_ELEMENTS - 1, (a,))
    assert not CT._splits(1 << 30, (a[:, ::2],))            # the jobs assume C order
