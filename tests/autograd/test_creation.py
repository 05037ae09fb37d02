"""Creation functions: dtypes, shapes and seeding as PyTorch's."""
import subprocess
import sys

import numpy as np
import pytest
import torch

import autograd as ag


@pytest.mark.parametrize("data", [
    [1.0, 2.0], [1, 2], [True, False], 3.5, 7, [[1, 2], [3, 4]], [], [[]],
    # numpy scalars and arrays keep their dtype; a list promotes its elements' dtypes
    [np.float64(1.5)],
    [np.float32(1.5)],
    [np.float16(1.5)],
    [np.int32(2)],
    [np.int8(2)],
    [np.uint8(2)],
    [np.bool_(True)],
    np.float64(1.5),
    np.int32(2),
    np.array(1.5),
    np.array(2, np.int32),
    [1.5, np.float64(2.5)],
    [np.float32(1.5), np.float64(2.5)],
    [np.int32(1), np.float64(2.5)],
    [np.int32(1), 2.5],                        # float32, where numpy would give float64
    [np.int32(1), 2],
    [np.int32(1), np.int64(2)],
    [np.int32(1), np.float32(2.0)],
    [np.float16(1.0), np.int64(2)],
    [True, np.int32(2)],
    [np.bool_(True), 2.5],
    [np.uint8(2), np.int8(2)],                 # int16
    [[np.float64(1.5)], [2.5]],
    ((1.5,), (np.float32(2.5),)),
    [np.array([1, 2], np.int32), np.array([3, 4], np.int32)],
    [np.array([1.0, 2.0], np.float32), np.array([1.0, 2.0])],
], ids=repr)
def test_tensor_infers_dtype_like_torch(data):
    assert ag.tensor(data).dtype == torch.tensor(data).numpy().dtype
    assert ag.tensor(data).shape == tuple(torch.tensor(data).shape)


def test_tensor_keeps_numpy_dtype_and_copies():
    arr = np.arange(3.0)
    t = ag.tensor(arr)
    assert t.dtype == ag.float64
    arr[0] = 5
    assert t.data[0] == 0
    shared = ag.from_numpy(arr)
    arr[1] = 9
    assert shared.data[1] == 9


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
def test_factories_default_float32_and_size_forms(fn):
    f = getattr(ag, fn)
    assert f(2, 3).shape == (2, 3) and f((2, 3)).shape == (2, 3)
    assert f(2, 3).dtype == ag.float32
    assert f(2, dtype=ag.float64).dtype == ag.float64
    assert f(0, 3).shape == (0, 3)
    assert f(2, requires_grad=True).requires_grad


def test_full_arange_linspace_eye():
    assert ag.full((2, 2), 1.5).dtype == ag.float32
    assert ag.full((2,), 3).dtype == ag.int64
    assert ag.arange(5).dtype == ag.int64 and ag.arange(5).tolist() == list(range(5))
    assert ag.arange(0, 1, 0.25).dtype == ag.float32
    np.testing.assert_allclose(ag.arange(1, 2, 0.25).data, torch.arange(1, 2, 0.25).numpy())
    np.testing.assert_allclose(ag.linspace(0, 1, 5).data, torch.linspace(0, 1, 5).numpy())
    assert ag.linspace(0, 1, 5).dtype == ag.float32
    np.testing.assert_array_equal(ag.eye(3, 2).data, torch.eye(3, 2).numpy())


def test_like_forms_keep_dtype_and_shape():
    x = ag.ones(2, 3, dtype=ag.float64)
    for fn in (ag.zeros_like, ag.ones_like, ag.empty_like, ag.rand_like, ag.randn_like):
        y = fn(x)
        assert y.shape == (2, 3) and y.dtype == ag.float64
    assert ag.full_like(x, 7).data.max() == 7
    assert ag.randint_like(x, 5).dtype == ag.float64


def test_randint_and_normal():
    r = ag.randint(0, 10, (100,))
    assert r.dtype == ag.int64 and r.data.min() >= 0 and r.data.max() < 10
    assert ag.randint(3, (4, 2)).shape == (4, 2)
    n = ag.normal(2.0, 0.5, (10000,))
    assert n.dtype == ag.float32 and abs(float(n.data.mean()) - 2.0) < 0.05
    m = ag.normal(ag.zeros(3), ag.ones(3))
    assert m.shape == (3,)


def test_manual_seed_reproducible():
    ag.manual_seed(123)
    a = ag.randn(5)
    ag.manual_seed(123)
    b = ag.randn(5)
    np.testing.assert_array_equal(a.data, b.data)


def test_integer_factories_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        ag.arange(3, requires_grad=True)


def test_import_is_lazy_about_numba():
    code = "import sys, autograd; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_nn_and_optim_reachable_from_autograd():
    import nn
    import optim
    assert ag.nn is nn and ag.optim is optim
