"""Reductions. g↑ is g with the reduced axes restored as size-1 dims (broadcasts).

    sum(x, dim)            dx = g↑
    mean(x, dim)           dx = g↑ / N
    prod(x, dim)           dx = g↑ * prod_{j != i} x_j          (= g↑ * y / x when no zero)
    var(x, dim, c)         dx = g↑ * 2 (x - mean x) / (N - c)
    std(x, dim, c)         dx = g↑ * (x - mean x) / ((N - c) y)  (0 where y == 0)
    norm(x, p, dim)        dx = g↑ * x |x|^(p-2) / y^(p-1)      (0 where y == 0)
                           p = 1: g↑ sign(x);  p = +-inf: g↑ sign(x) [|x| == y] / #ties
    sum_to_shape(x, s)     dx = broadcast_to(g, x.shape)        (the engine's unbroadcast)

max, min, amax, amin, argmax and argmin (extrema.py), cumsum and cumprod (cumulative.py) and
softmax, log_softmax and logsumexp (softmax.py) are re-exported from here.
Backward rules are Tensor expressions (masks enter as constants), so they differentiate again.
"""
import math

import numpy as np

from ..function import Function
from ..grad_mode import _State
from ._util import inplace_on_copy
from ._reduce_util import _axis, _const, _dims, _int_accumulator, _keep, _omit_each
from .shape import Expand

__all__ = ["sum", "sum_to_shape", "mean", "prod", "max", "min", "amax", "amin", "argmax",
           "argmin", "var", "std", "norm", "cumsum", "cumprod", "softmax", "log_softmax",
           "logsumexp"]

_INF = math.inf


# -- helpers ---------------------------------------------------------------------------------
def _count(shape, axes):
    return math.prod(shape[a] for a in axes)


def _require_float(op, x, what="floating point"):
    if x.data.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: expected a {what} input, got dtype {x.data.dtype} (shape "
                           f"{tuple(x.shape)})")


def _zero_guard(y):
    """(y with zeros replaced by 1, float mask of y != 0) or (y, None) when y has no zero."""
    zero = y.data == 0
    if not zero.any():
        return y, None
    return y + _const(zero.astype(y.dtype)), _const((~zero).astype(y.dtype))


# -- sum, mean -------------------------------------------------------------------------------
class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.data.shape, axes, keepdim
        return np.add.reduce(x.data, axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        # dx = g broadcast over the summed axes (g's shape is always compatible: no checks)
        return Expand.apply(_keep(g, ctx.axes, ctx.keepdim), ctx.shape), None, None, None


class SumToShape(Function):
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.data.shape
        lead = x.data.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.data.shape[lead + i] != 1)
        out = np.sum(x.data, axis=axes, keepdims=True) if axes else x.data
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.expand(ctx.shape), None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.data.shape, axes, keepdim
        ctx.n = _count(x.data.shape, axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.true_divide(np.sum(x.data, axis=axes, keepdims=keepdim), ctx.n)

    @staticmethod
    def backward(ctx, g):
        scale = 1.0 / ctx.n if ctx.n else math.nan     # d mean = 1 / N
        return _keep(g, ctx.axes, ctx.keepdim).expand(ctx.shape) * scale, None, None


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """x: (...) -> reduced over dim (all dims when None or ())."""
    axes = _dims("sum", input, dim)
    return Sum.apply(input, axes, keepdim, _int_accumulator(input, dtype))


def sum_to_shape(input, shape):
    """Sum a broadcast tensor back to `shape` (raises ValueError when it cannot be)."""
    shape = tuple(shape)
    if input.data.shape == shape:
        return input
    try:
        full = np.broadcast_shapes(shape, input.data.shape)
    except ValueError:
        raise ValueError(f"sum_to_shape: {input.shape} cannot be summed to {shape}") from None
    if full != input.data.shape:
        raise ValueError(f"sum_to_shape: {input.shape} cannot be summed to {shape}")
    return SumToShape.apply(input, shape)


def _sum_to_size(input, *size):
    return sum_to_shape(input, size[0] if len(size) == 1 and isinstance(size[0], (tuple, list))
                        else size)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """x: (...) -> mean over dim (all dims when None or ()); float inputs only."""
    if dtype is not None:
        input = input.to(dtype)
    if input.data.dtype.kind not in "fc":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.data.dtype} (shape {tuple(input.shape)})")
    return Mean.apply(input, _dims("mean", input, dim), keepdim)


# -- prod ------------------------------------------------------------------------------------
class Prod(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdim, dtype):
        y = np.asarray(np.prod(x.data, axis=axis, keepdims=keepdim, dtype=dtype))
        ctx.axis, ctx.keepdim = axis, keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        axis, keepdim = ctx.axis, ctx.keepdim
        g = _keep(g, (axis,), keepdim)
        if not (x.data == 0).any():
            return g * (_keep(y, (axis,), keepdim) / x), None, None, None   # d y = y / x_i
        if _State.enabled:
            # prod_{j != k} x_j as a Tensor expression: exact to every order
            others = Prod.apply(_omit_each(x, axis), axis + 1, False, None)
        else:
            others = _const(_prod_others(x.data, axis))
        return g * others, None, None, None


def _prod_others(x, axis):
    """prod_{j != k} x_j along axis for every k (ndarray; x has zeros)."""
    zero = x == 0
    count = zero.sum(axis, keepdims=True)
    nonzero = np.where(zero, 1, x)
    p1 = np.prod(nonzero, axis, keepdims=True)                 # product of the non-zeros
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(count == 0, p1 / nonzero, np.where((count == 1) & zero, p1, 0))
    return out.astype(x.dtype)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """x: (...) -> product over one dim (all elements when None)."""
    if dtype is not None:
        input = input.to(dtype)
    acc = _int_accumulator(input, None)
    if dim is None:
        return Prod.apply(input.reshape(-1), 0, False, acc)
    axis = _axis("prod", input, dim)
    if input.ndim == 0:
        return Prod.apply(input.reshape(1), 0, False, acc).reshape(())
    return Prod.apply(input, axis, keepdim, acc)


# -- var, std --------------------------------------------------------------------------------
def _variance(x, axes, dof):
    """Sum of squared deviations over axes / dof (keepdims), as an ndarray of x's dtype."""
    n = _count(x.shape, axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = x - np.true_divide(np.sum(x, axis=axes, keepdims=True), n)
        return np.true_divide(np.sum(d * d, axis=axes, keepdims=True), dof)


def _var_grad(g, x, axes, dof, whole):
    """d var / dx = 2 (x - mean x) / (N - c), times g (keepdim shape). As in PyTorch, a
    reduction over everything with N <= c gives g * (nan where x == mean x, else inf)."""
    mean = Mean.apply(x, axes, True)
    if whole and dof <= 0:
        return g * _const(np.where(x.data == mean.data, np.nan, np.inf).astype(x.dtype))
    return g * (x - mean) * (2.0 / dof if dof else _INF)


class Var(Function):
    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, whole):
        ctx.axes, ctx.keepdim, ctx.whole = axes, keepdim, whole
        ctx.dof = _count(x.data.shape, axes) - correction       # N - c
        ctx.save_for_backward(x)
        v = _variance(x.data, axes, ctx.dof if ctx.dof > 0 else 0.0)
        return v if keepdim else np.squeeze(v, axis=axes)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        g = _keep(g, ctx.axes, ctx.keepdim)
        return _var_grad(g, x, ctx.axes, ctx.dof, ctx.whole), None, None, None, None


class Std(Function):
    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, whole):
        ctx.axes, ctx.keepdim, ctx.whole = axes, keepdim, whole
        ctx.dof = _count(x.data.shape, axes) - correction
        y = np.sqrt(_variance(x.data, axes, ctx.dof if ctx.dof > 0 else 0.0))
        if not keepdim:
            y = np.squeeze(y, axis=axes)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        axes = ctx.axes
        y, nonzero = _zero_guard(_keep(y, axes, ctx.keepdim))
        gv = _keep(g, axes, ctx.keepdim) / (y * 2.0)          # d std = d var / (2 std)
        if nonzero is not None:
            gv = gv * nonzero                                   # 0 where std == 0
        return _var_grad(gv, x, axes, ctx.dof, ctx.whole), None, None, None, None


def _var_args(op, input, dim, unbiased, correction):
    """(axes, correction, whole): whole when no dim is given or the input is 0-d."""
    _require_float(op, input, "floating point (std and var only support floating point)")
    if isinstance(dim, bool):              # legacy var(x, unbiased)
        dim, unbiased = None, dim
    if correction is None:
        correction = 0 if unbiased is False else 1
    elif unbiased is not None:
        raise RuntimeError(f"{op}: cannot specify both unbiased and correction")
    return _dims(op, input, dim), float(correction), dim is None or input.ndim == 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """x: (...) -> sum (x - mean)^2 / (N - correction) over dim (correction=1 by default)."""
    axes, correction, whole = _var_args("var", input, dim, unbiased, correction)
    return Var.apply(input, axes, correction, keepdim, whole)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """x: (...) -> sqrt(var(x, dim, correction)); its gradient is 0 where std is 0."""
    axes, correction, whole = _var_args("std", input, dim, unbiased, correction)
    return Std.apply(input, axes, correction, keepdim, whole)


# -- norm ------------------------------------------------------------------------------------
class Norm(Function):
    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        a = np.abs(x.data)
        kw = dict(axis=axes, keepdims=keepdim)
        if p == 2:
            y = np.sqrt(np.sum(a * a, **kw))
        elif p == 1:
            y = np.sum(a, **kw)
        elif p == _INF:
            y = np.max(a, **kw)
        elif p == -_INF:
            y = np.min(a, **kw)
        elif p == 0:
            y = np.sum(a != 0, **kw).astype(a.dtype)
        else:
            y = np.sum(a ** p, **kw) ** (1.0 / p)
        y = np.asarray(y)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        p, axes, keepdim = ctx.p, ctx.axes, ctx.keepdim
        g, y = _keep(g, axes, keepdim), _keep(y, axes, keepdim)
        sign = np.sign(x.data)
        if p == 0:
            return g * _const(np.zeros_like(x.data)), None, None, None
        if p == 1:
            return g * _const(sign), None, None, None                 # d |x| = sign(x)
        if math.isinf(p):
            mask = np.abs(x.data) == y.data                           # ties share evenly
            w = (sign * mask / mask.sum(axis=axes, keepdims=True)).astype(x.dtype)
            return g * _const(w), None, None, None
        denom, nonzero = _zero_guard(y)
        if p == 2:
            dx = g * x / denom                                        # d ||x|| = x / ||x||
        else:
            absx = x * _const(sign)
            if p < 1:
                # sign(x) |x|^(p-1) (0 at x == 0) * y^(1-p)
                zero = _const((x.data == 0).astype(x.dtype))
                return _const(sign) * (absx + zero) ** (p - 1) * g * y ** (1 - p), None, \
                    None, None
            scaled = _const(sign) * absx ** (p - 1) if p < 2 else x * absx ** (p - 2)
            dx = scaled * (g / denom ** (p - 1))                     # x |x|^(p-2) / y^(p-1)
        if nonzero is not None:
            dx = dx * nonzero                                         # 0 where the norm is 0
        return dx, None, None, None


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over dim (all when None): p = 'fro', 1, 2, inf, -inf, 0 or any float."""
    if dtype is not None:
        input = input.to(dtype)
    _require_float("norm", input)
    if p is None or p == "fro":
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"norm: p='fro' needs dim to be an int or a 2-tuple, got {dim} "
                               f"(input of shape {tuple(input.shape)})")
        p = 2.0
    elif isinstance(p, str):
        raise NotImplementedError(f"norm: p={p!r} is not supported (input of shape "
                                  f"{tuple(input.shape)})")
    axes = _dims("norm", input, dim)
    p = float(p)
    if math.isinf(p) and input.data.size == 0 and any(input.shape[a] == 0 for a in axes):
        raise RuntimeError(f"norm: cannot compute the inf norm on an empty tensor (shape "
                           f"{tuple(input.shape)}) because the operation has no identity")
    return Norm.apply(input, p, axes, keepdim)


# re-exported families; the scans and the softmax family use the helpers above
from .cumulative import cumprod, cumsum  # noqa: E402
from .extrema import amax, amin, argmax, argmin, max, min  # noqa: E402
from .softmax import log_softmax, logsumexp, softmax  # noqa: E402

TENSOR_METHODS = {
    "sum": sum, "sum_to_size": _sum_to_size, "mean": mean, "prod": prod, "max": max,
    "min": min, "amax": amax, "amin": amin, "argmax": argmax, "argmin": argmin, "var": var,
    "std": std, "norm": norm, "cumsum": cumsum, "cumprod": cumprod, "softmax": softmax,
    "log_softmax": log_softmax, "logsumexp": logsumexp,
}
INPLACE = ["cumsum"]
TENSOR_METHODS["cumprod_"] = inplace_on_copy("cumprod", cumprod)      # saves its input
