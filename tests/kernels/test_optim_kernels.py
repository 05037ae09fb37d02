"""The fused Adam and SGD kernels against optim.adam.adam_step and optim.sgd.sgd_step, their
numpy references: bit-identical."""
import numpy as np
import pytest

from autograd.kernels.optim import adam_update, sgd_update
from optim.adam import _fused_constants, adam_step
from optim.sgd import sgd_step


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weight_decay,decoupled,maximize", [
    (0.0, False, False), (0.1, False, False), (0.1, True, False), (0.0, False, True)])
def test_adam_kernel_equals_reference(dtype, weight_decay, decoupled, maximize):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(37).astype(dtype) for _ in range(2)] + \
        [np.zeros(37, dtype), np.zeros(37, dtype)]
    arrays[1][3] = np.nan                                  # NaN propagates in both
    ref = [a.copy() for a in arrays]
    opts = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=weight_decay,
                amsgrad=False, maximize=maximize, decoupled_weight_decay=decoupled)
    for step in range(1, 6):
        adam_update(*arrays, *_fused_constants(float(step), np.dtype(dtype), opts))
        adam_step(*ref, step=float(step), **opts)
    for ours, expected in zip(arrays, ref):
        assert ours.dtype == expected.dtype
        np.testing.assert_array_equal(ours, expected)


def test_adam_kernel_is_a_numba_function_with_a_python_reference():
    assert callable(adam_update.py_func)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opts", [
    dict(momentum=0.0), dict(momentum=0.9), dict(momentum=0.9, dampening=0.3),
    dict(momentum=0.9, nesterov=True, weight_decay=0.1), dict(momentum=0.5, maximize=True),
    dict(momentum=0.0, weight_decay=0.1, maximize=True)])
def test_sgd_kernel_equals_reference(dtype, opts):
    rng = np.random.default_rng(1)
    param = rng.standard_normal(37).astype(dtype)
    ref, buf, ref_buf = param.copy(), np.empty_like(param), None
    momentum = opts["momentum"]
    for step in range(4):
        grad = rng.standard_normal(37).astype(dtype)
        grad[5] = np.nan if step == 2 else grad[5]              # NaN propagates in both
        c = np.array([1e-2, momentum, 1 - opts.get("dampening", 0.0),
                      opts.get("weight_decay", 0.0)], dtype)
        flags = np.array([momentum != 0, opts.get("dampening", 0.0) != 0,
                          opts.get("nesterov", False), opts.get("maximize", False), step == 0],
                         np.int64)
        sgd_update(param, grad, buf, c, flags)
        new = sgd_step(ref, grad, ref_buf, lr=1e-2, **opts)
        ref_buf = new if ref_buf is None else ref_buf
        np.testing.assert_array_equal(param, ref)
        if momentum != 0:
            np.testing.assert_array_equal(buf, ref_buf)
    assert param.dtype == dtype
