"""pad: constant, reflect, replicate, circular — PyTorch's F.pad, composed from getitem,
index_put, expand and cat, so gradients of any order work.

    pad(x, (l_last, r_last, l_prev, r_prev, ...), mode, value)
        pads the last len(pad) / 2 dims; along a dim of size n the output has n + l + r
        entries; a negative l or r crops. Output entry o reads source i = o - l, mapped to
        [0, n) by the mode:
    constant    y = value outside [0, n), x[i] inside           dx = g[crop]
    reflect     i < 0 -> -i,  i >= n -> 2(n - 1) - i      (pad < n; the edge not repeated)
    replicate   i -> clamp(i, 0, n - 1)
    circular    crop the negative pads first (size m), then i -> i mod m   (pad <= m)
    Non-constant modes concatenate slices of x along each padded dim (reversed slices for
    reflect, an expanded edge for replicate), so dx sums g's pieces back onto those slices;
    they pad the last 1, 2 or 3 dims of a (C, *S) or (N, C, *S) input, as PyTorch does.
"""
import operator

import numpy as np

import autograd as ag

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def _check_pad(input, pad, mode):
    """pad as a tuple of ints (even length, at most 2 * ndim)."""
    try:
        pad = tuple(operator.index(p) for p in pad)
    except (TypeError, ValueError):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}") from None
    shape = tuple(input.shape)
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got pad={pad} for "
                           f"input of shape {shape}")
    if len(pad) > 2 * input.ndim:
        raise RuntimeError(f"pad: padding length should be at most two times the input "
                           f"dimension, got pad={pad} ({len(pad)} entries) for input of "
                           f"shape {shape}")
    if mode != "constant" and pad:
        nsp = len(pad) // 2
        if input.ndim not in (nsp + 1, nsp + 2):
            raise NotImplementedError(
                f"pad: mode {mode!r} with padding of length {len(pad)} needs a "
                f"{nsp + 1}-d (C, *S) or {nsp + 2}-d (N, C, *S) input, got shape {shape} "
                "(non-constant modes pad the last 1, 2 or 3 dims)")
        if nsp > 3:
            raise NotImplementedError(f"pad: mode {mode!r} pads at most 3 dims, got pad={pad} "
                                      f"for input of shape {shape}")
        if 0 in shape[input.ndim - nsp - 1:]:
            raise RuntimeError(f"pad: mode {mode!r} needs non-empty channel and padded dims, "
                               f"got input of shape {shape}")
    return pad


def _dims(input, pad):
    """[(dim, low, high)] for each padded dim, last dim first as in pad."""
    return [(input.ndim - 1 - j, pad[2 * j], pad[2 * j + 1]) for j in range(len(pad) // 2)]


def _constant(input, pad, value):
    shape = list(input.shape)
    crop = [slice(None)] * input.ndim
    place = [slice(None)] * input.ndim
    for dim, low, high in _dims(input, pad):
        n = shape[dim]
        size = n + low + high
        kept = n + min(low, 0) + min(high, 0)
        if size < 0 or kept < 0:
            raise RuntimeError(f"pad: padding {(low, high)} of dim {dim} crops more than its "
                               f"size {n} (input of shape {tuple(input.shape)})")
        crop[dim] = slice(max(-low, 0), max(-low, 0) + kept)
        place[dim] = slice(max(low, 0), max(low, 0) + kept)
        shape[dim] = size
    cropped = input[tuple(crop)]
    fill = 0 if value is None else value
    if input.dtype.kind != "f":
        fill = int(fill)
    out = ag.from_numpy(np.full(shape, fill, input.dtype))
    if 0 in cropped.shape:
        return out
    # y[place] = x[crop], y = value elsewhere
    return out.index_put(tuple(place), cropped)


def _take(x, dim, index):
    """x[..., index, ...] along dim (index: a slice): a view."""
    return x[(slice(None),) * dim + (index,)]


def _segments(x, mode, dim, low, high, shape):
    """The pieces whose concatenation along dim is x padded by (low, high) in `mode`: slices
    of x (reversed for reflect) and, for replicate, an edge expanded."""
    n = x.shape[dim]
    size = n + low + high
    if mode in ("reflect", "replicate") and size < 1:
        raise RuntimeError(f"pad: {mode} padding {(low, high)} of dim {dim} gives output size "
                           f"{size} < 1 (input of shape {shape})")
    middle = slice(max(-low, 0), n + min(high, 0))
    if mode == "reflect":
        if low >= n or high >= n:
            raise RuntimeError(f"pad: reflect padding {(low, high)} of dim {dim} must be "
                               f"smaller than its size {n} (input of shape {shape})")
        # source i < 0 -> -i (x[low], x[low - 1], ...); i >= n -> 2(n - 1) - i (x[n - 2], ...)
        first_high = 2 * (n - 1) - max(n, -low)
        stop = n - 2 - high
        pieces = [slice(low, -min(0, n + high), -1) if low > 0 else None,
                  middle if middle.start < middle.stop else None,
                  slice(first_high, stop if stop >= 0 else None, -1) if high > 0 else None]
        return [_take(x, dim, p) for p in pieces if p is not None]
    if mode == "replicate":
        # source clamp(i, 0, n - 1): the edges repeated
        before = max(0, min(0, n + high) + low)
        after = max(0, n + high - max(n, -low))
        pieces = []
        if before:
            pieces.append(_edge(x, dim, 0, before))
        if middle.start < middle.stop:
            pieces.append(_take(x, dim, middle))
        if after:
            pieces.append(_edge(x, dim, n - 1, after))
        return pieces
    # circular: crop the negative pads to [start, start + m), then wrap around it
    start = max(-low, 0)
    m = n - start - max(-high, 0)
    if m == 0 and size == 0:
        return [_take(x, dim, slice(start, start))]
    if m <= 0 or low > m or high > m:
        raise RuntimeError(f"pad: circular padding {(low, high)} of dim {dim} wraps around "
                           f"more than once (size {n}, {max(m, 0)} after cropping; input of "
                           f"shape {shape})")
    pieces = [slice(start + m - low, start + m) if low > 0 else None,
              slice(start, start + m),
              slice(start, start + high) if high > 0 else None]
    return [_take(x, dim, p) for p in pieces if p is not None]


def _edge(x, dim, index, count):
    """x[..., index, ...] repeated count times along dim (an expanded view)."""
    edge = _take(x, dim, slice(index, index + 1))
    shape = list(edge.shape)
    shape[dim] = count
    return edge.expand(*shape)


def pad(input, pad, mode="constant", value=None):
    """input: (*), pad: (l_last, r_last, l_prev, r_prev, ...) -> input padded (or cropped by
    negative entries) along its last len(pad) / 2 dims. mode: 'constant' (value, default 0),
    'reflect', 'replicate' or 'circular'."""
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"pad: expected a Tensor as input, got {type(input).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r} (expected one of "
                                  f"{', '.join(_MODES)})")
    pad = _check_pad(input, pad, mode)
    if mode == "constant":
        return _constant(input, pad, value)
    if value is not None and value != 0:
        raise RuntimeError(f"pad: padding mode {mode!r} doesn't take a value argument, got "
                           f"value={value}")
    y, copied = input, False
    for dim, low, high in _dims(input, pad):
        if low == 0 and high == 0:
            continue
        pieces = _segments(y, mode, dim, low, high, tuple(input.shape))
        if len(pieces) > 1:
            y, copied = ag.cat(pieces, dim), True
        else:
            y = pieces[0]
    return y if copied else y.clone()
