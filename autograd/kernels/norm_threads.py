"""The normalisation kernels split over OpenBLAS's threads (kernels/blas_threads.py).

    column_norm_forward(x, w, b, eps, y, mean, rstd, var, acc)
    column_norm_backward(x, g, w, mean, rstd, dx, dw, db, acc1, acc2)
                     batch norm: a channel's statistics, output and gradients depend only on
                     its own columns, so each thread runs a range of channels (disjoint
                     writes: bitwise the results of one thread)
    row_norm_forward(x, w, b, eps, y, mean, rstd, var)
    row_norm_backward(x, g, w, mean, rstd, dx, dw, db)
                     layer, group and instance norm: each thread runs whole samples (G rows,
                     so that row r still takes w[r % G]); y, mean, rstd, var and dx bitwise
                     those of one thread; dw and db (float64) summed per thread, then added:
                     equal to rounding

as kernels/normalization.py's (the column kernels without their channel range). Serial when
turned off (TAPEGRAD_BLAS_THREADS=0), when the pool has one thread, an array is not
C-contiguous, or x has fewer than MIN_ELEMENTS (ROW_MIN_ELEMENTS) elements.

The jobs read a context of array addresses: column forward x, w, b, eps (a float64 array of
one), y, mean, rstd, var, acc; column backward x, g, w, mean, rstd, dx, dw, db, acc1, acc2;
then N, C*M, C and the item size. Row forward x, w, b, eps, y, mean, rstd, var; row backward
x, g, w, mean, rstd, dx, dw_parts, db_parts ((P, G, J) float64, one per part); then R, K, G,
P (parts), the item size and J (w: (G, J)).
"""
import numpy as np

from . import blas_threads as BT
from . import normalization as K

__all__ = ["column_norm_forward", "column_norm_backward", "row_norm_forward",
           "row_norm_backward", "MIN_ELEMENTS", "ROW_MIN_ELEMENTS"]

MIN_ELEMENTS = 1 << 16      # elements of x below which one thread (the column kernels)
ROW_MIN_ELEMENTS = 1 << 18  # the same for the row kernels: group_norm on (32, 16, 16, 16)
                            # took 125 us on one thread, 131 split; layer_norm on
                            # (32, 64, 128) 290 -> 251 us
FORCE = None                # True / False: split / never (tests); None: BT.ENABLED, MIN_ELEMENTS
FORWARD_ARRAYS, BACKWARD_ARRAYS = 9, 10
_jobs = {}
# bound by _job() before the jobs compile (numba is not imported until then)
carray = _ptr = by_item = forward_kernel = backward_kernel = None
row_forward_kernel = row_backward_kernel = None


def _splits(x, arrays, same, least=MIN_ELEMENTS):
    """Whether to split: enabled, large enough, every array C-contiguous, and `same` (the
    arrays the jobs read in x's dtype) of x's dtype (a float64 weight beside float32 data
    runs the serial kernel, which computes in the mixed types)."""
    if any(a.dtype != x.dtype for a in same):
        return False
    return BT.worth_splitting(FORCE, x.size, least, arrays)


def _context(arrays, x, channels):
    return np.array([a.ctypes.data for a in arrays] + [x.shape[0], x.shape[1], channels,
                                                       x.dtype.itemsize], np.int64)


# -- the jobs: plain functions here, compiled on first use (_job) -------------------------
def _forward_run(ctx, lo, hi, dtype):
    n, width, channels = ctx[9], ctx[10], ctx[11]
    forward_kernel(carray(_ptr(ctx[0]), (n, width), dtype),
                   carray(_ptr(ctx[1]), (channels,), dtype),
                   carray(_ptr(ctx[2]), (channels,), dtype),
                   carray(_ptr(ctx[3]), (1,), np.float64)[0],
                   carray(_ptr(ctx[4]), (n, width), dtype),
                   carray(_ptr(ctx[5]), (channels,), dtype),
                   carray(_ptr(ctx[6]), (channels,), dtype),
                   carray(_ptr(ctx[7]), (channels,), np.float64),
                   carray(_ptr(ctx[8]), (width,), np.float64), lo, hi)


def _backward_run(ctx, lo, hi, dtype):
    n, width, channels = ctx[10], ctx[11], ctx[12]
    backward_kernel(carray(_ptr(ctx[0]), (n, width), dtype),
                    carray(_ptr(ctx[1]), (n, width), dtype),
                    carray(_ptr(ctx[2]), (channels,), dtype),
                    carray(_ptr(ctx[3]), (channels,), dtype),
                    carray(_ptr(ctx[4]), (channels,), dtype),
                    carray(_ptr(ctx[5]), (n, width), dtype),
                    carray(_ptr(ctx[6]), (channels,), np.float64),
                    carray(_ptr(ctx[7]), (channels,), np.float64),
                    carray(_ptr(ctx[8]), (width,), np.float64),
                    carray(_ptr(ctx[9]), (width,), np.float64), lo, hi)


def _row_forward_run(ctx, lo, hi, dtype):
    """Samples lo <= s < hi: rows [lo*G, hi*G)."""
    k_len, groups, item, runs = ctx[9], ctx[10], ctx[12], ctx[13]
    r0, count = lo * groups, (hi - lo) * groups
    row_forward_kernel(carray(_ptr(ctx[0] + r0 * k_len * item), (count, k_len), dtype),
                       carray(_ptr(ctx[1]), (groups, runs), dtype),
                       carray(_ptr(ctx[2]), (groups, runs), dtype),
                       carray(_ptr(ctx[3]), (1,), np.float64)[0],
                       carray(_ptr(ctx[4] + r0 * k_len * item), (count, k_len), dtype),
                       carray(_ptr(ctx[5] + r0 * item), (count,), dtype),
                       carray(_ptr(ctx[6] + r0 * item), (count,), dtype),
                       carray(_ptr(ctx[7] + r0 * 8), (count,), np.float64))


def _row_backward_run(ctx, lo, hi, dtype):
    """Parts lo <= p < hi, part p: samples [p*S/P, (p+1)*S/P) (rounded up), into
    dw_parts[p] and db_parts[p]."""
    rows, k_len, groups, parts, item = ctx[8], ctx[9], ctx[10], ctx[11], ctx[12]
    runs = ctx[13]
    samples = rows // groups
    per = (samples + parts - 1) // parts
    for part in range(lo, hi):
        s0, s1 = min(samples, part * per), min(samples, (part + 1) * per)
        if s1 <= s0:
            continue
        r0, count = s0 * groups, (s1 - s0) * groups
        at, plane = r0 * k_len * item, groups * runs * 8
        row_backward_kernel(carray(_ptr(ctx[0] + at), (count, k_len), dtype),
                            carray(_ptr(ctx[1] + at), (count, k_len), dtype),
                            carray(_ptr(ctx[2]), (groups, runs), dtype),
                            carray(_ptr(ctx[3] + r0 * item), (count,), dtype),
                            carray(_ptr(ctx[4] + r0 * item), (count,), dtype),
                            carray(_ptr(ctx[5] + at), (count, k_len), dtype),
                            carray(_ptr(ctx[6] + part * plane), (groups, runs), np.float64),
                            carray(_ptr(ctx[7] + part * plane), (groups, runs), np.float64))


def _row_forward_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (14,), np.int64)
    by_item(_row_forward_run, ctx, a >> n, m, ctx[12])


def _row_backward_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (14,), np.int64)
    by_item(_row_backward_run, ctx, a >> n, m, ctx[12])


def _forward_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (FORWARD_ARRAYS + 4,), np.int64)
    by_item(_forward_run, ctx, a >> n, m, ctx[FORWARD_ARRAYS + 3])


def _backward_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (BACKWARD_ARRAYS + 4,), np.int64)
    by_item(_backward_run, ctx, a >> n, m, ctx[BACKWARD_ARRAYS + 3])


def _job(kind):
    """The compiled job of kind ("forward", "backward", "row_forward" or "row_backward")."""
    if kind not in _jobs:
        _jobs[kind] = BT.build_job(
            globals(), f"_{kind}_job",
            dict(forward_kernel=K.column_norm_forward.dispatcher(),
                 backward_kernel=K.column_norm_backward.dispatcher(),
                 row_forward_kernel=K.row_norm_forward.dispatcher(),
                 row_backward_kernel=K.row_norm_backward.dispatcher()),
            ("_forward_run", "_backward_run", "_row_forward_run", "_row_backward_run"),
            ("norm_threads.py", "normalization.py"))
    return _jobs[kind]


def column_norm_forward(x, w, b, eps, y, mean, rstd, var, acc):
    """normalization.column_norm_forward over all channels, split over the pool when that
    pays."""
    channels = w.shape[0]
    arrays = (x, w, b, np.array([eps], np.float64), y, mean, rstd, var, acc)
    if not _splits(x, arrays, (w, b, y, mean, rstd)):
        return K.column_norm_forward(x, w, b, eps, y, mean, rstd, var, acc, 0, channels)
    BT.split(_job("forward"), channels, _context(arrays, x, channels))


def column_norm_backward(x, g, w, mean, rstd, dx, dw, db, acc1, acc2):
    """normalization.column_norm_backward over all channels, split over the pool when that
    pays."""
    channels = w.shape[0]
    arrays = (x, g, w, mean, rstd, dx, dw, db, acc1, acc2)
    if not _splits(x, arrays, (g, w, mean, rstd, dx)):
        return K.column_norm_backward(x, g, w, mean, rstd, dx, dw, db, acc1, acc2, 0,
                                      channels)
    BT.split(_job("backward"), channels, _context(arrays, x, channels))


def _row_context(arrays, x, w, parts):
    return np.array([a.ctypes.data for a in arrays] + [x.shape[0], x.shape[1], w.shape[0],
                                                       parts, x.dtype.itemsize, w.shape[1]],
                    np.int64)


def row_norm_forward(x, w, b, eps, y, mean, rstd, var):
    """normalization.row_norm_forward, its samples split over the pool when that pays."""
    groups = w.shape[0]
    arrays = (x, w, b, np.array([eps], np.float64), y, mean, rstd, var)
    if x.shape[0] // groups < 2 or not _splits(x, arrays, (w, b, y, mean, rstd),
                                               ROW_MIN_ELEMENTS):
        return K.row_norm_forward(x, w, b, eps, y, mean, rstd, var)
    BT.split(_job("row_forward"), x.shape[0] // groups, _row_context(arrays, x, w, 0))


def row_norm_backward(x, g, w, mean, rstd, dx, dw, db):
    """normalization.row_norm_backward (dw, db accumulated), its samples split over the pool
    in one part per thread when that pays."""
    groups = w.shape[0]
    arrays = (x, g, w, mean, rstd, dx, dw, db)
    if x.shape[0] // groups < 2 or not _splits(x, arrays, (g, w, mean, rstd, dx),
                                               ROW_MIN_ELEMENTS):
        return K.row_norm_backward(x, g, w, mean, rstd, dx, dw, db)
    parts = min(BT.threads(), x.shape[0] // groups)
    dw_parts, db_parts = np.zeros((2, parts) + dw.shape)
    arrays = arrays[:6] + (dw_parts, db_parts)
    BT.split(_job("row_backward"), parts, _row_context(arrays, x, w, parts))
    dw += dw_parts.sum(0)
    db += db_parts.sum(0)
