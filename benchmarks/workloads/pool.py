"""Max pooling forward and backward.

    max_pool2d_fwd_bwd   y = max_pool2d(x, 2) on x: (64, 32, 28, 28) float32 (a CNN's first
                         pooling layer), then backward with a fixed upstream gradient G:
                         dx = G scattered to each window's argmax
"""
import numpy as np

from . import Workload, allclose_check, pick, register


def _arrays(quick):
    n = pick(quick, full=64, quick=64, tiny=4)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 32, 28, 28)).astype(np.float32)
    g = rng.standard_normal((n, 32, 14, 14)).astype(np.float32)
    return x, g


def _ours(quick):
    import autograd as ag
    import nn.functional as F
    x, g = _arrays(quick)
    xt, gt = ag.tensor(x, requires_grad=True), ag.tensor(g)

    def run():
        xt.grad = None
        y = F.max_pool2d(xt, 2)
        y.backward(gt)
        return y, xt.grad
    return run


def _torch(quick):
    import torch
    import torch.nn.functional as TF
    x, g = _arrays(quick)
    xt, gt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(g)

    def run():
        xt.grad = None
        y = TF.max_pool2d(xt, 2)
        y.backward(gt)
        return y, xt.grad
    return run


register(Workload(
    name="max_pool2d_fwd_bwd",
    sizes=lambda q: f"({pick(q, 64, 64, 4)}, 32, 28, 28) float32, kernel 2, fwd+bwd",
    description="max_pool2d forward and backward (gradient scattered to the argmax)",
    setup_ours=_ours, setup_torch=_torch,
    check=allclose_check(rtol=0, atol=0),          # a max and a scatter: exact
    meta={"dtype": "float32"},
))
