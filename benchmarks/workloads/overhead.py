"""Per-op overhead on tiny tensors, where the cost is all Python and bookkeeping.

    op_add_4    a + b on 4-element float32 tensors that require grad (forward only)
    expr_4      (a * b + a).sum().backward() on 4-element float32 tensors; the engine's
                target is at most 0.5x PyTorch's time. Baseline "minimal tape": the leanest
                Python tape (benchmarks/workloads/minimal_tape.py), a floor for any engine
                built from Python objects
"""
import numpy as np

from . import Workload, allclose_check, register

_A = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
_B = np.array([0.5, -1.0, 2.0, 0.25], dtype=np.float32)


def _ours_leaves():
    import autograd as ag
    return (ag.tensor(_A.copy(), requires_grad=True), ag.tensor(_B.copy(), requires_grad=True))


def _torch_leaves():
    import torch
    return (torch.tensor(_A.copy(), requires_grad=True),
            torch.tensor(_B.copy(), requires_grad=True))


def _add(leaves):
    def setup(quick):
        a, b = leaves()

        def run():
            return a + b
        return run
    return setup


def _expr(leaves):
    def setup(quick):
        a, b = leaves()

        def run():
            (a * b + a).sum().backward()
            return a.grad, b.grad
        return run
    return setup


register(Workload(
    name="op_add_4",
    sizes="4 float32, requires_grad",
    description="a + b, forward only: the cost of one recorded op",
    setup_ours=_add(_ours_leaves), setup_torch=_add(_torch_leaves),
    check=allclose_check(rtol=1e-6, atol=0), ops=1, threaded=False,
))

def _minimal_tape(quick):
    from .minimal_tape import setup_expr
    return setup_expr(_A, _B)


register(Workload(
    name="expr_4",
    sizes="4 float32, (a*b+a).sum().backward()",
    description="a tiny expression forward and backward (3 ops: mul, add, sum)",
    setup_ours=_expr(_ours_leaves), setup_torch=_expr(_torch_leaves),
    check=allclose_check(rtol=1e-6, atol=0), ops=3, threaded=False,
    baselines={"minimal tape": _minimal_tape},
    target=("ours <= 0.5x PyTorch",
            lambda row: None if row.get("ratio") is None else row["ratio"] <= 0.5),
))
