"""Scans along one dim (re-exported by reduce.py); the output has the input's shape.

    cumsum(x, d)     dx = revcumsum(g)                        (revcumsum_k = sum_{i >= k})
    cumprod(x, d)    dx_k = sum_{i >= k} g_i prod_{j <= i, j != k} x_j
                          = revcumsum(g y)_k / x_k            when no x_j is 0

With zeros, cumprod's gradient follows PyTorch: an O(n) formula around the first zero of each
slice for values, and under create_graph an O(n^2) Tensor expression exact to every order.
"""
import numpy as np

from ..function import Function
from ..grad_mode import _State
from .reduce import _axis, _const, _int_accumulator, _omit_each

__all__ = ["cumsum", "cumprod"]


def _revcumsum(a, axis, dtype=None):
    """sum_{j >= i} a_j along axis (ndarray)."""
    return np.flip(np.cumsum(np.flip(a, axis), axis, dtype), axis)


class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, axis, reverse, dtype):
        ctx.axis, ctx.reverse = axis, reverse
        return _revcumsum(x.data, axis, dtype) if reverse else np.cumsum(x.data, axis, dtype)

    @staticmethod
    def backward(ctx, g):
        # d cumsum = reversed cumsum (and back)
        return Cumsum.apply(g, ctx.axis, not ctx.reverse, None), None, None, None


class Cumprod(Function):
    @staticmethod
    def forward(ctx, x, axis, dtype):
        y = np.cumprod(x.data, axis, dtype)
        ctx.axis = axis
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        axis = ctx.axis
        n = x.shape[axis]
        if n <= 1:
            return g, None, None
        if not (x.data == 0).any():
            return Cumsum.apply(g * y, axis, True, None) / x, None, None   # revcumsum(g y) / x
        if _State.enabled:
            # exact to every order: dx_k = sum_{i >= k} g_i cumprod_i(x with x_k := 1)
            c = Cumprod.apply(_omit_each(x, axis), axis + 1, None)
            upper = np.triu(np.ones((n, n), x.dtype)).reshape((n, n) + (1,) * (x.ndim - axis - 1))
            gi = g.reshape(g.shape[:axis] + (1,) + g.shape[axis:])
            return (c * gi * _const(upper)).sum(axis + 1), None, None
        return _const(_cumprod_grad_zeros(x.data, y.data, g.data, axis)), None, None


def _cumprod_grad_zeros(x, y, g, axis):
    """The cumprod gradient (ndarray) when x has zeros; z is the first zero of a slice:
    k < z: revcumsum(g y)_k / x_k;   k == z: prod_{j<z} x_j sum_{i>=z} g_i prod_{z<j<=i} x_j;
    k > z: 0."""
    zero = x == 0
    seen = np.cumsum(zero, axis)                    # zeros at or before each position
    before, first = seen == 0, zero & (seen == 1)
    dx = _revcumsum(g * y, axis) / np.where(before, x, 1)
    left = np.cumprod(np.where(before, x, 1), axis)                # prod_{j<z} x_j at z
    right = np.cumprod(np.where((seen >= 1) & ~first, x, 1), axis)  # prod_{z<j<=i} x_j
    at_z = left * _revcumsum(g * right, axis)
    return np.where(first, at_z, np.where(before, dx, 0)).astype(x.dtype)


def _scan(op, Fn, input, dim, dtype, *extra):
    if dtype is not None:
        input = input.to(dtype)
    acc = _int_accumulator(input, None)
    axis = _axis(op, input, dim)
    if input.ndim == 0:
        return Fn.apply(input.reshape(1), 0, *extra, acc).reshape(())
    return Fn.apply(input, axis, *extra, acc)


def cumsum(input, dim, *, dtype=None):
    """x: (..., n, ...) -> running sums along dim (integers accumulate in int64)."""
    return _scan("cumsum", Cumsum, input, dim, dtype, False)


def cumprod(input, dim, *, dtype=None):
    """x: (..., n, ...) -> running products along dim; exact gradients with zeros."""
    return _scan("cumprod", Cumprod, input, dim, dtype)
