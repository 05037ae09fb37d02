"""One MLP training step (forward, cross-entropy, backward, Adam step), ours and PyTorch's
from the same weights on the same batch.

    mlp_784_256_256_10   MLP 784-256-256-10 with ReLU, batch 128 (issue target: <= 1.0x)
    mlp_tiny_2_16_16_2   MLP 2-16-16-2 with ReLU, batch 32: all per-op and per-backward
                         overhead (issue target: <= 0.5x)
"""
import numpy as np

from . import Workload, allclose_check, pick, register

MODELS = {                      # name: (layer sizes, batch)
    "mlp_784_256_256_10": ((784, 256, 256, 10), 128),
    "mlp_tiny_2_16_16_2": ((2, 16, 16, 2), 32),
}


def _arrays(sizes, batch):
    """Weights (PyTorch layout: (out, in)), one batch of inputs and labels."""
    rng = np.random.default_rng(0)
    weights = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        weights.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    return weights, x, y


def _layers(nn_module, sizes):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn_module.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn_module.ReLU())
    return nn_module.Sequential(*layers)


def _ours(spec):
    def setup(quick):
        import autograd as ag
        import nn
        import nn.functional as F
        import optim
        sizes, batch = spec
        weights, x, y = _arrays(sizes, pick(quick, full=batch, tiny=min(batch, 8)))
        model = _layers(nn, sizes)
        params = list(model.parameters())
        for p, w in zip(params, weights):
            p.data[...] = w
        opt = optim.Adam(params, lr=1e-3)
        xt, yt = ag.tensor(x), ag.tensor(y)

        def step():
            loss = F.cross_entropy(model(xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step
    return setup


def _torch(spec):
    def setup(quick):
        import torch
        import torch.nn.functional as TF
        sizes, batch = spec
        weights, x, y = _arrays(sizes, pick(quick, full=batch, tiny=min(batch, 8)))
        model = _layers(torch.nn, sizes)
        with torch.no_grad():
            for p, w in zip(model.parameters(), weights):
                p.copy_(torch.from_numpy(w))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def step():
            loss = TF.cross_entropy(model(xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step
    return setup


def _ratio_at_most(limit):
    return lambda row: None if row.get("ratio") is None else row["ratio"] <= limit


register(Workload(
    name="mlp_784_256_256_10",
    sizes=lambda q: f"batch {pick(q, 128, tiny=8)}, 784-256-256-10, Adam",
    description="one training step: forward, cross-entropy, backward, Adam",
    setup_ours=_ours(MODELS["mlp_784_256_256_10"]),
    setup_torch=_torch(MODELS["mlp_784_256_256_10"]),
    check=allclose_check(rtol=1e-5, atol=1e-6),
    target=("ours <= 1.0x PyTorch", _ratio_at_most(1.0)),
))

register(Workload(
    name="mlp_tiny_2_16_16_2",
    sizes=lambda q: f"batch {pick(q, 32, tiny=8)}, 2-16-16-2, Adam",
    description="one training step of a tiny MLP: per-op and per-backward overhead",
    setup_ours=_ours(MODELS["mlp_tiny_2_16_16_2"]),
    setup_torch=_torch(MODELS["mlp_tiny_2_16_16_2"]),
    check=allclose_check(rtol=1e-5, atol=1e-6),
    ops=12, threaded=False,
    target=("ours <= 0.5x PyTorch", _ratio_at_most(0.5)),
))
