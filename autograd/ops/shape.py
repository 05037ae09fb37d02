"""Shape and movement ops: the gradient undoes the movement.

    reshape(x, s)          dx = reshape(g, x.shape)      (view, flatten, unflatten, squeeze,
                                                          unsqueeze, atleast_nd are reshapes)
    expand(x, s)           dx = sum_to_size(g, x.shape)
    transpose(x, i, j)     dx = transpose(g, i, j)       (t, mT, swapaxes, swapdims)
    permute(x, p)          dx = permute(g, argsort(p))   (T, movedim)

Joining and splitting (cat, stack, split, chunk, unbind, narrow, ...) live in join.py, the
copying movements (repeat, tile, flip, roll) in movement.py; both are re-exported here.
View ops (is_view) return numpy views of input 0 and share its version counter; a reshape
that numpy must copy is a ReshapeCopy, not a view.
"""
import math

import numpy as np

from ..function import Function
from . import join, movement
from ._util import broadcast_view, check_broadcast, normalize_dims, wrap_dim
from .join import (atleast_1d, atleast_2d, atleast_3d, cat, chunk, column_stack, concat,
                   concatenate, dstack, hstack, narrow, row_stack, split, stack, tensor_split,
                   unbind, vstack)
from .movement import _ints, _shape_arg, flip, fliplr, flipud, roll, tile

__all__ = ["reshape", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose", "swapaxes",
           "swapdims", "permute", "t", "movedim", "moveaxis", "broadcast_to",
           "broadcast_tensors", "broadcast_shapes", "tile", "flip", "fliplr", "flipud", "roll",
           "cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack",
           "column_stack", "row_stack", "split", "tensor_split", "chunk", "unbind", "narrow",
           "atleast_1d", "atleast_2d", "atleast_3d"]


# -- primitives --------------------------------------------------------------------------------
class Reshape(Function):
    """x: (s...) -> (shape...), a view of x."""
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.data.shape
        return x.data.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


class ReshapeCopy(Reshape):
    """A reshape numpy can only do by copying (non-contiguous input): not a view."""
    is_view = False


class Expand(Function):
    """x: (s...) -> (shape...) with size-1 dims broadcast (read-only view)."""
    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.data.shape
        return broadcast_view(x.data, shape)

    @staticmethod
    def backward(ctx, g):
        return g.sum_to_size(ctx.shape), None


class Transpose(Function):
    """x: (..., a, ..., b, ...) -> (..., b, ..., a, ...) with dims d0, d1 swapped."""
    is_view = True

    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.dims = (d0, d1)
        return np.swapaxes(x.data, d0, d1)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(*ctx.dims), None, None      # a swap is its own inverse


class Permute(Function):
    """x: (s0, ..., sn) -> (s[p0], ..., s[pn])."""
    is_view = True

    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        return np.transpose(x.data, perm)

    @staticmethod
    def backward(ctx, g):
        return g.permute(tuple(np.argsort(ctx.perm).tolist())), None   # inverse permutation


# -- reshapes ----------------------------------------------------------------------------------
def _reshapes_in_place(arr, shape):
    """True when numpy can reshape arr to shape without a copy."""
    if arr.flags.c_contiguous:
        return True
    try:
        arr.reshape(shape, copy=False)
    except ValueError:
        return False
    except TypeError:                    # numpy < 2.1: no copy argument
        return np.may_share_memory(arr.reshape(shape), arr)
    return True


def _reshape(x, shape):
    """x reshaped to a resolved shape: a view when numpy allows one, else a copy."""
    if _reshapes_in_place(x.data, shape):
        return Reshape.apply(x, shape)
    return ReshapeCopy.apply(x, shape)


def _infer_shape(op_name, x, shape):
    """shape with its one -1 resolved against x's number of elements."""
    shape = _ints(op_name, shape)
    for s in shape:
        if s < -1:
            raise RuntimeError(f"{op_name}: invalid shape dimension {s} in {shape}")
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op_name}: only one dimension can be inferred, got {shape}")
    size = x.data.size
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        if known == 0 or size % known:
            raise RuntimeError(f"{op_name}: shape {shape} is invalid for input of size "
                               f"{size} (shape {tuple(x.shape)})")
        shape = tuple(size // known if s == -1 else s for s in shape)
    if math.prod(shape) != size:
        raise RuntimeError(f"{op_name}: shape {shape} is invalid for input of size "
                           f"{size} (shape {tuple(x.shape)})")
    return shape


def reshape(input, *shape):
    """x: (s...) -> (shape...); one size may be -1. x.reshape(2, 3) or x.reshape((2, 3))."""
    return _reshape(input, _infer_shape("reshape", input, _shape_arg(shape)))


def view(input, *shape):
    """As reshape (numpy arrays can always be reshaped; a copy is made when needed)."""
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int, np.integer)):
        raise TypeError(f"view: expected a shape, got {shape[0]!r} (view(dtype) is not "
                        "supported)")
    return _reshape(input, _infer_shape("view", input, _shape_arg(shape)))


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """x: (s0, ..., sn) -> dims start_dim..end_dim merged into one; 0-d -> (1,)."""
    ndim = input.ndim
    start = wrap_dim(start_dim, ndim, "flatten")
    end = wrap_dim(end_dim, ndim, "flatten")
    if start > end:
        raise RuntimeError(f"flatten: start_dim ({start_dim}) cannot come after end_dim "
                           f"({end_dim}) for input of shape {tuple(input.shape)}")
    if ndim == 0:
        return _reshape(input, (1,))
    s = input.data.shape
    return _reshape(input, s[:start] + (int(np.prod(s[start:end + 1])),) + s[end + 1:])


def unflatten(input, dim, sizes):
    """x: (..., n, ...) -> (..., *sizes, ...) with prod(sizes) == n; one size may be -1."""
    d = wrap_dim(dim, input.ndim, "unflatten")
    sizes = _ints("unflatten", sizes)
    s = input.data.shape
    if input.ndim == 0:
        raise RuntimeError("unflatten: cannot unflatten a 0-d tensor")
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = s[d]
    if sizes.count(-1) > 1:
        raise RuntimeError(f"unflatten: only one dimension can be inferred, got sizes {sizes}")
    if -1 in sizes:
        known = int(np.prod([k for k in sizes if k != -1]))
        if known == 0 or n % known:
            raise RuntimeError(f"unflatten: provided sizes {sizes} don't multiply up to the "
                               f"size of dim {dim} ({n}) in the input of shape {s}")
        sizes = tuple(n // known if k == -1 else k for k in sizes)
    if int(np.prod(sizes)) != n or min(sizes) < 0:
        raise RuntimeError(f"unflatten: provided sizes {sizes} don't multiply up to the size "
                           f"of dim {dim} ({n}) in the input of shape {s}")
    return _reshape(input, s[:d] + sizes + s[d + 1:])


def squeeze(input, dim=None):
    """Remove size-1 dims: all of them (dim None), or those among dim (int or tuple)."""
    axes = normalize_dims(dim, input.ndim, "squeeze")
    s = input.data.shape
    drop = {a for a in axes if s[a] == 1}
    return _reshape(input, tuple(n for a, n in enumerate(s) if a not in drop))


def unsqueeze(input, dim):
    """x: (s...) -> a size-1 dim inserted at dim, in range [-(ndim + 1), ndim]."""
    d = wrap_dim(dim, input.ndim + 1, "unsqueeze")
    s = input.data.shape
    return _reshape(input, s[:d] + (1,) + s[d:])


# -- transposes and permutations ---------------------------------------------------------------
def transpose(input, dim0, dim1):
    """Swap dims dim0 and dim1 (a view)."""
    n = input.ndim
    d0, d1 = wrap_dim(dim0, n, "transpose"), wrap_dim(dim1, n, "transpose")
    if n == 0:
        return _reshape(input, ())
    return Transpose.apply(input, d0, d1)


swapaxes = swapdims = transpose


def permute(input, *dims):
    """x: (s0, ..., sn) -> (s[dims[0]], ..., s[dims[n]]); x.permute(1, 0) or ((1, 0))."""
    dims = _ints("permute", _shape_arg(dims))
    n = input.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute: number of dims don't match: the input has {n} dims "
                           f"(shape {tuple(input.shape)}) but got {len(dims)} dims {dims}")
    perm = tuple(wrap_dim(d, n, "permute") for d in dims)
    if len(set(perm)) != n:
        raise RuntimeError(f"permute: duplicate dims are not allowed, got {dims}")
    if n == 0:
        return _reshape(input, ())
    return Permute.apply(input, perm)


def t(input):
    """Transpose of a matrix; 0-d and 1-d tensors are returned as (views of) themselves."""
    if input.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but the input has "
                           f"shape {tuple(input.shape)} ({input.ndim}-d)")
    if input.ndim < 2:
        return _reshape(input, input.data.shape)
    return Transpose.apply(input, 0, 1)


def _T(input):
    """x.T: all dims reversed."""
    return permute(input, tuple(range(input.ndim - 1, -1, -1)))


def _mT(input):
    """x.mT: (..., m, n) -> (..., n, m)."""
    if input.ndim < 2:
        raise RuntimeError(f"mT: only supported on matrices or batches of matrices; got a "
                           f"{input.ndim}-d tensor of shape {tuple(input.shape)}")
    return Transpose.apply(input, input.ndim - 2, input.ndim - 1)


def movedim(input, source, destination):
    """Move dims `source` to positions `destination` (ints or equal-length sequences)."""
    n = input.ndim
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: invalid source or destination dims: source {src} should "
                           f"contain the same number of dims as destination {dst}")
    src = tuple(wrap_dim(d, n, "movedim") for d in _ints("movedim", src))
    dst = tuple(wrap_dim(d, n, "movedim") for d in _ints("movedim", dst))
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {src} or destination {dst}")
    if n == 0:
        return _reshape(input, ())
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return Permute.apply(input, tuple(order))


moveaxis = movedim


# -- broadcasting ------------------------------------------------------------------------------
def broadcast_to(input, *shape):
    """expand: x -> (shape...); -1 keeps a dim; new leading dims may be added."""
    shape = _ints("expand", _shape_arg(shape))
    nlead = len(shape) - input.ndim
    if nlead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(shape)}) must be "
                           f"greater or equal to the number of dimensions in the tensor "
                           f"({input.ndim}); input shape {tuple(input.shape)}")
    for i, s in enumerate(shape):
        if s < -1 or (s == -1 and i < nlead):
            raise RuntimeError(f"expand: invalid size {s} at dim {i} in {shape} for a "
                               f"tensor of shape {tuple(input.shape)}")
    full = tuple(input.data.shape[i - nlead] if s == -1 and i >= nlead else s
                 for i, s in enumerate(shape))
    for i, n in enumerate(input.data.shape):
        if n != 1 and n != full[nlead + i]:
            raise RuntimeError(f"expand: the expanded size of the tensor ({full[nlead + i]}) "
                               f"must match the existing size ({n}) at non-singleton "
                               f"dimension {nlead + i}; target {full}, tensor shape "
                               f"{tuple(input.shape)}")
    if full == input.data.shape:
        return input
    return Expand.apply(input, full)


def expand_as(input, other):
    return broadcast_to(input, other.shape)


def broadcast_shapes(*shapes):
    """The shape all `shapes` broadcast to (ints count as 1-d shapes)."""
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    return tuple(check_broadcast("broadcast_shapes", *shapes))


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape (a tuple of views)."""
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    shape = check_broadcast("broadcast_tensors", *[x.shape for x in tensors])
    return tuple(broadcast_to(x, shape) for x in tensors)


def contiguous(input, memory_format=None):
    """Arrays need no contiguous copy here: returns input itself."""
    return input


TENSOR_METHODS = {
    "reshape": reshape, "view": view, "view_as": view_as, "reshape_as": reshape_as,
    "flatten": flatten, "unflatten": unflatten, "squeeze": squeeze, "unsqueeze": unsqueeze,
    "transpose": transpose, "swapaxes": transpose, "swapdims": transpose, "permute": permute,
    "t": t, "T": property(_T), "mT": property(_mT), "movedim": movedim, "moveaxis": movedim,
    "expand": broadcast_to, "expand_as": expand_as, "broadcast_to": broadcast_to,
    "contiguous": contiguous, **movement.TENSOR_METHODS, **join.TENSOR_METHODS,
}
INPLACE = []
