"""Pooling kernels (autograd/kernels/pool.py) against plain-numpy references."""
import numpy as np
import pytest

from autograd.kernels import pool as K
from autograd.ops.pool import adaptive_windows, avg_windows, max_windows, pool_output_size

UNIT = np.array([[0, 1, 1]], np.int64)


def _taps(table, step):
    """The input positions each output position reads, per dim: a list of int arrays."""
    return [np.arange(lo, hi, step) for lo, hi, _ in table]


def max_pool_reference(x, wd, wh, ww, step):
    """Window max and flat argmax: the first maximum, or the last NaN when there is one;
    an empty window gives -inf at its start."""
    planes, _, h_in, w_in = x.shape
    shape = (planes, len(wd), len(wh), len(ww))
    out = np.empty(shape, x.dtype)
    idx = np.empty(shape, np.int64)
    for od, td in enumerate(_taps(wd, step[0])):
        for oh, th in enumerate(_taps(wh, step[1])):
            for ow, tw in enumerate(_taps(ww, step[2])):
                flat = ((td[:, None, None] * h_in + th[None, :, None]) * w_in
                        + tw[None, None, :]).reshape(-1)
                vals = x.reshape(planes, -1)[:, flat]
                for p in range(planes):
                    v = vals[p]
                    if v.size == 0:
                        out[p, od, oh, ow] = -np.inf
                        idx[p, od, oh, ow] = (wd[od, 0] * h_in + wh[oh, 0]) * w_in + ww[ow, 0]
                        continue
                    nan = np.flatnonzero(np.isnan(v))
                    j = nan[-1] if nan.size else int(np.argmax(v))
                    out[p, od, oh, ow], idx[p, od, oh, ow] = v[j], flat[j]
    return out, idx


def avg_pool_matrix(wd, wh, ww, divisor, in_shape):
    """A: (O, S) with A[o, i] = 1 / divisor(o) for input i in window o (y = A x per plane)."""
    d_in, h_in, w_in = in_shape
    rows = []
    for lo_d, hi_d, fd in wd:
        for lo_h, hi_h, fh in wh:
            for lo_w, hi_w, fw in ww:
                row = np.zeros(in_shape)
                if lo_d < hi_d and lo_h < hi_h and lo_w < hi_w:
                    row[lo_d:hi_d, lo_h:hi_h, lo_w:hi_w] = 1.0 / (divisor or fd * fh * fw)
                rows.append(row.reshape(-1))
    return np.array(rows)


def _geometry(nsp, sizes, k, s, p, d, ceil_mode, count_include_pad):
    """(max tables, avg tables, step) padded to 3 dims."""
    outs = [pool_output_size(n, k, s, p, d, ceil_mode) for n in sizes]
    mx = [max_windows(n, o, k, s, p, d) for n, o in zip(sizes, outs)]
    outs_avg = [pool_output_size(n, k, s, p, 1, ceil_mode) for n in sizes]
    av = [avg_windows(n, o, k, s, p, count_include_pad) for n, o in zip(sizes, outs_avg)]
    pad = [UNIT] * (3 - nsp)
    return pad + mx, pad + av, np.array([1] * (3 - nsp) + [d] * nsp, np.int64)


GEOMS = [  # (nsp, spatial sizes, kernel, stride, padding, dilation, ceil_mode, include_pad)
    (1, (9,), 3, 2, 1, 1, False, True),
    (1, (8,), 3, 2, 1, 2, True, False),
    (2, (7, 6), 2, 3, 1, 1, True, True),
    (2, (6, 8), 3, 1, 1, 2, False, False),
    (3, (4, 5, 6), 2, 2, 1, 1, True, False),
]
DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geom", GEOMS, ids=str)
def test_max_pool_forward(dtype, geom):
    nsp, sizes, k, s, p, d, ceil_mode, include_pad = geom
    rng = np.random.default_rng(len(sizes) + k)
    full = (1,) * (3 - nsp) + sizes
    x = rng.standard_normal((3,) + full).astype(dtype)
    x[0] = np.round(x[0])                                  # ties
    x[1].reshape(-1)[[0, 5, 6]] = np.nan                   # NaNs propagate
    (wd, wh, ww), _, step = _geometry(nsp, sizes, k, s, p, d, ceil_mode, include_pad)
    out = np.empty((3, len(wd), len(wh), len(ww)), dtype)
    idx = np.empty(out.shape, np.int64)
    K.max_pool_forward(x, wd, wh, ww, step, out, idx)
    ref, ref_idx = max_pool_reference(x, wd, wh, ww, step)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(idx, ref_idx)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_forward_adaptive_and_empty(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 1, 7, 5)).astype(dtype)
    wh, ww = adaptive_windows(7, 3), adaptive_windows(5, 4)
    ww[1, 1] = ww[1, 0]                                    # an empty window: -inf
    out = np.empty((2, 1, 3, 4), dtype)
    idx = np.empty(out.shape, np.int64)
    K.max_pool_forward(x, UNIT, wh, ww, np.ones(3, np.int64), out, idx)
    ref, ref_idx = max_pool_reference(x, UNIT, wh, ww, np.ones(3, np.int64))
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(idx, ref_idx)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("accumulate", [True, False])
def test_scatter_planes(dtype, accumulate):
    rng = np.random.default_rng(4)
    src = rng.standard_normal((3, 10)).astype(dtype)
    idx = rng.integers(0, 6, size=(3, 10))                 # repeated positions
    out = np.zeros((3, 6), dtype)
    K.scatter_planes(src, idx, out, accumulate)
    ref = np.zeros((3, 6), dtype)
    for p in range(3):
        if accumulate:
            np.add.at(ref[p], idx[p], src[p])              # repeats add up
        else:
            for j in range(10):                            # the last write wins
                ref[p, idx[p, j]] = src[p, j]
    np.testing.assert_allclose(out, ref, rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("divisor", [0, 5])
@pytest.mark.parametrize("geom", GEOMS, ids=str)
def test_avg_pool_forward_and_backward(dtype, divisor, geom):
    nsp, sizes, k, s, p, d, ceil_mode, include_pad = geom
    rng = np.random.default_rng(len(sizes) * 7 + k)
    full = (1,) * (3 - nsp) + sizes
    _, (wd, wh, ww), _ = _geometry(nsp, sizes, k, s, p, d, ceil_mode, include_pad)
    a = avg_pool_matrix(wd, wh, ww, divisor, full)         # y = A x,  dx = A^T g
    x = rng.standard_normal((2,) + full).astype(dtype)
    out = np.empty((2, len(wd), len(wh), len(ww)), dtype)
    K.avg_pool_forward(x, wd, wh, ww, divisor, out)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out.reshape(2, -1), x.reshape(2, -1) @ a.T, **tol)
    g = rng.standard_normal(out.shape).astype(dtype)
    dx = np.zeros(x.shape, dtype)
    K.avg_pool_backward(g, wd, wh, ww, divisor, dx)
    np.testing.assert_allclose(dx.reshape(2, -1), g.reshape(2, -1) @ a, **tol)


def test_avg_pool_adaptive_windows():
    x = np.arange(2 * 7 * 5, dtype=np.float64).reshape(2, 1, 7, 5)
    wh, ww = adaptive_windows(7, 3), adaptive_windows(5, 4)
    out = np.empty((2, 1, 3, 4))
    K.avg_pool_forward(x, UNIT, wh, ww, 0, out)
    for oh, (h0, h1, _) in enumerate(wh):
        for ow, (w0, w1, _) in enumerate(ww):
            np.testing.assert_allclose(out[:, 0, oh, ow], x[:, 0, h0:h1, w0:w1].mean((1, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 6, 8), (2, 7, 5), (1, 2, 2), (3, 29, 70)], ids=str)
def test_max_pool_pairs_equals_reference(shape, dtype):
    """The 2x2 / stride 2 kernel against the reference (and its own Python form), with ties,
    NaNs (two in one window: the last wins) and -inf windows; rows of 35 windows run the
    kernel's vector loops and their remainders."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, shape).astype(dtype)                  # many ties
    x.reshape(-1)[::7] = np.nan
    x.reshape(-1)[1::7] = np.nan
    x[0, :2, :2] = -np.inf
    n_h, n_w = shape[1] // 2, shape[2] // 2
    wh, ww = max_windows(shape[1], n_h, 2, 2, 0, 1), max_windows(shape[2], n_w, 2, 2, 0, 1)
    ref_out, ref_idx = max_pool_reference(x[:, None], UNIT, wh, ww, np.ones(3, np.int64))
    for kernel in (K.max_pool_pairs, K.max_pool_pairs.py_func):
        out = np.empty((shape[0], n_h, n_w), dtype)
        idx = np.empty(out.shape, np.int64)
        kernel(x, out, idx)
        np.testing.assert_array_equal(out, ref_out[:, 0])
        np.testing.assert_array_equal(idx, ref_idx[:, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 6, 8), (2, 7, 5), (3, 29, 70)], ids=str)
def test_scatter_pairs_equals_scatter_planes(shape, dtype):
    """The max-pool gradient for 2x2 / stride 2 indices equals the scatter into zeros over
    the windows; rows and columns past the last window are left as they were."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    n_h, n_w = shape[1] // 2, shape[2] // 2
    out = np.empty((shape[0], n_h, n_w), dtype)
    idx = np.empty(out.shape, np.int64)
    K.max_pool_pairs(x, out, idx)
    g = rng.standard_normal(out.shape).astype(dtype)
    ref = np.zeros((shape[0], shape[1] * shape[2]), dtype)
    K.scatter_planes.py_func(g.reshape(shape[0], -1), idx.reshape(shape[0], -1), ref, True)
    ref = ref.reshape(shape)
    ref[:, 2 * n_h:], ref[:, :, 2 * n_w:] = 7.0, 7.0
    for kernel in (K.scatter_pairs, K.scatter_pairs.py_func):
        dx = np.full(shape, 7.0, dtype)
        kernel(g, idx, dx)
        np.testing.assert_array_equal(dx, ref)


def test_scatter_pairs_never_writes_outside_a_plane():
    # indices changed in place after the forward (out of range) are clamped into their plane
    g = np.ones((2, 2, 2), np.float32)
    idx = np.array([[[0, 2], [8, 10]], [[-5, 20], [8, 10]]], np.int64)   # 20: in plane 3
    dx = np.full((3, 4, 4), 7.0, np.float32)
    K.scatter_pairs(g, idx, dx[:2])
    assert (dx[2] == 7.0).all()                       # the next plane is untouched
