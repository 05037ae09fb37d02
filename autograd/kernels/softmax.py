"""Row kernels of the softmax family (numba, ndarrays only): x: (R, K) float32, C-contiguous,
one softmax per row, every row read and written while it sits in L1.

    softmax_forward        y = exp(x - m) / sum exp(x - m),     m = max x
    log_softmax_forward    y = (x - m) - log sum exp(x - m)
    logsumexp_forward      out = m + log sum exp(x - m),        m = 0 where max x is +-inf
    softmax_backward       dx = y (g - sum(g y))
    log_softmax_backward   dx = g - exp(y) sum(g)

numba vectorises elementwise loops, but not a reduction it would have to reorder (fastmath is
never used), so: the row max is an integer max over kernels/activation.py's float_key (exact,
and integer reductions are vectorised); a row sum is pairwise: elementwise halvings
(v[:h] + v[h:2h], into a scratch row) down to 16, then a tree of 16. exp is activation.py's
exp32 (float32, within 1 ulp); softmax scales by 1 / sum (as PyTorch).

A row holding nan gives nan; a row whose max is +-inf gives nan, as in PyTorch (logsumexp
shifts by 0 there, so it gives +-inf).

numba keys a kernel's on-disk cache by the content of its own file only: the helpers of
activation.py are inlined into these kernels, so after editing them delete this module's cache
(autograd/kernels/__pycache__/softmax.*.nb*), or the stale kernels run (the tests comparing
each kernel with its plain-Python py_func catch this).
"""
import numpy as np

from . import activation as _math
from .activation import helper, kernel

__all__ = ["softmax_forward", "log_softmax_forward", "logsumexp_forward", "softmax_backward",
           "log_softmax_backward"]

_MIN_KEY = np.int32(-2 ** 31)
_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)


@helper
def row_max(v):
    """max of the row v (nan if it holds a nan that orders above +inf)."""
    key = _MIN_KEY
    for k in range(v.shape[0]):
        kk = _math.float_key(v[k])
        key = kk if kk > key else key
    return _math.key_to_float(key)


@helper
def fold(tmp, n):
    """sum of tmp[:n]: halvings tmp[:h] += tmp[h:2h] down to 16, then a tree of 16 (the
    unused ones zeroed); tmp: max(n, 16) long, overwritten. The kernels fill tmp with the
    first halving of their row themselves (inlined there, that loop vectorises; inside a
    helper that calls this one, it did not)."""
    extra = _ZERO
    while n > 16:
        h = n // 2
        if n > 2 * h:
            extra += tmp[n - 1]
        for k in range(h):
            tmp[k] += tmp[k + h]
        n = h
    for k in range(n, 16):
        tmp[k] = _ZERO
    t = tmp
    return (((((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7])))
             + (((t[8] + t[9]) + (t[10] + t[11])) + ((t[12] + t[13]) + (t[14] + t[15]))))
            + extra)


@helper
def shifted_exp(xr, m, er):
    """er = exp(xr - m) for the row xr."""
    for k in range(xr.shape[0]):
        er[k] = _math.exp32(xr[k] - m)


@helper
def scratch(k_len):
    """The pairwise sums' scratch row for rows of k_len."""
    return np.empty(max(k_len // 2, 16), np.float32)


@kernel
def softmax_forward(x, y):
    """y = softmax(x) along rows; x, y: (R, K)."""
    k_len = x.shape[1]
    h = k_len // 2
    tmp = scratch(k_len)
    for r in range(x.shape[0]):
        xr, yr = x[r], y[r]
        shifted_exp(xr, row_max(xr), yr)
        for k in range(h):
            tmp[k] = yr[k] + yr[k + h]
        total = fold(tmp, h)
        if k_len > 2 * h:
            total += yr[k_len - 1]
        inv = _ONE / total
        for k in range(k_len):
            yr[k] = yr[k] * inv


@kernel
def log_softmax_forward(x, y):
    """y = log_softmax(x) along rows; x, y: (R, K)."""
    k_len = x.shape[1]
    h = k_len // 2
    tmp = scratch(k_len)
    for r in range(x.shape[0]):
        xr, yr = x[r], y[r]
        m = row_max(xr)
        shifted_exp(xr, m, yr)
        for k in range(h):
            tmp[k] = yr[k] + yr[k + h]
        total = fold(tmp, h)
        if k_len > 2 * h:
            total += yr[k_len - 1]
        log_sum = np.log(total)
        for k in range(k_len):
            yr[k] = (xr[k] - m) - log_sum


@kernel
def logsumexp_forward(x, out):
    """out[r] = log sum exp(x[r]); x: (R, K); out: (R,)."""
    k_len = x.shape[1]
    h = k_len // 2
    e = np.empty(k_len, np.float32)
    tmp = scratch(k_len)
    for r in range(x.shape[0]):
        xr = x[r]
        m = row_max(xr)
        if not np.isfinite(m):
            m = _ZERO
        shifted_exp(xr, m, e)
        for k in range(h):
            tmp[k] = e[k] + e[k + h]
        total = fold(tmp, h)
        if k_len > 2 * h:
            total += e[k_len - 1]
        out[r] = np.log(total) + m


@kernel
def softmax_backward(y, g, dx):
    """dx = y (g - sum(g y)) along rows; y, g, dx: (R, K)."""
    k_len = y.shape[1]
    h = k_len // 2
    tmp = scratch(k_len)
    for r in range(y.shape[0]):
        yr, gr, dr = y[r], g[r], dx[r]
        for k in range(h):
            tmp[k] = gr[k] * yr[k] + gr[k + h] * yr[k + h]
        total = fold(tmp, h)
        if k_len > 2 * h:
            total += gr[k_len - 1] * yr[k_len - 1]
        for k in range(k_len):
            dr[k] = yr[k] * (gr[k] - total)


@kernel
def log_softmax_backward(y, g, dx):
    """dx = g - exp(y) sum(g) along rows; y, g, dx: (R, K)."""
    k_len = y.shape[1]
    h = k_len // 2
    tmp = scratch(k_len)
    for r in range(y.shape[0]):
        yr, gr, dr = y[r], g[r], dx[r]
        for k in range(h):
            tmp[k] = gr[k] + gr[k + h]
        total = fold(tmp, h)
        if k_len > 2 * h:
            total += gr[k_len - 1]
        for k in range(k_len):
            dr[k] = gr[k] - _math.exp32(yr[k]) * total
