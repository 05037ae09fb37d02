"""Helpers shared by the primitive families: operand promotion, dims, error messages."""
import math

import numpy as np

from .. import dtypes
from ..grad_mode import _State
from ..tensor import Tensor, _wrap_dim

__all__ = ["broadcast_view", "as_tensor", "promote_pair", "wrap_dim", "normalize_dims",
           "check_broadcast", "on_copy", "inplace_on_copy"]

wrap_dim = _wrap_dim


def as_tensor(x, dtype=None):
    """A Tensor for x (a Tensor is returned as is; a scalar or array becomes a constant)."""
    if isinstance(x, Tensor):
        return x
    if dtype is None:
        dtype = dtypes.scalar_dtype(x) if np.ndim(x) == 0 and not isinstance(x, np.ndarray) \
            else None
    arr = np.asarray(x, dtype=dtype)
    if dtype is None and arr.dtype == np.float64 and not isinstance(x, np.ndarray):
        arr = arr.astype(dtypes.get_default_dtype())
    return Tensor._make(arr, False, None, 0)


def promote_pair(a, b):
    """Two Tensors of the PyTorch-promoted dtype of (a, b); a or b may be a Python scalar."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a.data.dtype is b.data.dtype:
                return a, b
        elif isinstance(b, (float, int)) and dtypes._category(dtypes.scalar_dtype(b)) <= \
                dtypes._category(a.data.dtype):
            return a, Tensor._make(np.array(b, a.data.dtype), False, None, 0)
    elif isinstance(b, Tensor) and isinstance(a, (float, int)) and \
            dtypes._category(dtypes.scalar_dtype(a)) <= dtypes._category(b.data.dtype):
        return Tensor._make(np.array(a, b.data.dtype), False, None, 0), b
    dtype = dtypes.result_type(a, b)
    return as_tensor(a, dtype).to(dtype), as_tensor(b, dtype).to(dtype)


def normalize_dims(dim, ndim, op_name):
    """dim (None, int or sequence) as a sorted tuple of non-negative axes (None: all)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        axis = wrap_dim(int(dim), ndim, op_name)
        return (axis,) if ndim else ()
    axes = tuple(sorted({wrap_dim(int(d), ndim, op_name) for d in dim}))
    if len(axes) != len(dim):
        raise RuntimeError(f"{op_name}: dim {tuple(dim)} appears multiple times in the list")
    if ndim == 0:
        return ()
    return axes


def check_broadcast(op_name, *shapes):
    """Raise a clear error when the shapes cannot broadcast together."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        shown = " and ".join(str(tuple(s)) for s in shapes)
        raise RuntimeError(f"{op_name}: the shapes {shown} cannot be broadcast together") \
            from None


def broadcast_view(arr, shape):
    """np.broadcast_to(arr, shape) as a read-only view, built directly from strides: numpy's
    own costs ~2 us of Python per call, which dominates small backward passes."""
    if not arr.flags.c_contiguous:
        return np.broadcast_to(arr, shape)
    lead = len(shape) - arr.ndim
    strides = [0] * lead
    for n, stride, target in zip(arr.shape, arr.strides, shape[lead:]):
        strides.append(stride if n == target else 0)
    view = np.ndarray(shape, arr.dtype, arr, 0, tuple(strides))
    view.flags.writeable = False
    return view


_SELECT_MIN_SIZE = 4096      # below this np.where's single call is cheaper


def select(cond, a, b):
    """np.where(cond, a, b) (broadcasting) for arrays a and b of one dtype, bit-exact.

    numpy's where branches per element and is slow on irregular masks (1.9 ms against 44 µs
    for a multiply on 262k float32 here); for large arrays this blends the raw bits instead:
    out = (a & m) | (b & ~m) with m all ones where cond holds, in a few vectorised passes."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.dtype.itemsize not in (1, 2, 4, 8) or a.dtype.kind == "c":
        return np.where(cond, a, b)
    shape = np.broadcast_shapes(np.shape(cond), a.shape, b.shape)
    if math.prod(shape) < _SELECT_MIN_SIZE:
        return np.where(cond, a, b)
    bits = np.dtype(f"u{a.dtype.itemsize}")
    mask = np.broadcast_to(cond, shape).astype(bits)
    np.negative(mask, out=mask)                       # 1 -> all ones, 0 -> 0
    out = np.bitwise_and(np.broadcast_to(a.view(bits), shape), mask)
    np.invert(mask, out=mask)
    np.bitwise_and(b.view(bits), mask, out=mask)
    np.bitwise_or(out, mask, out=out)
    return out.view(a.dtype)


# -- in-place variants that must not overwrite a saved input ---------------------------------
def on_copy(input, fn, *args, **kwargs):
    """fn(input) on a clone of input when the op is recorded. For the in-place variant of an
    op that saves its input: the write into input that follows must not overwrite the saved
    value (PyTorch saves the original self the same way)."""
    if _State.enabled and (input.requires_grad or any(
            isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values()))):
        input = input.clone()
    return fn(input, *args, **kwargs)


def inplace_on_copy(name, fn):
    """The Tensor method name_ for an op fn that saves its input (x * y saves x for dy,
    x ** p saves x, ...): Tensor._inplace runs fn on a copy of x when recorded."""
    def method(self, *args, **kwargs):
        return self._inplace(name + "_", on_copy, fn, *args, **kwargs)
    method.__name__ = name + "_"
    method.__doc__ = f"In-place {name}: x.{name}_(...) writes {name}(x, ...) into x."
    return method
