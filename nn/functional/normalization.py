"""Normalisation, composed from mean, var, rsqrt and broadcasting (so gradients of gradients
work, and float32 stays float32).

With mu and s2 the mean and the biased variance over the normalised axes:

    x_hat = (x - mu) / sqrt(s2 + eps),      y = x_hat * w + b     (w, b per channel/feature)

    batch_norm      x: (N, C, *)  stats over N and *, per channel C. Training: batch stats,
                    and in place, under no_grad:
                        running_mean <- (1 - m) running_mean + m mu
                        running_var  <- (1 - m) running_var  + m s2 n / (n - 1)   (unbiased)
                    Eval: x_hat = (x - running_mean) / sqrt(running_var + eps).
    instance_norm   x: (N, C, *)  stats over * per (n, c); the running stats get the batch
                    mean of the per-instance stats (PyTorch's rule)
    layer_norm      x: (*, S)     stats over the trailing dims S = normalized_shape; w, b: S
    group_norm      x: (N, C, *)  stats over the C/G channels of each group and *; w, b: (C,)
    normalize       x / max(||x||_p along dim, eps)
    local_response_norm   x / (k + alpha/size sum_{c' near c} x_c'^2)^beta  (across channels)

batch_norm (training), instance_norm, layer_norm and group_norm run fused primitives
(autograd/ops/normalization.py: statistics computed once, closed-form backward) for float32
and float64; the composed versions below (_batch_norm_composed, ...) are their test oracle
and serve the other dtypes.
"""
import math

import numpy as np

import autograd as ag
from autograd.ops import normalization as fused_ops

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "normalize",
           "local_response_norm"]


def _check_input(op, input, min_ndim=2, what="(N, C, *)"):
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(input).__name__}")
    if input.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {input.dtype} "
                           f"(input of shape {tuple(input.shape)})")
    if input.ndim < min_ndim:
        raise ValueError(f"{op}: expected input of shape {what}, got shape "
                         f"{tuple(input.shape)}")


def _check_per_channel(op, name, t, channels, input):
    if t is not None and t.numel() != channels:
        raise RuntimeError(f"{op}: {name} of shape {tuple(t.shape)} should contain "
                           f"{channels} elements, the channels of input of shape "
                           f"{tuple(input.shape)}")


def _channel_shape(input):
    """(1, C, 1, ...): a per-channel vector broadcast against x: (N, C, *)."""
    return (1, input.shape[1]) + (1,) * (input.ndim - 2)


def _affine(y, weight, bias, shape):
    """y * w + b with w, b reshaped to `shape` (either may be None)."""
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _standardize(x, axes, eps):
    """(x - mean) / sqrt(var + eps) over axes (biased variance); also returns mean, var."""
    mean = x.mean(axes, keepdim=True)
    var = x.var(axes, keepdim=True, correction=0)
    return (x - mean) * (var + eps).rsqrt(), mean, var


def _check_momentum(op, momentum):
    if momentum is None or isinstance(momentum, bool) or \
            not isinstance(momentum, (int, float, np.floating)):
        raise TypeError(f"{op}: momentum must be a float, got {momentum!r}; for a cumulative "
                        "average (BatchNorm's momentum=None) pass 1 / num_batches_tracked")


def _update(running, stat, momentum):
    """running <- (1 - momentum) running + momentum stat, in place (a version bump)."""
    if running is None:
        return
    stat = np.asarray(stat).reshape(running.shape)
    new = (running.data * (1.0 - momentum) + stat.astype(running.dtype) * momentum).astype(
        running.dtype, copy=False)
    if running.requires_grad or not running.data.flags.writeable:
        with ag.no_grad():                  # copy_'s checks and errors
            running.copy_(ag.Tensor._make(new, False, None, 0))
        return
    running.data[...] = new                 # a buffer: write directly (copy_ costs ~8 us)
    running._vc[0] += 1


def _normalize_with(input, mean, var, weight, bias, eps, shape):
    """Eval mode: x_hat = (x - mean) / sqrt(var + eps) with constant statistics, folded into
    y = x * scale + shift, scale = w / sqrt(var + eps), shift = b - mean * scale."""
    dtype = input.dtype
    inv = 1.0 / np.sqrt(var.data.astype(dtype) + np.asarray(eps, dtype))
    scale = ag.Tensor._make(inv.reshape(shape), False, None, 0)
    mu = ag.Tensor._make(mean.data.astype(dtype).reshape(shape), False, None, 0)
    if weight is not None:
        scale = scale * weight.reshape(shape)
    shift = -(mu * scale)
    if bias is not None:
        shift = shift + bias.reshape(shape)
    return input * scale + shift


def _fused(input):
    return input.data.dtype in fused_ops.FUSED_DTYPES


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """input: (N, C) or (N, C, *); running_mean, running_var, weight, bias: (C,) or None."""
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                       eps, _fused(input))


def _batch_norm_composed(input, running_mean, running_var, weight=None, bias=None,
                         training=False, momentum=0.1, eps=1e-5):
    """batch_norm from mean, var and rsqrt (the fused primitive's oracle)."""
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum,
                       eps, False)


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps,
                fused):
    _check_input("batch_norm", input, 2, "(N, C) or (N, C, *)")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_per_channel("batch_norm", name, t, channels, input)
    shape = _channel_shape(input)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be defined in "
                               "evaluation mode (training=False)")
        return _normalize_with(input, running_mean, running_var, weight, bias, eps, shape)
    _check_momentum("batch_norm", momentum)
    n = input.numel() // channels if channels else 0
    if n == 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {tuple(input.shape)}")
    if input.numel() == 0:
        return _affine(input, weight, bias, shape)        # nothing to normalise or record
    if fused:
        stats = []
        out = fused_ops.batch_norm_train(input, weight, bias, eps, stats)
        mean, var = stats
    else:
        axes = (0,) + tuple(range(2, input.ndim))
        x_hat, mean, var = _standardize(input, axes, eps)
        mean, var = mean.data, var.data
        out = _affine(x_hat, weight, bias, shape)
    _update(running_mean, mean, momentum)
    _update(running_var, var * (n / (n - 1)), momentum)     # the unbiased variance
    return out


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """input: (N, C, *); running_mean, running_var, weight, bias: (C,) or None."""
    return _instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                          momentum, eps, _fused(input))


def _instance_norm_composed(input, running_mean=None, running_var=None, weight=None,
                            bias=None, use_input_stats=True, momentum=0.1, eps=1e-5):
    """instance_norm from mean, var and rsqrt (the fused primitive's oracle)."""
    return _instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                          momentum, eps, False)


def _instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum,
                   eps, fused):
    _check_input("instance_norm", input, 2, "(N, C, *)")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_per_channel("instance_norm", name, t, channels, input)
    shape = _channel_shape(input)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: running_mean and running_var must be defined "
                               "when use_input_stats=False")
        return _normalize_with(input, running_mean, running_var, weight, bias, eps, shape)
    n = math.prod(input.shape[2:])
    if n == 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when "
                         f"training, got input of shape {tuple(input.shape)}")
    if input.numel() == 0:
        return _affine(input, weight, bias, shape)
    _check_momentum("instance_norm", momentum)
    if fused:
        stats = []
        shape3 = (input.shape[0], channels, n)
        out = fused_ops.group_norm(input, weight, bias, shape3, channels, eps, stats)
        mean, var = stats
    else:
        axes = tuple(range(2, input.ndim))
        x_hat, mean, var = _standardize(input, axes, eps)
        mean, var = mean.data, var.data
        out = _affine(x_hat, weight, bias, shape)
    # running stats: the batch mean of the per-instance statistics (unbiased variance)
    _update(running_mean, mean.reshape(input.shape[0], channels).mean(axis=0), momentum)
    _update(running_var, (var * (n / (n - 1))).reshape(input.shape[0], channels).mean(axis=0),
            momentum)
    return out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """input: (*, *normalized_shape); weight, bias: normalized_shape or None."""
    return _layer_norm(input, normalized_shape, weight, bias, eps, _fused(input))


def _layer_norm_composed(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """layer_norm from mean, var and rsqrt (the fused primitive's oracle)."""
    return _layer_norm(input, normalized_shape, weight, bias, eps, False)


def _layer_norm(input, normalized_shape, weight, bias, eps, fused):
    _check_input("layer_norm", input, 0)
    ns = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(int(s) for s in normalized_shape)
    k = len(ns)
    if k == 0:
        raise RuntimeError("layer_norm: expected normalized_shape to be at least 1-dimensional")
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != ns:
        raise RuntimeError(f"layer_norm: given normalized_shape={list(ns)}, expected input "
                           f"with shape [*, {', '.join(map(str, ns))}], but got input of "
                           f"shape {list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != ns:
            raise RuntimeError(f"layer_norm: expected {name} of shape {ns} (normalized_shape)"
                               f", got {tuple(t.shape)} (input of shape "
                               f"{tuple(input.shape)})")
    numel = input.numel()
    if numel == 0:
        return _affine(input, weight, bias, ns)
    if fused:
        size = math.prod(ns)
        shape3 = (numel // size, size, 1)          # rows of normalized_shape
        return fused_ops.group_norm(input, weight, bias, shape3, 1, eps)
    axes = tuple(range(input.ndim - k, input.ndim))
    x_hat, _, _ = _standardize(input, axes, eps)
    return _affine(x_hat, weight, bias, ns)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """input: (N, C, *) with C divisible by num_groups; weight, bias: (C,) or None."""
    return _group_norm(input, num_groups, weight, bias, eps, _fused(input))


def _group_norm_composed(input, num_groups, weight=None, bias=None, eps=1e-5):
    """group_norm from mean, var and rsqrt (the fused primitive's oracle)."""
    return _group_norm(input, num_groups, weight, bias, eps, False)


def _group_norm(input, num_groups, weight, bias, eps, fused):
    _check_input("group_norm", input, 2, "(N, C, *)")
    n, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"group_norm: expected number of channels in input to be divisible "
                           f"by num_groups, but got input of shape {list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.shape[0] != channels):
            raise RuntimeError(f"group_norm: expected {name} to be a vector of size equal to "
                               f"the number of channels in input, but got {name} of shape "
                               f"{list(t.shape)} and input of shape {list(input.shape)}")
    shape = _channel_shape(input)
    group_size = input.numel() // (n * num_groups) if n else 0
    if input.numel() == 0:
        return _affine(input, weight, bias, shape)
    if fused:
        shape3 = (n, channels, input.numel() // (n * channels))
        return fused_ops.group_norm(input, weight, bias, shape3, num_groups, eps)
    # (N, G, C/G * prod(*)): each row of the last axis is one group of one sample
    grouped = input.reshape(n, num_groups, group_size)
    x_hat, _, _ = _standardize(grouped, (2,), eps)
    return _affine(x_hat.reshape(input.shape), weight, bias, shape)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p over dim, eps), the norm kept as a size-1 dim."""
    if out is not None:
        raise NotImplementedError("normalize: the out= argument is not supported")
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"normalize: expected a Tensor as input, got {type(input).__name__}")
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps)
    return input / denom


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """input: (N, C, *) -> x / (k + alpha/size sum_{c' in window(c)} x_c'^2)^beta, the
    window c - size//2 .. c + (size-1)//2, zero-padded (PyTorch's avg-pool formulation)."""
    _check_input("local_response_norm", input, 3, "(N, C, *) with at least 3 dims")
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    sq = input * input
    before, after = size // 2, (size - 1) // 2
    pads = []
    for count in (before, after):
        zero_shape = (input.shape[0], count) + tuple(input.shape[2:])
        pads.append(ag.zeros(zero_shape, dtype=input.dtype))
    padded = ag.cat([pads[0], sq, pads[1]], 1)
    total = padded[:, 0:channels]
    for j in range(1, size):                  # window sum along channels: size shifted slices
        total = total + padded[:, j:j + channels]
    div = (total * (alpha / size) + k) ** beta
    return input / div
