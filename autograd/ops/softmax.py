"""The softmax family, fused for numerical stability (re-exported by reduce.py).

With m = max(x) over the reduced dims, every exp sees x - m <= 0:

    softmax(x, d)          y = exp(x - m) / sum exp(x - m)     dx = y * (g - sum(g * y))
    log_softmax(x, d)      y = x - m - log sum exp(x - m)      dx = g - exp(y) * sum(g)
    logsumexp(x, dim)      y = m + log sum exp(x - m)          dx = g↑ * exp(x - y↑)

A row whose max is +-inf or nan gives nan in softmax and log_softmax, as in PyTorch; logsumexp
shifts such rows by 0 instead (m = 0 where the max is not finite), so it gives +-inf there.

float32 along the last dim runs the numba row kernels (autograd/kernels/softmax.py: one pass
per row in L1, a vectorised float32 exp); other dtypes and dims run numpy.

The backward passes are primitives too (SoftmaxBackward, LogSoftmaxBackward: the kernels
again), whose own backward is composed of Tensor ops, so gradients of any order work:

    SoftmaxBackward(y, g)      dx = y (g - <g, y>)
                               d/dg = y (h - <h, y>)           (SoftmaxBackward(y, h))
                               d/dy = h (g - <g, y>) - <h, y> g
    LogSoftmaxBackward(y, g)   dx = g - p <g, 1>,  p = exp(y)
                               d/dg = h - <h, p>,   d/dy = -h p <g, 1>
"""
import numpy as np

from .. import dtypes
from ..function import Function
from ..kernels import activation_threads
from ..kernels import softmax as kernels
from .reduce import _axis, _dims, _keep

__all__ = ["softmax", "log_softmax", "logsumexp"]


def _shift(x, axes):
    """m = max of x over axes (keepdims), 0 where that max is infinite (or the dims empty)."""
    m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    return np.where(np.isfinite(m), m, 0)


def _rows(a, axis):
    """a as C-contiguous (R, K) float32 rows when the kernels apply (float32, reducing the
    last axis, not empty), else None."""
    if a.dtype != np.float32 or axis != a.ndim - 1 or a.size == 0:
        return None
    return np.ascontiguousarray(a).reshape(-1, a.shape[-1])


def _run(kernel, *arrays):
    """kernel(*rows, out) on the rows of arrays (all of one shape); returns out, unflattened."""
    rows = [np.ascontiguousarray(a).reshape(-1, a.shape[-1]) for a in arrays]
    out = np.empty(arrays[0].shape, np.float32)
    activation_threads.softmax_rows(kernel, *rows, out.reshape(rows[0].shape))
    return out


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
        a = x.data
        ctx.axis = axis
        if _rows(a, axis) is not None:
            y = _run(kernels.softmax_forward, a)
        else:
            with np.errstate(invalid="ignore"):                 # inf - inf: nan, as PyTorch
                y = np.subtract(a, np.max(a, axis=axis, keepdims=True, initial=-np.inf))
                np.exp(y, out=y)
                y /= np.sum(y, axis=axis, keepdims=True)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return SoftmaxBackward.apply(y, g, ctx.axis), None


class SoftmaxBackward(Function):
    @staticmethod
    def forward(ctx, y, g, axis):
        """y, g: (..., n, ...) -> dx = y (g - sum(g y) along axis)."""
        ctx.axis = axis
        ctx.save_for_backward(y, g)
        a, b = y.data, g.data
        if _rows(a, axis) is not None and b.dtype == a.dtype:
            return _run(kernels.softmax_backward, a, np.broadcast_to(b, a.shape))
        dx = np.multiply(b, a)
        s = np.sum(dx, axis=axis, keepdims=True)
        np.subtract(b, s, out=dx)
        dx *= a
        return dx

    @staticmethod
    def backward(ctx, h):
        y, g = ctx.saved_tensors
        axis = ctx.axis
        dy = dg = None
        if ctx.needs_input_grad[0]:
            hy = (h * y).sum(axis, keepdim=True)
            dy = h * (g - (g * y).sum(axis, keepdim=True)) - hy * g
        if ctx.needs_input_grad[1]:
            dg = SoftmaxBackward.apply(y, h, axis)             # d/dg = y (h - <h, y>)
        return dy, dg, None


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        a = x.data
        ctx.axis = axis
        if _rows(a, axis) is not None:
            y = _run(kernels.log_softmax_forward, a)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                y = np.subtract(a, np.max(a, axis=axis, keepdims=True, initial=-np.inf))
                y -= np.log(np.sum(np.exp(y), axis=axis, keepdims=True))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return LogSoftmaxBackward.apply(y, g, ctx.axis), None


class LogSoftmaxBackward(Function):
    @staticmethod
    def forward(ctx, y, g, axis):
        """y, g: (..., n, ...) -> dx = g - exp(y) sum(g) along axis."""
        ctx.axis = axis
        ctx.save_for_backward(y, g)
        a, b = y.data, g.data
        if _rows(a, axis) is not None and b.dtype == a.dtype:
            return _run(kernels.log_softmax_backward, a, np.broadcast_to(b, a.shape))
        dx = np.exp(a)
        dx *= np.sum(b, axis=axis, keepdims=True)
        np.subtract(b, dx, out=dx)
        return dx

    @staticmethod
    def backward(ctx, h):
        y, g = ctx.saved_tensors
        axis = ctx.axis
        p = _Exp.apply(y)
        dy = dg = None
        if ctx.needs_input_grad[0]:
            dy = -(h * p) * g.sum(axis, keepdim=True)          # d/dy = -h p <g, 1>
        if ctx.needs_input_grad[1]:
            dg = h - (h * p).sum(axis, keepdim=True)           # d/dg = h - <h, p>
        return dy, dg, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        """x: (...) -> y: x's shape without `axes` (kept as size 1 when keepdim)."""
        a = x.data
        rows = _rows(a, axes[0]) if len(axes) == 1 else None
        if rows is not None:
            y = np.empty(a.shape[:-1] + (1,), np.float32)
            kernels.logsumexp_forward(rows, y.reshape(-1))
        else:
            m = _shift(a, axes)
            with np.errstate(divide="ignore"):
                y = np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True)) + m
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
