"""Joining and splitting: each one's gradient is the other.

    cat(xs, dim)         dx_i = split(g, sizes, dim)[i]
    stack(xs, dim)       dx_i = unbind(g, dim)[i]
    split(x, s, dim)     dx = cat(g_0, ..., g_k, dim)      (chunk, tensor_split)
    unbind(x, dim)       dx = stack(g_0, ..., g_k, dim)
    narrow(x, d, s, n)   dx = cat(zeros, g, zeros, dim)    (g put back at [s, s + n))

split, unbind and narrow return views of x; cat and stack allocate. Re-exported by shape.py.
"""
import numpy as np

from .. import dtypes
from ..function import Function
from ..tensor import Tensor
from ._util import wrap_dim
from .movement import _ints

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "dstack",
           "column_stack", "row_stack", "split", "tensor_split", "chunk", "unbind", "narrow",
           "atleast_1d", "atleast_2d", "atleast_3d"]


def _zeros(shape, dtype):
    return Tensor._make(np.zeros(shape, dtype), False, None, 0)


def _along(dim, index):
    """The numpy index that picks `index` (int or slice) along axis `dim`."""
    return (slice(None),) * dim + (index,)


class Cat(Function):
    """xs: (..., n_i, ...) -> (..., sum n_i, ...) along dim; legacy (0,) pieces skipped."""

    @staticmethod
    def forward(ctx, *args):
        *xs, dim, dtype = args
        kept = [x.data for x in xs if not _legacy_empty(x)] or [xs[0].data]
        ctx.dim = dim
        ctx.sizes = [None if _legacy_empty(x) else x.data.shape[dim] for x in xs]
        return np.concatenate(kept, axis=dim, dtype=dtype, casting="unsafe")

    @staticmethod
    def backward(ctx, g):
        sizes = [s for s in ctx.sizes if s is not None]
        pieces = iter(g.split(sizes, ctx.dim) if sizes else ())
        grads = [_zeros((0,), g.dtype) if s is None else next(pieces) for s in ctx.sizes]
        return (*grads, None, None)


class Stack(Function):
    """xs: k tensors of shape (s...) -> (s[:dim], k, s[dim:])."""

    @staticmethod
    def forward(ctx, *args):
        *xs, dim, dtype = args
        ctx.dim = dim
        return np.stack([x.data for x in xs], axis=dim, dtype=dtype, casting="unsafe")

    @staticmethod
    def backward(ctx, g):
        return (*g.unbind(ctx.dim), None, None)


class Split(Function):
    """x: (..., n, ...) -> pieces (..., n_i, ...) along dim with sum n_i == n (views)."""
    is_view = True

    @staticmethod
    def forward(ctx, x, sizes, dim):
        ctx.dim = dim
        bounds = np.cumsum((0,) + sizes).tolist()
        return tuple(x.data[_along(dim, slice(a, b))] for a, b in zip(bounds, bounds[1:]))

    @staticmethod
    def backward(ctx, *grads):
        return cat(grads, ctx.dim), None, None


class Unbind(Function):
    """x: (..., n, ...) -> n views of shape (...) with dim removed."""
    is_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim, ctx.shape, ctx.dtype = dim, x.data.shape, x.data.dtype
        # `...` keeps a 1-d x's items 0-d views (x[i] alone gives numpy scalars: copies)
        return tuple(x.data[_along(dim, i) + (Ellipsis,)] for i in range(x.data.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        if not grads:
            return _zeros(ctx.shape, ctx.dtype), None
        return stack(grads, ctx.dim), None


class Narrow(Function):
    """x: (..., n, ...) -> x[..., start:start + length, ...] along dim (a view)."""
    is_view = True

    @staticmethod
    def forward(ctx, x, dim, start, length):
        ctx.shape, ctx.dim, ctx.start, ctx.length = x.data.shape, dim, start, length
        return x.data[_along(dim, slice(start, start + length))]

    @staticmethod
    def backward(ctx, g):
        # zero-pad g back to x's extent along dim
        dim, shape = ctx.dim, list(ctx.shape)
        after = shape[dim] - ctx.start - ctx.length
        pieces = []
        if ctx.start:
            pieces.append(_zeros(shape[:dim] + [ctx.start] + shape[dim + 1:], g.dtype))
        pieces.append(g)
        if after:
            pieces.append(_zeros(shape[:dim] + [after] + shape[dim + 1:], g.dtype))
        return (cat(pieces, dim) if len(pieces) > 1 else g), None, None, None


# -- joining -----------------------------------------------------------------------------------
def _legacy_empty(x):
    """PyTorch's cat skips 1-d empty tensors of shape (0,) whatever the other shapes."""
    return x.data.shape == (0,)


def _tensor_list(op_name, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (tuple, list)):
        raise TypeError(f"{op_name}: expected a tuple or list of Tensors, got "
                        f"{type(tensors).__name__}")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op_name}: expected a non-empty list of Tensors")
    for i, x in enumerate(tensors):
        if not isinstance(x, Tensor):
            raise TypeError(f"{op_name}: expected Tensor as element {i}, got "
                            f"{type(x).__name__}")
    return tensors


def cat(tensors, dim=0, *, axis=None):
    """xs: (..., n_i, ...) -> (..., sum n_i, ...); sizes must match except along dim.
    dtypes are promoted as in PyTorch; 1-d empty tensors of shape (0,) are skipped."""
    tensors = _tensor_list("cat", tensors)
    dim = dim if axis is None else axis
    shapes = [tuple(x.shape) for x in tensors]
    for i, x in enumerate(tensors):
        if x.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                               f"concatenated; shapes {shapes}")
    kept = [(i, x) for i, x in enumerate(tensors) if not _legacy_empty(x)] or [(0, tensors[0])]
    ref_i, ref = kept[0]
    d = wrap_dim(dim, ref.ndim, "cat")
    for i, x in kept[1:]:
        if x.ndim != ref.ndim:
            raise RuntimeError(f"cat: tensors must have the same number of dimensions: got "
                               f"shapes {shapes[ref_i]} and {shapes[i]} (tensors {ref_i} and "
                               f"{i})")
        for k in range(ref.ndim):
            if k != d and x.shape[k] != ref.shape[k]:
                raise RuntimeError(f"cat: sizes of tensors must match except in dimension "
                                   f"{d}: expected size {ref.shape[k]} but got size "
                                   f"{x.shape[k]} for tensor number {i} in the list; shapes "
                                   f"{shapes}")
    dtype = dtypes.result_type(*tensors)
    return Cat.apply(*tensors, d, dtype)


concat = concatenate = cat


def stack(tensors, dim=0):
    """k tensors of equal shape (s...) -> (s[:dim], k, s[dim:]); dtypes promoted."""
    tensors = _tensor_list("stack", tensors)
    ref = tensors[0]
    for i, x in enumerate(tensors):
        if x.shape != ref.shape:
            raise RuntimeError(f"stack: expects each tensor to be equal size, but got "
                               f"{tuple(ref.shape)} at entry 0 and {tuple(x.shape)} at entry "
                               f"{i}")
    d = wrap_dim(dim, ref.ndim + 1, "stack")
    return Stack.apply(*tensors, d, dtypes.result_type(*tensors))


def _atleast(fn, tensors):
    """atleast_nd(x) -> Tensor; atleast_nd(x, y) or atleast_nd([x, y]) -> tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fn(tensors[0])
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tensors[0]
    return tuple(fn(x) for x in tensors)


def _at_least_1d(x):
    return x.reshape(1) if x.ndim == 0 else x


def _at_least_2d(x):
    return x.reshape((1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x


def _at_least_3d(x):
    # 0-d -> (1, 1, 1); (n,) -> (1, n, 1); (m, n) -> (m, n, 1)
    if x.ndim == 0:
        return x.reshape(1, 1, 1)
    if x.ndim == 1:
        return x.reshape(1, x.shape[0], 1)
    if x.ndim == 2:
        return x.reshape(x.shape + (1,))
    return x


def atleast_1d(*tensors):
    return _atleast(_at_least_1d, tensors)


def atleast_2d(*tensors):
    return _atleast(_at_least_2d, tensors)


def atleast_3d(*tensors):
    return _atleast(_at_least_3d, tensors)


def hstack(tensors):
    """cat along dim 0 for 1-d (or 0-d) tensors, along dim 1 otherwise."""
    tensors = [_at_least_1d(x) for x in _tensor_list("hstack", tensors)]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """cat along dim 0 after atleast_2d: (n,) pieces become rows."""
    return cat([_at_least_2d(x) for x in _tensor_list("vstack", tensors)], 0)


row_stack = vstack


def dstack(tensors):
    """cat along dim 2 after atleast_3d."""
    return cat([_at_least_3d(x) for x in _tensor_list("dstack", tensors)], 2)


def column_stack(tensors):
    """0-d and 1-d tensors become columns (n, 1); then cat along dim 1."""
    tensors = _tensor_list("column_stack", tensors)
    return cat([x.reshape(x.numel(), 1) if x.ndim <= 1 else x for x in tensors], 1)


# -- splitting ---------------------------------------------------------------------------------
def _split_dim(op_name, input, dim):
    if input.ndim == 0:
        raise RuntimeError(f"{op_name}: dimension specified as {dim} but the tensor has no "
                           "dimensions (0-d)")
    return wrap_dim(dim, input.ndim, op_name)


def split(tensor, split_size_or_sections, dim=0):
    """x: (..., n, ...) -> views of split_size along dim (the last may be smaller), or of
    the listed sizes (which must sum to n)."""
    d = _split_dim("split", tensor, dim)
    n = tensor.shape[d]
    arg = split_size_or_sections
    if isinstance(arg, (int, np.integer)):
        size, = _ints("split", (arg,))
        if size < 0 or (size == 0 and n != 0):
            raise RuntimeError(f"split: split_size can only be 0 if dimension size is 0, and "
                               f"must be non-negative; got split_size {size} for dim {dim} "
                               f"of size {n} (shape {tuple(tensor.shape)})")
        k = max(-(-n // size), 1) if size else 1
        sizes = (size,) * (k - 1) + (n - size * (k - 1),)
    else:
        sizes = _ints("split", arg)
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise RuntimeError(f"split: split_with_sizes expects split_sizes to be "
                               f"non-negative and sum exactly to {n} (the size of dim {dim} "
                               f"of the input of shape {tuple(tensor.shape)}), but got "
                               f"split_sizes={list(sizes)}")
    return Split.apply(tensor, sizes, d)


def chunk(input, chunks, dim=0):
    """At most `chunks` views of ceil(n / chunks) along dim (fewer when they run out)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk: expects `chunks` to be greater than 0, got {chunks} "
                           f"(input shape {tuple(input.shape)})")
    d = _split_dim("chunk", input, dim)
    n = input.shape[d]
    size = -(-n // chunks)
    if n == 0:
        return Split.apply(input, (0,) * chunks, d)
    return split(input, size, d)


def tensor_split(input, indices_or_sections, dim=0):
    """sections (int): n split into `sections` parts, the first n % sections one longer;
    indices (sequence): cut before each index (clamped to [0, n])."""
    d = _split_dim("tensor_split", input, dim)
    n = input.shape[d]
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        arg = arg.data.tolist()
    if isinstance(arg, (int, np.integer)):
        k, = _ints("tensor_split", (arg,))
        if k <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be larger than 0, got "
                               f"{k}")
        sizes = tuple(n // k + (1 if i < n % k else 0) for i in range(k))
    else:
        # piece i is input[idx[i - 1]:idx[i]] with Python slice semantics
        bounds = [None, *_ints("tensor_split", arg), None]
        spans = []
        for a, b in zip(bounds, bounds[1:]):
            lo, hi, _ = slice(a, b).indices(n)
            spans.append((lo, max(hi - lo, 0)))
        sizes = tuple(length for _, length in spans)
        if [lo for lo, _ in spans] != np.cumsum((0,) + sizes[:-1]).tolist():
            # decreasing indices: pieces overlap or skip, so cut each one separately
            return tuple(narrow(input, d, lo, length) for lo, length in spans)
    return Split.apply(input, sizes, d)


def unbind(input, dim=0):
    """x: (..., n, ...) -> a tuple of n views with dim removed."""
    d = _split_dim("unbind", input, dim)
    return Unbind.apply(input, d)


def narrow(input, dim, start, length):
    """x[..., start:start + length, ...] along dim, a view; start may be negative."""
    d = _split_dim("narrow", input, dim)
    n = input.shape[d]
    start, length = _ints("narrow", (start, length))
    if not -n <= start <= n:
        raise IndexError(f"narrow: start out of range (expected to be in range of [{-n}, {n}], "
                         f"but got {start}) for dim {dim} of shape {tuple(input.shape)}")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError(f"narrow: length must be non-negative, got {length}")
    if start + length > n:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                           f"size ({n}) of dim {dim} of shape {tuple(input.shape)}")
    return Narrow.apply(input, d, start, length)


TENSOR_METHODS = {"split": split, "tensor_split": tensor_split, "chunk": chunk,
                  "unbind": unbind, "narrow": narrow}
INPLACE = []
