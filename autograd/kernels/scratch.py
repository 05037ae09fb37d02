"""Reused scratch arrays (plain numpy, per thread), for kernels' temporaries that never
leave the op that takes them: the convolution paths' columns and packs, the recurrent scans'
backward pre-activation gradients. A fresh multi-megabyte array per call costs page faults
that rival the work it feeds (the heap's top is returned to the system and touched again:
~1300 faults per LSTM H128 B32 training step before its gradient buffer was reused).

    workspace(shape, dtype, slot)   a reused scratch array (contents garbage)
    aligned(arr, dtype)             arr on a 64-byte boundary (a copy unless it is)

Slots in use: 0-5 the convolutions (ops/conv.py, ops/conv_paths.py, kernels/conv_scratch.py;
4: the flat path's output, or batch-last's weight gradient parts), 8-9 the scans
(ops/_scan_util.py SCAN_SLOT).
"""
import math
import threading

import numpy as np

__all__ = ["workspace", "aligned", "KEEP"]

KEEP = 1 << 22                    # largest workspace (elements) kept between calls
SMALL = 1 << 15                   # below this many elements a fresh array is cheaper (and
                                  # comes from the allocator's free lists: no page faults)
_local = threading.local()


def workspace(shape, dtype, slot=0):
    """A scratch array of `shape`, reused by later calls in this thread (its contents are
    garbage; never returned to a caller), starting on a 64-byte boundary (a cache line). Two
    arrays in use at once take different slots."""
    size = math.prod(shape)
    if size < SMALL:
        return np.empty(shape, dtype)
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    key = (dtype, slot)
    entry = pool.get(key)
    if entry is None or entry[0].size - entry[1] < size:
        entry = _aligned_buffer(size, dtype)
        if size <= KEEP:
            pool[key] = entry
    buf, start = entry
    return buf[start:start + size].reshape(shape)


def aligned(arr, dtype):
    """arr as a C-contiguous array of dtype starting on a 64-byte boundary (a cache line; no
    copy when it is one already). The register tiles load b's rows a vector at a time: a
    misaligned 512-bit load spans two cache lines (LSTM(32, 32) on (100, 1, 32): backward
    scan 18.0 -> 14.7 us with W_hh aligned)."""
    arr = np.asarray(arr)
    if arr.dtype == dtype and arr.flags.c_contiguous and arr.ctypes.data % 64 == 0:
        return arr
    buf, start = _aligned_buffer(arr.size, dtype)
    out = buf[start:start + arr.size].reshape(arr.shape)
    out[...] = arr
    return out


def _aligned_buffer(size, dtype):
    """(buf, start): a fresh 1-d array of dtype whose elements start:start + size begin on a
    64-byte boundary."""
    dtype = np.dtype(dtype)
    buf = np.empty(size + 64 // dtype.itemsize, dtype)
    return buf, (-buf.ctypes.data) % 64 // dtype.itemsize
