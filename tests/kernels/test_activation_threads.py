"""ReLU's kernels split over OpenBLAS's threads (kernels/activation_threads.py): elementwise,
so bitwise the serial results, NaN, -0.0 and infinities included."""
import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from autograd.kernels import activation as K
from autograd.kernels import activation_threads as AT
from autograd.kernels import blas_threads as BT

pytestmark = pytest.mark.usefixtures("two_blas_threads")


@pytest.fixture
def split(monkeypatch, split_calls):
    monkeypatch.setattr(AT, "FORCE", True)
    return split_calls


def _values(dtype, n=1001):
    x = np.random.default_rng(0).standard_normal(n).astype(dtype)
    x[:4] = [np.nan, -0.0, np.inf, -np.inf]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernels_split_bitwise(split, dtype):
    x = _values(dtype)
    y, want = np.empty_like(x), np.empty_like(x)
    AT.relu(x, y)
    K.relu.py_func(x, want)
    np.testing.assert_array_equal(y, want)
    dead, dead_want = np.empty(x.shape, np.bool_), np.empty(x.shape, np.bool_)
    AT.relu_mask(x, y, dead)
    K.relu_mask.py_func(x, want, dead_want)
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(dead, dead_want)
    g = _values(dtype)[::-1].copy()
    dx, dx_want = np.empty_like(g), np.empty_like(g)
    AT.relu_backward(g, dead, dx)
    K.relu_backward.py_func(g, dead, dx_want)
    np.testing.assert_array_equal(dx, dx_want)
    assert len(split) == 3


def test_relu_op_splits(split):
    x = ag.tensor(_values(np.float32).reshape(7, 11, 13), requires_grad=True)
    y = ag.relu(x)
    y.backward(ag.ones_like(y))
    assert len(split) == 2
    data = x.detach().numpy()
    np.testing.assert_array_equal(y.detach().numpy(),
                                  np.where(data <= 0, np.float32(0), data))
    np.testing.assert_array_equal(x.grad.numpy(), (~(data <= 0)).astype(np.float32))  # NaN: 1


def test_split_only_when_enabled_large_and_contiguous(monkeypatch):
    a = np.zeros(AT.MIN_ELEMENTS, np.float32)
    monkeypatch.setattr(BT, "ENABLED", False)
    assert not AT._splits(a.size, (a,))
    monkeypatch.setattr(BT, "ENABLED", True)
    assert AT._splits(a.size, (a,))
    assert not AT._splits(a.size - 1, (a[1:],))
    assert not AT._splits(a.size, (np.zeros(2 * a.size, np.float32)[::2],))


@pytest.mark.parametrize("name", AT.SOFTMAX_KERNELS)
def test_softmax_kernels_split_bitwise(split, name):
    from autograd.kernels import softmax as S
    kernel = getattr(S, name)
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((37, 19)).astype(np.float32)]
    arrays[0][3, :4] = [np.nan, np.inf, -np.inf, 80.0]
    if "backward" in name:
        arrays.append(rng.standard_normal((37, 19)).astype(np.float32))
    out, want = np.empty((37, 19), np.float32), np.empty((37, 19), np.float32)
    AT.softmax_rows(kernel, *arrays, out)
    kernel(*arrays, want)
    np.testing.assert_array_equal(out, want)
    assert len(split) == 1


def test_softmax_op_splits(split):
    x = ag.tensor(np.random.default_rng(2).standard_normal((6, 5, 33)).astype(np.float32),
                  requires_grad=True)
    y = F.log_softmax(x, dim=-1)
    y.backward(ag.ones_like(y))
    assert len(split) == 2                      # the forward and backward kernels


@pytest.mark.parametrize("tanh", [False, True])
def test_gelu_kernels_split_bitwise(split, tanh):
    x = _values(np.float32)
    g = _values(np.float32)[::-1].copy()
    y, want = np.empty_like(x), np.empty_like(x)
    AT.gelu(x, y, tanh)
    K.gelu(x, want, tanh)
    np.testing.assert_array_equal(y, want)
    AT.gelu_backward(x, g, y, tanh)
    K.gelu_backward(x, g, want, tanh)
    np.testing.assert_array_equal(y, want)
    assert len(split) == 2
