"""Stride-1 convolution on conv_flat's layout by register tiles (numba, ndarrays only).

In conv_flat's layout (the padded input flat per channel, xf: (C, M + reach)), tap t of a
stride-1 convolution reads xf[c, q + offs[t]] for output position q, so per group

    Y (O/G, M) = W (O/G, C/G*T) . B          B[cc*T + t, q] = xf[c, q + offs[t]]

is one matrix product whose right factor's rows are shifted views of xf. The gather tiles of
register_tile.py read those rows in place, by a table of their offsets in xf: no column
matrix is written (the shifted GEMMs of conv_shift.py copy it), and each tile of 8 output
channels x 32 positions keeps its 16 accumulators in registers over all C/G*T products (the
flat loop of conv_flat.py adds into yf's rows in L1 instead). Measured on one thread, 64
images 32 -> 64 channels 3x3 on 14x14 (flat layout of 15x15): 2.07 ms (256 GFLOP/s).

    tile_conv(xf, w, offs, groups, start, stop, yf)
                               yf[:, start:stop] as conv_flat.flat_conv, in tiles of 32
                               positions: yf and xf must have room for the last tile
                               (yf's rows at least ceil32(stop) long, xf's ceil32(stop) +
                               max(offs)); the positions past stop get values to drop

The weight gradient is, per tap t and group, a product over all positions with x's rows
shifted by the tap, taken with x channels last (xcl = xf^T: a position's channels are one
row) so that B is a plain matrix:

    dW[:, :, t] (O/G, C/G) = G (O/G, M) . xcl[offs[t]:offs[t] + M, group's C/G]

    pack_last(x, before, ext, start, stop, xcl)
                               xcl: (M', C) = x: (N, C, D, H, W) in conv_flat's layout
                               (before: the gaps), channels last, for the images
                               start <= n < stop (and the zero rows past the last one)
    tile_weight(gq, xcl, offs, groups, lo, hi, dwt)
                               dwt[t, o] (T, O, C/G) += that, for output channels lo <= o
                               < hi; positions in chunks of CHUNK (G's and xcl's rows of a
                               chunk stay in L2 while every tap and tile reads them), the
                               tiles accumulating into dwt; C/G a multiple of a tile's width
                               (weight_tiles_fit)

Every output is one sum in the order of w's (channel, tap) entries (of the positions, for
the weight gradient), whichever tile computes it. conv_threads.tile_conv splits ranges of
positions over OpenBLAS's threads, conv_threads.tile_weight ranges of output channels.
"""
import numpy as np

from . import register_tile
from ._jit import jit
from .register_tile import tile_jit

__all__ = ["tile_conv", "tile_weight", "pack_last", "weight_tiles_fit", "WIDTH", "room"]

WIDTH = 32                  # the widest tile: two vectors of 16 float32 (AVX-512); narrower
                            # ones (float64, 256-bit vectors) divide it
# bound by tile_jit before the kernels compile: the vector width (register_tile.vector_bytes())
# and the tiles (register_tile.tiles(), LLVM intrinsics)
VECTOR_BYTES = 64
gather_ladder = accumulate_ladder = None
CHUNK = 1024                # positions per pass of tile_weight (g's and x's rows in L2)


def weight_tiles_fit(c_group, itemsize):
    """Whether tile_weight takes C/G input channels of this item size (whole tiles: a
    multiple of two vectors, as register_tile.vector_bytes() has them)."""
    return c_group % (2 * register_tile.vector_bytes() // itemsize) == 0


def room(stop):
    """Positions a buffer must hold for tile_conv to compute [.., stop): stop rounded up to
    the widest tile."""
    return -(-stop // WIDTH) * WIDTH


@tile_jit(globals(), nogil=True)
def tile_conv(xf, w, offs, groups, start, stop, yf):
    """yf[:, start:stop] = the stride-1 convolution of the flat input xf: (C, M'), w: (O,
    C/G, T), offs: (T,) tap offsets; yf: (O, M''); start a multiple of WIDTH (see the module
    docstring for the room both need past stop)."""
    width = 2 * VECTOR_BYTES // yf.itemsize            # a tile's positions
    n_out, c_group, n_taps = w.shape
    o_group = n_out // groups
    w2 = w.reshape(n_out, c_group * n_taps)
    xflat = xf.reshape(xf.size)
    row = xf.shape[1]
    table = np.empty((groups, c_group * n_taps), np.int64)      # B's rows: offsets in xf
    for grp in range(groups):
        for cc in range(c_group):
            for t in range(n_taps):
                table[grp, cc * n_taps + t] = (grp * c_group + cc) * row + offs[t]
    for q0 in range(start, stop, width):
        for grp in range(groups):
            a = w2[grp * o_group:(grp + 1) * o_group]
            out = yf[grp * o_group:(grp + 1) * o_group, q0:q0 + width]
            gather_ladder(0, o_group, q0, (a, xflat, table[grp], out))


@tile_jit(globals(), nogil=True)
def tile_weight(gq, xcl, offs, groups, lo, hi, dwt):
    """dwt[t, o] += sum over positions q of gq[o, q] * xcl[q + offs[t], group's channels] for
    lo <= o < hi (see the module docstring); gq: (O, M), xcl: (>= M + max(offs), C), dwt:
    (T, O, C/G) with C/G a multiple of a tile's width."""
    n_out, total = gq.shape
    n_taps = offs.shape[0]
    c_group = xcl.shape[1] // groups
    o_group = n_out // groups
    width = 2 * VECTOR_BYTES // gq.itemsize
    if c_group % width:
        raise ValueError("tile_weight: C/G must be a multiple of the tiles' width")
    for q0 in range(0, total, CHUNK):
        q1 = min(total, q0 + CHUNK)
        a = gq[:, q0:q1]
        for t in range(n_taps):
            out = dwt[t]
            for grp in range(groups):
                b = xcl[q0 + offs[t]:q1 + offs[t], grp * c_group:(grp + 1) * c_group]
                i = max(lo, grp * o_group)
                end = min(hi, (grp + 1) * o_group)
                for j in range(0, c_group, width):
                    accumulate_ladder(i, end, j, (a, b, out))


@jit(nogil=True)
def pack_last(x, before, ext, start, stop, xcl):
    """xcl[n*block + p, c] = x[n, c] at flat position p of the block (zeros in the gaps) for
    start <= n < stop, and zeros past N*block when stop = N (conv_flat.pack_images's layout,
    transposed). Per image: zero its rows, then write each channel's plane into its column
    (the image's rows, block x C, stay in L1)."""
    n_img, n_ch, d_in, h_in, w_in = x.shape
    bd, bh, bw = before[0], before[1], before[2]
    eh, ew = ext[1], ext[2]
    block = ext[0] * eh * ew
    for n in range(start, stop):
        rows = xcl[n * block:(n + 1) * block]
        rows[:] = 0
        for c in range(n_ch):
            plane = x[n, c]
            for d in range(d_in):
                for h in range(h_in):
                    at = ((d + bd) * eh + h + bh) * ew + bw
                    src = plane[d, h]
                    for k in range(w_in):
                        rows[at + k, c] = src[k]
    if stop == n_img:
        xcl[n_img * block:] = 0
