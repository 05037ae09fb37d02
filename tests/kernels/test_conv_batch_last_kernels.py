"""Batch-last convolution columns (autograd/kernels/conv_batch_last.py) against the plain-numpy
im2col / col2im references, and the pack sharing of kernels/conv_scratch.py."""
import numpy as np
import pytest

from autograd.kernels import conv_batch_last as KB
from autograd.kernels import conv_scratch as KW

from .test_conv_kernels import GEOMETRIES, _geometry, col2im_reference, im2col_reference


def _batch_last(case, dtype, seed):
    """geom, its BatchLastPlan, x and x packed (checked against np.pad of x, batch last)."""
    geom = _geometry(*case)
    plan = geom.batch_last
    x = np.random.default_rng(seed).standard_normal(case[0]).astype(dtype)
    xp = np.full((x.shape[1],) + plan.ext + (x.shape[0],), np.nan, dtype)
    KB.pack(x, plan.lo, xp, 0, x.shape[1])               # every entry written
    pads = [(lo, e - s - lo) for lo, e, s in zip(plan.lo, plan.ext, x.shape[2:])]
    np.testing.assert_array_equal(xp, np.pad(x, [(0, 0), (0, 0)] + pads).transpose(
        1, 2, 3, 4, 0))
    return geom, plan, x, xp


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", GEOMETRIES, ids=str)
def test_batch_last_pack_and_columns(case, dtype):
    # cols[row, ((r - r0)*OW + ow)*N + n] = im2col's cols[row, n, r*OW + ow] for r0 <= r < r1
    geom, plan, x, xp = _batch_last(case, dtype, 5)
    n, run = x.shape[0], plan.width * x.shape[0]
    want = im2col_reference(x, geom).transpose(0, 2, 1).reshape(-1, plan.rows * run)
    r0, r1 = plan.rows // 3, plan.rows
    cols = np.full((want.shape[0], (r1 - r0) * run + 3), np.nan, dtype)
    KB.columns(xp, plan.geo, r0, r1, cols)
    np.testing.assert_array_equal(cols[:, :-3], want[:, r0 * run:])
    assert np.isnan(cols[:, -3:]).all()
    # unpack: pack's inverse, with a bias per channel
    bias = np.arange(x.shape[1], dtype=dtype)
    y = np.full(x.shape, np.nan, dtype)
    KB.unpack(xp, plan.lo, bias, True, y, 0, x.shape[1])
    np.testing.assert_array_equal(y, x + bias.reshape(-1, 1, 1, 1))
    KB.unpack.py_func(xp, plan.lo, bias, False, y, 0, x.shape[1])
    np.testing.assert_array_equal(y, x)
    assert n == y.shape[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", GEOMETRIES, ids=str)
def test_batch_last_scatter_add(case, dtype):
    # the transpose of columns, in two chunks of rows, then unpacked: col2im of the same cols
    geom, plan, x, xp = _batch_last(case, dtype, 6)
    n, run = x.shape[0], plan.width * x.shape[0]
    cols = np.random.default_rng(7).standard_normal(
        (x.shape[1] * geom.taps, plan.rows * run)).astype(dtype)
    want = col2im_reference(cols.reshape(cols.shape[0], -1, n).transpose(0, 2, 1), geom,
                            x.shape)
    xp[...] = 0
    mid = plan.rows // 2
    KB.scatter_add(np.ascontiguousarray(cols[:, :mid * run]), plan.geo, 0, mid, xp)
    KB.scatter_add.py_func(np.ascontiguousarray(cols[:, mid * run:]), plan.geo, mid,
                           plan.rows, xp)
    dx = np.empty(x.shape, dtype)
    KB.unpack(xp, plan.lo, np.zeros(x.shape[1], dtype), False, dx, 0, x.shape[1])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dx, want, rtol=tol, atol=tol)


def test_shared_and_offered_packs():
    # within sharing_packs, an offered (array, key, pack) is found by identity of both; the
    # last pack made is kept for the same array and key; nothing outside the context
    a, b, key = np.zeros(3), np.zeros(3), object()
    fills = []

    def fill(buf):
        fills.append(1)
        buf[...] = 7
    with KW.sharing_packs((a, key, "pack of a")):
        assert KW.offered(a, key) == "pack of a"
        assert KW.offered(b, key) is None and KW.offered(a, object()) is None
        assert KW.shared_pack(a, key, (2,), np.float64, fill) == "pack of a"
        first = KW.shared_pack(b, key, (2,), np.float64, fill)
        assert KW.shared_pack(b, key, (2,), np.float64, fill) is first and fills == [1]
    assert KW.offered(a, key) is None
    np.testing.assert_array_equal(KW.shared_pack(b, key, (2,), np.float64, fill), [7, 7])
    assert fills == [1, 1]
