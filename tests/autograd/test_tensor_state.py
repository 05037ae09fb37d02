"""Tensor state set by hand, against PyTorch: the .grad setter's checks and repr's number
format."""
import numpy as np
import pytest
import torch

import autograd as ag


@pytest.mark.parametrize("value,error,match", [
    (lambda: ag.zeros(3), RuntimeError, r"different size: \(3,\), expected \(2,\)"),
    (lambda: ag.zeros(2, dtype=ag.float64), RuntimeError, "different type: float64"),
    (lambda: [1.0, 2.0], TypeError, "Tensor or None"),
])
def test_assigned_grad_is_checked(value, error, match):
    x = ag.zeros(2, requires_grad=True)
    with pytest.raises(error, match=match):
        x.grad = value()
    x.grad = ag.ones(2)
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])
    x.grad = None
    assert x.grad is None


@pytest.mark.parametrize("values", [
    [1.0, 2.0], [1.5, 2.0], [0.27], 0.27, 3.0, [1e-5, 1e5], [1e9, 2.0], [1e-5, 2e-5],
    [-1.5, float("nan"), float("inf"), -float("inf")], [[1.25, -3.5], [100.0, 0.5]],
    [0.0, 0.0], [123456.0, 0.5], list(np.linspace(0, 1, 30, dtype=np.float32)),
], ids=str)
def test_float_repr_like_torch(values):
    assert repr(ag.tensor(values)) == repr(torch.tensor(values))
