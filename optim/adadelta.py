"""Adadelta: step sizes from the ratio of running RMS of updates and of gradients."""
import numpy as np

from .optimizer import Optimizer, check_implementation_flags, scalar_state, zeros_state

__all__ = ["Adadelta", "adadelta_step"]


def adadelta_step(param, grad, square_avg, acc_delta, *, lr=1.0, rho=0.9, eps=1e-6,
                  weight_decay=0.0, maximize=False):
    r"""One Adadelta update of `param`, `square_avg` (v) and `acc_delta` (u) in place.

    param, grad, square_avg, acc_delta: arrays of one shape. With g_t the gradient (negated
    when maximize):

        g_t <- g_t + lambda * theta_{t-1}                 (weight_decay lambda)
        v_t = rho * v_{t-1} + (1 - rho) * g_t^2
        dx_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        u_t = rho * u_{t-1} + (1 - rho) * dx_t^2
        theta_t = theta_{t-1} - lr * dx_t
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    # v_t = rho v_{t-1} + (1 - rho) g_t^2
    square_avg *= rho
    tmp = np.multiply(grad, grad)
    tmp *= 1 - rho
    square_avg += tmp
    # std = sqrt(v_t + eps); delta = sqrt(u_{t-1} + eps) / std * g_t
    std = np.add(square_avg, eps, out=tmp)
    np.sqrt(std, out=std)
    delta = np.add(acc_delta, eps)
    np.sqrt(delta, out=delta)
    delta /= std
    delta *= grad
    # u_t = rho u_{t-1} + (1 - rho) dx_t^2
    acc_delta *= rho
    np.multiply(delta, delta, out=tmp)
    tmp *= 1 - rho
    acc_delta += tmp
    delta *= lr
    param -= delta


class Adadelta(Optimizer):
    """Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False); see
    `adadelta_step` for the update. State: `step`, `square_avg`, `acc_delta`.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_implementation_flags(type(self).__name__, capturable, differentiable)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            opts = dict(lr=float(group["lr"]), rho=float(group["rho"]), eps=float(group["eps"]),
                        weight_decay=float(group["weight_decay"]), maximize=group["maximize"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = scalar_state(0.0)
                    state["square_avg"] = zeros_state(p)
                    state["acc_delta"] = zeros_state(p)
                step_t = state["step"].data
                step_t += 1
                adadelta_step(p.data, p.grad.data, state["square_avg"].data,
                              state["acc_delta"].data, **opts)
                p._vc[0] += 1
        return loss
