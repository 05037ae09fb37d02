"""Elementwise math of one tensor. y is the output, g the upstream gradient.

Integer and bool inputs of the floating functions are cast to the default float dtype first
(exp of int64 is float32, as in PyTorch); float32 stays float32. Rules that need only the
output save the output; piecewise-constant derivatives save a bool mask, not the input.

    abs(x)          dx = g * sign(x)                        (0 at x == 0 and at nan)
    sign(x)         dx = 0
    exp(x)          dx = g * y
    expm1(x)        dx = g * (y + 1)
    log(x)          dx = g / x
    log1p(x)        dx = g / (1 + x)
    log2(x)         dx = g / (x * ln 2)
    log10(x)        dx = g / (x * ln 10)
    sqrt(x)         dx = g / (2 * y)                        (inf at x == 0, as PyTorch)
    rsqrt(x)        dx = -g * y**3 / 2
    square(x)       dx = 2 * g * x
    reciprocal(x)   dx = -g * y**2
    sigmoid(x)      dx = g * y * (1 - y)
    relu(x)         dx = g * [not x <= 0]                   (0 at x == 0, g at nan)
    erf(x)          dx = g * 2/sqrt(pi) * exp(-x**2)
    floor ceil round trunc      dx = 0

relu (fused, with gelu) lives in activation.py; the trigonometric and hyperbolic functions
(and atan2) in unary_trig.py; clamp, maximum, minimum, where, lerp, nan_to_num, masked_fill in
unary_select.py; the in-place writers fill_, zero_, copy_ in unary_fill.py. This module
re-exports relu and those: it is the family registered in ops/__init__.
"""
import builtins
import math

import numpy as np

from ..function import Function
from . import unary_fill, unary_select
from .activation import Relu, relu  # noqa: F401  (Relu: autograd.health finds its nodes)
from .unary_fill import fill, fill_, zero_
from ._util import inplace_on_copy
from .unary_select import (_floating, _out, _zeros, clamp, clamp_max,
                           clamp_min, clip, lerp, masked_fill, maximum, minimum, nan_to_num,
                           where)
from .unary_trig import (acos, arccos, arcsin, arctan, arctan2, asin, atan, atan2, cos, cosh,
                         sin, sinh, tan, tanh)

__all__ = ["abs", "absolute", "sign", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt",
           "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "asin", "arcsin", "acos",
           "arccos", "atan", "arctan", "atan2", "arctan2", "sinh", "cosh", "tanh", "sigmoid",
           "relu", "erf", "floor", "ceil", "round", "trunc", "fix", "clamp", "clip",
           "clamp_min", "clamp_max", "maximum", "minimum", "where", "lerp", "nan_to_num",
           "masked_fill", "fill", "fill_", "zero_"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _sign(a):
    """(a > 0) - (a < 0) in a's dtype: sign(nan) is 0, as in PyTorch."""
    return np.greater(a, 0).astype(a.dtype) - np.less(a, 0).astype(a.dtype)


# -- piecewise constant --------------------------------------------------------------------

class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(_sign(x.data))
        return np.abs(x.data)

    @staticmethod
    def backward(ctx, g):
        s, = ctx.saved_tensors
        return g * s                            # d |x| = sign(x), 0 at 0


class Sign(Function):
    @staticmethod
    def forward(ctx, x):
        if x.data.dtype.kind == "b":
            return x.data.copy()
        if x.data.dtype.kind in "iu":
            return np.sign(x.data)
        return _sign(x.data)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g)                        # d sign = 0


class Rounding(Function):
    """floor, ceil, trunc and round(decimals): integers come back unchanged."""

    @staticmethod
    def forward(ctx, x, mode, decimals=0):
        a = x.data
        if a.dtype.kind in "biu":
            return a.copy()
        if mode == "round" and decimals != 0:
            scale = np.asarray(10.0 ** builtins.abs(decimals), a.dtype)
            if decimals > 0:
                return np.rint(a * scale) / scale
            return np.rint(a / scale) * scale
        return _ROUNDING[mode](a)

    @staticmethod
    def backward(ctx, g):
        return _zeros(g), None, None            # piecewise constant: d = 0


_ROUNDING = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "round": np.rint}


# -- exponentials and logarithms -------------------------------------------------------------

class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = _out(np.exp(x.data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y                            # d exp = exp


class Expm1(Function):
    @staticmethod
    def forward(ctx, x):
        y = _out(np.expm1(x.data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (y + 1.0)                    # d (exp(x) - 1) = exp(x) = y + 1


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / x                            # d log = 1 / x


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (x + 1.0)                    # d log(1 + x) = 1 / (1 + x)


class Log2(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log2(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (x * _LN2)                   # d log2 = 1 / (x ln 2)


class Log10(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log10(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (x * _LN10)                  # d log10 = 1 / (x ln 10)


# -- powers ----------------------------------------------------------------------------------

class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = _out(np.sqrt(x.data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g / (y * 2.0)                    # d sqrt = 1 / (2 sqrt(x)); inf at 0


class Rsqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = _out(np.reciprocal(np.sqrt(x.data)))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (y * y * y) * -0.5           # d x**-1/2 = -x**-3/2 / 2 = -y**3 / 2


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.square(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (x * 2.0)                    # d x**2 = 2 x


class Reciprocal(Function):
    @staticmethod
    def forward(ctx, x):
        y = _out(np.reciprocal(x.data))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return -g * (y * y)                     # d 1/x = -1/x**2 = -y**2


# -- activations and special functions -------------------------------------------------------

class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        with np.errstate(over="ignore"):         # exp(-x) = inf gives y = 0, as it should
            y = _out(np.reciprocal(np.exp(np.negative(x.data)) + 1.0))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (y * (1.0 - y))              # d sigmoid = y (1 - y)


# erf in float32 as x p(x^2) / q(x^2) on [-4, 4] (erf rounds to +-1 beyond): the rational
# approximation of Eigen and XLA, max abs error 4e-7, 6x faster than scipy's float64 erf
_ERF_P = np.array([-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
                   -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
                   -1.60960333262415e-02], np.float32)
_ERF_Q = np.array([-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
                   -7.37332916720468e-03, -1.42647390514189e-02], np.float32)


def _horner(x2, coefficients):
    out = x2 * coefficients[0]
    out += coefficients[1]
    for c in coefficients[2:]:
        out *= x2
        out += c
    return out


def _erf_float32(a):
    x = np.clip(a, np.float32(-4), np.float32(4))          # nan stays nan
    x2 = x * x
    p = _horner(x2, _ERF_P)
    p *= x
    p /= _horner(x2, _ERF_Q)
    return p


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        if x.data.dtype == np.float32:
            return _out(_erf_float32(x.data))
        from scipy.special import erf
        return erf(x.data)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ((x * x).neg().exp() * _TWO_OVER_SQRT_PI)   # d erf = 2/sqrt(pi) e**(-x**2)


# -- the functions ---------------------------------------------------------------------------

def abs(input):
    return Abs.apply(input)


def sign(input):
    return Sign.apply(input)


def exp(input):
    return Exp.apply(_floating(input))


def expm1(input):
    return Expm1.apply(_floating(input))


def log(input):
    return Log.apply(_floating(input))


def log1p(input):
    return Log1p.apply(_floating(input))


def log2(input):
    return Log2.apply(_floating(input))


def log10(input):
    return Log10.apply(_floating(input))


def sqrt(input):
    return Sqrt.apply(_floating(input))


def rsqrt(input):
    return Rsqrt.apply(_floating(input))


def square(input):
    return Square.apply(input)


def reciprocal(input):
    return Reciprocal.apply(_floating(input))


def sigmoid(input):
    return Sigmoid.apply(_floating(input))


def erf(input):
    return Erf.apply(_floating(input))


def floor(input):
    return Rounding.apply(input, "floor")


def ceil(input):
    return Rounding.apply(input, "ceil")


def trunc(input):
    return Rounding.apply(input, "trunc")


def round(input, *, decimals=0):
    """Round half to even; with decimals, to that many decimal places (negative: tens...)."""
    if decimals != 0 and input.data.dtype.kind in "biu":
        raise RuntimeError(f"round: decimals={decimals} is not supported for integer tensors "
                           f"(dtype {input.dtype}, shape {tuple(input.shape)})")
    return Rounding.apply(input, "round", int(decimals))


absolute, fix = abs, trunc


# -- Tensor methods and in-place variants ----------------------------------------------------

TENSOR_METHODS = {
    "abs": abs, "absolute": abs, "sign": sign, "exp": exp, "expm1": expm1, "log": log,
    "log1p": log1p, "log2": log2, "log10": log10, "sqrt": sqrt, "rsqrt": rsqrt,
    "square": square, "reciprocal": reciprocal, "sin": sin, "cos": cos, "tan": tan,
    "asin": asin, "arcsin": asin, "acos": acos, "arccos": acos, "atan": atan, "arctan": atan,
    "atan2": atan2, "arctan2": atan2, "sinh": sinh, "cosh": cosh, "tanh": tanh,
    "sigmoid": sigmoid, "relu": relu, "erf": erf, "floor": floor, "ceil": ceil,
    "round": round, "trunc": trunc, "fix": trunc,
}
# in-place variants of the ops that save only their output or a mask
INPLACE = ["abs", "absolute", "sign", "exp", "expm1", "sqrt", "rsqrt", "reciprocal", "tan",
           "tanh", "sigmoid", "relu", "floor", "ceil", "round", "trunc", "fix"]
# in-place variants of the ops that save their input: they run on a copy when recorded
for _name in ("log", "log1p", "log2", "log10", "square", "sin", "cos", "asin", "arcsin",
              "acos", "arccos", "atan", "arctan", "atan2", "arctan2", "sinh", "cosh", "erf"):
    TENSOR_METHODS[_name + "_"] = inplace_on_copy(_name, TENSOR_METHODS[_name])
del _name

TENSOR_METHODS.update(unary_select.TENSOR_METHODS)
TENSOR_METHODS.update(unary_fill.TENSOR_METHODS)
INPLACE += unary_select.INPLACE
