"""tile_gemm.py: the recurrent scans' long products by register tiles (matmul_tn: the weight
gradients; linear_grads: a small scan's input and weight gradients in one call), against
numpy in float64."""
import numpy as np
import pytest

from autograd.kernels import tile_gemm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(600, 21, 40), (3, 8, 32), (257, 512, 128), (1, 1, 1),
                                   (0, 5, 33), (300, 13, 7)], ids=str)
def test_transposed_tile_product(shape, dtype):
    """tile_gemm.matmul_tn: at^T @ b over K rows in chunks (K > CHUNK too), tiles of 8, 4, 2
    and 1 rows of the result, columns past the whole tiles; rows outside [lo, hi) kept."""
    k, m, n = shape
    rng = np.random.default_rng(m)
    at, b = rng.standard_normal((k, m)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    out = np.full((m, n), np.nan, dtype)
    tile_gemm.matmul_tn(at, b, 0, m, out)
    want = at.astype(np.float64).T @ b.astype(np.float64)
    tol = 1e-12 * max(1, k) if dtype == np.float64 else 2e-6 * max(1, k)
    np.testing.assert_allclose(out, want, rtol=tol, atol=tol)
    if m > 3:
        part = np.full((m, n), -7.0, dtype)
        tile_gemm.matmul_tn(at, b, 1, m - 2, part)
        np.testing.assert_array_equal(part[1:m - 2], out[1:m - 2])   # same sums, any tile
        assert (part[:1] == -7).all() and (part[m - 2:] == -7).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(100, 128, 32, 32), (70, 12, 5, 7), (1, 64, 3, 16),
                                   (9, 96, 40, 33)], ids=str)
def test_linear_grads_kernel(shape, dtype):
    """tile_gemm.linear_grads: dx = d W_ih, dW_ih = d^T X, dW_hh = d'^T H_prev in one call
    (K past CHUNK, columns past whole tiles), the weight products the same sums as
    matmul_tn's; an output of shape (0, 0) is skipped."""
    rows, gates, inputs, hidden = shape
    rng = np.random.default_rng(rows)
    d, x = (rng.standard_normal((rows, n)).astype(dtype) for n in (gates, inputs))
    w_ih, hprev = rng.standard_normal((gates, inputs)).astype(dtype), \
        rng.standard_normal((rows - 1, hidden)).astype(dtype)
    dx, dw_ih, dw_hh = (np.full(s, np.nan, dtype) for s in
                        ((rows, inputs), (gates, inputs), (gates, hidden)))
    tile_gemm.linear_grads(d, x, w_ih, d[1:], hprev, dx, dw_ih, dw_hh)
    f64 = [a.astype(np.float64) for a in (d, x, w_ih, hprev)]
    tol = 1e-12 * gates if dtype == np.float64 else 2e-6 * max(gates, rows)
    np.testing.assert_allclose(dx, f64[0] @ f64[2], rtol=tol, atol=tol)
    np.testing.assert_allclose(dw_ih, f64[0].T @ f64[1], rtol=tol, atol=tol)
    np.testing.assert_allclose(dw_hh, f64[0][1:].T @ f64[3], rtol=tol, atol=tol)
    same = np.empty_like(dw_hh)
    tile_gemm.matmul_tn(d[1:], hprev, 0, gates, same)
    np.testing.assert_array_equal(dw_hh, same)
    skip, only = np.empty((0, 0), dtype), np.full_like(dw_ih, np.nan)
    tile_gemm.linear_grads(d, x, w_ih, skip, skip, skip, only, skip)
    np.testing.assert_array_equal(only, dw_ih)
