"""Convolution kernels (numba, ndarrays only): im2col and its transpose col2im.

Every convolution is seen as 3-d: x: (N, C, D, H, W) C-contiguous (1-d and 2-d convolutions
get unit D and H). Output position (od, oh, ow) and kernel tap (i, j, k) read the input at
    d = od*SD + off_d[i],  h = oh*SH + off_h[j],  w = ow*SW + off_w[k]
(off = tap*dilation - low padding; outside the input: zero padding). Per spatial dim, a tap
table `td`, `th`, `tw` (one (taps, 3) int64 array each) holds for each tap (off, lo, hi): the
output positions lo <= o < hi read inside the input. `geo` is (7,) int64 = (SD, SH, SW, OD,
OH, OW, image_major): the strides, the output size and the layout of cols. The column
matrix has one row per (channel, tap) and one column per (image, output position):

    cols[(c*KD + i)*KH*KW + j*KW + k, n, (od*OH + oh)*OW + ow] = x[n, c, d, h, w]  (or 0)

so that a convolution of the whole batch is one matrix product,
Y (O, N*L) = W (O, C*K) . cols (C*K, N*L), and dW = G (O, N*L) . cols^T. With image_major = 1
the layout is (N, C*K, L) instead: Y[n] = W . cols[n] lands in (N, O, L) directly (better
when C*K is small beside O, as in a first layer).

    im2col(x, td, th, tw, geo, cols)   cols: (C*K, N, L), or (N, C*K, L) if image_major;
                                       all overwritten (K = KD*KH*KW, L = OD*OH*OW)
    col2im(cols, td, th, tw, geo, dx)  the transpose: dx[n, c, d, h, w] += cols[row, n, col]
                                       for every entry im2col would have copied there;
                                       dx: (N, C, D, H, W) pre-filled by the caller. Entries
                                       of cols that read padding may be overwritten with 0.

Both are serial: the caller runs them on chunks of a few images whose columns stay in cache,
between multithreaded BLAS products (a second thread pool spinning beside BLAS's would slow
both on a small machine). Loops index 1-d views with range() counters, which numba knows are
non-negative: the copies vectorise (an index like `base + q` would keep a wraparound check).
"""
from ._jit import jit

__all__ = ["im2col", "col2im", "tap_table"]


def tap_table(size, out, kernel, stride, pad, dilation):
    """(kernel, 3) rows (off, lo, hi) for one spatial dim: tap t reads input o*stride + off
    with off = t*dilation - pad; outputs lo <= o < hi read inside [0, size). Plain Python
    (the caller builds the table once per geometry)."""
    rows = []
    for t in range(kernel):
        off = t * dilation - pad
        lo = 0 if off >= 0 else (-off + stride - 1) // stride
        last = size - 1 - off
        hi = 0 if last < 0 else min(out, last // stride + 1)
        rows.append((off, lo, max(lo, hi)))
    return rows


@jit()
def im2col(x, td, th, tw, geo, cols):
    """cols: (C*K, N, L) or (N, C*K, L) = the patches of x: (N, C, D, H, W) (see above)."""
    n_img, n_ch, d_in, h_in, w_in = x.shape
    kd, kh, kw = td.shape[0], th.shape[0], tw.shape[0]
    sd, sh, sw = geo[0], geo[1], geo[2]
    od_n, oh_n, ow_n = geo[3], geo[4], geo[5]
    image_major = geo[6]
    n_rows = n_ch * kd * kh * kw
    xf = x.reshape(-1)
    cf = cols.reshape(-1)
    plane_in = d_in * h_in * w_in
    plane_out = od_n * oh_n * ow_n
    for n in range(n_img):
        for c in range(n_ch):
            xc = (n * n_ch + c) * plane_in
            for i in range(kd):
                d_off, d_lo, d_hi = td[i, 0], td[i, 1], td[i, 2]
                for j in range(kh):
                    h_off, h_lo, h_hi = th[j, 0], th[j, 1], th[j, 2]
                    for k in range(kw):
                        w_off, w_lo, w_hi = tw[k, 0], tw[k, 1], tw[k, 2]
                        row = ((c * kd + i) * kh + j) * kw + k
                        at = (row * n_img + n) if image_major == 0 else (n * n_rows + row)
                        cr = cf[at * plane_out:(at + 1) * plane_out]
                        # one contiguous span per depth slice when rows of x line up with
                        # rows of the output (stride 1 in h and w, OW == W)
                        flat = sw == 1 and sh == 1 and ow_n == w_in and w_hi > w_lo
                        for od in range(od_n):
                            plane = cr[od * oh_n * ow_n:(od + 1) * oh_n * ow_n]
                            if od < d_lo or od >= d_hi or h_hi <= h_lo or w_hi <= w_lo:
                                plane[:] = 0
                                continue
                            d = od * sd + d_off
                            x_row0 = xc + d * h_in * w_in      # start of slice d of x
                            if flat:
                                q0 = h_lo * ow_n + w_lo
                                cnt = (h_hi - 1) * ow_n + w_hi - q0
                                src = x_row0 + h_off * w_in + w_off + q0
                                dv = plane[q0:q0 + cnt]
                                sv = xf[src:src + cnt]
                                for q in range(cnt):
                                    dv[q] = sv[q]
                                plane[:h_lo * ow_n] = 0
                                plane[h_hi * ow_n:] = 0
                                for oh in range(h_lo, h_hi):     # columns that read padding
                                    plane[oh * ow_n:oh * ow_n + w_lo] = 0
                                    plane[oh * ow_n + w_hi:(oh + 1) * ow_n] = 0
                                continue
                            plane[:h_lo * ow_n] = 0
                            plane[h_hi * ow_n:] = 0
                            cnt = w_hi - w_lo
                            for oh in range(h_lo, h_hi):
                                dst = plane[oh * ow_n:(oh + 1) * ow_n]
                                dst[:w_lo] = 0
                                dst[w_hi:] = 0
                                src = x_row0 + (oh * sh + h_off) * w_in + w_lo * sw + w_off
                                sv = xf[src:src + (cnt - 1) * sw + 1:sw]
                                dv = dst[w_lo:w_hi]
                                for q in range(cnt):
                                    dv[q] = sv[q]


@jit()
def col2im(cols, td, th, tw, geo, dx):
    """dx: (N, C, D, H, W) += the transpose of im2col applied to cols (see above)."""
    n_img, n_ch, d_in, h_in, w_in = dx.shape
    kd, kh, kw = td.shape[0], th.shape[0], tw.shape[0]
    sd, sh, sw = geo[0], geo[1], geo[2]
    od_n, oh_n, ow_n = geo[3], geo[4], geo[5]
    image_major = geo[6]
    n_rows = n_ch * kd * kh * kw
    xf = dx.reshape(-1)
    cf = cols.reshape(-1)
    plane_in = d_in * h_in * w_in
    plane_out = od_n * oh_n * ow_n
    for n in range(n_img):
        for c in range(n_ch):
            xc = (n * n_ch + c) * plane_in
            for i in range(kd):
                d_off, d_lo, d_hi = td[i, 0], td[i, 1], td[i, 2]
                for j in range(kh):
                    h_off, h_lo, h_hi = th[j, 0], th[j, 1], th[j, 2]
                    for k in range(kw):
                        w_off, w_lo, w_hi = tw[k, 0], tw[k, 1], tw[k, 2]
                        if h_hi <= h_lo or w_hi <= w_lo:
                            continue
                        row = ((c * kd + i) * kh + j) * kw + k
                        at = (row * n_img + n) if image_major == 0 else (n * n_rows + row)
                        cr = cf[at * plane_out:(at + 1) * plane_out]
                        flat = sw == 1 and sh == 1 and ow_n == w_in
                        cnt = w_hi - w_lo
                        for od in range(d_lo, d_hi):
                            plane = cr[od * oh_n * ow_n:(od + 1) * oh_n * ow_n]
                            x_row0 = xc + (od * sd + d_off) * h_in * w_in
                            if flat:
                                # zero the columns that read padding, then one span
                                for oh in range(h_lo, h_hi):
                                    plane[oh * ow_n:oh * ow_n + w_lo] = 0
                                    plane[oh * ow_n + w_hi:(oh + 1) * ow_n] = 0
                                q0 = h_lo * ow_n + w_lo
                                span = (h_hi - 1) * ow_n + w_hi - q0
                                dst = x_row0 + h_off * w_in + w_off + q0
                                dv = xf[dst:dst + span]
                                sv = plane[q0:q0 + span]
                                for q in range(span):
                                    dv[q] += sv[q]
                                continue
                            for oh in range(h_lo, h_hi):
                                dst = x_row0 + (oh * sh + h_off) * w_in + w_lo * sw + w_off
                                dv = xf[dst:dst + (cnt - 1) * sw + 1:sw]
                                sv = plane[oh * ow_n + w_lo:oh * ow_n + w_hi]
                                for q in range(cnt):
                                    dv[q] += sv[q]
