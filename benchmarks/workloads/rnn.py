"""Recurrent layers, forward + backward, against PyTorch (issue 6's shapes).

    lstm_h128_b32   nn.LSTM(32, 128) on x: (T=100, 32, 32) float32, then backward with a fixed
                    upstream gradient of the output: the gradients of x and of every weight
    lstm_h32_b1     nn.LSTM(32, 32) on (100, 1, 32)
    gru_h128_b32    nn.GRU(32, 128) on (100, 32, 32)
    gru_h32_b1      nn.GRU(32, 32) on (100, 1, 32)
    lstm_first_call_warm / _cold   the first forward + backward of nn.LSTM(32, 32) in a fresh
                    process, after the imports: warm reads the compiled kernels from numba's
                    cache; cold compiles them (an empty NUMBA_CACHE_DIR; not in --quick)

Both sides get the same weights (drawn from a seeded generator, U(-1/sqrt(H), 1/sqrt(H))) and
inputs. Ours runs the fused scan (the default path). The issue's targets, ours / PyTorch:
LSTM H128 B32 <= 1.0, LSTM H32 B1 <= 0.3, GRU H128 B32 <= 0.6, GRU H32 B1 <= 0.1.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

from . import Workload, allclose_check, pick, register

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INPUT = 32
SHAPES = {   # name: (layer, hidden, batch, target ratio)
    "lstm_h128_b32": ("LSTM", 128, 32, 1.0),
    "lstm_h32_b1": ("LSTM", 32, 1, 0.3),
    "gru_h128_b32": ("GRU", 128, 32, 0.6),
    "gru_h32_b1": ("GRU", 32, 1, 0.1),
}


def _steps(quick):
    return pick(quick, full=100, quick=100, tiny=5)


def _arrays(quick, kind, hidden, batch):
    """Weights in PyTorch's order and layout, the input and the output gradient."""
    rng = np.random.default_rng(0)
    gates = 4 if kind == "LSTM" else 3
    bound = 1 / np.sqrt(hidden)
    shapes = [(gates * hidden, INPUT), (gates * hidden, hidden), (gates * hidden,),
              (gates * hidden,)]
    weights = [rng.uniform(-bound, bound, s).astype(np.float32) for s in shapes]
    steps = _steps(quick)
    x = rng.standard_normal((steps, batch, INPUT)).astype(np.float32)
    g = rng.standard_normal((steps, batch, hidden)).astype(np.float32)
    return weights, x, g


def _ours(kind, hidden, batch):
    def setup(quick):
        import autograd as ag
        import nn
        weights, x, g = _arrays(quick, kind, hidden, batch)
        layer = getattr(nn, kind)(INPUT, hidden)
        layer.load_state_dict({name: ag.tensor(w) for name, w in
                               zip(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"],
                                   weights)})
        xt, gt = ag.tensor(x, requires_grad=True), ag.tensor(g)
        params = list(layer.parameters())

        def run():
            xt.grad = None
            for p in params:
                p.grad = None
            out, _ = layer(xt)
            out.backward(gt)
            return [out, xt.grad] + [p.grad for p in params]
        return run
    return setup


def _torch(kind, hidden, batch):
    def setup(quick):
        import torch
        weights, x, g = _arrays(quick, kind, hidden, batch)
        layer = getattr(torch.nn, kind)(INPUT, hidden)
        with torch.no_grad():
            for p, w in zip(layer.parameters(), weights):
                p.copy_(torch.from_numpy(w))
        xt, gt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(g)
        params = list(layer.parameters())

        def run():
            xt.grad = None
            for p in params:
                p.grad = None
            out, _ = layer(xt)
            out.backward(gt)
            return [out, xt.grad] + [p.grad for p in params]
        return run
    return setup


def _flops(hidden, batch, gates):
    def flops(quick):
        rows = _steps(quick) * batch
        # forward x W_ih^T and h W_hh^T; backward dh, dW_hh, dx, dW_ih: 3x the forward GEMMs
        return 3 * 2 * rows * gates * hidden * (INPUT + hidden)
    return flops


for _name, (_kind, _hidden, _batch, _target) in SHAPES.items():
    register(Workload(
        name=_name,
        sizes=lambda q, k=_kind, h=_hidden, b=_batch: (
            f"{k}({INPUT}, {h}), x ({_steps(q)}, {b}, {INPUT}) float32, fwd+bwd"),
        description=f"nn.{_kind} forward + backward (fused scan vs PyTorch)",
        setup_ours=_ours(_kind, _hidden, _batch), setup_torch=_torch(_kind, _hidden, _batch),
        # float32 sums over up to 100 steps in different orders
        check=allclose_check(rtol=1e-3, atol=1e-3),
        flops=_flops(_hidden, _batch, 4 if _kind == "LSTM" else 3),
        target=(f"ours <= {_target}x PyTorch",
                lambda row, t=_target: None if row.get("ratio") is None else row["ratio"] <= t),
        meta={"dtype": "float32"},
    ))


# -- the first call in a fresh process ---------------------------------------------------------
_FIRST_CALL = """
import sys, time
sys.path.insert(0, {root!r})
import numpy as np
{imports}
x = np.random.default_rng(0).standard_normal((100, 1, 32)).astype(np.float32)
t = time.perf_counter()
{body}
print(repr(time.perf_counter() - t))
"""
_OURS = dict(imports="import autograd as ag\nimport nn",
             body="out, _ = nn.LSTM(32, 32)(ag.tensor(x, requires_grad=True))\n"
                  "out.sum().backward()")
_TORCH = dict(imports="import torch",
              body="out, _ = torch.nn.LSTM(32, 32)(torch.tensor(x, requires_grad=True))\n"
                   "out.sum().backward()")


def _first_call(code, cold):
    def setup(quick):
        cmd = [sys.executable, "-c", _FIRST_CALL.format(root=ROOT, **code)]

        def run():
            env = dict(os.environ)
            with tempfile.TemporaryDirectory() as empty:
                if cold:
                    env["NUMBA_CACHE_DIR"] = empty
                out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env,
                                     timeout=600)
            if out.returncode != 0:
                raise RuntimeError(f"first call failed in a subprocess:\n{out.stderr}")
            return float(out.stdout.strip().splitlines()[-1])
        return run
    return setup


for _cold in (False, True):
    register(Workload(
        name=f"lstm_first_call_{'cold' if _cold else 'warm'}",
        sizes="LSTM(32, 32), (100, 1, 32), fresh process",
        description=("first forward + backward, compiling the kernels (empty numba cache)"
                     if _cold else "first forward + backward, kernels from numba's cache"),
        setup_ours=_first_call(_OURS, _cold), setup_torch=_first_call(_TORCH, False),
        self_timed=True, threaded=False, quick=not _cold,
        repeats=lambda quick, c=_cold: pick(quick, full=3 if c else 5, quick=3, tiny=1),
    ))
