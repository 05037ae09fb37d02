"""Stride-1 convolution as GEMMs over shifted copies of the flat layout (numba, ndarrays only).

In conv_flat's layout (the padded input flat per channel, xf: (C, M + reach); the output at
flat positions q < M = N*ED*EH*EW, with the positions past each output row dropped), tap t
of a stride-1 convolution reads xf[c, q + off[t]]. The column matrix of positions
[m0, m0 + m) is then plain row copies,

    cols[c*T + t, j] = xf[c, m0 + j + off[t]]                       (0 <= j < m)

so that Y[:, m0:m0+m] = W (O, C*T) . cols and dW += G[:, m0:m0+m] . cols^T are single GEMMs
(per group) with no per-element index arithmetic: im2col's zeros for the padding are already
in xf. The input gradient is the transpose, a GEMM then a gather of shifted rows:

    Z = W^T (C*T, O) . G (O, M)        (G in the flat output layout: zeros where dropped)
    dx[n, c, d, h, w] = sum over t of Z[c*T + t, p - off[t]],
                        p = n*ED*EH*EW + ((d + gd)*EH + h + gh)*EW + w + gw

(p: x's position in the flat input layout, gaps g; Z at p - off[t] < 0 reads outputs that do
not exist: no term). Both kernels are serial and release the GIL.

The drivers (conv, shift_transpose, shift_weight) run in chunks of images (or positions)
of about CHUNK column elements: copy the columns, then one GEMM on BLAS's own threads.
Splitting the positions over threads of our own instead (one single-threaded GEMM per
thread, no synchronisation inside BLAS) ran as fast alone but 1.7x slower after any
multithreaded BLAS call (OpenBLAS's idle worker keeps spinning on the other core for about
0.1 s), which is the case inside a training step. The copies themselves run on OpenBLAS's
pool (conv_threads.py: the columns split by channels, the gather by images).

    flat_columns(xf, offs, m0, start, stop, cols)
                               cols[:, start:stop] as above; cols: (C*T, >= stop)
    flat_gather(z, offs, gaps, ext, z0, bias, start, stop, dx)
                               dx[start:stop] = bias + the gather above for images
                               start <= n < stop; z holds the columns [z0, z0 + width) of Z
                               (it must cover every p - off[t] >= 0 of those images)
"""
import numpy as np

from . import conv_threads as CT
from ._jit import jit

__all__ = ["flat_columns", "flat_gather", "shift_transpose", "shift_weight",
           "pack_input", "conv", "transpose", "weight_transposed"]

CHUNK = 1 << 20            # column elements per chunk (4 MB of float32)
MIN_STEP = 256             # fewest positions per chunk (GEMMs narrower than this lose)


def shift_weight(xf, gq3, offs, workspace):
    """dW^T: (G, C/G*T, O/G) = sum over positions of cols[grp] . gq3[grp]^T, gq3: (G, O/G,
    total) in the flat output layout."""
    groups, o_group, total = gq3.shape
    k_group = xf.shape[0] // groups * offs.shape[0]
    rows = groups * k_group
    step = max(MIN_STEP, CHUNK // rows // 64 * 64)
    dwt = np.zeros((groups, k_group, o_group), xf.dtype)
    for m0 in range(0, total, step):
        m = min(step, total - m0)
        cols = workspace((rows, m), xf.dtype, 2)
        CT.flat_columns(xf, offs, m0, 0, m, cols)
        dwt += np.matmul(cols.reshape(groups, k_group, m),
                         gq3[:, :, m0:m0 + m].transpose(0, 2, 1))
    return dwt


def shift_transpose(gq3, w3t, plan, bias, workspace, dx5):
    """dx5: (N, C, D, H, W) = bias + C(w)^T g: per chunk of images, Z = w3t[grp] (C/G*T,
    O/G) . gq3[grp] over the images' flat positions and the taps' reach before them, then
    flat_gather; gq3: (G, O/G, N*block) in the flat output layout."""
    groups, k_group, o_group = w3t.shape
    rows, block, back = groups * k_group, plan.block, plan.reach - 1
    step = max(1, CHUNK // (rows * block))
    for n0 in range(0, dx5.shape[0], step):
        n1 = min(dx5.shape[0], n0 + step)
        lo, hi = max(0, n0 * block - back), n1 * block
        z = workspace((groups, k_group, hi - lo), dx5.dtype, 2)
        np.matmul(w3t, gq3[:, :, lo:hi], out=z)
        CT.flat_gather(z.reshape(rows, hi - lo), plan.offs, plan.gaps, plan.ext, lo, bias,
                       n0, n1, dx5)


@jit(nogil=True)
def flat_columns(xf, offs, m0, start, stop, cols):
    """cols[c*T + t, j] = xf[c, m0 + j + offs[t]] for start <= j < stop."""
    n_ch, n_taps = xf.shape[0], offs.shape[0]
    count = stop - start
    for c in range(n_ch):
        src_row = xf[c]
        for t in range(n_taps):
            at = m0 + start + offs[t]
            sv = src_row[at:at + count]
            dv = cols[c * n_taps + t, start:stop]
            for j in range(count):
                dv[j] = sv[j]


@jit(nogil=True)
def flat_gather(z, offs, gaps, ext, z0, bias, start, stop, dx):
    """dx[n, c] for start <= n < stop = bias[c] + sum over taps t of z[c*T + t, p - offs[t]
    - z0] at x's flat positions p (see above); dx: (N, C, D, H, W), z: (C*T, width).
    Per image and channel, the sum is formed over the whole flat block (long vectors, three
    taps a pass; the gap positions are summed and dropped), then x's positions copied out."""
    n_ch, d_in, h_in, w_in = dx.shape[1], dx.shape[2], dx.shape[3], dx.shape[4]
    n_taps = offs.shape[0]
    gd, gh, gw = gaps[0], gaps[1], gaps[2]
    eh, ew = ext[1], ext[2]
    block = ext[0] * eh * ew
    acc = np.empty(block, dx.dtype)
    for n in range(start, stop):
        for c in range(n_ch):
            acc[:] = 0
            rows = z[c * n_taps:(c + 1) * n_taps]
            t = 0
            while t < n_taps:
                # z index of the block's first position for tap t; below 0: positions
                # before the first image, no term (only the first image's first rows)
                s0 = n * block - offs[t] - z0
                if t + 2 < n_taps and s0 >= 0 and n * block - offs[t + 2] - z0 >= 0 and \
                        n * block - offs[t + 1] - z0 >= 0:
                    s1, s2 = n * block - offs[t + 1] - z0, n * block - offs[t + 2] - z0
                    a0, a1, a2 = rows[t, s0:s0 + block], rows[t + 1, s1:s1 + block], \
                        rows[t + 2, s2:s2 + block]
                    for k in range(block):
                        acc[k] += a0[k] + a1[k] + a2[k]
                    t += 3
                    continue
                lo = max(0, -s0)
                if lo < block:
                    a0, dv = rows[t, s0 + lo:s0 + block], acc[lo:]
                    for k in range(block - lo):
                        dv[k] += a0[k]
                t += 1
            b = bias[c]
            for d in range(d_in):
                for h in range(h_in):
                    at = ((d + gd) * eh + h + gh) * ew + gw
                    sv, out = acc[at:at + w_in], dx[n, c, d, h]
                    for k in range(w_in):
                        out[k] = sv[k] + b


# -- the three primitives on five-dim arrays (N, C, D, H, W) -----------------------------------
def pack_input(x5, plan, out):
    """out: (C, N*block + reach) = x5 in plan's flat input layout."""
    CT.flat_pack(x5, plan.gaps, plan.ext, out)
    return out


def _pack_input(x5, plan, workspace):
    """xf = x5 in plan's flat input layout (workspace slot 0)."""
    return pack_input(x5, plan, workspace(
        (x5.shape[1], x5.shape[0] * plan.block + plan.reach), x5.dtype, 0))


def conv(x5, w3, bias, has_bias, plan, workspace, y5, xf=None):
    """y5: (N, O, OD, OH, OW) = (bias +) the convolution of x5 with w3: (G, O/G, C/G*T); xf:
    x5 already in the flat input layout, or None (packed here). Per chunk of images: the
    columns, one GEMM per group into yf, and those images moved to y5 while yf's chunk is
    still in cache."""
    n, groups, o_group, k_group = x5.shape[0], w3.shape[0], w3.shape[1], w3.shape[2]
    rows, block = groups * k_group, plan.block
    if xf is None:
        xf = _pack_input(x5, plan, workspace)
    yf = workspace((groups * o_group, n * block), x5.dtype, 1)
    y3 = yf.reshape(groups, o_group, n * block)
    step = max(1, -(-MIN_STEP // block), CHUNK // rows // block)
    for n0 in range(0, n, step):
        n1 = min(n, n0 + step)
        m0, m = n0 * block, (n1 - n0) * block
        cols = workspace((rows, m), x5.dtype, 2)
        CT.flat_columns(xf, plan.offs, m0, 0, m, cols)
        np.matmul(w3, cols.reshape(groups, k_group, m), out=y3[:, :, m0:m0 + m])
        CT.unpack_images(yf, plan.ext, bias, has_bias, n0, n1, y5)


def transpose(gq, w3, plan, bias, workspace, dx5):
    """dx5: (N, C, D, H, W) = bias + C(w)^T g, gq: (O, N*block) g in the flat output layout,
    w3: (G, O/G, C/G*T)."""
    groups, o_group = w3.shape[:2]
    shift_transpose(gq.reshape(groups, o_group, -1), w3.transpose(0, 2, 1), plan, bias,
                    workspace, dx5)


def weight_transposed(x5, gq, groups, plan, workspace, xf=None):
    """dW^T: (G, C/G*T, O/G) for dW = d<g, C(w) x>/dw, gq: (O, N*block) g in the flat output
    layout; xf: x5 already in the flat input layout, or None (packed here)."""
    if xf is None:
        xf = _pack_input(x5, plan, workspace)
    return shift_weight(xf, gq.reshape(groups, gq.shape[0] // groups, -1), plan.offs,
                        workspace)
