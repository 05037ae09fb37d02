"""Convolution kernels (autograd/kernels/conv.py) against plain-numpy references."""
import numpy as np
import pytest

from autograd.kernels import conv as K
from autograd.ops.conv import ConvGeometry

# (x shape (N, C, D, H, W), kernel, stride, pad, dilation): 3-d, flat and strided paths
GEOMETRIES = [
    ((2, 3, 1, 6, 6), (1, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1)),    # 'same' 3x3: flat path
    ((2, 2, 1, 7, 5), (1, 2, 3), (1, 2, 3), (0, 1, 0), (1, 2, 1)),    # strided rows
    ((1, 2, 1, 9, 8), (1, 2, 2), (1, 3, 4), (0, 0, 1), (1, 3, 2)),    # stride > kernel
    ((2, 2, 4, 5, 6), (2, 3, 2), (1, 1, 1), (1, 1, 0), (2, 1, 3)),    # 3-d, dilation
    ((1, 1, 1, 1, 11), (1, 1, 4), (1, 1, 2), (0, 0, 3), (1, 1, 2)),   # 1-d, pad > half kernel
    ((1, 2, 3, 4, 4), (3, 3, 3), (2, 2, 2), (1, 1, 1), (1, 1, 1)),    # 3-d strided
]


def _geometry(xshape, kernel, stride, pad, dilation):
    sizes = xshape[2:]
    out = tuple((s + 2 * p - d * (k - 1) - 1) // st + 1
                for s, k, st, p, d in zip(sizes, kernel, stride, pad, dilation))
    return ConvGeometry(sizes, out, kernel, stride, pad, dilation, 1)


def im2col_reference(x, geom):
    """cols (C*K, N, L): one row per (channel, tap), gathered with numpy fancy indexing."""
    n, c = x.shape[:2]
    padded = np.pad(x, [(0, 0), (0, 0)] + [(p, p + d * k) for p, d, k in
                                           zip(geom.pad, geom.dilation, geom.kernel)])
    rows = []
    for ch in range(c):
        for taps in np.ndindex(*geom.kernel):
            index = np.ix_(*[t * d + np.arange(o) * s for t, d, o, s in
                             zip(taps, geom.dilation, geom.out_size, geom.stride)])
            rows.append(padded[:, ch][(slice(None),) + index].reshape(n, -1))
    return np.stack(rows)


def col2im_reference(cols, geom, xshape):
    """The transpose of im2col_reference: scatter-add each row back into a padded array."""
    n, c = xshape[:2]
    pads = [(p, p + d * k) for p, d, k in zip(geom.pad, geom.dilation, geom.kernel)]
    padded = np.zeros(xshape[:2] + tuple(s + a + b for s, (a, b) in zip(xshape[2:], pads)),
                      cols.dtype)
    row = 0
    for ch in range(c):
        for taps in np.ndindex(*geom.kernel):
            index = np.ix_(*[t * d + np.arange(o) * s for t, d, o, s in
                             zip(taps, geom.dilation, geom.out_size, geom.stride)])
            padded[:, ch][(slice(None),) + index] += cols[row].reshape((n,) + geom.out_size)
            row += 1
    crop = tuple(slice(a, a + s) for (a, _), s in zip(pads, xshape[2:]))
    return padded[(slice(None), slice(None)) + crop]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("image_major", [0, 1])
@pytest.mark.parametrize("case", GEOMETRIES, ids=str)
def test_im2col(case, image_major, dtype):
    geom = _geometry(*case)
    x = np.random.default_rng(0).standard_normal(case[0]).astype(dtype)
    want = im2col_reference(x, geom)
    rows, n, length = want.shape
    shape = (n, rows, length) if image_major else (rows, n, length)
    cols = np.full(shape, np.nan, dtype)                 # every entry must be written
    K.im2col(x, *geom.tables, geom.geo[image_major], cols)
    got = cols.transpose(1, 0, 2) if image_major else cols
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("image_major", [0, 1])
@pytest.mark.parametrize("case", GEOMETRIES, ids=str)
def test_col2im(case, image_major, dtype):
    geom = _geometry(*case)
    rng = np.random.default_rng(1)
    xshape = case[0]
    rows = xshape[1] * geom.taps
    cols = rng.standard_normal((rows, xshape[0], geom.positions)).astype(dtype)
    want = col2im_reference(cols, geom, xshape) + 1       # col2im adds to what dx holds
    arg = np.ascontiguousarray(cols.transpose(1, 0, 2)) if image_major else cols.copy()
    dx = np.ones(xshape, dtype)
    K.col2im(arg, *geom.tables, geom.geo[image_major], dx)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(dx, want, rtol=tol, atol=tol)


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> = <x, col2im(c)> for the interpreted kernels too (kernel.py_func)
    geom = _geometry(*GEOMETRIES[3])
    rng = np.random.default_rng(2)
    x = rng.standard_normal(GEOMETRIES[3][0])
    cols = np.empty((x.shape[1] * geom.taps, x.shape[0], geom.positions))
    K.im2col.py_func(x, *geom.tables, geom.geo[0], cols)
    c = rng.standard_normal(cols.shape)
    dx = np.zeros_like(x)
    K.col2im.py_func(c.copy(), *geom.tables, geom.geo[0], dx)
    np.testing.assert_allclose(np.vdot(cols, c), np.vdot(x, dx), rtol=1e-12)


def test_tap_table():
    # size 5, out 3, kernel 3, stride 2, pad 1, dilation 1: taps read o*2 - 1 + t
    assert K.tap_table(5, 3, 3, 2, 1, 1) == [(-1, 1, 3), (0, 0, 3), (1, 0, 2)]
