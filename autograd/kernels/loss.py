"""Cross entropy over the rows of a small logit matrix in one pass (numba, ndarrays only).

x: (N, C) logits, t: (N,) class indices, w: (C,) class weights (ones when unweighted),
eps = label smoothing, `ignore` = ignore_index. Per row i, with m = max_k x_ik,
s = sum_k exp(x_ik - m) and lp_ik = x_ik - m - log s (computed in float64):

    p_ik  = exp(x_ik - m) / s                                   (the softmax, for backward)
    w_t_i = w[t_i], 0 where t_i == ignore
    l_i   = -(1 - eps) w_t_i lp_i,t_i - (eps / C) [t_i != ignore] sum_k w_k lp_ik

and the backward, with r_i the upstream gradient times the reduction's factor for row i:

    q_ik  = (1 - eps) w_t_i [k == t_i] + (eps / C) [t_i != ignore] w_k
    dx_ik = r_i (p_ik sum_k q_ik - q_ik)

The exponentials are scalar np.exp calls (~19 ns each here): the op uses these kernels for
small inputs only, where one call replaces some twenty numpy calls (autograd/ops/loss.py).
"""
import numpy as np

from ._jit import jit

__all__ = ["cross_entropy_rows_forward", "cross_entropy_rows_backward"]


@jit()
def cross_entropy_rows_forward(x, t, w, ignore, eps, p, loss, w_t):
    """Fill p: (N, C), loss: (N,) and w_t: (N,) as in the module docstring. Returns -1, or
    the first row whose target is neither in [0, C) nor `ignore` (nothing is then valid)."""
    n, c = x.shape
    for i in range(n):
        ti = t[i]
        if ti != ignore and (ti < 0 or ti >= c):
            return i
    for i in range(n):
        m = x[i, 0]
        for k in range(1, c):
            if x[i, k] > m or x[i, k] != x[i, k]:      # a nan row stays nan
                m = x[i, k]
        total = 0.0
        for k in range(c):
            e = np.exp(np.float64(x[i, k]) - m)
            p[i, k] = e
            total += e
        log_total = np.log(total)
        for k in range(c):
            p[i, k] = p[i, k] / total
        ti = t[i]
        if ti == ignore:
            loss[i] = 0.0
            w_t[i] = 0.0
            continue
        w_t[i] = w[ti]
        value = -(1.0 - eps) * w[ti] * (x[i, ti] - m - log_total)
        if eps != 0.0:
            weighted = 0.0
            for k in range(c):
                weighted += w[k] * (x[i, k] - m - log_total)
            value -= eps / c * weighted
        loss[i] = value
    return -1


@jit()
def cross_entropy_rows_backward(p, t, w, w_sum, ignore, eps, r, dx):
    """dx: (N, C) = r_i (p_ik sum_k q_ik - q_ik) (module docstring); r: (N,); w_sum = sum w."""
    n, c = p.shape
    for i in range(n):
        ti = t[i]
        if ti == ignore:
            for k in range(c):
                dx[i, k] = 0.0
            continue
        a = (1.0 - eps) * w[ti]                      # the one-hot part of q
        b = eps / c                                   # the smoothing part: b w_k
        q_sum = a + b * w_sum
        for k in range(c):
            dx[i, k] = r[i] * (p[i, k] * q_sum - b * w[k])
        dx[i, ti] -= r[i] * a
