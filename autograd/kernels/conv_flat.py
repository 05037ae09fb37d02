"""Direct stride-1 convolution on flattened, padded planes (numba, ndarrays only).

A stride-1 convolution reads, for output position o and kernel tap t, the input at o + off(t):
a shift. Laid out flat, with the padding stored in the array, every tap becomes one shifted
1-d view and the convolution a sum of long axpys, with no column matrix at all:

    y[o, q] = sum over c, t of w[o, c, t] * xf[c, q + off[t]]

Layout (`flat_pack`): each image is a block of E = (ED, EH, EW) = S + gap per spatial dim
(unit dims: size 1, gap 0); its data sits at the end of the block, after `gap` zeros along
each dim, and the zeros at the start of the next row (slice, image) are the high padding of
the previous one. Channels come first: xf: (C, N*ED*EH*EW + tail), the tail all zeros.
Output position (od, oh, ow) of image n is q = n*ED*EH*EW + (od*EH + oh)*EW + ow; a tap
(i, j, k) reads q + off with off = ((gap_d - pad_d + i*dil_d)*EH + gap_h - pad_h +
j*dil_h)*EW + gap_w - pad_w + k*dil_w >= 0 (pad <= gap). Positions with od >= OD, oh >= OH
or ow >= OW are computed and dropped (about 15 % of a 14x14 'same' plane).

    flat_pack(x, before, ext, xf)
                               xf: (C, M) = x: (N, C, D, H, W) laid out in blocks of extents
                               ext with the data at `before` (gaps: the input layout above;
                               0: the output layout); all of xf written, M >= N*ED*EH*EW
    flat_conv(xf, w, offs, groups, start, stop, yf)
                               yf[o, q] = sum over the group's channels c and taps t of
                               w[o, c, t] * xf[c, q + offs[t]] for start <= q < stop;
                               w: (O, C/G, T)
    flat_unpack(yf, ext, bias, has_bias, y)
                               y: (N, O, OD, OH, OW) = (bias +) the kept positions of yf
    pack_images, unpack_images
                               flat_pack and flat_unpack for a range of images

flat_conv works on blocks of BLOCK positions: the block's rows of four output channels stay
in L1 while every input channel and tap adds to them; the inner loop sums three taps for four
channels (twelve products per loaded output element, so the loop is bound by arithmetic
rather than by the stores). The stores need yf's rows on 64-byte boundaries (a store split
across two cache lines costs twice: a third slower here). The kernels are serial and release
the GIL; conv_threads.py runs them on OpenBLAS's threads, flat_conv over ranges of whole
blocks, the packs over ranges of images (numba's parallel=True compiled this loop a third
slower, even on one thread).
"""
import numpy as np

from ._jit import jit

__all__ = ["flat_plan", "FlatPlan", "flat_pack", "flat_conv", "flat_unpack", "pack_images",
           "unpack_images", "BLOCK"]

BLOCK = 2048           # positions per block: four output rows and three input views in L1


def flat_plan(size, out, kernel, pad, dilation):
    """The layout of a stride-1 convolution from `size` to `out` (one tuple entry per spatial
    dim, padded to 3 with unit dims by the caller): (gaps, ext, offs) or None when the flat
    layout cannot hold it: a negative padding (the transposed form of a convolution padded
    beyond its dilated kernel extent) or an output longer than its block. Plain Python;
    offs: one entry per tap in (i, j, k) order."""
    gaps, ext = [], []
    for s, o, k, p, d in zip(size, out, kernel, pad, dilation):
        high = o - 1 + d * (k - 1) - p - (s - 1)
        gap = max(p, high, 0)
        if p < 0 or o > s + gap:
            return None
        gaps.append(gap)
        ext.append(s + gap)
    starts = [[(g - p + t * d) for t in range(k)]
              for g, p, k, d in zip(gaps, pad, kernel, dilation)]
    offs = [(a * ext[1] + b) * ext[2] + c for a in starts[0] for b in starts[1]
            for c in starts[2]]
    return tuple(gaps), tuple(ext), offs


class FlatPlan:
    """flat_plan's layout as the kernels take it: gaps, ext: (3,) int64, offs: (T,) int64;
    block = ED*EH*EW positions per image; reach = the largest offset + 1 (the zeros past the
    last image that the taps read)."""
    __slots__ = ("gaps", "ext", "offs", "block", "reach")

    def __init__(self, gaps, ext, offs):
        self.gaps, self.ext = np.array(gaps, np.int64), np.array(ext, np.int64)
        self.offs = np.array(offs, np.int64)
        self.block = int(np.prod(ext))
        self.reach = int(self.offs.max()) + 1


def flat_pack(x, before, ext, xf):
    """xf: (C, M) = x: (N, C, D, H, W) laid out flat: image n is the block
    [n*ED*EH*EW, (n+1)*ED*EH*EW) of extents ext = E, its data at `before` along each dim, zeros
    elsewhere (and from N*ED*EH*EW to M). Input layout: before = gaps; output layout (the
    positions flat_conv computes): before = 0. (conv_threads.flat_pack splits it by images.)"""
    pack_images(x, before, ext, 0, x.shape[0], xf)


def flat_unpack(yf, ext, bias, has_bias, y):
    """y: (N, O, OD, OH, OW) = (bias +) the kept positions of yf: (O, >= N*ED*EH*EW) in the
    flat output layout (the inverse of flat_pack with before = 0); bias: (O,).
    (conv_threads.unpack_images splits it by images.)"""
    unpack_images(yf, ext, bias, has_bias, 0, y.shape[0], y)


@jit(nogil=True)
def pack_images(x, before, ext, start, stop, xf):
    """flat_pack for the images start <= n < stop: the columns [start*block, stop*block) of
    xf, and the zeros past N*block when stop = N. Per image and channel: zero the block, then
    copy the rows of data into it (two passes in L1 beat writing each row's zeros apart:
    the per-row work dominated, 14-element rows)."""
    n_img, n_ch, d_in, h_in, w_in = x.shape
    bd, bh, bw = before[0], before[1], before[2]
    eh, ew = ext[1], ext[2]
    block = ext[0] * eh * ew
    plane = d_in * h_in * w_in
    xv = x.reshape(-1)
    for n in range(start, stop):
        for c in range(n_ch):
            out = xf[c, n * block:(n + 1) * block]
            out[:] = 0
            src = (n * n_ch + c) * plane
            for d in range(d_in):
                for h in range(h_in):
                    at = ((d + bd) * eh + h + bh) * ew + bw
                    sv, dv = xv[src:src + w_in], out[at:at + w_in]
                    for k in range(w_in):
                        dv[k] = sv[k]
                    src += w_in
    if stop == n_img:
        xf[:, n_img * block:] = 0


@jit(nogil=True)
def unpack_images(yf, ext, bias, has_bias, start, stop, y):
    """flat_unpack for the images start <= n < stop."""
    n_img, n_out, od_n, oh_n, ow_n = y.shape
    ed, eh, ew = ext[0], ext[1], ext[2]
    block = ed * eh * ew
    wide = (ow_n + 15) // 16 * 16
    yv = y.reshape(-1)
    image = n_out * od_n * oh_n * ow_n
    dst, end = start * image, stop * image
    for n in range(start, stop):
        for o in range(n_out):
            b = bias[o]
            src_row = yf[o]
            for od in range(od_n):
                for oh in range(oh_n):
                    src = n * block + (od * eh + oh) * ew
                    # a whole vector where both rows have room: the extra elements spill
                    # into the next row of y, written after this one (within the range)
                    count = wide if dst + wide <= end and src + wide <= src_row.shape[0] \
                        else ow_n
                    sv, dv = src_row[src:src + count], yv[dst:dst + count]
                    if has_bias:
                        for k in range(count):
                            dv[k] = sv[k] + b
                    else:
                        for k in range(count):
                            dv[k] = sv[k]
                    dst += ow_n


@jit(nogil=True)
def flat_conv(xf, w, offs, groups, start, stop, yf):
    """yf[:, start:stop] = the stride-1 convolution of the flat input xf (see above) there;
    yf: (O, M) with 64-byte aligned rows (M a multiple of 16), start a multiple of 16, xf:
    (C, >= stop + the largest offset)."""
    n_out = yf.shape[0]
    c_group, n_taps = w.shape[1], w.shape[2]
    o_group = n_out // groups
    for q0 in range(start, stop, BLOCK):
        lq = min(BLOCK, stop - q0)
        for grp in range(groups):
            for o in range(grp * o_group, (grp + 1) * o_group, 4):
                rows = min(4, (grp + 1) * o_group - o)
                yf[o:o + rows, q0:q0 + lq] = 0
                for cc in range(c_group):
                    xc = xf[grp * c_group + cc]
                    t = 0
                    while t + 2 < n_taps:
                        # three taps at once: a0, a1, a2 are the shifted input views
                        a0 = xc[q0 + offs[t]:q0 + offs[t] + lq]
                        a1 = xc[q0 + offs[t + 1]:q0 + offs[t + 1] + lq]
                        a2 = xc[q0 + offs[t + 2]:q0 + offs[t + 2] + lq]
                        if rows == 4:
                            y0, y1 = yf[o, q0:q0 + lq], yf[o + 1, q0:q0 + lq]
                            y2, y3 = yf[o + 2, q0:q0 + lq], yf[o + 3, q0:q0 + lq]
                            u00, u01, u02 = w[o, cc, t], w[o, cc, t + 1], w[o, cc, t + 2]
                            u10, u11, u12 = w[o + 1, cc, t], w[o + 1, cc, t + 1], \
                                w[o + 1, cc, t + 2]
                            u20, u21, u22 = w[o + 2, cc, t], w[o + 2, cc, t + 1], \
                                w[o + 2, cc, t + 2]
                            u30, u31, u32 = w[o + 3, cc, t], w[o + 3, cc, t + 1], \
                                w[o + 3, cc, t + 2]
                            for q in range(lq):
                                v0, v1, v2 = a0[q], a1[q], a2[q]
                                s0 = u00 * v0 + u01 * v1 + u02 * v2
                                s1 = u10 * v0 + u11 * v1 + u12 * v2
                                s2 = u20 * v0 + u21 * v1 + u22 * v2
                                s3 = u30 * v0 + u31 * v1 + u32 * v2
                                y0[q] += s0
                                y1[q] += s1
                                y2[q] += s2
                                y3[q] += s3
                        else:
                            for r in range(rows):
                                u0, u1, u2 = w[o + r, cc, t], w[o + r, cc, t + 1], \
                                    w[o + r, cc, t + 2]
                                yr = yf[o + r, q0:q0 + lq]
                                for q in range(lq):
                                    yr[q] += u0 * a0[q] + u1 * a1[q] + u2 * a2[q]
                        t += 3
                    while t < n_taps:
                        a0 = xc[q0 + offs[t]:q0 + offs[t] + lq]
                        for r in range(rows):
                            u0 = w[o + r, cc, t]
                            yr = yf[o + r, q0:q0 + lq]
                            for q in range(lq):
                                yr[q] += u0 * a0[q]
                        t += 1
    return yf
