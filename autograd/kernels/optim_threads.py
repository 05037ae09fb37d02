"""The fused optimizer updates (kernels/optim.py) with a parameter's elements split over
OpenBLAS's threads (kernels/blas_threads.py): each thread updates a contiguous range, so the
results are bitwise those of one thread. An update is memory-bound (five streams of the
parameter's size for SGD with momentum) and a network's large weights dominate the step: on
ResNet-18's 11.2 M parameters, SGD with momentum took 6.2 ms in numpy's passes and 3.5 ms
in one fused pass here.

    adam_update(param, grad, exp_avg, exp_avg_sq, c, flags)     optim.adam_update
    sgd_update(param, grad, buf, c, flags)                      optim.sgd_update

Serial when turned off (TAPEGRAD_BLAS_THREADS=0), when the pool has one thread, an array is
not C-contiguous, or below MIN_ELEMENTS elements. The job's context: 0 (Adam) or 1 (SGD),
the item size, the lengths of c and flags, then the addresses of the four state arrays (SGD
passes its buffer twice), c and flags.
"""
import numpy as np

from . import blas_threads as BT
from . import optim as K

__all__ = ["adam_update", "sgd_update", "MIN_ELEMENTS"]

MIN_ELEMENTS = 1 << 16
FORCE = None                # True / False: split / never (tests); None: BT.ENABLED, MIN_ELEMENTS
_jobs = {}
# bound by _job() before the job compiles (numba is not imported until then)
carray = _ptr = by_item = adam_kernel = sgd_kernel = None


def _run(ctx, lo, hi, dtype):
    """Elements lo <= i < hi of the 1-d arrays."""
    at, count = lo * ctx[1], hi - lo
    param = carray(_ptr(ctx[4] + at), (count,), dtype)
    grad = carray(_ptr(ctx[5] + at), (count,), dtype)
    first = carray(_ptr(ctx[6] + at), (count,), dtype)
    c = carray(_ptr(ctx[8]), (ctx[2],), dtype)
    flags = carray(_ptr(ctx[9]), (ctx[3],), np.int64)
    if ctx[0] == 0:
        adam_kernel(param, grad, first, carray(_ptr(ctx[7] + at), (count,), dtype), c, flags)
    else:
        sgd_kernel(param, grad, first, c, flags)


def _update_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (10,), np.int64)
    by_item(_run, ctx, a >> n, m, ctx[1])


def _job():
    if not _jobs:
        _jobs["update"] = BT.build_job(
            globals(), "_update_job", dict(adam_kernel=K.adam_update.dispatcher(),
                                           sgd_kernel=K.sgd_update.dispatcher()),
            ("_run",), ("optim_threads.py", "optim.py"))
    return _jobs["update"]


def _split(kind, arrays, c, flags):
    """The update of `kind` over the elements of `arrays` (param, grad, two state arrays)."""
    ctx = np.array([kind, arrays[0].dtype.itemsize, c.shape[0], flags.shape[0]]
                   + [a.ctypes.data for a in arrays] + [c.ctypes.data, flags.ctypes.data],
                   np.int64)
    BT.split(_job(), arrays[0].shape[0], ctx)


def _splits(arrays):
    n = arrays[0].shape[0]
    return n > 1 and BT.worth_splitting(FORCE, n, MIN_ELEMENTS, arrays)


def adam_update(param, grad, exp_avg, exp_avg_sq, c, flags):
    """optim.adam_update; the four arrays: (n,) C-contiguous, one float dtype."""
    arrays = (param, grad, exp_avg, exp_avg_sq)
    if not _splits(arrays):
        return K.adam_update(*arrays, c, flags)
    _split(0, arrays, c, flags)


def sgd_update(param, grad, buf, c, flags):
    """optim.sgd_update; param, grad, buf: (n,) C-contiguous, one float dtype (buf any such
    array when flags[0] is 0: not touched then)."""
    if not flags[0]:
        buf = param
    if not _splits((param, grad, buf)):
        return K.sgd_update(param, grad, buf, c, flags)
    _split(1, (param, grad, buf, buf), c, flags)
