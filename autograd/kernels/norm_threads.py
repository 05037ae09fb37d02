"""Batch norm's column kernels with their channels split over OpenBLAS's threads
(kernels/blas_threads.py): a channel's statistics, output and gradients depend only on its
own columns, so each thread runs the kernel on a range of channels (disjoint writes: the
results are bitwise those of one thread).

    column_norm_forward(x, w, b, eps, y, mean, rstd, var, acc)
    column_norm_backward(x, g, w, mean, rstd, dx, dw, db, acc1, acc2)

as kernels/normalization.py's (without its channel range). Serial when turned off
(TAPEGRAD_BLAS_THREADS=0), when the pool has one thread, an array is not C-contiguous, or x
has fewer than MIN_ELEMENTS elements.

The jobs read a context of array addresses: forward x, w, b, eps (a float64 array of one),
y, mean, rstd, var, acc; backward x, g, w, mean, rstd, dx, dw, db, acc1, acc2; then N, C*M,
C and the item size.
"""
import numpy as np

from . import blas_threads as BT
from . import normalization as K

__all__ = ["column_norm_forward", "column_norm_backward", "MIN_ELEMENTS"]

MIN_ELEMENTS = 1 << 16      # elements of x below which one thread
FORCE = None                # True / False: split / never (tests); None: BT.ENABLED, MIN_ELEMENTS
FORWARD_ARRAYS, BACKWARD_ARRAYS = 9, 10
_jobs = {}
# bound by _job() before the jobs compile (numba is not imported until then)
carray = _ptr = forward_kernel = backward_kernel = None


def _splits(x, arrays):
    enabled = FORCE if FORCE is not None else BT.ENABLED and x.size >= MIN_ELEMENTS
    return enabled and BT.threads() > 1 and all(a.flags.c_contiguous for a in arrays)


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


def _forward_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (FORWARD_ARRAYS + 4,), np.int64)
    lo = a >> n
    if ctx[FORWARD_ARRAYS + 3] == 4:
        _forward_run(ctx, lo, lo + m, np.float32)
    else:
        _forward_run(ctx, lo, lo + m, np.float64)


def _backward_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (BACKWARD_ARRAYS + 4,), np.int64)
    lo = a >> n
    if ctx[BACKWARD_ARRAYS + 3] == 4:
        _backward_run(ctx, lo, lo + m, np.float32)
    else:
        _backward_run(ctx, lo, lo + m, np.float64)


def _job(kind):
    """The compiled job of kind ("forward" or "backward")."""
    if kind not in _jobs:
        _jobs[kind] = BT.build_job(
            globals(), f"_{kind}_job",
            dict(forward_kernel=K.column_norm_forward.dispatcher(),
                 backward_kernel=K.column_norm_backward.dispatcher()),
            ("_forward_run", "_backward_run"), ("norm_threads.py", "normalization.py"))
    return _jobs[kind]


def column_norm_forward(x, w, b, eps, y, mean, rstd, var, acc):
    """normalization.column_norm_forward over all channels, split over the pool when that
    pays."""
    channels = w.shape[0]
    arrays = (x, w, b, np.array([eps], np.float64), y, mean, rstd, var, acc)
    if not _splits(x, arrays):
        return K.column_norm_forward(x, w, b, eps, y, mean, rstd, var, acc, 0, channels)
    BT.split(_job("forward"), channels, _context(arrays, x, channels))


def column_norm_backward(x, g, w, mean, rstd, dx, dw, db, acc1, acc2):
    """normalization.column_norm_backward over all channels, split over the pool when that
    pays."""
    channels = w.shape[0]
    arrays = (x, g, w, mean, rstd, dx, dw, db, acc1, acc2)
    if not _splits(x, arrays):
        return K.column_norm_backward(x, g, w, mean, rstd, dx, dw, db, acc1, acc2, 0,
                                      channels)
    BT.split(_job("backward"), channels, _context(arrays, x, channels))
