"""Adamax: Adam with the infinity norm in place of the second moment."""
import numpy as np

from .adam import _check_adam_args
from .optimizer import Optimizer, check_implementation_flags, scalar_state, zeros_state

__all__ = ["Adamax", "adamax_step"]


def adamax_step(param, grad, exp_avg, exp_inf, *, step, lr=2e-3, beta1=0.9, beta2=0.999,
                eps=1e-8, weight_decay=0.0, maximize=False):
    r"""One Adamax update of `param`, `exp_avg` (m) and `exp_inf` (u) in place.

    param, grad, exp_avg, exp_inf: arrays of one shape; step: t, counted from 1. With g_t the
    gradient (negated when maximize):

        g_t <- g_t + lambda * theta_{t-1}                 (weight_decay lambda)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        u_t = max(beta2 * u_{t-1}, |g_t| + eps)
        theta_t = theta_{t-1} - lr / (1 - beta1^t) * m_t / u_t
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    # m_t = m_{t-1} + (1 - beta1) (g_t - m_{t-1})   (lerp)
    tmp = np.subtract(grad, exp_avg)
    tmp *= 1 - beta1
    exp_avg += tmp
    # u_t = max(beta2 u_{t-1}, |g_t| + eps)
    exp_inf *= beta2
    np.abs(grad, out=tmp)
    tmp += eps
    np.maximum(exp_inf, tmp, out=exp_inf)
    clr = lr / (1 - beta1 ** step)
    np.divide(exp_avg, exp_inf, out=tmp)
    tmp *= clr
    param -= tmp


class Adamax(Optimizer):
    """Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
    maximize=False); see `adamax_step`. State: `step`, `exp_avg`, `exp_inf`.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_implementation_flags(type(self).__name__, capturable, differentiable)
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            opts = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                        eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                        maximize=group["maximize"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = scalar_state(0.0)
                    state["exp_avg"] = zeros_state(p)
                    state["exp_inf"] = zeros_state(p)
                step_t = state["step"].data
                step_t += 1
                adamax_step(p.data, p.grad.data, state["exp_avg"].data, state["exp_inf"].data,
                            step=float(step_t), **opts)
                p._vc[0] += 1
        return loss
