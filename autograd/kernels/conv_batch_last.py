"""Convolution columns in the batch-last layout (numba, ndarrays only).

The input x: (N, C, D, H, W) is stored padded with the image index last,

    xp[c, d + pd, h + ph, w + pw, n] = x[n, c, d, h, w]       (zeros elsewhere)

xp: (C, ED, EH, EW, N). Output positions are ordered (od, oh, ow, n), so that one output row
(od, oh) of all images is OW*N consecutive columns. Tap (i, j, k) of output (od, oh, ow) reads
xp[c, od*sd + i*dd, oh*sh + j*dh, ow*sw + k*dw, :], so with stride 1 along w a whole output
row of the column matrix is one contiguous run of xp (OW*N elements: long copies, where
im2col's rows of a small image are a few elements each), and every column is a real output
position (the flat layout computes and drops the positions past each row):

    cols[(c*KD + i)*KH*KW + j*KW + k, ((od*OH + oh) - r0)*OW*N + ow*N + n]
        = xp[c, od*sd + i*dd, oh*sh + j*dh, ow*sw + k*dw, n]       for rows r0 <= od*OH+oh < r1

Y (O, OD*OH*OW*N) = W (O, C*K) . cols is then the output in the batch-last layout too.

    pack(x, lo, xp, c0, c1)    xp = x in the layout above, data at lo = (pd, ph, pw); all of xp
                               written (zeros outside the data); channels c0 <= c < c1
    unpack(xp, lo, bias, has_bias, y, c0, c1)
                               y[n, c, d, h, w] = (bias[c] +) xp[c, d + lo0, h + lo1,
                               w + lo2, n]: the inverse of pack; channels c0 <= c < c1
    columns(xp, geo, r0, r1, cols)
                               cols[:, :(r1 - r0)*OW*N] as above; geo: (12,) int64 =
                               (KD, KH, KW, SD, SH, SW, DD, DH, DW, OD, OH, OW)
    scatter_add(cols, geo, r0, r1, xp)
                               the transpose of columns: xp[...] += cols[row, col] for every
                               entry columns would copy from there

All are serial and release the GIL; the drivers (ops/conv_paths.py) run the column kernels
on chunks of output rows, between BLAS products, and all four through conv_threads.py,
which splits their channels over threads (pack and unpack take the channel range).
"""
from ._jit import jit

__all__ = ["pack", "unpack", "columns", "scatter_add"]


@jit(nogil=True)
def pack(x, lo, xp, c0, c1):
    """xp: (C, ED, EH, EW, N) = x: (N, C, D, H, W) batch-last, at offsets lo, zeros around.
    Per channel: xp[c] zeroed (in L2), then per row (d, h) the (W, N) block of xp filled from
    the N images' rows of x (measured on cold caches: a third faster than zeroing only the
    borders, or than reading x plane by plane with strided writes)."""
    n_img, n_ch, d_in, h_in, w_in = x.shape
    eh, ew = xp.shape[2], xp.shape[3]
    ld, lh, lw = lo[0], lo[1], lo[2]
    xv = x.reshape(-1)
    plane_x = d_in * h_in * w_in
    row_p = ew * n_img
    for c in range(c0, c1):
        pc = xp[c].reshape(-1)
        pc[:] = 0
        for d in range(d_in):
            for h in range(h_in):
                at = ((d + ld) * eh + h + lh) * row_p + lw * n_img
                block = pc[at:at + w_in * n_img]
                src = c * plane_x + (d * h_in + h) * w_in
                for n in range(n_img):
                    row = xv[src + n * n_ch * plane_x:src + n * n_ch * plane_x + w_in]
                    for w in range(w_in):
                        block[w * n_img + n] = row[w]


@jit(nogil=True)
def unpack(xp, lo, bias, has_bias, y, c0, c1):
    """y: (N, C, D, H, W) = (bias +) xp: (C, ED, EH, EW, N) at offsets lo (pack's inverse):
    per row (d, h) of a channel, the (W, N) block of xp (in L1) written out as N rows of y."""
    n_img, n_ch, d_out, h_out, w_out = y.shape
    eh, ew = xp.shape[2], xp.shape[3]
    ld, lh, lw = lo[0], lo[1], lo[2]
    yv = y.reshape(-1)
    plane_y = d_out * h_out * w_out
    row_p = ew * n_img
    for c in range(c0, c1):
        pc = xp[c].reshape(-1)
        b = bias[c] if has_bias else 0
        for d in range(d_out):
            for h in range(h_out):
                at = ((d + ld) * eh + h + lh) * row_p + lw * n_img
                block = pc[at:at + w_out * n_img]
                dst = c * plane_y + (d * h_out + h) * w_out
                for n in range(n_img):
                    out = yv[dst + n * n_ch * plane_y:dst + n * n_ch * plane_y + w_out]
                    if has_bias:
                        for w in range(w_out):
                            out[w] = block[w * n_img + n] + b
                    else:
                        for w in range(w_out):
                            out[w] = block[w * n_img + n]


@jit(nogil=True)
def columns(xp, geo, r0, r1, cols):
    """cols[:, :(r1 - r0)*OW*N] = the columns of output rows r0 <= od*OH + oh < r1 (above)."""
    n_ch, eh, ew, n_img = xp.shape[0], xp.shape[2], xp.shape[3], xp.shape[4]
    kd, kh, kw, sd, sh, sw = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5]
    dd, dh, dw, oh_n, ow_n = geo[6], geo[7], geo[8], geo[10], geo[11]
    run = ow_n * n_img
    row_p = ew * n_img
    for c in range(n_ch):
        pc = xp[c].reshape(-1)
        for i in range(kd):
            for j in range(kh):
                for k in range(kw):
                    row = cols[((c * kd + i) * kh + j) * kw + k]
                    for r in range(r0, r1):
                        od = r // oh_n
                        oh = r - od * oh_n
                        at = ((od * sd + i * dd) * eh + oh * sh + j * dh) * row_p + \
                            k * dw * n_img
                        dst = row[(r - r0) * run:(r - r0 + 1) * run]
                        if sw == 1:
                            src = pc[at:at + run]
                            for q in range(run):
                                dst[q] = src[q]
                        else:
                            for ow in range(ow_n):
                                src = pc[at + ow * sw * n_img:at + (ow * sw + 1) * n_img]
                                out = dst[ow * n_img:(ow + 1) * n_img]
                                for q in range(n_img):
                                    out[q] = src[q]


@jit(nogil=True)
def scatter_add(cols, geo, r0, r1, xp):
    """xp += the transpose of columns applied to cols (rows r0 <= od*OH + oh < r1)."""
    n_ch, eh, ew, n_img = xp.shape[0], xp.shape[2], xp.shape[3], xp.shape[4]
    kd, kh, kw, sd, sh, sw = geo[0], geo[1], geo[2], geo[3], geo[4], geo[5]
    dd, dh, dw, oh_n, ow_n = geo[6], geo[7], geo[8], geo[10], geo[11]
    run = ow_n * n_img
    row_p = ew * n_img
    for c in range(n_ch):
        pc = xp[c].reshape(-1)
        for i in range(kd):
            for j in range(kh):
                for k in range(kw):
                    row = cols[((c * kd + i) * kh + j) * kw + k]
                    for r in range(r0, r1):
                        od = r // oh_n
                        oh = r - od * oh_n
                        at = ((od * sd + i * dd) * eh + oh * sh + j * dh) * row_p + \
                            k * dw * n_img
                        src = row[(r - r0) * run:(r - r0 + 1) * run]
                        if sw == 1:
                            dst = pc[at:at + run]
                            for q in range(run):
                                dst[q] += src[q]
                        else:
                            for ow in range(ow_n):
                                dst = pc[at + ow * sw * n_img:at + (ow * sw + 1) * n_img]
                                part = src[ow * n_img:(ow + 1) * n_img]
                                for q in range(n_img):
                                    dst[q] += part[q]
