"""Fused optimizer updates (numba, ndarrays only): one pass over a parameter instead of the
ten numpy passes of `optim.adam.adam_step`, which stays the readable reference.

    adam_update(param, grad, exp_avg, exp_avg_sq, c, flags)
        param, grad, exp_avg (m), exp_avg_sq (v): 1-d views of one dtype, updated in place.
        c: (8,) array of that dtype = (1 - beta1, beta2, 1 - beta2, sqrt(1 - beta2^t), eps,
        lr / (1 - beta1^t), weight_decay, 1 - lr weight_decay); flags: (2,) int64 =
        (decoupled decay, maximize).
        Per element, in adam_step's order of operations (so results are bit-identical):
            g <- -g (maximize);  g <- g + wd p  or  p <- p (1 - lr wd)  (decoupled)
            m <- m + (g - m) (1 - beta1)
            v <- v beta2 + (g g)(1 - beta2)
            p <- p - (m / (sqrt(v) / sqrt(1 - beta2^t) + eps)) (lr / (1 - beta1^t))
Scalars arrive in the arrays' dtype, so float32 math stays float32 as in numpy.
"""
import numpy as np

from ._jit import jit

__all__ = ["adam_update"]


@jit()
def adam_update(param, grad, exp_avg, exp_avg_sq, c, flags):
    one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps, step_size, wd = (
        c[0], c[1], c[2], c[3], c[4], c[5], c[6])
    decay_factor = c[7]
    decoupled, maximize = flags[0], flags[1]
    for i in range(param.shape[0]):
        g = grad[i]
        if maximize:
            g = -g
        p = param[i]
        if wd != 0:
            if decoupled:
                p = p * decay_factor
            else:
                g = g + wd * p
        m = exp_avg[i] + (g - exp_avg[i]) * one_minus_beta1
        v = exp_avg_sq[i] * beta2 + (g * g) * one_minus_beta2
        exp_avg[i] = m
        exp_avg_sq[i] = v
        denom = np.sqrt(v) / bc2_sqrt + eps
        param[i] = p - (m / denom) * step_size
