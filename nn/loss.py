"""Loss modules: each stores its options and calls its nn.functional loss in forward.

As in PyTorch, the class weights of the weighted losses (CrossEntropyLoss, NLLLoss, BCELoss,
MultiLabelSoftMarginLoss, MultiMarginLoss) are a buffer named `weight`, and BCEWithLogitsLoss
has the buffers `weight` and `pos_weight` (None buffers are left out of state_dict), so they
follow `.to(dtype)` and load from a PyTorch state dict. The deprecated size_average / reduce
flags are folded into `reduction` at construction.

CosineSimilarity and PairwiseDistance (torch.nn's distance modules) live here too, next to the
embedding losses that use them.
"""
from . import functional as F
from .functional.loss import _legacy_reduction
from .module import Module

__all__ = ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "GaussianNLLLoss",
           "PoissonNLLLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
           "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss",
           "TripletMarginLoss", "TripletMarginWithDistanceLoss", "SoftMarginLoss",
           "MultiLabelSoftMarginLoss", "MultiMarginLoss", "MultiLabelMarginLoss",
           "CosineSimilarity", "PairwiseDistance"]


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    """weight: (C,) Tensor or None, registered as the buffer `weight`."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


# -- regression and distribution losses ---------------------------------------------------------
class L1Loss(_Loss):
    """input, target: (*) -> (*) for reduction 'none', else 0-d: |input - target|."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """input, target: (*) -> (*) for reduction 'none', else 0-d: (input - target)^2."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """input, target: (*) -> (*) for 'none', else 0-d: quadratic below beta, then linear."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """input, target: (*) -> (*) for 'none', else 0-d: quadratic below delta, then linear
    with slope delta."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class KLDivLoss(_Loss):
    """input: (*) log-probabilities; target: (*) probabilities (log with log_target) -> (*)
    for 'none', else 0-d ('batchmean': the KL divergence per sample)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class GaussianNLLLoss(_Loss):
    """input: (N, *) means; target: (N, *); var: (N, *), (N, *) with one dim of size 1,
    (N, *[:-1]) or a number -> (N, *) for 'none', else 0-d."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(reduction=reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class PoissonNLLLoss(_Loss):
    """log_input: (*) rates (log-rates when log_input); target: (*) counts -> (*) for
    'none', else 0-d."""

    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


# -- classification losses (fused primitives) ---------------------------------------------------
class CrossEntropyLoss(_WeightedLoss):
    """input: (N, C, d1, ...) or (C,) logits; target: class indices (N, d1, ...) / () or
    probabilities of input's shape -> (N, d1, ...) / () for 'none', else 0-d."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """input: (N, C, d1, ...) or (C,) log-probabilities; target: (N, d1, ...) / () class
    indices -> (N, d1, ...) / () for 'none', else 0-d."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """input: (*) probabilities; target: (*) in [0, 1]; weight: broadcasts to input -> (*)
    for 'none', else 0-d."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """input: (*) logits; target: (*) in [0, 1]; weight: broadcasts to input; pos_weight:
    broadcasts to target (e.g. (C,)) -> (*) for 'none', else 0-d."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """input: (N, C) or (C,) logits; target: input's shape in {0, 1}; weight: (C,) -> (N,) /
    () for 'none', else 0-d."""

    def forward(self, input, target):
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """input: (N, C) or (C,) scores; target: (N,) / () class indices; weight: (C,) -> (N,) /
    () for 'none', else 0-d."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 are supported, got {p}")
        if weight is not None and weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: weight must be one-dimensional, got shape "
                             f"{tuple(weight.shape)}")
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """input: (N, C) or (C,) scores; target: input's shape, the positive class indices
    ended by -1 -> (N,) / () for 'none', else 0-d."""

    def forward(self, input, target):
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


# -- margin and embedding losses ----------------------------------------------------------------
class MarginRankingLoss(_Loss):
    """input1, input2: (N,) or (); target: (N,) / () of +-1 -> (N,) / () for 'none', else 0-d."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """input: (*) distances; target: (*) of +-1 -> (*) for 'none', else 0-d."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """input: (*) scores; target: (*) of +-1 -> (*) for 'none', else 0-d."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class CosineEmbeddingLoss(_Loss):
    """input1, input2: (N, D) or (D,); target: (N,) / () of +-1 -> (N,) / () for 'none',
    else 0-d."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                       reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """anchor, positive, negative: (N, D) or (D,) -> (N,) / () for 'none', else 0-d:
    max(0, margin + d(a, p) - d(a, n)) with the p-norm distance."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None,
                 reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """anchor, positive, negative: (N, D) or (D,); distance_function(x1, x2) -> (N,) / ()
    (default: PairwiseDistance) -> (N,) / () for 'none', else 0-d."""

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, "
                             f"got {margin}")
        self.distance_function = distance_function if distance_function is not None \
            else PairwiseDistance()
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


# -- distances ----------------------------------------------------------------------------------
class CosineSimilarity(Module):
    """x1, x2: broadcastable (e.g. (N, D)) -> their shape without dim."""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """x1, x2: (N, D) or (D,) -> (N,) / () (keepdim: (N, 1) / (1,)): ||x1 - x2 + eps||_p.
    p is stored as `norm`, as in PyTorch."""

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
