"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from autograd.kernels.optim_threads import sgd_update
from autograd.tensor import Tensor

from .optimizer import Optimizer, check_implementation_flags, fusable, required

__all__ = ["SGD", "sgd_step"]


def sgd_step(param, grad, momentum_buffer, *, lr, momentum=0.0, dampening=0.0,
             nesterov=False, weight_decay=0.0, maximize=False):
    r"""One SGD update of `param` in place; returns the momentum buffer (new on the first step).

    param, grad, momentum_buffer: arrays of the same shape (momentum_buffer None before the
    first step or when momentum == 0). With g_t the gradient (negated when maximize):

        g_t <- g_t + lambda * theta_{t-1}                     (weight_decay lambda != 0)
        b_1 = g_1,   b_t = mu * b_{t-1} + (1 - tau) * g_t     (momentum mu != 0, dampening tau)
        g_t <- g_t + mu * b_t  (nesterov)   or   g_t <- b_t
        theta_t = theta_{t-1} - lr * g_t
    """
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = np.array(grad, copy=True)
        else:
            momentum_buffer *= momentum
            momentum_buffer += grad if dampening == 0 else (1 - dampening) * grad
        grad = grad + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * grad
    return momentum_buffer


class SGD(Optimizer):
    """SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False); see `sgd_step` for the update. State: `momentum_buffer` (momentum != 0).
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_implementation_flags(type(self).__name__, False, differentiable)
        if lr is not required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            lr, momentum = float(group["lr"]), float(group["momentum"])
            opts = dict(lr=lr, momentum=momentum, dampening=float(group["dampening"]),
                        nesterov=group["nesterov"], weight_decay=float(group["weight_decay"]),
                        maximize=group["maximize"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                old = state.get("momentum_buffer")
                buf = None if old is None else old.data
                if fusable((p.data, p.grad.data) + (() if buf is None else (buf,))):
                    new_buf = _fused_step(p.data, p.grad.data, buf, opts)
                else:
                    new_buf = sgd_step(p.data, p.grad.data, buf, **opts)
                if momentum != 0 and old is None:
                    state["momentum_buffer"] = Tensor._make(new_buf, False, None, 0)
                p._vc[0] += 1
        return loss


def _fused_step(param, grad, buf, opts):
    """sgd_step in one pass of autograd.kernels.optim.sgd_update (bitwise the same result):
    the scalars cast to the arrays' dtype as numpy casts them; returns the buffer."""
    momentum = opts["momentum"]
    if momentum != 0 and buf is None:
        buf = np.empty_like(param)
        first = 1
    else:
        first = 0
    c = np.array([opts["lr"], momentum, 1 - opts["dampening"], opts["weight_decay"]],
                 param.dtype)
    flags = np.array([momentum != 0, opts["dampening"] != 0, opts["nesterov"],
                      opts["maximize"], first], np.int64)
    sgd_update(param.reshape(-1), grad.reshape(-1),
               param.reshape(-1) if buf is None else buf.reshape(-1), c, flags)
    return buf
