"""Helpers shared by the reduction modules (reduce, extrema, softmax, cumulative): dims to
axes, restoring reduced dims for broadcasting, constants."""
import numpy as np

from .. import dtypes
from ..tensor import Tensor
from ._util import normalize_dims, wrap_dim


def _const(arr):
    """A constant Tensor (no gradient) around an ndarray."""
    return Tensor._make(np.asarray(arr), False, None, 0)


def _keep(g, axes, keepdim):
    """g with the reduced axes restored as size-1 dims, ready to broadcast."""
    if keepdim or not axes or g.ndim == 0:     # a 0-d g broadcasts as it is
        return g
    shape = list(g.shape)
    for ax in axes:
        shape.insert(ax, 1)
    return g.reshape(tuple(shape))


def _dims(op, x, dim):
    """dim (None, int or sequence; an empty sequence means all, as in PyTorch) as sorted axes."""
    if _is_whole(dim):
        return tuple(range(x.ndim))
    try:
        return normalize_dims(dim, x.ndim, op)
    except IndexError as e:
        raise IndexError(f"{e}; input of shape {tuple(x.shape)}") from None


def _axis(op, x, dim):
    """A single int dim as an axis (0 for a 0-d input, which accepts 0 and -1)."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {dim!r} (input of shape "
                        f"{tuple(x.shape)})")
    try:
        return wrap_dim(int(dim), x.ndim, op)
    except IndexError as e:
        raise IndexError(f"{e}; input of shape {tuple(x.shape)}") from None


def _is_whole(dim):
    return dim is None or (isinstance(dim, (tuple, list)) and not dim)


def _int_accumulator(x, dtype):
    """PyTorch accumulates integer and bool sums/products in int64."""
    if dtype is not None:
        return dtypes.to_dtype(dtype)
    return np.dtype(np.int64) if x.data.dtype.kind in "biu" else None


def _omit_each(x, axis):
    """x: (..., n, ...) -> (..., n_k, n, ...): copy k of x has its element k set to 1."""
    n = x.shape[axis]
    eye = np.eye(n, dtype=x.dtype).reshape((n, n) + (1,) * (x.ndim - axis - 1))
    xk = x.reshape(x.shape[:axis] + (1,) + x.shape[axis:])
    return xk * _const(1 - eye) + _const(eye)
