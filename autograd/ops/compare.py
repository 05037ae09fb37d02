"""Comparisons, logical and bitwise ops, and value tests: results carry no gradient.

Operands are promoted like PyTorch before comparing (an int64 tensor against 2.5 compares in
float32, a float32 tensor against a Python float in float32); either side may be a Python
scalar. Results are bool tensors (bitwise ops keep their integer dtype) that never require
grad; the operands' `.data` is read directly, so nothing is recorded on the tape.

    eq ne lt le gt ge (and not_equal, less, less_equal, greater, greater_equal)
    logical_and logical_or logical_xor logical_not
    bitwise_and bitwise_or bitwise_xor bitwise_not      (bool and integer tensors: & | ^ ~)
    isnan isinf isposinf isneginf isfinite isclose allclose equal any all

A comparison with an operand that is not a number (None, a string...) returns NotImplemented,
so `x == None` is False as in PyTorch.
"""
import builtins
import numbers

import numpy as np

from .. import dtypes
from ..function import Function
from ..tensor import Tensor
from ._util import as_tensor, check_broadcast, normalize_dims

__all__ = ["eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge",
           "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "isnan", "isinf",
           "isposinf", "isneginf", "isfinite", "isclose", "allclose", "equal", "any", "all"]


def _result(arr):
    """A constant Tensor for a result array (a 0-d input gives a numpy scalar)."""
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)
    return Tensor._make(arr, False, None, 0)


def _is_operand(x):
    return isinstance(x, (Tensor, numbers.Number, np.ndarray, np.generic, list, tuple))


def _data(x):
    return x.data if isinstance(x, Tensor) else as_tensor(x).data


def _promoted(a, b):
    """The arrays of a and b in their PyTorch-promoted dtype (no graph recorded)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype == b.data.dtype:
        return a.data, b.data
    if isinstance(a, (list, tuple, np.ndarray)):
        a = as_tensor(a)
    if isinstance(b, (list, tuple, np.ndarray)):
        b = as_tensor(b)
    dtype = dtypes.result_type(a, b)
    a = a.data if isinstance(a, Tensor) else a
    b = b.data if isinstance(b, Tensor) else b
    return np.asarray(a, dtype), np.asarray(b, dtype)


def _shape(x):
    return tuple(np.shape(x.data if isinstance(x, Tensor) else x))


def _compare(ufunc, op_name, input, other):
    if not (_is_operand(input) and _is_operand(other)):
        return NotImplemented
    a, b = _promoted(input, other)
    try:
        return _result(ufunc(a, b))
    except ValueError:
        check_broadcast(op_name, _shape(input), _shape(other))
        raise


def eq(input, other):
    return _compare(np.equal, "eq", input, other)


def ne(input, other):
    return _compare(np.not_equal, "ne", input, other)


def lt(input, other):
    return _compare(np.less, "lt", input, other)


def le(input, other):
    return _compare(np.less_equal, "le", input, other)


def gt(input, other):
    return _compare(np.greater, "gt", input, other)


def ge(input, other):
    return _compare(np.greater_equal, "ge", input, other)


not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


# -- logical and bitwise -----------------------------------------------------------------------

def _logical(ufunc, op_name, input, other):
    a, b = _data(input), _data(other)
    try:
        return _result(ufunc(a, b))
    except ValueError:
        check_broadcast(op_name, a.shape, b.shape)
        raise


def logical_and(input, other):
    return _logical(np.logical_and, "logical_and", input, other)


def logical_or(input, other):
    return _logical(np.logical_or, "logical_or", input, other)


def logical_xor(input, other):
    return _logical(np.logical_xor, "logical_xor", input, other)


def logical_not(input):
    return _result(np.logical_not(_data(input)))


def _check_integral(op_name, *arrays):
    for a in arrays:
        if a.dtype.kind not in "biu":
            raise RuntimeError(f"{op_name}: only bool and integer tensors are supported, got "
                               f"dtype {a.dtype} (shape {tuple(a.shape)})")


def _bitwise(ufunc, op_name, input, other):
    if not (_is_operand(input) and _is_operand(other)):
        return NotImplemented
    a, b = _promoted(input, other)
    _check_integral(op_name, a, b)
    try:
        return _result(ufunc(a, b))
    except ValueError:
        check_broadcast(op_name, a.shape, b.shape)
        raise


def bitwise_and(input, other):
    return _bitwise(np.bitwise_and, "bitwise_and", input, other)


def bitwise_or(input, other):
    return _bitwise(np.bitwise_or, "bitwise_or", input, other)


def bitwise_xor(input, other):
    return _bitwise(np.bitwise_xor, "bitwise_xor", input, other)


def bitwise_not(input):
    a = _data(input)
    _check_integral("bitwise_not", a)
    return _result(np.invert(a))


# -- value tests -------------------------------------------------------------------------------

def isnan(input):
    return _result(np.isnan(_data(input)))


def isinf(input):
    return _result(np.isinf(_data(input)))


def isposinf(input):
    return _result(np.isposinf(_data(input)))


def isneginf(input):
    return _result(np.isneginf(_data(input)))


def isfinite(input):
    return _result(np.isfinite(_data(input)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise (equal infinities are close)."""
    a, b = _data(input), _data(other)
    if isinstance(other, Tensor) and a.dtype != b.dtype:
        raise RuntimeError(f"isclose: expected both inputs to have the same dtype, got "
                           f"{a.dtype} and {b.dtype}")
    b = np.asarray(b, a.dtype)
    try:
        close = np.equal(a, b)
    except ValueError:
        check_broadcast("isclose", a.shape, b.shape)
        raise
    if a.dtype.kind == "b":
        return _result(close)
    if equal_nan:
        close = close | (np.isnan(a) & np.isnan(b))
    if rtol or atol:
        if a.dtype.kind != "f":
            a, b = a.astype(np.float64), b.astype(np.float64)
        with np.errstate(invalid="ignore"):        # inf - inf: not close, silently
            actual = np.abs(a - b)
            allowed = np.abs(b * rtol) + atol
            close = close | (np.isfinite(actual) & np.less_equal(actual, allowed))
    return _result(close)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element is close (a Python bool)."""
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan).data))


def equal(input, other):
    """True when both have the same shape and elements (a Python bool)."""
    a, b = _data(input), _data(other)
    if a.shape != b.shape:
        return False
    a, b = _promoted(input, other)
    return bool(np.array_equal(a, b))


def _reduce(ufunc, op_name, input, dim, keepdim):
    a = _data(input)
    axes = normalize_dims(dim, a.ndim, op_name)
    out = ufunc(a, axis=axes, keepdims=keepdim)
    if a.dtype == np.uint8:      # uint8 in, uint8 out, as in PyTorch
        out = np.asarray(out, np.uint8)
    return _result(out)


def any(input, dim=None, keepdim=False):
    """Whether any element (along dim: an int, a tuple, or None for all) is nonzero."""
    return _reduce(np.any, "any", input, dim, keepdim)


def all(input, dim=None, keepdim=False):
    """Whether all elements (along dim: an int, a tuple, or None for all) are nonzero."""
    return _reduce(np.all, "all", input, dim, keepdim)


# -- Tensor methods and in-place variants ----------------------------------------------------

class _Overwrite(Function):
    """x <- values (a comparison's result cast to x's dtype): x and the other operand get
    zero gradients, as PyTorch's x.eq_(y) gives."""

    @staticmethod
    def forward(ctx, x, values, other):
        ctx.other_shape = other.shape if isinstance(other, Tensor) else None
        return values.astype(x.data.dtype)

    @staticmethod
    def backward(ctx, g):
        dx = Tensor._make(np.zeros(g.shape, g.dtype), False, None, 0)
        dother = None
        if ctx.needs_input_grad[2]:
            dother = Tensor._make(np.zeros(ctx.other_shape, g.dtype), False, None, 0)
        return dx, None, dother


def _overwrite_with(input, fn, *args):
    """fn(input, *args) in input's dtype, on the tape when an operand requires grad."""
    out = fn(input, *args)
    other = args[0] if args else None
    if input.requires_grad or (isinstance(other, Tensor) and other.requires_grad):
        return _Overwrite.apply(input, out.data, other)
    return out


def _inplace_writer(name, fn):
    def method(self, *args):
        if builtins.any(not _is_operand(a) for a in args):
            raise TypeError(f"{name}_: unsupported operand type "
                            f"{', '.join(type(a).__name__ for a in args)}")
        return self._inplace(name + "_", _overwrite_with, fn, *args)
    method.__name__ = name + "_"
    method.__doc__ = f"In-place {name}: writes {name}(x, ...) into x, in x's dtype."
    return method


TENSOR_METHODS = {
    "eq": eq, "ne": ne, "not_equal": ne, "lt": lt, "less": lt, "le": le, "less_equal": le,
    "gt": gt, "greater": gt, "ge": ge, "greater_equal": ge,
    "logical_and": logical_and, "logical_or": logical_or, "logical_xor": logical_xor,
    "logical_not": logical_not, "bitwise_and": bitwise_and, "bitwise_or": bitwise_or,
    "bitwise_xor": bitwise_xor, "bitwise_not": bitwise_not, "isnan": isnan, "isinf": isinf,
    "isposinf": isposinf, "isneginf": isneginf, "isfinite": isfinite, "isclose": isclose,
    "allclose": allclose, "equal": equal, "any": any, "all": all,
}
for _name in ("eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater",
              "ge", "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
              "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"):
    TENSOR_METHODS[_name + "_"] = _inplace_writer(_name, TENSOR_METHODS[_name])
del _name
INPLACE = []
