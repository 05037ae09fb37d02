"""Losses with PyTorch's names and signatures.

Shapes: input (N, C) or (N, C, d1, d2, ...) or (C,) with the classes on dim 1 (dim 0 for 1-d);
class-index targets (N,) / (N, d1, ...) / () of int64; probability targets the input's shape.

    cross_entropy      class indices: the fused primitive (log_softmax and NLL in one pass,
                       autograd.ops.loss.cross_entropy_nd); probabilities: composed,
                       l = -sum_c w_c y'_c log_softmax(x)_c with y' = (1 - eps) y + eps / C
    nll_loss           l = -w_t lp[t]            (mean: divided by the sum of w_t)
    binary_cross_entropy               l = -w (y log p + (1 - y) log(1 - p)), logs >= -100
    binary_cross_entropy_with_logits   l = -w (pw y log s(x) + (1 - y) log(1 - s(x)))
                                         = w ((1 - y) x - (1 + (pw - 1) y) log_sigmoid(x))

`_cross_entropy_composed` (log_softmax + nll_loss + the smoothing term, as PyTorch writes it)
is the fused cross entropy's test oracle.
"""
import numpy as np

import autograd as ag
from autograd.ops.loss import (REDUCTIONS, binary_cross_entropy_unreduced, cross_entropy_nd,
                               log_sigmoid, nll_loss_nd)
from autograd.ops.softmax import log_softmax

__all__ = ["cross_entropy", "nll_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits"]


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average / reduce flags, mapped onto reduction."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _check_reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; expected "
                         "'none', 'mean' or 'sum'")


def _float_input(op, input):
    if not isinstance(input, ag.Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {input.dtype} "
                           f"(input shape {tuple(input.shape)})")
    return input


def _constant_weight(op, weight):
    """A class weight for the class-index losses: a constant (PyTorch has no derivative for
    it), as an array (or None)."""
    if weight is None:
        return None
    if isinstance(weight, ag.Tensor):
        if weight.requires_grad and ag.is_grad_enabled():
            raise RuntimeError(f"{op}: not differentiable with respect to argument 'weight' "
                               f"(shape {tuple(weight.shape)}); it cannot have "
                               "requires_grad=True")
        return weight.data
    return np.asarray(weight)


def _as_nd(op, input, target):
    """(C,) input with a 0-d target -> (1, C) and (1,); checks the batch sizes agree."""
    if input.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got "
                         "a 0-d input")
    t = target.data if isinstance(target, ag.Tensor) else np.asarray(target)
    if input.ndim == 1:
        if t.ndim != 0:
            raise ValueError(f"{op}: a 1-d input of shape {tuple(input.shape)} needs a 0-d "
                             f"target, got target shape {tuple(t.shape)}")
        return input.reshape(1, input.shape[0]), t.reshape(1), True
    if t.ndim == 0 or t.shape[0] != input.shape[0]:
        batch = t.shape[0] if t.ndim else "none (0-d target)"
        raise ValueError(f"{op}: expected input batch_size ({input.shape[0]}) to match target "
                         f"batch_size ({batch}); input shape {tuple(input.shape)}, target "
                         f"shape {tuple(t.shape)}")
    return input, t, False


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """input: (N, C, d1, ...) or (C,) log-probabilities; target: (N, d1, ...) or () class
    indices; weight: (C,) -> (N, d1, ...) / () for 'none', else a 0-d loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("nll_loss", reduction)
    input = _float_input("nll_loss", input)
    x, t, single = _as_nd("nll_loss", input, target)
    out = nll_loss_nd(x, t, _constant_weight("nll_loss", weight), ignore_index, reduction)
    return out.reshape(()) if single and reduction == "none" else out


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """input: (N, C, d1, ...) or (C,) logits; target: class indices (N, d1, ...) / (), or
    class probabilities of input's shape; weight: (C,) -> (N, d1, ...) / () for 'none',
    else a 0-d loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("cross_entropy", reduction)
    input = _float_input("cross_entropy", input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    if isinstance(target, ag.Tensor) and target.dtype.kind == "f":
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction,
                                    label_smoothing)
    x, t, single = _as_nd("cross_entropy", input, target)
    out = cross_entropy_nd(x, t, _constant_weight("cross_entropy", weight), ignore_index,
                           reduction, label_smoothing)
    return out.reshape(()) if single and reduction == "none" else out


def _class_view(weight, ndim):
    """weight: (C,) shaped to broadcast against an input whose classes are on dim 1 (dim 0
    for a 1-d input)."""
    return weight if ndim == 1 else weight.reshape((-1,) + (1,) * (ndim - 2))


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing):
    """Probability targets, composed from the fused log_softmax (gradients reach input,
    target and weight): l = -sum_c w_c y'_c lp_c, y' = (1 - eps) y + eps / C;
    'mean' divides by the number of samples (input.numel() / C)."""
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"cross_entropy: expected integer (int64) class-index targets, or "
                           f"floating-point class probabilities of the input's shape; input "
                           f"shape {tuple(input.shape)}, target of dtype {target.dtype} and "
                           f"shape {tuple(target.shape)}")
    if ignore_index >= 0:
        raise RuntimeError("cross_entropy: ignore_index is not supported for floating point "
                           f"(probability) targets (target shape {tuple(target.shape)})")
    class_dim = 0 if input.ndim == 1 else 1
    num_classes = input.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / num_classes
    prod = log_softmax(input, class_dim) * target
    if weight is not None:
        weight = weight if isinstance(weight, ag.Tensor) else ag.tensor(np.asarray(weight))
        if tuple(weight.shape) != (num_classes,):
            raise RuntimeError(f"cross_entropy: weight should be a 1-D tensor of {num_classes} "
                               f"elements for input of shape {tuple(input.shape)}, got weight "
                               f"of shape {tuple(weight.shape)}")
        prod = prod * _class_view(weight, input.ndim)
    if reduction == "none":
        return -prod.sum(class_dim)
    if reduction == "sum":
        return -prod.sum()
    samples = input.data.size // max(num_classes, 1)
    if samples == 0:
        return -prod.sum() * float("nan")
    return -prod.sum() / samples


def _cross_entropy_composed(input, target, weight=None, ignore_index=-100, reduction="mean",
                            label_smoothing=0.0):
    """Class-index cross entropy as PyTorch composes it: nll_loss(log_softmax(x)) mixed with
    the label-smoothing term -sum_c w_c lp_c (the fused primitive's test oracle)."""
    x, t, single = _as_nd("cross_entropy", input, target)
    lp = log_softmax(x, 1)
    w = _constant_weight("cross_entropy", weight)
    nll = nll_loss_nd(lp, t, w, ignore_index, reduction)
    if label_smoothing > 0:
        num_classes = x.shape[1]
        valid = ag.tensor(t != ignore_index)
        if w is None:
            smooth = -lp.sum(1)
            denom = valid.sum()
        else:
            wt = ag.tensor(np.asarray(w, x.dtype))
            smooth = -(lp * _class_view(wt, x.ndim)).sum(1)
            denom = (wt[ag.tensor(np.where(t != ignore_index, t, 0))] * valid).sum()
        smooth = smooth.masked_fill(valid.logical_not(), 0.0)
        if reduction == "mean":
            smooth = smooth.sum() / denom.to(x.dtype)
        elif reduction == "sum":
            smooth = smooth.sum()
        nll = nll * (1 - label_smoothing) + smooth * (label_smoothing / num_classes)
    return nll.reshape(()) if single and reduction == "none" else nll


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """input: (...) probabilities in [0, 1]; target: input's shape; weight: broadcasts to
    input -> input's shape for 'none', else a 0-d loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy", reduction)
    input = _float_input("binary_cross_entropy", input)
    target = _target_like("binary_cross_entropy", input, target)
    p, y = input.data, target.data
    if not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError(f"binary_cross_entropy: all elements of input should be between 0 "
                           f"and 1 (input shape {tuple(input.shape)})")
    if not ((y >= 0) & (y <= 1)).all():
        raise RuntimeError(f"binary_cross_entropy: all elements of target should be between 0 "
                           f"and 1 (target shape {tuple(target.shape)})")
    loss = binary_cross_entropy_unreduced(input, target)
    return _weighted_reduce("binary_cross_entropy", loss, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """input: (...) logits; target: input's shape; weight: broadcasts to input; pos_weight:
    broadcasts to target (e.g. (C,) for (N, C)) -> input's shape for 'none', else 0-d.
    Finite for any logits: log sigmoid(x) = min(x, 0) - log1p(exp(-|x|))."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input = _float_input("binary_cross_entropy_with_logits", input)
    target = _target_like("binary_cross_entropy_with_logits", input, target)
    ls = log_sigmoid(input)
    if pos_weight is not None:
        _broadcasts("binary_cross_entropy_with_logits", "pos_weight", pos_weight, target)
        ls = ls * ((pos_weight - 1) * target + 1)         # log weight: 1 + (pw - 1) y
    loss = (1 - target) * input - ls
    return _weighted_reduce("binary_cross_entropy_with_logits", loss, weight, reduction)


def _target_like(op, input, target):
    if not isinstance(target, ag.Tensor):
        target = ag.tensor(np.asarray(target, input.dtype))
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: using a target size {tuple(target.shape)} that is different "
                         f"to the input size {tuple(input.shape)} is not supported; please "
                         "ensure they have the same size")
    if target.dtype.kind != "f":
        target = target.to(input.dtype)
    return target


def _broadcasts(op, name, t, like):
    shape = tuple(np.shape(t.data if isinstance(t, ag.Tensor) else t))
    try:
        fits = np.broadcast_shapes(shape, tuple(like.shape)) == tuple(like.shape)
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{op}: {name} of shape {shape} cannot be broadcast to the input "
                           f"shape {tuple(like.shape)}")


def _weighted_reduce(op, loss, weight, reduction):
    if weight is not None:
        _broadcasts(op, "weight", weight, loss)
        loss = loss * weight
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()
