"""Pooling primitives: max and average pooling over 1, 2 or 3 trailing spatial dims, their
adaptive forms, and the argmax scatter/gather pair (max-pool gradient, max_unpool).
Wrapped by nn.functional.pooling (PyTorch's names and signatures); not an ops family.

A pooling op is described by one window table per spatial dim (see autograd/kernels/pool.py):
(start, end, factor) per output position plus a step (the dilation). All ops see x as planes
(P, D, H, W): P = the product of the leading dims, 1-d/2-d ops get unit D (and H).

    max_pool(x)            y[o] = x[a(o)], a(o) = argmax over window o
                           dx = scatter_add(zeros, a, g)          (ScatterPlanes)
    scatter_planes(g, a)   dx[a(o)] += g[o]                       dg = gather(ddx, a)
    gather_planes(x, a)    y[o] = x[a(o)]                         dx = scatter_add(zeros, a, g)
    avg_pool(x)            y = A x, A[o, i] = 1 / divisor(o) for i in window o
                           dx = A^T g                             (AvgPoolTranspose)
    avg_pool_transpose(g)  dx = A^T g                             dg = A ddx (avg_pool again)

Each backward is another primitive of this file, so gradients of any order work.
"""
import numpy as np

from ..function import Function
from ..kernels import pool as K

__all__ = ["MaxPool", "ScatterPlanes", "GatherPlanes", "AvgPool", "AvgPoolTranspose",
           "Pooling", "max_windows", "avg_windows", "adaptive_windows", "pool_output_size"]

_UNIT = np.array([[0, 1, 1]], np.int64)          # the window table of a missing spatial dim


class Pooling:
    """The geometry of one pooling op: nsp spatial dims, their input and output sizes and
    window tables padded to 3 dims (leading unit dims)."""
    __slots__ = ("nsp", "in_size", "out_size", "tables", "step", "divisor")

    def __init__(self, in_size, tables, step=None, divisor=0):
        self.nsp = len(tables)
        self.in_size = tuple(in_size)
        self.out_size = tuple(t.shape[0] for t in tables)
        self.tables = (_UNIT,) * (3 - self.nsp) + tuple(tables)
        step = (1,) * self.nsp if step is None else tuple(step)
        self.step = np.array((1,) * (3 - self.nsp) + step, np.int64)
        self.divisor = int(divisor)


def _c(arr):
    """arr as a C-contiguous, writeable array (one numba signature per dtype: a read-only
    or strided array would compile another)."""
    if arr.flags.c_contiguous and arr.flags.writeable:
        return arr
    return np.array(arr, order="C")


def _planes(arr, nsp, spatial):
    """arr: (*lead, *spatial) -> C-contiguous (P, D, H, W) and the lead shape."""
    lead = arr.shape[:arr.ndim - nsp]
    full = (1,) * (3 - nsp) + tuple(spatial)
    return _c(arr).reshape((int(np.prod(lead, dtype=np.int64)),) + full), lead


def _flat(arr, nsp):
    """arr: (*lead, *spatial) -> C-contiguous (P, S) with S the spatial size."""
    lead = arr.shape[:arr.ndim - nsp]
    size = int(np.prod(arr.shape[arr.ndim - nsp:], dtype=np.int64))
    return _c(arr).reshape(int(np.prod(lead, dtype=np.int64)), size), lead


# -- window tables ---------------------------------------------------------------------------
def pool_output_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape: floor (or ceil) of (size + 2p - d(k-1) - 1) / s + 1;
    with ceil_mode the last window must start inside the input or the left padding."""
    span = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = span // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def max_windows(size, out, k, s, p, d):
    """Window table of max pooling: output o reads start = o*s - p + j*d, j < k, inside
    [0, size); start moves to the first position inside the input (same step)."""
    lo = np.arange(out, dtype=np.int64) * s - p
    hi = np.minimum(lo + (k - 1) * d + 1, size)
    neg = lo < 0
    lo[neg] += (-lo[neg] + d - 1) // d * d             # first in-range tap: lo + ceil(-lo/d)*d
    return np.stack([lo, hi, hi - lo], axis=1)


def avg_windows(size, out, k, s, p, count_include_pad):
    """Window table of average pooling: [o*s - p, o*s - p + k) clamped to the input; the
    divisor counts the window inside the padded input (count_include_pad) or the input."""
    lo = np.arange(out, dtype=np.int64) * s - p
    hi = np.minimum(lo + k, size + p)
    padded = hi - lo
    lo, hi = np.maximum(lo, 0), np.minimum(hi, size)
    factor = padded if count_include_pad else hi - lo
    return np.stack([lo, hi, factor], axis=1)


def adaptive_windows(size, out):
    """PyTorch's adaptive windows: [floor(o*size/out), ceil((o+1)*size/out))."""
    o = np.arange(out, dtype=np.int64)
    lo = o * size // out
    hi = ((o + 1) * size + out - 1) // out
    return np.stack([lo, hi, hi - lo], axis=1)


# -- max pooling and its argmax scatter/gather -----------------------------------------------
def _pairs(table):
    """Whether a max-pool window table is (2o, 2o + 2) for every output o: kernel 2, stride
    2, no padding or dilation (the first window starts at 0, the last at 2(n - 1), all have
    length 2, and starts move by the stride)."""
    n = table.shape[0]
    return n > 0 and table[0, 0] == 0 and table[-1, 0] == 2 * (n - 1) and \
        bool((table[:, 2] == 2).all())
class MaxPool(Function):
    @staticmethod
    def forward(ctx, x, geom):
        """x: (*lead, *in_size) -> (y, idx): (*lead, *out_size); idx: flat per-plane argmax
        (int64), e.g. h*W + w in 2-d."""
        planes, lead = _planes(x.data, geom.nsp, geom.in_size)
        shape = (planes.shape[0],) + (1,) * (3 - geom.nsp) + geom.out_size
        out = np.empty(shape, x.data.dtype)
        idx = np.empty(shape, np.int64)
        wd, wh, ww = geom.tables
        ctx.pairs = wd is _UNIT and _pairs(wh) and _pairs(ww)
        if ctx.pairs:
            K.max_pool_pairs(planes[:, 0], out[:, 0], idx[:, 0])
        else:
            K.max_pool_forward(planes, wd, wh, ww, geom.step, out, idx)
        final = lead + geom.out_size
        idx = idx.reshape(final)
        ctx.idx, ctx.in_size = idx, geom.in_size
        ctx.set_materialize_grads(False)        # idx (int64) never gets a gradient
        return out.reshape(final), idx

    @staticmethod
    def backward(ctx, g, _g_idx):
        # dx = scatter_add(zeros, argmax, g)
        return ScatterPlanes.apply(g, ctx.idx, ctx.in_size, True, ctx.pairs), None


class ScatterPlanes(Function):
    @staticmethod
    def forward(ctx, src, idx, size, accumulate, pairs=False):
        """src, idx: (*lead, *m) with len(m) == len(size) -> out: (*lead, *size) with
        out[p, idx[p, j]] (+)= src[p, j] over flattened planes (accumulate: repeats add
        up; else the last write wins). pairs: idx comes from 2x2 / stride 2 max pooling
        (each index inside its own window), which one dense pass writes."""
        nsp = len(size)
        flat_src, lead = _flat(src.data, nsp)
        flat_idx = _c(idx).reshape(flat_src.shape)
        total = int(np.prod(size, dtype=np.int64))
        ctx.idx, ctx.nsp = idx, nsp
        if pairs and accumulate and nsp == 2:
            h, w = size
            fill = np.empty if h % 2 == 0 and w % 2 == 0 else np.zeros
            out = fill((flat_src.shape[0], h, w), src.data.dtype)
            m = src.data.shape[-2:]
            K.scatter_pairs(flat_src.reshape((-1,) + m), flat_idx.reshape((-1,) + m), out)
            return out.reshape(lead + tuple(size))
        out = np.zeros((flat_src.shape[0], total), src.data.dtype)
        K.scatter_planes(flat_src, flat_idx, out, accumulate)
        return out.reshape(lead + tuple(size))

    @staticmethod
    def backward(ctx, g):
        # d src = gather(g, idx): the adjoint of a scatter
        return GatherPlanes.apply(g, ctx.idx, ctx.nsp), None, None, None, None


class GatherPlanes(Function):
    @staticmethod
    def forward(ctx, x, idx, nsp):
        """x: (*lead, *size), idx: (*lead, *m) -> y: (*lead, *m), y[p, j] = x[p, idx[p, j]],
        0 where idx is outside the plane (ScatterPlanes' adjoint: it writes nothing there)."""
        flat_x, lead = _flat(x.data, nsp)
        flat_idx, _ = _flat(idx, idx.ndim - len(lead))
        ctx.idx, ctx.size = idx, x.data.shape[x.data.ndim - nsp:]
        outside = (flat_idx < 0) | (flat_idx >= flat_x.shape[1])
        if not outside.any():
            return np.take_along_axis(flat_x, flat_idx, axis=1).reshape(idx.shape)
        y = np.take_along_axis(flat_x, np.where(outside, 0, flat_idx), axis=1)
        y[outside] = 0
        return y.reshape(idx.shape)

    @staticmethod
    def backward(ctx, g):
        return ScatterPlanes.apply(g, ctx.idx, ctx.size, True), None, None


# -- average pooling and its transpose ---------------------------------------------------------
class AvgPool(Function):
    @staticmethod
    def forward(ctx, x, geom):
        """x: (*lead, *in_size) -> (*lead, *out_size): window sums / divisor."""
        planes, lead = _planes(x.data, geom.nsp, geom.in_size)
        shape = (planes.shape[0],) + (1,) * (3 - geom.nsp) + geom.out_size
        out = np.empty(shape, x.data.dtype)
        wd, wh, ww = geom.tables
        K.avg_pool_forward(planes, wd, wh, ww, geom.divisor, out)
        ctx.geom = geom
        return out.reshape(lead + geom.out_size)

    @staticmethod
    def backward(ctx, g):
        # dx = A^T g
        return AvgPoolTranspose.apply(g, ctx.geom), None


class AvgPoolTranspose(Function):
    @staticmethod
    def forward(ctx, g, geom):
        """g: (*lead, *out_size) -> (*lead, *in_size): A^T g (each output's share spread
        over its window)."""
        planes, lead = _planes(g.data, geom.nsp, geom.out_size)
        shape = (planes.shape[0],) + (1,) * (3 - geom.nsp) + geom.in_size
        dx = np.zeros(shape, g.data.dtype)
        wd, wh, ww = geom.tables
        K.avg_pool_backward(planes, wd, wh, ww, geom.divisor, dx)
        ctx.geom = geom
        return dx.reshape(lead + geom.in_size)

    @staticmethod
    def backward(ctx, gg):
        # d g = A gg: average pooling again
        return AvgPool.apply(gg, ctx.geom), None
