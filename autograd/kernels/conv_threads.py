"""The convolutions' column copies with their channels (or images) split over OpenBLAS's threads
(kernels/blas_threads.py). Between two GEMMs the column kernels ran on one core while
OpenBLAS's idle worker spun on the other; here that worker takes half of the copy.

    columns(xp, geo, r0, r1, cols)            conv_batch_last.columns, channels split
    scatter_add(cols, geo, r0, r1, xp)        conv_batch_last.scatter_add, channels split
    pack(x, lo, xp)                           conv_batch_last.pack over all channels, split
    unpack(xp, lo, bias, has_bias, y)         conv_batch_last.unpack over all channels, split
    flat_pack(x, before, ext, xf)             conv_flat.flat_pack, images split
    unpack_images(yf, ext, bias, has_bias, start, stop, y)
                                              conv_flat.unpack_images, images split
    flat_columns(xf, offs, m0, start, stop, cols)
                                              conv_shift.flat_columns, channels split
    flat_gather(z, offs, gaps, ext, z0, bias, start, stop, dx)
                                              conv_shift.flat_gather, images split (one
                                              image: its channels)
    flat_conv(xf, w, offs, groups, total, yf) conv_flat.flat_conv over [0, total), ranges
                                              of whole blocks (conv_flat.BLOCK) split
    tile_conv(xf, w, offs, groups, total, yf) conv_tile.tile_conv over [0, total), ranges
                                              of whole tiles (conv_tile.WIDTH) split
    tile_weight(gq, xcl, offs, groups, dwt)   conv_tile.tile_weight over all output channels,
                                              runs of 8 of them split
    pack_last(x, before, ext, xcl)            conv_tile.pack_last over all images, split

Same arguments and results as the serial kernels (each thread runs the serial kernel on its
channels' rows of xp and cols, its images of dx, or its blocks of positions of yf: disjoint
writes, so the results are bitwise equal). Serial when turned off (TAPEGRAD_BLAS_THREADS=0),
when the pool has one thread, an array is not C-contiguous, or the work is below
MIN_ELEMENTS (elements copied; multiply-adds for flat_conv).

Measured, forward + backward of one convolution (16 images, 2 BLAS threads): 64 -> 128
channels 3x3 stride 2 on 32x32 (batch-last columns) 9.4 -> 8.3 ms with the two batch-last
kernels split (they took 3.05 ms on one thread, 1.85 on two). In a ResNet-18 step (batch
16, 32x32) in one of the machine's slow spells, the six kernels of this file then split
(columns, scatter_add, pack, unpack, flat_columns, flat_gather): 67 -> 36 ms per step.
Benchmark resnet18_32x32: 1.44x and 1.48x of PyTorch with TAPEGRAD_BLAS_THREADS=0 (03:56
UTC), 1.29-1.33x with every split here and in norm_threads / activation_threads (04:24-04:47).
flat_conv ran on a Python thread pool of conv_flat's before: 64 images 1 -> 32 channels 3x3
on 28x28, forward right after a GEMM, 0.26-0.29 ms there and 0.19-0.23 ms here.

A job reads its arrays from an int64 context: addresses, extents and scalars at fixed places
(the layouts below), then the item size (4: float32, 8: float64). A thread's arrays are
carrays at offsets of the whole ones, so they are C-contiguous, as the kernels expect.
"""
import numpy as np

from . import blas_threads as BT
from . import conv_batch_last as KB
from . import conv_flat as KF
from . import conv_tile as KT

__all__ = ["columns", "scatter_add", "pack", "unpack", "flat_pack", "unpack_images",
           "flat_columns", "flat_gather", "flat_conv", "tile_conv", "tile_weight",
           "pack_last", "MIN_ELEMENTS"]

MIN_ELEMENTS = 1 << 17      # elements copied below which one thread (a hand-over: 5-20 us)
FORCE = None                # True / False: split / never (tests); None: BT.ENABLED, MIN_ELEMENTS
_jobs = {}
# bound by _job() before the jobs compile (numba is not imported until then)
carray = _ptr = by_item = batch_columns = batch_scatter_add = batch_pack = batch_unpack = None
shift_columns = shift_gather = flat_pack_images = flat_unpack_images = flat_conv_kernel = None
tile_conv_kernel = tile_weight_kernel = pack_last_images = None


def _splits(work, arrays):
    return BT.worth_splitting(FORCE, work, MIN_ELEMENTS, arrays)


# -- the jobs: plain functions here, compiled on first use (_job) -------------------------
# Contexts. Batch-last: 0 xp address, 1-5 its extents, 6 geo address, 7 cols address, 8 cols'
# row length, 9 r0, 10 r1, 11 0 (columns) or 1 (scatter_add), 12 item size.
# Flat packs: 0 x (pack) or y (unpack) address, 1-5 its extents, 6 xf (or yf) address, 7-8
# its extents, 9 before (pack) or bias (unpack) address, 10 ext address, 11 has_bias, 12
# start, 13 0 (pack), 1 (unpack) or 2 (pack channels last), 14 item size.
# Flat columns: 0 xf address, 1-2 its extents, 3 offs address, 4 taps, 5 cols address,
# 6 cols' row length, 7 m0, 8 start, 9 stop, 10 item size.
# Pack / unpack: 0 x (pack) or y (unpack) address, 1-5 its extents, 6 xp address, 7-11 its
# extents, 12 lo address, 13 bias address (unpack), 14 has_bias, 15 0 (pack) or 1 (unpack),
# 16 item size.
# Flat gather: 0 z address, 1-2 its extents, 3 offs address, 4 taps, 5 gaps address, 6 ext
# address, 7 bias address, 8 its length, 9 dx address, 10-14 its extents, 15 z0, 16 start,
# 17 0 (split the images) or 1 (one image: split its channels), 18 item size.
# Flat conv: 0 xf address, 1-2 its extents, 3 w address, 4-6 its extents, 7 offs address,
# 8 taps, 9 groups, 10 yf address, 11-12 its extents, 13 total, 14 0 (flat_conv) or 1
# (tile_conv), 15 the split's unit (positions), 16 item size.
# Tile weight: 0 gq address, 1-2 its extents, 3 xcl address, 4-5 its extents, 6 offs
# address, 7 taps, 8 groups, 9 dwt address, 10-12 its extents, 13 gq's row length (gq may
# be the leading columns of a wider array), 14 item size.
# context lengths
BATCH_LAST, PACKS, FLAT_PACKS, FLAT_COLUMNS, FLAT_GATHER, FLAT_CONV = 13, 17, 15, 11, 19, 17
TILE_WEIGHT = 15


def _batch_last_run(ctx, lo, hi, dtype):
    """Channels lo <= c < hi: their planes of xp and their rows of cols."""
    item, plane = ctx[12], ctx[2] * ctx[3] * ctx[4] * ctx[5]
    geo = carray(_ptr(ctx[6]), (12,), np.int64)
    taps = geo[0] * geo[1] * geo[2]
    xp = carray(_ptr(ctx[0] + lo * plane * item), (hi - lo, ctx[2], ctx[3], ctx[4], ctx[5]),
                dtype)
    cols = carray(_ptr(ctx[7] + lo * taps * ctx[8] * item), ((hi - lo) * taps, ctx[8]), dtype)
    if ctx[11] == 0:
        batch_columns(xp, geo, ctx[9], ctx[10], cols)
    else:
        batch_scatter_add(cols, geo, ctx[9], ctx[10], xp)


def _packs_run(ctx, lo, hi, dtype):
    """Channels lo <= c < hi of xp and of x (or y)."""
    images = carray(_ptr(ctx[0]), (ctx[1], ctx[2], ctx[3], ctx[4], ctx[5]), dtype)
    xp = carray(_ptr(ctx[6]), (ctx[7], ctx[8], ctx[9], ctx[10], ctx[11]), dtype)
    at = carray(_ptr(ctx[12]), (3,), np.int64)
    if ctx[15] == 0:
        batch_pack(images, at, xp, lo, hi)
    else:
        bias = carray(_ptr(ctx[13]), (ctx[2],), dtype)
        batch_unpack(xp, at, bias, ctx[14] != 0, images, lo, hi)


def _flat_packs_run(ctx, lo, hi, dtype):
    """Images start + lo <= n < start + hi (of all N for the pack)."""
    images = carray(_ptr(ctx[0]), (ctx[1], ctx[2], ctx[3], ctx[4], ctx[5]), dtype)
    flat = carray(_ptr(ctx[6]), (ctx[7], ctx[8]), dtype)
    ext = carray(_ptr(ctx[10]), (3,), np.int64)
    if ctx[13] == 0:
        flat_pack_images(images, carray(_ptr(ctx[9]), (3,), np.int64), ext, lo, hi, flat)
    elif ctx[13] == 2:
        pack_last_images(images, carray(_ptr(ctx[9]), (3,), np.int64), ext, lo, hi, flat)
    else:
        bias = carray(_ptr(ctx[9]), (ctx[2],), dtype)
        flat_unpack_images(flat, ext, bias, ctx[11] != 0, ctx[12] + lo, ctx[12] + hi, images)


def _flat_columns_run(ctx, lo, hi, dtype):
    """Channels lo <= c < hi: their rows of xf and of cols."""
    item, taps = ctx[10], ctx[4]
    xf = carray(_ptr(ctx[0] + lo * ctx[2] * item), (hi - lo, ctx[2]), dtype)
    offs = carray(_ptr(ctx[3]), (taps,), np.int64)
    cols = carray(_ptr(ctx[5] + lo * taps * ctx[6] * item), ((hi - lo) * taps, ctx[6]), dtype)
    shift_columns(xf, offs, ctx[7], ctx[8], ctx[9], cols)


def _flat_gather_run(ctx, lo, hi, dtype):
    """Images start + lo <= n < start + hi of dx; or, for one image, its channels lo <= c <
    hi: their rows of z, entries of bias and planes of dx (the image then at index 0 of a
    view, z0 moved by its block so that z's columns stay the same)."""
    offs = carray(_ptr(ctx[3]), (ctx[4],), np.int64)
    gaps = carray(_ptr(ctx[5]), (3,), np.int64)
    ext = carray(_ptr(ctx[6]), (3,), np.int64)
    if ctx[17] == 0:
        z = carray(_ptr(ctx[0]), (ctx[1], ctx[2]), dtype)
        bias = carray(_ptr(ctx[7]), (ctx[8],), dtype)
        dx = carray(_ptr(ctx[9]), (ctx[10], ctx[11], ctx[12], ctx[13], ctx[14]), dtype)
        shift_gather(z, offs, gaps, ext, ctx[15], bias, ctx[16] + lo, ctx[16] + hi, dx)
        return
    item, taps, plane = ctx[18], ctx[4], ctx[12] * ctx[13] * ctx[14]
    z = carray(_ptr(ctx[0] + lo * taps * ctx[2] * item), ((hi - lo) * taps, ctx[2]), dtype)
    bias = carray(_ptr(ctx[7] + lo * item), (hi - lo,), dtype)
    image = ctx[16]
    dx = carray(_ptr(ctx[9] + (image * ctx[11] + lo) * plane * item),
                (1, hi - lo, ctx[12], ctx[13], ctx[14]), dtype)
    block = ext[0] * ext[1] * ext[2]
    shift_gather(z, offs, gaps, ext, ctx[15] - image * block, bias, 0, 1, dx)


def _flat_conv_run(ctx, lo, hi, dtype):
    """Units lo <= u < hi: positions [lo*unit, min(hi*unit, total)) of yf (unit: ctx[15])."""
    xf = carray(_ptr(ctx[0]), (ctx[1], ctx[2]), dtype)
    w = carray(_ptr(ctx[3]), (ctx[4], ctx[5], ctx[6]), dtype)
    offs = carray(_ptr(ctx[7]), (ctx[8],), np.int64)
    yf = carray(_ptr(ctx[10]), (ctx[11], ctx[12]), dtype)
    start, stop = lo * ctx[15], min(hi * ctx[15], ctx[13])
    if ctx[14] == 0:
        flat_conv_kernel(xf, w, offs, ctx[9], start, stop, yf)
    else:
        tile_conv_kernel(xf, w, offs, ctx[9], start, stop, yf)


def _tile_weight_run(ctx, lo, hi, dtype):
    """Output channels 8*lo <= o < 8*hi: their rows of dwt."""
    gq = carray(_ptr(ctx[0]), (ctx[1], ctx[13]), dtype)[:, :ctx[2]]
    xcl = carray(_ptr(ctx[3]), (ctx[4], ctx[5]), dtype)
    offs = carray(_ptr(ctx[6]), (ctx[7],), np.int64)
    dwt = carray(_ptr(ctx[9]), (ctx[10], ctx[11], ctx[12]), dtype)
    tile_weight_kernel(gq, xcl, offs, ctx[8], 8 * lo, min(8 * hi, ctx[1]), dwt)


def _batch_last_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (BATCH_LAST,), np.int64)
    by_item(_batch_last_run, ctx, a >> n, m, ctx[BATCH_LAST - 1])


def _packs_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (PACKS,), np.int64)
    by_item(_packs_run, ctx, a >> n, m, ctx[PACKS - 1])


def _flat_packs_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (FLAT_PACKS,), np.int64)
    by_item(_flat_packs_run, ctx, a >> n, m, ctx[FLAT_PACKS - 1])


def _flat_columns_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (FLAT_COLUMNS,), np.int64)
    by_item(_flat_columns_run, ctx, a >> n, m, ctx[FLAT_COLUMNS - 1])


def _flat_gather_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (FLAT_GATHER,), np.int64)
    by_item(_flat_gather_run, ctx, a >> n, m, ctx[FLAT_GATHER - 1])


def _flat_conv_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (FLAT_CONV,), np.int64)
    by_item(_flat_conv_run, ctx, a >> n, m, ctx[FLAT_CONV - 1])


def _tile_weight_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (TILE_WEIGHT,), np.int64)
    by_item(_tile_weight_run, ctx, a >> n, m, ctx[TILE_WEIGHT - 1])


def _job(kind):
    """The compiled job of kind ("batch_last", "packs", "flat_packs", "flat_columns",
    "flat_gather", "flat_conv" or "tile_weight")."""
    if kind not in _jobs:
        from . import conv_shift as KS
        kernels = dict(batch_columns=KB.columns, batch_scatter_add=KB.scatter_add,
                       batch_pack=KB.pack, batch_unpack=KB.unpack,
                       flat_pack_images=KF.pack_images, flat_unpack_images=KF.unpack_images,
                       shift_columns=KS.flat_columns, shift_gather=KS.flat_gather,
                       flat_conv_kernel=KF.flat_conv, tile_conv_kernel=KT.tile_conv,
                       tile_weight_kernel=KT.tile_weight, pack_last_images=KT.pack_last)
        _jobs[kind] = BT.build_job(
            globals(), f"_{kind}_job", {k: v.dispatcher() for k, v in kernels.items()},
            ("_batch_last_run", "_packs_run", "_flat_packs_run", "_flat_columns_run",
             "_flat_gather_run", "_flat_conv_run", "_tile_weight_run"),
            ("conv_threads.py", "conv_batch_last.py", "conv_flat.py", "conv_shift.py",
             "conv_tile.py", "register_tile.py"))
    return _jobs[kind]


# -- the kernels ------------------------------------------------------------------------------
def _item(a):
    return a.dtype.itemsize


def _batch_last(xp, geo, r0, r1, cols, kind):
    ctx = np.array([xp.ctypes.data, *xp.shape, geo.ctypes.data, cols.ctypes.data,
                    cols.shape[1], r0, r1, kind, _item(xp)], np.int64)
    BT.split(_job("batch_last"), xp.shape[0], ctx)


def columns(xp, geo, r0, r1, cols):
    """conv_batch_last.columns, its channels split over the pool when that pays."""
    work = cols.shape[0] * (r1 - r0) * geo[11] * xp.shape[4]
    if not _splits(work, (xp, geo, cols)):
        return KB.columns(xp, geo, r0, r1, cols)
    _batch_last(xp, geo, r0, r1, cols, 0)


def scatter_add(cols, geo, r0, r1, xp):
    """conv_batch_last.scatter_add, its channels split over the pool when that pays."""
    work = cols.shape[0] * (r1 - r0) * geo[11] * xp.shape[4]
    if not _splits(work, (xp, geo, cols)):
        return KB.scatter_add(cols, geo, r0, r1, xp)
    _batch_last(xp, geo, r0, r1, cols, 1)


def _packs(images, xp, lo, bias, has_bias, kind):
    ctx = np.array([images.ctypes.data, *images.shape, xp.ctypes.data, *xp.shape, lo.ctypes.data,
                    bias.ctypes.data, int(has_bias), kind, _item(xp)], np.int64)
    BT.split(_job("packs"), xp.shape[0], ctx)


def pack(x, lo, xp):
    """conv_batch_last.pack over all channels, split over the pool when that pays."""
    if not _splits(xp.size, (x, lo, xp)):
        return KB.pack(x, lo, xp, 0, xp.shape[0])
    _packs(x, xp, lo, xp, False, 0)


def unpack(xp, lo, bias, has_bias, y):
    """conv_batch_last.unpack over all channels, split over the pool when that pays."""
    if not _splits(y.size, (xp, lo, bias, y)):
        return KB.unpack(xp, lo, bias, has_bias, y, 0, xp.shape[0])
    _packs(y, xp, lo, bias, has_bias, 1)


def _flat_packs(images, flat, before_or_bias, ext, has_bias, start, count, kind):
    ctx = np.array([images.ctypes.data, *images.shape, flat.ctypes.data, *flat.shape,
                    before_or_bias.ctypes.data, ext.ctypes.data, int(has_bias), start, kind,
                    _item(flat)], np.int64)
    BT.split(_job("flat_packs"), count, ctx)


def flat_pack(x, before, ext, xf):
    """conv_flat.flat_pack, its images split over the pool when that pays."""
    if x.shape[0] < 2 or not _splits(xf.size, (x, before, ext, xf)):
        return KF.pack_images(x, before, ext, 0, x.shape[0], xf)
    _flat_packs(x, xf, before, ext, False, 0, x.shape[0], 0)


def pack_last(x, before, ext, xcl):
    """conv_tile.pack_last over all images, split over the pool when that pays."""
    if x.shape[0] < 2 or not _splits(xcl.size, (x, before, ext, xcl)):
        return KT.pack_last(x, before, ext, 0, x.shape[0], xcl)
    _flat_packs(x, xcl, before, ext, False, 0, x.shape[0], 2)


def unpack_images(yf, ext, bias, has_bias, start, stop, y):
    """conv_flat.unpack_images, its images split over the pool when that pays."""
    work = (stop - start) * y[0].size
    if stop - start < 2 or not _splits(work, (yf, ext, bias, y)):
        return KF.unpack_images(yf, ext, bias, has_bias, start, stop, y)
    _flat_packs(y, yf, bias, ext, has_bias, start, stop - start, 1)


def flat_columns(xf, offs, m0, start, stop, cols):
    """conv_shift.flat_columns, its channels split over the pool when that pays."""
    from . import conv_shift as KS
    if not _splits(cols.shape[0] * (stop - start), (xf, offs, cols)):
        return KS.flat_columns(xf, offs, m0, start, stop, cols)
    ctx = np.array([xf.ctypes.data, *xf.shape, offs.ctypes.data, offs.shape[0],
                    cols.ctypes.data, cols.shape[1], m0, start, stop, _item(xf)], np.int64)
    BT.split(_job("flat_columns"), xf.shape[0], ctx)


def flat_gather(z, offs, gaps, ext, z0, bias, start, stop, dx):
    """conv_shift.flat_gather, its images (or one image's channels) split over the pool when
    that pays."""
    from . import conv_shift as KS
    work = (stop - start) * dx.shape[1] * int(np.prod(ext)) * offs.shape[0]
    arrays = (z, offs, gaps, ext, bias, dx)
    if stop - start < 1 or not _splits(work, arrays):
        return KS.flat_gather(z, offs, gaps, ext, z0, bias, start, stop, dx)
    by_channel = stop - start == 1
    ctx = np.array([z.ctypes.data, *z.shape, offs.ctypes.data, offs.shape[0],
                    gaps.ctypes.data, ext.ctypes.data, bias.ctypes.data, bias.shape[0],
                    dx.ctypes.data, *dx.shape, z0, start, int(by_channel), _item(z)], np.int64)
    BT.split(_job("flat_gather"), dx.shape[1] if by_channel else stop - start, ctx)


def flat_conv(xf, w, offs, groups, total, yf):
    """conv_flat.flat_conv over positions [0, total), ranges of whole blocks split over the
    pool when that pays (w: (O, C/G, T); yf's rows 64-byte aligned, as flat_conv wants)."""
    _flat_conv(xf, w, offs, groups, total, yf, False)


def tile_conv(xf, w, offs, groups, total, yf):
    """conv_tile.tile_conv over positions [0, total), ranges of whole tiles split (xf and
    yf with room for the last tile: conv_tile.room)."""
    _flat_conv(xf, w, offs, groups, total, yf, True)


def _flat_conv(xf, w, offs, groups, total, yf, tiles):
    # the split's unit: the flat loop's blocks (its L1 blocking), the tiles' width (equal
    # halves: 64 images on 15x15, 14400 positions, took 8192 and 6208 in blocks of 2048)
    unit = KT.WIDTH if tiles else KF.BLOCK
    units = -(-total // unit)
    work = total * w.size                                  # multiply-adds
    if units < 2 or not _splits(work, (xf, w, offs, yf)):
        kernel = KT.tile_conv if tiles else KF.flat_conv
        return kernel(xf, w, offs, groups, 0, total, yf)
    ctx = np.array([xf.ctypes.data, *xf.shape, w.ctypes.data, *w.shape, offs.ctypes.data,
                    offs.shape[0], groups, yf.ctypes.data, *yf.shape, total, int(tiles), unit,
                    _item(xf)], np.int64)
    BT.split(_job("flat_conv"), units, ctx)


def tile_weight(gq, xcl, offs, groups, dwt):
    """conv_tile.tile_weight over all output channels, runs of 8 of them split over the pool
    when that pays (dwt: (T, O, C/G), zeros on entry; gq: rows of unit stride, C-contiguous or
    the leading columns of a C-contiguous array)."""
    n_out = gq.shape[0]
    blocks = -(-n_out // 8)
    work = gq.size * dwt.shape[0] * dwt.shape[2]                  # multiply-adds
    row = gq.strides[0] // gq.itemsize
    if blocks < 2 or gq.strides[1] != gq.itemsize or not _splits(work, (xcl, offs, dwt)):
        return KT.tile_weight(gq, xcl, offs, groups, 0, n_out, dwt)
    ctx = np.array([gq.ctypes.data, *gq.shape, xcl.ctypes.data, *xcl.shape, offs.ctypes.data,
                    offs.shape[0], groups, dwt.ctypes.data, *dwt.shape, row, _item(gq)],
                   np.int64)
    BT.split(_job("tile_weight"), blocks, ctx)
