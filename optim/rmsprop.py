"""RMSprop: gradient scaled by a running root mean square, optionally centered, with momentum."""
import numpy as np

from .optimizer import Optimizer, check_implementation_flags, scalar_state, zeros_state

__all__ = ["RMSprop", "rmsprop_step"]


def rmsprop_step(param, grad, square_avg, *, lr, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False, maximize=False, grad_avg=None,
                 momentum_buffer=None):
    r"""One RMSprop update of `param` and its state arrays in place.

    param, grad, square_avg (v), grad_avg (g_avg, centered only), momentum_buffer (b,
    momentum > 0 only): arrays of one shape. With g_t the gradient (negated when maximize):

        g_t <- g_t + lambda * theta_{t-1}                    (weight_decay lambda)
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2
        g_avg_t = alpha * g_avg_{t-1} + (1 - alpha) * g_t   (centered)
        d_t = sqrt(v_t - g_avg_t^2) + eps  (centered)   or   sqrt(v_t) + eps
        b_t = mu * b_{t-1} + g_t / d_t,  theta_t = theta_{t-1} - lr * b_t    (momentum mu > 0)
        theta_t = theta_{t-1} - lr * g_t / d_t                               (otherwise)
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    # v_t = alpha v_{t-1} + (1 - alpha) g_t^2
    square_avg *= alpha
    tmp = np.multiply(grad, grad)
    tmp *= 1 - alpha
    square_avg += tmp
    if centered:
        # g_avg_t = g_avg_{t-1} + (1 - alpha) (g_t - g_avg_{t-1})   (lerp); d = sqrt(v - g_avg^2)
        np.subtract(grad, grad_avg, out=tmp)
        tmp *= 1 - alpha
        grad_avg += tmp
        np.multiply(grad_avg, grad_avg, out=tmp)
        np.subtract(square_avg, tmp, out=tmp)
        avg = np.sqrt(tmp, out=tmp)
    else:
        avg = np.sqrt(square_avg, out=tmp)
    avg += eps
    if momentum > 0:
        # b_t = mu b_{t-1} + g_t / d_t
        momentum_buffer *= momentum
        np.divide(grad, avg, out=tmp)
        momentum_buffer += tmp
        np.multiply(momentum_buffer, lr, out=tmp)
    else:
        np.divide(grad, avg, out=tmp)
        tmp *= lr
    param -= tmp


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, maximize=False); see `rmsprop_step` for the update.

    State: `step`, `square_avg`, `momentum_buffer` (momentum > 0), `grad_avg` (centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_implementation_flags(type(self).__name__, capturable, differentiable)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            momentum, centered = float(group["momentum"]), group["centered"]
            opts = dict(lr=float(group["lr"]), alpha=float(group["alpha"]),
                        eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                        momentum=momentum, centered=centered, maximize=group["maximize"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = scalar_state(0.0)
                    state["square_avg"] = zeros_state(p)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_state(p)
                    if centered:
                        state["grad_avg"] = zeros_state(p)
                step_t = state["step"].data
                step_t += 1
                buf = state["momentum_buffer"].data if momentum > 0 else None
                gavg = state["grad_avg"].data if centered else None
                rmsprop_step(p.data, p.grad.data, state["square_avg"].data, grad_avg=gavg,
                             momentum_buffer=buf, **opts)
                p._vc[0] += 1
        return loss
