"""kernels/loss.py: the compiled row kernels against their plain-Python versions and numpy."""
import numpy as np
import pytest

from autograd.kernels.loss import cross_entropy_rows_backward, cross_entropy_rows_forward


def _inputs(dtype, eps):
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 5, (7, 4)).astype(dtype)
    t = rng.integers(0, 4, 7)
    t[2] = -100
    w = rng.uniform(0.5, 2, 4).astype(dtype)
    return x, t, w, eps


def _run(forward, backward, x, t, w, eps):
    n, c = x.shape
    p, loss, w_t = np.empty_like(x), np.empty(n, x.dtype), np.empty(n, x.dtype)
    assert forward(x, t, w, -100, eps, p, loss, w_t) == -1
    r = np.linspace(-1, 1, n).astype(x.dtype)
    dx = np.empty_like(x)
    backward(p, t, w, float(w.sum()), -100, eps, r, dx)
    return p, loss, w_t, dx


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_row_kernels_match_python_and_numpy(dtype, eps):
    x, t, w, eps = _inputs(dtype, eps)
    compiled = _run(cross_entropy_rows_forward, cross_entropy_rows_backward, x, t, w, eps)
    python = _run(cross_entropy_rows_forward.py_func, cross_entropy_rows_backward.py_func,
                  x, t, w, eps)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for a, b in zip(compiled, python):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    # numpy: lp = log_softmax, l = -(1-eps) w_t lp_t - eps/C sum_k w_k lp_k (0 where ignored)
    x64, valid = x.astype(np.float64), t != -100
    lp = x64 - x64.max(1, keepdims=True)
    lp -= np.log(np.exp(lp).sum(1, keepdims=True))
    ts = np.where(valid, t, 0)
    rows = np.arange(len(t))
    loss = -(1 - eps) * w[ts] * lp[rows, ts] - eps / 4 * (lp * w).sum(1)
    np.testing.assert_allclose(compiled[1], np.where(valid, loss, 0), rtol=tol, atol=tol)
    np.testing.assert_allclose(compiled[0], np.exp(lp), rtol=tol, atol=tol)


def test_forward_reports_the_first_out_of_range_row():
    x, t, w, _ = _inputs(np.float32, 0.0)
    t[4], t[5] = 4, -1
    n = len(t)
    out = np.empty_like(x), np.empty(n, x.dtype), np.empty(n, x.dtype)
    assert cross_entropy_rows_forward(x, t, w, -100, 0.0, *out) == 4
