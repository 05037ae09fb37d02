"""Adagrad: per-coordinate step sizes from the running sum of squared gradients."""
import numpy as np

from .optimizer import Optimizer, check_implementation_flags, scalar_state, zeros_state

__all__ = ["Adagrad", "adagrad_step"]


def adagrad_step(param, grad, state_sum, *, step, lr, lr_decay=0.0, weight_decay=0.0,
                 eps=1e-10, maximize=False):
    r"""One Adagrad update of `param` and `state_sum` (G) in place.

    param, grad, state_sum: arrays of one shape; step: t, counted from 1. With g_t the
    gradient (negated when maximize):

        g_t <- g_t + lambda * theta_{t-1}          (weight_decay lambda)
        lr_t = lr / (1 + (t - 1) * eta)             (lr_decay eta; PyTorch's "clr")
        G_t = G_{t-1} + g_t^2                       (G_0 = initial_accumulator_value)
        theta_t = theta_{t-1} - lr_t * g_t / (sqrt(G_t) + eps)
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    clr = lr / (1 + (step - 1) * lr_decay)
    # G_t = G_{t-1} + g_t^2
    tmp = np.multiply(grad, grad)
    state_sum += tmp
    # theta_t = theta_{t-1} - clr * g_t / (sqrt(G_t) + eps)
    std = np.sqrt(state_sum, out=tmp)
    std += eps
    np.divide(grad, std, out=tmp)
    tmp *= clr
    param -= tmp


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, *, maximize=False); see `adagrad_step` for the update.

    State (created for every parameter at construction, as in PyTorch): `step`, `sum`.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_implementation_flags(type(self).__name__, False, differentiable)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value,
                        maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = scalar_state(0.0)
                state["sum"] = zeros_state(p, float(group["initial_accumulator_value"]))

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            opts = dict(lr=float(group["lr"]), lr_decay=float(group["lr_decay"]),
                        weight_decay=float(group["weight_decay"]), eps=float(group["eps"]),
                        maximize=group["maximize"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:     # a parameter added later with add_param_group
                    state["step"] = scalar_state(0.0)
                    state["sum"] = zeros_state(p, float(group["initial_accumulator_value"]))
                step_t = state["step"].data
                step_t += 1
                adagrad_step(p.data, p.grad.data, state["sum"].data, step=float(step_t),
                             **opts)
                p._vc[0] += 1
        return loss
