"""Trigonometric and hyperbolic functions, and atan2. y is the output, g the upstream gradient.

Integer and bool inputs are cast to the default float dtype first, as in PyTorch.

    sin(x)          dx = g * cos(x)
    cos(x)          dx = -g * sin(x)
    tan(x)          dx = g * (1 + y**2)
    asin(x)         dx = g / sqrt(1 - x**2)
    acos(x)         dx = -g / sqrt(1 - x**2)
    atan(x)         dx = g / (1 + x**2)
    atan2(a, b)     da = g * b / (a**2 + b**2)      db = -g * a / (a**2 + b**2)
    sinh(x)         dx = g * cosh(x)
    cosh(x)         dx = g * sinh(x)
    tanh(x)         dx = g * (1 - y**2)
"""
import numpy as np

from ..function import Function
from ._util import check_broadcast, promote_pair
from .unary_select import _floating, _out

__all__ = ["sin", "cos", "tan", "asin", "arcsin", "acos", "arccos", "atan", "arctan", "atan2",
           "arctan2", "sinh", "cosh", "tanh"]


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x.cos()                      # d sin = cos


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return -g * x.sin()                     # d cos = -sin


class Tan(Function):
    @staticmethod
    def forward(ctx, x):
        y = _out(np.tan(x.data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (y * y + 1.0)                # d tan = 1 + tan**2


class Asin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arcsin(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (1.0 - x * x).rsqrt()        # d asin = 1 / sqrt(1 - x**2)


class Acos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arccos(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return -g * (1.0 - x * x).rsqrt()       # d acos = -1 / sqrt(1 - x**2)


class Atan(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (x * x + 1.0)                # d atan = 1 / (1 + x**2)


class Atan2(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.arctan2(a.data, b.data)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # d atan2(a, b) = (b da - a db) / (a**2 + b**2); 0 at a = b = 0, as PyTorch
        denom = a * a + b * b
        r = g / denom.masked_fill(denom.data == 0, 1.0)
        da = r * b if ctx.needs_input_grad[0] else None
        db = -r * a if ctx.needs_input_grad[1] else None
        return da, db


class Sinh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x.cosh()                     # d sinh = cosh


class Cosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * x.sinh()                     # d cosh = sinh


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        y = _out(np.tanh(x.data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (1.0 - y * y)                # d tanh = 1 - y**2


# -- the functions ---------------------------------------------------------------------------

def sin(input):
    return Sin.apply(_floating(input))


def cos(input):
    return Cos.apply(_floating(input))


def tan(input):
    return Tan.apply(_floating(input))


def asin(input):
    return Asin.apply(_floating(input))


def acos(input):
    return Acos.apply(_floating(input))


def atan(input):
    return Atan.apply(_floating(input))


def atan2(input, other):
    """atan2(input, other): the angle of the point (other, input); broadcasts."""
    a, b = promote_pair(input, other)
    if a.data.dtype.kind not in "fc":
        a, b = _floating(a), _floating(b)
    try:
        return Atan2.apply(a, b)
    except ValueError:
        check_broadcast("atan2", a.shape, b.shape)
        raise


def sinh(input):
    return Sinh.apply(_floating(input))


def cosh(input):
    return Cosh.apply(_floating(input))


def tanh(input):
    return Tanh.apply(_floating(input))


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
