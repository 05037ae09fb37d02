"""nn.parallel pieces that need no MPI process: lazy import, bucket layout, argument checks."""
import subprocess
import sys

import numpy as np
import pytest

import autograd as ag
import nn
import optim
from nn.parallel import DistributedOptimizer
from nn.parallel.distributed import _make_buckets


def test_importing_nn_parallel_does_not_start_mpi():
    code = ("import sys, nn.parallel, autograd.data.distributed; "
            "print('mpi4py.MPI' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def named(*shapes, dtype=np.float32):
    return [(f"p{i}", nn.Parameter(ag.tensor(np.zeros(s, dtype)))) for i, s in enumerate(shapes)]


def test_buckets_reverse_order_cap_and_dtype():
    params = named((10,), (20,), (30,), (5,))             # 40, 80, 120, 20 bytes
    buckets = _make_buckets(params, cap_bytes=140)
    assert [b.names for b in buckets] == [["p3", "p2"], ["p1", "p0"]]
    assert [b.numel for b in buckets] == [35, 30]
    assert buckets[0].buffer.shape == (35 + 2,)           # gradients, then one flag each
    mixed = params[:2] + named((3,), dtype=np.float64)
    by_dtype = {b.dtype: b.names for b in _make_buckets(mixed, cap_bytes=10**6)}
    assert by_dtype == {np.dtype(np.float64): ["p0"], np.dtype(np.float32): ["p1", "p0"]}


def test_a_parameter_larger_than_the_cap_gets_its_own_bucket():
    buckets = _make_buckets(named((4,), (100,), (4,)), cap_bytes=64)
    assert [b.names for b in buckets] == [["p2"], ["p1"], ["p0"]]


def test_distributed_optimizer_checks_its_arguments():
    opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(TypeError, match="optimizer"):
        DistributedOptimizer(object(), None)
    with pytest.raises(TypeError, match="DistributedDataParallel"):
        DistributedOptimizer(opt, object())


def test_distributed_optimizer_averages_before_the_step():
    calls = []

    class FakeDDP:
        def allreduce_gradients(self):
            calls.append("average")

    model = nn.Linear(2, 1)
    opt = DistributedOptimizer(optim.SGD(model.parameters(), lr=0.1), FakeDDP())
    model(ag.ones(1, 2)).sum().backward()
    opt.step()
    assert calls == ["average"]

    def closure():
        calls.append("closure")
        opt.zero_grad()
        loss = model(ag.ones(1, 2)).sum()
        loss.backward()
        return loss
    opt.step(closure)
    assert calls == ["average", "closure", "average"]
    assert opt.param_groups is opt.optimizer.param_groups
