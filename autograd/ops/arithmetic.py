"""Arithmetic: add, sub, mul, div, floor_divide, remainder, neg, pow; dtype cast and clone.

Operands are promoted to one dtype (PyTorch's rules, see dtypes.py) before the primitive runs,
so a primitive sees equal dtypes; broadcasting gradients are summed back by the engine.

    add(a, b, alpha)   da = g                  db = alpha * g
    sub(a, b, alpha)   da = g                  db = -alpha * g
    mul(a, b)          da = g * b              db = g * a
    div(a, b)          da = g / b              db = -g * a / b**2
    remainder(a, b)    da = g                  db = -g * floor(a / b)
    pow(a, e)          da = g * e * a**(e-1)   de = g * a**e * log(a)   (0 where a == 0, e >= 0)
    neg(a)             da = -g
"""
import numpy as np

from .. import dtypes
from ..function import Function
from ..tensor import Tensor
from ._util import as_tensor, check_broadcast, inplace_on_copy, promote_pair

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
           "floor_divide", "remainder", "fmod", "neg", "negative", "pow", "clone"]


class Add(Function):
    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return a.data + b.data if alpha == 1 else a.data + alpha * b.data

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else g * ctx.alpha)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return a.data - b.data if alpha == 1 else a.data - alpha * b.data

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.alpha == 1 else g * -ctx.alpha)


def _save_operands(ctx, a, b, b_always):
    """Save only the operands a rule will read: a's gradient reads b, b's reads a (and b,
    when b_always: division), so that 7 * x does not keep x (a later in-place write to x is
    no error, as in PyTorch)."""
    need_a, need_b = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
    if need_a or need_b:
        ctx.save_for_backward(a if need_b else None, b if need_a or b_always else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        _save_operands(ctx, a, b, False)
        return a.data * b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        da = g * b if ctx.needs_input_grad[0] else None
        db = g * a if ctx.needs_input_grad[1] else None
        return da, db


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        _save_operands(ctx, a, b, True)
        return a.data / b.data

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        da = g / b if ctx.needs_input_grad[0] else None
        db = -g * a / (b * b) if ctx.needs_input_grad[1] else None
        return da, db


class FloorDivide(Function):
    @staticmethod
    def forward(ctx, a, b):
        return np.floor_divide(a.data, b.data)

    @staticmethod
    def backward(ctx, g):          # piecewise constant: zero gradient, as in PyTorch
        return g * 0, g * 0


class Remainder(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.remainder(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        db = -g * floor_divide(a, b) if ctx.needs_input_grad[1] else None
        return g, db


class Fmod(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.fmod(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        db = -g * (a / b).trunc() if ctx.needs_input_grad[1] else None
        return g, db


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return np.negative(a.data)

    @staticmethod
    def backward(ctx, g):
        return -g


class PowScalar(Function):
    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return np.power(a.data, np.asarray(exponent, a.data.dtype))

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        e = ctx.exponent
        if e == 0:
            return g * 0, None
        return g * e * a ** (e - 1), None      # d a**e = e * a**(e-1)


class Pow(Function):
    @staticmethod
    def forward(ctx, a, e):
        y = np.power(a.data, e.data)
        ctx.save_for_backward(a, e, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, e, y = ctx.saved_tensors
        da = de = None
        if ctx.needs_input_grad[0]:
            # e == 0 gives 0 (not 0 * a**-1 = nan at a == 0), as PyTorch
            da = (g * e * a ** (e - 1)).masked_fill(e == 0, 0.0)
        if ctx.needs_input_grad[1]:
            # d a**e / de = a**e * log(a); 0 where a == 0 and e >= 0
            de = (g * y * a.log()).masked_fill((a == 0) & (e >= 0), 0.0)
        return da, de


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.dtype = a.data.dtype
        return a.data.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.dtype), None


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a.data.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def _binary(fn, op_name, a, b, *extra):
    if a.__class__ is not Tensor or b.__class__ is not Tensor or a.data.dtype is not b.data.dtype:
        a, b = promote_pair(a, b)
    try:
        return fn.apply(a, b, *extra)
    except ValueError:
        check_broadcast(op_name, a.shape, b.shape)
        raise


def add(input, other, *, alpha=1):
    return _binary(Add, "add", input, other, alpha) if alpha != 1 else \
        _binary(Add, "add", input, other)


def _is_bool(x):
    return isinstance(x, (bool, np.bool_)) or (isinstance(x, Tensor) and x.data.dtype == bool)


def sub(input, other, *, alpha=1):
    if _is_bool(input) or _is_bool(other):
        raise RuntimeError("sub: Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    return _binary(Sub, "sub", input, other, alpha) if alpha != 1 else \
        _binary(Sub, "sub", input, other)


def mul(input, other):
    return _binary(Mul, "mul", input, other)


def div(input, other, *, rounding_mode=None):
    if rounding_mode is None:
        input, other = _float_operands(input, other)
        return _binary(Div, "div", input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode == "trunc":
        return div(input, other).trunc()
    raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")


def _float_operands(a, b):
    """True division of integers gives the default float dtype, as in PyTorch."""
    dtype = dtypes.result_type(a, b)
    if dtype.kind != "f":
        dtype = dtypes.get_default_dtype()
        return as_tensor(a).to(dtype), as_tensor(b).to(dtype)
    return a, b


def floor_divide(input, other):
    return _binary(FloorDivide, "floor_divide", input, other)


def remainder(input, other):
    return _binary(Remainder, "remainder", input, other)


def fmod(input, other):
    return _binary(Fmod, "fmod", input, other)


def neg(input):
    return Neg.apply(input)


def pow(input, exponent):
    """input ** exponent; either may be a Python scalar (not both)."""
    if isinstance(input, Tensor) and not isinstance(exponent, Tensor) and \
            isinstance(exponent, (int, float)):
        if input.data.dtype.kind != "f" and (isinstance(exponent, float) or exponent < 0):
            if isinstance(exponent, float):
                input = input.to(dtypes.get_default_dtype())
            else:
                raise RuntimeError("pow: integers to negative integer powers are not allowed")
        return PowScalar.apply(input, exponent)
    return _binary(Pow, "pow", input, exponent)


def clone(input):
    return Clone.apply(input)


def to(input, dtype=None, *args, copy=False, **kwargs):
    """Tensor.to(dtype): a differentiable cast (returns input itself when nothing changes)."""
    if isinstance(dtype, Tensor):
        dtype = dtype.dtype
    if dtype is None or dtype == "cpu":
        return input.clone() if copy else input
    dtype = dtypes.to_dtype(dtype)
    if dtype == input.data.dtype:
        return input.clone() if copy else input
    if input.requires_grad and dtype.kind not in "fc":
        return Cast.apply(input.detach(), dtype)
    return Cast.apply(input, dtype)


subtract, multiply, true_divide, divide, negative = sub, mul, div, div, neg

TENSOR_METHODS = {
    "add": add, "sub": sub, "subtract": sub, "mul": mul, "multiply": mul, "div": div,
    "divide": div, "true_divide": div, "floor_divide": floor_divide, "remainder": remainder,
    "fmod": fmod, "neg": neg, "negative": neg, "pow": pow, "clone": clone, "to": to,
    "float": lambda x: to(x, dtypes.float32), "double": lambda x: to(x, dtypes.float64),
    "half": lambda x: to(x, dtypes.float16), "long": lambda x: to(x, dtypes.int64),
    "int": lambda x: to(x, dtypes.int32), "bool": lambda x: to(x, dtypes.bool_),
    "type": lambda x, dtype=None: str(x.dtype) if dtype is None else to(x, dtype),
}
INPLACE = ["add", "sub", "floor_divide", "neg"]
# in-place variants of the ops that save their input (x * y saves x for dy): run on a copy
for _name in ("mul", "div", "remainder", "fmod", "pow"):
    TENSOR_METHODS[_name + "_"] = inplace_on_copy(_name, TENSOR_METHODS[_name])
del _name
