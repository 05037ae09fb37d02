"""ReLU's kernels with their elements split over OpenBLAS's threads (kernels/blas_threads.py):
elementwise, so each thread runs the kernel on a contiguous range of elements (the results
are bitwise those of one thread).

    relu(x, y)                   activation.relu
    relu_mask(x, y, dead)        activation.relu_mask
    relu_backward(g, dead, dx)   activation.relu_backward

Serial when turned off (TAPEGRAD_BLAS_THREADS=0), when the pool has one thread, an array is
not C-contiguous, or for fewer than MIN_ELEMENTS elements. The job's context: the addresses
of the three arrays (relu passes y twice), then 0 (relu), 1 (relu_mask) or 2
(relu_backward), the item size.
"""
import os

import numpy as np

from . import activation as K
from . import blas_threads as BT
from ._jit import flush_stale_cache

__all__ = ["relu", "relu_mask", "relu_backward", "MIN_ELEMENTS"]

MIN_ELEMENTS = 1 << 17
FORCE = None                # True / False: split / never (tests); None: BT.ENABLED, MIN_ELEMENTS
_job_compiled = []
# bound by _job() before the job compiles (numba is not imported until then)
carray = _ptr = relu_kernel = relu_mask_kernel = relu_backward_kernel = None


def _splits(n, arrays):
    enabled = FORCE if FORCE is not None else BT.ENABLED and n >= MIN_ELEMENTS
    return enabled and n > 1 and BT.threads() > 1 and \
        all(a.flags.c_contiguous for a in arrays)


def _run(ctx, lo, hi, dtype):
    """Elements lo <= i < hi (the arrays are flat and C-contiguous)."""
    item, count = ctx[4], hi - lo
    first = carray(_ptr(ctx[0] + lo * item), (count,), dtype)
    if ctx[3] == 0:
        relu_kernel(first, carray(_ptr(ctx[1] + lo * item), (count,), dtype))
    elif ctx[3] == 1:
        relu_mask_kernel(first, carray(_ptr(ctx[1] + lo * item), (count,), dtype),
                         carray(_ptr(ctx[2] + lo), (count,), np.bool_))
    else:
        relu_backward_kernel(first, carray(_ptr(ctx[1] + lo), (count,), np.bool_),
                             carray(_ptr(ctx[2] + lo * item), (count,), dtype))


def _relu_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (5,), np.int64)
    lo = a >> n
    if ctx[4] == 4:
        _run(ctx, lo, lo + m, np.float32)
    else:
        _run(ctx, lo, lo + m, np.float64)


def _job():
    """The compiled job, from numba's disk cache when it was compiled since this file or
    activation.py last changed."""
    if not _job_compiled:
        from ._jit import _numba
        numba = _numba()
        here = globals()
        here.update(carray=numba.carray, _ptr=BT.address_pointer(),
                    relu_kernel=K.relu.dispatcher(), relu_mask_kernel=K.relu_mask.dispatcher(),
                    relu_backward_kernel=K.relu_backward.dispatcher())
        if not hasattr(here["_run"], "py_func"):
            here["_run"] = numba.njit(inline="always", error_model="numpy")(here["_run"])
        job = BT.compile_job(_relu_job)
        folder = os.path.dirname(os.path.abspath(__file__))
        flush_stale_cache(getattr(job, "_cache", None), f"{__name__}._relu_job",
                          [os.path.join(folder, name)
                           for name in ("activation_threads.py", "activation.py")])
        job.compile()
        _job_compiled.append(job)
    return _job_compiled[0]


def _split(first, second, third, kind, item):
    ctx = np.array([first.ctypes.data, second.ctypes.data, third.ctypes.data, kind, item],
                   np.int64)
    BT.split(_job(), first.shape[0], ctx)


def relu(x, y):
    """activation.relu; x, y: (n,) C-contiguous."""
    if not _splits(x.shape[0], (x, y)):
        return K.relu(x, y)
    _split(x, y, y, 0, x.dtype.itemsize)


def relu_mask(x, y, dead):
    """activation.relu_mask; x, y, dead: (n,) C-contiguous."""
    if not _splits(x.shape[0], (x, y, dead)):
        return K.relu_mask(x, y, dead)
    _split(x, y, dead, 1, x.dtype.itemsize)


def relu_backward(g, dead, dx):
    """activation.relu_backward; g, dead, dx: (n,) C-contiguous."""
    if not _splits(g.shape[0], (g, dead, dx)):
        return K.relu_backward(g, dead, dx)
    _split(g, dead, dx, 2, g.dtype.itemsize)
