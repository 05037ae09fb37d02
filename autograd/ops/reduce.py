"""Reductions. Each gradient re-expands g over the reduced axes.

    sum(x, dim)          dx = expand(g)
    sum_to_shape(x, s)   dx = broadcast_to(g, x.shape)      (the engine's unbroadcast)
"""
import numpy as np

from ..function import Function
from ._util import normalize_dims

__all__ = ["sum", "sum_to_shape"]


def _keep(g, axes, keepdim):
    """g with the reduced axes restored as size-1 dims, ready to broadcast."""
    if keepdim or not axes or g.ndim == 0:     # a 0-d g broadcasts as it is
        return g
    shape = list(g.shape)
    for ax in axes:
        shape.insert(ax, 1)
    return g.reshape(tuple(shape))


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim = x.data.shape, axes, keepdim
        return np.add.reduce(x.data, axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        return _keep(g, ctx.axes, ctx.keepdim).expand(ctx.shape), None, None, None     # dx = g


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


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """x: (...) -> reduced over dim (all dims when None)."""
    axes = normalize_dims(dim, input.ndim, "sum")
    if dtype is None and input.data.dtype.kind in "biu":
        dtype = np.int64       # integer sums accumulate in int64, as in PyTorch
    return Sum.apply(input, axes, keepdim, dtype)


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


TENSOR_METHODS = {"sum": sum, "sum_to_size": lambda x, *size: sum_to_shape(
    x, size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size)}
INPLACE = []
