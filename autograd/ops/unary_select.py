"""Selecting elementwise: clamp, maximum, minimum, where, lerp, nan_to_num, masked_fill
(fill / zero / copy, the out-of-place forms of fill_, zero_ and copy_, are in unary_fill.py).

Operands are promoted to one dtype (PyTorch's rules) and broadcast; rules return gradients in
the broadcast shape and the engine sums them back. These derivatives are piecewise constant,
so forward saves bool masks (constants for higher order), not the inputs. [m] is 1 where the
mask m holds, else 0.

    clamp(x, lo, hi)      dx = g [lo <= x <= hi]
                          dlo = g [x < lo and lo < hi]       dhi = g [x > hi or hi < lo]
                          (one bound: dx = g [x >= lo], dlo = g [x < lo]; likewise for hi)
    maximum(a, b)         da = g [a >= b], halved at ties   db = g [a <= b], halved at ties
    minimum(a, b)         da = g [a <= b], halved at ties   db = g [a >= b], halved at ties
    where(c, a, b)        da = g [c]                         db = g [not c]
    lerp(a, b, w)         da = g (1 - w)       db = g w      dw = g (b - a)
    nan_to_num(x)         dx = g [x finite]
    masked_fill(x, m, v)  dx = g [not m]                     dv = sum(g [m])
"""
import numpy as np

from .. import dtypes
from ..function import Function
from ..tensor import Tensor
from ._util import as_tensor, check_broadcast, inplace_on_copy, promote_pair, select

__all__ = ["clamp", "clip", "clamp_min", "clamp_max", "maximum", "minimum", "where", "lerp",
           "nan_to_num", "masked_fill"]


def _out(value):
    """A ufunc's result as an ndarray (a 0-d input gives a numpy scalar), so that saving
    it for backward saves the output itself."""
    return value if type(value) is np.ndarray else np.asarray(value)


def _zeros(g):
    """The gradient of an input that does not reach the output: zeros shaped like g."""
    return Tensor._make(np.zeros(g.shape, g.dtype), False, None, 0)


def _floating(input):
    """input as a floating Tensor: integers and bools become the default float dtype."""
    if not isinstance(input, Tensor):
        input = as_tensor(input)
    if input.data.dtype.kind not in "fc":
        return Tensor._make(input.data.astype(dtypes.get_default_dtype()), False, None, 0)
    return input


def _cast(value, dtype):
    """value (Tensor or scalar) as a Tensor of dtype; a Tensor is cast differentiably."""
    t = as_tensor(value, None if isinstance(value, Tensor) else dtype)
    return t if t.data.dtype == dtype else t.to(dtype)


# -- clamp -----------------------------------------------------------------------------------

class Clamp(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        a = x.data
        y = a if lo is None else np.maximum(a, lo.data)
        y = y if hi is None else np.minimum(y, hi.data)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            ctx.save_for_backward(*_clamp_masks(a, lo, hi))
        return _out(y)

    @staticmethod
    def backward(ctx, g):
        keep_x, keep_lo, keep_hi = ctx.saved_tensors
        need = ctx.needs_input_grad
        dx = g.where(keep_x, 0.0) if need[0] else None
        dlo = g.where(keep_lo, 0.0) if need[1] else None
        dhi = g.where(keep_hi, 0.0) if need[2] else None
        return dx, dlo, dhi


def _clamp_masks(x, lo, hi):
    """Where the gradient goes to x, to lo and to hi (as PyTorch's clamp_backward)."""
    if hi is None:
        return np.greater_equal(x, lo.data), np.less(x, lo.data), None
    if lo is None:
        return np.less_equal(x, hi.data), None, np.greater(x, hi.data)
    lo, hi = lo.data, hi.data
    keep_x = np.greater_equal(x, lo) & np.less_equal(x, hi)
    keep_lo = np.less(x, lo) & np.less(lo, hi)
    keep_hi = np.greater(x, hi) | np.less(hi, lo)
    return keep_x, keep_lo, keep_hi


def clamp(input, min=None, max=None):
    """min(max(input, min), max); min and max are Python scalars, Tensors or None."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(input, Tensor) and input.data.dtype.kind == "f" and \
            isinstance(min, (int, float, type(None))) and isinstance(max, (int, float, type(None))):
        # the common case, float tensor and scalar bounds: the bounds take the tensor's dtype
        dtype = input.data.dtype
        lo = None if min is None else Tensor._make(np.array(min, dtype), False, None, 0)
        hi = None if max is None else Tensor._make(np.array(max, dtype), False, None, 0)
        return Clamp.apply(input, lo, hi)
    dtype = dtypes.result_type(*[v for v in (input, min, max) if v is not None])
    x = _cast(input, dtype)
    lo = None if min is None else _cast(min, dtype)
    hi = None if max is None else _cast(max, dtype)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        check_broadcast("clamp", *[t.shape for t in (x, lo, hi) if t is not None])
    return Clamp.apply(x, lo, hi)


def clamp_min(input, min):
    return clamp(input, min=min)


def clamp_max(input, max):
    return clamp(input, max=max)


clip = clamp


# -- maximum and minimum ---------------------------------------------------------------------

class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.save_for_backward(np.equal(a.data, b.data), np.less(a.data, b.data),
                                  np.greater(a.data, b.data))
        return _out(np.maximum(a.data, b.data))

    @staticmethod
    def backward(ctx, g):
        tie, a_lt_b, a_gt_b = ctx.saved_tensors
        return _split_at_ties(ctx, g, tie, a_lt_b, a_gt_b)


class Minimum(Function):
    @staticmethod
    def forward(ctx, a, b):
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            ctx.save_for_backward(np.equal(a.data, b.data), np.greater(a.data, b.data),
                                  np.less(a.data, b.data))
        return _out(np.minimum(a.data, b.data))

    @staticmethod
    def backward(ctx, g):
        tie, a_gt_b, a_lt_b = ctx.saved_tensors
        return _split_at_ties(ctx, g, tie, a_gt_b, a_lt_b)


def _split_at_ties(ctx, g, tie, a_loses, b_loses):
    """g to the selected operand, g / 2 to each at a tie (NaN: g to both, as PyTorch)."""
    shared = where(tie, g * 0.5, g)
    da = shared.masked_fill(a_loses, 0.0) if ctx.needs_input_grad[0] else None
    db = shared.masked_fill(b_loses, 0.0) if ctx.needs_input_grad[1] else None
    return da, db


def maximum(input, other):
    return _binary(Maximum, "maximum", input, other)


def minimum(input, other):
    return _binary(Minimum, "minimum", input, other)


def _binary(fn, op_name, a, b):
    a, b = promote_pair(a, b)
    try:
        return fn.apply(a, b)
    except ValueError:
        check_broadcast(op_name, a.shape, b.shape)
        raise


# -- where -----------------------------------------------------------------------------------

class Where(Function):
    @staticmethod
    def forward(ctx, c, a, b):
        ctx.save_for_backward(c)
        return _out(select(c.data, a.data, b.data))

    @staticmethod
    def backward(ctx, g):
        c, = ctx.saved_tensors
        da = where(c, g, 0.0) if ctx.needs_input_grad[1] else None
        db = where(c, 0.0, g) if ctx.needs_input_grad[2] else None
        return None, da, db


def where(condition, input=None, other=None):
    """input where condition holds, else other (broadcast; either may be a Python scalar).
    where(condition) alone is nonzero(condition, as_tuple=True)."""
    c = as_tensor(condition)
    if input is None and other is None:
        return tuple(Tensor._make(i.astype(np.int64), False, None, 0)
                     for i in np.nonzero(np.atleast_1d(c.data)))
    if input is None or other is None:
        raise TypeError("where: expected both input and other (or neither)")
    if c.data.dtype != np.bool_:
        raise RuntimeError(f"where: expected condition to be a bool tensor, but got a tensor "
                           f"with dtype {c.dtype} (shape {tuple(c.shape)})")
    a, b = promote_pair(input, other)
    try:
        return Where.apply(c, a, b)
    except ValueError:
        check_broadcast("where", c.shape, a.shape, b.shape)
        raise


def _where_method(self, condition, other):
    """x.where(condition, y) == where(condition, x, y)."""
    return where(condition, self, other)


# -- lerp ------------------------------------------------------------------------------------

class Lerp(Function):
    @staticmethod
    def forward(ctx, a, b, w):
        if ctx.needs_input_grad[2]:
            ctx.save_for_backward(a, b, w)
        else:
            ctx.save_for_backward(None, None, w if isinstance(w, Tensor) else None)
        ctx.weight = None if isinstance(w, Tensor) else w     # a number (a Tensor is saved)
        a, b = a.data, b.data
        diff = b - a
        if isinstance(w, Tensor):
            wd = w.data
            # PyTorch's formula: the branch nearer the weight's end is the more exact one
            return _out(np.where(wd < 0.5, a + wd * diff, b - diff * (1.0 - wd)))
        if w < 0.5:
            return _out(a + w * diff)
        return _out(b - diff * (1.0 - w))

    @staticmethod
    def backward(ctx, g):
        a, b, w = ctx.saved_tensors
        if w is None:
            w = ctx.weight
        need = ctx.needs_input_grad
        da = g * (1.0 - w) if need[0] else None
        db = g * w if need[1] else None
        dw = g * (b - a) if need[2] else None
        return da, db, dw


def lerp(input, end, weight):
    """input + weight * (end - input); weight is a Python scalar or a Tensor (broadcast)."""
    a, b = as_tensor(input), as_tensor(end)
    if a.data.dtype.kind != "f":
        raise RuntimeError(f"lerp: expected floating point tensors, got dtype {a.dtype}")
    if a.data.dtype != b.data.dtype:
        raise RuntimeError(f"lerp: expected dtype {a.dtype} for `end` but got dtype {b.dtype}")
    shapes = [a.shape, b.shape]
    if isinstance(weight, Tensor):
        if weight.data.dtype != a.data.dtype:
            if weight.ndim != 0:
                raise RuntimeError(f"lerp: expected dtype {a.dtype} for `weight` but got "
                                   f"dtype {weight.dtype}")
            weight = weight.to(a.dtype)
        shapes.append(weight.shape)
    else:
        weight = float(weight)
    try:
        return Lerp.apply(a, b, weight)
    except ValueError:
        check_broadcast("lerp", *shapes)
        raise


# -- nan_to_num and masked_fill --------------------------------------------------------------

class NanToNum(Function):
    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        a = x.data
        if a.dtype.kind not in "fc":
            return a.copy()
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(np.isfinite(a))
        return _out(np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf))

    @staticmethod
    def backward(ctx, g):
        finite, = ctx.saved_tensors
        return g * finite, None, None, None     # d = 1 where x is finite, else 0


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN -> nan, +inf -> posinf, -inf -> neginf (default: the dtype's largest/smallest)."""
    return NanToNum.apply(input, nan, posinf, neginf)


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, x, mask, value):
        v = value.data if isinstance(value, Tensor) else value
        ctx.save_for_backward(mask)
        return _out(select(mask.data, np.asarray(v, x.data.dtype), x.data))

    @staticmethod
    def backward(ctx, g):
        mask, = ctx.saved_tensors
        dx = g.masked_fill(mask, 0.0) if ctx.needs_input_grad[0] else None
        # the engine sums dv (broadcast shape) down to the 0-d value
        dv = where(mask, g, 0.0) if ctx.needs_input_grad[2] else None
        return dx, None, dv


def masked_fill(input, mask, value):
    """input with value written where the bool mask holds (mask broadcasts with input);
    value is a Python scalar or a 0-d Tensor, cast to input's dtype."""
    mask = as_tensor(mask)
    if mask.data.dtype != np.bool_:
        raise RuntimeError(f"masked_fill: expected a bool mask, but got a mask with dtype "
                           f"{mask.dtype} (shape {tuple(mask.shape)})")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, but got "
                           f"a tensor of shape {tuple(value.shape)}")
    try:
        return MaskedFill.apply(input, mask, value)
    except ValueError:
        check_broadcast("masked_fill", input.shape, mask.shape)
        raise


TENSOR_METHODS = {
    "clamp": clamp, "clip": clamp, "clamp_min": clamp_min, "clamp_max": clamp_max,
    "maximum": maximum, "minimum": minimum, "where": _where_method, "lerp": lerp,
    "nan_to_num": nan_to_num, "masked_fill": masked_fill,
    "lerp_": inplace_on_copy("lerp", lerp),
}
INPLACE = ["clamp", "clip", "clamp_min", "clamp_max", "nan_to_num", "masked_fill"]
