"""Resampling: interpolate / upsample with PyTorch's index and weight formulas, composed from
index_select, mul and add (so gradients of any order work). Wrapped by nn.functional.

Along each spatial dim (input size n, output size m; scale = 1/scale_factor when one is
given and not recomputed, else n/m), computed in float32 for 'nearest' as PyTorch does:

    nearest       src(o) = min(floor(o * scale), n - 1)       y[o] = x[src(o)]
                  except for 4-d input (PyTorch's upsample_nearest2d), which takes
                  src(o) = o when m == n and src(o) = o >> 1 when m == 2n whatever the
                  scale; 3-d and 5-d input always use the formula (e.g. n = 5,
                  scale_factor = 1.07: m = 5, src = [0, 0, 1, 2, 3]). The gradient is
                  the adjoint, dx[i] = sum of g[o] over src(o) = i. (PyTorch 2.x's CPU
                  backward of 3-d / 5-d nearest takes the 4-d shortcuts, so its gradient
                  there is not the adjoint of its own forward; ours is.)
    linear        align_corners:  s(o) = o * (n - 1)/(m - 1)   (0 when m == 1)
                  else:           s(o) = max(scale * (o + 0.5) - 0.5, 0)
                  i0 = min(floor(s), n - 1), i1 = i0 + (i0 < n - 1), l1 = s - i0, l0 = 1 - l1
                  y[o] = l0 * x[i0] + l1 * x[i1]

'linear' (N, C, L), 'bilinear' (N, C, H, W) and 'trilinear' (N, C, D, H, W) apply the 1-d
rule along W first, then H, then D (PyTorch's order of the weighted sums).
"""
import math

import numpy as np

from ..tensor import Tensor
from .scatter import index_select

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _scale(n, m, scale, dtype):
    """PyTorch's compute_scales_value: 1/scale_factor when given (> 0), else n / m."""
    if scale is not None and scale > 0:
        return dtype(1.0 / scale)
    return dtype(n) / dtype(m)


def nearest_source(n, m, scale, shortcuts=False):
    """src: (m,) int64 indices of 'nearest' (float32 arithmetic). shortcuts=True is PyTorch's
    nearest_idx (4-d input): o when m == n, o >> 1 when m == 2n, else the formula;
    shortcuts=False (3-d and 5-d input) always applies src(o) = min(floor(o * scale), n - 1)."""
    if shortcuts and m == n:
        return np.arange(m, dtype=np.int64)
    if shortcuts and m == 2 * n:
        return np.arange(m, dtype=np.int64) >> 1
    s = _scale(n, m, scale, np.float32)
    src = np.floor(np.arange(m, dtype=np.float32) * s).astype(np.int64)
    return np.minimum(src, n - 1)


def linear_source(n, m, scale, align_corners, dtype):
    """(i0, i1, l0, l1): the two source indices (m,) int64 and their weights (m,) dtype."""
    o = np.arange(m, dtype=dtype)
    if align_corners:
        s = dtype(n - 1) / dtype(m - 1) if m > 1 else dtype(0)
        src = s * o
    else:
        s = _scale(n, m, scale, dtype)
        src = np.maximum(s * (o + dtype(0.5)) - dtype(0.5), dtype(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    l1 = np.clip(src - i0.astype(dtype), dtype(0), dtype(1)).astype(dtype)
    i1 = i0 + (i0 < n - 1)
    return i0, i1, (dtype(1) - l1).astype(dtype), l1


def _const(arr):
    return Tensor._make(arr, False, None, 0)


def _resize_dim(x, axis, n, m, scale, mode, align_corners):
    """x resampled from n to m positions along `axis`."""
    if mode == "nearest":
        src = nearest_source(n, m, scale, shortcuts=x.ndim == 4)
        if m == n and np.array_equal(src, np.arange(n)):
            return x
        return index_select(x, axis, src)
    dtype = x.data.dtype.type
    i0, i1, l0, l1 = linear_source(n, m, scale, align_corners, dtype)
    tail = (1,) * (x.ndim - axis - 1)
    w0, w1 = _const(l0.reshape((m,) + tail)), _const(l1.reshape((m,) + tail))
    # y[o] = l0[o] * x[i0[o]] + l1[o] * x[i1[o]]
    return index_select(x, axis, i0) * w0 + index_select(x, axis, i1) * w1


def _sizes(op, x, nsp, size, scale_factor, recompute_scale_factor):
    """(output sizes, scales passed to the kernels) as PyTorch's interpolate computes them."""
    spatial = tuple(x.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: exactly one of size or scale_factor must be given (input "
                         f"shape {tuple(x.shape)})")
    if size is not None:
        sizes = (size,) * nsp if isinstance(size, (int, np.integer)) else tuple(size)
        if len(sizes) != nsp:
            raise ValueError(f"{op}: size {size!r} must have {nsp} entries for input of shape "
                             f"{tuple(x.shape)}")
        return tuple(int(s) for s in sizes), (None,) * nsp
    if isinstance(scale_factor, (int, float, np.number)):
        scales = (float(scale_factor),) * nsp
    else:
        scales = tuple(float(s) for s in scale_factor)
    if len(scales) != nsp:
        raise ValueError(f"{op}: scale_factor {scale_factor!r} must have {nsp} entries for "
                         f"input of shape {tuple(x.shape)}")
    sizes = tuple(math.floor(float(n) * s) for n, s in zip(spatial, scales))
    if recompute_scale_factor:
        scales = (None,) * nsp
    return sizes, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """input: (N, C, *S) with 1-3 spatial dims -> (N, C, *size), or S * scale_factor
    (floored). Modes: 'nearest' (any), 'linear' (3-d), 'bilinear' (4-d), 'trilinear' (5-d)."""
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    nsp = input.ndim - 2
    if not 1 <= nsp <= 3:
        raise ValueError(f"{op}: expected a 3-d, 4-d or 5-d input (N, C, *spatial), got shape "
                         f"{tuple(input.shape)}")
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError(f"{op}: align_corners option can only be set with the "
                             "interpolating modes: linear | bilinear | trilinear")
    elif mode in _LINEAR:
        if _LINEAR[mode] != nsp:
            raise NotImplementedError(f"{op}: got {input.ndim}-d input of shape "
                                      f"{tuple(input.shape)}, but {mode} mode needs "
                                      f"{_LINEAR[mode] + 2}-d input")
        align_corners = bool(align_corners)
    else:
        raise NotImplementedError(f"{op}: mode {mode!r} is not supported (nearest, linear, "
                                  "bilinear, trilinear)")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    if not input.is_floating_point():
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype} with "
                           f"shape {tuple(input.shape)}")
    sizes, scales = _sizes(op, input, nsp, size, scale_factor, recompute_scale_factor)
    if min(sizes) <= 0 or 0 in input.shape[1:]:
        raise ValueError(f"{op}: input shape {tuple(input.shape)} and output size {sizes} must "
                         "be non-empty")
    y = input
    for axis in range(input.ndim - 1, 1, -1):          # W first, then H, then D
        n, m, scale = input.shape[axis], sizes[axis - 2], scales[axis - 2]
        # n == m is a copy (linear too, as PyTorch), except 3-d / 5-d 'nearest' with a
        # scale_factor s: src(o) = floor(o / s) may fall below o
        if n != m or (mode == "nearest" and nsp != 2 and scale is not None and scale > 0):
            y = _resize_dim(y, axis, n, m, scale, mode, align_corners)
    return input.clone() if y is input else y


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated PyTorch alias of interpolate."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """interpolate(input, size, scale_factor, mode='nearest')."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
