"""Gather and scatter along one dimension: index_select, index_add, gather, scatter,
scatter_add, take_along_dim. Re-exported by `indexing`.

Each pair is the other's transpose, so every backward is one of these ops and gradients of
gradients work. `pos(i)` is the position an index element addresses (index[i] along `dim`,
i's own coordinate elsewhere); repeated positions accumulate in the adjoints.

    index_select(x, d, idx)        dx = index_add(zeros, d, idx, g)
    index_add(x, d, idx, s, a)     dx = g          ds = a * index_select(g, d, idx)
    gather(x, d, idx)              dx = scatter_add(zeros, d, idx, g)
    scatter_add(x, d, idx, s)      dx = g          ds = gather(g, d, idx)
    scatter(x, d, idx, s)          dx = scatter(g, d, idx, 0)
                                   ds = gather(g, d, idx) where s's write won, else 0
    take_along_dim(x, idx, d)      = gather on the broadcast operands

The index arrays (and scatter's winners mask) are kept with ctx.save_arrays, so backward frees
them with the saved tensors.
"""
import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._util import as_tensor, wrap_dim

__all__ = ["index_select", "index_add", "gather", "scatter", "scatter_add", "take_along_dim"]


# -- helpers shared with indexing.py ----------------------------------------------------------
def _flat_target(out):
    """(a C-contiguous array with out's values, whose reshape(-1) is a view; whether it is
    a copy that must be written back): positions are flat C-order indices of out."""
    if out.flags.c_contiguous:
        return out, False
    return np.ascontiguousarray(out), True


def add_at(out, positions, values):
    """out.flat[positions] += values, accumulating repeated positions (out: any layout)."""
    target, copied = _flat_target(out)
    np.add.at(target.reshape(-1), positions.reshape(-1),
              np.asarray(values, out.dtype).reshape(-1))
    if copied:
        out[...] = target


def last_writes(flat):
    """For 1-d positions with repeats, the bool mask of each position's last occurrence (the
    write that wins, as in numpy and PyTorch); None when all positions are distinct."""
    if flat.size < 2:
        return None
    order = np.argsort(flat, kind="stable")
    ranked = flat[order]
    last = np.ones(flat.size, bool)
    last[:-1] = ranked[1:] != ranked[:-1]
    if last.all():
        return None
    win = np.zeros(flat.size, bool)
    win[order[last]] = True
    return win


def put(out, positions, values):
    """out.flat[positions] = values (broadcast); of repeated positions the last write wins.
    Returns the winners' mask (shape of positions) or None when positions are distinct."""
    flat = positions.reshape(-1)
    vals = np.broadcast_to(np.asarray(values, out.dtype), positions.shape).reshape(-1)
    win = last_writes(flat)
    target, copied = _flat_target(out)
    if win is None:
        target.reshape(-1)[flat] = vals
    else:
        target.reshape(-1)[flat[win]] = vals[win]
    if copied:
        out[...] = target
    return None if win is None else win.reshape(positions.shape)


def index_array(op_name, index):
    """An integer index (Tensor, array, list or int) as an ndarray of intp."""
    if isinstance(index, Tensor):     # copied: saved for backward, safe from in-place writes
        return index_array(op_name, index.data.copy())
    arr = np.asarray(index)
    if arr.dtype.kind not in "iu":
        if arr.size == 0 and arr.dtype.kind == "f":
            return arr.astype(np.intp)
        raise RuntimeError(f"{op_name}: expected an integer index (int64), got dtype "
                           f"{arr.dtype} with shape {tuple(arr.shape)}")
    return arr.astype(np.intp, copy=False)


def check_range(op_name, index, size, dim, shape, allow_negative=False):
    """Raise IndexError naming the op and shapes when an index is outside [0, size)."""
    if index.size == 0:
        return
    low = -size if allow_negative else 0
    bad = index[(index < low) | (index >= size)]
    if bad.size:
        raise IndexError(f"{op_name}: index {int(bad.reshape(-1)[0])} is out of bounds for "
                         f"dimension {dim} with size {size} (input shape {tuple(shape)})")


def _zeros(shape, dtype):
    return Tensor._make(np.zeros(shape, dtype), False, None, 0)


def _along_positions(shape, dim, index):
    """Flat C positions, in an array of `shape`, of index[i] along dim and i elsewhere."""
    strides = [1] * len(shape)
    for d in range(len(shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * shape[d + 1]
    pos = index * strides[dim]
    for d, n in enumerate(index.shape):
        if d != dim and n > 1:
            pos = pos + np.arange(n).reshape((n,) + (1,) * (index.ndim - 1 - d)) * strides[d]
    return np.broadcast_to(pos, index.shape)


def _corner(shape):
    """The basic index of the leading block of a given shape."""
    return tuple(slice(0, n) for n in shape)


def _pad_to(g, shape):
    """g placed in the leading corner of zeros(shape) (g's shape fits inside shape)."""
    if tuple(g.shape) == tuple(shape):
        return g
    return _zeros(shape, g.dtype).index_put(_corner(g.shape), g)


# -- index_select / index_add -----------------------------------------------------------------
class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim = x.data.shape, dim
        ctx.save_arrays(index)
        return np.take(x.data, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_arrays
        return IndexAdd.apply(_zeros(ctx.shape, g.dtype), ctx.dim, index, g, 1), None, None


class IndexAdd(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src, alpha):
        ctx.dim, ctx.alpha = dim, alpha
        ctx.save_arrays(index)
        out = x.data.copy()
        shape = [1] * src.data.ndim
        shape[dim] = index.size
        full = np.broadcast_to(index.reshape(shape), src.data.shape)
        vals = src.data if alpha == 1 else src.data * np.asarray(alpha, x.data.dtype)
        add_at(out, _along_positions(out.shape, dim, full), vals)
        return out

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_arrays
        ds = None
        if ctx.needs_input_grad[3]:
            ds = IndexSelect.apply(g, ctx.dim, index)
            if ctx.alpha != 1:
                ds = ds * ctx.alpha
        return g, None, None, ds, None


def _vector_index(op_name, index, size, dim, shape):
    idx = index_array(op_name, index)
    if idx.ndim > 1:
        raise IndexError(f"{op_name}: index must be a 1-D tensor, got shape {tuple(idx.shape)}")
    idx = idx.reshape(-1)
    check_range(op_name, idx, size, dim, shape)
    return idx


def index_select(input, dim, index):
    """x: (..., n, ...), index: (k,) ints in [0, n) -> (..., k, ...)."""
    if input.ndim == 0:
        return index_select(input.reshape(1), dim, index).reshape(())
    dim = wrap_dim(dim, input.ndim, "index_select")
    idx = _vector_index("index_select", index, input.shape[dim], dim, input.shape)
    return IndexSelect.apply(input, dim, idx)


def index_add(input, dim, index, source, *, alpha=1):
    """x: (..., n, ...), index: (k,), source: (..., k, ...) -> x with
    x[..., index[i], ...] += alpha * source[..., i, ...] (repeated indices accumulate)."""
    dim = wrap_dim(dim, input.ndim, "index_add")
    idx = _vector_index("index_add", index, input.shape[dim], dim, input.shape)
    source = as_tensor(source)
    want = input.shape[:dim] + (idx.size,) + input.shape[dim + 1:]
    if tuple(source.shape) != want:
        raise RuntimeError(f"index_add: source shape {tuple(source.shape)} must be {want} for "
                           f"input shape {tuple(input.shape)}, dim {dim} and index of "
                           f"{idx.size} elements")
    if source.dtype != input.dtype:
        source = source.to(input.dtype)
    return IndexAdd.apply(input, dim, idx, source, alpha)


# -- gather / scatter / scatter_add -----------------------------------------------------------
class Gather(Function):
    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim = x.data.shape, dim
        ctx.save_arrays(index)
        sub = x.data[tuple(slice(None) if d == dim else slice(0, n)
                           for d, n in enumerate(index.shape))]
        return np.take_along_axis(sub, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_arrays
        return ScatterAdd.apply(_zeros(ctx.shape, g.dtype), ctx.dim, index, g), None, None


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.src_shape = dim, src.data.shape
        ctx.save_arrays(index)
        out = x.data.copy()
        add_at(out, _along_positions(out.shape, dim, index), src.data[_corner(index.shape)])
        return out

    @staticmethod
    def backward(ctx, g):
        index, = ctx.saved_arrays
        ds = None
        if ctx.needs_input_grad[3]:
            ds = _pad_to(Gather.apply(g, ctx.dim, index), ctx.src_shape)
        return g, None, None, ds


class Scatter(Function):
    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.src_shape = dim, src.data.shape
        out = x.data.copy()
        vals = src.data[_corner(index.shape)] if src.data.ndim else src.data
        win = put(out, _along_positions(out.shape, dim, index), vals)
        ctx.save_arrays(index, win)
        return out

    @staticmethod
    def backward(ctx, g):
        index, win = ctx.saved_arrays
        dx = ds = None
        if ctx.needs_input_grad[0]:
            dx = Scatter.apply(g, ctx.dim, index, _zeros((), g.dtype))
        if ctx.needs_input_grad[3]:
            ds = Gather.apply(g, ctx.dim, index)
            if win is not None:          # an overwritten write gets no gradient
                ds = ds * Tensor._make(win.astype(g.dtype), False, None, 0)
            ds = _pad_to(ds, ctx.src_shape)
        return dx, None, None, ds


def _gather_index(op_name, input, dim, index, src=None):
    """Validate a gather/scatter index: same ndim as input (and src), no larger than input
    outside dim (and than src everywhere), values in [0, input.size(dim))."""
    idx = index_array(op_name, index)
    shape = tuple(input.shape)
    if idx.ndim != len(shape) or (src is not None and src.ndim and src.ndim != idx.ndim):
        also = f" and src shape {tuple(src.shape)}" if src is not None else ""
        raise RuntimeError(f"{op_name}: index tensor must have the same number of dimensions "
                           f"as input tensor; got index shape {tuple(idx.shape)}, input "
                           f"shape {shape}{also}")
    for d, n in enumerate(idx.shape):
        if (d != dim and n > shape[d]) or (src is not None and src.ndim and n > src.shape[d]):
            also = f" and src shape {tuple(src.shape)}" if src is not None else ""
            raise RuntimeError(f"{op_name}: size does not match at dimension {d}: expected "
                               f"index shape {tuple(idx.shape)} to be no larger than input "
                               f"shape {shape} apart from dimension {dim}{also}")
    check_range(op_name, idx, shape[dim], dim, shape)
    return idx


def gather(input, dim, index, *, sparse_grad=False):
    """x: (..., n, ...), index: same ndim, ints in [0, n) -> index's shape;
    out[i] = x[i with index[i] at dim]."""
    if input.ndim == 0:
        return gather(input.reshape(1), 0, index_array("gather", index).reshape(1)).reshape(())
    dim = wrap_dim(dim, input.ndim, "gather")
    return Gather.apply(input, dim, _gather_index("gather", input, dim, index))


def _src(op_name, input, src, value):
    if src is None and value is None:
        raise TypeError(f"{op_name}: expected a src tensor or a scalar value")
    if src is None or not isinstance(src, Tensor):
        return Tensor._make(np.asarray(src if value is None else value, input.dtype), False,
                            None, 0)
    return src if src.dtype == input.dtype else src.to(input.dtype)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """x: (..., n, ...), index: same ndim -> x with x[i with index[i] at dim] = src[i]
    (src a tensor at least index's shape, or a scalar value); repeated targets: last wins."""
    if reduce is not None:
        if reduce != "add":
            raise NotImplementedError(f"scatter: reduce={reduce!r} is not supported; use "
                                      "reduce=None or 'add'")
        if src is None or not isinstance(src, Tensor):
            src = _src("scatter", input, src, value).expand(index_array("scatter", index).shape)
        return scatter_add(input, dim, index, src)
    dim = wrap_dim(dim, input.ndim, "scatter")
    src = _src("scatter", input, src, value)
    return Scatter.apply(input, dim, _gather_index("scatter", input, dim, index, src), src)


def scatter_add(input, dim, index, src):
    """x: (..., n, ...), index: same ndim, src: at least index's shape ->
    x with x[i with index[i] at dim] += src[i] (repeated targets accumulate)."""
    dim = wrap_dim(dim, input.ndim, "scatter_add")
    src = _src("scatter_add", input, src, None)
    if src.ndim == 0:
        raise RuntimeError("scatter_add: src must be a tensor with the same number of "
                           f"dimensions as index; got a 0-d src for input {tuple(input.shape)}")
    idx = _gather_index("scatter_add", input, dim, index, src)
    return ScatterAdd.apply(input, dim, idx, src)


def take_along_dim(input, indices, dim=None):
    """dim None: x.flatten()[indices.flatten()]. Else x and indices (same ndim) broadcast
    except along dim, then gather; negative indices count from the end."""
    idx = index_array("take_along_dim", indices)
    if dim is None:
        flat = input.reshape(-1)
        idx = idx.reshape(-1)
        check_range("take_along_dim", idx, flat.shape[0], 0, input.shape, allow_negative=True)
        return Gather.apply(flat, 0, np.where(idx < 0, idx + flat.shape[0], idx))
    dim = wrap_dim(dim, input.ndim, "take_along_dim")
    if idx.ndim != input.ndim:
        raise RuntimeError(f"take_along_dim: input and indices should have the same number of "
                           f"dimensions; got input shape {tuple(input.shape)} and indices "
                           f"shape {tuple(idx.shape)}")
    n = input.shape[dim]
    try:
        a = list(np.broadcast_shapes(tuple(1 if d == dim else s for d, s in
                                           enumerate(input.shape)),
                                     tuple(1 if d == dim else s for d, s in enumerate(idx.shape))))
    except ValueError:
        raise RuntimeError(f"take_along_dim: input shape {tuple(input.shape)} and indices shape "
                           f"{tuple(idx.shape)} cannot be broadcast apart from dim {dim}") from None
    check_range("take_along_dim", idx, n, dim, input.shape, allow_negative=True)
    idx = np.where(idx < 0, idx + n, idx)
    x_shape, i_shape = list(a), list(a)
    x_shape[dim], i_shape[dim] = n, idx.shape[dim]
    if tuple(x_shape) != tuple(input.shape):
        input = input.expand(tuple(x_shape))
    return Gather.apply(input, dim, np.broadcast_to(idx, tuple(i_shape)))


TENSOR_METHODS = {"index_select": index_select, "index_add": index_add, "gather": gather,
                  "scatter": scatter, "scatter_add": scatter_add,
                  "take_along_dim": take_along_dim}
INPLACE = ["index_add", "scatter", "scatter_add"]
