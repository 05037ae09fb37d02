"""The fused Adam kernel against optim.adam.adam_step, its numpy reference: bit-identical."""
import numpy as np
import pytest

from autograd.kernels.optim import adam_update
from optim.adam import _fused_constants, adam_step


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
