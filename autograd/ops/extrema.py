"""Extrema (re-exported by reduce.py). g↑ is g with the reduced axes restored as size-1 dims.

    amax(x, dim)           dx = g↑ * [x == y] / #ties           (amin, max(x), min(x) alike)
    max(x, dim)            dx = g↑ * onehot(indices)            (min(x, dim) alike)
    argmax(x, dim)         int64 indices, no gradient           (argmin alike)

max(x, other) and min(x, other) are the elementwise unary.maximum and unary.minimum.
Backward rules are Tensor expressions (masks enter as constants), so they differentiate again.
"""
from collections import namedtuple

import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._reduce_util import _axis, _const, _dims, _is_whole, _keep

__all__ = ["max", "min", "amax", "amin", "argmax", "argmin"]


# -- helpers ---------------------------------------------------------------------------------
def _keep_arr(a, axes, keepdim):
    return a if keepdim or not axes else np.expand_dims(a, axes)


def _require_nonempty(op, x, axes, whole, error=RuntimeError):
    """max/min-like reductions have no identity: reducing an empty dim is an error."""
    if x.data.size == 0 and any(x.shape[a] == 0 for a in axes):
        if whole:
            raise error(f"{op}(): Expected reduction dim to be specified for input.numel() == 0"
                        f" (input of shape {tuple(x.shape)}); specify the dim argument")
        a = next(a for a in axes if x.shape[a] == 0)
        raise IndexError(f"{op}(): Expected reduction dim {a} to have non-zero size (input "
                         f"of shape {tuple(x.shape)})")


# -- max, min, amax, amin, argmax, argmin ----------------------------------------------------
class _SplitTies(Function):
    """amax/amin: the gradient is shared evenly among the elements equal to the result."""

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        axes, keepdim = ctx.axes, ctx.keepdim
        yk = _keep_arr(y.data, axes, keepdim)
        mask = (x.data == yk) | (np.isnan(x.data) & np.isnan(yk))
        w = (mask / mask.sum(axis=axes, keepdims=True)).astype(x.dtype)  # [x == y] / #ties
        return _keep(g, axes, keepdim) * _const(w), None, None


class Amax(_SplitTies):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        y = np.asarray(np.max(x.data, axis=axes, keepdims=keepdim))
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.save_for_backward(x, y)
        return y


class Amin(_SplitTies):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        y = np.asarray(np.min(x.data, axis=axes, keepdims=keepdim))
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.save_for_backward(x, y)
        return y


class _SelectIndex(Function):
    """max/min with dim: the values at `indices`; the gradient goes to those indices only."""

    @staticmethod
    def forward(ctx, x, idx, axis, keepdim):
        """x: (..., n, ...), idx: (..., 1, ...) int64 -> values (keepdim) or squeezed."""
        ctx.shape, ctx.axis, ctx.keepdim = x.data.shape, axis, keepdim
        ctx.save_arrays(idx)
        v = np.take_along_axis(x.data, idx, axis)
        return v if keepdim else np.squeeze(v, axis)

    @staticmethod
    def backward(ctx, g):
        idx, = ctx.saved_arrays
        axis, n = ctx.axis, ctx.shape[ctx.axis]
        pos = np.arange(n).reshape((n,) + (1,) * (len(ctx.shape) - axis - 1))
        onehot = (pos == idx).astype(g.dtype)                  # dx = g↑ * onehot(idx)
        return _keep(g, (axis,), ctx.keepdim) * _const(onehot), None, None, None


class MaxDim(_SelectIndex):
    pass


class MinDim(_SelectIndex):
    pass


max_result = namedtuple("max", ["values", "indices"])
min_result = namedtuple("min", ["values", "indices"])


def _extreme(op, Whole, Select, arg, result, input, dim, keepdim):
    """max/min: no dim -> 0-d value (ties split evenly); dim -> (values, indices)."""
    if isinstance(dim, Tensor):
        from . import unary      # binary form, max(input, other): elementwise
        return getattr(unary, "maximum" if op == "max" else "minimum")(input, dim)
    if dim is None:
        _require_nonempty(op, input, tuple(range(input.ndim)), True)
        return Whole.apply(input, tuple(range(input.ndim)), False)
    axis = _axis(op, input, dim)
    if input.ndim == 0:
        values, indices = _extreme(op, Whole, Select, arg, result, input.reshape(1), 0, False)
        return result(values.reshape(()), _const(indices.data.reshape(())))
    _require_nonempty(op, input, (axis,), False)
    idx = arg(input.data, axis=axis, keepdims=True).astype(np.int64)
    values = Select.apply(input, idx, axis, keepdim)
    return result(values, _const(idx if keepdim else np.squeeze(idx, axis)))


def max(input, dim=None, keepdim=False):
    """max(x) -> 0-d;  max(x, dim, keepdim) -> (values, indices);  max(x, other) -> maximum."""
    return _extreme("max", Amax, MaxDim, np.argmax, max_result, input, dim, keepdim)


def min(input, dim=None, keepdim=False):
    """min(x) -> 0-d;  min(x, dim, keepdim) -> (values, indices);  min(x, other) -> minimum."""
    return _extreme("min", Amin, MinDim, np.argmin, min_result, input, dim, keepdim)


def amax(input, dim=(), keepdim=False):
    """x: (...) -> max over dim (int or tuple; all when () or None); ties share the gradient."""
    axes = _dims("amax", input, dim)
    _require_nonempty("amax", input, axes, _is_whole(dim))
    return Amax.apply(input, axes, keepdim)


def amin(input, dim=(), keepdim=False):
    axes = _dims("amin", input, dim)
    _require_nonempty("amin", input, axes, _is_whole(dim))
    return Amin.apply(input, axes, keepdim)


def _arg(op, fn, input, dim, keepdim):
    if dim is None:
        _require_nonempty(op, input, tuple(range(input.ndim)), True, IndexError)
        idx = np.asarray(fn(input.data), dtype=np.int64)
        return _const(idx.reshape((1,) * input.ndim) if keepdim else idx)
    axis = _axis(op, input, dim)
    if input.ndim == 0:
        return _const(np.zeros((), np.int64))
    _require_nonempty(op, input, (axis,), False)
    return _const(np.asarray(fn(input.data, axis=axis, keepdims=keepdim), dtype=np.int64))


def argmax(input, dim=None, keepdim=False):
    """Index (int64) of the first maximum: over the flattened input when dim is None."""
    return _arg("argmax", np.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _arg("argmin", np.argmin, input, dim, keepdim)
