"""Regression and distribution losses with PyTorch's names and signatures.

Elementwise in d = x - y (input and target broadcast; a size mismatch warns as in PyTorch):

    mse_loss           l = d^2
    l1_loss            l = |d|
    smooth_l1_loss     l = 0.5 d^2 / beta  if |d| < beta  else |d| - 0.5 beta   (beta = 0: |d|)
    huber_loss         l = 0.5 d^2         if |d| < delta else delta (|d| - 0.5 delta)
    kl_div             l = y (log y - x), with 0 log 0 = 0;  log_target: l = e^y (y - x)
    gaussian_nll_loss  l = 0.5 (log v + d^2 / v) [+ 0.5 log 2 pi],  v = max(var, eps)
    poisson_nll_loss   log_input: l = e^x - y x;  else l = x - y log(x + eps)
                       full: + y log y - y + 0.5 log(2 pi y) where y > 1

Reductions: 'none' (the broadcast shape), 'sum', 'mean' (over all elements: nan when empty);
mse/l1 with `weight` (input's shape): 'mean' = sum(w l) / sum(w); huber with weight: mean(w l);
kl_div 'batchmean' = sum / N (N = input.shape[0]; a 0-d input is not divided).

`var` in gaussian_nll_loss is clamped to eps outside the graph (its gradient is the one at the
clamped value, passed through unchanged), as PyTorch does.
"""
import math
import warnings

import numpy as np

import autograd as ag

from .loss import _check_reduction, _float_input, _legacy_reduction

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
           "gaussian_nll_loss", "poisson_nll_loss"]


def _as_tensor(value, like):
    """A target given as a number or array: a constant Tensor in like's dtype."""
    if isinstance(value, ag.Tensor):
        return value
    return ag.tensor(np.asarray(value, like.dtype))


def _broadcast_shape(op, names, *tensors):
    """The broadcast shape of the tensors, or a RuntimeError naming op and their shapes."""
    shapes = [tuple(t.shape) for t in tensors]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(f"{n} of shape {s}" for n, s in zip(names, shapes))
        raise RuntimeError(f"{op}: {listed} cannot be broadcast together") from None


def _pair(op, input, target, warn=True):
    """input: a float Tensor; target: broadcastable to it. PyTorch warns when the sizes
    differ (the usual bug: (N, 1) predictions against (N,) targets)."""
    input = _float_input(op, input)
    target = _as_tensor(target, input)
    if tuple(target.shape) != tuple(input.shape):
        _broadcast_shape(op, ("input", "target"), input, target)
        if warn:
            warnings.warn(f"{op}: using a target size ({tuple(target.shape)}) that is different "
                          f"to the input size ({tuple(input.shape)}). This will likely lead to "
                          "incorrect results due to broadcasting. Please ensure they have the "
                          "same size.", UserWarning, stacklevel=3)
    return input, target


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _sample_weight(op, weight, input):
    weight = _as_tensor(weight, input)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} must have the input's "
                         f"shape {tuple(input.shape)}")
    return weight


def _weighted(op, loss, weight, input, reduction):
    """l * w, reduced; 'mean' divides by the sum of the weights."""
    weight = _sample_weight(op, weight, input)
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """input, target: (...) broadcastable; weight: input's shape -> the broadcast shape for
    'none', else 0-d."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("mse_loss", reduction)
    input, target = _pair("mse_loss", input, target)
    diff = input - target
    loss = diff * diff                                     # l = d^2, dl/dx = 2 d
    if weight is not None:
        return _weighted("mse_loss", loss, weight, input, reduction)
    return _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """input, target: (...) broadcastable; weight: input's shape -> the broadcast shape for
    'none', else 0-d. The gradient at d = 0 is 0."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("l1_loss", reduction)
    input, target = _pair("l1_loss", input, target)
    loss = (input - target).abs()                          # l = |d|, dl/dx = sign(d)
    if weight is not None:
        return _weighted("l1_loss", loss, weight, input, reduction)
    return _reduce(loss, reduction)


def _quadratic_inside(diff, threshold, scale, linear):
    """scale d^2 where |d| < threshold, else linear (a Tensor of d's shape).

    A blend with the constant 0/1 mask c = [|d| < threshold]: scale (d c)^2 + linear (1 - c),
    as numpy's where() branches per element (about 30x a product on a random mask), and so
    does its gradient. Where d is infinite, d c = inf * 0 would be nan: masked_fill instead."""
    inside = ~np.greater_equal(np.abs(diff.data), threshold)     # nan: inside, as PyTorch
    mask = inside.astype(diff.dtype)
    if np.isfinite(diff.data).all():
        masked = diff * ag.tensor(mask)                    # d inside, 0 outside
    else:
        masked = diff.masked_fill(~inside, 0.0)
    return scale * masked * masked + linear * ag.tensor(1 - mask)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """input, target: (...) broadcastable -> the broadcast shape for 'none', else 0-d.
    Huber's loss divided by beta; beta = 0 is the L1 loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("smooth_l1_loss", reduction)
    input, target = _pair("smooth_l1_loss", input, target)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be non-negative, got {beta} (input "
                           f"shape {tuple(input.shape)})")
    diff = input - target
    adiff = diff.abs()
    if beta == 0:
        return _reduce(adiff, reduction)
    # dl/dx = d / beta inside, sign(d) outside: continuous at |d| = beta
    loss = _quadratic_inside(diff, beta, 0.5 / beta, adiff - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """input, target: (...) broadcastable; weight: input's shape -> the broadcast shape for
    'none', else 0-d ('mean' with weight: mean(w l), as PyTorch)."""
    _check_reduction("huber_loss", reduction)
    input, target = _pair("huber_loss", input, target)
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be positive, got {delta} (input shape "
                           f"{tuple(input.shape)})")
    diff = input - target
    # dl/dx = d inside, delta sign(d) outside: continuous at |d| = delta
    loss = _quadratic_inside(diff, delta, 0.5, delta * (diff.abs() - 0.5 * delta))
    if weight is not None:
        loss = loss * _sample_weight("huber_loss", weight, input)
    return _reduce(loss, reduction)


def _xlogx(y):
    """y log y with 0 log 0 = 0; d/dy = log y + 1 where y != 0 (0 there: PyTorch's xlogy
    gives nan)."""
    zero = np.equal(y.data, 0)
    if not zero.any():
        return y * y.log()
    return y * y.masked_fill(zero, 1.0).log()


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """input: (...) log-probabilities; target: (...) probabilities (log-probabilities with
    log_target), broadcastable -> the broadcast shape for 'none', else 0-d.
    'batchmean' divides the sum by input.shape[0], the KL divergence per sample."""
    legacy = size_average is not None or reduce is not None
    if legacy:
        reduced_by = _legacy_reduction(size_average, reduce, reduction)
    else:
        if reduction not in ("none", "batchmean", "sum", "mean"):
            raise ValueError(f"kl_div: {reduction!r} is not a valid value for reduction; "
                             "expected 'none', 'batchmean', 'sum' or 'mean'")
        if reduction == "mean":
            warnings.warn("kl_div: reduction 'mean' divides the total loss by both the batch "
                          "size and the support size; 'batchmean' divides only by the batch "
                          "size, and aligns with the KL divergence's definition.", UserWarning,
                          stacklevel=2)
        reduced_by = "sum" if reduction == "batchmean" else reduction
    input = _float_input("kl_div", input)
    target = _as_tensor(target, input)
    _broadcast_shape("kl_div", ("input", "target"), input, target)
    if log_target:
        loss = target.exp() * (target - input)             # l = e^y (y - x)
    else:
        loss = _xlogx(target) - target * input             # l = y log y - y x
    out = _reduce(loss, reduced_by)
    if reduction == "batchmean" and input.ndim != 0:
        out = out / input.shape[0]
    return out


def _gaussian_var(input, var):
    """var as a Tensor that broadcasts against input (PyTorch's rules): input's shape; input's
    shape without its last dim (unsqueezed); or input's ndim with one size-1 dim."""
    shape = tuple(input.shape)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"gaussian_nll_loss: var has a negative entry ({var})")
        return ag.full_like(input, float(var))
    var = _as_tensor(var, input)
    if np.any(var.data < 0):
        raise ValueError(f"gaussian_nll_loss: var (shape {tuple(var.shape)}) has negative "
                         "entries")
    v_shape = tuple(var.shape)
    if v_shape == shape:
        return var
    if v_shape == shape[:-1] and len(shape) > 0:
        return var.unsqueeze(-1)
    # homoscedastic along one dim: PyTorch requires the sizes of var at the mismatched dims
    # to sum to 1, i.e. exactly one mismatch, of size 1
    if len(v_shape) == len(shape) and sum(v for s, v in zip(shape, v_shape) if s != v) == 1:
        return var
    raise ValueError(f"gaussian_nll_loss: var of shape {v_shape} is of incorrect size for "
                     f"input of shape {shape}; expected {shape}, {shape[:-1]} or {shape} "
                     "with one dim of size 1")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """input: (N, *) means; target: (N, *) samples (broadcastable); var: (N, *) variances,
    (N, *) with one dim of size 1, (N, *[:-1]) or a number -> (N, *) for 'none', else 0-d."""
    input = _float_input("gaussian_nll_loss", input)
    target = _as_tensor(target, input)
    var = _gaussian_var(input, var)
    _check_reduction("gaussian_nll_loss", reduction)
    _broadcast_shape("gaussian_nll_loss", ("input", "target", "var"), input, target, var)
    var = var.clone()
    with ag.no_grad():
        var.clamp_(min=eps)                                 # v = max(var, eps), off the tape
    diff = input - target
    loss = 0.5 * (var.log() + diff * diff / var)            # dl/dx = d / v
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """input: (...) rates (log-rates with log_input); target: (...) counts, broadcastable ->
    the broadcast shape for 'none', else 0-d."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("poisson_nll_loss", reduction)
    input = _float_input("poisson_nll_loss", input)
    target = _as_tensor(target, input)
    _broadcast_shape("poisson_nll_loss", ("input", "target"), input, target)
    if log_input:
        loss = input.exp() - target * input                 # l = e^x - y x
    else:
        loss = input - target * (input + eps).log()         # l = x - y log(x + eps)
    if full:
        # Stirling's approximation of log(y!), only where y > 1 (0 elsewhere, as PyTorch)
        small = np.less_equal(target.data, 1)
        y = target.masked_fill(small, 2.0)
        stirling = y * y.log() - y + 0.5 * (2 * math.pi * y).log()
        loss = loss + stirling.masked_fill(small, 0.0)
    return _reduce(loss, reduction)
