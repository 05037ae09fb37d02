"""GEMM throughput: C = A @ B for square n x n matrices, float32 and float64.

Ours is `ag.matmul` (forward, no grad), against numpy's raw `@` on the same arrays (the BLAS
our matmul sits on) and PyTorch's `torch.matmul`. The runner turns the time into GFLOP/s
(2 n^3 flops per call) and compares it with the machine's theoretical peak.
"""
import numpy as np

from . import Skip, Workload, register

FULL_SIZES = (256, 512, 1024, 2048)
QUICK_SIZES = (256, 512)
# the check compares ||ours - ref|| / ||ref|| with this tolerance
_RTOL = {"float32": 1e-5, "float64": 1e-12}


def _inputs(n, dtype):
    rng = np.random.default_rng(n)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    return a, b


def _ours(n, dtype):
    def setup(quick):
        import autograd as ag
        matmul = getattr(ag, "matmul", None)
        if matmul is None:
            raise Skip("ag.matmul is not available yet (autograd/ops/linalg.py)")
        a, b = (ag.tensor(x) for x in _inputs(n, dtype))

        def run():
            return matmul(a, b)
        return run
    return setup


def _numpy(n, dtype):
    def setup(quick):
        a, b = _inputs(n, dtype)

        def run():
            return a @ b
        return run
    return setup


def _torch(n, dtype):
    def setup(quick):
        import torch
        a, b = (torch.from_numpy(x) for x in _inputs(n, dtype))
        matmul = torch.matmul

        def run():
            return matmul(a, b)
        return run
    return setup


def _check(dtype):
    def check(ours, other):
        from . import to_numpy
        x, y = to_numpy(ours), to_numpy(other)
        if x.shape != y.shape:
            return False, f"shape {x.shape} vs {y.shape}"
        if str(x.dtype) != dtype:
            return False, f"result dtype {x.dtype}, expected {dtype}"
        x, y = x.astype(np.float64), y.astype(np.float64)
        rel = float(np.linalg.norm(x - y) / max(np.linalg.norm(y), 1e-300))
        return rel <= _RTOL[dtype], f"relative error {rel:.2g} (tolerance {_RTOL[dtype]:g})"
    return check


for _dtype, _short in (("float32", "f32"), ("float64", "f64")):
    for _n in FULL_SIZES:
        register(Workload(
            name=f"gemm_{_short}_n{_n}",
            sizes=f"{_n}x{_n} @ {_n}x{_n} {_dtype}",
            description="matrix product, forward only; GFLOP/s against the machine's peak",
            setup_ours=_ours(_n, _dtype), setup_torch=_torch(_n, _dtype),
            baselines={"numpy": _numpy(_n, _dtype)},
            check=_check(_dtype),
            flops=lambda quick, n=_n: 2.0 * n ** 3,
            quick=_n in QUICK_SIZES,
            meta={"dtype": _dtype, "n": _n},
        ))
