"""Attach the primitives to Tensor as methods, operators and in-place variants.

Each ops family lists its methods in TENSOR_METHODS; a name in its INPLACE list also gets
`name_`, which runs the out-of-place op and writes the result into the tensor
(Tensor._inplace: version bump, leaf check, rebinding of grad_fn).
"""
import functools

from . import ops
from .tensor import Tensor


def _make_inplace(name, fn):
    @functools.wraps(fn)
    def method(self, *args, **kwargs):
        return self._inplace(name + "_", fn, *args, **kwargs)
    method.__name__ = name + "_"
    return method


def _reflected(fn):
    def method(self, other):
        return fn(other, self)
    return method


def install():
    for family in ops.FAMILIES:
        for name, fn in family.TENSOR_METHODS.items():
            setattr(Tensor, name, fn)
        for name in family.INPLACE:
            setattr(Tensor, name + "_", _make_inplace(name, family.TENSOR_METHODS[name]))

    a = ops.arithmetic
    operators = {
        "__add__": a.add, "__radd__": _reflected(a.add),
        "__sub__": a.sub, "__rsub__": _reflected(a.sub),
        "__mul__": a.mul, "__rmul__": _reflected(a.mul),
        "__truediv__": a.div, "__rtruediv__": _reflected(a.div),
        "__floordiv__": a.floor_divide, "__rfloordiv__": _reflected(a.floor_divide),
        "__mod__": a.remainder, "__rmod__": _reflected(a.remainder),
        "__pow__": a.pow, "__rpow__": _reflected(a.pow),
        "__neg__": a.neg, "__pos__": lambda self: self,
    }
    optional = {
        "__matmul__": "matmul", "__abs__": "abs", "__getitem__": "getitem",
        "__eq__": "eq", "__ne__": "ne", "__lt__": "lt", "__le__": "le", "__gt__": "gt",
        "__ge__": "ge", "__and__": "bitwise_and", "__or__": "bitwise_or",
        "__xor__": "bitwise_xor", "__invert__": "bitwise_not",
    }
    for dunder, name in optional.items():
        fn = getattr(ops, name, None)
        if fn is not None:
            operators[dunder] = fn
    if getattr(ops, "matmul", None) is not None:
        operators["__rmatmul__"] = _reflected(ops.matmul)
    for dunder, name in (("__rand__", "bitwise_and"), ("__ror__", "bitwise_or"),
                         ("__rxor__", "bitwise_xor")):
        if getattr(ops, name, None) is not None:
            operators[dunder] = _reflected(getattr(ops, name))
    for dunder, fn in operators.items():
        setattr(Tensor, dunder, fn)

    for dunder, name in (("__iadd__", "add"), ("__isub__", "sub"), ("__imul__", "mul"),
                         ("__itruediv__", "div"), ("__ifloordiv__", "floor_divide"),
                         ("__imod__", "remainder"), ("__ipow__", "pow")):
        setattr(Tensor, dunder, getattr(Tensor, name + "_"))

    Tensor.__setitem__ = ops.indexing.setitem
