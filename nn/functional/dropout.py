"""Dropout, with PyTorch's names and signatures; masks come from autograd's generator, so
`ag.manual_seed` makes them reproducible.

    dropout(x, p)        y = x * m / (1 - p),  m ~ Bernoulli(1 - p) per element
    dropout1d/2d/3d      the same with one m per channel: (N, C, *) or (C, *) inputs lose
                         whole channels (feature maps)
    dx = g * m / (1 - p) (composed: a product with a constant mask). p = 1 gives zeros;
    training=False (or p = 0) returns the input itself.
"""
import warnings

import numpy as np

import autograd as ag
from autograd.creation import get_rng

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d"]


def _check_p(op, p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")


def _mask(shape, p, dtype):
    """m / (1 - p) with m ~ Bernoulli(1 - p), shape `shape` (zeros when p == 1)."""
    if p == 1:
        return np.zeros(shape, dtype)
    keep = get_rng().random(shape, dtype=np.float32) >= p
    mask = keep.astype(dtype)
    mask *= 1.0 / (1.0 - p)
    return mask


def _apply(op, input, p, training, inplace, mask_shape):
    _check_p(op, p)
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if not training or p == 0 or input.data.size == 0:
        return input
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {input.dtype} "
                           f"(shape {tuple(input.shape)})")
    mask = ag.from_numpy(_mask(mask_shape, p, input.dtype))
    return input.mul_(mask) if inplace else input * mask


def dropout(input, p=0.5, training=True, inplace=False):
    """x: (...) -> x's shape; each element zeroed with probability p, the rest scaled by
    1 / (1 - p)."""
    return _apply("dropout", input, p, training, inplace, tuple(input.shape))


def _feature_dropout(op, input, p, training, inplace, spatial):
    """Whole channels dropped: input (N, C, *spatial) or (C, *spatial) with `spatial` dims."""
    ndim = input.ndim
    if ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{op}: expected a {spatial + 1}-D (C, ...) or {spatial + 2}-D "
                           f"(N, C, ...) input, got shape {tuple(input.shape)}")
    lead = ndim - spatial
    mask_shape = tuple(input.shape[:lead]) + (1,) * spatial
    return _apply(op, input, p, training, inplace, mask_shape)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """x: (N, C, L) or (C, L): each channel zeroed with probability p, the rest scaled."""
    return _feature_dropout("dropout1d", input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """x: (N, C, H, W): each channel (feature map) zeroed with probability p, the rest scaled
    by 1 / (1 - p). A 3-D x is read as PyTorch 2.x reads it, (N, C, L) with a warning: channel
    -wise 1-D dropout (dropout1d), not one unbatched (C, H, W) image."""
    if isinstance(input, ag.Tensor) and input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim. This behavior will change in a future release to interpret "
            "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
            "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
        return _feature_dropout("dropout2d", input, p, training, inplace, 1)
    return _feature_dropout("dropout2d", input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """x: (N, C, D, H, W) or (C, D, H, W): each channel zeroed with probability p."""
    return _feature_dropout("dropout3d", input, p, training, inplace, 3)
