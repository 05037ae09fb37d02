"""ReLU's and softmax's kernels with their elements (or rows) split over OpenBLAS's threads
(kernels/blas_threads.py): each thread runs the kernel on a contiguous range of elements
(of rows), so the results are bitwise those of one thread.

    relu(x, y)                   activation.relu
    relu_mask(x, y, dead)        activation.relu_mask
    relu_backward(g, dead, dx)   activation.relu_backward
    gelu(x, y, tanh)             activation.gelu (float32)
    gelu_backward(x, g, dx, tanh)
                                 activation.gelu_backward (float32)
    softmax_rows(kernel, *arrays)
                                 kernel(*arrays) for a kernel of softmax.py on (R, K) float32
                                 rows (the last array the output): SOFTMAX_KERNELS

Serial when turned off (TAPEGRAD_BLAS_THREADS=0), when the pool has one thread, an array is
not C-contiguous, or for fewer than MIN_ELEMENTS elements. The ReLU job's context: the
addresses of the three arrays (relu passes y twice), then 0 (relu), 1 (relu_mask) or 2
(relu_backward), the item size; the GELU job's: the three addresses, 0 (gelu) or 1
(gelu_backward), tanh; the softmax job's: the addresses of the three arrays (the
forward kernels take two), R, K, the kernel's index in SOFTMAX_KERNELS.
"""
import numpy as np

from . import activation as K
from . import blas_threads as BT

__all__ = ["relu", "relu_mask", "relu_backward", "gelu", "gelu_backward", "softmax_rows",
           "SOFTMAX_KERNELS", "MIN_ELEMENTS"]

SOFTMAX_KERNELS = ("softmax_forward", "log_softmax_forward", "softmax_backward",
                   "log_softmax_backward")

MIN_ELEMENTS = 1 << 17
FORCE = None                # True / False: split / never (tests); None: BT.ENABLED, MIN_ELEMENTS
_jobs = {}
# bound by _job() before the jobs compile (numba is not imported until then)
carray = _ptr = by_item = relu_kernel = relu_mask_kernel = relu_backward_kernel = None
gelu_kernel = gelu_backward_kernel = None
softmax_forward = log_softmax_forward = softmax_backward = log_softmax_backward = None


def _splits(n, arrays):
    return n > 1 and BT.worth_splitting(FORCE, n, MIN_ELEMENTS, arrays)


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
    by_item(_run, ctx, a >> n, m, ctx[4])


def _gelu_run(ctx, lo, hi):
    """Elements lo <= i < hi of the float32 arrays."""
    at, count, tanh = lo * 4, hi - lo, ctx[4] != 0
    x = carray(_ptr(ctx[0] + at), (count,), np.float32)
    second = carray(_ptr(ctx[1] + at), (count,), np.float32)
    if ctx[3] == 0:
        gelu_kernel(x, second, tanh)
    else:
        gelu_backward_kernel(x, second, carray(_ptr(ctx[2] + at), (count,), np.float32), tanh)


def _gelu_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (5,), np.int64)
    lo = a >> n
    _gelu_run(ctx, lo, lo + m)


def _softmax_run(ctx, lo, hi):
    """Rows lo <= r < hi of the (R, K) float32 arrays."""
    k_len, kind = ctx[4], ctx[5]
    at = lo * k_len * 4
    first = carray(_ptr(ctx[0] + at), (hi - lo, k_len), np.float32)
    second = carray(_ptr(ctx[1] + at), (hi - lo, k_len), np.float32)
    if kind == 0:
        softmax_forward(first, second)
    elif kind == 1:
        log_softmax_forward(first, second)
    else:
        third = carray(_ptr(ctx[2] + at), (hi - lo, k_len), np.float32)
        if kind == 2:
            softmax_backward(first, second, third)
        else:
            log_softmax_backward(first, second, third)


def _softmax_job(m, n, k, alpha, a, lda, b, ldb, c, ldc, sb):
    ctx = carray(c, (6,), np.int64)
    lo = a >> n
    _softmax_run(ctx, lo, lo + m)


def _job(kind):
    """The compiled job of kind ("relu", "gelu" or "softmax")."""
    if kind not in _jobs:
        from . import softmax as S
        kernels = dict(relu_kernel=K.relu, relu_mask_kernel=K.relu_mask,
                       relu_backward_kernel=K.relu_backward, gelu_kernel=K.gelu,
                       gelu_backward_kernel=K.gelu_backward,
                       **{name: getattr(S, name) for name in SOFTMAX_KERNELS})
        _jobs[kind] = BT.build_job(
            globals(), f"_{kind}_job", {k: v.dispatcher() for k, v in kernels.items()},
            ("_run", "_gelu_run", "_softmax_run"),
            ("activation_threads.py", "activation.py", "softmax.py"))
    return _jobs[kind]


def _split(first, second, third, kind, item):
    ctx = np.array([first.ctypes.data, second.ctypes.data, third.ctypes.data, kind, item],
                   np.int64)
    BT.split(_job("relu"), first.shape[0], ctx)


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


def gelu(x, y, tanh):
    """activation.gelu; x, y: (n,) float32 C-contiguous."""
    if not _splits(x.shape[0], (x, y)):
        return K.gelu(x, y, tanh)
    ctx = np.array([x.ctypes.data, y.ctypes.data, 0, 0, int(tanh)], np.int64)
    BT.split(_job("gelu"), x.shape[0], ctx)


def gelu_backward(x, g, dx, tanh):
    """activation.gelu_backward; x, g, dx: (n,) float32 C-contiguous."""
    if not _splits(x.shape[0], (x, g, dx)):
        return K.gelu_backward(x, g, dx, tanh)
    ctx = np.array([x.ctypes.data, g.ctypes.data, dx.ctypes.data, 1, int(tanh)], np.int64)
    BT.split(_job("gelu"), x.shape[0], ctx)


def softmax_rows(kernel, *arrays):
    """kernel(*arrays) (a kernel of softmax.py, named in SOFTMAX_KERNELS) on (R, K) float32
    C-contiguous arrays, the last the output, its rows split over the pool when that pays."""
    rows = arrays[0].shape[0]
    name = kernel.__name__
    if rows < 2 or name not in SOFTMAX_KERNELS or not _splits(arrays[0].size, arrays):
        return kernel(*arrays)
    addresses = [a.ctypes.data for a in arrays] + [0] * (3 - len(arrays))
    ctx = np.array(addresses + [rows, arrays[0].shape[1], SOFTMAX_KERNELS.index(name)],
                   np.int64)
    BT.split(_job("softmax"), rows, ctx)
