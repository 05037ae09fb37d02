"""Pooling kernels (numba, ndarrays only) on stacks of planes.

Every pooling op is seen as 3-d: x: (P, D, H, W) C-contiguous, with P = N*C planes (1-d
pooling has D = H = 1, 2-d pooling D = 1). Windows are separable: along each spatial dim,
output position o reads the input positions start, start + step, ... < end. A window table
`wd, wh, ww` is an (O, 3) int64 array per dim holding (start, end, factor) for each output
position, start and end already clamped to the input; `factor` is the window's length as the
average counts it (with or without padding). `step` is (3,) int64 (the dilation per dim).

    max_pool_forward(x, wd, wh, ww, step, out, idx)
        out[p, o] = max of x[p] over window o; idx[p, o] = its flat index d*H*W + h*W + w in
        the plane. The first maximum wins (ties), a NaN wins and propagates, as in PyTorch's
        CPU kernel; an empty window gives -inf at the index of its start.
        out: (P, OD, OH, OW) float, idx: same shape, int64; both overwritten.
    max_pool_pairs(x, out, idx)
        the same for 2x2 windows with stride 2 on x: (P, H, W) (out, idx: (P, OH, OW)).
    scatter_planes(src, idx, out, accumulate)
        out[p, idx[p, j]] += src[p, j]  (accumulate: the max-pool gradient, repeats add up)
        out[p, idx[p, j]]  = src[p, j]  (else: max_unpool, the last write wins)
        src, idx: (P, M), out: (P, S) pre-filled by the caller (zeros).
    scatter_pairs(src, idx, out)
        the accumulating form for the indices of max_pool_pairs (src, idx: (P, OH, OW),
        out: (P, H, W)), writing each window whole.
    avg_pool_forward(x, wd, wh, ww, divisor, out)
        out[p, o] = sum of x[p] over window o / (fd * fh * fw, or divisor when divisor > 0);
        0 for an empty window. out: (P, OD, OH, OW), overwritten.
    avg_pool_backward(g, wd, wh, ww, divisor, dx)
        the transpose of avg_pool_forward: dx[p, window o] += g[p, o] / divisor(o);
        g: (P, OD, OH, OW), dx: (P, D, H, W) pre-filled by the caller (zeros).

The kernels are serial. Over numba's threads (one run of planes each) the pooling of a
(64, 32, 28, 28) batch took 0.6x the time alone, but inside a training step, right after
OpenBLAS's multithreaded GEMMs (whose idle worker keeps spinning on the other core), 2-4x
longer than on one thread, and 5-10x when the machine was shared: the Fashion-MNIST CNN step
of benchmarks/ ran 12.2-13.1 ms serial (4 runs) against 12.2-13.5 ms threaded (3 runs), quiet.
"""
import numpy as np

from ._jit import jit

__all__ = ["max_pool_forward", "max_pool_pairs", "scatter_planes", "scatter_pairs",
           "avg_pool_forward", "avg_pool_backward"]


@jit()
def max_pool_forward(x, wd, wh, ww, step, out, idx):
    """out, idx: (P, OD, OH, OW) = max and flat argmax of x: (P, D, H, W) over each window."""
    planes, _, h_in, w_in = x.shape
    od_n, oh_n, ow_n = wd.shape[0], wh.shape[0], ww.shape[0]
    sd, sh, sw = step[0], step[1], step[2]
    for p in range(planes):
        for od in range(od_n):
            d0, d1 = wd[od, 0], wd[od, 1]
            for oh in range(oh_n):
                h0, h1 = wh[oh, 0], wh[oh, 1]
                for ow in range(ow_n):
                    w0, w1 = ww[ow, 0], ww[ow, 1]
                    best = -np.inf
                    best_i = (d0 * h_in + h0) * w_in + w0
                    for d in range(d0, d1, sd):
                        for h in range(h0, h1, sh):
                            for w in range(w0, w1, sw):
                                v = x[p, d, h, w]
                                if v > best or v != v:   # strictly greater: first max; NaN
                                    best = v
                                    best_i = (d * h_in + h) * w_in + w
                    out[p, od, oh, ow] = best
                    idx[p, od, oh, ow] = best_i
    return out, idx


@jit()
def max_pool_pairs(x, out, idx):
    """max_pool_forward for the commonest window, 2x2 with stride 2 (no padding or dilation),
    written with constant bounds: x: (P, H, W); out, idx: (P, H//2, W//2), idx the flat index
    h*W + w in the plane; same order of taps, ties and NaN rule. Per output row, one pass
    finds each window's max and its tap k (0..3, int32) with selects, which vectorise (2x
    faster than one pass writing the int64 index, 4.5x faster than branches), and a second
    turns k into the index."""
    planes, _, w_in = x.shape
    oh_n, ow_n = out.shape[1], out.shape[2]
    taps = np.empty(ow_n, np.int32)
    for p in range(planes):
        for oh in range(oh_n):
            r0, r1, o = x[p, 2 * oh], x[p, 2 * oh + 1], out[p, oh]
            for ow in range(ow_n):
                a, b = r0[2 * ow], r0[2 * ow + 1]
                c, d = r1[2 * ow], r1[2 * ow + 1]
                # taps in order a, b, c, d: a later one wins when strictly greater, or NaN
                best, k = a, np.int32(0)
                take = (b > best) | (b != b)
                best, k = (b, np.int32(1)) if take else (best, k)
                take = (c > best) | (c != c)
                best, k = (c, np.int32(2)) if take else (best, k)
                take = (d > best) | (d != d)
                best, k = (d, np.int32(3)) if take else (best, k)
                o[ow] = best
                taps[ow] = k
            ix = idx[p, oh]
            base = 2 * oh * w_in
            for ow in range(ow_n):
                k = taps[ow]
                ix[ow] = base + 2 * ow + (k >> 1) * w_in + (k & 1)
    return out, idx


@jit()
def scatter_pairs(src, idx, out):
    """scatter_planes (accumulate) for the indices of max_pool_pairs, whose windows do not
    overlap and hold one index each: the windows' area is zeroed (one flat loop when they
    cover the planes), then src written at the indices (2x faster than writing each window
    whole with compares). src, idx: (P, OH, OW); out: (P, H, W), rows and columns past the
    last window untouched. An index changed in place after the forward cannot write outside
    its plane (clamped)."""
    planes, oh_n, ow_n = src.shape
    h_in, w_in = out.shape[1], out.shape[2]
    zero = src.dtype.type(0)
    if h_in == 2 * oh_n and w_in == 2 * ow_n:
        flat = out.reshape(out.size)
        for i in range(flat.size):
            flat[i] = zero
    else:
        for p in range(planes):
            for h in range(2 * oh_n):
                row = out[p, h]
                for w in range(2 * ow_n):
                    row[w] = zero
    windows, plane = oh_n * ow_n, h_in * w_in
    values, where = src.reshape(planes * windows), idx.reshape(planes * windows)
    flat = out.reshape(out.size)
    for p in range(planes):
        start = p * plane
        for j in range(p * windows, (p + 1) * windows):
            flat[start + min(max(where[j], 0), plane - 1)] = values[j]
    return out


@jit()
def scatter_planes(src, idx, out, accumulate):
    """out[p, idx[p, j]] (+)= src[p, j] for src, idx: (P, M), out: (P, S); an index outside
    [0, S) writes nothing (a max-pooling window that holds only padding reports one past
    its plane, as PyTorch does: it read no input, so no input gets its gradient)."""
    planes, m = src.shape
    size = out.shape[1]
    for p in range(planes):
        if accumulate:
            for j in range(m):
                i = idx[p, j]
                if 0 <= i < size:
                    out[p, i] += src[p, j]
        else:
            for j in range(m):
                i = idx[p, j]
                if 0 <= i < size:
                    out[p, i] = src[p, j]
    return out


@jit()
def avg_pool_forward(x, wd, wh, ww, divisor, out):
    """out: (P, OD, OH, OW) = window sums of x: (P, D, H, W) / the window's divisor."""
    planes = x.shape[0]
    od_n, oh_n, ow_n = wd.shape[0], wh.shape[0], ww.shape[0]
    for p in range(planes):
        for od in range(od_n):
            d0, d1, fd = wd[od, 0], wd[od, 1], wd[od, 2]
            for oh in range(oh_n):
                h0, h1, fh = wh[oh, 0], wh[oh, 1], wh[oh, 2]
                for ow in range(ow_n):
                    w0, w1, fw = ww[ow, 0], ww[ow, 1], ww[ow, 2]
                    if d0 >= d1 or h0 >= h1 or w0 >= w1:
                        out[p, od, oh, ow] = 0
                        continue
                    s = 0.0                      # accumulated in float64
                    for d in range(d0, d1):
                        for h in range(h0, h1):
                            for w in range(w0, w1):
                                s += x[p, d, h, w]
                    div = divisor if divisor > 0 else fd * fh * fw
                    out[p, od, oh, ow] = s / div
    return out


@jit()
def avg_pool_backward(g, wd, wh, ww, divisor, dx):
    """dx: (P, D, H, W) += the transpose of the window average applied to g: (P, OD, OH, OW)."""
    planes = g.shape[0]
    od_n, oh_n, ow_n = wd.shape[0], wh.shape[0], ww.shape[0]
    for p in range(planes):
        for od in range(od_n):
            d0, d1, fd = wd[od, 0], wd[od, 1], wd[od, 2]
            for oh in range(oh_n):
                h0, h1, fh = wh[oh, 0], wh[oh, 1], wh[oh, 2]
                for ow in range(ow_n):
                    w0, w1, fw = ww[ow, 0], ww[ow, 1], ww[ow, 2]
                    div = divisor if divisor > 0 else fd * fh * fw
                    v = g[p, od, oh, ow] / div   # dx[window] += g / divisor
                    for d in range(d0, d1):
                        for h in range(h0, h1):
                            for w in range(w0, w1):
                                dx[p, d, h, w] += v
    return dx
