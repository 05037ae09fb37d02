"""Scratch arrays for the convolution paths (plain numpy, per thread).

    workspace(shape, dtype, slot)   a reused scratch array (contents garbage; kernels/scratch.py)
    shared_pack(g, key, shape, dtype, fill)
                                    a workspace that fill(buf) packs g into; inside
                                    `sharing_packs()`, packed once for the next call with the
                                    same g and key (a Conv's input and weight gradients both
                                    take it)
    offered(arr, key)               the pack of arr offered to the enclosing sharing_packs
    pack_output(g, g5, plan)        g in the flat output layout (a shared_pack)
"""
import threading

import numpy as np

from . import conv_threads as CT
from .scratch import KEEP, workspace  # noqa: F401 - re-exported

__all__ = ["workspace", "shared_pack", "offered", "pack_output", "sharing_packs", "KEEP"]

_local = threading.local()


def shared_pack(g, key, shape, dtype, fill):
    """A workspace of `shape` that fill(buf) packs g into. Within sharing_packs, a pack
    offered for g and key (compared by identity: a layout plan) is returned as it is, and the
    last pack made is kept (in a slot of its own, holding g so that its id cannot be reused)
    and returned again for the same g and key."""
    shared = getattr(_local, "shared", None)
    found = offered(g, key)
    if found is not None:
        return found
    buf = workspace(shape, dtype, slot=1 if shared is None else 3)
    fill(buf)
    if shared is not None:
        shared[-1] = (g, key, buf)
    return buf


def offered(arr, key):
    """The pack of arr under `key` that the enclosing sharing_packs holds, or None."""
    for entry in getattr(_local, "shared", None) or ():
        if entry is not None and entry[0] is arr and entry[1] is key:
            return entry[2]
    return None


def pack_output(g, g5, plan):
    """g5: (N, O, D, H, W) (g's five-dim form) -> gq: (O, N*block) in the flat output layout,
    zeros where the flat positions are dropped (a shared_pack keyed by plan)."""
    def fill(gq):
        CT.flat_pack(g5, np.zeros(3, np.int64), plan.ext, gq)
    return shared_pack(g, plan, (g5.shape[1], g5.shape[0] * plan.block), g5.dtype, fill)


class sharing_packs:
    """A context in which shared_pack keeps its last pack and finds the packs offered:
    (array, key, pack) triples (a Conv's input packed by its forward, kept for the weight
    gradient)."""

    def __init__(self, *offers):
        self.offers = offers

    def __enter__(self):
        self.outer = getattr(_local, "shared", None)
        _local.shared = list(self.offers) + [None]

    def __exit__(self, *exc):
        _local.shared = self.outer
