"""Reused scratch arrays (plain numpy, per thread), for kernels' temporaries that never
leave the op that takes them: the convolution paths' columns and packs, the recurrent scans'
backward pre-activation gradients. A fresh multi-megabyte array per call costs page faults
that rival the work it feeds (the heap's top is returned to the system and touched again:
~1300 faults per LSTM H128 B32 training step before its gradient buffer was reused).

    workspace(shape, dtype, slot)   a reused scratch array (contents garbage)

Slots in use: 0-5 the convolutions (ops/conv.py, ops/conv_paths.py, kernels/conv_scratch.py),
8-9 the scans (ops/_scan_util.py SCAN_SLOT).
"""
import threading

import numpy as np

__all__ = ["workspace", "KEEP"]

KEEP = 1 << 22                    # largest workspace (elements) kept between calls
_local = threading.local()


def workspace(shape, dtype, slot=0):
    """A scratch array of `shape`, reused by later calls in this thread (its contents are
    garbage; never returned to a caller), starting on a 64-byte boundary (a cache line). Two
    arrays in use at once take different slots."""
    size = int(np.prod(shape, dtype=np.int64))
    dtype = np.dtype(dtype)
    pool = getattr(_local, "pool", None)
    if pool is None:
        pool = _local.pool = {}
    buf = pool.get((dtype, slot))
    if buf is None or buf.size < size + 64:
        buf = np.empty(max(size, 1 << 16) + 64, dtype)
        if size <= KEEP:
            pool[(dtype, slot)] = buf
    start = (-buf.ctypes.data) % 64 // dtype.itemsize
    return buf[start:start + size].reshape(shape)
