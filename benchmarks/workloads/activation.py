"""Activation and softmax forward and backward (float32, a fixed upstream gradient G; the
gradient of the input):

    softmax_32x4x64x64       F.softmax(x, -1) on x: (32, 4, 64, 64), the attention weights of
                             a Transformer encoder layer (batch 32, 4 heads, sequence 64)
    log_softmax_32x4x64x64   F.log_softmax(x, -1) on the same
    gelu_2048x256            F.gelu(x) (exact, erf) on x: (2048, 256), the feed-forward
                             hidden layer of that Transformer layer
    gelu_tanh_2048x256       F.gelu(x, approximate='tanh') on the same
    relu_64x32x28x28         F.relu(x) on x: (64, 32, 28, 28), a CNN's first feature maps

Reported against PyTorch's kernels in the same run; the issues' model-step targets are 1.2x
(CNN, Transformer layer), which these ops are part of.
"""
import numpy as np

from . import Workload, allclose_check, pick, register

# name: (full shape, tiny shape, the call as text, f(functional, x))
CASES = {
    "softmax_32x4x64x64": ((32, 4, 64, 64), (2, 2, 8, 8), "softmax over the last dim",
                           lambda F, x: F.softmax(x, dim=-1)),
    "log_softmax_32x4x64x64": ((32, 4, 64, 64), (2, 2, 8, 8), "log_softmax over the last dim",
                               lambda F, x: F.log_softmax(x, dim=-1)),
    "gelu_2048x256": ((2048, 256), (16, 32), "gelu (erf)", lambda F, x: F.gelu(x)),
    "gelu_tanh_2048x256": ((2048, 256), (16, 32), "gelu (tanh)",
                           lambda F, x: F.gelu(x, approximate="tanh")),
    "relu_64x32x28x28": ((64, 32, 28, 28), (2, 4, 6, 6), "relu", lambda F, x: F.relu(x)),
}


def _arrays(name, quick):
    full, tiny = CASES[name][:2]
    shape = pick(quick, full=full, quick=full, tiny=tiny)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 2.0).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    return x, g


def _ours(name):
    call = CASES[name][3]

    def setup(quick):
        import autograd as ag
        import nn.functional as F
        x, g = _arrays(name, quick)
        xt = ag.tensor(x, requires_grad=True)
        gt = ag.tensor(g)

        def run():
            xt.grad = None
            y = call(F, xt)
            y.backward(gt)
            return y, xt.grad
        return run
    return setup


def _torch(name):
    call = CASES[name][3]

    def setup(quick):
        import torch
        import torch.nn.functional as TF
        x, g = _arrays(name, quick)
        xt = torch.from_numpy(x).requires_grad_(True)
        gt = torch.from_numpy(g)

        def run():
            xt.grad = None
            y = call(TF, xt)
            y.backward(gt)
            return y, xt.grad
        return run
    return setup


for _name, (_full, _tiny, _what, _call) in CASES.items():
    register(Workload(
        name=_name,
        sizes=lambda q, f=_full, t=_tiny, w=_what: f"{pick(q, f, f, t)} float32, {w}, fwd+bwd",
        description="activation forward and backward (gradient of the input)",
        setup_ours=_ours(_name), setup_torch=_torch(_name),
        check=allclose_check(rtol=1e-4, atol=1e-5),
        target=("ours <= 1.2x PyTorch",
                lambda row: None if row.get("ratio") is None else row["ratio"] <= 1.2),
        meta={"dtype": "float32"},
    ))
