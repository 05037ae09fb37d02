"""NAdam: Adam with Nesterov momentum and a momentum schedule (Dozat, 2016)."""
import numpy as np

from .adam import _check_adam_args
from .optimizer import Optimizer, check_implementation_flags, scalar_state, zeros_state

__all__ = ["NAdam", "nadam_step"]


def nadam_step(param, grad, exp_avg, exp_avg_sq, mu_product, *, step, lr=2e-3, beta1=0.9,
               beta2=0.999, eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
               decoupled_weight_decay=False, maximize=False):
    r"""One NAdam update of `param`, `exp_avg` (m), `exp_avg_sq` (v) and the 0-d array
    `mu_product` (prod_{i<=t} mu_i) in place.

    param, grad, exp_avg, exp_avg_sq: arrays of one shape; mu_product: a 0-d array (1 before
    the first step); step: t, counted from 1. With g_t the gradient (negated when maximize):

        g_t <- g_t + lambda * theta_{t-1}         (weight_decay lambda)
        theta_{t-1} <- theta_{t-1} (1 - lr lambda)   (decoupled_weight_decay)
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * psi))        (momentum_decay psi)
        mu_{t+1} = beta1 * (1 - 0.5 * 0.96^((t + 1) * psi))
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        d_t = sqrt(v_t / (1 - beta2^t)) + eps
        theta_t = theta_{t-1} - lr (1 - mu_t) / (1 - prod_{i<=t} mu_i) * g_t / d_t
                              - lr mu_{t+1} / (1 - prod_{i<=t+1} mu_i) * m_t / d_t
    """
    if maximize:
        grad = -grad
    bias_correction2 = 1 - beta2 ** step
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    # the momentum schedule mu_t, mu_{t+1} and the running product prod_{i<=t} mu_i
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    mu_product *= mu
    mu_prod = float(mu_product)
    mu_prod_next = mu_prod * mu_next
    # m_t (lerp form) and v_t
    tmp = np.subtract(grad, exp_avg)
    tmp *= 1 - beta1
    exp_avg += tmp
    exp_avg_sq *= beta2
    np.multiply(grad, grad, out=tmp)
    tmp *= 1 - beta2
    exp_avg_sq += tmp
    # d_t = sqrt(v_t / (1 - beta2^t)) + eps
    denom = np.divide(exp_avg_sq, bias_correction2)
    np.sqrt(denom, out=denom)
    denom += eps
    np.divide(grad, denom, out=tmp)
    tmp *= lr * (1.0 - mu) / (1.0 - mu_prod)
    param -= tmp
    np.divide(exp_avg, denom, out=tmp)
    tmp *= lr * mu_next / (1.0 - mu_prod_next)
    param -= tmp


class NAdam(Optimizer):
    """NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False); see `nadam_step`.

    State: `step`, `mu_product` (0-d, as the step's dtype), `exp_avg`, `exp_avg_sq`.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_implementation_flags(type(self).__name__, capturable, differentiable)
        _check_adam_args(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            opts = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                        eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                        momentum_decay=float(group["momentum_decay"]),
                        decoupled_weight_decay=group["decoupled_weight_decay"],
                        maximize=group["maximize"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = scalar_state(0.0)
                    state["mu_product"] = scalar_state(1.0)
                    state["exp_avg"] = zeros_state(p)
                    state["exp_avg_sq"] = zeros_state(p)
                step_t = state["step"].data
                step_t += 1
                nadam_step(p.data, p.grad.data, state["exp_avg"].data,
                           state["exp_avg_sq"].data, state["mu_product"].data,
                           step=float(step_t), **opts)
                p._vc[0] += 1
        return loss
