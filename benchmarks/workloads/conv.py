"""conv2d forward and backward: the two layers of a small MNIST CNN.

    conv2d_1x28_32   y = conv2d(x, w, b, padding=1) on x: (64, 1, 28, 28) float32, w: 32
                     channels 3x3, then backward with a fixed upstream gradient G: the
                     gradients of x, w and b
    conv2d_32x14_64  the same on x: (64, 32, 14, 14) -> 64 channels 3x3
    conv2d_32x16_64_valid
                     x: (64, 32, 16, 16) -> 64 channels 3x3 with padding 0: the same output
                     size and work as conv2d_32x14_64, through the padding-0 geometry

The issue's target (for the first two; the third is held to it too): each within 1.2x of
PyTorch CPU (oneDNN) forward + backward.
"""
import numpy as np

from . import Workload, allclose_check, pick, register

SHAPES = {                     # name: (C_in, H = W, C_out, padding)
    "conv2d_1x28_32": (1, 28, 32, 1),
    "conv2d_32x14_64": (32, 14, 64, 1),
    "conv2d_32x16_64_valid": (32, 16, 64, 0),
}


def _arrays(quick, c_in, size, c_out, pad):
    n = pick(quick, full=64, quick=64, tiny=4)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c_in, size, size)).astype(np.float32)
    w = (rng.standard_normal((c_out, c_in, 3, 3)) / np.sqrt(9 * c_in)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    out = size + 2 * pad - 2
    g = rng.standard_normal((n, c_out, out, out)).astype(np.float32)
    return x, w, b, g


def _ours(shape):
    def setup(quick):
        import autograd as ag
        import nn.functional as F
        x, w, b, g = _arrays(quick, *shape)
        xt, wt, bt = (ag.tensor(a, requires_grad=True) for a in (x, w, b))
        gt = ag.tensor(g)

        def run():
            xt.grad = wt.grad = bt.grad = None
            y = F.conv2d(xt, wt, bt, padding=shape[3])
            y.backward(gt)
            return y, xt.grad, wt.grad, bt.grad
        return run
    return setup


def _torch(shape):
    def setup(quick):
        import torch
        import torch.nn.functional as TF
        x, w, b, g = _arrays(quick, *shape)
        xt, wt, bt = (torch.from_numpy(a).requires_grad_(True) for a in (x, w, b))
        gt = torch.from_numpy(g)

        def run():
            xt.grad = wt.grad = bt.grad = None
            y = TF.conv2d(xt, wt, bt, padding=shape[3])
            y.backward(gt)
            return y, xt.grad, wt.grad, bt.grad
        return run
    return setup


def _flops(shape):
    c_in, size, c_out, pad = shape
    out = size + 2 * pad - 2

    def flops(quick):
        n = pick(quick, full=64, quick=64, tiny=4)
        return 3 * 2 * n * c_out * c_in * 9 * out * out      # forward, dx and dw products
    return flops


for _name, _shape in SHAPES.items():
    register(Workload(
        name=_name,
        sizes=lambda q, s=_shape: (f"({pick(q, 64, 64, 4)}, {s[0]}, {s[1]}, {s[1]}) -> "
                                   f"{s[2]} ch 3x3 pad {s[3]}, float32, fwd+bwd"),
        description="conv2d forward and backward (gradients of input, weight and bias)",
        setup_ours=_ours(_shape), setup_torch=_torch(_shape),
        # float32 sums of up to 64*28*28 products in different orders: relative 1e-4
        check=allclose_check(rtol=1e-4, atol=1e-3),
        flops=_flops(_shape),
        target=("ours <= 1.2x PyTorch",
                lambda row: None if row.get("ratio") is None else row["ratio"] <= 1.2),
        meta={"dtype": "float32"},
    ))
