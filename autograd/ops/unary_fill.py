"""Overwriting: fill, zero and copy, the out-of-place forms of the in-place writers fill_,
zero_ and copy_ (which Tensor._inplace records as these ops followed by a write into x).

    fill(x, v)            dx = 0                             dv = sum(g)
    copy(x, src)          dx = 0                             dsrc = g, summed to src's shape
"""
import numpy as np

from ..function import Function
from ..tensor import Tensor
from ._util import as_tensor
from .unary_select import _zeros

__all__ = ["fill", "fill_", "zero_"]


class Fill(Function):
    @staticmethod
    def forward(ctx, x, value):
        v = value.data if isinstance(value, Tensor) else value
        return np.full(x.data.shape, v, x.data.dtype)

    @staticmethod
    def backward(ctx, g):
        dx = _zeros(g) if ctx.needs_input_grad[0] else None
        return dx, g                            # the engine sums g down to the 0-d value


def fill(input, value):
    """A tensor like input (shape and dtype) full of value (a scalar or a 0-d Tensor)."""
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(f"fill: only supports a 0-dimensional value tensor, but got a "
                           f"tensor of shape {tuple(value.shape)}")
    return Fill.apply(input, value)


def zero(input):
    """Zeros like input: the out-of-place form of zero_."""
    return Fill.apply(input, 0)


class Copy(Function):
    @staticmethod
    def forward(ctx, x, src):
        return np.array(np.broadcast_to(src.data, x.data.shape), dtype=x.data.dtype)

    @staticmethod
    def backward(ctx, g):
        dx = _zeros(g) if ctx.needs_input_grad[0] else None
        return dx, g                            # summed to src's shape and dtype by the engine


def copy(input, src):
    """src broadcast to input's shape and cast to input's dtype: the out-of-place copy_."""
    src = as_tensor(src)
    try:
        shape = np.broadcast_shapes(src.shape, input.shape)
    except ValueError:
        shape = None
    if shape != input.shape:
        raise RuntimeError(f"copy_: the source of shape {tuple(src.shape)} cannot be broadcast "
                           f"to the destination's shape {tuple(input.shape)}")
    return Copy.apply(input, src)


def fill_(input, value):
    return input._inplace("fill_", fill, value)


def zero_(input):
    return input._inplace("zero_", zero)


def copy_(input, src, non_blocking=False):
    return input._inplace("copy_", copy, src)


TENSOR_METHODS = {"fill_": fill_, "zero_": zero_, "copy_": copy_}
