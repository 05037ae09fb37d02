"""The softmax family, fused for numerical stability (re-exported by reduce.py).

With m = max(x) over the reduced dims (0 where it is infinite), every exp sees x - m <= 0:

    softmax(x, d)          y = exp(x - m) / sum exp(x - m)     dx = y * (g - sum(g * y))
    log_softmax(x, d)      y = x - m - log sum exp(x - m)      dx = g - exp(y) * sum(g)
    logsumexp(x, dim)      y = m + log sum exp(x - m)          dx = g↑ * exp(x - y↑)

The backward formulas use the saved output y as a Tensor, so they differentiate again.
"""
import numpy as np

from .. import dtypes
from ..function import Function
from .reduce import _axis, _dims, _keep

__all__ = ["softmax", "log_softmax", "logsumexp"]


def _shift(x, axes):
    """m = max of x over axes (keepdims), 0 where that max is infinite (or the dims empty)."""
    m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0)


class _Exp(Function):
    """exp for the backward formulas (d exp = exp)."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x.data)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        """x: (..., n, ...) -> y: same shape, summing to 1 along axis."""
        e = np.exp(x.data - _shift(x.data, axis))
        y = e / np.sum(e, axis=axis, keepdims=True)
        ctx.axis = axis
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return y * (g - (g * y).sum(ctx.axis, keepdim=True)), None    # dx = y (g - <g, y>)


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        s = x.data - _shift(x.data, axis)
        with np.errstate(divide="ignore"):
            y = s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))
        ctx.axis = axis
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g - _Exp.apply(y) * g.sum(ctx.axis, keepdim=True), None  # dx = g - softmax sum g


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        """x: (...) -> y: x's shape without `axes` (kept as size 1 when keepdim)."""
        m = _shift(x.data, axes)
        with np.errstate(divide="ignore"):
            y = np.log(np.sum(np.exp(x.data - m), axis=axes, keepdims=True)) + m
        if not keepdim:
            y = np.squeeze(y, axis=axes)
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        axes, keepdim = ctx.axes, ctx.keepdim
        return _keep(g, axes, keepdim) * _Exp.apply(x - _keep(y, axes, keepdim)), None, None


def _float_input(op, input, dtype):
    if dtype is not None:
        return input.to(dtype)
    if input.data.dtype.kind not in "fc":
        raise NotImplementedError(f"{op}: not implemented for dtype {input.data.dtype} (input "
                                  f"of shape {tuple(input.shape)}); pass dtype=")
    return input


def softmax(input, dim, dtype=None):
    """x: (..., n, ...) -> exp(x) / sum exp(x) along dim (cast to dtype first if given)."""
    input = _float_input("softmax", input, dtype)
    axis = _axis("softmax", input, dim)
    if input.ndim == 0:
        return Softmax.apply(input.reshape(1), 0).reshape(())
    return Softmax.apply(input, axis)


def log_softmax(input, dim, dtype=None):
    """x: (..., n, ...) -> x - logsumexp(x) along dim (cast to dtype first if given)."""
    input = _float_input("log_softmax", input, dtype)
    axis = _axis("log_softmax", input, dim)
    if input.ndim == 0:
        return LogSoftmax.apply(input.reshape(1), 0).reshape(())
    return LogSoftmax.apply(input, axis)


def logsumexp(input, dim, keepdim=False):
    """x: (...) -> log sum exp(x) over dim (int or tuple); integers give the default float."""
    if input.data.dtype.kind not in "fc":
        input = input.to(dtypes.get_default_dtype())
    return LogSumExp.apply(input, _dims("logsumexp", input, dim), keepdim)
