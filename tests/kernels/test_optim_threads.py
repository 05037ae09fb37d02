"""The fused optimizer updates split over OpenBLAS's threads (kernels/optim_threads.py):
elementwise, so bitwise the serial kernels' results, through the kernels and the optimizers."""
import numpy as np
import pytest

import autograd as ag
import optim
from autograd.kernels import optim as K
from autograd.kernels import optim_threads as OT
from optim.adam import _fused_constants

pytestmark = pytest.mark.usefixtures("two_blas_threads")


@pytest.fixture
def split(monkeypatch, split_calls):
    monkeypatch.setattr(OT, "FORCE", True)
    return split_calls


def _arrays(dtype, count, n=1001):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(n).astype(dtype) for _ in range(count)]
    arrays[1][:3] = [np.nan, np.inf, -0.0]
    return arrays


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_update_split_bitwise(split, dtype):
    arrays = _arrays(dtype, 4)
    arrays[3] = np.abs(arrays[3])
    want = [a.copy() for a in arrays]
    opts = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, maximize=False,
                decoupled_weight_decay=True)
    consts = _fused_constants(3.0, np.dtype(dtype), opts)
    OT.adam_update(*arrays, *consts)
    with np.errstate(invalid="ignore"):                   # inf / inf in the reference, as numba
        K.adam_update.py_func(*want, *consts)
    for ours, expected in zip(arrays, want):
        np.testing.assert_array_equal(ours, expected)
    assert len(split) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("flags", [(1, 0, 0, 0, 1), (1, 1, 1, 1, 0), (0, 0, 0, 0, 0)])
def test_sgd_update_split_bitwise(split, dtype, flags):
    arrays = _arrays(dtype, 3)
    want = [a.copy() for a in arrays]
    c = np.array([1e-2, 0.9, 0.7, 0.1], dtype)
    flags = np.array(flags, np.int64)
    OT.sgd_update(*arrays, c, flags)
    K.sgd_update.py_func(*want, c, flags)
    for ours, expected in zip(arrays, want):
        np.testing.assert_array_equal(ours, expected)
    assert len(split) == 1


def _train(make_optimizer, force, monkeypatch):
    monkeypatch.setattr(OT, "FORCE", force)
    rng = np.random.default_rng(2)
    params = [ag.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True)
              for s in [(70, 33), (5,), ()]]
    opt = make_optimizer(params)
    for _ in range(3):
        for p in params:
            p.grad = ag.tensor(rng.standard_normal(p.shape).astype(np.float32))
        opt.step()
    return [p.data.copy() for p in params]


@pytest.mark.parametrize("make_optimizer", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    lambda ps: optim.AdamW(ps, lr=0.1)])
def test_optimizers_split_equal_serial(split, monkeypatch, make_optimizer):
    ours = _train(make_optimizer, True, monkeypatch)
    assert split
    for a, b in zip(ours, _train(make_optimizer, False, monkeypatch)):
        np.testing.assert_array_equal(a, b)
