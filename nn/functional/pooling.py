"""Pooling and resampling with PyTorch's names, signatures and semantics.

    max_pool{1,2,3}d(x, k, stride=k, padding=0, dilation=1, ceil_mode, return_indices)
        x: (N, C, *S) or (C, *S) -> (N, C, *O); O = floor or ceil of
        (S + 2p - d(k-1) - 1) / stride + 1; padding counts as -inf; indices are flat per plane
        (h*W + w in 2-d); the gradient goes to the (first) argmax
    avg_pool{1,2,3}d(x, k, stride=k, padding=0, ceil_mode, count_include_pad,
                     divisor_override (2-d, 3-d))   y = window sum / divisor
    adaptive_avg_pool{1,2,3}d(x, O), adaptive_max_pool{1,2,3}d(x, O, return_indices)
        window o = [floor(o*S/O), ceil((o+1)*S/O)) per dim
    max_unpool{1,2,3}d(x, indices, k, stride=k, padding=0, output_size)
        y[indices[p, j]] = x[p, j] in zeros of the default size (S - 1)*stride - 2p + k
    interpolate, upsample, upsample_nearest, upsample_bilinear   (autograd/ops/resample.py)
"""
import numpy as np

import autograd as ag
from autograd.ops.pool import (AvgPool, MaxPool, Pooling, ScatterPlanes, adaptive_windows,
                               avg_windows, max_windows, pool_output_size)
from autograd.ops.resample import interpolate, upsample, upsample_bilinear, upsample_nearest

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "max_unpool1d", "max_unpool2d", "max_unpool3d",
           "interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]


# -- argument checks -------------------------------------------------------------------------
def _ntuple(op, name, value, n):
    """An int or a sequence of 1 or n ints as a tuple of n ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        items = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got "
                        f"{value!r}") from None
    if len(items) == 1:
        return items * n
    if len(items) != n:
        raise RuntimeError(f"{op}: {name} must either be a single int, or a tuple of {n} "
                           f"ints, got {value!r}")
    return items


def _stride(op, stride, kernel, n):
    """stride None (or empty) defaults to the kernel size."""
    if stride is None or (not isinstance(stride, (int, np.integer)) and len(stride) == 0):
        return kernel
    return _ntuple(op, "stride", stride, n)


def _check_input(op, input, nsp):
    """input: (N, C, *S) or (C, *S), floating point, with non-empty non-batch dims."""
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    shape = tuple(input.shape)
    if input.ndim not in (nsp + 1, nsp + 2) or 0 in shape[input.ndim - nsp - 1:]:
        raise RuntimeError(f"{op}: expected a {nsp + 1}-d (C, *S) or {nsp + 2}-d (N, C, *S) "
                           f"input with non-zero C and spatial sizes, got shape {shape}")
    if not input.is_floating_point():
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype} with "
                           f"shape {shape}")
    return shape[input.ndim - nsp:]


def _check_window(op, shape, kernel, stride, padding, dilation=None):
    if min(kernel) <= 0:
        raise RuntimeError(f"{op}: kernel size should be greater than zero, got "
                           f"kernel_size={kernel} for input of shape {shape}")
    if min(stride) <= 0:
        raise RuntimeError(f"{op}: stride should be greater than zero, got stride={stride}")
    if dilation is not None and min(dilation) <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, got "
                           f"dilation={dilation}")
    if min(padding) < 0 or any(p > k // 2 for p, k in zip(padding, kernel)):
        raise RuntimeError(f"{op}: pad should be at most half of kernel size (and >= 0), got "
                           f"padding={padding} and kernel_size={kernel} for input of shape "
                           f"{shape}")


def _output_sizes(op, shape, sizes, kernel, stride, padding, dilation, ceil_mode):
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(sizes, kernel, stride, padding, dilation))
    if min(out) < 1:
        raise RuntimeError(f"{op}: input of shape {shape} gives output size {out} with "
                           f"kernel_size={kernel}, stride={stride}, padding={padding}, "
                           f"dilation={dilation}: output size is too small (kernel larger "
                           "than the padded input)")
    return out


# -- max pooling -------------------------------------------------------------------------------
def _max_pool(op, nsp, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    sizes = _check_input(op, input, nsp)
    k = _ntuple(op, "kernel_size", kernel_size, nsp)
    s = _stride(op, stride, k, nsp)
    p = _ntuple(op, "padding", padding, nsp)
    d = _ntuple(op, "dilation", dilation, nsp)
    _check_window(op, tuple(input.shape), k, s, p, d)
    out = _output_sizes(op, tuple(input.shape), sizes, k, s, p, d, ceil_mode)
    tables = [max_windows(*args) for args in zip(sizes, out, k, s, p, d)]
    y, idx = MaxPool.apply(input, Pooling(sizes, tables, d))
    return (y, idx) if return_indices else y


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """input: (N, C, L) or (C, L) -> (N, C, L_out) [, indices (int64) in [0, L)]."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """input: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) [, indices h*W + w]."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """input: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out)
    [, indices (d*H + h)*W + w]."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


# -- average pooling ---------------------------------------------------------------------------
def _avg_pool(op, nsp, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    sizes = _check_input(op, input, nsp)
    k = _ntuple(op, "kernel_size", kernel_size, nsp)
    s = _stride(op, stride, k, nsp)
    p = _ntuple(op, "padding", padding, nsp)
    _check_window(op, tuple(input.shape), k, s, p)
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError(f"{op}: divisor_override must be non-zero")
    out = _output_sizes(op, tuple(input.shape), sizes, k, s, p, (1,) * nsp, ceil_mode)
    tables = [avg_windows(n, o, kk, ss, pp, count_include_pad)
              for n, o, kk, ss, pp in zip(sizes, out, k, s, p)]
    divisor = 0 if divisor_override is None else int(divisor_override)
    return AvgPool.apply(input, Pooling(sizes, tables, divisor=divisor))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """input: (N, C, L) or (C, L) -> (N, C, L_out), the mean over each window."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """input: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out)."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """input: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# -- adaptive pooling --------------------------------------------------------------------------
def _adaptive(op, nsp, input, output_size):
    sizes = _check_input(op, input, nsp)
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nsp
    output_size = tuple(output_size)
    if len(output_size) == 1:
        output_size = output_size * nsp
    if len(output_size) != nsp:
        raise RuntimeError(f"{op}: output_size must be an int or a tuple of {nsp} ints (None "
                           f"keeps the input size), got {output_size!r}")
    out = tuple(n if o is None else int(o) for n, o in zip(sizes, output_size))
    if min(out) < 0:
        raise RuntimeError(f"{op}: output_size {out} must be non-negative (input shape "
                           f"{tuple(input.shape)})")
    return sizes, [adaptive_windows(n, o) for n, o in zip(sizes, out)]


def _adaptive_avg(op, nsp, input, output_size):
    sizes, tables = _adaptive(op, nsp, input, output_size)
    return AvgPool.apply(input, Pooling(sizes, tables))


def _adaptive_max(op, nsp, input, output_size, return_indices):
    sizes, tables = _adaptive(op, nsp, input, output_size)
    if 0 in sizes:
        raise RuntimeError(f"{op}: input shape {tuple(input.shape)} has an empty dim")
    y, idx = MaxPool.apply(input, Pooling(sizes, tables))
    return (y, idx) if return_indices else y


def adaptive_avg_pool1d(input, output_size):
    """input: (N, C, L) or (C, L) -> (N, C, output_size)."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """input: (N, C, H, W) or (C, H, W) -> (N, C, *output_size) (None keeps a size)."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """input: (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size)."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """input: (N, C, L) or (C, L) -> (N, C, output_size) [, indices]."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """input: (N, C, H, W) or (C, H, W) -> (N, C, *output_size) [, indices h*W + w]."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """input: (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size) [, indices]."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


# -- max unpooling -----------------------------------------------------------------------------
def _unpool_size(op, sizes, k, s, p, output_size):
    """PyTorch's _unpool_output_size: (S - 1)*stride + k - 2p, or output_size (its last nsp
    entries) when within stride of that default."""
    nsp = len(k)
    default = tuple((n - 1) * ss + kk - 2 * pp for n, kk, ss, pp in zip(sizes, k, s, p))
    if output_size is None:
        out = default
    else:
        out = tuple(int(o) for o in output_size)
        if len(out) == nsp + 2:
            out = out[2:]
        if len(out) != nsp:
            raise ValueError(f"{op}: output_size should have {nsp} or {nsp + 2} elements, "
                             f"got {output_size!r}")
        for dim, (o, dflt, ss) in enumerate(zip(out, default, s)):
            if not dflt - ss < o < dflt + ss:
                raise ValueError(f"{op}: invalid output_size {out} (dim {dim} must be between "
                                 f"{dflt - ss} and {dflt + ss}, exclusive)")
    if min(out) < 0:
        raise ValueError(f"{op}: the output size {out} must be non-negative")
    return out


def _max_unpool(op, nsp, input, indices, kernel_size, stride, padding, output_size):
    sizes = _check_input(op, input, nsp)
    k = _ntuple(op, "kernel_size", kernel_size, nsp)
    s = _stride(op, stride, k, nsp)
    p = _ntuple(op, "padding", padding, nsp)
    out = _unpool_size(op, sizes, k, s, p, output_size)
    idx = indices.data if isinstance(indices, ag.Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu" or tuple(idx.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: indices must be an int64 tensor of the input's shape "
                           f"{tuple(input.shape)}, got {idx.dtype} with shape "
                           f"{tuple(idx.shape)}")
    idx = idx.astype(np.int64, copy=False)
    total = int(np.prod(out, dtype=np.int64))
    if idx.size and (idx.min() < 0 or idx.max() >= total):
        bad = int(idx.max() if idx.max() >= total else idx.min())
        raise RuntimeError(f"{op}: found an invalid max index {bad} (output planes are of "
                           f"size {'x'.join(map(str, out))}, input shape "
                           f"{tuple(input.shape)})")
    return ScatterPlanes.apply(input, idx, out, False)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """input, indices: (N, C, L) -> (N, C, L_out): input put at its flat per-plane indices."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """input, indices: (N, C, H, W) -> (N, C, H_out, W_out), the partial inverse of
    max_pool2d: y.flat-per-plane[indices] = input, zeros elsewhere."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """input, indices: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)
