"""Normalisation kernels (numba, ndarrays only): statistics, normalised output and gradients
in two or three passes over data that stays in cache.

Two layouts cover batch, layer, group and instance norm:

    rows      x: (R, K), one set of statistics per row (layer norm: a row is one sample's
              normalized_shape; group norm: one group of one sample; instance norm: one
              channel of one sample). w, b: (G, J), K = J * m, row r uses w[r % G], each
              value for a run of m elements (a channel's spatial positions; layer norm:
              J = K, m = 1).
    columns   x: (N, C*M), one set of statistics per channel c over N and the M positions
              c*M .. c*M + M - 1 of every row (batch norm on (N, C, *)). w, b: (C,).

With n the number of elements behind one statistic, mu their mean and s2 their biased
variance, rstd = 1 / sqrt(s2 + eps) and x_hat = (x - mu) * rstd:

    forward     y = x_hat * w + b
    backward    dx = rstd * (g w - sum(g w) / n - x_hat * sum(g w x_hat) / n)
                dw = sum g x_hat,  db = sum g     (over everything that shares the weight)

Sums accumulate in float64. A row's sums are small helpers (_row_sum, ...), plain loops
compiled with fastmath=REASSOC (LLVM's `reassoc` flag alone, _jit.py) and inlined by LLVM
into kernels compiled without it: LLVM turns each sum into vector partial sums held in
registers, in an order of its choosing, fixed for a machine; NaN and Inf propagate as
without it, and nothing but those sums is reordered. They replaced LANES = 64 partial sums
kept in an array, loaded and stored for every element: row_norm_forward / backward on
(128, 1024) float32 31 / 47 -> 22 / 36 us, on (2048, 128) 125 / 140 -> 54 / 81 us. A run
of m > 1 elements sharing a weight adds its dw, db terms in registers too (group_norm on
(32, 16, 16, 16), 4 groups, forward + backward: 103 -> 77 us against (G, K) float64
accumulators and weights repeated along the positions; 77 -> 66 us with a run's sums of
g and g x_hat taken once, for dw, db and, times its weight, the row's sums of g w and
g w x_hat). A column's sums are elementwise
accumulations, one partial sum per column down the rows (vectorised without reordering),
then added in 8 independent chains. The elementwise passes run in x's dtype with mu and
rstd rounded to it; `mean` and `rstd` are returned in that dtype, so the backward pass
sees exactly the forward's x_hat. `var` (float64) is the biased variance, for running
statistics. The row kernels index x[r, k] (x3[r, c, p] for runs) rather than take a view
per row: a view costs an atomic reference-count increment and decrement (scan_memory.unowned
says more), 2x slower here.
"""
import functools

import numpy as np

from ._jit import REASSOC, jit

__all__ = ["row_norm_forward", "row_norm_backward", "column_norm_forward",
           "column_norm_backward"]


@jit()
def _sum8(acc, lo, hi):
    """acc[lo:hi].sum() in 8 independent chains (float64)."""
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    i = lo
    while i + 8 <= hi:
        a0 += acc[i]
        a1 += acc[i + 1]
        a2 += acc[i + 2]
        a3 += acc[i + 3]
        a4 += acc[i + 4]
        a5 += acc[i + 5]
        a6 += acc[i + 6]
        a7 += acc[i + 7]
        i += 8
    total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    for j in range(i, hi):
        total += acc[j]
    return total


@jit(fastmath=REASSOC)
def _row_sum(x, r):
    """sum of row r of x, in float64 (reordered: the module docstring)."""
    total = 0.0
    for k in range(x.shape[1]):
        total += x[r, k]
    return total


@jit(fastmath=REASSOC)
def _row_squared_deviations(x, r, mu):
    """sum of (x[r, k] - mu)^2 over row r, in float64 (reordered)."""
    total = 0.0
    for k in range(x.shape[1]):
        d = x[r, k] - mu
        total += d * d
    return total


@jit(fastmath=REASSOC)
def _row_gradient_sums(x, g, w, r, gi, mu_t, rs_t):
    """(sum g w, sum g w x_hat) over row r with weights w[gi], in float64 (reordered)."""
    sum_gw = 0.0
    sum_gwx = 0.0
    for k in range(x.shape[1]):
        xh = (x[r, k] - mu_t) * rs_t
        gw = np.float64(g[r, k] * w[gi, k])
        sum_gw += gw
        sum_gwx += gw * xh
    return sum_gw, sum_gwx


@jit(fastmath=REASSOC)
def _run_weight_sums(x3, g3, r, c, mu_t, rs_t):
    """(sum g x_hat, sum g) over run c of row r, in float64 (reordered)."""
    sum_gx = 0.0
    sum_g = 0.0
    for p in range(x3.shape[2]):
        gv = g3[r, c, p]
        sum_gx += np.float64(gv) * ((x3[r, c, p] - mu_t) * rs_t)
        sum_g += gv
    return sum_gx, sum_g


# kernels call the helpers above through these names: the plain functions when interpreted
# (kernel.py_func), rebound to their compiled forms just before the first kernel compiles
sum8, row_sum = _sum8.py_func, _row_sum.py_func
row_squared_deviations, row_gradient_sums = (_row_squared_deviations.py_func,
                                             _row_gradient_sums.py_func)
run_weight_sums = _run_weight_sums.py_func
_HELPERS = {"sum8": _sum8, "row_sum": _row_sum,
            "row_squared_deviations": _row_squared_deviations,
            "row_gradient_sums": _row_gradient_sums, "run_weight_sums": _run_weight_sums}


def _kernel(py_func):
    """jit() with this module's helper names bound to the compiled helpers at compile time
    (each keeps its own options: the row sums are compiled with fastmath=REASSOC, the
    kernels without)."""
    kernel = jit()(py_func)
    compile_ = kernel.dispatcher

    def dispatcher():
        here = globals()
        for name, helper in _HELPERS.items():
            if here[name] is helper.py_func:
                here[name] = helper.dispatcher()
        return compile_()

    @functools.wraps(py_func)
    def call(*args):
        return dispatcher()(*args)

    call.py_func = py_func
    call.dispatcher = dispatcher
    return call


@_kernel
def row_norm_forward(x, w, b, eps, y, mean, rstd, var):
    """x, y: (R, K); w, b: (G, J) with K = J * m: row r takes w[r % G], each value for a
    run of m consecutive elements (layer norm: m = 1; group norm: a channel's positions);
    mean, rstd: (R,) x.dtype; var: (R,) float64."""
    rows, k_len = x.shape
    groups, runs = w.shape
    m = k_len // runs
    x3, y3 = x.reshape(rows, runs, m), y.reshape(rows, runs, m)
    for r in range(rows):
        mu = row_sum(x, r) / k_len
        s2 = row_squared_deviations(x, r, mu) / k_len
        mu_t = x.dtype.type(mu)                 # rounded to x's dtype
        rs_t = x.dtype.type(1.0 / np.sqrt(s2 + eps))
        mean[r], rstd[r], var[r] = mu_t, rs_t, s2
        gi = r % groups
        if m == 1:
            for k in range(k_len):
                y[r, k] = (x[r, k] - mu_t) * rs_t * w[gi, k] + b[gi, k]
            continue
        for c in range(runs):
            wv, bv = w[gi, c], b[gi, c]
            for p in range(m):
                y3[r, c, p] = (x3[r, c, p] - mu_t) * rs_t * wv + bv


@_kernel
def row_norm_backward(x, g, w, mean, rstd, dx, dw, db):
    """dx: (R, K) overwritten; dw, db: (G, J) float64, accumulated (the caller zeroes them);
    w: as row_norm_forward's."""
    rows, k_len = x.shape
    groups, runs = w.shape
    m = k_len // runs
    x3, g3, dx3 = x.reshape(rows, runs, m), g.reshape(rows, runs, m), dx.reshape(rows, runs, m)
    for r in range(rows):
        gi = r % groups
        mu_t, rs_t = mean[r], rstd[r]
        if m == 1:
            sum_gw, sum_gwx = row_gradient_sums(x, g, w, r, gi, mu_t, rs_t)
        else:                   # a run's sums give dw, db and, times its weight, the row's
            sum_gw = 0.0
            sum_gwx = 0.0
            for c in range(runs):
                sum_gx, sum_g = run_weight_sums(x3, g3, r, c, mu_t, rs_t)
                wv = np.float64(w[gi, c])
                sum_gw += wv * sum_g
                sum_gwx += wv * sum_gx
                dw[gi, c] += sum_gx
                db[gi, c] += sum_g
        c1 = x.dtype.type(sum_gw / k_len)
        c2 = x.dtype.type(sum_gwx / k_len)
        if m == 1:
            for k in range(k_len):
                xh = (x[r, k] - mu_t) * rs_t
                gv = g[r, k]
                dx[r, k] = rs_t * (gv * w[gi, k] - c1 - xh * c2)
                dw[gi, k] += np.float64(gv) * xh
                db[gi, k] += gv
            continue
        for c in range(runs):
            wv = w[gi, c]
            for p in range(m):
                xh = (x3[r, c, p] - mu_t) * rs_t
                dx3[r, c, p] = rs_t * (g3[r, c, p] * wv - c1 - xh * c2)


@_kernel
def column_norm_forward(x, w, b, eps, y, mean, rstd, var, acc, c0, c1):
    """x, y: (N, C*M); w, b: (C,); mean, rstd: (C,) x.dtype; var: (C,) float64;
    acc: (C*M,) float64 scratch. Only channels c0 <= c < c1 (their columns of y, entries
    of mean, rstd, var and acc): callers split the channels over threads. The loops run over
    views of those columns from 0 (an index that may be negative keeps numba's wraparound
    in the loop, and the loop scalar: 5x slower)."""
    n_len, width = x.shape
    channels = w.shape[0]
    m_len = width // channels
    count = n_len * m_len
    j0, cols = c0 * m_len, (c1 - c0) * m_len
    part = acc[j0:j0 + cols]
    part[:] = 0.0
    for n in range(n_len):
        xr = x[n, j0:j0 + cols]
        for j in range(cols):
            part[j] += xr[j]
    mu_row = np.empty(cols, x.dtype)            # mu (then scale) repeated along M
    for c in range(c0, c1):
        mu = sum8(acc, c * m_len, (c + 1) * m_len) / count
        mean[c] = x.dtype.type(mu)
        for m in range(m_len):
            mu_row[(c - c0) * m_len + m] = mean[c]
    part[:] = 0.0
    for n in range(n_len):
        xr = x[n, j0:j0 + cols]
        for j in range(cols):
            d = np.float64(xr[j] - mu_row[j])
            part[j] += d * d
    scale = np.empty(cols, x.dtype)
    shift = np.empty(cols, x.dtype)
    for c in range(c0, c1):
        s2 = sum8(acc, c * m_len, (c + 1) * m_len) / count
        var[c] = s2
        rstd[c] = x.dtype.type(1.0 / np.sqrt(s2 + eps))
        for m in range(m_len):
            scale[(c - c0) * m_len + m] = rstd[c] * w[c]
            shift[(c - c0) * m_len + m] = b[c]
    for n in range(n_len):
        xr, yr = x[n, j0:j0 + cols], y[n, j0:j0 + cols]
        for j in range(cols):
            yr[j] = (xr[j] - mu_row[j]) * scale[j] + shift[j]


@_kernel
def column_norm_backward(x, g, w, mean, rstd, dx, dw, db, acc1, acc2, c0, c1):
    """dx: (N, C*M) overwritten; dw, db: (C,) float64, overwritten; acc1, acc2: (C*M,)
    float64 scratch. Only channels c0 <= c < c1 (as column_norm_forward)."""
    n_len, width = x.shape
    channels = w.shape[0]
    m_len = width // channels
    count = n_len * m_len
    j0, cols = c0 * m_len, (c1 - c0) * m_len
    mu_row = np.empty(cols, x.dtype)
    rs_row = np.empty(cols, x.dtype)
    for c in range(c0, c1):
        for m in range(m_len):
            mu_row[(c - c0) * m_len + m] = mean[c]
            rs_row[(c - c0) * m_len + m] = rstd[c]
    part1, part2 = acc1[j0:j0 + cols], acc2[j0:j0 + cols]
    part1[:] = 0.0
    part2[:] = 0.0
    for n in range(n_len):
        xr, gr = x[n, j0:j0 + cols], g[n, j0:j0 + cols]
        for j in range(cols):
            gv = gr[j]
            part1[j] += gv
            part2[j] += np.float64(gv) * ((xr[j] - mu_row[j]) * rs_row[j])
    scale = np.empty(cols, x.dtype)              # rstd w
    sum_g = np.empty(cols, x.dtype)              # sum g / n
    sum_gx = np.empty(cols, x.dtype)             # sum g x_hat / n * rstd
    for c in range(c0, c1):
        s1 = sum8(acc1, c * m_len, (c + 1) * m_len)
        s2 = sum8(acc2, c * m_len, (c + 1) * m_len)
        db[c] = s1
        dw[c] = s2
        for m in range(m_len):
            j = (c - c0) * m_len + m
            scale[j] = rstd[c] * w[c]
            sum_g[j] = s1 / count
            sum_gx[j] = x.dtype.type(s2 / count) * rstd[c]
    # dx = rstd w (g - sum g / n - x_hat sum(g x_hat) / n)
    for n in range(n_len):
        xr, gr, dr = x[n, j0:j0 + cols], g[n, j0:j0 + cols], dx[n, j0:j0 + cols]
        for j in range(cols):
            dr[j] = scale[j] * (gr[j] - sum_g[j] - (xr[j] - mu_row[j]) * sum_gx[j])
