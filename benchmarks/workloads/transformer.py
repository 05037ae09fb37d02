"""One TransformerEncoderLayer training step, ours and PyTorch's from the same weights.

    transformer_encoder_layer_step   d_model 128, 4 heads, feed-forward 256, ReLU, post-norm,
                                     batch_first, sequence 64, batch 32, float32: forward,
                                     loss = mean(y^2), backward, Adam (lr 1e-3). Dropout is 0
                                     so that both sides compute the same thing (the check
                                     compares the loss and the gradients of the first
                                     call). Issue target: ours within 1.2x of PyTorch CPU.

The nanoGPT reference run (2000 iterations of a 4-layer character GPT) is the script
benchmarks/nanogpt.py, not a workload: it takes minutes.
"""
import numpy as np

from . import Workload, allclose_check, pick, register

D_MODEL, HEADS, FF = 128, 4, 256


def _sizes(quick):
    return pick(quick, full=32, quick=32, tiny=2), pick(quick, full=64, quick=64, tiny=8)


def _arrays(quick):
    batch, seq = _sizes(quick)
    rng = np.random.default_rng(0)
    return rng.standard_normal((batch, seq, D_MODEL)).astype(np.float32)


def _torch_layer():
    import torch
    torch.manual_seed(0)
    return torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, batch_first=True)


def setup_ours(quick):
    import autograd as ag
    import nn
    import optim
    layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, batch_first=True)
    state = {k: ag.tensor(v.detach().numpy().copy())
             for k, v in _torch_layer().state_dict().items()}
    layer.load_state_dict(state)
    opt = optim.Adam(layer.parameters(), lr=1e-3)
    x = ag.tensor(_arrays(quick))
    params = list(layer.parameters())

    def step():
        loss = (layer(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return [loss] + [p.grad for p in params]
    return step


def setup_torch(quick):
    import torch
    layer = _torch_layer()
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)
    x = torch.from_numpy(_arrays(quick))
    params = list(layer.parameters())

    def step():
        loss = (layer(x) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return [loss] + [p.grad for p in params]
    return step


register(Workload(
    name="transformer_encoder_layer_step",
    sizes=lambda q: (f"batch {_sizes(q)[0]}, seq {_sizes(q)[1]}, d_model {D_MODEL}, "
                     f"{HEADS} heads, ff {FF}, Adam"),
    description="one TransformerEncoderLayer training step: forward, backward, Adam",
    setup_ours=setup_ours, setup_torch=setup_torch,
    check=allclose_check(rtol=1e-4, atol=1e-5),
    target=("ours <= 1.2x PyTorch",
            lambda row: None if row.get("ratio") is None else row["ratio"] <= 1.2),
    meta={"dtype": "float32"},
))
