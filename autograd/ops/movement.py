"""Movements that copy: repeat, tile, flip, roll. Re-exported by shape.py.

    flip(x, dims)          dx = flip(g, dims)
    roll(x, s, dims)       dx = roll(g, -s, dims)
    repeat(x, r)           dx = g.reshape(r0, s0, r1, s1, ...).sum(over the r axes)
    tile(x, r)             repeat with r padded by leading 1s to x.ndim
"""
import operator

import numpy as np

from ..function import Function
from ._util import normalize_dims, wrap_dim

__all__ = ["tile", "flip", "fliplr", "flipud", "roll"]


def _shape_arg(shape):
    """Accept f(2, 3) and f((2, 3)) alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _ints(op_name, seq):
    """seq as a tuple of Python ints (ints, numpy ints, integer 0-d tensors; not floats)."""
    try:
        return tuple(operator.index(s) for s in seq)
    except TypeError:
        raise TypeError(f"{op_name}: expected a sequence of ints, got {seq!r}") from None



class Flip(Function):
    """x -> x reversed along dims (a copy, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x.data, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.dims), None


class Roll(Function):
    """y[(i + s) mod n] = x[i] along each dim (dims None: over the flattened tensor)."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x.data, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        return g.roll(tuple(-s for s in ctx.shifts), ctx.dims), None, None


class Repeat(Function):
    """x: (s0, ..., sn) -> (r0 * s0, ..., rn * sn), x first padded with leading 1-dims."""

    @staticmethod
    def forward(ctx, x, reps):
        ctx.shape, ctx.reps = x.data.shape, reps
        return np.tile(x.data, reps)

    @staticmethod
    def backward(ctx, g):
        # y[k0*s0 + i0, ...] = x[i0, ...]: split each dim into (r, s) and sum the copies
        reps = ctx.reps
        padded = (1,) * (len(reps) - len(ctx.shape)) + ctx.shape
        split = tuple(n for pair in zip(reps, padded) for n in pair)
        summed = g.reshape(split).sum(dim=tuple(range(0, 2 * len(reps), 2)))
        return summed.reshape(ctx.shape), None




# -- copies: repeat, tile, flip, roll ----------------------------------------------------------
def repeat(input, *sizes):
    """x: (s...) -> (r0 * s0, ...); len(sizes) >= x.ndim, extra sizes add leading dims."""
    reps = _ints("repeat", _shape_arg(sizes))
    if len(reps) < input.ndim:
        raise RuntimeError(f"repeat: number of dimensions of repeat dims {reps} can not be "
                           f"smaller than number of dimensions of tensor of shape "
                           f"{tuple(input.shape)}")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {reps}")
    return Repeat.apply(input, reps)


def tile(input, *dims):
    """As repeat, with dims padded by leading 1s up to x.ndim."""
    reps = _ints("tile", _shape_arg(dims))
    return repeat(input, (1,) * (input.ndim - len(reps)) + reps)


def flip(input, *dims, **kwargs):
    """Reverse the order of elements along dims: flip(x, (0, 1)) or x.flip(0, 1)."""
    if "dims" in kwargs:
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"flip: unexpected keyword arguments {sorted(kwargs)}")
    dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    axes = normalize_dims(_ints("flip", dims), input.ndim, "flip")
    return Flip.apply(input, axes)


def fliplr(input):
    """Flip dim 1 (left/right); input must be >= 2-d."""
    if input.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got shape {tuple(input.shape)}")
    return Flip.apply(input, (1,))


def flipud(input):
    """Flip dim 0 (up/down); input must be >= 1-d."""
    if input.ndim < 1:
        raise RuntimeError(f"flipud: input must be >= 1-d, got shape {tuple(input.shape)}")
    return Flip.apply(input, (0,))


def roll(input, shifts, dims=None):
    """Roll elements along dims by shifts (ints or equal-length tuples); dims None rolls
    the flattened tensor and restores the shape."""
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else _ints("roll", shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts {shifts} and dims None must align: with dims "
                               "None, shifts must be a single int")
        return Roll.apply(input, shifts, None)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else _ints("roll", dims)
    if len(shifts) != len(dims) or not dims:
        raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must align (same length)")
    axes = tuple(wrap_dim(d, input.ndim, "roll") for d in dims)
    if input.ndim == 0:
        return Roll.apply(input, shifts, None)
    return Roll.apply(input, shifts, axes)


TENSOR_METHODS = {"repeat": repeat, "tile": tile, "flip": flip, "fliplr": fliplr,
                  "flipud": flipud, "roll": roll}
INPLACE = []
