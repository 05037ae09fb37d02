"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""
import numpy as np

from autograd.kernels.optim_threads import adam_update

from .optimizer import Optimizer, check_implementation_flags, fusable, scalar_state, zeros_state

__all__ = ["Adam", "AdamW", "adam_step"]


def adam_step(param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps,
              weight_decay=0.0, amsgrad=False, max_exp_avg_sq=None, maximize=False,
              decoupled_weight_decay=False):
    r"""One Adam update of `param` in place (exp_avg, exp_avg_sq, max_exp_avg_sq too).

    param, grad, exp_avg (m), exp_avg_sq (v), max_exp_avg_sq (v_max, amsgrad only): arrays of
    one shape; step: t, counted from 1 (already incremented). With g_t the gradient (negated
    when maximize):

        g_t <- g_t + lambda * theta_{t-1}                  (weight_decay lambda, Adam)
        theta_{t-1} <- theta_{t-1} * (1 - lr * lambda)    (decoupled: AdamW)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        v_max_t = max(v_max_{t-1}, v_t),   v_t <- v_max_t  (amsgrad)
        m_hat = m_t / (1 - beta1^t)                         (bias corrections)
        theta_t = theta_{t-1} - lr * m_hat / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

    As in PyTorch, eps is added after dividing sqrt(v_t) by sqrt(1 - beta2^t), and the first
    bias correction is folded into the step size lr / (1 - beta1^t).
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    # m_t = m_{t-1} + (1 - beta1) (g_t - m_{t-1})   (PyTorch's lerp form of the average)
    tmp = np.subtract(grad, exp_avg)
    tmp *= 1 - beta1
    exp_avg += tmp
    # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    exp_avg_sq *= beta2
    np.multiply(grad, grad, out=tmp)
    tmp *= 1 - beta2
    exp_avg_sq += tmp
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    v = exp_avg_sq
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    # denom = sqrt(v_t) / sqrt(1 - beta2^t) + eps
    denom = np.sqrt(v, out=tmp)
    denom /= bias_correction2 ** 0.5
    denom += eps
    # theta_t = theta_{t-1} - step_size * m_t / denom
    np.divide(exp_avg, denom, out=tmp)
    tmp *= step_size
    param -= tmp


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    maximize=False, decoupled_weight_decay=False); see `adam_step` for the update.

    State per parameter: `step` (0-d), `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` (amsgrad).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_implementation_flags(type(self).__name__, capturable, differentiable)
        _check_adam_args(lr, betas, eps, weight_decay)
        defaults = dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            amsgrad = group["amsgrad"]
            opts = dict(lr=float(group["lr"]), beta1=float(beta1), beta2=float(beta2),
                        eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                        amsgrad=amsgrad, maximize=group["maximize"],
                        decoupled_weight_decay=group["decoupled_weight_decay"])
            fused_constants = {}      # (step, dtype) -> the kernel's scalars, shared in the group
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = scalar_state(0.0)
                    state["exp_avg"] = zeros_state(p)
                    state["exp_avg_sq"] = zeros_state(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = zeros_state(p)
                step_t = state["step"].data
                step_t += 1
                arrays = (p.data, p.grad.data, state["exp_avg"].data, state["exp_avg_sq"].data)
                if not amsgrad and fusable(arrays):
                    key = (float(step_t), arrays[0].dtype)
                    consts = fused_constants.get(key)
                    if consts is None:
                        consts = fused_constants[key] = _fused_constants(*key, opts)
                    adam_update(arrays[0].reshape(-1), arrays[1].reshape(-1),
                                arrays[2].reshape(-1), arrays[3].reshape(-1), *consts)
                else:
                    max_sq = state["max_exp_avg_sq"].data if amsgrad else None
                    adam_step(*arrays, step=float(step_t), max_exp_avg_sq=max_sq, **opts)
                p._vc[0] += 1
        return loss


def _fused_constants(step, dtype, opts):
    """The scalars of adam_step's update for autograd.kernels.optim.adam_update (one numba
    pass), cast to the arrays' dtype as numpy casts them in adam_step: (c, flags)."""
    lr, beta1, beta2, wd = opts["lr"], opts["beta1"], opts["beta2"], opts["weight_decay"]
    c = np.array([1 - beta1, beta2, 1 - beta2, (1 - beta2 ** step) ** 0.5, opts["eps"],
                  lr / (1 - beta1 ** step), wd, 1 - lr * wd], dtype)
    flags = np.array([opts["decoupled_weight_decay"], opts["maximize"]], np.int64)
    return c, flags


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
    *, maximize=False): Adam with decoupled weight decay,
    theta_{t-1} <- theta_{t-1} * (1 - lr * lambda) before the Adam update (`adam_step`).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)


def _check_adam_args(lr, betas, eps, weight_decay):
    """The range checks shared by the Adam family (PyTorch's messages)."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
