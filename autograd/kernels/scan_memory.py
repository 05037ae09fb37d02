"""Memory helpers of the scan kernels (scan.py, scan_lstm.py, scan_gru.py), compiled with
scan_math's helpers (scan_math.scan_jit binds their numba versions here and in the kernel
modules before a kernel compiles; until then they are plain Python).

    copy_rows(src, dst)            dst[:] = src, one flat loop
    aligned_copy(a)                a on a 64-byte boundary (W_hh for the backward)
    aligned_transpose(a)           a^T, new, on a 64-byte boundary (W^T for the forward)
    aligned_empty(size, like)      an uninitialised 1-d array on a 64-byte boundary
    unowned(a)                     a view of a without reference counting (step loops)
"""
import numpy as np

__all__ = ["copy_rows", "aligned_copy", "aligned_transpose", "aligned_empty", "unowned"]

# numba.carray and an int -> void pointer intrinsic (blas_threads.address_pointer), bound by
# scan_math._compiled_helpers: compiled code only
carray = address_pointer = None


def aligned_copy(a):
    """a (C-contiguous) on a 64-byte boundary: itself when it starts on one, else a copy.
    The backward's per-step product loads W_hh's rows (two vectors each at H = 32) a vector
    at a time: misaligned, each load spans two cache lines (LSTM(32, 32) on (100, 1, 32):
    backward scan 18.0 -> 14.7 us)."""
    if a.ctypes.data % 64 == 0:
        return a
    out = aligned_empty(a.size, a).reshape(a.shape)
    copy_rows(a, out)
    return out


def aligned_transpose(a):
    """a^T for a: (n, k) of any strides, as a new C-contiguous (k, n) array on a 64-byte
    boundary: the forward kernels' W^T, whose rows the per-step product loads a vector at a
    time (LSTM(32, 32) on (100, 1, 32): forward scan 30.3 -> 28.9 us aligned). Made here,
    8 rows of a at a time (8 contiguous stores per column): ~0.7 us at (128, 32), against
    1.25 us for numpy's copy and the call."""
    n, k = a.shape
    out = aligned_empty(a.size, a).reshape((k, n))
    i0 = 0
    while n - i0 >= 8:
        for j in range(k):
            for i in range(8):
                out[j, i0 + i] = a[i0 + i, j]
        i0 += 8
    for j in range(k):
        for i in range(i0, n):
            out[j, i] = a[i, j]
    return out


def unowned(a):
    """A view of the C-contiguous array a that holds no reference to its memory (numba's
    carray of its address; else a ValueError). A step loop takes views of its arrays every
    step (rows, blocks, a step's rows); a view of an owned array increments and decrements
    its reference count with atomic instructions, each waiting for the pending stores:
    perf put 20 % of the LSTM's forward scan and 23 % of its backward there (LSTM(32, 32)
    on (100, 1, 32): forward 29.3 -> 24.3 us, backward 17.5 -> 11.7 us unowned). The
    step loops (the *_steps / *_rows helpers) make every array argument unowned on entry
    and allocate nothing: their caller holds the arrays for the call."""
    if not a.flags.c_contiguous:
        raise ValueError("unowned: expected a C-contiguous array")
    return carray(address_pointer(a.ctypes.data), a.shape, a.dtype)


def aligned_empty(size, like):
    """An uninitialised 1-d array of `size` elements of like's dtype starting on a 64-byte
    boundary (a view into a slightly larger one)."""
    buf = np.empty(size + 64 // like.itemsize, like.dtype)
    start = (-buf.ctypes.data) % 64 // like.itemsize
    return buf[start:start + size]


def copy_rows(src, dst):
    """dst[:] = src for C-contiguous arrays of the same shape (one flat loop)."""
    s = src.reshape(src.size)
    d = dst.reshape(dst.size)
    for i in range(s.size):
        d[i] = s[i]
