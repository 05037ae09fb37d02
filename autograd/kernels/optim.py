"""Fused optimizer updates (numba, ndarrays only): one pass over a parameter instead of the
numpy passes of `optim.adam.adam_step` (ten) and `optim.sgd.sgd_step` (up to six), which stay
the readable references.

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
    sgd_update(param, grad, buf, c, flags)
        param, grad, buf (the momentum buffer; any array of the dtype when flags[0] is 0):
        1-d views of one dtype, updated in place. c: (4,) array of that dtype = (lr, momentum
        mu, 1 - dampening, weight_decay); flags: (5,) int64 = (momentum != 0, dampening != 0,
        nesterov, maximize, first step: the buffer starts as the gradient).
        Per element, in sgd_step's order of operations (so results are bit-identical):
            g <- -g (maximize);  g <- g + wd p
            b <- g (first step)  or  b <- b mu + g (1 - dampening)   (momentum)
            g <- g + mu b (nesterov)  or  g <- b                      (momentum)
            p <- p - lr g
Scalars arrive in the arrays' dtype, so float32 math stays float32 as in numpy.
"""
import numpy as np

from ._jit import jit

__all__ = ["adam_update", "sgd_update"]


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


@jit()
def sgd_update(param, grad, buf, c, flags):
    lr, momentum, one_minus_dampening, wd = c[0], c[1], c[2], c[3]
    use_momentum, damped, nesterov, maximize, first = (
        flags[0] != 0, flags[1] != 0, flags[2] != 0, flags[3] != 0, flags[4] != 0)
    for i in range(param.shape[0]):
        g = grad[i]
        if maximize:
            g = -g
        p = param[i]
        if wd != 0:
            g = g + wd * p
        if use_momentum:
            if first:
                b = g
            elif damped:
                b = buf[i] * momentum + g * one_minus_dampening
            else:
                b = buf[i] * momentum + g
            buf[i] = b
            if nesterov:
                g = g + momentum * b
            else:
                g = b
        param[i] = p - lr * g
