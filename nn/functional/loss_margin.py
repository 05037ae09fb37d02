"""Margin and embedding losses, and the distances they use, with PyTorch's names and signatures.

    margin_ranking_loss      l = max(0, -y (x1 - x2) + margin)                     y in {1, -1}
    hinge_embedding_loss     l = x if y == 1;  max(0, margin - x) if y == -1
    cosine_embedding_loss    c = <x1, x2> / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))
                             l = 1 - c if y == 1;  max(0, c - margin) if y == -1
    triplet_margin_loss      l = max(0, margin + d(a, p) - d(a, n)),  d = pairwise_distance
                             swap: d(a, n) <- min(d(a, n), d(p, n))
    soft_margin_loss         l = log(1 + exp(-y x)) = -log sigmoid(y x)
    multilabel_soft_margin_loss
                             l = -mean_c w_c (y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c))
    multi_margin_loss        l = sum_{i != t} w_t max(0, margin - x_t + x_i)^p / C     p in {1, 2}
    multilabel_margin_loss   l = sum_{j in T} sum_{i not in T} max(0, 1 - x_j + x_i) / C
    pairwise_distance        d = ||x1 - x2 + eps||_p over the last dim
    cosine_similarity        s = sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) over dim
                             (the clamps happen off the tape, as in PyTorch)

Targets with other values than +-1 contribute 0 where PyTorch's do. Reductions: 'none',
'sum', 'mean' (over the per-sample losses: nan when there are none).
"""
import numpy as np

import autograd as ag
from autograd.ops.loss import log_sigmoid

from .loss import _check_reduction, _constant_weight, _float_input, _legacy_reduction
from .loss_regression import _as_tensor, _broadcast_shape, _reduce

__all__ = ["margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "pairwise_distance", "cosine_similarity"]

_COSINE_EPS = 1e-12


def _target_array(target):
    return target.data if isinstance(target, ag.Tensor) else np.asarray(target)


def _shapes(**tensors):
    return ", ".join(f"{name} {tuple(t.shape)}" for name, t in tensors.items())


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """input1, input2: (N,) or () scores; target: same ndim, +1 where input1 should rank
    higher, -1 where input2 should -> (N,) for 'none', else 0-d."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("margin_ranking_loss", reduction)
    input1 = _float_input("margin_ranking_loss", input1)
    input2 = _float_input("margin_ranking_loss", input2)
    target = _as_tensor(target, input1)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError("margin_ranking_loss: all input tensors should have the same number "
                           "of dimensions, got " + _shapes(input1=input1, input2=input2,
                                                           target=target))
    _broadcast_shape("margin_ranking_loss", ("input1", "input2", "target"), input1, input2,
                     target)
    loss = (-target * (input1 - input2) + margin).clamp_min(0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """input: (*) distances; target: (*) of +-1, broadcastable -> the broadcast shape for
    'none', else 0-d."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("hinge_embedding_loss", reduction)
    input = _float_input("hinge_embedding_loss", input)
    y = _target_array(target)
    _broadcast_shape("hinge_embedding_loss", ("input", "target"), input, ag.tensor(y))
    hinge = ag.where(y != 1, (margin - input).clamp_min(0), 0.0)     # y != 1: max(0, m - x)
    linear = ag.where(y != -1, input, 0.0)                            # y != -1: x
    return _reduce(hinge + linear, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """input1, input2: (N, D) or (D,); target: (N,) or () of +-1 -> (N,) / () for 'none',
    else 0-d."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("cosine_embedding_loss", reduction)
    input1 = _float_input("cosine_embedding_loss", input1)
    input2 = _float_input("cosine_embedding_loss", input2)
    y = _target_array(target)
    if y.ndim > 1:
        raise RuntimeError(f"cosine_embedding_loss: expected a 0-d or 1-d target (one per "
                           f"pair), got target shape {tuple(y.shape)}")
    if input1.ndim != y.ndim + 1 or input2.ndim != y.ndim + 1:
        raise RuntimeError(f"cosine_embedding_loss: a {y.ndim}-d target expects "
                           f"{y.ndim + 1}-d inputs, got " +
                           _shapes(input1=input1, input2=input2, target=ag.tensor(y)))
    _broadcast_shape("cosine_embedding_loss", ("input1", "input2"), input1, input2)
    dim = y.ndim
    dot = (input1 * input2).sum(dim)
    sq1 = (input1 * input1).sum(dim) + _COSINE_EPS
    sq2 = (input2 * input2).sum(dim) + _COSINE_EPS
    cos = dot / (sq1 * sq2).sqrt()
    _broadcast_shape("cosine_embedding_loss", ("cosine", "target"), cos, ag.tensor(y))
    similar = ag.where(y == 1, 1 - cos, 0.0)
    dissimilar = ag.where(y == -1, (cos - margin).clamp_min(0), 0.0)
    return _reduce(similar + dissimilar, reduction)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """x1, x2: (N, D) or (D,), broadcastable -> (N,) or () (keepdim: (N, 1) / (1,)):
    ||x1 - x2 + eps||_p over the last dim."""
    x1 = _float_input("pairwise_distance", x1)
    x2 = _float_input("pairwise_distance", x2)
    _broadcast_shape("pairwise_distance", ("x1", "x2"), x1, x2)
    return (x1 - x2 + eps).norm(p, dim=-1, keepdim=keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1, x2: broadcastable (e.g. (N, D)) -> their broadcast shape without dim.
    s = <x1 / max(||x1||, eps), x2 / max(||x2||, eps)>; the clamp is off the tape."""
    x1 = _float_input("cosine_similarity", x1)
    x2 = _float_input("cosine_similarity", x2)
    _broadcast_shape("cosine_similarity", ("x1", "x2"), x1, x2)
    x1, x2 = ag.broadcast_tensors(x1, x2)
    norm1 = x1.norm(2, dim=dim, keepdim=True).clone()
    norm2 = x2.norm(2, dim=dim, keepdim=True).clone()
    with ag.no_grad():
        norm1.clamp_(min=eps)
        norm2.clamp_(min=eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def _check_triplet(op, anchor, positive, negative, margin):
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"{op}: the anchor, positive and negative tensors are expected to "
                           "have the same number of dimensions, got " +
                           _shapes(anchor=anchor, positive=positive, negative=negative))
    _broadcast_shape(op, ("anchor", "positive", "negative"), anchor, positive, negative)


def _triplet(distance, anchor, positive, negative, margin, swap, reduction):
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = ag.minimum(d_neg, distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """anchor, positive, negative: (N, D) or (D,) -> (N,) / () for 'none', else 0-d."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("triplet_margin_loss", reduction)
    anchor = _float_input("triplet_margin_loss", anchor)
    positive = _float_input("triplet_margin_loss", positive)
    negative = _float_input("triplet_margin_loss", negative)
    _check_triplet("triplet_margin_loss", anchor, positive, negative, margin)

    def distance(x1, x2):
        return pairwise_distance(x1, x2, p, eps)
    return _triplet(distance, anchor, positive, negative, margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """anchor, positive, negative: (N, D) or (D,); distance_function(x1, x2) -> (N,) / ()
    (default pairwise_distance) -> (N,) / () for 'none', else 0-d."""
    _check_reduction("triplet_margin_with_distance_loss", reduction)
    _check_triplet("triplet_margin_with_distance_loss", anchor, positive, negative, margin)
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(distance, anchor, positive, negative, margin, swap, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """input: (*) scores; target: (*) of +-1, broadcastable to input's shape -> input's shape
    for 'none', else 0-d. Finite for any input (PyTorch's log1p(exp(-y x)) overflows)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("soft_margin_loss", reduction)
    input = _float_input("soft_margin_loss", input)
    target = _as_tensor(target, input)
    shape = _broadcast_shape("soft_margin_loss", ("input", "target"), input, target)
    if tuple(shape) != tuple(input.shape):
        raise RuntimeError(f"soft_margin_loss: target of shape {tuple(target.shape)} does not "
                           f"broadcast to the input shape {tuple(input.shape)}")
    return _reduce(-log_sigmoid(input * target), reduction)    # dl/dx = -y sigmoid(-y x)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """input: (N, C) or (C,) logits; target: input's shape, in {0, 1}; weight: (C,) ->
    (N,) / () for 'none', else 0-d."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("multilabel_soft_margin_loss", reduction)
    input = _float_input("multilabel_soft_margin_loss", input)
    if input.ndim == 0:
        raise ValueError("multilabel_soft_margin_loss: expected input of shape (N, C) or (C,), "
                         "got a 0-d input")
    target = _as_tensor(target, input)
    names = ("input", "target") if weight is None else ("input", "target", "weight")
    tensors = [input, target] + ([] if weight is None else [_as_tensor(weight, input)])
    _broadcast_shape("multilabel_soft_margin_loss", names, *tensors)
    loss = -(target * log_sigmoid(input) + (1 - target) * log_sigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    return _reduce(loss.sum(class_dim) / input.shape[class_dim], reduction)


def _class_targets(op, input, target, per_class):
    """input: (N, C), (C,) or () -> (input as (N, C), targets as ints, batched?).
    per_class: the target has input's shape (multilabel) rather than one index per row."""
    input = _float_input(op, input)
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):
        raise ValueError(f"{op}: expected a non-empty (C,) or (N, C) input, got input shape "
                         f"{tuple(input.shape)}")
    t = _target_array(target)
    if t.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected integer (int64) class-index targets, got {t.dtype} "
                           f"(target shape {tuple(t.shape)})")
    x = input.reshape(-1, 1 if input.ndim == 0 else input.shape[-1])
    if per_class:
        if t.shape != tuple(input.shape):
            raise ValueError(f"{op}: expected target of the input's shape "
                             f"{tuple(input.shape)}, got target shape {tuple(t.shape)}")
    elif t.ndim > 1 or t.size != x.shape[0]:
        raise ValueError(f"{op}: inconsistent target size, expected {x.shape[0]} target(s) "
                         f"for input of shape {tuple(input.shape)}, got target shape "
                         f"{tuple(t.shape)}")
    t = t.reshape(x.shape if per_class else (x.shape[0], 1)).astype(np.int64)
    num_classes = x.shape[1]
    checked = np.cumprod(t != -1, axis=1).astype(bool) if per_class else slice(None)
    if ((t[checked] < 0) | (t[checked] >= num_classes)).any():
        raise IndexError(f"{op}: target out of range for {num_classes} classes (input shape "
                         f"{tuple(input.shape)}, target shape {tuple(t.shape)})")
    return input, x, t


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """input: (N, C) or (C,) scores; target: (N,) or () class indices; weight: (C,) (a
    constant) -> (N,) / () for 'none', else 0-d."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("multi_margin_loss", reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 are supported, got {p}")
    input, x, t = _class_targets("multi_margin_loss", input, target, per_class=False)
    num_classes = x.shape[1]
    scores = x.gather(1, ag.tensor(t))                             # x_t: (N, 1)
    hinge = (margin - scores + x).relu()                           # max(0, margin - x_t + x_i)
    if p == 2:
        hinge = hinge * hinge
    w = _constant_weight("multi_margin_loss", weight)
    others = np.arange(num_classes) != t                           # i != t
    coef = others.astype(x.dtype)
    if w is not None:
        w = np.asarray(w, x.dtype).reshape(-1)
        if w.shape != (num_classes,):
            raise ValueError(f"multi_margin_loss: weight should have {num_classes} elements "
                             f"for input of shape {tuple(input.shape)}, got weight of shape "
                             f"{tuple(np.shape(weight))}")
        coef = coef * w[t]
    loss = (hinge * ag.tensor(coef)).sum(1) / num_classes
    if reduction == "none":
        return loss.reshape(np.shape(_target_array(target)))
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """input: (N, C) or (C,) scores; target: input's shape, the indices of the positive
    classes first, ended by -1 -> (N,) / () for 'none', else 0-d."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction("multilabel_margin_loss", reduction)
    input, x, t = _class_targets("multilabel_margin_loss", input, target, per_class=True)
    rows, num_classes = x.shape
    listed = np.cumprod(t != -1, axis=1).astype(bool)              # before the first -1
    t_safe = np.where(listed, t, 0)
    is_target = np.zeros((rows, num_classes), bool)
    np.logical_or.at(is_target, (np.nonzero(listed)[0], t_safe[listed]), True)
    scores = x.gather(1, ag.tensor(t_safe))                        # x_j: (N, C) for j in T
    hinge = (1 - scores.unsqueeze(2) + x.unsqueeze(1)).relu()      # [n, j, i]
    pairs = listed[:, :, None] & ~is_target[:, None, :]            # j in T, i not in T
    loss = (hinge * ag.tensor(pairs.astype(x.dtype))).sum((1, 2)) / num_classes
    if reduction == "none":
        return loss.reshape(tuple(input.shape[:-1]))
    return _reduce(loss, reduction)
