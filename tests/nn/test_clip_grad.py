"""nn.utils: clip_grad_norm_ (norm types 2, 1, inf, error_if_nonfinite), clip_grad_value_,
get_total_norm against torch.nn.utils on the same gradients; parameters_to_vector and
vector_to_parameters."""
import math

import numpy as np
import pytest
import torch

import autograd as ag
from nn import utils

SHAPES = [(3, 4), (5,), (2, 2, 3)]


def _params(dtype, scale=1.0, seed=0, with_none=True):
    """Ours and PyTorch's parameters with the same gradients (the last one has none)."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES + ([(2,)] if with_none else [])):
        p = rng.normal(size=shape).astype(dtype)
        ours.append(ag.tensor(p, requires_grad=True))
        theirs.append(torch.tensor(p, requires_grad=True))
        if i < len(SHAPES):
            g = (scale * rng.normal(size=shape)).astype(dtype)
            ours[-1].grad = ag.tensor(g)
            theirs[-1].grad = torch.tensor(g)
    return ours, theirs


def _tol(dtype):
    # float32 norms are reductions summed in a different order than PyTorch's
    return dict(rtol=1e-6, atol=1e-7) if dtype == np.float32 else dict(rtol=1e-13, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    ours, theirs = _params(dtype)
    grads = [p.grad for p in ours if p.grad is not None]
    versions = [g._version for g in grads]
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, ag.Tensor) and total.shape == () and total.dtype == dtype
    np.testing.assert_allclose(total.data, expected.numpy(), **_tol(dtype))
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
            continue
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), **_tol(dtype))
    assert [g._version for g in grads] == [v + 1 for v in versions]
    assert all(p.grad is g for p, g in zip(ours, grads))     # clipped in place


def test_clip_grad_norm_clips_to_max_norm():
    ours, _ = _params(np.float64, scale=10.0)
    before = utils.clip_grad_norm_(ours, 2.0)
    after = utils.get_total_norm([p.grad for p in ours if p.grad is not None])
    assert before.item() > 2.0
    assert after.item() == pytest.approx(2.0, rel=1e-6)


def test_clip_grad_norm_nonfinite():
    ours, theirs = _params(np.float64)
    ours[0].grad.data[0, 0] = np.inf
    theirs[0].grad[0, 0] = math.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert math.isinf(total.item()) and math.isinf(expected.item())
    for p, q in zip(ours, theirs):
        if q.grad is not None:
            np.testing.assert_array_equal(p.grad.data, q.grad.numpy())


def test_clip_grad_norm_single_tensor_and_empty():
    p = ag.tensor([3.0, 4.0], requires_grad=True)
    p.grad = ag.tensor([3.0, 4.0])
    total = utils.clip_grad_norm_(p, 1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.data, [0.6, 0.8], rtol=1e-6)
    empty = utils.clip_grad_norm_([ag.tensor([1.0], requires_grad=True)], 1.0)
    assert empty.item() == 0.0 and empty.dtype == np.float32
    with pytest.warns(UserWarning, match="empty generator"):
        utils.clip_grad_norm_((q for q in []), 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("clip_value", [0.1, 1.0, 100.0])
def test_clip_grad_value_matches_torch(dtype, clip_value):
    ours, theirs = _params(dtype)
    utils.clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, q in zip(ours, theirs):
        if q.grad is None:
            assert p.grad is None
            continue
        assert p.grad.dtype == dtype
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())


def test_clip_after_backward_on_engine_gradients():
    """Gradients produced by our engine (not assigned) are clipped in place too."""
    w = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (w * w).sum().backward()
    total = utils.clip_grad_norm_([w], 1.0)
    assert total.item() == pytest.approx(2 * math.sqrt(55.0))
    assert np.linalg.norm(w.grad.data) == pytest.approx(1.0, rel=1e-6)
    (w * 0.0).sum().backward()     # accumulates into the clipped gradient
    assert np.linalg.norm(w.grad.data) == pytest.approx(1.0, rel=1e-6)


def test_parameters_to_vector_round_trip():
    ours, theirs = _params(np.float64, with_none=False)
    vec = utils.parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vec.data, expected.detach().numpy())
    assert vec.shape == (sum(int(np.prod(s)) for s in SHAPES),)
    # differentiable, as PyTorch's
    for p in ours:
        p.grad = None
    (vec * ag.tensor(np.arange(vec.shape[0], dtype=np.float64))).sum().backward()
    np.testing.assert_array_equal(ours[1].grad.data, np.arange(12.0, 17.0))
    arrays = [p.data for p in ours]
    versions = [p._version for p in ours]
    new = ag.tensor(np.linspace(-1, 1, vec.shape[0]))
    utils.vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new.data), theirs)
    for p, q, a, v in zip(ours, theirs, arrays, versions):
        assert p.data is a and p._version == v + 1
        np.testing.assert_array_equal(p.data, q.detach().numpy())
    np.testing.assert_array_equal(utils.parameters_to_vector(ours).data, new.data)


def test_vector_to_parameters_errors():
    p = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="expected Tensor"):
        utils.vector_to_parameters(np.zeros(2), [p])
    with pytest.raises(ValueError, match="total number of elements"):
        utils.vector_to_parameters(ag.zeros(3), [p])
