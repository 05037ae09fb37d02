"""Scratch arrays for the convolution paths (plain numpy, per thread).

    workspace(shape, dtype, slot)   a reused scratch array (contents garbage)
    pack_output(g5, plan)           g in the flat output layout, a workspace; inside
                                    `sharing_packs()`, packed once for the next call with the
                                    same g (a Conv's input and weight gradients both take it)
"""
import threading

import numpy as np

from . import conv_flat as KF

__all__ = ["workspace", "pack_output", "sharing_packs", "KEEP"]

KEEP = 1 << 22                    # largest workspace (elements) kept between calls
_local = threading.local()


def workspace(shape, dtype, slot=0):
    """A scratch array of `shape`, reused by later calls in this thread (its contents are
    garbage; never returned to a caller), starting on a 64-byte boundary (a cache line). Two
    arrays in use at once take different slots. A fresh multi-megabyte array per call costs
    page faults that rival the GEMM it feeds."""
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


def pack_output(g, g5, plan):
    """g5: (N, O, D, H, W) (g's five-dim form) -> gq: (O, N*block) in the flat output layout,
    zeros where the flat positions are dropped (a workspace). Within sharing_packs, the last
    pack is kept (in a slot of its own, holding g so that its id cannot be reused) and
    returned again for the same g and plan."""
    shared = getattr(_local, "shared", None)
    if shared is not None and shared[0] is g and shared[1] is plan:
        return shared[2]
    gq = workspace((g5.shape[1], g5.shape[0] * plan.block), g5.dtype,
                   slot=1 if shared is None else 3)
    KF.flat_pack(g5, np.zeros(3, np.int64), plan.ext, gq)
    if shared is not None:
        shared[:] = [g, plan, gq]
    return gq


class sharing_packs:
    """A context in which pack_output keeps its last pack (see there)."""

    def __enter__(self):
        self.outer = getattr(_local, "shared", None)
        _local.shared = [None, None, None]

    def __exit__(self, *exc):
        _local.shared = self.outer
