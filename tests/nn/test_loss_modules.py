"""Loss modules against torch.nn's after copying their state (the weight buffers): outputs,
input gradients, buffer names and values, float32 and float64; reprs and legacy flags."""
import numpy as np
import pytest
import torch

import autograd as ag
import nn
from tests.nn.module_helpers import check_module

REDUCTIONS = ["none", "sum", "mean"]


def _pm1(rng, shape):
    y = np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0)
    y.reshape(-1)[:2] = (1.0, -1.0)
    return y


def _uniform(*shapes, low=-1.0, high=1.0):
    def make(rng, dtype):
        return [rng.uniform(low, high, s) for s in shapes]
    return make


def _classes(shape, t_shape, ignore=False, probs=False):
    """Logits and int64 class targets (one set to -100 when ignore), or probabilities."""
    def make(rng, dtype):
        x = rng.uniform(-2, 2, shape)
        if probs:
            p = rng.uniform(0.1, 1, shape)
            return [x, p / p.sum(1, keepdims=True)]
        t = rng.integers(0, shape[1], t_shape)
        if ignore:
            t.reshape(-1)[0] = -100
        return [x, t.astype(np.int64)]
    return make


def _log_probs(shape, t_shape):
    def make(rng, dtype):
        x, t = _classes(shape, t_shape, ignore=True)(rng, dtype)
        return [x - np.log(np.exp(x).sum(1, keepdims=True)), t]
    return make


def _kl(shape, log_target):
    def make(rng, dtype):
        x = np.log(rng.uniform(0.05, 1, shape))
        return [x, rng.uniform(-3, 0, shape) if log_target else rng.uniform(0.05, 1, shape)]
    return make


def _bce(shape):
    def make(rng, dtype):
        return [rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)]
    return make


def _with_pm1(input_shapes, target_shape):
    """Uniform inputs and a target of +-1."""
    def make(rng, dtype):
        return [rng.uniform(-1, 1, s) for s in input_shapes] + [_pm1(rng, target_shape)]
    return make


def _triplets(shape):
    def make(rng, dtype):
        a = rng.uniform(-1, 1, shape)
        return [a, a + rng.uniform(-0.6, 0.6, shape), rng.uniform(-1, 1, shape)]
    return make


def _multi_margin(rng, dtype):
    return [rng.uniform(-1, 1, (5, 4)), rng.integers(0, 4, 5)]


def _multilabel_margin(rng, dtype):
    return [rng.uniform(-1, 1, (3, 4)), np.array([[3, 0, -1, 1], [1, 2, 3, -1], [-1, 0, 0, 0]])]


def _w(n):
    """A class weight for our side: replaced by torch's after construction."""
    return ag.ones(n)


def _tw(n):
    return torch.rand(n) + 0.5


# (name, ours(reduction), torch's(reduction), make_inputs, grad_inputs)
CASES = [
    ("L1Loss", lambda r: nn.L1Loss(reduction=r), lambda r: torch.nn.L1Loss(reduction=r),
     _uniform((4, 3), (4, 3)), None),
    ("MSELoss", lambda r: nn.MSELoss(reduction=r), lambda r: torch.nn.MSELoss(reduction=r),
     _uniform((4, 3), (4, 3)), None),
    ("SmoothL1Loss", lambda r: nn.SmoothL1Loss(reduction=r, beta=0.4),
     lambda r: torch.nn.SmoothL1Loss(reduction=r, beta=0.4), _uniform((4, 3), (4, 3)), None),
    ("HuberLoss", lambda r: nn.HuberLoss(reduction=r, delta=0.6),
     lambda r: torch.nn.HuberLoss(reduction=r, delta=0.6), _uniform((4, 3), (4, 3)), None),
    ("KLDivLoss", lambda r: nn.KLDivLoss(reduction="batchmean" if r == "mean" else r),
     lambda r: torch.nn.KLDivLoss(reduction="batchmean" if r == "mean" else r),
     _kl((4, 3), False), None),
    ("KLDivLoss-log_target", lambda r: nn.KLDivLoss(reduction="sum", log_target=True),
     lambda r: torch.nn.KLDivLoss(reduction="sum", log_target=True), _kl((4, 3), True), None),
    ("GaussianNLLLoss", lambda r: nn.GaussianNLLLoss(full=True, reduction=r),
     lambda r: torch.nn.GaussianNLLLoss(full=True, reduction=r),
     _uniform((4, 3), (4, 3), (4, 1), low=0.2), None),
    ("PoissonNLLLoss", lambda r: nn.PoissonNLLLoss(reduction=r),
     lambda r: torch.nn.PoissonNLLLoss(reduction=r), _uniform((4, 3), (4, 3), low=0.1), None),
    ("CrossEntropyLoss", lambda r: nn.CrossEntropyLoss(_w(4), reduction=r, label_smoothing=0.1),
     lambda r: torch.nn.CrossEntropyLoss(_tw(4), reduction=r, label_smoothing=0.1),
     _classes((5, 4), (5,), ignore=True), None),
    ("CrossEntropyLoss-ignore_index", lambda r: nn.CrossEntropyLoss(ignore_index=1, reduction=r),
     lambda r: torch.nn.CrossEntropyLoss(ignore_index=1, reduction=r),
     _classes((3, 4, 2), (3, 2)), None),
    ("CrossEntropyLoss-probs", lambda r: nn.CrossEntropyLoss(_w(4), reduction=r),
     lambda r: torch.nn.CrossEntropyLoss(_tw(4), reduction=r),
     _classes((5, 4), None, probs=True), None),
    ("NLLLoss", lambda r: nn.NLLLoss(_w(4), reduction=r),
     lambda r: torch.nn.NLLLoss(_tw(4), reduction=r), _log_probs((5, 4), (5,)), None),
    ("BCELoss", lambda r: nn.BCELoss(_w(3), reduction=r),
     lambda r: torch.nn.BCELoss(_tw(3), reduction=r), _bce((4, 3)), None),
    ("BCEWithLogitsLoss", lambda r: nn.BCEWithLogitsLoss(_w(3), reduction=r, pos_weight=_w(3)),
     lambda r: torch.nn.BCEWithLogitsLoss(_tw(3), reduction=r, pos_weight=_tw(3)),
     _uniform((4, 3), (4, 3), low=0.0), None),
    ("MarginRankingLoss", lambda r: nn.MarginRankingLoss(0.3, reduction=r),
     lambda r: torch.nn.MarginRankingLoss(0.3, reduction=r), _with_pm1([(6,), (6,)], (6,)), None),
    ("HingeEmbeddingLoss", lambda r: nn.HingeEmbeddingLoss(0.7, reduction=r),
     lambda r: torch.nn.HingeEmbeddingLoss(0.7, reduction=r),
     _with_pm1([(4, 3)], (4, 3)), (0,)),
    ("SoftMarginLoss", lambda r: nn.SoftMarginLoss(reduction=r),
     lambda r: torch.nn.SoftMarginLoss(reduction=r), _with_pm1([(4, 3)], (4, 3)), (0,)),
    ("CosineEmbeddingLoss", lambda r: nn.CosineEmbeddingLoss(0.2, reduction=r),
     lambda r: torch.nn.CosineEmbeddingLoss(0.2, reduction=r), _with_pm1([(5, 3), (5, 3)], (5,)),
     (0, 1)),
    ("TripletMarginLoss", lambda r: nn.TripletMarginLoss(0.8, p=1.0, swap=True, reduction=r),
     lambda r: torch.nn.TripletMarginLoss(0.8, p=1.0, swap=True, reduction=r),
     _triplets((4, 5)), None),
    ("TripletMarginWithDistanceLoss",
     lambda r: nn.TripletMarginWithDistanceLoss(margin=0.5, reduction=r),
     lambda r: torch.nn.TripletMarginWithDistanceLoss(margin=0.5, reduction=r),
     _triplets((4, 5)), None),
    ("MultiLabelSoftMarginLoss", lambda r: nn.MultiLabelSoftMarginLoss(_w(3), reduction=r),
     lambda r: torch.nn.MultiLabelSoftMarginLoss(_tw(3), reduction=r),
     _uniform((4, 3), (4, 3), low=0.0), None),
    ("MultiMarginLoss", lambda r: nn.MultiMarginLoss(2, 0.8, _w(4), reduction=r),
     lambda r: torch.nn.MultiMarginLoss(2, 0.8, _tw(4), reduction=r), _multi_margin, None),
    ("MultiLabelMarginLoss", lambda r: nn.MultiLabelMarginLoss(reduction=r),
     lambda r: torch.nn.MultiLabelMarginLoss(reduction=r), _multilabel_margin, None),
]


@pytest.mark.parametrize("name,ours,theirs,make,grad_inputs", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_module(name, ours, theirs, make, grad_inputs, reduction):
    check_module(lambda: ours(reduction), lambda: theirs(reduction), None, make_inputs=make,
                 grad_inputs=grad_inputs)


@pytest.mark.parametrize("ours,theirs,shapes", [
    (lambda: nn.CosineSimilarity(), lambda: torch.nn.CosineSimilarity(), [(4, 5), (4, 5)]),
    (lambda: nn.CosineSimilarity(dim=-1, eps=0.1), lambda: torch.nn.CosineSimilarity(-1, 0.1),
     [(2, 3, 4), (3, 4)]),
    (lambda: nn.PairwiseDistance(), lambda: torch.nn.PairwiseDistance(), [(4, 5), (4, 5)]),
    (lambda: nn.PairwiseDistance(3.0, 1e-3, keepdim=True),
     lambda: torch.nn.PairwiseDistance(3.0, 1e-3, keepdim=True), [(4, 5), (5,)]),
], ids=["cos", "cos-broadcast", "pdist", "pdist-p3-keepdim"])
def test_distance_module(ours, theirs, shapes):
    check_module(ours, theirs, shapes)


def test_weight_buffers_as_torch():
    pairs = [(nn.CrossEntropyLoss(_w(3)), torch.nn.CrossEntropyLoss(_tw(3))),
             (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
             (nn.NLLLoss(_w(3)), torch.nn.NLLLoss(_tw(3))),
             (nn.BCELoss(), torch.nn.BCELoss()),
             (nn.BCEWithLogitsLoss(pos_weight=_w(3)), torch.nn.BCEWithLogitsLoss(
                 pos_weight=_tw(3))),
             (nn.BCEWithLogitsLoss(_w(3), pos_weight=_w(3)), torch.nn.BCEWithLogitsLoss(
                 _tw(3), pos_weight=_tw(3))),
             (nn.MultiMarginLoss(weight=_w(3)), torch.nn.MultiMarginLoss(weight=_tw(3))),
             (nn.MultiLabelSoftMarginLoss(_w(3)), torch.nn.MultiLabelSoftMarginLoss(_tw(3)))]
    for ours, theirs in pairs:
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
        assert list(ours.parameters()) == []
    loss = nn.CrossEntropyLoss(ag.tensor(np.array([1.0, 2.0, 0.5], np.float32)))
    assert loss.weight.dtype == np.float32
    assert loss.to(ag.float64).weight.dtype == np.float64


def test_loaded_weight_is_used():
    """A torch state dict loads into the weight buffer and changes the loss."""
    theirs = torch.nn.CrossEntropyLoss(torch.tensor([0.2, 1.0, 3.0]))
    ours = nn.CrossEntropyLoss(ag.ones(3))
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    t = np.array([0, 1, 2, 2, 1, 0])
    np.testing.assert_allclose(ours(ag.tensor(x), ag.tensor(t)).item(),
                               theirs(torch.tensor(x), torch.tensor(t)).item(), rtol=2e-6)


@pytest.mark.parametrize("make", [
    lambda m: m.MSELoss(), lambda m: m.CrossEntropyLoss(), lambda m: m.TripletMarginLoss(),
    lambda m: m.TripletMarginWithDistanceLoss(), lambda m: m.CosineSimilarity(),
    lambda m: m.PairwiseDistance(), lambda m: m.GaussianNLLLoss(full=True),
])
def test_repr_as_torch(make):
    assert repr(make(nn)) == repr(make(torch.nn))


def test_options_and_legacy_flags_as_torch():
    for flags, want in [(dict(size_average=False), "sum"), (dict(reduce=False), "none"),
                        (dict(size_average=True, reduce=True), "mean")]:
        assert nn.L1Loss(**flags).reduction == want
        assert nn.CrossEntropyLoss(**flags).reduction == want
        with pytest.warns(UserWarning):
            assert torch.nn.L1Loss(**flags).reduction == want
    ce = nn.CrossEntropyLoss(ignore_index=3, label_smoothing=0.2)
    assert (ce.ignore_index, ce.label_smoothing, ce.reduction) == (3, 0.2, "mean")
    assert nn.PairwiseDistance(p=3.0).norm == torch.nn.PairwiseDistance(p=3.0).norm
    t = nn.TripletMarginLoss(margin=0.5, p=1.0, eps=1e-3, swap=True)
    assert (t.margin, t.p, t.eps, t.swap) == (0.5, 1.0, 1e-3, True)


def test_module_errors():
    with pytest.raises(ValueError, match="TripletMarginLoss: margin must be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(ValueError, match="MultiMarginLoss: only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(TypeError, match="weight"):
        nn.CrossEntropyLoss(weight=[1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"mse_loss: input of shape \(3, 4\), target of "
                                           r"shape \(3, 5\)"):
        nn.MSELoss()(ag.zeros(3, 4), ag.zeros(3, 5))
    with pytest.raises(RuntimeError, match=r"cross_entropy: weight.*3 elements.*\(2,\)"):
        nn.CrossEntropyLoss(ag.ones(2))(ag.zeros(4, 3), ag.tensor([0, 1, 2, 0]))
